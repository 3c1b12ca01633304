//! `kubectl vault`: the CloudVault kubectl plugin.

use clap::Parser;

/// Kubernetes storage cost and data gravity.
#[derive(Debug, Parser)]
#[command(name = "kubectl vault", bin_name = "kubectl vault", version)]
struct Cli {}

fn main() -> anyhow::Result<()> {
    let _cli = Cli::parse();
    Ok(())
}
