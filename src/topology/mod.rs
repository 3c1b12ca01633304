//! Zones and regions of nodes and volumes (DESIGN §3, Topology).
//!
//! - Node zone: GA label, else the beta label, else a CSI driver's zone key (aliases).
//! - Volume zones: PV nodeAffinity (terms ORed, expressions ANDed), else PV zone labels
//!   (a regional PD's `a__b` is two zones), else the in-tree source (an EBS volume ID
//!   URL names its zone). A local PV is pinned to its node. File storage is unpinned.
//! - Whether a node fits a selector is evaluated exactly as the scheduler does, with
//!   literal keys: aliases name the same zone but a node must carry each key asked for.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::model::{
    ClusterSnapshot, Labels, Node, NodeSelector, PersistentVolume, Pod, SelectorTerm, VolumeSource,
};

pub const ZONE_KEYS: &[&str] = &[
    "topology.kubernetes.io/zone",
    "failure-domain.beta.kubernetes.io/zone",
    "topology.ebs.csi.aws.com/zone",
    "topology.gke.io/zone",
    "topology.disk.csi.azure.com/zone",
];
pub const REGION_KEYS: &[&str] = &[
    "topology.kubernetes.io/region",
    "failure-domain.beta.kubernetes.io/region",
];
const HOSTNAME_KEY: &str = "kubernetes.io/hostname";

/// Cloud provider, as pricing needs it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Aws,
    Gcp,
    Azure,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Aws => "aws",
            Self::Gcp => "gcp",
            Self::Azure => "azure",
        }
    }
}

impl std::str::FromStr for Provider {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "aws" => Ok(Self::Aws),
            "gcp" | "gce" | "gke" => Ok(Self::Gcp),
            "azure" | "aks" => Ok(Self::Azure),
            _ => Err(format!(
                "unknown provider {s:?}: expected aws, gcp or azure"
            )),
        }
    }
}

/// The zone of a node from its labels; `None` is "unknown", never guessed.
pub fn zone_of(labels: &Labels) -> Option<String> {
    ZONE_KEYS
        .iter()
        .find_map(|k| labels.get(*k))
        .filter(|z| !z.is_empty())
        .cloned()
}

/// The region from labels, else derived from a zone name whose provider format is
/// known (`us-east-1a` -> `us-east-1`, `us-central1-a` -> `us-central1`,
/// `eastus2-1` -> `eastus2`).
pub fn region_of(labels: &Labels, provider: Option<Provider>) -> Option<String> {
    REGION_KEYS
        .iter()
        .find_map(|k| labels.get(*k))
        .filter(|r| !r.is_empty())
        .cloned()
        .or_else(|| region_from_zone(&zone_of(labels)?, provider))
}

pub fn region_from_zone(zone: &str, provider: Option<Provider>) -> Option<String> {
    match provider? {
        Provider::Aws => {
            let r = zone.trim_end_matches(|c: char| c.is_ascii_lowercase());
            (r.len() < zone.len() && r.ends_with(|c: char| c.is_ascii_digit()))
                .then(|| r.to_owned())
        }
        Provider::Gcp | Provider::Azure => {
            let (r, suffix) = zone.rsplit_once('-')?;
            (suffix.len() <= 2).then(|| r.to_owned())
        }
    }
}

/// Provider of a node from `spec.providerID`, else from provider-specific labels.
pub fn provider_of(node: &Node) -> Option<Provider> {
    if let Some(id) = &node.provider_id {
        if id.starts_with("aws://") {
            return Some(Provider::Aws);
        }
        if id.starts_with("gce://") {
            return Some(Provider::Gcp);
        }
        if id.starts_with("azure://") {
            return Some(Provider::Azure);
        }
    }
    let has = |prefix: &str| node.labels.keys().any(|k| k.starts_with(prefix));
    if has("eks.amazonaws.com/")
        || has("topology.ebs.csi.aws.com/")
        || has("k8s.io/cloud-provider-aws")
    {
        Some(Provider::Aws)
    } else if has("cloud.google.com/") || has("topology.gke.io/") {
        Some(Provider::Gcp)
    } else if has("kubernetes.azure.com/") || has("topology.disk.csi.azure.com/") {
        Some(Provider::Azure)
    } else {
        None
    }
}

/// The cluster's provider: the one most nodes agree on.
pub fn cluster_provider(snapshot: &ClusterSnapshot) -> Option<Provider> {
    let mut counts = std::collections::BTreeMap::new();
    for n in &snapshot.nodes {
        if let Some(p) = provider_of(n) {
            *counts.entry(p).or_insert(0usize) += 1;
        }
    }
    counts.into_iter().max_by_key(|(_, c)| *c).map(|(p, _)| p)
}

/// Whether a node's labels (and name, for `matchFields`) satisfy a selector.
pub fn node_fits(selector: &NodeSelector, node: &Node) -> bool {
    // An empty list of terms matches nothing, as in the scheduler.
    selector.iter().any(|t| term_fits(t, node))
}

fn term_fits(term: &SelectorTerm, node: &Node) -> bool {
    if term.match_expressions.is_empty() && term.match_fields.is_empty() {
        return false;
    }
    term.match_expressions.iter().all(|r| {
        let v = node.labels.get(&r.key);
        match r.operator.as_str() {
            "In" => v.is_some_and(|v| r.values.contains(v)),
            "NotIn" => v.is_none_or(|v| !r.values.contains(v)),
            "Exists" => v.is_some(),
            "DoesNotExist" => v.is_none(),
            "Gt" | "Lt" => {
                let (Some(v), Some(bound)) = (
                    v.and_then(|v| v.parse::<i64>().ok()),
                    r.values.first().and_then(|b| b.parse::<i64>().ok()),
                ) else {
                    return false;
                };
                if r.operator == "Gt" {
                    v > bound
                } else {
                    v < bound
                }
            }
            _ => false,
        }
    }) && term.match_fields.iter().all(|r| {
        r.key == "metadata.name"
            && match r.operator.as_str() {
                "In" => r.values.contains(&node.name),
                "NotIn" => !r.values.contains(&node.name),
                _ => false,
            }
    })
}

/// Where a volume lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum VolumeZones {
    /// Held in these zones (one for zonal disks, two for regional PDs).
    Zones { zones: BTreeSet<String> },
    /// Not tied to a zone (file storage, or a selector that says nothing of zones).
    Unpinned,
    /// Pinned, but to a place whose zone is not known (a node without zone labels).
    Unknown,
}

impl VolumeZones {
    pub fn zones(&self) -> Option<&BTreeSet<String>> {
        match self {
            Self::Zones { zones } => Some(zones),
            _ => None,
        }
    }

    pub fn label(&self) -> String {
        match self {
            Self::Zones { zones } => zones.iter().cloned().collect::<Vec<_>>().join(","),
            Self::Unpinned => "any".into(),
            Self::Unknown => "unknown".into(),
        }
    }
}

fn is_file_storage(pv: &PersistentVolume) -> bool {
    match &pv.source {
        VolumeSource::Nfs | VolumeSource::AzureFile => true,
        VolumeSource::Csi { driver, .. } => matches!(
            driver.as_str(),
            "efs.csi.aws.com"
                | "filestore.csi.storage.gke.io"
                | "file.csi.azure.com"
                | "nfs.csi.k8s.io"
        ),
        _ => false,
    }
}

/// Zones of a PV. `nodes` resolves hostname-pinned (local) volumes to their node's zone.
pub fn volume_zones(pv: &PersistentVolume, nodes: &[Node]) -> VolumeZones {
    if let Some(sel) = &pv.node_affinity {
        return zones_of_selector(sel, nodes);
    }
    let from_labels: BTreeSet<String> = ZONE_KEYS
        .iter()
        .filter_map(|k| pv.labels.get(*k))
        .flat_map(|z| z.split("__"))
        .filter(|z| !z.is_empty())
        .map(str::to_owned)
        .collect();
    if !from_labels.is_empty() {
        return VolumeZones::Zones { zones: from_labels };
    }
    if let VolumeSource::AwsEbs { volume_id } = &pv.source {
        // `aws://us-east-1a/vol-…` names the zone.
        if let Some(zone) = volume_id
            .strip_prefix("aws://")
            .and_then(|r| r.split('/').next())
            .filter(|z| !z.is_empty())
        {
            return VolumeZones::Zones {
                zones: BTreeSet::from([zone.to_owned()]),
            };
        }
    }
    if is_file_storage(pv) {
        return VolumeZones::Unpinned;
    }
    match pv.source {
        // A block disk with no zone anywhere: we cannot say where it is.
        VolumeSource::Local { .. } | VolumeSource::HostPath { .. } => VolumeZones::Unknown,
        _ => VolumeZones::Unknown,
    }
}

/// Zones a node selector allows: per term, the intersection of the zones its
/// expressions name (or of the zones of the nodes it names by hostname); the union
/// over terms. A term that says nothing about zones allows any zone.
pub fn zones_of_selector(sel: &NodeSelector, nodes: &[Node]) -> VolumeZones {
    let mut union = BTreeSet::new();
    let mut unknown = false;
    for term in sel {
        let mut zones: Option<BTreeSet<String>> = None;
        let mut constrained = false;
        for r in &term.match_expressions {
            let set: BTreeSet<String> = if ZONE_KEYS.contains(&r.key.as_str()) && r.operator == "In"
            {
                r.values
                    .iter()
                    .flat_map(|v| v.split("__"))
                    .map(str::to_owned)
                    .collect()
            } else if r.key == HOSTNAME_KEY && r.operator == "In" {
                let mut s = BTreeSet::new();
                for host in &r.values {
                    let node = nodes
                        .iter()
                        .find(|n| n.labels.get(HOSTNAME_KEY) == Some(host) || &n.name == host);
                    match node.and_then(|n| zone_of(&n.labels)) {
                        Some(z) => {
                            s.insert(z);
                        }
                        None => unknown = true,
                    }
                }
                s
            } else {
                continue;
            };
            constrained = true;
            zones = Some(match zones {
                None => set,
                Some(z) => z.intersection(&set).cloned().collect(),
            });
        }
        if !constrained {
            return VolumeZones::Unpinned;
        }
        union.extend(zones.unwrap_or_default());
    }
    if union.is_empty() {
        if unknown || !sel.is_empty() {
            return VolumeZones::Unknown;
        }
        return VolumeZones::Unpinned;
    }
    VolumeZones::Zones { zones: union }
}

/// Nodes a pod may run on by its own constraints (nodeSelector and required node
/// affinity), ignoring its volumes.
pub fn nodes_for_pod<'a>(pod: &Pod, nodes: &'a [Node]) -> Vec<&'a Node> {
    nodes
        .iter()
        .filter(|n| {
            pod.node_selector
                .iter()
                .all(|(k, v)| n.labels.get(k) == Some(v))
        })
        .filter(|n| {
            pod.required_affinity
                .as_ref()
                .is_none_or(|sel| node_fits(sel, n))
        })
        .collect()
}

#[cfg(test)]
mod tests;

/// Whether a node can hold a pod that mounts `pv`: the PV's nodeAffinity exactly as
/// the scheduler evaluates it, else (legacy volumes) the node's zone among the PV's
/// zone labels.
pub fn volume_allows_node(pv: &PersistentVolume, node: &Node, nodes: &[Node]) -> bool {
    if let Some(sel) = &pv.node_affinity {
        return node_fits(sel, node);
    }
    match volume_zones(pv, nodes) {
        VolumeZones::Zones { zones } => zone_of(&node.labels).is_some_and(|z| zones.contains(&z)),
        _ => true,
    }
}
