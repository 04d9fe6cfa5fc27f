//! The tariff, the ledger's postings and licences.

use super::*;
use insitu_model::ledger::{Party, Tariff};
use insitu_model::licence::Licence;
use insitu_store::LedgerStore;

/// Sets operator setting `name` inside `tx`.
pub(crate) async fn put_setting<T: Serialize + std::fmt::Debug + Sync>(
    tx: &Tx<'_>,
    name: &str,
    v: &T,
) -> Res<()> {
    tx.execute(
        "INSERT INTO settings (name, value) VALUES ($1, $2) \
         ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
        &[&name, &json(v)],
    )
    .await
    .map_err(db)?;
    Ok(())
}

impl LedgerStore for PgStore {
    fn tariff(&self) -> Result<Tariff, StoreError> {
        self.with(|cx| async move {
            let c = cx.conn().await?;
            let t: Option<Tariff> =
                one(&c, "SELECT value FROM settings WHERE name = 'tariff'", &[]).await?;
            Ok(t.unwrap_or_default())
        })
    }

    fn set_tariff(&self, t: &Tariff) -> Result<(), StoreError> {
        let t = t.clone();
        self.with(|cx| async move {
            let mut c = cx.conn().await?;
            let tx = Tx::audited(&mut c, &cx).await?;
            put_setting(&tx, "tariff", &t).await?;
            append(
                &tx,
                AuditEvent::TariffSet {
                    commission_bps: t.commission_bps,
                    member_share_bps: t.member_share_bps,
                    passage_per_run: t.passage_per_run,
                    access_fee: t.access_fee,
                    membership_per_year: t.membership_per_year,
                },
            )
            .await?;
            tx.commit().await
        })
    }

    fn post(&self, key: &str, entries: Vec<Entry>) -> Result<Vec<Entry>, StoreError> {
        let key = key.to_string();
        self.with(|cx| async move {
            let mut c = cx.conn().await?;
            let tx = Tx::audited(&mut c, &cx).await?;
            let (entries, _) = post_in(&tx, &key, entries).await?;
            tx.commit().await?;
            Ok(entries)
        })
    }

    fn post_many(&self, postings: Vec<(String, Vec<Entry>)>) -> Result<u64, StoreError> {
        if postings.is_empty() {
            return Ok(0);
        }
        self.with(|cx| async move {
            let mut c = cx.conn().await?;
            let tx = Tx::audited(&mut c, &cx).await?;
            let mut n = 0;
            for (key, entries) in postings {
                n += post_in(&tx, &key, entries).await?.1 as u64;
            }
            tx.commit().await?;
            Ok(n)
        })
    }

    fn posting(&self, key: &str) -> Result<Option<Vec<Entry>>, StoreError> {
        let key = key.to_string();
        self.with(|cx| async move {
            let mut c = cx.conn().await?;
            // The key and its entries from one snapshot.
            let tx = c
                .build_transaction()
                .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .await
                .map_err(db)?;
            let posting = posting_in(&tx, &key).await?;
            tx.commit().await.map_err(db)?;
            Ok(posting)
        })
    }

    fn ledger(&self) -> Result<Vec<Entry>, StoreError> {
        self.with(|cx| async move {
            let c = cx.conn().await?;
            all(&c, "SELECT value FROM ledger ORDER BY id", &[]).await
        })
    }

    fn ledger_of(&self, party: &Party) -> Result<Vec<Entry>, StoreError> {
        let (kind, name) = party_key(party)?;
        self.with(|cx| async move {
            let c = cx.conn().await?;
            all(
                &c,
                "SELECT value FROM ledger WHERE \
                 (value->'debit'->>'kind' = $1 \
                  AND coalesce(value->'debit'->>'name', '') = $2) \
                 OR (value->'credit'->>'kind' = $1 \
                  AND coalesce(value->'credit'->>'name', '') = $2) \
                 ORDER BY id",
                &[&kind, &name],
            )
            .await
        })
    }

    fn ledger_page(&self, party: &Party, page: Page) -> Result<Vec<Entry>, StoreError> {
        let (kind, name) = party_key(party)?;
        let (before, limit) = bounds(&page);
        self.with(|cx| async move {
            let c = cx.conn().await?;
            // Each side by its own index (`V4__listings.sql`), newest first below the cursor,
            // then the two merged: an entry whose both sides are the party comes once.
            all(
                &c,
                "SELECT value FROM ledger WHERE id IN ( \
                   (SELECT id FROM ledger WHERE value->'debit'->>'kind' = $1 \
                     AND coalesce(value->'debit'->>'name', '') = $2 AND id < $3 \
                     ORDER BY id DESC LIMIT $4) \
                   UNION \
                   (SELECT id FROM ledger WHERE value->'credit'->>'kind' = $1 \
                     AND coalesce(value->'credit'->>'name', '') = $2 AND id < $3 \
                     ORDER BY id DESC LIMIT $4) \
                 ) ORDER BY id DESC LIMIT $4",
                &[&kind, &name, &before, &limit],
            )
            .await
        })
    }

    fn add_licence(&self, mut l: Licence) -> Result<Licence, StoreError> {
        self.with(|cx| async move {
            let mut c = cx.conn().await?;
            let tx = Tx::audited(&mut c, &cx).await?;
            l.id = next_id(&tx, "licence").await?;
            tx.execute(
                "INSERT INTO licences (id, value) VALUES ($1, $2)",
                &[&key(l.id), &json(&l)],
            )
            .await
            .map_err(db)?;
            append(
                &tx,
                AuditEvent::LicenceGranted {
                    licence: l.id,
                    organisation: l.organisation.clone(),
                    plugin: l.plugin.clone(),
                    members: l.members.clone(),
                },
            )
            .await?;
            tx.commit().await?;
            Ok(l)
        })
    }

    fn licences(&self) -> Result<Vec<Licence>, StoreError> {
        self.with(|cx| async move {
            let c = cx.conn().await?;
            all(&c, "SELECT value FROM licences ORDER BY id", &[]).await
        })
    }
}

/// `party` as the ledger stores it (`{"kind": ..., "name": ...}`; the operator has no name),
/// matched by the indexes of `V4__listings.sql` on either side.
fn party_key(party: &Party) -> Result<(String, String), StoreError> {
    let v = serde_json::to_value(party).map_err(|e| StoreError::Db(e.to_string()))?;
    let kind = v["kind"].as_str().unwrap_or_default().to_string();
    let name = match &v["name"] {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    Ok((kind, name))
}
