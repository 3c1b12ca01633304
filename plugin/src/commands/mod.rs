//! One module per subcommand: parse its flags, run the analysis, pick the view.

pub mod gravity;
pub mod top;
