//! XML files: a camt.052, .053 or .054 by its root element or namespace; any other ISO 20022
//! message, or XML document, named in the refusal.

use super::{Format, Rejected, Undetected};
use crate::camt::Kind;
use crate::text;

const ISO: &str = "urn:iso:std:iso:20022:tech:xsd:";

/// The ISO 20022 messages a bank may hand out instead of a statement, by name.
const MESSAGES: &[(&str, &str)] = &[
    ("camt.026", "unable to apply"),
    ("camt.027", "claim non receipt"),
    ("camt.029", "resolution of investigation"),
    ("camt.055", "customer payment cancellation request"),
    ("camt.056", "FI to FI payment cancellation request"),
    ("camt.057", "notification to receive"),
    ("camt.060", "account reporting request"),
    ("camt.086", "bank services billing statement"),
    ("camt.087", "request to modify payment"),
    ("pain.001", "customer credit transfer initiation"),
    ("pain.002", "customer payment status report"),
    ("pain.007", "customer payment reversal"),
    ("pain.008", "customer direct debit initiation"),
    ("pain.013", "creditor payment activation request"),
    (
        "pain.014",
        "creditor payment activation request status report",
    ),
    ("pacs.002", "FI to FI payment status report"),
    ("pacs.004", "payment return"),
    ("pacs.008", "FI to FI customer credit transfer"),
    ("pacs.009", "financial institution credit transfer"),
];

/// `text` starts with `<`; `first_line` is its line in the file.
pub(super) fn identify(text: &str, first_line: u64) -> Result<Format, Undetected> {
    let kinds = [Kind::Report, Kind::Statement, Kind::Notification];
    let message = text
        .find(ISO)
        .map(|at| &text[at + ISO.len()..])
        .map(|id| {
            &id[..id
                .find(|c: char| !c.is_ascii_alphanumeric() && c != '.')
                .unwrap_or(id.len())]
        })
        .map(|id| id.get(..8).unwrap_or(id));
    let by_element = kinds.into_iter().find(|k| {
        text.contains(&format!("<{}>", k.root())) || text.contains(&format!(":{}>", k.root()))
    });
    let by_namespace = kinds
        .into_iter()
        .find(|k| message.is_some_and(|m| m == k.message()));
    match by_element.or(by_namespace) {
        Some(Kind::Report) => return Ok(Format::Camt052),
        Some(Kind::Statement) => return Ok(Format::Camt053),
        Some(Kind::Notification) => return Ok(Format::Camt054),
        None => {}
    }
    let (root, line) = root(text);
    let root_line = first_line + text::line_of(text, line) - 1;
    let what = match message {
        Some(id) => {
            let title = MESSAGES
                .iter()
                .find(|(m, _)| *m == id)
                .map_or(String::new(), |(_, t)| format!(" ({t})"));
            format!("an ISO 20022 {id} message{title}, not a statement Insitu imports")
        }
        None => format!("an XML document whose root element is <{root}>"),
    };
    Err(Undetected {
        what: Some(what),
        rejected: vec![
            Rejected {
                format: "OFX",
                line: first_line,
                reason: "no `<OFX>` tag".into(),
            },
            Rejected {
                format: "CAMT",
                line: root_line,
                reason: format!(
                    "no camt.052, .053 or .054 namespace, and no {} element",
                    kinds.map(Kind::root).join(", ")
                ),
            },
        ],
    })
}

/// The name of the first element that is not a declaration, comment or processing
/// instruction, and its byte offset.
fn root(text: &str) -> (String, usize) {
    let mut at = 0;
    while let Some(i) = text[at..].find('<') {
        let start = at + i;
        let rest = &text[start + 1..];
        if !rest.starts_with(['?', '!']) {
            let name: String = rest
                .chars()
                .take_while(|c| !c.is_whitespace() && *c != '>' && *c != '/')
                .take(64)
                .collect();
            return (name, start);
        }
        at = start + 1;
    }
    (String::new(), 0)
}
