//! Studies: the cohort minimum, the privacy budget (reserved atomically, even under
//! concurrent jobs), rewards, clipping of hostile outputs, what the organisation sees
//! (identical whether a member's run fails or not, nothing before the release time), and the
//! differential-privacy tests on the real release path: the spread of the noise, and that no
//! single member can be recovered from a release.

use crate::outside;

use std::sync::Arc;

use insitu_core::account::Role;
use insitu_core::clock::{Clock, ManualClock, SystemClock};
use insitu_core::consent::{Grant, GrantedCollection};
use insitu_core::contract::{Viewer, output_for};
use insitu_core::job::{Job, JobKind, JobStatus, MemberOutcome, Progress};
use insitu_core::ledger::{Movement, Party};
use insitu_core::meter::FailureReason;
use insitu_core::noise::Noise;
use insitu_core::output::{Money, PluginOutput, Scalar};
use insitu_core::package::{self, AggregateField, InstallMode, Manifest, PluginUse};
use insitu_core::pds::Pds;
use insitu_core::store::{KeyedRecord, PersonId, PluginRecord, Source, TimeRange, Value};
use insitu_core::study::{self, NewStudy, StudyError, Tally};
use insitu_testkit::now_ms;
use insitu_testkit::{pds_with_fee_scanner, pds_with_fee_scanner_on};

const DAY: i64 = 86_400_000;
const LAB: &str = "lab";

fn install(pds: &Pds, path: &str, edit: impl FnOnce(&mut Manifest)) -> PluginRecord {
    let mut m =
        Manifest::from_file(std::path::Path::new(insitu_plugins::manifest_for(path))).unwrap();
    edit(&mut m);
    let signed = package::pack_and_sign(
        &insitu_plugins::bytes(path),
        &m,
        &insitu_testkit::examples_key(),
    )
    .unwrap();
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
    member_granting(pds, name, uses, plugin, &[])
}

/// [`member`], with the grant narrowed by `without` (fields left out).
fn member_granting(pds: &Pds, name: &str, uses: u64, plugin: &str, without: &[&str]) -> PersonId {
    let p = pds.store.add_person(name).unwrap();
    let schema = pds.store.collection("usage.events").unwrap();
    let today = pds.store.now_ms() / DAY;
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
    let fields = schema
        .fields
        .iter()
        .map(|f| f.name.clone())
        .filter(|f| !without.contains(&f.as_str()))
        .collect();
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
            created_ms: pds.store.now_ms(),
            expires_ms: None,
            revoked_ms: None,
            origin: Some(insitu_core::consent::Origin {
                requester: LAB.into(),
                purpose: "studies".into(),
                request: 0,
            }),
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
    analytics_on(dir, Arc::new(SystemClock))
}

/// [`analytics`] on `clock` (a `ManualClock`, to read a study at its release time at once).
fn analytics_on(dir: &std::path::Path, clock: Arc<dyn Clock>) -> (Pds, PluginRecord) {
    let (pds, _) = pds_with_fee_scanner_on(dir, clock);
    let plugin = install(&pds, insitu_plugins::USAGE_ANALYTICS, |_| {});
    (pds, plugin)
}

/// Runs study `id` with seeded noise.
async fn run_seeded(pds: &Pds, id: u64, seed: u64) -> Job {
    study::run_with(&pds.runner, id, &Progress::default(), Noise::Seeded(seed))
        .await
        .unwrap()
}

fn set_policy(pds: &Pds, edit: impl FnOnce(&mut insitu_core::job::Policy)) {
    let mut p = pds.store.policy().unwrap();
    edit(&mut p);
    pds.store.set_policy(&p).unwrap();
}

#[tokio::test]
async fn a_release_is_noisy_bounded_charged_to_each_member_and_rewarded() {
    let dir = tempfile::tempdir().unwrap();
    let (pds, plugin) = analytics(dir.path());
    let store = pds.store.as_ref();
    // One heavy user far above the declared bound of 60 events.
    let mut people: Vec<PersonId> = (0..19)
        .map(|i| member(&pds, &format!("m{i}"), 5 + i, &plugin.digest))
        .collect();
    people.push(member(&pds, "heavy", 5_000, &plugin.digest));
    let job = study::open(store, new_study(&plugin.digest, 1.0, None)).unwrap();
    let job = run_seeded(&pds, job.id, 1).await;
    assert!(
        matches!(job.status, JobStatus::Released { .. }),
        "{:?}",
        job.status
    );
    let r = job.release.clone().unwrap();
    let m = plugin.manifest.clone().unwrap();
    assert_eq!(
        r.sensitivity,
        study::sensitivity(&m.aggregate, m.aggregate_l1)
    );
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
        .find(|x| x.person == people[19])
        .unwrap();
    let out = output_for(store, heavy.run, &Viewer::Person(people[19])).unwrap();
    let PluginOutput::Metrics { metrics } = out else {
        panic!("metrics expected")
    };
    let events = metrics.iter().find(|x| x.name == "events").unwrap();
    assert_eq!(events.value, Scalar::Integer(60));
    assert!(output_for(store, heavy.run, &Viewer::Requester(LAB.into())).is_err());
    assert!(output_for(store, heavy.run, &Viewer::Operator).is_err());
    // Budget charged to every member run, rewards recorded.
    let period = insitu_core::job::period_of(now_ms());
    for p in &people {
        assert_eq!(store.budget_spent(*p, &period).unwrap(), 1_000_000);
    }
    let rewards = store.billing(Some(job.id)).unwrap();
    assert_eq!(rewards.len(), people.len());
    assert!(
        rewards
            .iter()
            .all(|b| b.from == Party::Organisation(LAB.into())
                && b.movement == Movement::Reward
                && b.amount.minor == 50)
    );
    // The noise was drawn once: reading or releasing again gives the same numbers.
    let again = study::release(store, job.id, Noise::OpenDp).unwrap();
    assert_eq!(again.release, store.job(job.id).unwrap().release);
    assert_eq!(again.release.unwrap().values, r.values);
}

#[tokio::test]
async fn a_cohort_below_the_minimum_gets_nothing_and_still_spends_its_budget() {
    let dir = tempfile::tempdir().unwrap();
    let (pds, plugin) = analytics(dir.path());
    let store = pds.store.as_ref();
    let people: Vec<PersonId> = (0..3)
        .map(|i| member(&pds, &format!("m{i}"), 10, &plugin.digest))
        .collect();
    // The manifest's minimum (10) is a floor: asking for 3 gives 10.
    let job = study::open(store, new_study(&plugin.digest, 2.0, Some(3))).unwrap();
    let JobKind::Study(spec) = &job.kind else {
        panic!("a study")
    };
    assert_eq!(spec.min_cohort, 10);
    let job = run_seeded(&pds, job.id, 2).await;
    assert!(
        matches!(&job.status, JobStatus::Withheld { reason, .. } if reason.contains("minimum of 10")),
        "{:?}",
        job.status
    );
    assert!(job.release.is_none());
    // Whether a study is released is itself an answer about its members: it costs the same.
    for p in &people {
        assert_eq!(
            store
                .budget_spent(*p, &insitu_core::job::period_of(now_ms()))
                .unwrap(),
            2_000_000
        );
    }
    assert_eq!(store.billing(Some(job.id)).unwrap().len(), people.len());
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
async fn the_minimum_cohort_is_at_least_the_operators_k_floor() {
    let dir = tempfile::tempdir().unwrap();
    let (pds, _) = pds_with_fee_scanner(dir.path());
    // A manifest asking for a cohort of 1: a yes/no oracle on one member, were it obeyed.
    let alone = install(&pds, insitu_plugins::USAGE_ANALYTICS, |m| {
        m.output.min_cohort = Some(1)
    });
    let job = study::open(pds.store.as_ref(), new_study(&alone.digest, 1.0, Some(1))).unwrap();
    let JobKind::Study(spec) = &job.kind else {
        panic!("a study")
    };
    assert_eq!(spec.min_cohort, 5, "the operator's k floor");
    set_policy(&pds, |p| p.k_floor = 8);
    let job = study::open(pds.store.as_ref(), new_study(&alone.digest, 1.0, None)).unwrap();
    let JobKind::Study(spec) = &job.kind else {
        panic!("a study")
    };
    assert_eq!(spec.min_cohort, 8);
}

#[tokio::test]
async fn a_member_whose_budget_is_spent_is_not_run_again_that_month() {
    let dir = tempfile::tempdir().unwrap();
    let (pds, plugin) = analytics(dir.path());
    let store = pds.store.as_ref();
    let people: Vec<PersonId> = (0..30)
        .map(|i| member(&pds, &format!("m{i}"), 10, &plugin.digest))
        .collect();
    let first = study::open(store, new_study(&plugin.digest, 1.5, None)).unwrap();
    let first = run_seeded(&pds, first.id, 3).await;
    assert!(matches!(first.status, JobStatus::Released { .. }));
    // 1.5 spent of 2.0: a second release at 1.0 would exceed it for everyone.
    let second = study::open(store, new_study(&plugin.digest, 1.0, None)).unwrap();
    let runs_before = store.runs(None).unwrap().len();
    let second = run_seeded(&pds, second.id, 4).await;
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
                .budget_spent(*p, &insitu_core::job::period_of(now_ms()))
                .unwrap(),
            1_500_000
        );
    }
    // Each member's history says what was spent, and what could not be.
    let log = store.audit_log().unwrap();
    let mine = |reserved: bool, job: u64| {
        log.iter()
            .filter(|e| {
                matches!(e.event, insitu_core::audit::AuditEvent::BudgetReserved { person, reserved: r, job: j, .. }
                    if person == people[0] && r == reserved && j == job)
            })
            .count()
    };
    assert_eq!((mine(true, first.id), mine(false, second.id)), (1, 1));
}

/// Study members that also hold a campaign scanner's grant; four studies (ε 1 each) and two
/// campaigns (ε 0.5 each) started together against a monthly budget of 2: whatever the
/// interleaving, nobody spends more than 2, and every reservation the audit log shows is in
/// the budget.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_studies_and_campaigns_never_spend_more_than_the_monthly_budget() {
    let dir = tempfile::tempdir().unwrap();
    let (pds, analytics) = analytics(dir.path());
    let scanner = install(&pds, insitu_plugins::FEE_SCANNER, |_| {});
    outside::token(&pds, "ufc", Role::Organisation);
    outside::token(&pds, "clcv", Role::Organisation);
    set_policy(&pds, |p| {
        p.campaign_gap_days = 0;
        p.concurrency = 8;
    });
    let store = pds.store.clone();
    let people: Vec<PersonId> = (0..12)
        .map(|i| {
            let p = member(&pds, &format!("m{i}"), 10, &analytics.digest);
            // Each study's lab, and each campaign's initiator, obtained a grant.
            let g = store.grants(Some(p)).unwrap()[0].clone();
            for lab in 0..4 {
                store
                    .add_grant(Grant {
                        origin: Some(insitu_core::consent::Origin {
                            requester: format!("lab{lab}"),
                            purpose: "studies".into(),
                            request: 0,
                        }),
                        ..g.clone()
                    })
                    .unwrap();
            }
            insitu_testkit::grant_to(store.as_ref(), p, &scanner.digest, "ufc");
            insitu_testkit::grant_to(store.as_ref(), p, &scanner.digest, "clcv");
            p
        })
        .collect();
    let mut jobs = Vec::new();
    for i in 0..4 {
        let mut s = new_study(&analytics.digest, 1.0, None);
        s.owner = format!("lab{i}");
        jobs.push(study::open(store.as_ref(), s).unwrap().id);
    }
    for owner in ["ufc", "clcv"] {
        let c = insitu_core::campaign::NewCampaign {
            owner: owner.into(),
            description: "fees".into(),
            brand: "Agence Dupont".into(),
            association: "ufc".into(),
            plugin_digest: scanner.digest.clone(),
            params: vec![("rule".into(), Scalar::Text("micro-fees".into()))],
            k: None,
        };
        jobs.push(insitu_core::campaign::open(store.as_ref(), c).unwrap().id);
    }
    let pds = Arc::new(pds);
    let tasks: Vec<_> = jobs
        .iter()
        .enumerate()
        .map(|(n, id)| {
            let (pds, id) = (pds.clone(), *id);
            tokio::spawn(async move {
                let p = Progress::default();
                if n < 4 {
                    study::run(&pds.runner, id, &p).await.map(|_| ()).unwrap();
                } else {
                    insitu_core::campaign::scan(&pds.runner, id, &p)
                        .await
                        .map(|_| ())
                        .unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let period = insitu_core::job::period_of(now_ms());
    let mut refused = 0;
    for p in &people {
        let spent = store.budget_spent(*p, &period).unwrap();
        assert!(
            spent <= 2_000_000,
            "person {p} spent ε {}",
            spent as f64 / 1e6
        );
        let reserved: u64 = store
            .audit_log()
            .unwrap()
            .iter()
            .filter_map(|e| match e.event {
                insitu_core::audit::AuditEvent::BudgetReserved {
                    person,
                    epsilon_micro,
                    reserved: true,
                    ..
                } if person == *p => Some(epsilon_micro),
                _ => None,
            })
            .sum();
        assert_eq!(reserved, spent, "person {p}");
        let ran = jobs
            .iter()
            .filter(|j| {
                store
                    .members(**j)
                    .unwrap()
                    .iter()
                    .any(|m| m.person == *p && m.outcome != MemberOutcome::OverBudget)
            })
            .count();
        refused += jobs.len() - ran;
    }
    // 5 ε asked of each member, 2 available: most asks were refused.
    assert!(refused >= 3 * people.len(), "{refused} refusals");
}

/// The hostile plugin as a study plugin with one metric, `depth` in [0, 10].
fn hostile_study(pds: &Pds, metric: &str) -> PluginRecord {
    install(pds, insitu_plugins::HOSTILE, |m| {
        m.usage = PluginUse::Study;
        m.output.audience = insitu_core::package::Audience::Aggregate;
        m.output.min_cohort = Some(2);
        m.limits.fuel = Some(500_000_000);
        m.aggregate = vec![AggregateField {
            name: metric.into(),
            description: "test".into(),
            lower: 0,
            upper: 10,
        }];
        m.data[0].collection = "usage.events".into();
        m.data[0].fields = vec!["product".into()];
    })
}

fn recurse(digest: &str, epsilon: f64) -> NewStudy {
    let mut s = new_study(digest, epsilon, None);
    s.params = vec![
        ("behaviour".into(), Scalar::Text("recurse".into())),
        ("depth".into(), Scalar::Integer(5)),
    ];
    s
}

#[tokio::test]
async fn a_hostile_study_plugin_is_clipped_or_withheld_and_never_released_alone() {
    let dir = tempfile::tempdir().unwrap();
    let (pds, _) = pds_with_fee_scanner(dir.path());
    let store = pds.store.as_ref();
    let declared = hostile_study(&pds, "depth");
    let undeclared = hostile_study(&pds, "other");
    let people: Vec<PersonId> = (0..12)
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
    let job = study::open(store, recurse(&declared.digest, 0.5)).unwrap();
    let JobKind::Study(spec) = &job.kind else {
        panic!("a study")
    };
    assert_eq!(spec.min_cohort, 5, "the manifest's 2 is below the k floor");
    let job = run_seeded(&pds, job.id, 5).await;
    for m in store.members(job.id).unwrap() {
        assert_eq!(m.outcome, MemberOutcome::Contributed);
        let out = output_for(store, m.run, &Viewer::Person(m.person)).unwrap();
        assert_eq!(
            out,
            PluginOutput::Metrics {
                metrics: vec![insitu_core::output::Metric {
                    name: "depth".into(),
                    value: Scalar::Integer(10)
                }]
            }
        );
    }
    assert!(matches!(job.status, JobStatus::Released { .. }));
    // A metric the manifest does not declare, a loop and a memory bomb: each member's output
    // is withheld and the run fails cleanly, with its reason; the member stays in the cohort
    // with nothing, so a failure is not told apart from a zero.
    for (digest, behaviour, reason) in [
        (&undeclared.digest, "recurse", FailureReason::Contract),
        (&declared.digest, "loop", FailureReason::FuelExhausted),
        (&declared.digest, "memory", FailureReason::MemoryLimit),
    ] {
        let mut s = recurse(digest, 0.1);
        s.params[0].1 = Scalar::Text(behaviour.into());
        let job = study::open(store, s).unwrap();
        let job = run_seeded(&pds, job.id, 6).await;
        for m in store.members(job.id).unwrap() {
            assert_eq!(m.outcome, MemberOutcome::Failed { reason }, "{behaviour}");
        }
        let manifest = store.plugin(digest).unwrap().manifest.unwrap();
        let t = study::tally(store, &manifest.aggregate, &store.members(job.id).unwrap()).unwrap();
        assert_eq!(t.sums, vec![0], "{behaviour}");
        assert_eq!(t.cohort.len(), people.len(), "{behaviour}");
    }
    // A single run of a study plugin outside a study is withheld (aggregate only).
    let g = store.grants(Some(people[0])).unwrap()[0].clone();
    let run = pds
        .runner
        .run(insitu_core::run::RunRequest {
            person: people[0],
            grant: g.id,
            digest: g.plugin_digest.clone(),
            params: vec![("behaviour".into(), Scalar::Text("recurse".into()))],
            limits: None,
            requester: None,
            as_of: None,
        })
        .await
        .unwrap();
    assert!(run.output.is_none());
}

/// Everything the organisation can read of a study, at its release time, as JSON with times
/// relative to the study's opening.
async fn lab_view(pds: Arc<Pds>, clock: &ManualClock, job: u64) -> String {
    let store = pds.store.clone();
    let j = store.job(job).unwrap();
    let token = outside::token(&pds, LAB, Role::Organisation);
    let before = serde_json::json!({
        "state": j.state_shown(j.created_ms),
        "release": study::published(&j, j.release_ms - 1),
    });
    outside::until(clock, j.release_ms);
    let (status, api) = outside::get(pds, &token, &format!("/api/studies/{job}")).await;
    assert_eq!(status, 200, "{api}");
    let view = serde_json::json!({
        "before": before,
        "api": api,
        "release": study::published(&j, j.release_ms),
        "status": j.status,
        "billing": store.billing(Some(job)).unwrap(),
    });
    outside::relative_times(view, j.created_ms).to_string()
}

/// Two stores that differ only in one member, P: in the first, P's run fails (the study asks
/// for one product, and P's grant leaves the product out); in the second, it succeeds and
/// contributes nothing. Same study, same seed: the organisation's view (status, API answer,
/// release, rewards) is byte-identical, before and at the release time.
#[tokio::test]
async fn what_the_organisation_sees_of_a_study_is_identical_whether_a_members_run_fails_or_not() {
    let mut views = Vec::new();
    let mut outcomes = Vec::new();
    let opened = now_ms();
    for fails in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        // Both stores on the same frozen clock: their views are compared byte for byte.
        let clock = ManualClock::at(opened);
        let (pds, plugin) = analytics_on(dir.path(), clock.clone());
        set_policy(&pds, |p| {
            p.member_deadline_ms = 2_000;
            p.release_margin_ms = 0;
            p.concurrency = 16;
        });
        for i in 0..29 {
            member(&pds, &format!("m{i}"), 5 + i, &plugin.digest);
        }
        let without: &[&str] = if fails { &["product"] } else { &[] };
        let p = member_granting(&pds, "P", 0, &plugin.digest, without);
        let mut s = new_study(&plugin.digest, 1.0, None);
        s.params = vec![("product".into(), Scalar::Text("Thermo".into()))];
        let job = study::open(pds.store.as_ref(), s).unwrap();
        run_seeded(&pds, job.id, 11).await;
        let m = pds.store.members(job.id).unwrap();
        outcomes.push(m.iter().find(|m| m.person == p).unwrap().outcome.clone());
        views.push(lab_view(Arc::new(pds), &clock, job.id).await);
    }
    assert!(
        matches!(outcomes[0], MemberOutcome::Failed { .. }),
        "{outcomes:?}"
    );
    assert_eq!(outcomes[1], MemberOutcome::Contributed);
    assert_eq!(views[0], views[1]);
    assert!(views[0].contains("\"billing\":[{"), "{}", views[0]);
    assert!(views[0].contains("\"status\":\"released\""), "{}", views[0]);
}

/// A fixed cohort of 100 members, each contributing the top of the bound (the hostile plugin's
/// `depth`, clipped to 10), one study at ε 1.
async fn fixed_cohort(dir: &std::path::Path) -> (Pds, Job, Vec<AggregateField>, Tally) {
    let (pds, _) = pds_with_fee_scanner(dir);
    let plugin = hostile_study(&pds, "depth");
    for i in 0..100 {
        member(&pds, &format!("m{i}"), 1, &plugin.digest);
    }
    let job = study::open(pds.store.as_ref(), recurse(&plugin.digest, 1.0)).unwrap();
    let job = run_seeded(&pds, job.id, 7).await;
    let fields = plugin.manifest.unwrap().aggregate;
    let members = pds.store.members(job.id).unwrap();
    let t = study::tally(pds.store.as_ref(), &fields, &members).unwrap();
    (pds, job, fields, t)
}

/// The released vector (cohort, then sums); `None` when withheld.
fn released(job: &Job, fields: &[AggregateField], t: &Tally, noise: Noise) -> Option<Vec<i64>> {
    let r = study::publish(job, fields, None, t, noise).unwrap().ok()?;
    let mut v = vec![r.cohort as i64];
    v.extend(r.values.iter().map(|(_, x)| *x));
    Some(v)
}

/// `job` as if it spent `factor` times its ε: `factor` 2 is half the noise.
fn with_epsilon_times(job: &Job, factor: u64) -> Job {
    let mut j = job.clone();
    if let JobKind::Study(s) = &mut j.kind {
        s.epsilon_micro *= factor;
    }
    j
}

/// The real release path (tally, then `study::publish`, which calibrates the noise to the
/// manifest's bounds and the study's ε and draws it with OpenDP), run 20,000 times on a fixed
/// cohort: (release − exact) must have the standard deviation of discrete Laplace noise of
/// the published scales, within 5%, for the cohort and the sum; the release stored by
/// `study::run` is one such draw, and differs from the exact sums. Half the noise fails the
/// same check.
#[tokio::test]
async fn the_published_release_has_the_calibrated_spread() {
    let dir = tempfile::tempdir().unwrap();
    let (_pds, job, fields, t) = fixed_cohort(dir.path()).await;
    let exact = vec![t.cohort.len() as i64, t.sums[0]];
    assert_eq!(exact, vec![100, 1000]);
    let stored = job.release.clone().expect("released");
    assert_eq!(
        Some(vec![stored.cohort as i64, stored.values[0].1]),
        released(&job, &fields, &t, Noise::Seeded(7)),
        "the stored release is the release path's draw"
    );
    assert_ne!(stored.values[0].1, t.sums[0], "published the exact sum");
    let scales = [1.0 / 0.1, 10.0 / 0.9];
    assert!((stored.scale - scales[1]).abs() < 1e-9);
    let n = 20_000;
    // A draw whose noisy cohort falls below the minimum (about 1 in 30,000 at 100 members) is
    // withheld and drawn again.
    let mut real = || loop {
        if let Some(v) = released(&job, &fields, &t, Noise::OpenDp) {
            break v;
        }
    };
    let sd = outside::check_spread(n, &exact, &scales, 0.05, &mut real).unwrap();
    let mut seed = 0;
    let mut seeded = || loop {
        seed += 1;
        if let Some(v) = released(&job, &fields, &t, Noise::Seeded(seed)) {
            break v;
        }
    };
    let sd_seeded = outside::check_spread(n, &exact, &scales, 0.05, &mut seeded).unwrap();
    eprintln!(
        "study release: sd of (release − exact) {sd:.2?} with OpenDP, {sd_seeded:.2?} seeded; calibrated {:.2} and {:.2}",
        outside::laplace_sd(scales[0]),
        outside::laplace_sd(scales[1])
    );
    let half = with_epsilon_times(&job, 2);
    let mut half_noise = || loop {
        if let Some(v) = released(&half, &fields, &t, Noise::OpenDp) {
            break v;
        }
    };
    let err = outside::check_spread(n, &exact, &scales, 0.05, &mut half_noise).unwrap_err();
    eprintln!("half the noise: {err}");
    let mut none = || exact.clone();
    assert!(outside::check_spread(n, &exact, &scales, 0.05, &mut none).is_err());
}

/// Neighbouring cohorts D (the fixed cohort, the target included at the top of the bound: the
/// worst case) and D' (without the target), each released 20,000 times through the real
/// release path. The attacker knows every other member's value and the published scales,
/// and uses the best test against Laplace noise ([`outside::distinguish`]): its advantage
/// must stay within the ε-DP bound and every bin's probability ratio within e^ε. The same
/// attacker beats releases without noise and with half the noise.
#[tokio::test]
async fn no_single_member_can_be_recovered_from_a_release() {
    let dir = tempfile::tempdir().unwrap();
    let (_pds, job, fields, d) = fixed_cohort(dir.path()).await;
    let mut d2 = d.clone();
    d2.cohort.pop();
    d2.sums[0] -= 10;
    let with = vec![d.cohort.len() as i64, d.sums[0]];
    let without = vec![d2.cohort.len() as i64, d2.sums[0]];
    let scales = [1.0 / 0.1, 10.0 / 0.9];
    let n = 20_000;
    let mechanism = |j: &Job| {
        let (job, fields, d, d2) = (j.clone(), fields.clone(), d.clone(), d2.clone());
        move |in_: bool| {
            // A withheld release (rare at 100 members) shows as an empty cohort.
            released(&job, &fields, if in_ { &d } else { &d2 }, Noise::OpenDp).unwrap_or(vec![0, 0])
        }
    };
    let attack =
        outside::distinguish(n, &without, &with, &scales, 1.0, &mut mechanism(&job)).unwrap();
    eprintln!(
        "ε = 1: the attacker's advantage {:.3} (bound {:.3}), largest bin ratio {:.2} over {} bins (e^ε = {:.2})",
        attack.advantage,
        attack.bound,
        attack.ratio,
        attack.bins,
        1f64.exp()
    );
    let mut half = mechanism(&with_epsilon_times(&job, 2));
    let err = outside::distinguish(n, &without, &with, &scales, 1.0, &mut half).unwrap_err();
    eprintln!("half the noise: {err}");
    let mut exact = |in_: bool| if in_ { with.clone() } else { without.clone() };
    let err = outside::distinguish(n, &without, &with, &scales, 1.0, &mut exact).unwrap_err();
    eprintln!("no noise: {err}");
}

/// A member of a trend report: `skills` in `career.skills`, granted to `plugin` for the lab.
fn skilled_member(pds: &Pds, name: &str, skills: &[&str], plugin: &str) -> PersonId {
    let p = pds.store.add_person(name).unwrap();
    let schema = pds.store.collection("career.skills").unwrap();
    let recs: Vec<KeyedRecord> = skills
        .iter()
        .enumerate()
        .map(|(i, s)| KeyedRecord {
            id: i as u64 + 1,
            time: 1_700_000_000_000,
            values: schema
                .fields
                .iter()
                .map(|f| match f.name.as_str() {
                    "skill" => Value::Text((*s).into()),
                    _ => Value::Null,
                })
                .collect(),
        })
        .collect();
    pds.store
        .write_records(p, "career.skills", &recs, Source::File("linkedin"))
        .unwrap();
    pds.store
        .add_grant(Grant {
            id: 0,
            person: p,
            plugin_digest: plugin.into(),
            collections: vec![GrantedCollection {
                name: "career.skills".into(),
                fields: vec!["skill".into()],
            }],
            window: TimeRange::ALL,
            created_ms: pds.store.now_ms(),
            expires_ms: None,
            revoked_ms: None,
            origin: Some(insitu_core::consent::Origin {
                requester: LAB.into(),
                purpose: "trend reports".into(),
                request: 0,
            }),
        })
        .unwrap();
    p
}

/// The coaching scenario's second revenue line: a trend report on which occupation group
/// coaching suggests first, as a study. Each member's run is one-hot (checked member by
/// member); the manifest's `aggregate_l1` of 1 calibrates the noise to one member's single
/// vote (scale 1/0.9ε, not 22/0.9ε); the noisy counts land near the exact ones; ε is charged
/// and a reward recorded for every member.
#[tokio::test]
async fn a_trend_report_releases_noisy_counts_per_occupation_group_calibrated_to_one_member() {
    let dir = tempfile::tempdir().unwrap();
    let (pds, _) = pds_with_fee_scanner_on(dir.path(), Arc::new(SystemClock));
    let plugin = install(&pds, insitu_plugins::COACHING_TRENDS, |_| {});
    let store = pds.store.as_ref();
    let mut people = Vec::new();
    for i in 0..48 {
        let skills: &[&str] = if i % 3 == 0 {
            &["python", "statistics", "machine learning", "software"]
        } else {
            &["pharmacy", "prescriptions", "patient care", "biology"]
        };
        people.push(skilled_member(
            &pds,
            &format!("p{i}"),
            skills,
            &plugin.digest,
        ));
    }
    // No skill the catalogue knows: no suggestion, all zeros, and the run still succeeds.
    people.push(skilled_member(&pds, "blank", &["zzz"], &plugin.digest));
    let job = study::open(store, new_study(&plugin.digest, 1.0, Some(20))).unwrap();
    let job = run_seeded(&pds, job.id, 11).await;
    assert!(
        matches!(job.status, JobStatus::Released { .. }),
        "{:?}",
        job.status
    );
    let r = job.release.clone().unwrap();
    assert_eq!(r.sensitivity, 1);
    assert!((r.scale - 1.0 / 0.9).abs() < 1e-9, "{}", r.scale);
    let mut exact = std::collections::BTreeMap::<String, i64>::new();
    for m in store.members(job.id).unwrap() {
        let out = output_for(store, m.run, &Viewer::Person(m.person)).unwrap();
        let PluginOutput::Metrics { metrics } = out else {
            panic!("metrics expected")
        };
        let ones: i64 = metrics
            .iter()
            .map(|x| match x.value {
                Scalar::Integer(v) => v,
                _ => panic!("an integer metric"),
            })
            .sum();
        let blank = m.person == *people.last().unwrap();
        assert_eq!(
            ones,
            i64::from(!blank),
            "one-hot, or zeros without a suggestion"
        );
        for x in metrics {
            if let Scalar::Integer(v) = x.value {
                *exact.entry(x.name).or_default() += v;
            }
        }
    }
    assert_eq!(exact.values().sum::<i64>(), 48);
    assert!(exact.get("soc-29").copied().unwrap_or(0) >= 16, "{exact:?}");
    for (name, noisy) in &r.values {
        let e = exact.get(name).copied().unwrap_or(0);
        assert!((noisy - e).abs() <= 12, "{name}: {noisy} released for {e}");
    }
    let period = insitu_core::job::period_of(now_ms());
    for p in &people {
        assert_eq!(store.budget_spent(*p, &period).unwrap(), 1_000_000);
    }
    assert_eq!(store.billing(Some(job.id)).unwrap().len(), people.len());
}
