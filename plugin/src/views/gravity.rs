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
        // One row per workload, as docs/output.md says: pod rows are for people.
        Output::Csv => Ok(csv(&HEADERS, &rows(&r.items, none, Detail::Peers))),
        Output::Table | Output::Wide => {
            let wide = output == Output::Wide;
            let mut out = if r.items.is_empty() {
                "No pinned workloads: no pod is held in a zone by its volumes.\n".to_owned()
            } else {
                let detail = if wide {
                    Detail::PeersAndPods
                } else {
                    Detail::Brief
                };
                table(&HEADERS, &rows(&r.items, none, detail))
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

/// How much of each workload a row set shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Detail {
    /// The top peer.
    Brief,
    /// The three top peers.
    Peers,
    /// The three top peers and a row per pod.
    PeersAndPods,
}

fn rows(items: &[WorkloadGravity], none: &str, detail: Detail) -> Vec<Vec<String>> {
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
        let shown = if detail == Detail::Brief { 1 } else { 3 };
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
        if detail == Detail::PeersAndPods {
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

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use cloudvault::collect::{Scope, read_paths};
    use cloudvault::graph::{BuildOptions, build};
    use cloudvault::pricing::PriceBook;
    use cloudvault::traffic::vpc::read_flow_logs;

    use super::*;

    /// CSV is one row per workload with the documented columns; the wide table adds pods.
    #[test]
    fn csv_has_workload_rows_only() {
        let ex = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../assets/examples/demo");
        let raw = read_paths(&[ex.join("cluster")]).unwrap_or_else(|e| panic!("{e}"));
        let flows = read_flow_logs(&[ex.join("flows/worked-example.log")])
            .unwrap_or_else(|e| panic!("{e}"));
        let g = build(
            &raw.into_snapshot(&Scope::default()),
            &flows,
            &BuildOptions::default(),
        );
        let book = PriceBook::bundled().unwrap_or_else(|e| panic!("{e}"));
        let r = cloudvault::gravity::gravity_report(&g, &book);
        let csv = render(&r, Output::Csv).unwrap_or_else(|e| panic!("{e}"));
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], HEADERS.join(","));
        assert_eq!(lines.len(), 1 + r.items.len(), "{csv}");
        let wide = render(&r, Output::Wide).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            wide.lines().any(|l| l.trim_start().starts_with("pod/")),
            "{wide}"
        );
    }
}
