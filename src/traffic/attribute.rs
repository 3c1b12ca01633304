//! Attribution of flow ends to pods and nodes through the snapshot (DESIGN §3): pod
//! IPs resolve to pods, node IPs to nodes, and a host-network pod — which shares its
//! node's IP — only when one of its declared container ports identifies it.

use std::collections::HashMap;
use std::net::IpAddr;

use crate::model::{ClusterSnapshot, ObjectRef};
use crate::traffic::network::canonical;

/// What an address (and port) is in the cluster.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Endpoint {
    Pod(ObjectRef),
    Node(String),
    /// Not a pod or node in the snapshot.
    Address(IpAddr),
}

/// How an address was resolved; `NodeShared` means the node has host-network pods
/// and no declared port told them apart, so the bytes went to the node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    Direct,
    HostNetworkByPort,
    NodeShared,
}

#[derive(Debug, Default)]
pub struct Resolver {
    pods: HashMap<IpAddr, ObjectRef>,
    nodes: HashMap<IpAddr, String>,
    /// Host-network pods by node name: (pod, declared ports).
    host_pods: HashMap<String, Vec<(ObjectRef, Vec<u16>)>>,
}

impl Resolver {
    pub fn new(snapshot: &ClusterSnapshot) -> Self {
        let mut r = Resolver::default();
        for n in &snapshot.nodes {
            for ip in &n.addresses {
                r.nodes.insert(canonical(*ip), n.name.clone());
            }
        }
        // Peers too: a pod outside the scope is still a pod in its zone, not the internet.
        let pods = snapshot.pods.iter().chain(&snapshot.peers);
        for p in pods.filter(|p| p.is_active()) {
            if p.host_network {
                if let Some(node) = &p.node_name {
                    r.host_pods
                        .entry(node.clone())
                        .or_default()
                        .push((p.key(), p.ports.clone()));
                }
                continue;
            }
            for ip in &p.pod_ips {
                r.pods.insert(canonical(*ip), p.key());
            }
        }
        r
    }

    /// Resolves an address seen with `ports` (the ports on that end of the flow).
    pub fn resolve(&self, ip: IpAddr, ports: &[u16]) -> (Endpoint, Resolution) {
        let ip = canonical(ip);
        if let Some(p) = self.pods.get(&ip) {
            return (Endpoint::Pod(p.clone()), Resolution::Direct);
        }
        let Some(node) = self.nodes.get(&ip) else {
            return (Endpoint::Address(ip), Resolution::Direct);
        };
        let Some(host_pods) = self.host_pods.get(node) else {
            return (Endpoint::Node(node.clone()), Resolution::Direct);
        };
        let matches: Vec<&ObjectRef> = host_pods
            .iter()
            .filter(|(_, declared)| ports.iter().any(|p| declared.contains(p)))
            .map(|(pod, _)| pod)
            .collect();
        match matches.as_slice() {
            [one] => (Endpoint::Pod((*one).clone()), Resolution::HostNetworkByPort),
            _ => (Endpoint::Node(node.clone()), Resolution::NodeShared),
        }
    }
}
