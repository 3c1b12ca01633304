//! `top` views.

use anyhow::Result;
use cloudvault::cost::{CostGroup, CostReport, VolumeCost};
use cloudvault::model::format_bytes;

use super::{csv, dash, money, notes, structured, table};
use crate::input::Output;

pub fn render(r: &CostReport, output: Output) -> Result<String> {
    match output {
        Output::Json => structured(r, false),
        Output::Yaml => structured(r, true),
        Output::Csv => Ok(match &r.groups {
            Some(g) => csv(&group_headers(&g.by), &group_rows(&g.items)),
            None => csv(&WIDE, &rows(&r.items, true)),
        }),
        Output::Table | Output::Wide => {
            let wide = output == Output::Wide;
            let mut out = match &r.groups {
                Some(g) => table(&group_headers(&g.by), &group_rows(&g.items)),
                None => table(if wide { &WIDE } else { &NARROW }, &rows(&r.items, wide)),
            };
            out.push_str(&footer(r));
            Ok(out)
        }
    }
}

const NARROW: [&str; 8] = [
    "NAMESPACE",
    "PVC",
    "CLASS",
    "ZONES",
    "CAPACITY",
    "USED",
    "$/MONTH",
    "FLAGS",
];
pub const WIDE: [&str; 13] = [
    "NAMESPACE",
    "PVC",
    "PV",
    "CLASS",
    "ZONES",
    "CAPACITY",
    "USED",
    "$/MONTH",
    "IDLE",
    "FLAGS",
    "PRICE-KEY",
    "WORKLOADS",
    "PODS",
];

pub fn rows(items: &[VolumeCost], wide: bool) -> Vec<Vec<String>> {
    items
        .iter()
        .map(|v| {
            let zones = if v.zones.is_empty() {
                format!("({})", v.zone_state)
            } else {
                v.zones.join(",")
            };
            let capacity = v.capacity_bytes.map_or_else(|| "-".into(), format_bytes);
            let used = v.used_bytes.map_or_else(|| "unknown".into(), format_bytes);
            let flags = if v.flags.is_empty() {
                "-".into()
            } else {
                v.flags.join(",")
            };
            if !wide {
                return vec![
                    dash(v.namespace.as_deref()),
                    dash(v.pvc.as_deref()),
                    dash(v.storage_class.as_deref()),
                    zones,
                    capacity,
                    used,
                    money(v.monthly_cost_usd),
                    flags,
                ];
            }
            let key = match (&v.price_key, &v.price_tier) {
                (Some(k), Some(t)) => format!("{k}/{t}"),
                (Some(k), None) => k.clone(),
                (None, _) if v.unknown_price_reason.is_some() => "default".into(),
                (None, _) => "-".into(),
            };
            let workloads = v
                .workloads
                .iter()
                .map(|w| format!("{}/{}", w.kind, w.name))
                .collect::<Vec<_>>()
                .join(",");
            vec![
                dash(v.namespace.as_deref()),
                dash(v.pvc.as_deref()),
                dash(v.pv.as_deref()),
                dash(v.storage_class.as_deref()),
                zones,
                capacity,
                used,
                money(v.monthly_cost_usd),
                v.idle.to_string(),
                flags,
                key,
                dash(Some(&workloads)),
                v.pods.len().to_string(),
            ]
        })
        .collect()
}

fn group_headers(by: &str) -> Vec<&'static str> {
    let first = match by {
        "namespace" => "NAMESPACE",
        "workload" => "WORKLOAD",
        "class" => "CLASS",
        _ => "ZONE",
    };
    vec![
        first,
        "VOLUMES",
        "CAPACITY",
        "$/MONTH",
        "IDLE $/MONTH",
        "UNKNOWN-PRICE",
    ]
}

fn group_rows(groups: &[CostGroup]) -> Vec<Vec<String>> {
    groups
        .iter()
        .map(|g| {
            vec![
                g.key.clone(),
                g.volumes.to_string(),
                format_bytes(g.capacity_bytes),
                money(g.monthly_cost_usd),
                money(g.idle_monthly_cost_usd),
                g.unknown_price_volumes.to_string(),
            ]
        })
        .collect()
}

fn footer(r: &CostReport) -> String {
    let idle: cloudvault::model::Money = r
        .items
        .iter()
        .filter(|v| v.idle)
        .map(|v| v.monthly_cost_usd)
        .sum();
    let unknown = r
        .items
        .iter()
        .filter(|v| v.unknown_price_reason.is_some())
        .count();
    let mut lines = vec![format!(
        "total ${}/month over {} volume(s), ${} of it idle; provider {}, region {}",
        money(r.total_monthly_cost_usd),
        r.items.len(),
        money(idle),
        r.metadata.provider.as_deref().unwrap_or("unknown"),
        r.metadata.region.as_deref().unwrap_or("unknown"),
    )];
    if unknown > 0 {
        lines.push(format!("{unknown} volume(s) have no known price and are priced by the default (flag unknown-price); set prices with --pricing FILE"));
    }
    lines.push(format!("shared volumes: {}", r.metadata.allocation_rule));
    lines.extend(r.metadata.notes.iter().cloned());
    format!("\n{}", notes(&lines))
}
