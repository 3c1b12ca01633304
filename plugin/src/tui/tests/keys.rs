//! Key sequences -> view, selection and filter.

use cloudvault::model::WorkloadRef;

use super::{app, press};
use crate::tui::action::{Action, Effect, View};
use crate::tui::data::Item;
use crate::tui::details::Key;
use crate::tui::keymap;
use crate::tui::state::{Filter, Mode, parse_command};
use cloudvault::cost::SortBy;

fn workload(ns: &str, kind: &str, name: &str) -> WorkloadRef {
    WorkloadRef {
        kind: kind.into(),
        namespace: ns.into(),
        name: name.into(),
    }
}

fn selected_workload(a: &crate::tui::state::App) -> Option<WorkloadRef> {
    match a.selected_key()? {
        Key::Tree(Item::Workload { workload, .. }) => Some(workload),
        _ => None,
    }
}

#[test]
fn command_mode_switches_views_and_tab_cycles() {
    let mut a = app("demo", (80, 24));
    assert_eq!(a.view, View::Overview);
    press(&mut a, ":volumes<Enter>");
    assert_eq!((a.view, a.mode), (View::Volumes, Mode::Normal));
    press(&mut a, ":gravity<Enter>");
    assert_eq!(a.view, View::Gravity);
    press(&mut a, "<Tab>");
    assert_eq!(a.view, View::Overview);
    press(&mut a, "<Tab><Tab>");
    assert_eq!(a.view, View::Gravity);
    press(&mut a, ":overview<Enter>");
    assert_eq!(a.view, View::Overview);
    // Esc while typing a command leaves it untouched.
    press(&mut a, ":volu<Esc>");
    assert_eq!(
        (a.view, a.mode, a.input.as_str()),
        (View::Overview, Mode::Normal, "")
    );
}

#[test]
fn unknown_command_is_an_error_not_a_crash() {
    let mut a = app("demo", (80, 24));
    press(&mut a, ":frobnicate<Enter>");
    assert_eq!(a.view, View::Overview);
    assert!(
        a.error
            .as_deref()
            .is_some_and(|e| e.contains("unknown command :frobnicate"))
    );
    assert!(parse_command("ns").is_err());
    assert_eq!(
        parse_command("ns shop"),
        Ok(Action::Namespace("shop".into()))
    );
    assert_eq!(
        parse_command("ctx prod"),
        Ok(Action::Context("prod".into()))
    );
}

#[test]
fn quit_keys() {
    let mut a = app("demo", (80, 24));
    for keys in [":q", ":quit"] {
        press(&mut a, keys);
        let Some(action) = keymap::action_for(a.mode, super::key(crossterm::event::KeyCode::Enter))
        else {
            panic!("Enter has an action");
        };
        assert_eq!(a.apply(action), Effect::Quit);
    }
    let ctrl_c = crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::Char('c'),
        crossterm::event::KeyModifiers::CONTROL,
    );
    assert_eq!(keymap::action_for(Mode::Filter, ctrl_c), Some(Action::Quit));
    assert_eq!(
        keymap::action_for(
            Mode::Normal,
            super::key(crossterm::event::KeyCode::Char('q'))
        ),
        Some(Action::Quit)
    );
}

#[test]
fn gravity_filter_selects_the_first_match_and_enter_opens_it() {
    let mut a = app("demo", (80, 24));
    press(&mut a, ":gravity<Enter>/pg<Enter>");
    assert_eq!(a.filter, Filter::parse("pg"));
    assert_eq!(
        selected_workload(&a),
        Some(workload("shop", "StatefulSet", "pg"))
    );
    press(&mut a, "<Enter>");
    let d = a.details.as_ref().unwrap_or_else(|| panic!("details open"));
    assert_eq!(d.title, "workload shop/StatefulSet/pg");
    // Esc closes the pane, then clears the filter, then goes home.
    press(&mut a, "<Esc>");
    assert!(a.details.is_none());
    assert_eq!(a.filter, Filter::parse("pg"));
    press(&mut a, "<Esc>");
    assert!(a.filter.is_empty());
    assert_eq!(a.view, View::Gravity);
    press(&mut a, "<Esc>");
    assert_eq!(a.view, View::Overview);
}

#[test]
fn inverted_filter_hides_matches() {
    let mut a = app("demo", (80, 24));
    press(&mut a, ":volumes<Enter>");
    let all = a.volumes.order.len();
    press(&mut a, "/shop<Enter>");
    let shop = a.volumes.order.len();
    press(&mut a, "/!shop<Enter>");
    assert!(a.filter.invert);
    let not_shop = a.volumes.order.len();
    assert!(shop > 0 && not_shop > 0, "{shop} {not_shop}");
    assert_eq!(shop + not_shop, all);
    let data = a.data.clone().unwrap_or_else(|| panic!("data"));
    for i in &a.volumes.order {
        assert_ne!(data.cost.items[*i].namespace.as_deref(), Some("shop"));
    }
    // In the tree, shop's workloads are gone and the others stay.
    press(&mut a, ":gravity<Enter>");
    assert!(a.tree.rows.iter().all(|i| !matches!(&data.tree[*i].item,
        Item::Workload { workload, .. } if workload.namespace == "shop")));
}

#[test]
fn movement_and_paging_in_volumes() {
    let mut a = app("demo", (80, 24));
    press(&mut a, ":volumes<Enter>");
    let n = a.volumes.order.len();
    assert_eq!(a.volumes.selected, 0);
    press(&mut a, "jj<Down>");
    assert_eq!(a.volumes.selected, 3);
    press(&mut a, "k<Up>");
    assert_eq!(a.volumes.selected, 1);
    press(&mut a, "G");
    assert_eq!(a.volumes.selected, n - 1);
    press(&mut a, "g");
    assert_eq!(a.volumes.selected, 0);
    press(&mut a, "<PgDn>");
    assert_eq!(a.volumes.selected, (a.page()).min(n - 1));
    press(&mut a, "kkkkkkkkkkkkkkkkkkkkkk");
    assert_eq!(a.volumes.selected, 0);
}

#[test]
fn sort_keys_order_by_the_core_and_reverse_on_second_press() {
    let mut a = app("demo", (80, 24));
    press(&mut a, ":volumes<Enter>");
    let data = a.data.clone().unwrap_or_else(|| panic!("data"));
    let cost = |a: &crate::tui::state::App| -> Vec<f64> {
        a.volumes
            .order
            .iter()
            .map(|i| data.cost.items[*i].monthly_cost_usd.usd())
            .collect()
    };
    press(&mut a, "C");
    assert_eq!(a.volumes.sort, Some(SortBy::Cost));
    let down = cost(&a);
    assert!(down.windows(2).all(|w| w[0] >= w[1]), "{down:?}");
    press(&mut a, "C");
    let up = cost(&a);
    assert!(up.windows(2).all(|w| w[0] <= w[1]), "{up:?}");
    press(&mut a, "S");
    let ns: Vec<Option<String>> = a
        .volumes
        .order
        .iter()
        .map(|i| data.cost.items[*i].namespace.clone())
        .collect();
    assert!(ns.windows(2).all(|w| w[0] <= w[1]), "{ns:?}");
}

#[test]
fn tree_opens_and_closes() {
    let mut a = app("worked-example", (80, 24));
    press(&mut a, ":gravity<Enter>");
    let rows = a.tree.rows.len();
    // On the region row: h closes it, l opens it again.
    press(&mut a, "h");
    assert_eq!(a.tree.rows.len(), 1);
    press(&mut a, "l");
    assert_eq!(a.tree.rows.len(), rows);
    // l on an open node steps into it; h on a leaf goes to its parent.
    press(&mut a, "l");
    assert_eq!(a.tree.selected, 1);
    assert!(matches!(a.selected_key(), Some(Key::Tree(Item::Zone(_)))));
    press(&mut a, "h");
    assert!(a.tree.rows.len() < rows);
    assert_eq!(a.tree.selected, 1);
    // h on the closed zone goes up to the region.
    press(&mut a, "h");
    assert_eq!(a.tree.selected, 0);
}

#[test]
fn help_lists_every_binding() {
    let mut a = app("empty", (160, 48));
    press(&mut a, "?");
    assert_eq!(a.mode, Mode::Help);
    let s = super::screen(&a);
    for b in keymap::BINDINGS.iter() {
        assert!(s.contains(b.help), "help lacks {:?}", b.help);
    }
    press(&mut a, "<Esc>");
    assert_eq!(a.mode, Mode::Normal);
}

#[test]
fn ns_and_ctx_ask_for_a_reload() {
    let mut a = app("demo", (80, 24));
    press(&mut a, ":ns shop");
    let Some(enter) = keymap::action_for(a.mode, super::key(crossterm::event::KeyCode::Enter))
    else {
        panic!("Enter has an action");
    };
    assert_eq!(a.apply(enter), Effect::Reload);
    assert_eq!(a.namespace.as_deref(), Some("shop"));
    assert_eq!(a.apply(Action::Refresh), Effect::Reload);
}

#[test]
fn docs_key_tables_match_the_key_map() {
    let table = keymap::markdown_table();
    for doc in ["../docs/tui.md", "../README.md"] {
        let text = std::fs::read_to_string(doc).unwrap_or_else(|e| panic!("{doc}: {e}"));
        assert!(
            text.contains(&table),
            "{doc} must hold the key table generated from keymap.rs:\n{table}"
        );
    }
}

#[test]
fn tree_scrolls_with_the_selection() {
    let mut a = app("demo", (80, 24));
    press(&mut a, ":gravity<Enter>G");
    assert_eq!(a.tree.selected, a.tree.rows.len() - 1);
    assert!(a.tree.offset > 0);
    let s = super::screen(&a);
    // The last row (zone c's idle volume) is on screen, indented under its zone.
    assert!(
        s.contains("│    + IDLE 1 volume(s) mounted by no pod $75.00/mo"),
        "{s}"
    );
    press(&mut a, "g");
    assert_eq!((a.tree.selected, a.tree.offset), (0, 0));
    assert!(super::screen(&a).contains("│- region us-east-1"));
}

#[test]
fn status_line_shows_source_traffic_time_and_errors() {
    let mut a = app("worked-example", (120, 30));
    let s = super::screen(&a);
    let status = s.lines().last().unwrap_or_default().to_owned();
    assert!(status.contains("files: 01-worked-example.yaml"), "{status}");
    assert!(status.contains("traffic: vpc-flow-logs"), "{status}");
    assert!(status.contains("refreshed 12:00:00 UTC"), "{status}");
    // A failed refresh keeps the data on screen and says so.
    a.set_error("listing pods timed out after 60s".into());
    let s = super::screen(&a);
    assert!(s.contains("error: listing pods timed out after 60s"), "{s}");
    assert!(
        s.lines().last().unwrap_or_default().contains("ERROR"),
        "{s}"
    );
    assert!(s.contains("Largest gravity"), "{s}");
    // The next good load clears it, keeping the view and the open nodes.
    press(&mut a, ":gravity<Enter>");
    let open = a.tree.open.clone();
    let data = a.data.clone().unwrap_or_else(|| panic!("data"));
    a.set_data(data);
    assert!(a.error.is_none());
    assert_eq!((a.view, &a.tree.open), (View::Gravity, &open));
}
