//! The scanning rules, independent of the plugin interface, so that the same code can run
//! natively (the benchmark's baseline) and inside the sandbox.

use std::collections::HashMap;

/// One bank transaction, as the rules see it.
#[derive(Debug, Clone, Copy)]
pub struct Tx<'a> {
    pub id: u64,
    pub time: i64,
    /// Negative for a debit.
    pub minor: i64,
    pub currency: &'a str,
    pub label: &'a str,
    pub counterparty: Option<&'a str>,
}

/// Which charges count as illegitimate.
#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    /// Fees from a counterparty matching the pattern, above the agreed amount (minor units).
    AgencyFee { agreed: i64, currency: String },
    /// Small debits (at most `max` minor units) matching the pattern, recurring at least
    /// `min_count` times: each one is a finding.
    RecurringSmall {
        max: i64,
        currency: String,
        min_count: usize,
    },
    /// The same debit (amount, counterparty and label) charged again within `window_ms`.
    Duplicate { window_ms: i64 },
    /// Letting-agency micro-fees: a debit whose counterparty or label matches the pattern (the
    /// agency), of at most `max` minor units, whose label contains one of `keywords` (already
    /// lowercased; matched case-insensitively, accents included). The whole charge is the
    /// loss: a tenant in France owes no fee for a rent notice, a receipt or a reminder (loi
    /// n° 89-462 du 6 juillet 1989, art. 21: no fee for the rent notice or the receipt may be
    /// charged to the tenant; art. 4 p): a lease clause making the tenant pay reminder or
    /// receipt-sending fees is void).
    MicroFees {
        max: i64,
        currency: String,
        keywords: Vec<String>,
    },
}

impl Rule {
    pub fn name(&self) -> &'static str {
        match self {
            Rule::AgencyFee { .. } => "agency-fee",
            Rule::RecurringSmall { .. } => "recurring-small",
            Rule::Duplicate { .. } => "duplicate",
            Rule::MicroFees { .. } => "micro-fees",
        }
    }
}

/// A charge the rule matched.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub id: u64,
    pub time: i64,
    pub minor: i64,
    pub currency: String,
    pub label: String,
    /// What was charged too much, in minor units (positive).
    pub overcharge: i64,
    pub reason: String,
}

/// ASCII case-insensitive substring search; an empty needle matches everything.
fn contains_ci(hay: &str, needle_lower: &[u8]) -> bool {
    let h = hay.as_bytes();
    if needle_lower.is_empty() {
        return true;
    }
    if h.len() < needle_lower.len() {
        return false;
    }
    let first = needle_lower[0];
    (0..=h.len() - needle_lower.len()).any(|i| {
        h[i].to_ascii_lowercase() == first
            && h[i..i + needle_lower.len()]
                .iter()
                .zip(needle_lower)
                .all(|(a, b)| a.to_ascii_lowercase() == *b)
    })
}

fn money(minor: i64, currency: &str) -> String {
    let abs = minor.unsigned_abs();
    format!(
        "{}{}.{:02} {currency}",
        if minor < 0 { "-" } else { "" },
        abs / 100,
        abs % 100
    )
}

/// Runs one rule over transactions pushed in time order.
pub struct Scanner {
    rule: Rule,
    pattern: Vec<u8>,
    hits: Vec<Hit>,
    candidates: Vec<Hit>,
    last_seen: HashMap<(i64, String, String), i64>,
    pub scanned: u64,
}

impl Scanner {
    pub fn new(rule: Rule, pattern: &str) -> Self {
        Scanner {
            rule,
            pattern: pattern.to_ascii_lowercase().into_bytes(),
            hits: Vec::new(),
            candidates: Vec::new(),
            last_seen: HashMap::new(),
            scanned: 0,
        }
    }

    fn matches(&self, tx: &Tx) -> bool {
        contains_ci(tx.label, &self.pattern)
            || tx
                .counterparty
                .is_some_and(|c| contains_ci(c, &self.pattern))
    }

    pub fn push(&mut self, tx: Tx) {
        self.scanned += 1;
        if tx.minor >= 0 || !self.matches(&tx) {
            return;
        }
        // Saturating: `i64::MIN` has no positive counterpart, and no input may panic.
        let charged = tx.minor.saturating_neg();
        let hit = |overcharge: i64, reason: String| Hit {
            id: tx.id,
            time: tx.time,
            minor: tx.minor,
            currency: tx.currency.to_string(),
            label: tx.label.to_string(),
            overcharge,
            reason,
        };
        match &self.rule {
            Rule::AgencyFee { agreed, currency } => {
                if tx.currency == currency && charged > *agreed {
                    self.hits.push(hit(
                        charged - agreed,
                        format!(
                            "charged {} where {} was agreed",
                            money(charged, currency),
                            money(*agreed, currency)
                        ),
                    ));
                }
            }
            Rule::RecurringSmall { max, currency, .. } => {
                if tx.currency == currency && charged <= *max {
                    self.candidates.push(hit(
                        charged,
                        format!("small recurring charge of {}", money(charged, currency)),
                    ));
                }
            }
            Rule::Duplicate { window_ms } => {
                let key = (
                    tx.minor,
                    tx.counterparty.unwrap_or("").to_string(),
                    tx.label.to_string(),
                );
                if let Some(prev) = self.last_seen.insert(key, tx.time)
                    && tx.time - prev <= *window_ms
                {
                    self.hits.push(hit(
                        charged,
                        format!(
                            "same charge of {} already taken {} h earlier",
                            money(charged, tx.currency),
                            (tx.time - prev) / 3_600_000
                        ),
                    ));
                }
            }
            Rule::MicroFees {
                max,
                currency,
                keywords,
            } => {
                if tx.currency != currency || charged > *max {
                    return;
                }
                // Unicode lowercase, so that `ÉCHÉANCE` in a bank label meets `échéance`.
                let label = tx.label.to_lowercase();
                if let Some(kw) = keywords.iter().find(|k| label.contains(k.as_str())) {
                    self.hits.push(hit(
                        charged,
                        format!(
                            "a fee of {} charged by the letting agency (label mentions \"{kw}\"): \
                             fees for rent notices, receipts or reminders cannot be charged to a \
                             tenant",
                            money(charged, currency)
                        ),
                    ));
                }
            }
        }
    }

    /// The matched charges, in time order.
    pub fn finish(mut self) -> Vec<Hit> {
        if let Rule::RecurringSmall { min_count, .. } = self.rule
            && self.candidates.len() >= min_count
        {
            let n = self.candidates.len();
            for mut c in self.candidates.drain(..) {
                c.reason = format!("{}, one of {n} such charges", c.reason);
                self.hits.push(c);
            }
        }
        self.hits.sort_by_key(|h| (h.time, h.id));
        self.hits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tx(
        id: u64,
        day: i64,
        minor: i64,
        label: &'static str,
        cp: Option<&'static str>,
    ) -> Tx<'static> {
        Tx {
            id,
            time: day * 86_400_000,
            minor,
            currency: "EUR",
            label,
            counterparty: cp,
        }
    }

    fn run(rule: Rule, pattern: &str, txs: &[Tx]) -> Vec<Hit> {
        let mut s = Scanner::new(rule, pattern);
        txs.iter().for_each(|t| s.push(*t));
        s.finish()
    }

    #[test]
    fn agency_fees_above_the_agreed_amount_match_and_others_do_not() {
        let txs = [
            tx(
                1,
                1,
                -4500,
                "FRAIS DE GESTION",
                Some("Agence Dupont Immobilier"),
            ),
            tx(
                2,
                2,
                -3000,
                "FRAIS DE GESTION",
                Some("Agence Dupont Immobilier"),
            ),
            tx(3, 3, -9000, "LOYER", Some("SCI Les Lilas")),
            tx(
                4,
                4,
                4500,
                "REMBOURSEMENT",
                Some("Agence Dupont Immobilier"),
            ),
        ];
        let hits = run(
            Rule::AgencyFee {
                agreed: 3000,
                currency: "EUR".into(),
            },
            "dupont",
            &txs,
        );
        assert_eq!(hits.len(), 1);
        assert_eq!((hits[0].id, hits[0].overcharge), (1, 1500));
    }

    #[test]
    fn small_charges_count_only_when_they_recur() {
        let few = [
            tx(1, 1, -199, "FRAIS TENUE COMPTE", None),
            tx(2, 30, -199, "FRAIS TENUE COMPTE", None),
        ];
        let rule = Rule::RecurringSmall {
            max: 500,
            currency: "EUR".into(),
            min_count: 3,
        };
        assert!(run(rule.clone(), "frais tenue", &few).is_empty());
        let many: Vec<Tx> = (0..4)
            .map(|i| tx(i, i as i64 * 30, -199, "FRAIS TENUE COMPTE", None))
            .collect();
        let hits = run(rule, "frais tenue", &many);
        assert_eq!(hits.len(), 4);
        assert_eq!(hits.iter().map(|h| h.overcharge).sum::<i64>(), 796);
    }

    #[test]
    fn a_charge_repeated_within_the_window_is_a_duplicate() {
        let txs = [
            tx(1, 1, -2599, "ABONNEMENT SALLE", Some("FitClub")),
            tx(2, 1, -2599, "ABONNEMENT SALLE", Some("FitClub")),
            tx(3, 31, -2599, "ABONNEMENT SALLE", Some("FitClub")),
        ];
        let hits = run(
            Rule::Duplicate {
                window_ms: 3 * 86_400_000,
            },
            "",
            &txs,
        );
        assert_eq!(hits.iter().map(|h| h.id).collect::<Vec<_>>(), vec![2]);
    }

    fn micro_fees(max: i64) -> Rule {
        Rule::MicroFees {
            max,
            currency: "EUR".into(),
            keywords: ["frais", "quittance", "relance", "avis d'échéance"]
                .map(String::from)
                .to_vec(),
        }
    }

    #[test]
    fn small_agency_fees_named_as_such_are_micro_fees_lost_in_full() {
        let txs = [
            tx(
                1,
                1,
                -350,
                "FRAIS RELANCE",
                Some("Agence Dupont Immobilier"),
            ),
            tx(
                2,
                2,
                -200,
                "AVIS D'ÉCHÉANCE MARS",
                Some("Agence Dupont Immobilier"),
            ),
            tx(3, 3, -150, "Dupont Immo quittance", None),
            tx(4, 4, -90000, "LOYER MARS", Some("Agence Dupont Immobilier")),
        ];
        let hits = run(micro_fees(1000), "dupont", &txs);
        assert_eq!(
            hits.iter()
                .map(|h| (h.id, h.overcharge))
                .collect::<Vec<_>>(),
            vec![(1, 350), (2, 200), (3, 150)]
        );
        assert!(hits[0].reason.contains("3.50 EUR"), "{}", hits[0].reason);
        assert!(
            hits[1].reason.contains("avis d'échéance"),
            "{}",
            hits[1].reason
        );
    }

    #[test]
    fn micro_fees_need_a_keyword_the_agency_and_a_small_debit_in_the_currency() {
        let mut other_currency = tx(5, 5, -350, "FRAIS RELANCE", Some("Agence Dupont"));
        other_currency.currency = "CHF";
        let txs = [
            // No keyword in the label.
            tx(1, 1, -350, "ASSURANCE HABITATION", Some("Agence Dupont")),
            // Above `max`.
            tx(2, 2, -1001, "FRAIS DE DOSSIER", Some("Agence Dupont")),
            // Another counterparty.
            tx(3, 3, -350, "FRAIS RELANCE", Some("Banque Martin")),
            // A credit, not a charge.
            tx(
                4,
                4,
                350,
                "REMBOURSEMENT FRAIS RELANCE",
                Some("Agence Dupont"),
            ),
            other_currency,
            // Exactly `max` still counts.
            tx(6, 6, -1000, "Frais de quittance", Some("Agence Dupont")),
        ];
        let hits = run(micro_fees(1000), "dupont", &txs);
        assert_eq!(hits.iter().map(|h| h.id).collect::<Vec<_>>(), vec![6]);
    }
}
