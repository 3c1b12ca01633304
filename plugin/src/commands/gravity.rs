//! `kubectl vault gravity`.

use anyhow::Result;
use clap::{Args, ValueEnum};
use cloudvault::gravity;

use crate::input::{self, FlowArgs, GlobalArgs};
use crate::views;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Sort {
    Gravity,
    Replication,
    Name,
}

#[derive(Debug, Args)]
pub struct GravityArgs {
    #[command(flatten)]
    pub flows: FlowArgs,
    /// Order of the workloads.
    #[arg(long, value_enum, default_value_t = Sort::Gravity)]
    pub sort: Sort,
}

pub fn run(g: &GlobalArgs, args: &GravityArgs) -> Result<String> {
    let (mut flows, network) = input::flows(&args.flows)?;
    let snapshot = input::snapshot(g, true)?;
    // No flow file: the in-cluster agents, when they run (the report names the source).
    if !flows.has_data()
        && g.from_file.is_empty()
        && let Some(agent_flows) = crate::agents::flows(g, &snapshot)?
    {
        flows = agent_flows;
    }
    let book = input::price_book(g)?;
    let graph = input::graph(g, &snapshot, &flows, network)?;
    let mut report = gravity::gravity_report(&graph, &book);
    match args.sort {
        // The report comes ranked by gravity.
        Sort::Gravity => {}
        Sort::Replication => report.items.sort_by(|a, b| {
            let v = |x: &gravity::WorkloadGravity| {
                x.replication_monthly_usd.map_or(f64::MIN, |m| m.usd())
            };
            v(b).total_cmp(&v(a))
                .then_with(|| a.workload.cmp(&b.workload))
        }),
        Sort::Name => report.items.sort_by(|a, b| a.workload.cmp(&b.workload)),
    }
    views::gravity::render(&report, g.output)
}
