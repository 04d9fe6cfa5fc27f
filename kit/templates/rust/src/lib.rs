//! `insitu-plugin-template`: the `large-debit` rule.
//!
//! Reads `bank.transactions` (`amount` and `label`, and `counterparty` when the person granted
//! it) and finds every debit at or above a threshold, in the threshold's currency (debits in
//! other currencies are skipped).
//!
//! Parameters:
//! - `threshold` (money, default `100.00 EUR`; an integer is read as minor units of EUR);
//! - `fail` (text): panic with this message, to see how an error reaches the run's failure
//!   reason.
//!
//! Output: one finding per large debit (its time, amount, label, a reason and the transaction
//! as evidence), and a summary: `count` (integer) and `total` (money, the sum of the debits'
//! absolute values).
//!
//! The rule itself ([`Rule`]) is plain Rust over plain values, so `cargo test` checks it on
//! this machine; [`LargeDebit`] connects it to the store through the SDK.

use insitu_sdk::{
    Evidence, Finding, FindingsReport, Metric, Money, Output, Params, Plugin, PluginError, Query,
    Scalar,
};

/// The rule's name, as findings carry it.
pub const RULE: &str = "large-debit";
/// The collection the rule reads.
pub const COLLECTION: &str = "bank.transactions";
/// The fields it asks for; `counterparty` may have been narrowed away by the person.
pub const FIELDS: [&str; 3] = ["amount", "label", "counterparty"];

/// `minor` units of `currency` as text: `-123.45 EUR`.
pub fn money_text(minor: i64, currency: &str) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!("{sign}{}.{:02} {currency}", abs / 100, abs % 100)
}

/// The threshold of a run: `threshold` as money, or as an integer of EUR minor units.
pub fn threshold(params: &Params) -> Result<Money, PluginError> {
    match params.get("threshold") {
        None => Ok(Money {
            minor: 10_000,
            currency: "EUR".into(),
        }),
        Some(Scalar::Integer(minor)) => Ok(Money {
            minor: *minor,
            currency: "EUR".into(),
        }),
        Some(_) => params.money("threshold"),
    }
}

/// The `large-debit` rule over one run's transactions, with its running totals.
pub struct Rule {
    threshold: Money,
    findings: Vec<Finding>,
    total: i64,
}

impl Rule {
    pub fn new(threshold: Money) -> Self {
        Rule {
            threshold,
            findings: Vec::new(),
            total: 0,
        }
    }

    /// Looks at one transaction: a debit (negative amount) in the threshold's currency whose
    /// size is at least the threshold becomes a finding.
    pub fn push(&mut self, id: u64, time: i64, minor: i64, currency: &str, label: &str) {
        if minor >= 0 || currency != self.threshold.currency {
            return;
        }
        let size = minor.unsigned_abs();
        if size < self.threshold.minor.max(0) as u64 {
            return;
        }
        self.total = self.total.saturating_add(size.min(i64::MAX as u64) as i64);
        self.findings.push(Finding {
            rule: RULE.into(),
            time,
            amount: Some(Money {
                minor,
                currency: currency.into(),
            }),
            loss: None,
            label: insitu_sdk::fit(label, insitu_sdk::MAX_LABEL_BYTES),
            reason: format!(
                "a debit of {}, above the threshold of {}",
                money_text(size.min(i64::MAX as u64) as i64, currency),
                money_text(self.threshold.minor, &self.threshold.currency)
            ),
            evidence: vec![Evidence {
                collection: COLLECTION.into(),
                id,
            }],
        });
    }

    /// The findings and their summary.
    pub fn finish(self) -> FindingsReport {
        let summary = vec![
            Metric {
                name: "count".into(),
                value: Scalar::Integer(self.findings.len() as i64),
            },
            Metric {
                name: "total".into(),
                value: Scalar::Money(Money {
                    minor: self.total,
                    currency: self.threshold.currency,
                }),
            },
        ];
        FindingsReport {
            findings: self.findings,
            summary,
        }
    }
}

/// The plugin: reads the granted transactions batch by batch and feeds them to [`Rule`].
pub struct LargeDebit;

impl Plugin for LargeDebit {
    fn run(params: Params) -> Result<Output, PluginError> {
        if let Some(Scalar::Text(message)) = params.get("fail") {
            panic!("{message}");
        }
        let mut rule = Rule::new(threshold(&params)?);
        // Ask only for the fields the person granted: asking for one outside the grant fails.
        let granted: Vec<String> = insitu_sdk::collections()
            .into_iter()
            .find(|c| c.name == COLLECTION)
            .map(|c| c.fields.into_iter().map(|f| f.name).collect())
            .unwrap_or_default();
        let fields: Vec<&str> = FIELDS
            .into_iter()
            .filter(|f| granted.iter().any(|g| g == f))
            .collect();
        let mut rows = Query::new(COLLECTION).fields(&fields).open()?;
        while let Some(batch) = rows.next_batch()? {
            let (Some(amount), Some(label)) = (batch.money("amount"), batch.text("label")) else {
                return Err(PluginError::Data("amount and label must be granted".into()));
            };
            for (i, (&id, &time)) in batch.ids().iter().zip(batch.times()).enumerate() {
                if let Some((minor, currency)) = amount.get(i) {
                    rule.push(id, time, minor, currency, label.get(i).unwrap_or(""));
                }
            }
        }
        Ok(Output::Findings(rule.finish()))
    }
}

insitu_sdk::export_plugin!(LargeDebit);

#[cfg(test)]
mod tests {
    use super::*;
    use insitu_sdk::Param;

    fn eur(minor: i64) -> Money {
        Money {
            minor,
            currency: "EUR".into(),
        }
    }

    #[test]
    fn debits_at_or_above_the_threshold_are_found_and_totalled() {
        let mut rule = Rule::new(eur(10_000));
        rule.push(1, 1_000, -12_345, "EUR", "RENT");
        rule.push(2, 2_000, -10_000, "EUR", "EXACTLY THE THRESHOLD");
        rule.push(3, 3_000, -9_999, "EUR", "JUST BELOW");
        rule.push(4, 4_000, 250_000, "EUR", "SALARY (a credit)");
        rule.push(5, 5_000, -50_000, "USD", "ANOTHER CURRENCY");
        let report = rule.finish();
        let ids: Vec<u64> = report.findings.iter().map(|f| f.evidence[0].id).collect();
        assert_eq!(ids, [1, 2]);
        let first = &report.findings[0];
        assert_eq!(first.rule, "large-debit");
        assert_eq!((first.time, first.label.as_str()), (1_000, "RENT"));
        assert_eq!(first.amount.as_ref().map(|m| m.minor), Some(-12_345));
        assert!(first.loss.is_none());
        assert_eq!(
            first.reason,
            "a debit of 123.45 EUR, above the threshold of 100.00 EUR"
        );
        assert!(matches!(report.summary[0].value, Scalar::Integer(2)));
        assert!(matches!(
            &report.summary[1].value,
            Scalar::Money(m) if m.minor == 22_345 && m.currency == "EUR"
        ));
    }

    #[test]
    fn the_threshold_is_money_or_an_integer_of_minor_units() {
        let params = |value: Option<Scalar>| {
            Params::new(
                value
                    .into_iter()
                    .map(|value| Param {
                        name: "threshold".into(),
                        value,
                    })
                    .collect(),
            )
        };
        assert_eq!(threshold(&params(None)).unwrap().minor, 10_000);
        assert_eq!(
            threshold(&params(Some(Scalar::Integer(5_000))))
                .unwrap()
                .minor,
            5_000
        );
        let usd = Money {
            minor: 700,
            currency: "USD".into(),
        };
        let got = threshold(&params(Some(Scalar::Money(usd)))).unwrap();
        assert_eq!((got.minor, got.currency.as_str()), (700, "USD"));
        assert!(matches!(
            threshold(&params(Some(Scalar::Text("a lot".into())))),
            Err(PluginError::InvalidParams(m)) if m.contains("threshold")
        ));
    }
}
