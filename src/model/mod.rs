//! Domain types: the cluster as CloudVault sees it ([`ClusterSnapshot`]), plus
//! quantities, money and label selectors.
//!
//! The snapshot keeps only what the rules of DESIGN §3 read, already flattened out of
//! the Kubernetes objects, so every analysis sees the same thing whichever reader
//! (live or dump) produced it.

pub mod money;
pub mod quantity;
pub mod selector;

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::Serialize;

pub use money::{HOURS_PER_MONTH, Money};
pub use quantity::{GIB, MIB, QuantityError, format_bytes, parse_bytes, parse_quantity};
pub use selector::{LabelSelector, SelectorError};

pub type Labels = BTreeMap<String, String>;

/// A namespaced object's identity.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ObjectRef {
    pub namespace: String,
    pub name: String,
}

impl std::fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// One requirement of a node selector term (`matchExpressions` / `matchFields`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Requirement {
    pub key: String,
    pub operator: String,
    pub values: Vec<String>,
}

/// A node selector term: its requirements are ANDed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize)]
pub struct SelectorTerm {
    pub match_expressions: Vec<Requirement>,
    pub match_fields: Vec<Requirement>,
}

/// Required node affinity: terms are ORed. `None` at the use site means "no constraint".
pub type NodeSelector = Vec<SelectorTerm>;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Node {
    pub name: String,
    pub labels: Labels,
    pub provider_id: Option<String>,
    pub addresses: Vec<IpAddr>,
}

/// A reference to an owner (`metadata.ownerReferences` with `controller: true`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct OwnerRef {
    pub kind: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pod {
    pub namespace: String,
    pub name: String,
    pub labels: Labels,
    pub node_name: Option<String>,
    pub phase: String,
    pub pod_ips: Vec<IpAddr>,
    pub host_network: bool,
    /// Claim names this pod mounts (including generic ephemeral volumes' claims).
    pub claims: Vec<String>,
    pub owner: Option<OwnerRef>,
    pub node_selector: Labels,
    pub required_affinity: Option<NodeSelector>,
    /// Declared container ports (`containerPort`, and `hostPort` when set).
    pub ports: Vec<u16>,
}

impl Pod {
    pub fn key(&self) -> ObjectRef {
        ObjectRef {
            namespace: self.namespace.clone(),
            name: self.name.clone(),
        }
    }

    /// Running pods (and pods bound to a node that have not finished) hold their volumes.
    pub fn is_active(&self) -> bool {
        !matches!(self.phase.as_str(), "Succeeded" | "Failed")
    }
}

/// What a PVC says about its class: absent means the cluster default; `""` means none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind", content = "name")]
pub enum ClassRequest {
    Default,
    NoClass,
    Named(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Claim {
    pub namespace: String,
    pub name: String,
    pub labels: Labels,
    pub class: ClassRequest,
    pub volume_name: Option<String>,
    pub phase: String,
    pub request_bytes: Option<u64>,
    pub capacity_bytes: Option<u64>,
    pub attributes_class: Option<String>,
    pub access_modes: Vec<String>,
}

/// Where a PV's data lives, as far as pricing and topology care.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "type")]
pub enum VolumeSource {
    Csi {
        driver: String,
        handle: String,
        attributes: BTreeMap<String, String>,
    },
    AwsEbs {
        volume_id: String,
    },
    GcePd {
        pd_name: String,
    },
    AzureDisk {
        kind: Option<String>,
        caching: Option<String>,
    },
    AzureFile,
    Nfs,
    Local {
        path: String,
    },
    HostPath {
        path: String,
    },
    Other {
        name: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PersistentVolume {
    pub name: String,
    pub labels: Labels,
    pub annotations: Labels,
    pub capacity_bytes: Option<u64>,
    pub storage_class: Option<String>,
    pub claim: Option<ObjectRef>,
    pub phase: String,
    pub node_affinity: Option<NodeSelector>,
    pub source: VolumeSource,
    pub access_modes: Vec<String>,
    pub attributes_class: Option<String>,
    pub terminating: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StorageClass {
    pub name: String,
    pub provisioner: String,
    pub parameters: BTreeMap<String, String>,
    pub is_default: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttributesClass {
    pub name: String,
    pub driver: String,
    pub parameters: BTreeMap<String, String>,
}

/// A controller object (ReplicaSet, Deployment, StatefulSet, DaemonSet, Job, CronJob).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Controller {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub owner: Option<OwnerRef>,
}

/// A workload: the top of a pod's owner chain, or the pod itself when it has none.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct WorkloadRef {
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl std::fmt::Display for WorkloadRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.namespace, self.kind, self.name)
    }
}

/// Everything the analyses read, from one reader, after filtering.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ClusterSnapshot {
    pub nodes: Vec<Node>,
    pub pods: Vec<Pod>,
    /// Pods outside the scope (`-n`, `-l`): never reported, kept so that traffic to
    /// them still resolves to a pod and its zone instead of an unknown address.
    pub peers: Vec<Pod>,
    pub claims: Vec<Claim>,
    pub volumes: Vec<PersistentVolume>,
    pub classes: Vec<StorageClass>,
    pub attributes_classes: Vec<AttributesClass>,
    pub controllers: Vec<Controller>,
    /// Partial data: what could not be read and why, shown in every report.
    pub notes: Vec<String>,
}

impl ClusterSnapshot {
    /// Sorts every list by identity so two readers of the same cluster compare equal.
    pub fn normalize(&mut self) {
        self.nodes.sort_by(|a, b| a.name.cmp(&b.name));
        for pods in [&mut self.pods, &mut self.peers] {
            pods.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        }
        self.claims
            .sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        self.volumes.sort_by(|a, b| a.name.cmp(&b.name));
        self.classes.sort_by(|a, b| a.name.cmp(&b.name));
        self.attributes_classes.sort_by(|a, b| a.name.cmp(&b.name));
        self.controllers.sort_by(|a, b| {
            (&a.namespace, &a.kind, &a.name).cmp(&(&b.namespace, &b.kind, &b.name))
        });
        // Overlapping inputs (a file and the directory holding it) name an object twice;
        // the sorts are stable, so the first one read stays.
        self.nodes.dedup_by(|a, b| a.name == b.name);
        for pods in [&mut self.pods, &mut self.peers] {
            pods.dedup_by(|a, b| (&a.namespace, &a.name) == (&b.namespace, &b.name));
        }
        self.claims
            .dedup_by(|a, b| (&a.namespace, &a.name) == (&b.namespace, &b.name));
        self.volumes.dedup_by(|a, b| a.name == b.name);
        self.classes.dedup_by(|a, b| a.name == b.name);
        self.attributes_classes.dedup_by(|a, b| a.name == b.name);
        self.controllers
            .dedup_by(|a, b| (&a.namespace, &a.kind, &a.name) == (&b.namespace, &b.kind, &b.name));
    }

    /// The owner chain's top for a pod: ReplicaSet -> Deployment, Job -> CronJob.
    pub fn workload_of(&self, pod: &Pod) -> WorkloadRef {
        self.owner_index().workload_of(pod)
    }

    /// An index of controllers for resolving many pods' workloads.
    pub fn owner_index(&self) -> OwnerIndex<'_> {
        OwnerIndex {
            parents: self
                .controllers
                .iter()
                .map(|c| {
                    (
                        (c.namespace.as_str(), c.kind.as_str(), c.name.as_str()),
                        c.owner.as_ref(),
                    )
                })
                .collect(),
        }
    }
}

/// Controllers by (namespace, kind, name) -> their own owner.
#[derive(Debug)]
pub struct OwnerIndex<'a> {
    parents: std::collections::HashMap<(&'a str, &'a str, &'a str), Option<&'a OwnerRef>>,
}

impl OwnerIndex<'_> {
    /// The owner chain's top for a pod: ReplicaSet -> Deployment, Job -> CronJob; the
    /// pod itself when it has no owner.
    pub fn workload_of(&self, pod: &Pod) -> WorkloadRef {
        let Some(mut current) = pod.owner.as_ref() else {
            return WorkloadRef {
                kind: "Pod".into(),
                namespace: pod.namespace.clone(),
                name: pod.name.clone(),
            };
        };
        // Owner chains are short; the bound guards against a cycle in bad input.
        for _ in 0..8 {
            match self.parents.get(&(
                pod.namespace.as_str(),
                current.kind.as_str(),
                current.name.as_str(),
            )) {
                Some(Some(parent)) => current = parent,
                _ => break,
            }
        }
        WorkloadRef {
            kind: current.kind.clone(),
            namespace: pod.namespace.clone(),
            name: current.name.clone(),
        }
    }
}
