//! Plugins, publishers, compiled-code hashes and the pseudonym secret.

use super::*;
use insitu_store::{PluginRecord, PluginStore, Publisher};

impl PluginStore for PgStore {
    fn put_plugin(&self, plugin: &PluginRecord) -> Result<(), StoreError> {
        let plugin = plugin.clone();
        self.with(|cx| async move {
            let mut c = cx.conn().await?;
            let tx = Tx::audited(&mut c, &cx).await?;
            tx.execute(
                "INSERT INTO plugins (digest, value) VALUES ($1, $2) \
                 ON CONFLICT (digest) DO UPDATE SET value = EXCLUDED.value",
                &[&plugin.digest, &json(&plugin)],
            )
            .await
            .map_err(db)?;
            append(
                &tx,
                AuditEvent::PluginInstalled {
                    digest: plugin.digest.clone(),
                    name: plugin.name.clone(),
                },
            )
            .await?;
            tx.commit().await
        })
    }

    fn plugin(&self, digest: &str) -> Result<PluginRecord, StoreError> {
        let digest = digest.to_string();
        self.with(|cx| async move {
            let c = cx.conn().await?;
            one(
                &c,
                "SELECT value FROM plugins WHERE digest = $1",
                &[&digest],
            )
            .await?
            .ok_or(StoreError::NoPlugin(digest))
        })
    }

    fn plugins(&self) -> Result<Vec<PluginRecord>, StoreError> {
        self.with(|cx| async move {
            let c = cx.conn().await?;
            all(
                &c,
                "SELECT value FROM plugins ORDER BY digest COLLATE \"C\"",
                &[],
            )
            .await
        })
    }

    fn trust_publisher(&self, publisher: &Publisher) -> Result<(), StoreError> {
        let publisher = publisher.clone();
        self.with(|cx| async move {
            let mut c = cx.conn().await?;
            let tx = Tx::audited(&mut c, &cx).await?;
            tx.execute(
                "INSERT INTO publishers (name, value) VALUES ($1, $2) \
                 ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
                &[&publisher.name, &json(&publisher)],
            )
            .await
            .map_err(db)?;
            append(
                &tx,
                AuditEvent::PublisherTrusted {
                    name: publisher.name.clone(),
                    key: publisher.key.clone(),
                },
            )
            .await?;
            tx.commit().await
        })
    }

    fn publisher(&self, name: &str) -> Result<Option<Publisher>, StoreError> {
        let name = name.to_string();
        self.with(|cx| async move {
            let c = cx.conn().await?;
            one(&c, "SELECT value FROM publishers WHERE name = $1", &[&name]).await
        })
    }

    fn publishers(&self) -> Result<Vec<Publisher>, StoreError> {
        self.with(|cx| async move {
            let c = cx.conn().await?;
            all(
                &c,
                "SELECT value FROM publishers ORDER BY name COLLATE \"C\"",
                &[],
            )
            .await
        })
    }

    fn revoke_publisher(&self, name: &str, at_ms: i64) -> Result<Publisher, StoreError> {
        let name = name.to_string();
        self.with(|cx| async move {
            let mut c = cx.conn().await?;
            let tx = Tx::audited(&mut c, &cx).await?;
            let mut p: Publisher = one(
                &tx,
                "SELECT value FROM publishers WHERE name = $1",
                &[&name],
            )
            .await?
            .ok_or_else(|| StoreError::NoPublisher(name.clone()))?;
            if p.revoked_ms.is_none() {
                p.revoked_ms = Some(at_ms);
                tx.execute(
                    "UPDATE publishers SET value = $2 WHERE name = $1",
                    &[&name, &json(&p)],
                )
                .await
                .map_err(db)?;
                append(&tx, AuditEvent::PublisherRevoked { name: name.clone() }).await?;
            }
            tx.commit().await?;
            Ok(p)
        })
    }

    fn put_component(&self, digest: &str, bytes: &[u8]) -> Result<(), StoreError> {
        let (digest, bytes) = (digest.to_string(), bytes.to_vec());
        self.with(|cx| async move {
            let c = cx.conn().await?;
            c.execute(
                "INSERT INTO components (digest, bytes) VALUES ($1, $2) \
                 ON CONFLICT (digest) DO UPDATE SET bytes = EXCLUDED.bytes",
                &[&digest, &bytes],
            )
            .await
            .map_err(db)?;
            Ok(())
        })
    }

    fn component(&self, digest: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let digest = digest.to_string();
        self.with(|cx| async move {
            let c = cx.conn().await?;
            let row = c
                .query_opt("SELECT bytes FROM components WHERE digest = $1", &[&digest])
                .await
                .map_err(db)?;
            row.map(|r| r.try_get::<_, Vec<u8>>(0).map_err(db))
                .transpose()
        })
    }

    fn compiled_hash(&self, key: &str) -> Result<Option<String>, StoreError> {
        let key = key.to_string();
        self.with(|cx| async move {
            let c = cx.conn().await?;
            let row = c
                .query_opt("SELECT hash FROM compiled WHERE key = $1", &[&key])
                .await
                .map_err(db)?;
            row.map(|r| r.try_get::<_, String>(0).map_err(db))
                .transpose()
        })
    }

    fn set_compiled_hash(&self, key: &str, hash: &str) -> Result<(), StoreError> {
        let (key, hash) = (key.to_string(), hash.to_string());
        self.with(|cx| async move {
            let c = cx.conn().await?;
            c.execute(
                "INSERT INTO compiled (key, hash) VALUES ($1, $2) \
                 ON CONFLICT (key) DO UPDATE SET hash = EXCLUDED.hash",
                &[&key, &hash],
            )
            .await
            .map_err(db)?;
            Ok(())
        })
    }

    fn pseudonym_key(&self) -> Result<[u8; 32], StoreError> {
        Ok(self.pseudonym_key)
    }
}
