//! TUI tests on fixtures: every view drawn at 80x24 and 160x48 (insta snapshots), and
//! key sequences driven through the key map into the app state.
//!
//! Fixtures: an empty cluster, no traffic data, unknown prices, very long names, and
//! DESIGN's worked example (the bundled demo's first file and its flow log).

mod keys;
mod snapshots;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::data::{self, Data};
use super::keymap;
use super::state::App;

// Relative to the package (cargo runs tests there), so snapshots do not depend on
// where the checkout is.
fn repo() -> PathBuf {
    PathBuf::from("..")
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from("tests/tui_fixtures").join(name)
}

/// The fixtures by name: (dumps, flow logs).
fn inputs(name: &str) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let demo = repo().join("assets/examples/demo");
    match name {
        "empty" => (vec![fixture("empty.yaml")], vec![]),
        "no-traffic" => (vec![demo.join("cluster")], vec![]),
        "unknown-prices" => (vec![fixture("unknown-price.yaml")], vec![]),
        "long-names" => (vec![fixture("long-names.yaml")], vec![]),
        "worked-example" => (
            vec![demo.join("cluster/01-worked-example.yaml")],
            vec![demo.join("flows/worked-example.log")],
        ),
        "demo" => (
            vec![demo.join("cluster")],
            vec![
                demo.join("flows/worked-example.log"),
                demo.join("flows/shop-v5.log.gz"),
            ],
        ),
        other => panic!("no fixture {other}"),
    }
}

fn load(name: &str) -> Data {
    let (files, flows) = inputs(name);
    data::load_paths(files, flows).unwrap_or_else(|e| panic!("fixture {name}: {e:#}"))
}

/// An app with a fixture loaded, colours off, the clock pinned.
fn app(name: &str, size: (u16, u16)) -> App {
    let mut app = App::new(size, false);
    app.clock_override = Some(UNIX_EPOCH + Duration::from_secs(1_764_590_400));
    app.set_data(Arc::new(load(name)));
    app
}

/// Draws the app and returns the screen as text, one line per row, trailing blanks cut.
fn screen(app: &App) -> String {
    let (w, h) = app.size;
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap_or_else(|e| panic!("{e}"));
    term.draw(|f| super::draw::draw(f, app))
        .unwrap_or_else(|e| panic!("{e}"));
    let buf = term.backend().buffer();
    let mut out = String::new();
    for y in 0..h {
        let mut line = String::new();
        for x in 0..w {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

/// Types keys as a user would: each goes through the key map for the current mode.
/// `<Enter>`, `<Esc>`, `<Tab>`, `<Down>`, `<Up>`, `<Right>`, `<Left>`, `<PgDn>` are
/// keys; anything else is typed character by character.
fn press(app: &mut App, keys: &str) {
    let mut rest = keys;
    while !rest.is_empty() {
        let (code, len) = match rest {
            s if s.starts_with("<Enter>") => (KeyCode::Enter, 7),
            s if s.starts_with("<Esc>") => (KeyCode::Esc, 5),
            s if s.starts_with("<Tab>") => (KeyCode::Tab, 5),
            s if s.starts_with("<Down>") => (KeyCode::Down, 6),
            s if s.starts_with("<Up>") => (KeyCode::Up, 4),
            s if s.starts_with("<Right>") => (KeyCode::Right, 7),
            s if s.starts_with("<Left>") => (KeyCode::Left, 6),
            s if s.starts_with("<PgDn>") => (KeyCode::PageDown, 6),
            s => {
                let c = s.chars().next().unwrap_or(' ');
                (KeyCode::Char(c), c.len_utf8())
            }
        };
        rest = &rest[len..];
        if let Some(a) = keymap::action_for(app.mode, key(code)) {
            let _ = app.apply(a);
        }
    }
}

/// A workload whose pods sit on several nodes shows under each node with that node's
/// part of its gravity, and the parts add up to the workload's figure (kafka: 3 pods in
/// 3 zones), so no zone counts it whole.
#[test]
fn spread_workload_shows_its_part_per_node() {
    use cloudvault::model::Money;

    use super::data::Item;
    let d = load("demo");
    let mut parts = Vec::new();
    for n in &d.tree {
        if let Item::Workload {
            workload,
            gravity: Some(gi),
            here,
            ..
        } = &n.item
            && workload.name == "kafka"
        {
            parts.push((*gi, *here));
        }
    }
    assert!(parts.len() > 1, "kafka sits on several nodes: {parts:?}");
    let total = d.gravity.items[parts[0].0].gravity_monthly_usd;
    let sum: Option<Money> = parts.iter().map(|(_, h)| *h).sum();
    assert_eq!(sum.map(Money::cents), total.map(Money::cents));
    assert!(parts.iter().any(|(_, h)| *h != total), "{parts:?}");
}

/// `:ctx` with a name the kubeconfig lacks is refused with the names it has.
#[test]
fn ctx_must_name_a_kubeconfig_context() {
    use clap::Parser as _;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let kc = dir.path().join("kubeconfig");
    std::fs::write(
        &kc,
        "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: \"https://127.0.0.1:1\"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts:\n- {name: one, context: {cluster: c, user: u}}\n- {name: two, context: {cluster: c, user: u}}\ncurrent-context: one\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        g: crate::input::GlobalArgs,
    }
    let cli = Cli::parse_from(["x", "--kubeconfig", &kc.display().to_string()]);
    assert_eq!(data::check_context(&cli.g, "two"), Ok(()));
    let e = data::check_context(&cli.g, "missing")
        .err()
        .unwrap_or_default();
    assert!(
        e.starts_with("no context \"missing\" in the kubeconfig (it has: one, two)"),
        "{e}"
    );
}
