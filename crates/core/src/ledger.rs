//! The billing ledger: double entry, in exact integer minor units.
//!
//! Every movement is an [`Entry`]: one party pays (is debited), another is paid (is credited),
//! the same amount, positive. A party's balance is what it was credited less what it was
//! debited, per currency; over all parties the balances of each currency therefore sum to zero,
//! whatever happened (the trial balance). Entries are posted in groups under a key, in one
//! transaction; a key posted twice adds nothing, so a retried or resumed billing step never
//! bills twice.
//!
//! What each movement is:
//! - a run's price, from the plugin's manifest and the run's declared limits (per run, per
//!   million fuel and per thousand records of its budget, each part rounded up to the unit;
//!   never from what the run used, which depends on the person's data), quoted and posted
//!   when the run starts, split between the developer, the operator's commission and the
//!   member's reward, with the operator's right-of-passage fee on top ([`run_entries`]);
//! - an access fee: the requester pays the operator per approved grant;
//! - a brand's yearly membership;
//! - a campaign's settlement and a study's rewards (the billing records those jobs leave,
//!   typed with their parties and movement when written, taken over as entries by
//!   [`take_over`]).
//!
//! Who pays a run: the organisation that started it under a grant it obtained; for a campaign
//! or study member's run, the job's owner; for a person's own run (even under a grant an
//! organisation obtained), a licence or sponsorship that covers them, else nobody within their
//! free runs of the month, else the person (`licence.rs`). Every admitted run is billed at its
//! quoted price, whether it then succeeded or failed: whether it succeeded depends on the
//! person's data, so it must not change what the payer sees. A run refused before it started
//! (no live grant) is not billed.
//!
//! Posting ([`bill_run`] when a run starts, [`bill_job`], [`reconcile`]) happens under the
//! action's key, dated at the action's start; [`reconcile`] posts whatever a crash between the
//! two left unbilled.
//!
//! May touch: the store (posting and reading entries); the rules above it are pure.

pub use insitu_model::ledger::*;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::job::BillingRecord;
use crate::meter::RunRecord;
use crate::output::Money;
use crate::package::Pricing;
use crate::sandbox::Limits;
use crate::store::{PersonId, Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    #[error("an amount must be positive; got {0}")]
    NotPositive(i64),
    #[error("a party cannot pay itself ({0})")]
    SelfPayment(String),
    #[error("the shares add up to more than the whole: {0} basis points")]
    Shares(u32),
    #[error("the price overflows")]
    Overflow,
}

/// `a * b / d`, rounded up, in i128; `None` on overflow.
fn mul_div_up(a: i64, b: u64, d: u64) -> Option<i64> {
    let p = (a as i128).checked_mul(b as i128)?;
    let q = (p + d as i128 - 1).div_euclid(d as i128);
    i64::try_from(q).ok()
}

/// A run's price under `pricing`, in its minor units, for a run declared with a budget of
/// `fuel` and `records`: per run, plus per million fuel and per thousand records of that
/// budget, each part rounded up to the unit. The budget is the run's declared limits, never
/// what it used: what the payer is charged must not depend on the person's data.
pub fn price(pricing: &Pricing, fuel: u64, records: u64) -> Result<i64, LedgerError> {
    let fuel = mul_div_up(pricing.per_million_fuel, fuel, 1_000_000);
    let records = mul_div_up(pricing.per_thousand_records, records, 1_000);
    fuel.zip(records)
        .and_then(|(f, r)| pricing.per_run.checked_add(f)?.checked_add(r))
        .ok_or(LedgerError::Overflow)
}

/// The price of a run with `limits` under `pricing`, in the pricing's currency (the tariff's
/// when the manifest names none). Fixed before the run starts.
pub fn quote(store: &dyn Store, pricing: &Pricing, limits: &Limits) -> Result<Money, BillingError> {
    let minor = price(pricing, limits.fuel, limits.records)?;
    let currency = if pricing.currency.is_empty() {
        store.tariff()?.currency
    } else {
        pricing.currency.clone()
    };
    Ok(Money { minor, currency })
}

/// `amount * bps / 10000`, rounded down.
pub fn share(amount: i64, bps: u32) -> i64 {
    (amount as i128 * bps as i128 / 10_000) as i64
}

/// A posting's entries, each checked: positive, and not a party paying itself. Zero amounts are
/// left out (a free part of a price moves nothing).
pub fn entries(
    key: &str,
    at_ms: i64,
    moves: Vec<(Party, Party, i64, Movement, String)>,
    currency: &str,
) -> Result<Vec<Entry>, LedgerError> {
    let mut out = Vec::new();
    for (debit, credit, minor, movement, memo) in moves {
        if minor == 0 {
            continue;
        }
        if minor < 0 {
            return Err(LedgerError::NotPositive(minor));
        }
        if debit == credit {
            return Err(LedgerError::SelfPayment(debit.to_string()));
        }
        out.push(Entry {
            id: 0,
            at_ms,
            key: key.to_string(),
            debit,
            credit,
            amount: Money {
                minor,
                currency: currency.to_string(),
            },
            movement,
            memo,
        });
    }
    Ok(out)
}

/// Who a run is billed to and for, and when.
#[derive(Debug, Clone)]
pub struct RunBill<'a> {
    pub run: u64,
    pub at_ms: i64,
    pub payer: &'a Party,
    /// The plugin's publisher.
    pub developer: &'a str,
    /// The person whose data the run read.
    pub member: PersonId,
    /// The licence paying for it, if one does.
    pub licence: Option<u64>,
}

/// What one run costs its payer: the price split between the developer, the operator's
/// commission and the member's share, plus the right of passage to the operator.
pub fn run_entries(
    bill: &RunBill<'_>,
    price: &Money,
    tariff: &Tariff,
) -> Result<Vec<Entry>, LedgerError> {
    let RunBill {
        run,
        at_ms,
        payer,
        developer,
        member,
        licence,
    } = *bill;
    let bps = tariff.commission_bps + tariff.member_share_bps;
    if bps > 10_000 {
        return Err(LedgerError::Shares(bps));
    }
    let (p, currency) = (price.minor, price.currency.clone());
    let commission = share(p, tariff.commission_bps);
    let member_share = share(p, tariff.member_share_bps);
    let dev = p - commission - member_share;
    let via = licence
        .map(|l| format!(" {}", crate::licence::tag(l)))
        .unwrap_or_default();
    let memo = |what: &str| format!("{what}, run {run}{via}");
    // The passage is in the tariff's currency; a run priced in another one pays it apart.
    let mut out = entries(
        &format!("run:{run}"),
        at_ms,
        vec![
            (
                payer.clone(),
                Party::Developer(developer.into()),
                dev,
                Movement::RunPrice,
                memo("price"),
            ),
            (
                payer.clone(),
                Party::Operator,
                commission,
                Movement::Commission,
                memo("commission"),
            ),
            (
                payer.clone(),
                Party::Person(member),
                // A member running a plugin on their own data keeps their share: it is a
                // discount, not a payment to themselves.
                if *payer == Party::Person(member) {
                    0
                } else {
                    member_share
                },
                Movement::MemberShare,
                memo("member's share"),
            ),
        ],
        &currency,
    )?;
    out.extend(entries(
        &format!("run:{run}"),
        at_ms,
        vec![(
            payer.clone(),
            Party::Operator,
            tariff.passage_per_run,
            Movement::Passage,
            memo("right of passage"),
        )],
        &tariff.currency,
    )?);
    Ok(out)
}

/// Folds a job's entries so that the payer's statement shows totals only, never one line per
/// member (which would tell who was scanned, matched, failed or rewarded): what members are
/// paid goes through the operator (the payer pays the operator one total; the operator pays
/// each member), and the rest is summed per payee and movement.
pub fn fold_for_job(job: u64, at_ms: i64, entries: Vec<Entry>) -> Vec<Entry> {
    let mut totals: BTreeMap<(Party, Party, Movement, String), i64> = BTreeMap::new();
    let mut to_members = Vec::new();
    for e in entries {
        let cur = e.amount.currency.clone();
        if matches!(e.credit, Party::Person(_)) && e.debit != Party::Operator {
            *totals
                .entry((e.debit.clone(), Party::Operator, e.movement, cur))
                .or_default() += e.amount.minor;
            to_members.push(Entry {
                debit: Party::Operator,
                ..e
            });
        } else {
            *totals
                .entry((e.debit, e.credit, e.movement, cur))
                .or_default() += e.amount.minor;
        }
    }
    let mut out: Vec<Entry> = totals
        .into_iter()
        .filter(|(_, v)| *v > 0)
        .map(|((debit, credit, movement, currency), minor)| Entry {
            id: 0,
            at_ms,
            key: String::new(),
            memo: format!("{} for job {job}, in total", movement_name(movement)),
            debit,
            credit,
            amount: Money { minor, currency },
            movement,
        })
        .collect();
    out.extend(to_members);
    out
}

fn movement_name(m: Movement) -> String {
    serde_json::to_value(m)
        .ok()
        .and_then(|v| v.as_str().map(|s| s.replace('_', " ")))
        .unwrap_or_default()
}

/// A campaign's or study's billing records, as entries: each record's payer pays its payee for
/// its movement, as the job wrote them (members through the operator: see [`fold_for_job`]).
pub fn take_over(records: &[BillingRecord], at_ms: i64) -> Result<Vec<Entry>, LedgerError> {
    let mut out = Vec::new();
    for r in records {
        out.extend(entries(
            &format!("job:{}", r.job),
            at_ms,
            vec![(
                r.from.clone(),
                r.to.clone(),
                r.amount.minor,
                r.movement,
                r.memo.clone(),
            )],
            &r.amount.currency,
        )?);
    }
    Ok(match records.first() {
        Some(r) => fold_for_job(r.job, at_ms, out),
        None => out,
    })
}

/// The party an account name stands for: a person account's person, else an organisation.
fn party_of(store: &dyn Store, name: &str) -> Result<Party, StoreError> {
    Ok(match store.account_by_name(name)? {
        Some(a) if a.role == crate::account::Role::Person => a
            .person
            .map_or(Party::Organisation(name.into()), Party::Person),
        _ => Party::Organisation(name.into()),
    })
}

/// Prices runs, remembering what it looked up (plugins, job owners, the tariff).
struct Pricer<'a> {
    store: &'a dyn Store,
    tariff: Tariff,
    /// Per digest: the developer and the manifest id.
    plugins: BTreeMap<String, Option<(String, String)>>,
    owners: BTreeMap<u64, Party>,
    /// The ledger, read once, when a licence's quota must be counted.
    ledger: Option<Vec<Entry>>,
}

impl<'a> Pricer<'a> {
    fn new(store: &'a dyn Store) -> Result<Self, StoreError> {
        Ok(Pricer {
            store,
            tariff: store.tariff()?,
            plugins: BTreeMap::new(),
            owners: BTreeMap::new(),
            ledger: None,
        })
    }

    /// The entries a run is billed: its quoted price, whatever the run then did (none for a
    /// run refused before it started, which has no price, or a plugin without a manifest).
    fn entries(&mut self, run: &RunRecord) -> Result<Vec<Entry>, BillingError> {
        let Some(price) = &run.price else {
            return Ok(Vec::new());
        };
        if !self.plugins.contains_key(&run.plugin_digest) {
            let p = self.store.plugin(&run.plugin_digest)?;
            let named = p.manifest.as_ref().map(|m| {
                let dev = p.publisher.clone().unwrap_or_else(|| m.publisher.clone());
                (dev, m.id.clone())
            });
            self.plugins.insert(run.plugin_digest.clone(), named);
        }
        let Some(Some((developer, plugin_id))) = self.plugins.get(&run.plugin_digest) else {
            return Ok(Vec::new());
        };
        let (developer, plugin_id) = (developer.clone(), plugin_id.clone());
        let mut licence = None;
        let payer = match (&run.requester, run.job) {
            (_, Some(job)) => {
                if !self.owners.contains_key(&job) {
                    let owner = self.store.job(job)?.owner;
                    self.owners.insert(job, party_of(self.store, &owner)?);
                }
                self.owners[&job].clone()
            }
            (Some(org), None) => Party::Organisation(org.clone()),
            (None, None) => {
                let (store, ledger) = (self.store, &mut self.ledger);
                let covering = crate::licence::covering(
                    store,
                    run.person,
                    &plugin_id,
                    run.started_ms,
                    |id| {
                        if ledger.is_none() {
                            *ledger = Some(store.ledger()?);
                        }
                        Ok(crate::licence::runs_paid(
                            ledger.as_deref().unwrap_or(&[]),
                            id,
                        ))
                    },
                )?;
                match covering {
                    Some(l) => {
                        licence = Some(l.id);
                        Party::Organisation(l.organisation)
                    }
                    None => {
                        let used = crate::licence::free_runs_this_month(
                            store,
                            run.person,
                            &run.plugin_digest,
                            run.started_ms,
                            run.id,
                            self.tariff.free_runs_per_month,
                        )?;
                        if used < self.tariff.free_runs_per_month {
                            return Ok(Vec::new());
                        }
                        Party::Person(run.person)
                    }
                }
            }
        };
        let bill = RunBill {
            run: run.id,
            // The run's start, not the moment of posting: a payer's statement must not tell
            // when someone else's run finished.
            at_ms: run.started_ms,
            payer: &payer,
            developer: &developer,
            member: run.person,
            licence,
        };
        Ok(run_entries(&bill, price, &self.tariff)?)
    }
}

/// Posts a run's price (see the module's rules on who pays); nothing for a failed run.
pub fn bill_run(store: &dyn Store, run: &RunRecord) -> Result<Vec<Entry>, BillingError> {
    let e = Pricer::new(store)?.entries(run)?;
    Ok(store.post(&format!("run:{}", run.id), e)?)
}

/// Posts the price of `job`'s member runs as one posting (`job-runs:N`), folded so that the
/// owner's statement shows totals only ([`fold_for_job`]). Returns the runs billed.
pub fn bill_members(store: &dyn Store, job: u64) -> Result<u64, BillingError> {
    let key = format!("job-runs:{job}");
    if store.posted(&key)? {
        return Ok(0);
    }
    let mut pricer = Pricer::new(store)?;
    let mut all = Vec::new();
    let mut n = 0;
    let runs: Vec<u64> = store
        .members(job)?
        .iter()
        .map(|m| m.run)
        .filter(|&r| r != 0)
        .collect();
    // A thousand runs a read, in run order (a member's run is the member's own).
    for ids in runs.chunks(1000) {
        let read: std::collections::HashMap<u64, RunRecord> = store
            .runs_by_id(ids)?
            .into_iter()
            .map(|r| (r.id, r))
            .collect();
        for id in ids {
            let r = read.get(id).ok_or(StoreError::NoRun(*id))?;
            let e = pricer.entries(r)?;
            n += !e.is_empty() as u64;
            all.extend(e);
        }
    }
    store.post(&key, fold_for_job(job, job_date(store, job)?, all))?;
    Ok(n)
}

/// Posts a job's billing records (a settlement, a study's rewards) as entries.
pub fn bill_job(store: &dyn Store, job: u64) -> Result<Vec<Entry>, BillingError> {
    let records = store.billing(Some(job))?;
    if records.is_empty() {
        return Ok(Vec::new());
    }
    Ok(store.post(
        &format!("job:{job}"),
        take_over(&records, job_date(store, job)?)?,
    )?)
}

/// When a job's postings are dated: its release time (or now, if later), never the moment it
/// closed, which depends on how long its members' runs took. Statements show entries only
/// once their date has come.
fn job_date(store: &dyn Store, job: u64) -> Result<i64, StoreError> {
    Ok(store.job(job)?.release_ms.max(store.now_ms()))
}

/// Posts the access fee the requester of `grant` owes the operator (nothing for a grant the
/// person made without a request).
pub fn bill_access(
    store: &dyn Store,
    grant: &crate::consent::Grant,
) -> Result<Vec<Entry>, BillingError> {
    let Some(origin) = &grant.origin else {
        return Ok(Vec::new());
    };
    let t = store.tariff()?;
    let e = entries(
        "",
        store.now_ms(),
        vec![(
            Party::Organisation(origin.requester.clone()),
            Party::Operator,
            t.access_fee,
            Movement::AccessFee,
            format!(
                "access to person {}'s data, grant {}",
                grant.person, grant.id
            ),
        )],
        &t.currency,
    )?;
    Ok(store.post(&format!("grant:{}", grant.id), e)?)
}

/// Posts a brand's membership for `year`.
pub fn bill_membership(
    store: &dyn Store,
    brand: &str,
    year: i32,
) -> Result<Vec<Entry>, BillingError> {
    let t = store.tariff()?;
    let e = entries(
        "",
        store.now_ms(),
        vec![(
            Party::Organisation(brand.into()),
            Party::Operator,
            t.membership_per_year,
            Movement::Membership,
            format!("membership {year}"),
        )],
        &t.currency,
    )?;
    Ok(store.post(&format!("membership:{brand}:{year}"), e)?)
}

/// Bills every run and job not billed yet (after a crash between an action and its billing).
/// Returns the number of postings made.
pub fn reconcile(store: &dyn Store) -> Result<u64, BillingError> {
    let mut pricer = Pricer::new(store)?;
    let mut batch = Vec::new();
    for r in store.runs(None)? {
        let key = format!("run:{}", r.id);
        if r.job.is_none() && !store.posted(&key)? {
            batch.push((key, pricer.entries(&r)?));
        }
    }
    let mut n = store.post_many(batch)?;
    for l in store.licences()? {
        if !store.posted(&format!("licence:{}", l.id))? {
            crate::licence::bill(store, &l)
                .map_err(|e| BillingError::Licence(l.id, e.to_string()))?;
            n += 1;
        }
    }
    for j in store.jobs()? {
        if j.status != crate::job::JobStatus::Running && bill_members(store, j.id)? > 0 {
            n += 1;
        }
    }
    for g in store.grants(None)? {
        if g.origin.is_some() && !store.posted(&format!("grant:{}", g.id))? {
            bill_access(store, &g)?;
            n += 1;
        }
    }
    let jobs: std::collections::BTreeSet<u64> =
        store.billing(None)?.iter().map(|b| b.job).collect();
    for j in jobs {
        if !store.posted(&format!("job:{j}"))? {
            bill_job(store, j)?;
            n += 1;
        }
    }
    Ok(n)
}

#[derive(Debug, thiserror::Error)]
pub enum BillingError {
    #[error("licence {0} could not be billed: {1}")]
    Licence(u64, String),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// Each party's balance per currency: credits less debits.
pub fn balances(entries: &[Entry]) -> BTreeMap<(Party, String), i64> {
    let mut b: BTreeMap<(Party, String), i64> = BTreeMap::new();
    for e in entries {
        let c = e.amount.currency.clone();
        *b.entry((e.credit.clone(), c.clone())).or_default() += e.amount.minor;
        *b.entry((e.debit.clone(), c)).or_default() -= e.amount.minor;
    }
    b
}

/// The sum of every party's balance, per currency: zero when the ledger is sound.
pub fn trial_balance(entries: &[Entry]) -> BTreeMap<String, i64> {
    let mut t: BTreeMap<String, i64> = BTreeMap::new();
    for ((_, c), v) in balances(entries) {
        *t.entry(c).or_default() += v;
    }
    t
}

/// A party's statement over `[since, until)`: its entries, what it paid and was paid, per
/// currency, and its balance at the start and the end.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Statement {
    pub party: String,
    pub since_ms: i64,
    pub until_ms: i64,
    pub lines: Vec<Entry>,
    /// Per currency: (opening, paid, received, closing).
    pub totals: BTreeMap<String, (i64, i64, i64, i64)>,
}

pub fn statement(all: &[Entry], party: &Party, since_ms: i64, until_ms: i64) -> Statement {
    let mut totals: BTreeMap<String, (i64, i64, i64, i64)> = BTreeMap::new();
    let mut lines = Vec::new();
    for e in all
        .iter()
        .filter(|e| &e.debit == party || &e.credit == party)
    {
        let t = totals.entry(e.amount.currency.clone()).or_default();
        let signed = if &e.credit == party {
            e.amount.minor
        } else {
            -e.amount.minor
        };
        if e.at_ms < since_ms {
            t.0 += signed;
        } else if e.at_ms < until_ms {
            if signed < 0 {
                t.1 -= signed;
            } else {
                t.2 += signed;
            }
            lines.push(e.clone());
        }
    }
    for t in totals.values_mut() {
        t.3 = t.0 - t.1 + t.2;
    }
    // In date order, then by key: the order entries were posted in (their ids) would tell
    // when a job's postings were made, which depends on its members' data.
    lines.sort_by(|a, b| (a.at_ms, &a.key, a.id).cmp(&(b.at_ms, &b.key, b.id)));
    Statement {
        party: party.to_string(),
        since_ms,
        until_ms,
        lines,
        totals,
    }
}

impl Statement {
    /// The statement as CSV: one line per entry, then the totals.
    pub fn to_csv(&self) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        let _ = w.write_record([
            "line", "date", "key", "movement", "from", "to", "amount", "currency", "memo",
        ]);
        for (n, e) in self.lines.iter().enumerate() {
            let signed = if e.credit.to_string() == self.party {
                e.amount.minor
            } else {
                -e.amount.minor
            };
            let _ = w.write_record([
                (n + 1).to_string(),
                crate::import::format_date(e.at_ms),
                e.key.clone(),
                serde_json::to_value(e.movement)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                e.debit.to_string(),
                e.credit.to_string(),
                decimal(signed, &e.amount.currency),
                e.amount.currency.clone(),
                e.memo.clone(),
            ]);
        }
        for (c, (open, paid, received, close)) in &self.totals {
            for (what, v) in [
                ("opening balance", *open),
                ("paid", -*paid),
                ("received", *received),
                ("closing balance", *close),
            ] {
                let _ = w.write_record(["", "", "", what, "", "", &decimal(v, c), c, ""]);
            }
        }
        String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
    }
}

/// The start (ms, UTC) of the calendar month of `ms`, and of the next: an invoice's period.
pub fn month_bounds(ms: i64) -> (i64, i64) {
    let d = crate::import::format_date(ms);
    let y: i64 = d[..4].parse().unwrap_or(1970);
    let m: i64 = d[5..7].parse().unwrap_or(1);
    let day = |y, m| crate::import::days_from_civil(y, m, 1) * 86_400_000;
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    (day(y, m), day(ny, nm))
}

/// Minor units of `currency` as a decimal with the currency's digits (`-12.50` EUR, `1200`
/// JPY): [`insitu_formats::money::decimal`].
pub use insitu_formats::money::decimal;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_price_rounds_each_part_up_to_the_unit() {
        let p = Pricing {
            currency: "EUR".into(),
            per_run: 2,
            per_million_fuel: 1,
            per_thousand_records: 1,
        };
        assert_eq!(price(&p, 0, 0), Ok(2));
        assert_eq!(price(&p, 1, 1), Ok(4));
        assert_eq!(price(&p, 2_000_000, 1_000), Ok(5));
        assert_eq!(price(&p, 2_000_001, 1_001), Ok(7));
    }

    #[test]
    fn parties_read_back_what_they_print() {
        for p in [
            Party::Person(3),
            Party::Developer("acme".into()),
            Party::Organisation("UFC Que Choisir".into()),
            Party::Operator,
        ] {
            assert_eq!(p.to_string().parse::<Party>(), Ok(p));
        }
        assert!("bank:x".parse::<Party>().is_err());
        assert!("person:x".parse::<Party>().is_err());
    }

    /// A job's records are posted with the parties and movement the job wrote: a reward whose
    /// memo does not say so is a reward, and an organisation named like another party is that
    /// organisation.
    #[test]
    fn a_jobs_records_are_taken_over_as_written_not_read_from_memo_or_names() {
        let lab = || Party::Organisation("lab".into());
        let record = |to: Party, movement: Movement, memo: &str| BillingRecord {
            id: 0,
            job: 4,
            at_ms: 1,
            from: lab(),
            to,
            amount: Money {
                minor: 10,
                currency: "EUR".into(),
            },
            movement,
            memo: memo.into(),
        };
        let posted = take_over(
            &[
                record(Party::Person(3), Movement::Reward, "thank you"),
                record(
                    Party::Organisation("operator".into()),
                    Movement::Settlement,
                    "reward the association",
                ),
            ],
            7,
        )
        .unwrap();
        let moves: Vec<_> = posted
            .iter()
            .map(|e| {
                (
                    e.debit.clone(),
                    e.credit.clone(),
                    e.movement,
                    e.amount.minor,
                )
            })
            .collect();
        assert_eq!(
            moves,
            vec![
                (
                    lab(),
                    Party::Organisation("operator".into()),
                    Movement::Settlement,
                    10
                ),
                // The member's reward goes through the operator.
                (lab(), Party::Operator, Movement::Reward, 10),
                (Party::Operator, Party::Person(3), Movement::Reward, 10),
            ]
        );
    }

    #[test]
    fn bad_entries_are_refused() {
        let e = |m| {
            entries(
                "k",
                0,
                vec![(
                    Party::Operator,
                    Party::Person(1),
                    m,
                    Movement::Reward,
                    String::new(),
                )],
                "EUR",
            )
        };
        assert_eq!(e(-1), Err(LedgerError::NotPositive(-1)));
        assert_eq!(e(0).unwrap().len(), 0);
        assert!(
            entries(
                "k",
                0,
                vec![(
                    Party::Operator,
                    Party::Operator,
                    5,
                    Movement::Reward,
                    String::new()
                )],
                "EUR"
            )
            .is_err()
        );
    }
}
