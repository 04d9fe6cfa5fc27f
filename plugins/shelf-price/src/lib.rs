//! `shelf-price`: finds receipt lines in `receipts.items` charged above the shelf price.
//!
//! Parameters:
//! - `prices` (text, required): the shelf price list, entries separated by `;` or newlines,
//!   each `key=amount CUR`, where the key is a barcode or a product name, e.g.
//!   `3017620422003=2.49 EUR; Lait demi-écrémé 1L=0.99 EUR`. Amounts have at most 2 decimals,
//!   written with a dot; a malformed entry fails the run with `invalid-params` naming it;
//! - `shop` (text, default empty = every shop): matched case-insensitively as a substring of
//!   the line's `shop`;
//! - `max-findings` (integer, default 500): findings returned at most (the totals cover all).
//!
//! A line is matched to the list by its barcode first, else by its product name (compared
//! case-insensitively, after trimming). It is a finding (rule `shelf-price`) when its unit price
//! is above the shelf price, in the same currency, for a positive quantity. Its `loss` is the
//! line's total less the shelf price times the quantity (rounded half away from zero to the
//! cent), when that is positive.
//!
//! Output: findings (receipt date, the line's total, the loss, the product, the reason, the
//! line as evidence) and a summary: `matched`, `scanned`, and `total-loss` per currency.

pub mod prices;
pub mod scan;

use insitu_sdk::{
    Evidence, Finding, FindingsReport, Money, Output, Params, Plugin, PluginError, Query,
};
use scan::{Line, Scanner};

/// The collection read.
pub const COLLECTION: &str = "receipts.items";
/// The fields the scan reads (the receipt's date comes as the record time).
pub const FIELDS: [&str; 7] = [
    "shop",
    "product",
    "barcode",
    "quantity",
    "unit",
    "unit_price",
    "total",
];
/// The fields without which no line can be compared.
const REQUIRED: [&str; 4] = ["product", "quantity", "unit_price", "total"];

/// The fields of `FIELDS` the person granted: the others (`barcode`, say) may have been
/// narrowed away at consent, and asking for them would fail the query.
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

struct ShelfPrice;

impl Plugin for ShelfPrice {
    fn run(params: Params) -> Result<Output, PluginError> {
        let prices = prices::parse_prices("prices", &params.text("prices")?)
            .map_err(PluginError::InvalidParams)?;
        if prices.is_empty() {
            return Err(PluginError::InvalidParams(
                "parameter `prices` lists no price; write entries like `3017620422003=2.49 EUR`"
                    .into(),
            ));
        }
        let shop = params.text_or("shop", "")?;
        let max_findings = params.integer_or("max-findings", 500)?.max(0) as usize;
        let fields = granted_fields();
        if !shop.trim().is_empty() && !fields.contains(&"shop") {
            return Err(PluginError::Data(
                "`shop` must be granted to filter by shop".into(),
            ));
        }
        let mut scanner = Scanner::new(prices, &shop);
        let mut rows = Query::new(COLLECTION).fields(&fields).open()?;
        while let Some(batch) = rows.next_batch()? {
            if REQUIRED.iter().any(|f| batch.column(f).is_none()) {
                return Err(PluginError::Data(format!(
                    "{} must be granted",
                    REQUIRED.join(", ")
                )));
            }
            for row in batch.rows() {
                let (Some(product), Some(quantity), Some(unit_price), Some(total)) = (
                    row.text("product"),
                    row.float("quantity"),
                    row.money_minor("unit_price"),
                    row.money_minor("total"),
                ) else {
                    continue;
                };
                scanner.push(Line {
                    id: row.id(),
                    time: row.time(),
                    shop: row.text("shop").unwrap_or(""),
                    product,
                    barcode: row.text("barcode"),
                    quantity,
                    unit: row.text("unit").unwrap_or(""),
                    unit_price,
                    total,
                });
            }
        }
        let scanned = scanner.scanned;
        let hits = scanner.finish();
        let losses = hits
            .iter()
            .filter_map(|h| Some((h.currency.as_str(), h.loss?)));
        let summary = prices::summary(hits.len(), scanned, losses);
        let findings = hits
            .into_iter()
            .take(max_findings)
            .map(|h| Finding {
                rule: "shelf-price".into(),
                time: h.time,
                amount: Some(Money {
                    minor: h.total,
                    currency: h.currency.clone(),
                }),
                loss: h.loss.map(|minor| Money {
                    minor,
                    currency: h.currency,
                }),
                label: insitu_sdk::fit(&h.label, insitu_sdk::MAX_LABEL_BYTES),
                reason: insitu_sdk::fit(&h.reason, insitu_sdk::MAX_REASON_BYTES),
                evidence: vec![Evidence {
                    collection: COLLECTION.into(),
                    id: h.id,
                }],
            })
            .collect();
        Ok(Output::Findings(FindingsReport { findings, summary }))
    }
}

insitu_sdk::export_plugin!(ShelfPrice);
