//! What the plugin knows of a person: the records it read, and what it derives from them (the
//! skill terms with their weights, the interest profile, the occupation closest to the
//! latest job).

use std::collections::{BTreeMap, BTreeSet};

use crate::catalogue::{Catalogue, Occupation};
use crate::riasec::Profile;
use crate::text;

/// A row of `career.positions`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Position {
    pub title: String,
    pub description: Option<String>,
    /// The record time: when it started (ms since the epoch).
    pub started: i64,
    /// `None` while current, or when `ended` was not granted.
    pub ended: Option<i64>,
}

/// A row of `career.education`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Education {
    pub degree: Option<String>,
    pub notes: Option<String>,
    pub activities: Option<String>,
}

/// A row of `profile.answers`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Answer {
    pub questionnaire: String,
    pub question: String,
    pub answer: String,
}

/// The records read, each collection in time order (empty where not granted).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Person {
    pub skills: Vec<String>,
    pub positions: Vec<Position>,
    pub education: Vec<Education>,
    pub answers: Vec<Answer>,
}

/// The weight of a term found in a listed skill, a job title or a degree.
pub const STRONG: f64 = 1.0;
/// The weight of a term found only in free text: a job description, education notes or
/// activities (long texts that mention much the person did not do themselves).
pub const WEAK: f64 = 0.5;

impl Person {
    /// The latest job: the current one (no end) that started last, else the one that started
    /// last.
    pub fn latest_position(&self) -> Option<&Position> {
        self.positions
            .iter()
            .max_by_key(|p| (p.ended.is_none(), p.started))
    }

    /// The RIASEC profile from the answers.
    pub fn interests(&self) -> Profile {
        Profile::from_answers(self.answers.iter().map(|a| {
            (
                a.questionnaire.as_str(),
                a.question.as_str(),
                a.answer.as_str(),
            )
        }))
    }
}

/// The person's skills as a weighted vector over the catalogue's keyword terms.
#[derive(Debug, Clone, Default)]
pub struct Skills {
    weights: BTreeMap<String, f64>,
    norm: f64,
}

impl Skills {
    /// The terms of every skill, title, degree (weight [`STRONG`]) and description, note and
    /// activity (weight [`WEAK`]) that are keywords of the catalogue, each at its highest
    /// weight. Terms that no occupation lists are left out: they would lower every cosine by
    /// the same factor and change no ranking.
    pub fn of(person: &Person, catalogue: &Catalogue) -> Skills {
        let mut texts: Vec<(&str, f64)> = Vec::new();
        texts.extend(person.skills.iter().map(|s| (s.as_str(), STRONG)));
        for p in &person.positions {
            texts.push((&p.title, STRONG));
            texts.extend(p.description.as_deref().map(|d| (d, WEAK)));
        }
        for e in &person.education {
            texts.extend(e.degree.as_deref().map(|d| (d, STRONG)));
            texts.extend(e.notes.as_deref().map(|d| (d, WEAK)));
            texts.extend(e.activities.as_deref().map(|d| (d, WEAK)));
        }
        let mut weights: BTreeMap<String, f64> = BTreeMap::new();
        for (t, w) in texts {
            for term in text::terms(t, &catalogue.phrases) {
                if catalogue.vocab.contains(&term) {
                    let e = weights.entry(term).or_insert(0.0);
                    *e = e.max(w);
                }
            }
        }
        let norm = weights.values().map(|w| w * w).sum::<f64>().sqrt();
        Skills { weights, norm }
    }

    pub fn is_empty(&self) -> bool {
        self.weights.is_empty()
    }

    /// Distinct catalogue terms found.
    pub fn len(&self) -> usize {
        self.weights.len()
    }

    /// The cosine of the person's vector and the occupation's (1 for each of its keywords):
    /// from 0 (no keyword shared) to 1.
    pub fn similarity(&self, o: &Occupation) -> f64 {
        if self.norm == 0.0 || o.keywords.is_empty() {
            return 0.0;
        }
        let dot: f64 = o
            .keywords
            .iter()
            .filter_map(|k| self.weights.get(&k.term))
            .sum();
        dot / (self.norm * (o.keywords.len() as f64).sqrt())
    }

    /// The occupation's keywords the person has, as the catalogue writes them: the strongest
    /// first, then in the catalogue's order.
    pub fn shared<'a>(&self, o: &'a Occupation) -> Vec<&'a str> {
        let mut found: Vec<(f64, usize, &str)> = o
            .keywords
            .iter()
            .enumerate()
            .filter_map(|(i, k)| Some((*self.weights.get(&k.term)?, i, k.text.as_str())))
            .collect();
        found.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        found.into_iter().map(|(_, _, t)| t).collect()
    }
}

/// The catalogue occupation closest to a job title, if any shares a word of it.
///
/// The title's words (seniority words such as `senior` or `intern` removed, abbreviations
/// such as `HR` spelled out: [`text::title_words`]) are looked up in
/// each occupation's title (worth 2) and, for those not in it, its keywords (worth 0.5), each
/// word weighted by how rare it is in occupation titles
/// ([`Catalogue::title_word_weight`]: `software` tells more than `engineer`); the match is
/// that sum over twice the words' total weight, from 0 to 1. The person's skills similarity
/// with the occupation, halved, is added to tell apart occupations whose titles match
/// equally (`Nurse`); an exact tie goes to the first code. At least one word of the title
/// must be in the occupation's title.
pub fn closest_occupation<'c>(
    title: &str,
    catalogue: &'c Catalogue,
    skills: &Skills,
) -> Option<&'c Occupation> {
    let words: Vec<(String, f64)> = text::title_words(title)
        .into_iter()
        .map(|w| {
            let weight = catalogue.title_word_weight(&w);
            (w, weight)
        })
        .collect();
    let total: f64 = words.iter().map(|(_, weight)| weight).sum();
    if words.is_empty() || total <= 0.0 {
        return None;
    }
    let mut best: Option<(f64, &Occupation)> = None;
    for o in &catalogue.occupations {
        if !words.iter().any(|(w, _)| o.title_words.contains(w)) {
            continue;
        }
        let keyword_words: BTreeSet<&str> =
            o.keywords.iter().flat_map(|k| k.term.split('-')).collect();
        let found: f64 = words
            .iter()
            .map(|(w, weight)| {
                if o.title_words.contains(w) {
                    2.0 * weight
                } else if keyword_words.contains(w.as_str()) {
                    0.5 * weight
                } else {
                    0.0
                }
            })
            .sum();
        let rank = found / (2.0 * total) + 0.5 * skills.similarity(o);
        if best.is_none_or(|(r, _)| rank > r) {
            best = Some((rank, o));
        }
    }
    best.map(|(_, o)| o)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogue() -> Catalogue {
        Catalogue::embedded().unwrap()
    }

    fn person(skills: &[&str], titles: &[&str]) -> Person {
        Person {
            skills: skills.iter().map(|s| s.to_string()).collect(),
            positions: titles
                .iter()
                .enumerate()
                .map(|(i, t)| Position {
                    title: t.to_string(),
                    started: i as i64,
                    ..Position::default()
                })
                .collect(),
            ..Person::default()
        }
    }

    #[test]
    fn skills_keep_catalogue_terms_at_their_strongest_weight() {
        let c = catalogue();
        let mut p = person(&["Python (Programming Language)", "Machine Learning"], &[]);
        p.positions.push(Position {
            title: "Data Scientist".into(),
            description: Some("Statistics and SQL for the marketing team; Python daily".into()),
            ..Position::default()
        });
        let s = Skills::of(&p, &c);
        for (term, w) in [
            ("python", STRONG),
            ("programming", STRONG),
            ("machine-learning", STRONG),
            ("data", STRONG),
            ("statistic", WEAK),
            ("sql", WEAK),
            ("marketing", WEAK),
        ] {
            assert_eq!(s.weights.get(term), Some(&w), "{term}");
        }
        // `language`, `team` and `daily` are no occupation's keyword; `machine` and
        // `learning` were taken by the phrase.
        for absent in ["language", "team", "daily", "machine", "learning"] {
            assert!(!s.weights.contains_key(absent), "{absent}");
        }
        let ds = c.get("15-2051.00").unwrap();
        assert!(s.similarity(ds) > 0.5, "{}", s.similarity(ds));
        assert_eq!(s.shared(ds)[..3], ["python", "machine-learning", "data"]);
    }

    #[test]
    fn the_latest_job_is_the_current_one_that_started_last() {
        let mut p = person(&[], &["Nurse", "Data Analyst", "Barista"]);
        p.positions[2].ended = Some(10);
        assert_eq!(p.latest_position().unwrap().title, "Data Analyst");
        p.positions[1].ended = Some(10);
        assert_eq!(p.latest_position().unwrap().title, "Nurse");
        p.positions[0].ended = Some(10);
        assert_eq!(p.latest_position().unwrap().title, "Barista");
    }

    #[test]
    fn a_job_title_finds_the_closest_occupation() {
        let c = catalogue();
        let none = Skills::default();
        let code = |title: &str, skills: &Skills| {
            closest_occupation(title, &c, skills).map(|o| o.code.as_str())
        };
        let analyst = Skills::of(&person(&["SQL", "Excel", "Tableau"], &[]), &c);
        assert_eq!(code("Senior Data Analyst", &analyst), Some("15-2051.01"));
        assert_eq!(code("Registered Nurse", &none), Some("29-1141.00"));
        assert_eq!(code("Data Scientist II", &none), Some("15-2051.00"));
        let dev = Skills::of(
            &person(
                &["Java", "Git", "Algorithms", "Debugging", "JavaScript"],
                &[],
            ),
            &c,
        );
        assert_eq!(code("Software Engineer", &dev), Some("15-1252.00"));
        assert_eq!(code("Senior Software Engineer", &none), Some("15-1252.00"));
        assert_eq!(code("Happiness Wizard", &none), None);
        assert_eq!(code("HR Business Partner", &none), Some("11-3121.00"));
        assert_eq!(code("Senior", &none), None);
    }
}
