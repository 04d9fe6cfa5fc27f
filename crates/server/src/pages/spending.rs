//! What a person spends: their bank transactions' debits over the last two years, summed by
//! month in one pass over one scan, and the charges that come back most months.
//!
//! - One scan of `bank.transactions` over the two-year window, three fields (amount,
//!   counterparty, label), read a batch at a time and folded as it goes: nothing is kept per
//!   transaction. At most [`MAX_TRANSACTIONS`] are counted (the picture says so past it), and at
//!   most [`MAX_PAYEES`] payees are followed, so a page costs a bounded read whatever the store
//!   holds.
//! - A charge "comes back" when the same payee (the counterparty, else the label without its
//!   digits, so that `PRLV EDF 0423` and `PRLV EDF 0523` are one) is debited in at least three
//!   months and in at least half of the months that have any debit.
//!
//! May touch: the signed-in person's own bank transactions, read-only.

use std::collections::HashMap;

use insitu_core::store::{ColumnValues, Store, StoreError, TimeRange};

use super::charts::{Recurring, month_index, months};

/// The most transactions a page counts.
pub const MAX_TRANSACTIONS: usize = 50_000;
/// The most distinct payees followed for the charges that come back.
pub const MAX_PAYEES: usize = 5_000;
/// The months drawn: the last two years, this month included.
pub const MONTHS: usize = 24;

/// A person's spending in one currency.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Spending {
    pub currency: String,
    /// (month start, minor units debited), oldest first, [`MONTHS`] of them.
    pub by_month: Vec<(i64, i64)>,
    /// The charges that come back most months, the largest average first (ten at most).
    pub recurring: Vec<Recurring>,
    /// Set when [`MAX_TRANSACTIONS`] were reached: the pictures count only those.
    pub truncated: bool,
}

/// The fold: debits per (currency, month), and per (currency, payee) the months and total.
#[derive(Debug, Default)]
pub struct Fold {
    frame: Vec<i64>,
    months: HashMap<String, Vec<i64>>,
    payees: HashMap<(String, String), Payee>,
    seen: usize,
}

/// A payee followed: its first spelling, the months it was debited in, and the total.
#[derive(Debug)]
struct Payee {
    label: String,
    months: u32,
    seen: Vec<bool>,
    total: i64,
}

/// The payee of a debit: its counterparty, else its label without digits (payees are compared
/// without case).
pub fn payee(counterparty: Option<&str>, label: &str) -> String {
    let raw = counterparty
        .filter(|c| !c.trim().is_empty())
        .unwrap_or(label);
    let words: Vec<String> = raw
        .split_whitespace()
        .map(|w| {
            w.chars()
                .filter(|c| !c.is_ascii_digit())
                .collect::<String>()
        })
        .filter(|w| !w.is_empty())
        .collect();
    words.join(" ")
}

impl Fold {
    /// A fold over the [`MONTHS`] months up to the month of `now_ms`.
    pub fn new(now_ms: i64) -> Fold {
        Fold {
            frame: months(now_ms, MONTHS),
            ..Default::default()
        }
    }

    /// The window to scan: from the first month of the frame to `now_ms`, included.
    pub fn window(&self, now_ms: i64) -> TimeRange {
        TimeRange {
            since: self.frame.first().copied(),
            until: Some(now_ms + 1),
        }
    }

    /// Counts one transaction; false once [`MAX_TRANSACTIONS`] were counted.
    pub fn add(&mut self, at_ms: i64, minor: i64, currency: &str, payee: &str) -> bool {
        if self.seen >= MAX_TRANSACTIONS {
            return false;
        }
        self.seen += 1;
        let Some(m) = month_index(&self.frame, at_ms).filter(|_| minor < 0) else {
            return true;
        };
        let n = self.frame.len();
        self.months
            .entry(currency.to_string())
            .or_insert_with(|| vec![0; n])[m] += -minor;
        let key = (currency.to_string(), payee.to_lowercase());
        if !payee.is_empty() && (self.payees.len() < MAX_PAYEES || self.payees.contains_key(&key)) {
            let p = self.payees.entry(key).or_insert_with(|| Payee {
                label: payee.to_string(),
                months: 0,
                seen: vec![false; n],
                total: 0,
            });
            if !p.seen[m] {
                p.seen[m] = true;
                p.months += 1;
            }
            p.total += -minor;
        }
        true
    }

    /// The spending per currency, the currency spent most first.
    pub fn finish(self) -> Vec<Spending> {
        let truncated = self.seen >= MAX_TRANSACTIONS;
        let mut out: Vec<Spending> = self
            .months
            .iter()
            .map(|(currency, sums)| {
                let active = sums.iter().filter(|v| **v > 0).count() as u32;
                let mut recurring: Vec<Recurring> = self
                    .payees
                    .iter()
                    .filter(|((c, _), p)| {
                        c == currency
                            && p.months >= 3
                            && u64::from(p.months) * 2 >= u64::from(active)
                    })
                    .map(|((c, _), p)| Recurring {
                        label: p.label.clone(),
                        months: p.months,
                        average: p.total / i64::from(p.months),
                        currency: c.clone(),
                    })
                    .collect();
                recurring.sort_by(|a, b| b.average.cmp(&a.average).then(a.label.cmp(&b.label)));
                recurring.truncate(10);
                Spending {
                    currency: currency.clone(),
                    by_month: self
                        .frame
                        .iter()
                        .copied()
                        .zip(sums.iter().copied())
                        .collect(),
                    recurring,
                    truncated,
                }
            })
            .collect();
        out.sort_by_key(|s| {
            (
                -s.by_month.iter().map(|(_, v)| v).sum::<i64>(),
                s.currency.clone(),
            )
        });
        out
    }
}

/// `person`'s spending over the last two years, from one scan of their bank transactions
/// (none if they keep none).
pub fn read(store: &dyn Store, person: u64, now_ms: i64) -> Result<Vec<Spending>, StoreError> {
    let mut fold = Fold::new(now_ms);
    let collection = insitu_formats::schema::BANK_TRANSACTIONS;
    match store.count(person, collection) {
        Ok(0) | Err(StoreError::NoCollection(_)) => return Ok(vec![]),
        Ok(_) => {}
        Err(e) => return Err(e),
    }
    let fields = ["amount", "counterparty", "label"].map(String::from);
    let mut cursor = store.scan(person, collection, fold.window(now_ms), &fields)?;
    'scan: while let Some((batch, _)) = cursor.next_batch(1_000)? {
        let [amount, counterparty, label] = &batch.columns[..] else {
            break;
        };
        let (ColumnValues::Money(amounts), ColumnValues::Text(names), ColumnValues::Text(labels)) =
            (&amount.values, &counterparty.values, &label.values)
        else {
            break;
        };
        for i in 0..batch.len() {
            let (minor, currency) = amounts.get(i);
            let name = counterparty
                .valid
                .as_ref()
                .is_none_or(|v| v[i])
                .then(|| names.get(i));
            if !fold.add(batch.times[i], minor, currency, &payee(name, labels.get(i))) {
                break 'scan;
            }
        }
    }
    Ok(fold.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pages::charts::month_start;

    #[test]
    fn debits_are_summed_by_month_and_charges_that_come_back_are_found() {
        let now = month_start(2026, 11) + 3 * 86_400_000;
        let mut fold = Fold::new(now);
        // Rent every month of the two years, a phone bill in 10 of them, a one-off purchase,
        // a salary (a credit: not spending) and a debit from before the window.
        for back in 0..24 {
            let (y, m) = (
                (2026 * 12 + 10 - back) / 12,
                (2026 * 12 + 10 - back) % 12 + 1,
            );
            let day = month_start(y, m) + 86_400_000;
            assert!(fold.add(day, -80_000, "EUR", &payee(Some("Agence Dupont"), "LOYER")));
            assert!(fold.add(day, 250_000, "EUR", &payee(Some("Employer"), "SALAIRE")));
            if back < 10 {
                assert!(fold.add(
                    day,
                    -2_000,
                    "EUR",
                    &payee(None, &format!("PRLV SFR {back:04}"))
                ));
            }
        }
        fold.add(month_start(2026, 2), -12_345, "EUR", "fnac");
        fold.add(month_start(2024, 11), -99_999, "EUR", "old");
        let s = fold.finish();
        assert_eq!(s.len(), 1);
        let s = &s[0];
        assert_eq!(s.by_month.len(), 24);
        assert_eq!(s.by_month[0], (month_start(2024, 12), 80_000));
        assert_eq!(s.by_month[23], (month_start(2026, 11), 82_000));
        assert_eq!(
            s.by_month[14],
            (month_start(2026, 2), 80_000 + 2_000 + 12_345)
        );
        // The rent comes back every month; the phone bill in 10 of 24 is less than half.
        let names: Vec<_> = s
            .recurring
            .iter()
            .map(|r| (r.label.as_str(), r.months, r.average))
            .collect();
        assert_eq!(names, [("Agence Dupont", 24, 80_000)]);
        assert!(!s.truncated);
    }

    #[test]
    fn the_fold_stops_at_its_cap() {
        let now = month_start(2026, 11);
        let mut fold = Fold::new(now);
        for _ in 0..MAX_TRANSACTIONS {
            assert!(fold.add(now, -1, "EUR", "x"));
        }
        assert!(!fold.add(now, -1, "EUR", "x"));
        let s = fold.finish();
        assert!(s[0].truncated);
        assert_eq!(s[0].by_month[23].1, MAX_TRANSACTIONS as i64);
    }

    #[test]
    fn a_payee_is_its_counterparty_else_its_label_without_digits() {
        assert_eq!(payee(Some("EDF"), "PRLV 0423"), "EDF");
        assert_eq!(
            payee(None, "PRLV SEPA EDF 0423 REF 12"),
            "PRLV SEPA EDF REF"
        );
        assert_eq!(payee(Some("  "), "CB 12/03 FNAC"), "CB / FNAC");
    }
}
