//! Policy, campaigns and studies, members and invitations, budget, billing, peer contact.

use super::{audit_mark, expect_audit, expect_err, finished};
use crate::{PersonId, Store, StoreError};
use insitu_model::audit::AuditEvent;
use insitu_model::job::{
    Answer, BillingRecord, CampaignSpec, Job, JobKind, JobStatus, Member, MemberOutcome, Policy,
    StudySpec, Task,
};
use insitu_model::ledger::{Movement, Party};
use insitu_model::meter::RunRecord;
use insitu_model::output::Money;
use insitu_model::peer::{Contact, ContactStatus, Offer};

pub(super) const PERIOD: &str = "2026-11";

/// A running campaign of `acme`'s, for the checks and for backends' own tests.
pub fn campaign() -> Job {
    Job {
        id: 0,
        kind: JobKind::Campaign(CampaignSpec {
            description: "bank fees".into(),
            brand: "bank".into(),
            association: "consumers".into(),
            k: 5,
            epsilon_micro: 500_000,
            period: PERIOD.into(),
        }),
        owner: "acme".into(),
        plugin_digest: "d1".into(),
        params: vec![],
        created_ms: 11,
        status: JobStatus::Running,
        release: None,
        counts: None,
        release_ms: 99,
    }
}

fn study() -> Job {
    Job {
        kind: JobKind::Study(StudySpec {
            description: "spending".into(),
            min_cohort: 5,
            epsilon_micro: 100_000,
            reward: euros(1),
            period: PERIOD.into(),
        }),
        ..campaign()
    }
}

fn euros(minor: i64) -> Money {
    Money {
        minor,
        currency: "EUR".into(),
    }
}

pub(super) fn member(person: PersonId, outcome: MemberOutcome) -> Member {
    Member {
        job: 0,
        person,
        run: 0,
        outcome,
        answer: None,
    }
}

pub(super) fn offer(person: PersonId) -> Offer {
    Offer {
        id: 0,
        person,
        occupation: "15-1252".into(),
        note: "ask me".into(),
        withdrawn_ms: None,
    }
}

pub(super) fn contact(offer: u64, seeker: PersonId, mentor: PersonId) -> Contact {
    Contact {
        id: 0,
        offer,
        seeker,
        mentor,
        occupation: "15-1252".into(),
        status: ContactStatus::Asked,
        at_ms: 12,
    }
}

pub(super) fn policy(store: &dyn Store) {
    assert_eq!(store.policy().expect("policy"), Policy::default());
    let p = Policy {
        k_floor: 9,
        epsilon_per_month_micro: 3_000_000,
        ..Policy::default()
    };
    store.set_policy(&p).expect("set_policy");
    assert_eq!(store.policy().expect("policy"), p);
    let e = expect_audit(store, &Default::default(), "set_policy", &["policy_set"]);
    assert!(matches!(
        e[0],
        AuditEvent::PolicySet {
            k_floor: 9,
            epsilon_per_month_micro: 3_000_000,
            ..
        }
    ));
}

pub(super) fn jobs(store: &dyn Store) {
    let c = store.add_job(campaign()).expect("add_job");
    let s = store.add_job(study()).expect("add_job");
    assert!(c.id != 0 && s.id != 0 && c.id != s.id);
    assert_eq!(
        c,
        Job {
            id: c.id,
            ..campaign()
        }
    );
    assert_eq!(store.job(s.id).expect("job"), s);
    assert_eq!(store.jobs().expect("jobs"), vec![c.clone(), s]);
    let e = expect_audit(
        store,
        &Default::default(),
        "add_job",
        &["job_opened", "job_opened"],
    );
    assert_eq!(
        e[0],
        AuditEvent::JobOpened {
            job: c.id,
            job_kind: "campaign".into(),
            owner: "acme".into(),
            digest: "d1".into()
        }
    );
    assert!(matches!(&e[1], AuditEvent::JobOpened { job_kind, .. } if job_kind == "study"));
}

pub(super) fn members(store: &dyn Store) {
    let [a, b, c] = ["a", "b", "c"].map(|n| store.add_person(n).expect("add_person"));
    let job = store.add_job(campaign()).expect("add_job").id;
    let reserved = store.reserve_run_ids(1).expect("reserve_run_ids");
    let mut run_b = finished(RunRecord::new(b, 1, "d1", 5));
    run_b.id = reserved;
    let n = audit_mark(store);
    let added = store
        .record_members(
            job,
            vec![
                (
                    Some(finished(RunRecord::new(a, 1, "d1", 5))),
                    member(a, MemberOutcome::Matched { findings: 2 }),
                ),
                (Some(run_b), member(b, MemberOutcome::NoMatch)),
                (None, member(c, MemberOutcome::OverBudget)),
            ],
        )
        .expect("record_members");
    assert_eq!(added, 3);
    let ms = store.members(job).expect("members");
    assert_eq!(
        ms.iter().map(|m| (m.job, m.person)).collect::<Vec<_>>(),
        vec![(job, a), (job, b), (job, c)],
        "members by person, each with the job's id"
    );
    assert!(ms[0].run != 0 && ms[0].run != reserved);
    assert_eq!(
        ms[1].run, reserved,
        "a member run keeps the id its job reserved"
    );
    assert_eq!(ms[2].run, 0, "a member without a run");
    assert_eq!(store.run(reserved).expect("run").person, b);
    assert_eq!(store.run(ms[0].run).expect("run").person, a);
    expect_audit(store, &n, "record_members", &["run", "run"]);
    // A member the job has already is left as it was, and its run is not stored.
    let runs = store.runs(None).expect("runs").len();
    let n = audit_mark(store);
    let again = store
        .record_members(
            job,
            vec![(
                Some(finished(RunRecord::new(a, 1, "d1", 6))),
                member(a, MemberOutcome::NoMatch),
            )],
        )
        .expect("record_members again");
    assert_eq!(again, 0);
    assert_eq!(store.members(job).expect("members")[0], ms[0]);
    assert_eq!(store.runs(None).expect("runs").len(), runs);
    expect_audit(store, &n, "record_members again", &[]);
    let other = store.add_job(study()).expect("add_job").id;
    store
        .record_members(other, vec![(None, member(a, MemberOutcome::Contributed))])
        .expect("record_members");
    let jobs_of_a: Vec<u64> = store
        .memberships(a)
        .expect("memberships")
        .iter()
        .map(|m| m.job)
        .collect();
    assert_eq!(jobs_of_a, vec![job, other]);
}

pub(super) fn answer(store: &dyn Store) {
    let [a, b, c] = ["a", "b", "c"].map(|n| store.add_person(n).expect("add_person"));
    let job = store.add_job(campaign()).expect("add_job").id;
    let st = store.add_job(study()).expect("add_job").id;
    let matched = || MemberOutcome::Matched { findings: 1 };
    store
        .record_members(
            job,
            vec![
                (None, member(a, matched())),
                (None, member(b, MemberOutcome::NoMatch)),
                (None, member(c, matched())),
            ],
        )
        .expect("record_members");
    store
        .record_members(st, vec![(None, member(a, matched()))])
        .expect("record_members");
    let n = audit_mark(store);
    let accept = Answer::Accepted {
        at_ms: 20,
        shared: vec![],
        loss: vec![euros(300)],
    };
    let m = store
        .answer_invitation(job, a, accept.clone())
        .expect("accept");
    assert_eq!(m.answer, Some(accept.clone()));
    assert_eq!(store.members(job).expect("members")[0], m);
    let declined = store
        .answer_invitation(job, c, Answer::Declined { at_ms: 21 })
        .expect("decline");
    assert_eq!(declined.answer, Some(Answer::Declined { at_ms: 21 }));
    let e = expect_audit(
        store,
        &n,
        "answer_invitation",
        &["evidence_released", "invitation_declined"],
    );
    assert_eq!(
        e[0],
        AuditEvent::EvidenceReleased {
            job,
            person: a,
            association: "consumers".into(),
            findings: 0
        }
    );
    let n = audit_mark(store);
    let decline = Answer::Declined { at_ms: 22 };
    expect_err(
        "answering twice",
        store.answer_invitation(job, a, decline.clone()),
        |e| matches!(e, StoreError::Answered { job: j, person } if *j == job && *person == a),
    );
    assert_eq!(store.members(job).expect("members")[0].answer, Some(accept));
    let no_invitation = |person: PersonId, j: u64| move |e: &StoreError| matches!(e, StoreError::NoInvitation { job: x, person: y } if *x == j && *y == person);
    expect_err(
        "a member who did not match",
        store.answer_invitation(job, b, decline.clone()),
        no_invitation(b, job),
    );
    expect_err(
        "a person who is not a member",
        store.answer_invitation(job, 99, decline.clone()),
        no_invitation(99, job),
    );
    expect_err(
        "a study's member",
        store.answer_invitation(st, a, decline),
        no_invitation(a, st),
    );
    expect_audit(store, &n, "refused answers", &[]);
}

pub(super) fn bill(job: u64, to: Party, minor: i64) -> BillingRecord {
    BillingRecord {
        id: 0,
        job,
        at_ms: 30,
        from: Party::Organisation("bank".into()),
        to,
        amount: euros(minor),
        movement: Movement::Settlement,
        memo: "settlement".into(),
    }
}

pub(super) fn close(store: &dyn Store) {
    let [a, b] = ["a", "b"].map(|n| store.add_person(n).expect("add_person"));
    let job = store.add_job(campaign()).expect("add_job");
    let other = store.add_job(campaign()).expect("add_job");
    let n = audit_mark(store);
    let finished_job = Job {
        status: JobStatus::Finished { at_ms: 40 },
        ..job.clone()
    };
    let closed = store
        .close_job(&finished_job, vec![], &[(a, 500_000), (b, 200_000)], PERIOD)
        .expect("close_job");
    assert_eq!(closed, finished_job);
    assert_eq!(store.job(job.id).expect("job"), finished_job);
    assert_eq!(
        store.budget_spent(a, PERIOD).expect("budget_spent"),
        500_000
    );
    assert_eq!(store.budget_spent(a, "2026-12").expect("budget_spent"), 0);
    let e = expect_audit(store, &n, "close_job", &["job_closed"]);
    assert_eq!(
        e[0],
        AuditEvent::JobClosed {
            job: job.id,
            status: "finished".into(),
            billing: 0,
            budget_charged: 2
        }
    );
    // Closed once: the same close again, or reopening, is refused and charges nothing.
    let n = audit_mark(store);
    for (what, status) in [
        ("a second finish", JobStatus::Finished { at_ms: 41 }),
        ("reopening", JobStatus::Running),
    ] {
        let again = Job {
            status,
            ..job.clone()
        };
        expect_err(
            what,
            store.close_job(
                &again,
                vec![bill(job.id, Party::Operator, 1)],
                &[(a, 1)],
                PERIOD,
            ),
            |e| matches!(e, StoreError::JobClosed(j) if *j == job.id),
        );
    }
    assert_eq!(
        store.budget_spent(a, PERIOD).expect("budget_spent"),
        500_000
    );
    assert!(store.billing(None).expect("billing").is_empty());
    expect_audit(store, &n, "refused closes", &[]);
    // A finished campaign is settled once, with its billing records, which read back as
    // written: typed parties and movement, whatever the memo says or the names look like.
    let settled = Job {
        status: JobStatus::Settled { at_ms: 50 },
        ..job.clone()
    };
    let written = vec![
        bill(job.id, Party::Person(a), 700),
        bill(job.id, Party::Operator, 300),
        BillingRecord {
            movement: Movement::Reward,
            memo: "thank you".into(),
            ..bill(job.id, Party::Organisation("operator".into()), 5)
        },
        BillingRecord {
            from: Party::Organisation("person:1".into()),
            ..bill(job.id, Party::Organisation(String::new()), 6)
        },
    ];
    store
        .close_job(&settled, written.clone(), &[], PERIOD)
        .expect("settle");
    let bills = store.billing(Some(job.id)).expect("billing");
    let ids: Vec<u64> = bills.iter().map(|b| b.id).collect();
    assert!(
        ids.iter().all(|id| *id != 0)
            && ids.iter().collect::<std::collections::BTreeSet<_>>().len() == ids.len(),
        "billing ids: {ids:?}"
    );
    assert_eq!(
        bills
            .into_iter()
            .map(|b| BillingRecord { id: 0, ..b })
            .collect::<Vec<_>>(),
        written,
        "billing records read back as written, in order"
    );
    expect_err(
        "settling twice",
        store.close_job(
            &settled,
            vec![bill(job.id, Party::Operator, 1)],
            &[],
            PERIOD,
        ),
        |e| matches!(e, StoreError::JobClosed(_)),
    );
    expect_err(
        "settling a running campaign",
        store.close_job(
            &Job {
                id: other.id,
                ..settled.clone()
            },
            vec![],
            &[],
            PERIOD,
        ),
        |e| matches!(e, StoreError::JobClosed(j) if *j == other.id),
    );
    assert_eq!(store.billing(None).expect("billing").len(), written.len());
    assert!(store.billing(Some(other.id)).expect("billing").is_empty());
    // Running ends in a study's release or withholding just as well.
    for status in [
        JobStatus::Released { at_ms: 60 },
        JobStatus::Withheld {
            at_ms: 60,
            reason: "cohort".into(),
        },
    ] {
        let s = store.add_job(study()).expect("add_job");
        store
            .close_job(&Job { status, ..s }, vec![], &[(b, 100_000)], PERIOD)
            .expect("close a study");
    }
    assert_eq!(
        store.budget_spent(b, PERIOD).expect("budget_spent"),
        400_000
    );
}

pub(super) fn budget(store: &dyn Store) {
    let [a, b] = ["a", "b"].map(|n| store.add_person(n).expect("add_person"));
    let n = audit_mark(store);
    let first = store
        .reserve_budget(1, &[a], PERIOD, 600_000, 1_000_000)
        .expect("reserve_budget");
    assert_eq!(first, vec![true]);
    assert_eq!(
        store.budget_spent(a, PERIOD).expect("budget_spent"),
        600_000
    );
    let second = store
        .reserve_budget(2, &[a, b], PERIOD, 600_000, 1_000_000)
        .expect("reserve_budget");
    assert_eq!(second, vec![false, true], "a's budget would be exceeded");
    assert_eq!(
        store.budget_spent(a, PERIOD).expect("budget_spent"),
        600_000
    );
    assert_eq!(
        store.budget_spent(b, PERIOD).expect("budget_spent"),
        600_000
    );
    let e = expect_audit(
        store,
        &n,
        "reserve_budget",
        &["budget_reserved", "budget_reserved", "budget_reserved"],
    );
    assert_eq!(
        e[1],
        AuditEvent::BudgetReserved {
            job: 2,
            person: a,
            epsilon_micro: 600_000,
            reserved: false
        }
    );
    // A resumed job keeps its first answers and charges nobody twice.
    let n = audit_mark(store);
    let resumed = store
        .reserve_budget(2, &[a, b], PERIOD, 600_000, 5_000_000)
        .expect("reserve_budget again");
    assert_eq!(resumed, vec![false, true]);
    assert_eq!(
        store.budget_spent(b, PERIOD).expect("budget_spent"),
        600_000
    );
    expect_audit(store, &n, "a resumed reservation", &[]);
    // Up to the budget exactly.
    let exact = store
        .reserve_budget(3, &[a], PERIOD, 400_000, 1_000_000)
        .expect("reserve_budget");
    assert_eq!(exact, vec![true]);
    assert_eq!(
        store.budget_spent(a, PERIOD).expect("budget_spent"),
        1_000_000
    );
}

pub(super) fn peers(store: &dyn Store) {
    let [mentor, seeker] = ["m", "s"].map(|n| store.add_person(n).expect("add_person"));
    let n = audit_mark(store);
    let o = store.put_offer(offer(mentor)).expect("put_offer");
    assert_ne!(o.id, 0);
    let withdrawn = Offer {
        withdrawn_ms: Some(5),
        ..o.clone()
    };
    assert_eq!(
        store.put_offer(withdrawn.clone()).expect("update"),
        withdrawn
    );
    assert_eq!(store.offers().expect("offers"), vec![withdrawn]);
    let c = store
        .put_contact(contact(o.id, seeker, mentor))
        .expect("put_contact");
    assert_ne!(c.id, 0);
    let answered = Contact {
        status: ContactStatus::Connected,
        ..c.clone()
    };
    store.put_contact(answered.clone()).expect("answer");
    assert_eq!(store.contacts().expect("contacts"), vec![answered]);
    let e = expect_audit(
        store,
        &n,
        "offers and contacts",
        &[
            "peer_offer",
            "peer_offer",
            "contact_asked",
            "contact_answered",
        ],
    );
    assert!(matches!(
        e[1],
        AuditEvent::PeerOffer {
            withdrawn: true,
            ..
        }
    ));
    // Each entry names only the side that acted.
    assert_eq!(
        e[2],
        AuditEvent::ContactAsked {
            contact: c.id,
            person: seeker,
            occupation: "15-1252".into()
        }
    );
    assert_eq!(
        e[3],
        AuditEvent::ContactAnswered {
            contact: c.id,
            person: mentor,
            accepted: true
        }
    );
}

/// A job's work queue: made once, claimed by one node at a time per task until its lease ends
/// (by the store's clock), every claim audited in the member's history, renewed only by the
/// node holding it, and emptied as members' results are recorded; eight nodes claiming at once
/// share the tasks without overlap.
pub(super) fn work_queue(store: &dyn Store) {
    const HOUR: i64 = 3_600_000;
    let people: Vec<PersonId> = ["a", "b", "c"]
        .iter()
        .map(|n| store.add_person(n).expect("add_person"))
        .collect();
    let job = store.add_job(campaign()).expect("add_job").id;
    let first = store.reserve_run_ids(3).expect("reserve_run_ids");
    let tasks: Vec<Task> = people
        .iter()
        .zip(first..)
        .map(|(&person, run)| Task {
            person,
            grant: 7,
            run,
        })
        .collect();
    assert!(store.enqueue_tasks(job, &tasks).expect("enqueue_tasks"));
    assert!(
        !store
            .enqueue_tasks(job, &tasks[..1])
            .expect("enqueue again"),
        "a job's queue is made once"
    );
    assert_eq!(store.open_tasks(job).expect("open_tasks"), 3);

    // A lease already over when given: the task is free again at once.
    let now = store.now_ms();
    let n = audit_mark(store);
    let lapsed = store
        .claim_tasks(job, "node-1", 1, now - 1)
        .expect("claim_tasks");
    assert_eq!(lapsed.len(), 1);
    assert_eq!(
        (lapsed[0].task.clone(), lapsed[0].attempt),
        (tasks[0].clone(), 1)
    );
    let events = expect_audit(store, &n, "claim_tasks", &["member_run_claimed"]);
    assert_eq!(
        events[0],
        AuditEvent::MemberRunClaimed {
            job,
            run: first,
            person: people[0],
            attempt: 1
        }
    );
    assert_eq!(events[0].person(), Some(people[0]));

    // Node 2 takes it again (attempt 2) and the next one, in run order, until in an hour.
    let n = audit_mark(store);
    let two = store
        .claim_tasks(job, "node-2", 2, now + HOUR)
        .expect("claim_tasks");
    assert_eq!(
        two.iter()
            .map(|c| (c.task.run, c.attempt))
            .collect::<Vec<_>>(),
        vec![(first, 2), (first + 1, 1)]
    );
    assert!(
        two.iter()
            .all(|c| c.node == "node-2" && c.lease_until_ms == now + HOUR)
    );
    expect_audit(
        store,
        &n,
        "claim_tasks",
        &["member_run_claimed", "member_run_claimed"],
    );
    // A renewal counts only for the node that holds the lease.
    assert_eq!(
        store
            .renew_tasks(job, "node-1", &[first], now + 2 * HOUR)
            .expect("renew_tasks"),
        Vec::<u64>::new()
    );
    let mut held = store
        .renew_tasks(job, "node-2", &[first, first + 1], now + 2 * HOUR)
        .expect("renew_tasks");
    held.sort_unstable();
    assert_eq!(held, vec![first, first + 1]);
    // What is left: the third task; then nothing while the leases run.
    let last = store
        .claim_tasks(job, "node-1", 5, now + HOUR)
        .expect("claim_tasks");
    assert_eq!(last.len(), 1);
    assert_eq!(last[0].task, tasks[2]);
    let n = audit_mark(store);
    assert!(
        store
            .claim_tasks(job, "node-3", 5, now + HOUR)
            .expect("claim_tasks")
            .is_empty(),
        "a task under a live lease was claimed"
    );
    expect_audit(store, &n, "an empty claim", &[]);

    // A recorded member's task leaves the queue, and is never claimed again.
    let mut run = finished(RunRecord::new(people[1], 7, "d1", 5));
    run.id = first + 1;
    store
        .record_members(
            job,
            vec![(Some(run), member(people[1], MemberOutcome::NoMatch))],
        )
        .expect("record_members");
    assert_eq!(store.open_tasks(job).expect("open_tasks"), 2);
    assert!(
        store
            .claim_tasks(job, "node-3", 5, now + 3 * HOUR)
            .expect("claim_tasks")
            .iter()
            .all(|c| c.task.person != people[1])
    );

    // Eight nodes at once over eight tasks: each task to exactly one.
    let people: Vec<PersonId> = (0..8)
        .map(|i| store.add_person(&format!("p{i}")).expect("add_person"))
        .collect();
    let job = store.add_job(campaign()).expect("add_job").id;
    let first = store.reserve_run_ids(8).expect("reserve_run_ids");
    let tasks: Vec<Task> = people
        .iter()
        .zip(first..)
        .map(|(&person, run)| Task {
            person,
            grant: 7,
            run,
        })
        .collect();
    store.enqueue_tasks(job, &tasks).expect("enqueue_tasks");
    let claimed: Vec<Vec<u64>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                s.spawn(move || {
                    store
                        .claim_tasks(job, &format!("node-{i}"), 1, now + HOUR)
                        .expect("claim_tasks")
                        .into_iter()
                        .map(|c| c.task.run)
                        .collect::<Vec<u64>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a node"))
            .collect()
    });
    let mut all: Vec<u64> = claimed.into_iter().flatten().collect();
    all.sort_unstable();
    assert_eq!(all, (first..first + 8).collect::<Vec<_>>());
}

/// The running jobs and the recent ones, each read by its index, as every job filtered says:
/// a job that finished leaves the running ones.
pub(super) fn running_and_recent(store: &dyn Store) {
    let mut opened = Vec::new();
    for (i, created_ms) in [500, 20, 300, 20, 700, -5].into_iter().enumerate() {
        let job = if i % 2 == 0 { campaign() } else { study() };
        opened.push(store.add_job(Job { created_ms, ..job }).expect("add_job"));
    }
    for (i, at_ms) in [(0, 40), (4, 41)] {
        let finished = Job {
            status: JobStatus::Finished { at_ms },
            ..opened[i].clone()
        };
        store
            .close_job(&finished, vec![], &[], PERIOD)
            .expect("close_job");
    }
    let all = store.jobs().expect("jobs");
    let running: Vec<Job> = all
        .iter()
        .filter(|j| j.status == JobStatus::Running)
        .cloned()
        .collect();
    assert_eq!(running.len(), 4, "the check's own count");
    assert_eq!(
        store.running_jobs().expect("running_jobs"),
        running,
        "the running jobs, by id, as stored now, and no finished one"
    );
    for (since, size) in [
        (i64::MIN, 6),
        (-5, 6),
        (-4, 5),
        (20, 5),
        (21, 3),
        (300, 3),
        (700, 1),
        (701, 0),
    ] {
        let want: Vec<Job> = all
            .iter()
            .filter(|j| j.created_ms >= since)
            .cloned()
            .collect();
        assert_eq!(want.len(), size, "the check's own count since {since}");
        assert_eq!(
            store.jobs_since(since).expect("jobs_since"),
            want,
            "the jobs created at or after {since}, by id, as stored now"
        );
    }
}
