//! Accounts and tokens.

use super::*;
use insitu_model::account::name::key as name_key;
use insitu_model::account::{Account, Token};
use insitu_store::AccountStore;

impl AccountStore for PgStore {
    fn add_account(&self, mut a: Account) -> Result<Account, StoreError> {
        let name = name_key(&a.name);
        self.with(|cx| async move {
            let mut c = cx.conn().await?;
            let tx = Tx::audited(&mut c, &cx).await?;
            let taken = tx
                .query_opt(
                    "SELECT a.value FROM account_names n LEFT JOIN accounts a ON a.id = n.account \
                     WHERE n.name = $1",
                    &[&name],
                )
                .await
                .map_err(db)?;
            if let Some(row) = taken {
                let existing: Option<Account> = row
                    .try_get::<_, Option<Json<Account>>>(0)
                    .map_err(db)?
                    .map(|v| v.0);
                return Err(StoreError::NameTaken(
                    existing.map_or(a.name.clone(), |e| e.name),
                ));
            }
            a.id = next_id(&tx, "account").await?;
            tx.execute(
                "INSERT INTO accounts (id, person, value) VALUES ($1, $2, $3)",
                &[&key(a.id), &a.person.map(key), &json(&a)],
            )
            .await
            .map_err(db)?;
            tx.execute(
                "INSERT INTO account_names (name, account) VALUES ($1, $2)",
                &[&name, &key(a.id)],
            )
            .await
            .map_err(db)?;
            append(
                &tx,
                AuditEvent::AccountCreated {
                    account: a.id,
                    role: a.role,
                    person: a.person,
                },
            )
            .await?;
            tx.commit().await?;
            Ok(a)
        })
    }

    fn set_language(&self, id: u64, language: Option<&str>) -> Result<Account, StoreError> {
        let language = language.map(str::to_string);
        self.with(|cx| async move {
            let mut c = cx.conn().await?;
            let tx = Tx::plain(&mut c, &cx).await?;
            let mut a: Account = one(
                &tx,
                "SELECT value FROM accounts WHERE id = $1 FOR UPDATE",
                &[&key(id)],
            )
            .await?
            .ok_or(StoreError::NoAccount(id))?;
            a.language = language;
            tx.execute(
                "UPDATE accounts SET value = $2 WHERE id = $1",
                &[&key(id), &json(&a)],
            )
            .await
            .map_err(db)?;
            tx.commit().await?;
            Ok(a)
        })
    }

    fn account(&self, id: u64) -> Result<Option<Account>, StoreError> {
        self.with(|cx| async move {
            let c = cx.conn().await?;
            one(&c, "SELECT value FROM accounts WHERE id = $1", &[&key(id)]).await
        })
    }

    fn account_by_name(&self, name: &str) -> Result<Option<Account>, StoreError> {
        // The exact name first (a key typed as such), then the name's key, as in redb.
        let names = vec![name.to_string(), name_key(name)];
        self.with(|cx| async move {
            let c = cx.conn().await?;
            for n in &names {
                let found: Option<Account> = one(
                    &c,
                    "SELECT a.value FROM account_names n JOIN accounts a ON a.id = n.account \
                     WHERE n.name = $1",
                    &[n],
                )
                .await?;
                if found.is_some() {
                    return Ok(found);
                }
            }
            Ok(None)
        })
    }

    fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        self.with(|cx| async move {
            let c = cx.conn().await?;
            all(&c, "SELECT value FROM accounts ORDER BY id", &[]).await
        })
    }

    fn add_token(&self, mut t: Token) -> Result<Token, StoreError> {
        self.with(|cx| async move {
            let mut c = cx.conn().await?;
            let tx = Tx::audited(&mut c, &cx).await?;
            t.id = next_id(&tx, "token").await?;
            tx.execute(
                "INSERT INTO tokens (id, account, hash, value) VALUES ($1, $2, $3, $4)",
                &[&key(t.id), &key(t.account), &t.hash, &json(&t)],
            )
            .await
            .map_err(db)?;
            append(
                &tx,
                AuditEvent::TokenIssued {
                    account: t.account,
                    token: t.id,
                },
            )
            .await?;
            tx.commit().await?;
            Ok(t)
        })
    }

    fn token_by_hash(&self, hash: &str) -> Result<Option<Token>, StoreError> {
        let hash = hash.to_string();
        self.with(|cx| async move {
            let c = cx.conn().await?;
            one(
                &c,
                "SELECT value FROM tokens WHERE hash = $1 ORDER BY id DESC LIMIT 1",
                &[&hash],
            )
            .await
        })
    }

    fn tokens(&self, account: u64) -> Result<Vec<Token>, StoreError> {
        self.with(|cx| async move {
            let c = cx.conn().await?;
            all(
                &c,
                "SELECT value FROM tokens WHERE account = $1 ORDER BY id",
                &[&key(account)],
            )
            .await
        })
    }

    fn tokens_page(&self, account: u64, page: Page) -> Result<Vec<Token>, StoreError> {
        let (before, limit) = bounds(&page);
        self.with(|cx| async move {
            let c = cx.conn().await?;
            all(
                &c,
                "SELECT value FROM tokens WHERE account = $1 AND id < $2 \
                 ORDER BY id DESC LIMIT $3",
                &[&key(account), &before, &limit],
            )
            .await
        })
    }

    fn revoke_token(&self, id: u64, at_ms: i64) -> Result<Token, StoreError> {
        self.with(|cx| async move {
            let mut c = cx.conn().await?;
            let tx = Tx::audited(&mut c, &cx).await?;
            let mut t: Token = one(&tx, "SELECT value FROM tokens WHERE id = $1", &[&key(id)])
                .await?
                .ok_or(StoreError::NoToken(id))?;
            if t.revoked_ms.is_none() {
                t.revoked_ms = Some(at_ms);
                tx.execute(
                    "UPDATE tokens SET value = $2 WHERE id = $1",
                    &[&key(id), &json(&t)],
                )
                .await
                .map_err(db)?;
                append(
                    &tx,
                    AuditEvent::TokenRevoked {
                        account: t.account,
                        token: id,
                    },
                )
                .await?;
            }
            tx.commit().await?;
            Ok(t)
        })
    }
}
