//! Campaigns: who is scanned, what each party sees (noisy counts from the release time,
//! identical whether a member's scan fails or not), the gap between campaigns, acceptances,
//! settlement, hostile scanners, a crash in the middle of a scan, and the differential-privacy
//! tests of the published counts.

use crate::common;
use crate::outside;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;

use insitu_core::account::{self, Role};
use insitu_core::audit::AuditEvent;
use insitu_core::campaign::{self, CampaignError, Count, NewCampaign};
use insitu_core::clock::{Clock, ManualClock, SystemClock};
use insitu_core::consent::{Grant, GrantedCollection};
use insitu_core::contract::{Viewer, output_for};
use insitu_core::job::{Answer, Job, JobStatus, Member, MemberOutcome, Progress};
use insitu_core::ledger::{Movement, Party};
use insitu_core::meter::FailureReason;
use insitu_core::noise::Noise;
use insitu_core::output::{Money, Scalar};
use insitu_core::package::{self, InstallMode, Manifest, OutputKind, PluginUse};
use insitu_core::pds::Pds;
use insitu_core::store::{KeyedRecord, PersonId, PluginRecord, Source, StoreError, Value};
use insitu_testkit::now_ms;
use insitu_testkit::{bank_record, pds_with_fee_scanner_on, signed};

const DAY: i64 = 86_400_000;
const ASSOCIATION: &str = "ufc";

fn eur(minor: i64) -> Money {
    Money {
        minor,
        currency: "EUR".into(),
    }
}

/// A store with fee-scanner installed and an association's account. Its policy makes
/// release times come within seconds (member runs within 2 s, 16 at once), and the counts'
/// noise negligible (ε 100 per campaign, of a budget of 1000), so that these tests can name
/// the counts; the noise itself is tested below, at the default ε.
fn world(dir: &std::path::Path) -> (Pds, PluginRecord) {
    world_on(dir, Arc::new(SystemClock))
}

/// [`world`] on `clock`: a test that reads a campaign at its release time moves a
/// `ManualClock` there instead of sleeping.
fn world_on(dir: &std::path::Path, clock: Arc<dyn Clock>) -> (Pds, PluginRecord) {
    setup(pds_with_fee_scanner_on(dir, clock))
}

/// [`world`] over `store` (one a second node may share).
fn world_over(
    dir: &std::path::Path,
    store: Arc<dyn insitu_core::store::Store>,
) -> (Pds, PluginRecord) {
    setup(insitu_testkit::pds_with_fee_scanner_over(dir, store))
}

fn setup((pds, scanner): (Pds, PluginRecord)) -> (Pds, PluginRecord) {
    // The association, two other consumer groups and the broker of `neighbourhood`.
    for org in [ASSOCIATION, "CLCV", "AFOC", "Data Broker Inc"] {
        account::create(
            pds.store.as_ref(),
            org,
            "a long enough password",
            Role::Organisation,
        )
        .unwrap();
    }
    set_policy(&pds, |p| {
        p.member_deadline_ms = 2_000;
        p.release_margin_ms = 0;
        p.concurrency = 16;
        p.epsilon_per_month_micro = 1_000_000_000;
        p.campaign_epsilon_micro = 100_000_000;
    });
    (pds, scanner)
}

fn set_policy(pds: &Pds, edit: impl FnOnce(&mut insitu_core::job::Policy)) {
    let mut p = pds.store.policy().unwrap();
    edit(&mut p);
    pds.store.set_policy(&p).unwrap();
}

/// The counts the initiator and the association see at the campaign's release time.
fn shown(store: &dyn insitu_core::store::Store, job: &Job) -> campaign::Counts {
    let job = store.job(job.id).unwrap();
    campaign::counts(store, &job, job.release_ms).unwrap()
}

/// A tenant with a year of rent; a victim is also charged 2.50 EUR notice fees, `fees` times.
fn tenant(pds: &Pds, name: &str, fees: usize) -> PersonId {
    let p = pds.store.add_person(name).unwrap();
    let start = now_ms() / DAY - 360;
    let mut recs = Vec::new();
    let mut push = |day: i64, minor: i64, label: &str| {
        recs.push(bank_record(
            recs.len() as u64 + 1,
            day * DAY,
            "FR76",
            minor,
            Some("Agence Dupont"),
            label,
        ))
    };
    for m in 0..12 {
        push(start + m * 30, -70_000, "PRLV LOYER");
    }
    for m in 0..fees as i64 {
        push(start + m * 30 + 2, -250, "FRAIS ENVOI QUITTANCE");
    }
    pds.store
        .write_records(p, "bank.transactions", &recs, Source::File("bank.ofx"))
        .unwrap();
    p
}

fn standing_grant(pds: &Pds, person: PersonId, digest: &str) -> Grant {
    let id = insitu_testkit::grant_to(pds.store.as_ref(), person, digest, ASSOCIATION);
    pds.store.grant(id).unwrap()
}

fn micro_fees(digest: &str, owner: &str, k: Option<u32>) -> NewCampaign {
    NewCampaign {
        owner: owner.into(),
        description: "notice fees".into(),
        brand: "Agence Dupont".into(),
        association: ASSOCIATION.into(),
        plugin_digest: digest.into(),
        params: vec![
            ("rule".into(), Scalar::Text("micro-fees".into())),
            ("pattern".into(), Scalar::Text("Agence Dupont".into())),
            ("max".into(), Scalar::Money(eur(2_000))),
        ],
        k,
    }
}

fn no_gap(pds: &Pds) {
    set_policy(pds, |p| p.campaign_gap_days = 0);
}

/// Twelve tenants: eight hold a grant given to the association (six of them victims), four do
/// not (two victims): two of those gave a grant for the scanner to another organisation, and
/// two made one for their own runs. A campaign must use none of those.
fn neighbourhood(pds: &Pds, scanner: &str) -> (Vec<PersonId>, Vec<PersonId>) {
    let mut granted = Vec::new();
    let mut others = Vec::new();
    for i in 0..12 {
        let victim = i % 4 != 3;
        let p = tenant(
            pds,
            &format!("tenant {i}"),
            if victim { 1 + i % 3 } else { 0 },
        );
        if i < 8 {
            standing_grant(pds, p, scanner);
            granted.push(p);
        } else {
            let store = pds.store.as_ref();
            if i % 2 == 0 {
                insitu_testkit::grant_to(store, p, scanner, "Data Broker Inc");
            } else {
                insitu_testkit::grant_for(store, p, scanner);
            }
            others.push(p);
        }
    }
    (granted, others)
}

#[tokio::test]
async fn only_granted_members_are_scanned_and_the_association_sees_only_counts_from_k() {
    let dir = tempfile::tempdir().unwrap();
    let (pds, scanner) = world(dir.path());
    let (granted, others) = neighbourhood(&pds, &scanner.digest);
    let store = pds.store.as_ref();
    let job = campaign::open(store, micro_fees(&scanner.digest, ASSOCIATION, None)).unwrap();
    let job = campaign::scan(&pds.runner, job.id, &Progress::default())
        .await
        .unwrap();
    assert!(matches!(job.status, JobStatus::Finished { .. }));

    let members = store.members(job.id).unwrap();
    let scanned: Vec<PersonId> = members.iter().map(|m| m.person).collect();
    assert_eq!(
        scanned, granted,
        "exactly the members with a grant given to the association"
    );
    // Member runs got their ids when the scan started, in target order, not in the order
    // they finished (which an organisation could read from the ids of its own runs).
    let mut ids: Vec<u64> = members.iter().map(|m| m.run).collect();
    let in_order = ids.clone();
    ids.sort_unstable();
    assert_eq!(ids, in_order);
    assert!(ids.windows(2).all(|w| w[1] == w[0] + 1), "{ids:?}");
    for p in &others {
        assert!(
            store.runs(Some(*p)).unwrap().is_empty(),
            "person {p} was touched"
        );
        assert!(
            !store
                .audit_log()
                .unwrap()
                .iter()
                .any(|e| matches!(e.event, AuditEvent::Run { person, .. } if person == *p)),
            "person {p} has a run in the audit log"
        );
    }
    let matched = members
        .iter()
        .filter(|m| matches!(m.outcome, MemberOutcome::Matched { .. }))
        .count();
    assert_eq!(matched, 6);

    let c = shown(store, &job);
    assert_eq!(c.scanned, Count::About(8));
    // Six matched, but only two did not: showing "6 of 8" would tell an initiator who knows
    // the eight which ones matched, so the matches are not shown.
    assert_eq!(c.matched, Count::Withheld);
    assert_eq!(c.accepted, 0);
    // Nobody's identity or finding reaches the association before an acceptance, and the
    // member runs' outputs are not theirs to read.
    assert!(
        campaign::claimants(store, &job, job.release_ms)
            .unwrap()
            .is_empty()
    );
    for m in &members {
        assert!(output_for(store, m.run, &Viewer::Requester(ASSOCIATION.into())).is_err());
        assert!(output_for(store, m.run, &Viewer::Operator).is_err());
        assert!(output_for(store, m.run, &Viewer::Person(m.person)).is_ok());
    }

    // The same scan with k = 7: six matches are shown as "fewer than 7".
    no_gap(&pds);
    let job = campaign::open(store, micro_fees(&scanner.digest, ASSOCIATION, Some(7))).unwrap();
    let job = campaign::scan(&pds.runner, job.id, &Progress::default())
        .await
        .unwrap();
    let c = shown(store, &job);
    assert_eq!(c.scanned, Count::About(8));
    assert_eq!(c.matched, Count::FewerThan(7));
}

/// Only an organisation opens a campaign, and it scans only the grants given to it: naming
/// the organisation that holds the grants as the association does not reach them.
#[tokio::test]
async fn a_campaign_scans_only_its_initiators_grants_and_only_an_organisation_opens_one() {
    let dir = tempfile::tempdir().unwrap();
    let (pds, scanner) = world(dir.path());
    let (granted, _) = neighbourhood(&pds, &scanner.digest);
    assert!(!granted.is_empty());
    let store = pds.store.as_ref();
    account::create(store, "eve", "a long enough password", Role::Person).unwrap();
    let err = campaign::open(store, micro_fees(&scanner.digest, "eve", None)).unwrap_err();
    assert!(
        matches!(&err, CampaignError::NotAnOrganisation(n) if n == "eve"),
        "{err}"
    );
    let err = campaign::open(store, micro_fees(&scanner.digest, "nobody", None)).unwrap_err();
    assert!(matches!(err, CampaignError::NotAnOrganisation(_)), "{err}");
    // CLCV holds no grant; it names the association, which holds eight.
    let job = campaign::open(store, micro_fees(&scanner.digest, "CLCV", None)).unwrap();
    let job = campaign::scan(&pds.runner, job.id, &Progress::default())
        .await
        .unwrap();
    assert!(store.members(job.id).unwrap().is_empty());
    for p in &granted {
        assert!(
            store.runs(Some(*p)).unwrap().is_empty(),
            "person {p} was run"
        );
    }
}

#[tokio::test]
async fn k_below_the_floor_a_campaign_too_soon_and_a_non_scanner_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (pds, scanner) = world(dir.path());
    let store = pds.store.as_ref();
    let err = campaign::open(store, micro_fees(&scanner.digest, "CLCV", Some(2))).unwrap_err();
    assert!(
        matches!(err, CampaignError::KBelowFloor { asked: 2, floor: 5 }),
        "{err}"
    );
    campaign::open(store, micro_fees(&scanner.digest, "CLCV", None)).unwrap();
    let err = campaign::open(store, micro_fees(&scanner.digest, "AFOC", None)).unwrap_err();
    assert!(matches!(err, CampaignError::TooSoon { .. }), "{err}");
    assert!(err.to_string().contains("single one out"), "{err}");
    let mut c = micro_fees(&scanner.digest, "AFOC", None);
    c.association = "nobody".into();
    no_gap(&pds);
    assert!(matches!(
        campaign::open(store, c).unwrap_err(),
        CampaignError::NoAssociation(_)
    ));
    let probe = installed(&pds, &signed(insitu_plugins::PROBE));
    let err = campaign::open(store, micro_fees(&probe.digest, "AFOC", None)).unwrap_err();
    assert!(matches!(err, CampaignError::NotAScanner(_)), "{err}");
    // Another spelling of an organisation's name finds it, and the campaign keeps the stored
    // names, the ones the members' grants are given to.
    let mut c = micro_fees(&scanner.digest, "clcv ", None);
    c.association = " UFC".into();
    let job = campaign::open(store, c).unwrap();
    assert!(
        matches!(&job.kind, insitu_core::job::JobKind::Campaign(s) if s.association == ASSOCIATION),
        "{:?}",
        job.kind
    );
    assert_eq!(job.owner, "CLCV");
}

#[tokio::test]
async fn a_member_releases_only_the_findings_they_choose_and_the_release_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    let (pds, scanner) = world(dir.path());
    let (granted, _) = neighbourhood(&pds, &scanner.digest);
    let store = pds.store.as_ref();
    let job = campaign::open(store, micro_fees(&scanner.digest, ASSOCIATION, None)).unwrap();
    campaign::scan(&pds.runner, job.id, &Progress::default())
        .await
        .unwrap();
    // tenant 2 was charged three times.
    let alice = granted[2];
    let inv = campaign::invitations(store, alice).unwrap();
    assert_eq!(inv.len(), 1);
    assert_eq!(inv[0].findings.len(), 3);
    assert!(inv[0].findings.iter().all(|f| f.loss == Some(eur(250))));
    // Each finding comes with the record it cites, read from her store with only the fields
    // her grant gave the scanner (not the account number).
    assert_eq!(inv[0].evidence.len(), 3);
    for (f, cited) in inv[0].findings.iter().zip(&inv[0].evidence) {
        assert_eq!(cited.len(), 1, "{cited:?}");
        assert_eq!(cited[0].id, f.evidence[0].id);
        let names: Vec<&str> = cited[0].fields.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["amount", "label", "counterparty"], "{cited:?}");
        assert!(
            cited[0]
                .fields
                .contains(&("counterparty".into(), "Agence Dupont".into()))
        );
    }
    // A member who did not match has no invitation, and cannot answer one.
    let clean = granted[3];
    assert!(campaign::invitations(store, clean).unwrap().is_empty());
    assert!(matches!(
        campaign::answer(store, job.id, clean, true, None),
        Err(CampaignError::Store(StoreError::NoInvitation { .. }))
    ));
    assert!(matches!(
        campaign::answer(store, job.id, alice, true, Some(&[5])),
        Err(CampaignError::NoFinding { index: 5, count: 3 })
    ));

    campaign::answer(store, job.id, alice, true, Some(&[1])).unwrap();
    let job = store.job(job.id).unwrap();
    // Before the release time the association sees no claimant, even one who accepted.
    assert!(
        campaign::claimants(store, &job, job.release_ms - 1)
            .unwrap()
            .is_empty()
    );
    let claimants = campaign::claimants(store, &job, job.release_ms).unwrap();
    assert_eq!(claimants.len(), 1);
    assert_eq!(claimants[0].person, alice);
    assert_eq!(claimants[0].findings, vec![inv[0].findings[1].clone()]);
    assert_eq!(claimants[0].loss, vec![eur(250)]);
    assert!(store.audit_log().unwrap().iter().any(|e| matches!(
        &e.event,
        AuditEvent::EvidenceReleased { job: j, person, findings: 1, association }
            if *j == job.id && *person == alice && association == ASSOCIATION
    )));
    assert!(matches!(
        campaign::answer(store, job.id, alice, false, None),
        Err(CampaignError::Store(StoreError::Answered { .. }))
    ));
    let bob = granted[1];
    campaign::answer(store, job.id, bob, false, None).unwrap();
    assert!(matches!(
        store.memberships(bob).unwrap()[0].answer,
        Some(Answer::Declined { .. })
    ));
    assert_eq!(
        campaign::claimants(store, &job, job.release_ms)
            .unwrap()
            .len(),
        1,
        "a refusal releases nothing"
    );
}

#[tokio::test]
async fn a_settlement_is_split_by_documented_loss_to_the_cent() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::at(now_ms());
    let (pds, scanner) = world_on(dir.path(), clock.clone());
    let (granted, _) = neighbourhood(&pds, &scanner.digest);
    let store = pds.store.as_ref();
    let job = campaign::open(store, micro_fees(&scanner.digest, ASSOCIATION, None)).unwrap();
    assert!(matches!(
        campaign::settle(store, job.id, eur(100_000), 500),
        Err(CampaignError::NotFinished(_))
    ));
    let job = campaign::scan(&pds.runner, job.id, &Progress::default())
        .await
        .unwrap();
    // Not before the release time: the payments would name who accepted.
    clock.set(job.release_ms - 1);
    assert!(matches!(
        campaign::settle(store, job.id, eur(100_000), 500),
        Err(CampaignError::NotFinished(_))
    ));
    outside::until(&clock, job.release_ms);
    assert!(matches!(
        campaign::settle(store, job.id, eur(100_000), 500),
        Err(CampaignError::NoneAccepted(_))
    ));
    // tenants 0, 1 and 2 lost 2.50, 5.00 and 7.50 EUR.
    for p in &granted[..3] {
        campaign::answer(store, job.id, *p, true, None).unwrap();
    }
    let split = campaign::settle(store, job.id, eur(100_001), 500).unwrap();
    assert_eq!(split.iter().map(|r| r.amount.minor).sum::<i64>(), 100_001);
    assert_eq!(split[0].to, Party::Operator);
    assert_eq!(split[0].amount, eur(10_000));
    assert_eq!(split[1].to, Party::Organisation(ASSOCIATION.into()));
    assert_eq!(split[1].amount, eur(5_000));
    let shares: Vec<i64> = split[2..].iter().map(|r| r.amount.minor).collect();
    // 85,001 cents in the ratio 1 : 2 : 3, the odd cent to the largest remainder.
    assert_eq!(shares, vec![14_167, 28_334, 42_500]);
    assert_eq!(split[2].to, Party::Person(granted[0]));
    assert!(
        split
            .iter()
            .all(|r| r.from == Party::Organisation("Agence Dupont".into())
                && r.movement == Movement::Settlement)
    );
    assert_eq!(store.billing(Some(job.id)).unwrap().len(), 5);
    assert!(matches!(
        campaign::settle(store, job.id, eur(1), 0),
        Err(CampaignError::Settled(_))
    ));
}

#[tokio::test]
async fn a_hostile_scanner_fails_each_member_run_cleanly_and_the_host_carries_on() {
    let dir = tempfile::tempdir().unwrap();
    let (pds, scanner) = world(dir.path());
    no_gap(&pds);
    // Runs end on their own limits here, not on the member deadline.
    set_policy(&pds, |p| p.member_deadline_ms = 30_000);
    let store = pds.store.as_ref();
    let mut m =
        Manifest::from_file(std::path::Path::new(insitu_plugins::HOSTILE_MANIFEST)).unwrap();
    m.usage = PluginUse::Campaign;
    m.output.kind = OutputKind::Findings;
    m.limits.fuel = Some(500_000_000);
    m.limits.memory_mib = Some(16);
    let key = insitu_testkit::examples_key();
    let hostile = package::install(
        store,
        pds.runner.sandbox(),
        &package::pack_and_sign(&insitu_plugins::bytes(insitu_plugins::HOSTILE), &m, &key).unwrap(),
        InstallMode::Verified,
    )
    .unwrap();
    let (granted, _) = neighbourhood(&pds, &scanner.digest);
    for p in &granted {
        standing_grant(&pds, *p, &hostile.digest);
    }
    let records_before: Vec<u64> = granted
        .iter()
        .map(|p| store.count(*p, "bank.transactions").unwrap())
        .collect();
    for (behaviour, reason) in [
        ("loop", FailureReason::FuelExhausted),
        ("memory", FailureReason::MemoryLimit),
        ("recurse", FailureReason::StackOverflow),
        ("panic", FailureReason::Trap),
        ("big-output", FailureReason::OutputTooLarge),
        // Reads of an ungranted collection and field are refused; the plugin gives up.
        ("snoop", FailureReason::PluginError),
        // Succeeds, but returns metrics where the contract says findings: withheld.
        ("log-flood", FailureReason::Contract),
    ] {
        let mut c = micro_fees(&hostile.digest, ASSOCIATION, None);
        c.params = vec![("behaviour".into(), Scalar::Text(behaviour.into()))];
        let job = campaign::open(store, c).unwrap();
        campaign::scan(&pds.runner, job.id, &Progress::default())
            .await
            .unwrap();
        let members = store.members(job.id).unwrap();
        assert_eq!(members.len(), granted.len(), "{behaviour}");
        for m in &members {
            assert_eq!(
                m.outcome,
                MemberOutcome::Failed { reason },
                "{behaviour}: {:?}",
                store.run(m.run).unwrap().outcome
            );
        }
        // A failed member counts as scanned and not matched: the failure tells nothing.
        let counts = shown(store, &job);
        assert_eq!(counts.scanned, Count::About(8), "{behaviour}");
        assert_eq!(counts.matched, Count::FewerThan(5), "{behaviour}");
        let job = store.job(job.id).unwrap();
        assert!(
            campaign::claimants(store, &job, job.release_ms)
                .unwrap()
                .is_empty()
        );
    }
    // Nothing was lost, and a real campaign still runs.
    let after: Vec<u64> = granted
        .iter()
        .map(|p| store.count(*p, "bank.transactions").unwrap())
        .collect();
    assert_eq!(after, records_before);
    let job = campaign::open(store, micro_fees(&scanner.digest, ASSOCIATION, None)).unwrap();
    campaign::scan(&pds.runner, job.id, &Progress::default())
        .await
        .unwrap();
    let c = shown(store, &job);
    assert_eq!(c.scanned, Count::About(8));
    assert_eq!(
        store
            .members(job.id)
            .unwrap()
            .iter()
            .filter(|m| matches!(m.outcome, MemberOutcome::Matched { .. }))
            .count(),
        6
    );
    insitu_core::audit::verify_all(store, None).unwrap();
}

#[tokio::test]
async fn erasing_a_member_removes_their_membership_and_invitation() {
    let dir = tempfile::tempdir().unwrap();
    let (pds, scanner) = world(dir.path());
    let (granted, _) = neighbourhood(&pds, &scanner.digest);
    let store = pds.store.as_ref();
    let job = campaign::open(store, micro_fees(&scanner.digest, ASSOCIATION, None)).unwrap();
    campaign::scan(&pds.runner, job.id, &Progress::default())
        .await
        .unwrap();
    store.erase_person(granted[0], now_ms()).unwrap();
    assert!(store.memberships(granted[0]).unwrap().is_empty());
    assert_eq!(store.members(job.id).unwrap().len(), granted.len() - 1);
}

/// `kill -9` in the middle of `insitu campaign scan`; the next scan resumes, and every member
/// ends up scanned once.
#[test]
fn a_scan_killed_midway_resumes_without_scanning_anyone_twice_or_losing_a_result() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let members = 1200;
    let job_id = {
        let (pds, scanner) = world(d);
        let mut p = pds.store.policy().unwrap();
        p.concurrency = 1;
        pds.store.set_policy(&p).unwrap();
        for i in 0..members {
            let t = tenant(&pds, &format!("t{i}"), if i % 3 == 0 { 2 } else { 0 });
            standing_grant(&pds, t, &scanner.digest);
        }
        campaign::open(
            pds.store.as_ref(),
            micro_fees(&scanner.digest, ASSOCIATION, None),
        )
        .unwrap()
        .id
    };
    let scan = || {
        Command::new(env!("CARGO_BIN_EXE_insitu"))
            .arg("--data-dir")
            .arg(d)
            .args(["campaign", "scan", &job_id.to_string()])
            .env("RUST_LOG", "insitu=debug")
            .stderr(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let mut child = scan();
    let mut acknowledged = 0u64;
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        if line.contains("members committed") {
            acknowledged = line
                .split("done=")
                .nth(1)
                .and_then(|s| s.split_whitespace().next())
                .unwrap()
                .parse()
                .unwrap();
            child.kill().unwrap();
            break;
        }
    }
    child.wait().unwrap();
    assert!(acknowledged > 0, "no batch was committed");
    {
        let pds = Pds::open(d).unwrap();
        let recorded = pds.store.members(job_id).unwrap().len() as u64;
        assert!(recorded >= acknowledged, "{recorded} < {acknowledged}");
        assert!(
            recorded < members,
            "the scan finished before the kill; the test proved nothing"
        );
    }
    let out = scan().wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("{members} members scanned, 400 matched")),
        "{stdout}"
    );
    let pds = Pds::open(d).unwrap();
    let store = pds.store.as_ref();
    assert_eq!(store.members(job_id).unwrap().len() as u64, members);
    let mut runs_per_person = std::collections::BTreeMap::new();
    for e in store.audit_log().unwrap() {
        if let AuditEvent::Run { person, job, .. } = e.event
            && job == Some(job_id)
        {
            *runs_per_person.entry(person).or_insert(0) += 1;
        }
    }
    assert_eq!(runs_per_person.len() as u64, members);
    assert!(
        runs_per_person.values().all(|n| *n == 1),
        "someone's scan was recorded twice"
    );
    // Reads, not only results: every member's data was claimed for reading before each read,
    // the killed process's uncommitted runs included (attempts 1, 2, … in order).
    let claims = claims_by_person(store, job_id);
    assert_eq!(claims.len() as u64, members, "a member was read unaudited");
    assert!(
        claims
            .values()
            .all(|a| *a == (1..=a.len() as u32).collect::<Vec<_>>()),
        "{claims:?}"
    );
    let job_runs = store
        .runs(None)
        .unwrap()
        .into_iter()
        .filter(|r| r.job == Some(job_id))
        .count() as u64;
    assert_eq!(job_runs, members);
    insitu_core::audit::verify_all(store, None).unwrap();
}

/// The attempts of each member run claimed for `job`, by person, in the audit's order.
fn claims_by_person(
    store: &dyn insitu_core::store::Store,
    job_id: u64,
) -> std::collections::BTreeMap<PersonId, Vec<u32>> {
    let mut claims = std::collections::BTreeMap::<PersonId, Vec<u32>>::new();
    for e in store.audit_log().unwrap() {
        if let AuditEvent::MemberRunClaimed {
            job,
            person,
            attempt,
            ..
        } = e.event
            && job == job_id
        {
            claims.entry(person).or_default().push(attempt);
        }
    }
    claims
}

/// Two nodes (two PDS processes' worth: their own sandboxes, runners and data directories)
/// over one PostgreSQL store, on one clock: a campaign started on both is shared between them
/// through its work queue, and every member is recorded once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_over_postgres_share_a_campaign_and_record_each_member_once() {
    let (schemas, clock, a, b, scanner) = two_nodes("share");
    set_policy(&a.0, |p| p.concurrency = 3);
    let members = 30;
    for i in 0..members {
        let t = tenant(&a.0, &format!("t{i}"), i % 3);
        standing_grant(&a.0, t, &scanner.digest);
    }
    let job = campaign::open(
        a.0.store.as_ref(),
        micro_fees(&scanner.digest, ASSOCIATION, None),
    )
    .unwrap();
    // Node B compiles the scanner first, as node A did when it installed it: a node compiles
    // before it claims anything, and 30 members are done before a cold node has compiled.
    b.0.runner.sandbox().load(&scanner.digest).unwrap();
    let (pa, pb) = (Progress::default(), Progress::default());
    let (ra, rb) = tokio::join!(
        campaign::scan(&a.0.runner, job.id, &pa),
        campaign::scan(&b.0.runner, job.id, &pb)
    );
    let (ja, jb) = (ra.unwrap(), rb.unwrap());
    assert_eq!(ja, jb, "the nodes disagree on the closed campaign");
    assert!(
        matches!(ja.status, JobStatus::Finished { .. }),
        "{:?}",
        ja.status
    );
    let store = a.0.store.as_ref();
    let recorded = store.members(job.id).unwrap();
    assert_eq!(recorded.len(), members);
    let load = |a: &std::sync::atomic::AtomicU64| a.load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(
        (load(&pa.done), load(&pb.done)),
        (members as u64, members as u64),
        "each node sees the whole job done"
    );
    let (ran_a, ran_b) = (load(&pa.ran), load(&pb.ran));
    assert_eq!(ran_a + ran_b, members as u64, "a member ran twice");
    assert!(
        ran_a > 0 && ran_b > 0,
        "one node did all the work: {ran_a} + {ran_b}"
    );
    let claims = claims_by_person(store, job.id);
    assert_eq!(claims.len(), members);
    assert!(claims.values().all(|a| a == &[1]), "{claims:?}");
    let runs: Vec<_> = store
        .runs(None)
        .unwrap()
        .into_iter()
        .filter(|r| r.job == Some(job.id))
        .collect();
    assert_eq!(runs.len(), members, "a member's run was stored twice");
    assert!(store.posted(&format!("job-runs:{}", job.id)).unwrap());
    insitu_core::audit::verify_all(store, None).unwrap();
    drop((clock, schemas));
}

/// A node that dies in the middle of a campaign (its task aborted: its runs' results never
/// committed, its leases no longer renewed) loses nothing: once its leases run out, the other
/// node runs those members again, each read audited again (attempt 2), and records every
/// member once, with ε reserved and the runs billed once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_dies_mid_campaign_leaves_its_members_to_another_audited_twice_recorded_once() {
    let (schemas, clock, a, b, scanner) = two_nodes("dies");
    set_policy(&a.0, |p| p.concurrency = 4);
    let members = 12;
    let mut people = Vec::new();
    for i in 0..members {
        let t = tenant(&a.0, &format!("t{i}"), i % 2);
        standing_grant(&a.0, t, &scanner.digest);
        people.push(t);
    }
    let job = campaign::open(
        a.0.store.as_ref(),
        micro_fees(&scanner.digest, ASSOCIATION, None),
    )
    .unwrap();
    let store = a.0.store.clone();
    let runner = a.0.runner.clone();
    let dying =
        tokio::spawn(async move { campaign::scan(&runner, job.id, &Progress::default()).await });
    // Node A dies as soon as it has claimed members, before its first batch commits (a batch
    // waits 250 ms for company).
    let t0 = std::time::Instant::now();
    while claims_by_person(store.as_ref(), job.id).is_empty() {
        assert!(
            t0.elapsed() < std::time::Duration::from_secs(30),
            "node A claimed nothing"
        );
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    dying.abort();
    let _ = dying.await;
    // Aborting the task does not stop a store call already on its way (a claim ahead runs
    // on the store's own threads, as a commit in flight when a process dies still lands):
    // node A's claims are what the audit holds once it stops changing.
    let mut lost = claims_by_person(store.as_ref(), job.id);
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let now = claims_by_person(store.as_ref(), job.id);
        if now == lost {
            break;
        }
        assert!(
            t0.elapsed() < std::time::Duration::from_secs(30),
            "node A's claims never settled"
        );
        lost = now;
    }
    assert!(
        store.members(job.id).unwrap().is_empty(),
        "node A committed before it died; the test proved nothing"
    );
    // Its leases run out.
    clock.advance(insitu_core::job::LEASE.as_millis() as i64 + 1);
    let done = campaign::scan(&b.0.runner, job.id, &Progress::default())
        .await
        .unwrap();
    assert!(
        matches!(done.status, JobStatus::Finished { .. }),
        "{:?}",
        done.status
    );
    assert_eq!(store.members(job.id).unwrap().len(), members);
    let claims = claims_by_person(store.as_ref(), job.id);
    assert_eq!(claims.len(), members);
    for (person, attempts) in &claims {
        let want: Vec<u32> = if lost.contains_key(person) {
            vec![1, 2]
        } else {
            vec![1]
        };
        assert_eq!(attempts, &want, "person {person}'s reads");
    }
    let runs = store
        .runs(None)
        .unwrap()
        .into_iter()
        .filter(|r| r.job == Some(job.id))
        .count();
    assert_eq!(runs, members, "a member's run was stored twice");
    let mut reserved = std::collections::BTreeMap::<PersonId, u32>::new();
    for e in store.audit_log().unwrap() {
        if let AuditEvent::BudgetReserved {
            job: j,
            person,
            reserved: true,
            ..
        } = e.event
            && j == job.id
        {
            *reserved.entry(person).or_default() += 1;
        }
    }
    assert_eq!(reserved.len(), members);
    assert!(
        reserved.values().all(|n| *n == 1),
        "ε charged twice: {reserved:?}"
    );
    insitu_core::audit::verify_all(store.as_ref(), None).unwrap();
    drop(schemas);
}

/// Node A (the campaign world: fee-scanner installed, the association's account, a fast
/// policy) and node B, each with its own data directory, over one fresh PostgreSQL schema on
/// one `ManualClock`.
#[allow(clippy::type_complexity)]
fn two_nodes(
    name: &str,
) -> (
    insitu_store_pg::testing::Schemas,
    Arc<ManualClock>,
    (Pds, tempfile::TempDir),
    (Pds, tempfile::TempDir),
    PluginRecord,
) {
    let schemas = insitu_store_pg::testing::Schemas::new(name);
    let schema = schemas.fresh();
    let clock = ManualClock::at(now_ms());
    let open = |clock: Arc<ManualClock>| -> Arc<dyn insitu_core::store::Store> {
        Arc::new(insitu_store_pg::testing::connect(&schema, clock))
    };
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, scanner) = world_over(da.path(), open(clock.clone()));
    let b = Pds::builder(db.path())
        .store(open(clock.clone()))
        .open()
        .unwrap();
    (schemas, clock, (a, da), (b, db), scanner)
}

fn grant_all(pds: &Pds, person: PersonId, digest: &str, collection: &str) {
    let fields = pds
        .store
        .collection(collection)
        .unwrap()
        .fields
        .iter()
        .map(|f| f.name.clone())
        .collect();
    pds.store
        .add_grant(Grant {
            collections: vec![GrantedCollection {
                name: collection.into(),
                fields,
            }],
            ..standing_grant(pds, person, digest)
        })
        .unwrap();
}

#[tokio::test]
async fn shelf_price_and_short_weight_scanners_find_their_victims_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let (pds, _) = world(dir.path());
    no_gap(&pds);
    let store = pds.store.as_ref();
    let shelf = installed(&pds, &signed(insitu_plugins::SHELF_PRICE));
    let weight = installed(&pds, &signed(insitu_plugins::SHORT_WEIGHT));
    let t = now_ms() - 10 * DAY;
    let money = |minor| Value::Money {
        minor,
        currency: "EUR".into(),
    };
    let mut shoppers = Vec::new();
    for i in 0..6i64 {
        let p = store.add_person(&format!("shopper {i}")).unwrap();
        // Coffee rang up at 3.89 (victims) or 3.69 (the shelf price), two packs each.
        let till = if i < 5 { 389 } else { 369 };
        common::write_named(
            pds.store.as_ref(),
            p,
            "receipts.items",
            &[vec![
                ("shop", Value::Text("Carrefour Market Lyon 3".into())),
                ("date", Value::Timestamp(t + i)),
                ("product", Value::Text("Café moulu 250 g".into())),
                ("barcode", Value::Text("3017620422003".into())),
                ("quantity", Value::Float(2.0)),
                ("unit", Value::Text("piece".into())),
                ("unit_price", money(till)),
                ("total", money(2 * till)),
            ]],
        );
        // Packs declared 250 g: measured 238 g (victims) or 249 g (within the 9 g tolerance).
        let measured = if i < 5 { 238.0 } else { 249.0 };
        common::write_named(
            pds.store.as_ref(),
            p,
            "purchases.products",
            &[vec![
                ("recorded", Value::Timestamp(t + i)),
                ("product", Value::Text("Café moulu 250 g".into())),
                ("barcode", Value::Text("3017620422003".into())),
                ("declared_quantity", Value::Float(250.0)),
                ("unit", Value::Text("g".into())),
                ("measured_quantity", Value::Float(measured)),
            ]],
        );
        grant_all(&pds, p, &shelf.digest, "receipts.items");
        grant_all(&pds, p, &weight.digest, "purchases.products");
        shoppers.push(p);
    }
    for (plugin, params, loss) in [
        (
            &shelf,
            vec![(
                "prices".to_string(),
                Scalar::Text("3017620422003=3.69 EUR".into()),
            )],
            eur(40),
        ),
        (
            &weight,
            vec![(
                "prices".to_string(),
                Scalar::Text("3017620422003=3.75 EUR".into()),
            )],
            // 12 g of 250 g at 3.75 EUR: 0.18 EUR.
            eur(18),
        ),
    ] {
        let mut c = micro_fees(&plugin.digest, ASSOCIATION, None);
        c.params = params;
        let job = campaign::open(store, c).unwrap();
        let job = campaign::scan(&pds.runner, job.id, &Progress::default())
            .await
            .unwrap();
        let counts = shown(store, &job);
        assert_eq!(counts.scanned, Count::About(6), "{}", plugin.name);
        // Five of six matched: fewer than k did not, so the matches are not shown.
        assert_eq!(counts.matched, Count::Withheld, "{}", plugin.name);
        let matched = store
            .members(job.id)
            .unwrap()
            .iter()
            .filter(|m| matches!(m.outcome, MemberOutcome::Matched { .. }))
            .count();
        assert_eq!(matched, 5, "{}", plugin.name);
        let inv = campaign::invitations(store, shoppers[0]).unwrap();
        let inv = inv.iter().find(|i| i.job == job.id).unwrap();
        assert_eq!(inv.findings.len(), 1);
        assert_eq!(inv.findings[0].loss, Some(loss), "{}", plugin.name);
        assert!(
            campaign::invitations(store, shoppers[5])
                .unwrap()
                .iter()
                .all(|i| i.job != job.id),
            "the shopper charged the shelf price is not invited"
        );
    }
}

#[tokio::test]
async fn counts_are_not_shown_while_the_scan_runs() {
    let dir = tempfile::tempdir().unwrap();
    let (pds, scanner) = world(dir.path());
    neighbourhood(&pds, &scanner.digest);
    let store = pds.store.as_ref();
    let job = campaign::open(store, micro_fees(&scanner.digest, ASSOCIATION, None)).unwrap();
    // Before the scan finishes, nothing is shown: each new result would single a member out.
    let c = campaign::counts(store, &job, job.release_ms).unwrap();
    assert_eq!((c.scanned, c.matched), (Count::Withheld, Count::Withheld));
    let job = campaign::scan(&pds.runner, job.id, &Progress::default())
        .await
        .unwrap();
    // Nor after, before the release time.
    let c = campaign::counts(store, &job, job.release_ms - 1).unwrap();
    assert_eq!((c.scanned, c.matched), (Count::Withheld, Count::Withheld));
    assert_eq!(job.state_shown(job.release_ms - 1), "scheduled");
    assert_eq!(shown(store, &job).scanned, Count::About(8));
    // A finished campaign is not reopened by a stale scan, nor settled twice.
    let mut stale = job.clone();
    stale.status = JobStatus::Finished { at_ms: 0 };
    assert!(matches!(
        store.close_job(&stale, vec![], &[], ""),
        Err(StoreError::JobClosed(_))
    ));
}

/// fee-scanner packed again as another version (same id and publisher, another digest).
fn republished(pds: &Pds, version: &str) -> PluginRecord {
    let mut m =
        Manifest::from_file(std::path::Path::new(insitu_plugins::FEE_SCANNER_MANIFEST)).unwrap();
    m.version = version.into();
    let signed = package::pack_and_sign(
        &insitu_plugins::bytes(insitu_plugins::FEE_SCANNER),
        &m,
        &insitu_testkit::examples_key(),
    )
    .unwrap();
    installed(pds, &signed)
}

/// Installs a signed package.
fn installed(pds: &Pds, signed: &[u8]) -> PluginRecord {
    package::install(
        pds.store.as_ref(),
        pds.runner.sandbox(),
        signed,
        InstallMode::Verified,
    )
    .unwrap()
}

#[tokio::test]
async fn a_republished_scanner_and_the_same_initiator_wait_the_gap() {
    let dir = tempfile::tempdir().unwrap();
    let (pds, scanner) = world(dir.path());
    let store = pds.store.as_ref();
    let other_version = republished(&pds, "0.1.1");
    assert_ne!(other_version.digest, scanner.digest);
    let shelf = installed(&pds, &signed(insitu_plugins::SHELF_PRICE));
    campaign::open(store, micro_fees(&scanner.digest, "CLCV", None)).unwrap();
    // Another initiator, the same scanner under another digest: too soon.
    let err = campaign::open(store, micro_fees(&other_version.digest, "AFOC", None)).unwrap_err();
    assert!(
        matches!(&err, CampaignError::TooSoon { scanner, .. } if scanner == "fee-scanner"),
        "{err}"
    );
    // The same initiator, another scanner: too soon.
    let err = campaign::open(store, micro_fees(&shelf.digest, "CLCV", None)).unwrap_err();
    assert!(matches!(err, CampaignError::TooSoon { .. }), "{err}");
    // Another initiator, another scanner: fine.
    campaign::open(store, micro_fees(&shelf.digest, "AFOC", None)).unwrap();
}

/// Everything the association can read of a campaign (its state before the release time, the
/// API's answer at it, the counts, claimants and billing records), as JSON with times
/// relative to the campaign's opening.
async fn association_view(pds: Arc<Pds>, clock: &ManualClock, job: u64) -> String {
    let store = pds.store.clone();
    let j = store.job(job).unwrap();
    let token = outside::token(&pds, ASSOCIATION, Role::Organisation);
    let before = serde_json::json!({
        "state": j.state_shown(j.release_ms - 1),
        "counts": campaign::counts(store.as_ref(), &j, j.release_ms - 1).unwrap(),
        "claimants": campaign::claimants(store.as_ref(), &j, j.release_ms - 1).unwrap(),
    });
    outside::until(clock, j.release_ms);
    let path = format!("/api/campaigns/{job}");
    let (status, api) = outside::get(pds.clone(), &token, &path).await;
    assert_eq!(status, 200, "{api}");
    let (_, claimants) = outside::get(pds, &token, &format!("{path}/claimants")).await;
    let view = serde_json::json!({
        "before": before,
        "api": api,
        "claimants": claimants,
        "counts": campaign::counts(store.as_ref(), &j, j.release_ms).unwrap(),
        "status": j.status,
        "billing": store.billing(Some(job)).unwrap(),
    });
    outside::relative_times(view, j.created_ms).to_string()
}

/// Two stores that differ only in one member P's data: in the first, P was charged 600 notice
/// fees with long labels, so many findings that the scanner's output is over its size cap and
/// P's run fails; in the second, P was charged none and the scan succeeds without a match. The same campaign,
/// the same seed: what the association sees is byte-identical, before and at the release
/// time. (P matching or not is the bit the noisy count protects: see the DP tests below.)
#[tokio::test]
async fn what_the_organisation_sees_of_a_campaign_is_identical_whether_a_members_scan_fails_or_not()
{
    let mut views = Vec::new();
    let mut outcomes = Vec::new();
    let opened = now_ms();
    for fees in [600, 0] {
        let dir = tempfile::tempdir().unwrap();
        // Both stores on the same frozen clock: their views are compared byte for byte.
        let clock = ManualClock::at(opened);
        let (pds, scanner) = world_on(dir.path(), clock.clone());
        set_policy(&pds, |p| {
            p.epsilon_per_month_micro = 2_000_000;
            p.campaign_epsilon_micro = 500_000;
        });
        neighbourhood(&pds, &scanner.digest);
        let p = tenant(&pds, "P", 0);
        let start = now_ms() / DAY - 300;
        let extra: Vec<KeyedRecord> = (0..fees)
            .map(|n| KeyedRecord {
                // Booked on the day; stored a millisecond apart.
                time: (start + n as i64 % 290) * DAY + n as i64,
                ..bank_record(
                    1_000 + n as u64,
                    (start + n as i64 % 290) * DAY,
                    "FR76",
                    -250,
                    Some("Agence Dupont"),
                    &format!("FRAIS ENVOI QUITTANCE {n:04} {}", "X".repeat(600)),
                )
            })
            .collect();
        pds.store
            .write_records(p, "bank.transactions", &extra, Source::File("more.ofx"))
            .unwrap();
        standing_grant(&pds, p, &scanner.digest);
        let job = campaign::open(
            pds.store.as_ref(),
            micro_fees(&scanner.digest, ASSOCIATION, None),
        )
        .unwrap();
        campaign::scan_with(&pds.runner, job.id, &Progress::default(), Noise::Seeded(3))
            .await
            .unwrap();
        let m = pds.store.members(job.id).unwrap();
        outcomes.push(m.iter().find(|m| m.person == p).unwrap().outcome.clone());
        views.push(association_view(Arc::new(pds), &clock, job.id).await);
    }
    assert!(
        matches!(outcomes[0], MemberOutcome::Failed { .. }),
        "{outcomes:?}"
    );
    assert_eq!(outcomes[1], MemberOutcome::NoMatch);
    assert_eq!(views[0], views[1]);
    assert!(
        views[0].contains("\"scanned\":{\"shown\":\"about\""),
        "{}",
        views[0]
    );
}

/// Through the API: before the release time the association sees the campaign scheduled,
/// with its opening and release times and nothing else, even once every member is scanned;
/// the member sees their invitation as soon as their result is committed.
#[tokio::test]
async fn nothing_of_a_campaign_is_shown_before_its_release_time_but_the_member_sees_their_invitation_at_once()
 {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::at(now_ms());
    let (pds, scanner) = world_on(dir.path(), clock.clone());
    let (granted, _) = neighbourhood(&pds, &scanner.digest);
    set_policy(&pds, |p| p.release_margin_ms = 3_000);
    let pds = Arc::new(pds);
    let ufc = outside::token(&pds, ASSOCIATION, Role::Organisation);
    let job = campaign::open(
        pds.store.as_ref(),
        micro_fees(&scanner.digest, ASSOCIATION, None),
    )
    .unwrap();
    // ⌈8 members / 16 at once⌉ × (2 s + 0.25 s) + 3 s.
    assert_eq!(job.release_ms - job.created_ms, 2_250 + 3_000);
    let path = format!("/api/campaigns/{}", job.id);
    let scheduled = |v: &serde_json::Value| {
        assert_eq!(v["status"], "scheduled", "{v}");
        assert_eq!(v["progress"], serde_json::Value::Null, "{v}");
        assert_eq!(
            v["counts"]["scanned"],
            serde_json::json!({"shown": "withheld"})
        );
        assert_eq!(v["counts"]["accepted"], 0);
        assert_eq!(v["release_ms"], job.release_ms);
        assert_eq!(v["opened_ms"], job.created_ms);
    };
    scheduled(&outside::get(pds.clone(), &ufc, &path).await.1);
    campaign::scan(&pds.runner, job.id, &Progress::default())
        .await
        .unwrap();
    // The member's inbox (what `GET /api/invitations` answers them) has it at once.
    let victim = granted[2];
    assert_eq!(
        campaign::invitations(pds.store.as_ref(), victim)
            .unwrap()
            .len(),
        1
    );
    campaign::answer(pds.store.as_ref(), job.id, victim, true, None).unwrap();
    // A millisecond before the release time, every member scanned and one accepted: still
    // scheduled, and no claimant.
    outside::until(&clock, job.release_ms - 1);
    let (_, v) = outside::get(pds.clone(), &ufc, &path).await;
    scheduled(&v);
    let (_, c) = outside::get(pds.clone(), &ufc, &format!("{path}/claimants")).await;
    assert_eq!(
        c,
        serde_json::json!([]),
        "an acceptance shows before the release time"
    );
    outside::until(&clock, job.release_ms);
    let (_, v) = outside::get(pds.clone(), &ufc, &path).await;
    assert_eq!(v["status"], "finished", "{v}");
    assert_eq!(
        v["counts"]["scanned"],
        serde_json::json!({"shown": "about", "value": 8})
    );
    assert_eq!(v["counts"]["accepted"], 1);
    let (_, c) = outside::get(pds.clone(), &ufc, &format!("{path}/claimants")).await;
    assert_eq!(c.as_array().map(Vec::len), Some(1), "{c}");
}

/// A finished campaign at the default ε (0.5), for the DP tests: its members and exact counts.
async fn fixed_campaign(dir: &std::path::Path) -> (Pds, Job, Vec<Member>) {
    let (pds, scanner) = world(dir);
    set_policy(&pds, |p| {
        p.epsilon_per_month_micro = 2_000_000;
        p.campaign_epsilon_micro = 500_000;
    });
    neighbourhood(&pds, &scanner.digest);
    let job = campaign::open(
        pds.store.as_ref(),
        micro_fees(&scanner.digest, ASSOCIATION, None),
    )
    .unwrap();
    let job = campaign::scan_with(&pds.runner, job.id, &Progress::default(), Noise::Seeded(9))
        .await
        .unwrap();
    let members = pds.store.members(job.id).unwrap();
    (pds, job, members)
}

fn noisy_counts(job: &Job, members: &[Member], noise: Noise) -> Vec<i64> {
    let c = campaign::draw_counts(job, members, noise).unwrap();
    vec![c.scanned, c.matched]
}

/// `job` as if it spent twice its ε: half the noise.
fn half_noise(job: &Job) -> Job {
    let mut j = job.clone();
    if let insitu_core::job::JobKind::Campaign(c) = &mut j.kind {
        c.epsilon_micro *= 2;
    }
    j
}

/// The real path of a campaign's counts (`campaign::draw_counts`, which `scan` stores), run
/// 20,000 times on a fixed campaign: (count − exact) has the standard deviation of discrete
/// Laplace noise of scale 2 / ε = 4 within 5%; the stored counts are one such draw, drawn
/// once (re-reading gives the same numbers) and different from the exact ones. Then the
/// attacker who knows every other member tries to tell whether a matched member is in: within
/// the ε-DP bounds for the real mechanism; beaten without noise and with half of it.
#[tokio::test]
async fn the_published_counts_have_the_calibrated_spread_and_hide_one_member() {
    let dir = tempfile::tempdir().unwrap();
    let (pds, job, members) = fixed_campaign(dir.path()).await;
    let (scanned, matched) = campaign::exact_counts(&members);
    let exact = vec![scanned as i64, matched as i64];
    assert_eq!(exact, vec![8, 6]);
    let stored = job.counts.clone().expect("counts drawn");
    assert_eq!(
        vec![stored.scanned, stored.matched],
        noisy_counts(&job, &members, Noise::Seeded(9))
    );
    assert_ne!(
        vec![stored.scanned, stored.matched],
        exact,
        "published the exact counts"
    );
    assert_eq!(stored.scale, 4.0);
    let store = pds.store.as_ref();
    let first = campaign::counts(store, &job, job.release_ms).unwrap();
    let again = campaign::counts(store, &store.job(job.id).unwrap(), job.release_ms + 1).unwrap();
    assert_eq!(first, again, "re-reading the counts draws no new noise");

    let n = 20_000;
    let scales = [4.0, 4.0];
    let mut real = || noisy_counts(&job, &members, Noise::OpenDp);
    let sd = outside::check_spread(n, &exact, &scales, 0.05, &mut real).unwrap();
    eprintln!(
        "campaign counts: sd of (count − exact) {sd:.3?}, calibrated {:.3}",
        outside::laplace_sd(4.0)
    );
    let half = half_noise(&job);
    let mut halved = || noisy_counts(&half, &members, Noise::OpenDp);
    let err = outside::check_spread(n, &exact, &scales, 0.05, &mut halved).unwrap_err();
    eprintln!("half the noise: {err}");

    // D: the eight members; D': without a member who matched.
    let target = members
        .iter()
        .position(|m| matches!(m.outcome, MemberOutcome::Matched { .. }))
        .unwrap();
    let mut others = members.clone();
    others.remove(target);
    let without = vec![7, 5];
    let mechanism = |j: Job| {
        let (members, others) = (members.clone(), others.clone());
        move |in_: bool| noisy_counts(&j, if in_ { &members } else { &others }, Noise::OpenDp)
    };
    let attack = outside::distinguish(
        n,
        &without,
        &exact,
        &scales,
        0.5,
        &mut mechanism(job.clone()),
    )
    .unwrap();
    eprintln!(
        "ε = 0.5: the attacker's advantage {:.3} (bound {:.3}), largest bin ratio {:.2} over {} bins",
        attack.advantage, attack.bound, attack.ratio, attack.bins
    );
    let err =
        outside::distinguish(n, &without, &exact, &scales, 0.5, &mut mechanism(half)).unwrap_err();
    eprintln!("half the noise: {err}");
    let mut exact_counts = |in_: bool| if in_ { exact.clone() } else { without.clone() };
    let err =
        outside::distinguish(n, &without, &exact, &scales, 0.5, &mut exact_counts).unwrap_err();
    eprintln!("no noise: {err}");
}
