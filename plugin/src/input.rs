//! Flags every read command shares, and turning them into a SIG: readers -> snapshot
//! -> graph. Views never see the readers.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use clap::{Args, ValueEnum};
use cloudvault::collect::{self, Scope};
use cloudvault::graph::{self, BuildOptions, EmbeddedStore};
use cloudvault::model::{ClusterSnapshot, LabelSelector};
use cloudvault::pricing::{PriceBook, PriceTable};
use cloudvault::topology::Provider;
use cloudvault::traffic::{FlowSet, NetworkMap, vpc};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Table,
    Wide,
    Json,
    Yaml,
    Csv,
}

#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long, global = true, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use.
    #[arg(long, global = true)]
    pub context: Option<String>,
    /// Only this namespace (default: the context's namespace; with --from-file, all).
    #[arg(short = 'n', long, global = true, conflicts_with = "all_namespaces")]
    pub namespace: Option<String>,
    /// All namespaces.
    #[arg(short = 'A', long, global = true)]
    pub all_namespaces: bool,
    /// Label selector for pods and claims (as kubectl -l: app=web,tier!=db).
    #[arg(short = 'l', long, global = true, value_parser = parse_selector)]
    pub selector: Option<LabelSelector>,
    /// Read `kubectl get -o yaml|json` output (file or directory) instead of a cluster. Repeatable.
    #[arg(long = "from-file", global = true, value_name = "PATH")]
    pub from_file: Vec<PathBuf>,
    /// Cloud provider, overriding node labels and providerIDs.
    #[arg(long, global = true, value_parser = ["aws", "gcp", "azure"])]
    pub provider: Option<String>,
    /// Region for list prices, overriding node labels.
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// YAML price overrides (same format as assets/pricing/*.yaml). Repeatable.
    #[arg(long, global = true, value_name = "FILE")]
    pub pricing: Vec<PathBuf>,
    /// Seconds to wait for each kind's list from the cluster.
    #[arg(long, global = true, default_value_t = 60, value_name = "SECONDS")]
    pub request_timeout: u64,
    /// Output format.
    #[arg(short = 'o', long, global = true, value_enum, default_value_t = Output::Table)]
    pub output: Output,
    /// More logs on stderr (-v, -vv, -vvv).
    #[arg(short = 'v', long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// Flow inputs (gravity).
#[derive(Debug, Clone, Args)]
pub struct FlowArgs {
    /// AWS VPC Flow Logs file (default or custom format, gzip accepted). Repeatable.
    #[arg(long, value_name = "FILE")]
    pub flows: Vec<PathBuf>,
    /// CIDR map of networks outside the cluster (YAML `networks:` list of {cidr, zone?, region?, class?}).
    #[arg(long, value_name = "FILE")]
    pub network: Option<PathBuf>,
}

/// Reads the cluster (live or dumps) into a snapshot; `read_peers` as [`Scope::read_peers`].
pub fn snapshot(g: &GlobalArgs, read_peers: bool) -> Result<ClusterSnapshot> {
    let selector = g.selector.clone().unwrap_or_default();
    if !g.from_file.is_empty() {
        // A dump has no current namespace: all namespaces unless -n says otherwise.
        let scope = Scope {
            namespace: g.namespace.clone(),
            selector,
            read_peers,
        };
        let raw = collect::read_paths(&g.from_file)?;
        return Ok(raw.into_snapshot(&scope));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start the async runtime: {e}"))?;
    runtime.block_on(async {
        let conn = collect::live::connect(g.kubeconfig.as_deref(), g.context.as_deref()).await?;
        let (client, default_ns) = (&conn.client, conn.namespace.clone());
        let namespace = match (&g.namespace, g.all_namespaces) {
            (Some(ns), _) => Some(ns.clone()),
            (None, true) => None,
            (None, false) => Some(default_ns),
        };
        let scope = Scope {
            namespace,
            selector,
            read_peers,
        };
        let raw = collect::read_live(client, &scope, Duration::from_secs(g.request_timeout))
            .await
            .map_err(|e| e.at(&conn.server))?;
        Ok(raw.into_snapshot(&scope))
    })
}

pub fn price_book(g: &GlobalArgs) -> Result<PriceBook> {
    let mut book = PriceBook::bundled()?;
    for p in &g.pricing {
        let table = PriceTable::load(p)?;
        book.apply(table, &p.display().to_string());
    }
    Ok(book)
}

pub fn flows(f: &FlowArgs) -> Result<(FlowSet, NetworkMap)> {
    let network = match &f.network {
        Some(p) => NetworkMap::load(p)?,
        None => NetworkMap::default(),
    };
    let set = if f.flows.is_empty() {
        FlowSet::none()
    } else {
        vpc::read_flow_logs(&f.flows)?
    };
    Ok((set, network))
}

pub fn graph(
    g: &GlobalArgs,
    snapshot: &ClusterSnapshot,
    flows: &FlowSet,
    network: NetworkMap,
) -> Result<EmbeddedStore> {
    let provider = g
        .provider
        .as_deref()
        .map(str::parse::<Provider>)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let opts = BuildOptions {
        provider,
        region: g.region.clone(),
        network,
    };
    Ok(graph::build(snapshot, flows, &opts))
}

/// Parsed by clap so a bad selector is a usage error (exit 2).
fn parse_selector(s: &str) -> Result<LabelSelector, String> {
    LabelSelector::parse(s).map_err(|e| e.to_string())
}
