//! Kubernetes resource quantities (`10Gi`, `500G`, `1e3`, `250m`) as numbers.

/// The error of parsing a quantity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a Kubernetes quantity; write it like 10Gi, 500G or 3000")]
pub struct QuantityError(pub String);

/// Parses a quantity to its value in base units (bytes for storage, 1 for counts).
pub fn parse_quantity(text: &str) -> Result<f64, QuantityError> {
    let s = text.trim();
    let err = || QuantityError(text.to_owned());
    let split = s
        .find(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E')
        .unwrap_or(s.len());
    let (number, suffix) = s.split_at(split);
    // `1e3` is an exponent, but a bare `E` suffix means exa.
    let (number, suffix) = if suffix.is_empty() && (number.ends_with('E') || number.ends_with('e'))
    {
        (&number[..number.len() - 1], "E")
    } else {
        (number, suffix)
    };
    let value: f64 = number.parse().map_err(|_| err())?;
    let factor = match suffix {
        "" => 1.0,
        "Ki" => 1024f64,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        _ => return Err(err()),
    };
    if !value.is_finite() || value < 0.0 {
        return Err(err());
    }
    Ok(value * factor)
}

/// Parses a storage quantity to whole bytes (rounded up, as the API server does).
pub fn parse_bytes(text: &str) -> Result<u64, QuantityError> {
    let v = parse_quantity(text)?;
    Ok(v.ceil() as u64)
}

pub const GIB: f64 = 1024.0 * 1024.0 * 1024.0;
pub const MIB: f64 = 1024.0 * 1024.0;

/// Bytes as a short human string in binary units (`100Gi`, `1.5Ti`).
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["", "Ki", "Mi", "Gi", "Ti", "Pi"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if (v - v.round()).abs() < 0.05 {
        format!("{}{}", v.round() as u64, UNITS[unit])
    } else {
        format!("{v:.1}{}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities() {
        assert_eq!(parse_bytes("10Gi"), Ok(10 * 1024 * 1024 * 1024));
        assert_eq!(parse_bytes("500G"), Ok(500_000_000_000));
        assert_eq!(parse_bytes("1Mi"), Ok(1024 * 1024));
        assert_eq!(parse_bytes("3000"), Ok(3000));
        assert_eq!(parse_bytes("1e3"), Ok(1000));
        assert_eq!(parse_quantity("250m"), Ok(0.25));
        assert_eq!(parse_quantity("150Mi").map(|b| b / MIB), Ok(150.0));
        assert!(parse_bytes("ten gigs").is_err());
        assert!(parse_bytes("-1Gi").is_err());
        assert_eq!(format_bytes(100 * 1024 * 1024 * 1024), "100Gi");
        assert_eq!(format_bytes(1536 * 1024 * 1024 * 1024), "1.5Ti");
    }
}
