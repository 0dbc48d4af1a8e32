//! Money is integer fen everywhere; the wire shows yuan as a decimal number.

/// Fen as a decimal JSON number (12.5 for 1250). Exact: the shortest repr of cents/100.
pub fn yuan(fen: i64) -> serde_json::Number {
    serde_json::Number::from_f64(fen as f64 / 100.0).unwrap_or_else(|| 0.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_the_decimal_of_fen() {
        assert_eq!(yuan(1250).to_string(), "12.5");
        assert_eq!(yuan(1).to_string(), "0.01");
        assert_eq!(yuan(3810).to_string(), "38.1");
        assert_eq!(yuan(99999999).to_string(), "999999.99");
    }
}
