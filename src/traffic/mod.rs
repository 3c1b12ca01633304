//! Traffic: destination classes, the CIDR network map, and flow sources.

pub mod class;
pub mod network;
pub mod remote;

pub use class::{DestinationClass, Place, classify_between};
pub use network::{NetworkClass, NetworkEntry, NetworkError, NetworkMap};
