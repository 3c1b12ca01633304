//! `kubectl vault top`.

use anyhow::Result;
use clap::{Args, ValueEnum};
use cloudvault::cost::{self, GroupBy, GroupedBy, SortBy};
use cloudvault::traffic::FlowSet;

use crate::input::{self, GlobalArgs};
use crate::views;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum By {
    Namespace,
    Workload,
    Class,
    Zone,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Sort {
    Cost,
    Name,
    Namespace,
    Capacity,
    Zone,
    Class,
}

#[derive(Debug, Args)]
pub struct TopArgs {
    /// Aggregate by namespace, workload, class or zone.
    #[arg(long, value_enum)]
    pub by: Option<By>,
    /// Order of the volumes.
    #[arg(long, value_enum, default_value_t = Sort::Cost)]
    pub sort: Sort,
}

pub fn run(g: &GlobalArgs, args: &TopArgs) -> Result<String> {
    let snapshot = input::snapshot(g)?;
    let book = input::price_book(g)?;
    let graph = input::graph(g, &snapshot, &FlowSet::none(), Default::default())?;
    let mut report = cost::cost_report(&graph, &book);
    cost::sort(
        &mut report.items,
        match args.sort {
            Sort::Cost => SortBy::Cost,
            Sort::Name => SortBy::Name,
            Sort::Namespace => SortBy::Namespace,
            Sort::Capacity => SortBy::Capacity,
            Sort::Zone => SortBy::Zone,
            Sort::Class => SortBy::Class,
        },
    );
    if let Some(by) = args.by {
        let by = match by {
            By::Namespace => GroupBy::Namespace,
            By::Workload => GroupBy::Workload,
            By::Class => GroupBy::Class,
            By::Zone => GroupBy::Zone,
        };
        report.groups = Some(GroupedBy {
            by: by.as_str().into(),
            items: cost::group(&report.items, by),
        });
    }
    views::top::render(&report, g.output)
}
