//! The details pane's content for one item: a summary, its cost breakdown, for a
//! workload the flows behind its gravity with the arithmetic from bytes to $/month, and
//! the object's YAML. Built once when the pane opens (or data refreshes), drawn as is.

use cloudvault::cost::VolumeCost;
use cloudvault::gravity::{GravityReport, NO_TRAFFIC, Peer, PodGravity, WorkloadGravity};
use cloudvault::model::{GIB, Money, WorkloadRef, format_bytes};
use serde::Serialize;

use super::data::{Data, Item};

/// Which item a pane shows; survives a data refresh.
#[derive(Debug, Clone, PartialEq)]
pub enum Key {
    Volume(usize),
    Workload(WorkloadRef),
    Tree(Item),
}

/// A section of the pane: a heading and its lines.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    pub heading: String,
    pub lines: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Details {
    pub key: Key,
    pub title: String,
    pub sections: Vec<Section>,
}

fn section(heading: &str, lines: Vec<String>) -> Section {
    Section {
        heading: heading.to_owned(),
        lines,
    }
}

fn opt(m: Option<Money>, none: &str) -> String {
    m.map_or_else(|| none.to_owned(), |m| m.to_string())
}

fn gib(bytes: u64) -> String {
    format!("{:.2} GiB", bytes as f64 / GIB)
}

/// Builds the pane for `key` from `data`; `None` when the item is gone.
pub fn rebuild(data: &Data, key: &Key) -> Option<Details> {
    let (title, sections) = match key {
        Key::Volume(i) => volume(data, *i)?,
        Key::Workload(w) => workload(data, w)?,
        Key::Tree(item) => match item {
            Item::Volume(i) => volume(data, *i)?,
            Item::Workload { workload: w, .. } => workload(data, w)?,
            Item::Peer { gravity, pod, peer } => {
                let w = &data.gravity.items.get(*gravity)?.workload;
                let (t, mut s) = workload(data, w)?;
                let p = data.peer(*gravity, *pod, *peer)?;
                s.insert(
                    0,
                    section(
                        "Peer",
                        vec![format!(
                            "{} ({}, zone {})",
                            p.peer,
                            p.class,
                            p.zone.as_deref().unwrap_or("unknown")
                        )],
                    ),
                );
                (t, s)
            }
            Item::Pod { pod, pinned } => {
                let mut s = Vec::new();
                if let Some((gi, pi)) = pinned {
                    let w = data.gravity.items.get(*gi)?;
                    let p = w.pods.get(*pi)?;
                    s.push(section("Gravity (pinned pod)", pod_lines(&data.gravity, p)));
                    s.push(section(
                        "Flows behind the figure",
                        flow_lines(data, &data.gravity, p),
                    ));
                } else {
                    s.push(section(
                        "Gravity",
                        vec![
                            "not pinned: its volumes do not narrow the zones it can run in".into(),
                        ],
                    ));
                }
                let raw = data.raw.pods.iter().find(|o| {
                    o.metadata.name.as_deref() == Some(pod.name.as_str())
                        && o.metadata.namespace.as_deref() == Some(pod.namespace.as_str())
                });
                s.push(yaml(raw));
                (format!("pod {pod}"), s)
            }
            Item::Node(n) => {
                let raw = data
                    .raw
                    .nodes
                    .iter()
                    .find(|o| o.metadata.name.as_deref() == Some(n.as_str()));
                (format!("node {n}"), vec![yaml(raw)])
            }
            Item::Zone(z) => (format!("zone {z}"), vec![group_lines(data, z)]),
            Item::Region(r) => (
                format!("region {r}"),
                vec![section("Region", vec![r.clone()])],
            ),
            Item::IdleGroup { zone, count, cost } => (
                format!("idle volumes in {zone}"),
                vec![section(
                    "Idle",
                    vec![format!(
                        "{count} volume(s) mounted by no pod, {cost}/month; still billed"
                    )],
                )],
            ),
        },
    };
    Some(Details {
        key: key.clone(),
        title,
        sections,
    })
}

fn group_lines(data: &Data, zone: &str) -> Section {
    let lines = data
        .by_zone
        .iter()
        .filter(|g| g.key.split(',').any(|z| z == zone))
        .map(|g| {
            format!(
                "{}: {} volume(s), {}, ${:.2}/month, ${:.2} idle",
                g.key,
                g.volumes,
                format_bytes(g.capacity_bytes),
                g.monthly_cost_usd.cents(),
                g.idle_monthly_cost_usd.cents()
            )
        })
        .collect();
    section("Storage in this zone", lines)
}

fn volume(data: &Data, i: usize) -> Option<(String, Vec<Section>)> {
    let v: &VolumeCost = data.cost.items.get(i)?;
    let name = match (&v.namespace, &v.pvc) {
        (Some(ns), Some(c)) => format!("{ns}/{c}"),
        _ => v.pv.clone().unwrap_or_else(|| "-".into()),
    };
    let mut summary = vec![
        format!(
            "PV {}  class {}",
            v.pv.as_deref().unwrap_or("- (pending)"),
            v.storage_class.as_deref().unwrap_or("-")
        ),
        format!(
            "zones {}  capacity {}  used {}",
            if v.zones.is_empty() {
                format!("({})", v.zone_state)
            } else {
                v.zones.join(",")
            },
            v.capacity_bytes.map_or_else(|| "-".into(), format_bytes),
            v.used_bytes.map_or_else(|| "unknown".into(), format_bytes)
        ),
        format!(
            "flags {}",
            if v.flags.is_empty() {
                "-".into()
            } else {
                v.flags.join(",")
            }
        ),
    ];
    if !v.pods.is_empty() {
        summary.push(format!("mounted by {}", v.pods.join(", ")));
    }
    for w in &v.workloads {
        summary.push(format!(
            "  {}/{}/{}: {:.0}% = {}/month",
            w.namespace,
            w.kind,
            w.name,
            w.share * 100.0,
            w.monthly_cost_usd
        ));
    }
    let mut cost = vec![format!("total {}/month", v.monthly_cost_usd)];
    if let Some(k) = &v.price_key {
        cost.push(format!(
            "price key {}{}",
            k,
            v.price_tier
                .as_ref()
                .map(|t| format!(" (tier {t})"))
                .unwrap_or_default()
        ));
    }
    if let Some(b) = data.breakdowns.get(i) {
        if let Some(c) = &b.charge {
            cost.push(format!("  capacity   {}", c.capacity));
            cost.push(format!("  IOPS       {}", c.iops));
            cost.push(format!("  throughput {}", c.throughput));
        }
        if let Some(n) = &b.note {
            cost.push(n.clone());
        }
    }
    let pv_raw = v.pv.as_ref().and_then(|n| {
        data.raw
            .volumes
            .iter()
            .find(|o| o.metadata.name.as_ref() == Some(n))
    });
    let pvc_raw = v.pvc.as_ref().and_then(|n| {
        data.raw
            .claims
            .iter()
            .find(|o| o.metadata.name.as_ref() == Some(n) && o.metadata.namespace == v.namespace)
    });
    let mut sections = vec![section("Volume", summary), section("Cost breakdown", cost)];
    if pvc_raw.is_some() {
        sections.push(yaml(pvc_raw));
    }
    sections.push(yaml(pv_raw));
    Some((format!("volume {name}"), sections))
}

fn workload(data: &Data, w: &WorkloadRef) -> Option<(String, Vec<Section>)> {
    let r = &data.gravity;
    let mut sections = Vec::new();
    match r.items.iter().find(|x| &x.workload == w) {
        Some(g) => {
            sections.push(section("Gravity", workload_lines(r, g)));
            for p in &g.pods {
                let mut lines = pod_lines(r, p);
                lines.extend(flow_lines(data, r, p));
                sections.push(section(&format!("pod {}", p.name), lines));
            }
        }
        None => sections.push(section(
            "Gravity",
            vec!["not pinned: no pod of it is held in a zone by its volumes".into()],
        )),
    }
    let volumes: Vec<String> = data
        .cost
        .items
        .iter()
        .filter(|v| {
            v.workloads
                .iter()
                .any(|s| s.kind == w.kind && s.name == w.name && s.namespace == w.namespace)
        })
        .map(|v| {
            let share = v
                .workloads
                .iter()
                .find(|s| s.kind == w.kind && s.name == w.name)
                .map_or(Money::ZERO, |s| s.monthly_cost_usd);
            format!(
                "{}/{}: {}/month share of {}/month",
                v.namespace.as_deref().unwrap_or("-"),
                v.pvc.as_deref().unwrap_or("-"),
                share,
                v.monthly_cost_usd
            )
        })
        .collect();
    sections.push(section(
        "Storage",
        if volumes.is_empty() {
            vec!["no volumes".into()]
        } else {
            volumes
        },
    ));
    sections.push(yaml(controller(data, w).as_ref()));
    Some((format!("workload {w}"), sections))
}

fn workload_lines(r: &GravityReport, g: &WorkloadGravity) -> Vec<String> {
    let none = if r.status == NO_TRAFFIC {
        NO_TRAFFIC
    } else {
        "unknown"
    };
    let best = g.best_zones();
    let mut lines = vec![
        format!(
            "gravity {}/month = now {} - in its best zone {}",
            opt(g.gravity_monthly_usd, none),
            opt(g.current_monthly_usd, none),
            opt(g.best_monthly_usd, none)
        ),
        format!(
            "best zone {}",
            if best.is_empty() {
                "unknown".into()
            } else {
                best.join(",")
            }
        ),
        format!(
            "replication (between its own pods, not in gravity) {}/month",
            opt(g.replication_monthly_usd, none)
        ),
    ];
    if g.unpriced_bytes > 0 {
        lines.push(format!(
            "{} with no known price left out",
            gib(g.unpriced_bytes)
        ));
    }
    match (r.metadata.window_hours, r.metadata.projection_factor) {
        (Some(h), Some(f)) => lines.push(format!(
            "traffic from {} over {h:.1} h; a month is 730 h, so x{f:.4}",
            r.metadata.flow_source
        )),
        _ => lines.push(
            "no traffic data: pass --flows FILE or install the agent; gravity is unknown, not zero"
                .into(),
        ),
    }
    lines
}

fn pod_lines(r: &GravityReport, p: &PodGravity) -> Vec<String> {
    let none = if r.status == NO_TRAFFIC {
        NO_TRAFFIC
    } else {
        "unknown"
    };
    vec![
        format!(
            "in {} (volumes allow {}; could run in {})",
            p.zone.as_deref().unwrap_or("unknown"),
            p.volume_zones.join(","),
            p.candidate_zones.join(",")
        ),
        format!(
            "now {}/month, in {} {}/month: gravity {}/month",
            opt(p.current_monthly_usd, none),
            p.best_zone.as_deref().unwrap_or("its best zone"),
            opt(p.best_monthly_usd, none),
            opt(p.gravity_monthly_usd, none)
        ),
    ]
}

/// The peers behind a pod's figure and the arithmetic from bytes to $/month: bytes
/// each way x the class's price per GiB (sender's egress + receiver's ingress) over the
/// window, then x (730 h / window) — the last figure is the report's.
fn flow_lines(data: &Data, r: &GravityReport, p: &PodGravity) -> Vec<String> {
    if p.top_peers.is_empty() {
        return vec!["no flows with this pod".into()];
    }
    let mut lines = Vec::new();
    for peer in &p.top_peers {
        lines.push(format!(
            "<-> {} {} ({}, zone {}): sent {}, received {}",
            peer.kind,
            peer.peer,
            peer.class,
            peer.zone.as_deref().unwrap_or("unknown"),
            gib(peer.bytes_sent),
            gib(peer.bytes_received)
        ));
        lines.push(format!("    {}", arithmetic(data, r, peer)));
    }
    lines
}

fn arithmetic(data: &Data, r: &GravityReport, peer: &Peer) -> String {
    let (Some(h), Some(f)) = (r.metadata.window_hours, r.metadata.projection_factor) else {
        return "no traffic window: not priced".into();
    };
    let Some(price) = data.transfer.get(&peer.class) else {
        return format!("no {} price for this provider: left out", peer.class);
    };
    // An internet address is not billed on its side (DESIGN §3).
    let peer_billed = peer.class != "internet";
    let out_rate = price.egress_per_gi_b
        + if peer_billed {
            price.ingress_per_gi_b
        } else {
            0.0
        };
    let in_rate = price.ingress_per_gi_b
        + if peer_billed {
            price.egress_per_gi_b
        } else {
            0.0
        };
    let sent = peer.bytes_sent as f64 / GIB;
    let recv = peer.bytes_received as f64 / GIB;
    let window = Money(sent * out_rate + recv * in_rate);
    format!(
        "{sent:.2} GiB x ${out_rate:.4} + {recv:.2} GiB x ${in_rate:.4} = {window} per {h:.1} h; x 730/{h:.1} (x{f:.4}) = {}/month",
        opt(peer.monthly_usd, "unpriced")
    )
}

fn controller(data: &Data, w: &WorkloadRef) -> Option<serde_json::Value> {
    let raw = &data.raw;
    let hit = |m: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta| {
        m.name.as_deref() == Some(w.name.as_str())
            && m.namespace.as_deref() == Some(w.namespace.as_str())
    };
    let v = match w.kind.as_str() {
        "Deployment" => raw
            .deployments
            .iter()
            .find(|o| hit(&o.metadata))
            .map(serde_json::to_value),
        "StatefulSet" => raw
            .stateful_sets
            .iter()
            .find(|o| hit(&o.metadata))
            .map(serde_json::to_value),
        "DaemonSet" => raw
            .daemon_sets
            .iter()
            .find(|o| hit(&o.metadata))
            .map(serde_json::to_value),
        "ReplicaSet" => raw
            .replica_sets
            .iter()
            .find(|o| hit(&o.metadata))
            .map(serde_json::to_value),
        "Job" => raw
            .jobs
            .iter()
            .find(|o| hit(&o.metadata))
            .map(serde_json::to_value),
        "CronJob" => raw
            .cron_jobs
            .iter()
            .find(|o| hit(&o.metadata))
            .map(serde_json::to_value),
        "Pod" => raw
            .pods
            .iter()
            .find(|o| hit(&o.metadata))
            .map(serde_json::to_value),
        _ => None,
    };
    v.and_then(Result::ok)
}

/// The object's YAML as the API returns it, without `managedFields` (noise here).
fn yaml<T: Serialize>(obj: Option<&T>) -> Section {
    let Some(obj) = obj else {
        return section("YAML", vec!["(the object is not in the input)".into()]);
    };
    let text = serde_json::to_value(obj)
        .map(|mut v| {
            if let Some(m) = v.get_mut("metadata").and_then(|m| m.as_object_mut()) {
                m.remove("managedFields");
            }
            v
        })
        .map_err(|e| e.to_string())
        .and_then(|v| serde_saphyr::to_string(&v).map_err(|e| e.to_string()));
    match text {
        Ok(t) => section("YAML", t.lines().map(str::to_owned).collect()),
        Err(e) => section("YAML", vec![format!("cannot show the YAML: {e}")]),
    }
}
