//! What the reader tests share: fixtures, expected values, `bank.transactions` items field by
//! field, and the generators and checks of the round trips and fuzzing tests.
//!
//! Each test file compiles this module on its own, so the items that not every file uses are
//! marked `#[allow(dead_code)]`.

use std::ops::Range;

use insitu_formats::time::ymd;
use insitu_formats::{Format, FormatError, Item, Options, Parsed, Value, detect};
use proptest::prelude::*;

/// The notes of a parse as the command line prints them (their English text).
#[allow(dead_code)]
pub fn english(p: &Parsed) -> Vec<String> {
    p.notes.iter().map(ToString::to_string).collect()
}

/// The bytes of `tests/fixtures/{path}`.
pub fn fixture(path: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Reads the fixture `path`, checks that it is detected as `format`, and parses it as such.
#[allow(dead_code)]
pub fn read(format: Format, path: &str, opts: &Options) -> Result<Parsed, FormatError> {
    let bytes = fixture(path);
    assert_eq!(detect(&bytes), Some(format), "{path}");
    insitu_formats::parse(format, &bytes, opts)
}

/// [`read`] with the default options, of a fixture that is read.
#[allow(dead_code)]
pub fn read_ok(format: Format, path: &str) -> Parsed {
    read(format, path, &Options::default()).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// [`read`] with the default options, of a fixture that is refused.
#[allow(dead_code)]
pub fn read_err(format: Format, path: &str) -> FormatError {
    read(format, path, &Options::default()).expect_err(path)
}

/// Midnight UTC of a day, in milliseconds.
#[allow(dead_code)]
pub fn day_ms(y: i64, m: i64, d: i64) -> i64 {
    ymd(y, m, d).unwrap()
}

/// Midnight UTC of a day, as a value.
#[allow(dead_code)]
pub fn day(y: i64, m: i64, d: i64) -> Value {
    Value::Timestamp(day_ms(y, m, d))
}

#[allow(dead_code)]
pub fn eur(minor: i64) -> Value {
    Value::Money {
        minor,
        currency: "EUR".into(),
    }
}

#[allow(dead_code)]
pub fn text(s: &str) -> Value {
    Value::Text(s.into())
}

#[allow(dead_code)]
pub fn opt(s: Option<&str>) -> Value {
    s.map_or(Value::Null, text)
}

/// The expected `bank.transactions` values, in schema order.
#[allow(dead_code, clippy::too_many_arguments)]
pub fn tx(
    account: &str,
    booked: Value,
    value_date: Option<Value>,
    amount: i64,
    counterparty: Option<&str>,
    label: &str,
    reference: Option<&str>,
    balance: Option<i64>,
) -> Vec<Value> {
    vec![
        text(account),
        booked,
        value_date.unwrap_or(Value::Null),
        eur(amount),
        opt(counterparty),
        text(label),
        opt(reference),
        balance.map_or(Value::Null, eur),
    ]
}

/// `f` of each row: a column of a table.
pub fn column<'a, T, U>(rows: &'a [T], f: impl FnMut(&'a T) -> U) -> Vec<U> {
    rows.iter().map(f).collect()
}

/// The values of each item.
#[allow(dead_code)]
pub fn values(p: &Parsed) -> Vec<Vec<Value>> {
    column(&p.items, |i| i.values.clone())
}

/// A `bank.transactions` item, field by field.
#[allow(dead_code)]
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tx {
    pub line: u64,
    pub key: Option<String>,
    pub account: String,
    pub booked: i64,
    pub value_date: Option<i64>,
    pub amount: i64,
    pub currency: String,
    pub counterparty: Option<String>,
    pub label: String,
    pub reference: Option<String>,
    pub balance: Option<i64>,
}

/// Panics unless each value has its field's type; the balance is in the amount's currency.
impl From<&Item> for Tx {
    fn from(item: &Item) -> Tx {
        let text = |i: usize| match &item.values[i] {
            Value::Text(s) => Some(s.clone()),
            Value::Null => None,
            v => panic!("field {i}: {v:?}"),
        };
        let time = |i: usize| match item.values[i] {
            Value::Timestamp(t) => Some(t),
            Value::Null => None,
            ref v => panic!("field {i}: {v:?}"),
        };
        let money = |i: usize| match &item.values[i] {
            Value::Money { minor, currency } => Some((*minor, currency.clone())),
            Value::Null => None,
            v => panic!("field {i}: {v:?}"),
        };
        let (amount, currency) = money(3).unwrap();
        Tx {
            line: item.line,
            key: item.key.clone(),
            account: text(0).unwrap(),
            booked: time(1).unwrap(),
            value_date: time(2),
            amount,
            currency: currency.clone(),
            counterparty: text(4),
            label: text(5).unwrap(),
            reference: text(6),
            balance: money(7).map(|(m, c)| {
                assert_eq!(c, currency);
                m
            }),
        }
    }
}

/// The items of a `bank.transactions` file.
#[allow(dead_code)]
pub fn txs(p: &Parsed) -> Vec<Tx> {
    assert_eq!(p.collection, "bank.transactions");
    p.items.iter().map(Tx::from).collect()
}

/// Whether every transaction is of `account`, in `currency`.
#[allow(dead_code)]
pub fn in_account(t: &[Tx], account: &str, currency: &str) -> bool {
    t.iter()
        .all(|t| t.account == account && t.currency == currency)
}

/// Checks that the balances of `t` chain in booking-date order (file order for equal dates)
/// from `opening`, so that the latest transaction carries `closing`.
#[allow(dead_code)]
pub fn chain_by_date(t: &[Tx], opening: i64, closing: i64) {
    let mut by_date: Vec<&Tx> = t.iter().collect();
    by_date.sort_by_key(|t| t.booked);
    let mut balance = opening;
    for t in &by_date {
        balance += t.amount;
        assert_eq!(t.balance, Some(balance), "line {}", t.line);
    }
    assert_eq!(
        balance, closing,
        "the latest transaction carries the closing balance"
    );
}

#[allow(dead_code)]
/// The balance after each entry, going forward in booking-date order (file order for equal
/// dates) from `opening`.
pub fn by_date(entries: &[Entry], opening: i64) -> Vec<i64> {
    let mut order: Vec<usize> = (0..entries.len()).collect();
    order.sort_by_key(|&i| entries[i].day);
    let mut balances = vec![0; entries.len()];
    let mut balance = opening;
    for i in order {
        balance += entries[i].minor;
        balances[i] = balance;
    }
    balances
}

/// `s` as XML (or SGML) text.
#[allow(dead_code)]
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// One generated entry of a statement round trip (camt.053, CFONB 120).
#[allow(dead_code)]
#[derive(Debug, Clone)]
pub struct Entry {
    pub minor: i64,
    /// Days since 1970-01-01.
    pub day: i64,
    pub label: String,
    pub party: Option<String>,
    /// The entry's reference: its natural key in camt.053.
    pub reference: Option<String>,
}

/// Entries of amounts in `minor`, on days in `days`, their text fields matching the regexes.
#[allow(dead_code)]
pub fn entry(
    minor: Range<i64>,
    days: Range<i64>,
    label: &'static str,
    party: &'static str,
    reference: &'static str,
) -> impl Strategy<Value = Entry> {
    (
        minor,
        days,
        label,
        proptest::option::of(party),
        proptest::option::of(reference),
    )
        .prop_map(|(minor, day, label, party, reference)| Entry {
            minor,
            day,
            label,
            party,
            reference,
        })
}

/// One generated transaction of a register round trip (OFX, QIF).
#[allow(dead_code)]
#[derive(Debug, Clone)]
pub struct Txn {
    pub date: (i64, i64, i64),
    pub amount: i64,
    pub payee: String,
    pub memo: String,
    /// A check number.
    pub number: Option<u32>,
}

/// Transactions of a year in `years`, payee and memo matching the regex `text`.
#[allow(dead_code)]
pub fn txn(years: Range<i64>, text: &'static str) -> impl Strategy<Value = Txn> {
    (
        (years, 1i64..=12, 1i64..=28),
        -1_000_000_000i64..1_000_000_000,
        text,
        text,
        proptest::option::of(1u32..100_000),
    )
        .prop_map(|(date, amount, payee, memo, number)| Txn {
            date,
            amount,
            payee,
            memo,
            number,
        })
}

/// What a file of `lines` lines gave points at its lines, and each item has the 8 fields.
#[allow(dead_code)]
pub fn within_lines(p: &Parsed, lines: u64) -> Result<(), TestCaseError> {
    points_within(p, 1..=lines, 8)
}

/// Every item and bad record of `p` is at a line in `lines`, and each item has `fields` values.
#[allow(dead_code)]
pub fn points_within(
    p: &Parsed,
    lines: std::ops::RangeInclusive<u64>,
    fields: usize,
) -> Result<(), TestCaseError> {
    for i in &p.items {
        prop_assert!(lines.contains(&i.line), "item at line {}", i.line);
        prop_assert_eq!(i.values.len(), fields);
    }
    for b in &p.bad {
        prop_assert!(lines.contains(&b.line), "bad record at line {}", b.line);
    }
    Ok(())
}

/// Files made of `parts` in any order, as a fuzzer would try them.
#[allow(dead_code)]
pub fn shuffled(parts: Vec<&'static str>) -> impl Strategy<Value = String> {
    proptest::collection::vec(prop::sample::select(parts), 0..40).prop_map(|p| p.concat())
}

/// Parses `text` as `format` with `opts`: never a panic, and when the file is read, what it
/// gave points at its lines (from 0 when `lineless`: records of a JSON array have no line),
/// each item with its collection's fields.
#[allow(dead_code)]
pub fn never_panics(
    format: Format,
    text: &str,
    opts: &Options,
    lineless: bool,
) -> Result<(), TestCaseError> {
    let Ok(p) = insitu_formats::parse(format, text.as_bytes(), opts) else {
        return Ok(());
    };
    let fields = match &opts.schema {
        Some(s) => s.fields.len(),
        None => insitu_formats::Schema::standard(&p.collection).map_or(0, |s| s.fields.len()),
    };
    let lines = text.split('\n').count() as u64;
    points_within(&p, u64::from(!lineless)..=lines, fields)
}
