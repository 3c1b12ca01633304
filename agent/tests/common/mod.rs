//! Test bed on the real kernel: network namespaces stand in for pods and zones, cgroups
//! are laid out as kubelet lays them out, iptables counters in the "node" namespace count
//! every forwarded L3 byte independently of the agent. Needs root; run by
//! agent/tests/run-root.sh.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Every name the tests create starts with this, so run-root.sh can clean up after a
/// crash.
pub const PREFIX: &str = "cvt";

pub fn sh(cmd: &str) -> String {
    let out = Command::new("bash")
        .arg("-c")
        .arg(cmd)
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e}"));
    assert!(
        out.status.success(),
        "{cmd}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn cgroup2_mount() -> PathBuf {
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    info.lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            let sep = f.iter().position(|x| *x == "-")?;
            (f.get(sep + 1) == Some(&"cgroup2")).then(|| PathBuf::from(f[4]))
        })
        .expect("a cgroup2 mount")
}

/// A "pod": a network namespace with a veth to the node namespace, and a cgroup.
#[derive(Debug, Clone)]
pub struct Pod {
    pub ns: String,
    pub ip4: String,
    pub ip6: String,
    /// Node-side veth name (the iptables rules match on it).
    pub veth: String,
    pub uid: String,
    pub cid: String,
    /// cgroup directory (absolute).
    pub cgroup: PathBuf,
}

/// A "server" in another zone: its own namespace and addresses.
#[derive(Debug, Clone)]
pub struct Server {
    pub ns: String,
    /// The veth end inside the server's namespace.
    pub veth: String,
    pub ip4: String,
    pub ip6: String,
    pub class: &'static str,
}

pub struct Bed {
    pub root: PathBuf,
    pub node_ns: String,
    pub servers: Vec<Server>,
    pub pin_dir: PathBuf,
    pub children: Vec<Child>,
    namespaces: Vec<String>,
}

pub const NETWORK_YAML: &str = "\
networks:
  - cidr: 10.201.1.0/24
    zone: zone-a
    region: region-1
  - cidr: fd00:201:1::/64
    zone: zone-a
    region: region-1
  - cidr: 10.201.2.0/24
    zone: zone-b
    region: region-1
  - cidr: fd00:201:2::/64
    zone: zone-b
    region: region-1
  - cidr: 10.201.3.0/24
    zone: zone-c
    region: region-2
  - cidr: fd00:201:3::/64
    zone: zone-c
    region: region-2
";

impl Bed {
    /// Creates the node namespace and the four servers (same-zone, cross-zone,
    /// cross-region, internet). `tag` keeps two tests' names apart.
    pub fn new(tag: &str) -> Self {
        let root = cgroup2_mount().join(format!("{PREFIX}-{tag}"));
        std::fs::create_dir_all(&root).unwrap();
        let node_ns = format!("{PREFIX}-{tag}-node");
        let mut bed = Bed {
            root,
            node_ns: node_ns.clone(),
            servers: Vec::new(),
            pin_dir: PathBuf::from(format!("/sys/fs/bpf/{PREFIX}-{tag}")),
            children: Vec::new(),
            namespaces: Vec::new(),
        };
        bed.add_ns(&node_ns);
        sh(&format!(
            "ip netns exec {node_ns} sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1"
        ));
        let servers = [
            ("sz", "10.201.1", "fd00:201:1:", "same-zone"),
            ("cz", "10.201.2", "fd00:201:2:", "cross-zone"),
            ("cr", "10.201.3", "fd00:201:3:", "cross-region"),
            ("in", "203.0.113", "2001:db8:99:", "internet"),
        ];
        for (name, v4, v6, class) in servers {
            let ns = format!("{PREFIX}-{tag}-{name}");
            bed.link(&ns, &format!("{tag}{name}"), v4, v6, false);
            bed.servers.push(Server {
                veth: format!("{tag}{name}i"),
                ns,
                ip4: format!("{v4}.2"),
                ip6: format!("{v6}:2"),
                class,
            });
        }
        bed
    }

    /// One more server namespace at `<v4>.2` / `<v6>:2` (e.g. inside a node's pod CIDR).
    pub fn server(&mut self, name: &str, v4: &str, v6: &str, class: &'static str) -> Server {
        let tag = self.node_ns.trim_end_matches("-node").to_owned();
        let short = tag.trim_start_matches(&format!("{PREFIX}-")).to_owned();
        let ns = format!("{tag}-{name}");
        self.link(&ns, &format!("{short}{name}"), v4, v6, false);
        let s = Server {
            veth: format!("{short}{name}i"),
            ns,
            ip4: format!("{v4}.2"),
            ip6: format!("{v6}:2"),
            class,
        };
        self.servers.push(s.clone());
        s
    }

    /// A server namespace at exactly `ip4` (e.g. the address KWOK gave a pod); the node
    /// side of its veth is the `.254` of the same /24.
    pub fn server_at(&mut self, name: &str, ip4: &str, class: &'static str) -> Server {
        let tag = self.node_ns.trim_end_matches("-node").to_owned();
        let short = tag.trim_start_matches(&format!("{PREFIX}-")).to_owned();
        let ns = format!("{tag}-{name}");
        self.add_ns(&ns);
        let n = self.node_ns.clone();
        let (outer, inner) = (format!("{short}{name}n"), format!("{short}{name}i"));
        let gw = format!("{}.254", ip4.rsplit_once('.').unwrap().0);
        sh(&format!(
            "set -e
             ip link add {outer} netns {n} gso_max_segs 1 type veth peer name {inner} netns {ns} gso_max_segs 1
             ip -n {n} addr add {gw}/24 dev {outer}
             ip -n {n} link set {outer} up
             ip -n {ns} addr add {ip4}/24 dev {inner}
             ip -n {ns} link set {inner} up
             ip -n {ns} route add default via {gw}"
        ));
        let s = Server {
            veth: inner,
            ns,
            ip4: ip4.to_owned(),
            ip6: String::new(),
            class,
        };
        self.servers.push(s.clone());
        s
    }

    fn add_ns(&mut self, ns: &str) {
        sh(&format!("ip netns add {ns} && ip -n {ns} link set lo up"));
        self.namespaces.push(ns.to_owned());
    }

    /// A namespace joined to the node by a veth: `<v4>.2/24` and `<v6>:2/64` inside,
    /// `.1` on the node side. GSO is limited to one segment so every skb is one wire
    /// packet and the iptables counters count exactly the packets on the wire; with
    /// `gso`, the namespace's end keeps the default (large GSO packets).
    fn link(&mut self, ns: &str, short: &str, v4: &str, v6: &str, gso: bool) -> String {
        self.add_ns(ns);
        let n = &self.node_ns;
        let outer = format!("{short}n");
        let inner = format!("{short}i");
        let inner_gso = if gso { "" } else { "gso_max_segs 1" };
        sh(&format!(
            "set -e
             ip link add {outer} netns {n} gso_max_segs 1 type veth peer name {inner} netns {ns} {inner_gso}
             ip -n {n} addr add {v4}.1/24 dev {outer}
             ip -n {n} addr add {v6}:1/64 dev {outer} nodad
             ip -n {n} link set {outer} up
             ip -n {ns} addr add {v4}.2/24 dev {inner}
             ip -n {ns} addr add {v6}:2/64 dev {inner} nodad
             ip -n {ns} link set {inner} up
             ip -n {ns} route add default via {v4}.1
             ip -n {ns} -6 route add default via {v6}:1"
        ));
        outer
    }

    /// A pod namespace at `10.200.<n>.2` with its container cgroup at `cgroup_rel`.
    pub fn pod(&mut self, n: u8, cgroup_rel: &str, uid: &str, cid: &str) -> Pod {
        self.pod_with(n, cgroup_rel, uid, cid, false)
    }

    /// A pod whose own veth end sends large GSO packets (as real pods do).
    pub fn pod_with(&mut self, n: u8, cgroup_rel: &str, uid: &str, cid: &str, gso: bool) -> Pod {
        let tag = self.node_ns.trim_end_matches("-node").to_owned();
        let ns = format!("{tag}-p{n}");
        let short = format!("{}p{n}", tag.trim_start_matches(&format!("{PREFIX}-")));
        let veth = self.link(
            &ns,
            &short,
            &format!("10.200.{n}"),
            &format!("fd00:200:{n}:"),
            gso,
        );
        let cgroup = self.root.join(cgroup_rel);
        std::fs::create_dir_all(&cgroup).unwrap();
        Pod {
            ns,
            ip4: format!("10.200.{n}.2"),
            ip6: format!("fd00:200:{n}::2"),
            veth,
            uid: uid.to_owned(),
            cid: cid.to_owned(),
            cgroup,
        }
    }

    /// Starts a long-running process in namespace `ns`, outside any test cgroup.
    pub fn spawn_in_ns(&mut self, ns: &str, cmd: &str) {
        let child = Command::new("ip")
            .args(["netns", "exec", ns, "bash", "-c", cmd])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.children.push(child);
    }

    /// iperf3 servers on ports 5201..5201+n in every server namespace.
    pub fn start_servers(&mut self, ports: u16) {
        for s in self.servers.clone() {
            for p in 0..ports {
                self.spawn_in_ns(&s.ns, &format!("exec iperf3 -s -p {}", 5201 + p));
            }
        }
        for s in &self.servers {
            for p in 0..ports {
                wait_for(Duration::from_secs(10), || {
                    sh(&format!(
                        "ip netns exec {} ss -Hltn sport = :{}",
                        s.ns,
                        5201 + p
                    ))
                    .contains("LISTEN")
                });
            }
        }
    }

    /// Independent counters: for every (pod veth, remote), one FORWARD rule each way.
    pub fn count_rules(&self, veth: &str, remotes: &[&str]) {
        for r in remotes {
            let ipt = if r.contains(':') {
                "ip6tables"
            } else {
                "iptables"
            };
            sh(&format!(
                "ip netns exec {n} {ipt} -w -A FORWARD -i {veth} -d {r} && ip netns exec {n} {ipt} -w -A FORWARD -o {veth} -s {r}",
                n = self.node_ns
            ));
        }
    }

    /// Independent counters for traffic the node namespace itself sends to `remote`
    /// (host-network processes): OUTPUT and INPUT rules.
    pub fn count_local_rules(&self, remote: &str) {
        let ipt = if remote.contains(':') {
            "ip6tables"
        } else {
            "iptables"
        };
        sh(&format!(
            "ip netns exec {n} {ipt} -w -A OUTPUT -d {remote} && ip netns exec {n} {ipt} -w -A INPUT -s {remote}",
            n = self.node_ns
        ));
    }

    /// What the node namespace itself sent to `remote` and received from it.
    pub fn counted_local(&self, remote: &str) -> Counted {
        let out = self.counted_chain("OUTPUT", "*", remote);
        let inp = self.counted_chain("INPUT", "*", remote);
        Counted {
            tx_bytes: out.tx_bytes,
            tx_packets: out.tx_packets,
            rx_bytes: inp.rx_bytes,
            rx_packets: inp.rx_packets,
        }
    }

    /// (bytes, packets) the node forwarded from `veth` to `remote` (tx) and back (rx).
    pub fn counted(&self, veth: &str, remote: &str) -> Counted {
        self.counted_chain("FORWARD", veth, remote)
    }

    fn counted_chain(&self, chain: &str, veth: &str, remote: &str) -> Counted {
        let ipt = if remote.contains(':') {
            "ip6tables"
        } else {
            "iptables"
        };
        let text = sh(&format!(
            "ip netns exec {} {ipt} -w -nvxL {chain}",
            self.node_ns
        ));
        let plen = if remote.contains(':') { "/128" } else { "/32" };
        let mut c = Counted::default();
        for line in text.lines().skip(2) {
            let f: Vec<&str> = line.split_whitespace().collect();
            // pkts bytes [target] prot opt in out source destination (v4)
            // v6 has no opt column; find in/out/src/dst from the end.
            if f.len() < 6 {
                continue;
            }
            let (inn, out, src, dst) = (
                f[f.len() - 4],
                f[f.len() - 3],
                f[f.len() - 2],
                f[f.len() - 1],
            );
            let pkts: u64 = f[0].parse().unwrap_or(0);
            let bytes: u64 = f[1].parse().unwrap_or(0);
            let hit = |a: &str| a == remote || a == format!("{remote}{plen}");
            if inn == veth && hit(dst) {
                c.tx_bytes += bytes;
                c.tx_packets += pkts;
            }
            if out == veth && hit(src) {
                c.rx_bytes += bytes;
                c.rx_packets += pkts;
            }
        }
        c
    }

    /// (L3 bytes, packets) received so far on a server's veth: rx_bytes minus the
    /// 14-byte Ethernet header of each packet.
    pub fn server_rx(&self, s: &Server) -> (u64, u64) {
        let stat = |f: &str| -> u64 {
            sh(&format!(
                "ip netns exec {} cat /sys/class/net/{}/statistics/{f}",
                s.ns, s.veth
            ))
            .trim()
            .parse()
            .unwrap()
        };
        let (bytes, packets) = (stat("rx_bytes"), stat("rx_packets"));
        (bytes - 14 * packets, packets)
    }

    pub fn cleanup(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        self.children.clear();
        for ns in self.namespaces.drain(..) {
            let _ = Command::new("ip").args(["netns", "del", &ns]).status();
        }
        let _ = Command::new(env!("CARGO_BIN_EXE_vault-agent"))
            .args(["--unpin", "--pin-dir"])
            .arg(&self.pin_dir)
            .stderr(Stdio::null())
            .status();
        remove_cgroups(&self.root);
    }
}

impl Drop for Bed {
    fn drop(&mut self) {
        self.cleanup();
    }
}

/// Removes a cgroup tree, deepest first, after killing what still runs in it.
pub fn remove_cgroups(root: &Path) {
    let mut dirs = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        if let Ok(rd) = std::fs::read_dir(&d) {
            for e in rd.flatten() {
                if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                    stack.push(e.path());
                }
            }
            dirs.push(d);
        }
    }
    for d in dirs.iter().rev() {
        if let Ok(procs) = std::fs::read_to_string(d.join("cgroup.procs")) {
            for pid in procs.lines() {
                let _ = Command::new("kill").args(["-9", pid]).status();
            }
        }
    }
    for d in dirs.iter().rev() {
        for _ in 0..50 {
            if std::fs::remove_dir(d).is_ok() || !d.exists() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counted {
    pub tx_bytes: u64,
    pub rx_bytes: u64,
    pub tx_packets: u64,
    pub rx_packets: u64,
}

/// Runs `cmd` to completion inside cgroup `cgroup` and network namespace `ns`.
pub fn run_in(cgroup: &Path, ns: &str, cmd: &str) -> String {
    sh(&format!(
        "echo $$ > {}/cgroup.procs && exec ip netns exec {ns} {cmd}",
        cgroup.display()
    ))
}

/// Starts `cmd` in cgroup and namespace without waiting.
pub fn spawn_in(cgroup: &Path, ns: &str, cmd: &str) -> Child {
    Command::new("bash")
        .arg("-c")
        .arg(format!(
            "echo $$ > {}/cgroup.procs && exec ip netns exec {ns} {cmd}",
            cgroup.display()
        ))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

pub fn wait_for(limit: Duration, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(
            start.elapsed() < limit,
            "condition not met within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The agent under test.
pub struct Agent {
    pub child: Child,
    pub listen: String,
    pub log: PathBuf,
}

impl Agent {
    pub fn start(args: &[&str], listen: &str, log: &Path) -> Agent {
        let logf = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_vault-agent"))
            .args(args)
            .args(["--listen", listen])
            .stdout(Stdio::null())
            .stderr(logf)
            .spawn()
            .unwrap();
        let mut agent = Agent {
            child,
            listen: listen.to_owned(),
            log: log.to_path_buf(),
        };
        let start = Instant::now();
        while agent.get("/readyz").is_none_or(|(s, _)| s != 200) {
            if let Ok(Some(status)) = agent.child.try_wait() {
                panic!(
                    "agent exited ({status}):\n{}",
                    std::fs::read_to_string(log).unwrap_or_default()
                );
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "agent not ready in 20 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        agent
    }

    /// GET path; (status, body), None when nothing listens.
    pub fn get(&self, path: &str) -> Option<(u16, String)> {
        let mut s = TcpStream::connect(&self.listen).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        write!(s, "GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").ok()?;
        let mut buf = String::new();
        s.read_to_string(&mut buf).ok()?;
        let status = buf.split_whitespace().nth(1)?.parse().ok()?;
        let body = buf.split_once("\r\n\r\n").map(|(_, b)| b.to_owned())?;
        Some((status, body))
    }

    pub fn flows(&self) -> serde_json::Value {
        let (s, body) = self.get("/flows").expect("agent answers /flows");
        assert_eq!(s, 200, "{body}");
        // Kept for a person reading a failure.
        let _ = std::fs::write(format!("/tmp/{PREFIX}-last-flows.json"), &body);
        serde_json::from_str(&body).unwrap()
    }

    pub fn metric(&self, name: &str) -> f64 {
        let (_, body) = self.get("/metrics").expect("agent answers /metrics");
        body.lines()
            .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
            .and_then(|l| l.split_whitespace().last())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no metric {name} in:\n{body}"))
    }

    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Sums a pod's (or any matching owner's) flows to one remote from /flows.
pub fn agent_counts(
    flows: &serde_json::Value,
    pred: impl Fn(&serde_json::Value) -> bool,
) -> Counted {
    let mut c = Counted::default();
    for f in flows["flows"].as_array().unwrap() {
        if pred(f) {
            c.tx_bytes += f["txBytes"].as_u64().unwrap();
            c.rx_bytes += f["rxBytes"].as_u64().unwrap();
            c.tx_packets += f["txPackets"].as_u64().unwrap();
            c.rx_packets += f["rxPackets"].as_u64().unwrap();
        }
    }
    c
}

pub fn within(agent: u64, truth: u64, pct: f64) -> bool {
    if truth == 0 {
        return agent == 0;
    }
    ((agent as f64 - truth as f64).abs() / truth as f64) * 100.0 <= pct
}

/// Kernel-counted vs agent-counted, as a readable line.
pub fn compare_line(what: &str, a: Counted, t: Counted) -> String {
    format!(
        "{what}: agent tx {} B/{} p rx {} B/{} p; iptables tx {} B/{} p rx {} B/{} p",
        a.tx_bytes,
        a.tx_packets,
        a.rx_bytes,
        a.rx_packets,
        t.tx_bytes,
        t.tx_packets,
        t.rx_bytes,
        t.rx_packets
    )
}

pub fn pod_pred<'a>(uid: &'a str, remote: &'a str) -> impl Fn(&serde_json::Value) -> bool + 'a {
    move |f| f["podUID"] == uid && f["remote"] == remote
}

pub type Map = HashMap<String, String>;
