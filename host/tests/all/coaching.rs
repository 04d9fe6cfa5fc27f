//! The coaching plugin in a person's store: suggestions with reasons, to the person alone, and
//! billed to the school whose white-label licence covers the person.

use crate::common;

use common::write_named;
use insitu_core::consent::{Grant, GrantedCollection};
use insitu_core::contract::{Viewer, output_for};
use insitu_core::ledger::Party;
use insitu_core::licence::{self, Licence, LicenceKind};
use insitu_core::meter::Outcome;
use insitu_core::output::{Money, PluginOutput, Scalar};
use insitu_core::package::{self, InstallMode};
use insitu_core::pds::Pds;
use insitu_core::store::{TimeRange, Value};
use insitu_testkit::now_ms;
use insitu_testkit::{signed, trust_examples};

const DAY: i64 = 86_400_000;

#[tokio::test]
async fn a_person_gets_suggestions_with_reasons_billed_to_their_school() {
    let dir = tempfile::tempdir().unwrap();
    let pds = Pds::open(dir.path()).unwrap();
    let store = pds.store.as_ref();
    trust_examples(store);
    let plugin = package::install(
        store,
        pds.runner.sandbox(),
        &signed(insitu_plugins::COACHING),
        InstallMode::Verified,
    )
    .unwrap();
    let p = store.add_person("Inès").unwrap();
    let t = |years: i64| now_ms() - years * 365 * DAY;
    let text = |s: &str| Value::Text(s.into());
    for skill in [
        "python",
        "statistics",
        "sql",
        "machine learning",
        "data visualization",
    ] {
        write_named(store, p, "career.skills", &[vec![("skill", text(skill))]]);
    }
    write_named(
        store,
        p,
        "career.positions",
        &[
            vec![
                ("company", text("Banque Rhône")),
                ("title", text("Data Analyst")),
                ("started", Value::Timestamp(t(6))),
                ("ended", Value::Timestamp(t(3))),
            ],
            vec![
                ("company", text("Mutuelle Alpes")),
                ("title", text("Data Scientist")),
                ("started", Value::Timestamp(t(3))),
            ],
        ],
    );
    write_named(
        store,
        p,
        "career.education",
        &[vec![
            ("school", text("Université Lyon 1")),
            ("degree", text("Master statistics")),
            ("started", Value::Timestamp(t(8))),
        ]],
    );
    // Interests: investigative and artistic high, conventional middling, the rest low.
    let answers: Vec<Vec<(&str, Value)>> = [
        ("R1", 2),
        ("R2", 1),
        ("I1", 5),
        ("I2", 5),
        ("A1", 4),
        ("A2", 5),
        ("S1", 2),
        ("S2", 2),
        ("E1", 1),
        ("E2", 2),
        ("C1", 3),
        ("C2", 4),
    ]
    .iter()
    .enumerate()
    .map(|(i, (q, a))| {
        vec![
            ("answered", Value::Timestamp(t(0) - i as i64)),
            ("questionnaire", text("riasec")),
            ("question", text(q)),
            ("answer", text(&a.to_string())),
        ]
    })
    .collect();
    write_named(store, p, "profile.answers", &answers);
    let m = plugin.manifest.clone().unwrap();
    let grant = store
        .add_grant(Grant {
            id: 0,
            person: p,
            plugin_digest: plugin.digest.clone(),
            collections: m
                .data
                .iter()
                .map(|d| GrantedCollection {
                    name: d.collection.clone(),
                    fields: d.fields.clone(),
                })
                .collect(),
            window: TimeRange::ALL,
            created_ms: now_ms(),
            expires_ms: None,
            revoked_ms: None,
            origin: None,
        })
        .unwrap();
    let (l, _) = licence::grant(
        store,
        Licence {
            id: 0,
            organisation: "Lycée Jean Moulin".into(),
            kind: LicenceKind::WhiteLabel {
                display_name: "Parcours Avenir".into(),
            },
            plugin: "coaching".into(),
            members: vec![p],
            seats: 40,
            run_quota: Some(100),
            since_ms: now_ms() - DAY,
            until_ms: now_ms() + 300 * DAY,
            price: Money {
                minor: 40_000,
                currency: "EUR".into(),
            },
        },
    )
    .unwrap();

    let run = pds
        .runner
        .run(insitu_core::run::RunRequest {
            person: p,
            grant: grant.id,
            digest: plugin.digest.clone(),
            params: vec![("count".into(), Scalar::Integer(10))],
            limits: None,
            requester: None,
            as_of: None,
        })
        .await
        .unwrap();
    assert_eq!(run.outcome, Outcome::Succeeded, "{}", run.log);
    let Some(PluginOutput::Table { columns, rows }) = run.output.clone() else {
        panic!("a table: {:?}", run.output)
    };
    assert_eq!(columns, ["code", "occupation", "kind", "score", "reasons"]);
    assert!(!rows.is_empty() && rows.len() <= 10, "{rows:?}");
    let cell = |r: &Vec<Scalar>, i: usize| r[i].to_string();
    assert!(
        rows.iter().all(|r| !cell(r, 4).is_empty()),
        "every row has reasons"
    );
    let kinds: Vec<String> = rows.iter().map(|r| cell(r, 2)).collect();
    assert_eq!(
        kinds.iter().filter(|k| *k == "unexpected").count(),
        2,
        "one in five is unexpected: {kinds:?}"
    );
    let everything = format!("{rows:?}").to_lowercase();
    assert!(
        everything.contains("statistic") || everything.contains("data"),
        "a data scientist gets data suggestions: {everything}"
    );
    // The person alone reads it; the school pays for it.
    assert!(output_for(store, run.id, &Viewer::Person(p)).is_ok());
    assert!(
        output_for(
            store,
            run.id,
            &Viewer::Requester("Lycée Jean Moulin".into())
        )
        .is_err()
    );
    let billed = store.posting(&format!("run:{}", run.id)).unwrap().unwrap();
    assert!(!billed.is_empty());
    assert!(
        billed
            .iter()
            .all(|e| e.debit == Party::Organisation("Lycée Jean Moulin".into()))
    );
    assert!(billed.iter().all(|e| e.memo.contains(&licence::tag(l.id))));
}
