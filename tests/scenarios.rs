//! The 9 scenarios from public bug reports (issue 3), each on a minimal input of our own,
//! run through the same path as the CLI: dump reader -> snapshot -> SIG -> analysis.

use std::path::Path;

use cloudvault::collect::{Scope, read_paths};
use cloudvault::cost::{CostReport, VolumeCost, cost_report};
use cloudvault::graph::{BuildOptions, EdgeKind, EmbeddedStore, GraphStore, NodeId, build};
use cloudvault::model::ObjectRef;
use cloudvault::pricing::PriceBook;
use cloudvault::traffic::{FlowSet, vpc};

const NODES: &str = r#"
apiVersion: v1
kind: Node
metadata:
  name: node-a
  labels: {topology.kubernetes.io/zone: us-east-1a, topology.kubernetes.io/region: us-east-1, kubernetes.io/hostname: node-a}
spec: {providerID: "aws:///us-east-1a/i-a"}
status: {addresses: [{type: InternalIP, address: 10.0.1.10}]}
---
apiVersion: v1
kind: Node
metadata:
  name: node-b
  labels: {topology.kubernetes.io/zone: us-east-1b, topology.kubernetes.io/region: us-east-1, kubernetes.io/hostname: node-b, topology.ebs.csi.aws.com/zone: us-east-1b}
spec: {providerID: "aws:///us-east-1b/i-b"}
status: {addresses: [{type: InternalIP, address: 10.0.2.10}]}
"#;

fn load(dir: &Path, docs: &[&str]) -> cloudvault::model::ClusterSnapshot {
    let path = dir.join("dump.yaml");
    std::fs::write(&path, docs.join("\n---\n")).unwrap_or_else(|e| panic!("{e}"));
    read_paths(&[path])
        .unwrap_or_else(|e| panic!("{e}"))
        .into_snapshot(&Scope::default())
}

fn top(docs: &[&str]) -> CostReport {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let s = load(dir.path(), docs);
    let g = build(&s, &FlowSet::none(), &BuildOptions::default());
    cost_report(&g, &PriceBook::bundled().unwrap_or_else(|e| panic!("{e}")))
}

fn item<'a>(r: &'a CostReport, pvc: &str) -> &'a VolumeCost {
    r.items
        .iter()
        .find(|i| i.pvc.as_deref() == Some(pvc))
        .unwrap_or_else(|| panic!("no row for {pvc}"))
}

fn class(name: &str, provisioner: &str, params: &str) -> String {
    format!(
        "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {{name: {name}}}\nprovisioner: {provisioner}\nparameters: {params}\n"
    )
}

fn claim(ns: &str, name: &str, class: Option<&str>, request: &str, volume: Option<&str>) -> String {
    let class = class
        .map(|c| format!("  storageClassName: \"{c}\"\n"))
        .unwrap_or_default();
    let volume = volume
        .map(|v| format!("  volumeName: {v}\n"))
        .unwrap_or_default();
    let phase = if volume.is_empty() {
        "Pending"
    } else {
        "Bound"
    };
    format!(
        "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n  accessModes: [ReadWriteOnce]\n{class}  resources: {{requests: {{storage: {request}}}}}\n{volume}status: {{phase: {phase}}}\n"
    )
}

fn volume(name: &str, capacity: &str, class: &str, claim: (&str, &str), extra: &str) -> String {
    format!(
        "apiVersion: v1\nkind: PersistentVolume\nmetadata: {{name: {name}}}\nspec:\n  capacity: {{storage: {capacity}}}\n  accessModes: [ReadWriteOnce]\n  storageClassName: {class}\n  claimRef: {{namespace: {}, name: {}}}\n{extra}status: {{phase: Bound}}\n",
        claim.0, claim.1
    )
}

fn pod(ns: &str, name: &str, node: &str, ip: &str, claims: &[&str], extra: &str) -> String {
    let vols: String = claims
        .iter()
        .enumerate()
        .map(|(i, c)| format!("  - name: v{i}\n    persistentVolumeClaim: {{claimName: {c}}}\n"))
        .collect();
    let vols = if vols.is_empty() {
        String::new()
    } else {
        format!("  volumes:\n{vols}")
    };
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n  nodeName: {node}\n{extra}  containers: [{{name: c, image: busybox}}]\n{vols}status: {{phase: Running, podIP: {ip}, podIPs: [{{ip: {ip}}}]}}\n"
    )
}

const EBS: &str = "  csi: {driver: ebs.csi.aws.com, volumeHandle: vol-1}\n";

/// 1. A PVC bound but mounted by no pod is still priced at PV capacity and attributed
///    to its namespace, flagged idle.
#[test]
fn scenario_1_unmounted_claim_is_priced_and_idle() {
    let gp3 = class("gp3", "ebs.csi.aws.com", "{type: gp3}");
    let c = claim("reports", "old-data", Some("gp3"), "10Gi", Some("pv-old"));
    let v = volume("pv-old", "12Gi", "gp3", ("reports", "old-data"), EBS);
    let r = top(&[NODES, &gp3, &c, &v]);
    let row = item(&r, "old-data");
    assert_eq!(row.namespace.as_deref(), Some("reports"));
    assert_eq!(
        row.capacity_bytes,
        Some(12 << 30),
        "billed on PV capacity, not the 10Gi request"
    );
    assert_eq!(row.monthly_cost_usd.cents(), 0.96); // 12 GiB x $0.08
    assert!(row.idle);
    assert_eq!(row.flags, vec!["idle".to_owned(), "unmounted".to_owned()]);
}

/// 2. A PV whose nodeAffinity has the EBS driver zone key and the GA zone key in one
///    term fits only nodes with both; its zone is still reported.
#[test]
fn scenario_2_driver_and_ga_keys_in_one_term() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let affinity = "  nodeAffinity:\n    required:\n      nodeSelectorTerms:\n      - matchExpressions:\n        - {key: topology.ebs.csi.aws.com/zone, operator: In, values: [us-east-1b]}\n        - {key: topology.kubernetes.io/zone, operator: In, values: [us-east-1b]}\n";
    let v = volume(
        "pv-both",
        "10Gi",
        "gp3",
        ("x", "data"),
        &format!("{EBS}{affinity}"),
    );
    // node-c: GA label only, in the same zone.
    let node_c = "apiVersion: v1\nkind: Node\nmetadata:\n  name: node-c\n  labels: {topology.kubernetes.io/zone: us-east-1b}\n";
    let s = load(dir.path(), &[NODES, node_c, &v]);
    let pv = &s.volumes[0];
    let fits: Vec<&str> = s
        .nodes
        .iter()
        .filter(|n| cloudvault::topology::volume_allows_node(pv, n, &s.nodes))
        .map(|n| n.name.as_str())
        .collect();
    assert_eq!(fits, vec!["node-b"]);
    let r = top(&[
        NODES,
        &v,
        &class("gp3", "ebs.csi.aws.com", "{type: gp3}"),
        &claim("x", "data", Some("gp3"), "10Gi", Some("pv-both")),
    ]);
    assert_eq!(item(&r, "data").zones, vec!["us-east-1b".to_owned()]);
}

/// 3. A GKE PV with only `failure-domain.beta.kubernetes.io` labels gets its zone.
#[test]
fn scenario_3_gke_beta_labels() {
    let v = "apiVersion: v1\nkind: PersistentVolume\nmetadata:\n  name: pvc-gke\n  labels: {failure-domain.beta.kubernetes.io/zone: us-central1-c, failure-domain.beta.kubernetes.io/region: us-central1}\nspec:\n  capacity: {storage: 50Gi}\n  accessModes: [ReadWriteOnce]\n  storageClassName: standard\n  claimRef: {namespace: web, name: www-0}\n  gcePersistentDisk: {pdName: gke-pvc-gke, fsType: ext4}\nstatus: {phase: Bound}\n";
    let sc = class("standard", "kubernetes.io/gce-pd", "{type: pd-standard}");
    let r = top(&[
        v,
        &sc,
        &claim("web", "www-0", Some("standard"), "50Gi", Some("pvc-gke")),
    ]);
    let row = item(&r, "www-0");
    assert_eq!(row.zones, vec!["us-central1-c".to_owned()]);
    assert_eq!(row.price_key.as_deref(), Some("gce-pd-standard"));
    assert_eq!(row.monthly_cost_usd.cents(), 2.00);
}

/// 4. gp3 at 6000 IOPS and 250 MiB/s costs exactly the list prices above the defaults.
#[test]
fn scenario_4_gp3_above_baseline() {
    let sc = class(
        "gp3-fast",
        "ebs.csi.aws.com",
        "{type: gp3, iops: \"6000\", throughput: \"250\"}",
    );
    let r = top(&[
        NODES,
        &sc,
        &claim("db", "fast", Some("gp3-fast"), "100Gi", Some("pv-fast")),
        &volume("pv-fast", "100Gi", "gp3-fast", ("db", "fast"), EBS),
    ]);
    // 100 x 0.08 + (6000 - 3000) x 0.005 + (250 - 125) x 0.04 = 8 + 15 + 5
    assert_eq!(item(&r, "fast").monthly_cost_usd.cents(), 28.00);
}

/// 5. A `pd-balanced` class gets the pd-balanced price, not the default.
#[test]
fn scenario_5_pd_balanced() {
    let sc = class("balanced", "pd.csi.storage.gke.io", "{type: pd-balanced}");
    let v = volume(
        "pv-bal",
        "100Gi",
        "balanced",
        ("app", "bal"),
        "  csi: {driver: pd.csi.storage.gke.io, volumeHandle: projects/p/zones/us-central1-a/disks/d}\n",
    );
    let r = top(&[
        &sc,
        &claim("app", "bal", Some("balanced"), "100Gi", Some("pv-bal")),
        &v,
    ]);
    let row = item(&r, "bal");
    assert_eq!(row.price_key.as_deref(), Some("gce-pd-balanced"));
    assert_eq!(row.monthly_cost_usd.cents(), 10.00);
    assert!(!row.flags.contains(&"unknown-price".to_owned()));
}

/// 6. A class of an unknown provisioner (Ceph, NFS subdir) gets the default price and
///    the flag, in the table data and in the JSON.
#[test]
fn scenario_6_unknown_provisioners_are_flagged() {
    let ceph = class("ceph", "rook-ceph.rbd.csi.ceph.com", "{pool: replicapool}");
    let nfs = class(
        "nfs-client",
        "k8s-sigs.io/nfs-subdir-external-provisioner",
        "{}",
    );
    let r = top(&[
        &ceph,
        &nfs,
        &claim("a", "on-ceph", Some("ceph"), "100Gi", Some("pv-ceph")),
        &volume(
            "pv-ceph",
            "100Gi",
            "ceph",
            ("a", "on-ceph"),
            "  csi: {driver: rook-ceph.rbd.csi.ceph.com, volumeHandle: x}\n",
        ),
        &claim("a", "on-nfs", Some("nfs-client"), "20Gi", Some("pv-nfs")),
        &volume(
            "pv-nfs",
            "20Gi",
            "nfs-client",
            ("a", "on-nfs"),
            "  nfs: {server: nfs.local, path: /export/a}\n",
        ),
    ]);
    for (pvc, cost) in [("on-ceph", 10.00), ("on-nfs", 2.00)] {
        let row = item(&r, pvc);
        assert_eq!(
            row.monthly_cost_usd.cents(),
            cost,
            "default $0.10/GiB-month"
        );
        assert!(
            row.flags.contains(&"unknown-price".to_owned()),
            "{pvc}: {:?}",
            row.flags
        );
        assert!(
            row.unknown_price_reason
                .as_deref()
                .is_some_and(|r| r.contains("no list price")),
            "{:?}",
            row.unknown_price_reason
        );
    }
    let json = serde_json::to_value(&r).unwrap_or_default();
    let flagged = json["items"].as_array().map_or(0, |items| {
        items
            .iter()
            .filter(|i| {
                i["flags"]
                    .as_array()
                    .is_some_and(|f| f.iter().any(|f| f == "unknown-price"))
            })
            .count()
    });
    assert_eq!(flagged, 2);
}

/// 7. No `storageClassName` means the default class; `storageClassName: ""` means none.
#[test]
fn scenario_7_default_class_and_empty_class() {
    let gp3 = "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata:\n  name: gp3\n  annotations: {storageclass.kubernetes.io/is-default-class: \"true\"}\nprovisioner: ebs.csi.aws.com\n";
    let other = class("io2", "ebs.csi.aws.com", "{type: io2}");
    let r = top(&[
        gp3,
        &other,
        &claim("a", "implicit", None, "5Gi", None),
        &claim("a", "explicit-none", Some(""), "5Gi", None),
    ]);
    assert_eq!(item(&r, "implicit").storage_class.as_deref(), Some("gp3"));
    assert_eq!(item(&r, "explicit-none").storage_class, None);
}

/// 8. A PVC shared by three pods splits its cost in three.
#[test]
fn scenario_8_shared_claim_split_in_three() {
    let efs = class("efs", "efs.csi.aws.com", "{}");
    let c = claim("media", "assets", Some("efs"), "100Gi", Some("pv-assets"));
    let v = volume(
        "pv-assets",
        "100Gi",
        "efs",
        ("media", "assets"),
        "  csi: {driver: efs.csi.aws.com, volumeHandle: fs-1}\n",
    );
    let pods: Vec<String> = (0..3)
        .map(|i| {
            pod(
                "media",
                &format!("web-{i}"),
                "node-a",
                &format!("10.0.1.{}", 30 + i),
                &["assets"],
                "",
            )
        })
        .collect();
    let mut docs = vec![NODES, &efs, &c, &v];
    docs.extend(pods.iter().map(String::as_str));
    let r = top(&docs);
    let row = item(&r, "assets");
    assert_eq!(row.monthly_cost_usd.cents(), 30.00);
    assert_eq!(row.workloads.len(), 3);
    for w in &row.workloads {
        assert_eq!(w.monthly_cost_usd.cents(), 10.00);
        assert!((w.share - 1.0 / 3.0).abs() < 1e-12);
    }
    assert!(row.flags.contains(&"shared".to_owned()));
}

/// 9. A host-network pod shares its node's IP: its flows go to the pod when its
///    declared container ports identify it, else to the node, and the report says so.
#[test]
fn scenario_9_host_network_pod() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let exporter = "apiVersion: v1\nkind: Pod\nmetadata: {name: node-exporter-x1, namespace: monitoring}\nspec:\n  nodeName: node-a\n  hostNetwork: true\n  containers: [{name: e, image: prom/node-exporter, ports: [{containerPort: 9100, hostPort: 9100}]}]\nstatus: {phase: Running, podIP: 10.0.1.10, podIPs: [{ip: 10.0.1.10}]}\n";
    let scraper = pod("monitoring", "prometheus-0", "node-b", "10.0.2.50", &[], "");
    let s = load(dir.path(), &[NODES, exporter, &scraper]);
    let flows = dir.path().join("flows.log");
    std::fs::write(
        &flows,
        "2 1 eni-b 10.0.2.50 10.0.1.10 40000 9100 6 10 5000 0 3600 ACCEPT OK\n2 1 eni-b 10.0.1.10 10.0.2.50 9100 40000 6 10 90000 0 3600 ACCEPT OK\n2 1 eni-b 10.0.2.50 10.0.1.10 40001 22 6 10 700 0 3600 ACCEPT OK\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let set = vpc::read_flow_logs(&[flows]).unwrap_or_else(|e| panic!("{e}"));
    let g: EmbeddedStore = build(&s, &set, &BuildOptions::default());
    let exporter_id = NodeId::Pod(ObjectRef {
        namespace: "monitoring".into(),
        name: "node-exporter-x1".into(),
    });
    let bytes = |edges: Vec<(&NodeId, &cloudvault::graph::Edge)>| -> u64 {
        edges
            .iter()
            .map(|(_, e)| match e {
                cloudvault::graph::Edge::Sends { bytes, .. } => *bytes,
                _ => 0,
            })
            .sum()
    };
    // Port 9100 is declared by the exporter: its bytes are the pod's.
    assert_eq!(bytes(g.in_edges(&exporter_id, EdgeKind::Sends)), 5000);
    assert_eq!(bytes(g.out_edges(&exporter_id, EdgeKind::Sends)), 90000);
    // Port 22 is declared by no host-network pod: the node's, and the report says so.
    assert_eq!(
        bytes(g.in_edges(&NodeId::Node("node-a".into()), EdgeKind::Sends)),
        700
    );
    assert!(
        g.meta()
            .notes
            .iter()
            .any(|n| n.contains("node-a") && n.contains("went to the node")),
        "{:?}",
        g.meta().notes
    );
}

/// A claim naming a VolumeAttributesClass the dump does not hold: priced from the
/// StorageClass (the only thing known) and the report says which class is missing.
#[test]
fn missing_attributes_class_is_noted() {
    let sc = class("io2", "ebs.csi.aws.com", "{type: io2, iopsPerGB: \"50\"}");
    let c = claim("db", "data", Some("io2"), "100Gi", Some("pv-data")).replace(
        "  accessModes: [ReadWriteOnce]\n",
        "  accessModes: [ReadWriteOnce]\n  volumeAttributesClassName: io2-class\n",
    );
    let r = top(&[
        NODES,
        &sc,
        &c,
        &volume("pv-data", "100Gi", "io2", ("db", "data"), EBS),
    ]);
    assert!(
        r.metadata.notes.iter().any(|n| n.starts_with(
            "VolumeAttributesClass io2-class named by claims or volumes is not in the input"
        )),
        "{:?}",
        r.metadata.notes
    );
    // With the class in the input, no note.
    let vac = "apiVersion: storage.k8s.io/v1\nkind: VolumeAttributesClass\nmetadata: {name: io2-class}\ndriverName: ebs.csi.aws.com\nparameters: {iops: \"3000\"}\n";
    let r = top(&[
        NODES,
        &sc,
        &c,
        vac,
        &volume("pv-data", "100Gi", "io2", ("db", "data"), EBS),
    ]);
    assert!(
        !r.metadata
            .notes
            .iter()
            .any(|n| n.contains("VolumeAttributesClass"))
    );
}
