//! Requests, grants and receptions.

use super::*;

impl ConsentStore for RedbStore {
    fn add_request(&self, mut r: AccessRequest) -> Result<AccessRequest, StoreError> {
        self.write(|tx| {
            if !r.nowhere {
                require_person(tx, r.person)?;
            }
            r.id = next_id(tx, "request")?;
            put_request(tx, &r)?;
            if r.nowhere {
                return Ok(r);
            }
            append(
                tx,
                AuditEvent::RequestOpened {
                    request: r.id,
                    person: r.person,
                    requester: r.requester.clone(),
                    digest: r.plugin_digest.clone(),
                },
            )?;
            Ok(r)
        })
    }

    fn request(&self, id: u64) -> Result<AccessRequest, StoreError> {
        self.read_json(REQUESTS, id)?
            .ok_or(StoreError::NoRequest(id))
    }

    fn requests(&self, person: Option<PersonId>) -> Result<Vec<AccessRequest>, StoreError> {
        match person {
            None => self.all_json(REQUESTS),
            Some(p) => self.all_of(REQUESTS, "requests", p, |r: &AccessRequest| r.id),
        }
    }

    fn requests_page(&self, owner: &Owner, page: Page) -> Result<Vec<AccessRequest>, StoreError> {
        self.page_json(REQUESTS, "requests", owner, page)
    }

    fn decide_request(
        &self,
        id: u64,
        grant: Option<Grant>,
    ) -> Result<(AccessRequest, Option<Grant>), StoreError> {
        self.write(|tx| {
            let mut r: AccessRequest = {
                let t = tx.open_table(REQUESTS).map_err(db)?;
                let v = t.get(id).map_err(db)?.ok_or(StoreError::NoRequest(id))?;
                from_json(v.value())?
            };
            if r.nowhere {
                return Err(StoreError::NoRequest(id));
            }
            if !r.awaits_decision() {
                return Ok((r, None));
            }
            let stored = grant.map(|g| insert_grant(tx, g)).transpose()?;
            let event = r.decide(stored.as_ref().map(|g| g.id), tx.now_ms);
            append(tx, event)?;
            put_request(tx, &r)?;
            Ok((r, stored))
        })
    }

    fn add_grant(&self, grant: Grant) -> Result<Grant, StoreError> {
        self.write(|tx| {
            require_person(tx, grant.person)?;
            insert_grant(tx, grant)
        })
    }

    fn grant(&self, id: u64) -> Result<Grant, StoreError> {
        self.read_json(GRANTS, id)?.ok_or(StoreError::NoGrant(id))
    }

    fn grants(&self, person: Option<PersonId>) -> Result<Vec<Grant>, StoreError> {
        match person {
            None => self.all_json(GRANTS),
            Some(p) => self.all_of(GRANTS, "grants", p, |g: &Grant| g.id),
        }
    }

    fn unrevoked_grants(&self, digest: &str) -> Result<Vec<Grant>, StoreError> {
        self.listed_rows(GRANTS, "unrevoked-grants", digest)
    }

    fn grants_page(&self, owner: &Owner, page: Page) -> Result<Vec<Grant>, StoreError> {
        self.page_json(GRANTS, "grants", owner, page)
    }

    fn revoke_grant(&self, id: u64, at_ms: i64) -> Result<Grant, StoreError> {
        self.write(|tx| {
            let mut g: Grant = {
                let t = tx.open_table(GRANTS).map_err(db)?;
                let v = t.get(id).map_err(db)?.ok_or(StoreError::NoGrant(id))?;
                from_json(v.value())?
            };
            if g.revoked_ms.is_none() {
                g.revoked_ms = Some(at_ms);
                put_grant(tx, &g)?;
                append(
                    tx,
                    AuditEvent::GrantRevoked {
                        grant: id,
                        person: g.person,
                    },
                )?;
            }
            Ok(g)
        })
    }

    fn add_reception(&self, mut r: Reception) -> Result<Reception, StoreError> {
        self.write(|tx| {
            require_person(tx, r.person)?;
            r.id = next_id(tx, "reception")?;
            put_reception(tx, &r)?;
            append(
                tx,
                AuditEvent::ReceptionAccepted {
                    reception: r.id,
                    person: r.person,
                    organisation: r.organisation.clone(),
                    collection: r.collection.clone(),
                },
            )?;
            Ok(r)
        })
    }

    fn receptions(&self, person: Option<PersonId>) -> Result<Vec<Reception>, StoreError> {
        match person {
            None => self.all_json(RECEPTIONS),
            Some(p) => self.all_of(RECEPTIONS, "receptions", p, |r: &Reception| r.id),
        }
    }

    fn receptions_page(&self, owner: &Owner, page: Page) -> Result<Vec<Reception>, StoreError> {
        self.page_json(RECEPTIONS, "receptions", owner, page)
    }

    fn revoke_reception(&self, id: u64, at_ms: i64) -> Result<Reception, StoreError> {
        self.write(|tx| {
            let mut r: Reception = {
                let t = tx.open_table(RECEPTIONS).map_err(db)?;
                let v = t.get(id).map_err(db)?.ok_or(StoreError::NoReception(id))?;
                from_json(v.value())?
            };
            if r.revoked_ms.is_none() {
                r.revoked_ms = Some(at_ms);
                put_reception(tx, &r)?;
                append(
                    tx,
                    AuditEvent::ReceptionRevoked {
                        reception: id,
                        person: r.person,
                    },
                )?;
            }
            Ok(r)
        })
    }
}
