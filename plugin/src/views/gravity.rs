//! `gravity` views.

use anyhow::Result;
use cloudvault::gravity::{GravityReport, NO_TRAFFIC, Peer, WorkloadGravity};
use cloudvault::model::format_bytes;

use super::{csv, notes, opt_money, structured, table};
use crate::input::Output;

pub fn render(r: &GravityReport, output: Output) -> Result<String> {
    let none = if r.status == NO_TRAFFIC {
        NO_TRAFFIC
    } else {
        "unknown"
    };
    match output {
        Output::Json => structured(r, false),
        Output::Yaml => structured(r, true),
        Output::Csv => Ok(csv(&HEADERS, &rows(&r.items, none, true))),
        Output::Table | Output::Wide => {
            let wide = output == Output::Wide;
            let mut out = if r.items.is_empty() {
                "No pinned workloads: no pod is held in a zone by its volumes.\n".to_owned()
            } else {
                table(&HEADERS, &rows(&r.items, none, wide))
            };
            out.push_str(&footer(r));
            Ok(out)
        }
    }
}

const HEADERS: [&str; 8] = [
    "WORKLOAD",
    "ZONE",
    "BEST ZONE",
    "NOW $/MONTH",
    "THERE $/MONTH",
    "GRAVITY $/MONTH",
    "REPLICATION $/MONTH",
    "TOP PEERS",
];

fn peer(p: &Peer) -> String {
    let money = p
        .monthly_usd
        .map_or_else(|| "?".to_owned(), |m| format!("${:.2}", m.cents()));
    format!(
        "{} ({}, {} {})",
        p.peer,
        p.class,
        format_bytes(p.bytes_sent + p.bytes_received),
        money
    )
}

fn rows(items: &[WorkloadGravity], none: &str, wide: bool) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for w in items {
        let zones = |f: fn(&cloudvault::gravity::PodGravity) -> Option<&String>| {
            let mut z: Vec<&str> = w
                .pods
                .iter()
                .filter_map(|p| f(p).map(String::as_str))
                .collect();
            z.sort_unstable();
            z.dedup();
            if z.is_empty() {
                "unknown".to_owned()
            } else {
                z.join(",")
            }
        };
        let mut peers: Vec<&Peer> = w.pods.iter().flat_map(|p| p.top_peers.iter()).collect();
        peers.sort_by(|a, b| {
            b.monthly_usd
                .map_or(-1.0, |m| m.usd())
                .total_cmp(&a.monthly_usd.map_or(-1.0, |m| m.usd()))
        });
        let shown = if wide { 3 } else { 1 };
        let mut top: Vec<String> = peers.iter().take(shown).map(|p| peer(p)).collect();
        if peers.len() > shown {
            top.push(format!("+{} more", peers.len() - shown));
        }
        rows.push(vec![
            format!(
                "{}/{}/{}",
                w.workload.namespace, w.workload.kind, w.workload.name
            ),
            zones(|p| p.zone.as_ref()),
            zones(|p| p.best_zone.as_ref()),
            opt_money(w.current_monthly_usd, none),
            opt_money(w.best_monthly_usd, none),
            opt_money(w.gravity_monthly_usd, none),
            opt_money(w.replication_monthly_usd, none),
            if top.is_empty() {
                "-".into()
            } else {
                top.join("; ")
            },
        ]);
        if wide {
            for p in &w.pods {
                rows.push(vec![
                    format!("  pod/{}", p.name),
                    p.zone.clone().unwrap_or_else(|| "unknown".into()),
                    p.best_zone.clone().unwrap_or_else(|| "unknown".into()),
                    opt_money(p.current_monthly_usd, none),
                    opt_money(p.best_monthly_usd, none),
                    opt_money(p.gravity_monthly_usd, none),
                    String::new(),
                    format!(
                        "volumes in {}; could run in {}",
                        p.volume_zones.join(","),
                        p.candidate_zones.join(",")
                    ),
                ]);
            }
        }
    }
    rows
}

fn footer(r: &GravityReport) -> String {
    let mut lines = Vec::new();
    if r.status == NO_TRAFFIC {
        lines.push("no traffic data: pass --flows FILE (AWS VPC Flow Logs) or deploy the agent (kubectl vault manifest | kubectl apply -f -); gravity is unknown, not zero".to_owned());
    } else {
        lines.push(format!(
            "traffic from {} over {:.1} h, projected x{:.2} to a month (730 h); provider {}, region {}",
            r.metadata.flow_source,
            r.metadata.window_hours.unwrap_or_default(),
            r.metadata.projection_factor.unwrap_or_default(),
            r.metadata.provider.as_deref().unwrap_or("unknown"),
            r.metadata.region.as_deref().unwrap_or("unknown"),
        ));
    }
    lines.extend(r.metadata.rules.iter().cloned());
    lines.extend(r.metadata.notes.iter().cloned());
    format!("\n{}", notes(&lines))
}
