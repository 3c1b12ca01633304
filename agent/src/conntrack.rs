//! Service ClusterIP -> backend, from the node's conntrack table.
//!
//! A pod's hook sees the ClusterIP it connected to; kube-proxy's DNAT happens later, in
//! the node's namespace, where conntrack records the translation. The agent reads
//! `/proc/net/nf_conntrack` of the node's namespace (the agent runs with hostNetwork)
//! and splits the bytes a cgroup sent to a ClusterIP over the backends conntrack shows
//! for it, by their conntrack byte counters when accounting is on, else equally.

use std::collections::HashMap;
use std::net::IpAddr;

use ipnet::IpNet;

/// One conntrack entry: the original tuple's ends and who answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub orig_src: IpAddr,
    pub orig_dst: IpAddr,
    pub reply_src: IpAddr,
    /// Bytes both ways, when nf_conntrack_acct is on.
    pub bytes: Option<u64>,
}

/// Parses `/proc/net/nf_conntrack` text; lines it cannot read are skipped.
pub fn parse(text: &str) -> Vec<Entry> {
    text.lines().filter_map(parse_line).collect()
}

fn parse_line(line: &str) -> Option<Entry> {
    let mut srcs = Vec::new();
    let mut dsts = Vec::new();
    let mut bytes: Option<u64> = None;
    for tok in line.split_whitespace() {
        if let Some(v) = tok.strip_prefix("src=") {
            srcs.push(v.parse::<IpAddr>().ok()?);
        } else if let Some(v) = tok.strip_prefix("dst=") {
            dsts.push(v.parse::<IpAddr>().ok()?);
        } else if let Some(v) = tok.strip_prefix("bytes=") {
            bytes = Some(bytes.unwrap_or(0) + v.parse::<u64>().ok()?);
        }
    }
    Some(Entry {
        orig_src: *srcs.first()?,
        orig_dst: *dsts.first()?,
        reply_src: *srcs.get(1)?,
        bytes,
    })
}

/// Weights of the backends behind each ClusterIP.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Backends {
    by_service: HashMap<IpAddr, Vec<(IpAddr, u64)>>,
}

impl Backends {
    /// Keeps the entries whose original destination is in a service range and was
    /// translated (the reply comes from someone else).
    pub fn from_entries(entries: &[Entry], services: &[IpNet]) -> Self {
        let mut by_service: HashMap<IpAddr, HashMap<IpAddr, u64>> = HashMap::new();
        for e in entries {
            if e.reply_src == e.orig_dst || !services.iter().any(|n| n.contains(&e.orig_dst)) {
                continue;
            }
            // With accounting, weight by bytes (at least 1 so a fresh entry counts);
            // without, one per connection.
            let w = e.bytes.map_or(1, |b| b.max(1));
            *by_service
                .entry(e.orig_dst)
                .or_default()
                .entry(e.reply_src)
                .or_default() += w;
        }
        let by_service = by_service
            .into_iter()
            .map(|(svc, m)| {
                let mut v: Vec<(IpAddr, u64)> = m.into_iter().collect();
                v.sort();
                (svc, v)
            })
            .collect();
        Self { by_service }
    }

    /// Splits `amount` over the backends of `service` in proportion to their weights;
    /// `None` when conntrack shows no backend for it.
    pub fn split(&self, service: IpAddr, amount: u64) -> Option<Vec<(IpAddr, u64)>> {
        let backends = self.by_service.get(&service)?;
        let total: u128 = backends.iter().map(|(_, w)| u128::from(*w)).sum();
        if total == 0 {
            return None;
        }
        let mut out = Vec::with_capacity(backends.len());
        let mut given = 0u64;
        for (i, (ip, w)) in backends.iter().enumerate() {
            // The last backend takes the rounding remainder so the split sums exactly.
            let share = if i + 1 == backends.len() {
                amount - given
            } else {
                u64::try_from(u128::from(amount) * u128::from(*w) / total).unwrap_or(0)
            };
            given += share;
            out.push((*ip, share));
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = "\
ipv4     2 tcp      6 431999 ESTABLISHED src=10.200.1.2 dst=10.96.0.10 sport=40000 dport=80 packets=10 bytes=3000 src=10.201.2.2 dst=10.200.1.2 sport=5201 dport=40000 packets=10 bytes=1000 [ASSURED] mark=0 zone=0 use=2
ipv4     2 tcp      6 431999 ESTABLISHED src=10.200.1.2 dst=10.96.0.10 sport=40001 dport=80 packets=1 bytes=1000 src=10.201.3.2 dst=10.200.1.2 sport=5201 dport=40001 packets=1 bytes=0 [ASSURED] mark=0 zone=0 use=2
ipv4     2 udp      17 20 src=10.200.1.2 dst=8.8.8.8 sport=5000 dport=53 src=8.8.8.8 dst=10.200.1.2 sport=53 dport=5000 mark=0 zone=0 use=2
ipv6     10 tcp      6 60 TIME_WAIT src=fd00::2 dst=fd00:96::10 sport=1 dport=80 src=fd00:201::2 dst=fd00::2 sport=80 dport=1 [ASSURED] mark=0 zone=0 use=2
garbage line
";

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn parses_and_splits_by_bytes() {
        let entries = parse(TABLE);
        assert_eq!(entries.len(), 4);
        assert_eq!(entries[0].reply_src, ip("10.201.2.2"));
        assert_eq!(entries[0].bytes, Some(4000));
        assert_eq!(entries[3].bytes, None);
        let services: Vec<IpNet> = vec![
            "10.96.0.0/12".parse().unwrap_or_else(|e| panic!("{e}")),
            "fd00:96::/108".parse().unwrap_or_else(|e| panic!("{e}")),
        ];
        let b = Backends::from_entries(&entries, &services);
        let split = b.split(ip("10.96.0.10"), 1000).unwrap_or_default();
        assert_eq!(
            split,
            vec![(ip("10.201.2.2"), 800), (ip("10.201.3.2"), 200)]
        );
        assert_eq!(
            b.split(ip("fd00:96::10"), 7),
            Some(vec![(ip("fd00:201::2"), 7)])
        );
        // Not a service, or no entry: unresolved.
        assert_eq!(b.split(ip("8.8.8.8"), 5), None);
        assert_eq!(b.split(ip("10.96.0.99"), 5), None);
    }
}
