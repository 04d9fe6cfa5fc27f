//! What an import tells the person about a file besides its records: what a parser left out
//! or could not check (pending entries, skipped sections, balances), and what the host's
//! import noticed against the store (a clash). Each [`Note`] is data: the numbers, names and
//! parts of the file it speaks of are fields, so that a page says it in the person's language
//! (`insitu-server`'s `pages/notes.rs` maps every variant to a catalogue message), while
//! [`Display`](fmt::Display) gives the English the command line and the JSON API print.

use std::fmt;

use crate::money;
use crate::time;

/// One thing the person should know about an imported file that is not an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// OFX: an investment statement; only its cash movements are imported, the rest is named.
    Investment {
        /// The line of its `<INVSTMTRS>`.
        line: u64,
        account: String,
        /// Cash movements (`<INVBANKTRAN>`) imported.
        cash: usize,
        /// Investment transactions left out, and their element names (`BUYSTOCK`, ...).
        trades: usize,
        trade_kinds: Vec<String>,
        /// Positions (`<INVPOSLIST>`) left out.
        positions: usize,
        /// Whether open orders (`<INVOOLIST>`) were left out.
        open_orders: bool,
        /// Whether the cash and margin balances (`<INVBAL>`) were left out.
        balances: bool,
    },
    /// OFX: the statement gives a balance, but the running balances cannot be known from it.
    NoRunningBalances { account: String, why: NoBalance },
    /// OFX: pending transactions (`<STMTTRNP>`), left out until they are booked.
    Pending {
        /// The line of the statement.
        line: u64,
        /// The line of each pending transaction.
        lines: Vec<u64>,
    },
    /// OFX: one `FITID` listed several times with the same content: imported once.
    RepeatedKey {
        account: String,
        key: String,
        /// Every line that lists it; all but the first are left out.
        lines: Vec<u64>,
    },
    /// OFX: one `FITID` used by different transactions: each is imported.
    ReusedKey {
        account: String,
        key: String,
        lines: Vec<u64>,
    },
    /// OFX: the header names a text encoding no one knows; the file is read as UTF-8 or
    /// Windows-1252.
    UnknownEncoding { label: String },
    /// CFONB: records shorter than 120 characters, read padded with blanks.
    Padded { lines: Vec<u64> },
    /// CFONB, CAMT: a statement's balances were not checked, as some of its movements could not
    /// be read.
    Unchecked { statement: Statement, unread: usize },
    /// CFONB, CAMT: a statement that does not add up, imported as asked
    /// (`--unbalanced=import`) without running balances.
    Unbalanced {
        line: u64,
        statement: Statement,
        why: Imbalance,
        movements: usize,
    },
    /// CAMT: entries of status `status` (`PDNG`, `FUTR`, `INFO`, or another code) not imported.
    NotBooked { status: String, lines: Vec<u64> },
    /// CSV: footer rows skipped as the mapping's `skip_footer` says, from line `first` to
    /// `last`.
    Footer { first: u64, last: u64, rows: usize },
    /// QIF: a section skipped, with its header as the file writes it.
    SkippedSection {
        line: u64,
        header: String,
        why: Skipped,
        records: usize,
    },
    /// QIF: comment lines (`#`) before the first header, skipped.
    Comments { line: u64, count: usize },
    /// Receipts: a line total computed from quantity × unit price, rounded half to even to the
    /// currency's digits.
    Rounded {
        /// The receipt (`receipt`, `receipts[2]`).
        element: String,
        /// The item's index in `items`.
        item: usize,
        /// The quantity as the file writes it.
        quantity: String,
        unit_price: i64,
        /// The exact product, a decimal with a `.`.
        exact: String,
        currency: String,
        total: i64,
    },
    /// The host's import: the record at `line` has a natural key that the store holds with
    /// other content (from an earlier file): it is imported as another record.
    Clash {
        file: String,
        line: u64,
        key: String,
    },
}

/// Why an OFX statement's running balances are left empty ([`Note::NoRunningBalances`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoBalance {
    /// Some transactions could not be read.
    Unread(usize),
    /// The transactions are in several currencies.
    SeveralCurrencies,
    /// `<LEDGERBAL><BALAMT>` is not an amount: why, in English.
    Amount(String),
    /// `<LEDGERBAL><DTASOF>` is not a date: why, in English.
    Date(String),
    /// The balance is dated (`asof`, ms) before the last transaction (`last`).
    Before { asof: i64, last: i64 },
    /// The amounts are too large to add up.
    TooLarge,
}

/// A CFONB or CAMT statement, as a note names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Statement {
    /// CFONB: an account's statement, from its `01` to its `07`.
    Cfonb { account: String },
    /// CAMT: the `number`th `element` (`Stmt`, `Rpt`, `Ntfctn`) of the file.
    Camt {
        element: String,
        number: usize,
        account: String,
    },
}

/// Why a statement's balances do not hold ([`Note::Unbalanced`], and the error of a statement
/// refused for it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Imbalance {
    /// The opening balance plus the movements is `end`, not `closing` (minor units).
    Totals {
        opening: i64,
        movements: i64,
        end: i64,
        closing: i64,
        currency: String,
    },
    /// The sum overflows.
    TooLarge,
    /// A balance or an entry is in another currency than the first one.
    Currencies {
        first: Holder,
        first_currency: String,
        other: Holder,
        other_currency: String,
    },
}

/// What holds a currency in [`Imbalance::Currencies`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    Balance,
    Entry,
}

/// Why a QIF section is skipped ([`Note::SkippedSection`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skipped {
    Investment,
    Categories,
    Memorized,
    NoBankTransactions,
}

/// `lines` joined by `, `.
pub fn joined(lines: &[u64]) -> String {
    let l: Vec<String> = lines.iter().map(u64::to_string).collect();
    l.join(", ")
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Note::Investment {
                line,
                account,
                cash,
                trades,
                trade_kinds,
                positions,
                open_orders,
                balances,
            } => {
                write!(
                    f,
                    "line {line}: investment account {account}: imported its {cash} cash \
                     movement(s) (<INVBANKTRAN>)"
                )?;
                let mut left = Vec::new();
                if *trades > 0 {
                    left.push(format!(
                        "{trades} investment transaction(s) ({})",
                        trade_kinds.join(", ")
                    ));
                }
                if *positions > 0 {
                    left.push(format!("{positions} position(s) (<INVPOSLIST>)"));
                }
                if *open_orders {
                    left.push("open orders (<INVOOLIST>)".into());
                }
                if *balances {
                    left.push("the cash and margin balances (<INVBAL>)".into());
                }
                if let Some((last, rest)) = left.split_last() {
                    f.write_str("; left out ")?;
                    if !rest.is_empty() {
                        write!(f, "{} and ", rest.join(", "))?;
                    }
                    f.write_str(last)?;
                }
                Ok(())
            }
            Note::NoRunningBalances { account, why } => {
                write!(f, "account {account}: running balances left empty: {why}")
            }
            Note::Pending { line, lines } => write!(
                f,
                "line {line}: {} pending transaction(s) left out until they are booked \
                 (line(s) {})",
                lines.len(),
                joined(lines)
            ),
            Note::RepeatedKey {
                account,
                key,
                lines,
            } => write!(
                f,
                "account {account}: FITID {key} is listed {} times with the same content \
                 (lines {}): one transaction, imported once; line(s) {} left out",
                lines.len(),
                joined(lines),
                joined(lines.get(1..).unwrap_or_default())
            ),
            Note::ReusedKey {
                account,
                key,
                lines,
            } => write!(
                f,
                "account {account}: FITID {key} is used by different transactions (lines {}); \
                 each is imported",
                joined(lines)
            ),
            Note::UnknownEncoding { label } => write!(
                f,
                "unknown text encoding `{label}`: the file is read as UTF-8 or Windows-1252"
            ),
            Note::Padded { lines } => write!(
                f,
                "{} record(s) shorter than 120 characters (trailing blanks trimmed by the tool \
                 that wrote the file) were read padded with blanks, at line(s) {}",
                lines.len(),
                joined(lines)
            ),
            Note::Unchecked { statement, unread } => {
                let what = match statement {
                    Statement::Cfonb { account } => {
                        write!(f, "account {account}")?;
                        ("movement", "movements")
                    }
                    Statement::Camt { .. } => {
                        write!(f, "{statement}")?;
                        ("entry", "entries")
                    }
                };
                let noun = if *unread == 1 { what.0 } else { what.1 };
                write!(
                    f,
                    ": the balances were not checked, as {unread} {noun} could not be read"
                )
            }
            Note::Unbalanced {
                line,
                statement,
                why,
                movements,
            } => write!(
                f,
                "line {line}: {statement}: {why}; its {movements} movement(s) were imported as \
                 asked (--unbalanced=import), without running balances"
            ),
            Note::NotBooked { status, lines } => {
                let n = lines.len();
                let (was, it) = if n == 1 {
                    ("was", "it is")
                } else {
                    ("were", "they are")
                };
                let (kind, why) = match status.as_str() {
                    "PDNG" => ("pending ", format!("{it} imported once booked")),
                    "FUTR" => ("future ", format!("{it} imported once booked")),
                    "INFO" => ("information ", format!("{it} not a booking")),
                    _ => ("", "only booked (BOOK) entries are".to_string()),
                };
                write!(
                    f,
                    "{n} {kind}{} ({status}) {was} not imported: {why} (line{} {})",
                    if n == 1 { "entry" } else { "entries" },
                    if n == 1 { "" } else { "s" },
                    joined(lines)
                )
            }
            Note::Footer { first, last, rows } => {
                if first == last {
                    write!(f, "line {first}")?;
                } else {
                    write!(f, "lines {first} to {last}")?;
                }
                write!(
                    f,
                    ": skipped {rows} footer row(s), as the mapping's `skip_footer` says"
                )
            }
            Note::SkippedSection {
                line,
                header,
                why,
                records,
            } => write!(
                f,
                "line {line}: skipped the `{header}` section ({records} record(s)): {why}"
            ),
            Note::Comments { line, count } => write!(
                f,
                "line {line}: skipped {count} comment line(s) (`#`) before the first header"
            ),
            Note::Rounded {
                element,
                item,
                quantity,
                unit_price,
                exact,
                currency,
                total,
            } => write!(
                f,
                "{element}: items[{item}].total: {quantity} × {} = {exact} {currency}, rounded \
                 half to even to {}",
                money::format_minor(*unit_price, currency),
                money::format_minor(*total, currency)
            ),
            Note::Clash { file, line, key } => write!(
                f,
                "{file}:{line}: key `{key}` is already in the store with other content (from \
                 an earlier file): this record is imported as another one"
            ),
        }
    }
}

impl fmt::Display for NoBalance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NoBalance::Unread(n) => write!(f, "{n} transaction(s) could not be read"),
            NoBalance::SeveralCurrencies => f.write_str("transactions are in several currencies"),
            NoBalance::Amount(e) => write!(f, "<LEDGERBAL><BALAMT>: {e}"),
            NoBalance::Date(e) => write!(f, "<LEDGERBAL><DTASOF>: {e}"),
            NoBalance::Before { asof, last } => write!(
                f,
                "the ledger balance is dated {}, before the last transaction ({})",
                time::format_date(*asof),
                time::format_date(*last)
            ),
            NoBalance::TooLarge => f.write_str("the amounts are too large to add up"),
        }
    }
}

impl fmt::Display for Statement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Statement::Cfonb { account } => write!(f, "new balance (07) of account {account}"),
            Statement::Camt {
                element,
                number,
                account,
            } => write!(f, "{element} {number} ({account})"),
        }
    }
}

impl fmt::Display for Imbalance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Imbalance::Totals {
                opening,
                movements,
                end,
                closing,
                currency,
            } => {
                let m = |minor: &i64| money::format_minor(*minor, currency);
                write!(
                    f,
                    "the statement does not add up: opening balance {} plus movements {} is {}, \
                     but the closing balance is {} {currency}",
                    m(opening),
                    m(movements),
                    m(end),
                    m(closing)
                )
            }
            Imbalance::TooLarge => f.write_str("the amounts are too large to add up"),
            Imbalance::Currencies {
                first,
                first_currency,
                other,
                other_currency,
            } => write!(
                f,
                "currency mismatch: a {first} is in {first_currency} and a {other} in \
                 {other_currency}, so the balances cannot be checked"
            ),
        }
    }
}

impl fmt::Display for Holder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Holder::Balance => "balance",
            Holder::Entry => "entry",
        })
    }
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Skipped::Investment => "investment transactions are not supported",
            Skipped::Categories => "categories are not imported",
            Skipped::Memorized => "memorized transactions are not imported",
            Skipped::NoBankTransactions => "it holds no bank transactions",
        })
    }
}
