//! Kubernetes objects (k8s-openapi types) -> the flattened domain types of `model`.
//! Both readers go through here, so a live read and a dump read agree.

use std::collections::BTreeMap;
use std::net::IpAddr;

use k8s_openapi::api::apps::v1 as apps;
use k8s_openapi::api::batch::v1 as batch;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::api::storage::v1 as storage;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::model::{
    AttributesClass, Claim, ClassRequest, Controller, Node, NodeSelector, OwnerRef,
    PersistentVolume, Pod, Requirement, SelectorTerm, StorageClass, VolumeSource, parse_bytes,
};

fn name(meta: &ObjectMeta) -> String {
    meta.name.clone().unwrap_or_default()
}

fn namespace(meta: &ObjectMeta) -> String {
    meta.namespace.clone().unwrap_or_else(|| "default".into())
}

fn controller_owner(meta: &ObjectMeta) -> Option<OwnerRef> {
    let owners = meta.owner_references.as_deref()?;
    // The controller owner decides the workload; fall back to the first owner.
    let o = owners
        .iter()
        .find(|o| o.controller == Some(true))
        .or_else(|| owners.first())?;
    Some(OwnerRef {
        kind: o.kind.clone(),
        name: o.name.clone(),
    })
}

fn storage_bytes(
    map: Option<&BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>>,
) -> Option<u64> {
    map?.get("storage").and_then(|q| parse_bytes(&q.0).ok())
}

fn selector(sel: &core::NodeSelector) -> NodeSelector {
    sel.node_selector_terms.iter().map(term).collect()
}

fn term(t: &core::NodeSelectorTerm) -> SelectorTerm {
    let reqs = |rs: &Option<Vec<core::NodeSelectorRequirement>>| {
        rs.iter()
            .flatten()
            .map(|r| Requirement {
                key: r.key.clone(),
                operator: r.operator.clone(),
                values: r.values.clone().unwrap_or_default(),
            })
            .collect()
    };
    SelectorTerm {
        match_expressions: reqs(&t.match_expressions),
        match_fields: reqs(&t.match_fields),
    }
}

pub fn node(n: &core::Node) -> Node {
    let addresses = n
        .status
        .as_ref()
        .and_then(|s| s.addresses.as_ref())
        .into_iter()
        .flatten()
        .filter(|a| a.type_ == "InternalIP" || a.type_ == "ExternalIP")
        .filter_map(|a| a.address.parse::<IpAddr>().ok())
        .collect();
    Node {
        name: name(&n.metadata),
        labels: n.metadata.labels.clone().unwrap_or_default(),
        provider_id: n.spec.as_ref().and_then(|s| s.provider_id.clone()),
        addresses,
    }
}

pub fn pod(p: &core::Pod) -> Pod {
    let pod_name = name(&p.metadata);
    let spec = p.spec.as_ref();
    let claims = spec
        .and_then(|s| s.volumes.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|v| {
            if let Some(c) = &v.persistent_volume_claim {
                Some(c.claim_name.clone())
            } else {
                // A generic ephemeral volume's claim is named `<pod>-<volume>`.
                v.ephemeral
                    .as_ref()
                    .map(|_| format!("{pod_name}-{}", v.name))
            }
        })
        .collect();
    let ports = spec
        .into_iter()
        .flat_map(|s| s.containers.iter())
        .flat_map(|c| c.ports.iter().flatten())
        .flat_map(|p| [Some(p.container_port), p.host_port])
        .flatten()
        .filter_map(|p| u16::try_from(p).ok())
        .collect();
    let status = p.status.as_ref();
    let mut pod_ips: Vec<IpAddr> = status
        .and_then(|s| s.pod_ips.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|ip| ip.ip.parse().ok())
        .collect();
    if pod_ips.is_empty() {
        pod_ips.extend(
            status
                .and_then(|s| s.pod_ip.as_ref())
                .and_then(|ip| ip.parse::<IpAddr>().ok()),
        );
    }
    Pod {
        namespace: namespace(&p.metadata),
        name: pod_name,
        labels: p.metadata.labels.clone().unwrap_or_default(),
        node_name: spec.and_then(|s| s.node_name.clone()),
        phase: status
            .and_then(|s| s.phase.clone())
            .unwrap_or_else(|| "Unknown".into()),
        pod_ips,
        host_network: spec.and_then(|s| s.host_network).unwrap_or(false),
        claims,
        owner: controller_owner(&p.metadata),
        node_selector: spec
            .and_then(|s| s.node_selector.clone())
            .unwrap_or_default(),
        required_affinity: spec
            .and_then(|s| s.affinity.as_ref())
            .and_then(|a| a.node_affinity.as_ref())
            .and_then(|a| {
                a.required_during_scheduling_ignored_during_execution
                    .as_ref()
            })
            .map(selector),
        ports,
    }
}

pub fn claim(c: &core::PersistentVolumeClaim) -> Claim {
    let spec = c.spec.as_ref();
    let class = match spec.and_then(|s| s.storage_class_name.as_deref()) {
        None => ClassRequest::Default,
        Some("") => ClassRequest::NoClass,
        Some(n) => ClassRequest::Named(n.to_owned()),
    };
    let status = c.status.as_ref();
    Claim {
        namespace: namespace(&c.metadata),
        name: name(&c.metadata),
        labels: c.metadata.labels.clone().unwrap_or_default(),
        class,
        volume_name: spec
            .and_then(|s| s.volume_name.clone())
            .filter(|v| !v.is_empty()),
        phase: status
            .and_then(|s| s.phase.clone())
            .unwrap_or_else(|| "Pending".into()),
        request_bytes: storage_bytes(
            spec.and_then(|s| s.resources.as_ref())
                .and_then(|r| r.requests.as_ref()),
        ),
        capacity_bytes: storage_bytes(status.and_then(|s| s.capacity.as_ref())),
        // The class in effect wins over the one asked for; it is what is billed.
        attributes_class: status
            .and_then(|s| s.current_volume_attributes_class_name.clone())
            .or_else(|| spec.and_then(|s| s.volume_attributes_class_name.clone())),
        access_modes: spec
            .and_then(|s| s.access_modes.clone())
            .unwrap_or_default(),
    }
}

pub fn volume(v: &core::PersistentVolume) -> PersistentVolume {
    let spec = v.spec.as_ref();
    let source = spec.map_or(
        VolumeSource::Other {
            name: "none".into(),
        },
        volume_source,
    );
    PersistentVolume {
        name: name(&v.metadata),
        labels: v.metadata.labels.clone().unwrap_or_default(),
        annotations: v.metadata.annotations.clone().unwrap_or_default(),
        capacity_bytes: storage_bytes(spec.and_then(|s| s.capacity.as_ref())),
        storage_class: spec
            .and_then(|s| s.storage_class_name.clone())
            .filter(|c| !c.is_empty()),
        claim: spec.and_then(|s| s.claim_ref.as_ref()).and_then(|r| {
            Some(crate::model::ObjectRef {
                namespace: r.namespace.clone()?,
                name: r.name.clone()?,
            })
        }),
        phase: v
            .status
            .as_ref()
            .and_then(|s| s.phase.clone())
            .unwrap_or_else(|| "Unknown".into()),
        node_affinity: spec
            .and_then(|s| s.node_affinity.as_ref())
            .and_then(|a| a.required.as_ref())
            .map(selector),
        source,
        access_modes: spec
            .and_then(|s| s.access_modes.clone())
            .unwrap_or_default(),
        attributes_class: spec.and_then(|s| s.volume_attributes_class_name.clone()),
        terminating: v.metadata.deletion_timestamp.is_some(),
    }
}

fn volume_source(s: &core::PersistentVolumeSpec) -> VolumeSource {
    if let Some(c) = &s.csi {
        VolumeSource::Csi {
            driver: c.driver.clone(),
            handle: c.volume_handle.clone(),
            attributes: c.volume_attributes.clone().unwrap_or_default(),
        }
    } else if let Some(e) = &s.aws_elastic_block_store {
        VolumeSource::AwsEbs {
            volume_id: e.volume_id.clone(),
        }
    } else if let Some(g) = &s.gce_persistent_disk {
        VolumeSource::GcePd {
            pd_name: g.pd_name.clone(),
        }
    } else if let Some(a) = &s.azure_disk {
        VolumeSource::AzureDisk {
            kind: a.kind.clone(),
            caching: a.caching_mode.clone(),
        }
    } else if s.azure_file.is_some() {
        VolumeSource::AzureFile
    } else if s.nfs.is_some() {
        VolumeSource::Nfs
    } else if let Some(l) = &s.local {
        VolumeSource::Local {
            path: l.path.clone(),
        }
    } else if let Some(h) = &s.host_path {
        VolumeSource::HostPath {
            path: h.path.clone(),
        }
    } else {
        VolumeSource::Other {
            name: "unknown".into(),
        }
    }
}

pub fn class(c: &storage::StorageClass) -> StorageClass {
    let ann = c.metadata.annotations.clone().unwrap_or_default();
    let is_default = [
        "storageclass.kubernetes.io/is-default-class",
        "storageclass.beta.kubernetes.io/is-default-class",
    ]
    .iter()
    .any(|k| ann.get(*k).is_some_and(|v| v == "true"));
    StorageClass {
        name: name(&c.metadata),
        provisioner: c.provisioner.trim().to_owned(),
        parameters: c.parameters.clone().unwrap_or_default(),
        is_default,
    }
}

pub fn attributes_class(c: &storage::VolumeAttributesClass) -> AttributesClass {
    AttributesClass {
        name: name(&c.metadata),
        driver: c.driver_name.clone(),
        parameters: c.parameters.clone().unwrap_or_default(),
    }
}

fn controller(kind: &str, meta: &ObjectMeta) -> Controller {
    Controller {
        kind: kind.into(),
        namespace: namespace(meta),
        name: name(meta),
        owner: controller_owner(meta),
    }
}

pub fn replica_set(o: &apps::ReplicaSet) -> Controller {
    controller("ReplicaSet", &o.metadata)
}
pub fn deployment(o: &apps::Deployment) -> Controller {
    controller("Deployment", &o.metadata)
}
pub fn stateful_set(o: &apps::StatefulSet) -> Controller {
    controller("StatefulSet", &o.metadata)
}
pub fn daemon_set(o: &apps::DaemonSet) -> Controller {
    controller("DaemonSet", &o.metadata)
}
pub fn job(o: &batch::Job) -> Controller {
    controller("Job", &o.metadata)
}
pub fn cron_job(o: &batch::CronJob) -> Controller {
    controller("CronJob", &o.metadata)
}
