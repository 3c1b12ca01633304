//! App state and the one function that changes it ([`App::apply`]). Drawing reads this
//! state and nothing else.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::SystemTime;

use cloudvault::cost::{self, SortBy};

use super::action::{Action, ConfirmAction, ConfirmedAction, Effect, View};
use super::data::{Data, Item};
use super::details::{self, Details};

/// What keys mean right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Normal,
    Command,
    Filter,
    Help,
    /// A write waits for `y` (or Esc).
    Confirm,
}

/// A `/` filter: case-insensitive substring; `!` in front inverts it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub text: String,
    pub invert: bool,
}

impl Filter {
    pub fn parse(s: &str) -> Self {
        match s.strip_prefix('!') {
            Some(rest) => Self {
                text: rest.to_lowercase(),
                invert: true,
            },
            None => Self {
                text: s.to_lowercase(),
                invert: false,
            },
        }
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// Whether a row whose lower-case text is `hay` stays.
    pub fn keeps(&self, hay: &str) -> bool {
        self.is_empty() || hay.contains(&self.text) != self.invert
    }

    pub fn show(&self) -> String {
        format!("{}{}", if self.invert { "!" } else { "" }, self.text)
    }
}

/// The volumes table: rows of the cost report in the chosen order, after the filter.
#[derive(Debug, Clone, Default)]
pub struct VolumesView {
    pub sort: Option<SortBy>,
    pub descending: bool,
    /// Indices into `cost.items`, in display order.
    pub order: Vec<usize>,
    /// Cells per cost item (`top -o wide` columns), built once per data load.
    pub cells: Vec<Vec<String>>,
    /// The cells joined, lower case: what the filter searches.
    pub hay: Vec<String>,
    pub selected: usize,
    pub offset: usize,
}

/// The gravity tree's open nodes, visible rows and selection.
#[derive(Debug, Default)]
pub struct TreeView {
    pub open: HashSet<usize>,
    /// Visible node indices, top to bottom.
    pub rows: Vec<usize>,
    pub selected: usize,
    /// Nodes kept by the filter (all when there is none).
    pub kept: Option<HashSet<usize>>,
    /// First visible row.
    pub offset: usize,
    /// Lower-case filter text per tree node (workloads and idle volumes), per data load.
    pub hay: Vec<Option<String>>,
}

#[derive(Debug)]
pub struct App {
    pub data: Option<Arc<Data>>,
    pub view: View,
    pub mode: Mode,
    /// The input line being typed (`:` or `/`).
    pub input: String,
    pub filter: Filter,
    pub volumes: VolumesView,
    pub tree: TreeView,
    /// The details pane, when open: built when opened, drawn as is.
    pub details: Option<Details>,
    pub details_scroll: u16,
    /// Last error (load or command), shown on the status line until the next success.
    pub error: Option<String>,
    /// A message for the status line (e.g. "loading...").
    pub message: Option<String>,
    pub size: (u16, u16),
    pub color: bool,
    /// Namespace and context asked for by `:ns` / `:ctx`, read by the loader.
    pub namespace: Option<String>,
    pub context: Option<String>,
    /// A write waiting for yes/no (none exist yet; the seam for plan/apply).
    pub pending: Option<ConfirmAction>,
    pub confirmed: Vec<ConfirmedAction>,
    /// The clock the status line shows; tests pin it.
    pub clock_override: Option<SystemTime>,
}

/// Rows of the tree built open by default up to this many; past it only regions and
/// zones open, so a first frame on a big cluster stays small.
const OPEN_ALL_UP_TO: usize = 400;

impl App {
    pub fn new(size: (u16, u16), color: bool) -> Self {
        Self {
            data: None,
            view: View::Overview,
            mode: Mode::Normal,
            input: String::new(),
            filter: Filter::default(),
            volumes: VolumesView {
                descending: true,
                ..VolumesView::default()
            },
            tree: TreeView::default(),
            details: None,
            details_scroll: 0,
            error: None,
            message: Some("loading…".into()),
            size,
            color,
            namespace: None,
            context: None,
            pending: None,
            confirmed: Vec::new(),
            clock_override: None,
        }
    }

    /// New data arrived: keep the view, selection and filter where they still make sense.
    pub fn set_data(&mut self, data: Arc<Data>) {
        // A different tree (first load, :ns, :ctx, a changed cluster) gets the default
        // open nodes; the same one keeps what the user opened.
        let reshaped = self.data.as_ref().is_none_or(|d| d.tree != data.tree);
        self.volumes.cells = crate::views::top::rows(&data.cost.items, true);
        self.volumes.hay = self
            .volumes
            .cells
            .iter()
            .map(|c| c.join(" ").to_lowercase())
            .collect();
        self.tree.hay = data
            .tree
            .iter()
            .map(|n| match &n.item {
                Item::Workload { workload, .. } => Some(workload.to_string().to_lowercase()),
                Item::Volume(v)
                    if matches!(
                        n.parent.map(|p| &data.tree[p].item),
                        Some(Item::IdleGroup { .. })
                    ) =>
                {
                    self.volumes.hay.get(*v).cloned()
                }
                _ => None,
            })
            .collect();
        self.data = Some(data);
        self.error = None;
        self.message = None;
        if reshaped {
            self.open_default();
        }
        self.refilter();
        if let Some(d) = &self.details {
            // Rebuild an open pane from the new data (same item, fresh figures).
            let key = d.key.clone();
            self.details = self
                .data
                .as_ref()
                .and_then(|data| details::rebuild(data, &key));
        }
    }

    pub fn set_error(&mut self, e: String) {
        self.message = None;
        self.error = Some(e);
    }

    fn open_default(&mut self) {
        let Some(data) = &self.data else { return };
        self.tree.open.clear();
        let all = data.tree.len() <= OPEN_ALL_UP_TO;
        for (i, n) in data.tree.iter().enumerate() {
            let open = match n.item {
                Item::Region(_) | Item::Zone(_) => true,
                // Nodes and workloads open on small clusters; pods show their volumes.
                Item::Node(_) | Item::Workload { .. } => all,
                _ => false,
            };
            if open && !n.children.is_empty() {
                self.tree.open.insert(i);
            }
        }
    }

    /// Body height of a list view: the screen minus header, table header, borders and
    /// status lines.
    pub fn page(&self) -> usize {
        usize::from(self.size.1.saturating_sub(7)).max(1)
    }

    /// Applies one action. Returns what the event loop must do next.
    pub fn apply(&mut self, action: Action) -> Effect {
        match action {
            Action::Quit => return Effect::Quit,
            Action::Resize(w, h) => {
                self.size = (w, h);
                self.scroll_volumes();
                self.scroll_tree();
            }
            Action::Back => self.back(),
            Action::Help => self.mode = Mode::Help,
            Action::CommandMode => {
                self.mode = Mode::Command;
                self.input.clear();
            }
            Action::FilterMode => {
                // A new filter replaces the old one as it is typed.
                self.mode = Mode::Filter;
                self.input.clear();
            }
            Action::Input(c) => {
                self.input.push(c);
                if self.mode == Mode::Filter {
                    // Filter as you type, like k9s.
                    self.filter = Filter::parse(&self.input);
                    self.refilter();
                }
            }
            Action::InputBackspace => {
                self.input.pop();
                if self.mode == Mode::Filter {
                    self.filter = Filter::parse(&self.input);
                    self.refilter();
                }
            }
            Action::Submit => return self.submit(),
            Action::NextView | Action::PrevView => {
                let i = View::ALL.iter().position(|v| *v == self.view).unwrap_or(0);
                let n = View::ALL.len();
                let next = if action == Action::NextView {
                    (i + 1) % n
                } else {
                    (i + n - 1) % n
                };
                self.show(View::ALL[next]);
            }
            Action::Show(v) => self.show(v),
            Action::Up => self.move_by(-1),
            Action::Down => self.move_by(1),
            Action::PageUp => self.move_by(-(self.page() as isize)),
            Action::PageDown => self.move_by(self.page() as isize),
            Action::Top => self.move_by(isize::MIN / 2),
            Action::Bottom => self.move_by(isize::MAX / 2),
            Action::Expand => self.expand(),
            Action::Collapse => self.collapse(),
            Action::Details => self.open_details(),
            Action::Sort(k) => self.sort(k),
            Action::Refresh => {
                self.message = Some("reloading…".into());
                return Effect::Reload;
            }
            Action::Namespace(ns) => {
                self.namespace = Some(ns);
                self.message = Some("reloading…".into());
                return Effect::Reload;
            }
            Action::Context(c) => {
                self.context = Some(c);
                self.message = Some("reloading…".into());
                return Effect::Reload;
            }
            Action::Confirm(c) => {
                self.pending = Some(c);
                self.mode = Mode::Confirm;
            }
            Action::Accept => {
                self.mode = Mode::Normal;
                if let Some(a) = self.confirm() {
                    return self.apply(a);
                }
            }
            Action::Confirmed(c) => self.confirmed.push(c),
        }
        Effect::None
    }

    fn back(&mut self) {
        match self.mode {
            Mode::Help => self.mode = Mode::Normal,
            Mode::Confirm => {
                self.pending = None;
                self.mode = Mode::Normal;
            }
            Mode::Command => {
                self.mode = Mode::Normal;
                self.input.clear();
            }
            Mode::Filter => {
                // Esc while typing drops the filter, as k9s does.
                self.mode = Mode::Normal;
                self.input.clear();
                self.filter = Filter::default();
                self.refilter();
            }
            Mode::Normal => {
                if self.details.take().is_some() {
                    self.details_scroll = 0;
                } else if !self.filter.is_empty() {
                    self.filter = Filter::default();
                    self.refilter();
                } else if self.view != View::Overview {
                    self.view = View::Overview;
                }
            }
        }
    }

    fn submit(&mut self) -> Effect {
        let line = std::mem::take(&mut self.input);
        let mode = self.mode;
        self.mode = Mode::Normal;
        if mode == Mode::Filter {
            self.filter = Filter::parse(line.trim());
            self.refilter();
            return Effect::None;
        }
        match parse_command(&line) {
            Ok(a) => self.apply(a),
            Err(e) => {
                self.error = Some(e);
                Effect::None
            }
        }
    }

    fn show(&mut self, v: View) {
        self.view = v;
        self.details = None;
        self.details_scroll = 0;
        self.refilter();
    }

    fn sort(&mut self, k: SortBy) {
        if self.volumes.sort == Some(k) {
            self.volumes.descending = !self.volumes.descending;
        } else {
            // First press: the natural order (money and capacity down, names up).
            self.volumes.sort = Some(k);
            self.volumes.descending = k.descending();
        }
        self.refilter();
    }

    /// Recomputes the visible rows of both list views after data, filter or sort change.
    pub fn refilter(&mut self) {
        let Some(data) = self.data.clone() else {
            return;
        };
        // Volumes: the core's sort, then the filter over the row's cells.
        let mut items: Vec<(usize, &cloudvault::cost::VolumeCost)> =
            data.cost.items.iter().enumerate().collect();
        if let Some(by) = self.volumes.sort {
            // The core's order; the second press of a sort key reverses it.
            items.sort_by(|(_, a), (_, b)| {
                let o = cost::compare(a, b, by);
                if by.descending() == self.volumes.descending {
                    o
                } else {
                    o.reverse()
                }
            });
        }
        let hay = &self.volumes.hay;
        self.volumes.order = items
            .into_iter()
            .map(|(i, _)| i)
            .filter(|i| hay.get(*i).is_none_or(|h| self.filter.keeps(h)))
            .collect();
        self.clamp_volumes();

        // Tree: keep workloads (and idle volumes) that match, with their ancestors.
        let selected_node = self.tree.rows.get(self.tree.selected).copied();
        if self.filter.is_empty() {
            self.tree.kept = None;
        } else {
            let mut kept = HashSet::new();
            for (i, n) in data.tree.iter().enumerate() {
                let Some(Some(hay)) = self.tree.hay.get(i) else {
                    continue;
                };
                if self.filter.keeps(hay) {
                    // The match, everything under it, and its ancestors (opened).
                    let mut stack = vec![i];
                    while let Some(j) = stack.pop() {
                        kept.insert(j);
                        stack.extend(&data.tree[j].children);
                    }
                    let mut p = n.parent;
                    while let Some(a) = p {
                        kept.insert(a);
                        self.tree.open.insert(a);
                        p = data.tree[a].parent;
                    }
                }
            }
            self.tree.kept = Some(kept);
        }
        self.rebuild_rows();
        // Keep the selected node if it is still visible, else the first match.
        let first_match = self.tree.rows.iter().position(|i| {
            matches!(data.tree[*i].item, Item::Workload { .. }) && !self.filter.is_empty()
        });
        self.tree.selected = selected_node
            .and_then(|s| self.tree.rows.iter().position(|r| *r == s))
            .filter(|_| self.filter.is_empty())
            .or(first_match)
            .unwrap_or(0)
            .min(self.tree.rows.len().saturating_sub(1));
        self.scroll_tree();
    }

    /// Visible rows: a DFS over open nodes, minus what the filter drops.
    fn rebuild_rows(&mut self) {
        let Some(data) = &self.data else { return };
        let mut rows = Vec::new();
        let mut stack: Vec<usize> = data.roots.iter().rev().copied().collect();
        while let Some(i) = stack.pop() {
            if self.tree.kept.as_ref().is_some_and(|k| !k.contains(&i)) {
                continue;
            }
            rows.push(i);
            if self.tree.open.contains(&i) {
                stack.extend(data.tree[i].children.iter().rev());
            }
        }
        self.tree.rows = rows;
    }

    /// Keeps the selected tree row on screen.
    fn scroll_tree(&mut self) {
        let page = self.tree_page();
        let t = &mut self.tree;
        t.offset = t.offset.min(t.rows.len().saturating_sub(page));
        if t.selected < t.offset {
            t.offset = t.selected;
        } else if t.selected >= t.offset + page {
            t.offset = t.selected + 1 - page;
        }
    }

    /// Rows of the tree on screen: the screen minus header, borders and status lines.
    pub fn tree_page(&self) -> usize {
        usize::from(self.size.1.saturating_sub(6)).max(1)
    }

    fn clamp_volumes(&mut self) {
        let n = self.volumes.order.len();
        self.volumes.selected = self.volumes.selected.min(n.saturating_sub(1));
        self.scroll_volumes();
    }

    fn scroll_volumes(&mut self) {
        let page = self.page();
        let v = &mut self.volumes;
        if v.selected < v.offset {
            v.offset = v.selected;
        } else if v.selected >= v.offset + page {
            v.offset = v.selected + 1 - page;
        }
    }

    fn move_by(&mut self, delta: isize) {
        if let Some(d) = &self.details {
            let _ = d;
            let s = self.details_scroll as isize + delta;
            self.details_scroll = s.clamp(0, u16::MAX as isize) as u16;
            return;
        }
        match self.view {
            View::Overview => {}
            View::Volumes => {
                let n = self.volumes.order.len();
                self.volumes.selected = step(self.volumes.selected, delta, n);
                self.scroll_volumes();
            }
            View::Gravity => {
                let n = self.tree.rows.len();
                self.tree.selected = step(self.tree.selected, delta, n);
                self.scroll_tree();
            }
        }
    }

    fn expand(&mut self) {
        let Some((data, i)) = self.tree_cursor() else {
            return;
        };
        if data.tree[i].children.is_empty() {
            return;
        }
        if !self.tree.open.insert(i) {
            // Already open: step onto its first child.
            self.tree.selected += 1;
        }
        self.rebuild_rows();
        self.scroll_tree();
    }

    /// The gravity tree's data and the node under the cursor, when the tree has the keys.
    fn tree_cursor(&self) -> Option<(Arc<Data>, usize)> {
        if self.view != View::Gravity || self.details.is_some() {
            return None;
        }
        let data = self.data.clone()?;
        let i = *self.tree.rows.get(self.tree.selected)?;
        Some((data, i))
    }

    fn collapse(&mut self) {
        let Some((data, i)) = self.tree_cursor() else {
            return;
        };
        if self.tree.open.remove(&i) {
            self.rebuild_rows();
        } else if let Some(p) = data.tree[i].parent {
            // A closed node or a leaf: step up to the parent.
            self.tree.selected = self.tree.rows.iter().position(|r| *r == p).unwrap_or(0);
        }
        self.tree.selected = self
            .tree
            .selected
            .min(self.tree.rows.len().saturating_sub(1));
        self.scroll_tree();
    }

    /// The item under the cursor in the current view.
    pub fn selected_key(&self) -> Option<details::Key> {
        let data = self.data.as_ref()?;
        match self.view {
            View::Overview => data
                .gravity
                .items
                .first()
                .map(|w| details::Key::Workload(w.workload.clone())),
            View::Volumes => self
                .volumes
                .order
                .get(self.volumes.selected)
                .map(|i| details::Key::Volume(*i)),
            View::Gravity => {
                let i = *self.tree.rows.get(self.tree.selected)?;
                Some(details::Key::Tree(data.tree[i].item.clone()))
            }
        }
    }

    fn open_details(&mut self) {
        let Some(data) = self.data.clone() else {
            return;
        };
        self.details = self
            .selected_key()
            .and_then(|k| details::rebuild(&data, &k));
        self.details_scroll = 0;
    }

    /// Accepting the confirm dialog: the only way to a [`ConfirmedAction`].
    fn confirm(&mut self) -> Option<Action> {
        self.pending
            .take()
            .map(|c| Action::Confirmed(ConfirmedAction::from_dialog(c)))
    }
}

fn step(at: usize, delta: isize, n: usize) -> usize {
    if n == 0 {
        return 0;
    }
    (at as isize).saturating_add(delta).clamp(0, n as isize - 1) as usize
}

/// `:` commands, as k9s: `volumes`, `gravity`, `overview` (and short forms), `ns NAME`,
/// `ctx NAME`, `q`.
pub fn parse_command(line: &str) -> Result<Action, String> {
    let mut words = line.split_whitespace();
    let cmd = words.next().unwrap_or_default();
    let arg = words.next();
    match (cmd, arg) {
        ("q" | "q!" | "quit", _) => Ok(Action::Quit),
        ("overview" | "o" | "home", _) => Ok(Action::Show(View::Overview)),
        ("volumes" | "vol" | "v" | "pv" | "pvc" | "top", _) => Ok(Action::Show(View::Volumes)),
        ("gravity" | "gr" | "g", _) => Ok(Action::Show(View::Gravity)),
        ("help" | "h", _) => Ok(Action::Help),
        ("ns" | "namespace", Some(ns)) => Ok(Action::Namespace(ns.to_owned())),
        ("ctx" | "context", Some(c)) => Ok(Action::Context(c.to_owned())),
        ("ns" | "namespace" | "ctx" | "context", None) => Err(format!(
            ":{cmd} needs a name, e.g. :{cmd} default (:ns all for every namespace)"
        )),
        ("", _) => Err("empty command; try :gravity, :volumes, :overview, :ns NAME, :q".into()),
        _ => Err(format!(
            "unknown command :{cmd}; try :gravity, :volumes, :overview, :ns NAME, :ctx NAME, :q"
        )),
    }
}
