//! Whether a text looks like a CSV file: after at most [`PREAMBLE`] lines (a bank's title
//! lines), a header row of distinct column names, then records with as many fields, over the
//! first [`SAMPLE`] records, with one of `,`, `;`, tab or `|` as the delimiter. Quotes are
//! honoured, so a quoted delimiter or line break does not count.

const DELIMITERS: [char; 4] = [',', ';', '\t', '|'];

/// Records judged.
const SAMPLE: usize = 30;

/// Lines that may come before the header row.
const PREAMBLE: usize = 5;

/// `Ok` when `text` looks like a CSV file, else the line and the reason it does not, judged
/// from its first line as the header.
pub(super) fn looks_like_csv(text: &str) -> Result<(), (u64, String)> {
    let recs = records(text);
    let Some(&(first, _)) = recs.first() else {
        return Err((1, "the file holds no line".into()));
    };
    let mut why = None;
    for start in 0..recs.len().min(PREAMBLE + 1) {
        let (line, header) = recs[start];
        let mut best: Option<(usize, (u64, String))> = None;
        for d in DELIMITERS {
            let names = split(header, d);
            if names.len() < 2 {
                continue;
            }
            let fault = match recs[start + 1..]
                .iter()
                .find(|(_, r)| split(r, d).len() != names.len())
            {
                Some(&(at, r)) => (
                    at,
                    format!(
                        "{} {}-separated fields where the header (line {line}) has {}",
                        split(r, d).len(),
                        name(d),
                        names.len()
                    ),
                ),
                None => match not_a_header(&names) {
                    Some(why) => (line, why),
                    None => return Ok(()),
                },
            };
            if best.as_ref().is_none_or(|(n, _)| names.len() > *n) {
                best = Some((names.len(), fault));
            }
        }
        if start == 0 {
            why = Some(
                best.map_or(
                    (
                        first,
                        "no `,`, `;`, tab or `|` separates fields: a CSV starts with a header row \
                     of column names"
                            .to_string(),
                    ),
                    |(_, fault)| fault,
                ),
            );
        }
    }
    Err(why.unwrap_or((first, "no header row".into())))
}

/// Why `names` is not a header row, if it is not.
fn not_a_header(names: &[String]) -> Option<String> {
    for (i, n) in names.iter().enumerate() {
        if n.is_empty() {
            return Some(format!("column {} of the header row has no name", i + 1));
        }
        let value_like = n.chars().any(|c| c.is_ascii_digit())
            && n.chars()
                .all(|c| c.is_ascii_digit() || " .,-+/:'".contains(c));
        if value_like {
            return Some(format!(
                "`{}` is a value, not a column name: a CSV starts with a header row",
                super::shorten(n)
            ));
        }
        if names[..i].contains(n) {
            return Some(format!(
                "the header row names `{}` twice",
                super::shorten(n)
            ));
        }
    }
    None
}

fn name(d: char) -> &'static str {
    match d {
        ',' => "`,`",
        ';' => "`;`",
        '\t' => "tab",
        _ => "`|`",
    }
}

/// The first non-blank records, each with its first line; a quoted line break stays inside
/// its record.
fn records(text: &str) -> Vec<(u64, &str)> {
    let mut out = Vec::new();
    let (mut start, mut line, mut start_line, mut quoted) = (0, 1, 1, false);
    for (i, c) in text.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '\n' if !quoted => {
                let rec = text[start..i].trim_end_matches('\r');
                if !rec.trim().is_empty() {
                    out.push((start_line, rec));
                    if out.len() == SAMPLE + PREAMBLE {
                        return out;
                    }
                }
                start = i + 1;
                start_line = line + 1;
            }
            _ => {}
        }
        if c == '\n' {
            line += 1;
        }
    }
    let rec = &text[start..];
    if !rec.trim().is_empty() {
        out.push((start_line, rec));
    }
    out
}

/// The fields of a record, trimmed and unquoted.
fn split(rec: &str, d: char) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    for c in rec.chars() {
        match c {
            '"' => quoted = !quoted,
            c if c == d && !quoted => fields.push(String::new()),
            c => fields.last_mut().into_iter().for_each(|f| f.push(c)),
        }
    }
    fields
        .into_iter()
        .map(|f| f.trim().trim_start_matches('\u{feff}').to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_then_as_many_fields() {
        assert_eq!(looks_like_csv("a;b;c\n1;2;3\n\"x;y\";2;3\n"), Ok(()));
        assert_eq!(looks_like_csv("a,\"b\nc\",d\n1,2,3\n"), Ok(()));
        assert_eq!(
            looks_like_csv("Title: x\n\na\tb\n1\t2\n"),
            Ok(()),
            "a preamble"
        );
        assert_eq!(
            looks_like_csv("a,b,c\n1,2,3\n1,2\n").unwrap_err(),
            (
                3,
                "2 `,`-separated fields where the header (line 1) has 3".into()
            )
        );
        assert_eq!(
            looks_like_csv("02/01/2024;12,50\n03/01/2024;3,00\n")
                .unwrap_err()
                .0,
            1
        );
        assert!(looks_like_csv("just words\nand more\n").is_err());
        assert!(looks_like_csv("a,a\n1,2\n").is_err());
    }
}
