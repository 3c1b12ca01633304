//! TUI frame benchmark: 10k volumes and 30k pods must stay fluid (a frame in <= 10 ms).
//!
//! Generates a cluster dump (300 nodes in 3 zones, 30k pods, 10k claims/volumes, flows
//! between pods), loads it through the same code as `kubectl vault ui`, then draws each
//! view many times into an off-screen 160x48 buffer and prints per-frame times. The
//! baseline, in the same run, is the same views drawn on an empty cluster; the ratio says
//! what the data costs on top of drawing the screen.
//!
//!   cargo run --release -p kubectl-vault --example tui_bench [-- PODS VOLUMES FRAMES]

// The TUI lives in the binary crate; the benchmark compiles the same sources.
#![allow(dead_code, unused_imports)]

#[path = "../src/input.rs"]
mod input;
#[path = "../src/tui/mod.rs"]
mod tui;
#[path = "../src/views/mod.rs"]
mod views;

use std::io::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::json;

use tui::data;
use tui::keymap;
use tui::state::App;

fn generate(
    dir: &std::path::Path,
    pods: usize,
    volumes: usize,
) -> anyhow::Result<(std::path::PathBuf, std::path::PathBuf)> {
    let zones = ["us-east-1a", "us-east-1b", "us-east-1c"];
    let nodes = 300;
    let mut items = Vec::new();
    for n in 0..nodes {
        let z = zones[n % 3];
        items.push(json!({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": format!("node-{n:03}"), "labels": {
                "topology.kubernetes.io/zone": z, "topology.kubernetes.io/region": "us-east-1"}},
            "spec": {"providerID": format!("aws:///{z}/i-{n:017}")},
            "status": {"addresses": [{"type": "InternalIP", "address": format!("10.1.{}.{}", n / 250, n % 250 + 1)}]}
        }));
    }
    items.push(json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
        "metadata": {"name": "gp3"}, "provisioner": "ebs.csi.aws.com", "parameters": {"type": "gp3"}}));
    // One StatefulSet per 3 pods: pod i of a set mounts claim i when i < volumes.
    let sets = pods / 3;
    for s in 0..sets {
        let ns = format!("team-{:02}", s % 40);
        items.push(json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": format!("db-{s}"), "namespace": ns},
            "spec": {"replicas": 3, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
                     "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}}));
    }
    for p in 0..pods {
        let s = p / 3;
        let ns = format!("team-{:02}", s % 40);
        let node = p % nodes;
        let mut pod = json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": format!("db-{s}-{}", p % 3), "namespace": ns,
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": format!("db-{s}"), "uid": "u", "controller": true}]},
            "spec": {"nodeName": format!("node-{node:03}"), "containers": [{"name": "c", "image": "i"}]},
            "status": {"phase": "Running", "podIP": format!("10.2.{}.{}", p / 250, p % 250 + 1), "podIPs": [{"ip": format!("10.2.{}.{}", p / 250, p % 250 + 1)}]}
        });
        if p < volumes {
            pod["spec"]["volumes"] =
                json!([{"name": "d", "persistentVolumeClaim": {"claimName": format!("data-{p}")}}]);
        }
        items.push(pod);
    }
    for v in 0..volumes.min(pods) {
        let s = v / 3;
        let ns = format!("team-{:02}", s % 40);
        let z = zones[(v % nodes) % 3];
        items.push(json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": format!("data-{v}"), "namespace": ns},
            "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "gp3", "volumeName": format!("pv-{v}"),
                     "resources": {"requests": {"storage": "100Gi"}}},
            "status": {"phase": "Bound", "capacity": {"storage": "100Gi"}}}));
        items.push(json!({"apiVersion": "v1", "kind": "PersistentVolume",
            "metadata": {"name": format!("pv-{v}")},
            "spec": {"capacity": {"storage": "100Gi"}, "accessModes": ["ReadWriteOnce"], "storageClassName": "gp3",
                     "claimRef": {"namespace": ns, "name": format!("data-{v}")},
                     "csi": {"driver": "ebs.csi.aws.com", "volumeHandle": format!("vol-{v}")},
                     "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                         {"key": "topology.kubernetes.io/zone", "operator": "In", "values": [z]}]}]}}},
            "status": {"phase": "Bound"}}));
    }
    let dump = dir.join("cluster.json");
    std::fs::write(
        &dump,
        serde_json::to_vec(&json!({"apiVersion": "v1", "kind": "List", "items": items}))?,
    )?;
    // Flows: each pod with a volume talks to the next pod (another node, often another zone).
    let flows = dir.join("flows.log");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&flows)?);
    writeln!(
        f,
        "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
    )?;
    let ip = |p: usize| format!("10.2.{}.{}", p / 250, p % 250 + 1);
    for p in 0..volumes.min(pods) {
        let q = (p + 1) % pods;
        writeln!(
            f,
            "2 1 eni-{p} {} {} 40000 5432 6 10 {} 1764547200 1764633600 ACCEPT OK",
            ip(q),
            ip(p),
            1u64 << 30
        )?;
    }
    f.flush()?;
    Ok((dump, flows))
}

struct Timing {
    median: Duration,
    p99: Duration,
}

fn time_frames(app: &App, frames: usize) -> anyhow::Result<Timing> {
    let mut term = Terminal::new(TestBackend::new(app.size.0, app.size.1))?;
    let mut times = Vec::with_capacity(frames);
    for _ in 0..frames {
        let t = Instant::now();
        term.draw(|f| tui::draw::draw(f, app))?;
        times.push(t.elapsed());
    }
    times.sort();
    Ok(Timing {
        median: times[times.len() / 2],
        p99: times[(times.len() * 99 / 100).min(times.len() - 1)],
    })
}

fn press(app: &mut App, keys: &str) {
    for c in keys.chars() {
        let code = match c {
            '\n' => KeyCode::Enter,
            c => KeyCode::Char(c),
        };
        if let Some(a) = keymap::action_for(app.mode, KeyEvent::new(code, KeyModifiers::NONE)) {
            let _ = app.apply(a);
        }
    }
}

/// (name, keys from the start): the views a user walks through.
const VIEWS: [(&str, &str); 6] = [
    ("overview", ""),
    ("volumes", ":volumes\n"),
    ("volumes, scrolled to the end", ":volumes\nG"),
    ("gravity tree", ":gravity\n"),
    ("gravity, filtered", ":gravity\n/db-1\n"),
    ("workload details", ":gravity\n/db-1\n\n"),
];

fn main() -> anyhow::Result<()> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let pods = args.first().copied().unwrap_or(30_000);
    let volumes = args.get(1).copied().unwrap_or(10_000);
    let frames = args.get(2).copied().unwrap_or(200);
    let dir = tempfile::tempdir()?;
    let (dump, flows) = generate(dir.path(), pods, volumes)?;
    let t = Instant::now();
    let big = Arc::new(data::load_paths(vec![dump], vec![flows])?);
    let load = t.elapsed();
    let empty_dump = dir.path().join("empty.json");
    std::fs::write(
        &empty_dump,
        r#"{"apiVersion":"v1","kind":"List","items":[]}"#,
    )?;
    let empty = Arc::new(data::load_paths(vec![empty_dump], vec![])?);
    println!(
        "cluster: {} pods, {} volumes, {} pinned workloads, {} tree nodes; load (read, graph, reports, tree) {:.2} s",
        pods,
        big.cost.items.len(),
        big.gravity.items.len(),
        big.tree.len(),
        load.as_secs_f64()
    );
    println!(
        "{frames} frames per view at 160x48 into an off-screen buffer; baseline = the same view of an empty cluster"
    );
    println!(
        "{:<30} {:>12} {:>12} {:>14} {:>14} {:>8}",
        "view", "median ms", "p99 ms", "baseline ms", "baseline p99", "ratio"
    );
    let mut worst = Duration::ZERO;
    for (name, keys) in VIEWS {
        let mut a = App::new((160, 48), true);
        a.set_data(big.clone());
        let t = Instant::now();
        press(&mut a, keys);
        let keys_time = t.elapsed();
        let m = time_frames(&a, frames)?;
        let mut b = App::new((160, 48), true);
        b.set_data(empty.clone());
        press(&mut b, keys);
        let base = time_frames(&b, frames)?;
        worst = worst.max(m.p99);
        println!(
            "{:<30} {:>12.3} {:>12.3} {:>14.3} {:>14.3} {:>8.1}   (keys {:.1} ms)",
            name,
            m.median.as_secs_f64() * 1e3,
            m.p99.as_secs_f64() * 1e3,
            base.median.as_secs_f64() * 1e3,
            base.p99.as_secs_f64() * 1e3,
            m.median.as_secs_f64() / base.median.as_secs_f64().max(1e-9),
            keys_time.as_secs_f64() * 1e3
        );
    }
    println!(
        "worst p99 frame: {:.3} ms (target <= 10 ms)",
        worst.as_secs_f64() * 1e3
    );
    Ok(())
}
