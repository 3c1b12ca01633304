//! What the TUI shows, loaded in one go: readers -> snapshot -> graph -> the `top` and
//! `gravity` reports, plus the Region -> Zone -> Node -> Workload -> Pod -> Volume tree
//! read from the SIG. Views only format these; every money figure comes from the
//! core's reports.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use anyhow::Result;
use cloudvault::collect::{self, RawObjects, Scope};
use cloudvault::cost::{self, CostGroup, CostReport, GroupBy, VolumeCost};
use cloudvault::graph::{EdgeKind, GraphStore, NodeData, NodeId, NodeKind};
use cloudvault::gravity::{self, GravityReport, NO_TRAFFIC, Peer, WorkloadGravity};
use cloudvault::model::{Money, ObjectRef, WorkloadRef};
use cloudvault::pricing::{self, PriceBook, StorageCharge, TransferPrice};
use cloudvault::traffic::agent::dedup_pairs;
use cloudvault::traffic::attribute::Resolver;
use cloudvault::traffic::{DestinationClass, FlowSet};

use crate::input::{self, FlowArgs, GlobalArgs};

/// Everything that says where the data came from, for the status line and overview.
#[derive(Debug, Clone, PartialEq)]
pub struct Sources {
    /// `context NAME` for a live cluster, `files: a, b` for dumps.
    pub cluster: String,
    /// The same, short enough for the status line.
    pub short: String,
    /// The kubeconfig context, when live.
    pub context: Option<String>,
    /// `vpc-flow-logs`, `agent` or `none`.
    pub traffic: String,
    pub traffic_detail: String,
    pub pricing: Vec<String>,
    pub namespace: String,
}

/// One row of the gravity tree.
#[derive(Debug, Clone, PartialEq)]
pub struct TreeNode {
    pub item: Item,
    pub parent: Option<usize>,
    pub children: Vec<usize>,
    pub depth: usize,
}

/// What a tree row stands for; the details pane looks it up by this.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Region(String),
    Zone(String),
    Node(String),
    /// A workload's pods on one node, with its gravity (from the gravity report).
    Workload {
        workload: WorkloadRef,
        gravity: Option<usize>,
        pods: usize,
        /// Gravity of its pinned pods on this node: a workload spread over nodes shows
        /// under each, and each shows its own part, so zones do not count it twice.
        here: Option<Money>,
    },
    /// A peer of a workload's pinned pods (gravity report `topPeers`).
    Peer {
        gravity: usize,
        pod: usize,
        peer: usize,
    },
    Pod {
        pod: ObjectRef,
        /// (workload index in the gravity report, pod index in it) when pinned.
        pinned: Option<(usize, usize)>,
    },
    /// A volume by its index in the cost report.
    Volume(usize),
    /// The idle volumes of a zone.
    IdleGroup {
        zone: String,
        count: usize,
        cost: Money,
    },
}

/// A volume's monthly cost split into its parts (capacity, IOPS, throughput).
#[derive(Debug, Clone, PartialEq)]
pub struct Breakdown {
    pub charge: Option<StorageCharge>,
    /// Why there is no breakdown (unknown price, pending claim, mismatch).
    pub note: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Data {
    pub cost: CostReport,
    pub gravity: GravityReport,
    pub by_zone: Vec<CostGroup>,
    pub by_class: Vec<CostGroup>,
    pub by_namespace: Vec<CostGroup>,
    pub tree: Vec<TreeNode>,
    /// Roots of the tree (regions), in order.
    pub roots: Vec<usize>,
    /// Breakdown per cost report item.
    pub breakdowns: Vec<Breakdown>,
    /// Transfer prices per class for the arithmetic behind gravity.
    pub transfer: BTreeMap<String, TransferPrice>,
    pub sources: Sources,
    pub raw: RawObjects,
    pub refreshed_at: SystemTime,
}

/// The inputs a load reads, as given on the command line; `:ns` and `:ctx` change them.
#[derive(Debug, Clone)]
pub struct Inputs {
    pub global: GlobalArgs,
    pub flows: FlowArgs,
}

impl Inputs {
    pub fn is_live(&self) -> bool {
        self.global.from_file.is_empty()
    }
}

/// Reads dumps (`--from-file`) into data.
pub fn load_files(inputs: &Inputs) -> Result<Data> {
    let g = &inputs.global;
    let raw = collect::read_paths(&g.from_file)?;
    let scope = Scope {
        namespace: g.namespace.clone(),
        selector: g.selector.clone().unwrap_or_default(),
        read_peers: true,
    };
    let files: Vec<String> = g
        .from_file
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let mut data = build(
        inputs,
        raw,
        &scope,
        format!("files: {}", files.join(", ")),
        None,
        None,
    )?;
    // File names only on the status line, which is short.
    let names: Vec<String> = g
        .from_file
        .iter()
        .map(|p| {
            p.file_name().map_or_else(
                || p.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            )
        })
        .collect();
    data.sources.short = format!("files: {}", names.join(", "));
    Ok(data)
}

/// Reads a live cluster into data, through a [`collect::live::connect`] connection.
pub async fn load_live(
    inputs: &Inputs,
    conn: &collect::live::Connection,
    context: Option<String>,
) -> Result<Data> {
    let (client, default_ns) = (&conn.client, conn.namespace.as_str());
    let g = &inputs.global;
    let namespace = match (&g.namespace, g.all_namespaces) {
        (Some(ns), _) => Some(ns.clone()),
        (None, true) => None,
        (None, false) => Some(default_ns.to_owned()),
    };
    let scope = Scope {
        namespace,
        selector: g.selector.clone().unwrap_or_default(),
        read_peers: true,
    };
    let raw = collect::read_live(client, &scope, Duration::from_secs(g.request_timeout))
        .await
        .map_err(|e| e.at(&conn.server))?;
    // No flow file: the in-cluster agents, when they run (as `gravity` does).
    let agent = if inputs.flows.flows.is_empty() {
        collect::agents::read(client).await?
    } else {
        None
    };
    let inputs = inputs.clone();
    let label = format!("context {}", context.as_deref().unwrap_or("(default)"));
    // Graph building and the analyses are CPU work: off the async workers.
    tokio::task::spawn_blocking(move || build(&inputs, raw, &scope, label, context, agent))
        .await
        .map_err(|e| anyhow::anyhow!("the data load stopped: {e}"))?
}

/// `Err` with a one-line reason when the kubeconfig has no context `name` (`:ctx`).
pub fn check_context(g: &GlobalArgs, name: &str) -> Result<(), String> {
    let kc = collect::live::read_kubeconfig(g.kubeconfig.as_deref())
        .map_err(|e| format!("cannot read the {e}"))?;
    if kc.contexts.iter().any(|c| c.name == name) {
        return Ok(());
    }
    let names: Vec<&str> = kc.contexts.iter().map(|c| c.name.as_str()).collect();
    Err(format!(
        "no context {name:?} in the kubeconfig (it has: {}); staying on the current one",
        names.join(", ")
    ))
}

/// The kubeconfig's current context, for the status line (`--context` wins).
pub fn context_name(g: &GlobalArgs) -> Option<String> {
    if let Some(c) = &g.context {
        return Some(c.clone());
    }
    collect::live::read_kubeconfig(g.kubeconfig.as_deref())
        .ok()?
        .current_context
}

fn build(
    inputs: &Inputs,
    raw: RawObjects,
    scope: &Scope,
    cluster: String,
    context: Option<String>,
    agent: Option<FlowSet>,
) -> Result<Data> {
    let g = &inputs.global;
    let (mut flows, network) = input::flows(&inputs.flows)?;
    let snapshot = raw.clone().into_snapshot(scope);
    if let Some(mut set) = agent {
        // Pod pairs both agents report are counted once.
        dedup_pairs(&mut set, &Resolver::new(&snapshot));
        flows = set;
    }
    let book = input::price_book(g)?;
    let graph = input::graph(g, &snapshot, &flows, network)?;
    let cost = cost::cost_report(&graph, &book);
    let gravity = gravity::gravity_report(&graph, &book);
    let (tree, roots) = build_tree(&graph, &cost, &gravity);
    let breakdowns = cost
        .items
        .iter()
        .map(|v| breakdown(&graph, &book, v))
        .collect();
    let transfer = transfer_prices(&graph, &book);
    let traffic = gravity.metadata.flow_source.clone();
    let traffic_detail = if gravity.status == NO_TRAFFIC {
        "no traffic data: pass --flows FILE or install the agent".to_owned()
    } else {
        format!(
            "{} over {:.1} h",
            traffic,
            gravity.metadata.window_hours.unwrap_or_default()
        )
    };
    let mut pricing = cost.metadata.pricing_sources.clone();
    pricing.extend(cost.metadata.pricing_overrides.iter().cloned());
    Ok(Data {
        by_zone: cost::group(&cost.items, GroupBy::Zone),
        by_class: cost::group(&cost.items, GroupBy::Class),
        by_namespace: cost::group(&cost.items, GroupBy::Namespace),
        sources: Sources {
            short: cluster.clone(),
            cluster,
            context,
            traffic,
            traffic_detail,
            pricing,
            namespace: scope
                .namespace
                .clone()
                .unwrap_or_else(|| "all namespaces".into()),
        },
        cost,
        gravity,
        tree,
        roots,
        breakdowns,
        transfer,
        raw,
        refreshed_at: SystemTime::now(),
    })
}

/// Transfer prices by class name of the detected provider, as the price book has them.
fn transfer_prices(g: &dyn GraphStore, book: &PriceBook) -> BTreeMap<String, TransferPrice> {
    let Some(table) = g.meta().provider.and_then(|p| book.tables.get(&p)) else {
        return BTreeMap::new();
    };
    DestinationClass::ALL
        .iter()
        .filter_map(|c| table.transfer.get(*c).map(|p| (c.as_str().to_owned(), p)))
        .collect()
}

/// The parts of a volume's charge, from the same pricing functions the cost report
/// uses; kept only when they add up to the report's figure, so the pane never shows a
/// second opinion.
fn breakdown(g: &dyn GraphStore, book: &PriceBook, v: &VolumeCost) -> Breakdown {
    let none = |note: &str| Breakdown {
        charge: None,
        note: Some(note.to_owned()),
    };
    if let Some(reason) = &v.unknown_price_reason {
        return none(&format!(
            "no known price ({reason}): priced by the default and flagged"
        ));
    }
    let (Some(pv_name), Some(bytes)) = (&v.pv, v.capacity_bytes) else {
        return none("no volume yet: nothing is billed");
    };
    let Some(NodeData::Volume(pv)) = g.node(&NodeId::Volume(pv_name.clone())) else {
        return none("the volume is not in the graph");
    };
    let class = v
        .storage_class
        .as_ref()
        .and_then(|n| match g.node(&NodeId::Class(n.clone())) {
            Some(NodeData::Class(c)) => Some(c.as_ref()),
            _ => None,
        });
    let claim_vac = v
        .pvc
        .as_ref()
        .zip(v.namespace.as_ref())
        .and_then(|(n, ns)| {
            match g.node(&NodeId::Claim(ObjectRef {
                namespace: ns.clone(),
                name: n.clone(),
            })) {
                Some(NodeData::Claim(c)) => c.attributes_class.clone(),
                _ => None,
            }
        });
    let vac = claim_vac
        .or_else(|| pv.attributes_class.clone())
        .and_then(|n| g.meta().attributes_classes.get(&n));
    let price = match v.storage_class.as_ref().and_then(|n| book.classes.get(n)) {
        Some(p) => Some(p.clone()),
        None => v
            .price_key
            .as_ref()
            .and_then(|k| book.storage(k, g.meta().region.as_deref())),
    };
    let (Some(price), Ok(key)) = (price, pricing::price_key(class, Some(pv), vac, bytes)) else {
        return none("no price table entry for this volume");
    };
    let charge = pricing::storage_charge(&price, bytes, &key);
    if (charge.monthly.cents() - v.monthly_cost_usd.cents()).abs() > 0.005 {
        return none("the parts do not add up to the report's figure; showing the total only");
    }
    Breakdown {
        charge: Some(charge),
        note: None,
    }
}

const UNKNOWN_REGION: &str = "(unknown region)";
const UNKNOWN_ZONE: &str = "(unknown zone)";
const UNSCHEDULED: &str = "(unscheduled)";

struct TreeBuilder {
    nodes: Vec<TreeNode>,
}

impl TreeBuilder {
    fn add(&mut self, parent: Option<usize>, item: Item) -> usize {
        let i = self.nodes.len();
        let depth = parent.map_or(0, |p| self.nodes[p].depth + 1);
        self.nodes.push(TreeNode {
            item,
            parent,
            children: Vec::new(),
            depth,
        });
        if let Some(p) = parent {
            self.nodes[p].children.push(i);
        }
        i
    }
}

fn first_target<'a>(g: &'a dyn GraphStore, id: &NodeId, kind: EdgeKind) -> Option<&'a NodeId> {
    g.out_edges(id, kind).into_iter().map(|(t, _)| t).next()
}

/// Region -> Zone -> Node -> Workload -> (peers, Pod -> Volume), plus each zone's idle
/// volumes. Workloads under a node are ordered by gravity, the rest by name.
fn build_tree(
    g: &dyn GraphStore,
    cost: &CostReport,
    grav: &GravityReport,
) -> (Vec<TreeNode>, Vec<usize>) {
    // region -> zone -> node -> workload -> pods
    type Pods = BTreeMap<WorkloadRef, Vec<ObjectRef>>;
    let mut layout: BTreeMap<String, BTreeMap<String, BTreeMap<String, Pods>>> = BTreeMap::new();
    let zone_region = |zone: &NodeId| {
        first_target(g, zone, EdgeKind::InRegion)
            .map_or_else(|| UNKNOWN_REGION.into(), NodeId::label)
    };
    let node_place = |node: &NodeId| match first_target(g, node, EdgeKind::InZone) {
        Some(z) => (zone_region(z), z.label()),
        None => (UNKNOWN_REGION.to_owned(), UNKNOWN_ZONE.to_owned()),
    };
    for (id, _) in g.nodes_of(NodeKind::Node) {
        let (r, z) = node_place(id);
        layout
            .entry(r)
            .or_default()
            .entry(z)
            .or_default()
            .entry(node_name(id))
            .or_default();
    }
    for (id, d) in g.nodes_of(NodeKind::Pod) {
        let NodeData::Pod(p) = d else { continue };
        if g.meta().is_peer(id) {
            continue;
        }
        let (r, z, n) = match first_target(g, id, EdgeKind::RunsOn) {
            Some(node) => {
                let (r, z) = node_place(node);
                (r, z, node_name(node))
            }
            None => (
                UNKNOWN_REGION.to_owned(),
                UNKNOWN_ZONE.to_owned(),
                UNSCHEDULED.to_owned(),
            ),
        };
        let w = match first_target(g, id, EdgeKind::OwnedBy) {
            Some(NodeId::Workload(w)) => w.clone(),
            _ => WorkloadRef {
                kind: "Pod".into(),
                namespace: p.namespace.clone(),
                name: p.name.clone(),
            },
        };
        layout
            .entry(r)
            .or_default()
            .entry(z)
            .or_default()
            .entry(n)
            .or_default()
            .entry(w)
            .or_default()
            .push(p.key());
    }
    // Idle volumes by zone, so they sit next to what they could have served.
    let mut idle: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
    for (i, v) in cost.items.iter().enumerate().filter(|(_, v)| v.idle) {
        let zones: Vec<String> = if v.zones.is_empty() {
            vec![UNKNOWN_ZONE.to_owned()]
        } else {
            v.zones.clone()
        };
        for z in zones {
            let r = if z == UNKNOWN_ZONE {
                UNKNOWN_REGION.to_owned()
            } else {
                zone_region(&NodeId::Zone(z.clone()))
            };
            layout
                .entry(r.clone())
                .or_default()
                .entry(z.clone())
                .or_default();
            idle.entry((r, z)).or_default().push(i);
        }
    }

    let gravity_of: HashMap<&WorkloadRef, usize> = grav
        .items
        .iter()
        .enumerate()
        .map(|(i, w)| (&w.workload, i))
        .collect();
    let volume_of: HashMap<&str, usize> = cost
        .items
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.pv.as_deref().map(|p| (p, i)))
        .collect();
    let claim_volume: HashMap<(&str, &str), usize> = cost
        .items
        .iter()
        .enumerate()
        .filter_map(|(i, v)| Some(((v.namespace.as_deref()?, v.pvc.as_deref()?), i)))
        .collect();

    let mut b = TreeBuilder { nodes: Vec::new() };
    let mut roots = Vec::new();
    for (region, zones) in &layout {
        let r = b.add(None, Item::Region(region.clone()));
        roots.push(r);
        for (zone, nodes) in zones {
            let z = b.add(Some(r), Item::Zone(zone.clone()));
            for (node, workloads) in nodes {
                let n = b.add(Some(z), Item::Node(node.clone()));
                let mut ws: Vec<(&WorkloadRef, &Vec<ObjectRef>)> = workloads.iter().collect();
                let grav_usd = |w: &WorkloadRef| {
                    gravity_of
                        .get(w)
                        .and_then(|i| grav.items[*i].gravity_monthly_usd)
                        .map_or(f64::MIN, Money::usd)
                };
                ws.sort_by(|a, b| grav_usd(b.0).total_cmp(&grav_usd(a.0)).then(a.0.cmp(b.0)));
                for (w, pods) in ws {
                    let gi = gravity_of.get(w).copied();
                    let here = gi.and_then(|gi| {
                        grav.items[gi]
                            .pods
                            .iter()
                            .filter(|p| pods.iter().any(|o| o.name == p.name))
                            .map(|p| p.gravity_monthly_usd)
                            .sum()
                    });
                    let wn = b.add(
                        Some(n),
                        Item::Workload {
                            workload: w.clone(),
                            gravity: gi,
                            pods: pods.len(),
                            here,
                        },
                    );
                    if let Some(gi) = gi {
                        add_peers(&mut b, wn, gi, &grav.items[gi], pods);
                    }
                    for pod in pods {
                        let pinned = gi.and_then(|gi| {
                            grav.items[gi]
                                .pods
                                .iter()
                                .position(|p| p.name == pod.name)
                                .map(|pi| (gi, pi))
                        });
                        let pn = b.add(
                            Some(wn),
                            Item::Pod {
                                pod: pod.clone(),
                                pinned,
                            },
                        );
                        for v in pod_volumes(g, pod, &volume_of, &claim_volume) {
                            b.add(Some(pn), Item::Volume(v));
                        }
                    }
                }
            }
            if let Some(vols) = idle.get(&(region.clone(), zone.clone())) {
                // A volume in two zones is listed under both; each zone's total takes its
                // share, so the zones add up to the volumes' cost.
                let total: Money = vols
                    .iter()
                    .map(|i| {
                        let v = &cost.items[*i];
                        v.monthly_cost_usd * (1.0 / v.zones.len().max(1) as f64)
                    })
                    .sum();
                let ig = b.add(
                    Some(z),
                    Item::IdleGroup {
                        zone: zone.clone(),
                        count: vols.len(),
                        cost: total,
                    },
                );
                for v in vols {
                    b.add(Some(ig), Item::Volume(*v));
                }
            }
        }
    }
    (b.nodes, roots)
}

/// The peers behind a workload's gravity, for its pods on this node.
fn add_peers(
    b: &mut TreeBuilder,
    parent: usize,
    gi: usize,
    w: &WorkloadGravity,
    pods: &[ObjectRef],
) {
    for (pi, p) in w.pods.iter().enumerate() {
        if !pods.iter().any(|o| o.name == p.name) {
            continue;
        }
        for (k, _) in p.top_peers.iter().enumerate() {
            b.add(
                Some(parent),
                Item::Peer {
                    gravity: gi,
                    pod: pi,
                    peer: k,
                },
            );
        }
    }
}

fn node_name(id: &NodeId) -> String {
    match id {
        NodeId::Node(n) => n.clone(),
        other => other.label(),
    }
}

fn pod_volumes(
    g: &dyn GraphStore,
    pod: &ObjectRef,
    volume_of: &HashMap<&str, usize>,
    claim_volume: &HashMap<(&str, &str), usize>,
) -> Vec<usize> {
    let mut out = BTreeSet::new();
    for (claim, _) in g.out_edges(&NodeId::Pod(pod.clone()), EdgeKind::Mounts) {
        let bound = g.out_edges(claim, EdgeKind::BoundTo);
        if let Some((NodeId::Volume(v), _)) = bound.first() {
            if let Some(i) = volume_of.get(v.as_str()) {
                out.insert(*i);
            }
        } else if let NodeId::Claim(c) = claim
            && let Some(i) = claim_volume.get(&(c.namespace.as_str(), c.name.as_str()))
        {
            out.insert(*i);
        }
    }
    out.into_iter().collect()
}

impl Data {
    pub fn peer(&self, gravity: usize, pod: usize, peer: usize) -> Option<&Peer> {
        self.gravity
            .items
            .get(gravity)?
            .pods
            .get(pod)?
            .top_peers
            .get(peer)
    }

    /// Path of node indices from a root down to `i`.
    pub fn path(&self, mut i: usize) -> Vec<usize> {
        let mut path = vec![i];
        while let Some(p) = self.tree.get(i).and_then(|n| n.parent) {
            path.push(p);
            i = p;
        }
        path.reverse();
        path
    }

    /// Idle volumes: count and monthly cost (the cost report's figures).
    pub fn idle(&self) -> (usize, Money) {
        let idle: Vec<&VolumeCost> = self.cost.items.iter().filter(|v| v.idle).collect();
        (idle.len(), idle.iter().map(|v| v.monthly_cost_usd).sum())
    }
}

#[allow(dead_code, reason = "used by the tests and the benchmark")]
/// A loaded data set for tests and benchmarks: reads dumps and flow files directly.
pub fn load_paths(from_file: Vec<PathBuf>, flows: Vec<PathBuf>) -> Result<Data> {
    use clap::Parser;
    // The same flags a user types, so tests go through the same parsing.
    #[derive(Debug, Parser)]
    struct Args {
        #[command(flatten)]
        global: GlobalArgs,
        #[command(flatten)]
        flows: FlowArgs,
    }
    let mut argv: Vec<String> = vec!["kubectl-vault".into()];
    for f in &from_file {
        argv.push("--from-file".into());
        argv.push(f.display().to_string());
    }
    for f in &flows {
        argv.push("--flows".into());
        argv.push(f.display().to_string());
    }
    let a = Args::try_parse_from(argv)?;
    load_files(&Inputs {
        global: a.global,
        flows: a.flows,
    })
}
