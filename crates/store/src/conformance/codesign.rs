//! Co-design: proposals and their audit, contributions, votes and tallies, pledges in escrow
//! and the deadline's settlement, refusals that leave no trace.

use super::{audit_mark, expect_audit, expect_err};
use crate::{PersonId, Store, StoreError};
use insitu_model::codesign::{
    Ballot, Content, Contribution, Decision, Kind, Pledge, PledgeStatus, Proposal, Review, Status,
    Tally, Tier, Version, Vote, commitment,
};
use insitu_model::ledger::{Movement, Party};
use insitu_model::output::Money;

pub(crate) const DEADLINE: i64 = 10_000;

fn eur(minor: i64) -> Money {
    Money {
        minor,
        currency: "EUR".into(),
    }
}

/// A proposal of `org`, approved (public) unless `review` is false; goal 100.00 EUR.
pub(crate) fn proposal(org: &str, public: bool) -> Proposal {
    let content = Content {
        title: "A thermostat".into(),
        description: "Built on study 1.".into(),
        options: vec!["round".into(), "square".into()],
        studies: vec![1],
        goal: eur(10_000),
        deadline_ms: DEADLINE,
        tiers: vec![Tier {
            name: "backer".into(),
            min_minor: 2_000,
            reward: "the thermostat".into(),
        }],
    };
    let salt = "00".repeat(16);
    Proposal {
        id: 0,
        organisation: org.into(),
        contest: None,
        status: if public {
            Status::Public
        } else {
            Status::InReview
        },
        versions: vec![Version {
            number: 1,
            at_ms: 1,
            commitment: commitment(&salt, &content.canonical()),
            content,
            salt,
        }],
        reviews: vec![],
        settlement: None,
        created_ms: 1,
    }
}

pub(crate) fn pledge(proposal: u64, member: PersonId, minor: i64, at_ms: i64) -> Pledge {
    Pledge {
        id: 0,
        proposal,
        member,
        amount: eur(minor),
        tier: None,
        version: 1,
        status: PledgeStatus::Held,
        at_ms,
        closed_ms: None,
    }
}

pub(crate) fn comment(proposal: u64, member: PersonId, text: &str) -> Contribution {
    Contribution {
        id: 0,
        proposal,
        version: 1,
        member,
        kind: Kind::Comment,
        text: text.into(),
        signed: None,
        at_ms: 5,
        salt: None,
        commitment: None,
    }
}

pub(super) fn proposals(store: &dyn Store) {
    let n = audit_mark(store);
    let mut p = store.put_proposal(proposal("thermo", false)).expect("put");
    assert_ne!(p.id, 0);
    let e = expect_audit(store, &n, "a new proposal", &["proposal_committed"]);
    assert!(
        matches!(&e[0], insitu_model::audit::AuditEvent::ProposalCommitted {
        proposal, version: 1, commitment, ..
    } if *proposal == p.id && *commitment == p.current().commitment)
    );
    assert_eq!(store.proposal(p.id).expect("proposal"), p);

    let n = audit_mark(store);
    p.reviews.push(Review {
        version: 1,
        officer: "olga".into(),
        decision: Decision::RequestChanges,
        reasons: "name the study".into(),
        at_ms: 2,
    });
    p.status = Status::ChangesRequested;
    let mut v2 = p.versions[0].clone();
    v2.number = 2;
    v2.content.title = "A thermostat that learns".into();
    p.versions.push(v2);
    p.status = Status::InReview;
    store.put_proposal(p.clone()).expect("put");
    expect_audit(
        store,
        &n,
        "a review and a new version",
        &["proposal_committed", "proposal_reviewed"],
    );
    // A write from a read made before the last one (here: without its review and version 2)
    // would drop them: refused, and nothing written.
    let stale = store.proposal(p.id).expect("proposal");
    let mut behind = stale.clone();
    behind.reviews.clear();
    behind.versions.truncate(1);
    behind.status = Status::Public;
    let n = audit_mark(store);
    expect_err(
        "a write from a stale read",
        store.put_proposal(behind),
        |e| matches!(e, StoreError::Codesign(_)),
    );
    expect_audit(store, &n, "a refused stale write", &[]);
    assert_eq!(store.proposal(p.id).expect("proposal"), stale);
    let q = store.put_proposal(proposal("other", true)).expect("put");
    assert_eq!(
        store
            .proposals_page(&crate::Proposals::All, crate::Page::first(10))
            .expect("proposals")
            .iter()
            .rev()
            .map(|x| x.id)
            .collect::<Vec<_>>(),
        vec![p.id, q.id]
    );
    expect_err("no proposal", store.proposal(999), |e| {
        matches!(e, StoreError::NoProposal(999))
    });
    let mut ghost = proposal("x", true);
    ghost.id = 999;
    expect_err(
        "replacing a missing proposal",
        store.put_proposal(ghost),
        |e| matches!(e, StoreError::NoProposal(999)),
    );
}

pub(super) fn contributions_and_votes(store: &dyn Store) {
    let a = store.add_person("ada").expect("add_person");
    let b = store.add_person("bob").expect("add_person");
    let hidden = store.put_proposal(proposal("thermo", false)).expect("put");
    let p = store.put_proposal(proposal("thermo", true)).expect("put");
    let n = audit_mark(store);
    expect_err(
        "a comment on a proposal in review",
        store.add_contribution(comment(hidden.id, a, "hi")),
        |e| matches!(e, StoreError::Codesign(_)),
    );
    let mut late = comment(p.id, a, "late");
    late.at_ms = DEADLINE;
    expect_err(
        "a comment after the deadline",
        store.add_contribution(late),
        |e| matches!(e, StoreError::Codesign(_)),
    );
    expect_err(
        "a comment by nobody",
        store.add_contribution(comment(p.id, 77, "x")),
        |e| matches!(e, StoreError::NoPerson(77)),
    );
    expect_audit(store, &n, "refused contributions", &[]);

    let c1 = store
        .add_contribution(comment(p.id, a, "one"))
        .expect("add");
    let mut s = comment(p.id, b, "a wooden one");
    s.kind = Kind::Suggestion;
    s.salt = Some("11".repeat(16));
    s.commitment = Some(commitment("11", b"a wooden one"));
    let c2 = store.add_contribution(s).expect("add");
    assert!(c1.id != 0 && c2.id > c1.id);
    let e = expect_audit(
        store,
        &n,
        "two contributions",
        &["contributed", "contributed"],
    );
    assert!(e.iter().any(|e| matches!(e,
        insitu_model::audit::AuditEvent::Contributed { suggestion: true, commitment, .. }
            if commitment == c2.commitment.as_ref().unwrap())));
    assert_eq!(
        store.contributions(p.id).expect("contributions"),
        vec![c1, c2]
    );
    assert_eq!(
        store.contributions(hidden.id).expect("contributions"),
        vec![]
    );

    let ballot = Ballot::Options(p.id);
    let vote = |member, choice| Vote {
        ballot: ballot.clone(),
        member,
        choice,
        at_ms: 6,
    };
    let n = audit_mark(store);
    store.cast_vote(vote(a, 0)).expect("vote");
    store.cast_vote(vote(b, 1)).expect("vote");
    store.cast_vote(vote(a, 1)).expect("vote again");
    expect_audit(
        store,
        &n,
        "three votes",
        &["vote_cast", "vote_cast", "vote_cast"],
    );
    let mut got = store.votes(&ballot).expect("votes");
    got.sort_by_key(|v| v.member);
    assert_eq!(got, vec![vote(a, 1), vote(b, 1)], "a later vote replaces");
    assert_eq!(
        store.votes(&Ballot::Contest("c".into())).expect("votes"),
        vec![]
    );

    assert_eq!(store.tally(&ballot).expect("tally"), None);
    let t = Tally {
        noisy: vec![3, 9],
        choices: vec![0, 1],
        k: 5,
        epsilon_micro: 500_000,
        scale: 2.0,
        at_ms: DEADLINE,
    };
    assert_eq!(store.put_tally(&ballot, t.clone()).expect("put_tally"), t);
    let again = Tally {
        noisy: vec![0, 0],
        ..t.clone()
    };
    assert_eq!(
        store.put_tally(&ballot, again).expect("put_tally"),
        t,
        "a ballot is tallied once"
    );
    assert_eq!(store.tally(&ballot).expect("tally"), Some(t));
    expect_err("a vote after the tally", store.cast_vote(vote(b, 0)), |e| {
        matches!(e, StoreError::Codesign(_))
    });
}

/// The sum of every ledger entry crediting minus debiting `party`.
fn balance(store: &dyn Store, party: &Party) -> i64 {
    store
        .ledger_of(party)
        .expect("ledger_of")
        .iter()
        .map(|e| {
            if &e.credit == party {
                e.amount.minor
            } else {
                -e.amount.minor
            }
        })
        .sum()
}

pub(super) fn pledges(store: &dyn Store) {
    let a = store.add_person("ada").expect("add_person");
    let b = store.add_person("bob").expect("add_person");
    let p = store.put_proposal(proposal("thermo", true)).expect("put");
    let escrow = Party::Escrow(p.id);
    let n = audit_mark(store);
    for (what, bad) in [
        ("a pledge of nothing", pledge(p.id, a, 0, 5)),
        ("a pledge in another currency", {
            let mut x = pledge(p.id, a, 100, 5);
            x.amount.currency = "USD".into();
            x
        }),
        ("a pledge at the deadline", pledge(p.id, a, 100, DEADLINE)),
    ] {
        expect_err(what, store.pledge(bad), |e| {
            matches!(e, StoreError::Codesign(_))
        });
    }
    expect_audit(store, &n, "refused pledges", &[]);
    assert_eq!(store.ledger().expect("ledger"), vec![]);

    let pa = store.pledge(pledge(p.id, a, 6_000, 5)).expect("pledge");
    assert_eq!((pa.status, pa.version), (PledgeStatus::Held, 1));
    expect_audit(store, &n, "a pledge", &["pledged", "ledger_posted"]);
    assert_eq!(balance(store, &escrow), 6_000);
    assert_eq!(balance(store, &Party::Person(a)), -6_000);
    let pb = store.pledge(pledge(p.id, b, 3_000, 6)).expect("pledge");
    let pb2 = store.pledge(pledge(p.id, b, 1_500, 6)).expect("pledge");
    assert_eq!(
        store.pledges_of(b).expect("pledges_of"),
        vec![pb.clone(), pb2.clone()]
    );

    let n = audit_mark(store);
    let w = store.withdraw_pledge(p.id, pb2.id, 7).expect("withdraw");
    assert_eq!((w.status, w.closed_ms), (PledgeStatus::Withdrawn, Some(7)));
    expect_audit(
        store,
        &n,
        "a withdrawal",
        &["pledge_withdrawn", "ledger_posted"],
    );
    assert_eq!(balance(store, &escrow), 9_000);
    expect_err(
        "withdrawing twice",
        store.withdraw_pledge(p.id, pb2.id, 8),
        |e| matches!(e, StoreError::Codesign(_)),
    );
    expect_err(
        "a pledge of another proposal",
        store.withdraw_pledge(p.id + 1, pb.id, 8),
        |e| matches!(e, StoreError::NoProposal(_) | StoreError::NoPledge { .. }),
    );
    expect_err(
        "settling before the deadline",
        store.settle_proposal(p.id, 1_000, 9),
        |e| matches!(e, StoreError::Codesign(_)),
    );

    // 9 000 held of a 10 000 goal: every pledge refunded to the cent.
    let n = audit_mark(store);
    let s = store
        .settle_proposal(p.id, 1_000, DEADLINE)
        .expect("settle");
    assert_eq!(s.status, Status::Unfunded);
    let st = s.settlement.clone().expect("settled");
    assert_eq!((st.funded, st.held_minor, st.paid_minor), (false, 9_000, 0));
    expect_audit(
        store,
        &n,
        "an unfunded settlement",
        &["proposal_settled", "ledger_posted", "ledger_posted"],
    );
    assert_eq!(balance(store, &escrow), 0);
    assert_eq!(balance(store, &Party::Person(a)), 0);
    assert_eq!(balance(store, &Party::Person(b)), 0);
    let statuses: Vec<PledgeStatus> = store
        .pledges(p.id)
        .expect("pledges")
        .iter()
        .map(|x| x.status)
        .collect();
    assert_eq!(
        statuses,
        vec![
            PledgeStatus::Refunded,
            PledgeStatus::Refunded,
            PledgeStatus::Withdrawn
        ]
    );
    let n = audit_mark(store);
    assert_eq!(
        store
            .settle_proposal(p.id, 1_000, DEADLINE + 1)
            .expect("again"),
        s,
        "settled once"
    );
    expect_audit(store, &n, "settling again", &[]);
    expect_err(
        "a pledge after settlement",
        store.pledge(pledge(p.id, a, 100, 9)),
        |e| matches!(e, StoreError::Codesign(_)),
    );
    expect_err("changing a settled proposal", store.put_proposal(s), |e| {
        matches!(e, StoreError::Codesign(_))
    });

    // Funded: escrow pays the organisation less 10 %, rewards counted by the tier each
    // pledge's amount reaches in the version settled (20.00 for "backer"), whatever tier the
    // pledge was recorded with.
    let f = store.put_proposal(proposal("thermo", true)).expect("put");
    store.pledge(pledge(f.id, a, 8_000, 5)).expect("pledge");
    store.pledge(pledge(f.id, b, 2_500, 5)).expect("pledge");
    let mut tiered = pledge(f.id, b, 1_000, 5);
    tiered.tier = Some(0);
    store.pledge(tiered).expect("pledge");
    let s = store
        .settle_proposal(f.id, 1_000, DEADLINE)
        .expect("settle");
    let st = s.settlement.expect("settled");
    assert_eq!(s.status, Status::Funded);
    assert_eq!(
        (
            st.held_minor,
            st.paid_minor,
            st.commission_minor,
            st.rewards
        ),
        (11_500, 10_350, 1_150, vec![2])
    );
    assert_eq!(balance(store, &Party::Escrow(f.id)), 0);
    assert_eq!(
        balance(store, &Party::Organisation("thermo".into())),
        10_350
    );
    let payout = store
        .posting(&insitu_model::codesign::payout_key(f.id))
        .expect("posting")
        .expect("posted");
    assert_eq!(
        payout.iter().map(|e| e.movement).collect::<Vec<_>>(),
        vec![Movement::Payout, Movement::Commission]
    );
    assert!(
        store
            .pledges(f.id)
            .expect("pledges")
            .iter()
            .all(|x| x.status == PledgeStatus::Paid && x.closed_ms == Some(DEADLINE))
    );
}

/// A change after pledges exist lets the pledgers withdraw after the deadline too.
pub(super) fn changes_reopen_withdrawal(store: &dyn Store) {
    let a = store.add_person("ada").expect("add_person");
    let mut p = store.put_proposal(proposal("thermo", true)).expect("put");
    let pl = store.pledge(pledge(p.id, a, 500, 5)).expect("pledge");
    let mut late = store.pledge(pledge(p.id, a, 700, 6)).expect("pledge");
    // Past the deadline and unchanged: not withdrawable.
    expect_err(
        "withdrawing late",
        store.withdraw_pledge(p.id, pl.id, DEADLINE),
        |e| matches!(e, StoreError::Codesign(_)),
    );
    let mut v2 = p.current().clone();
    v2.number = 2;
    v2.content.goal = eur(50_000);
    p.versions.push(v2);
    p = store.put_proposal(p).expect("put");
    let w = store
        .withdraw_pledge(p.id, pl.id, DEADLINE + 1)
        .expect("a pledge to version 1 may leave after version 2");
    assert_eq!(w.status, PledgeStatus::Withdrawn);
    late.status = PledgeStatus::Held;
    assert_eq!(store.pledges(p.id).expect("pledges")[1], late);
    let s = store
        .settle_proposal(p.id, 0, DEADLINE + 2)
        .expect("settle");
    assert_eq!(s.settlement.expect("settled").held_minor, 700);
}

/// The per-member caps and a ballot's close are checked inside the store's transaction, so
/// concurrent requests cannot pass them.
pub(super) fn caps_and_closes(store: &dyn Store) {
    use insitu_model::codesign::{MAX_CONTRIBUTIONS, MAX_PLEDGES};
    let a = store.add_person("ada").expect("add_person");
    let p = store.put_proposal(proposal("thermo", true)).expect("put");
    for _ in 0..MAX_CONTRIBUTIONS {
        store
            .add_contribution(comment(p.id, a, "again"))
            .expect("add");
    }
    for _ in 0..MAX_PLEDGES {
        store.pledge(pledge(p.id, a, 1, 5)).expect("pledge");
    }
    let n = audit_mark(store);
    expect_err(
        "one contribution too many",
        store.add_contribution(comment(p.id, a, "x")),
        |e| matches!(e, StoreError::Codesign(_)),
    );
    expect_err(
        "one pledge too many",
        store.pledge(pledge(p.id, a, 1, 5)),
        |e| matches!(e, StoreError::Codesign(_)),
    );
    let vote = |ballot: Ballot, at_ms: i64| Vote {
        ballot,
        member: a,
        choice: 0,
        at_ms,
    };
    expect_err(
        "a vote at the deadline",
        store.cast_vote(vote(p.ballot(), DEADLINE)),
        |e| matches!(e, StoreError::Codesign(_)),
    );
    expect_err(
        "a vote on a contest with no proposal",
        store.cast_vote(vote(Ballot::Contest("none".into()), 5)),
        |e| matches!(e, StoreError::Codesign(_)),
    );
    expect_audit(store, &n, "refused over the caps and after the close", &[]);
    assert_eq!(
        store.contributions(p.id).expect("c").len(),
        MAX_CONTRIBUTIONS
    );
    assert_eq!(store.pledges(p.id).expect("p").len(), MAX_PLEDGES);
    assert_eq!(store.votes(&p.ballot()).expect("votes"), vec![]);
}
