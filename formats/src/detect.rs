//! Telling a file's format from its content ([`identify`]), and the names `--format` takes.

mod table;
mod xml;

use std::fmt;

use crate::linkedin::LinkedInFile;
use crate::text;

/// The formats Insitu reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// OFX 1.x (SGML) and 2.x (XML), and Quicken's QFX.
    Ofx,
    /// ISO 20022 bank-to-customer account report, `camt.052`.
    Camt052,
    /// ISO 20022 bank-to-customer statement, `camt.053`.
    Camt053,
    /// ISO 20022 bank-to-customer debit/credit notification, `camt.054`.
    Camt054,
    Qif,
    /// The French CFONB 120-character bank statement.
    Cfonb120,
    /// CSV whose headers are the schema's field names, or read through a mapping file.
    Csv,
    /// JSON Lines whose keys are the schema's field names.
    JsonLines,
    /// Receipts with line items, as JSON.
    Receipts,
    /// Usage events, as JSON Lines.
    UsageEvents,
    /// One file of LinkedIn's data export.
    LinkedIn(LinkedInFile),
}

impl Format {
    /// The names `--format` takes.
    pub const NAMES: &[&str] = &[
        "ofx",
        "qfx",
        "camt052",
        "camt053",
        "camt054",
        "qif",
        "cfonb120",
        "csv",
        "jsonl",
        "receipts",
        "usage",
        "linkedin-positions",
        "linkedin-education",
        "linkedin-skills",
    ];

    pub fn from_name(name: &str) -> Result<Format, String> {
        Ok(match name.to_ascii_lowercase().as_str() {
            "ofx" | "qfx" => Format::Ofx,
            "camt052" | "camt.052" => Format::Camt052,
            "camt053" | "camt.053" | "camt" => Format::Camt053,
            "camt054" | "camt.054" => Format::Camt054,
            "qif" => Format::Qif,
            "cfonb120" | "cfonb" => Format::Cfonb120,
            "csv" => Format::Csv,
            "jsonl" | "ndjson" => Format::JsonLines,
            "receipts" => Format::Receipts,
            "usage" => Format::UsageEvents,
            "linkedin-positions" => Format::LinkedIn(LinkedInFile::Positions),
            "linkedin-education" => Format::LinkedIn(LinkedInFile::Education),
            "linkedin-skills" => Format::LinkedIn(LinkedInFile::Skills),
            other => {
                return Err(format!(
                    "unknown format `{other}`; known: {}",
                    Format::NAMES.join(", ")
                ));
            }
        })
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Ofx => "OFX",
            Format::Camt052 => "CAMT.052",
            Format::Camt053 => "CAMT.053",
            Format::Camt054 => "CAMT.054",
            Format::Qif => "QIF",
            Format::Cfonb120 => "CFONB 120",
            Format::Csv => "CSV",
            Format::JsonLines => "JSON Lines",
            Format::Receipts => "receipts JSON",
            Format::UsageEvents => "usage events JSON Lines",
            Format::LinkedIn(LinkedInFile::Positions) => "LinkedIn Positions.csv",
            Format::LinkedIn(LinkedInFile::Education) => "LinkedIn Education.csv",
            Format::LinkedIn(LinkedInFile::Skills) => "LinkedIn Skills.csv",
        })
    }
}

/// How much of a file detection reads.
pub const HEAD: usize = 64 << 10;

/// Why a file's format could not be told: what it is when that can be named (a zip archive, a
/// PDF, an ISO 20022 message Insitu does not read), and each format considered with the line
/// and the reason it was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undetected {
    /// What the file is, when known: `an ISO 20022 pain.001 message (customer credit transfer
    /// initiation), not a statement Insitu imports`.
    pub what: Option<String>,
    pub rejected: Vec<Rejected>,
}

/// A format detection considered, and why the file is not one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub format: &'static str,
    /// 1-based; 0 when the reason is not at a line.
    pub line: u64,
    pub reason: String,
}

impl fmt::Display for Undetected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(what) = &self.what {
            write!(f, "it is {what}")?;
        } else {
            f.write_str("it is none of the formats considered")?;
        }
        for r in &self.rejected {
            write!(f, "\n  not {}: ", r.format)?;
            if r.line > 0 {
                write!(f, "line {}: ", r.line)?;
            }
            f.write_str(&r.reason)?;
        }
        Ok(())
    }
}

impl std::error::Error for Undetected {}

/// Tells the format of a file from its first bytes ([`HEAD`] are enough). `None` when nothing
/// matches; [`identify`] says why.
pub fn detect(bytes: &[u8]) -> Option<Format> {
    identify(bytes).ok()
}

/// Tells the format of a file from its content, or says what was considered and why each
/// candidate was rejected.
///
/// The text is decoded by its BOM first (UTF-8, UTF-16 LE or BE), then, skipping leading
/// blanks: an `OFXHEADER` or `<OFX>` is OFX; XML is a camt.052, .053 or .054 by its namespace
/// or root element; `!Type:`, `!Account`, `!Option` or `!Clear` after any `#` comment lines
/// is QIF; lines of 104 to 120 characters (or runs of 120) starting with a CFONB record code
/// (`01`, `04`, `05`, `07`) and a 5-digit bank code are CFONB 120; `{` or `[` is JSON (receipts,
/// usage events or JSON Lines, by their keys); LinkedIn's export files by their headers; and a
/// CSV only when it looks like one ([`table`]): a header row of distinct names, then records
/// with as many fields, separated by `,`, `;`, tab or `|`.
pub fn identify(bytes: &[u8]) -> Result<Format, Undetected> {
    if let Some(what) = binary(bytes) {
        return Err(Undetected {
            what: Some(what.to_string()),
            rejected: Vec::new(),
        });
    }
    let head = text::head(bytes, HEAD);
    // A line cut at the end of the head is not judged.
    let decoded = match head.rfind('\n') {
        Some(end) if bytes.len() > HEAD => &head[..=end],
        _ => &head[..],
    };
    let lead = decoded.len() - decoded.trim_start().len();
    let first_line = text::line_of(decoded, lead);
    let text = decoded.trim_start();
    let upper = text[..text.floor_char_boundary(8192)].to_ascii_uppercase();
    if upper.starts_with("OFXHEADER") || upper.contains("<OFX>") {
        return Ok(Format::Ofx);
    }
    if text.starts_with('<') {
        return xml::identify(text, first_line);
    }
    if text.contains('\0') {
        return Err(Undetected {
            what: Some("a binary file (it holds NUL bytes)".into()),
            rejected: Vec::new(),
        });
    }
    let mut rejected = vec![Rejected {
        format: "OFX or CAMT",
        line: first_line,
        reason: "no `OFXHEADER` header or `<OFX>` tag, and not XML".into(),
    }];
    match qif(decoded) {
        Ok(()) => return Ok(Format::Qif),
        Err(r) => rejected.push(r),
    }
    match cfonb(decoded) {
        Ok(()) => return Ok(Format::Cfonb120),
        Err(r) => rejected.push(r),
    }
    if text.starts_with('{') || text.starts_with('[') {
        return Ok(json_kind(text));
    }
    rejected.push(Rejected {
        format: "JSON",
        line: first_line,
        reason: "it does not start with `{` or `[`".into(),
    });
    if let Some(kind) = linkedin(text) {
        return Ok(Format::LinkedIn(kind));
    }
    match table::looks_like_csv(decoded) {
        Ok(()) => Ok(Format::Csv),
        Err((line, reason)) => {
            rejected.push(Rejected {
                format: "CSV",
                line,
                reason,
            });
            Err(Undetected {
                what: None,
                rejected,
            })
        }
    }
}

/// Binary files named by their signature.
fn binary(bytes: &[u8]) -> Option<&'static str> {
    if crate::zip::is_zip(bytes) {
        Some(
            "a zip archive: its files are imported when it is imported itself, never from \
             inside another archive",
        )
    } else if bytes.starts_with(b"%PDF") {
        Some("a PDF document: ask the bank for OFX, CAMT, QIF, CFONB or CSV")
    } else if bytes.starts_with(&[0x1f, 0x8b]) {
        Some("a gzip-compressed file: decompress it first")
    } else {
        None
    }
}

/// QIF: a `!` header, after any leading blank or `#` comment lines.
fn qif(text: &str) -> Result<(), Rejected> {
    let (n, line) = text::numbered_lines(text)
        .find(|(_, l)| {
            let l = l.trim_start_matches('\u{feff}').trim();
            !l.is_empty() && !l.starts_with('#')
        })
        .unwrap_or((1, ""));
    let line = line.trim_start_matches('\u{feff}').trim();
    let upper = line.to_ascii_uppercase();
    if ["!TYPE:", "!ACCOUNT", "!OPTION", "!CLEAR"]
        .iter()
        .any(|h| upper.starts_with(h))
    {
        return Ok(());
    }
    Err(Rejected {
        format: "QIF",
        line: n,
        reason: format!(
            "`{}` is not a `!Type:`, `!Account` or `!Option` header",
            shorten(line)
        ),
    })
}

/// CFONB 120: its first lines are records of [`crate::cfonb::TRIMMED`] to 120 characters (an
/// exporter may trim the trailing blanks; the parser pads them), or runs of 120, each starting
/// with a record code and a 5-digit bank code.
fn cfonb(text: &str) -> Result<(), Rejected> {
    let reject = |line, reason: String| Rejected {
        format: "CFONB 120",
        line,
        reason,
    };
    let mut seen = 0;
    let lines = text::numbered_lines(text)
        .filter(|(_, l)| {
            !l.trim_matches(|c: char| c.is_whitespace() || c == '\u{1a}')
                .is_empty()
        })
        .take(5);
    for (n, line) in lines {
        seen += 1;
        let chars: Vec<char> = line.chars().collect();
        let len = chars.len();
        let records: Vec<&[char]> = if (crate::cfonb::TRIMMED..=120).contains(&len) {
            vec![&chars]
        } else if len > 120 && len.is_multiple_of(120) {
            chars.chunks(120).collect()
        } else {
            return Err(reject(
                n,
                format!("a line of {len} characters: CFONB records have 120"),
            ));
        };
        for r in records {
            let code: String = r[..2].iter().collect();
            if !matches!(code.as_str(), "01" | "04" | "05" | "07") {
                return Err(reject(
                    n,
                    format!("`{code}` is not a record code (01, 04, 05 or 07)"),
                ));
            }
            if !r[2..7].iter().all(char::is_ascii_digit) {
                return Err(reject(n, "characters 3 to 7 are not a bank code".into()));
            }
        }
    }
    if seen == 0 {
        return Err(reject(1, "the file holds no line".into()));
    }
    Ok(())
}

/// LinkedIn's export files, by the header of their first line.
fn linkedin(text: &str) -> Option<LinkedInFile> {
    let first = text.lines().next().unwrap_or("");
    let headers: Vec<String> = first
        .split(',')
        .map(|h| h.trim().trim_matches('"').to_string())
        .collect();
    let has = |h: &str| headers.iter().any(|x| x == h);
    if has("Company Name") && has("Title") {
        Some(LinkedInFile::Positions)
    } else if has("School Name") {
        Some(LinkedInFile::Education)
    } else if headers == ["Name"] {
        Some(LinkedInFile::Skills)
    } else {
        None
    }
}

/// A line cut to 40 characters, for a message.
pub(crate) fn shorten(line: &str) -> String {
    match line.char_indices().nth(40) {
        Some((i, _)) => format!("{}...", &line[..i]),
        None => line.to_string(),
    }
}

/// Receipts, usage events or generic JSON Lines, from the keys of the first object.
fn json_kind(first: &str) -> Format {
    let line = first.lines().next().unwrap_or("");
    let value: Option<serde_json::Value> = serde_json::from_str(line)
        .ok()
        .or_else(|| serde_json::from_str(first).ok());
    let obj = match value {
        Some(serde_json::Value::Array(a)) => a.into_iter().next(),
        other => other,
    };
    let has = |k: &str| obj.as_ref().and_then(|o| o.get(k)).is_some();
    // Only the head of a large pretty-printed file may be at hand: look for the key itself.
    if has("items") || (obj.is_none() && first.contains("\"items\"")) {
        Format::Receipts
    } else if has("activity") && has("at") {
        Format::UsageEvents
    } else {
        Format::JsonLines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_told_apart() {
        assert_eq!(detect(b"OFXHEADER:100\nDATA:OFXSGML"), Some(Format::Ofx));
        assert_eq!(
            detect(b"<?xml version=\"1.0\"?>\n<?OFX OFXHEADER=\"200\"?>\n<OFX>"),
            Some(Format::Ofx)
        );
        assert_eq!(
            detect(b"<?xml version=\"1.0\"?><Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\">"),
            Some(Format::Camt053)
        );
        assert_eq!(detect(b"<?xml version=\"1.0\"?><html>"), None);
        assert_eq!(detect(b"!Type:Bank\nD01/02/2024"), Some(Format::Qif));
        let mut cfonb = format!("0130004{}", " ".repeat(113)).into_bytes();
        cfonb.extend_from_slice(b"\r\n");
        assert_eq!(detect(&cfonb), Some(Format::Cfonb120));
        assert_eq!(
            detect(b"{\"shop\":\"A\",\"items\":[]}\n"),
            Some(Format::Receipts)
        );
        assert_eq!(
            detect(b"[\n  {\"shop\": \"A\",\n   \"items\": []}\n]"),
            Some(Format::Receipts)
        );
        assert_eq!(
            detect(b"{\"at\":\"2024-01-01\",\"activity\":\"x\"}\n"),
            Some(Format::UsageEvents)
        );
        assert_eq!(detect(b"{\"a\":1}\n"), Some(Format::JsonLines));
        assert_eq!(
            detect(b"[\n  {\"shop\": \"A\",\n   \"items\": [{\"product\": \"cut short"),
            Some(Format::Receipts),
            "the head of a large receipts file"
        );
        assert_eq!(
            detect(b"\xEF\xBB\xBFFirst Name,Last Name,Company Name,Title\n"),
            Some(Format::LinkedIn(LinkedInFile::Positions))
        );
        assert_eq!(
            detect(b"Name\nRust\n"),
            Some(Format::LinkedIn(LinkedInFile::Skills))
        );
        assert_eq!(detect(b"account,booked\n"), Some(Format::Csv));
        assert_eq!(detect(b"  \n"), None);
        for name in Format::NAMES {
            Format::from_name(name).unwrap();
        }
        assert!(Format::from_name("pdf").is_err());
    }
}
