//! Studies: the cohort minimum, the privacy budget, rewards, clipping of hostile outputs, and
//! the differential-privacy test that no single member can be recovered from a release.

mod common;

use common::pds_with_fee_scanner;
use insitu::consent::{Grant, GrantedCollection, now_ms};
use insitu::contract::{Viewer, output_for};
use insitu::job::{JobStatus, MemberOutcome, Progress};
use insitu::meter::FailureReason;
use insitu::output::{Money, PluginOutput, Scalar};
use insitu::package::{self, AggregateField, InstallMode, Manifest, PluginUse};
use insitu::pds::Pds;
use insitu::store::{KeyedRecord, PersonId, PluginRecord, Source, TimeRange, Value};
use insitu::study::{self, NewStudy, StudyError};

const DAY: i64 = 86_400_000;
const LAB: &str = "lab";

fn install(pds: &Pds, path: &str, edit: impl FnOnce(&mut Manifest)) -> PluginRecord {
    let mut m =
        Manifest::from_file(std::path::Path::new(insitu_plugins::manifest_for(path))).unwrap();
    edit(&mut m);
    let signed =
        package::pack_and_sign(&insitu_plugins::bytes(path), &m, &common::examples_key()).unwrap();
    package::install(
        pds.store.as_ref(),
        pds.runner.sandbox(),
        &signed,
        InstallMode::Verified,
    )
    .unwrap()
}

/// A member with `uses` usage events in the last days, granting `plugin` over them.
fn member(pds: &Pds, name: &str, uses: u64, plugin: &str) -> PersonId {
    let p = pds.store.add_person(name).unwrap();
    let schema = pds.store.collection("usage.events").unwrap();
    let today = now_ms() / DAY;
    let recs: Vec<KeyedRecord> = (0..uses)
        .map(|n| {
            let at = (today - 1 - (n as i64 % 20)) * DAY + n as i64 * 1000;
            let named = [
                ("at", Value::Timestamp(at)),
                ("product", Value::Text("Thermo".into())),
                ("activity", Value::Text("adjust".into())),
                ("place_kind", Value::Text("home".into())),
                ("time_of_day", Value::Text("evening".into())),
                ("duration_s", Value::Integer(60)),
            ];
            KeyedRecord {
                id: n + 1,
                time: at,
                values: schema
                    .fields
                    .iter()
                    .map(|f| {
                        named
                            .iter()
                            .find(|(k, _)| *k == f.name)
                            .map(|(_, v)| v.clone())
                            .unwrap_or(Value::Null)
                    })
                    .collect(),
            }
        })
        .collect();
    pds.store
        .write_records(p, "usage.events", &recs, Source::File("usage.jsonl"))
        .unwrap();
    let fields = schema.fields.iter().map(|f| f.name.clone()).collect();
    pds.store
        .add_grant(Grant {
            id: 0,
            person: p,
            plugin_digest: plugin.into(),
            collections: vec![GrantedCollection {
                name: "usage.events".into(),
                fields,
            }],
            window: TimeRange::ALL,
            created_ms: now_ms(),
            expires_ms: None,
            revoked_ms: None,
            origin: None,
        })
        .unwrap();
    p
}

fn new_study(digest: &str, epsilon: f64, min_cohort: Option<u32>) -> NewStudy {
    NewStudy {
        owner: LAB.into(),
        description: "usage".into(),
        plugin_digest: digest.into(),
        params: vec![],
        min_cohort,
        epsilon,
        reward: Money {
            minor: 50,
            currency: "EUR".into(),
        },
    }
}

fn analytics(dir: &std::path::Path) -> (Pds, PluginRecord) {
    let (pds, _) = pds_with_fee_scanner(dir);
    let plugin = install(&pds, insitu_plugins::USAGE_ANALYTICS, |_| {});
    (pds, plugin)
}

#[tokio::test]
async fn a_release_is_noisy_bounded_charged_to_each_member_and_rewarded() {
    let dir = tempfile::tempdir().unwrap();
    let (pds, plugin) = analytics(dir.path());
    let store = pds.store.as_ref();
    // One heavy user far above the declared bound of 60 events.
    let mut people: Vec<PersonId> = (0..11)
        .map(|i| member(&pds, &format!("m{i}"), 5 + i, &plugin.digest))
        .collect();
    people.push(member(&pds, "heavy", 5_000, &plugin.digest));
    let job = study::open(store, new_study(&plugin.digest, 1.0, None)).unwrap();
    let job = study::run(&pds.runner, job.id, &Progress::default())
        .await
        .unwrap();
    assert!(
        matches!(job.status, JobStatus::Released { .. }),
        "{:?}",
        job.status
    );
    let r = job.release.clone().unwrap();
    let m = plugin.manifest.clone().unwrap();
    assert_eq!(r.sensitivity, study::sensitivity(&m.aggregate));
    assert_eq!(r.sensitivity, 60 + 300 + 31 + 8 * 60);
    assert!(
        (r.scale - r.sensitivity as f64 / 0.9).abs() < 1e-6,
        "{}",
        r.scale
    );
    assert_eq!(
        r.values.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        m.aggregate
            .iter()
            .map(|f| f.name.as_str())
            .collect::<Vec<_>>()
    );
    // The heavy user's contribution is clipped to the bound, and only they can read it.
    let heavy = store
        .members(job.id)
        .unwrap()
        .into_iter()
        .find(|x| x.person == people[11])
        .unwrap();
    let out = output_for(store, heavy.run, &Viewer::Person(people[11])).unwrap();
    let PluginOutput::Metrics { metrics } = out else {
        panic!("metrics expected")
    };
    let events = metrics.iter().find(|x| x.name == "events").unwrap();
    assert_eq!(events.value, Scalar::Integer(60));
    assert!(output_for(store, heavy.run, &Viewer::Requester(LAB.into())).is_err());
    assert!(output_for(store, heavy.run, &Viewer::Operator).is_err());
    // Budget charged to every member included, rewards recorded.
    let period = insitu::job::current_period();
    for p in &people {
        assert_eq!(store.budget_spent(*p, &period).unwrap(), 1_000_000);
    }
    let rewards = store.billing(Some(job.id)).unwrap();
    assert_eq!(rewards.len(), people.len());
    assert!(
        rewards
            .iter()
            .all(|b| b.from == LAB && b.amount.minor == 50)
    );
}

#[tokio::test]
async fn a_cohort_below_the_minimum_gets_nothing_and_spends_no_budget() {
    let dir = tempfile::tempdir().unwrap();
    let (pds, plugin) = analytics(dir.path());
    let store = pds.store.as_ref();
    let people: Vec<PersonId> = (0..9)
        .map(|i| member(&pds, &format!("m{i}"), 10, &plugin.digest))
        .collect();
    // The manifest's minimum (10) is a floor: asking for 3 gives 10.
    let job = study::open(store, new_study(&plugin.digest, 0.5, Some(3))).unwrap();
    let job = study::run(&pds.runner, job.id, &Progress::default())
        .await
        .unwrap();
    assert!(
        matches!(&job.status, JobStatus::Withheld { reason, .. } if reason.contains("minimum cohort of 10")),
        "{:?}",
        job.status
    );
    assert!(job.release.is_none());
    for p in &people {
        assert_eq!(
            store
                .budget_spent(*p, &insitu::job::current_period())
                .unwrap(),
            0
        );
    }
    assert!(store.billing(Some(job.id)).unwrap().is_empty());
    assert!(matches!(
        study::open(store, new_study(&plugin.digest, 0.0, None)),
        Err(StudyError::Epsilon { .. })
    ));
    assert!(matches!(
        study::open(store, new_study(&plugin.digest, 2.5, None)),
        Err(StudyError::Epsilon { .. })
    ));
}

#[tokio::test]
async fn a_member_whose_budget_is_spent_is_not_run_again_that_month() {
    let dir = tempfile::tempdir().unwrap();
    let (pds, plugin) = analytics(dir.path());
    let store = pds.store.as_ref();
    let people: Vec<PersonId> = (0..12)
        .map(|i| member(&pds, &format!("m{i}"), 10, &plugin.digest))
        .collect();
    let first = study::open(store, new_study(&plugin.digest, 1.5, None)).unwrap();
    let first = study::run(&pds.runner, first.id, &Progress::default())
        .await
        .unwrap();
    assert!(matches!(first.status, JobStatus::Released { .. }));
    // 1.5 spent of 2.0: a second release at 1.0 would exceed it for everyone.
    let second = study::open(store, new_study(&plugin.digest, 1.0, None)).unwrap();
    let runs_before = store.runs(None).unwrap().len();
    let second = study::run(&pds.runner, second.id, &Progress::default())
        .await
        .unwrap();
    assert_eq!(
        store.runs(None).unwrap().len(),
        runs_before,
        "nobody was run"
    );
    let members = store.members(second.id).unwrap();
    assert_eq!(members.len(), people.len());
    assert!(
        members
            .iter()
            .all(|m| m.outcome == MemberOutcome::OverBudget)
    );
    assert!(matches!(second.status, JobStatus::Withheld { .. }));
    for p in &people {
        assert_eq!(
            store
                .budget_spent(*p, &insitu::job::current_period())
                .unwrap(),
            1_500_000
        );
    }
}

#[tokio::test]
async fn a_hostile_study_plugin_is_clipped_or_withheld_and_never_released_alone() {
    let dir = tempfile::tempdir().unwrap();
    let (pds, _) = pds_with_fee_scanner(dir.path());
    let store = pds.store.as_ref();
    let study_manifest = |m: &mut Manifest, metric: &str| {
        m.usage = PluginUse::Study;
        m.output.audience = insitu::package::Audience::Aggregate;
        m.output.min_cohort = Some(2);
        m.aggregate = vec![AggregateField {
            name: metric.into(),
            description: "test".into(),
            lower: 0,
            upper: 10,
        }];
        m.data[0].collection = "usage.events".into();
        m.data[0].fields = vec!["product".into()];
    };
    let declared = install(&pds, insitu_plugins::HOSTILE, |m| {
        study_manifest(m, "depth")
    });
    let undeclared = install(&pds, insitu_plugins::HOSTILE, |m| {
        study_manifest(m, "other")
    });
    let people: Vec<PersonId> = (0..3)
        .map(|i| member(&pds, &format!("m{i}"), 3, &declared.digest))
        .collect();
    for p in &people {
        pds.store
            .add_grant(Grant {
                plugin_digest: undeclared.digest.clone(),
                ..store.grants(Some(*p)).unwrap()[0].clone()
            })
            .unwrap();
    }
    // `recurse` to depth 5 returns a number far above the declared bound of 10.
    let mut s = new_study(&declared.digest, 1.0, None);
    s.params = vec![
        ("behaviour".into(), Scalar::Text("recurse".into())),
        ("depth".into(), Scalar::Integer(5)),
    ];
    let job = study::open(store, s).unwrap();
    let job = study::run(&pds.runner, job.id, &Progress::default())
        .await
        .unwrap();
    for m in store.members(job.id).unwrap() {
        assert_eq!(m.outcome, MemberOutcome::Contributed);
        let out = output_for(store, m.run, &Viewer::Person(m.person)).unwrap();
        assert_eq!(
            out,
            PluginOutput::Metrics {
                metrics: vec![insitu::output::Metric {
                    name: "depth".into(),
                    value: Scalar::Integer(10)
                }]
            }
        );
    }
    assert!(matches!(job.status, JobStatus::Released { .. }));
    // A metric the manifest does not declare, a loop and a memory bomb: each member's run
    // fails cleanly, with its reason, and nothing is released.
    for (digest, behaviour, reason) in [
        (&undeclared.digest, "recurse", FailureReason::Contract),
        (&declared.digest, "loop", FailureReason::FuelExhausted),
        (&declared.digest, "memory", FailureReason::MemoryLimit),
    ] {
        let mut s = new_study(digest, 0.1, None);
        s.params = vec![
            ("behaviour".into(), Scalar::Text(behaviour.into())),
            ("depth".into(), Scalar::Integer(5)),
        ];
        let job = study::open(store, s).unwrap();
        let job = study::run(&pds.runner, job.id, &Progress::default())
            .await
            .unwrap();
        for m in store.members(job.id).unwrap() {
            assert_eq!(m.outcome, MemberOutcome::Failed { reason }, "{behaviour}");
        }
        assert!(
            matches!(job.status, JobStatus::Withheld { .. }),
            "{behaviour}"
        );
        assert!(job.release.is_none());
    }
    // A single run of a study plugin outside a study is withheld (aggregate only).
    let g = store.grants(Some(people[0])).unwrap()[0].clone();
    let run = pds
        .runner
        .run(insitu::run::RunRequest {
            person: people[0],
            grant: g.id,
            digest: g.plugin_digest.clone(),
            params: vec![("behaviour".into(), Scalar::Text("recurse".into()))],
            limits: None,
            requester: None,
        })
        .await
        .unwrap();
    assert!(run.output.is_none());
}

/// The method: neighbouring cohorts D (with a target member at the top of the bound, the
/// worst case) and D' (without them). We draw 20,000 releases of the sum from each, with the
/// host's mechanism (`study::noisy`, OpenDP's discrete Laplace), and play the attacker who knows
/// every other member's value exactly:
/// - the best test of "is the target in?" (a threshold at the midpoint, optimal for Laplace
///   noise) must not beat the ε-DP bound on its advantage, (e^ε − 1) / (e^ε + 1);
/// - over bins of the release, the ratio of probabilities under D and D' must stay within e^ε
///   (with sampling slack);
/// - the attacker's estimate of the target's value must be worse than a blind guess.
///
/// The same attacker against releases without noise wins every time, which shows the test can
/// fail.
#[test]
fn no_single_member_can_be_recovered_from_a_release() {
    let upper = 60i64;
    let others: Vec<i64> = (0..40).map(|i| (i * 37 % 61).min(upper)).collect();
    let without: i64 = others.iter().sum();
    let target = upper;
    let with = without + target;
    let sensitivity = upper;
    let epsilon = 1.0 * (1.0 - study::COUNT_SHARE);
    let n = 20_000;
    let draw = |sum: i64| -> Vec<i64> {
        (0..n)
            .map(|_| study::noisy(&[sum], sensitivity, epsilon).unwrap().0[0])
            .collect()
    };
    let (d, d2) = (draw(with), draw(without));

    let mid = (with + without) as f64 / 2.0;
    let advantage = |a: &[i64], b: &[i64]| {
        let p = a.iter().filter(|v| **v as f64 > mid).count() as f64 / a.len() as f64;
        let q = b.iter().filter(|v| **v as f64 > mid).count() as f64 / b.len() as f64;
        p - q
    };
    let bound = (epsilon.exp() - 1.0) / (epsilon.exp() + 1.0);
    let adv = advantage(&d, &d2);
    assert!(
        adv <= bound + 0.02,
        "the attacker's advantage {adv:.3} beats the ε-DP bound {bound:.3}"
    );

    // Bins with at least 1,000 draws on each side, so that sampling error (about 4% on a
    // ratio) stays far below the 20% slack.
    let lo = without - 4 * sensitivity;
    let width = sensitivity / 2;
    let mut compared = 0;
    for bin in 0..16 {
        let (a, b) = (lo + bin * width, lo + (bin + 1) * width);
        let p = d.iter().filter(|v| (a..b).contains(*v)).count() as f64;
        let q = d2.iter().filter(|v| (a..b).contains(*v)).count() as f64;
        if p >= 1000.0 && q >= 1000.0 {
            let ratio = (p / q).max(q / p);
            compared += 1;
            assert!(
                ratio <= epsilon.exp() * 1.2,
                "bin [{a}, {b}): ratio {ratio:.2} over e^ε = {:.2}",
                epsilon.exp()
            );
        }
    }

    assert!(compared >= 4, "only {compared} bins had enough draws");

    let mae = d
        .iter()
        .map(|v| ((v - without) - target).abs() as f64)
        .sum::<f64>()
        / n as f64;
    let blind = (upper / 2) as f64;
    assert!(
        mae > blind,
        "the attacker's estimate is off by {mae:.1} on average, better than a blind guess ({blind})"
    );

    eprintln!(
        "ε = {epsilon}: attacker's advantage {adv:.3} (bound {bound:.3}); estimate off by {mae:.1} on average (blind guess {blind})"
    );
    // Control: the same attacker against exact sums always wins.
    let exact_adv = advantage(&vec![with; n], &vec![without; n]);
    assert_eq!(exact_adv, 1.0);
    assert!(exact_adv > bound + 0.02);
}
