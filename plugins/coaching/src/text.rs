//! Words out of free text: how a person's skills, job titles, degrees and descriptions become
//! terms comparable with the catalogue's keywords.
//!
//! The rule, the same for the person's text and for the catalogue: lowercase; split on every
//! character that is not a letter, a digit, `+` or `#` (so `C++` and `C#` survive, and
//! `e-learning` becomes `e`, `learning`); fold a plural ending (`analysts` → `analyst`,
//! `studies` → `study`); drop English filler words and one-character words. Two adjacent
//! words form a phrase (`machine learning` → `machine-learning`) when the catalogue has that
//! phrase as a keyword; the phrase then replaces its two words.

use std::collections::BTreeSet;

/// Filler words that say nothing about a skill or an occupation (sorted, for the search).
const STOPWORDS: &[&str] = &[
    "about",
    "after",
    "all",
    "also",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "been",
    "but",
    "by",
    "can",
    "do",
    "during",
    "each",
    "etc",
    "for",
    "from",
    "had",
    "has",
    "have",
    "he",
    "her",
    "his",
    "how",
    "in",
    "including",
    "into",
    "is",
    "it",
    "its",
    "more",
    "my",
    "no",
    "not",
    "of",
    "on",
    "or",
    "other",
    "our",
    "over",
    "per",
    "she",
    "so",
    "some",
    "such",
    "than",
    "that",
    "the",
    "their",
    "them",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "through",
    "to",
    "under",
    "up",
    "us",
    "using",
    "via",
    "was",
    "we",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "will",
    "with",
    "within",
    "without",
    "you",
    "your",
];

/// Words of a job title that say how senior or how temporary a job is, not what it is.
const TITLE_NOISE: &[&str] = &[
    "apprentice",
    "contract",
    "contractor",
    "freelance",
    "ii",
    "iii",
    "intern",
    "internship",
    "iv",
    "jr",
    "junior",
    "lead",
    "part",
    "principal",
    "senior",
    "sr",
    "temporary",
    "time",
    "trainee",
];

/// Folds a plural ending: `-ies` → `-y` (`studies`), else a final `s` is dropped (`analysts`),
/// except after `s`, `u` or `i` (`business`, `status`, `analysis`) and in words of three
/// letters or fewer (`gis`, `aws`).
pub fn stem(word: &str) -> String {
    let n = word.chars().count();
    if n > 4 && word.ends_with("ies") {
        format!("{}y", &word[..word.len() - 3])
    } else if n > 3
        && word.ends_with('s')
        && !(word.ends_with("ss") || word.ends_with("us") || word.ends_with("is"))
    {
        word[..word.len() - 1].to_string()
    } else {
        word.to_string()
    }
}

/// Every word of `text`, lowercased and stemmed, filler included: the material of phrases.
fn raw_words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !(c.is_alphanumeric() || c == '+' || c == '#'))
        .filter(|w| !w.is_empty())
        .map(stem)
        .collect()
}

/// Whether a stemmed word carries meaning on its own: not filler, not a single character.
pub fn is_meaningful(word: &str) -> bool {
    word.chars().count() > 1 && STOPWORDS.binary_search(&word).is_err()
}

/// The meaningful words of `text`, in order, with repeats.
pub fn words(text: &str) -> Vec<String> {
    raw_words(text)
        .into_iter()
        .filter(|w| is_meaningful(w))
        .collect()
}

/// Abbreviations common in job titles, spelled out as the catalogue's titles write them.
const TITLE_ABBREVIATIONS: &[(&str, &str)] = &[
    ("ceo", "chief executive"),
    ("hr", "human resources"),
    ("qa", "quality assurance"),
    ("rn", "registered nurse"),
];

/// The words of a person's job title that say what the job is, without repeats: seniority and
/// the like removed, a few abbreviations spelled out (`HR` → `human`, `resource`).
pub fn title_words(title: &str) -> BTreeSet<String> {
    words(title)
        .into_iter()
        .flat_map(
            |w| match TITLE_ABBREVIATIONS.iter().find(|(a, _)| *a == w) {
                Some((_, full)) => words(full),
                None => vec![w],
            },
        )
        .filter(|w| TITLE_NOISE.binary_search(&w.as_str()).is_err())
        .collect()
}

/// The words of a catalogue title before any `Except` clause, which names what the
/// occupation is not (`Wholesale and Retail Buyers, Except Farm Products` gives `wholesale`,
/// `retail`, `buyer`).
pub fn occupation_title_words(title: &str) -> BTreeSet<String> {
    let kept = title.split(" Except ").next().unwrap_or(title);
    words(kept).into_iter().collect()
}

/// The terms of `text`: its meaningful words, except that two adjacent words that make a
/// phrase of `phrases` (`machine-learning`) give that phrase instead.
pub fn terms(text: &str, phrases: &BTreeSet<String>) -> Vec<String> {
    let raw = raw_words(text);
    let mut out = Vec::new();
    let mut i = 0;
    while i < raw.len() {
        if let Some(next) = raw.get(i + 1) {
            let phrase = format!("{}-{next}", raw[i]);
            if phrases.contains(&phrase) {
                out.push(phrase);
                i += 2;
                continue;
            }
        }
        if is_meaningful(&raw[i]) {
            out.push(raw[i].clone());
        }
        i += 1;
    }
    out
}

/// The term a catalogue keyword stands for (`Statistics` → `statistic`, `x-rays` → `x-ray`),
/// or `None` if the keyword is not one word or two joined by `-` that [`terms`] could produce.
pub fn keyword_term(keyword: &str) -> Option<String> {
    let parts = raw_words(keyword);
    let well_formed = keyword
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '+' | '#' | '-'));
    match parts.as_slice() {
        [w] if well_formed && is_meaningful(w) && !keyword.contains('-') => Some(w.clone()),
        [a, b] if well_formed && keyword.matches('-').count() == 1 => Some(format!("{a}-{b}")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_word_lists_are_sorted_for_the_binary_search() {
        assert!(STOPWORDS.windows(2).all(|w| w[0] < w[1]));
        assert!(TITLE_NOISE.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn words_are_lowercased_split_stemmed_and_filler_dropped() {
        assert_eq!(
            words("Built ETL pipelines in Python & SQL for the Analysts' dashboards"),
            [
                "built",
                "etl",
                "pipeline",
                "python",
                "sql",
                "analyst",
                "dashboard"
            ]
        );
        assert_eq!(words("C++, C#, R and Go"), ["c++", "c#", "go"]);
        assert_eq!(
            words("Statistics; data analysis"),
            ["statistic", "data", "analysis"]
        );
        assert_eq!(
            words("Case studies, business, status"),
            ["case", "study", "business", "status"]
        );
        assert!(words(" ,;  - ").is_empty());
    }

    #[test]
    fn catalogue_phrases_replace_their_two_words() {
        let phrases = set(&["machine-learning", "e-learning", "x-ray"]);
        assert_eq!(
            terms(
                "Machine Learning, deep learning and E-Learning; X-Rays",
                &phrases
            ),
            [
                "machine-learning",
                "deep",
                "learning",
                "e-learning",
                "x-ray"
            ]
        );
        // Words that are not a phrase of the catalogue stay apart.
        assert_eq!(terms("Data Analysis", &phrases), ["data", "analysis"]);
    }

    #[test]
    fn job_titles_lose_their_seniority_and_their_abbreviations() {
        assert_eq!(
            title_words("Senior Data Analyst II (part-time)"),
            set(&["data", "analyst"])
        );
        assert_eq!(
            title_words("HR Business Partner"),
            set(&["human", "resource", "business", "partner"])
        );
        assert_eq!(
            occupation_title_words("Wholesale and Retail Buyers, Except Farm Products"),
            set(&["wholesale", "retail", "buyer"])
        );
    }

    #[test]
    fn keywords_must_be_one_word_or_a_two_word_phrase() {
        assert_eq!(keyword_term("statistics").as_deref(), Some("statistic"));
        assert_eq!(
            keyword_term("machine-learning").as_deref(),
            Some("machine-learning")
        );
        assert_eq!(keyword_term("x-rays").as_deref(), Some("x-ray"));
        assert_eq!(keyword_term("c++").as_deref(), Some("c++"));
        for bad in [
            "",
            "Python",
            "the",
            "r",
            "data analysis",
            "a-b-c",
            "-x",
            "é",
        ] {
            assert_eq!(keyword_term(bad), None, "{bad:?}");
        }
    }
}
