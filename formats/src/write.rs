//! Writers of OFX 2 and CAMT.053 statements, for the demo and the benchmarks: synthetic
//! statements go through the same parsers as people's files.

use std::fmt::Write as _;

use crate::bank::BankTx;
use crate::money::format_minor;
use crate::time::{DAY_MS, civil_from_days};

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn compact(ms: i64) -> String {
    let (y, m, d) = civil_from_days(ms.div_euclid(DAY_MS));
    format!("{y:04}{m:02}{d:02}")
}

fn iso(ms: i64) -> String {
    crate::time::format_date(ms)
}

/// One account's statement: its transactions in order, and the balance after the last one.
pub struct Statement<'a> {
    pub account: &'a str,
    pub currency: &'a str,
    pub txs: &'a [BankTx],
    pub closing: i64,
}

impl Statement<'_> {
    fn opening(&self) -> i64 {
        self.closing - self.txs.iter().map(|t| t.amount).sum::<i64>()
    }

    fn span(&self) -> (i64, i64) {
        let first = self.txs.iter().map(|t| t.booked).min().unwrap_or(0);
        let last = self.txs.iter().map(|t| t.booked).max().unwrap_or(0);
        (first, last)
    }
}

/// An OFX 2.2 (XML) file with one bank statement per account. Each transaction's `key` is its
/// `FITID` (its index when it has none).
pub fn ofx(statements: &[Statement]) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n\
         <?OFX OFXHEADER=\"200\" VERSION=\"220\" SECURITY=\"NONE\" OLDFILEUID=\"NONE\" NEWFILEUID=\"NONE\"?>\n\
         <OFX>\n<SIGNONMSGSRSV1><SONRS><STATUS><CODE>0</CODE><SEVERITY>INFO</SEVERITY></STATUS>\
         <DTSERVER>20250101</DTSERVER><LANGUAGE>FRA</LANGUAGE></SONRS></SIGNONMSGSRSV1>\n<BANKMSGSRSV1>\n",
    );
    for (n, s) in statements.iter().enumerate() {
        let (first, last) = s.span();
        let _ = write!(
            out,
            "<STMTTRNRS><TRNUID>{}</TRNUID><STATUS><CODE>0</CODE><SEVERITY>INFO</SEVERITY></STATUS>\n\
             <STMTRS><CURDEF>{}</CURDEF>\n<BANKACCTFROM><BANKID>30004</BANKID><ACCTID>{}</ACCTID>\
             <ACCTTYPE>CHECKING</ACCTTYPE></BANKACCTFROM>\n<BANKTRANLIST><DTSTART>{}</DTSTART><DTEND>{}</DTEND>\n",
            n + 1,
            s.currency,
            escape(s.account),
            compact(first),
            compact(last)
        );
        for (i, t) in s.txs.iter().enumerate() {
            let _ = write!(
                out,
                "<STMTTRN><TRNTYPE>{}</TRNTYPE><DTPOSTED>{}</DTPOSTED>",
                if t.amount < 0 { "DEBIT" } else { "CREDIT" },
                compact(t.booked)
            );
            if let Some(v) = t.value_date {
                let _ = write!(out, "<DTAVAIL>{}</DTAVAIL>", compact(v));
            }
            let _ = write!(
                out,
                "<TRNAMT>{}</TRNAMT><FITID>{}</FITID>",
                format_minor(t.amount, s.currency),
                escape(&t.key.clone().unwrap_or_else(|| i.to_string()))
            );
            if let Some(cp) = &t.counterparty {
                let _ = write!(out, "<NAME>{}</NAME>", escape(cp));
            }
            let _ = writeln!(out, "<MEMO>{}</MEMO></STMTTRN>", escape(&t.label));
        }
        let _ = writeln!(
            out,
            "</BANKTRANLIST>\n<LEDGERBAL><BALAMT>{}</BALAMT><DTASOF>{}</DTASOF></LEDGERBAL>\n</STMTRS></STMTTRNRS>",
            format_minor(s.closing, s.currency),
            compact(last)
        );
    }
    out.push_str("</BANKMSGSRSV1>\n</OFX>\n");
    out
}

/// A camt.053.001.02 file with one statement per account, with opening and closing balances.
/// Each transaction's `key` is its `AcctSvcrRef`.
pub fn camt053(statements: &[Statement]) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\">\n<BkToCstmrStmt>\n\
         <GrpHdr><MsgId>INSITU-DEMO</MsgId><CreDtTm>2025-01-01T08:00:00</CreDtTm></GrpHdr>\n",
    );
    let amount = |minor: i64, cur: &str| {
        format!(
            "<Amt Ccy=\"{cur}\">{}</Amt><CdtDbtInd>{}</CdtDbtInd>",
            format_minor(minor.abs(), cur),
            if minor < 0 { "DBIT" } else { "CRDT" }
        )
    };
    for (n, s) in statements.iter().enumerate() {
        let (first, last) = s.span();
        let balance = |code: &str, minor: i64, day: i64| {
            format!(
                "<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp>{}<Dt><Dt>{}</Dt></Dt></Bal>\n",
                amount(minor, s.currency),
                iso(day)
            )
        };
        let _ = write!(
            out,
            "<Stmt><Id>STMT-{}</Id><CreDtTm>2025-01-01T08:00:00</CreDtTm>\n\
             <Acct><Id><IBAN>{}</IBAN></Id><Ccy>{}</Ccy></Acct>\n{}{}",
            n + 1,
            escape(s.account),
            s.currency,
            balance("OPBD", s.opening(), first),
            balance("CLBD", s.closing, last)
        );
        for (i, t) in s.txs.iter().enumerate() {
            let _ = write!(
                out,
                "<Ntry>{}<Sts>BOOK</Sts><BookgDt><Dt>{}</Dt></BookgDt>",
                amount(t.amount, s.currency),
                iso(t.booked)
            );
            if let Some(v) = t.value_date {
                let _ = write!(out, "<ValDt><Dt>{}</Dt></ValDt>", iso(v));
            }
            let _ = write!(
                out,
                "<AcctSvcrRef>{}</AcctSvcrRef><NtryDtls><TxDtls>",
                escape(&t.key.clone().unwrap_or_else(|| i.to_string()))
            );
            if let Some(cp) = &t.counterparty {
                let party = if t.amount < 0 { "Cdtr" } else { "Dbtr" };
                let _ = write!(
                    out,
                    "<RltdPties><{party}><Nm>{}</Nm></{party}></RltdPties>",
                    escape(cp)
                );
            }
            let _ = writeln!(
                out,
                "<RmtInf><Ustrd>{}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>",
                escape(&t.label)
            );
        }
        out.push_str("</Stmt>\n");
    }
    out.push_str("</BkToCstmrStmt>\n</Document>\n");
    out
}
