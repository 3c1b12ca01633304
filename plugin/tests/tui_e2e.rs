//! End-to-end: the real `kubectl-vault` binary in a real terminal (tmux), driven by keys,
//! checked on the captured screen. On the bundled example, and on the live test control
//! plane (tests/cluster, scenario `small`) with flow logs written from its pods' real
//! addresses.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_kubectl-vault");

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// One tmux server (own socket) running one command; killed on drop.
struct Tmux {
    socket: String,
}

static N: AtomicUsize = AtomicUsize::new(0);

fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

impl Tmux {
    /// Starts `argv` (with `env` set) in a `w`x`h` terminal; after it exits the shell
    /// prints `EXITED <code>` and waits, so the screen can be read.
    fn start(argv: &[String], env: &[(&str, &str)], w: u16, h: u16) -> Self {
        let socket = format!(
            "cv-tui-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        let mut cmd = String::from("env");
        for (k, v) in env {
            cmd.push_str(&format!(" {k}={}", sh_quote(v)));
        }
        for a in argv {
            cmd.push(' ');
            cmd.push_str(&sh_quote(a));
        }
        cmd.push_str("; echo EXITED $?; sleep 600");
        let t = Tmux { socket };
        let out = t
            .tmux()
            .args([
                "new-session",
                "-d",
                "-x",
                &w.to_string(),
                "-y",
                &h.to_string(),
            ])
            .arg(format!("sh -c {}", sh_quote(&cmd)))
            .output()
            .unwrap_or_else(|e| panic!("cannot run tmux (bash scripts/setup.sh installs it): {e}"));
        assert!(
            out.status.success(),
            "tmux new-session: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        t
    }

    fn tmux(&self) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.socket]);
        c
    }

    /// Types text literally.
    fn type_text(&self, text: &str) {
        let ok = self
            .tmux()
            .args(["send-keys", "-l", text])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "send-keys {text:?}");
        std::thread::sleep(Duration::from_millis(150));
    }

    /// Presses named keys (Enter, Escape, Tab, C-c).
    fn press(&self, key: &str) {
        let ok = self
            .tmux()
            .args(["send-keys", key])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "send-keys {key}");
        std::thread::sleep(Duration::from_millis(150));
    }

    fn screen(&self, escapes: bool) -> String {
        let mut c = self.tmux();
        c.args(["capture-pane", "-p"]);
        if escapes {
            c.arg("-e");
        }
        let out = c.output().unwrap_or_else(|e| panic!("capture-pane: {e}"));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits until the screen shows every needle; panics with the screen if it does not.
    fn wait_for(&self, needles: &[&str], timeout: Duration) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen(false);
            if needles.iter().all(|n| s.contains(n)) {
                return s;
            }
            if start.elapsed() > timeout {
                panic!("screen never showed {needles:?} in {timeout:?}:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.tmux().arg("kill-server").status();
    }
}

fn demo_args(log: &Path) -> Vec<String> {
    let ex = repo().join("assets/examples/demo");
    vec![
        BIN.to_owned(),
        "--from-file".into(),
        ex.join("cluster").display().to_string(),
        "--flows".into(),
        ex.join("flows/worked-example.log").display().to_string(),
        "--flows".into(),
        ex.join("flows/shop-v5.log.gz").display().to_string(),
        "--log-file".into(),
        log.display().to_string(),
        "-v".into(),
    ]
}

const LOAD: Duration = Duration::from_secs(30);

#[test]
fn bundled_example_gravity_filter_enter() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let log = dir.path().join("tui.log");
    let t = Tmux::start(&demo_args(&log), &[], 120, 40);
    let s = t.wait_for(&["Largest gravity", "$304.17 shop/StatefulSet/pg"], LOAD);
    assert!(s.contains("Storage $745.04/month over 11 volume(s)"), "{s}");
    t.type_text(":gravity");
    t.press("Enter");
    t.wait_for(&["gravity: 3 pinned workload(s)"], LOAD);
    t.type_text("/pg");
    t.press("Enter");
    t.press("Enter");
    let s = t.wait_for(&["workload shop/StatefulSet/pg"], LOAD);
    assert!(
        s.contains("gravity $304.17/month = now $304.17 - in its best zone $0.00"),
        "{s}"
    );
    assert!(s.contains("best zone us-east-1b"), "{s}");
    assert!(s.contains("= $3.33 per 24.0 h"), "{s}");
    // Logs went to the file, never to the screen.
    assert!(!s.contains("INFO") && !s.contains("DEBUG"), "{s}");
    t.press("Escape");
    t.press("Escape");
    t.type_text(":q");
    t.press("Enter");
    let s = t.wait_for(&["EXITED 0"], LOAD);
    // The alternate screen is gone: only the shell's line is left.
    assert!(!s.contains("CloudVault"), "{s}");
    let logged = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(logged.contains("data refreshed"), "log file: {logged}");
}

#[test]
fn ctrl_c_restores_the_terminal_and_no_color_is_respected() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let log = dir.path().join("tui.log");
    let coloured = Tmux::start(&demo_args(&log), &[], 100, 30);
    coloured.wait_for(&["Largest gravity"], LOAD);
    let plain = Tmux::start(&demo_args(&log), &[("NO_COLOR", "1")], 100, 30);
    plain.wait_for(&["Largest gravity"], LOAD);
    // tmux writes foreground colours as SGR `38;5;N` (or `3X` for the basic eight).
    let has_colour =
        |s: &str| s.contains("38;5;") || (30..=37).any(|c| s.contains(&format!("\x1b[{c}m")));
    let with = coloured.screen(true);
    let without = plain.screen(true);
    assert!(has_colour(&with), "{with:?}");
    assert!(!has_colour(&without), "{without:?}");
    // Resizing the terminal redraws without a crash.
    let _ = plain
        .tmux()
        .args(["resize-window", "-x", "60", "-y", "15"])
        .status();
    plain.wait_for(&["CloudVault"], LOAD);
    plain.press("C-c");
    let s = plain.wait_for(&["EXITED 0"], LOAD);
    assert!(!s.contains("Largest gravity"), "{s}");
}

/// A kubeconfig for the live test cluster: `$KUBECONFIG` as scripts/test.sh sets it, or
/// one this test starts (and stops) with tests/cluster/up.
struct Cluster {
    kubeconfig: PathBuf,
    started: bool,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if self.started {
            let _ = Command::new(repo().join("tests/cluster/down"))
                .args(["--name", "tui-e2e"])
                .status();
        }
    }
}

fn live_cluster() -> Option<Cluster> {
    if let Some(k) = std::env::var_os("KUBECONFIG").filter(|k| !k.is_empty()) {
        return Some(Cluster {
            kubeconfig: PathBuf::from(k),
            started: false,
        });
    }
    let up = repo().join("tests/cluster/up");
    if !up.exists() {
        eprintln!("skipped: tests/cluster is not in this checkout yet and $KUBECONFIG is unset");
        return None;
    }
    let out = Command::new(&up)
        .args(["--name", "tui-e2e", "--scenario", "small"])
        .output()
        .unwrap_or_else(|e| panic!("tests/cluster/up: {e}"));
    assert!(
        out.status.success(),
        "tests/cluster/up: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .trim()
        .to_owned();
    Some(Cluster {
        kubeconfig: PathBuf::from(path),
        started: true,
    })
}

/// (pod name, IP, zone) of the running pods of `ns` whose name starts with `prefix`.
async fn pods(client: &kube::Client, ns: &str, prefix: &str) -> Vec<(String, String, String)> {
    use k8s_openapi::api::core::v1::{Node, Pod};
    let pods: kube::Api<Pod> = kube::Api::namespaced(client.clone(), ns);
    let nodes: kube::Api<Node> = kube::Api::all(client.clone());
    let mut out = Vec::new();
    let list = pods
        .list(&Default::default())
        .await
        .unwrap_or_else(|e| panic!("list pods: {e}"));
    for p in list.items {
        let name = p.metadata.name.clone().unwrap_or_default();
        let ip = p.status.as_ref().and_then(|s| s.pod_ip.clone());
        let node = p.spec.as_ref().and_then(|s| s.node_name.clone());
        let (Some(ip), Some(node)) = (ip, node) else {
            continue;
        };
        if !name.starts_with(prefix) {
            continue;
        }
        let zone = nodes
            .get(&node)
            .await
            .ok()
            .and_then(|n| {
                n.metadata
                    .labels?
                    .get("topology.kubernetes.io/zone")
                    .cloned()
            })
            .unwrap_or_default();
        out.push((name, ip, zone));
    }
    out
}

#[test]
fn live_cluster_gravity_filter_enter() {
    let Some(cluster) = live_cluster() else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap_or_else(|e| panic!("{e}"));
    // Flow logs from the pods' real addresses: a day of 30 GiB from a web pod to
    // postgres-0 and 90 GiB back, with web in another zone than postgres-0's volume.
    let (pg, web) = rt.block_on(async {
        let kc = kube::config::Kubeconfig::read_from(&cluster.kubeconfig)
            .unwrap_or_else(|e| panic!("kubeconfig: {e}"));
        let config = kube::Config::from_custom_kubeconfig(kc, &Default::default())
            .await
            .unwrap_or_else(|e| panic!("kubeconfig: {e}"));
        let client = kube::Client::try_from(config).unwrap_or_else(|e| panic!("client: {e}"));
        let pg = pods(&client, "shop", "postgres-0").await;
        let web = pods(&client, "shop", "web-").await;
        (pg, web)
    });
    let (pg_name, pg_ip, pg_zone) = pg
        .first()
        .cloned()
        .unwrap_or_else(|| panic!("no running shop/postgres-0 in the small scenario"));
    let (web_name, web_ip, _) = web
        .iter()
        .find(|(_, _, z)| *z != pg_zone)
        .cloned()
        .unwrap_or_else(|| panic!("no shop/web pod outside {pg_zone}: {web:?}"));
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let flows = dir.path().join("flows.log");
    let gib: u64 = 1 << 30;
    let (start, end) = (1_764_547_200u64, 1_764_547_200u64 + 86_400);
    std::fs::write(
        &flows,
        format!(
            "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n\
             2 123456789012 eni-0web {web_ip} {pg_ip} 41000 5432 6 1000 {} {start} {end} ACCEPT OK\n\
             2 123456789012 eni-0pg {pg_ip} {web_ip} 5432 41000 6 1000 {} {start} {end} ACCEPT OK\n",
            30 * gib,
            90 * gib
        ),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let log = dir.path().join("tui.log");
    let argv = vec![
        BIN.to_owned(),
        "ui".into(),
        "--kubeconfig".into(),
        cluster.kubeconfig.display().to_string(),
        "-A".into(),
        "--flows".into(),
        flows.display().to_string(),
        "--log-file".into(),
        log.display().to_string(),
    ];
    let t = Tmux::start(&argv, &[], 160, 48);
    t.wait_for(&["Largest gravity", "shop/StatefulSet/postgres"], LOAD);
    t.type_text(":gravity");
    t.press("Enter");
    t.type_text("/postgres");
    t.press("Enter");
    t.press("Enter");
    // 120 GiB/day cross-zone at $0.01 out + $0.01 in = $2.40/day, x 730/24 = $73.00.
    let s = t.wait_for(&["workload shop/StatefulSet/postgres", "$73.00"], LOAD);
    assert!(s.contains(&format!("pod {pg_name}")), "{s}");
    assert!(s.contains(&web_name), "{s}");
    assert!(s.contains("context"), "status line names the context: {s}");
    t.type_text(":q");
    t.press("Enter");
    t.wait_for(&["EXITED 0"], LOAD);
}
