//! QIF (Quicken Interchange Format) bank, credit card, cash and asset/liability registers.
//!
//! Sections: `!Type:Bank`, `!Type:CCard`, `!Type:Cash`, `!Type:Oth A` and `!Type:Oth L` hold
//! transactions; an `!Account` block (`N` name, `T` type, `^`) names the account of the sections
//! after it, so a file may hold several accounts. `!Option:AutoSwitch` and `!Clear:AutoSwitch`
//! are accepted. Other sections (`!Type:Cat`, `!Type:Class`, `!Type:Memorized`, `!Type:Invst`…)
//! are skipped, each with a note.
//!
//! Lines starting with `#` before the first header (an exporter's `### comments`) are skipped,
//! with a note.
//!
//! Records end with `^`: `D` date → `booked`, `T` (or `U`) amount → `amount`, `P` payee →
//! `counterparty`, `M` memo → `label` (else the payee, else `(no label)`), `N` check number →
//! `reference`. Categories (`L`), cleared status (`C`), address lines (`A`) and splits
//! (`S`/`E`/`$`; the record's `T` is their total) are ignored. QIF has no natural key: records are
//! keyed by content. A record without `D` or `T`, or whose date or amount cannot be read, is a
//! [`BadRecord`] naming each bad field, at the line of the first (of the record when the field
//! is missing). A last record without its `^` means the file was cut, perhaps inside that
//! record: it is a [`BadRecord`] (field `^`), so that the file is refused, or with `--skip-bad`
//! imported without it, and a later import of the whole file adds the record whole.
//!
//! QIF carries no currency and often no account: [`Options::currency`] is required, and
//! [`Options::account`] names the account of sections no `!Account` block names.
//!
//! Dates: `MM/DD/YYYY`, `MM/DD'YY` (Quicken: `'` before a year of one or two digits means 20YY),
//! `DD/MM/YYYY`, `DD.MM.YYYY`, `YY/M/D`, `YYYY-MM-DD`, spaces allowed (`1/ 2'24`); a calendar
//! day at midnight UTC. A two-digit year is 1970-2069 ([`time::full_year`]); a one-digit year
//! outside Quicken's `'` form is that year, which the range rule below refuses. The order is
//! [`Options::date_order`], else read from the file's dates: each date (but those starting with
//! a four-digit year, which say their order) reads as a plausible date
//! ([`crate::plausible_date`]) under some of `dmy`, `mdy` and `ymd` (a dotted date, by
//! convention, under `dmy` alone when it can); the file's order is the one every date allows.
//! Dates that allow none in common, or several, are a [`FormatError`] naming them; a file with
//! no such date is read `dmy`. `13/3/3` is thus read `ymd` (2013-03-03): `dmy` would make it year
//! 3 and `mdy` month 13. Then every date is checked by [`Options::check_date`]: before 1900 or
//! more than a year after the import date is a bad record unless [`Options::any_date`].
//!
//! Amounts: `-12.34`, `1,234.56`, and `-12,34` / `1.234,56`: the last separator is the decimal
//! one, except that a lone comma followed by exactly three digits (`1,234`) groups thousands.
//!
//! Text is decoded by [`text::decode`]: a BOM, else UTF-8 when valid, else Windows-1252.

use crate::bank::{self, BankTx};
use crate::note::{Note, Skipped};
use crate::{BadFields, BadRecord, DateOrder, FormatError, Options, Parsed, money, text, time};

pub fn parse(bytes: &[u8], opts: &Options) -> Result<Parsed, FormatError> {
    let currency = opts.currency.as_deref().ok_or_else(|| {
        FormatError::new(
            0,
            "QIF files carry no currency; pass --currency (e.g. --currency EUR)",
        )
    })?;
    let currency =
        money::currency(currency).map_err(|e| FormatError::new(0, format!("--currency: {e}")))?;
    let (text, _) = text::decode(bytes, None).map_err(|e| FormatError::new(1, e))?;
    let (records, notes) = read(&text, opts)?;
    let order = date_order(&records, opts)?;
    let (mut txs, mut bad) = (Vec::new(), Vec::new());
    for r in records {
        match r.transaction(order, &currency, opts) {
            Ok(t) => txs.push(t),
            Err(b) => bad.push(b),
        }
    }
    Ok(bank::parsed(txs, bad, notes))
}

/// A transaction record as written: each field with its line.
#[derive(Debug, Default)]
struct Raw<'a> {
    line: u64,
    section: String,
    account: String,
    date: Option<(u64, &'a str)>,
    amount: Option<(u64, &'a str)>,
    payee: Option<&'a str>,
    memo: Option<&'a str>,
    number: Option<&'a str>,
    /// The file ends inside the record: no `^` closes it.
    cut: bool,
}

impl Raw<'_> {
    fn is_empty(&self) -> bool {
        self.line == 0
    }

    fn transaction(
        self,
        order: DateOrder,
        currency: &str,
        opts: &Options,
    ) -> Result<BankTx, BadRecord> {
        let element = Some(self.section.clone());
        if self.cut {
            return Err(BadRecord {
                line: self.line,
                element,
                field: "^".into(),
                reason: "the record does not end with `^`: the file is truncated".into(),
            });
        }
        // Both fields are read, so that a bad record names each, at the first one's line.
        let date = match self.date {
            None => (
                self.line,
                Err("the record has no date (D line)".to_string()),
            ),
            Some((l, raw)) => (
                l,
                date_of(raw, order).and_then(|ms| opts.check_date(raw, ms)),
            ),
        };
        let amount = match self.amount {
            None => (
                self.line,
                Err("the record has no amount (T line)".to_string()),
            ),
            Some((l, raw)) => (l, amount_of(raw, currency)),
        };
        let line = match (&date, &amount) {
            ((l, Err(_)), _) | (_, (l, Err(_))) => *l,
            _ => self.line,
        };
        let mut bad = BadFields::default();
        let booked = bad.read("D", date.1);
        let amount = bad.read("T", amount.1);
        bad.check(line, element)?;
        Ok(BankTx {
            line: self.line,
            account: self.account,
            booked,
            amount,
            currency: currency.to_string(),
            counterparty: self.payee.map(str::to_string),
            label: self.memo.or(self.payee).unwrap_or("(no label)").to_string(),
            reference: self.number.map(str::to_string),
            ..BankTx::default()
        })
    }
}

enum Section {
    Transactions {
        header: String,
        account: String,
    },
    Account,
    Skipped {
        line: u64,
        header: String,
        why: Skipped,
        records: usize,
    },
}

impl Section {
    /// The section the header `line` (number `n`) starts; `account` names the account of
    /// transactions.
    fn start(line: &str, n: u64, account: Option<&String>) -> Result<Section, FormatError> {
        let header = line.trim();
        let body = header.strip_prefix('!').unwrap_or(header);
        let (kind, arg) = body.split_once(':').unwrap_or((body, ""));
        let (kind, arg) = (
            kind.trim().to_ascii_lowercase(),
            arg.trim().to_ascii_lowercase(),
        );
        let why = match (kind.as_str(), arg.as_str()) {
            ("type", "bank" | "ccard" | "cash" | "oth a" | "oth l") => {
                let account = account.cloned().ok_or_else(|| {
                    FormatError::new(
                        n,
                        format!(
                            "no account is named for the `{header}` section (no !Account block \
                             before it); pass --account (e.g. --account Checking)"
                        ),
                    )
                })?;
                let header = header.to_string();
                return Ok(Section::Transactions { header, account });
            }
            // Quicken's account list: `!Account` blocks follow.
            ("option" | "clear", "autoswitch") | ("account", _) => return Ok(Section::Account),
            ("type", a) if a.starts_with("invst") => Skipped::Investment,
            ("type", "cat") => Skipped::Categories,
            ("type", "memorized") => Skipped::Memorized,
            _ => Skipped::NoBankTransactions,
        };
        let header = header.to_string();
        Ok(Section::Skipped {
            line: n,
            header,
            why,
            records: 0,
        })
    }

    /// The note on a skipped section, once it ends.
    fn note(&self) -> Option<Note> {
        let Section::Skipped {
            line,
            header,
            why,
            records,
        } = self
        else {
            return None;
        };
        Some(Note::SkippedSection {
            line: *line,
            header: header.clone(),
            why: *why,
            records: *records,
        })
    }
}

/// The transaction records of the file, and notes on the sections skipped.
fn read<'a>(text: &'a str, opts: &Options) -> Result<(Vec<Raw<'a>>, Vec<Note>), FormatError> {
    let (mut records, mut notes) = (Vec::new(), Vec::new());
    let mut section: Option<Section> = None;
    let mut named: Option<String> = None;
    let mut account_name: Option<&str> = None;
    let mut raw = Raw::default();
    let mut comments: Option<(u64, usize)> = None;
    for (n, line) in text::numbered_lines(text) {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if section.is_none() && line.starts_with('#') {
            comments.get_or_insert((n, 0)).1 += 1;
            continue;
        }
        if line.starts_with('!') {
            if !raw.is_empty() {
                records.push(std::mem::take(&mut raw));
            }
            notes.extend(section.as_ref().and_then(Section::note));
            let account = named.as_ref().or(opts.account.as_ref());
            section = Some(Section::start(line, n, account)?);
            continue;
        }
        let mut chars = line.chars();
        let code = chars.next().unwrap_or('^');
        let value = Some(chars.as_str().trim()).filter(|v| !v.is_empty());
        match &mut section {
            None => {
                return Err(FormatError::new(
                    n,
                    "not a QIF file: it must start with a `!Type:` or `!Account` header",
                ));
            }
            Some(Section::Skipped { records, .. }) => {
                *records += usize::from(code == '^');
            }
            Some(Section::Account) => match code {
                'N' => account_name = value,
                '^' => named = account_name.take().map(str::to_string).or(named.take()),
                _ => {}
            },
            Some(Section::Transactions { header, account }) => {
                if code == '^' {
                    if !raw.is_empty() {
                        records.push(std::mem::take(&mut raw));
                    }
                    continue;
                }
                if raw.is_empty() {
                    raw = Raw {
                        line: n,
                        section: header.clone(),
                        account: account.clone(),
                        ..Raw::default()
                    };
                }
                let field = Some((n, value.unwrap_or_default()));
                match code {
                    'D' => raw.date = raw.date.or(field),
                    'T' => raw.amount = field,
                    'U' => raw.amount = raw.amount.or(field),
                    'P' => raw.payee = value,
                    'M' => raw.memo = value,
                    'N' => raw.number = value,
                    _ => {}
                }
            }
        }
    }
    notes.extend(section.as_ref().and_then(Section::note));
    if !raw.is_empty() {
        raw.cut = true;
        records.push(raw);
    }
    if let Some((line, count)) = comments {
        notes.insert(0, Note::Comments { line, count });
    }
    Ok((records, notes))
}

/// The orders a date may be read in, as bits of a set (`1 << order as u8`).
const ORDERS: [DateOrder; 3] = [
    DateOrder::DayFirst,
    DateOrder::MonthFirst,
    DateOrder::YearFirst,
];

fn orders(set: u8) -> impl Iterator<Item = DateOrder> {
    ORDERS
        .into_iter()
        .filter(move |o| set & (1 << *o as u8) != 0)
}

/// `a, b or c`.
fn either(words: Vec<&str>) -> String {
    match words.split_last() {
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// The orders under which `raw` reads as a plausible date (see the module doc); `None` when it
/// starts with a four-digit year, which says its order itself.
fn fits(raw: &str, opts: &Options) -> Option<u8> {
    let first = raw.split(['/', '-', '.', '\'']).next().unwrap_or("").trim();
    if first.len() == 4 {
        return None;
    }
    let dmy = 1 << DateOrder::DayFirst as u8;
    let set = ORDERS
        .into_iter()
        .filter(|o| date_of(raw, *o).is_ok_and(|ms| crate::plausible_date(ms, opts.today)))
        .fold(0, |set, o| set | (1 << o as u8));
    Some(if raw.contains('.') && set & dmy != 0 {
        dmy
    } else {
        set
    })
}

/// The day order: the option, else what the file's dates say (see the module doc).
fn date_order(records: &[Raw], opts: &Options) -> Result<DateOrder, FormatError> {
    if let Some(order) = opts.date_order {
        return Ok(order);
    }
    let names = |set: u8| either(orders(set).map(DateOrder::name).collect());
    let first = |set: u8| {
        let parts = orders(set).map(|o| match o {
            DateOrder::DayFirst => "the day",
            DateOrder::MonthFirst => "the month",
            DateOrder::YearFirst => "the year",
        });
        format!("{} first", either(parts.collect()))
    };
    // The first date of each distinct reading, and the orders every date so far allows.
    let mut seen: Vec<(u64, &str, u8)> = Vec::new();
    let mut common = u8::MAX;
    let dates = records.iter().filter(|r| !r.cut).filter_map(|r| r.date);
    for (line, raw) in dates {
        let Some(set) = fits(raw, opts).filter(|s| *s != 0) else {
            continue;
        };
        if common & set == 0 {
            let earlier = seen.iter().find(|(_, _, s)| s & set == 0).or(seen.last());
            let Some(&(l0, r0, s0)) = earlier else {
                continue;
            };
            return Err(FormatError::new(
                line,
                format!(
                    "the dates disagree on the day order: {r0} (line {l0}) has {}, {raw} (line \
                     {line}) {}; pass --date-order {}",
                    first(s0),
                    first(set),
                    names(s0 | set)
                ),
            ));
        }
        common &= set;
        if !seen.iter().any(|(_, _, s)| *s == set) {
            seen.push((line, raw, set));
        }
    }
    let mut allowed = orders(common);
    match (allowed.next(), allowed.next(), seen.first()) {
        (Some(order), None, _) => Ok(order),
        (_, _, Some(&(line, raw, _))) => Err(FormatError::new(
            line,
            format!(
                "dates such as {raw} are ambiguous; pass --date-order {}",
                names(common)
            ),
        )),
        (_, _, None) => Ok(DateOrder::DayFirst),
    }
}

/// A QIF date; Quicken's `MM/DD'YY` means 20YY.
fn date_of(raw: &str, order: DateOrder) -> Result<i64, String> {
    if let Some((day_month, year)) = raw.split_once('\'') {
        let year = year.trim();
        if (1..=2).contains(&year.len()) && year.bytes().all(|b| b.is_ascii_digit()) {
            let full = format!("{day_month}/20{year:0>2}");
            return time::numeric_date(&full, order).map_err(|e| e.replace(&full, raw));
        }
    }
    time::numeric_date(raw, order)
}

/// An amount, by the separator rule of the module doc.
fn amount_of(raw: &str, currency: &str) -> Result<i64, String> {
    let decimal = match (raw.rfind('.'), raw.rfind(',')) {
        (Some(d), Some(c)) if c > d => ',',
        (None, Some(c)) => {
            let after = raw.get(c + 1..).unwrap_or_default();
            let digits = after.bytes().filter(u8::is_ascii_digit).count();
            if raw.matches(',').count() == 1 && digits != 3 {
                ','
            } else {
                '.'
            }
        }
        _ => '.',
    };
    money::parse_decimal(raw, money::exponent(currency), decimal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_and_dates() {
        assert_eq!(amount_of("1,234.56", "USD"), Ok(123_456));
        assert_eq!(amount_of("-12,34", "EUR"), Ok(-1234));
        assert_eq!(amount_of("12,5", "EUR"), Ok(1250));
        assert_eq!(amount_of("1,234", "EUR"), Ok(123_400));
        assert_eq!(amount_of("-1.234,56", "EUR"), Ok(-123_456));
        assert_eq!(
            date_of("1/ 2'24", DateOrder::MonthFirst),
            time::ymd(2024, 1, 2)
        );
        assert_eq!(
            date_of("12/31' 4", DateOrder::MonthFirst),
            time::ymd(2004, 12, 31)
        );
        let e = date_of("2/30'24", DateOrder::MonthFirst).unwrap_err();
        assert!(e.starts_with("`2/30'24`"), "{e}");
        let o = Options::default();
        let set = |orders: &[DateOrder]| orders.iter().fold(0, |s, o| s | (1 << *o as u8));
        use DateOrder::*;
        assert_eq!(fits("13/01/2024", &o), Some(set(&[DayFirst])));
        assert_eq!(fits("01/13/2024", &o), Some(set(&[MonthFirst])));
        assert_eq!(fits("01.02.2024", &o), Some(set(&[DayFirst])));
        assert_eq!(fits("01/02'24", &o), Some(set(&[DayFirst, MonthFirst])));
        assert_eq!(fits("01/02/03", &o), Some(set(&ORDERS)));
        assert_eq!(fits("13/3/3", &o), Some(set(&[YearFirst])));
        // Two-digit years that could be days: day first or year first, the person says which.
        assert_eq!(fits("15/03/24", &o), Some(set(&[DayFirst, YearFirst])));
        assert_eq!(fits("31/02/2024", &o), Some(0));
        assert_eq!(fits("2024-01-02", &o), None);
        assert_eq!(either(vec!["dmy", "mdy", "ymd"]), "dmy, mdy or ymd");
    }
}
