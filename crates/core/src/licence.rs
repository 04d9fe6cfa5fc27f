//! Licences: an organisation (a school, the employment service, a company) pays for a plugin
//! for its members, under its own display name (white label), with seats or a run quota, for
//! a period, at a price; or sponsors designated members' runs. And freemium: a person's own
//! runs of a plugin are free up to the tariff's monthly allowance, then paid per run.
//!
//! Who pays a person's own run (no requester, no campaign or study):
//! 1. a live licence or sponsorship of an organisation that names the person, for the plugin
//!    (by manifest id, so new versions stay covered), within its quota: the organisation;
//! 2. else, while the person has had fewer free runs of that plugin this month than the
//!    tariff allows: nobody (runs a licence paid do not count);
//! 3. else the person.
//!
//! May touch: the store.

pub use insitu_model::licence::*;

use crate::ledger::{self, Entry, Movement, Party};
use crate::store::{PersonId, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum LicenceError {
    #[error("{members} members for {seats} seats")]
    Seats { members: usize, seats: u32 },
    #[error("the period must end after it starts")]
    Period,
    #[error("no installed plugin has the manifest id `{0}`")]
    NoPlugin(String),
    #[error(transparent)]
    Billing(#[from] ledger::BillingError),
    #[error(transparent)]
    Ledger(#[from] ledger::LedgerError),
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// Stores a licence and bills its price (to the plugin's developer, less the operator's
/// commission).
pub fn grant(store: &dyn Store, mut l: Licence) -> Result<(Licence, Vec<Entry>), LicenceError> {
    if l.members.len() > l.seats as usize {
        return Err(LicenceError::Seats {
            members: l.members.len(),
            seats: l.seats,
        });
    }
    if l.until_ms <= l.since_ms {
        return Err(LicenceError::Period);
    }
    // Checked before the licence is stored: a licence must never cover runs unpaid.
    if l.price.minor < 0 {
        return Err(ledger::LedgerError::NotPositive(l.price.minor).into());
    }
    developer_of(store, &l.plugin)?;
    l.members.sort_unstable();
    l.members.dedup();
    let l = store.add_licence(l)?;
    let e = bill(store, &l)?;
    Ok((l, e))
}

/// The publisher of the installed plugin whose manifest id is `plugin`.
fn developer_of(store: &dyn Store, plugin: &str) -> Result<String, LicenceError> {
    store
        .plugins()?
        .into_iter()
        .filter_map(|p| p.manifest.map(|m| (m, p.publisher)))
        .find(|(m, _)| m.id == plugin)
        .map(|(m, publisher)| publisher.unwrap_or(m.publisher))
        .ok_or_else(|| LicenceError::NoPlugin(plugin.to_string()))
}

/// Posts a licence's price (once: `ledger::reconcile` calls this for a licence a crash left
/// unbilled).
pub fn bill(store: &dyn Store, l: &Licence) -> Result<Vec<Entry>, LicenceError> {
    let developer = developer_of(store, &l.plugin)?;
    let tariff = store.tariff()?;
    let commission = ledger::share(l.price.minor, tariff.commission_bps);
    let org = Party::Organisation(l.organisation.clone());
    let memo = format!("licence {} for {}", l.id, l.plugin);
    let e = ledger::entries(
        "",
        store.now_ms(),
        vec![
            (
                org.clone(),
                Party::Developer(developer),
                l.price.minor - commission,
                Movement::Licence,
                memo.clone(),
            ),
            (org, Party::Operator, commission, Movement::Commission, memo),
        ],
        &l.price.currency,
    )?;
    Ok(store.post(&format!("licence:{}", l.id), e)?)
}

/// The live licence that pays for `person`'s run of plugin `plugin_id` at `at_ms`, if any
/// (quota left), with the runs it already paid for.
pub fn covering(
    store: &dyn Store,
    person: PersonId,
    plugin_id: &str,
    at_ms: i64,
    mut runs_paid: impl FnMut(u64) -> Result<usize, StoreError>,
) -> Result<Option<Licence>, StoreError> {
    for l in store.licences()? {
        if l.plugin != plugin_id
            || !l.members.contains(&person)
            || at_ms < l.since_ms
            || at_ms >= l.until_ms
        {
            continue;
        }
        if let Some(quota) = l.run_quota
            && runs_paid(l.id)? >= quota as usize
        {
            continue;
        }
        return Ok(Some(l));
    }
    Ok(None)
}

/// How a run's price entry names the licence that paid it.
pub fn tag(licence: u64) -> String {
    format!("(licence {licence})")
}

/// Runs licence `id` paid for, counted in the ledger.
pub fn runs_paid(ledger: &[Entry], id: u64) -> usize {
    let tag = tag(id);
    ledger
        .iter()
        .filter(|e| e.movement == Movement::RunPrice && e.memo.ends_with(&tag))
        .count()
}

/// How many free runs of the plugin `digest` `person` had in the calendar month of `at_ms`,
/// before run `before`: own runs that were admitted (priced) and posted with nothing to pay,
/// counted up to `allowance` (past it, the answer is the same: the next run is paid). Reads
/// this month's runs from its start, and stops at the allowance, so a busy person's billing
/// does not read every run they ever made.
pub fn free_runs_this_month(
    store: &dyn Store,
    person: PersonId,
    digest: &str,
    at_ms: i64,
    before: u64,
    allowance: u32,
) -> Result<u32, StoreError> {
    let month = |ms: i64| crate::import::format_date(ms)[..7].to_string();
    let this = month(at_ms);
    let (since, _) = crate::ledger::month_bounds(at_ms);
    // Start times follow ids only roughly (a run is admitted, then given its id; a job gives
    // its members ids before running them): start an hour early, the month test drops the rest.
    let slack = 3_600_000;
    let mut n = 0;
    store.visit_runs_since(since - slack, before, &mut |r| {
        if n >= allowance {
            return Ok(false);
        }
        if r.person == person
            && r.plugin_digest == digest
            && r.requester.is_none()
            && r.job.is_none()
            && r.price.is_some()
            && month(r.started_ms) == this
            && store
                .posting(&format!("run:{}", r.id))?
                .is_some_and(|e| e.is_empty())
        {
            n += 1;
        }
        Ok(true)
    })?;
    Ok(n)
}
