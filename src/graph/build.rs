//! Snapshot + flows -> SIG.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{ClassRequest, ClusterSnapshot, ObjectRef};
use crate::topology::{self, Provider, VolumeZones};
use crate::traffic::attribute::{Endpoint, Resolution, Resolver};
use crate::traffic::{
    DestinationClass, FlowEnd, FlowSet, NetworkClass, NetworkMap, Place, classify_between,
};

use super::{Edge, EmbeddedStore, ExternalPlace, GraphStore, NodeData, NodeId};

#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// `--provider`: overrides what node labels and providerIDs say.
    pub provider: Option<Provider>,
    /// `--region`: overrides what node labels say.
    pub region: Option<String>,
    pub network: NetworkMap,
}

/// Builds the SIG in the embedded store.
pub fn build(snapshot: &ClusterSnapshot, flows: &FlowSet, opts: &BuildOptions) -> EmbeddedStore {
    // Each pod brings itself and at most a workload; each flow at most an external end.
    let nodes = snapshot.nodes.len()
        + snapshot.classes.len()
        + snapshot.volumes.len()
        + snapshot.claims.len()
        + 2 * snapshot.pods.len()
        + flows.flows.len();
    let edges = 2 * snapshot.nodes.len()
        + 2 * snapshot.volumes.len()
        + 2 * snapshot.claims.len()
        + 3 * snapshot.pods.len()
        + 2 * flows.flows.len();
    let mut g = EmbeddedStore::with_capacity(nodes, edges);
    fill(&mut g, snapshot, flows, opts);
    g
}

/// Fills any store (the Neo4j store reuses this).
pub fn fill(
    g: &mut dyn GraphStore,
    snapshot: &ClusterSnapshot,
    flows: &FlowSet,
    opts: &BuildOptions,
) {
    let provider = opts
        .provider
        .or_else(|| topology::cluster_provider(snapshot));
    let mut notes = snapshot.notes.clone();

    // Nodes, zones, regions.
    let mut regions: BTreeMap<String, usize> = BTreeMap::new();
    for n in &snapshot.nodes {
        let id = NodeId::Node(n.name.clone());
        g.upsert_node(id.clone(), NodeData::Node(Box::new(n.clone())));
        if let Some(zone) = topology::zone_of(&n.labels) {
            let region = topology::region_of(&n.labels, provider);
            add_zone(g, &zone, region.as_deref());
            g.add_edge(&id, &NodeId::Zone(zone), Edge::InZone);
            if let Some(r) = region {
                *regions.entry(r).or_default() += 1;
            }
        }
    }
    let region = opts.region.clone().or_else(|| {
        regions
            .iter()
            .max_by_key(|(_, c)| **c)
            .map(|(r, _)| r.clone())
    });
    if regions.len() > 1 && opts.region.is_none() {
        notes.push(format!(
            "nodes span {} regions; storage is priced at {} list prices (use --region to choose)",
            regions.len(),
            region.as_deref().unwrap_or("base")
        ));
    }

    // Classes; the default one serves claims that name none.
    let defaults: Vec<&str> = snapshot
        .classes
        .iter()
        .filter(|c| c.is_default)
        .map(|c| c.name.as_str())
        .collect();
    if defaults.len() > 1 {
        notes.push(format!("several default StorageClasses ({}); the newest wins in Kubernetes, here the first by name", defaults.join(", ")));
    }
    for c in &snapshot.classes {
        g.upsert_node(
            NodeId::Class(c.name.clone()),
            NodeData::Class(Box::new(c.clone())),
        );
    }

    // Volumes and their zones.
    for v in &snapshot.volumes {
        let id = NodeId::Volume(v.name.clone());
        g.upsert_node(id.clone(), NodeData::Volume(Box::new(v.clone())));
        if let VolumeZones::Zones { zones } = topology::volume_zones(v, &snapshot.nodes) {
            for z in zones {
                let region =
                    topology::region_from_zone(&z, provider).or_else(|| zone_region(g, &z));
                add_zone(g, &z, region.as_deref());
                g.add_edge(&id, &NodeId::Zone(z), Edge::InZone);
            }
        }
        if let Some(c) = &v.storage_class {
            g.add_edge(&id, &NodeId::Class(c.clone()), Edge::OfClass);
        }
    }

    // Claims, bound to their volumes.
    let bound_by_ref: BTreeMap<(&str, &str), &str> = snapshot
        .volumes
        .iter()
        .filter(|v| v.phase == "Bound")
        .filter_map(|v| {
            v.claim
                .as_ref()
                .map(|c| ((c.namespace.as_str(), c.name.as_str()), v.name.as_str()))
        })
        .collect();
    for c in &snapshot.claims {
        let id = NodeId::Claim(ObjectRef {
            namespace: c.namespace.clone(),
            name: c.name.clone(),
        });
        g.upsert_node(id.clone(), NodeData::Claim(Box::new(c.clone())));
        let volume = c.volume_name.as_deref().or_else(|| {
            bound_by_ref
                .get(&(c.namespace.as_str(), c.name.as_str()))
                .copied()
        });
        if let Some(v) = volume
            && !g.add_edge(&id, &NodeId::Volume(v.to_owned()), Edge::BoundTo)
        {
            notes.push(format!(
                "partial: claim {}/{} is bound to volume {v}, which is not in the input",
                c.namespace, c.name
            ));
        }
        let class = match &c.class {
            ClassRequest::Named(n) => Some(n.clone()),
            ClassRequest::Default => defaults.first().map(|d| (*d).to_owned()),
            ClassRequest::NoClass => None,
        };
        if let Some(class) = class {
            g.add_edge(&id, &NodeId::Class(class), Edge::OfClass);
        }
    }

    // Pods, their nodes, claims and workloads.
    let mut missing_claims = BTreeSet::new();
    let owners = snapshot.owner_index();
    for p in &snapshot.pods {
        let id = NodeId::Pod(p.key());
        g.upsert_node(id.clone(), NodeData::Pod(Box::new(p.clone())));
        if let Some(n) = &p.node_name {
            g.add_edge(&id, &NodeId::Node(n.clone()), Edge::RunsOn);
        }
        for claim in &p.claims {
            let cid = NodeId::Claim(ObjectRef {
                namespace: p.namespace.clone(),
                name: claim.clone(),
            });
            if !g.add_edge(&id, &cid, Edge::Mounts) {
                missing_claims.insert(format!("{}/{}", p.namespace, claim));
            }
        }
        let w = NodeId::Workload(owners.workload_of(p));
        if g.node(&w).is_none() {
            g.upsert_node(w.clone(), NodeData::Workload);
        }
        g.add_edge(&id, &w, Edge::OwnedBy);
    }
    // Peers: placed on their node so traffic to them is classed by zone; nothing else.
    let mut peer_pods = BTreeSet::new();
    for p in &snapshot.peers {
        let id = NodeId::Pod(p.key());
        if g.node(&id).is_some() {
            continue;
        }
        g.upsert_node(id.clone(), NodeData::Pod(Box::new(p.clone())));
        if let Some(n) = &p.node_name {
            g.add_edge(&id, &NodeId::Node(n.clone()), Edge::RunsOn);
        }
        peer_pods.insert(p.key());
    }
    if !missing_claims.is_empty() {
        notes.push(format!(
            "partial: {} claim(s) mounted by pods are not in the input ({}); their cost is not shown",
            missing_claims.len(),
            missing_claims.iter().take(3).cloned().collect::<Vec<_>>().join(", ")
        ));
    }

    add_flows(g, snapshot, flows, &opts.network, &mut notes);
    let meta = g.meta_mut();
    meta.peer_pods = peer_pods;
    meta.provider = provider;
    meta.region = region;
    meta.default_class = defaults.first().map(|d| (*d).to_owned());
    meta.flow_source = Some(flows.source);
    meta.window = flows.window;
    meta.attributes_classes = snapshot
        .attributes_classes
        .iter()
        .map(|a| (a.name.clone(), a.clone()))
        .collect();
    notes.extend(flows.notes.iter().cloned());
    meta.notes = notes;
}

fn zone_region(g: &dyn GraphStore, zone: &str) -> Option<String> {
    g.out_edges(&NodeId::Zone(zone.to_owned()), super::EdgeKind::InRegion)
        .first()
        .and_then(|(r, _)| match r {
            NodeId::Region(r) => Some(r.clone()),
            _ => None,
        })
}

fn add_zone(g: &mut dyn GraphStore, zone: &str, region: Option<&str>) {
    let z = NodeId::Zone(zone.to_owned());
    if g.node(&z).is_none() {
        g.upsert_node(z.clone(), NodeData::Zone);
    }
    if let Some(r) = region {
        let rid = NodeId::Region(r.to_owned());
        if g.node(&rid).is_none() {
            g.upsert_node(rid.clone(), NodeData::Region);
        }
        if g.out_edges(&z, super::EdgeKind::InRegion).is_empty() {
            g.add_edge(&z, &rid, Edge::InRegion);
        }
    }
}

/// Where an endpoint is, for classing a flow.
pub fn place_of<'a>(g: &'a dyn GraphStore, id: &'a NodeId) -> (Place<'a>, Option<NetworkClass>) {
    let node = match id {
        NodeId::Pod(_) => g
            .out_edges(id, super::EdgeKind::RunsOn)
            .into_iter()
            .next()
            .map(|(n, _)| n),
        NodeId::Node(_) => Some(id),
        NodeId::External(_) => {
            if let Some(NodeData::External(e)) = g.node(id) {
                return (
                    Place {
                        node: None,
                        zone: e.zone.as_deref(),
                        region: e.region.as_deref(),
                    },
                    if e.in_map {
                        e.class
                    } else {
                        Some(NetworkClass::Internet)
                    },
                );
            }
            None
        }
        _ => None,
    };
    let Some(node) = node else {
        return (Place::default(), None);
    };
    let zone = g
        .out_edges(node, super::EdgeKind::InZone)
        .into_iter()
        .next()
        .map(|(z, _)| z);
    let region = zone.and_then(|z| {
        g.out_edges(z, super::EdgeKind::InRegion)
            .into_iter()
            .next()
            .map(|(r, _)| r)
    });
    let name = |id: Option<&'a NodeId>| match id {
        Some(NodeId::Node(n) | NodeId::Zone(n) | NodeId::Region(n)) => Some(n.as_str()),
        _ => None,
    };
    (
        Place {
            node: name(Some(node)),
            zone: name(zone),
            region: name(region),
        },
        None,
    )
}

/// The class between two places, honouring a class the network map states.
pub fn class_between(
    a: (Place<'_>, Option<NetworkClass>),
    b: (Place<'_>, Option<NetworkClass>),
) -> DestinationClass {
    let stated = a.1.or(b.1);
    match stated {
        Some(NetworkClass::SameZone) => DestinationClass::SameZone,
        Some(NetworkClass::CrossZone) => DestinationClass::CrossZone,
        Some(NetworkClass::CrossRegion) => DestinationClass::CrossRegion,
        Some(NetworkClass::Internet) => DestinationClass::Internet,
        // A private range with a zone/region is classed by place; without, unknown.
        Some(NetworkClass::Private) | None => classify_between(&a.0, &b.0),
    }
}

fn endpoint_id(
    g: &mut dyn GraphStore,
    e: Endpoint,
    network: &NetworkMap,
    hint: Option<NetworkClass>,
) -> NodeId {
    match e {
        Endpoint::Pod(r) => NodeId::Pod(r),
        Endpoint::Node(n) => NodeId::Node(n),
        Endpoint::Address(ip) => {
            let id = NodeId::External(ip);
            if g.node(&id).is_none() {
                let place = match network.lookup(ip) {
                    Some(entry) => ExternalPlace {
                        zone: entry.zone.clone(),
                        region: entry.region.clone(),
                        class: entry.class,
                        in_map: true,
                    },
                    // Not in the map: what the flow source knew, else internet.
                    None => ExternalPlace {
                        zone: None,
                        region: None,
                        class: Some(hint.unwrap_or(NetworkClass::Internet)),
                        in_map: hint.is_some(),
                    },
                };
                g.upsert_node(id.clone(), NodeData::External(place));
            }
            id
        }
    }
}

fn add_flows(
    g: &mut dyn GraphStore,
    snapshot: &ClusterSnapshot,
    flows: &FlowSet,
    network: &NetworkMap,
    notes: &mut Vec<String>,
) {
    if flows.flows.is_empty() {
        return;
    }
    let resolver = Resolver::new(snapshot);
    let mut shared_nodes: BTreeSet<String> = BTreeSet::new();
    let mut unknown_sources = 0usize;
    let mut strangers = 0usize;
    let mut pending = Vec::with_capacity(flows.flows.len());
    for f in &flows.flows {
        let src_ports: Vec<u16> = f.source_port.into_iter().collect();
        let dst_ports: Vec<u16> = f.remote_port.into_iter().collect();
        let (src, how) = match &f.source {
            FlowEnd::Pod { namespace, name } => (
                Endpoint::Pod(ObjectRef {
                    namespace: namespace.clone(),
                    name: name.clone(),
                }),
                Resolution::Direct,
            ),
            FlowEnd::Node { name } => (Endpoint::Node(name.clone()), Resolution::Direct),
            FlowEnd::Address { ip } => resolver.resolve(*ip, &src_ports),
        };
        let (dst, how_dst) = resolver.resolve(f.remote, &dst_ports);
        if matches!((&src, &dst), (Endpoint::Address(_), Endpoint::Address(_))) {
            strangers += 1;
        }
        for (e, h) in [(&src, how), (&dst, how_dst)] {
            if let (Endpoint::Node(n), Resolution::NodeShared) = (e, h) {
                shared_nodes.insert(n.clone());
            }
        }
        pending.push((src, dst, f.bytes_out, f.bytes_in, f.remote_hint));
    }
    for (src, dst, out, inb, hint) in pending {
        let a = endpoint_id(g, src, network, None);
        let b = endpoint_id(g, dst, network, hint);
        if g.node(&a).is_none() || g.node(&b).is_none() {
            unknown_sources += 1;
            continue;
        }
        let class = class_between(place_of(g, &a), place_of(g, &b));
        if out > 0 {
            g.add_edge(&a, &b, Edge::Sends { bytes: out, class });
        }
        if inb > 0 {
            g.add_edge(&b, &a, Edge::Sends { bytes: inb, class });
        }
    }
    if !shared_nodes.is_empty() {
        notes.push(format!(
            "host-network traffic on node(s) {} went to the node: no declared container port identified a host-network pod",
            shared_nodes.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    if strangers > 0 {
        notes.push(format!(
            "partial: {strangers} of {} flow(s) have neither end in the input (no pod or node has those addresses); they count for no workload: are the flows from this cluster?",
            flows.flows.len()
        ));
    }
    if unknown_sources > 0 {
        notes.push(format!("partial: {unknown_sources} flow(s) name a pod or node that is not in the input; left out"));
    }
}
