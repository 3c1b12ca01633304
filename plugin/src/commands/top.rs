//! `kubectl vault top`.

use anyhow::Result;
use clap::Args;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use cloudvault::cost::{self, GroupBy, GroupedBy, SortBy};
use cloudvault::traffic::FlowSet;

use crate::input::{self, GlobalArgs};
use crate::views;

#[derive(Debug, Args)]
pub struct TopArgs {
    /// Aggregate by namespace, workload, class or zone.
    #[arg(long, value_parser = choice(GroupBy::ALL, GroupBy::as_str))]
    pub by: Option<GroupBy>,
    /// Order of the volumes (with --by, of the groups: cost and capacity by value, the
    /// others by group name).
    #[arg(long, default_value = "cost", value_parser = choice(SortBy::ALL, SortBy::as_str))]
    pub sort: SortBy,
}

/// A clap parser for one of the core's options, named as the core names them, so the
/// CLI does not keep its own copy of the list.
fn choice<T: Copy + Send + Sync + 'static, const N: usize>(
    all: [T; N],
    name: fn(T) -> &'static str,
) -> impl TypedValueParser<Value = T> {
    PossibleValuesParser::new(all.map(name))
        .map(move |s| all.into_iter().find(|v| name(*v) == s).unwrap_or(all[0]))
}

pub fn run(g: &GlobalArgs, args: &TopArgs) -> Result<String> {
    let snapshot = input::snapshot(g, false)?;
    let book = input::price_book(g)?;
    let graph = input::graph(g, &snapshot, &FlowSet::none(), Default::default())?;
    let mut report = cost::cost_report(&graph, &book);
    cost::sort(&mut report.items, args.sort);
    if let Some(by) = args.by {
        let mut items = cost::group(&report.items, by);
        cost::sort_groups(&mut items, args.sort);
        report.groups = Some(GroupedBy {
            by: by.as_str().into(),
            items,
        });
    }
    views::top::render(&report, g.output)
}
