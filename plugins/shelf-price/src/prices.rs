//! Money, exact decimal quantities and `key=value` list parameters (price lists, known
//! shortfalls), shared by `shelf-price` and `short-weight`.
//!
//! The code exists once, here: `short-weight` includes this file with
//! `#[path = "../../shelf-price/src/prices.rs"] mod prices;`. It cannot depend on the
//! `shelf-price` crate instead, because that would link shelf-price's `run` export into its
//! component too. So this file depends on nothing but `std`.
//!
//! Money is integer minor units with 2 decimals, parsed from its decimal text and never through
//! a float. Quantities arrive as floats (the schema's `float`); [`Dec::from_f64`] reads back the
//! exact decimal the importer parsed (the shortest text that round-trips), so that
//! 3.50 EUR × 0.35 kg is 1.225 and rounds to 1.23, where floats would give 1.22.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt;

/// Decimals of every amount: prices are written like `2.49 EUR`.
pub const DECIMALS: u32 = 2;

/// Largest number of decimals a [`Dec`] keeps; finer values are refused, not rounded.
const MAX_SCALE: u32 = 24;

/// An exact decimal: `units / 10^scale`, with no trailing zero in `units` once normalised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dec {
    units: i128,
    scale: u32,
}

fn pow10(k: u32) -> Option<i128> {
    10i128.checked_pow(k)
}

impl Dec {
    pub const ZERO: Dec = Dec { units: 0, scale: 0 };
    pub const ONE: Dec = Dec { units: 1, scale: 0 };

    /// `units / 10^scale`, or `None` when `scale` is beyond what a `Dec` keeps.
    pub fn new(units: i128, scale: u32) -> Option<Dec> {
        Dec { units, scale }.normalised()
    }

    /// Strips trailing zeros, so that equal values have one representation.
    fn normalised(mut self) -> Option<Dec> {
        while self.scale > 0 && self.units % 10 == 0 {
            self.units /= 10;
            self.scale -= 1;
        }
        (self.scale <= MAX_SCALE).then_some(self)
    }

    /// Reads an unsigned decimal written with a dot (`12`, `0.35`); `None` when it is anything
    /// else (sign, exponent, comma, empty, or too long to hold).
    pub fn parse(text: &str) -> Option<Dec> {
        let (int, frac) = text.split_once('.').unwrap_or((text, ""));
        if int.is_empty() || (text.contains('.') && frac.is_empty()) {
            return None;
        }
        let mut units: i128 = 0;
        for b in int.bytes().chain(frac.bytes()) {
            if !b.is_ascii_digit() {
                return None;
            }
            units = units.checked_mul(10)?.checked_add(i128::from(b - b'0'))?;
        }
        Dec::new(units, u32::try_from(frac.len()).ok()?)
    }

    /// The exact decimal a float was parsed from: its shortest round-tripping text. `None` for
    /// NaN, infinities, and magnitudes a `Dec` cannot hold.
    pub fn from_f64(x: f64) -> Option<Dec> {
        if !x.is_finite() {
            return None;
        }
        // `{:e}` prints the shortest digits that read back as `x`: `3.5e-1`, `-2e0`.
        let s = format!("{x:e}");
        let (mantissa, exp) = s.split_once('e')?;
        let exp: i64 = exp.parse().ok()?;
        let (negative, mantissa) = match mantissa.strip_prefix('-') {
            Some(m) => (true, m),
            None => (false, mantissa),
        };
        let frac_len = mantissa.split_once('.').map_or(0, |(_, f)| f.len());
        let digits = Dec::parse(&mantissa.replace('.', ""))?.units;
        let units = if negative { -digits } else { digits };
        let exp10 = exp.checked_sub(i64::try_from(frac_len).ok()?)?;
        if exp10 >= 0 {
            Dec::new(units.checked_mul(pow10(u32::try_from(exp10).ok()?)?)?, 0)
        } else {
            Dec::new(units, u32::try_from(-exp10).ok()?)
        }
    }

    /// Both values with one common scale.
    fn aligned(self, other: Dec) -> Option<(i128, i128, u32)> {
        let scale = self.scale.max(other.scale);
        let a = self.units.checked_mul(pow10(scale - self.scale)?)?;
        let b = other.units.checked_mul(pow10(scale - other.scale)?)?;
        Some((a, b, scale))
    }

    pub fn checked_add(self, other: Dec) -> Option<Dec> {
        let (a, b, scale) = self.aligned(other)?;
        Dec::new(a.checked_add(b)?, scale)
    }

    pub fn checked_sub(self, other: Dec) -> Option<Dec> {
        let (a, b, scale) = self.aligned(other)?;
        Dec::new(a.checked_sub(b)?, scale)
    }

    pub fn checked_mul(self, other: Dec) -> Option<Dec> {
        Dec::new(
            self.units.checked_mul(other.units)?,
            self.scale.checked_add(other.scale)?,
        )
    }

    /// `self / 10^k`, exactly.
    pub fn shifted_down(self, k: u32) -> Option<Dec> {
        Dec::new(self.units, self.scale.checked_add(k)?)
    }

    /// Rounds up (towards positive infinity) to `decimals` decimals.
    pub fn ceil_to(self, decimals: u32) -> Option<Dec> {
        if self.scale <= decimals {
            return Some(self);
        }
        let div = pow10(self.scale - decimals)?;
        let floor = self.units.div_euclid(div);
        let up = if self.units.rem_euclid(div) == 0 {
            0
        } else {
            1
        };
        Dec::new(floor.checked_add(up)?, decimals)
    }

    /// Compares two values; `None` only when aligning them would overflow.
    pub fn compare(self, other: Dec) -> Option<Ordering> {
        let (a, b, _) = self.aligned(other)?;
        Some(a.cmp(&b))
    }

    pub fn is_positive(self) -> bool {
        self.units > 0
    }
}

impl fmt::Display for Dec {
    /// Plain decimal, no trailing zeros: `12`, `0.03`, `-1.5`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.units < 0 { "-" } else { "" };
        let abs = self.units.unsigned_abs();
        let Some(div) = 10u128.checked_pow(self.scale) else {
            return write!(f, "{sign}{abs}e-{}", self.scale);
        };
        let (int, frac) = (abs / div, abs % div);
        if self.scale == 0 {
            write!(f, "{sign}{int}")
        } else {
            let width = self.scale as usize;
            write!(f, "{sign}{int}.{frac:0width$}")
        }
    }
}

/// `minor × num / den`, rounded half away from zero to a whole number of minor units. `None`
/// when `den` is zero or the result does not fit.
pub fn mul_div_round(minor: i64, num: Dec, den: Dec) -> Option<i64> {
    let (n, d, _) = num.aligned(den)?;
    if d == 0 {
        return None;
    }
    let p = i128::from(minor).checked_mul(n)?;
    let (q, r) = (p / d, p % d);
    // Half away from zero: compare twice the remainder with the divisor, in magnitude.
    let q = if r.unsigned_abs().checked_mul(2)? >= d.unsigned_abs() {
        if (p < 0) == (d < 0) { q + 1 } else { q - 1 }
    } else {
        q
    };
    i64::try_from(q).ok()
}

/// An amount of money: minor units and an ISO 4217 code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Price {
    pub minor: i64,
    pub currency: String,
}

/// `2.49 EUR`, `-0.05 EUR`: minor units shown with [`DECIMALS`] decimals.
pub fn format_money(minor: i64, currency: &str) -> String {
    let abs = minor.unsigned_abs();
    format!(
        "{}{}.{:02} {currency}",
        if minor < 0 { "-" } else { "" },
        abs / 100,
        abs % 100
    )
}

/// Reads `2.49 EUR` (also `2.49EUR`, `2 eur`): a non-negative amount with at most
/// [`DECIMALS`] decimals, written with a dot, then a three-letter currency code. The error says
/// what is wrong with `text`.
pub fn parse_money(text: &str) -> Result<Price, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| c.is_ascii_alphabetic())
        .ok_or_else(|| format!("`{text}` has no currency; write amounts like 2.49 EUR"))?;
    let (amount, currency) = (text[..split].trim(), text[split..].trim());
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(format!(
            "`{currency}` is not a three-letter currency code; write amounts like 2.49 EUR"
        ));
    }
    let dec = Dec::parse(amount).ok_or_else(|| {
        format!("`{amount}` is not an amount; write amounts like 2.49 EUR, with a dot")
    })?;
    if dec.scale > DECIMALS {
        return Err(format!(
            "`{amount}` has more than {DECIMALS} decimals; write amounts like 2.49 EUR"
        ));
    }
    let minor = pow10(DECIMALS - dec.scale)
        .and_then(|f| dec.units.checked_mul(f))
        .and_then(|m| i64::try_from(m).ok())
        .ok_or_else(|| format!("`{amount}` is too large an amount"))?;
    Ok(Price {
        minor,
        currency: currency.to_ascii_uppercase(),
    })
}

/// What an entry shows of itself in an error: trimmed, at most 80 characters.
fn shown(entry: &str) -> String {
    let entry = entry.trim();
    match entry.char_indices().nth(80) {
        Some((cut, _)) => format!("{}...", &entry[..cut]),
        None => entry.to_string(),
    }
}

/// The key a list entry or a record is looked up by: trimmed, lowercase (Unicode).
fn key_of(text: &str) -> String {
    text.trim().to_lowercase()
}

/// A list parameter: entries `key=value`, separated by `;` or newlines, where the key is a
/// barcode or a product name (compared case-insensitively, after trimming). Blank entries are
/// skipped; a key listed twice is refused, since one of the two values would be ignored.
#[derive(Debug, Clone, Default)]
pub struct List<T> {
    entries: HashMap<String, T>,
}

impl<T> List<T> {
    /// Parses the list parameter `param`, reading each value with `value`. The error names the
    /// parameter and the entry.
    pub fn parse(
        param: &str,
        text: &str,
        value: impl Fn(&str) -> Result<T, String>,
    ) -> Result<List<T>, String> {
        let mut entries = HashMap::new();
        for entry in text.split([';', '\n']) {
            if entry.trim().is_empty() {
                continue;
            }
            let bad = |why: String| format!("parameter `{param}`, entry `{}`: {why}", shown(entry));
            // The value never holds `=`; a product name might.
            let (key, v) = entry
                .rsplit_once('=')
                .ok_or_else(|| bad("write it as `key=value`".into()))?;
            let key = key_of(key);
            if key.is_empty() {
                return Err(bad("no barcode or product name before `=`".into()));
            }
            let v = value(v.trim()).map_err(&bad)?;
            if entries.insert(key, v).is_some() {
                return Err(bad("this barcode or product is listed twice".into()));
            }
        }
        Ok(List { entries })
    }

    /// The entry for a record: by its barcode first, else by its product name.
    pub fn lookup(&self, barcode: Option<&str>, product: &str) -> Option<&T> {
        barcode
            .map(key_of)
            .filter(|b| !b.is_empty())
            .and_then(|b| self.entries.get(&b))
            .or_else(|| self.entries.get(&key_of(product)))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// A price list parameter: `3017620422003=2.49 EUR; Lait demi-écrémé 1L=0.99 EUR`.
pub fn parse_prices(param: &str, text: &str) -> Result<List<Price>, String> {
    List::parse(param, text, parse_money)
}

/// Sums amounts per currency, in order of first appearance; saturating, never panicking.
pub fn totals<'a>(amounts: impl IntoIterator<Item = (&'a str, i64)>) -> Vec<(String, i64)> {
    let mut totals: Vec<(String, i64)> = Vec::new();
    for (currency, minor) in amounts {
        match totals.iter_mut().find(|(c, _)| c == currency) {
            Some((_, t)) => *t = t.saturating_add(minor),
            None => totals.push((currency.to_string(), minor)),
        }
    }
    totals
}

/// A scan's summary: `matched`, `scanned`, and `total-loss` per currency of the losses.
pub fn summary<'a>(
    matched: usize,
    scanned: u64,
    losses: impl IntoIterator<Item = (&'a str, i64)>,
) -> Vec<insitu_sdk::Metric> {
    use insitu_sdk::{Metric, Money, Scalar};
    let mut out = vec![
        Metric {
            name: "matched".into(),
            value: Scalar::Integer(matched as i64),
        },
        Metric {
            name: "scanned".into(),
            value: Scalar::Integer(scanned as i64),
        },
    ];
    out.extend(totals(losses).into_iter().map(|(currency, minor)| Metric {
        name: "total-loss".into(),
        value: Scalar::Money(Money { minor, currency }),
    }));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Dec {
        Dec::parse(s).expect("a valid decimal")
    }

    #[test]
    fn money_is_read_exactly_and_refuses_extra_decimals() {
        let p = |s: &str| parse_money(s).map(|p| (p.minor, p.currency));
        assert_eq!(p("2.49 EUR"), Ok((249, "EUR".into())));
        assert_eq!(p("2 eur"), Ok((200, "EUR".into())));
        assert_eq!(p("0.5EUR"), Ok((50, "EUR".into())));
        assert!(p("0.999 EUR").unwrap_err().contains("more than 2 decimals"));
        assert!(p("2,49 EUR").unwrap_err().contains("with a dot"));
        assert!(p("2.49").unwrap_err().contains("no currency"));
        assert!(p("2.49 EURO").unwrap_err().contains("currency code"));
        assert!(p("-2.49 EUR").is_err());
        assert!(
            p("99999999999999999999 EUR")
                .unwrap_err()
                .contains("too large")
        );
    }

    #[test]
    fn floats_are_read_back_as_the_decimal_they_were_parsed_from() {
        assert_eq!(Dec::from_f64(0.35), Some(dec("0.35")));
        assert_eq!(Dec::from_f64(2.0), Some(dec("2")));
        assert_eq!(Dec::from_f64(1e20), Some(dec("100000000000000000000")));
        assert_eq!(
            Dec::from_f64(-0.5).map(|d| d.to_string()),
            Some("-0.5".into())
        );
        assert_eq!(Dec::from_f64(f64::NAN), None);
        assert_eq!(Dec::from_f64(1e-300), None);
        assert_eq!(Dec::from_f64(1e300), None);
    }

    #[test]
    fn rounding_is_half_away_from_zero_and_exact() {
        // 3.50 EUR × 0.35 kg = 1.225 EUR: floats say 1.22, the exact value rounds to 1.23.
        assert_eq!(
            mul_div_round(350, Dec::from_f64(0.35).unwrap(), Dec::ONE),
            Some(123)
        );
        assert_eq!(mul_div_round(-350, dec("0.35"), Dec::ONE), Some(-123));
        assert_eq!(mul_div_round(249, dec("2"), Dec::ONE), Some(498));
        assert_eq!(mul_div_round(100, dec("1"), dec("3")), Some(33));
        assert_eq!(mul_div_round(100, dec("2"), dec("3")), Some(67));
        assert_eq!(mul_div_round(100, dec("1"), Dec::ZERO), None);
        assert_eq!(mul_div_round(i64::MAX, dec("2"), Dec::ONE), None);
    }

    #[test]
    fn decimals_add_subtract_compare_and_print() {
        let short = dec("1").checked_sub(Dec::from_f64(0.97).unwrap()).unwrap();
        assert_eq!(short.to_string(), "0.03");
        assert_eq!(dec("0.985").compare(dec("0.9850")), Some(Ordering::Equal));
        assert_eq!(dec("4.5").shifted_down(3).unwrap().to_string(), "0.0045");
        assert_eq!(
            dec("250").checked_mul(dec("0.09")).unwrap().to_string(),
            "22.5"
        );
        assert_eq!(dec("6.75").ceil_to(1), Some(dec("6.8")));
        assert_eq!(dec("6.7").ceil_to(1), Some(dec("6.7")));
        assert_eq!(
            Dec::from_f64(-6.75).unwrap().ceil_to(1),
            Dec::from_f64(-6.7)
        );
        for bad in ["", ".5", "1.", "1e3", "+1", "1,5", "1.2.3"] {
            assert_eq!(Dec::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn price_lists_match_by_barcode_then_name_and_name_bad_entries() {
        let list = parse_prices(
            "prices",
            "3017620422003=2.49 EUR; Lait demi-écrémé 1L=0.99 EUR\n\n  ;",
        )
        .unwrap();
        assert_eq!(list.len(), 2);
        let minor = |b: Option<&str>, p: &str| list.lookup(b, p).map(|p| p.minor);
        assert_eq!(minor(Some("3017620422003"), "Pâte à tartiner"), Some(249));
        assert_eq!(minor(Some("0000"), "  LAIT DEMI-ÉCRÉMÉ 1L "), Some(99));
        assert_eq!(minor(None, "Lait entier 1L"), None);

        let err = |text: &str| parse_prices("prices", text).unwrap_err();
        assert!(err("Lait 0.99 EUR").contains("entry `Lait 0.99 EUR`"));
        assert!(err("=0.99 EUR").contains("no barcode"));
        let e = err("Lait=0.999 EUR");
        assert!(
            e.contains("parameter `prices`, entry `Lait=0.999 EUR`"),
            "{e}"
        );
        assert!(e.contains("more than 2 decimals"), "{e}");
        assert!(err("lait=1 EUR; LAIT=2 EUR").contains("listed twice"));
    }
}
