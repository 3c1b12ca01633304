//! The agent in Kubernetes mode against the real test control plane (KWOK nodes), with
//! pods whose cgroups and traffic the test makes real on this machine. Root and a
//! cluster: run by agent/tests/run-root.sh when KUBECONFIG is set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::*;

const NS: &str = "cvt-agent-e2e";
const NODE_A: &str = "cvt-node-a";
const NODE_B: &str = "cvt-node-b";
const AGENT_NS: &str = "cloudvault-system";
/// Label of the agent pod's address on the host's loopback (run-root.sh removes it).
const LABEL: &str = "lo:cvt";

fn pod_ip(ns: &str, name: &str) -> String {
    let mut ip = String::new();
    wait_for(Duration::from_secs(60), || {
        ip = kubectl(&format!(
            "-n {ns} get pod {name} -o jsonpath={{.status.podIP}}"
        ));
        !ip.trim().is_empty()
    });
    ip.trim().to_owned()
}

fn kubectl(args: &str) -> String {
    let k = std::env::var("CVT_KUBECTL").unwrap_or_else(|_| "kubectl".into());
    sh(&format!("{k} {args}"))
}

fn apply(yaml: &str) {
    let k = std::env::var("CVT_KUBECTL").unwrap_or_else(|_| "kubectl".into());
    sh(&format!("{k} apply -f - <<'YAML'\n{yaml}\nYAML"));
}

fn node(name: &str, zone: &str, cidr: &str) -> String {
    format!(
        "apiVersion: v1
kind: Node
metadata:
  name: {name}
  annotations:
    kwok.x-k8s.io/node: fake
  labels:
    type: kwok
    kubernetes.io/hostname: {name}
    topology.kubernetes.io/region: us-east-1
    topology.kubernetes.io/zone: {zone}
spec:
  podCIDR: {cidr}
  podCIDRs: [{cidr}]
  taints:
  - key: cloudvault.test/agent-e2e
    effect: NoSchedule"
    )
}

struct Cleanup;
impl Drop for Cleanup {
    fn drop(&mut self) {
        let k = std::env::var("CVT_KUBECTL").unwrap_or_else(|_| "kubectl".into());
        let _ = std::process::Command::new("bash")
            .arg("-c")
            .arg(format!(
                "{k} delete namespace {NS} --wait=false; {k} -n {AGENT_NS} delete pod vault-agent-e2e --wait=false; {k} delete pv cvt-pg-data --wait=false; {k} delete node {NODE_A} {NODE_B} --wait=false; ip -o addr show dev lo label {LABEL} | awk '{{print $4}}' | xargs -r -I@ ip addr del @ dev lo"
            ))
            .output();
    }
}

fn pod_uid(selector: &str) -> (String, String) {
    let k = std::env::var("CVT_KUBECTL").unwrap_or_else(|_| "kubectl".into());
    let mut out = String::new();
    wait_for(Duration::from_secs(60), || {
        // Not `sh`: an empty list is an error to jsonpath, and here a reason to retry.
        let o = std::process::Command::new("bash")
            .arg("-c")
            .arg(format!(
                "{k} -n {NS} get pods -l {selector} -o jsonpath='{{.items[0].metadata.uid}} {{.items[0].metadata.name}}'"
            ))
            .output()
            .unwrap();
        out = String::from_utf8_lossy(&o.stdout).into_owned();
        out.split_whitespace().count() == 2
    });
    let mut it = out.split_whitespace();
    (it.next().unwrap().to_owned(), it.next().unwrap().to_owned())
}

#[test]
#[ignore = "root + test control plane: run by agent/tests/run-root.sh"]
fn kubernetes_mode_names_pods_and_classes_by_node_zone() {
    assert!(std::env::var("KUBECONFIG").is_ok(), "needs KUBECONFIG");
    // Leftovers of an interrupted run go first.
    let k = std::env::var("CVT_KUBECTL").unwrap_or_else(|_| "kubectl".into());
    kubectl(&format!(
        "delete namespace {NS} --ignore-not-found --wait=true --timeout=120s && {k} -n {AGENT_NS} delete pod vault-agent-e2e --ignore-not-found && {k} delete pv cvt-pg-data --ignore-not-found && {k} delete node {NODE_A} {NODE_B} --ignore-not-found; ip -o addr show dev lo label {LABEL} | awk '{{print $4}}' | xargs -r -I@ ip addr del @ dev lo; true"
    ));
    let _cleanup = Cleanup;
    // Two nodes of our own (KWOK makes them Ready), tainted so nothing else lands there.
    apply(&node(NODE_A, "us-east-1a", "10.202.1.0/24"));
    apply(&node(NODE_B, "us-east-1b", "10.202.2.0/24"));
    kubectl(&format!(
        "create namespace {NS} --dry-run=client -o yaml | {} apply -f -",
        std::env::var("CVT_KUBECTL").unwrap_or_else(|_| "kubectl".into())
    ));
    let workload = |kind: &str, name: &str, node: &str| {
        format!(
            "apiVersion: apps/v1
kind: {kind}
metadata:
  name: {name}
  namespace: {NS}
spec:
  replicas: 1
  {svc}
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      nodeSelector: {{kubernetes.io/hostname: {node}}}
      tolerations: [{{operator: Exists}}]
      containers:
      - name: main
        image: registry.k8s.io/pause:3.10",
            svc = if kind == "StatefulSet" {
                format!("serviceName: {name}")
            } else {
                String::new()
            }
        )
    };
    // pg's volume is pinned to us-east-1b (PV nodeAffinity), so pg is pinned there.
    apply(&format!(
        "apiVersion: v1
kind: PersistentVolume
metadata:
  name: cvt-pg-data
spec:
  capacity: {{storage: 10Gi}}
  accessModes: [ReadWriteOnce]
  storageClassName: gp3
  persistentVolumeReclaimPolicy: Retain
  claimRef: {{namespace: {NS}, name: pg-data}}
  csi: {{driver: ebs.csi.aws.com, volumeHandle: vol-cvtpg}}
  nodeAffinity:
    required:
      nodeSelectorTerms:
      - matchExpressions:
        - {{key: topology.kubernetes.io/zone, operator: In, values: [us-east-1b]}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: pg-data
  namespace: {NS}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: gp3
  volumeName: cvt-pg-data
  resources: {{requests: {{storage: 10Gi}}}}"
    ));
    apply(&workload("Deployment", "api", NODE_A));
    // Bound to node B directly: the claim's binding is not what this test is about.
    apply(
        &workload("StatefulSet", "pg", NODE_B)
            .replace(
                "nodeSelector: {kubernetes.io/hostname: cvt-node-b}",
                "nodeName: cvt-node-b",
            )
            .replace(
                "        image: registry.k8s.io/pause:3.10",
                "        image: registry.k8s.io/pause:3.10
        volumeMounts: [{name: data, mountPath: /data}]
      volumes: [{name: data, persistentVolumeClaim: {claimName: pg-data}}]",
            ),
    );
    apply(&workload("Deployment", "nocgroup", NODE_A));
    let (api_uid, api_name) = pod_uid("app=api");
    let (_pg_uid, pg_name) = pod_uid("app=pg");
    let pg_ip = pod_ip(NS, &pg_name);
    let _ = pod_uid("app=nocgroup");

    // Make the api pod real here: a kubelet-style cgroup (systemd driver, burstable)
    // and a network namespace; pg's address is in node B's pod CIDR.
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("agent.log");
    let mut bed = Bed::new("kube");
    let cid = "e2e0000000000000000000000000000000000000000000000000000000000001";
    let api = bed.pod(
        1,
        &format!(
            "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{}.slice/cri-containerd-{cid}.scope",
            api_uid.replace('-', "_")
        ),
        &api_uid,
        cid,
    );
    let pg = bed.server_at("pg", &pg_ip, "cross-zone");
    bed.start_servers(1);
    let inet = bed.servers[3].clone();
    bed.count_rules(&api.veth, &[&pg.ip4, &inet.ip4]);
    let kubeconfig = std::env::var("KUBECONFIG").unwrap();
    let args = vec![
        "--kubeconfig".to_owned(),
        kubeconfig,
        "--node".into(),
        NODE_A.into(),
        "--cgroup-root".into(),
        bed.root.display().to_string(),
        "--pin-dir".into(),
        bed.pin_dir.display().to_string(),
        "--interval".into(),
        "500ms".into(),
    ];
    // The agent's own pod: a KWOK pod in the DaemonSet's namespace on node A, whose
    // address this test makes real (a dummy interface) so the API server's pods/proxy
    // reaches the agent process, as kubectl vault gravity does.
    kubectl(&format!(
        "create namespace {AGENT_NS} --dry-run=client -o yaml | {} apply -f -",
        std::env::var("CVT_KUBECTL").unwrap_or_else(|_| "kubectl".into())
    ));
    apply(&format!(
        "apiVersion: v1
kind: Pod
metadata:
  name: vault-agent-e2e
  namespace: {AGENT_NS}
  labels: {{app.kubernetes.io/name: vault-agent}}
spec:
  nodeName: {NODE_A}
  tolerations: [{{operator: Exists}}]
  containers:
  - name: vault-agent
    image: ghcr.io/cloudvault/vault-agent:0.1.0"
    ));
    let agent_ip = pod_ip(AGENT_NS, "vault-agent-e2e");
    wait_for(Duration::from_secs(60), || {
        kubectl(&format!(
            "-n {AGENT_NS} get pod vault-agent-e2e -o jsonpath={{.status.phase}}"
        )) == "Running"
    });
    sh(&format!("ip addr add {agent_ip}/32 dev lo label {LABEL}"));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let agent = Agent::start(&refs, &format!("{agent_ip}:9477"), &log);
    run_in(
        &api.cgroup,
        &api.ns,
        &format!("iperf3 -c {} -p 5201 -n 3M -P 2", pg.ip4),
    );
    run_in(
        &api.cgroup,
        &api.ns,
        &format!("iperf3 -c {} -p 5201 -n 1M", inet.ip4),
    );
    std::thread::sleep(Duration::from_millis(1500));

    let flows = agent.flows();
    let to_pg: Vec<&serde_json::Value> = flows["flows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["remote"] == pg.ip4.as_str())
        .collect();
    assert_eq!(to_pg.len(), 1, "{to_pg:?}");
    let f = to_pg[0];
    assert_eq!(f["pod"], api_name.as_str(), "{f}");
    assert_eq!(f["namespace"], NS, "{f}");
    assert_eq!(f["workload"], "Deployment/api", "{f}");
    assert_eq!(f["podUID"], api_uid.as_str(), "{f}");
    // pg's address is in node B's pod CIDR, and node B is in another zone.
    assert_eq!(f["class"], "cross-zone", "{f}");
    let a = agent_counts(&flows, pod_pred(&api_uid, &pg.ip4));
    let t = bed.counted(&api.veth, &pg.ip4);
    let line = compare_line("kube mode: api -> pg (cross-zone)", a, t);
    assert!(
        t.tx_bytes > 2_000_000 && within(a.tx_bytes, t.tx_bytes, 1.0),
        "{line}"
    );

    // OpenCost's series carries the same bytes under its labels.
    let (_, metrics) = agent.get("/metrics").unwrap();
    let series = format!(
        "kubecost_pod_network_egress_bytes_total{{pod_name=\"{api_name}\",namespace=\"{NS}\",internet=\"false\",same_zone=\"false\",same_region=\"true\"}} "
    );
    let value: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix(&series))
        .unwrap_or_else(|| panic!("no {series} in\n{metrics}"))
        .trim()
        .parse()
        .unwrap();
    assert_eq!(value, a.tx_bytes);
    assert!(metrics.contains(&format!(
        "kubecost_pod_network_egress_bytes_total{{pod_name=\"{api_name}\",namespace=\"{NS}\",internet=\"true\""
    )));
    // The nocgroup pod is on this node but has no cgroup here: a metric says so.
    assert!(agent.metric("cloudvault_agent_pods_without_cgroup") >= 1.0);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("pod list synced"), "{text}");
    assert!(text.contains("have no cgroup"), "{text}");
    eprintln!("{line}");

    // kubectl vault gravity reads the agent through pods/proxy and prices the
    // kernel-counted bytes: api (us-east-1a) <-> pg (pinned to us-east-1b) is cross-zone,
    // AWS charges $0.01/GiB out and $0.01/GiB in, and in us-east-1a pg would pay nothing.
    let plugin = std::env::var("CVT_PLUGIN").expect("CVT_PLUGIN: path of kubectl-vault");
    let out = sh(&format!(
        "{plugin} gravity --kubeconfig {} -n {NS} --provider aws --region us-east-1 -o json",
        std::env::var("KUBECONFIG").unwrap()
    ));
    let flows = agent.flows();
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["metadata"]["flowSource"], "agent", "{out}");
    let pg_item = report["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["workload"]["name"] == "pg")
        .unwrap_or_else(|| panic!("pg not in the report: {out}"));
    let hours = report["metadata"]["windowHours"].as_f64().unwrap();
    let a = agent_counts(&flows, pod_pred(&api_uid, &pg.ip4));
    let gib = (a.tx_bytes + a.rx_bytes) as f64 / (1u64 << 30) as f64;
    let expected = gib * 0.02 * 730.0 / hours;
    let got = pg_item["gravityMonthlyUSD"].as_f64().unwrap_or(f64::NAN);
    eprintln!(
        "gravity of pg: report {got} USD/month, expected from the kernel-counted bytes {expected} (window {hours} h)"
    );
    assert!(((got - expected) / expected).abs() < 0.02, "{out}");
}
