//! Every view of every fixture at 80x24 and 160x48.

use super::{app, press, screen};

const FIXTURES: [&str; 5] = [
    "empty",
    "no-traffic",
    "unknown-prices",
    "long-names",
    "worked-example",
];
const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];

/// Keys that bring each view (and pane) up from the start.
const VIEWS: [(&str, &str); 6] = [
    ("overview", ""),
    ("volumes", ":volumes<Enter>"),
    ("gravity", ":gravity<Enter>"),
    ("volume-details", ":volumes<Enter><Enter>"),
    // The first workload row of the tree (regions, zones, nodes come first).
    ("gravity-details", ":gravity<Enter>jjj<Enter>"),
    ("help", "?"),
];

#[test]
fn every_view_of_every_fixture() {
    for fixture in FIXTURES {
        for (w, h) in SIZES {
            for (view, keys) in VIEWS {
                let mut a = app(fixture, (w, h));
                press(&mut a, keys);
                let name = format!("{fixture}-{view}-{w}x{h}");
                insta::assert_snapshot!(name, screen(&a));
            }
        }
    }
}

#[test]
fn worked_example_reads_304_17_and_the_arithmetic() {
    let mut a = app("worked-example", (160, 48));
    press(&mut a, ":gravity<Enter>/pg<Enter><Enter>");
    let s = screen(&a);
    assert!(
        s.contains("StatefulSet shop/pg (1 pod)  gravity $304.17/mo best us-east-1b PINNED"),
        "{s}"
    );
    assert!(
        s.contains("gravity $304.17/month = now $304.17 - in its best zone $0.00"),
        "{s}"
    );
    // 133.33 GiB back and 33.33 GiB to each api pod, $0.02/GiB both sides, x 730/24.
    assert!(
        s.contains("133.33 GiB x $0.0200 + 33.33 GiB x $0.0200 = $3.33 per 24.0 h"),
        "{s}"
    );
    assert!(s.contains("= $101.39/month"), "{s}");
}

#[test]
fn no_traffic_says_so_never_zero() {
    let mut a = app("no-traffic", (160, 48));
    let s = screen(&a);
    assert!(
        s.contains("no traffic data: gravity is unknown, not zero"),
        "{s}"
    );
    press(&mut a, ":gravity<Enter>");
    let s = screen(&a);
    assert!(s.contains("gravity no traffic data"), "{s}");
    assert!(!s.contains("gravity $0.00"), "{s}");
}

#[test]
fn unknown_prices_are_flagged() {
    let a = app("unknown-prices", (160, 48));
    let s = screen(&a);
    assert!(
        s.contains("UNKNOWN PRICE 2 volume(s) priced by the default"),
        "{s}"
    );
}

#[test]
fn tiny_and_resized_terminals_do_not_panic() {
    let mut a = app("long-names", (80, 24));
    for (w, h) in [(1, 1), (20, 5), (39, 9), (40, 10), (200, 60), (80, 24)] {
        press(&mut a, ":gravity<Enter>");
        let _ = a.apply(crate::tui::action::Action::Resize(w, h));
        let s = screen(&a);
        assert_eq!(s.lines().count(), usize::from(h));
    }
    let mut small = app("demo", (20, 5));
    assert!(screen(&small).contains("terminal too small"));
    let _ = small.apply(crate::tui::action::Action::Resize(80, 24));
    assert!(screen(&small).contains("CloudVault"));
}
