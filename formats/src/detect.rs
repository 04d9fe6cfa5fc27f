//! Telling a file's format from its content.

use std::fmt;

use crate::linkedin::LinkedInFile;

/// The formats Insitu reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// OFX 1.x (SGML) and 2.x (XML), and Quicken's QFX.
    Ofx,
    /// ISO 20022 bank-to-customer statement, `camt.053`.
    Camt053,
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
        "camt053",
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
            "camt053" | "camt.053" | "camt" => Format::Camt053,
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
            Format::Camt053 => "CAMT.053",
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

/// Tells the format of a file from its first bytes (the first 64 KiB are enough). `None` when
/// nothing matches.
pub fn detect(bytes: &[u8]) -> Option<Format> {
    let head = &bytes[..bytes.len().min(8192)];
    let head = head
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(head)
        .trim_ascii_start();
    let text = String::from_utf8_lossy(head);
    let upper = text.to_ascii_uppercase();
    if upper.starts_with("OFXHEADER") || upper.contains("<OFX>") {
        return Some(Format::Ofx);
    }
    if text.starts_with('<') {
        return (text.contains("camt.053") || text.contains("BkToCstmrStmt"))
            .then_some(Format::Camt053);
    }
    if ["!TYPE:", "!ACCOUNT", "!OPTION"]
        .iter()
        .any(|h| upper.starts_with(h))
    {
        return Some(Format::Qif);
    }
    if is_cfonb(head) {
        return Some(Format::Cfonb120);
    }
    if text.starts_with('{') || text.starts_with('[') {
        return Some(json_kind(bytes));
    }
    let first = text.lines().next().unwrap_or("");
    let headers: Vec<String> = first
        .split(',')
        .map(|h| h.trim().trim_matches('"').to_string())
        .collect();
    let has = |h: &str| headers.iter().any(|x| x == h);
    if has("Company Name") && has("Title") {
        Some(Format::LinkedIn(LinkedInFile::Positions))
    } else if has("School Name") {
        Some(Format::LinkedIn(LinkedInFile::Education))
    } else if headers == ["Name"] {
        Some(Format::LinkedIn(LinkedInFile::Skills))
    } else if !first.is_empty() {
        Some(Format::Csv)
    } else {
        None
    }
}

/// CFONB 120: records of exactly 120 characters starting with a two-digit code, one per line
/// or back to back.
fn is_cfonb(head: &[u8]) -> bool {
    let first = head.split(|&b| b == b'\n').next().unwrap_or(&[]);
    let first = first.strip_suffix(b"\r").unwrap_or(first);
    let record = if first.len() == 120 || (first.len() > 120 && first.len() % 120 == 0) {
        &first[..120]
    } else {
        return false;
    };
    record.starts_with(b"01") && record[2..7].iter().all(u8::is_ascii_digit)
}

/// Receipts, usage events or generic JSON Lines, from the keys of the first object.
fn json_kind(bytes: &[u8]) -> Format {
    let text = String::from_utf8_lossy(bytes);
    let first = text.trim_start_matches('\u{feff}').trim_start();
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
