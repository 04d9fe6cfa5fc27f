//! Access requests: an organisation asks a person for the data a plugin's manifest names; the
//! person approves (possibly narrowing), or denies. Also the upgrade rule for new versions.
//!
//! Rules:
//! - Narrowing can only take away: fewer fields, fewer months, fewer days. Anything else is
//!   refused with the reason.
//! - Approval creates the grant and marks the request in one transaction, both audited.
//! - A new version of a plugin (same manifest id and publisher) keeps a person's grant only if
//!   everything its consent screen shows is equal to or narrower than the version the grant
//!   was given for (`package::narrows`, field by field: data, purposes, window, use, output
//!   kind, audience, caps, cohort, aggregates, pricing, limits, imports). The grant is then
//!   carried over to the new digest, with the person's own narrowing. Otherwise a new request
//!   is opened for the person, and runs of the new version are refused until it is approved
//!   (no grant names the new digest).
//! - Arithmetic on manifest and request numbers (months, days) saturates: a manifest stored
//!   before its bounds were checked, or a request for `u32::MAX` days, panics nothing.
//!
//! May touch: the store.

pub use insitu_model::request::*;

use crate::consent::{Grant, GrantedCollection, Origin};
use crate::package::{DataRequest, Manifest, Widening};
use crate::store::{PersonId, PluginRecord, Store, StoreError, TimeRange};

use insitu_formats::time::DAY_MS;

#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error("request {0} was already decided")]
    Decided(u64),
    #[error("narrowing can only take away: {0}")]
    Widening(String),
    #[error("plugin {0} has no manifest to request data for")]
    NoManifest(String),
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// The consent screen: who asks, for how long, to run what (the manifest in plain words: which
/// data and why, what comes out to whom, who pays what), the purpose given, and the status.
pub fn consent_screen(r: &AccessRequest, plugin: Option<&PluginRecord>) -> String {
    let mut s = format!(
        "{} asks for access, for {} days, to run:\n",
        r.requester, r.days
    );
    if let Some(m) = plugin.and_then(|p| p.manifest.as_ref()) {
        for line in m.describe().lines() {
            s.push_str(&format!("  {line}\n"));
        }
    }
    s.push_str(&format!("purpose given: {}\n", r.purpose));
    s.push_str(&format!("status: {:?}\n", r.status));
    s
}

/// Opens a request for the data `plugin`'s manifest names, for `days`.
pub fn ask(
    store: &dyn Store,
    requester: &str,
    person: PersonId,
    plugin: &PluginRecord,
    purpose: &str,
    days: u32,
) -> Result<AccessRequest, RequestError> {
    let m = plugin
        .manifest
        .as_ref()
        .ok_or_else(|| RequestError::NoManifest(plugin.digest.clone()))?;
    // A request to a person who does not exist is accepted the same way and goes nowhere.
    let nowhere = match store.person(person) {
        Ok(_) => false,
        Err(StoreError::NoPerson(_)) => true,
        Err(e) => return Err(e.into()),
    };
    Ok(store.add_request(AccessRequest {
        id: 0,
        requester: requester.to_string(),
        person,
        plugin_digest: plugin.digest.clone(),
        data: m.data.clone(),
        purpose: purpose.to_string(),
        days,
        created_ms: store.now_ms(),
        status: Status::Pending,
        nowhere,
    })?)
}

/// The grant an approval with `narrow` creates, or why the narrowing is refused.
/// The window a grant for `data` opens, in months back from its approval: the widest asked;
/// `None` (all time) when one entry asks for all time.
pub fn months_asked(data: &[DataRequest]) -> Option<u32> {
    data.iter()
        .try_fold(0u32, |widest, d| d.months.map(|n| widest.max(n)))
}

pub fn grant_for(req: &AccessRequest, narrow: &Narrowing, now: i64) -> Result<Grant, RequestError> {
    let widen = |what: String| Err(RequestError::Widening(what));
    let mut collections = Vec::new();
    let months_asked = months_asked(&req.data);
    for d in &req.data {
        let fields = match &narrow.fields {
            None => d.fields.clone(),
            Some(kept) => match kept.iter().find(|(c, _)| *c == d.collection) {
                None => continue,
                Some((_, f)) => {
                    if let Some(extra) = f.iter().find(|x| !d.fields.contains(x)) {
                        return widen(format!(
                            "field `{extra}` of {} was not asked for",
                            d.collection
                        ));
                    }
                    f.clone()
                }
            },
        };
        if !fields.is_empty() {
            collections.push(GrantedCollection {
                name: d.collection.clone(),
                fields,
            });
        }
    }
    if let Some(kept) = &narrow.fields
        && let Some((c, _)) = kept
            .iter()
            .find(|(c, _)| !req.data.iter().any(|d| d.collection == *c))
    {
        return widen(format!("collection {c} was not asked for"));
    }
    let months = match (narrow.months, months_asked) {
        (Some(n), Some(a)) if n > a => return widen(format!("{n} months where {a} were asked")),
        (Some(n), _) => Some(n),
        (None, a) => a,
    };
    let days = match narrow.days {
        Some(n) if n > req.days => return widen(format!("{n} days where {} were asked", req.days)),
        Some(n) => n,
        None => req.days,
    };
    Ok(Grant {
        id: 0,
        person: req.person,
        plugin_digest: req.plugin_digest.clone(),
        collections,
        window: TimeRange {
            since: months.map(|m| now.saturating_sub(i64::from(m).saturating_mul(MONTH_MS))),
            until: None,
        },
        created_ms: now,
        expires_ms: Some(now.saturating_add(i64::from(days).saturating_mul(DAY_MS))),
        revoked_ms: None,
        origin: Some(Origin {
            requester: req.requester.clone(),
            purpose: req.purpose.clone(),
            request: req.id,
        }),
    })
}

/// Approves request `id`, narrowed by `narrow`; returns the grant.
pub fn approve(store: &dyn Store, id: u64, narrow: &Narrowing) -> Result<Grant, RequestError> {
    let req = store.request(id)?;
    if req.status != Status::Pending {
        return Err(RequestError::Decided(id));
    }
    let grant = grant_for(&req, narrow, store.now_ms())?;
    let grant = store
        .decide_request(id, Some(grant))?
        .1
        .ok_or(RequestError::Decided(id))?;
    // The requester pays the intermediary for the access; a failure here is billed later by
    // `ledger::reconcile`, never by refusing the person's decision.
    if let Err(e) = crate::ledger::bill_access(store, &grant) {
        tracing::warn!(grant = grant.id, "access fee not posted yet: {e}");
    }
    Ok(grant)
}

pub fn deny(store: &dyn Store, id: u64) -> Result<AccessRequest, RequestError> {
    let req = store.request(id)?;
    if req.status != Status::Pending {
        return Err(RequestError::Decided(id));
    }
    Ok(store.decide_request(id, None)?.0)
}

/// What happened to each live grant of an earlier version when `new` was installed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Upgrade {
    /// Grants carried over to the new digest (new grant ids).
    pub carried: Vec<u64>,
    /// Requests opened because the new version widens what the grant was given for.
    pub requests: Vec<u64>,
    /// Why each of `requests` was opened, in the same order.
    pub widened: Vec<Widening>,
}

/// Applies the upgrade rule after `new` is installed.
pub fn upgrade(store: &dyn Store, new: &PluginRecord) -> Result<Upgrade, RequestError> {
    let Some(m) = &new.manifest else {
        return Ok(Upgrade::default());
    };
    // Each earlier version's manifest: what its grants were given for.
    let older: std::collections::BTreeMap<String, Manifest> = store
        .plugins()?
        .into_iter()
        .filter(|p| p.digest != new.digest && p.publisher == new.publisher)
        .filter_map(|p| Some((p.digest, p.manifest.filter(|o| o.id == m.id)?)))
        .collect();
    let now = store.now_ms();
    // The unrevoked grants of the earlier versions and of the new one, each read by the index
    // on its digest (a revoked grant is never live), in id order.
    let mut all = Vec::new();
    for digest in older.keys().chain([&new.digest]) {
        all.extend(store.unrevoked_grants(digest)?);
    }
    all.sort_by_key(|g| g.id);
    // One decision per person and requester: from their most recent live grant of an earlier
    // version, and none if the new version already has a live grant for them (reinstall).
    let key = |g: &Grant| (g.person, g.origin.as_ref().map(|o| o.requester.clone()));
    let mut latest: std::collections::BTreeMap<_, &Grant> = std::collections::BTreeMap::new();
    for g in all
        .iter()
        .filter(|g| older.contains_key(&g.plugin_digest) && g.check_live(now).is_ok())
    {
        let slot = latest.entry(key(g)).or_insert(g);
        if g.created_ms > slot.created_ms {
            *slot = g;
        }
    }
    let mut out = Upgrade::default();
    for (k, g) in latest {
        let g = g.clone();
        let has_grant = all
            .iter()
            .any(|n| n.plugin_digest == new.digest && key(n) == k && n.check_live(now).is_ok());
        if has_grant {
            continue;
        }
        // The person's own requests, from the index on the person: never every request.
        let has_request = store
            .requests(Some(k.0))?
            .iter()
            .any(|r| r.plugin_digest == new.digest && r.status == Status::Pending);
        if has_request {
            continue;
        }
        let verdict = match older.get(&g.plugin_digest) {
            Some(old) => crate::package::narrows(old, m),
            None => Err(Widening {
                field: "manifest".into(),
                change: "the version you agreed to has no manifest to compare with".into(),
            }),
        };
        if let Err(w) = verdict {
            let (requester, purpose) = match &g.origin {
                Some(o) => (o.requester.clone(), o.purpose.clone()),
                None => (
                    format!("{} {}", m.id, m.version),
                    "a new version changes what you agreed to".to_string(),
                ),
            };
            // The days left on the grant, at least one; a far expiry saturates.
            let days = g
                .expires_ms
                .map(|e| u32::try_from((e.saturating_sub(now) / DAY_MS).max(1)).unwrap_or(u32::MAX))
                .unwrap_or(365);
            out.requests
                .push(ask(store, &requester, g.person, new, &purpose, days)?.id);
            out.widened.push(w);
        } else {
            let carried = store.add_grant(Grant {
                id: 0,
                plugin_digest: new.digest.clone(),
                created_ms: now,
                ..g.clone()
            })?;
            out.carried.push(carried.id);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn request(data: Vec<DataRequest>, days: u32) -> AccessRequest {
        AccessRequest {
            id: 1,
            requester: "ACME".into(),
            person: 1,
            plugin_digest: "d".into(),
            data,
            purpose: "study".into(),
            days,
            created_ms: 0,
            status: Status::Pending,
            nowhere: false,
        }
    }

    #[test]
    fn the_largest_windows_and_durations_saturate() {
        let data = vec![DataRequest {
            collection: "bank.transactions".into(),
            fields: vec!["amount".into()],
            months: Some(4_000_000_000),
            purpose: "p".into(),
        }];
        let now = 1_700_000_000_000;
        let g = grant_for(&request(data.clone(), u32::MAX), &Narrowing::default(), now).unwrap();
        assert_eq!(g.window.since, Some(now - i64::MAX), "all time, saturated");
        assert_eq!(g.expires_ms, Some(now + i64::from(u32::MAX) * DAY_MS));
        let g = grant_for(&request(data, u32::MAX), &Narrowing::default(), i64::MAX).unwrap();
        assert_eq!((g.window.since, g.expires_ms), (Some(0), Some(i64::MAX)));
    }

    proptest! {
        /// Approval never panics, whatever a stored manifest or a request carries, and only
        /// takes away.
        #[test]
        fn approval_never_panics(
            m in crate::package::arb::manifest(),
            days in any::<u32>(),
            months in prop::option::of(any::<u32>()),
            narrow_days in prop::option::of(any::<u32>()),
            now in prop_oneof![Just(0i64), Just(1_700_000_000_000i64), any::<i64>()],
        ) {
            let req = request(m.data.clone(), days);
            let narrow = Narrowing { fields: None, months, days: narrow_days };
            if let Ok(g) = grant_for(&req, &narrow, now) {
                prop_assert!(g.expires_ms.is_some_and(|e| e >= now));
                prop_assert!(g.window.since.is_none_or(|s| s <= now));
            }
        }
    }
}
