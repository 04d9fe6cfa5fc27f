//! The tariff, the ledger's postings and licences.

use super::*;

impl LedgerStore for RedbStore {
    fn tariff(&self) -> Result<Tariff, StoreError> {
        Ok(self.read_json(SETTINGS, "tariff")?.unwrap_or_default())
    }

    fn set_tariff(&self, t: &Tariff) -> Result<(), StoreError> {
        self.write(|tx| {
            put_json(tx, SETTINGS, "tariff", t)?;
            append(
                tx,
                AuditEvent::TariffSet {
                    commission_bps: t.commission_bps,
                    member_share_bps: t.member_share_bps,
                    passage_per_run: t.passage_per_run,
                    access_fee: t.access_fee,
                    membership_per_year: t.membership_per_year,
                },
            )?;
            Ok(())
        })
    }

    fn post(&self, key: &str, entries: Vec<Entry>) -> Result<Vec<Entry>, StoreError> {
        self.write(|tx| post_in(tx, key, entries).map(|(e, _)| e))
    }

    fn post_many(&self, postings: Vec<(String, Vec<Entry>)>) -> Result<u64, StoreError> {
        if postings.is_empty() {
            return Ok(0);
        }
        self.write(|tx| {
            let mut n = 0;
            for (key, entries) in postings {
                n += post_in(tx, &key, entries)?.1 as u64;
            }
            Ok(n)
        })
    }

    fn posting(&self, key: &str) -> Result<Option<Vec<Entry>>, StoreError> {
        let tx = self.db.begin_read().map_err(db)?;
        let keys = tx.open_table(LEDGER_KEYS).map_err(db)?;
        let Some(ids) = keys.get(key).map_err(db)? else {
            return Ok(None);
        };
        let ids: Vec<u64> = from_json(ids.value())?;
        entries_by_id(&tx.open_table(LEDGER).map_err(db)?, &ids).map(Some)
    }

    fn ledger(&self) -> Result<Vec<Entry>, StoreError> {
        self.all_json(LEDGER)
    }

    fn ledger_of(&self, party: &Party) -> Result<Vec<Entry>, StoreError> {
        self.listed_rows(LEDGER, "ledger", &party.to_string())
    }

    fn ledger_page(&self, party: &Party, page: Page) -> Result<Vec<Entry>, StoreError> {
        let tx = self.db.begin_read().map_err(db)?;
        let ids = listed(
            &tx.open_table(LISTINGS).map_err(db)?,
            "ledger",
            &party.to_string(),
            page,
        )?;
        entries_by_id(&tx.open_table(LEDGER).map_err(db)?, &ids)
    }

    fn add_licence(&self, mut l: Licence) -> Result<Licence, StoreError> {
        self.write(|tx| {
            l.id = next_id(tx, "licence")?;
            put_json(tx, LICENCES, l.id, &l)?;
            append(
                tx,
                AuditEvent::LicenceGranted {
                    licence: l.id,
                    organisation: l.organisation.clone(),
                    plugin: l.plugin.clone(),
                    members: l.members.clone(),
                },
            )?;
            Ok(l)
        })
    }

    fn licences(&self) -> Result<Vec<Licence>, StoreError> {
        self.all_json(LICENCES)
    }
}
