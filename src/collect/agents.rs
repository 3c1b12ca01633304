//! Traffic from the vault-agent DaemonSet, read through the API server's `pods/proxy`
//! subresource: no port is exposed and the user's own RBAC applies.

use k8s_openapi::api::core::v1::Pod;
use kube::api::ListParams;
use kube::{Api, Client, ResourceExt};

use crate::traffic::FlowSet;
use crate::traffic::agent::{self, AgentFlowsError};

/// The agent's namespace, ServiceAccount, RBAC and DaemonSet (`kubectl vault manifest`
/// prints it); checked against a real apiserver by `agent/tests/run-root.sh`.
pub const MANIFEST: &str = include_str!("../../assets/deploy/agent.yaml");

/// Where the manifest puts the agent.
pub const NAMESPACE: &str = "cloudvault-system";
pub const SELECTOR: &str = "app.kubernetes.io/name=vault-agent";
pub const PORT: u16 = 9477;

#[derive(Debug, thiserror::Error)]
pub enum AgentReadError {
    #[error("listing agent pods in {NAMESPACE}: {0}; check that you may list pods there")]
    List(String),
    #[error("{0}")]
    Parse(#[from] AgentFlowsError),
}

/// The flows of every ready agent, merged; `None` when no agent runs. An agent that does
/// not answer is named in the set's notes, not silently skipped.
pub async fn read(client: &Client) -> Result<Option<FlowSet>, AgentReadError> {
    let api: Api<Pod> = Api::namespaced(client.clone(), NAMESPACE);
    let pods = match api.list(&ListParams::default().labels(SELECTOR)).await {
        Ok(list) => list.items,
        // No namespace or no permission to look: no agent as far as we can tell.
        Err(kube::Error::Api(s)) if s.code == 404 => return Ok(None),
        Err(e) => return Err(AgentReadError::List(e.to_string())),
    };
    let running: Vec<&Pod> = pods
        .iter()
        .filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running"))
        .collect();
    if running.is_empty() {
        return Ok(None);
    }
    let mut sets = Vec::new();
    let mut notes = Vec::new();
    for pod in running {
        let name = pod.name_any();
        let node = pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.clone())
            .unwrap_or_default();
        let origin = format!("agent {name} on {node}");
        let req = kube::core::Request::new(format!("/api/v1/namespaces/{NAMESPACE}/pods"))
            .get_subresource("proxy/flows", &format!("{name}:{PORT}"));
        let text = match req {
            Ok(r) => client.request_text(r).await.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        match text {
            Ok(body) => sets.push(agent::parse(&body, &origin)?),
            Err(e) => notes.push(format!(
                "{origin}: no answer through pods/proxy ({e}); its node's traffic is missing"
            )),
        }
    }
    let mut set = agent::merge(sets);
    set.notes.extend(notes);
    Ok(Some(set))
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    fn objects() -> Vec<Value> {
        let docs = crate::collect::file::documents(MANIFEST, "assets/deploy/agent.yaml");
        docs.unwrap_or_else(|e| panic!("{e}"))
            .into_iter()
            .map(|(_, v)| v)
            .collect()
    }

    fn of_kind<'a>(objects: &'a [Value], kind: &str) -> &'a Value {
        let found = objects.iter().find(|o| o["kind"] == kind);
        found.unwrap_or_else(|| panic!("no {kind} in the manifest"))
    }

    #[test]
    fn manifest_is_what_the_plugin_looks_for() {
        let objects = objects();
        let kinds: Vec<&str> = objects.iter().filter_map(|o| o["kind"].as_str()).collect();
        assert_eq!(
            kinds,
            [
                "Namespace",
                "ServiceAccount",
                "ClusterRole",
                "ClusterRoleBinding",
                "DaemonSet"
            ]
        );
        assert_eq!(
            of_kind(&objects, "Namespace")["metadata"]["name"],
            NAMESPACE
        );
        let ds = of_kind(&objects, "DaemonSet");
        assert_eq!(ds["metadata"]["namespace"], NAMESPACE);
        let (key, value) = SELECTOR.split_once('=').unwrap_or_default();
        assert_eq!(ds["spec"]["template"]["metadata"]["labels"][key], value);
        let c = &ds["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(c["ports"][0]["containerPort"], u64::from(PORT));
    }

    #[test]
    fn daemonset_is_unprivileged_and_probed_on_every_node() {
        let objects = objects();
        let pod = &of_kind(&objects, "DaemonSet")["spec"]["template"]["spec"];
        assert_eq!(
            pod["tolerations"],
            serde_json::json!([{"operator": "Exists"}])
        );
        let c = &pod["containers"][0];
        let sc = &c["securityContext"];
        assert_eq!(sc["privileged"], false);
        assert_eq!(sc["capabilities"]["drop"], serde_json::json!(["ALL"]));
        assert_eq!(
            sc["capabilities"]["add"],
            serde_json::json!(["BPF", "NET_ADMIN"])
        );
        assert!(c["resources"]["requests"]["cpu"].is_string());
        assert!(c["resources"]["requests"]["memory"].is_string());
        assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/healthz");
        assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/readyz");
        let mut host_paths: Vec<&str> = pod["volumes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v["hostPath"]["path"].as_str())
            .collect();
        host_paths.sort_unstable();
        assert_eq!(host_paths, ["/sys/fs/bpf", "/sys/fs/cgroup"]);
    }

    #[test]
    fn rbac_reads_pods_and_nodes_only() {
        let objects = objects();
        let rules = of_kind(&objects, "ClusterRole")["rules"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mut resources = Vec::new();
        for r in &rules {
            assert_eq!(r["apiGroups"], serde_json::json!([""]));
            assert_eq!(r["verbs"], serde_json::json!(["get", "list", "watch"]));
            resources.extend(r["resources"].as_array().cloned().unwrap_or_default());
        }
        assert_eq!(resources, [Value::from("pods"), Value::from("nodes")]);
    }
}
