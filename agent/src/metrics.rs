//! Prometheus text for /metrics: OpenCost's `kubecost_pod_network_egress_bytes_total`,
//! our own `cloudvault_*` counters by class, and the agent's health.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use cloudvault::traffic::DestinationClass;

use crate::flows::{FlowRecord, OwnerKind};
use crate::state::Health;

/// OpenCost's (internet, same_zone, same_region) labels for a class; `None` for unknown,
/// which OpenCost cannot price and which we do not guess (it stays in cloudvault_*).
fn opencost_labels(class: DestinationClass) -> Option<(bool, bool, bool)> {
    match class {
        DestinationClass::SameNode | DestinationClass::SameZone => Some((false, true, true)),
        DestinationClass::CrossZone => Some((false, false, true)),
        DestinationClass::CrossRegion => Some((false, false, false)),
        DestinationClass::Internet => Some((true, false, false)),
        DestinationClass::Unknown => None,
    }
}

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

pub fn render(records: &[FlowRecord], health: &Health) -> String {
    let mut out = String::new();
    // (pod, namespace, internet, same_zone, same_region) -> bytes
    let mut opencost: BTreeMap<(String, String, bool, bool, bool), u64> = BTreeMap::new();
    // (owner, namespace, pod, pod_uid, class) -> [tx, rx, txp, rxp]
    let mut ours: BTreeMap<(&'static str, String, String, String, &'static str), [u64; 4]> =
        BTreeMap::new();
    for r in records {
        if let (Some(pod), Some(ns), Some((inet, zone, region))) =
            (&r.pod, &r.namespace, opencost_labels(r.class))
        {
            *opencost
                .entry((pod.clone(), ns.clone(), inet, zone, region))
                .or_default() += r.tx_bytes;
        }
        let owner = match r.owner {
            OwnerKind::Pod => "pod",
            OwnerKind::Node => "node",
            OwnerKind::Unknown => "unknown",
        };
        let v = ours
            .entry((
                owner,
                r.namespace.clone().unwrap_or_default(),
                r.pod.clone().unwrap_or_default(),
                r.pod_uid.clone().unwrap_or_default(),
                r.class.as_str(),
            ))
            .or_default();
        v[0] += r.tx_bytes;
        v[1] += r.rx_bytes;
        v[2] += r.tx_packets;
        v[3] += r.rx_packets;
    }

    let _ = writeln!(
        out,
        "# HELP kubecost_pod_network_egress_bytes_total Bytes a pod sent (L3), by OpenCost's destination labels.\n# TYPE kubecost_pod_network_egress_bytes_total counter"
    );
    for ((pod, ns, inet, zone, region), bytes) in &opencost {
        let _ = writeln!(
            out,
            "kubecost_pod_network_egress_bytes_total{{pod_name=\"{}\",namespace=\"{}\",internet=\"{inet}\",same_zone=\"{zone}\",same_region=\"{region}\"}} {bytes}",
            esc(pod),
            esc(ns)
        );
    }
    let series = [
        ("cloudvault_tx_bytes_total", "L3 bytes sent", 0),
        ("cloudvault_rx_bytes_total", "L3 bytes received", 1),
        ("cloudvault_tx_packets_total", "Packets sent", 2),
        ("cloudvault_rx_packets_total", "Packets received", 3),
    ];
    for (name, help, i) in series {
        let _ = writeln!(
            out,
            "# HELP {name} {help}, by owner (pod, node, unknown) and destination class.\n# TYPE {name} counter"
        );
        for ((owner, ns, pod, uid, class), v) in &ours {
            let _ = writeln!(
                out,
                "{name}{{owner=\"{owner}\",namespace=\"{}\",pod=\"{}\",pod_uid=\"{}\",class=\"{class}\"}} {}",
                esc(ns),
                esc(pod),
                esc(uid),
                v[i]
            );
        }
    }
    let fill = if health.map_capacity == 0 {
        0.0
    } else {
        health.map_entries as f64 / f64::from(health.map_capacity)
    };
    let gauges: [(&str, &str, &str, String); 12] = [
        (
            "cloudvault_agent_map_entries",
            "gauge",
            "Entries in the flow map.",
            health.map_entries.to_string(),
        ),
        (
            "cloudvault_agent_map_capacity",
            "gauge",
            "Size bound of the flow map (--map-size).",
            health.map_capacity.to_string(),
        ),
        (
            "cloudvault_agent_map_fill_ratio",
            "gauge",
            "Flow map entries / capacity; near 1 the LRU evicts idle flows.",
            format!("{fill:.6}"),
        ),
        (
            "cloudvault_agent_map_evictions_total",
            "counter",
            "Flow map entries evicted because the map was full; bytes since their last drain are lost: raise --map-size or lower --interval.",
            health.evictions().to_string(),
        ),
        (
            "cloudvault_agent_dropped_updates_total",
            "counter",
            "Packets not counted because their map entry could not be created.",
            health.kernel.insert_failed.to_string(),
        ),
        (
            "cloudvault_agent_unparsed_packets_total",
            "counter",
            "IP packets whose addresses could not be read.",
            health.kernel.no_addr.to_string(),
        ),
        (
            "cloudvault_agent_drain_seconds",
            "gauge",
            "Duration of the last drain of the kernel map.",
            format!("{:.6}", health.last_drain_seconds),
        ),
        (
            "cloudvault_agent_drains_total",
            "counter",
            "Drains of the kernel map.",
            health.drains.to_string(),
        ),
        (
            "cloudvault_agent_drain_errors_total",
            "counter",
            "Drains that failed.",
            health.drain_errors.to_string(),
        ),
        (
            "cloudvault_agent_unknown_cgroups",
            "gauge",
            "cgroups with traffic that were not found in the cgroup tree (reported with owner unknown).",
            health.unknown_cgroups.to_string(),
        ),
        (
            "cloudvault_agent_conntrack_errors_total",
            "counter",
            "Drains that could not read the conntrack table: ClusterIP traffic stayed unresolved.",
            health.conntrack_errors.to_string(),
        ),
        (
            "cloudvault_agent_pods_without_cgroup",
            "gauge",
            "Pods of this node whose cgroup was not found (check --cgroup-root and the /sys/fs/cgroup mount).",
            health.pods_without_cgroup.to_string(),
        ),
    ];
    for (name, kind, help, value) in gauges {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
        );
    }
    out
}
