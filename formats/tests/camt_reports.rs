//! camt.052 account reports and camt.054 debit/credit notifications: their entries are read
//! as camt.053's, with the same natural keys, so a camt.053 of the same period adds nothing.

mod common;

use common::{Tx, english, fixture, read_err, read_ok, txs};
use insitu_formats::{Format, Options, parse};

const BNP: &str = "FR7630004000031234567890143";

/// The transactions without their running balance, which only a statement's balances give.
fn without_balance(t: Vec<Tx>) -> Vec<Tx> {
    t.into_iter().map(|t| Tx { balance: None, ..t }).collect()
}

#[test]
fn a_report_with_balances_is_read_and_checked() {
    let p = read_ok(Format::Camt052, "camt/camt052_report.xml");
    assert_eq!(
        english(&p),
        ["1 pending entry (PDNG) was not imported: it is imported once booked (line 55)"]
    );
    let t = txs(&p);
    let got: Vec<_> = t
        .iter()
        .map(|t| (t.account.as_str(), t.amount, t.balance))
        .collect();
    assert_eq!(
        got,
        [(BNP, -4520, Some(95_480)), (BNP, 120_000, Some(215_480))]
    );
    assert!(t.iter().all(|t| t.key.is_some()), "AcctSvcrRef is the key");
    assert_eq!(t[1].counterparty.as_deref(), Some("ACME INDUSTRIES SAS"));
}

#[test]
fn a_report_that_does_not_add_up_is_refused_at_its_rpt() {
    let e = read_err(Format::Camt052, "camt/camt052_unbalanced.xml").to_string();
    assert!(
        e.starts_with("line 8: Rpt 1 (FR7630004000031234567890143): "),
        "{e}"
    );
}

#[test]
fn a_notification_without_balances_is_read_unchecked() {
    let p = read_ok(Format::Camt054, "camt/camt054_notification.xml");
    assert!(p.bad.is_empty() && p.notes.is_empty(), "{p:?}");
    let t = txs(&p);
    let got: Vec<_> = t
        .iter()
        .map(|t| (t.amount, t.balance, t.counterparty.as_deref()))
        .collect();
    assert_eq!(
        got,
        [
            (-65_000, None, Some("AGENCE DUPONT")),
            (3_000, None, Some("MUTUELLE GENERALE")),
        ]
    );
    assert!(t.iter().all(|t| t.key.is_some()), "AcctSvcrRef is the key");
}

#[test]
fn the_statement_of_the_period_holds_the_same_records() {
    let mut reported = txs(&read_ok(Format::Camt052, "camt/camt052_report.xml"));
    reported.extend(txs(&read_ok(
        Format::Camt054,
        "camt/camt054_notification.xml",
    )));
    let statement = txs(&read_ok(Format::Camt053, "camt/camt053_march.xml"));
    let strip = |t: Vec<Tx>| -> Vec<Tx> {
        without_balance(t)
            .into_iter()
            .map(|t| Tx { line: 0, ..t })
            .collect()
    };
    assert_eq!(strip(statement), strip(reported));
}

#[test]
fn a_message_read_as_another_kind_is_named() {
    let bytes = fixture("camt/camt053_march.xml");
    let e = parse(Format::Camt052, &bytes, &Options::default()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "line 1: not a camt.052 account report: no BkToCstmrAcctRpt element (it holds \
         <BkToCstmrStmt>)"
    );
    for name in ["camt052", "camt.054"] {
        assert!(Format::from_name(name).is_ok(), "{name}");
    }
}
