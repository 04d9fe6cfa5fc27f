//! `coaching`: career orientation. Suggests occupations from a person's career records and
//! interests, each with the reasons it was suggested.
//!
//! Reads whatever of these the person granted (any may be missing; the plugin uses what is
//! there):
//! - `career.skills`: `skill`;
//! - `career.positions`: `title`, `description`, `ended` (and the start, as the record time);
//! - `career.education`: `degree`, `notes`, `activities`;
//! - `profile.answers`: `questionnaire`, `question`, `answer`, for the RIASEC interests
//!   questionnaire: rows with questionnaire `riasec`, question an item id that starts with one
//!   of the letters R I A S E C (`R1`, `I3`), answer a whole number from 1 (dislike) to 5 (like
//!   very much). Malformed rows are ignored and counted in the log; an item answered twice
//!   counts with its latest answer (details in [`riasec`]).
//!
//! # Method
//!
//! 1. **Catalogue.** 535 occupations from every SOC major group, shipped in the component
//!    (`data/occupations.tsv`) and derived from O*NET (O*NET-SOC 2019 codes and titles,
//!    RIASEC interest codes, skills as keywords, plausible next steps) under CC BY 4.0; the
//!    file's header gives the source, the licence and how it was made (by hand, to be
//!    regenerated from the O*NET files).
//! 2. **Skills similarity** (0 to 1). Every listed skill, job title and degree, and, at half
//!    weight, every job description and education note or activity is cut into words
//!    (lowercased, plural folded, filler dropped; two words make one term where the catalogue
//!    has that phrase, such as `machine-learning`: see [`text`]). The terms that are
//!    catalogue keywords form the person's vector (weight 1, or 0.5 for terms found only in
//!    free text); the similarity is its cosine with each occupation's keyword vector.
//! 3. **Interests agreement** (0 to 1). The profile is the mean answer per letter; the
//!    person's code is the three letters with the highest means (ties in R I A S E C order).
//!    It is compared with the occupation's code by Iachan's M index (shared letters weighted
//!    by their positions in both codes: 22 for first and first, down to 1 for third and
//!    third), divided by the M of the person's code with itself (see [`riasec::agreement`]).
//! 4. **Transitions.** The latest job (the current one that started last) is matched to the
//!    catalogue by its title's words, rare words counting more and skills breaking near-ties
//!    (see [`person::closest_occupation`]). That occupation is never suggested; its listed
//!    next steps get a bonus of 0.15, with the reason "people in <current> often move to
//!    <next>".
//! 5. **Score** = 0.55 × skills + 0.30 × interests + 0.15 × transition, shown as 0 to 100.
//!    Without interests, skills weigh 0.85; without skills, interests weigh 0.85.
//! 6. **Choice.** `round(count × surprise)` rows are kept for *unexpected* suggestions:
//!    occupations whose interests agreement is at least 0.75 but whose skills similarity is
//!    below 0.4 times the person's best, and which are no next step; taken by rank (highest
//!    agreement, then skills, then code), one per SOC major group before a second from the
//!    same group. This needs both skills and answers; without either, there are none.
//!    The rest are the highest scores among occupations with evidence (a shared skill
//!    keyword, a next step, or without skills a shared interest letter): *transition* when
//!    a next step, else *close*. Nothing is random: the same records give the same rows.
//!
//! # Parameters
//!
//! - `count` (integer, default 10, 1 to 50): suggestions returned at most;
//! - `surprise` (a fraction from 0 to 1, default 0.2, i.e. one suggestion in five): the share
//!   kept for unexpected suggestions. Written as a decimal (`0.25`); `0` and `1` may be
//!   written as integers. A percentage such as `20` is refused.
//!
//! # Output
//!
//! A table with columns `code` (O*NET-SOC), `occupation`, `kind` (`close`, `transition` or
//! `unexpected`), `score` (integer, 0 to 100) and `reasons` (text, never empty, e.g. "shares
//! your skills python, statistics; matches your interests I, C (your code ICS, its code
//! IC)"). Rows are sorted by kind in that order, then by score, highest first, then code.
//! When nothing granted can be compared with the catalogue (no skill keyword, no RIASEC
//! answer), the run fails with `data` naming what was read and what was not granted.

pub mod catalogue;
pub mod person;
pub mod read;
pub mod riasec;
pub mod suggest;
pub mod text;

#[cfg(test)]
mod tests;

use insitu_sdk::{Level, Output, Params, Plugin, PluginError, Scalar, Table};
use read::read_person;
use suggest::Options;

pub use read::READS;

/// The output's columns.
pub const COLUMNS: [&str; 5] = ["code", "occupation", "kind", "score", "reasons"];

/// Largest `count`.
pub const MAX_COUNT: i64 = 50;

/// The run's options from its parameters.
pub fn options(params: &Params) -> Result<Options, PluginError> {
    let count = params.integer_or("count", 10)?;
    if !(1..=MAX_COUNT).contains(&count) {
        return Err(PluginError::InvalidParams(format!(
            "parameter `count` must be from 1 to {MAX_COUNT}, not {count}"
        )));
    }
    let surprise = match params.get("surprise") {
        None => Options::default().surprise,
        Some(Scalar::Float(f)) => *f,
        Some(Scalar::Integer(i)) => *i as f64,
        Some(_) => f64::NAN,
    };
    if !(0.0..=1.0).contains(&surprise) {
        return Err(PluginError::InvalidParams(
            "parameter `surprise` must be a fraction from 0 to 1, such as 0.2 for one \
             suggestion in five"
                .into(),
        ));
    }
    Ok(Options {
        count: count as usize,
        surprise,
    })
}

struct Coaching;

impl Plugin for Coaching {
    fn run(params: Params) -> Result<Output, PluginError> {
        let options = options(&params)?;
        let catalogue = catalogue::Catalogue::embedded().map_err(PluginError::Failed)?;
        let (person, missing) = read_person()?;
        let report = suggest::suggest(&person, &catalogue, &options).map_err(|e| {
            if missing.is_empty() {
                PluginError::Data(e)
            } else {
                PluginError::Data(format!("{e}; not granted: {}", missing.join("; ")))
            }
        })?;
        insitu_sdk::log(
            Level::Info,
            &format!(
                "closest occupation to the latest job: {}; interests: {}; skill keywords \
                 found: {}; RIASEC answers ignored as malformed: {}; not granted: {}",
                report.current.as_deref().unwrap_or("none"),
                match riasec::code_text(&report.interests) {
                    c if c.is_empty() => "none".to_string(),
                    c => c,
                },
                report.skill_terms,
                report.ignored_answers,
                if missing.is_empty() {
                    "nothing".to_string()
                } else {
                    missing.join("; ")
                },
            ),
        );
        let rows = report
            .suggestions
            .into_iter()
            .map(|s| {
                vec![
                    Scalar::Text(s.code),
                    Scalar::Text(s.occupation),
                    Scalar::Text(s.kind.as_str().into()),
                    Scalar::Integer(i64::from(s.score)),
                    Scalar::Text(s.reasons),
                ]
            })
            .collect();
        Ok(Output::Table(Table {
            columns: COLUMNS.iter().map(|c| c.to_string()).collect(),
            rows,
        }))
    }
}

insitu_sdk::export_plugin!(Coaching);
