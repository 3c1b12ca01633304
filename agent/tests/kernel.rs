//! The agent on the real kernel (root only; run by agent/tests/run-root.sh with
//! `--ignored`): accuracy against independently counted L3 bytes, attribution edge cases,
//! kill -9 restart, and the error cases.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::time::Duration;

use common::*;

const UID1: &str = "0f8c2c4e-1f6b-4c1e-9a57-5d2b1c3e4f50";
const CID1: &str = "aaaa5dc642cb6eb9a060e54bf8d69288fbee4904a1b2c3d4e5f60718293a4b5c";
const CID1B: &str = "bbbb5dc642cb6eb9a060e54bf8d69288fbee4904a1b2c3d4e5f60718293a4b5c";
const UID2: &str = "7d1e0a42-93c1-4a8e-b1f0-2c6d8e4f1a3b";
const CID2: &str = "cccc5dc642cb6eb9a060e54bf8d69288fbee4904a1b2c3d4e5f60718293a4b5c";
const UID3: &str = "5e6f7a8b-1c2d-4e3f-8a9b-0c1d2e3f4a5b";
const CID3: &str = "dddd5dc642cb6eb9a060e54bf8d69288fbee4904a1b2c3d4e5f60718293a4b5c";
const TOLERANCE_PCT: f64 = 1.0;

fn agent_args<'a>(bed: &'a Bed, net: &'a str, interval: &str, extra: &[&'a str]) -> Vec<String> {
    let mut v: Vec<String> = vec![
        "--standalone".into(),
        "--zone".into(),
        "zone-a".into(),
        "--region".into(),
        "region-1".into(),
        "--local-cidr".into(),
        "10.200.0.0/16".into(),
        "--local-cidr".into(),
        "fd00:200::/32".into(),
        "--network".into(),
        net.into(),
        "--cgroup-root".into(),
        bed.root.display().to_string(),
        "--pin-dir".into(),
        bed.pin_dir.display().to_string(),
        "--interval".into(),
        interval.into(),
    ];
    v.extend(extra.iter().map(|s| (*s).to_owned()));
    v
}

fn start(args: &[String], listen: &str, log: &Path) -> Agent {
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    Agent::start(&refs, listen, log)
}

/// Sends known volumes from a pod to every server: TCP both ways with several
/// connections, and UDP, over IPv4 and IPv6.
fn traffic(pod: &Pod, servers: &[Server], port: u16) {
    for s in servers {
        for addr in [&s.ip4, &s.ip6] {
            for cmd in [
                format!("iperf3 -c {addr} -p {port} -n 3M -P 4"),
                format!("iperf3 -c {addr} -p {port} -n 2M -P 2 -R"),
                format!("iperf3 -c {addr} -p {port} -u -b 200M -n 1M -l 1200"),
            ] {
                run_in(&pod.cgroup, &pod.ns, &cmd);
            }
        }
    }
}

fn check_pod(bed: &Bed, agent: &Agent, pod: &Pod, report: &mut Vec<String>) {
    let flows = agent.flows();
    for s in &bed.servers {
        for addr in [&s.ip4, &s.ip6] {
            let a = agent_counts(&flows, pod_pred(&pod.uid, addr));
            let t = bed.counted(&pod.veth, addr);
            let line = compare_line(&format!("pod {} -> {addr} ({})", pod.uid, s.class), a, t);
            report.push(line.clone());
            assert!(t.tx_bytes > 1_000_000 && t.rx_bytes > 1_000_000, "{line}");
            for (x, y) in [
                (a.tx_bytes, t.tx_bytes),
                (a.rx_bytes, t.rx_bytes),
                (a.tx_packets, t.tx_packets),
                (a.rx_packets, t.rx_packets),
            ] {
                assert!(within(x, y, TOLERANCE_PCT), "{line}");
            }
            for f in flows["flows"].as_array().unwrap() {
                if f["podUID"] == pod.uid.as_str() && f["remote"] == addr.as_str() {
                    assert_eq!(f["class"], s.class, "{f}");
                    assert_eq!(f["container"], pod.cid.as_str(), "{f}");
                    assert_eq!(f["owner"], "pod", "{f}");
                    assert!(f["pod"].is_null() && f["namespace"].is_null(), "{f}");
                }
            }
        }
    }
}

fn net_file(dir: &Path) -> String {
    let p = dir.join("network.yaml");
    std::fs::write(&p, NETWORK_YAML).unwrap();
    p.display().to_string()
}

#[test]
#[ignore = "root: run by agent/tests/run-root.sh"]
fn accuracy_edge_cases_and_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let net = net_file(tmp.path());
    let log = tmp.path().join("agent.log");
    let mut bed = Bed::new("acc");
    // Pod 1: cgroupfs driver, burstable, containerd. Pod 2: systemd driver, besteffort,
    // CRI-O. Pod 3 (host network): systemd, guaranteed, containerd.
    let p1 = bed.pod(
        1,
        &format!("kubepods/burstable/pod{UID1}/{CID1}"),
        UID1,
        CID1,
    );
    let u2 = UID2.replace('-', "_");
    let p2 = bed.pod(
        2,
        &format!("kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod{u2}.slice/crio-{CID2}.scope"),
        UID2,
        CID2,
    );
    bed.start_servers(2);
    let remotes: Vec<String> = bed
        .servers
        .iter()
        .flat_map(|s| [s.ip4.clone(), s.ip6.clone()])
        .collect();
    let rrefs: Vec<&str> = remotes.iter().map(String::as_str).collect();
    bed.count_rules(&p1.veth, &rrefs);
    bed.count_rules(&p2.veth, &rrefs);
    bed.count_rules(&p1.veth, &[&p2.ip4, &p2.ip6]);

    let args = agent_args(&bed, &net, "500ms", &[]);
    let mut agent = start(&args, "127.0.0.1:19477", &log);
    let mut report = Vec::new();

    // Accuracy: both pods at once, every class, TCP+UDP, IPv4+IPv6.
    std::thread::scope(|s| {
        s.spawn(|| traffic(&p1, &bed.servers, 5201));
        s.spawn(|| traffic(&p2, &bed.servers, 5202));
    });
    std::thread::sleep(Duration::from_millis(1500));
    check_pod(&bed, &agent, &p1, &mut report);
    check_pod(&bed, &agent, &p2, &mut report);

    // Two pods on one node talking to each other: same-node, both sides attributed.
    // The server side runs in pod 2's cgroup.
    let mut srv = spawn_in(&p2.cgroup, &p2.ns, "iperf3 -s -p 5301");
    wait_for(Duration::from_secs(10), || {
        sh(&format!("ip netns exec {} ss -Hltn sport = :5301", p2.ns)).contains("LISTEN")
    });
    run_in(
        &p1.cgroup,
        &p1.ns,
        &format!("iperf3 -c {} -p 5301 -n 3M -P 3", p2.ip4),
    );
    run_in(
        &p1.cgroup,
        &p1.ns,
        &format!("iperf3 -c {} -p 5301 -n 3M -P 3", p2.ip6),
    );
    std::thread::sleep(Duration::from_millis(1500));
    let flows = agent.flows();
    for (p1_addr, p2_addr) in [(&p1.ip4, &p2.ip4), (&p1.ip6, &p2.ip6)] {
        let a1 = agent_counts(&flows, pod_pred(UID1, p2_addr));
        let a2 = agent_counts(&flows, pod_pred(UID2, p1_addr));
        let t = bed.counted(&p1.veth, p2_addr);
        let line = format!(
            "{} / {}",
            compare_line("pod1 -> pod2", a1, t),
            compare_line("pod2 <- pod1", a2, t)
        );
        report.push(line.clone());
        assert!(t.tx_bytes > 3_000_000, "{line}");
        assert!(within(a1.tx_bytes, t.tx_bytes, TOLERANCE_PCT), "{line}");
        assert!(within(a1.rx_bytes, t.rx_bytes, TOLERANCE_PCT), "{line}");
        // What pod 1 sent, pod 2 received (and the other way).
        assert!(within(a2.rx_bytes, t.tx_bytes, TOLERANCE_PCT), "{line}");
        assert!(within(a2.tx_bytes, t.rx_bytes, TOLERANCE_PCT), "{line}");
        for f in flows["flows"].as_array().unwrap() {
            if f["remote"] == p2_addr.as_str() || f["remote"] == p1_addr.as_str() {
                assert_eq!(f["class"], "same-node", "{f}");
            }
        }
    }
    let _ = srv.kill();
    let _ = srv.wait();

    // A host-network-style pod: in the node's namespace, attributed by its cgroup. It
    // alone sends to the same-zone server's IPv4 address from the node namespace, and a
    // process outside kubepods alone to its IPv6 address, so OUTPUT/INPUT rules count
    // each independently.
    let sz = bed.servers[0].clone();
    bed.count_local_rules(&sz.ip4);
    bed.count_local_rules(&sz.ip6);
    let hostnet = bed.root.join(format!(
        "kubepods.slice/kubepods-pod{}.slice/cri-containerd-{CID3}.scope",
        UID3.replace('-', "_")
    ));
    std::fs::create_dir_all(&hostnet).unwrap();
    run_in(
        &hostnet,
        &bed.node_ns,
        &format!("iperf3 -c {} -p 5201 -n 2M", sz.ip4),
    );
    let system = bed.root.join("system.slice/backup.service");
    std::fs::create_dir_all(&system).unwrap();
    run_in(
        &system,
        &bed.node_ns,
        &format!("iperf3 -c {} -p 5201 -n 2M -R", sz.ip6),
    );
    // A restarted container: new cgroup, same pod; the old cgroup is gone.
    run_in(
        &p1.cgroup,
        &p1.ns,
        &format!("iperf3 -c {} -p 5201 -n 1M", sz.ip4),
    );
    std::thread::sleep(Duration::from_millis(1200));
    remove_cgroups(&p1.cgroup);
    let p1b = p1.cgroup.parent().unwrap().join(CID1B);
    std::fs::create_dir_all(&p1b).unwrap();
    let before = bed.counted(&p1.veth, &sz.ip4);
    run_in(&p1b, &p1.ns, &format!("iperf3 -c {} -p 5201 -n 2M", sz.ip4));
    let after = bed.counted(&p1.veth, &sz.ip4);
    std::thread::sleep(Duration::from_millis(1500));
    let flows = agent.flows();
    let all = flows["flows"].as_array().unwrap();

    let host = agent_counts(&flows, |f| {
        f["podUID"] == UID3 && f["remote"] == sz.ip4.as_str()
    });
    let t = bed.counted_local(&sz.ip4);
    let line = compare_line("host-network pod -> same-zone v4", host, t);
    report.push(line.clone());
    assert!(t.tx_bytes > 1_000_000, "{line}");
    assert!(
        within(host.tx_bytes, t.tx_bytes, TOLERANCE_PCT)
            && within(host.rx_bytes, t.rx_bytes, TOLERANCE_PCT),
        "{line}"
    );
    assert!(
        all.iter()
            .any(|f| f["podUID"] == UID3 && f["container"] == CID3 && f["owner"] == "pod"),
        "host-network pod has its container"
    );

    let node = agent_counts(&flows, |f| {
        f["owner"] == "node" && f["remote"] == sz.ip6.as_str()
    });
    let t = bed.counted_local(&sz.ip6);
    let line = compare_line("process outside kubepods (node) <- same-zone v6", node, t);
    report.push(line.clone());
    assert!(t.rx_bytes > 1_000_000, "{line}");
    assert!(
        within(node.tx_bytes, t.tx_bytes, TOLERANCE_PCT)
            && within(node.rx_bytes, t.rx_bytes, TOLERANCE_PCT),
        "{line}"
    );
    assert!(
        all.iter()
            .filter(|f| f["owner"] == "node")
            .all(|f| f["podUID"].is_null()
                && f["cgroup"]
                    .as_str()
                    .is_some_and(|c| c.ends_with("system.slice/backup.service"))),
        "node flows have no pod"
    );

    let new = agent_counts(&flows, |f| f["podUID"] == UID1 && f["container"] == CID1B);
    let delta = Counted {
        tx_bytes: after.tx_bytes - before.tx_bytes,
        rx_bytes: after.rx_bytes - before.rx_bytes,
        tx_packets: after.tx_packets - before.tx_packets,
        rx_packets: after.rx_packets - before.rx_packets,
    };
    let line = compare_line(
        "restarted container (new cgroup) -> same-zone v4",
        new,
        delta,
    );
    report.push(line.clone());
    assert!(delta.tx_bytes > 1_000_000, "{line}");
    assert!(
        within(new.tx_bytes, delta.tx_bytes, TOLERANCE_PCT),
        "{line}"
    );
    let both = agent_counts(&flows, pod_pred(UID1, &sz.ip4));
    let line = compare_line("pod 1, both containers -> same-zone v4", both, after);
    report.push(line.clone());
    assert!(
        within(both.tx_bytes, after.tx_bytes, TOLERANCE_PCT),
        "{line}"
    );
    assert!(
        all.iter()
            .any(|f| f["podUID"] == UID1 && f["container"] == CID1),
        "the first container's flows keep their pod after its cgroup is gone"
    );

    // Restart: kill -9 mid-transfer, restart; totals still match, nothing counted twice.
    let cz = bed.servers[1].clone();
    let long = spawn_in(
        &p1b,
        &p1.ns,
        &format!("iperf3 -c {} -p 5201 -b 300M -t 4 -P 2", cz.ip4),
    );
    std::thread::sleep(Duration::from_millis(1200));
    agent.kill9();
    std::thread::sleep(Duration::from_millis(1000));
    let agent2 = start(&args, "127.0.0.1:19477", &log);
    let mut long = long;
    let status = long.wait().unwrap();
    assert!(status.success(), "transfer during restart failed");
    std::thread::sleep(Duration::from_millis(1500));
    let logtext = std::fs::read_to_string(&log).unwrap();
    assert!(
        logtext.contains("mode=\"replaced\"") || logtext.contains("mode=replaced"),
        "{logtext}"
    );
    let flows = agent2.flows();
    let a = agent_counts(&flows, |f| {
        f["podUID"] == UID1 && f["remote"] == cz.ip4.as_str()
    });
    let t = bed.counted(&p1.veth, &cz.ip4);
    let line = compare_line("restart: pod1 -> cross-zone v4 (both containers)", a, t);
    report.push(line.clone());
    assert!(t.tx_bytes > 20_000_000, "{line}");
    assert!(within(a.tx_bytes, t.tx_bytes, TOLERANCE_PCT), "{line}");
    assert!(within(a.rx_bytes, t.rx_bytes, TOLERANCE_PCT), "{line}");
    // The earlier checks still hold after the restart (nothing doubled or lost).
    check_pod(&bed, &agent2, &p2, &mut report);

    // The OpenCost metric for the same bytes is absent in standalone (no pod names), and
    // our own series carry every class.
    let (_, metrics) = agent2.get("/metrics").unwrap();
    for class in [
        "same-zone",
        "cross-zone",
        "cross-region",
        "internet",
        "same-node",
    ] {
        assert!(
            metrics.contains(&format!("class=\"{class}\"")),
            "{class} missing in metrics"
        );
    }
    for line in &report {
        eprintln!("{line}");
    }
}

#[test]
#[ignore = "root: run by agent/tests/run-root.sh"]
fn full_map_and_vanished_cgroup_are_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let net = net_file(tmp.path());
    let log = tmp.path().join("agent.log");
    let mut bed = Bed::new("err");
    let p = bed.pod(
        5,
        &format!("kubepods/besteffort/pod{UID1}/{CID1}"),
        UID1,
        CID1,
    );
    let args = agent_args(&bed, &net, "500ms", &["--map-size", "32"]);
    let agent = start(&args, "127.0.0.1:19478", &log);
    // 200 distinct remotes into a 32-entry map: the LRU must evict, and say so.
    let cmd = "bash -c 'for i in $(seq 1 200); do echo x > /dev/udp/10.201.1.$((i % 250 + 3))/9 2>/dev/null; echo x > /dev/udp/10.201.2.$((i % 250 + 3))/9 2>/dev/null; done; true'";
    run_in(&p.cgroup, &p.ns, cmd);
    std::thread::sleep(Duration::from_millis(1500));
    let evicted = agent.metric("cloudvault_agent_map_evictions_total");
    assert!(evicted >= 300.0, "evictions {evicted}");
    assert!((agent.metric("cloudvault_agent_map_fill_ratio") - 1.0).abs() < 0.2);
    let logtext = std::fs::read_to_string(&log).unwrap();
    assert!(logtext.contains("flow map full"), "{logtext}");

    // A cgroup that sends and is gone before any drain: its bytes are reported, with
    // owner unknown, plus a metric and a log line; never dropped.
    let gone = bed
        .root
        .join("kubepods/besteffort/podffffffff-0000-0000-0000-000000000000/eeee1111222233334444");
    std::fs::create_dir_all(&gone).unwrap();
    let args2 = agent_args(&bed, &net, "1m", &[]);
    drop(agent);
    kill_pins(&bed);
    let agent = start(&args2, "127.0.0.1:19478", &log);
    run_in(
        &gone,
        &p.ns,
        "bash -c 'for i in 1 2 3 4 5; do head -c 1000 /dev/zero > /dev/udp/10.201.3.2/9; done 2>/dev/null; true'",
    );
    remove_cgroups(&gone);
    // The drain loop runs once a minute here; restart the agent to force a drain now.
    drop(agent);
    let agent = start(&args2, "127.0.0.1:19478", &log);
    let flows = agent.flows();
    let unknown = agent_counts(&flows, |f| {
        f["owner"] == "unknown" && f["remote"] == "10.201.3.2"
    });
    assert!(unknown.tx_bytes >= 5000, "{flows}");
    assert!(agent.metric("cloudvault_agent_unknown_cgroups") >= 1.0);
    let logtext = std::fs::read_to_string(&log).unwrap();
    assert!(logtext.contains("not in the cgroup tree"), "{logtext}");
}

/// A pod sends large GSO packets (TSO), as real pods do; the node segments them on the
/// way to the server. The agent must count what reaches the wire: the server's interface
/// counters, one L3 header per segment.
#[test]
#[ignore = "root: run by agent/tests/run-root.sh"]
fn gso_packets_count_as_their_wire_segments() {
    let tmp = tempfile::tempdir().unwrap();
    let net = net_file(tmp.path());
    let log = tmp.path().join("agent.log");
    let mut bed = Bed::new("gso");
    let p = bed.pod_with(7, &format!("kubepods/pod{UID2}/{CID2}"), UID2, CID2, true);
    bed.start_servers(1);
    let cz = bed.servers[1].clone();
    bed.count_rules(&p.veth, &[&cz.ip4, &cz.ip6]);
    let args = agent_args(&bed, &net, "500ms", &[]);
    let agent = start(&args, "127.0.0.1:19479", &log);
    let mut report = Vec::new();
    for addr in [&cz.ip4, &cz.ip6] {
        let before = bed.server_rx(&cz);
        let a0 = agent_counts(&agent.flows(), pod_pred(UID2, addr));
        run_in(
            &p.cgroup,
            &p.ns,
            &format!("iperf3 -c {addr} -p 5201 -n 40M -P 2"),
        );
        let after = bed.server_rx(&cz);
        std::thread::sleep(Duration::from_millis(1500));
        let a1 = agent_counts(&agent.flows(), pod_pred(UID2, addr));
        let wire = (after.0 - before.0, after.1 - before.1);
        let agent_tx = (a1.tx_bytes - a0.tx_bytes, a1.tx_packets - a0.tx_packets);
        let skbs = bed.counted(&p.veth, addr).tx_packets;
        let line = format!(
            "GSO pod -> {addr}: agent tx {} B/{} p; server wire rx {} B/{} p; skbs forwarded {skbs}",
            agent_tx.0, agent_tx.1, wire.0, wire.1
        );
        report.push(line.clone());
        // GSO really happened: fewer skbs than wire packets.
        assert!(skbs * 2 < wire.1, "{line}");
        assert!(within(agent_tx.0, wire.0, TOLERANCE_PCT), "{line}");
        assert!(within(agent_tx.1, wire.1, TOLERANCE_PCT), "{line}");
    }
    for line in &report {
        eprintln!("{line}");
    }
}

/// Pods address Services by ClusterIP; kube-proxy's DNAT happens in the node's namespace,
/// so the pod's hook sees the ClusterIP. The agent must report the backend (from the
/// node's conntrack table), with the bytes the node forwarded to it.
#[test]
#[ignore = "root: run by agent/tests/run-root.sh"]
fn cluster_ip_traffic_is_attributed_to_the_backend() {
    let tmp = tempfile::tempdir().unwrap();
    let net = net_file(tmp.path());
    let log = tmp.path().join("agent.log");
    let mut bed = Bed::new("svc");
    let p = bed.pod(8, &format!("kubepods/pod{UID1}/{CID1}"), UID1, CID1);
    bed.start_servers(1);
    let cz = bed.servers[1].clone();
    let n = bed.node_ns.clone();
    // What kube-proxy (iptables mode) installs for a Service 10.96.0.10:80 /
    // [fd00:96::10]:80 with one backend on port 5201.
    for proto in ["tcp", "udp"] {
        sh(&format!(
            "ip netns exec {n} iptables -w -t nat -A PREROUTING -d 10.96.0.10 -p {proto} --dport 80 -j DNAT --to-destination {}:5201 && \
             ip netns exec {n} ip6tables -w -t nat -A PREROUTING -d fd00:96::10 -p {proto} --dport 80 -j DNAT --to-destination [{}]:5201",
            cz.ip4, cz.ip6
        ));
    }
    bed.count_rules(&p.veth, &[&cz.ip4, &cz.ip6]);
    // The agent runs outside the node namespace here, so it reads that namespace's table
    // through a process living in it.
    bed.spawn_in_ns(&n, "exec sleep 600");
    let pid = bed.children.last().unwrap().id();
    let conntrack = format!("/proc/{pid}/net/nf_conntrack");
    let args = agent_args(
        &bed,
        &net,
        "500ms",
        &[
            "--service-cidr",
            "10.96.0.0/12",
            "--service-cidr",
            "fd00:96::/108",
            "--conntrack",
            &conntrack,
        ],
    );
    let agent = start(&args, "127.0.0.1:19481", &log);
    for svc in ["10.96.0.10", "fd00:96::10"] {
        for cmd in [
            format!("iperf3 -c {svc} -p 80 -n 3M -P 3"),
            format!("iperf3 -c {svc} -p 80 -n 2M -R"),
            format!("iperf3 -c {svc} -p 80 -u -b 200M -n 1M -l 1200"),
        ] {
            run_in(&p.cgroup, &p.ns, &cmd);
        }
    }
    std::thread::sleep(Duration::from_millis(1500));
    let flows = agent.flows();
    let mut report = Vec::new();
    for (svc, backend) in [("10.96.0.10", &cz.ip4), ("fd00:96::10", &cz.ip6)] {
        let a = agent_counts(&flows, |f| {
            f["podUID"] == UID1 && f["remote"] == backend.as_str() && f["service"] == svc
        });
        let t = bed.counted(&p.veth, backend);
        let line = compare_line(&format!("pod -> Service {svc} -> backend {backend}"), a, t);
        report.push(line.clone());
        assert!(t.tx_bytes > 2_000_000 && t.rx_bytes > 1_000_000, "{line}");
        assert!(within(a.tx_bytes, t.tx_bytes, TOLERANCE_PCT), "{line}");
        assert!(within(a.rx_bytes, t.rx_bytes, TOLERANCE_PCT), "{line}");
        for f in flows["flows"].as_array().unwrap() {
            if f["service"] == svc && f["remote"] == backend.as_str() {
                assert_eq!(f["class"], "cross-zone", "{f}");
            }
        }
        let left = agent_counts(&flows, |f| f["remote"] == svc);
        assert!(
            left.tx_bytes * 100 < t.tx_bytes,
            "unresolved on the ClusterIP: {left:?}"
        );
    }
    for line in &report {
        eprintln!("{line}");
    }
}

/// The DaemonSet grants only CAP_BPF and CAP_NET_ADMIN (no PERFMON, SYS_RESOURCE or
/// SYS_ADMIN): measured here by starting the agent with nothing else in its bounding set,
/// attaching fresh and then replacing its own pinned programs, and counting a transfer.
#[test]
#[ignore = "root: run by agent/tests/run-root.sh"]
fn runs_with_only_cap_bpf_and_cap_net_admin() {
    let tmp = tempfile::tempdir().unwrap();
    let net = net_file(tmp.path());
    let mut bed = Bed::new("cap");
    let p = bed.pod(9, &format!("kubepods/pod{UID3}/{CID3}"), UID3, CID3);
    bed.start_servers(1);
    let sz = bed.servers[0].clone();
    bed.count_rules(&p.veth, &[&sz.ip4]);
    let args = agent_args(&bed, &net, "500ms", &[]);
    for round in 0..2 {
        let log = tmp.path().join(format!("agent{round}.log"));
        let mut cmd = std::process::Command::new("setpriv");
        cmd.args([
            "--bounding-set",
            "-all,+bpf,+net_admin",
            "--inh-caps",
            "-all",
            "--",
        ])
        .arg(env!("CARGO_BIN_EXE_vault-agent"))
        .args(&args)
        .args(["--listen", "127.0.0.1:19483"])
        .stderr(std::fs::File::create(&log).unwrap());
        let mut agent = Agent {
            child: cmd.spawn().unwrap(),
            listen: "127.0.0.1:19483".into(),
            log: log.clone(),
        };
        wait_for(Duration::from_secs(20), || {
            agent.get("/readyz").is_some_and(|(s, _)| s == 200)
                || agent.child.try_wait().ok().flatten().is_some()
        });
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        assert!(status.contains("CapEff"), "{status}");
        let text = std::fs::read_to_string(&log).unwrap();
        assert!(text.contains("programs attached"), "{text}");
        let eff = std::fs::read_to_string(format!("/proc/{}/status", agent.child.id()))
            .unwrap()
            .lines()
            .find_map(|l| {
                l.strip_prefix("CapEff:")
                    .map(|v| u64::from_str_radix(v.trim(), 16).unwrap())
            })
            .unwrap();
        assert_eq!(eff, (1 << 39) | (1 << 12), "only CAP_BPF and CAP_NET_ADMIN");
        run_in(
            &p.cgroup,
            &p.ns,
            &format!("iperf3 -c {} -p 5201 -n 1M", sz.ip4),
        );
        std::thread::sleep(Duration::from_millis(1200));
        let a = agent_counts(&agent.flows(), pod_pred(UID3, &sz.ip4));
        let t = bed.counted(&p.veth, &sz.ip4);
        let line = compare_line(&format!("reduced capabilities, start {round}"), a, t);
        assert!(
            t.tx_bytes > 500_000 && within(a.tx_bytes, t.tx_bytes, TOLERANCE_PCT),
            "{line}"
        );
        agent.kill9();
    }
}

fn kill_pins(bed: &Bed) {
    sh(&format!(
        "{} --unpin --pin-dir {}",
        env!("CARGO_BIN_EXE_vault-agent"),
        bed.pin_dir.display()
    ));
}

/// Runs the agent expecting it to refuse to start; returns its stderr.
fn refuses(prefix: &str, extra: &[&str]) -> String {
    let root = if extra.contains(&"--cgroup-root") {
        String::new()
    } else {
        format!("--cgroup-root {}", cgroup2_mount().display())
    };
    let cmd = format!(
        "{prefix} {} --standalone --listen 127.0.0.1:0 {root} {}",
        env!("CARGO_BIN_EXE_vault-agent"),
        extra.join(" ")
    );
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(&cmd)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{cmd} should fail");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    let last = err.lines().last().unwrap_or_default().to_owned();
    assert!(last.starts_with("vault-agent: error: "), "{err}");
    last
}

#[test]
#[ignore = "root: run by agent/tests/run-root.sh"]
fn node_problems_get_one_line_errors() {
    let pins = format!("/sys/fs/bpf/{PREFIX}-errs");
    // bpffs not mounted where the pins go.
    let tmp = tempfile::tempdir().unwrap();
    let e = refuses("", &["--pin-dir", &tmp.path().display().to_string()]);
    assert!(
        e.contains("not on a bpffs") && e.contains("mount -t bpf"),
        "{e}"
    );
    // cgroup v1 directory given as the root.
    let v1 = std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            let sep = f.iter().position(|x| *x == "-")?;
            (f.get(sep + 1) == Some(&"cgroup")).then(|| f[4].to_owned())
        });
    if let Some(v1) = v1 {
        let e = refuses("", &["--pin-dir", &pins, "--cgroup-root", &v1]);
        assert!(e.contains("not a cgroup v2 directory"), "{e}");
    }
    // cgroup v1 only: a mount namespace where no cgroup2 is mounted.
    let m = cgroup2_mount();
    let e = refuses(
        &format!(
            "unshare -m --propagation private bash -c 'umount -l {} && exec \"$0\" \"$@\"'",
            m.display()
        ),
        &["--pin-dir", &pins],
    );
    assert!(e.contains("no cgroup v2 hierarchy"), "{e}");
    // A missing capability: CAP_BPF and CAP_SYS_ADMIN dropped from the bounding set.
    let e = refuses(
        "setpriv --bounding-set -bpf,-sys_admin --inh-caps -bpf,-sys_admin",
        &["--pin-dir", &pins],
    );
    assert!(e.contains("missing capability CAP_BPF"), "{e}");
    // No BTF.
    let e = refuses(
        "",
        &["--pin-dir", &pins, "--btf-path", "/nonexistent/vmlinux"],
    );
    assert!(e.contains("no BTF"), "{e}");
    // A bad network map names the file.
    let bad = tmp.path().join("bad.yaml");
    std::fs::write(&bad, "networks:\n  - cidr: 10.0.0.0/33\n    zone: a\n").unwrap();
    let e = refuses(
        "",
        &["--pin-dir", &pins, "--network", &bad.display().to_string()],
    );
    assert!(e.contains("bad.yaml: networks[0].cidr"), "{e}");
    let _ = std::fs::remove_dir_all(&pins);
}
