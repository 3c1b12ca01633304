//! Kubernetes readers: live (kube-runtime watchers/reflectors) and offline (dumps of
//! `kubectl get -o yaml|json`). Both fill the same [`RawObjects`], and
//! [`RawObjects::into_snapshot`] turns them into one [`ClusterSnapshot`] after applying
//! the same [`Scope`], so a live read and a dump of the same cluster compare equal.

pub mod agents;
mod convert;
pub mod file;
pub mod live;

use std::collections::BTreeSet;

use k8s_openapi::api::apps::v1 as apps;
use k8s_openapi::api::batch::v1 as batch;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::api::storage::v1 as storage;

use crate::model::{ClusterSnapshot, LabelSelector};

pub use file::{FileError, read_paths};
pub use live::{LiveError, read_live};

/// The objects a reader found, before scoping.
#[derive(Debug, Clone, Default)]
pub struct RawObjects {
    pub nodes: Vec<core::Node>,
    pub pods: Vec<core::Pod>,
    pub claims: Vec<core::PersistentVolumeClaim>,
    pub volumes: Vec<core::PersistentVolume>,
    pub classes: Vec<storage::StorageClass>,
    pub attributes_classes: Vec<storage::VolumeAttributesClass>,
    pub replica_sets: Vec<apps::ReplicaSet>,
    pub deployments: Vec<apps::Deployment>,
    pub stateful_sets: Vec<apps::StatefulSet>,
    pub daemon_sets: Vec<apps::DaemonSet>,
    pub jobs: Vec<batch::Job>,
    pub cron_jobs: Vec<batch::CronJob>,
    /// Partial data (kinds that could not be listed, and why).
    pub notes: Vec<String>,
}

impl RawObjects {
    pub fn extend(&mut self, other: RawObjects) {
        self.nodes.extend(other.nodes);
        self.pods.extend(other.pods);
        self.claims.extend(other.claims);
        self.volumes.extend(other.volumes);
        self.classes.extend(other.classes);
        self.attributes_classes.extend(other.attributes_classes);
        self.replica_sets.extend(other.replica_sets);
        self.deployments.extend(other.deployments);
        self.stateful_sets.extend(other.stateful_sets);
        self.daemon_sets.extend(other.daemon_sets);
        self.jobs.extend(other.jobs);
        self.cron_jobs.extend(other.cron_jobs);
        self.notes.extend(other.notes);
    }

    /// Flattens, scopes and sorts. Cluster-scoped objects (nodes, classes) are always
    /// kept because topology and pricing need them; PVs are kept when their claim is in
    /// scope (or, with no filter at all, always); pods out of scope become peers.
    pub fn into_snapshot(self, scope: &Scope) -> ClusterSnapshot {
        let in_ns = |ns: &str| scope.namespace.as_deref().is_none_or(|n| n == ns);
        let (pods, peers): (Vec<_>, Vec<_>) = self
            .pods
            .iter()
            .map(convert::pod)
            .partition(|p| in_ns(&p.namespace) && scope.selector.matches(&p.labels));
        // Without peers asked for, a dump gives what a live read gives.
        let peers = if scope.read_peers { peers } else { Vec::new() };
        // A claim is in scope by its own labels or by a pod in scope that mounts it: `-l
        // app=cache` means the cache pods and their volumes, whatever the claims' labels.
        let mounted: BTreeSet<(&str, &str)> = pods
            .iter()
            .flat_map(|p| p.claims.iter().map(|c| (p.namespace.as_str(), c.as_str())))
            .collect();
        let claims: Vec<_> = self
            .claims
            .iter()
            .map(convert::claim)
            .filter(|c| {
                in_ns(&c.namespace)
                    && (scope.selector.matches(&c.labels)
                        || mounted.contains(&(c.namespace.as_str(), c.name.as_str())))
            })
            .collect();
        let kept_claims: BTreeSet<(&str, &str)> = claims
            .iter()
            .map(|c| (c.namespace.as_str(), c.name.as_str()))
            .collect();
        let volumes: Vec<_> = self
            .volumes
            .iter()
            .map(convert::volume)
            .filter(|v| {
                if scope.is_everything() {
                    return true;
                }
                match &v.claim {
                    // A Released PV's claim is gone: keep it by namespace alone when no
                    // label selector could have said otherwise.
                    Some(c) => {
                        kept_claims.contains(&(c.namespace.as_str(), c.name.as_str()))
                            || (v.phase == "Released"
                                && scope.selector.is_empty()
                                && in_ns(&c.namespace))
                    }
                    None => false,
                }
            })
            .collect();
        let mut controllers = Vec::new();
        controllers.extend(self.replica_sets.iter().map(convert::replica_set));
        controllers.extend(self.deployments.iter().map(convert::deployment));
        controllers.extend(self.stateful_sets.iter().map(convert::stateful_set));
        controllers.extend(self.daemon_sets.iter().map(convert::daemon_set));
        controllers.extend(self.jobs.iter().map(convert::job));
        controllers.extend(self.cron_jobs.iter().map(convert::cron_job));
        controllers.retain(|c| in_ns(&c.namespace));
        let mut snapshot = ClusterSnapshot {
            nodes: self.nodes.iter().map(convert::node).collect(),
            pods,
            peers,
            claims,
            volumes,
            classes: self.classes.iter().map(convert::class).collect(),
            attributes_classes: self
                .attributes_classes
                .iter()
                .map(convert::attributes_class)
                .collect(),
            controllers,
            notes: self.notes,
        };
        snapshot.normalize();
        snapshot
    }
}

/// Which namespaced objects a command looks at (`-n`, `-A`, `-l`).
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// `None` means all namespaces.
    pub namespace: Option<String>,
    pub selector: LabelSelector,
    /// Live reads also list the pods outside the scope, so traffic to them is placed in
    /// their zone (gravity needs them; `top` does not, and a namespace's pods are a much
    /// smaller list). Dumps hold them anyway.
    pub read_peers: bool,
}

impl Scope {
    pub fn is_everything(&self) -> bool {
        self.namespace.is_none() && self.selector.is_empty()
    }
}
