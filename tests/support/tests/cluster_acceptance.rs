//! Acceptance of the test control plane (issue 2), against a real kube-apiserver: KWOK
//! nodes are Ready with zone labels, and a StatefulSet with a gp3 volumeClaimTemplate ends
//! with a Running pod on a node in its PV's zone.

use std::time::Duration;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{Namespace, Node, PersistentVolume, PersistentVolumeClaim, Pod};
use kube::Client;
use kube::api::{Api, DeleteParams, ListParams, PostParams};

type Result<T, E = Box<dyn std::error::Error>> = std::result::Result<T, E>;

const ZONE: &str = "topology.kubernetes.io/zone";

/// Polls `f` every 200 ms until it returns Some, failing after `secs`.
async fn eventually<T, F, Fut>(secs: u64, what: &str, mut f: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await? {
            return Ok(v);
        }
        if tokio::time::Instant::now() > deadline {
            return Err(format!("{what} not reached within {secs}s").into());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn is_ready(node: &Node) -> bool {
    node.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

#[tokio::test(flavor = "multi_thread")]
async fn kwok_nodes_are_ready_with_zone_labels() -> Result<()> {
    let cluster = cloudvault_testkit::test_cluster()?;
    let nodes: Api<Node> = Api::all(cluster.client().await?);
    let list = nodes
        .list(&ListParams::default().labels("type=kwok"))
        .await?;
    assert!(
        list.items.len() >= 6,
        "expected the small scenario's 6 nodes, got {}",
        list.items.len()
    );
    for node in &list.items {
        let name = node.metadata.name.clone().unwrap_or_default();
        assert!(is_ready(node), "node {name} is not Ready");
        let labels = node.metadata.labels.clone().unwrap_or_default();
        let zone = labels
            .get(ZONE)
            .ok_or_else(|| format!("node {name} has no {ZONE}"))?;
        assert_eq!(
            labels.get("failure-domain.beta.kubernetes.io/zone"),
            Some(zone),
            "node {name}"
        );
        assert!(zone.starts_with("us-east-1"), "node {name} zone {zone}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn gp3_statefulset_pod_runs_in_its_volume_zone() -> Result<()> {
    let cluster = cloudvault_testkit::test_cluster()?;
    let client = cluster.client().await?;
    let ns_name = format!("accept-{}", std::process::id());
    let namespaces: Api<Namespace> = Api::all(client.clone());
    namespaces
        .create(
            &PostParams::default(),
            &serde_json::from_value(serde_json::json!({"metadata": {"name": ns_name}}))?,
        )
        .await?;
    let outcome = check_statefulset(&client, &ns_name).await;
    namespaces
        .delete(&ns_name, &DeleteParams::default())
        .await?;
    outcome
}

async fn check_statefulset(client: &Client, ns: &str) -> Result<()> {
    // The default service account appears shortly after the namespace; pods need it.
    let sas: Api<k8s_openapi::api::core::v1::ServiceAccount> = Api::namespaced(client.clone(), ns);
    eventually(30, "default service account", || async {
        Ok(sas.get_opt("default").await?)
    })
    .await?;
    let sts: StatefulSet = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "vol"},
        "spec": {
            "serviceName": "vol",
            "replicas": 1,
            "selector": {"matchLabels": {"app": "vol"}},
            "template": {
                "metadata": {"labels": {"app": "vol"}},
                "spec": {"containers": [{"name": "c", "image": "busybox",
                    "volumeMounts": [{"name": "data", "mountPath": "/data"}]}]}
            },
            "volumeClaimTemplates": [{
                "metadata": {"name": "data"},
                "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "gp3",
                         "resources": {"requests": {"storage": "8Gi"}}}
            }]
        }
    }))?;
    Api::<StatefulSet>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), &sts)
        .await?;

    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let pod = eventually(120, "pod vol-0 Running", || async {
        Ok(pods
            .get_opt("vol-0")
            .await?
            .filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")))
    })
    .await?;
    let has_ip = pod
        .status
        .as_ref()
        .and_then(|s| s.pod_ip.as_ref())
        .is_some();
    assert!(has_ip, "KWOK gives running pods an IP");
    let node_name = pod
        .spec
        .and_then(|s| s.node_name)
        .ok_or("running pod without a node")?;
    let node = Api::<Node>::all(client.clone()).get(&node_name).await?;
    let node_zone = node
        .metadata
        .labels
        .unwrap_or_default()
        .remove(ZONE)
        .ok_or("node without zone")?;

    let pvc = Api::<PersistentVolumeClaim>::namespaced(client.clone(), ns)
        .get("data-vol-0")
        .await?;
    let status = pvc.status.unwrap_or_default();
    assert_eq!(status.phase.as_deref(), Some("Bound"));
    let pv_name = pvc
        .spec
        .and_then(|s| s.volume_name)
        .ok_or("bound claim without a volume")?;
    let pv = Api::<PersistentVolume>::all(client.clone())
        .get(&pv_name)
        .await?;
    let spec = pv.spec.unwrap_or_default();
    assert_eq!(
        spec.csi.map(|c| c.driver).as_deref(),
        Some("ebs.csi.aws.com")
    );
    let zones: Vec<String> = spec
        .node_affinity
        .and_then(|a| a.required)
        .map(|r| r.node_selector_terms)
        .unwrap_or_default()
        .into_iter()
        .flat_map(|t| t.match_expressions.unwrap_or_default())
        .filter(|e| e.key == ZONE)
        .flat_map(|e| e.values.unwrap_or_default())
        .collect();
    assert_eq!(
        zones,
        vec![node_zone.clone()],
        "PV {pv_name} zones vs pod's node {node_name}"
    );
    Ok(())
}
