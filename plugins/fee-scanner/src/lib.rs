//! `fee-scanner`: finds illegitimate charges in `bank.transactions`.
//!
//! Parameters:
//! - `rule` (text): `agency-fee`, `recurring-small` or `duplicate`;
//! - `pattern` (text, default empty = every transaction): matched case-insensitively against
//!   the label and the counterparty;
//! - `agreed` (money): for `agency-fee`, the fee the person agreed to;
//! - `max` (money): for `recurring-small`, the largest charge that counts as small;
//! - `min-count` (integer, default 3): for `recurring-small`, how many make it recurring;
//! - `window-days` (integer, default 3): for `duplicate`, how close the repeat must be;
//! - `max-findings` (integer, default 500): findings returned at most (the totals cover all).
//!
//! Output: findings (date, amount, label, rule, reason, the transaction as evidence) and a
//! summary with the total overcharge, the number matched and the number scanned.

pub mod scan;

use insitu_sdk::{
    Evidence, Finding, FindingsReport, Metric, Money, Output, Params, Plugin, PluginError, Query,
    Scalar,
};
use scan::{Rule, Scanner, Tx};

/// The fields the scanner reads.
pub const FIELDS: [&str; 3] = ["amount", "label", "counterparty"];

/// Reads the rule from the run's parameters.
pub fn rule_from(params: &Params) -> Result<(Rule, String), PluginError> {
    let pattern = params.text_or("pattern", "")?;
    let rule = match params.text("rule")?.as_str() {
        "agency-fee" => {
            let m = params.money("agreed")?;
            Rule::AgencyFee {
                agreed: m.minor,
                currency: m.currency,
            }
        }
        "recurring-small" => {
            let m = params.money("max")?;
            let min_count = params.integer_or("min-count", 3)?.max(1) as usize;
            Rule::RecurringSmall {
                max: m.minor,
                currency: m.currency,
                min_count,
            }
        }
        "duplicate" => Rule::Duplicate {
            window_ms: params.integer_or("window-days", 3)?.max(0) * 86_400_000,
        },
        other => {
            return Err(PluginError::InvalidParams(format!(
                "unknown rule `{other}`; use agency-fee, recurring-small or duplicate"
            )));
        }
    };
    Ok((rule, pattern))
}

struct FeeScanner;

impl Plugin for FeeScanner {
    fn run(params: Params) -> Result<Output, PluginError> {
        let (rule, pattern) = rule_from(&params)?;
        let max_findings = params.integer_or("max-findings", 500)?.max(0) as usize;
        let rule_name = rule.name();
        let mut scanner = Scanner::new(rule, &pattern);
        // Ask only for what the person granted: `counterparty` may have been narrowed away.
        let granted: Vec<String> = insitu_sdk::collections()
            .into_iter()
            .find(|c| c.name == "bank.transactions")
            .map(|c| c.fields.into_iter().map(|f| f.name).collect())
            .unwrap_or_default();
        let fields: Vec<&str> = FIELDS
            .iter()
            .copied()
            .filter(|f| granted.iter().any(|g| g == f))
            .collect();
        let mut rows = Query::new("bank.transactions").fields(&fields).open()?;
        while let Some(batch) = rows.next_batch()? {
            let (Some(amount), Some(label)) = (batch.money("amount"), batch.text("label")) else {
                return Err(PluginError::Data("amount and label must be granted".into()));
            };
            let counterparty = batch.text("counterparty");
            for (i, (&id, &time)) in batch.ids().iter().zip(batch.times()).enumerate() {
                let Some((minor, currency)) = amount.get(i) else {
                    continue;
                };
                scanner.push(Tx {
                    id,
                    time,
                    minor,
                    currency,
                    label: label.get(i).unwrap_or(""),
                    counterparty: counterparty.and_then(|c| c.get(i)),
                });
            }
        }
        let scanned = scanner.scanned;
        let hits = scanner.finish();
        let mut totals: Vec<(String, i64)> = Vec::new();
        for h in &hits {
            match totals.iter_mut().find(|(c, _)| *c == h.currency) {
                Some((_, t)) => *t += h.overcharge,
                None => totals.push((h.currency.clone(), h.overcharge)),
            }
        }
        let mut summary: Vec<Metric> = totals
            .into_iter()
            .map(|(currency, minor)| Metric {
                name: "total-overcharge".into(),
                value: Scalar::Money(Money { minor, currency }),
            })
            .collect();
        summary.push(Metric {
            name: "matched".into(),
            value: Scalar::Integer(hits.len() as i64),
        });
        summary.push(Metric {
            name: "scanned".into(),
            value: Scalar::Integer(scanned as i64),
        });
        let findings = hits
            .into_iter()
            .take(max_findings)
            .map(|h| Finding {
                rule: rule_name.into(),
                time: h.time,
                amount: Some(Money {
                    minor: h.minor,
                    currency: h.currency,
                }),
                label: h.label,
                reason: h.reason,
                evidence: vec![Evidence {
                    collection: "bank.transactions".into(),
                    id: h.id,
                }],
            })
            .collect();
        Ok(Output::Findings(FindingsReport { findings, summary }))
    }
}

insitu_sdk::export_plugin!(FeeScanner);
