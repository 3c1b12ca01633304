//! `kubectl vault` / `kubectl vault ui`: the ratatui dashboard.
//!
//! Layout of the app (issue 5; later issues add views and writes here):
//! - [`data`]: readers -> snapshot -> graph -> the core's reports, loaded off the UI.
//! - [`action`]: user intents. Writes will enter as `Confirm(ConfirmAction)` and only the
//!   dialog turns one into a `ConfirmedAction`.
//! - [`keymap`]: keys -> actions; the help is generated from it.
//! - [`state`]: the app state and `App::apply`, the only place it changes.
//! - [`draw`]: pure drawing of the state.
//! - this module: the terminal and one `tokio::select!` loop over input events, data
//!   updates and ticks; a loader task refreshes the data in the background.

pub mod action;
pub mod data;
pub mod details;
pub mod draw;
pub mod keymap;
pub mod state;

#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result};
use clap::Args;
use crossterm::event::{Event, EventStream, KeyEventKind};
use futures::StreamExt;
use tokio::sync::mpsc;

use self::action::Effect;
use self::data::{Data, Inputs};
use self::state::App;
use crate::input::{FlowArgs, GlobalArgs};

#[derive(Debug, Clone, Args)]
pub struct UiArgs {
    #[command(flatten)]
    pub flows: FlowArgs,
    /// Seconds between background reloads of a live cluster (0: only on `r`).
    #[arg(long, default_value_t = 15, value_name = "SECONDS")]
    pub refresh: u64,
    /// Where logs go (never the screen). Default: $XDG_STATE_HOME/cloudvault/tui.log,
    /// else ~/.local/state/cloudvault/tui.log.
    #[arg(long, value_name = "FILE")]
    pub log_file: Option<PathBuf>,
}

/// Runs the TUI until the user quits. Logs go to a file; the terminal is restored on
/// exit, on error and on panic.
pub fn run(g: &GlobalArgs, args: &UiArgs) -> Result<String> {
    let log = init_file_logging(g.verbose, args.log_file.clone())?;
    tracing::info!(log = %log.display(), "kubectl vault ui starting");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let inputs = Inputs {
        global: g.clone(),
        flows: args.flows.clone(),
    };
    let refresh = (args.refresh > 0 && inputs.is_live()).then(|| Duration::from_secs(args.refresh));
    // ratatui installs a panic hook that restores the terminal first.
    let mut terminal =
        ratatui::try_init().context("cannot set up the terminal (is stdout a terminal?)")?;
    let result = runtime.block_on(event_loop(&mut terminal, inputs, refresh));
    ratatui::restore();
    result.map(|()| String::new())
}

fn init_file_logging(verbose: u8, path: Option<PathBuf>) -> Result<PathBuf> {
    let path = match path {
        Some(p) => p,
        None => {
            let base = std::env::var_os("XDG_STATE_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))
                .unwrap_or_else(std::env::temp_dir);
            base.join("cloudvault").join("tui.log")
        }
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| {
            format!(
                "cannot create the log directory {}; pass --log-file FILE",
                dir.display()
            )
        })?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .with_context(|| {
            format!(
                "cannot open the log file {}; pass --log-file FILE",
                path.display()
            )
        })?;
    let level = match verbose {
        0 => "info",
        1 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::sync::Mutex::new(file))
        .init();
    Ok(path)
}

/// `NO_COLOR` set to anything non-empty turns colours off (no-color.org).
pub fn color_enabled() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

type Loaded = std::result::Result<Data, String>;

async fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    inputs: Inputs,
    refresh: Option<Duration>,
) -> Result<()> {
    let size = terminal.size().context("cannot read the terminal size")?;
    let mut app = App::new((size.width, size.height), color_enabled());
    let (data_tx, mut data_rx) = mpsc::channel::<Loaded>(2);
    let (req_tx, req_rx) = mpsc::channel::<Inputs>(4);
    // The last context asked for that the kubeconfig has (`:ctx`), kept across reloads.
    let mut context: Option<String> = None;
    let loader = tokio::spawn(loader(inputs.clone(), req_rx, data_tx, refresh));
    let mut events = EventStream::new();
    // Ticks redraw the clock and keep the screen honest after a missed event.
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut ctrl_c = std::pin::pin!(tokio::signal::ctrl_c());
    loop {
        terminal
            .draw(|f| draw::draw(f, &app))
            .context("cannot draw")?;
        let action = tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(Event::Key(k))) if k.kind != KeyEventKind::Release => keymap::action_for(app.mode, k),
                Some(Ok(Event::Resize(w, h))) => Some(action::Action::Resize(w, h)),
                Some(Ok(_)) => None,
                Some(Err(e)) => {
                    tracing::warn!("terminal input: {e}");
                    None
                }
                None => Some(action::Action::Quit),
            },
            loaded = data_rx.recv() => {
                match loaded {
                    Some(Ok(d)) => {
                        tracing::info!(volumes = d.cost.items.len(), workloads = d.gravity.items.len(), "data refreshed");
                        app.set_data(Arc::new(d));
                    }
                    Some(Err(e)) => {
                        tracing::warn!("load failed: {e}");
                        app.set_error(e);
                    }
                    None => app.set_error("the data loader stopped; see the log file".into()),
                }
                None
            }
            _ = tick.tick() => None,
            // SIGINT from outside the terminal (raw mode turns a typed Ctrl-C into a key).
            _ = &mut ctrl_c => Some(action::Action::Quit),
        };
        let Some(action) = action else { continue };
        match app.apply(action) {
            Effect::Quit => break,
            Effect::Reload => {
                let mut next = inputs.clone();
                if let Some(ns) = &app.namespace {
                    if ns == "all" || ns == "-A" {
                        next.global.namespace = None;
                        next.global.all_namespaces = true;
                    } else {
                        next.global.namespace = Some(ns.clone());
                        next.global.all_namespaces = false;
                    }
                }
                if let Some(c) = app.context.clone() {
                    if !inputs.is_live() {
                        app.set_error(":ctx needs a live cluster; these are files".into());
                        app.context = None;
                    } else if let Err(e) = data::check_context(&inputs.global, &c) {
                        // A mistyped context must not stick: later reloads (r, :ns) keep
                        // the context that works.
                        app.set_error(e);
                        app.context = context.clone();
                        continue;
                    } else {
                        next.global.context = Some(c);
                        context = app.context.clone();
                    }
                }
                if req_tx.send(next).await.is_err() {
                    app.set_error("the data loader stopped; see the log file".into());
                }
            }
            Effect::None => {}
        }
    }
    loader.abort();
    Ok(())
}

/// Loads data now, then again on each request or every `refresh`; sends each result.
async fn loader(
    mut inputs: Inputs,
    mut requests: mpsc::Receiver<Inputs>,
    out: mpsc::Sender<Loaded>,
    refresh: Option<Duration>,
) {
    let mut client: Option<cloudvault::collect::live::Connection> = None;
    loop {
        let result = load_once(&inputs, &mut client).await.map_err(|e| {
            // One line for the status bar. Our errors carry their cause already, so `{e}`
            // (as main does) rather than `{e:#}`, which would say it twice.
            format!("{e}")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        });
        if out.send(result).await.is_err() {
            return;
        }
        let next = async {
            match refresh {
                Some(d) => tokio::time::sleep(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            r = requests.recv() => match r {
                Some(i) => {
                    if i.global.context != inputs.global.context {
                        client = None;
                    }
                    inputs = i;
                }
                None => return,
            },
            () = next => {}
        }
    }
}

async fn load_once(
    inputs: &Inputs,
    client: &mut Option<cloudvault::collect::live::Connection>,
) -> Result<Data> {
    if !inputs.is_live() {
        let inputs = inputs.clone();
        return tokio::task::spawn_blocking(move || data::load_files(&inputs))
            .await
            .map_err(|e| anyhow::anyhow!("the data load stopped: {e}"))?;
    }
    let g = &inputs.global;
    if client.is_none() {
        *client = Some(
            cloudvault::collect::live::connect(g.kubeconfig.as_deref(), g.context.as_deref())
                .await?,
        );
    }
    let Some(conn) = client.as_ref() else {
        anyhow::bail!("no Kubernetes client");
    };
    data::load_live(inputs, conn, data::context_name(g)).await
}
