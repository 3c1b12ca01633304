//! Views: pure functions from report structs to text. No I/O, no cost rules.

pub mod gravity;
pub mod top;

use anyhow::Result;
use cloudvault::model::Money;
use serde::Serialize;

/// JSON or YAML of a whole report.
pub fn structured<T: Serialize>(report: &T, yaml: bool) -> Result<String> {
    if yaml {
        let mut s = serde_saphyr::to_string(report)?;
        if !s.ends_with('\n') {
            s.push('\n');
        }
        Ok(s)
    } else {
        Ok(serde_json::to_string_pretty(report)? + "\n")
    }
}

/// Columns aligned with two spaces, like kubectl.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(c.chars().count());
            }
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<w$}  ", w = widths[i]));
            }
        }
        s.trim_end().to_owned() + "\n"
    };
    let mut out = line(headers.to_vec());
    for r in rows {
        out.push_str(&line(r.iter().map(String::as_str).collect()));
    }
    out
}

/// RFC 4180 CSV.
pub fn csv(headers: &[&str], rows: &[Vec<String>]) -> String {
    let cell = |c: &str| {
        if c.contains([',', '"', '\n']) {
            format!("\"{}\"", c.replace('"', "\"\""))
        } else {
            c.to_owned()
        }
    };
    let mut out = headers
        .iter()
        .map(|h| cell(h))
        .collect::<Vec<_>>()
        .join(",")
        + "\n";
    for r in rows {
        out.push_str(&(r.iter().map(|c| cell(c)).collect::<Vec<_>>().join(",") + "\n"));
    }
    out
}

pub fn money(m: Money) -> String {
    format!("{:.2}", m.cents())
}

pub fn opt_money(m: Option<Money>, none: &str) -> String {
    m.map_or_else(|| none.to_owned(), money)
}

pub fn dash(s: Option<&str>) -> String {
    s.filter(|s| !s.is_empty()).unwrap_or("-").to_owned()
}

/// Notes under a table, one per line.
pub fn notes(lines: &[String]) -> String {
    lines.iter().map(|n| format!("# {n}\n")).collect()
}
