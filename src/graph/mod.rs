//! The Storage Intelligence Graph (SIG).
//!
//! Nodes: Pod, Claim and Volume (PVC and PV), Node, Zone, Region, Workload,
//! StorageClass, External endpoint. Edges: MOUNTS (pod -> claim), BOUND_TO (claim ->
//! volume), RUNS_ON (pod -> node), IN_ZONE (node or volume -> zone), IN_REGION (zone ->
//! region), OWNED_BY (pod -> workload), OF_CLASS (claim or volume -> class) and
//! SENDS{bytes, class} (endpoint -> endpoint).
//!
//! Analyses read the graph only through [`GraphStore`], so a Neo4j store can stand in
//! for the embedded one ([`EmbeddedStore`]) without touching them.

mod build;
mod embedded;

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use serde::Serialize;

use crate::model::{
    AttributesClass, Claim, Node, ObjectRef, PersistentVolume, Pod, StorageClass, WorkloadRef,
};
use crate::topology::Provider;
use crate::traffic::{DestinationClass, FlowSource, NetworkClass, Window};

pub use build::{BuildOptions, build, class_between, fill, place_of};
pub use embedded::{EmbeddedStore, FnvMap};

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", content = "id")]
pub enum NodeId {
    Pod(ObjectRef),
    Claim(ObjectRef),
    Volume(String),
    Node(String),
    Zone(String),
    Region(String),
    Workload(WorkloadRef),
    Class(String),
    External(IpAddr),
}

impl NodeId {
    pub fn kind(&self) -> NodeKind {
        match self {
            Self::Pod(_) => NodeKind::Pod,
            Self::Claim(_) => NodeKind::Claim,
            Self::Volume(_) => NodeKind::Volume,
            Self::Node(_) => NodeKind::Node,
            Self::Zone(_) => NodeKind::Zone,
            Self::Region(_) => NodeKind::Region,
            Self::Workload(_) => NodeKind::Workload,
            Self::Class(_) => NodeKind::Class,
            Self::External(_) => NodeKind::External,
        }
    }

    /// A short human name (`ns/pod`, `node/n1`, `10.0.0.5`).
    pub fn label(&self) -> String {
        match self {
            Self::Pod(r) | Self::Claim(r) => r.to_string(),
            Self::Volume(n) | Self::Class(n) | Self::Zone(n) | Self::Region(n) => n.clone(),
            Self::Node(n) => format!("node/{n}"),
            Self::Workload(w) => w.to_string(),
            Self::External(ip) => ip.to_string(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NodeKind {
    Pod,
    Claim,
    Volume,
    Node,
    Zone,
    Region,
    Workload,
    Class,
    External,
}

/// Where an address outside the snapshot is, from the `--network` map.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExternalPlace {
    pub zone: Option<String>,
    pub region: Option<String>,
    /// A class the map states outright; `None` with no zone/region means internet.
    pub class: Option<NetworkClass>,
    pub in_map: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeData {
    Pod(Box<Pod>),
    Claim(Box<Claim>),
    Volume(Box<PersistentVolume>),
    Node(Box<Node>),
    Zone,
    Region,
    Workload,
    Class(Box<StorageClass>),
    External(ExternalPlace),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EdgeKind {
    Mounts,
    BoundTo,
    RunsOn,
    InZone,
    InRegion,
    OwnedBy,
    OfClass,
    Sends,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edge {
    Mounts,
    BoundTo,
    RunsOn,
    InZone,
    InRegion,
    OwnedBy,
    OfClass,
    /// Bytes the source sent to the target over the window, and the class they had.
    Sends {
        bytes: u64,
        class: DestinationClass,
    },
}

impl Edge {
    pub fn kind(&self) -> EdgeKind {
        match self {
            Self::Mounts => EdgeKind::Mounts,
            Self::BoundTo => EdgeKind::BoundTo,
            Self::RunsOn => EdgeKind::RunsOn,
            Self::InZone => EdgeKind::InZone,
            Self::InRegion => EdgeKind::InRegion,
            Self::OwnedBy => EdgeKind::OwnedBy,
            Self::OfClass => EdgeKind::OfClass,
            Self::Sends { .. } => EdgeKind::Sends,
        }
    }
}

impl SigMeta {
    /// Whether `id` is a pod kept only as a traffic peer ([`SigMeta::peer_pods`]).
    pub fn is_peer(&self, id: &NodeId) -> bool {
        matches!(id, NodeId::Pod(r) if self.peer_pods.contains(r))
    }
}

/// Facts about the whole graph that analyses need besides nodes and edges.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SigMeta {
    pub provider: Option<Provider>,
    pub region: Option<String>,
    pub default_class: Option<String>,
    pub flow_source: Option<FlowSource>,
    pub window: Option<Window>,
    #[serde(skip)]
    pub attributes_classes: BTreeMap<String, AttributesClass>,
    /// Pods in the graph only as traffic peers (outside the scope): they have a node,
    /// but no volumes or workload, and no report lists them.
    #[serde(skip)]
    pub peer_pods: BTreeSet<ObjectRef>,
    /// Partial data and other things every report should say.
    pub notes: Vec<String>,
}

/// Read and write access to a SIG. References returned borrow the store; a remote
/// store (Neo4j) loads the subgraph an analysis reads before handing it out.
pub trait GraphStore {
    fn meta(&self) -> &SigMeta;
    fn meta_mut(&mut self) -> &mut SigMeta;
    /// Adds a node, or replaces the data of an existing one.
    fn upsert_node(&mut self, id: NodeId, data: NodeData);
    /// Adds an edge; `false` when an end is missing (nothing is added). SENDS edges
    /// between the same two ends add up their bytes.
    fn add_edge(&mut self, from: &NodeId, to: &NodeId, edge: Edge) -> bool;
    fn node(&self, id: &NodeId) -> Option<&NodeData>;
    fn nodes_of(&self, kind: NodeKind) -> Vec<(&NodeId, &NodeData)>;
    /// Edges of `kind` leaving `id`, with their targets.
    fn out_edges(&self, id: &NodeId, kind: EdgeKind) -> Vec<(&NodeId, &Edge)>;
    /// Edges of `kind` arriving at `id`, with their sources.
    fn in_edges(&self, id: &NodeId, kind: EdgeKind) -> Vec<(&NodeId, &Edge)>;
    fn node_count(&self) -> usize;
    fn edge_count(&self) -> usize;
}
