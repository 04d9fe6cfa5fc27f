//! The short-weight rules, independent of the plugin interface, so that they run natively in
//! tests as they do inside the sandbox.
//!
//! Quantities are compared as exact decimals ([`Dec`]), so that a 1 kg pack measured at
//! 0.985 kg sits exactly on its 15 g tolerance instead of a float's breadth beyond it.

use std::cmp::Ordering;

use crate::prices::{Dec, List, Price, format_money, mul_div_round};

/// One pack a member bought, as the rules see it.
#[derive(Debug, Clone, Copy)]
pub struct Pack<'a> {
    pub id: u64,
    /// The record's time: when it was recorded.
    pub time: i64,
    pub product: &'a str,
    pub barcode: Option<&'a str>,
    /// The net quantity on the pack, in `unit`.
    pub declared: f64,
    /// `g`, `kg`, `ml`, `cl`, `l`, `piece`, ...
    pub unit: &'a str,
    /// What the member weighed or measured, in `unit`, if they did.
    pub measured: Option<f64>,
}

/// How far below the declared quantity a measured pack may fall.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tolerance {
    /// The tolerable negative error of Directive 76/211/EEC, annex I, for packs in g, kg, ml,
    /// cl or l (see [`eu_tolerable_error`]); none for packs counted in pieces. Packs in other
    /// units, or below 5 g or ml, where the directive sets no tolerance, are not judged.
    Eu,
    /// Parameter value `none`: every measured shortfall counts.
    Zero,
}

impl Tolerance {
    /// Reads the `tolerance` parameter: `eu` or `none`.
    pub fn parse(text: &str) -> Result<Tolerance, String> {
        match text.trim() {
            "eu" => Ok(Tolerance::Eu),
            "none" => Ok(Tolerance::Zero),
            other => Err(format!(
                "parameter `tolerance` must be `eu` or `none`, not `{other}`"
            )),
        }
    }
}

/// The power of ten that turns one `unit` into grams or millilitres; `None` for other units.
fn decimal_exponent_to_g_or_ml(unit: &str) -> Option<u32> {
    match unit.trim().to_lowercase().as_str() {
        "g" | "gr" | "ml" => Some(0),
        "cl" => Some(1),
        "kg" | "l" => Some(3),
        _ => None,
    }
}

/// Whether `unit` counts items (no tolerance applies to a count).
fn is_count(unit: &str) -> bool {
    matches!(
        unit.trim().to_lowercase().as_str(),
        "piece" | "pieces" | "pc" | "pcs" | "unit" | "units"
    )
}

/// The tolerable negative error of Directive 76/211/EEC, annex I, for a nominal quantity `qn`
/// in g or ml: 5 to 50: 9 %; 50 to 100: 4.5; 100 to 200: 4.5 %; 200 to 300: 9; 300 to 500:
/// 3 %; 500 to 1 000: 15; above 1 000: 1.5 % (the directive stops at 10 000; the same rate
/// goes on above). Percentages are rounded up to the tenth of a gram or millilitre, as the
/// annex requires. `None` below 5, where the directive sets no tolerance.
pub fn eu_tolerable_error(qn: Dec) -> Option<Dec> {
    let at_most = |limit: i128| Some(qn.compare(Dec::new(limit, 0)?)? != Ordering::Greater);
    let percent = |p: &str| qn.checked_mul(Dec::parse(p)?)?.ceil_to(1);
    if qn.compare(Dec::new(5, 0)?)? == Ordering::Less {
        None
    } else if at_most(50)? {
        percent("0.09")
    } else if at_most(100)? {
        Dec::parse("4.5")
    } else if at_most(200)? {
        percent("0.045")
    } else if at_most(300)? {
        Dec::new(9, 0)
    } else if at_most(500)? {
        percent("0.03")
    } else if at_most(1000)? {
        Dec::new(15, 0)
    } else {
        percent("0.015")
    }
}

/// A pack found short.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub id: u64,
    pub time: i64,
    /// `measured-short` or `known-shortfall`.
    pub rule: &'static str,
    /// The pack's price, when the price list has it.
    pub price: Option<Price>,
    /// The price of the missing quantity: price × shortfall / declared, in the price's
    /// currency; `None` without a price.
    pub loss: Option<i64>,
    pub label: String,
    pub reason: String,
}

/// Runs both rules over packs pushed in time order.
pub struct Scanner {
    tolerance: Tolerance,
    shortfalls: List<Dec>,
    prices: List<Price>,
    hits: Vec<Hit>,
    pub scanned: u64,
}

/// `250 g`, `1.5 kg`, `12`.
fn quantity(q: Dec, unit: &str) -> String {
    let unit = unit.trim();
    if unit.is_empty() {
        q.to_string()
    } else {
        format!("{q} {unit}")
    }
}

impl Scanner {
    /// `shortfalls`: per barcode or product, how much its packs are known to be short, in the
    /// pack's unit. `prices`: per barcode or product, the pack's price, to value the shortfall.
    pub fn new(tolerance: Tolerance, shortfalls: List<Dec>, prices: List<Price>) -> Self {
        Scanner {
            tolerance,
            shortfalls,
            prices,
            hits: Vec::new(),
            scanned: 0,
        }
    }

    /// The tolerable negative error for a pack of `declared` `unit`, in `unit`; `None` when
    /// the pack is not judged.
    fn tolerable_error(&self, declared: Dec, unit: &str) -> Option<Dec> {
        match self.tolerance {
            Tolerance::Zero => Some(Dec::ZERO),
            Tolerance::Eu => match decimal_exponent_to_g_or_ml(unit) {
                Some(k) => {
                    let qn = declared.checked_mul(Dec::new(10i128.checked_pow(k)?, 0)?)?;
                    eu_tolerable_error(qn)?.shifted_down(k)
                }
                None if is_count(unit) => Some(Dec::ZERO),
                None => None,
            },
        }
    }

    /// `measured-short`: the shortfall and the reason, when the measured pack is short beyond
    /// the tolerance.
    fn measured_short(&self, pack: &Pack, declared: Dec) -> Option<(Dec, String)> {
        let measured = Dec::from_f64(pack.measured?)
            .filter(|m| m.compare(Dec::ZERO) != Some(Ordering::Less))?;
        let tne = self.tolerable_error(declared, pack.unit)?;
        let short = declared.checked_sub(measured)?;
        if short.compare(tne)? != Ordering::Greater {
            return None;
        }
        let mut reason = format!(
            "the pack says {}, you measured {}: {} short",
            quantity(declared, pack.unit),
            quantity(measured, pack.unit),
            quantity(short, pack.unit),
        );
        if tne.is_positive() {
            reason.push_str(&format!(
                ", beyond the {} tolerance",
                quantity(tne, pack.unit)
            ));
        }
        Some((short, reason))
    }

    pub fn push(&mut self, pack: Pack) {
        self.scanned += 1;
        // A pack that declares nothing cannot be short.
        let Some(declared) = Dec::from_f64(pack.declared).filter(|d| d.is_positive()) else {
            return;
        };
        let (rule, short, mut reason) =
            if let Some((short, reason)) = self.measured_short(&pack, declared) {
                ("measured-short", short, reason)
            } else if let Some(&short) = self.shortfalls.lookup(pack.barcode, pack.product) {
                let reason = format!(
                    "packs of this product are known to hold {} less than the {} they declare",
                    quantity(short, pack.unit),
                    quantity(declared, pack.unit),
                );
                ("known-shortfall", short, reason)
            } else {
                return;
            };
        // Never value more than the whole pack.
        let short = match short.compare(declared) {
            Some(Ordering::Greater) => declared,
            _ => short,
        };
        let price = self.prices.lookup(pack.barcode, pack.product).cloned();
        let loss = price
            .as_ref()
            .and_then(|p| mul_div_round(p.minor, short, declared))
            .filter(|l| *l > 0);
        if let (Some(p), Some(l)) = (&price, loss) {
            reason.push_str(&format!(
                "; at {} a pack, that is {}",
                format_money(p.minor, &p.currency),
                format_money(l, &p.currency)
            ));
        }
        self.hits.push(Hit {
            id: pack.id,
            time: pack.time,
            rule,
            price,
            loss,
            label: pack.product.to_string(),
            reason,
        });
    }

    /// The packs found short, in the order pushed (time order).
    pub fn finish(self) -> Vec<Hit> {
        self.hits
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prices::parse_prices;

    fn dec(s: &str) -> Dec {
        Dec::parse(s).expect("a valid decimal")
    }

    fn pack(id: u64, declared: f64, unit: &'static str, measured: Option<f64>) -> Pack<'static> {
        Pack {
            id,
            time: id as i64 * 86_400_000,
            product: "Café moulu",
            barcode: Some("3560070976478"),
            declared,
            unit,
            measured,
        }
    }

    fn scanner(tolerance: Tolerance, shortfalls: &str, prices: &str) -> Scanner {
        let shortfalls = List::parse("shortfalls", shortfalls, |v| {
            Dec::parse(v).ok_or_else(|| "not a quantity".to_string())
        })
        .unwrap();
        Scanner::new(
            tolerance,
            shortfalls,
            parse_prices("prices", prices).unwrap(),
        )
    }

    fn scan(s: Scanner, packs: &[Pack]) -> Vec<Hit> {
        let mut s = s;
        packs.iter().for_each(|p| s.push(*p));
        s.finish()
    }

    #[test]
    fn the_eu_tolerance_follows_the_directive_bands() {
        let tne = |qn: &str| eu_tolerable_error(dec(qn)).map(|d| d.to_string());
        for (qn, want) in [
            ("4", None),
            ("5", Some("0.5")), // 0.45, rounded up to the tenth
            ("50", Some("4.5")),
            ("75", Some("4.5")),
            ("150", Some("6.8")), // 6.75, rounded up
            ("250", Some("9")),
            ("330", Some("9.9")),
            ("750", Some("15")),
            ("1000", Some("15")),
            ("2000", Some("30")),
            ("25000", Some("375")),
        ] {
            assert_eq!(tne(qn).as_deref(), want, "{qn}");
        }
    }

    #[test]
    fn a_pack_measured_short_beyond_the_tolerance_is_found() {
        let hits = scan(
            scanner(Tolerance::Eu, "", ""),
            &[
                pack(1, 250.0, "g", Some(238.0)),
                // Exactly at the tolerance: not beyond it.
                pack(2, 250.0, "g", Some(241.0)),
                pack(3, 250.0, "g", Some(252.0)),
                // Not measured, not listed.
                pack(4, 250.0, "g", None),
            ],
        );
        assert_eq!(hits.len(), 1);
        assert_eq!((hits[0].id, hits[0].rule), (1, "measured-short"));
        assert_eq!(
            hits[0].reason,
            "the pack says 250 g, you measured 238 g: 12 g short, beyond the 9 g tolerance"
        );
        assert_eq!(hits[0].loss, None, "no price, no loss");
    }

    #[test]
    fn kilograms_and_litres_are_judged_in_grams_and_millilitres() {
        let hits = scan(
            scanner(Tolerance::Eu, "", ""),
            &[
                // 1 kg: 15 g tolerance, so 0.985 kg is on it and 0.984 kg beyond it.
                pack(1, 1.0, "kg", Some(0.985)),
                pack(2, 1.0, "kg", Some(0.984)),
                // 1.5 l: 1.5 % is 22.5 ml.
                pack(3, 1.5, "l", Some(1.48)),
                pack(4, 1.5, "L", Some(1.477)),
            ],
        );
        assert_eq!(hits.iter().map(|h| h.id).collect::<Vec<_>>(), vec![2, 4]);
        assert_eq!(
            hits[0].reason,
            "the pack says 1 kg, you measured 0.984 kg: 0.016 kg short, beyond the 0.015 kg \
             tolerance"
        );
    }

    #[test]
    fn without_tolerance_every_shortfall_counts_and_pieces_have_none() {
        let hits = scan(
            scanner(Tolerance::Zero, "", ""),
            &[pack(1, 250.0, "g", Some(249.5))],
        );
        assert_eq!(
            hits[0].reason,
            "the pack says 250 g, you measured 249.5 g: 0.5 g short"
        );
        let hits = scan(
            scanner(Tolerance::Eu, "", ""),
            &[
                pack(1, 12.0, "piece", Some(11.0)),
                // The directive sets no tolerance for metres, nor below 5 g: not judged.
                pack(2, 10.0, "m", Some(9.0)),
                pack(3, 4.0, "g", Some(3.0)),
            ],
        );
        assert_eq!(hits.iter().map(|h| h.id).collect::<Vec<_>>(), vec![1]);
    }

    #[test]
    fn a_listed_shortfall_is_found_measured_or_not_and_valued_with_a_price() {
        let s = scanner(
            Tolerance::Eu,
            "3560070976478=5; Thé vert=2.5",
            "Café moulu=4.99 EUR",
        );
        let mut tea = pack(3, 100.0, "g", None);
        tea.product = "THÉ VERT ";
        tea.barcode = None;
        let hits = scan(
            s,
            &[
                pack(1, 250.0, "g", None),
                // Measured within the tolerance: the listed shortfall still applies.
                pack(2, 250.0, "g", Some(246.0)),
                tea,
            ],
        );
        assert_eq!(
            hits.iter()
                .map(|h| (h.id, h.rule, h.loss))
                .collect::<Vec<_>>(),
            vec![
                // 4.99 EUR × 5 / 250 = 0.0998 EUR, so 0.10 EUR.
                (1, "known-shortfall", Some(10)),
                (2, "known-shortfall", Some(10)),
                // No price for tea: no loss.
                (3, "known-shortfall", None),
            ]
        );
        assert_eq!(
            hits[0].reason,
            "packs of this product are known to hold 5 g less than the 250 g they declare; at \
             4.99 EUR a pack, that is 0.10 EUR"
        );
    }

    #[test]
    fn a_measured_shortfall_takes_precedence_and_the_loss_never_exceeds_the_price() {
        let s = scanner(Tolerance::Eu, "3560070976478=300", "3560070976478=4.99 EUR");
        let hits = scan(
            s,
            &[
                // 238 g of 250 g: 12 g short, worth 4.99 × 12 / 250 = 0.23952, so 0.24 EUR.
                pack(1, 250.0, "g", Some(238.0)),
                // Listed as 300 g short of 250 g: the loss is the whole pack, no more.
                pack(2, 250.0, "g", None),
            ],
        );
        assert_eq!(
            hits.iter().map(|h| (h.rule, h.loss)).collect::<Vec<_>>(),
            vec![("measured-short", Some(24)), ("known-shortfall", Some(499))]
        );
    }

    #[test]
    fn packs_declaring_nothing_or_measured_nonsense_are_skipped() {
        let hits = scan(
            scanner(Tolerance::Eu, "", ""),
            &[
                pack(1, 0.0, "g", Some(-1.0)),
                pack(2, f64::NAN, "g", Some(1.0)),
                pack(3, 250.0, "g", Some(f64::INFINITY)),
                pack(4, 250.0, "g", Some(-5.0)),
            ],
        );
        assert!(hits.is_empty());
        assert_eq!(Tolerance::parse("eu"), Ok(Tolerance::Eu));
        assert!(Tolerance::parse("EU-ish").unwrap_err().contains("`EU-ish`"));
    }
}
