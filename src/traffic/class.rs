//! Destination classes of a flow (DESIGN §3) and the rule that derives one from where the
//! two ends are.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where the bytes of a flow went, relative to its source. Prices differ by class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DestinationClass {
    SameNode,
    SameZone,
    CrossZone,
    CrossRegion,
    Internet,
    /// Not enough is known about one end to say; never priced as free.
    Unknown,
}

impl DestinationClass {
    pub const ALL: [DestinationClass; 6] = [
        Self::SameNode,
        Self::SameZone,
        Self::CrossZone,
        Self::CrossRegion,
        Self::Internet,
        Self::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::SameNode => "same-node",
            Self::SameZone => "same-zone",
            Self::CrossZone => "cross-zone",
            Self::CrossRegion => "cross-region",
            Self::Internet => "internet",
            Self::Unknown => "unknown",
        }
    }
}

impl fmt::Display for DestinationClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of parsing a class name.
#[derive(Debug, thiserror::Error)]
#[error(
    "unknown destination class {0:?}: expected one of same-node, same-zone, cross-zone, cross-region, internet, unknown"
)]
pub struct UnknownClass(pub String);

impl FromStr for DestinationClass {
    type Err = UnknownClass;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| UnknownClass(s.to_owned()))
    }
}

/// Where one end of a flow is, as far as it is known.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Place<'a> {
    pub node: Option<&'a str>,
    pub zone: Option<&'a str>,
    pub region: Option<&'a str>,
}

/// Class of a flow from `src` to `dst`.
///
/// Unknown stays unknown: a zone that differs while a region is missing on either side is
/// not assumed to be in the same region.
pub fn classify_between(src: &Place<'_>, dst: &Place<'_>) -> DestinationClass {
    if let (Some(a), Some(b)) = (src.node, dst.node)
        && a == b
    {
        return DestinationClass::SameNode;
    }
    let regions = (src.region, dst.region);
    if let (Some(a), Some(b)) = regions
        && a != b
    {
        return DestinationClass::CrossRegion;
    }
    match (src.zone, dst.zone, regions) {
        (Some(a), Some(b), _) if a == b => DestinationClass::SameZone,
        (Some(_), Some(_), (Some(_), Some(_))) => DestinationClass::CrossZone,
        _ => DestinationClass::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at<'a>(node: Option<&'a str>, zone: Option<&'a str>, region: Option<&'a str>) -> Place<'a> {
        Place { node, zone, region }
    }

    #[test]
    fn classes_follow_the_places() {
        let a = at(Some("n1"), Some("us-east-1a"), Some("us-east-1"));
        assert_eq!(classify_between(&a, &a), DestinationClass::SameNode);
        let b = at(Some("n2"), Some("us-east-1a"), Some("us-east-1"));
        assert_eq!(classify_between(&a, &b), DestinationClass::SameZone);
        let c = at(Some("n3"), Some("us-east-1b"), Some("us-east-1"));
        assert_eq!(classify_between(&a, &c), DestinationClass::CrossZone);
        let d = at(None, Some("us-west-2a"), Some("us-west-2"));
        assert_eq!(classify_between(&a, &d), DestinationClass::CrossRegion);
    }

    #[test]
    fn missing_region_is_not_guessed() {
        let a = at(Some("n1"), Some("us-east-1a"), Some("us-east-1"));
        let b = at(Some("n2"), Some("us-east-1b"), None);
        assert_eq!(classify_between(&a, &b), DestinationClass::Unknown);
        let c = at(Some("n2"), None, None);
        assert_eq!(classify_between(&a, &c), DestinationClass::Unknown);
    }

    #[test]
    fn class_names_round_trip() {
        for c in DestinationClass::ALL {
            assert_eq!(c.as_str().parse::<DestinationClass>().ok(), Some(c));
        }
        assert!("elsewhere".parse::<DestinationClass>().is_err());
    }
}
