//! Live cluster (tests/cluster, scenario `small`): `top` and `gravity` read live through
//! the watchers/reflectors give the same snapshot and the same reports as reading a dump
//! of that cluster with the offline reader. Also: a cluster that refuses says so.

use std::path::Path;
use std::time::Duration;

use cloudvault::collect::{RawObjects, Scope, live, read_paths};
use cloudvault::cost::cost_report;
use cloudvault::graph::{BuildOptions, build};
use cloudvault::gravity::gravity_report;
use cloudvault::model::{ClusterSnapshot, LabelSelector};
use cloudvault::pricing::PriceBook;
use cloudvault::traffic::FlowSet;
use k8s_openapi::api::{
    apps::v1 as apps, batch::v1 as batch, core::v1 as core, storage::v1 as storage,
};
use kube::api::{Api, ListParams};
use serde::Serialize;
use serde::de::DeserializeOwned;

const TIMEOUT: Duration = Duration::from_secs(60);

/// `kubectl get <kind> -A -o json` as the API serves it, written as a List file.
async fn dump_kind<K>(client: &kube::Client, dir: &Path, file: &str)
where
    K: kube::Resource<DynamicType = ()> + Clone + DeserializeOwned + Serialize + std::fmt::Debug,
{
    let list = Api::<K>::all(client.clone())
        .list(&ListParams::default())
        .await
        .unwrap_or_else(|e| panic!("list {file}: {e}"));
    let items: Vec<serde_json::Value> = list
        .items
        .iter()
        .map(|o| serde_json::to_value(o).unwrap_or_default())
        .collect();
    let doc = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items});
    std::fs::write(
        dir.join(format!("{file}.json")),
        serde_json::to_vec_pretty(&doc).unwrap_or_default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
}

async fn dump(client: &kube::Client, dir: &Path) {
    dump_kind::<core::Node>(client, dir, "nodes").await;
    dump_kind::<core::Pod>(client, dir, "pods").await;
    dump_kind::<core::PersistentVolumeClaim>(client, dir, "pvcs").await;
    dump_kind::<core::PersistentVolume>(client, dir, "pvs").await;
    dump_kind::<storage::StorageClass>(client, dir, "storageclasses").await;
    dump_kind::<storage::VolumeAttributesClass>(client, dir, "vacs").await;
    dump_kind::<apps::ReplicaSet>(client, dir, "replicasets").await;
    dump_kind::<apps::Deployment>(client, dir, "deployments").await;
    dump_kind::<apps::StatefulSet>(client, dir, "statefulsets").await;
    dump_kind::<apps::DaemonSet>(client, dir, "daemonsets").await;
    dump_kind::<batch::Job>(client, dir, "jobs").await;
    dump_kind::<batch::CronJob>(client, dir, "cronjobs").await;
}

fn reports(s: &ClusterSnapshot) -> (serde_json::Value, serde_json::Value) {
    let g = build(s, &FlowSet::none(), &BuildOptions::default());
    let book = PriceBook::bundled().unwrap_or_else(|e| panic!("{e}"));
    (
        serde_json::to_value(cost_report(&g, &book)).unwrap_or_default(),
        serde_json::to_value(gravity_report(&g, &book)).unwrap_or_default(),
    )
}

async fn live_snapshot(client: &kube::Client, scope: &Scope) -> ClusterSnapshot {
    let raw: RawObjects = live::read_live(client, scope, TIMEOUT)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    raw.into_snapshot(scope)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_reports_equal_dump_reports() {
    let cluster = cloudvault_testkit::test_cluster().unwrap_or_else(|e| panic!("{e}"));
    let client = live::connect(Some(&cluster.kubeconfig), None)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .client;
    let all = Scope::default();
    // Other tests share the cluster: when something changed between the reads, the
    // whole live/dump/live cycle is tried again.
    let mut attempt = 0;
    let (live, dumped, raw) = loop {
        attempt += 1;
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let before = live_snapshot(&client, &all).await;
        dump(&client, dir.path()).await;
        let after = live_snapshot(&client, &all).await;
        let raw = read_paths(&[dir.path().to_path_buf()]).unwrap_or_else(|e| panic!("{e}"));
        let dumped = raw.clone().into_snapshot(&all);
        if before == dumped || after == dumped || attempt == 3 {
            let live = if before == dumped { before } else { after };
            break (live, dumped, raw);
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    };
    assert!(
        !dumped.nodes.is_empty()
            && !dumped.pods.is_empty()
            && !dumped.volumes.is_empty()
            && !dumped.claims.is_empty(),
        "the small scenario has nodes, pods and volumes"
    );
    assert!(
        live == dumped,
        "live and dump snapshots differ after {attempt} attempts"
    );
    assert_eq!(reports(&live), reports(&dumped));
    let (cost, _) = reports(&dumped);
    assert!(cost["items"].as_array().is_some_and(|i| !i.is_empty()));
    assert!(
        cost["totalMonthlyCostUSD"]
            .as_f64()
            .is_some_and(|t| t > 0.0),
        "{}",
        cost["totalMonthlyCostUSD"]
    );

    // Namespace and label scope: server-side (live) and client-side (dump) agree.
    let ns = dumped.claims[0].namespace.clone();
    let key = dumped
        .pods
        .iter()
        .find_map(|p| p.labels.iter().next().map(|(k, v)| format!("{k}={v}")))
        .unwrap_or_default();
    for scope in [
        // As top reads (no peers) and as gravity reads (peers outside the scope too).
        Scope {
            namespace: Some(ns.clone()),
            selector: LabelSelector::default(),
            read_peers: false,
        },
        Scope {
            namespace: Some(ns.clone()),
            selector: LabelSelector::default(),
            read_peers: true,
        },
        Scope {
            namespace: None,
            selector: LabelSelector::parse(&key).unwrap_or_else(|e| panic!("{e}")),
            read_peers: true,
        },
    ] {
        let dumped = raw.clone().into_snapshot(&scope);
        // Other tests share the cluster; a change between the two reads gets a retry.
        let mut live = live_snapshot(&client, &scope).await;
        for _ in 0..3 {
            if live == dumped {
                break;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
            live = live_snapshot(&client, &scope).await;
        }
        assert!(!dumped.pods.is_empty(), "{scope:?} selects pods");
        assert_eq!(reports(&live), reports(&dumped), "{scope:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusing_or_absent_cluster_is_a_clear_error() {
    let cluster = cloudvault_testkit::test_cluster().unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let text = std::fs::read_to_string(&cluster.kubeconfig).unwrap_or_else(|e| panic!("{e}"));
    let mut kc: serde_json::Value = serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    // A credential the API server does not know: 401.
    if let Some(users) = kc["users"].as_array_mut() {
        for u in users {
            u["user"] = serde_json::json!({"token": "not-a-valid-token"});
        }
    }
    let bad = dir.path().join("bad-token.yaml");
    std::fs::write(&bad, serde_json::to_vec(&kc).unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}"));
    let client = live::connect(Some(&bad), None)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .client;
    let e = live::read_live(&client, &Scope::default(), TIMEOUT)
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        e.contains("refused") && e.contains("401") && e.contains("log in again"),
        "{e}"
    );
    assert!(!e.contains('\n'));

    // Nothing listening: the error names the resource and says what to check.
    if let Some(clusters) = kc["clusters"].as_array_mut() {
        for c in clusters {
            c["cluster"]["server"] = serde_json::json!("https://127.0.0.1:1");
        }
    }
    let down = dir.path().join("down.yaml");
    std::fs::write(&down, serde_json::to_vec(&kc).unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}"));
    let conn = live::connect(Some(&down), None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let e = live::read_live(&conn.client, &Scope::default(), Duration::from_secs(10))
        .await
        .map_err(|e| e.at(&conn.server))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("check that the cluster is reachable"), "{e}");
    assert!(
        e.contains("https://127.0.0.1:1"),
        "the error names the server: {e}"
    );
}
