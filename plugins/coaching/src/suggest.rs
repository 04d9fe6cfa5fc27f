//! Scoring the catalogue against a person and choosing the suggestions, each with its
//! reasons. The method is described in the crate documentation; the constants below are its
//! numbers.

use std::collections::BTreeSet;

use crate::catalogue::{Catalogue, Occupation};
use crate::person::{Person, Skills, closest_occupation};
use crate::riasec::{self, Letter};

/// Weight of the skills similarity in the score, when interests are known too.
pub const W_SKILLS: f64 = 0.55;
/// Weight of the interests agreement, when skills are known too.
pub const W_INTERESTS: f64 = 0.30;
/// Bonus for a next step of the person's current occupation.
pub const W_TRANSITION: f64 = 0.15;
/// An interests agreement from which an occupation is a strong interests match (against a
/// person's `ICS`, `IC` is 27/28; any code that starts with `I` is at least 22/28, about
/// 0.79; `CI`, 20/28, is not).
pub const STRONG_INTERESTS: f64 = 0.75;
/// Below this share of the person's best skills similarity, an occupation's skills overlap
/// is low.
pub const LOW_SKILLS: f64 = 0.4;
/// Shared skills named in a reason, at most.
const SKILLS_SHOWN: usize = 5;

/// Run options: see the crate documentation for their bounds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    /// Suggestions returned at most.
    pub count: usize,
    /// Share of them kept for unexpected suggestions, 0 to 1.
    pub surprise: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            count: 10,
            surprise: 0.2,
        }
    }
}

/// What kind of suggestion a row is, in the order rows are listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// Close to the person's skills (and interests).
    Close,
    /// A next step that people in the person's current occupation often take.
    Transition,
    /// A strong interests match the person's skills do not point to yet.
    Unexpected,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Close => "close",
            Kind::Transition => "transition",
            Kind::Unexpected => "unexpected",
        }
    }
}

/// One suggested occupation.
#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    pub code: String,
    pub occupation: String,
    pub kind: Kind,
    /// 0 to 100.
    pub score: u8,
    /// Why, in plain words, separated by `; `. Never empty.
    pub reasons: String,
}

/// The suggestions and what they were computed from (for the run's log).
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub suggestions: Vec<Suggestion>,
    /// The catalogue occupation closest to the latest job (excluded from suggestions).
    pub current: Option<String>,
    /// The person's RIASEC code (empty without answers).
    pub interests: Vec<Letter>,
    /// Distinct catalogue keywords found in the person's records.
    pub skill_terms: usize,
    /// RIASEC answers ignored as malformed.
    pub ignored_answers: usize,
}

/// One occupation's components, each 0 to 1.
struct Scored<'c> {
    occupation: &'c Occupation,
    skills: f64,
    interests: f64,
    transition: bool,
    score: f64,
}

/// Suggests occupations for `person`. Fails, with a message that says what was read, when
/// nothing in it can be compared with the catalogue: no skill term and no RIASEC answer.
pub fn suggest(
    person: &Person,
    catalogue: &Catalogue,
    options: &Options,
) -> Result<Report, String> {
    let skills = Skills::of(person, catalogue);
    let profile = person.interests();
    let code = profile.code();
    if skills.is_empty() && code.is_empty() {
        return Err(format!(
            "nothing to compare with the occupations: coaching needs skills (career.skills), \
             job titles or descriptions (career.positions) or degrees (career.education) that \
             use words of its occupation keywords, or RIASEC answers in profile.answers \
             (questionnaire `riasec`, items such as R1 or I3, answers 1 to 5); it read {} \
             skills, {} positions, {} education entries and {} answers, of which {} valid \
             RIASEC items and {} malformed",
            person.skills.len(),
            person.positions.len(),
            person.education.len(),
            person.answers.len(),
            profile.items,
            profile.ignored,
        ));
    }
    let latest = person.latest_position();
    let current = latest.and_then(|p| closest_occupation(&p.title, catalogue, &skills));
    let next: BTreeSet<&str> = current
        .map(|c| c.next.iter().map(String::as_str).collect())
        .unwrap_or_default();
    let (w_skills, w_interests) = match (skills.is_empty(), code.is_empty()) {
        (false, false) => (W_SKILLS, W_INTERESTS),
        (false, true) => (W_SKILLS + W_INTERESTS, 0.0),
        _ => (0.0, W_SKILLS + W_INTERESTS),
    };
    let scored: Vec<Scored> = catalogue
        .occupations
        .iter()
        .filter(|o| current.is_none_or(|c| c.code != o.code))
        .map(|o| {
            let s = skills.similarity(o);
            let i = riasec::agreement(&code, &o.riasec);
            let transition = next.contains(o.code.as_str());
            let score = w_skills * s + w_interests * i + W_TRANSITION * f64::from(transition);
            Scored {
                occupation: o,
                skills: s,
                interests: i,
                transition,
                score,
            }
        })
        .collect();

    // Unexpected: only when both skills and interests are known (otherwise there is nothing
    // to contrast), a strong interests match with low skills overlap that is no next step.
    let wanted = if skills.is_empty() || code.is_empty() {
        0
    } else {
        ((options.count as f64 * options.surprise).round() as usize).min(options.count)
    };
    let best_skills = scored.iter().map(|s| s.skills).fold(0.0, f64::max);
    let mut pool: Vec<&Scored> = scored
        .iter()
        .filter(|s| {
            s.interests >= STRONG_INTERESTS && s.skills < LOW_SKILLS * best_skills && !s.transition
        })
        .collect();
    pool.sort_by(|a, b| {
        b.interests
            .total_cmp(&a.interests)
            .then(b.skills.total_cmp(&a.skills))
            .then(a.occupation.code.cmp(&b.occupation.code))
    });
    let unexpected = pick_diverse(&pool, wanted);

    // Close and transition: by score, among occupations with evidence (a shared skill, a
    // next step, or, without skills, a shared interest letter).
    let mut ranked: Vec<&Scored> = scored
        .iter()
        .filter(|s| {
            let evidence = if skills.is_empty() {
                s.interests > 0.0
            } else {
                s.skills > 0.0
            };
            (evidence || s.transition)
                && !unexpected
                    .iter()
                    .any(|u| u.occupation.code == s.occupation.code)
        })
        .collect();
    ranked.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.occupation.code.cmp(&b.occupation.code))
    });
    ranked.truncate(options.count - unexpected.len());

    let reasons = Reasons {
        skills: &skills,
        code: &code,
        current: current.map(|c| (c.title.as_str(), latest.map_or("", |p| p.title.as_str()))),
    };
    let mut suggestions: Vec<Suggestion> = ranked
        .iter()
        .map(|s| {
            let kind = if s.transition {
                Kind::Transition
            } else {
                Kind::Close
            };
            reasons.suggestion(s, kind)
        })
        .chain(
            unexpected
                .iter()
                .map(|s| reasons.suggestion(s, Kind::Unexpected)),
        )
        .collect();
    suggestions.sort_by(|a, b| (a.kind, b.score, &a.code).cmp(&(b.kind, a.score, &b.code)));
    Ok(Report {
        suggestions,
        current: current.map(|c| format!("{} {}", c.code, c.title)),
        interests: code,
        skill_terms: skills.len(),
        ignored_answers: profile.ignored,
    })
}

/// Takes `n` from `pool` in order, preferring first one per SOC major group, so that the
/// surprises are not all from one field.
fn pick_diverse<'a, 'c>(pool: &[&'a Scored<'c>], n: usize) -> Vec<&'a Scored<'c>> {
    let mut picked: Vec<&Scored> = Vec::new();
    let mut groups: BTreeSet<&str> = BTreeSet::new();
    for s in pool {
        if picked.len() == n {
            break;
        }
        if groups.insert(s.occupation.major_group()) {
            picked.push(s);
        }
    }
    for s in pool {
        if picked.len() == n {
            break;
        }
        if !picked
            .iter()
            .any(|p| p.occupation.code == s.occupation.code)
        {
            picked.push(s);
        }
    }
    picked
}

/// What the reasons are written from.
struct Reasons<'a> {
    skills: &'a Skills,
    code: &'a [Letter],
    /// The current occupation's title and the person's own job title.
    current: Option<(&'a str, &'a str)>,
}

impl Reasons<'_> {
    fn suggestion(&self, s: &Scored, kind: Kind) -> Suggestion {
        let o = s.occupation;
        let mut reasons = Vec::new();
        let shared = self.skills.shared(o);
        if !shared.is_empty() {
            let mut text = format!(
                "shares your skills {}",
                shared[..shared.len().min(SKILLS_SHOWN)].join(", ")
            );
            if shared.len() > SKILLS_SHOWN {
                text.push_str(&format!(" and {} more", shared.len() - SKILLS_SHOWN));
            }
            reasons.push(text);
        }
        let letters = riasec::shared(self.code, &o.riasec);
        if !letters.is_empty() {
            let list: Vec<String> = letters.iter().map(|l| l.as_char().to_string()).collect();
            reasons.push(format!(
                "matches your interests {} (your code {}, its code {})",
                list.join(", "),
                riasec::code_text(self.code),
                riasec::code_text(&o.riasec)
            ));
        }
        if let (true, Some((current, title))) = (s.transition, self.current) {
            reasons.push(format!(
                "people in {current} (closest to your role {title}) often move to {}",
                o.title
            ));
        }
        if kind == Kind::Unexpected {
            let overlap = if shared.is_empty() {
                "none of your skills is among its keywords yet"
            } else {
                "few of your skills overlap yet"
            };
            reasons.push(format!(
                "unexpected: a strong fit for your interests, though {overlap}; interests \
                 predict how satisfying work feels, and skills can be learned"
            ));
        }
        Suggestion {
            code: o.code.clone(),
            occupation: o.title.clone(),
            kind,
            score: (s.score * 100.0).round().clamp(0.0, 100.0) as u8,
            reasons: reasons.join("; "),
        }
    }
}
