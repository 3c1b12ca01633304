//! Every real-world manifest in `../shared/real-inputs/manifests/` loads, and a table
//! gives each one its expected zones and price keys (see that folder's SOURCES.md).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cloudvault::collect::{Scope, read_paths};
use cloudvault::model::ClusterSnapshot;
use cloudvault::pricing::price_key;
use cloudvault::topology::{volume_zones, zone_of};

/// The folder, found from the repository upwards (a worktree may sit deeper than a
/// clone), or from `$CLOUDVAULT_REAL_INPUTS`.
fn manifests_dir() -> PathBuf {
    if let Ok(d) = std::env::var("CLOUDVAULT_REAL_INPUTS") {
        return PathBuf::from(d);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    root.ancestors()
        .map(|a| a.join("shared/real-inputs/manifests"))
        .find(|p| p.is_dir())
        .unwrap_or_else(|| {
            panic!(
                "shared/real-inputs/manifests not found above {}; set CLOUDVAULT_REAL_INPUTS",
                root.display()
            )
        })
}

/// `sc/<name>=<key>` for classes, `pv/<name>=<zones>:<key>` for volumes, and
/// `pvc/<ns>/<name>=<class>` for claims, in a stable order.
fn describe(s: &ClusterSnapshot) -> String {
    let mut parts = Vec::new();
    for n in &s.nodes {
        parts.push(format!(
            "node/{}={}",
            n.name,
            zone_of(&n.labels).unwrap_or_else(|| "unknown".into())
        ));
    }
    for c in &s.classes {
        let key = price_key(Some(c), None, None, 1 << 30)
            .map_or_else(|_| "unknown".to_owned(), |k| k.key);
        parts.push(format!("sc/{}={key}", c.name));
    }
    for v in &s.volumes {
        let class = v
            .storage_class
            .as_ref()
            .and_then(|n| s.classes.iter().find(|c| &c.name == n));
        let key = price_key(class, Some(v), None, v.capacity_bytes.unwrap_or(0))
            .map_or_else(|_| "unknown".to_owned(), |k| k.key);
        parts.push(format!(
            "pv/{}={}:{key}",
            v.name,
            volume_zones(v, &s.nodes).label()
        ));
    }
    for c in &s.claims {
        let class = match &c.class {
            cloudvault::model::ClassRequest::Default => "(default)".to_owned(),
            cloudvault::model::ClassRequest::NoClass => "(none)".to_owned(),
            cloudvault::model::ClassRequest::Named(n) => n.clone(),
        };
        parts.push(format!("pvc/{}/{}={class}", c.namespace, c.name));
    }
    parts.join("; ")
}

const EXPECTED: &[(&str, &str)] = &[
    // GKE in-tree PD with only the deprecated labels; its class is not in the file, so
    // its disk type (and price key) is unknown.
    (
        "derailed_k9s__internal__render__testdata__pv.json.yaml",
        "pv/pvc-07aa4e2c-8726-11e9-a8e8-42010a80015b=us-central1-a:unknown",
    ),
    (
        "derailed_k9s__internal__render__testdata__pv_terminating.json.yaml",
        "pv/pvc-a4d86f51-916c-476b-83af-b551c91a8ac0=asia-southeast1-b:unknown",
    ),
    (
        "kdash-rs_kdash__test_data__nodes.yaml",
        "node/gke-hello-hipster-default-pool-9e6f6ffb-q16l=unknown",
    ),
    (
        "kdash-rs_kdash__test_data__pvcs.yaml",
        "pvc/jhipster/data-consul-0=gp2; pvc/jhipster/data-consul-1=gp2; pvc/jhipster/data-consul-2=gp2",
    ),
    (
        "kdash-rs_kdash__test_data__pvs.yaml",
        "pv/pvc-149f1f3b-c0fd-471d-bc3e-d039369755ef=eu-west-1a:unknown; pv/pvc-c5a5b78c-732a-4c44-8c2c-4682296da68c=eu-west-1c:unknown; pv/pvc-d2ccb749-9fdc-4503-81e9-f268073e1487=eu-west-1b:unknown",
    ),
    (
        "kdash-rs_kdash__test_data__storageclass.yaml",
        "sc/ebs-performance=ebs-io1; sc/ebs-standard=ebs-gp2; sc/efs-sc=efs-standard; sc/gp2=ebs-gp2",
    ),
    (
        "kubernetes-csi_external-snapshotter__examples__kubernetes__groupsnapshot-v1beta1.yaml",
        "",
    ),
    (
        "kubernetes-csi_external-snapshotter__examples__kubernetes__restore.yaml",
        "pvc/default/hpvc-restore=csi-hostpath-sc",
    ),
    (
        "kubernetes-sigs_aws-ebs-csi-driver__examples__kubernetes__ephemeral-volume__manifests__pod.yaml",
        "",
    ),
    (
        "kubernetes-sigs_aws-ebs-csi-driver__examples__kubernetes__modify-volume__manifests__pod-with-volume.yaml",
        "sc/ebs-sc=ebs-gp3; pvc/default/ebs-claim=ebs-sc",
    ),
    (
        "kubernetes-sigs_aws-ebs-csi-driver__examples__kubernetes__modify-volume__manifests__volumeattributesclass.yaml",
        "",
    ),
    (
        "kubernetes-sigs_aws-ebs-csi-driver__examples__kubernetes__node-local-volumes__manifests__pv-pvc.yaml",
        "pv/node-local-cache-pv=unknown:unknown; pvc/default/node-local-cache-pvc=(default)",
    ),
    (
        "kubernetes-sigs_aws-ebs-csi-driver__examples__kubernetes__snapshot__manifests__classes__snapshotclass.yaml",
        "",
    ),
    (
        "kubernetes-sigs_aws-ebs-csi-driver__examples__kubernetes__snapshot__manifests__snapshot-restore__claim.yaml",
        "pvc/default/ebs-snapshot-restored-claim=ebs-sc",
    ),
    (
        "kubernetes-sigs_aws-ebs-csi-driver__examples__kubernetes__snapshot__manifests__snapshot__snapshot.yaml",
        "",
    ),
    (
        "kubernetes-sigs_aws-ebs-csi-driver__examples__kubernetes__static-provisioning__manifests__pv.yaml",
        "pv/test-pv=us-east-2c:unknown",
    ),
    (
        "kubernetes-sigs_aws-ebs-csi-driver__examples__kubernetes__storageclass__manifests__storageclass.yaml",
        "sc/ebs-sc=ebs-io1",
    ),
    (
        "kubernetes-sigs_aws-ebs-csi-driver__issues__2099__vac-unsupported-param.yaml",
        "",
    ),
    (
        "kubernetes-sigs_aws-ebs-csi-driver__issues__2297__pvc-with-vac.yaml",
        "pvc/monitoring/data-loki-read-0=gp3",
    ),
    (
        "kubernetes-sigs_aws-ebs-csi-driver__issues__2297__vac.yaml",
        "",
    ),
    (
        "kubernetes-sigs_aws-ebs-csi-driver__issues__2340__vac-gp2-to-gp3.yaml",
        "",
    ),
    (
        "kubernetes-sigs_azuredisk-csi-driver__deploy__example__modifyvolume__volumeattributesclass.yaml",
        "",
    ),
    (
        "kubernetes-sigs_azuredisk-csi-driver__deploy__example__pv-azuredisk-csi.yaml",
        "pv/pv-azuredisk=unknown:unknown",
    ),
    (
        "kubernetes-sigs_azuredisk-csi-driver__deploy__example__sharedisk__deployment.yaml",
        "sc/managed-csi=azure-premium-lrs; pvc/default/pvc-azuredisk=managed-csi",
    ),
    (
        "kubernetes-sigs_azuredisk-csi-driver__deploy__example__statefulset-nozone.yaml",
        "",
    ),
    (
        "kubernetes-sigs_azuredisk-csi-driver__deploy__example__storageclass-azuredisk-csi-allowed-topology.yaml",
        "sc/managed-csi=azure-standardssd-lrs",
    ),
    (
        "kubernetes-sigs_gcp-compute-persistent-disk-csi-driver__examples__kubernetes__demo-pod-shared-pd.yaml",
        "pvc/default/podpvc=csi-gce-pd",
    ),
    (
        "kubernetes-sigs_gcp-compute-persistent-disk-csi-driver__examples__kubernetes__demo-regional-restricted-sc.yaml",
        "sc/csi-gce-pd=gce-pd-standard-regional",
    ),
    (
        "kubernetes-sigs_gcp-compute-persistent-disk-csi-driver__examples__kubernetes__demo-vol-create.yaml",
        "sc/test-sc=gce-hyperdisk-balanced; pvc/default/test-pvc=test-sc",
    ),
    (
        "kubernetes-sigs_gcp-compute-persistent-disk-csi-driver__examples__kubernetes__snapshot__volumesnapshotclass-storage-locations.yaml",
        "",
    ),
    (
        "kubernetes_examples___archived__cockroachdb__cockroachdb-statefulset.yaml",
        "",
    ),
    (
        "kubernetes_examples___archived__persistent-volume-provisioning__aws-ebs.yaml",
        "sc/slow=ebs-io1",
    ),
    (
        "kubernetes_examples___archived__volumes__nfs__nfs-pv.yaml",
        "pv/nfs=any:unknown",
    ),
    (
        "kubernetes_examples___archived__volumes__nfs__nfs-pvc.yaml",
        "pvc/default/nfs=(none)",
    ),
    (
        "kubernetes_website__content__en__docs__concepts__storage__volumes.md__local-pv.yaml",
        "pv/example-pv=unknown:unknown",
    ),
    (
        "kubernetes_website__content__en__docs__concepts__storage__volumes.md__regional-pd-pv.yaml",
        "pv/test-volume=us-central1-a,us-central1-b:unknown",
    ),
    (
        "kubernetes_website__content__en__examples__application__cassandra__cassandra-statefulset.yaml",
        "sc/fast=unknown",
    ),
    (
        "kubernetes_website__content__en__examples__application__restore-pvc.yaml",
        "pvc/default/restored-pvc=(default)",
    ),
    (
        "kubernetes_website__content__en__examples__application__zookeeper__zookeeper.yaml",
        "",
    ),
    (
        "kubernetes_website__content__en__examples__storage__storageclass__storageclass-aws-efs.yaml",
        "sc/efs-sc=efs-standard",
    ),
    (
        "kubernetes_website__content__en__examples__storage__storageclass__storageclass-local.yaml",
        "sc/local-storage=unknown",
    ),
    (
        "kubernetes_website__content__en__examples__storage__storageclass__storageclass-topology.yaml",
        "sc/standard=unknown",
    ),
    (
        "red-hat-storage_ocs-ci__issues__11605__restore-pvc-pending.yaml",
        "pvc/longevity/restore-pvc-test-0214186ffc0549-366f47ef=ocs-storagecluster-ceph-rbd",
    ),
];

#[test]
fn every_real_manifest_loads_with_expected_zones_and_keys() {
    let dir = manifests_dir();
    let expected: BTreeMap<&str, &str> = EXPECTED.iter().copied().collect();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 40,
        "expected the whole folder, found {} files",
        files.len()
    );
    let mut mismatches = Vec::new();
    for f in &files {
        let name = f.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let raw = read_paths(std::slice::from_ref(f))
            .unwrap_or_else(|e| panic!("{name} does not load: {e}"));
        let got = describe(&raw.into_snapshot(&Scope::default()));
        match expected.get(name) {
            Some(want) if *want == got => {}
            Some(want) => mismatches.push(format!("{name}\n   want: {want}\n    got: {got}")),
            None => mismatches.push(format!("{name}: no expectation; got: {got}")),
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// The kdash dumps together are one real EKS cluster: claims bind to their in-tree
/// (CSI-migrated) gp2 volumes in three zones, priced at the eu-west-1 list price.
#[test]
fn kdash_dump_as_one_cluster() {
    let dir = manifests_dir();
    let files: Vec<PathBuf> = ["pvs", "pvcs", "storageclass", "nodes"]
        .iter()
        .map(|f| dir.join(format!("kdash-rs_kdash__test_data__{f}.yaml")))
        .collect();
    let snapshot = read_paths(&files)
        .unwrap_or_else(|e| panic!("{e}"))
        .into_snapshot(&Scope::default());
    let opts = cloudvault::graph::BuildOptions {
        region: Some("eu-west-1".into()),
        ..Default::default()
    };
    let g = cloudvault::graph::build(&snapshot, &cloudvault::traffic::FlowSet::none(), &opts);
    let book = cloudvault::pricing::PriceBook::bundled().unwrap_or_else(|e| panic!("{e}"));
    let r = cloudvault::cost::cost_report(&g, &book);
    // (claim, price key, zones, $/month, flags)
    type Row = (String, String, Vec<String>, f64, Vec<String>);
    let rows: Vec<Row> = r
        .items
        .iter()
        .map(|v| {
            (
                v.pvc.clone().unwrap_or_default(),
                v.price_key.clone().unwrap_or_default(),
                v.zones.clone(),
                v.monthly_cost_usd.cents(),
                v.flags.clone(),
            )
        })
        .collect();
    let idle = vec!["idle".to_owned(), "unmounted".to_owned()];
    assert_eq!(
        rows,
        vec![
            (
                "data-consul-0".into(),
                "ebs-gp2".into(),
                vec!["eu-west-1a".into()],
                0.88,
                idle.clone()
            ),
            (
                "data-consul-1".into(),
                "ebs-gp2".into(),
                vec!["eu-west-1c".into()],
                0.88,
                idle.clone()
            ),
            (
                "data-consul-2".into(),
                "ebs-gp2".into(),
                vec!["eu-west-1b".into()],
                0.88,
                idle
            ),
        ]
    );
}
