//! `short-weight`: finds packs in `purchases.products` that hold less than they declare.
//!
//! Rules:
//! - `measured-short`: the member measured the pack (`measured_quantity`) and found it short of
//!   `declared_quantity` by more than the tolerance;
//! - `known-shortfall`: the pack's barcode (or, failing that, its product name) is on the
//!   `shortfalls` list, whether or not the member measured it. When both apply, the measured
//!   shortfall is the one reported (one finding per pack).
//!
//! Parameters:
//! - `tolerance` (text, default `eu`): `eu`, the tolerable negative error of Directive
//!   76/211/EEC, annex I, for packs in g, kg, ml, cl or l (none for packs counted in pieces;
//!   packs in other units, or below 5 g or ml, are not judged by `measured-short`); or `none`,
//!   where any measured shortfall counts;
//! - `shortfalls` (text, default empty): entries separated by `;` or newlines, each
//!   `key=quantity`, the key a barcode or a product name and the quantity how much its packs
//!   are known to be short, in the pack's unit (e.g. `3560070976478=5`). No tolerance applies
//!   to a listed shortfall: on average, packs must hold at least what they declare;
//! - `prices` (text, default empty): pack prices, as for `shelf-price`
//!   (`3560070976478=4.99 EUR; Café moulu 250g=3.79 EUR`);
//! - `max-findings` (integer, default 500): findings returned at most (the totals cover all).
//!
//! A finding's `loss` is the price of the missing quantity, price × shortfall / declared,
//! rounded half away from zero to the cent, when the pack's price is listed; without a price
//! it has no loss. Output: findings (record time, the pack's price, the loss, the product, the
//! reason, the record as evidence) and a summary: `matched`, `scanned`, and `total-loss` per
//! currency when any finding has a loss.

// The money and list parsing of `shelf-price`, included rather than depended on: depending on
// that crate would link its `run` export into this component as well.
#[path = "../../shelf-price/src/prices.rs"]
pub mod prices;
pub mod scan;

use insitu_sdk::{
    Evidence, Finding, FindingsReport, Money, Output, Params, Plugin, PluginError, Query,
};
use prices::{Dec, List};
use scan::{Pack, Scanner, Tolerance};

/// The collection read.
pub const COLLECTION: &str = "purchases.products";
/// The fields the rules read (the record time is when the pack was recorded).
pub const FIELDS: [&str; 5] = [
    "product",
    "barcode",
    "declared_quantity",
    "unit",
    "measured_quantity",
];
/// The fields without which no pack can be judged.
const REQUIRED: [&str; 3] = ["product", "declared_quantity", "unit"];

/// The fields of `FIELDS` the person granted: the others (`measured_quantity`, say) may have
/// been narrowed away at consent, and asking for them would fail the query.
fn granted_fields() -> Vec<&'static str> {
    let granted: Vec<String> = insitu_sdk::collections()
        .into_iter()
        .find(|c| c.name == COLLECTION)
        .map(|c| c.fields.into_iter().map(|f| f.name).collect())
        .unwrap_or_default();
    FIELDS
        .iter()
        .copied()
        .filter(|f| granted.iter().any(|g| g == f))
        .collect()
}

/// Reads the `shortfalls` list: positive quantities, written with a dot.
pub fn parse_shortfalls(text: &str) -> Result<List<Dec>, String> {
    List::parse("shortfalls", text, |v| {
        Dec::parse(v).filter(|d| d.is_positive()).ok_or_else(|| {
            format!("`{v}` is not a positive quantity; write it in the pack's unit, like 5 or 2.5")
        })
    })
}

struct ShortWeight;

impl Plugin for ShortWeight {
    fn run(params: Params) -> Result<Output, PluginError> {
        let tolerance = Tolerance::parse(&params.text_or("tolerance", "eu")?)
            .map_err(PluginError::InvalidParams)?;
        let shortfalls = parse_shortfalls(&params.text_or("shortfalls", "")?)
            .map_err(PluginError::InvalidParams)?;
        let prices = prices::parse_prices("prices", &params.text_or("prices", "")?)
            .map_err(PluginError::InvalidParams)?;
        let max_findings = params.integer_or("max-findings", 500)?.max(0) as usize;
        let mut scanner = Scanner::new(tolerance, shortfalls, prices);
        let mut rows = Query::new(COLLECTION).fields(&granted_fields()).open()?;
        while let Some(batch) = rows.next_batch()? {
            if REQUIRED.iter().any(|f| batch.column(f).is_none()) {
                return Err(PluginError::Data(format!(
                    "{} must be granted",
                    REQUIRED.join(", ")
                )));
            }
            for row in batch.rows() {
                let (Some(product), Some(declared), Some(unit)) = (
                    row.text("product"),
                    row.float("declared_quantity"),
                    row.text("unit"),
                ) else {
                    continue;
                };
                scanner.push(Pack {
                    id: row.id(),
                    time: row.time(),
                    product,
                    barcode: row.text("barcode"),
                    declared,
                    unit,
                    measured: row.float("measured_quantity"),
                });
            }
        }
        let scanned = scanner.scanned;
        let hits = scanner.finish();
        let losses = hits
            .iter()
            .filter_map(|h| Some((h.price.as_ref()?.currency.as_str(), h.loss?)));
        let summary = prices::summary(hits.len(), scanned, losses);
        let findings = hits
            .into_iter()
            .take(max_findings)
            .map(|h| {
                let money = |minor| {
                    h.price.as_ref().map(|p| Money {
                        minor,
                        currency: p.currency.clone(),
                    })
                };
                Finding {
                    rule: h.rule.into(),
                    time: h.time,
                    amount: h.price.as_ref().and_then(|p| money(p.minor)),
                    loss: h.loss.and_then(money),
                    label: insitu_sdk::fit(&h.label, insitu_sdk::MAX_LABEL_BYTES),
                    reason: insitu_sdk::fit(&h.reason, insitu_sdk::MAX_REASON_BYTES),
                    evidence: vec![Evidence {
                        collection: COLLECTION.into(),
                        id: h.id,
                    }],
                }
            })
            .collect();
        Ok(Output::Findings(FindingsReport { findings, summary }))
    }
}

insitu_sdk::export_plugin!(ShortWeight);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_shortfall_lists_name_the_bad_entry() {
        assert_eq!(
            parse_shortfalls("3560070976478=5; Thé=2.5").map(|l| l.len()),
            Ok(2)
        );
        for (list, want) in [
            (
                "3560070976478=-5",
                "entry `3560070976478=-5`: `-5` is not a positive quantity",
            ),
            ("3560070976478=0", "`0` is not a positive quantity"),
            (
                "3560070976478 5",
                "entry `3560070976478 5`: write it as `key=value`",
            ),
            ("3560070976478=5 g", "`5 g` is not a positive quantity"),
        ] {
            let err = parse_shortfalls(list).unwrap_err();
            assert!(err.contains(want), "{list:?}: {err}");
        }
    }
}
