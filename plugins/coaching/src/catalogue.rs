//! The occupation catalogue shipped with the plugin (`data/occupations.tsv`, derived from
//! O*NET; its header says how, and under which licence), parsed and checked.

use std::collections::{BTreeMap, BTreeSet};

use crate::riasec::{self, Letter};
use crate::text;

/// The catalogue's text, embedded in the component.
pub const DATA: &str = include_str!("../data/occupations.tsv");

/// The column header line that starts the data.
const HEADER: &str = "soc_code\ttitle\triasec\tkeywords\tnext";

/// A keyword as written in the catalogue, and the term it matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keyword {
    /// As written (`machine-learning`), for reasons.
    pub text: String,
    /// As compared (`machine-learning`, `statistic`): see [`text::keyword_term`].
    pub term: String,
}

/// One occupation of the catalogue.
#[derive(Debug, Clone, PartialEq)]
pub struct Occupation {
    /// O*NET-SOC 2019 code, `15-2051.00`.
    pub code: String,
    pub title: String,
    /// RIASEC interest code, strongest first (2 or 3 letters).
    pub riasec: Vec<Letter>,
    pub keywords: Vec<Keyword>,
    /// Codes of plausible next steps (all in the catalogue).
    pub next: Vec<String>,
    /// The meaningful words of the title before any `Except` clause, stemmed (`data`,
    /// `scientist`).
    pub title_words: BTreeSet<String>,
}

impl Occupation {
    /// The SOC major group: the first two digits (`15`, computer and mathematical).
    pub fn major_group(&self) -> &str {
        &self.code[..2]
    }
}

/// The parsed catalogue.
#[derive(Debug, Clone)]
pub struct Catalogue {
    pub occupations: Vec<Occupation>,
    /// Index of each code in `occupations`.
    index: BTreeMap<String, usize>,
    /// Every keyword term that is a two-word phrase: what [`text::terms`] joins.
    pub phrases: BTreeSet<String>,
    /// Every keyword term: the space a person's skills are compared in.
    pub vocab: BTreeSet<String>,
    /// For each title word, how many occupation titles have it.
    title_counts: BTreeMap<String, usize>,
}

fn valid_code(code: &str) -> bool {
    let b = code.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| match i {
            2 => *c == b'-',
            7 => *c == b'.',
            _ => c.is_ascii_digit(),
        })
}

/// Parses one data line (without its line number in errors).
fn parse_line(line: &str) -> Result<Occupation, String> {
    let fields: Vec<&str> = line.split('\t').collect();
    let [code, title, code_letters, keywords, next] = fields[..] else {
        return Err(format!(
            "has {} tab-separated columns, not 5 ({HEADER})",
            fields.len()
        ));
    };
    if !valid_code(code) {
        return Err(format!("code `{code}` is not of the form 15-2051.00"));
    }
    if title.trim().is_empty() || title.trim() != title {
        return Err(format!(
            "{code}: the title is empty or has surrounding spaces"
        ));
    }
    let riasec = riasec::parse_code(code_letters).ok_or_else(|| {
        format!("{code}: RIASEC code `{code_letters}` is not 2 or 3 distinct letters of RIASEC")
    })?;
    let mut kws: Vec<Keyword> = Vec::new();
    for kw in keywords.split(',') {
        let term = text::keyword_term(kw).ok_or_else(|| {
            format!("{code}: keyword `{kw}` is not one lowercase word or two joined by `-`")
        })?;
        if kws.iter().any(|k| k.term == term) {
            return Err(format!("{code}: keyword `{kw}` is listed twice"));
        }
        kws.push(Keyword {
            text: kw.to_string(),
            term,
        });
    }
    if !(5..=12).contains(&kws.len()) {
        return Err(format!("{code}: {} keywords, not 5 to 12", kws.len()));
    }
    let next: Vec<String> = if next.is_empty() {
        Vec::new()
    } else {
        next.split(',').map(str::to_string).collect()
    };
    if next.len() > 4 {
        return Err(format!("{code}: {} next steps, more than 4", next.len()));
    }
    if let Some(bad) = next.iter().find(|n| !valid_code(n) || n.as_str() == code) {
        return Err(format!(
            "{code}: next step `{bad}` is not another occupation's code"
        ));
    }
    Ok(Occupation {
        code: code.to_string(),
        title: title.to_string(),
        riasec,
        keywords: kws,
        next,
        title_words: text::occupation_title_words(title),
    })
}

impl Catalogue {
    /// Parses and checks a catalogue: `#` comments and blank lines, the column header, then
    /// one occupation per line. Errors name the line and what is wrong with it.
    pub fn parse(data: &str) -> Result<Catalogue, String> {
        let mut lines = data
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
            .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'));
        match lines.next() {
            Some((_, HEADER)) => {}
            Some((n, _)) => return Err(format!("line {n}: expected the header `{HEADER}`")),
            None => return Err("no header and no occupation".into()),
        }
        let mut occupations = Vec::new();
        let mut index = BTreeMap::new();
        for (n, line) in lines {
            let occupation = parse_line(line).map_err(|e| format!("line {n}: {e}"))?;
            if index
                .insert(occupation.code.clone(), occupations.len())
                .is_some()
            {
                return Err(format!(
                    "line {n}: code {} is listed twice",
                    occupation.code
                ));
            }
            occupations.push(occupation);
        }
        for o in &occupations {
            if let Some(missing) = o.next.iter().find(|n| !index.contains_key(*n)) {
                return Err(format!(
                    "{}: next step {missing} is not in the catalogue",
                    o.code
                ));
            }
        }
        let vocab: BTreeSet<String> = occupations
            .iter()
            .flat_map(|o| &o.keywords)
            .map(|k| k.term.clone())
            .collect();
        let phrases = vocab.iter().filter(|t| t.contains('-')).cloned().collect();
        let mut title_counts = BTreeMap::new();
        for w in occupations.iter().flat_map(|o| &o.title_words) {
            *title_counts.entry(w.clone()).or_insert(0) += 1;
        }
        Ok(Catalogue {
            occupations,
            index,
            phrases,
            vocab,
            title_counts,
        })
    }

    /// The catalogue shipped with the plugin.
    pub fn embedded() -> Result<Catalogue, String> {
        Catalogue::parse(DATA).map_err(|e| format!("the embedded occupation catalogue: {e}"))
    }

    /// How telling a title word is: `ln((n + 1) / (1 + t))` for `n` occupations of which `t`
    /// have the word in their title (an inverse document frequency). `software` (2 titles)
    /// tells more than `engineer` (about 30); a word no title has weighs the most.
    pub fn title_word_weight(&self, word: &str) -> f64 {
        let t = self.title_counts.get(word).copied().unwrap_or(0);
        ((self.len() + 1) as f64 / (1 + t) as f64).ln()
    }

    pub fn get(&self, code: &str) -> Option<&Occupation> {
        self.index.get(code).map(|i| &self.occupations[*i])
    }

    pub fn len(&self) -> usize {
        self.occupations.len()
    }

    pub fn is_empty(&self) -> bool {
        self.occupations.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_catalogue_parses_and_holds_what_it_promises() {
        // `parse` checks every line: code format and uniqueness, 2 or 3 valid RIASEC
        // letters, 5 to 12 well-formed keywords, 0 to 4 next steps that exist.
        let c = Catalogue::embedded().unwrap();
        assert!(c.len() >= 250, "{} occupations", c.len());
        let codes: BTreeSet<&str> = c.occupations.iter().map(|o| o.code.as_str()).collect();
        assert_eq!(codes.len(), c.len(), "codes are unique");
        for o in &c.occupations {
            assert!(o.next.iter().all(|n| c.get(n).is_some()), "{}", o.code);
            assert!((2..=3).contains(&o.riasec.len()), "{}", o.code);
            assert!(!o.title_words.is_empty(), "{}", o.code);
        }
        // Every major SOC group, 11 (management) to 53 (transportation), is represented.
        let groups: BTreeSet<&str> = c.occupations.iter().map(|o| o.major_group()).collect();
        let all = [
            "11", "13", "15", "17", "19", "21", "23", "25", "27", "29", "31", "33", "35", "37",
            "39", "41", "43", "45", "47", "49", "51", "53",
        ];
        assert_eq!(groups, all.into_iter().collect());
        // Every letter leads some occupation's code.
        for l in Letter::ALL {
            assert!(c.occupations.iter().any(|o| o.riasec[0] == l), "{l:?}");
        }
        assert!(c.phrases.contains("machine-learning"));
    }

    #[test]
    fn the_header_cites_the_source_and_licence() {
        let header: String = DATA.lines().take_while(|l| l.starts_with('#')).collect();
        for needed in [
            "O*NET 29.0 Database",
            "USDOL/ETA",
            "CC BY 4.0",
            "modified (subset, codes",
            "Occupation Data.txt",
            "Interests.txt",
        ] {
            assert!(header.contains(needed), "{needed}");
        }
    }

    #[test]
    fn bad_lines_are_refused_with_their_line_number() {
        let ok = "15-2051.00\tData Scientists\tIC\tpython,statistics,sql,data,modeling\t";
        let other = "15-2041.00\tStatisticians\tIC\tstatistics,sas,data,sampling,modeling\t";
        for (line, want) in [
            ("15-2051\tX\tIC\ta1,b2,c3,d4,e5\t", "code `15-2051`"),
            ("15-2031.00\tX\tIQ\ta1,b2,c3,d4,e5\t", "RIASEC code `IQ`"),
            ("15-2031.00\tX\tIC\ta1,b2,c3,d4\t", "4 keywords"),
            (
                "15-2031.00\tX\tIC\ta1,b2,c3,d4,Python\t",
                "keyword `Python`",
            ),
            ("15-2031.00\tX\tIC\ta1,b2,c3,d4,a1\t", "listed twice"),
            ("15-2031.00\tX\tIC\ta1,b2,c3,d4,e5", "not 5"),
            (
                "15-2031.00\tX\tIC\ta1,b2,c3,d4,e5\t15-2031.00",
                "not another",
            ),
            (
                "15-2031.00\tX\tIC\ta1,b2,c3,d4,e5\t99-9999.00",
                "not in the catalogue",
            ),
            (ok, "listed twice"),
        ] {
            let data = format!("# comment\n{HEADER}\n{ok}\n{other}\n{line}\n");
            let err = Catalogue::parse(&data).unwrap_err();
            assert!(err.contains(want), "{line:?}: {err}");
        }
        assert!(Catalogue::parse("15-2051.00\tX\tIC\ta1,b2,c3,d4,e5\t").is_err());
        let c = Catalogue::parse(&format!("{HEADER}\n{ok}\n{other}\n")).unwrap();
        assert_eq!(
            c.get("15-2041.00").map(|o| o.title.as_str()),
            Some("Statisticians")
        );
    }
}
