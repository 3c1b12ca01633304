//! The agent's flow table: drains the kernel's cumulative counters into per-(cgroup,
//! remote) totals, attributes each cgroup to a pod or the node, and classifies remotes.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use cloudvault::traffic::network::canonical;
use cloudvault::traffic::{DestinationClass, NetworkMap, Place, classify_between};
use ipnet::IpNet;
use serde::Serialize;

use crate::cgroups::{CgroupIndex, Owner, parse_owner};
use crate::conntrack::Backends;
use crate::kernel::{Counters, FlowKey};

/// A node's addresses and zone, from the Node watch (or, standalone, from flags).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeNet {
    pub name: String,
    pub zone: Option<String>,
    pub region: Option<String>,
    /// Its InternalIP/ExternalIP addresses (as /32, /128) and `spec.podCIDRs`.
    pub cidrs: Vec<IpNet>,
}

/// Classes remote addresses as seen from this node (DESIGN §3): this node's own
/// addresses and pod CIDRs are same-node; another node's are classified by its zone;
/// then the `--network` map; everything else is internet.
#[derive(Debug, Clone, Default)]
pub struct Classifier {
    pub local: NodeNet,
    pub others: Vec<NodeNet>,
    pub network: NetworkMap,
}

impl Classifier {
    pub fn classify(&self, ip: IpAddr) -> DestinationClass {
        let ip = canonical(ip);
        let here = Place {
            node: Some(self.local.name.as_str()),
            zone: self.local.zone.as_deref(),
            region: self.local.region.as_deref(),
        };
        if self.local.cidrs.iter().any(|c| c.contains(&ip)) {
            return DestinationClass::SameNode;
        }
        if let Some(n) = self
            .others
            .iter()
            .find(|n| n.cidrs.iter().any(|c| c.contains(&ip)))
        {
            let there = Place {
                node: Some(n.name.as_str()),
                zone: n.zone.as_deref(),
                region: n.region.as_deref(),
            };
            return classify_between(&here, &there);
        }
        self.network.classify_remote(&here, ip)
    }
}

/// What the Kubernetes API says about a pod of this node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodMeta {
    pub name: String,
    pub namespace: String,
    /// `Kind/name` of the controller (a ReplicaSet is reported as its Deployment).
    pub workload: Option<String>,
    /// Running and not deleted: it must have a cgroup here. Deleted pods stay known so
    /// their flows keep their names.
    pub expects_cgroup: bool,
}

#[derive(Debug, Clone, Copy, Default)]
struct Tracked {
    /// The kernel's value at the last drain.
    last: Counters,
    /// Everything drained for this key since the agent's first start.
    total: Counters,
}

/// Result of one drain.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DrainReport {
    pub entries: usize,
    pub new_keys: usize,
    /// Keys whose kernel counters went backwards: the LRU evicted and re-created them.
    pub recreated: usize,
    /// cgroup ids first seen in this drain that are not in the cgroup tree.
    pub unknown_cgroups: Vec<u64>,
    /// cgroups attributed for the first time in this drain, with their paths: worth
    /// remembering outside this process.
    pub resolved: Vec<(u64, String)>,
}

/// Per-(cgroup, remote) totals and who each cgroup belongs to.
#[derive(Debug)]
pub struct FlowTable {
    entries: HashMap<FlowKey, Tracked>,
    /// Bytes sent to a Service ClusterIP, moved to the backend conntrack showed:
    /// (cgroup, backend, ClusterIP) -> totals. What could not be resolved stays on the
    /// ClusterIP in `entries`.
    via_service: HashMap<(u64, IpAddr, IpAddr), Counters>,
    services: Vec<IpNet>,
    /// Attribution is remembered, so a container that exited keeps its pod.
    owners: HashMap<u64, (Owner, String)>,
    unknown: HashSet<u64>,
    index: CgroupIndex,
}

impl FlowTable {
    pub fn new(index: CgroupIndex, services: Vec<IpNet>) -> Self {
        Self {
            entries: HashMap::new(),
            via_service: HashMap::new(),
            services,
            owners: HashMap::new(),
            unknown: HashSet::new(),
            index,
        }
    }

    /// Takes a snapshot of the kernel's cumulative counters. The first drain after a
    /// restart takes the pinned totals as they are, so nothing is lost or doubled.
    pub fn services(&self) -> &[IpNet] {
        &self.services
    }

    /// Whether `ip` is a Service ClusterIP (in a `--service-cidr`).
    pub fn is_service(&self, ip: IpAddr) -> bool {
        self.services.iter().any(|n| n.contains(&canonical(ip)))
    }

    /// `backends` resolves ClusterIPs (see [`crate::conntrack`]); `None` leaves them.
    pub fn drain(
        &mut self,
        snapshot: &[(FlowKey, Counters)],
        backends: Option<&Backends>,
    ) -> DrainReport {
        let mut report = DrainReport {
            entries: snapshot.len(),
            ..DrainReport::default()
        };
        let mut rescanned = false;
        for (key, now) in snapshot {
            let t = self.entries.entry(*key).or_insert_with(|| {
                report.new_keys += 1;
                Tracked::default()
            });
            let went_back = now.tx_bytes < t.last.tx_bytes
                || now.rx_bytes < t.last.rx_bytes
                || now.tx_packets < t.last.tx_packets
                || now.rx_packets < t.last.rx_packets;
            let base = if went_back {
                report.recreated += 1;
                Counters::default()
            } else {
                t.last
            };
            let delta = Counters {
                tx_bytes: now.tx_bytes - base.tx_bytes,
                rx_bytes: now.rx_bytes - base.rx_bytes,
                tx_packets: now.tx_packets - base.tx_packets,
                rx_packets: now.rx_packets - base.rx_packets,
            };
            t.last = *now;
            let service = self
                .services
                .iter()
                .any(|n| n.contains(&canonical(key.remote)));
            let split = match backends {
                Some(b) if service && delta != Counters::default() => {
                    split_counters(b, canonical(key.remote), delta)
                }
                _ => None,
            };
            match split {
                Some(parts) => {
                    for (backend, part) in parts {
                        let c = self
                            .via_service
                            .entry((key.cgroup_id, backend, canonical(key.remote)))
                            .or_default();
                        add(c, part);
                    }
                }
                None => add(&mut t.total, delta),
            }

            let id = key.cgroup_id;
            if self.owners.contains_key(&id) {
                continue;
            }
            if self.index.path(id).is_none() && !rescanned {
                self.index.rescan();
                rescanned = true;
            }
            match self.index.path(id) {
                Some(p) => {
                    let path = p.display().to_string();
                    self.owners.insert(id, (parse_owner(p), path.clone()));
                    self.unknown.remove(&id);
                    report.resolved.push((id, path));
                }
                None => {
                    if self.unknown.insert(id) {
                        report.unknown_cgroups.push(id);
                    }
                }
            }
        }
        report
    }

    /// Whether `id` is attributed already.
    pub fn knows(&self, id: u64) -> bool {
        self.owners.contains_key(&id)
    }

    /// Attributes `id` by a path an earlier agent recorded (its cgroup may be gone).
    pub fn preload(&mut self, id: u64, path: String) {
        self.owners
            .insert(id, (parse_owner(std::path::Path::new(&path)), path));
        self.unknown.remove(&id);
    }

    /// cgroup ids seen in traffic but never found in the cgroup tree.
    pub fn unknown_cgroups(&self) -> usize {
        self.unknown.len()
    }

    /// How many of `uids` have no cgroup on this node (the tree is walked again, once,
    /// before any is declared missing).
    pub fn pods_without_cgroup(&mut self, uids: &[String]) -> usize {
        let mut have = self.index.pod_uids();
        if uids.iter().any(|u| !have.contains(u)) {
            self.index.rescan();
            have = self.index.pod_uids();
        }
        uids.iter().filter(|u| !have.contains(*u)).count()
    }

    /// Every flow with its attribution and class, sorted for stable output. Traffic to
    /// a ClusterIP is reported against its backend (with `service` set); what could not
    /// be resolved stays on the ClusterIP, class unknown.
    pub fn records(
        &self,
        classifier: &Classifier,
        pods: &HashMap<String, PodMeta>,
    ) -> Vec<FlowRecord> {
        let mut keys: Vec<&FlowKey> = self.entries.keys().collect();
        keys.sort();
        let mut out: Vec<FlowRecord> = keys
            .into_iter()
            .filter_map(|k| {
                let t = self.entries.get(k)?;
                let service = self.is_service(k.remote);
                // Fully resolved ClusterIP keys leave nothing behind to report.
                if service && t.total == Counters::default() {
                    return None;
                }
                let class = if service {
                    DestinationClass::Unknown
                } else {
                    classifier.classify(k.remote)
                };
                let via = service.then(|| canonical(k.remote));
                Some(self.record(
                    k.cgroup_id,
                    k.remote,
                    via,
                    class,
                    &t.total,
                    classifier,
                    pods,
                ))
            })
            .collect();
        let mut resolved: Vec<(&(u64, IpAddr, IpAddr), &Counters)> =
            self.via_service.iter().collect();
        resolved.sort_by_key(|(k, _)| **k);
        for ((cgroup, backend, service), c) in resolved {
            let class = classifier.classify(*backend);
            out.push(self.record(
                *cgroup,
                *backend,
                Some(*service),
                class,
                c,
                classifier,
                pods,
            ));
        }
        out
    }

    #[allow(clippy::too_many_arguments)]
    fn record(
        &self,
        cgroup_id: u64,
        remote: IpAddr,
        service: Option<IpAddr>,
        class: DestinationClass,
        total: &Counters,
        classifier: &Classifier,
        pods: &HashMap<String, PodMeta>,
    ) -> FlowRecord {
        let owner = self.owners.get(&cgroup_id);
        let (kind, uid, container) = match owner.map(|(o, _)| o) {
            Some(Owner::Pod { uid, container, .. }) => {
                (OwnerKind::Pod, Some(uid.clone()), container.clone())
            }
            Some(Owner::Node) => (OwnerKind::Node, None, None),
            None => (OwnerKind::Unknown, None, None),
        };
        let meta = uid.as_ref().and_then(|u| pods.get(u));
        FlowRecord {
            owner: kind,
            pod_uid: uid,
            pod: meta.map(|m| m.name.clone()),
            namespace: meta.map(|m| m.namespace.clone()),
            workload: meta.and_then(|m| m.workload.clone()),
            container,
            node: classifier.local.name.clone(),
            cgroup_id,
            cgroup: owner.map(|(_, p)| p.clone()),
            remote: canonical(remote),
            service,
            class,
            tx_bytes: total.tx_bytes,
            rx_bytes: total.rx_bytes,
            tx_packets: total.tx_packets,
            rx_packets: total.rx_packets,
        }
    }
}

fn add(total: &mut Counters, d: Counters) {
    total.tx_bytes += d.tx_bytes;
    total.rx_bytes += d.rx_bytes;
    total.tx_packets += d.tx_packets;
    total.rx_packets += d.rx_packets;
}

/// Splits each counter of `d` over the service's backends with the same weights.
fn split_counters(b: &Backends, service: IpAddr, d: Counters) -> Option<Vec<(IpAddr, Counters)>> {
    let tx = b.split(service, d.tx_bytes)?;
    let rx = b.split(service, d.rx_bytes)?;
    let txp = b.split(service, d.tx_packets)?;
    let rxp = b.split(service, d.rx_packets)?;
    Some(
        tx.iter()
            .zip(rx.iter().zip(txp.iter().zip(rxp.iter())))
            .map(|((ip, t), ((_, r), ((_, tp), (_, rp))))| {
                (
                    *ip,
                    Counters {
                        tx_bytes: *t,
                        rx_bytes: *r,
                        tx_packets: *tp,
                        rx_packets: *rp,
                    },
                )
            })
            .collect(),
    )
}

/// Whose traffic a flow is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OwnerKind {
    Pod,
    /// Outside kubepods (including host processes; host-network pods are pods here,
    /// attributed by their cgroup).
    Node,
    /// The cgroup was gone before the agent could see it.
    Unknown,
}

/// One line of `/flows`. Bytes are L3 (IP header included), cumulative since the
/// agent's first start on this node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FlowRecord {
    pub owner: OwnerKind,
    #[serde(rename = "podUID")]
    pub pod_uid: Option<String>,
    pub pod: Option<String>,
    pub namespace: Option<String>,
    pub workload: Option<String>,
    pub container: Option<String>,
    pub node: String,
    pub cgroup_id: u64,
    pub cgroup: Option<String>,
    /// The far end: for traffic to a Service, the backend conntrack resolved.
    pub remote: IpAddr,
    /// The Service ClusterIP the pod addressed, when it did.
    pub service: Option<IpAddr>,
    pub class: DestinationClass,
    pub tx_bytes: u64,
    pub rx_bytes: u64,
    pub tx_packets: u64,
    pub rx_packets: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: u64, ip: &str) -> FlowKey {
        FlowKey {
            cgroup_id: id,
            remote: ip.parse().unwrap_or_else(|e| panic!("{e}")),
        }
    }

    fn c(tx: u64, rx: u64) -> Counters {
        Counters {
            tx_bytes: tx,
            rx_bytes: rx,
            tx_packets: tx / 100,
            rx_packets: rx / 100,
        }
    }

    fn table() -> FlowTable {
        FlowTable::new(
            CgroupIndex::new("/nonexistent-cgroup-root".into()),
            vec!["10.96.0.0/12".parse().unwrap_or_else(|e| panic!("{e}"))],
        )
    }

    #[test]
    fn drains_deltas_and_survives_eviction() {
        let mut t = table();
        let k = key(7, "10.0.0.1");
        t.drain(&[(k, c(1000, 500))], None);
        t.drain(&[(k, c(3000, 700))], None);
        // Evicted and re-created by the kernel: counters restart below the last value.
        let r = t.drain(&[(k, c(200, 100))], None);
        assert_eq!(r.recreated, 1);
        let rec = t.records(&Classifier::default(), &HashMap::new());
        assert_eq!(rec.len(), 1);
        assert_eq!((rec[0].tx_bytes, rec[0].rx_bytes), (3200, 800));
        assert_eq!(rec[0].owner, OwnerKind::Unknown);
        assert_eq!(t.unknown_cgroups(), 1);
    }

    #[test]
    fn restart_takes_pinned_totals_once() {
        // A new agent's first drain sees the kernel's cumulative counters...
        let mut t = table();
        let k = key(7, "fd00::1");
        t.drain(&[(k, c(5000, 0))], None);
        // ...and later drains add only what is new.
        t.drain(&[(k, c(5000, 0))], None);
        t.drain(&[(k, c(6000, 0))], None);
        let rec = t.records(&Classifier::default(), &HashMap::new());
        assert_eq!(rec[0].tx_bytes, 6000);
    }

    #[test]
    fn cluster_ip_bytes_move_to_the_backend() {
        let mut t = table();
        let svc = key(7, "10.96.0.10");
        let ct = crate::conntrack::parse(
            "ipv4 2 tcp 6 100 ESTABLISHED src=10.200.1.2 dst=10.96.0.10 sport=1 dport=80 src=10.201.2.2 dst=10.200.1.2 sport=80 dport=1 [ASSURED] use=1\n",
        );
        let nets = ["10.96.0.0/12".parse().unwrap_or_else(|e| panic!("{e}"))];
        let b = Backends::from_entries(&ct, &nets);
        // First drain: conntrack has no entry yet, the bytes stay on the ClusterIP.
        t.drain(&[(svc, c(1000, 100))], Some(&Backends::default()));
        t.drain(&[(svc, c(5000, 300))], Some(&b));
        let rec = t.records(&Classifier::default(), &HashMap::new());
        assert_eq!(rec.len(), 2);
        assert_eq!(rec[0].remote, svc.remote);
        assert_eq!(rec[0].class, DestinationClass::Unknown);
        assert_eq!((rec[0].tx_bytes, rec[0].rx_bytes), (1000, 100));
        let backend: IpAddr = "10.201.2.2".parse().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(rec[1].remote, backend);
        assert_eq!(rec[1].service, Some(svc.remote));
        assert_eq!((rec[1].tx_bytes, rec[1].rx_bytes), (4000, 200));
    }

    #[test]
    fn classes_from_nodes_then_network() {
        let net = |s: &str| s.parse::<IpNet>().unwrap_or_else(|e| panic!("{e}"));
        let cl = Classifier {
            local: NodeNet {
                name: "n1".into(),
                zone: Some("a".into()),
                region: Some("r".into()),
                cidrs: vec![net("10.244.1.0/24"), net("192.168.0.1/32")],
            },
            others: vec![NodeNet {
                name: "n2".into(),
                zone: Some("b".into()),
                region: Some("r".into()),
                cidrs: vec![net("10.244.2.0/24")],
            }],
            network: NetworkMap::from_yaml(
                "networks:\n  - cidr: 10.0.0.0/8\n    zone: a\n    region: r\n",
                "t",
            )
            .unwrap_or_else(|e| panic!("{e}")),
        };
        let class = |s: &str| cl.classify(s.parse().unwrap_or_else(|e| panic!("{e}")));
        assert_eq!(class("10.244.1.9"), DestinationClass::SameNode);
        assert_eq!(class("::ffff:192.168.0.1"), DestinationClass::SameNode);
        assert_eq!(class("10.244.2.9"), DestinationClass::CrossZone);
        assert_eq!(class("10.9.9.9"), DestinationClass::SameZone);
        assert_eq!(class("1.1.1.1"), DestinationClass::Internet);
    }
}
