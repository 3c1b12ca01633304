//! `kubectl vault`: the CloudVault kubectl plugin. A thin clap dispatcher: each command
//! lives in `commands/`, each view in `views/` (pure functions from a report to text).

mod agents;
mod commands;
mod input;
mod tui;
mod views;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::input::GlobalArgs;

// glibc malloc spends more time on the snapshot's many small strings than the analyses do.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Kubernetes storage cost and data gravity.
#[derive(Debug, Parser)]
#[command(name = "kubectl vault", bin_name = "kubectl vault", version, about = "Kubernetes storage cost and data gravity", long_about = None)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    /// With no subcommand, the TUI (`ui`) opens with these flags.
    #[command(flatten)]
    ui: tui::UiArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List volumes by monthly cost (idle, unknown-price and shared volumes flagged).
    Top(commands::top::TopArgs),
    /// List workloads held in an expensive zone by their volumes, ranked by gravity.
    Gravity(commands::gravity::GravityArgs),
    /// Open the dashboard (also `kubectl vault` with no subcommand).
    Ui(tui::UiArgs),
    /// Print the vault-agent manifest (namespace, RBAC, DaemonSet): `kubectl vault
    /// manifest | kubectl apply -f -`.
    Manifest,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The TUI logs to a file (never the screen), so it sets up its own logging.
    if !matches!(cli.command, None | Some(Command::Ui(_))) {
        init_logging(cli.global.verbose);
    }
    let result = match &cli.command {
        Some(Command::Top(args)) => commands::top::run(&cli.global, args),
        Some(Command::Gravity(args)) => commands::gravity::run(&cli.global, args),
        Some(Command::Ui(args)) => tui::run(&cli.global, args),
        Some(Command::Manifest) => Ok(cloudvault::collect::agents::MANIFEST.to_owned()),
        None => tui::run(&cli.global, &cli.ui),
    };
    match result {
        Ok(text) => write_stdout(&text),
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

/// Writes the report; a reader that went away (`| head`) is not an error.
fn write_stdout(text: &str) -> ExitCode {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: cannot write the report to stdout: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Logs go to stderr. Without `-v`, only our own warnings: a failure is reported once, as
/// the one-line error, not again by the libraries that saw it (kube's client logs its own
/// connection errors at ERROR).
fn init_logging(verbose: u8) {
    use std::io::IsTerminal;
    let spec = match verbose {
        0 => "cloudvault=warn,kubectl_vault=warn",
        1 => "cloudvault=info,kubectl_vault=info,warn",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(spec));
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(std::io::stderr)
        .init();
}
