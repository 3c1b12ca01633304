//! `kubectl vault`: the CloudVault kubectl plugin. A thin clap dispatcher: each command
//! lives in `commands/`, each view in `views/` (pure functions from a report to text).

mod agents;
mod commands;
mod input;
mod views;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::input::GlobalArgs;

/// Kubernetes storage cost and data gravity.
#[derive(Debug, Parser)]
#[command(name = "kubectl vault", bin_name = "kubectl vault", version, about = "Kubernetes storage cost and data gravity", long_about = None)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List volumes by monthly cost (idle, unknown-price and shared volumes flagged).
    Top(commands::top::TopArgs),
    /// List workloads held in an expensive zone by their volumes, ranked by gravity.
    Gravity(commands::gravity::GravityArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.global.verbose);
    let result = match &cli.command {
        Command::Top(args) => commands::top::run(&cli.global, args),
        Command::Gravity(args) => commands::gravity::run(&cli.global, args),
    };
    match result {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            // One line: what went wrong, where, and what to do (the errors say it).
            // Our errors already carry their cause; `{e}` avoids saying it twice.
            let msg = format!("{e}");
            eprintln!(
                "error: {}",
                msg.split_whitespace().collect::<Vec<_>>().join(" ")
            );
            ExitCode::FAILURE
        }
    }
}

fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
