//! Money in US dollars. Kept as `f64` while summing; rounded to cents only for display
//! and output, so a sum of many small charges is not a sum of rounding errors.

use serde::{Serialize, Serializer};

/// Hours in a billing month, as the clouds project monthly prices.
pub const HOURS_PER_MONTH: f64 = 730.0;

#[derive(Debug, Clone, Copy, Default, PartialEq, PartialOrd)]
pub struct Money(pub f64);

impl Money {
    pub const ZERO: Money = Money(0.0);

    pub fn usd(self) -> f64 {
        self.0
    }

    /// Rounded to cents (half away from zero).
    pub fn cents(self) -> f64 {
        (self.0 * 100.0).round() / 100.0
    }
}

impl std::ops::Add for Money {
    type Output = Money;
    fn add(self, rhs: Money) -> Money {
        Money(self.0 + rhs.0)
    }
}

impl std::ops::AddAssign for Money {
    fn add_assign(&mut self, rhs: Money) {
        self.0 += rhs.0;
    }
}

impl std::ops::Sub for Money {
    type Output = Money;
    fn sub(self, rhs: Money) -> Money {
        Money(self.0 - rhs.0)
    }
}

impl std::ops::Mul<f64> for Money {
    type Output = Money;
    fn mul(self, rhs: f64) -> Money {
        Money(self.0 * rhs)
    }
}

impl std::iter::Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        // Folding from +0.0: std's float sum starts at -0.0, which prints as "-0.00".
        Money(iter.fold(0.0, |acc, m| acc + m.0))
    }
}

impl std::fmt::Display for Money {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "${:.2}", self.cents())
    }
}

/// Serialized as a number of dollars with cents.
impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.cents())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_to_cents() {
        assert_eq!(Money(304.166_666).cents(), 304.17);
        assert_eq!(Money(0.004).to_string(), "$0.00");
        assert_eq!(
            Money(10.0) * (HOURS_PER_MONTH / 24.0),
            Money(10.0 * 730.0 / 24.0)
        );
    }
}
