//! ISO 20022 bank-to-customer statements, `camt.053` (`BkToCstmrStmt`), versions
//! `camt.053.001.02` to `.08`, to `bank.transactions`; and the account reports (`camt.052`,
//! `BkToCstmrAcctRpt/Rpt`) and debit/credit notifications (`camt.054`,
//! `BkToCstmrDbtCdtNtfctn/Ntfctn`), whose entries have the same shape and are read by the same
//! rules ([`Kind`]), natural keys included: a camt.053 of a period already imported from its
//! camt.052 or camt.054 adds nothing.
//!
//! Elements are matched by local name, so namespace prefixes and a default namespace both work.
//! A file may hold several `Stmt` (`Rpt`, `Ntfctn`), one per account and period.
//!
//! - Account: `Acct/Id/IBAN`, else `Acct/Id/Othr/Id`; a statement without one is refused.
//! - Entry (`Ntry`): amount `Amt` in the currency of its `Ccy` attribute (else `Acct/Ccy`),
//!   negative when `CdtDbtInd` is `DBIT`. Only booked entries (`Sts` `BOOK`, or `Sts/Cd` from
//!   .08) are imported; pending (`PDNG`), information and future entries are counted in a note.
//! - Dates: `BookgDt` and `ValDt`, `Dt` or `DtTm`; the calendar day the file prints, at
//!   midnight UTC (a time or offset is ignored, [`crate::time`]).
//! - Details from the first `NtryDtls/TxDtls`: counterparty `RltdPties/Cdtr` for a debit,
//!   `RltdPties/Dbtr` for a credit (`Nm`, or `Pty/Nm` from .08); reference `Refs/EndToEndId`
//!   unless `NOTPROVIDED`; label `RmtInf/Ustrd` (several joined), else `AddtlTxInf`, else
//!   `AddtlNtryInf`, else `BkTxCd/Prtry/Cd`. An entry with several `TxDtls` (a batch) is one
//!   transaction of the entry's amount, labelled by `AddtlNtryInf` first, without counterparty
//!   or reference.
//! - Natural key: `AcctSvcrRef`, else `NtryRef`, else none (the host keys by content).
//! - Balances: the opening (`OPBD`, else `PRCD`) plus the booked entries must give the closing
//!   (`CLBD`), else the file is refused at its `Stmt` line: it has lost entries. A report or a
//!   notification often has no balance (or only interim ones, which are not read): then there
//!   is no check and no running balance. Balances in another currency than each other or than
//!   the entries are a currency mismatch, refused the same way. With [`Unbalanced::Import`]
//!   such a statement's entries are imported without running balances, and a note gives the
//!   reason. Running balances go forward from the opening (or from the closing less the
//!   entries when only it is given) in booking-date order, file order for equal dates. A
//!   statement with unreadable entries is not checked and gets no balances (a note says so).
//! - Encoding: a BOM, else the XML declaration's `encoding` (any WHATWG label, even after
//!   leading blanks: `ISO-8859-13`, `windows-1250`, [`text::encoding`]); a UTF-8 file that is not valid
//!   UTF-8 is read as Windows-1252, as some banks mislabel their exports ([`text::decode`]).
//! - Lines: an entry's line is the line of its `<Ntry>` tag; a bad entry is named
//!   `Stmt 1 > Ntry 3` (1-based, pending entries counted).

use std::borrow::Cow;
use std::collections::BTreeMap;

use encoding_rs::{Encoding, UTF_8};
use quick_xml::Reader;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};

use crate::bank::{self, BankTx};
use crate::note::{Holder, Imbalance, Note, Statement};
use crate::{BadRecord, FormatError, Options, Parsed, Unbalanced, money, text, time};

/// The bank-to-customer cash management messages read here.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Kind {
    /// `camt.052`, an account report (often intraday).
    Report,
    /// `camt.053`, a statement.
    #[default]
    Statement,
    /// `camt.054`, a debit/credit notification.
    Notification,
}

impl Kind {
    /// The message's name, `camt.053`.
    pub fn message(self) -> &'static str {
        match self {
            Kind::Report => "camt.052",
            Kind::Statement => "camt.053",
            Kind::Notification => "camt.054",
        }
    }

    /// What the message is, in words.
    pub fn noun(self) -> &'static str {
        match self {
            Kind::Report => "account report",
            Kind::Statement => "statement",
            Kind::Notification => "debit/credit notification",
        }
    }

    /// The root element inside `Document`.
    pub fn root(self) -> &'static str {
        match self {
            Kind::Report => "BkToCstmrAcctRpt",
            Kind::Statement => "BkToCstmrStmt",
            Kind::Notification => "BkToCstmrDbtCdtNtfctn",
        }
    }

    /// The element of one account's entries, `Stmt`.
    pub fn block(self) -> &'static str {
        match self {
            Kind::Report => "Rpt",
            Kind::Statement => "Stmt",
            Kind::Notification => "Ntfctn",
        }
    }
}

/// Parses a camt.053 statement.
pub fn parse(bytes: &[u8], opts: &Options) -> Result<Parsed, FormatError> {
    parse_kind(Kind::Statement, bytes, opts)
}

/// Parses a message of `kind`.
pub fn parse_kind(kind: Kind, bytes: &[u8], opts: &Options) -> Result<Parsed, FormatError> {
    let text = decode(bytes)?;
    let mut reader = Reader::from_str(&text);
    reader.config_mut().expand_empty_elements = true;
    let mut lines = text::LineCounter::new(&text, 1);
    let mut st = State {
        kind,
        unbalanced: opts.unbalanced,
        ..State::default()
    };
    let mut path: Vec<String> = Vec::new();
    let mut content = String::new();
    loop {
        let pos = reader.buffer_position();
        let malformed = |why: String, at: u64| {
            let at = usize::try_from(at).unwrap_or(usize::MAX);
            FormatError::new(text::line_of(&text, at), format!("malformed XML: {why}"))
        };
        let event = reader
            .read_event()
            .map_err(|e| malformed(e.to_string(), reader.error_position()))?;
        match event {
            Event::Start(e) => {
                path.push(String::from_utf8_lossy(e.local_name().as_ref()).into_owned());
                content.clear();
                st.start(&path, &e, || lines.at(pos))?;
            }
            Event::End(_) => {
                st.end(&path, content.trim())?;
                path.pop();
                content.clear();
            }
            Event::Text(t) => content.push_str(
                &t.xml10_content()
                    .map_err(|e| malformed(e.to_string(), pos))?,
            ),
            Event::CData(t) => {
                content.push_str(&t.decode().map_err(|e| malformed(e.to_string(), pos))?)
            }
            Event::GeneralRef(r) => {
                let name = r.decode().map_err(|e| malformed(e.to_string(), pos))?;
                match r.resolve_char_ref() {
                    Ok(Some(c)) => content.push(c),
                    _ => content.push_str(
                        resolve_predefined_entity(&name)
                            .ok_or_else(|| malformed(format!("unknown entity `&{name};`"), pos))?,
                    ),
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if let Some(open) = path.last() {
        return Err(FormatError::new(
            text::line_of(&text, text.len()),
            format!("malformed XML: the file ends inside <{open}>: it is truncated"),
        ));
    }
    if !st.seen_root {
        let found = st
            .first
            .map_or(String::new(), |f| format!(" (it holds <{f}>)"));
        return Err(FormatError::new(
            1,
            format!(
                "not a {} {}: no {} element{found}",
                kind.message(),
                kind.noun(),
                kind.root()
            ),
        ));
    }
    if st.stmts == 0 {
        return Err(FormatError::new(
            1,
            format!(
                "the {} file holds no {} ({})",
                kind.message(),
                kind.noun(),
                kind.block()
            ),
        ));
    }
    let mut notes: Vec<Note> = std::mem::take(&mut st.skipped)
        .into_iter()
        .map(|(status, lines)| Note::NotBooked { status, lines })
        .collect();
    notes.append(&mut st.notes);
    Ok(bank::parsed(st.txs, st.bad, notes))
}

/// Decodes by BOM, else by the XML declaration's `encoding`, else as UTF-8 (Windows-1252 when
/// the bytes are not UTF-8).
fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, FormatError> {
    let declared = if Encoding::for_bom(bytes).is_some() {
        None
    } else {
        // Blanks before the declaration (some exporters write a line break first) must not
        // hide it: the file would be read as Windows-1252 whatever it declares.
        let mut buf = Vec::new();
        match Reader::from_reader(bytes.trim_ascii_start()).read_event_into(&mut buf) {
            Ok(Event::Decl(d)) => d
                .encoding()
                .and_then(Result::ok)
                .map(|e| String::from_utf8_lossy(&e).into_owned()),
            _ => None,
        }
    };
    let declared = declared
        .map(|label| text::encoding(&label))
        .transpose()
        .map_err(|e| FormatError::new(1, e))?;
    // A declared UTF-8 goes through `decode`'s own rule, which reads invalid UTF-8 as 1252.
    let declared = declared.filter(|&e| e != UTF_8).map(Encoding::name);
    text::decode(bytes, declared)
        .map(|(t, _)| t)
        .map_err(|e| FormatError::new(1, e))
}

#[derive(Default)]
struct State {
    kind: Kind,
    unbalanced: Unbalanced,
    seen_root: bool,
    /// The first element inside the root, to name what a file that is not camt.053 holds.
    first: Option<String>,
    stmts: usize,
    stmt: Option<Stmt>,
    ntry: Option<Ntry>,
    bal: Option<Bal>,
    txs: Vec<BankTx>,
    bad: Vec<BadRecord>,
    notes: Vec<Note>,
    /// The lines of the entries left out, by status.
    skipped: BTreeMap<String, Vec<u64>>,
}

/// One `Stmt`, `Rpt` or `Ntfctn`: an account's entries.
struct Stmt {
    /// Its element name, to name it in messages.
    elem: &'static str,
    n: usize,
    line: u64,
    /// Index of `Stmt` in the element path.
    depth: usize,
    account: Option<String>,
    currency: Option<String>,
    opening: Option<(i64, String)>,
    opening_is_opbd: bool,
    closing: Option<(i64, String)>,
    entries: usize,
    bad: usize,
    txs: Vec<BankTx>,
}

#[derive(Default)]
struct Ntry {
    n: usize,
    line: u64,
    amt: Option<String>,
    ccy: Option<String>,
    ind: Option<String>,
    sts: Option<String>,
    booked: Option<String>,
    value: Option<String>,
    acct_svcr_ref: Option<String>,
    ntry_ref: Option<String>,
    addtl_ntry: Option<String>,
    bank_code: Option<String>,
    details: usize,
    cdtr: Option<String>,
    dbtr: Option<String>,
    ustrd: Vec<String>,
    addtl_tx: Option<String>,
    end_to_end: Option<String>,
}

#[derive(Default)]
struct Bal {
    line: u64,
    code: Option<String>,
    amt: Option<String>,
    ccy: Option<String>,
    ind: Option<String>,
}

/// The path below `Stmt`, as `&str`s to match on.
fn below(path: &[String], depth: usize) -> Vec<&str> {
    path.get(depth + 1..)
        .unwrap_or_default()
        .iter()
        .map(String::as_str)
        .collect()
}

fn ccy_attr(e: &BytesStart) -> Option<String> {
    let a = e.try_get_attribute("Ccy").ok()??;
    Some(a.unescape_value().ok()?.trim().to_string())
}

fn set(slot: &mut Option<String>, v: &str) {
    if !v.is_empty() {
        *slot = Some(v.to_string());
    }
}

impl State {
    fn start(
        &mut self,
        path: &[String],
        e: &BytesStart,
        line: impl FnOnce() -> u64,
    ) -> Result<(), FormatError> {
        let name = path.last().map_or("", String::as_str);
        let parent = path.len().checked_sub(2).and_then(|i| path.get(i));
        if path.len() == 2 && self.first.is_none() {
            self.first = Some(name.to_string());
        }
        let (root, block) = (self.kind.root(), self.kind.block());
        if name == root {
            self.seen_root = true;
        }
        if name == block && parent.is_some_and(|p| p == root) {
            self.stmts += 1;
            self.stmt = Some(Stmt {
                elem: block,
                n: self.stmts,
                line: line(),
                depth: path.len().saturating_sub(1),
                account: None,
                currency: None,
                opening: None,
                opening_is_opbd: false,
                closing: None,
                entries: 0,
                bad: 0,
                txs: Vec::new(),
            });
            return Ok(());
        }
        let Some(stmt) = &mut self.stmt else {
            return Ok(());
        };
        match below(path, stmt.depth).as_slice() {
            ["Ntry"] => {
                stmt.entries += 1;
                self.ntry = Some(Ntry {
                    n: stmt.entries,
                    line: line(),
                    ..Default::default()
                });
            }
            ["Bal"] => {
                self.bal = Some(Bal {
                    line: line(),
                    ..Default::default()
                })
            }
            ["Ntry", "Amt"] => {
                if let Some(n) = &mut self.ntry {
                    n.ccy = ccy_attr(e);
                }
            }
            ["Bal", "Amt"] => {
                if let Some(b) = &mut self.bal {
                    b.ccy = ccy_attr(e);
                }
            }
            ["Ntry", "NtryDtls", "TxDtls"] => {
                if let Some(n) = &mut self.ntry {
                    n.details += 1;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn end(&mut self, path: &[String], v: &str) -> Result<(), FormatError> {
        let Some(depth) = self.stmt.as_ref().map(|s| s.depth) else {
            return Ok(());
        };
        if path.len() == depth + 1 {
            return match self.stmt.take() {
                Some(stmt) => self.close_stmt(stmt),
                None => Ok(()),
            };
        }
        let Some(stmt) = &mut self.stmt else {
            return Ok(());
        };
        match below(path, depth).as_slice() {
            ["Acct", "Id", "IBAN"] | ["Acct", "Id", "Othr", "Id"] => set(&mut stmt.account, v),
            ["Acct", "Ccy"] => set(&mut stmt.currency, v),
            ["Bal"] => {
                if let Some(b) = self.bal.take() {
                    read_balance(stmt, b)?;
                }
            }
            ["Bal", rest @ ..] => {
                if let Some(b) = &mut self.bal {
                    match rest {
                        ["Tp", "CdOrPrtry", "Cd"] => set(&mut b.code, v),
                        ["Amt"] => set(&mut b.amt, v),
                        ["CdtDbtInd"] => set(&mut b.ind, v),
                        _ => {}
                    }
                }
            }
            ["Ntry"] => {
                if let Some(n) = self.ntry.take() {
                    match n.sts.as_deref() {
                        Some("BOOK") => match entry(&n, stmt) {
                            Ok(tx) => stmt.txs.push(tx),
                            Err(b) => {
                                stmt.bad += 1;
                                self.bad.push(b);
                            }
                        },
                        Some(s) => self.skipped.entry(s.to_string()).or_default().push(n.line),
                        None => {
                            stmt.bad += 1;
                            self.bad.push(bad_entry(
                                &n,
                                stmt,
                                "Sts",
                                "missing: the entry's status (BOOK, PDNG, INFO) is required".into(),
                            ));
                        }
                    }
                }
            }
            ["Ntry", rest @ ..] => {
                if let Some(n) = &mut self.ntry {
                    read_entry_field(n, rest, v);
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn close_stmt(&mut self, mut stmt: Stmt) -> Result<(), FormatError> {
        let account = stmt.account.ok_or_else(|| {
            FormatError::new(
                stmt.line,
                format!(
                    "{} {} has no account: Acct/Id/IBAN or Acct/Id/Othr/Id is required",
                    stmt.elem, stmt.n
                ),
            )
        })?;
        let name = format!("{} {} ({account})", stmt.elem, stmt.n);
        let statement = || Statement::Camt {
            element: stmt.elem.to_string(),
            number: stmt.n,
            account: account.clone(),
        };
        let txs = &mut stmt.txs;
        for t in txs.iter_mut() {
            t.account = account.clone();
        }
        let at = |r: String| FormatError::new(stmt.line, format!("{name}: {r}"));
        if stmt.bad > 0 {
            if stmt.opening.is_some() || stmt.closing.is_some() {
                self.notes.push(Note::Unchecked {
                    statement: statement(),
                    unread: stmt.bad,
                });
            }
        } else {
            match check(txs, &stmt.opening, &stmt.closing) {
                Ok(Some(opening)) => bank::balances_by_date(txs, opening).map_err(at)?,
                Ok(None) => {}
                Err(why) if self.unbalanced == Unbalanced::Import => {
                    self.notes.push(Note::Unbalanced {
                        line: stmt.line,
                        statement: statement(),
                        why,
                        movements: txs.len(),
                    });
                }
                Err(why) => return Err(at(why.to_string())),
            }
        }
        self.txs.append(txs);
        Ok(())
    }
}

/// Checks a statement's balances against its booked entries: the balances and the entries
/// must be in one currency, and the opening plus the entries must give the closing. Returns
/// the balance before the first entry (from the closing when only it is given), if known.
fn check(
    txs: &[BankTx],
    opening: &Option<(i64, String)>,
    closing: &Option<(i64, String)>,
) -> Result<Option<i64>, Imbalance> {
    let currencies = [opening, closing]
        .into_iter()
        .flatten()
        .map(|(_, c)| (c.as_str(), Holder::Balance))
        .chain(txs.iter().map(|t| (t.currency.as_str(), Holder::Entry)));
    let mut first: Option<(&str, Holder)> = None;
    for (ccy, what) in currencies {
        match first {
            None => first = Some((ccy, what)),
            Some((c, w)) if c != ccy => {
                return Err(Imbalance::Currencies {
                    first: w,
                    first_currency: c.to_string(),
                    other: what,
                    other_currency: ccy.to_string(),
                });
            }
            Some(_) => {}
        }
    }
    match (opening, closing) {
        (Some((o, ccy)), Some((c, _))) => bank::check_totals(txs, *o, *c, ccy).map(|()| Some(*o)),
        (Some((o, _)), None) => Ok(Some(*o)),
        (None, Some((c, _))) => {
            let sum = txs
                .iter()
                .try_fold(0i64, |s, t| s.checked_add(t.amount))
                .and_then(|s| c.checked_sub(s));
            sum.map(Some).ok_or(Imbalance::TooLarge)
        }
        (None, None) => Ok(None),
    }
}

fn read_entry_field(n: &mut Ntry, rel: &[&str], v: &str) {
    let first = n.details <= 1;
    match rel {
        ["Amt"] => set(&mut n.amt, v),
        ["CdtDbtInd"] => set(&mut n.ind, v),
        ["Sts"] | ["Sts", "Cd"] => set(&mut n.sts, v),
        ["BookgDt", "Dt" | "DtTm"] => set(&mut n.booked, v),
        ["ValDt", "Dt" | "DtTm"] => set(&mut n.value, v),
        ["AcctSvcrRef"] => set(&mut n.acct_svcr_ref, v),
        ["NtryRef"] => set(&mut n.ntry_ref, v),
        ["AddtlNtryInf"] => set(&mut n.addtl_ntry, v),
        ["BkTxCd", "Prtry", "Cd"] => set(&mut n.bank_code, v),
        ["NtryDtls", "TxDtls", d @ ..] if first => match d {
            ["RltdPties", "Cdtr", "Nm"] | ["RltdPties", "Cdtr", "Pty", "Nm"] => set(&mut n.cdtr, v),
            ["RltdPties", "Dbtr", "Nm"] | ["RltdPties", "Dbtr", "Pty", "Nm"] => set(&mut n.dbtr, v),
            ["RmtInf", "Ustrd"] if !v.is_empty() => n.ustrd.push(v.to_string()),
            ["AddtlTxInf"] => set(&mut n.addtl_tx, v),
            ["Refs", "EndToEndId"] if !v.eq_ignore_ascii_case("NOTPROVIDED") => {
                set(&mut n.end_to_end, v)
            }
            _ => {}
        },
        _ => {}
    }
}

fn bad_entry(n: &Ntry, stmt: &Stmt, field: &str, reason: String) -> BadRecord {
    BadRecord {
        line: n.line,
        element: Some(format!("{} {} > Ntry {}", stmt.elem, stmt.n, n.n)),
        field: field.to_string(),
        reason,
    }
}

/// A booked entry as a transaction (its account is set when the statement closes).
fn entry(n: &Ntry, stmt: &Stmt) -> Result<BankTx, BadRecord> {
    let bad = |field: &str, reason: String| bad_entry(n, stmt, field, reason);
    let (amount, currency) = amount(&n.amt, &n.ind, n.ccy.as_ref().or(stmt.currency.as_ref()))
        .map_err(|(f, r)| bad(f, r))?;
    let booked = match &n.booked {
        Some(d) => date(d).map_err(|r| bad("BookgDt", r))?,
        None => {
            return Err(bad(
                "BookgDt",
                "missing: the booking date is required".into(),
            ));
        }
    };
    let value_date = n
        .value
        .as_deref()
        .map(date)
        .transpose()
        .map_err(|r| bad("ValDt", r))?;
    let batch = n.details > 1;
    let counterparty = if batch {
        None
    } else if amount < 0 {
        n.cdtr.clone()
    } else {
        n.dbtr.clone()
    };
    let ustrd = (!n.ustrd.is_empty()).then(|| n.ustrd.join(" "));
    let label = if batch {
        n.addtl_ntry.clone().or(ustrd).or(n.addtl_tx.clone())
    } else {
        ustrd.or(n.addtl_tx.clone()).or(n.addtl_ntry.clone())
    };
    Ok(BankTx {
        line: n.line,
        booked,
        value_date,
        amount,
        currency,
        counterparty,
        label: label.or(n.bank_code.clone()).unwrap_or_default(),
        reference: n.end_to_end.clone().filter(|_| !batch),
        key: n.acct_svcr_ref.clone().or(n.ntry_ref.clone()),
        ..Default::default()
    })
}

/// A signed amount in minor units and its currency, or the field at fault and why.
fn amount(
    amt: &Option<String>,
    ind: &Option<String>,
    ccy: Option<&String>,
) -> Result<(i64, String), (&'static str, String)> {
    let raw = amt
        .as_deref()
        .ok_or(("Amt", "missing: the amount is required".to_string()))?;
    let ccy = ccy.ok_or((
        "Ccy",
        "missing: the amount has no Ccy attribute and the account (Acct/Ccy) no currency"
            .to_string(),
    ))?;
    let ccy = money::currency(ccy).map_err(|r| ("Ccy", r))?;
    let minor = money::parse_decimal(raw, money::exponent(&ccy), '.').map_err(|r| ("Amt", r))?;
    if minor < 0 {
        let why = format!("`{raw}` is negative, but the sign is CdtDbtInd's");
        return Err(("Amt", why));
    }
    match ind.as_deref() {
        Some("CRDT") => Ok((minor, ccy)),
        Some("DBIT") => Ok((-minor, ccy)),
        Some(other) => Err(("CdtDbtInd", format!("`{other}` is neither CRDT nor DBIT"))),
        None => Err(("CdtDbtInd", "missing: CRDT or DBIT is required".to_string())),
    }
}

/// An ISO date or date-time: the calendar day it prints, at midnight UTC.
fn date(raw: &str) -> Result<i64, String> {
    let bad = || format!("`{raw}` is not a date (YYYY-MM-DD)");
    let b = raw.as_bytes();
    if b.get(4) != Some(&b'-')
        || b.get(7) != Some(&b'-')
        || !matches!(b.get(10), None | Some(b'T' | b'Z' | b'+' | b'-' | b' '))
    {
        return Err(bad());
    }
    let n = |from: usize, to: usize| {
        raw.get(from..to)
            .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|s| s.parse().ok())
            .ok_or_else(bad)
    };
    time::ymd(n(0, 4)?, n(5, 7)?, n(8, 10)?).map_err(|e| format!("`{raw}`: {e}"))
}

fn read_balance(stmt: &mut Stmt, b: Bal) -> Result<(), FormatError> {
    let code = b.code.as_deref().unwrap_or("");
    if !matches!(code, "OPBD" | "PRCD" | "CLBD") {
        return Ok(());
    }
    let (minor, ccy) =
        amount(&b.amt, &b.ind, b.ccy.as_ref().or(stmt.currency.as_ref())).map_err(|(f, r)| {
            FormatError::new(
                b.line,
                format!("{} {} > Bal {code}: field `{f}`: {r}", stmt.elem, stmt.n),
            )
        })?;
    match code {
        "OPBD" => {
            stmt.opening = Some((minor, ccy));
            stmt.opening_is_opbd = true;
        }
        "PRCD" if !stmt.opening_is_opbd => stmt.opening = Some((minor, ccy)),
        "CLBD" => stmt.closing = Some((minor, ccy)),
        _ => {}
    }
    Ok(())
}
