//! vault-agent: counts what each pod sends and receives, by remote address, with eBPF
//! cgroup_skb programs, and serves it as JSON (/flows) and Prometheus text (/metrics).

mod cgroups;
mod conntrack;
mod flows;
mod http;
mod kernel;
mod kube;
mod metrics;
mod mounts;
mod state;
mod sys;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use clap::Parser;
use cloudvault::traffic::NetworkMap;
use ipnet::IpNet;

use crate::cgroups::CgroupIndex;
use crate::flows::{Classifier, FlowTable, NodeNet};
use crate::kernel::{Options, Probe};
use crate::state::{Health, Shared, lock, read};

/// Attributes every byte a pod sends and receives to the pod and a destination class.
#[derive(Debug, Parser)]
#[command(name = "vault-agent", version)]
struct Args {
    /// cgroup v2 directory the programs attach to (default: the cgroup2 mount)
    #[arg(long, value_name = "PATH")]
    cgroup_root: Option<PathBuf>,
    /// bpffs directory where maps and links are pinned
    #[arg(long, value_name = "PATH", default_value = "/sys/fs/bpf/cloudvault")]
    pin_dir: PathBuf,
    /// CIDR map (the plugin's --network YAML): zones/regions/classes of address ranges
    #[arg(long, value_name = "FILE")]
    network: Option<PathBuf>,
    /// How often the kernel counters are drained, e.g. 10s, 500ms, 1m
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    interval: Duration,
    /// HTTP address for /flows, /metrics, /healthz, /readyz
    #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:9477")]
    listen: SocketAddr,
    /// kubeconfig file (default: in-cluster config, then $KUBECONFIG)
    #[arg(long, value_name = "FILE")]
    kubeconfig: Option<PathBuf>,
    /// This node's name (default: $NODE_NAME, then the hostname)
    #[arg(long, env = "NODE_NAME")]
    node: Option<String>,
    /// Run without a Kubernetes API: pods are known by the UID and container ID in their
    /// cgroup path, classes come from --network, --zone and --region
    #[arg(long)]
    standalone: bool,
    /// This node's zone (standalone)
    #[arg(long)]
    zone: Option<String>,
    /// This node's region (standalone)
    #[arg(long)]
    region: Option<String>,
    /// This node's pod CIDRs and addresses, classed same-node (standalone; repeatable)
    #[arg(long = "local-cidr", value_name = "CIDR")]
    local_cidrs: Vec<IpNet>,
    /// Service ClusterIP range(s): traffic to them is moved to the backend the node's
    /// conntrack table shows (repeatable)
    #[arg(long = "service-cidr", value_name = "CIDR")]
    service_cidrs: Vec<IpNet>,
    /// The node's conntrack table (the agent runs in the node's network namespace)
    #[arg(long, value_name = "FILE", default_value = "/proc/net/nf_conntrack")]
    conntrack: PathBuf,
    /// Size bound of the kernel flow map (entries of cgroup x remote address)
    #[arg(long, default_value_t = 65536)]
    map_size: u32,
    /// Remove the pinned programs and maps (detaching the agent) and exit
    #[arg(long)]
    unpin: bool,
    /// Where kernel BTF is looked for
    #[arg(long, hide = true, default_value = "/sys/kernel/btf/vmlinux")]
    btf_path: PathBuf,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || format!("{s:?} is not a duration; write it like 10s, 500ms or 1m");
    let (num, unit) = s
        .find(|c: char| !c.is_ascii_digit())
        .map_or((s, ""), |i| s.split_at(i));
    let n: u64 = num.parse().map_err(|_| bad())?;
    let d = match unit {
        "ms" => Duration::from_millis(n),
        "s" | "" => Duration::from_secs(n),
        "m" => Duration::from_secs(n * 60),
        _ => return Err(bad()),
    };
    if d.is_zero() {
        return Err(format!("{s:?}: the interval must be more than zero"));
    }
    Ok(d)
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let args = Args::parse();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vault-agent: error: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes on one line, each cause once (our messages already quote
/// the OS error they wrap).
fn one_line(e: &anyhow::Error) -> String {
    let mut msg = String::new();
    for cause in e.chain() {
        let s = cause.to_string();
        if msg.contains(&s) {
            continue;
        }
        if !msg.is_empty() {
            msg.push_str(": ");
        }
        msg.push_str(&s);
    }
    msg.replace('\n', " ")
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn run(args: Args) -> anyhow::Result<()> {
    if args.unpin {
        kernel::unpin_all(&args.pin_dir)
            .with_context(|| format!("removing {}", args.pin_dir.display()))?;
        tracing::info!(pin_dir = %args.pin_dir.display(), "unpinned: programs detached, counters freed");
        return Ok(());
    }
    let network = match &args.network {
        Some(p) => NetworkMap::load(p)?,
        None => NetworkMap::default(),
    };
    let mounts = mounts::read().context("reading /proc/self/mountinfo")?;
    let cgroup_mount = mounts::cgroup2(&mounts)
        .map(PathBuf::from)
        .ok_or(kernel::KernelError::CgroupV1Only)?;
    let cgroup_root = args
        .cgroup_root
        .clone()
        .unwrap_or_else(|| cgroup_mount.clone());
    // Walk the cgroup2 mount the programs attach under: in a pod that is the host's
    // hierarchy mounted at e.g. /host/sys/fs/cgroup, not the container's own view.
    let cgroup_mount = match mounts::mount_of(&mounts, &cgroup_root) {
        Some(m) if m.fstype == "cgroup2" => m.point.clone(),
        _ => cgroup_mount,
    };
    let node = match args.node.clone() {
        Some(n) => n,
        None => std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_owned())
            .context("reading the hostname; pass --node")?,
    };
    if !args.standalone && (args.zone.is_some() || args.region.is_some()) {
        bail!(
            "--zone and --region are for --standalone; with a cluster they come from the Node's labels"
        );
    }
    let probe = Probe::load(&Options {
        cgroup_root: cgroup_root.clone(),
        pin_dir: args.pin_dir.clone(),
        map_size: args.map_size,
        btf_path: args.btf_path.clone(),
    })?;
    tracing::info!(
        cgroup_root = %cgroup_root.display(),
        pin_dir = %args.pin_dir.display(),
        mode = probe.attach_mode,
        map_size = probe.map_size,
        "programs attached"
    );
    let shared = Arc::new(Shared {
        table: Mutex::new(FlowTable::new(
            CgroupIndex::new(cgroup_mount),
            args.service_cidrs.clone(),
        )),
        classifier: RwLock::new(Classifier {
            local: NodeNet {
                name: node.clone(),
                zone: args.zone.clone(),
                region: args.region.clone(),
                cidrs: args.local_cidrs.clone(),
            },
            others: Vec::new(),
            network,
        }),
        pods: RwLock::new(Default::default()),
        health: Mutex::new(Health {
            map_capacity: probe.map_size,
            ..Health::default()
        }),
        attached: AtomicBool::new(false),
        pods_synced: AtomicBool::new(false),
        standalone: args.standalone,
        first_start: probe.first_start,
    });
    let mut probe = probe;
    let conntrack = args.conntrack.clone();
    drain_once(&mut probe, &shared, &conntrack);
    shared.attached.store(true, Ordering::Release);
    {
        let shared = Arc::clone(&shared);
        let interval = args.interval;
        std::thread::Builder::new()
            .name("drain".into())
            .spawn(move || drain_loop(probe, shared, interval, &conntrack))
            .context("starting the drain thread")?;
    }

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(serve(args, node, shared))
}

async fn serve(args: Args, node: String, shared: Arc<Shared>) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("--listen {}: cannot bind; pick a free address", args.listen))?;
    tracing::info!(listen = %args.listen, "serving /flows /metrics /healthz /readyz");
    let app = axum::serve(listener, http::router(Arc::clone(&shared)));
    if args.standalone {
        tokio::select! {
            r = app => r.context("HTTP server")?,
            _ = tokio::signal::ctrl_c() => {}
        }
        return Ok(());
    }
    let client = kube_client(args.kubeconfig.as_deref()).await?;
    tokio::select! {
        r = app => r.context("HTTP server")?,
        r = kube::watch_pods(client.clone(), node.clone(), Arc::clone(&shared)) => r.context("watching this node's pods")?,
        r = kube::watch_nodes(client, node, Arc::clone(&shared)) => r.context("watching nodes")?,
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(())
}

async fn kube_client(kubeconfig: Option<&std::path::Path>) -> anyhow::Result<::kube::Client> {
    let config = match kubeconfig {
        Some(path) => {
            let kc = ::kube::config::Kubeconfig::read_from(path)
                .with_context(|| format!("--kubeconfig {}", path.display()))?;
            ::kube::Config::from_custom_kubeconfig(kc, &Default::default())
                .await
                .with_context(|| format!("--kubeconfig {}", path.display()))?
        }
        None => ::kube::Config::infer().await.context(
            "no Kubernetes config (not in a pod, no $KUBECONFIG); pass --kubeconfig or --standalone",
        )?,
    };
    ::kube::Client::try_from(config).context("building the Kubernetes client")
}

fn drain_loop(mut probe: Probe, shared: Arc<Shared>, interval: Duration, conntrack: &Path) {
    loop {
        std::thread::sleep(interval);
        drain_once(&mut probe, &shared, conntrack);
    }
}

/// Reads the kernel map into the flow table and refreshes the health figures; says in
/// the log what to do about anything that loses or misattributes bytes.
/// Backends of the ClusterIPs in `snapshot`, read from conntrack only when some key is a
/// ClusterIP. A table that cannot be read leaves that traffic on the ClusterIP (class
/// unknown) and says so.
fn service_backends(
    shared: &Shared,
    snapshot: &[(kernel::FlowKey, kernel::Counters)],
    conntrack: &Path,
) -> Option<conntrack::Backends> {
    let services = {
        let table = lock(&shared.table);
        snapshot.iter().any(|(k, _)| table.is_service(k.remote))
    };
    if !services {
        return None;
    }
    match std::fs::read_to_string(conntrack) {
        Ok(text) => Some(conntrack::Backends::from_entries(
            &conntrack::parse(&text),
            lock(&shared.table).services(),
        )),
        Err(e) => {
            lock(&shared.health).conntrack_errors += 1;
            tracing::warn!(
                path = %conntrack.display(),
                "cannot read the conntrack table ({e}): traffic to Service ClusterIPs stays on the ClusterIP with class unknown; run the agent in the node's network namespace (hostNetwork) with nf_conntrack loaded"
            );
            None
        }
    }
}

fn drain_once(probe: &mut Probe, shared: &Shared, conntrack: &Path) {
    let t0 = Instant::now();
    let snapshot = match probe.read_flows() {
        Ok(s) => s,
        Err(e) => {
            lock(&shared.health).drain_errors += 1;
            tracing::warn!("draining the flow map failed: {e}");
            return;
        }
    };
    let backends = service_backends(shared, &snapshot, conntrack);
    let report = {
        let mut table = lock(&shared.table);
        for (key, _) in &snapshot {
            if !table.knows(key.cgroup_id)
                && let Some(path) = probe.recall(key.cgroup_id)
            {
                table.preload(key.cgroup_id, path);
            }
        }
        table.drain(&snapshot, backends.as_ref())
    };
    for (id, path) in &report.resolved {
        if let Err(e) = probe.remember(*id, path) {
            tracing::warn!(
                cgroup_id = id,
                "cannot record the cgroup's path for later agents: {e}"
            );
        }
    }
    for id in &report.unknown_cgroups {
        tracing::warn!(
            cgroup_id = id,
            "traffic from a cgroup that is not in the cgroup tree: reported with owner unknown; it exited before a drain saw it (lower --interval) or the agent does not see the host's /sys/fs/cgroup"
        );
    }
    let stats = probe.stats();
    let pods_without_cgroup = if shared.standalone {
        0
    } else {
        let uids: Vec<String> = read(&shared.pods)
            .iter()
            .filter(|(_, m)| m.expects_cgroup)
            .map(|(u, _)| u.clone())
            .collect();
        lock(&shared.table).pods_without_cgroup(&uids)
    };
    let unknown = lock(&shared.table).unknown_cgroups();
    let mut h = lock(&shared.health);
    let evicted_before = h.evictions();
    let dropped_before = h.kernel.insert_failed;
    h.map_entries = report.entries;
    match stats {
        Ok(s) => h.kernel = s,
        Err(e) => tracing::warn!("reading the kernel stats failed: {e}"),
    }
    h.drains += 1;
    h.recreated_total += report.recreated as u64;
    h.unknown_cgroups = unknown;
    h.last_drain_seconds = t0.elapsed().as_secs_f64();
    h.last_drain_end = now_secs();
    if h.pods_without_cgroup != pods_without_cgroup && pods_without_cgroup > 0 {
        tracing::warn!(
            pods = pods_without_cgroup,
            "pods of this node have no cgroup under the cgroup mount: their traffic cannot be attributed; mount the host's /sys/fs/cgroup into the agent"
        );
    }
    h.pods_without_cgroup = pods_without_cgroup;
    if h.evictions() > evicted_before && h.drains > 1 {
        tracing::warn!(
            evicted = h.evictions() - evicted_before,
            entries = h.map_entries,
            capacity = h.map_capacity,
            "flow map full: idle entries were evicted and their bytes since the last drain lost; raise --map-size or lower --interval"
        );
    }
    if h.kernel.insert_failed > dropped_before {
        tracing::warn!(
            dropped = h.kernel.insert_failed - dropped_before,
            "packets not counted: their map entry could not be created; raise --map-size"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("7"), Ok(Duration::from_secs(7)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("ten").is_err());
        assert!(parse_duration("5h").is_err());
    }
}
