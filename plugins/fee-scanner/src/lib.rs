//! `fee-scanner`: finds illegitimate charges in `bank.transactions`.
//!
//! Parameters:
//! - `rule` (text): `agency-fee`, `recurring-small`, `duplicate` or `micro-fees`;
//! - `pattern` (text, default empty = every transaction): matched case-insensitively against
//!   the label and the counterparty; required (the letting agency's name) for `micro-fees`;
//! - `agreed` (money): for `agency-fee`, the fee the person agreed to;
//! - `max` (money): for `recurring-small`, the largest charge that counts as small; for
//!   `micro-fees`, the largest charge that counts as a micro-fee (same currency as the debits);
//! - `min-count` (integer, default 3): for `recurring-small`, how many make it recurring;
//! - `window-days` (integer, default 3): for `duplicate`, how close the repeat must be;
//! - `keywords` (text, default `frais,fee,quittance,relance,avis d'echeance,avis d'échéance`):
//!   for `micro-fees`, comma-separated words of which the label must contain one
//!   (case-insensitive);
//! - `max-findings` (integer, default 500): findings returned at most (the totals cover all).
//!
//! `micro-fees` finds letting-agency charges for rent notices, receipts and reminders, which a
//! tenant in France does not owe (loi n° 89-462 du 6 juillet 1989, art. 4 p) and art. 21): the
//! whole charge is the loss.
//!
//! Output: findings (date, amount, loss, label, rule, reason, the transaction as evidence) and
//! a summary with the total overcharge, the number matched and the number scanned. Every
//! finding's `loss` is what it cost the person, so that a campaign can share a settlement.

pub mod scan;

use insitu_sdk::{
    Evidence, Finding, FindingsReport, Metric, Money, Output, Params, Plugin, PluginError, Query,
    Scalar,
};
use scan::{Rule, Scanner, Tx};

/// The fields the scanner reads.
pub const FIELDS: [&str; 3] = ["amount", "label", "counterparty"];

/// The default `keywords` of `micro-fees`: the words letting agencies put on such charges.
pub const MICRO_FEE_KEYWORDS: &str = "frais,fee,quittance,relance,avis d'echeance,avis d'échéance";

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
        "micro-fees" => {
            if pattern.trim().is_empty() {
                return Err(PluginError::InvalidParams(
                    "rule `micro-fees` needs `pattern`: the letting agency's name as it appears \
                     on the statement"
                        .into(),
                ));
            }
            let m = params.money("max")?;
            let keywords: Vec<String> = params
                .text_or("keywords", MICRO_FEE_KEYWORDS)?
                .split(',')
                .map(|k| k.trim().to_lowercase())
                .filter(|k| !k.is_empty())
                .collect();
            if keywords.is_empty() {
                return Err(PluginError::InvalidParams(
                    "parameter `keywords` lists no keyword; give comma-separated words such as \
                     `frais,quittance`"
                        .into(),
                ));
            }
            Rule::MicroFees {
                max: m.minor,
                currency: m.currency,
                keywords,
            }
        }
        other => {
            return Err(PluginError::InvalidParams(format!(
                "unknown rule `{other}`; use agency-fee, recurring-small, duplicate or micro-fees"
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
                Some((_, t)) => *t = t.saturating_add(h.overcharge),
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
                    currency: h.currency.clone(),
                }),
                loss: Some(Money {
                    minor: h.overcharge,
                    currency: h.currency,
                }),
                label: insitu_sdk::fit(&h.label, insitu_sdk::MAX_LABEL_BYTES),
                reason: insitu_sdk::fit(&h.reason, insitu_sdk::MAX_REASON_BYTES),
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

#[cfg(test)]
mod tests {
    use super::*;
    use insitu_sdk::Param;

    fn params(items: &[(&str, Scalar)]) -> Params {
        Params::new(
            items
                .iter()
                .map(|(name, value)| Param {
                    name: name.to_string(),
                    value: value.clone(),
                })
                .collect(),
        )
    }

    fn eur(minor: i64) -> Scalar {
        Scalar::Money(Money {
            minor,
            currency: "EUR".into(),
        })
    }

    #[test]
    fn micro_fees_read_the_default_keywords_and_need_the_agency() {
        let p = params(&[
            ("rule", Scalar::Text("micro-fees".into())),
            ("pattern", Scalar::Text("Dupont".into())),
            ("max", eur(1000)),
        ]);
        let Ok((Rule::MicroFees { max, keywords, .. }, pattern)) = rule_from(&p) else {
            panic!("micro-fees with a pattern and a max is a valid rule");
        };
        assert_eq!((max, pattern.as_str()), (1000, "Dupont"));
        assert!(keywords.iter().any(|k| k == "avis d'échéance"));
        assert_eq!(keywords.len(), 6);

        let no_agency = params(&[
            ("rule", Scalar::Text("micro-fees".into())),
            ("max", eur(1000)),
        ]);
        assert!(matches!(
            rule_from(&no_agency),
            Err(PluginError::InvalidParams(m)) if m.contains("pattern")
        ));
        let no_keyword = params(&[
            ("rule", Scalar::Text("micro-fees".into())),
            ("pattern", Scalar::Text("Dupont".into())),
            ("max", eur(1000)),
            ("keywords", Scalar::Text(" , ".into())),
        ]);
        assert!(matches!(
            rule_from(&no_keyword),
            Err(PluginError::InvalidParams(m)) if m.contains("keywords")
        ));
    }
}
