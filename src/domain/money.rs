//! Money is integer fen everywhere; the wire shows yuan as a decimal number.

/// Fen as a decimal JSON number (12.5 for 1250). Exact: the shortest repr of cents/100.
pub fn yuan(fen: i64) -> serde_json::Number {
    serde_json::Number::from_f64(fen as f64 / 100.0).unwrap_or_else(|| 0.into())
}

/// Yuan written as a decimal (`"12.5"`, `"-3"`, `"1000.0"`, as the stock forms and Jackson
/// send prices) in fen, exactly: no float on the way. More than two decimals are refused
/// unless the extra ones are zeros (`"12.345"` has no fen value); so are exponents, blanks,
/// `+` and anything beyond 15 digits. The range a price may take is the caller's rule.
pub fn parse_yuan(text: &str) -> Option<i64> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || int.len() > 15 || !all_digits(int) || !all_digits(frac) {
        return None;
    }
    if digits.contains('.') && frac.is_empty() {
        return None;
    }
    let (cents, rest) = frac.split_at(frac.len().min(2));
    if rest.bytes().any(|b| b != b'0') {
        return None;
    }
    let cents = format!("{cents:0<2}");
    let fen = int.parse::<i64>().ok()? * 100 + cents.parse::<i64>().ok()?;
    Some(if negative { -fen } else { fen })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_parse_exactly_into_fen() {
        for (text, fen) in [
            ("12.5", 1250),
            ("12.50", 1250),
            ("12", 1200),
            ("0.01", 1),
            ("1000.0", 100_000),
            ("999999.99", 99_999_999),
            ("12.500", 1250),
            ("-3", -300),
            ("0", 0),
            ("0.1", 10),
        ] {
            assert_eq!(parse_yuan(text), Some(fen), "{text}");
        }
        for bad in [
            "",
            "12.345",
            "1e3",
            " 12",
            "12 ",
            "+1",
            "12.",
            ".5",
            "1,5",
            "abc",
            "NaN",
            "--1",
            "1234567890123456",
            "0x10",
        ] {
            assert_eq!(parse_yuan(bad), None, "{bad}");
        }
    }

    #[test]
    fn money_is_the_decimal_of_fen() {
        assert_eq!(yuan(1250).to_string(), "12.5");
        assert_eq!(yuan(1).to_string(), "0.01");
        assert_eq!(yuan(3810).to_string(), "38.1");
        assert_eq!(yuan(99999999).to_string(), "999999.99");
    }
}
