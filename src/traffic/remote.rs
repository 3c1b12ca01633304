//! The class of a remote address seen from one place, by the `--network` CIDR map alone.
//! The agent uses it for addresses that are neither a node nor a pod CIDR it knows.

use std::net::IpAddr;

use super::class::{DestinationClass, Place, classify_between};
use super::network::{NetworkClass, NetworkMap};

impl NetworkMap {
    /// Class of traffic from `local` to `ip`: an entry's explicit class wins, else its
    /// zone/region against `local`; an address no entry covers is internet (DESIGN §3).
    /// A `private` entry is inside the network but in no known zone, so unknown.
    pub fn classify_remote(&self, local: &Place<'_>, ip: IpAddr) -> DestinationClass {
        let Some(entry) = self.lookup(ip) else {
            return DestinationClass::Internet;
        };
        match entry.class {
            Some(NetworkClass::SameZone) => DestinationClass::SameZone,
            Some(NetworkClass::CrossZone) => DestinationClass::CrossZone,
            Some(NetworkClass::CrossRegion) => DestinationClass::CrossRegion,
            Some(NetworkClass::Internet) => DestinationClass::Internet,
            Some(NetworkClass::Private) => DestinationClass::Unknown,
            None => classify_between(
                local,
                &Place {
                    node: None,
                    zone: entry.zone.as_deref(),
                    region: entry.region.as_deref(),
                },
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_classes_from_the_map() {
        let map = NetworkMap::from_yaml(
            "networks:\n  - cidr: 10.1.0.0/16\n    zone: a\n    region: r\n  - cidr: 10.2.0.0/16\n    zone: b\n    region: r\n  - cidr: 10.3.0.0/16\n    zone: c\n    region: s\n  - cidr: 10.0.0.0/8\n    class: private\n  - cidr: fd00::/8\n    class: cross-zone\n",
            "t",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let here = Place {
            node: Some("n"),
            zone: Some("a"),
            region: Some("r"),
        };
        let class =
            |s: &str| map.classify_remote(&here, s.parse().unwrap_or_else(|e| panic!("{e}")));
        assert_eq!(class("10.1.2.3"), DestinationClass::SameZone);
        assert_eq!(class("10.2.2.3"), DestinationClass::CrossZone);
        assert_eq!(class("10.3.2.3"), DestinationClass::CrossRegion);
        assert_eq!(class("10.9.2.3"), DestinationClass::Unknown);
        assert_eq!(class("fd00::1"), DestinationClass::CrossZone);
        assert_eq!(class("8.8.8.8"), DestinationClass::Internet);
    }
}
