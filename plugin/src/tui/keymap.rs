//! Keys -> actions, k9s-style. The help screen and the README's key table are generated
//! from [`BINDINGS`], so they cannot drift from what the keys do.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::Action;
use super::state::Mode;
use cloudvault::cost::SortBy;

/// One binding: the keys, the action, and what the help says.
#[derive(Debug, Clone)]
pub struct Binding {
    pub keys: &'static [KeyCode],
    /// How the help writes the keys.
    pub label: &'static str,
    pub action: Action,
    pub help: &'static str,
}

macro_rules! bind {
    ([$($k:expr),+], $label:expr, $action:expr, $help:expr) => {
        Binding { keys: &[$($k),+], label: $label, action: $action, help: $help }
    };
}

/// Normal-mode bindings, in help order.
pub static BINDINGS: std::sync::LazyLock<Vec<Binding>> = std::sync::LazyLock::new(|| {
    use KeyCode::*;
    vec![
        bind!(
            [Char(':')],
            ":",
            Action::CommandMode,
            "command: :overview :volumes :gravity :ns NAME :ctx NAME :q"
        ),
        bind!(
            [Char('/')],
            "/",
            Action::FilterMode,
            "filter the view; start with ! to invert"
        ),
        bind!([Char('?')], "?", Action::Help, "this help"),
        bind!(
            [Esc],
            "Esc",
            Action::Back,
            "back: close help/details, clear the filter"
        ),
        bind!([Tab], "Tab", Action::NextView, "next view"),
        bind!([BackTab], "Shift-Tab", Action::PrevView, "previous view"),
        bind!([Char('j'), Down], "j / Down", Action::Down, "move down"),
        bind!([Char('k'), Up], "k / Up", Action::Up, "move up"),
        bind!(
            [PageDown, Char('f')],
            "PgDn / f",
            Action::PageDown,
            "page down"
        ),
        bind!([PageUp, Char('b')], "PgUp / b", Action::PageUp, "page up"),
        bind!([Char('g'), Home], "g / Home", Action::Top, "first row"),
        bind!([Char('G'), End], "G / End", Action::Bottom, "last row"),
        bind!(
            [Char('l'), Right, Char(' ')],
            "l / Right / Space",
            Action::Expand,
            "open a tree node"
        ),
        bind!(
            [Char('h'), Left],
            "h / Left",
            Action::Collapse,
            "close a tree node / go to its parent"
        ),
        bind!(
            [Enter],
            "Enter",
            Action::Details,
            "details of the selected item (YAML, cost, flows)"
        ),
        bind!(
            [Char('C')],
            "C",
            Action::Sort(SortBy::Cost),
            "volumes: sort by $/month (again: reverse)"
        ),
        bind!(
            [Char('N')],
            "N",
            Action::Sort(SortBy::Name),
            "volumes: sort by claim name"
        ),
        bind!(
            [Char('S')],
            "S",
            Action::Sort(SortBy::Namespace),
            "volumes: sort by namespace"
        ),
        bind!(
            [Char('P')],
            "P",
            Action::Sort(SortBy::Capacity),
            "volumes: sort by capacity"
        ),
        bind!(
            [Char('Z')],
            "Z",
            Action::Sort(SortBy::Zone),
            "volumes: sort by zone"
        ),
        bind!(
            [Char('L')],
            "L",
            Action::Sort(SortBy::Class),
            "volumes: sort by class"
        ),
        bind!([Char('r')], "r", Action::Refresh, "reload the data now"),
        bind!([Char('q')], "q", Action::Quit, "quit (also :q, Ctrl-C)"),
    ]
});

/// The action a key means in `mode`, if any.
pub fn action_for(mode: Mode, key: KeyEvent) -> Option<Action> {
    if key.modifiers.contains(KeyModifiers::CONTROL)
        && matches!(key.code, KeyCode::Char('c') | KeyCode::Char('d'))
    {
        return Some(Action::Quit);
    }
    match mode {
        Mode::Command | Mode::Filter => match key.code {
            KeyCode::Esc => Some(Action::Back),
            KeyCode::Enter => Some(Action::Submit),
            KeyCode::Backspace => Some(Action::InputBackspace),
            KeyCode::Char(c) => Some(Action::Input(c)),
            _ => None,
        },
        Mode::Confirm => match key.code {
            KeyCode::Char('y') => Some(Action::Accept),
            KeyCode::Esc | KeyCode::Char('n') => Some(Action::Back),
            _ => None,
        },
        Mode::Help => match key.code {
            KeyCode::Esc | KeyCode::Char('?') | KeyCode::Char('q') => Some(Action::Back),
            _ => None,
        },
        Mode::Normal => BINDINGS
            .iter()
            .find(|b| b.keys.contains(&key.code))
            .map(|b| b.action.clone()),
    }
}

#[allow(dead_code, reason = "used by the tests and the docs check")]
/// The key table as Markdown (README and docs/tui.md are checked against it).
pub fn markdown_table() -> String {
    let mut out = String::from("| Key | Does |\n|---|---|\n");
    for b in BINDINGS.iter() {
        out.push_str(&format!("| `{}` | {} |\n", b.label, b.help));
    }
    out
}
