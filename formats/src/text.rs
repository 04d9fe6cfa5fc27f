//! Decoding a file's bytes to text.

use std::borrow::Cow;

use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};

/// Decodes `bytes`. A `declared` charset label (`windows-1252`, `ISO-8859-1`, `1252`, `UTF-8`,
/// as a header or a mapping file names it) wins; then a BOM (UTF-8 or UTF-16); then UTF-8 when
/// the bytes are valid UTF-8; else Windows-1252, which French banks' exports commonly use and
/// which covers Latin-1's printable range.
///
/// Returns the text, without a BOM, and the encoding used.
pub fn decode<'a>(
    bytes: &'a [u8],
    declared: Option<&str>,
) -> Result<(Cow<'a, str>, &'static Encoding), String> {
    if let Some(label) = declared {
        let enc = encoding(label)?;
        let (text, _, _) = enc.decode(bytes);
        return Ok((text, enc));
    }
    if let Some((enc, _)) = Encoding::for_bom(bytes) {
        let (text, _, _) = enc.decode(bytes);
        return Ok((text, enc));
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok((Cow::Borrowed(s), UTF_8)),
        Err(_) => Ok((
            WINDOWS_1252.decode_without_bom_handling(bytes).0,
            WINDOWS_1252,
        )),
    }
}

/// The encoding a label names: every WHATWG label `encoding_rs` knows (`ISO-8859-13`,
/// `windows-1250`, `latin2`, `cp1257`, ...), plus the forms OFX headers and Windows tools
/// write: a bare code page (`CHARSET:1257` is `windows-1257`), `8859-2` for `ISO-8859-2`, and
/// `USASCII` or `NONE` (read as Windows-1252, whose printable range covers ASCII).
pub fn encoding(label: &str) -> Result<&'static Encoding, String> {
    let l = label.trim();
    if ["USASCII", "NONE", "latin-1"]
        .iter()
        .any(|a| l.eq_ignore_ascii_case(a))
    {
        return Ok(WINDOWS_1252);
    }
    if let Some(enc) = Encoding::for_label(l.as_bytes()) {
        return Ok(enc);
    }
    let alias = if l.bytes().all(|b| b.is_ascii_digit()) {
        format!("windows-{l}")
    } else if let Some(part) = l.strip_prefix("8859-") {
        format!("iso-8859-{part}")
    } else {
        String::new()
    };
    Encoding::for_label(alias.as_bytes()).ok_or_else(|| format!("unknown text encoding `{label}`"))
}

/// The first `max` bytes of `bytes` as text, for telling the format: decoded by a BOM (UTF-8,
/// UTF-16 LE or BE) when there is one, else as UTF-8 with invalid bytes replaced. A character
/// cut at `max` becomes a replacement character.
pub fn head(bytes: &[u8], max: usize) -> Cow<'_, str> {
    let head = &bytes[..bytes.len().min(max)];
    match Encoding::for_bom(head) {
        Some((enc, bom)) => {
            Cow::Owned(enc.decode_without_bom_handling(&head[bom..]).0.into_owned())
        }
        None => String::from_utf8_lossy(head),
    }
}

/// The text's lines with their 1-based numbers, without `\r\n` or `\n`.
pub fn numbered_lines(text: &str) -> impl Iterator<Item = (u64, &str)> {
    text.split('\n')
        .enumerate()
        .map(|(i, l)| (i as u64 + 1, l.strip_suffix('\r').unwrap_or(l)))
}

/// The 1-based line of byte `offset` in `text`.
pub fn line_of(text: &str, offset: usize) -> u64 {
    let end = offset.min(text.len());
    1 + text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count() as u64
}

/// Line numbers of increasing byte offsets in one text, in time linear in the text's length.
/// (The csv crate's own line count is off by one after a CRLF.)
pub struct LineCounter<'a> {
    text: &'a [u8],
    byte: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    /// `first` is the number of the text's first line.
    pub fn new(text: &'a str, first: u64) -> Self {
        LineCounter {
            text: text.as_bytes(),
            byte: 0,
            line: first,
        }
    }

    /// The line of the first non-blank byte at or after `offset`; offsets must not decrease.
    /// (After a CRLF, the csv crate starts the next record at the `\n`.)
    pub fn at(&mut self, offset: u64) -> u64 {
        let mut end = (offset as usize).clamp(self.byte, self.text.len());
        while matches!(self.text.get(end), Some(b'\r' | b'\n')) {
            end += 1;
        }
        self.line += self.text[self.byte..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64;
        self.byte = end;
        self.line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin1_bom_and_declared() {
        let (t, e) = decode(b"Soci\xe9t\xe9 G\xe9n\xe9rale \x80", None).unwrap();
        assert_eq!(t, "Société Générale €");
        assert_eq!(e, WINDOWS_1252);
        let (t, _) = decode("\u{feff}Crédit".as_bytes(), None).unwrap();
        assert_eq!(t, "Crédit");
        let (t, _) = decode(b"\xff\xfeA\x00\xe9\x00", None).unwrap();
        assert_eq!(t, "Aé");
        let (t, _) = decode("é".as_bytes(), Some("1252")).unwrap();
        assert_eq!(t, "Ã©");
        assert!(decode(b"x", Some("klingon")).is_err());
        for (label, name) in [
            ("1257", "windows-1257"),
            ("1250", "windows-1250"),
            ("8859-13", "ISO-8859-13"),
            ("ISO-8859-2", "ISO-8859-2"),
            ("latin2", "ISO-8859-2"),
            ("8859-1", "windows-1252"),
            ("NONE", "windows-1252"),
        ] {
            assert_eq!(encoding(label).map(Encoding::name), Ok(name), "{label}");
        }
        assert_eq!(head(b"\xfe\xff\x00<\x00O", 64), "<O");
        assert_eq!(head(b"\xff\xfe<\x00O\x00", 64), "<O");
        let lines: Vec<_> = numbered_lines("a\r\nb\nc").collect();
        assert_eq!(lines, vec![(1, "a"), (2, "b"), (3, "c")]);
        assert_eq!(line_of("a\nb\nc", 4), 3);
    }
}
