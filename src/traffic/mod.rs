//! Traffic: destination classes, the CIDR network map, the one flow model and its
//! sources (VPC flow logs now; the agent feeds the same [`Flow`]).

pub mod agent;
pub mod attribute;
pub mod class;
pub mod flow;
pub mod network;
pub mod remote;
pub mod vpc;

pub use class::{DestinationClass, Place, classify_between};
pub use flow::{Flow, FlowEnd, FlowSet, FlowSource, Window};
pub use network::{NetworkClass, NetworkEntry, NetworkError, NetworkMap};
