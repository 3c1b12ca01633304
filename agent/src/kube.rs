//! Kubernetes mode: the pods of this node only (a watch with
//! `fieldSelector=spec.nodeName`, so N agents do not each watch the whole cluster), and
//! the nodes, for their addresses, pod CIDRs and zones.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use futures::TryStreamExt;
use ipnet::IpNet;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use kube::{Api, Client, ResourceExt};

use crate::flows::{NodeNet, PodMeta};
use crate::state::{Shared, write};

const ZONE_LABELS: [&str; 2] = [
    "topology.kubernetes.io/zone",
    "failure-domain.beta.kubernetes.io/zone",
];
const REGION_LABELS: [&str; 2] = [
    "topology.kubernetes.io/region",
    "failure-domain.beta.kubernetes.io/region",
];

/// The pod's name, namespace and controlling workload.
pub fn pod_meta(pod: &Pod) -> Option<(String, PodMeta)> {
    let uid = pod.metadata.uid.clone()?;
    let workload = pod
        .owner_references()
        .iter()
        .find(|o| o.controller == Some(true))
        .map(|o| {
            // A Deployment's pods are owned by a ReplicaSet named <deployment>-<hash>.
            let hash = pod.labels().get("pod-template-hash");
            match (o.kind.as_str(), hash) {
                ("ReplicaSet", Some(h)) => match o.name.strip_suffix(&format!("-{h}")) {
                    Some(d) => format!("Deployment/{d}"),
                    None => format!("ReplicaSet/{}", o.name),
                },
                (kind, _) => format!("{kind}/{}", o.name),
            }
        });
    Some((
        uid,
        PodMeta {
            name: pod.name_any(),
            namespace: pod.namespace().unwrap_or_default(),
            workload,
            expects_cgroup: pod.metadata.deletion_timestamp.is_none()
                && pod.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running"),
        },
    ))
}

/// A node's addresses, pod CIDRs and zone.
pub fn node_net(node: &Node) -> NodeNet {
    let label = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| node.labels().get(*k).cloned())
            .filter(|v| !v.is_empty())
    };
    let mut cidrs: Vec<IpNet> = Vec::new();
    if let Some(status) = &node.status {
        for a in status.addresses.iter().flatten() {
            if let Ok(ip) = a.address.parse::<std::net::IpAddr>() {
                cidrs.push(IpNet::from(ip));
            }
        }
    }
    if let Some(spec) = &node.spec {
        let all = spec.pod_cidrs.iter().flatten().chain(spec.pod_cidr.iter());
        for c in all {
            if let Ok(net) = c.parse::<IpNet>()
                && !cidrs.contains(&net)
            {
                cidrs.push(net);
            }
        }
    }
    NodeNet {
        name: node.name_any(),
        zone: label(&ZONE_LABELS),
        region: label(&REGION_LABELS),
        cidrs,
    }
}

/// Keeps `shared.pods` equal to the pods bound to `node`.
pub async fn watch_pods(client: Client, node: String, shared: Arc<Shared>) -> anyhow::Result<()> {
    let api: Api<Pod> = Api::all(client);
    let cfg = watcher::Config::default().fields(&format!("spec.nodeName={node}"));
    let mut stream = std::pin::pin!(watcher::watcher(api, cfg).default_backoff());
    let mut staging: HashMap<String, PodMeta> = HashMap::new();
    while let Some(event) = stream.try_next().await? {
        match event {
            Event::Init => staging.clear(),
            Event::InitApply(p) => {
                if let Some((uid, m)) = pod_meta(&p) {
                    staging.insert(uid, m);
                }
            }
            Event::InitDone => {
                // A relist: pods gone meanwhile keep their names but expect no cgroup.
                let mut pods = write(&shared.pods);
                for m in pods.values_mut() {
                    m.expects_cgroup = false;
                }
                pods.extend(staging.drain());
                drop(pods);
                if !shared.pods_synced.swap(true, Ordering::AcqRel) {
                    tracing::info!(node, "pod list synced");
                }
            }
            Event::Apply(p) => {
                if let Some((uid, m)) = pod_meta(&p) {
                    write(&shared.pods).insert(uid, m);
                }
            }
            Event::Delete(p) => {
                // Keep the metadata: the pod's flows stay in /flows and need its name.
                if let Some(uid) = p.metadata.uid.as_deref()
                    && let Some(m) = write(&shared.pods).get_mut(uid)
                {
                    m.expects_cgroup = false;
                }
            }
        }
    }
    Ok(())
}

/// Keeps the classifier's node list current.
pub async fn watch_nodes(client: Client, node: String, shared: Arc<Shared>) -> anyhow::Result<()> {
    let api: Api<Node> = Api::all(client);
    let mut stream =
        std::pin::pin!(watcher::watcher(api, watcher::Config::default()).default_backoff());
    let mut nodes: HashMap<String, NodeNet> = HashMap::new();
    let mut staging: HashMap<String, NodeNet> = HashMap::new();
    while let Some(event) = stream.try_next().await? {
        match event {
            Event::Init => staging.clear(),
            Event::InitApply(n) => {
                let net = node_net(&n);
                staging.insert(net.name.clone(), net);
            }
            Event::InitDone => nodes = std::mem::take(&mut staging),
            Event::Apply(n) => {
                let net = node_net(&n);
                nodes.insert(net.name.clone(), net);
            }
            Event::Delete(n) => {
                nodes.remove(&n.name_any());
            }
        }
        let mut c = write(&shared.classifier);
        if let Some(me) = nodes.get(&node) {
            c.local = me.clone();
        }
        c.others = nodes.values().filter(|n| n.name != node).cloned().collect();
    }
    Ok(())
}
