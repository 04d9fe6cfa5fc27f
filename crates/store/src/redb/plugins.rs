//! Plugins, publishers, compiled-code hashes and the pseudonym secret.

use super::*;

impl PluginStore for RedbStore {
    fn put_plugin(&self, plugin: &PluginRecord) -> Result<(), StoreError> {
        self.write(|tx| {
            put_json(tx, PLUGINS, plugin.digest.as_str(), plugin)?;
            append(
                tx,
                AuditEvent::PluginInstalled {
                    digest: plugin.digest.clone(),
                    name: plugin.name.clone(),
                },
            )?;
            Ok(())
        })
    }

    fn plugin(&self, digest: &str) -> Result<PluginRecord, StoreError> {
        self.read_json(PLUGINS, digest)?
            .ok_or_else(|| StoreError::NoPlugin(digest.to_string()))
    }

    fn plugins(&self) -> Result<Vec<PluginRecord>, StoreError> {
        self.all_json(PLUGINS)
    }

    fn trust_publisher(&self, publisher: &Publisher) -> Result<(), StoreError> {
        self.write(|tx| {
            put_json(tx, PUBLISHERS, publisher.name.as_str(), publisher)?;
            append(
                tx,
                AuditEvent::PublisherTrusted {
                    name: publisher.name.clone(),
                    key: publisher.key.clone(),
                },
            )?;
            Ok(())
        })
    }

    fn publisher(&self, name: &str) -> Result<Option<Publisher>, StoreError> {
        self.read_json(PUBLISHERS, name)
    }

    fn publishers(&self) -> Result<Vec<Publisher>, StoreError> {
        self.all_json(PUBLISHERS)
    }

    fn revoke_publisher(&self, name: &str, at_ms: i64) -> Result<Publisher, StoreError> {
        self.write(|tx| {
            let mut p: Publisher = {
                let t = tx.open_table(PUBLISHERS).map_err(db)?;
                let v = t
                    .get(name)
                    .map_err(db)?
                    .ok_or_else(|| StoreError::NoPublisher(name.to_string()))?;
                from_json(v.value())?
            };
            if p.revoked_ms.is_none() {
                p.revoked_ms = Some(at_ms);
                put_json(tx, PUBLISHERS, name, &p)?;
                append(
                    tx,
                    AuditEvent::PublisherRevoked {
                        name: name.to_string(),
                    },
                )?;
            }
            Ok(p)
        })
    }

    fn put_component(&self, digest: &str, bytes: &[u8]) -> Result<(), StoreError> {
        self.write(|tx| {
            let mut t = tx.open_table(COMPONENTS).map_err(db)?;
            t.insert(digest, bytes).map_err(db)?;
            Ok(())
        })
    }

    fn component(&self, digest: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(COMPONENTS).map_err(db)?;
        Ok(t.get(digest).map_err(db)?.map(|v| v.value().to_vec()))
    }

    fn compiled_hash(&self, key: &str) -> Result<Option<String>, StoreError> {
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(COMPILED).map_err(db)?;
        Ok(t.get(key).map_err(db)?.map(|v| v.value().to_string()))
    }

    fn set_compiled_hash(&self, key: &str, hash: &str) -> Result<(), StoreError> {
        self.write(|tx| {
            let mut t = tx.open_table(COMPILED).map_err(db)?;
            t.insert(key, hash).map_err(db)?;
            Ok(())
        })
    }

    fn pseudonym_key(&self) -> Result<[u8; 32], StoreError> {
        Ok(self.pseudonym_key)
    }
}
