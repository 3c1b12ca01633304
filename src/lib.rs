//! CloudVault core library.
//!
//! Data flows one way: readers (`collect`) -> `ClusterSnapshot` -> graph -> analyses
//! (cost, gravity, …) -> views (in the plugin) -> actions. This crate holds everything up
//! to the analyses and never does terminal or kernel I/O, so the plugin, the collector and
//! the agent all share the same rules.

pub mod collect;
pub mod cost;
pub mod graph;
pub mod gravity;
pub mod model;
pub mod pricing;
pub mod topology;
pub mod traffic;
