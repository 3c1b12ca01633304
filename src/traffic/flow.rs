//! The one model of flows (DESIGN §3) that every flow source feeds.
//!
//! A [`Flow`] is: the *source* end (a pod, a node, or — before attribution — just an
//! address), the *remote* IP, bytes each way, and the window it was observed in. Every
//! source of traffic produces these, so gravity and transfer cost never care where the
//! bytes came from:
//!
//! - [`FlowSource::VpcFlowLogs`]: AWS VPC Flow Logs files (`--flows FILE`), read by
//!   [`crate::traffic::vpc`]. Records carry addresses only; the source end starts as
//!   [`FlowEnd::Address`] and is attributed to a pod or node through the snapshot.
//! - [`FlowSource::Agent`]: the eBPF agent, which already knows the pod (cgroup ->
//!   pod), so it fills [`FlowEnd::Pod`] (or [`FlowEnd::Node`] for host traffic).
//! - [`FlowSource::None`]: no traffic data at all. Analyses must then say "no traffic
//!   data", never report a zero.
//!
//! Bytes are counted once per flow: a source that sees the same bytes twice (VPC logs
//! record traffic inside the VPC at both ENIs) must deduplicate before producing flows.

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// Where a set of flows came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FlowSource {
    VpcFlowLogs,
    Agent,
    /// No flow data: gravity reports "no traffic data".
    None,
}

impl FlowSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VpcFlowLogs => "vpc-flow-logs",
            Self::Agent => "agent",
            Self::None => "none",
        }
    }
}

impl fmt::Display for FlowSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One end of a flow as far as its producer knows it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum FlowEnd {
    /// A pod, as the agent attributes it (cgroup -> pod).
    Pod { namespace: String, name: String },
    /// A node's own (host network) traffic.
    Node { name: String },
    /// Only the address is known; resolved through the snapshot later.
    Address { ip: IpAddr },
}

/// An observation window in Unix seconds, `start <= end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub start: i64,
    pub end: i64,
}

impl Window {
    /// Length in hours; a window of zero length counts as one second so a single
    /// instantaneous record does not divide by zero.
    pub fn hours(&self) -> f64 {
        ((self.end - self.start).max(1)) as f64 / 3600.0
    }

    /// The smallest window covering both.
    pub fn union(self, other: Window) -> Window {
        Window {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

/// Bytes between a source end and a remote address over a window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Flow {
    pub source: FlowEnd,
    /// The source's own address when the producer saw it (needed to tell a
    /// host-network pod from its node).
    pub source_ip: Option<IpAddr>,
    /// The source's port when known (host-network pods are told apart by port).
    pub source_port: Option<u16>,
    pub remote: IpAddr,
    /// The remote's port when known.
    pub remote_port: Option<u16>,
    /// What the producer knows of the remote's network when the snapshot and the
    /// `--network` map do not place it (VPC flow logs' `traffic-path`).
    pub remote_hint: Option<crate::traffic::NetworkClass>,
    /// Bytes sent by the source to the remote.
    pub bytes_out: u64,
    /// Bytes received by the source from the remote.
    pub bytes_in: u64,
    pub window: Window,
}

/// Flows from one source, with the window they cover and anything that was skipped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FlowSet {
    pub source: FlowSource,
    pub flows: Vec<Flow>,
    /// The observation window of all records (not only the kept ones); `None` when
    /// there were no records.
    pub window: Option<Window>,
    /// Human-readable notes on partial data (skipped records and why).
    pub notes: Vec<String>,
}

impl FlowSet {
    /// The set that means "no traffic data".
    pub fn none() -> Self {
        Self {
            source: FlowSource::None,
            flows: Vec::new(),
            window: None,
            notes: Vec::new(),
        }
    }

    /// Whether there is traffic data to analyse (a source and a window).
    pub fn has_data(&self) -> bool {
        self.source != FlowSource::None && self.window.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_hours_and_union() {
        let a = Window {
            start: 0,
            end: 3600,
        };
        let b = Window {
            start: 1800,
            end: 86_400,
        };
        assert_eq!(
            a.union(b),
            Window {
                start: 0,
                end: 86_400
            }
        );
        assert!((a.union(b).hours() - 24.0).abs() < 1e-12);
        assert!(Window { start: 5, end: 5 }.hours() > 0.0);
    }

    #[test]
    fn no_data_is_not_zero_data() {
        let none = FlowSet::none();
        assert!(!none.has_data());
        assert_eq!(none.source.as_str(), "none");
    }
}
