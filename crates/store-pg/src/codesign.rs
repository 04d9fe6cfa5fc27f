//! Co-design: proposals, contributions, votes, tallies and pledges in escrow.
//!
//! Every step that moves money runs in an operator transaction (the ledger's) with the
//! proposal's row locked `FOR UPDATE`, so a pledge, a withdrawal and the settlement take turns
//! on one proposal across nodes; contributions take the row `FOR SHARE`. A vote and the tally
//! of its ballot take turns on an advisory lock of the ballot.

use super::*;
use insitu_model::codesign::{
    self, Ballot, Contribution, Kind, Pledge, PledgeStatus, Proposal, Tally, Vote,
};
use insitu_store::{CodesignStore, Proposals};

fn refused(why: String) -> StoreError {
    StoreError::Codesign(why)
}

/// The proposal `id`, locked as `lock` says (`FOR UPDATE` or `FOR SHARE`).
async fn locked(c: &impl Db, id: u64, lock: &str) -> Res<Proposal> {
    one(
        c,
        &format!("SELECT value FROM proposals WHERE id = $1 {lock}"),
        &[&key(id)],
    )
    .await?
    .ok_or(StoreError::NoProposal(id))
}

async fn put_pledge(tx: &Tx<'_>, pl: &Pledge) -> Res<()> {
    tx.execute(
        "INSERT INTO pledges (proposal, id, person, value) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (proposal, id) DO UPDATE SET value = EXCLUDED.value",
        &[&key(pl.proposal), &key(pl.id), &key(pl.member), &json(pl)],
    )
    .await
    .map_err(db)?;
    Ok(())
}

async fn put_proposal_row(tx: &Tx<'_>, p: &Proposal) -> Res<()> {
    tx.execute(
        "INSERT INTO proposals (id, organisation, value) VALUES ($1, $2, $3) \
         ON CONFLICT (id) DO UPDATE SET value = EXCLUDED.value",
        &[&key(p.id), &p.organisation, &json(p)],
    )
    .await
    .map_err(db)?;
    Ok(())
}

/// Takes the ballot's advisory lock for the rest of the transaction.
async fn lock_ballot(tx: &Tx<'_>, ballot: &str) -> Res<()> {
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtext('ballot:' || $1))",
        &[&ballot],
    )
    .await
    .map_err(db)?;
    Ok(())
}

impl CodesignStore for PgStore {
    fn put_proposal(&self, mut p: Proposal) -> Result<Proposal, StoreError> {
        self.with(|cx| async move {
            let mut c = cx.conn().await?;
            let tx = Tx::audited(&mut c, &cx).await?;
            let old = if p.id == 0 {
                p.id = next_id(&tx, "proposal").await?;
                None
            } else {
                let old = locked(&tx, p.id, "FOR UPDATE").await?;
                if old.settled() {
                    return Err(refused(codesign::settled_refusal(p.id)));
                }
                if !codesign::extends(&old, &p) {
                    return Err(refused(codesign::stale_refusal(p.id)));
                }
                Some(old)
            };
            put_proposal_row(&tx, &p).await?;
            for e in insitu_store::codesign_events(old.as_ref(), &p) {
                append(&tx, e).await?;
            }
            tx.commit().await?;
            Ok(p)
        })
    }

    fn proposal(&self, id: u64) -> Result<Proposal, StoreError> {
        self.with(|cx| async move {
            let c = cx.conn().await?;
            locked(&c, id, "").await
        })
    }

    fn proposals_page(&self, which: &Proposals, page: Page) -> Result<Vec<Proposal>, StoreError> {
        // Each by its index of `V8__proposal_listings.sql` (the same expressions).
        let (filter, arg) = match which {
            Proposals::All => ("", None),
            Proposals::Of(o) => (" AND organisation = $3", Some(o.clone())),
            Proposals::Public => (
                " AND (value->>'status') IN ('public', 'funded', 'unfunded')",
                None,
            ),
            Proposals::InReview => (" AND (value->>'status') = 'in_review'", None),
            Proposals::Contest(c) => (
                " AND (value->>'contest') IS NOT NULL AND (value->>'contest') = $3",
                Some(c.clone()),
            ),
            Proposals::Unsettled => (" AND (value->>'settlement') IS NULL", None),
        };
        let sql =
            format!("SELECT value FROM proposals WHERE id < $1{filter} ORDER BY id DESC LIMIT $2");
        self.with(|cx| async move {
            let c = cx.conn().await?;
            let (before, limit) = bounds(&page);
            match &arg {
                Some(a) => all(&c, &sql, &[&before, &limit, a]).await,
                None => all(&c, &sql, &[&before, &limit]).await,
            }
        })
    }

    fn add_contribution(&self, mut ct: Contribution) -> Result<Contribution, StoreError> {
        self.with(|cx| async move {
            let mut c = cx.conn().await?;
            let tx = Tx::audited_for(&mut c, &cx, &[Chain::Person(ct.member)]).await?;
            require_person(&tx, ct.member).await?;
            let p = locked(&tx, ct.proposal, "FOR SHARE").await?;
            if let Some(why) = codesign::refuse_contribution(&p, ct.at_ms) {
                return Err(refused(why));
            }
            let written: i64 = tx
                .query_one(
                    "SELECT count(*) FROM contributions WHERE proposal = $1 AND person = $2",
                    &[&key(ct.proposal), &key(ct.member)],
                )
                .await
                .map_err(db)?
                .try_get(0)
                .map_err(db)?;
            if let Some(why) = codesign::refuse_more_contributions(&p, written as usize) {
                return Err(refused(why));
            }
            ct.id = next_id(&tx, "contribution").await?;
            tx.execute(
                "INSERT INTO contributions (proposal, id, person, value) VALUES ($1, $2, $3, $4)",
                &[&key(ct.proposal), &key(ct.id), &key(ct.member), &json(&ct)],
            )
            .await
            .map_err(db)?;
            append(
                &tx,
                AuditEvent::Contributed {
                    proposal: ct.proposal,
                    contribution: ct.id,
                    person: ct.member,
                    suggestion: ct.kind == Kind::Suggestion,
                    commitment: ct.commitment.clone().unwrap_or_default(),
                },
            )
            .await?;
            tx.commit().await?;
            Ok(ct)
        })
    }

    fn contributions(&self, proposal: u64) -> Result<Vec<Contribution>, StoreError> {
        self.with(|cx| async move {
            let c = cx.conn().await?;
            all(
                &c,
                "SELECT value FROM contributions WHERE proposal = $1 ORDER BY id",
                &[&key(proposal)],
            )
            .await
        })
    }

    fn cast_vote(&self, v: Vote) -> Result<(), StoreError> {
        self.with(|cx| async move {
            let mut c = cx.conn().await?;
            let tx = Tx::audited_for(&mut c, &cx, &[Chain::Person(v.member)]).await?;
            require_person(&tx, v.member).await?;
            let ballot = v.ballot.to_string();
            lock_ballot(&tx, &ballot).await?;
            let tallied: Option<Tally> = one(
                &tx,
                "SELECT value FROM tallies WHERE ballot = $1",
                &[&ballot],
            )
            .await?;
            if tallied.is_some() {
                return Err(refused(format!("the vote on {ballot} is closed")));
            }
            let proposals: Vec<Proposal> = match &v.ballot {
                Ballot::Options(id) => {
                    all(
                        &tx,
                        "SELECT value FROM proposals WHERE id = $1",
                        &[&key(*id)],
                    )
                    .await?
                }
                Ballot::Contest(c) => {
                    all(
                        &tx,
                        "SELECT value FROM proposals \
                         WHERE (value->>'contest') IS NOT NULL AND (value->>'contest') = $1",
                        &[c],
                    )
                    .await?
                }
            };
            let refs: Vec<&Proposal> = proposals.iter().collect();
            if let Some(why) = codesign::refuse_vote(&v.ballot, &refs, v.at_ms) {
                return Err(refused(why));
            }
            tx.execute(
                "INSERT INTO votes (ballot, person, value) VALUES ($1, $2, $3) \
                 ON CONFLICT (ballot, person) DO UPDATE SET value = EXCLUDED.value",
                &[&ballot, &key(v.member), &json(&v)],
            )
            .await
            .map_err(db)?;
            append(
                &tx,
                AuditEvent::VoteCast {
                    ballot,
                    person: v.member,
                },
            )
            .await?;
            tx.commit().await
        })
    }

    fn votes(&self, ballot: &Ballot) -> Result<Vec<Vote>, StoreError> {
        let b = ballot.to_string();
        self.with(|cx| async move {
            let c = cx.conn().await?;
            all(
                &c,
                "SELECT value FROM votes WHERE ballot = $1 ORDER BY person",
                &[&b],
            )
            .await
        })
    }

    fn put_tally(&self, ballot: &Ballot, tally: Tally) -> Result<Tally, StoreError> {
        let b = ballot.to_string();
        self.with(|cx| async move {
            let mut c = cx.conn().await?;
            let tx = Tx::plain(&mut c, &cx).await?;
            lock_ballot(&tx, &b).await?;
            if let Some(t) = one(&tx, "SELECT value FROM tallies WHERE ballot = $1", &[&b]).await? {
                return Ok(t);
            }
            tx.execute(
                "INSERT INTO tallies (ballot, value) VALUES ($1, $2)",
                &[&b, &json(&tally)],
            )
            .await
            .map_err(db)?;
            tx.commit().await?;
            Ok(tally)
        })
    }

    fn tally(&self, ballot: &Ballot) -> Result<Option<Tally>, StoreError> {
        let b = ballot.to_string();
        self.with(|cx| async move {
            let c = cx.conn().await?;
            one(&c, "SELECT value FROM tallies WHERE ballot = $1", &[&b]).await
        })
    }

    fn pledge(&self, mut pl: Pledge) -> Result<Pledge, StoreError> {
        self.with(|cx| async move {
            let mut c = cx.conn().await?;
            let tx = Tx::audited(&mut c, &cx).await?;
            require_person(&tx, pl.member).await?;
            let p = locked(&tx, pl.proposal, "FOR UPDATE").await?;
            if let Some(why) = codesign::refuse_pledge(&p, &pl) {
                return Err(refused(why));
            }
            let held = all::<Pledge>(
                &tx,
                "SELECT value FROM pledges WHERE proposal = $1 AND person = $2",
                &[&key(pl.proposal), &key(pl.member)],
            )
            .await?
            .iter()
            .filter(|x| x.status == PledgeStatus::Held)
            .count();
            if let Some(why) = codesign::refuse_more_pledges(&p, held) {
                return Err(refused(why));
            }
            pl.id = next_id(&tx, "pledge").await?;
            pl.status = PledgeStatus::Held;
            pl.version = p.version();
            pl.closed_ms = None;
            put_pledge(&tx, &pl).await?;
            append(
                &tx,
                AuditEvent::Pledged {
                    pledge: pl.id,
                    proposal: pl.proposal,
                    person: pl.member,
                    minor: pl.amount.minor,
                    currency: pl.amount.currency.clone(),
                },
            )
            .await?;
            post_in(
                &tx,
                &codesign::pledge_key(pl.id),
                codesign::pledge_entries(&pl),
            )
            .await?;
            tx.commit().await?;
            Ok(pl)
        })
    }

    fn withdraw_pledge(
        &self,
        proposal: u64,
        pledge: u64,
        at_ms: i64,
    ) -> Result<Pledge, StoreError> {
        self.with(|cx| async move {
            let mut c = cx.conn().await?;
            let tx = Tx::audited(&mut c, &cx).await?;
            let p = locked(&tx, proposal, "FOR UPDATE").await?;
            let mut pl: Pledge = one(
                &tx,
                "SELECT value FROM pledges WHERE proposal = $1 AND id = $2",
                &[&key(proposal), &key(pledge)],
            )
            .await?
            .ok_or(StoreError::NoPledge { proposal, pledge })?;
            if let Some(why) = codesign::refuse_withdrawal(&p, &pl, at_ms) {
                return Err(refused(why));
            }
            pl.status = PledgeStatus::Withdrawn;
            pl.closed_ms = Some(at_ms);
            put_pledge(&tx, &pl).await?;
            append(
                &tx,
                AuditEvent::PledgeWithdrawn {
                    pledge: pl.id,
                    proposal,
                    person: pl.member,
                },
            )
            .await?;
            post_in(
                &tx,
                &codesign::refund_key(pl.id),
                codesign::refund_entries(&pl, at_ms, "withdrawn by the member"),
            )
            .await?;
            tx.commit().await?;
            Ok(pl)
        })
    }

    fn pledges(&self, proposal: u64) -> Result<Vec<Pledge>, StoreError> {
        self.with(|cx| async move {
            let c = cx.conn().await?;
            all(
                &c,
                "SELECT value FROM pledges WHERE proposal = $1 ORDER BY id",
                &[&key(proposal)],
            )
            .await
        })
    }

    fn pledges_of(&self, person: PersonId) -> Result<Vec<Pledge>, StoreError> {
        self.with(|cx| async move {
            let c = cx.conn().await?;
            all(
                &c,
                "SELECT value FROM pledges WHERE person = $1 ORDER BY id",
                &[&key(person)],
            )
            .await
        })
    }

    fn settle_proposal(
        &self,
        proposal: u64,
        commission_bps: u32,
        at_ms: i64,
    ) -> Result<Proposal, StoreError> {
        self.with(|cx| async move {
            let mut c = cx.conn().await?;
            let tx = Tx::audited(&mut c, &cx).await?;
            let p = locked(&tx, proposal, "FOR UPDATE").await?;
            if p.settled() {
                return Ok(p);
            }
            if let Some(why) = codesign::refuse_settlement(&p, at_ms) {
                return Err(refused(why));
            }
            let held: Vec<Pledge> = all::<Pledge>(
                &tx,
                "SELECT value FROM pledges WHERE proposal = $1 ORDER BY id",
                &[&key(proposal)],
            )
            .await?
            .into_iter()
            .filter(|pl| pl.status == PledgeStatus::Held)
            .collect();
            let (settled, pledges, postings) = codesign::settle(&p, &held, commission_bps, at_ms);
            for pl in &pledges {
                put_pledge(&tx, pl).await?;
            }
            put_proposal_row(&tx, &settled).await?;
            append(
                &tx,
                AuditEvent::ProposalSettled {
                    proposal,
                    funded: settled.settlement.as_ref().is_some_and(|s| s.funded),
                    pledges: pledges.len() as u32,
                },
            )
            .await?;
            for (k, entries) in postings {
                post_in(&tx, &k, entries).await?;
            }
            tx.commit().await?;
            Ok(settled)
        })
    }
}
