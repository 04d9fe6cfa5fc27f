//! Co-design: proposals, contributions, votes, tallies and pledges in escrow.

use super::*;
use insitu_model::codesign::{
    self, Ballot, Contribution, Kind, Pledge, PledgeStatus, Proposal, Tally, Vote,
};

/// The owner of a proposal's contributions and pledges in [`LISTINGS`].
fn proposal_owner(proposal: u64) -> String {
    format!("x:{proposal}")
}

/// The key in [`LISTINGS`] (listing `proposals`) of the proposals `which` names: `None` for
/// every one (the table's own order).
fn proposals_key(which: &Proposals) -> Option<String> {
    Some(match which {
        Proposals::All => return None,
        Proposals::Of(o) => organisation_owner(o),
        Proposals::Public => "public".into(),
        Proposals::InReview => "review".into(),
        Proposals::Contest(c) => contest_key(c),
        Proposals::Unsettled => "open".into(),
    })
}

/// The key of contest `c`'s proposals in [`LISTINGS`].
fn contest_key(c: &str) -> String {
    format!("c:{c}")
}

/// The keys `p` is listed under: those of every listing that admits it.
fn proposal_keys(p: &Proposal) -> Vec<String> {
    let mut which = vec![
        Proposals::Of(p.organisation.clone()),
        Proposals::Public,
        Proposals::InReview,
        Proposals::Unsettled,
    ];
    which.extend(p.contest.clone().map(Proposals::Contest));
    which
        .iter()
        .filter(|w| w.admits(p))
        .filter_map(proposals_key)
        .collect()
}

/// Stores `p` over `old` (its stored version, if any), and moves it between the listings.
pub(super) fn put_proposal_in(
    tx: &WriteTransaction,
    old: Option<&Proposal>,
    p: &Proposal,
) -> Result<(), StoreError> {
    if let Some(old) = old {
        unlist(tx, "proposals", &proposal_keys(old), old.id)?;
    }
    put_json(tx, PROPOSALS, p.id, p)?;
    list(tx, "proposals", &proposal_keys(p), p.id)
}

fn refused(why: impl Into<String>) -> StoreError {
    StoreError::Codesign(why.into())
}

fn proposal_in(tx: &WriteTransaction, id: u64) -> Result<Proposal, StoreError> {
    get_json(tx, PROPOSALS, id)?.ok_or(StoreError::NoProposal(id))
}

/// The pledges of `proposal` in `tx`, by id.
fn pledges_in(tx: &WriteTransaction, proposal: u64) -> Result<Vec<Pledge>, StoreError> {
    rows_of(
        &tx.open_table(LISTINGS).map_err(db)?,
        &tx.open_table(PLEDGES).map_err(db)?,
        "pledges",
        &proposal_owner(proposal),
    )
}

impl CodesignStore for RedbStore {
    fn put_proposal(&self, mut p: Proposal) -> Result<Proposal, StoreError> {
        self.write(|tx| {
            let old = if p.id == 0 {
                p.id = next_id(tx, "proposal")?;
                None
            } else {
                let old = proposal_in(tx, p.id)?;
                if old.settled() {
                    return Err(refused(codesign::settled_refusal(p.id)));
                }
                if !codesign::extends(&old, &p) {
                    return Err(refused(codesign::stale_refusal(p.id)));
                }
                Some(old)
            };
            put_proposal_in(tx, old.as_ref(), &p)?;
            for e in crate::codesign_events(old.as_ref(), &p) {
                append(tx, e)?;
            }
            Ok(p)
        })
    }

    fn proposal(&self, id: u64) -> Result<Proposal, StoreError> {
        self.read_json(PROPOSALS, id)?
            .ok_or(StoreError::NoProposal(id))
    }

    fn proposals_page(&self, which: &Proposals, page: Page) -> Result<Vec<Proposal>, StoreError> {
        self.page_keyed(
            PROPOSALS,
            "proposals",
            proposals_key(which).as_deref(),
            page,
        )
    }

    fn add_contribution(&self, mut c: Contribution) -> Result<Contribution, StoreError> {
        self.write(|tx| {
            require_person(tx, c.member)?;
            let p = proposal_in(tx, c.proposal)?;
            if let Some(why) = codesign::refuse_contribution(&p, c.at_ms) {
                return Err(refused(why));
            }
            let written = rows_of::<Contribution>(
                &tx.open_table(LISTINGS).map_err(db)?,
                &tx.open_table(CONTRIBUTIONS).map_err(db)?,
                "contributions",
                &person_owner(c.member),
            )?
            .iter()
            .filter(|x| x.proposal == c.proposal)
            .count();
            if let Some(why) = codesign::refuse_more_contributions(&p, written) {
                return Err(refused(why));
            }
            c.id = next_id(tx, "contribution")?;
            put_json(tx, CONTRIBUTIONS, c.id, &c)?;
            list(
                tx,
                "contributions",
                &[proposal_owner(c.proposal), person_owner(c.member)],
                c.id,
            )?;
            append(
                tx,
                AuditEvent::Contributed {
                    proposal: c.proposal,
                    contribution: c.id,
                    person: c.member,
                    suggestion: c.kind == Kind::Suggestion,
                    commitment: c.commitment.clone().unwrap_or_default(),
                },
            )?;
            Ok(c)
        })
    }

    fn contributions(&self, proposal: u64) -> Result<Vec<Contribution>, StoreError> {
        self.listed_rows(CONTRIBUTIONS, "contributions", &proposal_owner(proposal))
    }

    fn cast_vote(&self, v: Vote) -> Result<(), StoreError> {
        self.write(|tx| {
            require_person(tx, v.member)?;
            let ballot = v.ballot.to_string();
            if get_json::<&str, Tally>(tx, TALLIES, ballot.as_str())?.is_some() {
                return Err(refused(format!("the vote on {ballot} is closed")));
            }
            // A proposal's options: that proposal alone; a contest: its proposals, by their index.
            let concerned: Vec<Proposal> = match &v.ballot {
                Ballot::Options(id) => get_json(tx, PROPOSALS, *id)?.into_iter().collect(),
                Ballot::Contest(c) => rows_of(
                    &tx.open_table(LISTINGS).map_err(db)?,
                    &tx.open_table(PROPOSALS).map_err(db)?,
                    "proposals",
                    &contest_key(c),
                )?,
            };
            let concerned: Vec<&Proposal> = concerned.iter().collect();
            if let Some(why) = codesign::refuse_vote(&v.ballot, &concerned, v.at_ms) {
                return Err(refused(why));
            }
            put_json(tx, VOTES, (ballot.as_str(), v.member), &v)?;
            append(
                tx,
                AuditEvent::VoteCast {
                    ballot,
                    person: v.member,
                },
            )?;
            Ok(())
        })
    }

    fn votes(&self, ballot: &Ballot) -> Result<Vec<Vote>, StoreError> {
        let b = ballot.to_string();
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(VOTES).map_err(db)?;
        t.range::<(&str, u64)>((b.as_str(), 0)..=(b.as_str(), u64::MAX))
            .map_err(db)?
            .map(|r| r.map_err(db).and_then(|(_, v)| from_json(v.value())))
            .collect()
    }

    fn put_tally(&self, ballot: &Ballot, tally: Tally) -> Result<Tally, StoreError> {
        let b = ballot.to_string();
        self.write(|tx| {
            if let Some(t) = get_json::<&str, Tally>(tx, TALLIES, b.as_str())? {
                return Ok(t);
            }
            put_json(tx, TALLIES, b.as_str(), &tally)?;
            Ok(tally)
        })
    }

    fn tally(&self, ballot: &Ballot) -> Result<Option<Tally>, StoreError> {
        self.read_json(TALLIES, ballot.to_string().as_str())
    }

    fn pledge(&self, mut pl: Pledge) -> Result<Pledge, StoreError> {
        self.write(|tx| {
            require_person(tx, pl.member)?;
            let p = proposal_in(tx, pl.proposal)?;
            if let Some(why) = codesign::refuse_pledge(&p, &pl) {
                return Err(refused(why));
            }
            // The member's own pledges (their listing), not every pledge of the proposal.
            let held = rows_of::<Pledge>(
                &tx.open_table(LISTINGS).map_err(db)?,
                &tx.open_table(PLEDGES).map_err(db)?,
                "pledges",
                &person_owner(pl.member),
            )?
            .iter()
            .filter(|x| x.proposal == pl.proposal && x.status == PledgeStatus::Held)
            .count();
            if let Some(why) = codesign::refuse_more_pledges(&p, held) {
                return Err(refused(why));
            }
            pl.id = next_id(tx, "pledge")?;
            pl.status = PledgeStatus::Held;
            pl.version = p.version();
            pl.closed_ms = None;
            put_json(tx, PLEDGES, pl.id, &pl)?;
            list(
                tx,
                "pledges",
                &[proposal_owner(pl.proposal), person_owner(pl.member)],
                pl.id,
            )?;
            append(
                tx,
                AuditEvent::Pledged {
                    pledge: pl.id,
                    proposal: pl.proposal,
                    person: pl.member,
                    minor: pl.amount.minor,
                    currency: pl.amount.currency.clone(),
                },
            )?;
            post_in(
                tx,
                &codesign::pledge_key(pl.id),
                codesign::pledge_entries(&pl),
            )?;
            Ok(pl)
        })
    }

    fn withdraw_pledge(
        &self,
        proposal: u64,
        pledge: u64,
        at_ms: i64,
    ) -> Result<Pledge, StoreError> {
        self.write(|tx| {
            let p = proposal_in(tx, proposal)?;
            let mut pl: Pledge = get_json(tx, PLEDGES, pledge)?
                .filter(|pl: &Pledge| pl.proposal == proposal)
                .ok_or(StoreError::NoPledge { proposal, pledge })?;
            if let Some(why) = codesign::refuse_withdrawal(&p, &pl, at_ms) {
                return Err(refused(why));
            }
            pl.status = PledgeStatus::Withdrawn;
            pl.closed_ms = Some(at_ms);
            put_json(tx, PLEDGES, pl.id, &pl)?;
            append(
                tx,
                AuditEvent::PledgeWithdrawn {
                    pledge: pl.id,
                    proposal,
                    person: pl.member,
                },
            )?;
            post_in(
                tx,
                &codesign::refund_key(pl.id),
                codesign::refund_entries(&pl, at_ms, "withdrawn by the member"),
            )?;
            Ok(pl)
        })
    }

    fn pledges(&self, proposal: u64) -> Result<Vec<Pledge>, StoreError> {
        self.listed_rows(PLEDGES, "pledges", &proposal_owner(proposal))
    }

    fn pledges_of(&self, person: PersonId) -> Result<Vec<Pledge>, StoreError> {
        self.listed_rows(PLEDGES, "pledges", &person_owner(person))
    }

    fn settle_proposal(
        &self,
        proposal: u64,
        commission_bps: u32,
        at_ms: i64,
    ) -> Result<Proposal, StoreError> {
        self.write(|tx| {
            let p = proposal_in(tx, proposal)?;
            if p.settled() {
                return Ok(p);
            }
            if let Some(why) = codesign::refuse_settlement(&p, at_ms) {
                return Err(refused(why));
            }
            let held: Vec<Pledge> = pledges_in(tx, proposal)?
                .into_iter()
                .filter(|pl| pl.status == PledgeStatus::Held)
                .collect();
            let (settled, pledges, postings) = codesign::settle(&p, &held, commission_bps, at_ms);
            for pl in &pledges {
                put_json(tx, PLEDGES, pl.id, pl)?;
            }
            put_proposal_in(tx, Some(&p), &settled)?;
            append(
                tx,
                AuditEvent::ProposalSettled {
                    proposal,
                    funded: settled.settlement.as_ref().is_some_and(|s| s.funded),
                    pledges: pledges.len() as u32,
                },
            )?;
            for (key, entries) in postings {
                post_in(tx, &key, entries)?;
            }
            Ok(settled)
        })
    }
}

/// Deletes a person's contributions (from both listings) and votes, inside `tx` (erasure).
pub(super) fn erase_contributions(
    tx: &WriteTransaction,
    person: PersonId,
) -> Result<(), StoreError> {
    let owner = person_owner(person);
    let ids = listed(
        &tx.open_table(LISTINGS).map_err(db)?,
        "contributions",
        &owner,
        Page::first(usize::MAX),
    )?;
    for id in ids {
        let c: Option<Contribution> = get_json(tx, CONTRIBUTIONS, id)?;
        tx.open_table(CONTRIBUTIONS)
            .map_err(db)?
            .remove(id)
            .map_err(db)?;
        if let Some(c) = c {
            unlist(
                tx,
                "contributions",
                &[proposal_owner(c.proposal), owner.clone()],
                id,
            )?;
        }
    }
    tx.open_table(VOTES)
        .map_err(db)?
        .retain(|(_, p), _| p != person)
        .map_err(db)?;
    Ok(())
}
