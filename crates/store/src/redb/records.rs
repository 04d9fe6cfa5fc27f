//! People, collections, records and erasure.

use super::*;

impl RecordStore for RedbStore {
    fn add_person(&self, name: &str) -> Result<PersonId, StoreError> {
        self.write(|tx| {
            let id = next_id(tx, "person")?;
            put_json(
                tx,
                PEOPLE,
                id,
                &Person {
                    id,
                    name: name.to_string(),
                },
            )?;
            append(tx, AuditEvent::PersonAdded { person: id })?;
            Ok(id)
        })
    }

    fn person(&self, id: PersonId) -> Result<Person, StoreError> {
        self.read_json(PEOPLE, id)?.ok_or(StoreError::NoPerson(id))
    }

    fn people(&self) -> Result<Vec<Person>, StoreError> {
        self.all_json(PEOPLE)
    }

    fn define_collection(&self, schema: &Schema) -> Result<(), StoreError> {
        schema.validate()?;
        // Defining an existing schema again is common (every start, every import): answer it
        // from a read, without a durable write.
        if self
            .stored_collection(&schema.name)
            .is_ok_and(|c| c.schema == *schema)
        {
            return Ok(());
        }
        self.write(|tx| define_in(tx, schema))
    }

    fn collection(&self, name: &str) -> Result<Schema, StoreError> {
        Ok(self.stored_collection(name)?.schema)
    }

    fn collections(&self) -> Result<Vec<Schema>, StoreError> {
        Ok(self
            .all_json::<&str, StoredCollection>(COLLECTIONS)?
            .into_iter()
            .map(|c| c.schema)
            .collect())
    }

    fn write_records(
        &self,
        person: PersonId,
        collection: &str,
        records: &[KeyedRecord],
        source: Source<'_>,
    ) -> Result<WriteOutcome, StoreError> {
        let coll = self.stored_collection(collection)?;
        self.write(|tx| {
            require_person(tx, person)?;
            write_in(tx, person, &coll, records, source)
        })
    }

    fn records_at(
        &self,
        person: PersonId,
        collection: &str,
        keys: &[(i64, u64)],
    ) -> Result<Vec<Option<Record>>, StoreError> {
        let coll = self.stored_collection(collection)?;
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(RECORDS).map_err(db)?;
        keys.iter()
            .map(|&(time, id)| {
                let key = codec::record_key(person, coll.id, time, id);
                match t.get(key.as_slice()).map_err(db)? {
                    Some(v) => Ok(Some(codec::decode(&coll.schema, v.value())?)),
                    None => Ok(None),
                }
            })
            .collect()
    }

    fn write_collections(
        &self,
        person: PersonId,
        schemas: &[Schema],
        writes: &[NewRecords<'_>],
    ) -> Result<Vec<WriteOutcome>, StoreError> {
        for schema in schemas {
            schema.validate()?;
        }
        // One transaction: an error anywhere drops it uncommitted, and redb keeps nothing.
        self.write(|tx| {
            require_person(tx, person)?;
            for schema in schemas {
                define_in(tx, schema)?;
            }
            writes
                .iter()
                .map(|w| {
                    let coll = get_json::<&str, StoredCollection>(tx, COLLECTIONS, w.collection)?
                        .ok_or_else(|| StoreError::NoCollection(w.collection.to_string()))?;
                    write_in(tx, person, &coll, w.records, w.source)
                })
                .collect()
        })
    }

    fn scan(
        &self,
        person: PersonId,
        collection: &str,
        range: TimeRange,
        fields: &[String],
    ) -> Result<Box<dyn Cursor>, StoreError> {
        let coll = self.stored_collection(collection)?;
        let lo = codec::record_key(person, coll.id, range.since.unwrap_or(i64::MIN), 0);
        let hi = match range.until {
            Some(u) => codec::record_key(person, coll.id, u, 0),
            None => codec::record_key(person, coll.id + 1, i64::MIN, 0),
        };
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(RECORDS).map_err(db)?;
        let iter = t.range::<&[u8]>(lo.as_slice()..hi.as_slice()).map_err(db)?;
        let projection = Projection::new(&coll.schema, fields);
        Ok(Box::new(RedbCursor {
            schema: coll.schema,
            projection,
            iter,
            ended: false,
        }))
    }

    fn count(&self, person: PersonId, collection: &str) -> Result<u64, StoreError> {
        let coll = self.stored_collection(collection)?;
        let lo = codec::record_key(person, coll.id, i64::MIN, 0);
        let hi = codec::record_key(person, coll.id + 1, i64::MIN, 0);
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(RECORDS).map_err(db)?;
        let n = t
            .range::<&[u8]>(lo.as_slice()..hi.as_slice())
            .map_err(db)?
            .count();
        Ok(n as u64)
    }

    fn source_name(&self, person: PersonId, digest: &str) -> Result<Option<String>, StoreError> {
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(SOURCES).map_err(db)?;
        let key = format!("{person}:{digest}");
        Ok(t.get(key.as_str())
            .map_err(db)?
            .map(|v| v.value().to_string()))
    }

    fn erase_person(&self, person: PersonId, at_ms: i64) -> Result<Erasure, StoreError> {
        self.write(|tx| {
            require_person(tx, person)?;
            let mut e = Erasure::default();
            {
                let mut t = tx.open_table(RECORDS).map_err(db)?;
                let lo = codec::record_key(person, 0, i64::MIN, 0);
                let hi = codec::record_key(person.saturating_add(1), 0, i64::MIN, 0);
                let mut n = 0;
                t.retain_in::<&[u8], _>(lo.as_slice()..hi.as_slice(), |_, _| {
                    n += 1;
                    false
                })
                .map_err(db)?;
                e.records = n;
            }
            {
                let mut t = tx.open_table(RUNS).map_err(db)?;
                let mut gone = Vec::new();
                for row in t.iter().map_err(db)? {
                    let (_, v) = row.map_err(db)?;
                    let run: RunRecord = from_json(v.value())?;
                    if run.person == person {
                        gone.push(run);
                    }
                }
                for run in &gone {
                    t.remove(run.id).map_err(db)?;
                    unlist(tx, "runs", &run_owners(run), run.id)?;
                    unlist(tx, "running-runs", &[String::new()], run.id)?;
                }
                e.runs = gone.len() as u64;
            }
            let grants: Vec<Grant> = all_in(tx, GRANTS)?;
            for mut g in grants {
                if g.person == person && g.revoked_ms.is_none() {
                    g.revoked_ms = Some(at_ms);
                    put_grant(tx, &g)?;
                    e.grants += 1;
                }
            }
            let accounts: Vec<Account> = all_in(tx, ACCOUNTS)?;
            let tokens: Vec<Token> = all_in(tx, TOKENS)?;
            for a in accounts.iter().filter(|a| a.person == Some(person)) {
                tx.open_table(ACCOUNTS)
                    .map_err(db)?
                    .remove(a.id)
                    .map_err(db)?;
                {
                    let mut names = tx.open_table(ACCOUNT_NAMES).map_err(db)?;
                    for n in [name_key(&a.name), a.name.clone()] {
                        if names.get(n.as_str()).map_err(db)?.map(|id| id.value()) == Some(a.id) {
                            names.remove(n.as_str()).map_err(db)?;
                        }
                    }
                }
                for t in tokens.iter().filter(|t| t.account == a.id) {
                    tx.open_table(TOKENS)
                        .map_err(db)?
                        .remove(t.id)
                        .map_err(db)?;
                    unlist(tx, "tokens", &[account_owner(a.id)], t.id)?;
                    tx.open_table(TOKEN_HASHES)
                        .map_err(db)?
                        .remove(t.hash.as_str())
                        .map_err(db)?;
                }
                e.accounts += 1;
            }
            {
                let mut t = tx.open_table(MEMBERS).map_err(db)?;
                t.retain(|(_, p), _| p != person).map_err(db)?;
                let mut l = tx.open_table(LISTINGS).map_err(db)?;
                let owner = person_owner(person);
                l.retain_in::<(&str, &str, u64), _>(
                    ("members", owner.as_str(), 0)..=("members", owner.as_str(), u64::MAX),
                    |_, _| false,
                )
                .map_err(db)?;
            }
            {
                let mut t = tx.open_table(OFFERS).map_err(db)?;
                t.retain(|_, v| from_json::<Offer>(v).map_or(true, |o| o.person != person))
                    .map_err(db)?;
                let mut t = tx.open_table(CONTACTS).map_err(db)?;
                t.retain(|_, v| {
                    from_json::<Contact>(v)
                        .map_or(true, |c| c.seeker != person && c.mentor != person)
                })
                .map_err(db)?;
            }
            super::codesign::erase_contributions(tx, person)?;
            {
                let mut t = tx.open_table(SOURCES).map_err(db)?;
                let (lo, hi) = (format!("{person}:"), format!("{person};"));
                t.retain_in::<&str, _>(lo.as_str()..hi.as_str(), |_, _| false)
                    .map_err(db)?;
            }
            tx.open_table(PEOPLE)
                .map_err(db)?
                .remove(person)
                .map_err(db)?;
            append(
                tx,
                AuditEvent::PersonErased {
                    person,
                    records: e.records,
                    runs: e.runs,
                    grants: e.grants,
                },
            )?;
            Ok(e)
        })
    }
}
