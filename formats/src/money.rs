//! Exact money: integer minor units plus an ISO 4217 currency code. Never a float.

/// Digits after the decimal point in `currency` (ISO 4217): 0 for JPY, 3 for KWD, else 2.
pub fn exponent(currency: &str) -> u32 {
    match currency {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        _ => 2,
    }
}

/// Checks that `code` looks like an ISO 4217 code: three ASCII capitals.
pub fn currency(code: &str) -> Result<String, String> {
    let c = code.trim();
    if c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(c.to_string())
    } else {
        Err(format!("`{code}` is not a currency code like EUR"))
    }
}

/// Minor units of `currency` as a decimal with the currency's own digits: `-12.50` for EUR,
/// `1200` for JPY, `1.250` for KWD. The one formatter for amounts shown to people.
pub fn decimal(minor: i64, currency: &str) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    match exponent(currency) {
        0 => format!("{sign}{abs}"),
        e => {
            let unit = 10u64.pow(e);
            format!("{sign}{}.{:0w$}", abs / unit, abs % unit, w = e as usize)
        }
    }
}

/// Parses a decimal amount to minor units of a currency with `exponent` digits.
///
/// `decimal` is the decimal separator (`.` or `,`); the other one, spaces and non-breaking
/// spaces are read as thousands separators. A leading or trailing sign (`-`, `+`, the Unicode
/// minus) and parentheses for negatives are accepted. More decimals than the currency has are
/// refused unless they are zeros: rounding money silently is a bug.
pub fn parse_decimal(raw: &str, exponent: u32, decimal: char) -> Result<i64, String> {
    let bad = |why: &str| format!("`{raw}` is not an amount: {why}");
    let mut s = raw.trim();
    let mut neg = false;
    if let Some(inner) = s.strip_prefix('(').and_then(|x| x.strip_suffix(')')) {
        neg = true;
        s = inner.trim();
    }
    for m in ["-", "\u{2212}"] {
        if let Some(rest) = s.strip_prefix(m).or_else(|| s.strip_suffix(m)) {
            neg = !neg;
            s = rest.trim();
            break;
        }
    }
    if let Some(rest) = s.strip_prefix('+') {
        s = rest.trim();
    }
    let thousands = if decimal == ',' { '.' } else { ',' };
    let (mut int, mut frac, mut seen_dec) = (0i64, 0i64, false);
    let (mut nint, mut nfrac) = (0usize, 0u32);
    for c in s.chars() {
        match c {
            '0'..='9' => {
                let d = i64::from(c as u8 - b'0');
                if seen_dec {
                    if nfrac >= exponent {
                        if d != 0 {
                            return Err(bad(&format!("more than {exponent} decimals")));
                        }
                    } else {
                        frac = frac * 10 + d;
                        nfrac += 1;
                    }
                } else {
                    int = int
                        .checked_mul(10)
                        .and_then(|v| v.checked_add(d))
                        .ok_or_else(|| bad("too large"))?;
                    nint += 1;
                }
            }
            c if c == decimal && !seen_dec => seen_dec = true,
            c if (c == thousands || c == ' ' || c == '\u{a0}' || c == '\u{202f}')
                && !seen_dec
                && nint > 0 => {}
            _ => return Err(bad(&format!("unexpected `{c}`"))),
        }
    }
    if nint == 0 && nfrac == 0 {
        return Err(bad("no digits"));
    }
    let minor = int
        .checked_mul(10i64.pow(exponent))
        .and_then(|v| v.checked_add(frac * 10i64.pow(exponent - nfrac)))
        .ok_or_else(|| bad("too large"))?;
    Ok(if neg { -minor } else { minor })
}

/// `-12.34 EUR`, `EUR -12.34` or `-12,34 EUR` to (-1234, "EUR").
pub fn parse_money(raw: &str) -> Result<(i64, String), String> {
    let bad = || format!("`{raw}` is not an amount with a currency, like `-12.34 EUR`");
    let parts: Vec<&str> = raw.split_whitespace().collect();
    let (num, cur) = match parts.as_slice() {
        [n, c] if currency(c).is_ok() => (*n, *c),
        [c, n] if currency(c).is_ok() => (*n, *c),
        _ => return Err(bad()),
    };
    if num.contains('.') && num.contains(',') {
        return Err(bad());
    }
    let dec = if num.contains(',') { ',' } else { '.' };
    let minor = parse_decimal(num, exponent(cur), dec).map_err(|_| bad())?;
    Ok((minor, cur.to_string()))
}

/// `-1234` minor units of EUR as `-12.34`.
pub fn format_minor(minor: i64, currency: &str) -> String {
    let e = exponent(currency);
    if e == 0 {
        return minor.to_string();
    }
    let p = 10i64.pow(e) as u64;
    let sign = if minor < 0 { "-" } else { "" };
    let m = minor.unsigned_abs();
    format!("{sign}{}.{:0w$}", m / p, m % p, w = e as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn amounts_are_shown_with_the_currencys_own_digits() {
        assert_eq!(decimal(-1250, "EUR"), "-12.50");
        assert_eq!(decimal(5, "EUR"), "0.05");
        assert_eq!(decimal(1200, "JPY"), "1200");
        assert_eq!(decimal(-7, "JPY"), "-7");
        assert_eq!(decimal(1250, "KWD"), "1.250");
        assert_eq!(decimal(i64::MIN, "EUR"), "-92233720368547758.08");
    }

    proptest! {
        /// What is shown reads back as the same amount, in every currency.
        #[test]
        fn a_shown_amount_parses_back(minor in -10_000_000_000i64..10_000_000_000, c in prop::sample::select(vec!["EUR", "JPY", "KWD", "USD", "CLP", "BHD"])) {
            let shown = format!("{} {c}", decimal(minor, c));
            prop_assert_eq!(parse_money(&shown), Ok((minor, c.to_string())));
        }
    }

    #[test]
    fn amounts_are_exact() {
        assert_eq!(parse_money("-12.34 EUR"), Ok((-1234, "EUR".into())));
        assert_eq!(parse_money("EUR 0,5"), Ok((50, "EUR".into())));
        assert_eq!(parse_money("7 USD"), Ok((700, "USD".into())));
        assert_eq!(parse_money("1500 JPY"), Ok((1500, "JPY".into())));
        assert!(parse_money("1.234 EUR").is_err());
        assert!(parse_money("12.34").is_err());
        assert!(parse_money("abc EUR").is_err());
        assert_eq!(parse_decimal("1 234,50", 2, ','), Ok(123_450));
        assert_eq!(parse_decimal("1.234,50-", 2, ','), Ok(-123_450));
        assert_eq!(parse_decimal("(12.00)", 2, '.'), Ok(-1200));
        assert_eq!(parse_decimal("\u{2212}3.5", 2, '.'), Ok(-350));
        assert_eq!(parse_decimal("2.500", 2, '.'), Ok(250));
        assert_eq!(parse_decimal(".5", 2, '.'), Ok(50));
        assert!(parse_decimal("2.505", 2, '.').is_err());
        assert!(parse_decimal("1.2.3", 2, '.').is_err());
        assert!(parse_decimal("", 2, '.').is_err());
        assert!(parse_decimal("99999999999999999999", 2, '.').is_err());
    }

    proptest! {
        #[test]
        fn formatted_amounts_parse_back(minor in -1_000_000_000_000i64..1_000_000_000_000,
                                        cur in prop::sample::select(vec!["EUR", "JPY", "KWD"])) {
            let text = format_minor(minor, cur);
            prop_assert_eq!(parse_decimal(&text, exponent(cur), '.'), Ok(minor));
            prop_assert_eq!(parse_decimal(&text.replace('.', ","), exponent(cur), ','), Ok(minor));
        }
    }
}
