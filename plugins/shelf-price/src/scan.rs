//! The shelf-price rule, independent of the plugin interface, so that it runs natively in
//! tests as it does inside the sandbox.

use crate::prices::{Dec, List, Price, format_money, mul_div_round};

/// One receipt line, as the rule sees it.
#[derive(Debug, Clone, Copy)]
pub struct Line<'a> {
    pub id: u64,
    /// The record's time: the receipt's date.
    pub time: i64,
    pub shop: &'a str,
    pub product: &'a str,
    pub barcode: Option<&'a str>,
    pub quantity: f64,
    /// `piece`, `kg`, ...
    pub unit: &'a str,
    /// Minor units and currency, per unit.
    pub unit_price: (i64, &'a str),
    /// Minor units and currency, for the line.
    pub total: (i64, &'a str),
}

/// A line charged above the shelf price.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub id: u64,
    pub time: i64,
    /// The line's total, minor units of `currency`.
    pub total: i64,
    pub currency: String,
    /// What the line cost beyond the shelf price (positive), in `currency`: the total less the
    /// shelf price times the quantity. `None` when that is not positive (a till that rounded
    /// in the person's favour) or cannot be computed.
    pub loss: Option<i64>,
    pub label: String,
    pub reason: String,
}

/// Units shown without a name in reasons ("× 2", not "× 2 piece").
fn is_count(unit: &str) -> bool {
    matches!(
        unit.trim().to_lowercase().as_str(),
        "" | "piece" | "pieces" | "pc" | "pcs"
    )
}

/// Compares receipt lines, pushed in time order, with a shelf price list.
pub struct Scanner {
    prices: List<Price>,
    /// Lowercase; empty matches every shop.
    shop: String,
    hits: Vec<Hit>,
    pub scanned: u64,
}

impl Scanner {
    /// A scanner over lines from shops whose name contains `shop` (case-insensitive; empty
    /// for every shop).
    pub fn new(prices: List<Price>, shop: &str) -> Self {
        Scanner {
            prices,
            shop: shop.trim().to_lowercase(),
            hits: Vec::new(),
            scanned: 0,
        }
    }

    pub fn push(&mut self, line: Line) {
        self.scanned += 1;
        if !self.shop.is_empty() && !line.shop.to_lowercase().contains(&self.shop) {
            return;
        }
        let Some(shelf) = self.prices.lookup(line.barcode, line.product) else {
            return;
        };
        let (unit_price, currency) = line.unit_price;
        if currency != shelf.currency || unit_price <= shelf.minor {
            return;
        }
        // A returned item (quantity zero or below) was refunded, not overcharged.
        let Some(quantity) = Dec::from_f64(line.quantity).filter(|q| q.is_positive()) else {
            return;
        };
        let (total, total_currency) = line.total;
        let loss = if total_currency == shelf.currency {
            mul_div_round(shelf.minor, quantity, Dec::ONE)
                .and_then(|at_shelf| total.checked_sub(at_shelf))
                .filter(|loss| *loss > 0)
        } else {
            None
        };
        let unit = if is_count(line.unit) {
            String::new()
        } else {
            format!(" {}", line.unit.trim())
        };
        self.hits.push(Hit {
            id: line.id,
            time: line.time,
            total,
            currency: total_currency.to_string(),
            loss,
            label: line.product.to_string(),
            reason: format!(
                "charged {} at the till, {} on the shelf, × {quantity}{unit}",
                format_money(unit_price, currency),
                format_money(shelf.minor, currency),
            ),
        });
    }

    /// The lines charged above the shelf price, in the order pushed (time order).
    pub fn finish(self) -> Vec<Hit> {
        self.hits
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prices::parse_prices;

    const PRICES: &str = "3017620422003=2.49 EUR; Lait demi-écrémé 1L=0.99 EUR\nTomates=3.50 EUR";

    fn line(id: u64, product: &'static str, barcode: Option<&'static str>) -> Line<'static> {
        Line {
            id,
            time: id as i64 * 86_400_000,
            shop: "Carrefour Market Lyon 3",
            product,
            barcode,
            quantity: 1.0,
            unit: "piece",
            unit_price: (0, "EUR"),
            total: (0, "EUR"),
        }
    }

    /// A line of `quantity` at `unit_price` minor units, with the total the till would print.
    fn priced(mut l: Line<'static>, quantity: f64, unit_price: i64) -> Line<'static> {
        l.quantity = quantity;
        l.unit_price = (unit_price, "EUR");
        let total = mul_div_round(unit_price, Dec::from_f64(quantity).unwrap(), Dec::ONE);
        l.total = (total.unwrap(), "EUR");
        l
    }

    fn scan(shop: &str, lines: &[Line]) -> Vec<Hit> {
        let mut s = Scanner::new(parse_prices("prices", PRICES).unwrap(), shop);
        lines.iter().for_each(|l| s.push(*l));
        s.finish()
    }

    #[test]
    fn a_line_above_the_shelf_price_is_found_by_barcode() {
        let hits = scan(
            "",
            &[priced(
                line(1, "Pâte à tartiner 400g", Some("3017620422003")),
                2.0,
                279,
            )],
        );
        assert_eq!(hits.len(), 1);
        assert_eq!((hits[0].total, hits[0].loss), (558, Some(60)));
        assert_eq!(
            hits[0].reason,
            "charged 2.79 EUR at the till, 2.49 EUR on the shelf, × 2"
        );
        assert_eq!(hits[0].label, "Pâte à tartiner 400g");
    }

    #[test]
    fn without_a_listed_barcode_the_product_name_matches_ignoring_case_and_spaces() {
        let hits = scan(
            "",
            &[
                priced(
                    line(1, " LAIT DEMI-ÉCRÉMÉ 1L ", Some("3250390000013")),
                    1.0,
                    109,
                ),
                priced(line(2, "Lait entier 1L", None), 1.0, 109),
            ],
        );
        assert_eq!(
            hits.iter().map(|h| (h.id, h.loss)).collect::<Vec<_>>(),
            vec![(1, Some(10))]
        );
    }

    #[test]
    fn at_or_below_the_shelf_price_is_no_finding() {
        let hits = scan(
            "",
            &[
                priced(line(1, "x", Some("3017620422003")), 1.0, 249),
                priced(line(2, "x", Some("3017620422003")), 1.0, 199),
            ],
        );
        assert!(hits.is_empty());
    }

    #[test]
    fn the_loss_rounds_the_shelf_price_times_the_quantity_half_away_from_zero() {
        // 3.50 EUR/kg × 0.35 kg = 1.225 EUR at the shelf, so 1.23 EUR; the till charged
        // 3.79 × 0.35 = 1.3265, printed 1.33: 0.10 EUR lost.
        let hits = scan("", &[priced(line(1, "Tomates", None), 0.35, 379)]);
        assert_eq!(hits.len(), 1);
        assert_eq!((hits[0].total, hits[0].loss), (133, Some(10)));
        let mut l = priced(line(1, "Tomates", None), 0.35, 379);
        l.unit = "kg";
        let hits = scan("", &[l]);
        assert!(hits[0].reason.ends_with("× 0.35 kg"), "{}", hits[0].reason);
        // A total at or below the shelf price times the quantity: a finding, but no loss.
        l.total = (123, "EUR");
        assert_eq!(scan("", &[l])[0].loss, None);
    }

    #[test]
    fn another_currency_or_a_refund_is_no_finding() {
        let mut chf = priced(line(1, "Tomates", None), 1.0, 400);
        chf.unit_price.1 = "CHF";
        chf.total.1 = "CHF";
        let refund = priced(line(2, "Tomates", None), -1.0, 400);
        assert!(scan("", &[chf, refund]).is_empty());
    }

    #[test]
    fn the_shop_filter_is_a_case_insensitive_substring() {
        let l = priced(line(1, "Tomates", None), 1.0, 400);
        assert_eq!(scan("carrefour", &[l]).len(), 1);
        assert!(scan("Monoprix", &[l]).is_empty());
    }

    #[test]
    fn malformed_price_lists_name_the_bad_entry() {
        for (list, want) in [
            (
                "Tomates 3.50 EUR",
                "entry `Tomates 3.50 EUR`: write it as `key=value`",
            ),
            (
                "Tomates=3.505 EUR",
                "entry `Tomates=3.505 EUR`: `3.505` has more than 2",
            ),
            (
                "Tomates=3.50",
                "entry `Tomates=3.50`: `3.50` has no currency",
            ),
            (
                "Tomates=1 EUR;tomates=2 EUR",
                "entry `tomates=2 EUR`: this barcode or product",
            ),
        ] {
            let err = parse_prices("prices", list).unwrap_err();
            assert!(err.contains(want), "{list:?}: {err}");
        }
    }
}
