//! Storage cost per volume and its allocation (`kubectl vault top`), read from the SIG.
//!
//! Rules (DESIGN §3): billed on PV capacity; idle volumes (bound but mounted by no
//! pod, Released, or Available with no claim) are still priced and flagged; a class
//! with no known price is priced by the default and flagged `unknown-price`; a volume
//! mounted by several pods is split in equal shares per running pod.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use crate::graph::{EdgeKind, GraphStore, NodeData, NodeId, NodeKind};
use crate::model::{Claim, Money, PersistentVolume, WorkloadRef};
use crate::pricing::{self, PriceBook, StoragePrice};
use crate::topology::VolumeZones;

pub const API_VERSION: &str = "cloudvault.io/v1alpha1";

/// How shared volumes are split; printed with every report.
pub const SHARE_RULE: &str =
    "a volume mounted by several running pods is split in equal shares per pod";

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadShare {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    /// Fraction of the volume's cost (pods of this workload / pods mounting it).
    pub share: f64,
    #[serde(rename = "monthlyCostUSD")]
    pub monthly_cost_usd: Money,
}

/// One volume (or a pending claim with no volume yet).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeCost {
    pub namespace: Option<String>,
    pub pvc: Option<String>,
    pub pv: Option<String>,
    pub storage_class: Option<String>,
    pub zones: Vec<String>,
    /// `zonal`, `unpinned` (file storage) or `unknown`.
    pub zone_state: String,
    pub capacity_bytes: Option<u64>,
    /// Bytes used on the filesystem; `null` when no reader provided usage.
    pub used_bytes: Option<u64>,
    #[serde(rename = "monthlyCostUSD")]
    pub monthly_cost_usd: Money,
    pub idle: bool,
    pub flags: Vec<String>,
    pub price_key: Option<String>,
    pub price_tier: Option<String>,
    pub unknown_price_reason: Option<String>,
    pub pods: Vec<String>,
    pub workloads: Vec<WorkloadShare>,
}

/// A `--by` aggregate.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CostGroup {
    pub key: String,
    pub volumes: usize,
    pub capacity_bytes: u64,
    #[serde(rename = "monthlyCostUSD")]
    pub monthly_cost_usd: Money,
    #[serde(rename = "idleMonthlyCostUSD")]
    pub idle_monthly_cost_usd: Money,
    pub unknown_price_volumes: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportMetadata {
    pub provider: Option<String>,
    pub region: Option<String>,
    pub pricing_sources: Vec<String>,
    pub pricing_overrides: Vec<String>,
    pub allocation_rule: String,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CostReport {
    pub api_version: String,
    pub kind: String,
    pub metadata: ReportMetadata,
    #[serde(rename = "totalMonthlyCostUSD")]
    pub total_monthly_cost_usd: Money,
    pub items: Vec<VolumeCost>,
    /// Present with `--by`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<GroupedBy>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupedBy {
    pub by: String,
    pub items: Vec<CostGroup>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Namespace,
    Workload,
    Class,
    Zone,
}

impl GroupBy {
    pub const ALL: [Self; 4] = [Self::Namespace, Self::Workload, Self::Class, Self::Zone];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Namespace => "namespace",
            Self::Workload => "workload",
            Self::Class => "class",
            Self::Zone => "zone",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortBy {
    Cost,
    Name,
    Namespace,
    Capacity,
    Zone,
    Class,
}

impl SortBy {
    pub const ALL: [Self; 6] = [
        Self::Cost,
        Self::Name,
        Self::Namespace,
        Self::Capacity,
        Self::Zone,
        Self::Class,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cost => "cost",
            Self::Name => "name",
            Self::Namespace => "namespace",
            Self::Capacity => "capacity",
            Self::Zone => "zone",
            Self::Class => "class",
        }
    }

    /// Whether [`compare`] puts the largest first (money and capacity; names ascend).
    pub fn descending(self) -> bool {
        matches!(self, Self::Cost | Self::Capacity)
    }
}

/// Prices every volume in the graph.
pub fn cost_report(g: &dyn GraphStore, book: &PriceBook) -> CostReport {
    let meta = g.meta();
    let region = meta.region.as_deref();
    let mut items = Vec::new();
    let mut prices = PriceCache::default();
    let mut missing_vacs = BTreeSet::new();
    for (id, data) in g.nodes_of(NodeKind::Volume) {
        let NodeData::Volume(pv) = data else { continue };
        let claim = g
            .in_edges(id, EdgeKind::BoundTo)
            .into_iter()
            .find_map(|(cid, _)| match g.node(cid) {
                Some(NodeData::Claim(c)) => Some((cid, c.as_ref())),
                _ => None,
            });
        items.push(volume_cost(
            g,
            book,
            region,
            &mut prices,
            &mut missing_vacs,
            Some((id, pv.as_ref())),
            claim,
        ));
    }
    // Claims with no volume yet (Pending): shown, nothing is billed for them.
    for (id, data) in g.nodes_of(NodeKind::Claim) {
        let NodeData::Claim(c) = data else { continue };
        if g.out_edges(id, EdgeKind::BoundTo).is_empty() {
            items.push(volume_cost(
                g,
                book,
                region,
                &mut prices,
                &mut missing_vacs,
                None,
                Some((id, c.as_ref())),
            ));
        }
    }
    sort(&mut items, SortBy::Cost);
    let mut sources: Vec<String> = book
        .tables
        .values()
        .filter(|t| t.provider == meta.provider)
        .flat_map(|t| t.sources.clone())
        .collect();
    if sources.is_empty() {
        sources.push("no provider detected: every class is priced by the default (flagged)".into());
    }
    CostReport {
        api_version: API_VERSION.into(),
        kind: "CostReport".into(),
        metadata: ReportMetadata {
            provider: meta.provider.map(|p| p.as_str().to_owned()),
            region: meta.region.clone(),
            pricing_sources: sources,
            pricing_overrides: book.overrides.clone(),
            allocation_rule: SHARE_RULE.into(),
            notes: meta
                .notes
                .iter()
                .cloned()
                .chain(
                    meta.provider
                        .zip(region)
                        .and_then(|(p, r)| book.region_note(p, r)),
                )
                .chain((!missing_vacs.is_empty()).then(|| {
                    format!(
                        "VolumeAttributesClass {} named by claims or volumes is not in the input: those volumes are priced from their StorageClass parameters; add `kubectl get volumeattributesclasses -o yaml` to the dump",
                        missing_vacs.into_iter().collect::<Vec<_>>().join(", ")
                    )
                }))
                .collect(),
        },
        total_monthly_cost_usd: items.iter().map(|i| i.monthly_cost_usd).sum(),
        items,
        groups: None,
    }
}

/// A volume's price depends only on its class, attributes class, source and capacity;
/// clusters have many volumes of few kinds, so each kind is priced once.
type Priced = (Money, Option<String>, Option<String>, Option<String>);
type PriceCache = HashMap<(Option<String>, Option<String>, String, u64), Priced>;

fn source_key(v: &PersistentVolume) -> String {
    match &v.source {
        crate::model::VolumeSource::Csi { driver, handle, .. }
            if handle.starts_with("local-ebs://") =>
        {
            format!("{driver}/local")
        }
        crate::model::VolumeSource::Csi { driver, .. } => driver.clone(),
        other => format!("{:?}", std::mem::discriminant(other)),
    }
}

fn volume_cost(
    g: &dyn GraphStore,
    book: &PriceBook,
    region: Option<&str>,
    prices: &mut PriceCache,
    // Attribute classes named but not in the input: IOPS/throughput then fall back to the
    // StorageClass's, which the report must say.
    missing_vacs: &mut BTreeSet<String>,
    pv: Option<(&NodeId, &PersistentVolume)>,
    claim: Option<(&NodeId, &Claim)>,
) -> VolumeCost {
    let pv_id = pv.map(|(id, _)| id);
    let pv = pv.map(|(_, v)| v);
    let mut flags = Vec::new();
    let class_name = pv.and_then(|v| v.storage_class.clone()).or_else(|| {
        claim.and_then(|(cid, _)| {
            g.out_edges(cid, EdgeKind::OfClass)
                .into_iter()
                .find_map(|(c, _)| match c {
                    NodeId::Class(n) => Some(n.clone()),
                    _ => None,
                })
        })
    });
    let class = class_name
        .as_ref()
        .and_then(|n| match g.node(&NodeId::Class(n.clone())) {
            Some(NodeData::Class(c)) => Some(c.as_ref()),
            _ => None,
        });
    let vac_name = claim
        .and_then(|(_, c)| c.attributes_class.clone())
        .or_else(|| pv.and_then(|v| v.attributes_class.clone()));
    let vac = vac_name
        .as_ref()
        .and_then(|n| g.meta().attributes_classes.get(n));
    if let (Some(n), None) = (&vac_name, vac) {
        missing_vacs.insert(n.clone());
    }
    let capacity = pv
        .and_then(|v| v.capacity_bytes)
        .or_else(|| claim.and_then(|(_, c)| c.capacity_bytes));

    // Pods that hold the claim now.
    let pods: Vec<(&NodeId, WorkloadRef)> = claim
        .map(|(cid, _)| {
            g.in_edges(cid, EdgeKind::Mounts)
                .into_iter()
                .filter(|(p, _)| matches!(g.node(p), Some(NodeData::Pod(p)) if p.is_active()))
                .filter_map(|(p, _)| {
                    let w = g.out_edges(p, EdgeKind::OwnedBy).into_iter().find_map(
                        |(w, _)| match w {
                            NodeId::Workload(w) => Some(w.clone()),
                            _ => None,
                        },
                    )?;
                    Some((p, w))
                })
                .collect()
        })
        .unwrap_or_default();

    let (monthly, key, tier, unknown) = match (pv, capacity) {
        (None, _) => (Money::ZERO, None, None, None),
        (Some(_), None) => (
            Money::ZERO,
            None,
            None,
            Some("the volume states no capacity".to_owned()),
        ),
        (Some(v), Some(bytes)) => {
            let cache_key = (class_name.clone(), vac_name.clone(), source_key(v), bytes);
            if let Some(hit) = prices.get(&cache_key) {
                hit.clone()
            } else {
                let by_class = class_name.as_ref().and_then(|n| book.classes.get(n));
                let key = pricing::price_key(class, Some(v), vac, bytes);
                let (price, unknown): (StoragePrice, Option<String>) = match (by_class, &key) {
                    (Some(p), _) => (p.clone(), None),
                    (None, Ok(k)) => match book.storage(&k.key, region) {
                        Some(p) => (p, None),
                        None => (
                            book.default.clone(),
                            Some(format!("no list price for {}", k.key)),
                        ),
                    },
                    (None, Err(reason)) => (book.default.clone(), Some(reason.clone())),
                };
                let fallback = pricing::PriceKey {
                    key: "default".into(),
                    iops: None,
                    throughput_mi_bps: None,
                };
                let charge =
                    pricing::storage_charge(&price, bytes, key.as_ref().unwrap_or(&fallback));
                let priced: Priced = (
                    charge.monthly,
                    key.ok().map(|k| k.key),
                    charge.tier,
                    unknown,
                );
                prices.insert(cache_key, priced.clone());
                priced
            }
        }
    };

    let (idle, state) = match (pv, claim) {
        (None, _) => (false, "pending"),
        (Some(v), _) if v.phase == "Released" => (true, "released"),
        // Bound to a claim the input does not hold: whether it is mounted is unknown.
        (Some(v), None) if v.claim.is_some() && v.phase == "Bound" => (false, "claim-not-in-input"),
        (Some(_), None) => (true, "unbound"),
        (Some(_), Some(_)) if pods.is_empty() => (true, "unmounted"),
        _ => (false, ""),
    };
    if idle {
        flags.push("idle".to_owned());
    }
    if !state.is_empty() {
        flags.push(state.to_owned());
    }
    if unknown.is_some() {
        flags.push("unknown-price".into());
    }
    if pods.len() > 1 {
        flags.push("shared".into());
    }
    if pv.is_some_and(|v| v.terminating) {
        flags.push("terminating".into());
    }

    let zones = pv.zip(pv_id).map(|(v, id)| {
        let ids = g.out_edges(id, EdgeKind::InZone);
        let zones: Vec<String> = ids
            .into_iter()
            .filter_map(|(z, _)| match z {
                NodeId::Zone(z) => Some(z.clone()),
                _ => None,
            })
            .collect();
        let state = if !zones.is_empty() {
            "zonal"
        } else if crate::topology::volume_zones(v, &[]) == VolumeZones::Unpinned {
            "unpinned"
        } else {
            "unknown"
        };
        (zones, state)
    });
    let (mut zone_list, zone_state) = zones.unwrap_or((Vec::new(), "unknown"));
    zone_list.sort();

    let mut workloads: BTreeMap<WorkloadRef, usize> = BTreeMap::new();
    for (_, w) in &pods {
        *workloads.entry(w.clone()).or_default() += 1;
    }
    let n = pods.len().max(1) as f64;
    VolumeCost {
        namespace: claim
            .map(|(_, c)| c.namespace.clone())
            .or_else(|| pv.and_then(|v| v.claim.as_ref().map(|c| c.namespace.clone()))),
        pvc: claim
            .map(|(_, c)| c.name.clone())
            .or_else(|| pv.and_then(|v| v.claim.as_ref().map(|c| c.name.clone()))),
        pv: pv.map(|v| v.name.clone()),
        storage_class: class_name,
        zones: zone_list,
        zone_state: zone_state.into(),
        capacity_bytes: capacity,
        used_bytes: None,
        monthly_cost_usd: monthly,
        idle,
        flags,
        price_key: key,
        price_tier: tier,
        unknown_price_reason: unknown,
        pods: pods.iter().map(|(p, _)| p.label()).collect(),
        workloads: workloads
            .into_iter()
            .map(|(w, count)| WorkloadShare {
                share: count as f64 / n,
                monthly_cost_usd: monthly * (count as f64 / n),
                kind: w.kind,
                namespace: w.namespace,
                name: w.name,
            })
            .collect(),
    }
}

/// Orders items; money and capacity descend, names ascend.
pub fn sort(items: &mut [VolumeCost], by: SortBy) {
    items.sort_by(|a, b| compare(a, b, by));
}

/// The order of [`sort`]. Ties fall back to names so the order is stable across readers.
pub fn compare(a: &VolumeCost, b: &VolumeCost, by: SortBy) -> std::cmp::Ordering {
    fn name(v: &VolumeCost) -> (Option<&str>, Option<&str>, Option<&str>) {
        (v.namespace.as_deref(), v.pvc.as_deref(), v.pv.as_deref())
    }
    let primary = match by {
        SortBy::Cost | SortBy::Capacity => by_value(
            by,
            (a.monthly_cost_usd, a.capacity_bytes),
            (b.monthly_cost_usd, b.capacity_bytes),
        ),
        SortBy::Name => a.pvc.cmp(&b.pvc).then_with(|| a.pv.cmp(&b.pv)),
        SortBy::Namespace => a.namespace.cmp(&b.namespace),
        SortBy::Zone => a.zones.cmp(&b.zones),
        SortBy::Class => a.storage_class.cmp(&b.storage_class),
    };
    primary.then_with(|| name(a).cmp(&name(b)))
}

/// Aggregates items (`--by`). Workloads get their shares; idle volumes count under
/// `<namespace>/(idle)`.
pub fn group(items: &[VolumeCost], by: GroupBy) -> Vec<CostGroup> {
    let mut groups: BTreeMap<String, CostGroup> = BTreeMap::new();
    let mut add = |key: String, v: &VolumeCost, share: f64| {
        let g = groups.entry(key.clone()).or_insert_with(|| CostGroup {
            key,
            volumes: 0,
            capacity_bytes: 0,
            monthly_cost_usd: Money::ZERO,
            idle_monthly_cost_usd: Money::ZERO,
            unknown_price_volumes: 0,
        });
        g.volumes += 1;
        g.capacity_bytes += (v.capacity_bytes.unwrap_or(0) as f64 * share).round() as u64;
        g.monthly_cost_usd += v.monthly_cost_usd * share;
        if v.idle {
            g.idle_monthly_cost_usd += v.monthly_cost_usd * share;
        }
        if v.unknown_price_reason.is_some() {
            g.unknown_price_volumes += 1;
        }
    };
    let ns = |v: &VolumeCost| {
        v.namespace
            .clone()
            .unwrap_or_else(|| "(no namespace)".into())
    };
    for v in items {
        match by {
            GroupBy::Namespace => add(ns(v), v, 1.0),
            GroupBy::Class => add(
                v.storage_class
                    .clone()
                    .unwrap_or_else(|| "(no class)".into()),
                v,
                1.0,
            ),
            GroupBy::Zone => {
                let key = if v.zones.is_empty() {
                    format!("({})", v.zone_state)
                } else {
                    v.zones.join(",")
                };
                add(key, v, 1.0);
            }
            GroupBy::Workload => {
                if v.workloads.is_empty() {
                    add(format!("{}/(idle)", ns(v)), v, 1.0);
                }
                for w in &v.workloads {
                    add(format!("{}/{}/{}", w.namespace, w.kind, w.name), v, w.share);
                }
            }
        }
    }
    let mut out: Vec<CostGroup> = groups.into_values().collect();
    sort_groups(&mut out, SortBy::Cost);
    out
}

/// Orders aggregates: by cost or capacity (descending), else by key, the one name a group
/// has (`--sort name|namespace|zone|class` on `--by` output).
pub fn sort_groups(groups: &mut [CostGroup], by: SortBy) {
    groups.sort_by(|a, b| {
        by_value(
            by,
            (a.monthly_cost_usd, Some(a.capacity_bytes)),
            (b.monthly_cost_usd, Some(b.capacity_bytes)),
        )
        .then_with(|| a.key.cmp(&b.key))
    });
}

/// The value orders shared by volumes and groups: money and capacity descend; orders by
/// name leave the tie to the caller.
fn by_value(
    by: SortBy,
    (a_usd, a_bytes): (Money, Option<u64>),
    (b_usd, b_bytes): (Money, Option<u64>),
) -> std::cmp::Ordering {
    match by {
        SortBy::Cost => b_usd.usd().total_cmp(&a_usd.usd()),
        SortBy::Capacity => b_bytes.cmp(&a_bytes),
        SortBy::Name | SortBy::Namespace | SortBy::Zone | SortBy::Class => {
            std::cmp::Ordering::Equal
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::collect::{Scope, read_paths};
    use crate::graph::{BuildOptions, build};
    use crate::traffic::FlowSet;

    fn demo() -> CostReport {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/examples/demo/cluster");
        let snapshot = read_paths(&[dir])
            .unwrap_or_else(|e| panic!("{e}"))
            .into_snapshot(&Scope::default());
        let g = build(&snapshot, &FlowSet::none(), &BuildOptions::default());
        cost_report(&g, &PriceBook::bundled().unwrap_or_else(|e| panic!("{e}")))
    }

    fn row<'a>(r: &'a CostReport, pv: Option<&str>, pvc: Option<&str>) -> &'a VolumeCost {
        r.items
            .iter()
            .find(|i| {
                (pv.is_none() || i.pv.as_deref() == pv)
                    && (pvc.is_none() || i.pvc.as_deref() == pvc)
            })
            .unwrap_or_else(|| panic!("no row {pv:?} {pvc:?}"))
    }

    #[test]
    fn idle_released_unbound_and_pending() {
        let r = demo();
        let released = row(&r, Some("pvc-reports-2023"), None);
        assert_eq!(
            (released.idle, released.flags.clone()),
            (true, vec!["idle".to_owned(), "released".to_owned()])
        );
        assert_eq!(
            released.namespace.as_deref(),
            Some("analytics"),
            "attributed to the claim's namespace"
        );
        assert_eq!(released.monthly_cost_usd.cents(), 75.00); // 750 GiB gp2 x $0.10
        let unbound = row(&r, Some("manual-backup"), None);
        assert_eq!((unbound.idle, unbound.namespace.clone()), (true, None));
        assert!(unbound.flags.contains(&"unbound".to_owned()));
        assert!(
            unbound.flags.contains(&"unknown-price".to_owned()),
            "a static EBS PV with no class has no known type"
        );
        let pending = row(&r, None, Some("warehouse-tmp"));
        assert_eq!(
            (pending.idle, pending.monthly_cost_usd.cents()),
            (false, 0.0)
        );
        assert_eq!(pending.flags, vec!["pending".to_owned()]);
        assert_eq!(r.total_monthly_cost_usd.cents(), 745.04);
    }

    #[test]
    fn groups_add_up_to_the_total() {
        let r = demo();
        for by in [
            GroupBy::Namespace,
            GroupBy::Workload,
            GroupBy::Class,
            GroupBy::Zone,
        ] {
            let total: Money = group(&r.items, by).iter().map(|g| g.monthly_cost_usd).sum();
            assert_eq!(total.cents(), r.total_monthly_cost_usd.cents(), "{by:?}");
        }
        let by_workload = group(&r.items, GroupBy::Workload);
        let media = by_workload
            .iter()
            .find(|g| g.key == "shop/Deployment/media")
            .map(|g| g.monthly_cost_usd.cents());
        assert_eq!(
            media,
            Some(307.20),
            "three pods of one workload: the whole shared volume"
        );
    }

    #[test]
    fn groups_sort_by_value_or_name() {
        let r = demo();
        let mut g = group(&r.items, GroupBy::Workload);
        let ordered = |g: &[CostGroup], f: fn(&CostGroup, &CostGroup) -> bool| {
            g.windows(2).all(|w| f(&w[0], &w[1]))
        };
        assert!(ordered(&g, |a, b| a.monthly_cost_usd.usd()
            >= b.monthly_cost_usd.usd()));
        sort_groups(&mut g, SortBy::Capacity);
        assert!(ordered(&g, |a, b| a.capacity_bytes >= b.capacity_bytes));
        sort_groups(&mut g, SortBy::Name);
        assert!(ordered(&g, |a, b| a.key <= b.key));
        assert!(g.len() > 2);
    }
}
