//! Data gravity (DESIGN §3, Gravity), read from the SIG.
//!
//! A pod is pinned when its volumes shrink the set of zones it could run in. Its
//! transfer cost in a zone is the sum, over every flow with the pod at one end, of the
//! charges on both ends (sender's egress, receiver's ingress) with its peers staying
//! where they are. Gravity is the cost now minus the lowest cost in any zone of its
//! region it could run in if its volumes were there, projected to a month (730 h) from
//! the observed window. Traffic between pods of one workload is replication: reported
//! on its own and left out of gravity.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::rc::Rc;

use serde::Serialize;

use crate::cost::API_VERSION;
use crate::graph::FnvMap;
use crate::graph::{
    Edge, EdgeKind, ExternalPlace, GraphStore, NodeData, NodeId, NodeKind, class_between, place_of,
};
use crate::model::{
    GIB, HOURS_PER_MONTH, Labels, Money, Node, NodeSelector, PersistentVolume, Pod, WorkloadRef,
};
use crate::pricing::PriceBook;
use crate::pricing::table::TransferTable;
use crate::topology;
use crate::traffic::{DestinationClass, NetworkClass, Place, Window};

/// Said by every report that sums gravity over workloads.
pub const SHARED_FLOWS_NOTE: &str = "two pinned workloads that talk to each other both count their shared flows, so a sum of gravity can count a flow twice";

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Peer {
    pub peer: String,
    pub kind: String,
    pub zone: Option<String>,
    pub class: String,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    #[serde(rename = "monthlyUSD")]
    pub monthly_usd: Option<Money>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodGravity {
    pub name: String,
    pub zone: Option<String>,
    pub best_zone: Option<String>,
    /// Zones the pod's volumes allow it.
    pub volume_zones: Vec<String>,
    /// Zones its other constraints allow it (in its region, with nodes).
    pub candidate_zones: Vec<String>,
    #[serde(rename = "gravityMonthlyUSD")]
    pub gravity_monthly_usd: Option<Money>,
    #[serde(rename = "currentMonthlyUSD")]
    pub current_monthly_usd: Option<Money>,
    #[serde(rename = "bestMonthlyUSD")]
    pub best_monthly_usd: Option<Money>,
    pub top_peers: Vec<Peer>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadGravity {
    pub workload: WorkloadRef,
    #[serde(rename = "gravityMonthlyUSD")]
    pub gravity_monthly_usd: Option<Money>,
    #[serde(rename = "replicationMonthlyUSD")]
    pub replication_monthly_usd: Option<Money>,
    #[serde(rename = "currentMonthlyUSD")]
    pub current_monthly_usd: Option<Money>,
    #[serde(rename = "bestMonthlyUSD")]
    pub best_monthly_usd: Option<Money>,
    /// Bytes with the pods at one end whose price is unknown (left out of the sums).
    pub unpriced_bytes: u64,
    pub pods: Vec<PodGravity>,
}

impl WorkloadGravity {
    /// The distinct best zones of its pods, sorted.
    pub fn best_zones(&self) -> Vec<&str> {
        let mut zones: Vec<&str> = self
            .pods
            .iter()
            .filter_map(|p| p.best_zone.as_deref())
            .collect();
        zones.sort_unstable();
        zones.dedup();
        zones
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GravityMetadata {
    pub provider: Option<String>,
    pub region: Option<String>,
    pub flow_source: String,
    pub window: Option<Window>,
    pub window_hours: Option<f64>,
    /// Month (730 h) / window.
    pub projection_factor: Option<f64>,
    pub rules: Vec<String>,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GravityReport {
    pub api_version: String,
    pub kind: String,
    pub metadata: GravityMetadata,
    /// `ok`, or `no traffic data` (then every gravity is null, never zero).
    pub status: String,
    pub items: Vec<WorkloadGravity>,
}

pub const NO_TRAFFIC: &str = "no traffic data";

struct Ctx<'a> {
    g: &'a dyn GraphStore,
    transfer: Option<&'a TransferTable>,
    factor: Option<f64>,
    /// Every node, cloned once: topology rules take a slice of nodes.
    nodes: Vec<Node>,
    /// Zone of each node of `nodes`, as an index into `zone_names`.
    node_zones: Vec<Option<usize>>,
    zone_names: Vec<String>,
    /// Regions of each zone of `zone_names`: by the provider's naming, and by the graph
    /// (IN_REGION); a zone is in a region when either says so.
    zone_regions: Vec<[Option<String>; 2]>,
    /// Places of graph nodes, by address of their id in the store (stable while the
    /// analysis borrows the store).
    places: RefCell<FnvMap<usize, (Place<'a>, Option<NetworkClass>)>>,
    /// Nodes a pod's own constraints allow, per distinct constraint (most pods share one).
    own_cache: RefCell<HashMap<OwnKey<'a>, Rc<Vec<usize>>>>,
    /// Which nodes can hold a volume, per distinct volume placement.
    volume_cache: RefCell<HashMap<VolumeKey<'a>, Rc<Vec<bool>>>>,
    /// Zone sets per (own nodes, volume masks), by the addresses of those cached values:
    /// thousands of pods share a handful of combinations, and building a set walks every
    /// node (1,000 on the scale scenario).
    zone_cache: RefCell<HashMap<ZoneSetKey, Rc<ZoneSets>>>,
}

/// Addresses of a pod's cached own-node list and volume masks.
type ZoneSetKey = (usize, Vec<usize>);

/// Zones (flags over `zone_names`) a pod could run in.
#[derive(Debug)]
struct ZoneSets {
    /// By its own constraints.
    own: Vec<bool>,
    /// By those and its volumes.
    with_volumes: Vec<bool>,
}

/// Keys borrow from the graph: hashing a pod's constraints is cheap, cloning them is not.
type OwnKey<'a> = (&'a Labels, Option<&'a NodeSelector>);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum VolumeKey<'a> {
    Affinity(&'a NodeSelector),
    Zones(BTreeSet<String>),
}

impl<'a> Ctx<'a> {
    fn place(&self, id: &'a NodeId) -> (Place<'a>, Option<NetworkClass>) {
        let key = std::ptr::from_ref(id) as usize;
        if let Some(p) = self.places.borrow().get(&key) {
            return *p;
        }
        let p = place_of(self.g, id);
        self.places.borrow_mut().insert(key, p);
        p
    }

    fn own_nodes(&self, pod: &'a Pod) -> Rc<Vec<usize>> {
        let key = (&pod.node_selector, pod.required_affinity.as_ref());
        if let Some(hit) = self.own_cache.borrow().get(&key) {
            return Rc::clone(hit);
        }
        let idx: Vec<usize> = self
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| {
                pod.node_selector
                    .iter()
                    .all(|(k, v)| n.labels.get(k) == Some(v))
            })
            .filter(|(_, n)| {
                pod.required_affinity
                    .as_ref()
                    .is_none_or(|sel| topology::node_fits(sel, n))
            })
            .map(|(i, _)| i)
            .collect();
        let idx = Rc::new(idx);
        self.own_cache.borrow_mut().insert(key, Rc::clone(&idx));
        idx
    }

    /// `None` when the volume does not restrict nodes.
    fn volume_mask(&self, pv: &'a PersistentVolume) -> Option<Rc<Vec<bool>>> {
        let key = match &pv.node_affinity {
            Some(sel) => VolumeKey::Affinity(sel),
            None => match topology::volume_zones(pv, &self.nodes) {
                topology::VolumeZones::Zones { zones } => VolumeKey::Zones(zones),
                _ => return None,
            },
        };
        if let Some(hit) = self.volume_cache.borrow().get(&key) {
            return Some(Rc::clone(hit));
        }
        let mask: Vec<bool> = self
            .nodes
            .iter()
            .map(|n| topology::volume_allows_node(pv, n, &self.nodes))
            .collect();
        let mask = Rc::new(mask);
        self.volume_cache.borrow_mut().insert(key, Rc::clone(&mask));
        Some(mask)
    }

    fn zone_sets(&self, own: &Rc<Vec<usize>>, masks: &[Rc<Vec<bool>>]) -> Rc<ZoneSets> {
        // The Rcs live in the caches for the whole analysis, so their addresses are keys.
        let key = (
            Rc::as_ptr(own) as usize,
            masks.iter().map(|m| Rc::as_ptr(m) as usize).collect(),
        );
        if let Some(hit) = self.zone_cache.borrow().get(&key) {
            return Rc::clone(hit);
        }
        let zone_set = |keep: &dyn Fn(usize) -> bool| -> Vec<bool> {
            let mut set = vec![false; self.zone_names.len()];
            for &i in own.iter().filter(|&&i| keep(i)) {
                if let Some(z) = self.node_zones[i] {
                    set[z] = true;
                }
            }
            set
        };
        let sets = Rc::new(ZoneSets {
            own: zone_set(&|_| true),
            with_volumes: zone_set(&|i| masks.iter().all(|m| m[i])),
        });
        self.zone_cache.borrow_mut().insert(key, Rc::clone(&sets));
        sets
    }
}

/// Ranks pinned workloads by gravity.
pub fn gravity_report(g: &dyn GraphStore, book: &PriceBook) -> GravityReport {
    let meta = g.meta();
    let has_traffic = meta.window.is_some()
        && meta
            .flow_source
            .is_some_and(|s| s != crate::traffic::FlowSource::None);
    let factor = meta
        .window
        .filter(|_| has_traffic)
        .map(|w| HOURS_PER_MONTH / w.hours());
    let transfer = meta
        .provider
        .and_then(|p| book.tables.get(&p))
        .map(|t| &t.transfer);
    let mut notes = meta.notes.clone();
    if has_traffic && transfer.is_none() {
        notes.push(
            "no provider detected, so transfer has no price; pass --provider aws|gcp|azure".into(),
        );
    }
    let nodes: Vec<Node> = g
        .nodes_of(NodeKind::Node)
        .into_iter()
        .filter_map(|(_, d)| match d {
            NodeData::Node(n) => Some(n.as_ref().clone()),
            _ => None,
        })
        .collect();
    let mut zone_names: Vec<String> = nodes
        .iter()
        .filter_map(|n| topology::zone_of(&n.labels))
        .collect();
    zone_names.sort();
    zone_names.dedup();
    let node_zones = nodes
        .iter()
        .map(|n| topology::zone_of(&n.labels).and_then(|z| zone_names.binary_search(&z).ok()))
        .collect();
    let zone_regions = zone_names
        .iter()
        .map(|z| {
            [
                topology::region_from_zone(z, meta.provider),
                zone_region(g, z),
            ]
        })
        .collect();
    let ctx = Ctx {
        g,
        transfer,
        factor: factor.filter(|_| transfer.is_some()),
        nodes,
        node_zones,
        zone_names,
        zone_regions,
        places: RefCell::default(),
        own_cache: RefCell::default(),
        volume_cache: RefCell::default(),
        zone_cache: RefCell::default(),
    };

    let mut by_workload: BTreeMap<WorkloadRef, Vec<(&NodeId, &Pod)>> = BTreeMap::new();
    for (id, d) in g.nodes_of(NodeKind::Pod) {
        let NodeData::Pod(p) = d else { continue };
        if meta.is_peer(id) {
            continue;
        }
        if let Some(w) = workload(g, id) {
            by_workload.entry(w).or_default().push((id, p.as_ref()));
        }
    }
    let mut items = Vec::new();
    for (w, pods) in &by_workload {
        let members = Members(pods.iter().map(|(id, _)| (address(id), ())).collect());
        let mut pinned = Vec::new();
        for (id, pod) in pods {
            if let Some(pg) = pod_gravity(&ctx, id, pod, &members) {
                pinned.push(pg);
            }
        }
        if pinned.is_empty() {
            continue;
        }
        let (replication, unpriced_repl) = replication_cost(&ctx, pods, &members);
        let unpriced: u64 = pinned.iter().map(|(_, u)| *u).sum::<u64>() + unpriced_repl;
        let pods: Vec<PodGravity> = pinned.into_iter().map(|(p, _)| p).collect();
        let sum =
            |f: fn(&PodGravity) -> Option<Money>| -> Option<Money> { pods.iter().map(f).sum() };
        let (gravity, current, best) = (
            sum(|p| p.gravity_monthly_usd),
            sum(|p| p.current_monthly_usd),
            sum(|p| p.best_monthly_usd),
        );
        items.push(WorkloadGravity {
            workload: w.clone(),
            gravity_monthly_usd: gravity,
            current_monthly_usd: current,
            best_monthly_usd: best,
            replication_monthly_usd: replication,
            unpriced_bytes: unpriced,
            pods,
        });
    }
    items.sort_by(|a, b| {
        let v = |x: &WorkloadGravity| x.gravity_monthly_usd.map_or(f64::MIN, Money::usd);
        v(b).total_cmp(&v(a))
            .then_with(|| a.workload.cmp(&b.workload))
    });
    GravityReport {
        api_version: API_VERSION.into(),
        kind: "GravityReport".into(),
        metadata: GravityMetadata {
            provider: meta.provider.map(|p| p.as_str().to_owned()),
            region: meta.region.clone(),
            flow_source: meta.flow_source.map_or("none", |s| s.as_str()).to_owned(),
            window: meta.window.filter(|_| has_traffic),
            window_hours: meta.window.filter(|_| has_traffic).map(|w| w.hours()),
            projection_factor: factor,
            rules: vec![
                "gravity = transfer cost in the current zone - lowest transfer cost in a zone of the region the pod could run in with its volumes there; peers stay put".into(),
                "replication (traffic between pods of one workload) is reported separately and left out of gravity".into(),
                SHARED_FLOWS_NOTE.into(),
            ],
            notes,
        },
        status: if has_traffic { "ok".into() } else { NO_TRAFFIC.into() },
        items,
    }
}

fn workload(g: &dyn GraphStore, pod: &NodeId) -> Option<WorkloadRef> {
    g.out_edges(pod, EdgeKind::OwnedBy)
        .into_iter()
        .find_map(|(w, _)| match w {
            NodeId::Workload(w) => Some(w.clone()),
            _ => None,
        })
}

/// Pods of one workload, by the address of their id in the store: every id the
/// analysis compares comes from the same store, so equal nodes have equal addresses.
struct Members(FnvMap<usize, ()>);

impl Members {
    fn contains(&self, id: &NodeId) -> bool {
        self.0.contains_key(&address(id))
    }
}

fn address(id: &NodeId) -> usize {
    std::ptr::from_ref(id) as usize
}

fn volumes_of<'a>(g: &'a dyn GraphStore, pod: &NodeId) -> Vec<&'a PersistentVolume> {
    g.out_edges(pod, EdgeKind::Mounts)
        .into_iter()
        .flat_map(|(c, _)| g.out_edges(c, EdgeKind::BoundTo))
        .filter_map(|(v, _)| match g.node(v) {
            Some(NodeData::Volume(v)) => Some(v.as_ref()),
            _ => None,
        })
        .collect()
}

/// A pinned pod's gravity, with the bytes it could not price; `None` when not pinned.
fn pod_gravity<'a>(
    ctx: &Ctx<'a>,
    id: &'a NodeId,
    pod: &'a Pod,
    members: &Members,
) -> Option<(PodGravity, u64)> {
    if !pod.is_active() {
        return None;
    }
    let volumes = volumes_of(ctx.g, id);
    if volumes.is_empty() {
        return None;
    }
    let own = ctx.own_nodes(pod);
    let masks: Vec<Rc<Vec<bool>>> = volumes.iter().filter_map(|v| ctx.volume_mask(v)).collect();
    let sets = ctx.zone_sets(&own, &masks);
    let (own_set, vol_set) = (&sets.own, &sets.with_volumes);
    let count = |set: &[bool]| set.iter().filter(|b| **b).count();
    let names = |set: &[bool]| -> Vec<String> {
        set.iter()
            .zip(&ctx.zone_names)
            .filter(|(b, _)| **b)
            .map(|(_, n)| n.clone())
            .collect()
    };
    if count(own_set) == 0 || count(vol_set) >= count(own_set) {
        return None;
    }
    let vol_zones = names(vol_set);
    let (here, _) = ctx.place(id);
    let current_zone = here.zone.map(str::to_owned);
    let region = here.region;
    // Candidate zones: those its own constraints allow, in its region.
    let in_region: Vec<bool> = own_set
        .iter()
        .zip(&ctx.zone_regions)
        .map(|(own, rs)| *own && (region.is_none() || rs.iter().any(|r| r.as_deref() == region)))
        .collect();
    let candidates = names(&in_region);

    let flows = pod_flows(ctx.g, id, members);
    let (current, unpriced, peers) = cost_in(ctx, &here, &flows, true);
    let mut best: Option<(String, Option<Money>)> = current_zone.clone().map(|z| (z, current));
    for z in &candidates {
        if Some(z) == current_zone.as_ref() {
            continue;
        }
        let place = Place {
            node: None,
            zone: Some(z),
            region,
        };
        let (cost, _, _) = cost_in(ctx, &place, &flows, false);
        if let (Some(c), Some((_, Some(b)))) = (cost, &best) {
            // Strictly cheaper only: ties keep the pod where it is.
            if c.usd() < b.usd() - 1e-9 {
                best = Some((z.clone(), Some(c)));
            }
        }
    }
    // With no price there is no best zone to name.
    let best = best.filter(|(_, c)| c.is_some());
    let best_cost = best.as_ref().and_then(|(_, c)| *c);
    let gravity = match (current, best_cost) {
        (Some(c), Some(b)) => Some(c - b),
        _ => None,
    };
    Some((
        PodGravity {
            name: pod.name.clone(),
            zone: current_zone,
            best_zone: best.map(|(z, _)| z),
            volume_zones: vol_zones.into_iter().collect(),
            candidate_zones: candidates,
            gravity_monthly_usd: gravity,
            current_monthly_usd: current,
            best_monthly_usd: best_cost,
            top_peers: peers,
        },
        unpriced,
    ))
}

fn zone_region(g: &dyn GraphStore, zone: &str) -> Option<String> {
    g.out_edges(&NodeId::Zone(zone.to_owned()), EdgeKind::InRegion)
        .first()
        .map(|(r, _)| r.label())
}

/// One flow with the pod at one end: the peer, bytes each way.
struct PodFlow<'a> {
    peer: &'a NodeId,
    sent: u64,
    received: u64,
}

fn pod_flows<'a>(g: &'a dyn GraphStore, id: &NodeId, members: &Members) -> Vec<PodFlow<'a>> {
    // A pod has few peers: a linear search beats a map, and keeps the edges' order.
    let mut flows: Vec<PodFlow<'a>> = Vec::new();
    let mut add = |peer: &'a NodeId, sent: u64, received: u64| {
        if members.contains(peer) {
            return;
        }
        match flows.iter_mut().find(|f| std::ptr::eq(f.peer, peer)) {
            Some(f) => {
                f.sent = f.sent.saturating_add(sent);
                f.received = f.received.saturating_add(received);
            }
            None => flows.push(PodFlow {
                peer,
                sent,
                received,
            }),
        }
    };
    for (peer, e) in g.out_edges(id, EdgeKind::Sends) {
        if let Edge::Sends { bytes, .. } = e {
            add(peer, *bytes, 0);
        }
    }
    for (peer, e) in g.in_edges(id, EdgeKind::Sends) {
        if let Edge::Sends { bytes, .. } = e {
            add(peer, 0, *bytes);
        }
    }
    flows
}

/// Whether the cloud bills this end (an internet address is not ours to bill).
fn billed(g: &dyn GraphStore, id: &NodeId) -> bool {
    !matches!(
        g.node(id),
        Some(NodeData::External(ExternalPlace {
            class: Some(NetworkClass::Internet),
            ..
        }))
    )
}

/// Charge for bytes in one direction: sender's egress (when billed) + receiver's
/// ingress (when billed), per GiB.
fn charge(
    ctx: &Ctx<'_>,
    class: DestinationClass,
    bytes: u64,
    sender_billed: bool,
    receiver_billed: bool,
) -> Option<Money> {
    let p = ctx.transfer?.get(class)?;
    let per = (if sender_billed {
        p.egress_per_gi_b
    } else {
        0.0
    }) + (if receiver_billed {
        p.ingress_per_gi_b
    } else {
        0.0
    });
    Some(Money(per * bytes as f64 / GIB))
}

/// Monthly transfer cost of the pod's flows with the pod at `place`; also the bytes
/// left unpriced and (when `with_peers`) the peers behind the number.
fn cost_in<'a>(
    ctx: &Ctx<'a>,
    place: &Place<'_>,
    flows: &[PodFlow<'a>],
    with_peers: bool,
) -> (Option<Money>, u64, Vec<Peer>) {
    let Some(factor) = ctx.factor else {
        return (None, 0, peers_without_prices(ctx, place, flows, with_peers));
    };
    let mut total = Money::ZERO;
    let mut unpriced = 0u64;
    let mut peers = Vec::new();
    for f in flows {
        let peer_place = ctx.place(f.peer);
        let class = class_between((*place, None), peer_place);
        let peer_billed = billed(ctx.g, f.peer);
        let out = charge(ctx, class, f.sent, true, peer_billed);
        let inb = charge(ctx, class, f.received, peer_billed, true);
        let monthly = match (out, inb) {
            (Some(a), Some(b)) => Some((a + b) * factor),
            _ => {
                unpriced += f.sent + f.received;
                None
            }
        };
        if let Some(m) = monthly {
            total += m;
        }
        if with_peers {
            peers.push(peer(f, &peer_place.0, class, monthly));
        }
    }
    sort_peers(&mut peers);
    (Some(total), unpriced, peers)
}

fn peers_without_prices<'a>(
    ctx: &Ctx<'a>,
    place: &Place<'_>,
    flows: &[PodFlow<'a>],
    with_peers: bool,
) -> Vec<Peer> {
    if !with_peers {
        return Vec::new();
    }
    let mut peers: Vec<Peer> = flows
        .iter()
        .map(|f| {
            let pp = ctx.place(f.peer);
            peer(f, &pp.0, class_between((*place, None), pp), None)
        })
        .collect();
    sort_peers(&mut peers);
    peers
}

fn peer(
    f: &PodFlow<'_>,
    place: &Place<'_>,
    class: DestinationClass,
    monthly: Option<Money>,
) -> Peer {
    Peer {
        peer: f.peer.label(),
        kind: match f.peer {
            NodeId::Pod(_) => "pod",
            NodeId::Node(_) => "node",
            _ => "external",
        }
        .into(),
        zone: place.zone.map(str::to_owned),
        class: class.as_str().into(),
        bytes_sent: f.sent,
        bytes_received: f.received,
        monthly_usd: monthly,
    }
}

const TOP_PEERS: usize = 3;

fn sort_peers(peers: &mut Vec<Peer>) {
    peers.sort_by(|a, b| {
        let m = |p: &Peer| p.monthly_usd.map_or(-1.0, Money::usd);
        m(b).total_cmp(&m(a))
            .then_with(|| (b.bytes_sent + b.bytes_received).cmp(&(a.bytes_sent + a.bytes_received)))
            .then_with(|| a.peer.cmp(&b.peer))
    });
    peers.truncate(TOP_PEERS);
}

/// Cost of traffic between pods of one workload, where they are now; each flow once.
fn replication_cost<'a>(
    ctx: &Ctx<'a>,
    pods: &[(&'a NodeId, &'a Pod)],
    members: &Members,
) -> (Option<Money>, u64) {
    let factor = match ctx.factor {
        Some(f) => f,
        None => return (None, 0),
    };
    let mut total = Money::ZERO;
    let mut unpriced: u64 = 0;
    for (m, _) in pods {
        for (peer, e) in ctx.g.out_edges(m, EdgeKind::Sends) {
            let Edge::Sends { bytes, .. } = e else {
                continue;
            };
            if !members.contains(peer) {
                continue;
            }
            let class = class_between(ctx.place(m), ctx.place(peer));
            match charge(ctx, class, *bytes, true, true) {
                Some(c) => total += c * factor,
                None => unpriced = unpriced.saturating_add(*bytes),
            }
        }
    }
    (Some(total), unpriced)
}

#[cfg(test)]
mod tests;
