//! OFX bank and credit card statements: OFX 1.x (SGML), OFX 2.x (XML) and Quicken's QFX.
//!
//! One tolerant tokenizer reads both syntaxes: tags (`<NAME>`, `</NAME>`, `<NAME/>`) and text.
//! A tag directly followed by text is a leaf, whose end tag is optional (SGML leaves have none);
//! an aggregate's end tag closes any leaf left open inside it. Tag names are case-insensitive;
//! `&amp; &lt; &gt; &quot; &apos;` and numeric entities are decoded, an unknown `&` is kept.
//! Processing instructions, comments and the OFX 1 header are skipped; QFX's `<INTU.*>` elements
//! are ignored.
//!
//! Statements: every `<STMTRS>` (bank, in `BANKMSGSRSV1`), `<CCSTMTRS>` (credit card, in
//! `CREDITCARDMSGSRSV1`) and `<INVSTMTRS>` (investment, in `INVSTMTMSGSRSV1`), several per file
//! allowed. Of an investment statement only the cash movements are read: each
//! `<INVBANKTRAN><STMTTRN>` is a transaction like a bank statement's; trades and other
//! investment transactions (`BUYSTOCK`, `SELLMF`, `INCOME`...), positions (`INVPOSLIST`), open
//! orders and balances (`INVBAL`) are left out, with a note counting them. Per statement:
//! - account: `BANKACCTFROM/ACCTID`, `CCACCTFROM/ACCTID` or `INVACCTFROM/ACCTID`, required;
//! - currency: `CURDEF`, required, an ISO 4217 code;
//! - per `<STMTTRN>`: `DTPOSTED` → `booked` (required), `DTAVAIL` → `value_date`, `TRNAMT` →
//!   `amount` (required; `,` is read as the decimal separator when it is the last separator, as
//!   some French banks write `-12,34`), `PAYEE/NAME` or `NAME` → `counterparty`, `MEMO` (else
//!   `NAME`, else `TRNTYPE`) → `label`, `CHECKNUM` or `REFNUM` → `reference`. A transaction
//!   with its own `CURRENCY/CURSYM` is in that currency; pending `STMTTRNP` are left out, with a
//!   note.
//! - natural key: `FITID`, unique per account, so that an overlapping statement gives the same
//!   keys again. A `FITID` listed twice with the same content (overlapping statements in one
//!   file) is one transaction, kept once; one that an account gives to different transactions
//!   keeps its `FITID` on each (the host gives each its own id). A note names the lines.
//! - balances: when `LEDGERBAL` gives `BALAMT` and a `DTASOF` on or after the last transaction's
//!   date, it is taken as the balance after the last transaction, and the running balances are
//!   filled backwards from it. This assumes the statement lists every transaction up to
//!   `DTASOF`, in date order: oldest first, or newest first when the dates say so (otherwise
//!   file order). Balances are left empty, with a note, when a transaction could not be read.
//!
//! Dates are calendar days at midnight UTC: the time and `[offset:TZ]` OFX adds are ignored.
//!
//! Encoding: OFX 1's `ENCODING:UTF-8`, else its `CHARSET` (`1252`, `ISO-8859-1`; `NONE` declares
//! nothing), or OFX 2's XML declaration. A declared UTF-8 or Windows-1252/Latin-1 is checked
//! against the bytes, since banks often declare one and send the other: valid UTF-8 is read as
//! UTF-8, anything else as Windows-1252. Other declared charsets are used as declared; without a
//! declaration [`text::decode`] decides.
//!
//! Lines: a transaction's line is the line of its `<STMTTRN>`. A bad transaction becomes a
//! [`BadRecord`] of element `STMTTRN FITID …` (`STMTTRN` without a `FITID`) naming each of its
//! bad fields; a file without
//! `<OFX>` or statements, cut short, or with a statement lacking its account or currency is a
//! [`FormatError`].

use std::borrow::Cow;
use std::collections::BTreeMap;

use encoding_rs::{UTF_8, WINDOWS_1252};

use crate::bank::{self, BankTx};
use crate::note::{NoBalance, Note};
use crate::{BadFields, BadRecord, FormatError, Options, Parsed, money, text, time};

/// Deepest nesting read: real statements nest about eight elements deep.
const MAX_DEPTH: usize = 64;

/// Aggregates read here, whose end tag is required: one missing means a malformed file, not an
/// SGML leaf left open.
const AGGREGATES: &[&str] = &[
    "OFX",
    "BANKMSGSRSV1",
    "CREDITCARDMSGSRSV1",
    "STMTTRNRS",
    "CCSTMTTRNRS",
    "STMTRS",
    "CCSTMTRS",
    "BANKACCTFROM",
    "CCACCTFROM",
    "BANKTRANLIST",
    "STMTTRN",
    "PAYEE",
    "CURRENCY",
    "LEDGERBAL",
    "INVSTMTMSGSRSV1",
    "INVSTMTTRNRS",
    "INVSTMTRS",
    "INVACCTFROM",
    "INVTRANLIST",
    "INVBANKTRAN",
];

pub fn parse(bytes: &[u8], _opts: &Options) -> Result<Parsed, FormatError> {
    let mut notes = Vec::new();
    let text = decode(bytes, &mut notes)?;
    let root = tree(&text)?;
    let ofx = root
        .first(&["OFX"])
        .ok_or_else(|| FormatError::new(1, "not an OFX file: no <OFX> element"))?;
    let statements = ofx.all(&["STMTRS", "CCSTMTRS", "INVSTMTRS"]);
    if statements.is_empty() {
        return Err(FormatError::new(
            ofx.line,
            "no bank, credit card or investment statement (<STMTRS>, <CCSTMTRS> or \
             <INVSTMTRS>) in the file",
        ));
    }
    let (mut txs, mut bad) = (Vec::new(), Vec::new());
    for stmt in statements {
        let (account, mut stmt_txs, bad_count) = statement(stmt, &mut bad)?;
        if stmt.name == "INVSTMTRS" {
            notes.push(investment_note(stmt, &account));
        }
        if let Err(why) = balances(stmt, &mut stmt_txs, bad_count) {
            notes.push(Note::NoRunningBalances {
                account: account.clone(),
                why,
            });
        }
        let lines: Vec<u64> = stmt.all(&["STMTTRNP"]).iter().map(|t| t.line).collect();
        if !lines.is_empty() {
            notes.push(Note::Pending {
                line: stmt.line,
                lines,
            });
        }
        txs.append(&mut stmt_txs);
    }
    let txs = repeated_keys(txs, &mut notes);
    Ok(bank::parsed(txs, bad, notes))
}

/// A `FITID` is unique per account (OFX 2.1.1, 3.2.1): one listed again with the same content
/// is the same transaction in overlapping statements of one file, kept once, with a note
/// naming the lines left out. Listed again with other content, the bank reused it: every one
/// is kept, under its `FITID`, and the host gives each its own id (a note names them).
fn repeated_keys(txs: Vec<BankTx>, notes: &mut Vec<Note>) -> Vec<BankTx> {
    let mut by_key: BTreeMap<(&str, &str), Vec<usize>> = BTreeMap::new();
    for (i, t) in txs.iter().enumerate() {
        if let Some(k) = &t.key {
            by_key.entry((&t.account, k)).or_default().push(i);
        }
    }
    fn content(t: &BankTx) -> impl PartialEq + '_ {
        let text = (&t.counterparty, &t.label, &t.reference);
        (t.booked, t.value_date, t.amount, &t.currency, text)
    }
    let lines = |at: &[usize]| at.iter().map(|&i| txs[i].line).collect();
    let mut repeats = Vec::new();
    for ((account, fitid), at) in by_key.iter().filter(|(_, at)| at.len() > 1) {
        let (account, key) = (account.to_string(), fitid.to_string());
        if at.iter().all(|&i| content(&txs[i]) == content(&txs[at[0]])) {
            let lines = lines(at);
            notes.push(Note::RepeatedKey {
                account,
                key,
                lines,
            });
            repeats.extend_from_slice(&at[1..]);
        } else {
            let lines = lines(at);
            notes.push(Note::ReusedKey {
                account,
                key,
                lines,
            });
        }
    }
    drop(by_key);
    if repeats.is_empty() {
        return txs;
    }
    repeats.sort_unstable();
    txs.into_iter()
        .enumerate()
        .filter(|(i, _)| repeats.binary_search(i).is_err())
        .map(|(_, t)| t)
        .collect()
}

/// What an investment statement's import took and left out (see the module doc).
fn investment_note(stmt: &Node, account: &str) -> Note {
    let cash = stmt.all(&["INVBANKTRAN"]).len();
    let (mut trade_kinds, mut trades) = (Vec::<String>::new(), 0);
    let list = stmt.children.iter().filter(|c| c.name == "INVTRANLIST");
    for t in list.flat_map(|l| &l.children) {
        if t.name != "INVBANKTRAN" && t.text.is_none() {
            trades += 1;
            if !trade_kinds.iter().any(|k| *k == t.name) {
                trade_kinds.push(t.name.to_string());
            }
        }
    }
    Note::Investment {
        line: stmt.line,
        account: account.to_string(),
        cash,
        trades,
        trade_kinds,
        positions: stmt.first(&["INVPOSLIST"]).map_or(0, |l| l.children.len()),
        open_orders: stmt
            .first(&["INVOOLIST"])
            .is_some_and(|l| !l.children.is_empty()),
        balances: stmt.first(&["INVBAL"]).is_some(),
    }
}

/// The statement's account, its transactions, and how many of them went to `bad`.
fn statement(
    stmt: &Node,
    bad: &mut Vec<BadRecord>,
) -> Result<(String, Vec<BankTx>, usize), FormatError> {
    let from = match stmt.name.as_ref() {
        "STMTRS" => "BANKACCTFROM",
        "INVSTMTRS" => "INVACCTFROM",
        _ => "CCACCTFROM",
    };
    let account = stmt.text(&[from, "ACCTID"]).ok_or_else(|| {
        FormatError::new(
            stmt.line,
            format!(
                "the statement <{}> has no account: <{from}><ACCTID> is missing",
                stmt.name
            ),
        )
    })?;
    let curdef = stmt.first(&["CURDEF"]);
    let currency = curdef.and_then(|c| c.text.as_deref()).ok_or_else(|| {
        FormatError::new(
            stmt.line,
            format!(
                "the statement <{}> has no currency: <CURDEF> is missing",
                stmt.name
            ),
        )
    })?;
    let line = curdef.map_or(stmt.line, |c| c.line);
    let currency = money::currency(&currency.to_ascii_uppercase())
        .map_err(|e| FormatError::new(line, format!("<CURDEF>: {e}")))?;
    let (mut txs, before) = (Vec::new(), bad.len());
    for t in stmt.all(&["STMTTRN"]) {
        match transaction(t, account, &currency) {
            Ok(tx) => txs.push(tx),
            Err(b) => bad.push(b),
        }
    }
    Ok((account.to_string(), txs, bad.len() - before))
}

fn transaction(t: &Node, account: &str, currency: &str) -> Result<BankTx, BadRecord> {
    let fitid = t.text(&["FITID"]);
    // Every field is read, so that a bad record names all its bad fields.
    let mut bad = BadFields::default();
    let required = |field: &str, what: &str| {
        t.text(&[field])
            .ok_or_else(|| format!("the transaction has no {what}"))
    };
    let booked = required("DTPOSTED", "posting date").and_then(time::compact_date);
    let booked = bad.read("DTPOSTED", booked);
    let value_date = t.text(&["DTAVAIL"]).map(time::compact_date).transpose();
    let value_date = bad.read("DTAVAIL", value_date);
    let own = t.text(&["CURRENCY", "CURSYM"]);
    let own = own
        .map(|c| money::currency(&c.to_ascii_uppercase()))
        .transpose();
    // With an unreadable currency, the amount is checked against the statement's.
    let currency = bad
        .read("CURSYM", own)
        .unwrap_or_else(|| currency.to_string());
    let amount = required("TRNAMT", "amount").and_then(|raw| {
        // `,` is the decimal separator when it comes last: `-12,34`, `1.234,56`.
        let decimal = if raw.rfind(',') > raw.rfind('.') {
            ','
        } else {
            '.'
        };
        money::parse_decimal(raw, money::exponent(&currency), decimal)
    });
    let amount = bad.read("TRNAMT", amount);
    let element = fitid.map_or_else(|| "STMTTRN".into(), |f| format!("STMTTRN FITID {f}"));
    bad.check(t.line, Some(element))?;
    let name = t.text(&["PAYEE", "NAME"]).or_else(|| t.text(&["NAME"]));
    let label = t
        .text(&["MEMO"])
        .or(name)
        .or_else(|| t.text(&["TRNTYPE"]))
        .unwrap_or("(no label)");
    Ok(BankTx {
        line: t.line,
        account: account.to_string(),
        booked,
        value_date,
        amount,
        currency,
        counterparty: name.map(str::to_string),
        label: label.to_string(),
        reference: t
            .text(&["CHECKNUM"])
            .or_else(|| t.text(&["REFNUM"]))
            .map(str::to_string),
        balance: None,
        key: fitid.map(str::to_string),
    })
}

/// Fills running balances from `LEDGERBAL` (see the module doc). `Err` says why they cannot be
/// known although the statement gives a balance.
fn balances(stmt: &Node, txs: &mut [BankTx], bad: usize) -> Result<(), NoBalance> {
    let (Some(amount), Some(asof), Some(last)) = (
        stmt.text(&["LEDGERBAL", "BALAMT"]),
        stmt.text(&["LEDGERBAL", "DTASOF"]),
        txs.iter().map(|t| t.booked).max(),
    ) else {
        return Ok(());
    };
    if bad > 0 {
        return Err(NoBalance::Unread(bad));
    }
    let currency = &txs[0].currency;
    if txs.iter().any(|t| &t.currency != currency) {
        return Err(NoBalance::SeveralCurrencies);
    }
    let decimal = if amount.rfind(',') > amount.rfind('.') {
        ','
    } else {
        '.'
    };
    let closing = money::parse_decimal(amount, money::exponent(currency), decimal)
        .map_err(NoBalance::Amount)?;
    let asof = time::compact_date(asof).map_err(NoBalance::Date)?;
    if asof < last {
        return Err(NoBalance::Before { asof, last });
    }
    let newest_first = txs.windows(2).all(|w| w[0].booked >= w[1].booked)
        && txs.first().map(|t| t.booked) != txs.last().map(|t| t.booked);
    if newest_first {
        txs.reverse();
    }
    // Its only failure is a sum too large for the amounts' type.
    let filled = bank::balances_backward(txs, closing).map_err(|_| NoBalance::TooLarge);
    if newest_first {
        txs.reverse();
    }
    filled
}

/// Decodes the file by the rule of the module doc.
fn decode<'a>(bytes: &'a [u8], notes: &mut Vec<Note>) -> Result<Cow<'a, str>, FormatError> {
    let declared = declared_charset(bytes);
    let label = declared.as_deref().filter(|l| match text::encoding(l) {
        Ok(enc) => enc != UTF_8 && enc != WINDOWS_1252,
        Err(_) => {
            notes.push(Note::UnknownEncoding {
                label: l.to_string(),
            });
            false
        }
    });
    text::decode(bytes, label)
        .map(|(t, _)| t)
        .map_err(|e| FormatError::new(1, e))
}

/// The charset the header declares: OFX 2's XML declaration, or OFX 1's `ENCODING`/`CHARSET`.
fn declared_charset(bytes: &[u8]) -> Option<String> {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(1024)]);
    let head = head.trim_start_matches('\u{feff}').trim_start();
    if let Some(decl) = head.strip_prefix("<?xml") {
        let decl = &decl[..decl.find("?>")?];
        let value = decl
            .split("encoding")
            .nth(1)?
            .trim_start()
            .strip_prefix('=')?
            .trim_start();
        let quote = value.chars().next().filter(|&q| q == '"' || q == '\'')?;
        return value[1..].split(quote).next().map(str::to_string);
    }
    let header = &head[..head.find('<').unwrap_or(head.len())];
    let field = |key: &str| {
        header.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(key).then(|| v.trim())
        })
    };
    match (field("ENCODING"), field("CHARSET")) {
        (Some(e), _) if e.eq_ignore_ascii_case("UTF-8") => Some("UTF-8".into()),
        (_, Some(c)) if !c.is_empty() && !c.eq_ignore_ascii_case("NONE") => Some(c.to_string()),
        _ => None,
    }
}

/// An element: a leaf has text, an aggregate children.
/// Tag names and text borrow from the file when they need no change: a statement of 100k
/// transactions would otherwise cost millions of small allocations.
#[derive(Debug, Default)]
struct Node<'a> {
    name: Cow<'a, str>,
    line: u64,
    text: Option<Cow<'a, str>>,
    children: Vec<Node<'a>>,
}

impl<'a> Node<'a> {
    /// The first descendant with one of `names`, depth first.
    fn first(&self, names: &[&str]) -> Option<&Node<'a>> {
        self.children.iter().find_map(|c| {
            if names.contains(&c.name.as_ref()) {
                Some(c)
            } else {
                c.first(names)
            }
        })
    }

    /// The descendants with one of `names`, in file order, not looking inside a match.
    fn all(&self, names: &[&str]) -> Vec<&Node<'a>> {
        let mut out = Vec::new();
        self.collect(names, &mut out);
        out
    }

    fn collect<'n>(&'n self, names: &[&str], out: &mut Vec<&'n Node<'a>>) {
        for c in &self.children {
            if names.contains(&c.name.as_ref()) {
                out.push(c);
            } else {
                c.collect(names, out);
            }
        }
    }

    /// The non-empty text of the leaf at `path` of child names.
    fn text(&self, path: &[&str]) -> Option<&str> {
        let node = path
            .iter()
            .try_fold(self, |n, p| n.children.iter().find(|c| c.name == *p))?;
        node.text.as_deref().filter(|t| !t.is_empty())
    }
}

/// Builds the element tree (see the module doc for the SGML rules).
fn tree(text: &str) -> Result<Node<'_>, FormatError> {
    let mut stack = vec![Node::default()];
    let mut tokens = tokenize(text).into_iter().peekable();
    let mut seen_ofx = false;
    while let Some((line, token)) = tokens.next() {
        match token {
            // Text outside a leaf: the OFX 1 header, or stray text.
            Token::Text(_) => {}
            Token::Open(name) => {
                seen_ofx |= name == "OFX";
                let parent = stack.len() - 1;
                if let Some((_, Token::Text(value))) =
                    tokens.next_if(|(_, t)| matches!(t, Token::Text(_)))
                {
                    tokens.next_if(|(_, t)| matches!(t, Token::Close(n) if *n == name));
                    stack[parent].children.push(Node {
                        name,
                        line,
                        text: Some(value),
                        children: Vec::new(),
                    });
                } else if stack.len() > MAX_DEPTH {
                    return Err(FormatError::new(
                        line,
                        format!("<{name}> is nested more than {MAX_DEPTH} elements deep"),
                    ));
                } else {
                    stack.push(Node {
                        name,
                        line,
                        ..Node::default()
                    });
                }
            }
            Token::Close(name) => {
                // A stray end tag (of a leaf already closed, say) is ignored.
                let Some(i) = stack
                    .iter()
                    .rposition(|n| n.name == name)
                    .filter(|&i| i > 0)
                else {
                    continue;
                };
                while stack.len() > i + 1 {
                    let Some(mut open) = stack.pop() else { break };
                    if AGGREGATES.contains(&open.name.as_ref()) {
                        return Err(FormatError::new(
                            open.line,
                            format!(
                                "<{}> opened at line {} is not closed before </{name}> at line {line}",
                                open.name, open.line
                            ),
                        ));
                    }
                    // An empty SGML leaf: what followed it belongs to its parent.
                    let moved = std::mem::take(&mut open.children);
                    let parent = stack.len() - 1;
                    stack[parent].children.push(open);
                    stack[parent].children.extend(moved);
                }
                if let Some(node) = stack.pop() {
                    let parent = stack.len() - 1;
                    stack[parent].children.push(node);
                }
            }
        }
    }
    if !seen_ofx {
        return Err(FormatError::new(1, "not an OFX file: no <OFX> element"));
    }
    if stack.len() > 1 {
        let end = text::line_of(text, text.len());
        let open = &stack[1..];
        let inner = open
            .iter()
            .rev()
            .find(|n| AGGREGATES.contains(&n.name.as_ref()))
            .unwrap_or(&open[0]);
        let reason = if inner.name == "OFX" {
            "the file is truncated: </OFX> is missing".to_string()
        } else {
            format!(
                "the file is truncated: it ends at line {end} inside <{}> opened at line {}",
                inner.name, inner.line
            )
        };
        return Err(FormatError::new(inner.line, reason));
    }
    Ok(stack.swap_remove(0))
}

#[derive(Debug)]
enum Token<'a> {
    Open(Cow<'a, str>),
    Close(Cow<'a, str>),
    Text(Cow<'a, str>),
}

/// Splits OFX text into upper-cased tags and trimmed, unescaped text, each with its line.
/// Stops at a tag cut short by the end of the file.
fn tokenize(text: &str) -> Vec<(u64, Token<'_>)> {
    let newlines = |s: &str| s.bytes().filter(|&b| b == b'\n').count() as u64;
    let (mut out, mut rest, mut line) = (Vec::new(), text, 1u64);
    loop {
        let (chunk, tail) = rest.split_at(next_tag(rest));
        let value = chunk.trim();
        if !value.is_empty() {
            let lead = newlines(&chunk[..chunk.len() - chunk.trim_start().len()]);
            out.push((line + lead, Token::Text(unescape(value))));
        }
        line += newlines(chunk);
        let end = if let Some(body) = tail.strip_prefix("<![CDATA[") {
            let Some(e) = body.find("]]>") else { break };
            out.push((line, Token::Text(Cow::Borrowed(body[..e].trim()))));
            e + 12
        } else if tail.starts_with("<!--") {
            let Some(e) = tail.find("-->") else { break };
            e + 3
        } else {
            let Some(e) = tail.find('>') else { break };
            let inner = &tail[1..e];
            let name = |s| {
                let n: &str = s;
                let n = n
                    .split(|c: char| c.is_whitespace() || c == '/')
                    .next()
                    .unwrap_or("");
                if n.bytes().any(|b| b.is_ascii_lowercase()) {
                    Cow::Owned(n.to_ascii_uppercase())
                } else {
                    Cow::Borrowed(n)
                }
            };
            if let Some(close) = inner.strip_prefix('/') {
                out.push((line, Token::Close(name(close))));
            } else if !inner.starts_with(['?', '!']) {
                let n = name(inner);
                if inner.ends_with('/') {
                    out.push((line, Token::Open(n.clone())));
                    out.push((line, Token::Close(n)));
                } else {
                    out.push((line, Token::Open(n)));
                }
            }
            e + 1
        };
        line += newlines(&tail[..end]);
        rest = &tail[end..];
    }
    out
}

/// Where the next tag starts: a `<` followed by a letter, `/`, `?` or `!` (a lone `<` in text,
/// as in `<3`, is text).
fn next_tag(s: &str) -> usize {
    let b = s.as_bytes();
    s.match_indices('<')
        .map(|(i, _)| i)
        .find(|&i| {
            b.get(i + 1)
                .is_some_and(|&c| c.is_ascii_alphabetic() || matches!(c, b'/' | b'?' | b'!'))
        })
        .unwrap_or(s.len())
}

/// Decodes `&amp; &lt; &gt; &quot; &apos;` and numeric entities; another `&` is kept as is.
fn unescape(s: &str) -> Cow<'_, str> {
    if !s.contains('&') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let decoded = tail
            .bytes()
            .take(12)
            .position(|b| b == b';')
            .and_then(|e| entity(&tail[1..e]).map(|c| (c, e)));
        match decoded {
            Some((c, e)) => {
                out.push(c);
                rest = &tail[e + 1..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

fn entity(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        "nbsp" => Some('\u{a0}'),
        _ => {
            let n = name.strip_prefix('#')?;
            let code = match n.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => n.parse().ok()?,
            };
            char::from_u32(code)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizer_reads_sgml_and_xml_alike() {
        let sgml = tree("<OFX><A><B>x &amp; y<C>1</C></A></OFX>").unwrap();
        let xml = tree("<OFX>\n<A>\n<B>x &amp; y</B>\n<c>1</c>\n</A>\n</OFX>").unwrap();
        for t in [&sgml, &xml] {
            let ofx = t.first(&["OFX"]).unwrap();
            assert_eq!(ofx.text(&["A", "B"]), Some("x & y"));
            assert_eq!(ofx.text(&["A", "C"]), Some("1"));
        }
        assert_eq!(
            unescape("a &#233;&#xE9; &lt;3 & &bogus; &"),
            "a éé <3 & &bogus; &"
        );
        // An empty SGML leaf does not swallow its siblings.
        let t = tree("<OFX><T><MEMO>\n<NAME>n</T></OFX>").unwrap();
        assert_eq!(t.first(&["T"]).unwrap().text(&["NAME"]), Some("n"));
        assert!(tree(&"<OFX>".repeat(100)).is_err());
        assert_eq!(
            declared_charset(b"<?xml version='1.0' encoding='ISO-8859-1'?><OFX>").as_deref(),
            Some("ISO-8859-1")
        );
        assert_eq!(
            declared_charset(b"OFXHEADER:100\nCHARSET:NONE\n\n<OFX>"),
            None
        );
    }
}
