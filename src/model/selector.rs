//! Label selectors as `kubectl -l` takes them: `a=b`, `a==b`, `a!=b`, `a`, `!a`,
//! `a in (x,y)`, `a notin (x,y)`, comma-separated and ANDed.

use super::Labels;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "label selector {selector:?}: cannot parse {part:?}; write it like app=web,tier!=db or 'env in (a,b)'"
)]
pub struct SelectorError {
    pub selector: String,
    pub part: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Term {
    Eq(String, String),
    Ne(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    Absent(String),
}

/// A parsed selector; the empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector {
    terms: Vec<Term>,
    text: String,
}

impl LabelSelector {
    pub fn parse(text: &str) -> Result<Self, SelectorError> {
        let mut terms = Vec::new();
        for part in split_top_level(text) {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let err = || SelectorError {
                selector: text.to_owned(),
                part: part.to_owned(),
            };
            let term = if let Some((k, v)) = part.split_once("!=") {
                Term::Ne(key(k).ok_or_else(err)?, v.trim().to_owned())
            } else if let Some((k, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
                Term::Eq(key(k).ok_or_else(err)?, v.trim().to_owned())
            } else if let Some(k) = part.strip_prefix('!') {
                Term::Absent(key(k).ok_or_else(err)?)
            } else if let Some((k, rest)) = part.split_once(" notin ") {
                Term::NotIn(key(k).ok_or_else(err)?, set(rest).ok_or_else(err)?)
            } else if let Some((k, rest)) = part.split_once(" in ") {
                Term::In(key(k).ok_or_else(err)?, set(rest).ok_or_else(err)?)
            } else {
                Term::Exists(key(part).ok_or_else(err)?)
            };
            terms.push(term);
        }
        Ok(Self {
            terms,
            text: text.to_owned(),
        })
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// The selector as given, for server-side filtering.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn matches(&self, labels: &Labels) -> bool {
        self.terms.iter().all(|t| match t {
            Term::Eq(k, v) => labels.get(k) == Some(v),
            Term::Ne(k, v) => labels.get(k) != Some(v),
            Term::In(k, vs) => labels.get(k).is_some_and(|v| vs.contains(v)),
            Term::NotIn(k, vs) => labels.get(k).is_none_or(|v| !vs.contains(v)),
            Term::Exists(k) => labels.contains_key(k),
            Term::Absent(k) => !labels.contains_key(k),
        })
    }
}

fn key(k: &str) -> Option<String> {
    let k = k.trim();
    let ok = !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'));
    ok.then(|| k.to_owned())
}

fn set(rest: &str) -> Option<Vec<String>> {
    let inner = rest.trim().strip_prefix('(')?.strip_suffix(')')?;
    Some(inner.split(',').map(|v| v.trim().to_owned()).collect())
}

/// Splits on commas that are not inside parentheses.
fn split_top_level(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect()
    }

    #[test]
    fn selectors_match_as_kubectl() {
        let l = labels(&[("app", "pg"), ("tier", "db")]);
        let m = |s: &str| LabelSelector::parse(s).map(|sel| sel.matches(&l));
        assert_eq!(m("app=pg"), Ok(true));
        assert_eq!(m("app==pg,tier=db"), Ok(true));
        assert_eq!(m("app!=pg"), Ok(false));
        assert_eq!(m("app in (pg, api)"), Ok(true));
        assert_eq!(m("tier notin (db)"), Ok(false));
        assert_eq!(m("app,!gone"), Ok(true));
        assert_eq!(m(""), Ok(true));
        assert!(LabelSelector::parse("app in pg").is_err());
    }
}
