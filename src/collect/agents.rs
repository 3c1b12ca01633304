//! Traffic from the vault-agent DaemonSet, read through the API server's `pods/proxy`
//! subresource: no port is exposed and the user's own RBAC applies.

use k8s_openapi::api::core::v1::Pod;
use kube::api::ListParams;
use kube::{Api, Client, ResourceExt};

use crate::traffic::FlowSet;
use crate::traffic::agent::{self, AgentFlowsError};

/// Where `kubectl vault install` puts the agent (assets/deploy/agent.yaml).
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
