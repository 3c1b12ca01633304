use super::*;
use crate::model::Requirement;

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| ((*k).into(), (*v).into()))
        .collect()
}

fn node(name: &str, pairs: &[(&str, &str)]) -> Node {
    Node {
        name: name.into(),
        labels: labels(pairs),
        provider_id: None,
        addresses: vec![],
    }
}

fn req(key: &str, op: &str, values: &[&str]) -> Requirement {
    Requirement {
        key: key.into(),
        operator: op.into(),
        values: values.iter().map(|v| (*v).into()).collect(),
    }
}

fn term(reqs: Vec<Requirement>) -> SelectorTerm {
    SelectorTerm {
        match_expressions: reqs,
        match_fields: vec![],
    }
}

fn pv(
    affinity: Option<NodeSelector>,
    pairs: &[(&str, &str)],
    source: VolumeSource,
) -> PersistentVolume {
    PersistentVolume {
        name: "pv".into(),
        labels: labels(pairs),
        annotations: Labels::new(),
        capacity_bytes: None,
        storage_class: None,
        claim: None,
        phase: "Bound".into(),
        node_affinity: affinity,
        source,
        access_modes: vec![],
        attributes_class: None,
        terminating: false,
    }
}

fn csi() -> VolumeSource {
    VolumeSource::Csi {
        driver: "ebs.csi.aws.com".into(),
        handle: "vol-1".into(),
        attributes: Default::default(),
    }
}

fn zones(z: &[&str]) -> VolumeZones {
    VolumeZones::Zones {
        zones: z.iter().map(|s| (*s).to_owned()).collect(),
    }
}

#[test]
fn zone_aliases() {
    assert_eq!(
        zone_of(&labels(&[("topology.kubernetes.io/zone", "us-east-1a")])).as_deref(),
        Some("us-east-1a")
    );
    assert_eq!(
        zone_of(&labels(&[(
            "failure-domain.beta.kubernetes.io/zone",
            "us-central1-b"
        )]))
        .as_deref(),
        Some("us-central1-b")
    );
    assert_eq!(
        zone_of(&labels(&[("topology.ebs.csi.aws.com/zone", "us-east-1c")])).as_deref(),
        Some("us-east-1c")
    );
    assert_eq!(
        zone_of(&labels(&[("topology.gke.io/zone", "europe-west1-d")])).as_deref(),
        Some("europe-west1-d")
    );
    assert_eq!(
        zone_of(&labels(&[(
            "topology.disk.csi.azure.com/zone",
            "eastus2-1"
        )]))
        .as_deref(),
        Some("eastus2-1")
    );
    // GA wins over beta when both are present.
    let both = labels(&[
        ("failure-domain.beta.kubernetes.io/zone", "old"),
        ("topology.kubernetes.io/zone", "new"),
    ]);
    assert_eq!(zone_of(&both).as_deref(), Some("new"));
    assert_eq!(zone_of(&Labels::new()), None);
    assert_eq!(
        region_from_zone("us-east-1a", Some(Provider::Aws)).as_deref(),
        Some("us-east-1")
    );
    assert_eq!(
        region_from_zone("us-central1-a", Some(Provider::Gcp)).as_deref(),
        Some("us-central1")
    );
    assert_eq!(
        region_from_zone("eastus2-1", Some(Provider::Azure)).as_deref(),
        Some("eastus2")
    );
    assert_eq!(region_from_zone("us-east-1a", None), None);
}

#[test]
fn terms_are_ored_and_expressions_anded() {
    let sel = vec![
        term(vec![
            req("topology.kubernetes.io/zone", "In", &["a", "b"]),
            req("disk", "In", &["ssd"]),
        ]),
        term(vec![req("topology.kubernetes.io/zone", "In", &["c"])]),
    ];
    let zone = "topology.kubernetes.io/zone";
    assert!(node_fits(
        &sel,
        &node("n1", &[(zone, "a"), ("disk", "ssd")])
    ));
    assert!(!node_fits(
        &sel,
        &node("n2", &[(zone, "a"), ("disk", "hdd")])
    ));
    assert!(node_fits(&sel, &node("n3", &[(zone, "c")])));
    assert!(!node_fits(
        &sel,
        &node("n4", &[(zone, "d"), ("disk", "ssd")])
    ));
    assert_eq!(zones_of_selector(&sel, &[]), zones(&["a", "b", "c"]));
    // Two zone expressions in one term intersect.
    let sel = vec![term(vec![
        req(zone, "In", &["a", "b"]),
        req("topology.gke.io/zone", "In", &["b", "c"]),
    ])];
    assert_eq!(zones_of_selector(&sel, &[]), zones(&["b"]));
    // Operators beyond In.
    let sel = vec![term(vec![
        req("gen", "Gt", &["3"]),
        req("spot", "DoesNotExist", &[]),
        req(zone, "NotIn", &["x"]),
    ])];
    assert!(node_fits(&sel, &node("n", &[("gen", "4")])));
    assert!(!node_fits(&sel, &node("n", &[("gen", "3")])));
    assert!(!node_fits(&sel, &node("n", &[("gen", "5"), ("spot", "1")])));
    assert!(!node_fits(&vec![], &node("n", &[])));
}

#[test]
fn regional_pd_label_is_two_zones() {
    let v = pv(
        None,
        &[(
            "failure-domain.beta.kubernetes.io/zone",
            "us-central1-a__us-central1-b",
        )],
        VolumeSource::GcePd {
            pd_name: "d".into(),
        },
    );
    assert_eq!(
        volume_zones(&v, &[]),
        zones(&["us-central1-a", "us-central1-b"])
    );
    let n = node("n", &[("topology.kubernetes.io/zone", "us-central1-b")]);
    assert!(volume_allows_node(&v, &n, &[]));
    let n = node("n", &[("topology.kubernetes.io/zone", "us-central1-c")]);
    assert!(!volume_allows_node(&v, &n, &[]));
}

#[test]
fn local_pv_is_pinned_to_its_node() {
    let sel = vec![term(vec![req(
        "kubernetes.io/hostname",
        "In",
        &["worker-1"],
    )])];
    let v = pv(
        Some(sel),
        &[],
        VolumeSource::Local {
            path: "/mnt/disks/ssd1".into(),
        },
    );
    let nodes = [
        node(
            "worker-1",
            &[
                ("kubernetes.io/hostname", "worker-1"),
                ("topology.kubernetes.io/zone", "z1"),
            ],
        ),
        node(
            "worker-2",
            &[
                ("kubernetes.io/hostname", "worker-2"),
                ("topology.kubernetes.io/zone", "z1"),
            ],
        ),
    ];
    assert_eq!(volume_zones(&v, &nodes), zones(&["z1"]));
    assert!(volume_allows_node(&v, &nodes[0], &nodes));
    assert!(
        !volume_allows_node(&v, &nodes[1], &nodes),
        "same zone, other node: a local PV is pinned to one node"
    );
    // A node without zone labels: pinned, zone unknown.
    let bare = [node("worker-1", &[("kubernetes.io/hostname", "worker-1")])];
    assert_eq!(volume_zones(&v, &bare), VolumeZones::Unknown);
}

#[test]
fn file_storage_is_unpinned_and_ebs_id_names_zone() {
    assert_eq!(
        volume_zones(&pv(None, &[], VolumeSource::Nfs), &[]),
        VolumeZones::Unpinned
    );
    let efs = VolumeSource::Csi {
        driver: "efs.csi.aws.com".into(),
        handle: "fs-1".into(),
        attributes: Default::default(),
    };
    assert_eq!(
        volume_zones(&pv(None, &[], efs), &[]),
        VolumeZones::Unpinned
    );
    let ebs = VolumeSource::AwsEbs {
        volume_id: "aws://eu-west-1b/vol-0abc".into(),
    };
    assert_eq!(
        volume_zones(&pv(None, &[], ebs), &[]),
        zones(&["eu-west-1b"])
    );
    assert_eq!(
        volume_zones(&pv(None, &[], csi()), &[]),
        VolumeZones::Unknown
    );
}

/// Bug-report scenario 2: the EBS driver key and the GA key in one term.
#[test]
fn scenario_2_driver_and_ga_key_in_one_term() {
    let sel = vec![term(vec![
        req("topology.ebs.csi.aws.com/zone", "In", &["us-east-1a"]),
        req("topology.kubernetes.io/zone", "In", &["us-east-1a"]),
    ])];
    let v = pv(Some(sel), &[], csi());
    let both = node(
        "n1",
        &[
            ("topology.ebs.csi.aws.com/zone", "us-east-1a"),
            ("topology.kubernetes.io/zone", "us-east-1a"),
        ],
    );
    let ga_only = node("n2", &[("topology.kubernetes.io/zone", "us-east-1a")]);
    assert!(volume_allows_node(&v, &both, &[]));
    assert!(
        !volume_allows_node(&v, &ga_only, &[]),
        "the scheduler needs both keys on the node"
    );
    assert_eq!(volume_zones(&v, &[]), zones(&["us-east-1a"]));
}

/// Bug-report scenario 3: a GKE PV with only the deprecated labels.
#[test]
fn scenario_3_gke_beta_labels_only() {
    let v = pv(
        None,
        &[
            ("failure-domain.beta.kubernetes.io/zone", "us-central1-c"),
            ("failure-domain.beta.kubernetes.io/region", "us-central1"),
        ],
        VolumeSource::GcePd {
            pd_name: "gke-pvc-1".into(),
        },
    );
    assert_eq!(volume_zones(&v, &[]), zones(&["us-central1-c"]));
    let sel = vec![term(vec![req(
        "failure-domain.beta.kubernetes.io/zone",
        "In",
        &["us-central1-c"],
    )])];
    let v = pv(
        Some(sel),
        &[],
        VolumeSource::GcePd {
            pd_name: "gke-pvc-1".into(),
        },
    );
    assert_eq!(volume_zones(&v, &[]), zones(&["us-central1-c"]));
}

#[test]
fn providers_from_provider_id_and_labels() {
    let mut n = node("n", &[]);
    n.provider_id = Some("aws:///us-east-1a/i-0abc".into());
    assert_eq!(provider_of(&n), Some(Provider::Aws));
    n.provider_id = Some("gce://proj/us-central1-a/vm".into());
    assert_eq!(provider_of(&n), Some(Provider::Gcp));
    assert_eq!(
        provider_of(&node("n", &[("kubernetes.azure.com/agentpool", "p")])),
        Some(Provider::Azure)
    );
    assert_eq!(provider_of(&node("n", &[])), None);
}
