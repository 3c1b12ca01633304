//! Pure drawing: `draw(frame, &App)`. Formats what the reports say; computes nothing.
//! Only rows that fit on screen are turned into widgets.

use std::time::{SystemTime, UNIX_EPOCH};

use cloudvault::cost::CostGroup;
use cloudvault::gravity::NO_TRAFFIC;
use cloudvault::model::{Money, format_bytes};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Row, Table, Wrap};
use std::collections::HashMap;

use ratatui::buffer::Buffer;
use ratatui::widgets::StatefulWidget;
use tui_tree_widget::{Tree, TreeItem, TreeState};

use super::action::View;
use super::data::{Data, Item};
use super::details::Details;
use super::keymap::BINDINGS;
use super::state::{App, Mode};
use cloudvault::cost::SortBy;

/// Colours, or none at all when `NO_COLOR` is set (then only bold/reverse/underline).
#[derive(Debug, Clone, Copy)]
pub struct Theme {
    color: bool,
}

impl Theme {
    fn fg(self, c: Color) -> Style {
        if self.color {
            Style::new().fg(c)
        } else {
            Style::new()
        }
    }
    fn accent(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }
    fn money(self) -> Style {
        self.fg(Color::Yellow)
    }
    fn warn(self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }
    fn pinned(self) -> Style {
        self.fg(Color::Magenta).add_modifier(Modifier::BOLD)
    }
    fn idle(self) -> Style {
        self.fg(Color::LightBlue).add_modifier(Modifier::BOLD)
    }
    fn dim(self) -> Style {
        if self.color {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new()
        }
    }
    fn selected(self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }
}

const MIN: (u16, u16) = (40, 10);

pub fn draw(frame: &mut Frame<'_>, app: &App) {
    let t = Theme { color: app.color };
    let area = frame.area();
    if area.width < MIN.0 || area.height < MIN.1 {
        frame.render_widget(
            Paragraph::new(format!(
                "terminal too small: {}x{} (need {}x{})",
                area.width, area.height, MIN.0, MIN.1
            ))
            .wrap(Wrap { trim: true }),
            area,
        );
        return;
    }
    let [header, hints, body, prompt, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    draw_header(frame, header, app, t);
    draw_hints(frame, hints, app, t);
    match (&app.data, &app.details) {
        (None, _) => frame.render_widget(
            Paragraph::new(app.message.clone().unwrap_or_else(|| "no data".into()))
                .block(Block::bordered()),
            body,
        ),
        (Some(data), Some(d)) if body.width >= 140 => {
            let [left, right] =
                Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
                    .areas(body);
            draw_view(frame, left, app, data, t);
            draw_details(frame, right, app, d, t);
        }
        (Some(_), Some(d)) => draw_details(frame, body, app, d, t),
        (Some(data), None) => draw_view(frame, body, app, data, t),
    }
    draw_prompt(frame, prompt, app, t);
    draw_status(frame, status, app, t);
    if app.mode == Mode::Help {
        draw_help(frame, area, t);
    }
    if let Some(c) = &app.pending {
        let r = centered(area, 60, 5);
        frame.render_widget(Clear, r);
        frame.render_widget(
            Paragraph::new(format!("{}\n[y] yes  [Esc] no", c.prompt))
                .block(Block::bordered().title("confirm")),
            r,
        );
    }
}

fn draw_header(frame: &mut Frame<'_>, area: Rect, app: &App, t: Theme) {
    let mut spans = vec![Span::styled(" CloudVault ", t.accent()), Span::raw(" ")];
    for v in View::ALL {
        let s = format!(" {} ", v.name());
        spans.push(if v == app.view {
            Span::styled(s, t.selected().add_modifier(Modifier::BOLD))
        } else {
            Span::styled(s, t.dim())
        });
    }
    if let Some(d) = &app.data {
        spans.push(Span::raw(format!("  ns: {}", d.sources.namespace)));
    }
    spans.push(Span::styled("  ? help  : command  / filter", t.dim()));
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn draw_hints(frame: &mut Frame<'_>, area: Rect, app: &App, t: Theme) {
    let line = match app.view {
        View::Overview => Line::from(Span::styled(
            "Tab: next view  Enter: details of the largest gravity",
            t.dim(),
        )),
        View::Volumes => {
            let mut spans = vec![Span::styled("sort: ", t.dim())];
            for (k, key, name) in [
                (SortBy::Cost, "C", "$/month"),
                (SortBy::Name, "N", "name"),
                (SortBy::Namespace, "S", "namespace"),
                (SortBy::Capacity, "P", "capacity"),
                (SortBy::Zone, "Z", "zone"),
                (SortBy::Class, "L", "class"),
            ] {
                let on = app.volumes.sort == Some(k)
                    || (app.volumes.sort.is_none() && k == SortBy::Cost);
                let arrow = if on {
                    if app.volumes.descending { "▼" } else { "▲" }
                } else {
                    ""
                };
                spans.push(Span::styled(key, t.accent()));
                spans.push(Span::styled(
                    format!(" {name}{arrow}  "),
                    if on {
                        Style::new().add_modifier(Modifier::BOLD)
                    } else {
                        t.dim()
                    },
                ));
            }
            Line::from(spans)
        }
        View::Gravity => Line::from(Span::styled(
            "workloads by gravity $/month  l/h: open/close  Enter: details",
            t.dim(),
        )),
    };
    frame.render_widget(Paragraph::new(line), area);
}

fn draw_view(frame: &mut Frame<'_>, area: Rect, app: &App, data: &Data, t: Theme) {
    match app.view {
        View::Overview => draw_overview(frame, area, data, t),
        View::Volumes => draw_volumes(frame, area, app, data, t),
        View::Gravity => draw_gravity(frame, area, app, data, t),
    }
}

fn block(title: String, app: &App, t: Theme) -> Block<'static> {
    let mut b = Block::bordered().title(Span::styled(title, t.accent()));
    if !app.filter.is_empty() {
        b = b.title(
            Line::from(Span::styled(format!(" /{} ", app.filter.show()), t.warn())).right_aligned(),
        );
    }
    b
}

fn money(m: Money) -> String {
    format!("${:.2}", m.cents())
}

fn group_lines(groups: &[CostGroup], rows: usize, width: usize, t: Theme) -> Vec<Line<'static>> {
    let mut lines: Vec<Line<'static>> = groups
        .iter()
        .take(rows)
        .map(|g| {
            let m = money(g.monthly_cost_usd);
            let key_w = width.saturating_sub(m.chars().count() + 1).max(1);
            Line::from(vec![
                Span::raw(format!("{:<key_w$} ", truncate(&g.key, key_w))),
                Span::styled(m, t.money()),
            ])
        })
        .collect();
    if groups.len() > rows {
        lines.pop();
        lines.push(Line::from(Span::styled(
            format!("… {} more", groups.len() - rows + 1),
            t.dim(),
        )));
    }
    if groups.is_empty() {
        lines.push(Line::from(Span::styled("no volumes", t.dim())));
    }
    lines
}

fn draw_overview(frame: &mut Frame<'_>, area: Rect, data: &Data, t: Theme) {
    // Group tables take what their rows need; the gravity list gets the rest.
    let group_rows = [&data.by_zone, &data.by_class, &data.by_namespace]
        .iter()
        .map(|g| g.len().max(1))
        .max()
        .unwrap_or(1) as u16;
    let [totals, groups, bottom] = Layout::vertical([
        Constraint::Length(5),
        Constraint::Max(group_rows + 2),
        Constraint::Min(7),
    ])
    .areas(area);
    let c = &data.cost;
    let (idle_n, idle_cost) = data.idle();
    let unknown: Vec<&str> = c
        .items
        .iter()
        .filter(|v| v.unknown_price_reason.is_some())
        .filter_map(|v| v.pvc.as_deref().or(v.pv.as_deref()))
        .collect();
    let lines = vec![
        Line::from(vec![
            Span::raw("Storage "),
            Span::styled(
                format!("{}/month", money(c.total_monthly_cost_usd)),
                t.money().add_modifier(Modifier::BOLD),
            ),
            Span::raw(format!(
                " over {} volume(s); provider {}, region {}",
                c.items.len(),
                c.metadata.provider.as_deref().unwrap_or("unknown"),
                c.metadata.region.as_deref().unwrap_or("unknown")
            )),
        ]),
        Line::from(vec![
            Span::styled("IDLE ", t.idle()),
            Span::raw(format!(
                "{idle_n} volume(s) mounted by no pod, still billed: "
            )),
            Span::styled(format!("{}/month", money(idle_cost)), t.money()),
        ]),
        if unknown.is_empty() {
            Line::from(Span::styled("every volume has a known price", t.dim()))
        } else {
            Line::from(vec![
                Span::styled("UNKNOWN PRICE ", t.warn()),
                Span::raw(format!(
                    "{} volume(s) priced by the default: {}",
                    unknown.len(),
                    unknown.join(", ")
                )),
            ])
        },
    ];
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(Span::styled("Overview", t.accent()))),
        totals,
    );

    let cols = Layout::horizontal([Constraint::Ratio(1, 3); 3]).split(groups);
    for (i, (title, g)) in [
        ("By zone", &data.by_zone),
        ("By class", &data.by_class),
        ("By namespace", &data.by_namespace),
    ]
    .into_iter()
    .enumerate()
    {
        let inner_h = cols[i].height.saturating_sub(2) as usize;
        let inner_w = cols[i].width.saturating_sub(2) as usize;
        frame.render_widget(
            Paragraph::new(group_lines(g, inner_h, inner_w, t))
                .block(Block::bordered().title(title)),
            cols[i],
        );
    }

    let [grav, sources] =
        Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(bottom);
    let g = &data.gravity;
    let mut lines: Vec<Line<'static>> = Vec::new();
    if g.status == NO_TRAFFIC {
        lines.push(Line::from(Span::styled(
            "no traffic data: gravity is unknown, not zero",
            t.warn(),
        )));
        lines.push(Line::from(Span::styled(
            "pass --flows FILE or install the agent",
            t.dim(),
        )));
    }
    for w in g.items.iter().take(5) {
        let best = w.best_zones();
        lines.push(Line::from(vec![
            Span::styled(
                format!(
                    "{:>10} ",
                    w.gravity_monthly_usd
                        .map_or_else(|| "unknown".into(), money)
                ),
                t.money(),
            ),
            Span::raw(w.workload.to_string()),
            Span::styled(
                if best.is_empty() {
                    String::new()
                } else {
                    format!(" -> {}", best.join(","))
                },
                t.accent(),
            ),
        ]));
    }
    if g.items.is_empty() {
        lines.push(Line::from(Span::styled("no pinned workloads", t.dim())));
    }
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title("Largest gravity $/month")),
        grav,
    );
    let s = &data.sources;
    let src = vec![
        Line::from(format!("cluster: {}", s.cluster)),
        Line::from(format!("namespace: {}", s.namespace)),
        Line::from(format!("traffic: {}", s.traffic_detail)),
        Line::from(format!("prices: {}", s.pricing.join("; "))),
    ];
    frame.render_widget(
        Paragraph::new(src)
            .wrap(Wrap { trim: true })
            .block(Block::bordered().title("Data sources")),
        sources,
    );
}

use crate::views::top::WIDE;

/// Columns of the volumes table in the order they give way on a narrow screen (indices
/// into `WIDE`): namespace, claim and money stay longest; the PV before usage and
/// workloads, since it is all that names an unbound volume.
const PRIORITY: [usize; 13] = [0, 1, 7, 3, 4, 5, 9, 2, 6, 11, 10, 8, 12];

fn draw_volumes(frame: &mut Frame<'_>, area: Rect, app: &App, data: &Data, t: Theme) {
    let v = &app.volumes;
    let height = area.height.saturating_sub(3) as usize;
    let visible: Vec<usize> = v
        .order
        .iter()
        .skip(v.offset)
        .take(height)
        .copied()
        .collect();
    // Column widths from the header and the rows on screen only.
    let mut widths: Vec<usize> = WIDE.iter().map(|h| h.len()).collect();
    for i in &visible {
        if let Some(cells) = v.cells.get(*i) {
            for (w, c) in widths.iter_mut().zip(cells) {
                *w = (*w).max(c.chars().count()).min(40);
            }
        }
    }
    // Whole columns that fit, by priority; the first two may be cut instead.
    let mut room = usize::from(area.width.saturating_sub(2));
    let mut shown = [false; 13];
    for (rank, &c) in PRIORITY.iter().enumerate() {
        let need = widths[c] + 2;
        if need <= room {
            room -= need;
            shown[c] = true;
        } else if rank < 2 && room > 6 {
            widths[c] = room - 2;
            room = 0;
            shown[c] = true;
        }
    }
    let cols: Vec<usize> = (0..WIDE.len()).filter(|c| shown[*c]).collect();
    let hidden = WIDE.len() - cols.len();
    let rows: Vec<Row<'static>> = visible
        .iter()
        .enumerate()
        .map(|(k, i)| {
            let cells = v.cells.get(*i).map(Vec::as_slice).unwrap_or_default();
            let item = data.cost.items.get(*i);
            let mut style = Style::new();
            if item.is_some_and(|x| x.unknown_price_reason.is_some()) {
                style = t.warn();
            } else if item.is_some_and(|x| x.idle) {
                style = t.idle();
            }
            if v.offset + k == v.selected {
                style = style.add_modifier(Modifier::REVERSED);
            }
            Row::new(
                cols.iter()
                    .map(|c| truncate(cells.get(*c).map_or("", String::as_str), widths[*c])),
            )
            .style(style)
        })
        .collect();
    let title = format!(
        " volumes {}/{}  {}/month{} ",
        v.order.len(),
        data.cost.items.len(),
        money(data.cost.total_monthly_cost_usd),
        if hidden > 0 {
            format!("  ({hidden} column(s) need a wider terminal)")
        } else {
            String::new()
        }
    );
    let table = Table::new(
        rows,
        cols.iter().map(|c| Constraint::Length(widths[*c] as u16)),
    )
    .header(
        Row::new(cols.iter().map(|c| WIDE[*c])).style(Style::new().add_modifier(Modifier::BOLD)),
    )
    .column_spacing(2)
    .block(block(title, app, t));
    frame.render_widget(table, area);
    if v.order.is_empty() {
        let inner = Rect {
            y: area.y + 2,
            height: 1,
            x: area.x + 2,
            width: area.width.saturating_sub(4),
        };
        let msg = if data.cost.items.is_empty() {
            "no volumes in the input"
        } else {
            "nothing matches the filter (Esc clears it)"
        };
        frame.render_widget(Paragraph::new(Span::styled(msg, t.dim())), inner);
    }
}

fn truncate(s: &str, w: usize) -> String {
    if s.chars().count() <= w {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(w.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// The text of one tree row: what it is, its figure, and PINNED/IDLE marks.
fn tree_text(data: &Data, item: &Item, t: Theme) -> Line<'static> {
    let none = if data.gravity.status == NO_TRAFFIC {
        "no traffic data"
    } else {
        "unknown"
    };
    match item {
        Item::Region(r) => Line::from(vec![
            Span::styled("region ", t.dim()),
            Span::styled(r.clone(), t.accent()),
        ]),
        Item::Zone(z) => Line::from(vec![
            Span::styled("zone ", t.dim()),
            Span::styled(z.clone(), t.accent()),
        ]),
        Item::Node(n) => Line::from(vec![Span::styled("node ", t.dim()), Span::raw(n.clone())]),
        Item::Workload {
            workload,
            gravity,
            pods,
            here,
        } => {
            let mut spans = vec![
                Span::styled(format!("{} ", workload.kind), t.dim()),
                Span::styled(
                    format!("{}/{}", workload.namespace, workload.name),
                    Style::new().add_modifier(Modifier::BOLD),
                ),
                Span::styled(
                    format!(" ({pods} pod{})", if *pods == 1 { "" } else { "s" }),
                    t.dim(),
                ),
            ];
            if let Some(w) = gravity.and_then(|g| data.gravity.items.get(g)) {
                let best = w.best_zones();
                spans.push(Span::raw("  gravity "));
                spans.push(Span::styled(
                    here.map_or_else(|| none.to_owned(), |m| format!("{}/mo", money(m))),
                    t.money(),
                ));
                if *here != w.gravity_monthly_usd {
                    // Pods elsewhere too: this node's part, and the workload's whole.
                    spans.push(Span::styled(
                        w.gravity_monthly_usd
                            .map_or_else(|| format!(" of {none}"), |m| format!(" of {}", money(m))),
                        t.dim(),
                    ));
                }
                if !best.is_empty() {
                    spans.push(Span::raw(" best "));
                    spans.push(Span::styled(best.join(","), t.accent()));
                }
                spans.push(Span::styled(" PINNED", t.pinned()));
            }
            Line::from(spans)
        }
        Item::Peer { gravity, pod, peer } => match data.peer(*gravity, *pod, *peer) {
            Some(p) => Line::from(vec![
                Span::styled("<-> ", t.dim()),
                Span::raw(format!("{} ", p.peer)),
                Span::styled(format!("{} ", p.class), t.accent()),
                Span::raw(format!(
                    "{:.1} GiB ",
                    (p.bytes_sent + p.bytes_received) as f64 / cloudvault::model::GIB
                )),
                Span::styled(
                    p.monthly_usd
                        .map_or_else(|| none.to_owned(), |m| format!("{}/mo", money(m))),
                    t.money(),
                ),
            ]),
            None => Line::from("<-> ?"),
        },
        Item::Pod { pod, pinned } => {
            let mut spans = vec![Span::styled("pod ", t.dim()), Span::raw(pod.name.clone())];
            if let Some(p) = pinned.and_then(|(g, p)| data.gravity.items.get(g)?.pods.get(p)) {
                spans.push(Span::raw("  gravity "));
                spans.push(Span::styled(
                    p.gravity_monthly_usd
                        .map_or_else(|| none.to_owned(), |m| format!("{}/mo", money(m))),
                    t.money(),
                ));
                spans.push(Span::styled(" PINNED", t.pinned()));
            }
            Line::from(spans)
        }
        Item::Volume(i) => match data.cost.items.get(*i) {
            Some(v) => {
                let mut spans = vec![
                    Span::styled("volume ", t.dim()),
                    Span::raw(format!(
                        "{}/{} ",
                        v.namespace.as_deref().unwrap_or("-"),
                        v.pvc.as_deref().or(v.pv.as_deref()).unwrap_or("-")
                    )),
                    Span::styled(
                        format!(
                            "{} {} ",
                            v.storage_class.as_deref().unwrap_or("-"),
                            v.capacity_bytes.map_or_else(|| "-".into(), format_bytes)
                        ),
                        t.dim(),
                    ),
                    Span::styled(format!("{}/mo", money(v.monthly_cost_usd)), t.money()),
                ];
                if v.idle {
                    spans.push(Span::styled(" IDLE", t.idle()));
                }
                if v.unknown_price_reason.is_some() {
                    spans.push(Span::styled(" UNKNOWN-PRICE", t.warn()));
                }
                Line::from(spans)
            }
            None => Line::from("volume ?"),
        },
        Item::IdleGroup { count, cost, .. } => Line::from(vec![
            Span::styled("IDLE ", t.idle()),
            Span::raw(format!("{count} volume(s) mounted by no pod ")),
            Span::styled(format!("{}/mo", money(*cost)), t.money()),
        ]),
    }
}

/// The tree as the widget sees it: only the rows on screen plus the ancestors of the
/// first one (scrolled past), so a frame costs the same on 30k pods as on 30.
struct Window<'a> {
    data: &'a Data,
    app: &'a App,
    theme: Theme,
    /// Present node -> its present children, in order.
    children: HashMap<usize, Vec<usize>>,
    selected: Option<usize>,
}

impl Window<'_> {
    fn item(&self, i: usize) -> TreeItem<'static, usize> {
        let n = &self.data.tree[i];
        let mut text = tree_text(self.data, &n.item, self.theme);
        if self.selected == Some(i) {
            text = text.patch_style(self.theme.selected());
        }
        if n.children.is_empty() {
            return TreeItem::new_leaf(i, text);
        }
        let kids: Vec<TreeItem<'static, usize>> = match self.children.get(&i) {
            Some(kids) if self.app.tree.open.contains(&i) => {
                kids.iter().map(|k| self.item(*k)).collect()
            }
            // Closed, or open with its rows below the screen: one empty placeholder
            // child so the widget still draws the node's symbol.
            _ => vec![TreeItem::new_leaf(usize::MAX, "")],
        };
        TreeItem::new(i, text.clone(), kids).unwrap_or_else(|_| TreeItem::new_leaf(i, text))
    }
}

fn draw_gravity(frame: &mut Frame<'_>, area: Rect, app: &App, data: &Data, t: Theme) {
    let title = match data.gravity.status.as_str() {
        NO_TRAFFIC => " gravity: no traffic data (unknown, not zero) ".to_owned(),
        _ => format!(
            " gravity: {} pinned workload(s), traffic {} ",
            data.gravity.items.len(),
            data.sources.traffic_detail
        ),
    };
    let rows = &app.tree.rows;
    if rows.is_empty() {
        frame.render_widget(
            Paragraph::new(Span::styled(
                if app.filter.is_empty() {
                    "no nodes, pods or volumes in the input"
                } else {
                    "nothing matches the filter (Esc clears it)"
                },
                t.dim(),
            ))
            .block(block(title, app, t)),
            area,
        );
        return;
    }
    let height = usize::from(area.height.saturating_sub(2)).max(1);
    let start = app.tree.offset.min(rows.len() - 1);
    let window = &rows[start..(start + height).min(rows.len())];
    let mut chain = Vec::new();
    let mut up = data.tree[window[0]].parent;
    while let Some(a) = up {
        chain.push(a);
        up = data.tree[a].parent;
    }
    chain.reverse();
    let present: Vec<usize> = chain.iter().chain(window).copied().collect();
    let mut children: HashMap<usize, Vec<usize>> = HashMap::new();
    let mut roots = Vec::new();
    for &i in &present {
        match data.tree[i].parent {
            Some(p) if present.contains(&p) => children.entry(p).or_default().push(i),
            _ => roots.push(i),
        }
    }
    let w = Window {
        data,
        app,
        theme: t,
        children,
        selected: rows.get(app.tree.selected).copied(),
    };
    let items: Vec<TreeItem<'static, usize>> = roots.iter().map(|r| w.item(*r)).collect();
    let mut state = TreeState::default();
    for i in &present {
        if app.tree.open.contains(i) {
            state.open(data.path(*i));
        }
    }
    match Tree::new(&items) {
        Ok(tree) => {
            let tree = tree
                .block(block(title, app, t))
                .node_closed_symbol("+ ")
                .node_open_symbol("- ")
                .node_no_children_symbol("  ");
            if !chain.is_empty() {
                // The widget scrolls only as far as its last drawing knew: draw once off
                // screen, then scroll past the ancestors.
                let mut scratch = Buffer::empty(area);
                StatefulWidget::render(tree.clone(), area, &mut scratch, &mut state);
                state.scroll_down(chain.len());
            }
            frame.render_stateful_widget(tree, area, &mut state);
        }
        Err(e) => frame.render_widget(Paragraph::new(format!("cannot draw the tree: {e}")), area),
    }
}

fn draw_details(frame: &mut Frame<'_>, area: Rect, app: &App, d: &Details, t: Theme) {
    let mut lines: Vec<Line<'static>> = Vec::new();
    for s in &d.sections {
        lines.push(Line::from(Span::styled(
            s.heading.clone(),
            t.accent().add_modifier(Modifier::UNDERLINED),
        )));
        for l in &s.lines {
            lines.push(Line::from(l.clone()));
        }
        lines.push(Line::default());
    }
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((app.details_scroll, 0))
            .block(
                Block::new()
                    .borders(Borders::ALL)
                    .title(Span::styled(format!(" {} ", d.title), t.accent()))
                    .title(
                        Line::from(Span::styled(" Esc: back  j/k: scroll ", t.dim()))
                            .right_aligned(),
                    ),
            ),
        area,
    );
}

fn draw_prompt(frame: &mut Frame<'_>, area: Rect, app: &App, t: Theme) {
    let line = match app.mode {
        Mode::Command => Line::from(vec![
            Span::styled(":", t.accent()),
            Span::raw(app.input.clone()),
            Span::raw("█"),
        ]),
        Mode::Filter => Line::from(vec![
            Span::styled("/", t.accent()),
            Span::raw(app.input.clone()),
            Span::raw("█"),
        ]),
        _ => match (&app.error, &app.message) {
            (Some(e), _) => Line::from(Span::styled(format!("error: {e}"), t.warn())),
            (None, Some(m)) => Line::from(Span::styled(m.clone(), t.dim())),
            (None, None) => Line::default(),
        },
    };
    frame.render_widget(Paragraph::new(line), area);
}

/// `HH:MM:SS UTC` of a time.
pub fn clock(at: SystemTime) -> String {
    let s = at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) % 86_400;
    format!("{:02}:{:02}:{:02} UTC", s / 3600, s / 60 % 60, s % 60)
}

fn draw_status(frame: &mut Frame<'_>, area: Rect, app: &App, t: Theme) {
    let mut spans = Vec::new();
    match &app.data {
        Some(d) => {
            let s = &d.sources;
            spans.push(Span::styled(s.short.clone(), t.accent()));
            spans.push(Span::raw(" | traffic: "));
            spans.push(Span::styled(
                s.traffic.clone(),
                if s.traffic == "none" {
                    t.warn()
                } else {
                    Style::new()
                },
            ));
            spans.push(Span::raw(format!(
                " | refreshed {}",
                clock(app.clock_override.unwrap_or(d.refreshed_at))
            )));
        }
        None => spans.push(Span::raw("no data yet")),
    }
    if app.error.is_some() {
        spans.push(Span::styled(" | ERROR (see above)", t.warn()));
    }
    frame.render_widget(
        Paragraph::new(Line::from(spans)).style(t.dim().add_modifier(Modifier::REVERSED)),
        area,
    );
}

fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

fn draw_help(frame: &mut Frame<'_>, area: Rect, t: Theme) {
    let key_w = BINDINGS.iter().map(|b| b.label.len()).max().unwrap_or(0);
    let mut lines: Vec<Line<'static>> = BINDINGS
        .iter()
        .map(|b| {
            Line::from(vec![
                Span::styled(format!("{:<key_w$}  ", b.label), t.accent()),
                Span::raw(b.help),
            ])
        })
        .collect();
    lines.push(Line::from(Span::styled("Esc / ? / q: close", t.dim())));
    let r = centered(area, 100, lines.len() as u16 + 2);
    frame.render_widget(Clear, r);
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(Span::styled(" keys ", t.accent()))),
        r,
    );
}
