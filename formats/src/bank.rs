//! A bank transaction as the statement parsers read it, before it becomes a record of
//! `bank.transactions` (schema in [`crate::schema`]).

use crate::note::{Imbalance, Note};
use crate::schema::{BANK_TRANSACTIONS, Value};
use crate::{BadRecord, Item, Parsed};

/// One booked transaction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BankTx {
    /// 1-based line where the transaction starts in the file.
    pub line: u64,
    pub account: String,
    /// Booking date, midnight UTC.
    pub booked: i64,
    pub value_date: Option<i64>,
    /// Signed minor units: negative for a debit.
    pub amount: i64,
    pub currency: String,
    pub counterparty: Option<String>,
    pub label: String,
    pub reference: Option<String>,
    /// Balance after this transaction, when the statement lets it be known.
    pub balance: Option<i64>,
    /// Natural key from the file (e.g. `FITID`), unique per account; `None` to key by content.
    pub key: Option<String>,
}

impl BankTx {
    /// The record, in the field order of `bank.transactions`.
    pub fn into_item(self) -> Item {
        let text = |s: Option<String>| s.filter(|s| !s.is_empty()).map_or(Value::Null, Value::Text);
        let money = |minor| Value::Money {
            minor,
            currency: self.currency.clone(),
        };
        let values = vec![
            Value::Text(self.account.clone()),
            Value::Timestamp(self.booked),
            self.value_date.map_or(Value::Null, Value::Timestamp),
            money(self.amount),
            text(self.counterparty.clone()),
            Value::Text(self.label.clone()),
            text(self.reference.clone()),
            self.balance.map_or(Value::Null, money),
        ];
        Item {
            line: self.line,
            key: self.key.map(|k| format!("{}/{k}", self.account)),
            values,
        }
    }
}

const TOO_LARGE: &str = "the amounts are too large to add up";

/// Fills each transaction's balance, going forward from the balance before the first one.
/// Transactions must be in statement order and of one account. Fails, changing nothing, when a
/// balance does not fit in an `i64`.
pub fn balances_forward(txs: &mut [BankTx], opening: i64) -> Result<(), String> {
    let mut b = opening;
    let balances = txs
        .iter()
        .map(|t| {
            b = b.checked_add(t.amount).ok_or(TOO_LARGE)?;
            Ok(b)
        })
        .collect::<Result<Vec<i64>, &str>>()?;
    for (t, b) in txs.iter_mut().zip(balances) {
        t.balance = Some(b);
    }
    Ok(())
}

/// Fills each transaction's balance in booking-date order (stable: file order for equal
/// dates), going forward from the balance before the first one, so that the latest
/// transaction carries the closing balance whatever order the statement lists them in.
/// Transactions stay in file order. Fails, changing nothing, when a balance does not fit.
pub fn balances_by_date(txs: &mut [BankTx], opening: i64) -> Result<(), String> {
    let mut order: Vec<usize> = (0..txs.len()).collect();
    order.sort_by_key(|&i| txs[i].booked);
    let mut b = opening;
    let mut balances = vec![0; txs.len()];
    for &i in &order {
        b = b.checked_add(txs[i].amount).ok_or(TOO_LARGE)?;
        balances[i] = b;
    }
    for (t, b) in txs.iter_mut().zip(balances) {
        t.balance = Some(b);
    }
    Ok(())
}

/// Fills each transaction's balance, going back from the balance after the last one.
pub fn balances_backward(txs: &mut [BankTx], closing: i64) -> Result<(), String> {
    let sum = sum(txs)?;
    balances_forward(txs, closing.checked_sub(sum).ok_or(TOO_LARGE)?)
}

fn sum(txs: &[BankTx]) -> Result<i64, String> {
    txs.iter()
        .try_fold(0i64, |s, t| s.checked_add(t.amount))
        .ok_or_else(|| TOO_LARGE.to_string())
}

/// Checks that `opening` plus the movements gives `closing`; a statement that does not add up
/// has lost or invented entries. Returns the reason when it does not.
pub fn check_totals(
    txs: &[BankTx],
    opening: i64,
    closing: i64,
    currency: &str,
) -> Result<(), Imbalance> {
    let movements = sum(txs).map_err(|_| Imbalance::TooLarge)?;
    let end = opening.checked_add(movements).ok_or(Imbalance::TooLarge)?;
    if end == closing {
        return Ok(());
    }
    Err(Imbalance::Totals {
        opening,
        movements,
        end,
        closing,
        currency: currency.to_string(),
    })
}

/// Collects transactions and bad records into the `bank.transactions` result.
pub fn parsed(txs: Vec<BankTx>, bad: Vec<BadRecord>, notes: Vec<Note>) -> Parsed {
    Parsed {
        collection: BANK_TRANSACTIONS.to_string(),
        items: txs.into_iter().map(BankTx::into_item).collect(),
        bad,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Schema;

    #[test]
    fn items_follow_the_schema_and_balances_add_up() {
        let tx = |amount| BankTx {
            account: "A".into(),
            amount,
            currency: "EUR".into(),
            label: "x".into(),
            ..Default::default()
        };
        let mut txs = vec![tx(-500), tx(1000)];
        balances_forward(&mut txs, 100).unwrap();
        assert_eq!(txs[1].balance, Some(600));
        balances_backward(&mut txs, 600).unwrap();
        assert!(balances_forward(&mut txs, i64::MAX).is_err());
        assert_eq!(txs[0].balance, Some(-400), "a failed fill changes nothing");
        assert_eq!(txs[0].balance, Some(-400));
        assert!(check_totals(&txs, 100, 600, "EUR").is_ok());
        let e = check_totals(&txs, 100, 700, "EUR").unwrap_err().to_string();
        assert!(e.contains("closing balance is 7.00 EUR"), "{e}");
        let schema = Schema::bank_transactions();
        let item = txs.remove(0).into_item();
        assert_eq!(item.values.len(), schema.fields.len());
        for (v, f) in item.values.iter().zip(&schema.fields) {
            assert!(
                v.ty() == Some(f.ty) || (f.optional && *v == Value::Null),
                "{}",
                f.name
            );
        }
    }
}
