//! The QIF reader on bank-like fixtures (`tests/fixtures/qif/`) and a round trip.

mod common;

use common::{Tx, Txn, column, day_ms, english, fixture, in_account, txn, within_lines};
use insitu_formats::{
    BadRecord, DateOrder, Format, FormatError, Item, Options, Parsed, detect, money, qif,
};
use proptest::prelude::*;

fn opts(currency: &str, account: Option<&str>, order: Option<DateOrder>) -> Options {
    Options {
        currency: Some(currency.into()),
        account: account.map(str::to_string),
        date_order: order,
        ..Options::default()
    }
}

fn read(name: &str, opts: &Options) -> Result<Parsed, FormatError> {
    common::read(Format::Qif, &format!("qif/{name}"), opts)
}

/// A QIF item, field by field: QIF has no natural key, value date or balance.
fn tx(item: &Item) -> Tx {
    let t = Tx::from(item);
    assert_eq!(
        (&t.key, t.value_date, t.balance),
        (&None, None, None),
        "{item:?}"
    );
    t
}

fn txs(p: &Parsed) -> Vec<Tx> {
    assert_eq!(p.collection, "bank.transactions");
    p.items.iter().map(tx).collect()
}

#[test]
fn us_checking_with_quicken_dates_splits_and_addresses() {
    let p = read("us-checking.qif", &opts("USD", Some("Checking"), None)).unwrap();
    assert!(p.bad.is_empty() && p.notes.is_empty());
    let t = txs(&p);
    assert_eq!(column(&t, |t| t.line), [2, 8, 18, 28, 35]);
    assert!(in_account(&t, "Checking", "USD"));
    assert_eq!(
        t[0],
        Tx {
            line: 2,
            account: "Checking".into(),
            booked: day_ms(2023, 12, 31),
            amount: 250_000,
            currency: "USD".into(),
            counterparty: Some("Opening Balance".into()),
            label: "Opening Balance".into(),
            reference: None,
            // No natural key, value date or balance in QIF.
            ..Tx::default()
        }
    );
    // `1/ 2'24`, thousands separator, check number, memo, address lines ignored.
    assert_eq!(t[1].booked, day_ms(2024, 1, 2));
    assert_eq!(t[1].amount, -123_456);
    assert_eq!(t[1].reference.as_deref(), Some("1044"));
    assert_eq!(
        t[1].counterparty.as_deref(),
        Some("Greenview Apartments LLC")
    );
    assert_eq!(t[1].label, "January rent");
    // Splits ignored, the total kept.
    assert_eq!(
        (t[2].amount, t[2].label.as_str()),
        (-14_287, "Costco Wholesale #1052")
    );
    assert_eq!((t[3].amount, t[3].booked), (287_550, day_ms(2024, 1, 15)));
    assert_eq!(t[3].label, "Direct deposit");
    assert_eq!(t[4].counterparty.as_deref(), Some("AT&T Mobility"));
    assert_eq!(t[4].amount, -8517);

    // The day order given wins over the file's: 12/31'23, 1/15'24 and 1/18'24 are then no dates.
    let p = read(
        "us-checking.qif",
        &opts("USD", Some("Checking"), Some(DateOrder::DayFirst)),
    )
    .unwrap();
    assert_eq!(
        column(&txs(&p), |t| t.booked),
        [day_ms(2024, 2, 1), day_ms(2024, 5, 1)]
    );
    assert_eq!(column(&p.bad, |b| b.line), [2, 28, 35]);
    assert_eq!(
        p.bad[0],
        BadRecord {
            line: 2,
            element: Some("!Type:Bank".into()),
            field: "D".into(),
            reason: "`12/31'23`: month 31 does not exist".into(),
        }
    );
}

#[test]
fn currency_and_account_are_required() {
    let bytes = fixture("qif/us-checking.qif");
    let e = qif::parse(&bytes, &Options::default()).unwrap_err();
    assert_eq!(
        e,
        FormatError::new(
            0,
            "QIF files carry no currency; pass --currency (e.g. --currency EUR)"
        )
    );
    let e = qif::parse(&bytes, &opts("euro", Some("A"), None)).unwrap_err();
    assert_eq!(
        e.reason,
        "--currency: `euro` is not a currency code like EUR"
    );
    let e = qif::parse(&bytes, &opts("USD", None, None)).unwrap_err();
    assert_eq!(
        e,
        FormatError::new(
            1,
            "no account is named for the `!Type:Bank` section (no !Account block before it); \
             pass --account (e.g. --account Checking)"
        )
    );
    let e = qif::parse(b"D01/02/2024\nT-1.00\n^\n", &opts("EUR", Some("A"), None)).unwrap_err();
    assert_eq!(
        e,
        FormatError::new(
            1,
            "not a QIF file: it must start with a `!Type:` or `!Account` header"
        )
    );
}

#[test]
fn french_windows_1252_file_with_several_accounts() {
    // `--account` does not override the file's `!Account` names.
    let p = read("fr-comptes-1252.qif", &opts("EUR", Some("Ignored"), None)).unwrap();
    assert!(p.bad.is_empty(), "{:?}", p.bad);
    let t = txs(&p);
    let (cheques, visa) = ("Compte chèques Société Générale", "Carte Visa Premier");
    assert_eq!(
        column(&t, |t| (t.line, t.account.as_str())),
        [
            (15, cheques),
            (21, cheques),
            (26, cheques),
            (30, cheques),
            (39, visa),
            (43, visa)
        ]
    );
    assert_eq!(
        t[0],
        Tx {
            line: 15,
            account: cheques.into(),
            booked: day_ms(2024, 3, 1),
            amount: -1999,
            currency: "EUR".into(),
            counterparty: Some("PRLV SEPA FREE MOBILE".into()),
            label: "Prélèvement FREE MOBILE Réf. FM8812".into(),
            reference: None,
            // No natural key, value date or balance in QIF.
            ..Tx::default()
        }
    );
    // `2 450,00`: a space groups thousands, the comma is decimal.
    assert_eq!(t[1].amount, 245_000);
    assert_eq!(t[1].label, "SALAIRE FEVRIER 2024");
    assert_eq!((t[2].booked, t[2].amount), (day_ms(2024, 3, 4), -5430));
    // No payee: no counterparty, the memo labels it; 15/03 tells the day comes first.
    assert_eq!(t[3].counterparty, None);
    assert_eq!(t[3].label, "FRAIS TENUE DE COMPTE");
    assert_eq!(t[3].booked, day_ms(2024, 3, 15));
    assert_eq!(t[4].label, "CB CAFÉ DE LA GARE 02/03");
    assert_eq!((t[4].amount, t[5].amount), (-420, 1500));
    assert_eq!(t[5].label, "Remboursement article défectueux");
    assert_eq!(
        english(&p),
        [
            "line 48: skipped the `!Type:Cat` section (2 record(s)): categories are not imported",
            "line 56: skipped the `!Type:Invst` section (1 record(s)): investment transactions \
             are not supported",
        ]
    );
}

#[test]
fn cash_with_a_bom_crlf_and_iso_dates() {
    let bytes = fixture("qif/bom-crlf.qif");
    assert!(bytes.starts_with(b"\xEF\xBB\xBF!Account\r\n"));
    // Year-first dates need no day order.
    let p = read("bom-crlf.qif", &opts("EUR", None, None)).unwrap();
    assert!(p.bad.is_empty() && p.notes.is_empty());
    let t = txs(&p);
    assert!(t.iter().all(|t| t.account == "Porte-monnaie"));
    assert_eq!(
        column(&t, |t| (t.line, t.booked, t.amount)),
        [
            (6, day_ms(2024, 3, 2), -380),
            (11, day_ms(2024, 3, 9), -1250),
            (15, day_ms(2024, 3, 10), 5000),
        ]
    );
    assert_eq!(t[0].label, "Croissants et pain de campagne");
    assert_eq!(t[1].counterparty.as_deref(), Some("Marché Saint-Pierre"));
    assert_eq!(t[1].label, "Marché Saint-Pierre");
    assert_eq!(
        (t[2].counterparty.as_deref(), t[2].label.as_str()),
        (None, "Retrait DAB")
    );
}

#[test]
fn asset_and_liability_accounts_with_dotted_dates() {
    // Every date is ambiguous by its numbers, but dotted dates put the day first.
    let p = read("loan-dots.qif", &opts("EUR", None, None)).unwrap();
    assert!(p.bad.is_empty() && p.notes.is_empty());
    let t = txs(&p);
    assert_eq!(
        column(&t, |t| (t.account.as_str(), t.booked, t.amount)),
        [
            ("Immobilienkredit Sparkasse", day_ms(2024, 2, 1), -123_456),
            ("Immobilienkredit Sparkasse", day_ms(2024, 3, 1), -123_456),
            ("Tagesgeld", day_ms(2024, 2, 5), 50_000),
        ]
    );
    assert_eq!(t[1].counterparty.as_deref(), Some("Sparkasse KölnBonn"));
    assert_eq!(t[1].label, "Rate März");
}

#[test]
fn unreadable_records_are_reported_not_dropped() {
    let p = read(
        "bad-records.qif",
        &opts("EUR", Some("Compte courant"), None),
    )
    .unwrap();
    let t = txs(&p);
    assert_eq!(
        column(&t, |t| (t.line, t.amount, t.label.as_str())),
        [(2, -2500, "PRLV SEPA NETFLIX")]
    );
    let bad = |line, field: &str, reason: &str| BadRecord {
        line,
        element: Some("!Type:Bank".into()),
        field: field.into(),
        reason: reason.into(),
    };
    assert_eq!(
        p.bad,
        [
            bad(6, "D", "the record has no date (D line)"),
            bad(9, "T", "the record has no amount (T line)"),
            bad(13, "T", "`-1O,50` is not an amount: unexpected `O`"),
            bad(16, "D", "`31/02/2024`: 2024-02 has no day 31"),
            // The last record has no `^`: the file was cut, the record may be too.
            bad(20, "^", TRUNCATED),
        ]
    );
    assert_eq!(
        p.bad[2].to_string(),
        "13 (!Type:Bank): field `T`: `-1O,50` is not an amount: unexpected `O`"
    );
    assert!(p.notes.is_empty(), "{:?}", p.notes);
}

const TRUNCATED: &str = "the record does not end with `^`: the file is truncated";

#[test]
fn a_record_with_several_bad_fields_names_each() {
    let p = read("several-bad-fields.qif", &opts("EUR", Some("A"), None)).unwrap();
    assert_eq!(column(&txs(&p), |t| t.line), [2]);
    let reason = "field `D`: `31/02/2024`: 2024-02 has no day 31; \
                  field `T`: `-1O,50` is not an amount: unexpected `O`";
    assert_eq!(
        p.bad,
        [BadRecord {
            line: 6,
            element: Some("!Type:Bank".into()),
            field: "D, T".into(),
            reason: reason.into(),
        }]
    );
    assert_eq!(p.bad[0].to_string(), format!("6 (!Type:Bank): {reason}"));
}

#[test]
fn a_truncated_file_is_refused_not_half_read() {
    // Cut in the middle of the second coffee's payee, with no final `^`.
    let p = read("truncated.qif", &opts("EUR", Some("A"), None)).unwrap();
    assert_eq!(
        column(&txs(&p), |t| (t.line, t.counterparty.clone())),
        [(2, Some("CB CAFE DE LA GARE".to_string()))]
    );
    assert_eq!(
        p.bad,
        [BadRecord {
            line: 6,
            element: Some("!Type:Bank".into()),
            field: "^".into(),
            reason: TRUNCATED.into(),
        }]
    );
    // The whole file reads every record, the cut one whole.
    let full = read("complete.qif", &opts("EUR", Some("A"), None)).unwrap();
    assert!(full.bad.is_empty() && full.notes.is_empty());
    let t = txs(&full);
    assert_eq!(
        column(&t, |t| (t.line, t.amount)),
        [(2, -350), (6, -350), (10, 120_000), (15, -5430)]
    );
    assert_eq!(t[1].counterparty.as_deref(), Some("CB CAFE DE LA GARE"));
}

#[test]
fn comment_lines_before_the_header_are_skipped_with_a_note() {
    let bytes = fixture("qif/comments.qif");
    let p = qif::parse(&bytes, &opts("EUR", Some("A"), None)).unwrap();
    assert!(p.bad.is_empty(), "{:?}", p.bad);
    assert_eq!(column(&txs(&p), |t| (t.line, t.amount)), [(5, -1200)]);
    assert_eq!(
        english(&p),
        ["line 1: skipped 2 comment line(s) (`#`) before the first header"]
    );
    // Only before the header: a `#` line cannot start a file that has none.
    let e = qif::parse(
        b"### notes\nD01/02/2024\n^\n",
        &opts("EUR", Some("A"), None),
    );
    assert_eq!(e.unwrap_err().line, 2);
}

#[test]
fn year_first_dates_are_read_when_the_file_says_so() {
    let o = |order| opts("JPY", Some("A"), order);
    // `13/3/3` can only be 2013-03-03: day first it would be year 3, month first month 13.
    let p = read("ymd-two-digit-years.qif", &o(None)).unwrap();
    assert!(p.bad.is_empty(), "{:?}", p.bad);
    let expected = [
        (day_ms(2013, 3, 3), -1200),
        (day_ms(2013, 3, 25), 250_000),
        (day_ms(2013, 12, 24), -3980),
    ];
    assert_eq!(column(&txs(&p), |t| (t.booked, t.amount)), expected);
    let asked = read("ymd-two-digit-years.qif", &o(Some(DateOrder::YearFirst))).unwrap();
    assert_eq!(asked.items, p.items);
    // Read day first, year 3 is refused, naming the line, unless the person says otherwise.
    let p = read("ymd-two-digit-years.qif", &o(Some(DateOrder::DayFirst))).unwrap();
    assert_eq!(
        p.bad,
        [BadRecord {
            line: 2,
            element: Some("!Type:Bank".into()),
            field: "D".into(),
            reason: "`13/3/3` reads as 0003-03-13, before 1900; check the date order \
                     (--date-order), or pass --any-date to accept it"
                .into(),
        }]
    );
    let any = Options {
        any_date: true,
        ..o(Some(DateOrder::DayFirst))
    };
    let p = read("ymd-two-digit-years.qif", &any).unwrap();
    assert_eq!(txs(&p)[0].booked, day_ms(3, 3, 13));
    // Dates that read both day first and year first are ambiguous.
    let e = read("ymd-ambiguous.qif", &o(None)).unwrap_err();
    assert_eq!(
        e,
        FormatError::new(
            2,
            "dates such as 13/3/15 are ambiguous; pass --date-order dmy or ymd"
        )
    );
}

#[test]
fn dates_before_1900_or_over_a_year_ahead_are_refused_unless_allowed() {
    let o = |today, any_date| Options {
        today: Some(today),
        any_date,
        ..opts("EUR", Some("A"), None)
    };
    let p = read("out-of-range.qif", &o(day_ms(2024, 6, 1), false)).unwrap();
    assert_eq!(column(&txs(&p), |t| t.line), [2]);
    let advice = "check the date order (--date-order), or pass --any-date to accept it";
    assert_eq!(
        column(&p.bad, |b| (b.line, b.field.as_str(), b.reason.clone())),
        [
            (
                6,
                "D",
                format!("`31/12/1899` reads as 1899-12-31, before 1900; {advice}")
            ),
            (
                10,
                "D",
                format!(
                    "`15/06/2031` reads as 2031-06-15, more than a year after the import \
                     date; {advice}"
                )
            ),
        ]
    );
    // A year after the import date, to the day, is still accepted.
    let p = read("out-of-range.qif", &o(day_ms(2030, 6, 15), false)).unwrap();
    assert_eq!(column(&txs(&p), |t| t.line), [2, 10]);
    assert_eq!(column(&p.bad, |b| b.line), [6]);
    let p = read("out-of-range.qif", &o(day_ms(2024, 6, 1), true)).unwrap();
    assert!(p.bad.is_empty(), "{:?}", p.bad);
    assert_eq!(txs(&p)[1].booked, day_ms(1899, 12, 31));
}

#[test]
fn the_day_order_is_detected_or_asked_for() {
    let e = read("ambiguous.qif", &opts("EUR", Some("A"), None)).unwrap_err();
    assert_eq!(
        e,
        FormatError::new(
            2,
            "dates such as 01/02/2024 are ambiguous; pass --date-order dmy or mdy"
        )
    );
    let first = |order| {
        let p = read("ambiguous.qif", &opts("EUR", Some("A"), Some(order))).unwrap();
        tx(&p.items[0]).booked
    };
    assert_eq!(first(DateOrder::DayFirst), day_ms(2024, 2, 1));
    assert_eq!(first(DateOrder::MonthFirst), day_ms(2024, 1, 2));
    let e = read("conflicting.qif", &opts("EUR", Some("A"), None)).unwrap_err();
    assert_eq!(
        e,
        FormatError::new(
            6,
            "the dates disagree on the day order: 13/01/2024 (line 2) has the day first, \
             01/14/2024 (line 6) the month first; pass --date-order dmy or mdy"
        )
    );
    let p = read(
        "conflicting.qif",
        &opts("EUR", Some("A"), Some(DateOrder::DayFirst)),
    )
    .unwrap();
    assert_eq!((p.items.len(), p.bad.len()), (1, 1));
    assert_eq!(p.bad[0].reason, "`01/14/2024`: month 14 does not exist");
}

#[test]
fn garbage_never_panics() {
    let o = opts("EUR", Some("A"), Some(DateOrder::DayFirst));
    let samples: [&[u8]; 7] = [
        b"",
        b"!",
        b"!Type:Bank\n^\n^\n",
        b"!Type:Bank\nD\nT\n^",
        b"!Type:Bank\n\xe9\xff\nD1/1'\nT99999999999999999999\n^",
        b"!Type:Bank\nD1/2'1234567\nT,\n^\nD'\n^",
        b"!Account\n^\n!Type:Invst\nD1\n",
    ];
    for s in samples {
        let _ = qif::parse(s, &o);
    }
    let p = qif::parse(samples[3], &o).unwrap();
    assert_eq!(p.bad.len(), 1);
    assert_eq!(
        p.bad[0].reason,
        "field `D`: `` is not a date; field `T`: `` is not an amount: no digits"
    );
}

/// `1234567` minor units of USD as `12,345.67`.
fn with_thousands(minor: i64) -> String {
    let plain = money::format_minor(minor, "USD");
    let (sign, rest) = plain.split_at(usize::from(minor < 0));
    let (int, frac) = rest.split_once('.').unwrap();
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}{grouped}.{frac}")
}

/// Writes `txs` as a QIF bank register, dates in `style` (0: `M/D'YY`, 1: `DD/MM/YYYY`,
/// 2: `YYYY-MM-DD`, 3: `DD.MM.YYYY`), amounts in `amounts` (0: `1,234.56`, 1: `-1234,56`,
/// 2: `-1234.56`).
fn write(txs: &[Txn], account: Option<&str>, style: u8, amounts: u8) -> String {
    let mut s = String::new();
    if let Some(a) = account {
        s += &format!("!Account\nN{a}\nTBank\n^\n");
    }
    s += "!Type:Bank\n";
    for t in txs {
        let (y, m, d) = t.date;
        s += &match style {
            0 => format!("D{m}/{d:>2}'{:02}\n", y % 100),
            1 => format!("D{d:02}/{m:02}/{y}\n"),
            2 => format!("D{y}-{m:02}-{d:02}\n"),
            _ => format!("D{d:02}.{m:02}.{y}\n"),
        };
        let plain = money::format_minor(t.amount, "EUR");
        s += &match amounts {
            0 => format!("T{}\n", with_thousands(t.amount)),
            1 => format!("T{}\n", plain.replace('.', ",")),
            _ => format!("T{plain}\n"),
        };
        s += "CX\nLGroceries\n";
        if let Some(n) = t.number {
            s += &format!("N{n}\n");
        }
        if !t.payee.is_empty() {
            s += &format!("P{}\n", t.payee);
        }
        if !t.memo.is_empty() {
            s += &format!("M{}\n", t.memo);
        }
        s += "^\n";
    }
    s
}

fn gen_tx() -> impl Strategy<Value = Txn> {
    txn(2000..2040, "[A-Za-z0-9&éÉàç'/*.# -]{0,16}")
}

proptest! {
    #[test]
    fn written_registers_read_back(
        txs_in in proptest::collection::vec(gen_tx(), 0..12),
        named in proptest::option::of("[A-Za-z][A-Za-z0-9 ]{0,12}"),
        style in 0u8..4,
        amounts in 0u8..3,
    ) {
        let text = write(&txs_in, named.as_deref(), style, amounts);
        prop_assert_eq!(detect(text.as_bytes()), Some(Format::Qif));
        let order = if style == 0 { DateOrder::MonthFirst } else { DateOrder::DayFirst };
        let o = opts("EUR", Some("Fallback"), Some(order));
        let p = qif::parse(text.as_bytes(), &o).unwrap();
        prop_assert!(p.bad.is_empty() && p.notes.is_empty(), "{:?}", p.bad);
        let t = txs(&p);
        prop_assert_eq!(t.len(), txs_in.len());
        let account = named.as_deref().map_or("Fallback", str::trim);
        for (g, t) in txs_in.iter().zip(&t) {
            let (payee, memo) = (g.payee.trim(), g.memo.trim());
            prop_assert_eq!(&t.account, account);
            prop_assert_eq!(t.booked, day_ms(g.date.0, g.date.1, g.date.2));
            prop_assert_eq!(t.amount, g.amount);
            prop_assert_eq!(&t.currency, "EUR");
            prop_assert_eq!(t.counterparty.as_deref(), Some(payee).filter(|p| !p.is_empty()));
            let label = [memo, payee, "(no label)"].into_iter().find(|l| !l.is_empty()).unwrap();
            prop_assert_eq!(&t.label, label);
            prop_assert_eq!(t.reference.clone(), g.number.map(|n| n.to_string()));
        }
    }
}

proptest! {
    /// Shuffled QIF lines, as a fuzzer would try them: never a panic, and what is read points
    /// at lines of the file.
    #[test]
    fn fragments_never_panic(lines in proptest::collection::vec(prop::sample::select(vec![
        "!Type:Bank", "!Type:Invst", "!Account", "!Option:AutoSwitch", "NAccount", "^", "",
        "D01/02/2024", "D13/01'24", "D1/ 2'", "D2024-02-30", "D.", "T-1,234.56", "T1,5", "T,",
        "T99999999999999999999", "U-3", "Pé", "M", "N12", "SCat", "$-1", "\u{feff}", "\r",
    ]), 0..40), order: bool) {
        let text = lines.join("\n");
        let o = opts("EUR", None, order.then_some(DateOrder::DayFirst));
        if let Ok(p) = qif::parse(text.as_bytes(), &o) {
            let n = lines.len() as u64;
            within_lines(&p, n)?;
        }
    }
}
