//! Reading a person's granted career records and interests answers (shared by `coaching`
//! and `coaching-trends`, which compiles this file too).

use std::collections::BTreeMap;

use insitu_sdk::{PluginError, Query, Row};

use crate::person::{Answer, Education, Person, Position};

/// The collections read, with the fields used from each (the record time aside).
pub const READS: [(&str, &[&str]); 4] = [
    ("career.skills", &["skill"]),
    ("career.positions", &["title", "description", "ended"]),
    ("career.education", &["degree", "notes", "activities"]),
    ("profile.answers", &["questionnaire", "question", "answer"]),
];

/// Reads `collection`'s granted fields among `wanted` and calls `f` on each row. Returns the
/// fields read: none when the collection or all of those fields were not granted.
pub fn read(
    granted: &BTreeMap<String, Vec<String>>,
    collection: &str,
    wanted: &[&'static str],
    f: impl FnMut(Row<'_>),
) -> Result<Vec<&'static str>, PluginError> {
    let Some(fields) = granted.get(collection) else {
        return Ok(Vec::new());
    };
    let fields: Vec<&'static str> = wanted
        .iter()
        .copied()
        .filter(|w| fields.iter().any(|g| g == w))
        .collect();
    if !fields.is_empty() {
        Query::new(collection).fields(&fields).open()?.for_each(f)?;
    }
    Ok(fields)
}

fn field_text(row: &Row<'_>, field: &str) -> Option<String> {
    row.text(field)
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

/// Reads the person's granted records; also returns what could not be read, for the error.
pub fn read_person() -> Result<(Person, Vec<String>), PluginError> {
    let granted: BTreeMap<String, Vec<String>> = insitu_sdk::collections()
        .into_iter()
        .map(|c| (c.name, c.fields.into_iter().map(|f| f.name).collect()))
        .collect();
    let mut p = Person::default();
    let [skills, positions, education, answers] = READS;
    let mut missing = Vec::new();
    let read_skills = read(&granted, skills.0, skills.1, |row| {
        p.skills.extend(field_text(&row, "skill"));
    })?;
    let read_positions = read(&granted, positions.0, positions.1, |row| {
        p.positions.push(Position {
            title: field_text(&row, "title").unwrap_or_default(),
            description: field_text(&row, "description"),
            started: row.time(),
            ended: row.integer("ended"),
        });
    })?;
    let read_education = read(&granted, education.0, education.1, |row| {
        p.education.push(Education {
            degree: field_text(&row, "degree"),
            notes: field_text(&row, "notes"),
            activities: field_text(&row, "activities"),
        });
    })?;
    // The answers need all three fields: without one, no row can be understood.
    let answer_fields = answers.1;
    let all_answers = answer_fields.iter().all(|f| {
        granted
            .get(answers.0)
            .is_some_and(|g| g.iter().any(|x| x == f))
    });
    if all_answers {
        read(&granted, answers.0, answer_fields, |row| {
            p.answers.push(Answer {
                questionnaire: row.text("questionnaire").unwrap_or("").to_string(),
                question: row.text("question").unwrap_or("").to_string(),
                answer: row.text("answer").unwrap_or("").to_string(),
            });
        })?;
    }
    for ((name, fields), read) in READS.iter().zip([
        !read_skills.is_empty(),
        !read_positions.is_empty(),
        !read_education.is_empty(),
        all_answers,
    ]) {
        if !read {
            missing.push(format!("{name} ({})", fields.join(", ")));
        }
    }
    Ok((p, missing))
}
