//! The agent's `/flows` JSON (agent/README.md) -> [`FlowSet`] with source `agent`.
//!
//! Each agent reports both directions of every flow of its node's pods. A pod talking to
//! a pod on a node that also runs an agent is therefore reported twice, once by each
//! end (sent and received swapped); [`dedup_pairs`] keeps one of the two so each byte
//! counts once, as the flow model requires.

use std::collections::HashSet;
use std::net::IpAddr;

use serde::Deserialize;

use super::attribute::{Endpoint, Resolver};
use super::{Flow, FlowEnd, FlowSet, FlowSource, Window};

#[derive(Debug, thiserror::Error)]
#[error(
    "{origin}: not an agent /flows answer ({message}); is it a vault-agent of the same version?"
)]
pub struct AgentFlowsError {
    pub origin: String,
    pub message: String,
}

#[derive(Deserialize)]
struct Body {
    window: Window,
    flows: Vec<Record>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Record {
    owner: String,
    pod: Option<String>,
    namespace: Option<String>,
    node: String,
    remote: IpAddr,
    tx_bytes: u64,
    rx_bytes: u64,
}

/// Parses one agent's answer; `origin` names the agent in errors and notes.
pub fn parse(json: &str, origin: &str) -> Result<FlowSet, AgentFlowsError> {
    let body: Body = serde_json::from_str(json).map_err(|e| AgentFlowsError {
        origin: origin.to_owned(),
        message: e.to_string(),
    })?;
    let mut flows = Vec::with_capacity(body.flows.len());
    let mut unnamed = 0u64;
    for r in body.flows {
        let source = match (r.owner.as_str(), r.namespace, r.pod) {
            ("pod", Some(namespace), Some(name)) => FlowEnd::Pod { namespace, name },
            ("node", _, _) => FlowEnd::Node { name: r.node },
            _ => {
                unnamed += r.tx_bytes + r.rx_bytes;
                continue;
            }
        };
        flows.push(Flow {
            source,
            source_ip: None,
            source_port: None,
            remote: r.remote,
            remote_port: None,
            remote_hint: None,
            bytes_out: r.tx_bytes,
            bytes_in: r.rx_bytes,
            window: body.window,
        });
    }
    let mut notes = Vec::new();
    if unnamed > 0 {
        notes.push(format!(
            "{origin}: {unnamed} bytes from cgroups the agent could not name (exited before it saw them, or a standalone agent) left out"
        ));
    }
    Ok(FlowSet {
        source: FlowSource::Agent,
        flows,
        window: Some(body.window),
        notes,
    })
}

/// Joins the answers of several agents.
pub fn merge(sets: Vec<FlowSet>) -> FlowSet {
    let mut out = FlowSet {
        source: FlowSource::Agent,
        flows: Vec::new(),
        window: None,
        notes: Vec::new(),
    };
    for s in sets {
        out.window = match (out.window, s.window) {
            (Some(a), Some(b)) => Some(a.union(b)),
            (a, b) => a.or(b),
        };
        out.flows.extend(s.flows);
        out.notes.extend(s.notes);
    }
    out
}

/// Drops the second report of a pod-to-pod flow: when the remote resolves to a pod that
/// an agent also reports (it appears as a source), only the flow whose source sorts
/// first is kept; it carries both directions.
pub fn dedup_pairs(set: &mut FlowSet, resolver: &Resolver) {
    let reported: HashSet<(String, String)> = set
        .flows
        .iter()
        .filter_map(|f| match &f.source {
            FlowEnd::Pod { namespace, name } => Some((namespace.clone(), name.clone())),
            _ => None,
        })
        .collect();
    let before = set.flows.len();
    set.flows.retain(|f| {
        let FlowEnd::Pod { namespace, name } = &f.source else {
            return true;
        };
        match resolver.resolve(f.remote, &[]).0 {
            Endpoint::Pod(peer) => {
                let peer = (peer.namespace, peer.name);
                !reported.contains(&peer) || (namespace.clone(), name.clone()) <= peer
            }
            _ => true,
        }
    });
    let dropped = before - set.flows.len();
    if dropped > 0 {
        set.notes.push(format!(
            "{dropped} pod-to-pod flows reported by both ends counted once"
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = r#"{"window":{"start":100,"end":200},"flows":[
      {"owner":"pod","podUID":"u1","pod":"api-1","namespace":"shop","workload":"Deployment/api","container":"c","node":"n1","cgroupId":1,"cgroup":"x","remote":"10.0.2.5","service":null,"class":"cross-zone","txBytes":100,"rxBytes":400,"txPackets":1,"rxPackets":4},
      {"owner":"node","podUID":null,"pod":null,"namespace":null,"workload":null,"container":null,"node":"n1","cgroupId":2,"cgroup":"system.slice","remote":"1.1.1.1","service":null,"class":"internet","txBytes":7,"rxBytes":0,"txPackets":1,"rxPackets":0},
      {"owner":"unknown","podUID":null,"pod":null,"namespace":null,"workload":null,"container":null,"node":"n1","cgroupId":3,"cgroup":null,"remote":"1.1.1.1","service":null,"class":"internet","txBytes":5,"rxBytes":5,"txPackets":1,"rxPackets":1}
    ]}"#;

    #[test]
    fn agent_records_become_flows() {
        let set = parse(A, "agent n1").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(set.source, FlowSource::Agent);
        assert_eq!(
            set.window,
            Some(Window {
                start: 100,
                end: 200
            })
        );
        assert_eq!(set.flows.len(), 2);
        assert_eq!(
            set.flows[0].source,
            FlowEnd::Pod {
                namespace: "shop".into(),
                name: "api-1".into()
            }
        );
        assert_eq!((set.flows[0].bytes_out, set.flows[0].bytes_in), (100, 400));
        assert_eq!(set.flows[1].source, FlowEnd::Node { name: "n1".into() });
        assert!(set.notes[0].contains("10 bytes"), "{:?}", set.notes);
        let e = parse("{}", "agent n2")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.starts_with("agent n2: not an agent /flows answer"), "{e}");
    }

    fn pod(ns: &str, name: &str, ip: &str) -> crate::model::Pod {
        crate::model::Pod {
            namespace: ns.into(),
            name: name.into(),
            labels: Default::default(),
            node_name: Some("n".into()),
            phase: "Running".into(),
            pod_ips: vec![ip.parse().unwrap_or_else(|e| panic!("{e}"))],
            host_network: false,
            claims: vec![],
            owner: None,
            node_selector: Default::default(),
            required_affinity: None,
            ports: vec![],
        }
    }

    fn flow(ns: &str, name: &str, remote: &str, out: u64, inn: u64) -> Flow {
        Flow {
            source: FlowEnd::Pod {
                namespace: ns.into(),
                name: name.into(),
            },
            source_ip: None,
            source_port: None,
            remote: remote.parse().unwrap_or_else(|e| panic!("{e}")),
            remote_port: None,
            remote_hint: None,
            bytes_out: out,
            bytes_in: inn,
            window: Window { start: 0, end: 1 },
        }
    }

    #[test]
    fn pod_pairs_reported_by_both_agents_count_once() {
        let snapshot = crate::model::ClusterSnapshot {
            pods: vec![
                pod("db", "pg-0", "10.0.1.5"),
                pod("shop", "api-1", "10.0.2.5"),
            ],
            ..Default::default()
        };
        let resolver = Resolver::new(&snapshot);
        let mut set = merge(vec![FlowSet {
            source: FlowSource::Agent,
            flows: vec![
                // The same bytes, seen by api-1's agent and by pg-0's agent.
                flow("shop", "api-1", "10.0.1.5", 100, 400),
                flow("db", "pg-0", "10.0.2.5", 400, 100),
                // A peer no agent reports (outside, or no agent on its node): kept.
                flow("shop", "api-1", "8.8.8.8", 5, 5),
            ],
            window: Some(Window { start: 0, end: 1 }),
            notes: vec![],
        }]);
        dedup_pairs(&mut set, &resolver);
        assert_eq!(set.flows.len(), 2);
        assert_eq!(set.flows[0], flow("db", "pg-0", "10.0.2.5", 400, 100));
        assert_eq!(set.flows[1].remote.to_string(), "8.8.8.8");
        assert!(set.notes.iter().any(|n| n.contains("1 pod-to-pod flows")));
    }

    #[test]
    fn merge_unions_windows() {
        let a = parse(A, "a").unwrap_or_else(|e| panic!("{e}"));
        let mut b = a.clone();
        b.window = Some(Window {
            start: 50,
            end: 150,
        });
        let m = merge(vec![a, b]);
        assert_eq!(
            m.window,
            Some(Window {
                start: 50,
                end: 200
            })
        );
        assert_eq!(m.flows.len(), 4);
    }
}
