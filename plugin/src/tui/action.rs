//! User intents. Keys map to these ([`super::keymap`]); [`super::state::App::apply`]
//! is the only place state changes.

use cloudvault::cost::SortBy;

/// A view of the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum View {
    Overview,
    Volumes,
    Gravity,
}

impl View {
    pub const ALL: [View; 3] = [View::Overview, View::Volumes, View::Gravity];

    pub fn name(self) -> &'static str {
        match self {
            View::Overview => "overview",
            View::Volumes => "volumes",
            View::Gravity => "gravity",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Quit,
    /// Esc: close help, leave an input line, drop the filter, leave details, in that order.
    Back,
    NextView,
    PrevView,
    Show(View),
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    /// Open the tree node, or move into it.
    Expand,
    /// Close the tree node, or move to its parent.
    Collapse,
    /// Enter: the details pane of the selected item.
    Details,
    Help,
    /// Start typing a `:` command.
    CommandMode,
    /// Start typing a `/` filter.
    FilterMode,
    /// A character typed into the input line.
    Input(char),
    InputBackspace,
    /// Enter on the input line.
    Submit,
    /// Order the volumes table by one of the core's orders.
    Sort(SortBy),
    /// Reload the data now.
    Refresh,
    /// A namespace to read (`:ns NAME`; `all` for every namespace).
    Namespace(String),
    /// A kubeconfig context to read (`:ctx NAME`).
    Context(String),
    Resize(u16, u16),
    /// A write the user asked for; it must pass through the confirm dialog.
    #[allow(dead_code, reason = "the seam for plan/apply: no write exists yet")]
    Confirm(ConfirmAction),
    /// `y` in the confirm dialog.
    Accept,
    /// The user said yes to the dialog.
    #[allow(dead_code, reason = "the seam for plan/apply: no write exists yet")]
    Confirmed(ConfirmedAction),
}

/// Writes to the cluster (moves, tier changes) will enter here with the plan/apply
/// issue. Until then there are none, so none can be constructed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {}

/// A write waiting for the user's yes: the dialog shows `prompt` and the exact change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfirmAction {
    pub write: Write,
    pub prompt: String,
}

/// Only the confirm dialog makes one of these, from a [`ConfirmAction`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfirmedAction {
    write: Write,
}

impl ConfirmedAction {
    pub(super) fn from_dialog(c: ConfirmAction) -> Self {
        Self { write: c.write }
    }

    #[allow(dead_code, reason = "the seam for plan/apply: no write exists yet")]
    pub fn write(&self) -> &Write {
        &self.write
    }
}

/// What the event loop must do after an action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    None,
    Quit,
    /// Reload with the (possibly changed) inputs.
    Reload,
}
