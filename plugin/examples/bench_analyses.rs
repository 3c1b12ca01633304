//! Benchmark program (not a timed test): how long the analyses take on a big snapshot.
//!
//!   cargo run -p kubectl-vault --release --example bench_analyses -- --synthetic 10000
//!   cargo run -p kubectl-vault --release --example bench_analyses -- DUMP_PATH...
//!
//! Prints, best of 5 runs, the time to build the SIG and to run cost and gravity, and
//! the ratio against the goal (100 ms for gravity + cost, SIG included). With dumps, each
//! pod with a volume gets synthetic agent flows to two other pods so gravity has work.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Result;
use cloudvault::collect::{Scope, read_paths};
use cloudvault::graph::{BuildOptions, build};
use cloudvault::model::{
    Claim, ClassRequest, ClusterSnapshot, Controller, Node, OwnerRef, PersistentVolume, Pod,
    Requirement, SelectorTerm, StorageClass, VolumeSource,
};
use cloudvault::pricing::PriceBook;
use cloudvault::traffic::{Flow, FlowEnd, FlowSet, FlowSource, Window};

// The allocator of the kubectl-vault binary, so the figures are the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const GOAL: Duration = Duration::from_millis(100);
const RUNS: usize = 5;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let t0 = Instant::now();
    let snapshot = match args.as_slice() {
        [flag, n] if flag == "--synthetic" => synthetic(n.parse()?),
        paths if !paths.is_empty() => {
            read_paths(&paths.iter().map(PathBuf::from).collect::<Vec<_>>())?
                .into_snapshot(&Scope::default())
        }
        _ => anyhow::bail!("usage: bench_analyses --synthetic N | DUMP_PATH..."),
    };
    let load = t0.elapsed();
    let flows = flows_for(&snapshot);
    let book = PriceBook::bundled()?;
    println!(
        "snapshot: {} nodes, {} pods, {} claims, {} volumes, {} flows (loaded in {:.1} ms)",
        snapshot.nodes.len(),
        snapshot.pods.len(),
        snapshot.claims.len(),
        snapshot.volumes.len(),
        flows.flows.len(),
        load.as_secs_f64() * 1e3
    );
    // Wall time and this thread's CPU time (from the scheduler): on a shared, loaded
    // machine the CPU time is what the code costs, the wall time what a user waits.
    let (mut b, mut c, mut g) = ([Duration::MAX; 2], [Duration::MAX; 2], [Duration::MAX; 2]);
    let (mut items, mut pinned) = (0, 0);
    let min = |acc: &mut [Duration; 2], t: Instant, cpu: Option<Duration>| {
        acc[0] = acc[0].min(t.elapsed());
        let spent = cpu_time()
            .zip(cpu)
            .map_or(Duration::MAX, |(now, then)| now.saturating_sub(then));
        acc[1] = acc[1].min(spent);
    };
    for _ in 0..RUNS {
        let (t, cpu) = (Instant::now(), cpu_time());
        let sig = build(&snapshot, &flows, &BuildOptions::default());
        min(&mut b, t, cpu);
        let (t, cpu) = (Instant::now(), cpu_time());
        let cost = cloudvault::cost::cost_report(&sig, &book);
        min(&mut c, t, cpu);
        let (t, cpu) = (Instant::now(), cpu_time());
        let gravity = cloudvault::gravity::gravity_report(&sig, &book);
        min(&mut g, t, cpu);
        items = cost.items.len();
        pinned = gravity.items.len();
    }
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    for (i, what) in [(0, "wall"), (1, "cpu")] {
        let analyses = c[i] + g[i];
        println!(
            "{what}: sig build {:.1} ms, cost {:.1} ms ({items} volumes), gravity {:.1} ms ({pinned} pinned workloads); cost+gravity {:.1} ms (ratio to the {:.0} ms goal {:.2}); with the sig build {:.1} ms (ratio {:.2})",
            ms(b[i]),
            ms(c[i]),
            ms(g[i]),
            ms(analyses),
            ms(GOAL),
            analyses.as_secs_f64() / GOAL.as_secs_f64(),
            ms(analyses + b[i]),
            (analyses + b[i]).as_secs_f64() / GOAL.as_secs_f64()
        );
    }
    Ok(())
}

/// CPU time this thread has run, from `/proc/thread-self/schedstat` (nanoseconds).
fn cpu_time() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace()
        .next()?
        .parse()
        .ok()
        .map(Duration::from_nanos)
}

/// Agent-style flows: each pod with a volume exchanges bytes with two other pods.
fn flows_for(s: &ClusterSnapshot) -> FlowSet {
    let window = Window {
        start: 0,
        end: 86_400,
    };
    let with_ips: Vec<&Pod> = s.pods.iter().filter(|p| !p.pod_ips.is_empty()).collect();
    let mut flows = Vec::new();
    for (i, p) in with_ips
        .iter()
        .enumerate()
        .filter(|(_, p)| !p.claims.is_empty())
    {
        for k in [7usize, 131] {
            let peer = with_ips[(i + k) % with_ips.len()];
            flows.push(Flow {
                source: FlowEnd::Pod {
                    namespace: p.namespace.clone(),
                    name: p.name.clone(),
                },
                source_ip: None,
                source_port: None,
                remote: peer.pod_ips[0],
                remote_port: None,
                remote_hint: None,
                bytes_out: 1 << 30,
                bytes_in: 3 << 30,
                window,
            });
        }
    }
    FlowSet {
        source: FlowSource::Agent,
        flows,
        window: Some(window),
        notes: vec![],
    }
}

fn ip(n: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, (n >> 16) as u8, (n >> 8) as u8, n as u8))
}

/// N StatefulSet pods with one zonal gp3 volume each, spread over 150 nodes in 3 zones,
/// plus N/5 stateless pods.
fn synthetic(n: usize) -> ClusterSnapshot {
    let zones = ["us-east-1a", "us-east-1b", "us-east-1c"];
    let nodes: Vec<Node> = (0..150)
        .map(|i| Node {
            name: format!("node-{i}"),
            labels: BTreeMap::from([
                (
                    "topology.kubernetes.io/zone".to_owned(),
                    zones[i % 3].to_owned(),
                ),
                (
                    "topology.kubernetes.io/region".to_owned(),
                    "us-east-1".to_owned(),
                ),
                ("kubernetes.io/hostname".to_owned(), format!("node-{i}")),
            ]),
            provider_id: Some(format!("aws:///{}/i-{i}", zones[i % 3])),
            addresses: vec![ip(200_000 + i)],
        })
        .collect();
    let mut s = ClusterSnapshot {
        nodes,
        classes: vec![StorageClass {
            name: "gp3".into(),
            provisioner: "ebs.csi.aws.com".into(),
            parameters: BTreeMap::from([("type".into(), "gp3".into())]),
            is_default: true,
        }],
        ..ClusterSnapshot::default()
    };
    for i in 0..n {
        let ns = format!("team-{}", i % 50);
        let sts = format!("db-{}", i / 3);
        let node = i % 150;
        let pod = format!("{sts}-{}", i % 3);
        let claim = format!("data-{pod}");
        let pv = format!("pvc-{i}");
        s.controllers.push(Controller {
            kind: "StatefulSet".into(),
            namespace: ns.clone(),
            name: sts.clone(),
            owner: None,
        });
        s.pods.push(Pod {
            namespace: ns.clone(),
            name: pod,
            labels: BTreeMap::new(),
            node_name: Some(format!("node-{node}")),
            phase: "Running".into(),
            pod_ips: vec![ip(i)],
            host_network: false,
            claims: vec![claim.clone()],
            owner: Some(OwnerRef {
                kind: "StatefulSet".into(),
                name: sts,
            }),
            node_selector: BTreeMap::new(),
            required_affinity: None,
            ports: vec![5432],
        });
        s.claims.push(Claim {
            namespace: ns.clone(),
            name: claim.clone(),
            labels: BTreeMap::new(),
            class: ClassRequest::Named("gp3".into()),
            volume_name: Some(pv.clone()),
            phase: "Bound".into(),
            request_bytes: Some(100 << 30),
            capacity_bytes: Some(100 << 30),
            attributes_class: None,
            access_modes: vec!["ReadWriteOnce".into()],
        });
        s.volumes.push(PersistentVolume {
            name: pv,
            labels: BTreeMap::new(),
            annotations: BTreeMap::new(),
            capacity_bytes: Some(100 << 30),
            storage_class: Some("gp3".into()),
            claim: Some(cloudvault::model::ObjectRef {
                namespace: ns,
                name: claim,
            }),
            phase: "Bound".into(),
            node_affinity: Some(vec![SelectorTerm {
                match_expressions: vec![Requirement {
                    key: "topology.kubernetes.io/zone".into(),
                    operator: "In".into(),
                    values: vec![zones[node % 3].into()],
                }],
                match_fields: vec![],
            }]),
            source: VolumeSource::Csi {
                driver: "ebs.csi.aws.com".into(),
                handle: format!("vol-{i}"),
                attributes: BTreeMap::new(),
            },
            access_modes: vec!["ReadWriteOnce".into()],
            attributes_class: None,
            terminating: false,
        });
    }
    for i in 0..n / 5 {
        s.pods.push(Pod {
            namespace: format!("team-{}", i % 50),
            name: format!("web-{i}"),
            labels: BTreeMap::new(),
            node_name: Some(format!("node-{}", (i * 7) % 150)),
            phase: "Running".into(),
            pod_ips: vec![ip(100_000 + i)],
            host_network: false,
            claims: vec![],
            owner: None,
            node_selector: BTreeMap::new(),
            required_affinity: None,
            ports: vec![8080],
        });
    }
    s.normalize();
    s
}
