//! QIF (Quicken Interchange Format) bank, credit card, cash and asset/liability registers.
//!
//! Sections: `!Type:Bank`, `!Type:CCard`, `!Type:Cash`, `!Type:Oth A` and `!Type:Oth L` hold
//! transactions; an `!Account` block (`N` name, `T` type, `^`) names the account of the sections
//! after it, so a file may hold several accounts. `!Option:AutoSwitch` and `!Clear:AutoSwitch`
//! are accepted. Other sections (`!Type:Cat`, `!Type:Class`, `!Type:Memorized`, `!Type:Invst`…)
//! are skipped, each with a note.
//!
//! Records end with `^`: `D` date → `booked`, `T` (or `U`) amount → `amount`, `P` payee →
//! `counterparty`, `M` memo → `label` (else the payee, else `(no label)`), `N` check number →
//! `reference`. Categories (`L`), cleared status (`C`), address lines (`A`) and splits
//! (`S`/`E`/`$`; the record's `T` is their total) are ignored. QIF has no natural key: records are
//! keyed by content. A record without `D` or `T`, or whose date or amount cannot be read, is a
//! [`BadRecord`] naming the line of that field (of the record when the field is missing).
//!
//! QIF carries no currency and often no account: [`Options::currency`] is required, and
//! [`Options::account`] names the account of sections no `!Account` block names.
//!
//! Dates: `MM/DD/YYYY`, `MM/DD'YY` (Quicken: `'` before a year of one or two digits means 20YY),
//! `DD/MM/YYYY`, `DD.MM.YYYY`, `YYYY-MM-DD`, spaces allowed (`1/ 2'24`); a calendar day at
//! midnight UTC. The day order is [`Options::date_order`], else read from the file's dates: a
//! first number above 12 (or a dotted date, by convention) means day first, a second number
//! above 12 month first; dates that disagree, or that are all ambiguous, are a [`FormatError`].
//!
//! Amounts: `-12.34`, `1,234.56`, and `-12,34` / `1.234,56`: the last separator is the decimal
//! one, except that a lone comma followed by exactly three digits (`1,234`) groups thousands.
//!
//! Text is decoded by [`text::decode`]: a BOM, else UTF-8 when valid, else Windows-1252.

use crate::bank::{self, BankTx};
use crate::{BadRecord, DateOrder, FormatError, Options, Parsed, money, text, time};

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
        match r.transaction(order, &currency) {
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
}

impl Raw<'_> {
    fn is_empty(&self) -> bool {
        self.line == 0
    }

    fn transaction(self, order: DateOrder, currency: &str) -> Result<BankTx, BadRecord> {
        let bad = |line, field: &str, reason: String| BadRecord {
            line,
            element: Some(self.section.clone()),
            field: field.into(),
            reason,
        };
        let (dl, date) = self
            .date
            .ok_or_else(|| bad(self.line, "D", "the record has no date (D line)".into()))?;
        let booked = date_of(date, order).map_err(|e| bad(dl, "D", e))?;
        let (al, amount) = self
            .amount
            .ok_or_else(|| bad(self.line, "T", "the record has no amount (T line)".into()))?;
        let amount = amount_of(amount, currency).map_err(|e| bad(al, "T", e))?;
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
        why: &'static str,
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
            ("type", a) if a.starts_with("invst") => "investment transactions are not supported",
            ("type", "cat") => "categories are not imported",
            ("type", "memorized") => "memorized transactions are not imported",
            _ => "it holds no bank transactions",
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
    fn note(&self) -> Option<String> {
        let Section::Skipped {
            line,
            header,
            why,
            records,
        } = self
        else {
            return None;
        };
        Some(format!(
            "line {line}: skipped the `{header}` section ({records} record(s)): {why}"
        ))
    }
}

/// The transaction records of the file, and notes on the sections skipped.
fn read<'a>(text: &'a str, opts: &Options) -> Result<(Vec<Raw<'a>>, Vec<String>), FormatError> {
    let (mut records, mut notes) = (Vec::new(), Vec::new());
    let mut section: Option<Section> = None;
    let mut named: Option<String> = None;
    let mut account_name: Option<&str> = None;
    let mut raw = Raw::default();
    for (n, line) in text::numbered_lines(text) {
        let line = line.trim();
        if line.is_empty() {
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
        notes.push(format!(
            "line {}: the last record does not end with `^`; the file may be truncated",
            raw.line
        ));
        records.push(raw);
    }
    Ok((records, notes))
}

/// What a date says of the day order.
enum Evidence {
    DayFirst,
    MonthFirst,
    Ambiguous,
    None,
}

fn evidence(raw: &str) -> Evidence {
    let parts: Vec<&str> = raw.split(['/', '-', '.', '\'']).map(str::trim).collect();
    let num = |i: usize| parts.get(i).and_then(|p| p.parse::<u32>().ok());
    match (parts.len(), num(0), num(1)) {
        (3, Some(_), Some(_)) if parts[0].len() == 4 => Evidence::None,
        (3, Some(a), Some(b)) if a > 12 && b > 12 => Evidence::None,
        (3, Some(a), Some(_)) if a > 12 => Evidence::DayFirst,
        (3, Some(_), Some(b)) if b > 12 => Evidence::MonthFirst,
        (3, Some(_), Some(_)) if raw.contains('.') => Evidence::DayFirst,
        (3, Some(_), Some(_)) => Evidence::Ambiguous,
        _ => Evidence::None,
    }
}

/// The day order: the option, else what the file's dates say (see the module doc).
fn date_order(records: &[Raw], opts: &Options) -> Result<DateOrder, FormatError> {
    if let Some(order) = opts.date_order {
        return Ok(order);
    }
    let (mut day, mut month, mut ambiguous) = (None, None, None);
    for (line, raw) in records.iter().filter_map(|r| r.date) {
        let slot = match evidence(raw) {
            Evidence::DayFirst => &mut day,
            Evidence::MonthFirst => &mut month,
            Evidence::Ambiguous => &mut ambiguous,
            Evidence::None => continue,
        };
        slot.get_or_insert((line, raw));
    }
    match (day, month, ambiguous) {
        (Some((dl, d)), Some((ml, m)), _) => Err(FormatError::new(
            dl.max(ml),
            format!(
                "the dates disagree on the day order: {d} (line {dl}) has the day first, \
                 {m} (line {ml}) the month first; pass --date-order dmy or mdy"
            ),
        )),
        (Some(_), None, _) => Ok(DateOrder::DayFirst),
        (None, Some(_), _) => Ok(DateOrder::MonthFirst),
        (None, None, Some((line, raw))) => Err(FormatError::new(
            line,
            format!("dates such as {raw} are ambiguous; pass --date-order dmy or mdy"),
        )),
        (None, None, None) => Ok(DateOrder::DayFirst),
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
        assert!(matches!(evidence("13/01/2024"), Evidence::DayFirst));
        assert!(matches!(evidence("01/13/2024"), Evidence::MonthFirst));
        assert!(matches!(evidence("01.02.2024"), Evidence::DayFirst));
        assert!(matches!(evidence("01/02'24"), Evidence::Ambiguous));
        assert!(matches!(evidence("2024-01-02"), Evidence::None));
    }
}
