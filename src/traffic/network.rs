//! The `--network FILE` CIDR map shared by the plugin, the collector and the agent.
//!
//! ```yaml
//! networks:
//!   - cidr: 10.0.0.0/16          # the VPC: private, zone unknown
//!     class: private
//!   - cidr: 10.0.32.0/20         # a subnet in one zone
//!     zone: us-east-1b
//!     region: us-east-1
//!   - cidr: 52.94.0.0/22         # a cloud service range billed as cross-region
//!     class: cross-region
//! ```
//!
//! The most specific CIDR wins; anything no entry covers is internet (DESIGN §3).

use std::net::IpAddr;
use std::path::Path;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// Class a CIDR entry may declare outright.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NetworkClass {
    SameZone,
    CrossZone,
    CrossRegion,
    Internet,
    /// Inside the private network but in no known zone: not internet, price unknown.
    Private,
}

/// One validated entry of the map.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NetworkEntry {
    pub cidr: IpNet,
    pub zone: Option<String>,
    pub region: Option<String>,
    pub class: Option<NetworkClass>,
}

/// A CIDR map, entries ordered most specific first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkMap {
    entries: Vec<NetworkEntry>,
}

#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    #[error("{origin}: cannot read network map: {source}; check the path given to --network")]
    Read {
        origin: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{origin}: not a network map ({message}); expected `networks:` with a list of {{cidr, zone?, region?, class?}}"
    )]
    Syntax { origin: String, message: String },
    #[error(
        "{origin}: networks[{index}].cidr {cidr:?} is not a CIDR ({message}); write it like 10.0.0.0/16 or fd00::/8"
    )]
    Cidr {
        origin: String,
        index: usize,
        cidr: String,
        message: String,
    },
    #[error(
        "{origin}: networks[{index}] ({cidr}) says neither zone, region nor class; add one or remove the entry"
    )]
    Empty {
        origin: String,
        index: usize,
        cidr: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMap {
    #[serde(default)]
    networks: Vec<RawEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    cidr: String,
    zone: Option<String>,
    region: Option<String>,
    class: Option<NetworkClass>,
}

impl NetworkMap {
    /// Reads and validates a map file.
    pub fn load(path: &Path) -> Result<Self, NetworkError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| NetworkError::Read {
            origin: origin.clone(),
            source,
        })?;
        Self::from_yaml(&text, &origin)
    }

    /// Parses a map; `origin` names the input in errors.
    pub fn from_yaml(text: &str, origin: &str) -> Result<Self, NetworkError> {
        let raw: RawMap = serde_saphyr::from_str(text).map_err(|e| NetworkError::Syntax {
            origin: origin.to_owned(),
            message: one_line(&e.to_string()),
        })?;
        let mut entries = Vec::with_capacity(raw.networks.len());
        for (index, e) in raw.networks.into_iter().enumerate() {
            let cidr: IpNet = e
                .cidr
                .trim()
                .parse()
                .map_err(|err: ipnet::AddrParseError| NetworkError::Cidr {
                    origin: origin.to_owned(),
                    index,
                    cidr: e.cidr.clone(),
                    message: err.to_string(),
                })?;
            if e.zone.is_none() && e.region.is_none() && e.class.is_none() {
                return Err(NetworkError::Empty {
                    origin: origin.to_owned(),
                    index,
                    cidr: e.cidr,
                });
            }
            entries.push(NetworkEntry {
                cidr: cidr.trunc(),
                zone: e.zone,
                region: e.region,
                class: e.class,
            });
        }
        entries.sort_by_key(|e| std::cmp::Reverse(e.cidr.prefix_len()));
        Ok(Self { entries })
    }

    pub fn entries(&self) -> &[NetworkEntry] {
        &self.entries
    }

    /// The most specific entry covering `ip`; `None` means internet.
    pub fn lookup(&self, ip: IpAddr) -> Option<&NetworkEntry> {
        let ip = canonical(ip);
        self.entries.iter().find(|e| e.cidr.contains(&ip))
    }
}

/// IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`, as dual-stack sockets report them) are
/// the IPv4 address.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAP: &str = "networks:\n  - cidr: 10.0.0.0/16\n    class: private\n  - cidr: 10.0.32.0/20\n    zone: us-east-1b\n    region: us-east-1\n  - cidr: fd00::/8\n    class: cross-region\n";

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn most_specific_entry_wins() {
        let m = NetworkMap::from_yaml(MAP, "t.yaml").unwrap_or_else(|e| panic!("{e}"));
        let hit = m.lookup(ip("10.0.33.7")).map(|e| e.zone.as_deref());
        assert_eq!(hit, Some(Some("us-east-1b")));
        let hit = m.lookup(ip("10.0.1.1")).and_then(|e| e.class);
        assert_eq!(hit, Some(NetworkClass::Private));
        assert_eq!(
            m.lookup(ip("fd12::1")).and_then(|e| e.class),
            Some(NetworkClass::CrossRegion)
        );
        assert!(m.lookup(ip("8.8.8.8")).is_none());
        assert!(m.lookup(ip("::ffff:10.0.33.7")).is_some());
    }

    #[test]
    fn bad_entries_name_the_file_and_entry() {
        let e = NetworkMap::from_yaml(
            "networks:\n  - cidr: 10.0.0.0/33\n    class: private\n",
            "n.yaml",
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(
            e.starts_with("n.yaml: networks[0].cidr \"10.0.0.0/33\""),
            "{e}"
        );
        let e = NetworkMap::from_yaml("networks:\n  - cidr: 10.0.0.0/8\n", "n.yaml")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("neither zone, region nor class"), "{e}");
        let e = NetworkMap::from_yaml(
            "networks:\n  - cidr: 10.0.0.0/8\n    class: moon\n",
            "n.yaml",
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(e.starts_with("n.yaml: not a network map"), "{e}");
        assert!(!e.contains('\n'));
    }
}
