//! Flows from in-cluster agents, when no flow file was given: read through the API
//! server's pods/proxy, and pod pairs both agents report counted once.

use anyhow::Result;
use cloudvault::collect::{self, agents};
use cloudvault::model::ClusterSnapshot;
use cloudvault::traffic::FlowSet;
use cloudvault::traffic::agent::dedup_pairs;
use cloudvault::traffic::attribute::Resolver;

use crate::input::GlobalArgs;

/// The agents' flows, or `None` when no agent runs in the cluster.
pub fn flows(g: &GlobalArgs, snapshot: &ClusterSnapshot) -> Result<Option<FlowSet>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start the async runtime: {e}"))?;
    let set = runtime.block_on(async {
        let conn = collect::live::connect(g.kubeconfig.as_deref(), g.context.as_deref()).await?;
        anyhow::Ok(agents::read(&conn.client).await?)
    })?;
    Ok(set.map(|mut s| {
        dedup_pairs(&mut s, &Resolver::new(snapshot));
        s
    }))
}
