//! The French CFONB 120 bank statement ("relevé de compte"), to `bank.transactions`.
//!
//! Records are 120 characters, one per line (LF or CRLF) or back to back. Tools that trim
//! trailing blanks write shorter lines: a line of [`TRIMMED`] to 119 characters, one record,
//! is read padded with blanks to 120 (what is missing is the reference zone's blanks), with a
//! note counting them; a record of any other length refuses the file. Back to back, a record's line is its ordinal number, the line it
//! would be on with one record per line. Each account's statement is a block: `01` old balance,
//! `04` movements, each optionally followed by `05` complements, `07` new balance. A file may
//! hold several blocks, of several accounts. Any other record code refuses the file.
//!
//! - Account: bank code (3-7), branch (12-16) and account number (22-32) of the `01`, as
//!   `30004 00123 00012345678`. A statement's `04`, `05` and `07` must name the same branch and
//!   account number; their bank code may differ from the `01`'s (real banks write another
//!   one), and the `07` must be in the `01`'s currency.
//! - Amount (91-104): 13 digits and an overpunched sign (`{` `A`-`I` for +0 to +9, `}` `J`-`R`
//!   for -0 to -9), with the number of decimals of position 20, converted exactly to the minor
//!   units of the currency (17-19); an amount with fractions of a minor unit is refused.
//! - `04`: booking date (35-40) and value date (43-48), `DDMMYY`, two-digit years by
//!   [`time::full_year`], midnight UTC; label (49-79); reference (105-120).
//! - `05` (qualifier 46-48, text 49-118): `LIB` is appended to the label; `NBE` (beneficiary)
//!   is the counterparty of a debit, `NPY` (payer) of a credit, whichever is given; `REF`, then
//!   `RCN`, is the reference when the `04` has none. Other qualifiers are ignored.
//! - No natural key: the host keys movements by content, so an overlapping statement adds
//!   nothing twice.
//! - Balances: the old balance plus the movements must give the new balance, else the file is
//!   refused at the `07` line, or, with [`Unbalanced::Import`], its movements are imported
//!   without running balances and a note gives the difference. Running balances go forward
//!   from the old balance in booking-date order (file order for equal dates), so the latest
//!   movement carries the new balance even when the file lists them out of order. A block
//!   with unreadable movements is not checked and gets no balances (a note says so).
//! - Encoding: UTF-8 when the bytes are, else Windows-1252 ([`text::decode`]), which covers
//!   French banks' Latin-1.

use crate::bank::{self, BankTx};
use crate::note::{Note, Statement};
use crate::{BadRecord, FormatError, Options, Parsed, Unbalanced, money, text, time};

const LEN: usize = 120;
/// The shortest line read as one record whose trailing blanks were trimmed: it still holds the
/// amount (91-104); only the reference (105-120) may be missing.
pub const TRIMMED: usize = 104;

pub fn parse(bytes: &[u8], opts: &Options) -> Result<Parsed, FormatError> {
    let (text, _) = text::decode(bytes, None).map_err(|e| FormatError::new(1, e))?;
    let mut out = Out {
        unbalanced: opts.unbalanced,
        ..Out::default()
    };
    let mut block: Option<Block> = None;
    let mut line = 0u64;
    let mut padded = Vec::new();
    for (_, raw) in text::numbered_lines(&text) {
        let mut chars: Vec<char> = raw.chars().collect();
        if chars.iter().all(|&c| c.is_whitespace() || c == '\u{1a}') {
            line += 1;
            continue;
        }
        if (TRIMMED..LEN).contains(&chars.len()) {
            padded.push(line + 1);
            chars.resize(LEN, ' ');
        }
        if !chars.len().is_multiple_of(LEN) {
            return Err(FormatError::new(
                line + 1,
                format!(
                    "record of {} characters: CFONB 120 records have 120 (or at least {TRIMMED}, \
                     their trailing blanks trimmed)",
                    chars.len()
                ),
            ));
        }
        for rec in chars.chunks(LEN) {
            line += 1;
            out.records += 1;
            record(&Rec { line, chars: rec }, &mut block, &mut out)?;
        }
    }
    if let Some(b) = block {
        return Err(FormatError::new(
            line,
            format!(
                "the file ends before the new balance (07) of account {}: it is truncated",
                b.account
            ),
        ));
    }
    if out.records == 0 {
        return Err(FormatError::new(1, "the file holds no CFONB 120 record"));
    }
    if !padded.is_empty() {
        out.notes.push(Note::Padded { lines: padded });
    }
    Ok(bank::parsed(out.txs, out.bad, out.notes))
}

#[derive(Default)]
struct Out {
    unbalanced: Unbalanced,
    records: usize,
    txs: Vec<BankTx>,
    bad: Vec<BadRecord>,
    notes: Vec<Note>,
}

/// One account's statement, from its `01` to its `07`.
struct Block {
    /// As the `01` writes it: bank code, branch and account number.
    account: String,
    /// What identifies the account in its `04`, `05` and `07`: branch and account number.
    /// Banks write another bank code in movements than in the old balance, for the same
    /// account.
    id: (String, String),
    currency: String,
    opening: i64,
    movements: Vec<Movement>,
    bad: usize,
    /// What the last `04` became: a movement, a bad record (its `05` are ignored), or none yet.
    last: Option<bool>,
}

struct Movement {
    tx: BankTx,
    payer: Option<String>,
    beneficiary: Option<String>,
    ref05: Option<String>,
    customer_ref: Option<String>,
}

impl Movement {
    fn into_tx(self) -> BankTx {
        let (first, second) = if self.tx.amount < 0 {
            (self.beneficiary, self.payer)
        } else {
            (self.payer, self.beneficiary)
        };
        BankTx {
            counterparty: first.or(second),
            reference: self.tx.reference.or(self.ref05).or(self.customer_ref),
            ..self.tx
        }
    }
}

struct Rec<'a> {
    line: u64,
    chars: &'a [char],
}

impl Rec<'_> {
    /// Positions `from` to `to`, 1-based and inclusive, as the layout gives them.
    fn get(&self, from: usize, to: usize) -> String {
        let chars = self.chars.get(from.saturating_sub(1)..to);
        chars.unwrap_or_default().iter().collect()
    }

    fn trimmed(&self, from: usize, to: usize) -> String {
        self.get(from, to).trim().to_string()
    }

    /// Branch and account number: what identifies an account inside a statement.
    fn account_id(&self) -> (String, String) {
        (self.trimmed(12, 16), self.trimmed(22, 32))
    }

    fn account(&self) -> String {
        format!(
            "{} {} {}",
            self.trimmed(3, 7),
            self.trimmed(12, 16),
            self.trimmed(22, 32)
        )
    }

    fn amount(&self, currency: &str) -> Result<i64, String> {
        amount(&self.get(91, 104), &self.get(20, 20), currency)
    }

    fn error(&self, reason: String) -> FormatError {
        FormatError::new(self.line, reason)
    }
}

fn record(rec: &Rec, block: &mut Option<Block>, out: &mut Out) -> Result<(), FormatError> {
    let code = rec.get(1, 2);
    if code == "01" {
        if let Some(b) = block {
            return Err(rec.error(format!(
                "old balance (01) of account {} before the new balance (07) of account {}",
                rec.account(),
                b.account
            )));
        }
        *block = Some(open(rec)?);
        return Ok(());
    }
    let what = match code.as_str() {
        "04" => "movement (04)",
        "05" => "complement (05)",
        "07" => "new balance (07)",
        _ => {
            return Err(rec.error(format!(
                "unknown record code `{code}`: CFONB 120 statements have 01, 04, 05 and 07"
            )));
        }
    };
    let Some(b) = block else {
        return Err(rec.error(format!("{what} before any old balance (01)")));
    };
    if rec.account_id() != b.id {
        return Err(rec.error(format!(
            "{what} of account {} in the statement of account {}",
            rec.account(),
            b.account
        )));
    }
    match code.as_str() {
        "04" => match movement(rec, &b.account, &b.currency) {
            Ok(m) => {
                b.movements.push(m);
                b.last = Some(true);
            }
            Err(bad) => {
                out.bad.push(bad);
                b.bad += 1;
                b.last = Some(false);
            }
        },
        "05" => match (b.last, b.movements.last_mut()) {
            (Some(true), Some(m)) => complement(rec, m),
            (Some(false), _) => {}
            _ => return Err(rec.error(format!("{what} without a movement (04) before it"))),
        },
        _ => {
            if let Some(b) = block.take() {
                close(rec, b, out)?;
            }
        }
    }
    Ok(())
}

/// The `01` old balance opens an account's statement.
fn open(rec: &Rec) -> Result<Block, FormatError> {
    if rec.trimmed(22, 32).is_empty() {
        return Err(
            rec.error("old balance (01) without an account number (positions 22-32)".into())
        );
    }
    let account = rec.account();
    let fail = |field: &str, r: String| {
        rec.error(format!(
            "old balance (01) of account {account}: {field}: {r}"
        ))
    };
    let currency = money::currency(&rec.get(17, 19)).map_err(|r| fail("currency (17-19)", r))?;
    let opening = rec
        .amount(&currency)
        .map_err(|r| fail("amount (91-104)", r))?;
    Ok(Block {
        account,
        id: rec.account_id(),
        currency,
        opening,
        movements: Vec::new(),
        bad: 0,
        last: None,
    })
}

fn movement(rec: &Rec, account: &str, currency: &str) -> Result<Movement, BadRecord> {
    let bad = |field: &str, reason: String| BadRecord {
        line: rec.line,
        element: Some("04 movement".into()),
        field: field.into(),
        reason,
    };
    let own = rec.get(17, 19);
    if own != currency {
        return Err(bad(
            "currency (17-19)",
            format!("`{own}` is not the account's currency, {currency}"),
        ));
    }
    let amount = rec
        .amount(currency)
        .map_err(|r| bad("amount (91-104)", r))?;
    let booked = date(&rec.get(35, 40)).map_err(|r| bad("date (35-40)", r))?;
    let value = rec.get(43, 48);
    let value_date = (!value.trim().is_empty())
        .then(|| date(&value))
        .transpose()
        .map_err(|r| bad("value date (43-48)", r))?;
    let reference = Some(rec.trimmed(105, 120)).filter(|r| !r.is_empty());
    Ok(Movement {
        tx: BankTx {
            line: rec.line,
            account: account.to_string(),
            booked,
            value_date,
            amount,
            currency: currency.to_string(),
            label: rec.trimmed(49, 79),
            reference,
            ..Default::default()
        },
        payer: None,
        beneficiary: None,
        ref05: None,
        customer_ref: None,
    })
}

fn complement(rec: &Rec, m: &mut Movement) {
    let info = rec.trimmed(49, 118);
    if info.is_empty() {
        return;
    }
    let slot = match rec.get(46, 48).as_str() {
        "LIB" => {
            let label = &mut m.tx.label;
            if !label.is_empty() {
                label.push(' ');
            }
            label.push_str(&info);
            return;
        }
        "NPY" => &mut m.payer,
        "NBE" => &mut m.beneficiary,
        "REF" => &mut m.ref05,
        "RCN" => &mut m.customer_ref,
        _ => return,
    };
    slot.get_or_insert(info);
}

/// The `07` new balance closes the statement: the movements must add up to it.
fn close(rec: &Rec, b: Block, out: &mut Out) -> Result<(), FormatError> {
    let name = format!("new balance (07) of account {}", b.account);
    let own = rec.get(17, 19);
    if own != b.currency {
        return Err(rec.error(format!(
            "{name}: currency (17-19): `{own}` is not the old balance's currency, {}",
            b.currency
        )));
    }
    let closing = rec
        .amount(&b.currency)
        .map_err(|r| rec.error(format!("{name}: amount (91-104): {r}")))?;
    let mut txs: Vec<BankTx> = b.movements.into_iter().map(Movement::into_tx).collect();
    if b.bad > 0 {
        out.notes.push(Note::Unchecked {
            statement: Statement::Cfonb {
                account: b.account.clone(),
            },
            unread: b.bad,
        });
    } else {
        let at = |r: String| rec.error(format!("{name}: {r}"));
        match bank::check_totals(&txs, b.opening, closing, &b.currency) {
            Ok(()) => bank::balances_by_date(&mut txs, b.opening).map_err(at)?,
            Err(why) if out.unbalanced == Unbalanced::Import => out.notes.push(Note::Unbalanced {
                line: rec.line,
                statement: Statement::Cfonb {
                    account: b.account.clone(),
                },
                why,
                movements: txs.len(),
            }),
            Err(why) => return Err(at(why.to_string())),
        }
    }
    out.txs.append(&mut txs);
    Ok(())
}

/// A 14-character overpunched amount with `decimals` (position 20) decimals, in minor units
/// of `currency`.
fn amount(raw: &str, decimals: &str, currency: &str) -> Result<i64, String> {
    let bad = |why: String| format!("`{raw}` is not an amount: {why}");
    let mut chars = raw.chars();
    let sign = chars.next_back().unwrap_or(' ');
    let (last, negative) = match sign {
        '{' => (0, false),
        '}' => (0, true),
        'A'..='I' => (i64::from(sign as u8 - b'A' + 1), false),
        'J'..='R' => (i64::from(sign as u8 - b'J' + 1), true),
        _ => {
            return Err(bad(format!(
                "its last character `{sign}` is not a sign ({{ or A-I for +0 to +9, }} or J-R for -0 to -9)"
            )));
        }
    };
    let digits = chars.as_str().trim_start();
    let mut value = 0i64;
    for d in digits
        .chars()
        .map(|c| c.to_digit(10).map(i64::from).ok_or(c))
    {
        let d = d.map_err(|c| bad(format!("`{c}` is not a digit")))?;
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(d))
            .ok_or_else(|| bad("too large".into()))?;
    }
    let value = value
        .checked_mul(10)
        .and_then(|v| v.checked_add(last))
        .ok_or_else(|| bad("too large".into()))?;
    let d = decimals
        .parse::<u32>()
        .ok()
        .filter(|d| *d <= 9)
        .ok_or_else(|| {
            bad(format!(
                "`{decimals}` (position 20) is not a number of decimals"
            ))
        })?;
    let e = money::exponent(currency);
    let minor = if d <= e {
        value
            .checked_mul(10i64.pow(e - d))
            .ok_or_else(|| bad("too large".into()))?
    } else {
        let p = 10i64.pow(d - e);
        if value % p != 0 {
            return Err(bad(format!(
                "with {d} decimals it has fractions of the minor unit of {currency}, which has {e}"
            )));
        }
        value / p
    };
    Ok(if negative { -minor } else { minor })
}

/// A `DDMMYY` date, midnight UTC.
fn date(raw: &str) -> Result<i64, String> {
    let bad = || format!("`{raw}` is not a date (DDMMYY)");
    if raw.len() != 6 || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let n = |i: usize| {
        raw.get(i..i + 2)
            .and_then(|s| s.parse::<i64>().ok())
            .ok_or_else(bad)
    };
    time::ymd(time::full_year(n(4)?, 2), n(2)?, n(0)?).map_err(|e| format!("`{raw}`: {e}"))
}
