use super::*;

fn sc(provisioner: &str, params: &[(&str, &str)]) -> StorageClass {
    StorageClass {
        name: "c".into(),
        provisioner: provisioner.into(),
        parameters: params
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect(),
        is_default: false,
    }
}

fn book() -> PriceBook {
    PriceBook::bundled().unwrap_or_else(|e| panic!("{e}"))
}

const GI: u64 = 1 << 30;

fn cost(class: &StorageClass, gib: u64, region: Option<&str>) -> (PriceKey, StorageCharge) {
    let k = price_key(Some(class), None, None, gib * GI).unwrap_or_else(|e| panic!("{e}"));
    let p = book()
        .storage(&k.key, region)
        .unwrap_or_else(|| panic!("no price for {}", k.key));
    let c = storage_charge(&p, gib * GI, &k);
    (k, c)
}

#[test]
fn bundled_tables_parse_and_name_sources() {
    let b = book();
    assert_eq!(b.tables.len(), 3);
    for t in b.tables.values() {
        assert!(!t.sources.is_empty(), "{:?} names no source", t.provider);
        assert!(!t.units.is_empty());
    }
    assert_eq!(b.default.per_gi_b_month, Some(0.10));
}

/// Bug-report scenario 4: gp3 at 6000 IOPS and 250 MiB/s.
#[test]
fn gp3_iops_and_throughput_above_the_free_baseline() {
    let (k, c) = cost(
        &sc(
            "ebs.csi.aws.com",
            &[("type", "gp3"), ("iops", "6000"), ("throughput", "250")],
        ),
        100,
        None,
    );
    assert_eq!(k.key, "ebs-gp3");
    assert_eq!(c.capacity.cents(), 8.00); // 100 GiB x $0.08
    assert_eq!(c.iops.cents(), 15.00); // (6000 - 3000) x $0.005
    assert_eq!(c.throughput.cents(), 5.00); // (250 - 125) x $0.04
    assert_eq!(c.monthly.cents(), 28.00);
    // At the baseline nothing extra is billed.
    let (_, c) = cost(&sc("ebs.csi.aws.com", &[("type", "gp3")]), 100, None);
    assert_eq!(c.monthly.cents(), 8.00);
}

#[test]
fn io2_iops_are_tiered_and_io1_flat() {
    let (k, c) = cost(
        &sc("ebs.csi.aws.com", &[("type", "io2"), ("iops", "40000")]),
        100,
        None,
    );
    assert_eq!(k.key, "ebs-io2");
    // 32000 x 0.065 + 8000 x 0.0455 = 2080 + 364
    assert_eq!(c.iops.cents(), 2444.00);
    assert_eq!(c.capacity.cents(), 12.50);
    let (_, c) = cost(
        &sc("ebs.csi.aws.com", &[("type", "io2"), ("iops", "70000")]),
        100,
        None,
    );
    // 2080 + 32000 x 0.0455 + 6000 x 0.032 = 2080 + 1456 + 192
    assert_eq!(c.iops.cents(), 3728.00);
    // io1 with iopsPerGB: 10 x 200 GiB = 2000 IOPS x 0.065
    let (k, c) = cost(
        &sc(
            "kubernetes.io/aws-ebs",
            &[("type", "io1"), ("iopsPerGB", "10")],
        ),
        200,
        None,
    );
    assert_eq!(k.iops, Some(2000.0));
    assert_eq!(c.iops.cents(), 130.00);
}

#[test]
fn in_tree_provisioners_map_to_csi() {
    assert_eq!(csi_twin("kubernetes.io/aws-ebs"), "ebs.csi.aws.com");
    assert_eq!(csi_twin("kubernetes.io/gce-pd"), "pd.csi.storage.gke.io");
    assert_eq!(csi_twin("kubernetes.io/azure-disk"), "disk.csi.azure.com");
    // In-tree EBS defaults to gp2, the CSI driver to gp3.
    let (k, _) = cost(&sc("kubernetes.io/aws-ebs", &[]), 10, None);
    assert_eq!(k.key, "ebs-gp2");
    let (k, _) = cost(&sc("ebs.csi.aws.com", &[]), 10, None);
    assert_eq!(k.key, "ebs-gp3");
    let (k, c) = cost(
        &sc(
            "kubernetes.io/gce-pd",
            &[("type", "pd-ssd"), ("replication-type", "regional-pd")],
        ),
        100,
        None,
    );
    assert_eq!(k.key, "gce-pd-ssd-regional");
    assert_eq!(c.monthly.cents(), 34.00);
}

#[test]
fn azure_size_tier_rounding() {
    // 100 GiB rounds up to P10 (128 GiB), 129 GiB to P15.
    let (_, c) = cost(
        &sc("disk.csi.azure.com", &[("skuName", "Premium_LRS")]),
        100,
        None,
    );
    assert_eq!((c.tier.as_deref(), c.monthly.cents()), (Some("P10"), 19.71));
    let (_, c) = cost(
        &sc("disk.csi.azure.com", &[("skuName", "Premium_LRS")]),
        129,
        None,
    );
    assert_eq!((c.tier.as_deref(), c.monthly.cents()), (Some("P15"), 38.02));
    let (_, c) = cost(
        &sc("disk.csi.azure.com", &[("skuName", "Premium_LRS")]),
        128,
        None,
    );
    assert_eq!(c.tier.as_deref(), Some("P10"));
    let (k, c) = cost(
        &sc(
            "kubernetes.io/azure-disk",
            &[("storageaccounttype", "Standard_LRS")],
        ),
        1,
        None,
    );
    assert_eq!(
        (k.key.as_str(), c.tier.as_deref(), c.monthly.cents()),
        ("azure-standard-lrs", Some("S4"), 1.54)
    );
    let (_, c) = cost(
        &sc(
            "disk.csi.azure.com",
            &[
                ("skuName", "PremiumV2_LRS"),
                ("DiskIOPSReadWrite", "5000"),
                ("DiskMBpsReadWrite", "200"),
            ],
        ),
        100,
        None,
    );
    assert_eq!(c.tier, None);
    assert_eq!(
        c.iops.cents(),
        (2000.0f64 * 0.00488 * 100.0).round() / 100.0
    );
}

/// Bug-report scenario 5: pd-balanced gets its own price, not the default.
#[test]
fn pd_balanced_gets_its_price() {
    let (k, c) = cost(
        &sc("pd.csi.storage.gke.io", &[("type", "pd-balanced")]),
        50,
        None,
    );
    assert_eq!(k.key, "gce-pd-balanced");
    assert_eq!(c.monthly.cents(), 5.00);
    let (_, c) = cost(
        &sc("pd.csi.storage.gke.io", &[("type", "pd-balanced")]),
        50,
        Some("europe-west1"),
    );
    assert_eq!(c.monthly.cents(), 5.50);
}

#[test]
fn unknown_provisioners_have_no_key() {
    let e = price_key(Some(&sc("rook-ceph.rbd.csi.ceph.com", &[])), None, None, GI);
    assert!(
        e.as_ref()
            .is_err_and(|e| e.contains("rook-ceph.rbd.csi.ceph.com")),
        "{e:?}"
    );
    assert!(
        price_key(
            Some(&sc("k8s-sigs.io/nfs-subdir-external-provisioner", &[])),
            None,
            None,
            GI
        )
        .is_err()
    );
}

#[test]
fn overrides_replace_prices() {
    let mut b = book();
    let o = PriceTable::from_yaml(
        "provider: aws\nstorage:\n  ebs-gp3: {perGiBMonth: 0.05}\ndefault: {perGiBMonth: 0.02}\nclasses:\n  ceph: {perGiBMonth: 0.01}\ntransfer:\n  crossZone: {egressPerGiB: 0.02, ingressPerGiB: 0.0}\n",
        "o.yaml",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    b.apply(o, "o.yaml");
    assert_eq!(
        b.storage("ebs-gp3", None).and_then(|p| p.per_gi_b_month),
        Some(0.05)
    );
    assert_eq!(b.default.per_gi_b_month, Some(0.02));
    assert!(b.classes.contains_key("ceph"));
    let t = b
        .tables
        .get(&crate::topology::Provider::Aws)
        .map(|t| t.transfer.cross_zone);
    assert_eq!(t.flatten().map(|p| p.egress_per_gi_b), Some(0.02));
    let e = PriceTable::from_yaml("storage: [1]\n", "bad.yaml")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.starts_with("bad.yaml: not a price table"), "{e}");
}

/// A negative, NaN or infinite number anywhere in a price file is refused by its path,
/// never turned into a negative or NaN bill.
#[test]
fn impossible_prices_are_refused_by_path() {
    for (yaml, field) in [
        (
            "classes:\n  gp3: {perGiBMonth: -1}\n",
            "classes.gp3.perGiBMonth is -1",
        ),
        (
            "classes:\n  gp3: {perGiBMonth: .nan}\n",
            "classes.gp3.perGiBMonth is NaN",
        ),
        (
            "transfer:\n  crossZone: {egressPerGiB: .inf}\n",
            "transfer.crossZone.egressPerGiB is inf",
        ),
        (
            "storage:\n  io2:\n    iopsTiers: [{upTo: 32000, perIopsMonth: -0.065}]\n",
            "storage.io2.iopsTiers[0].perIopsMonth is -0.065",
        ),
        (
            "regions:\n  eu-west-1: {gp3: -0.088}\n",
            "regions.eu-west-1.gp3 is -0.088",
        ),
    ] {
        let e = PriceTable::from_yaml(yaml, "p.yaml")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.starts_with(&format!("p.yaml: {field};")), "{yaml}: {e}");
    }
    assert!(PriceTable::from_yaml("classes:\n  gp3: {perGiBMonth: 0}\n", "p.yaml").is_ok());
}

/// A region the table does not list is priced at the base region, and says so.
#[test]
fn unlisted_region_is_noted() {
    let book = PriceBook::bundled().unwrap_or_else(|e| panic!("{e}"));
    let aws = crate::topology::Provider::Aws;
    assert_eq!(book.region_note(aws, "us-east-1"), None);
    assert_eq!(book.region_note(aws, "eu-west-1"), None);
    let note = book.region_note(aws, "mars-1").unwrap_or_default();
    assert!(
        note.starts_with("region mars-1 is not in the aws price table"),
        "{note}"
    );
    assert!(note.contains("priced at us-east-1 list prices"), "{note}");
}
