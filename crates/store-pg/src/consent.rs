//! Requests, grants and receptions.

use super::*;
use insitu_model::request::AccessRequest;
use insitu_store::{ConsentStore, Reception};

async fn put_request(tx: &Tx<'_>, r: &AccessRequest) -> Res<()> {
    tx.execute(
        "INSERT INTO requests (person, id, value) VALUES ($1, $2, $3) \
         ON CONFLICT (person, id) DO UPDATE SET value = EXCLUDED.value",
        &[&key(r.person), &key(r.id), &json(r)],
    )
    .await
    .map_err(db)?;
    Ok(())
}

async fn put_reception(tx: &Tx<'_>, r: &Reception) -> Res<()> {
    tx.execute(
        "INSERT INTO receptions (person, id, value) VALUES ($1, $2, $3) \
         ON CONFLICT (person, id) DO UPDATE SET value = EXCLUDED.value",
        &[&key(r.person), &key(r.id), &json(r)],
    )
    .await
    .map_err(db)?;
    Ok(())
}

impl ConsentStore for PgStore {
    fn add_request(&self, mut r: AccessRequest) -> Result<AccessRequest, StoreError> {
        self.with(|cx| async move {
            let mut c = cx.conn().await?;
            let tx = Tx::audited_for(&mut c, &cx, &[Chain::Person(r.person)]).await?;
            if !r.nowhere {
                require_person(&tx, r.person).await?;
            }
            r.id = next_id(&tx, "request").await?;
            put_request(&tx, &r).await?;
            if !r.nowhere {
                append(
                    &tx,
                    AuditEvent::RequestOpened {
                        request: r.id,
                        person: r.person,
                        requester: r.requester.clone(),
                        digest: r.plugin_digest.clone(),
                    },
                )
                .await?;
            }
            tx.commit().await?;
            Ok(r)
        })
    }

    fn request(&self, id: u64) -> Result<AccessRequest, StoreError> {
        self.with(|cx| async move {
            let c = cx.conn().await?;
            one(&c, "SELECT value FROM requests WHERE id = $1", &[&key(id)])
                .await?
                .ok_or(StoreError::NoRequest(id))
        })
    }

    fn requests(&self, person: Option<PersonId>) -> Result<Vec<AccessRequest>, StoreError> {
        self.with(|cx| async move {
            let c = cx.conn().await?;
            let all: Vec<AccessRequest> = match person {
                Some(p) => {
                    all(
                        &c,
                        "SELECT value FROM requests WHERE person = $1 ORDER BY id",
                        &[&key(p)],
                    )
                    .await?
                }
                None => all(&c, "SELECT value FROM requests ORDER BY id", &[]).await?,
            };
            Ok(all
                .into_iter()
                .filter(|r| person.is_none_or(|p| r.person == p && !r.nowhere))
                .collect())
        })
    }

    fn requests_page(&self, owner: &Owner, page: Page) -> Result<Vec<AccessRequest>, StoreError> {
        let owner = owner.clone();
        self.with(|cx| async move {
            let c = cx.conn().await?;
            listing(
                &c,
                "requests",
                " AND (value->>'nowhere') IS DISTINCT FROM 'true'",
                "value->>'requester' = $3",
                &owner,
                page,
            )
            .await
        })
    }

    fn decide_request(
        &self,
        id: u64,
        grant: Option<Grant>,
    ) -> Result<(AccessRequest, Option<Grant>), StoreError> {
        self.with(|cx| async move {
            let mut c = cx.conn().await?;
            let tx = Tx::audited(&mut c, &cx).await?;
            let mut r: AccessRequest =
                one(&tx, "SELECT value FROM requests WHERE id = $1", &[&key(id)])
                    .await?
                    .ok_or(StoreError::NoRequest(id))?;
            if r.nowhere {
                return Err(StoreError::NoRequest(id));
            }
            if !r.awaits_decision() {
                return Ok((r, None));
            }
            let stored = match grant {
                Some(g) => Some(insert_grant(&tx, g).await?),
                None => None,
            };
            let event = r.decide(stored.as_ref().map(|g| g.id), tx.now_ms);
            append(&tx, event).await?;
            put_request(&tx, &r).await?;
            tx.commit().await?;
            Ok((r, stored))
        })
    }

    fn add_grant(&self, grant: Grant) -> Result<Grant, StoreError> {
        self.with(|cx| async move {
            let mut c = cx.conn().await?;
            let tx = Tx::audited_for(&mut c, &cx, &[Chain::Person(grant.person)]).await?;
            require_person(&tx, grant.person).await?;
            let grant = insert_grant(&tx, grant).await?;
            tx.commit().await?;
            Ok(grant)
        })
    }

    fn grant(&self, id: u64) -> Result<Grant, StoreError> {
        self.with(|cx| async move {
            let c = cx.conn().await?;
            one(&c, crate::records::GRANT_SQL, &[&key(id)])
                .await?
                .ok_or(StoreError::NoGrant(id))
        })
    }

    fn grants_by_id(&self, ids: &[u64]) -> Result<Vec<Grant>, StoreError> {
        let ids: Vec<i64> = ids.iter().map(|&id| key(id)).collect();
        self.with(|cx| async move {
            let c = cx.conn().await?;
            all(
                &c,
                "SELECT value FROM grants WHERE id = ANY($1) ORDER BY id",
                &[&ids],
            )
            .await
        })
    }

    fn grants(&self, person: Option<PersonId>) -> Result<Vec<Grant>, StoreError> {
        self.with(|cx| async move {
            let c = cx.conn().await?;
            match person {
                Some(p) => {
                    all(
                        &c,
                        "SELECT value FROM grants WHERE person = $1 ORDER BY id",
                        &[&key(p)],
                    )
                    .await
                }
                None => all(&c, "SELECT value FROM grants ORDER BY id", &[]).await,
            }
        })
    }

    fn unrevoked_grants(&self, digest: &str) -> Result<Vec<Grant>, StoreError> {
        let digest = digest.to_string();
        self.with(|cx| async move {
            let c = cx.conn().await?;
            // By the partial index `grants_plugin_unrevoked` (`V6`).
            all(
                &c,
                "SELECT value FROM grants WHERE (value->>'plugin_digest') = $1 \
                 AND (value->>'revoked_ms') IS NULL ORDER BY id",
                &[&digest],
            )
            .await
        })
    }

    fn grants_page(&self, owner: &Owner, page: Page) -> Result<Vec<Grant>, StoreError> {
        let owner = owner.clone();
        self.with(|cx| async move {
            let c = cx.conn().await?;
            listing(
                &c,
                "grants",
                "",
                "value->'origin'->>'requester' = $3",
                &owner,
                page,
            )
            .await
        })
    }

    fn revoke_grant(&self, id: u64, at_ms: i64) -> Result<Grant, StoreError> {
        self.with(|cx| async move {
            let mut c = cx.conn().await?;
            let tx = Tx::audited(&mut c, &cx).await?;
            let mut g: Grant = one(&tx, "SELECT value FROM grants WHERE id = $1", &[&key(id)])
                .await?
                .ok_or(StoreError::NoGrant(id))?;
            if g.revoked_ms.is_none() {
                g.revoked_ms = Some(at_ms);
                put_grant(&tx, &g).await?;
                append(
                    &tx,
                    AuditEvent::GrantRevoked {
                        grant: id,
                        person: g.person,
                    },
                )
                .await?;
            }
            tx.commit().await?;
            Ok(g)
        })
    }

    fn add_reception(&self, mut r: Reception) -> Result<Reception, StoreError> {
        self.with(|cx| async move {
            let mut c = cx.conn().await?;
            let tx =
                Tx::audited_for(&mut c, &cx, &[Chain::Operator, Chain::Person(r.person)]).await?;
            require_person(&tx, r.person).await?;
            r.id = next_id(&tx, "reception").await?;
            put_reception(&tx, &r).await?;
            append(
                &tx,
                AuditEvent::ReceptionAccepted {
                    reception: r.id,
                    person: r.person,
                    organisation: r.organisation.clone(),
                    collection: r.collection.clone(),
                },
            )
            .await?;
            tx.commit().await?;
            Ok(r)
        })
    }

    fn receptions(&self, person: Option<PersonId>) -> Result<Vec<Reception>, StoreError> {
        self.with(|cx| async move {
            let c = cx.conn().await?;
            match person {
                Some(p) => {
                    all(
                        &c,
                        "SELECT value FROM receptions WHERE person = $1 ORDER BY id",
                        &[&key(p)],
                    )
                    .await
                }
                None => all(&c, "SELECT value FROM receptions ORDER BY id", &[]).await,
            }
        })
    }

    fn receptions_page(&self, owner: &Owner, page: Page) -> Result<Vec<Reception>, StoreError> {
        let owner = owner.clone();
        self.with(|cx| async move {
            let c = cx.conn().await?;
            listing(
                &c,
                "receptions",
                "",
                "value->>'organisation' = $3",
                &owner,
                page,
            )
            .await
        })
    }

    fn revoke_reception(&self, id: u64, at_ms: i64) -> Result<Reception, StoreError> {
        self.with(|cx| async move {
            let mut c = cx.conn().await?;
            let tx = Tx::audited(&mut c, &cx).await?;
            let mut r: Reception = one(
                &tx,
                "SELECT value FROM receptions WHERE id = $1",
                &[&key(id)],
            )
            .await?
            .ok_or(StoreError::NoReception(id))?;
            if r.revoked_ms.is_none() {
                r.revoked_ms = Some(at_ms);
                put_reception(&tx, &r).await?;
                append(
                    &tx,
                    AuditEvent::ReceptionRevoked {
                        reception: id,
                        person: r.person,
                    },
                )
                .await?;
            }
            tx.commit().await?;
            Ok(r)
        })
    }
}
