use std::path::PathBuf;

use super::*;
use crate::collect::{Scope, read_paths};
use crate::graph::{BuildOptions, build};
use crate::traffic::vpc::read_flow_logs;
use crate::traffic::{Flow, FlowEnd, FlowSet, FlowSource};

fn example(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("assets/examples/demo")
        .join(rel)
}

fn report(flows: &FlowSet) -> GravityReport {
    let raw =
        read_paths(&[example("cluster/01-worked-example.yaml")]).unwrap_or_else(|e| panic!("{e}"));
    let snapshot = raw.into_snapshot(&Scope::default());
    let g = build(&snapshot, flows, &BuildOptions::default());
    gravity_report(&g, &PriceBook::bundled().unwrap_or_else(|e| panic!("{e}")))
}

/// DESIGN §3's worked example, from VPC flow logs, to the cent.
#[test]
fn worked_example_to_the_cent() {
    let flows =
        read_flow_logs(&[example("flows/worked-example.log")]).unwrap_or_else(|e| panic!("{e}"));
    let r = report(&flows);
    assert_eq!(r.status, "ok");
    assert_eq!(r.metadata.window_hours, Some(24.0));
    assert_eq!(
        r.items.len(),
        1,
        "only pg is pinned: {:?}",
        r.items.iter().map(|i| &i.workload).collect::<Vec<_>>()
    );
    let pg = &r.items[0];
    assert_eq!(
        (pg.workload.kind.as_str(), pg.workload.name.as_str()),
        ("StatefulSet", "pg")
    );
    assert_eq!(pg.gravity_monthly_usd.map(Money::cents), Some(304.17));
    assert_eq!(pg.current_monthly_usd.map(Money::cents), Some(304.17));
    assert_eq!(pg.best_monthly_usd.map(Money::cents), Some(0.0));
    assert_eq!(pg.replication_monthly_usd.map(Money::cents), Some(0.0));
    let pod = &pg.pods[0];
    assert_eq!(
        (pod.zone.as_deref(), pod.best_zone.as_deref()),
        (Some("us-east-1a"), Some("us-east-1b"))
    );
    assert_eq!(pod.volume_zones, vec!["us-east-1a".to_owned()]);
    assert_eq!(pod.top_peers.len(), 3);
    assert!(pod.top_peers.iter().all(|p| p.class == "cross-zone"));
    let sent: u64 = pod.top_peers.iter().map(|p| p.bytes_sent).sum();
    assert_eq!(sent, 400 << 30);
}

/// `-l app=pg` (or `-n`) lists only pg, but its peers outside the scope are still pods
/// in us-east-1b: the same gravity, not "internet" traffic that no zone changes.
#[test]
fn scope_keeps_peers_outside_it() {
    let flows =
        read_flow_logs(&[example("flows/worked-example.log")]).unwrap_or_else(|e| panic!("{e}"));
    let raw =
        read_paths(&[example("cluster/01-worked-example.yaml")]).unwrap_or_else(|e| panic!("{e}"));
    let scope = Scope {
        namespace: None,
        selector: crate::model::LabelSelector::parse("app=pg").unwrap_or_else(|e| panic!("{e}")),
        read_peers: true,
    };
    let snapshot = raw.into_snapshot(&scope);
    assert!(snapshot.pods.iter().all(|p| p.name.starts_with("pg-")));
    assert!(snapshot.peers.iter().any(|p| p.name.starts_with("api-")));
    let g = build(&snapshot, &flows, &BuildOptions::default());
    let r = gravity_report(&g, &PriceBook::bundled().unwrap_or_else(|e| panic!("{e}")));
    assert_eq!(r.items.len(), 1, "peers are never listed themselves");
    let pg = &r.items[0];
    assert_eq!(pg.gravity_monthly_usd.map(Money::cents), Some(304.17));
    assert_eq!(pg.pods[0].best_zone.as_deref(), Some("us-east-1b"));
    assert!(
        pg.pods[0]
            .top_peers
            .iter()
            .all(|p| p.class == "cross-zone" && p.kind == "pod")
    );
}

/// The same from agent-style flows (source already a pod): the flow model, not the
/// reader, carries the rule.
#[test]
fn worked_example_from_agent_flows() {
    let window = Window {
        start: 0,
        end: 86_400,
    };
    let ip = |s: &str| s.parse().unwrap_or_else(|e| panic!("{e}"));
    let flows = [
        "api-7d9f8c6b5-4xk2p",
        "api-7d9f8c6b5-9qz7d",
        "api-7d9f8c6b5-t5m8w",
    ]
    .iter()
    .enumerate()
    .map(|(i, name)| Flow {
        source: FlowEnd::Pod {
            namespace: "shop".into(),
            name: (*name).into(),
        },
        source_ip: None,
        source_port: None,
        remote: ip("10.0.1.20"),
        remote_port: Some(5432),
        remote_hint: None,
        // 100 GiB up and 400 GiB down in total, split unevenly over the pods.
        bytes_out: if i == 0 { 50 << 30 } else { 25 << 30 },
        bytes_in: if i == 0 { 200 << 30 } else { 100 << 30 },
        window,
    })
    .collect();
    let set = FlowSet {
        source: FlowSource::Agent,
        flows,
        window: Some(window),
        notes: vec![],
    };
    let r = report(&set);
    assert_eq!(
        r.items[0].gravity_monthly_usd.map(Money::cents),
        Some(304.17)
    );
}

#[test]
fn no_flow_data_says_so_never_zero() {
    let r = report(&FlowSet::none());
    assert_eq!(r.status, NO_TRAFFIC);
    assert_eq!(r.items.len(), 1, "pinned workloads are still listed");
    assert_eq!(r.items[0].gravity_monthly_usd, None);
    assert_eq!(r.items[0].replication_monthly_usd, None);
    let json = serde_json::to_value(&r).unwrap_or_default();
    assert_eq!(
        json["items"][0]["gravityMonthlyUSD"],
        serde_json::Value::Null
    );
}

fn report_with(flows: &FlowSet, provider: crate::topology::Provider) -> GravityReport {
    let raw =
        read_paths(&[example("cluster/01-worked-example.yaml")]).unwrap_or_else(|e| panic!("{e}"));
    let snapshot = raw.into_snapshot(&Scope::default());
    let opts = BuildOptions {
        provider: Some(provider),
        ..BuildOptions::default()
    };
    let g = build(&snapshot, flows, &opts);
    gravity_report(&g, &PriceBook::bundled().unwrap_or_else(|e| panic!("{e}")))
}

/// AWS bills cross-zone on both sides, GCP on egress only, Azure not at all.
#[test]
fn providers_bill_cross_zone_differently() {
    use crate::topology::Provider;
    let flows =
        read_flow_logs(&[example("flows/worked-example.log")]).unwrap_or_else(|e| panic!("{e}"));
    let g = |p| {
        report_with(&flows, p).items[0]
            .gravity_monthly_usd
            .map(Money::cents)
    };
    assert_eq!(g(Provider::Aws), Some(304.17));
    assert_eq!(g(Provider::Gcp), Some(152.08)); // 500 GiB x $0.01 x 730/24
    assert_eq!(g(Provider::Azure), Some(0.0));
}

/// Internet and cross-region charges are the same in every zone: no gravity.
#[test]
fn internet_traffic_has_no_gravity() {
    let window = Window {
        start: 0,
        end: 86_400,
    };
    let flows = vec![Flow {
        source: FlowEnd::Pod {
            namespace: "shop".into(),
            name: "pg-0".into(),
        },
        source_ip: None,
        source_port: None,
        remote: "198.51.100.9".parse().unwrap_or_else(|e| panic!("{e}")),
        remote_port: Some(443),
        remote_hint: None,
        bytes_out: 100 << 30,
        bytes_in: 10 << 30,
        window,
    }];
    let r = report(&FlowSet {
        source: FlowSource::Agent,
        flows,
        window: Some(window),
        notes: vec![],
    });
    let pg = &r.items[0];
    // 100 GiB out x $0.09 = $9/day now, and the same in us-east-1b.
    assert_eq!(pg.current_monthly_usd.map(Money::cents), Some(273.75));
    assert_eq!(pg.gravity_monthly_usd.map(Money::cents), Some(0.0));
    assert_eq!(
        pg.pods[0].best_zone.as_deref(),
        Some("us-east-1a"),
        "ties keep the pod where it is"
    );
    assert_eq!(pg.pods[0].top_peers[0].class, "internet");
}

/// Flows of another cluster (no end is a pod or node here) are said to count for nothing,
/// not silently dropped into "no gravity".
#[test]
fn flows_with_no_known_end_are_noted() {
    let flows =
        read_flow_logs(&[example("flows/worked-example.log")]).unwrap_or_else(|e| panic!("{e}"));
    let g = build(
        &crate::model::ClusterSnapshot::default(),
        &flows,
        &BuildOptions::default(),
    );
    let n = flows.flows.len();
    assert!(n > 0);
    let said = format!("partial: {n} of {n} flow(s) have neither end in the input");
    assert!(
        g.meta().notes.iter().any(|x| x.starts_with(&said)),
        "{:?}",
        g.meta().notes
    );
}
