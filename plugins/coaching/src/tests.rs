//! The method end to end, natively: records in, suggestions out.

use insitu_sdk::{Param, Params, PluginError, Scalar};

use crate::catalogue::Catalogue;
use crate::options;
use crate::person::{Answer, Education, Person, Position};
use crate::suggest::{Kind, Options, Report, Suggestion, suggest};

fn catalogue() -> Catalogue {
    Catalogue::embedded().unwrap()
}

fn answers(scores: &[(&str, &str)]) -> Vec<Answer> {
    scores
        .iter()
        .map(|(q, a)| Answer {
            questionnaire: "riasec".into(),
            question: q.to_string(),
            answer: a.to_string(),
        })
        .collect()
}

/// Interests I, then C, then R.
fn investigative_conventional() -> Vec<Answer> {
    answers(&[
        ("R1", "3"),
        ("R2", "4"),
        ("I1", "5"),
        ("I2", "5"),
        ("A1", "2"),
        ("A2", "1"),
        ("S1", "2"),
        ("S2", "3"),
        ("E1", "1"),
        ("E2", "2"),
        ("C1", "4"),
        ("C2", "5"),
    ])
}

fn data_scientist() -> Person {
    Person {
        skills: [
            "Python",
            "SQL",
            "Machine Learning",
            "Statistics",
            "Data Visualization",
            "Mathematics",
        ]
        .map(String::from)
        .to_vec(),
        positions: vec![
            Position {
                title: "Research Assistant".into(),
                description: Some("Surveys and statistics for a sociology lab".into()),
                started: 1_400_000_000_000,
                ended: Some(1_500_000_000_000),
            },
            Position {
                title: "Senior Data Scientist".into(),
                description: Some("Forecasting models and dashboards".into()),
                started: 1_500_000_000_000,
                ended: None,
            },
        ],
        education: vec![Education {
            degree: Some("MSc Statistics".into()),
            ..Education::default()
        }],
        answers: investigative_conventional(),
    }
}

fn nurse() -> Person {
    Person {
        skills: ["Nursing", "Patient Care", "Medications", "Emergency"]
            .map(String::from)
            .to_vec(),
        positions: vec![Position {
            title: "Registered Nurse".into(),
            started: 1_600_000_000_000,
            ..Position::default()
        }],
        answers: answers(&[("S1", "5"), ("I1", "4"), ("C1", "3"), ("R1", "2")]),
        ..Person::default()
    }
}

fn run(person: &Person, count: usize, surprise: f64) -> Report {
    suggest(person, &catalogue(), &Options { count, surprise }).unwrap()
}

fn of_kind(report: &Report, kind: Kind) -> Vec<&Suggestion> {
    report
        .suggestions
        .iter()
        .filter(|s| s.kind == kind)
        .collect()
}

#[test]
fn a_data_scientist_gets_data_related_close_suggestions() {
    let report = run(&data_scientist(), 10, 0.2);
    assert_eq!(
        report.current.as_deref(),
        Some("15-2051.00 Data Scientists")
    );
    assert!(report.suggestions.iter().all(|s| s.code != "15-2051.00"));
    let close = of_kind(&report, Kind::Close);
    let codes: Vec<&str> = close.iter().map(|s| s.code.as_str()).collect();
    assert_eq!(
        codes[0], "15-2031.00",
        "Operations Research Analysts first: {codes:?}"
    );
    let longer = run(&data_scientist(), 20, 0.2);
    for expected in ["15-2041.00", "15-2021.00", "19-3011.00"] {
        assert!(
            of_kind(&longer, Kind::Close)
                .iter()
                .any(|s| s.code == expected),
            "{expected} not in {:?}",
            longer.suggestions
        );
    }
    // The best close suggestions share data skills and the person's interests.
    for s in &close[..3] {
        assert!(s.reasons.contains("shares your skills"), "{s:?}");
        assert!(
            ["python", "statistics", "machine-learning", "data"]
                .iter()
                .any(|k| s.reasons.contains(k)),
            "{s:?}"
        );
        assert!(s.reasons.contains("matches your interests I"), "{s:?}");
    }
    assert_eq!(report.interests.len(), 3);
}

#[test]
fn a_next_step_of_the_current_occupation_gets_a_bonus_and_says_why() {
    let report = run(&nurse(), 10, 0.2);
    assert_eq!(
        report.current.as_deref(),
        Some("29-1141.00 Registered Nurses")
    );
    let transitions = of_kind(&report, Kind::Transition);
    let np = transitions
        .iter()
        .find(|s| s.code == "29-1171.00")
        .expect("Nurse Practitioners is a transition");
    assert!(
        np.reasons.contains(
            "people in Registered Nurses (closest to your role Registered Nurse) often move \
             to Nurse Practitioners"
        ),
        "{}",
        np.reasons
    );
    // The bonus is what ranks it: without the latest job, the same occupation scores lower.
    let mut no_job = nurse();
    no_job.positions.clear();
    let without = run(&no_job, 50, 0.0);
    let before = without
        .suggestions
        .iter()
        .find(|s| s.code == "29-1171.00")
        .unwrap();
    assert_eq!(before.kind, Kind::Close);
    assert_eq!(np.score, before.score + 15, "{np:?} {before:?}");
}

#[test]
fn the_unexpected_share_is_respected() {
    let person = data_scientist();
    for (count, surprise, want) in [(10, 0.2, 2), (10, 0.0, 0), (5, 0.2, 1), (20, 0.25, 5)] {
        let report = run(&person, count, surprise);
        assert_eq!(report.suggestions.len(), count);
        let unexpected = of_kind(&report, Kind::Unexpected);
        assert_eq!(unexpected.len(), want, "count {count}, surprise {surprise}");
        for u in unexpected {
            assert!(
                u.reasons
                    .contains("unexpected: a strong fit for your interests"),
                "{u:?}"
            );
            assert!(u.reasons.contains("matches your interests I"), "{u:?}");
        }
    }
    // Surprises come from different fields first.
    let report = run(&person, 10, 0.2);
    let groups: Vec<&str> = of_kind(&report, Kind::Unexpected)
        .iter()
        .map(|s| &s.code[..2])
        .collect();
    assert_ne!(groups[0], groups[1], "{:?}", report.suggestions);
}

#[test]
fn without_skills_or_without_answers_there_is_nothing_unexpected() {
    let mut only_answers = data_scientist();
    only_answers.skills.clear();
    only_answers.positions.clear();
    only_answers.education.clear();
    let report = run(&only_answers, 10, 0.5);
    assert_eq!(report.suggestions.len(), 10);
    assert!(report.suggestions.iter().all(|s| s.kind == Kind::Close));
    assert!(
        report.suggestions[0]
            .reasons
            .starts_with("matches your interests I, C")
    );

    let mut only_skills = data_scientist();
    only_skills.answers.clear();
    let report = run(&only_skills, 10, 0.5);
    assert!(of_kind(&report, Kind::Unexpected).is_empty());
    assert!(report.interests.is_empty());
}

#[test]
fn every_row_has_reasons_and_rows_are_sorted_by_kind_then_score() {
    for person in [data_scientist(), nurse()] {
        for (count, surprise) in [(10, 0.2), (50, 0.3), (1, 1.0)] {
            let report = run(&person, count, surprise);
            assert!(!report.suggestions.is_empty());
            for s in &report.suggestions {
                assert!(!s.reasons.trim().is_empty(), "{s:?}");
                assert!(s.score <= 100);
            }
            for w in report.suggestions.windows(2) {
                assert!(
                    (w[0].kind, std::cmp::Reverse(w[0].score))
                        <= (w[1].kind, std::cmp::Reverse(w[1].score)),
                    "{w:?}"
                );
            }
            // No randomness: the same records give the same rows.
            assert_eq!(run(&person, count, surprise), report);
        }
    }
}

#[test]
fn nothing_usable_fails_with_a_clear_message() {
    let err = suggest(&Person::default(), &catalogue(), &Options::default()).unwrap_err();
    for needed in [
        "career.skills",
        "career.positions",
        "career.education",
        "profile.answers",
    ] {
        assert!(err.contains(needed), "{err}");
    }
    assert!(err.contains("it read 0 skills, 0 positions"), "{err}");
    // Records that match nothing count as nothing, and say so.
    let person = Person {
        skills: vec!["Underwater basket weaving".into()],
        answers: answers(&[("X1", "5"), ("R1", "9")]),
        ..Person::default()
    };
    let err = suggest(&person, &catalogue(), &Options::default()).unwrap_err();
    assert!(err.contains("1 skills"), "{err}");
    assert!(
        err.contains("0 valid RIASEC items and 2 malformed"),
        "{err}"
    );
}

fn params(items: &[(&str, Scalar)]) -> Params {
    Params::new(
        items
            .iter()
            .map(|(n, v)| Param {
                name: n.to_string(),
                value: v.clone(),
            })
            .collect(),
    )
}

#[test]
fn parameters_have_defaults_and_bounds() {
    assert_eq!(options(&params(&[])).unwrap(), Options::default());
    let o = options(&params(&[
        ("count", Scalar::Integer(50)),
        ("surprise", Scalar::Float(0.5)),
    ]))
    .unwrap();
    assert_eq!((o.count, o.surprise), (50, 0.5));
    let o = options(&params(&[("surprise", Scalar::Integer(0))])).unwrap();
    assert_eq!(o.surprise, 0.0);
    for bad in [
        ("count", Scalar::Integer(0)),
        ("count", Scalar::Integer(51)),
        ("count", Scalar::Text("10".into())),
        ("surprise", Scalar::Integer(20)),
        ("surprise", Scalar::Float(-0.1)),
        ("surprise", Scalar::Float(f64::NAN)),
        ("surprise", Scalar::Text("0.2".into())),
    ] {
        let name = bad.0;
        match options(&params(&[bad])) {
            Err(PluginError::InvalidParams(m)) => assert!(m.contains(name), "{m}"),
            other => panic!("{name}: {other:?}"),
        }
    }
}
