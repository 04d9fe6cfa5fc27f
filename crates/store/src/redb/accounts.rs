//! Accounts and tokens.

use super::*;

impl AccountStore for RedbStore {
    fn set_language(&self, id: u64, language: Option<&str>) -> Result<Account, StoreError> {
        self.write(|tx| {
            let mut a: Account = get_json(tx, ACCOUNTS, id)?.ok_or(StoreError::NoAccount(id))?;
            a.language = language.map(str::to_string);
            put_json(tx, ACCOUNTS, id, &a)?;
            Ok(a)
        })
    }

    fn add_account(&self, mut a: Account) -> Result<Account, StoreError> {
        let key = name_key(&a.name);
        self.write(|tx| {
            let taken = {
                let names = tx.open_table(ACCOUNT_NAMES).map_err(db)?;
                names.get(key.as_str()).map_err(db)?.map(|id| id.value())
            };
            if let Some(id) = taken {
                let existing: Option<Account> = get_json(tx, ACCOUNTS, id)?;
                return Err(StoreError::NameTaken(
                    existing.map_or(a.name.clone(), |e| e.name),
                ));
            }
            a.id = next_id(tx, "account")?;
            put_json(tx, ACCOUNTS, a.id, &a)?;
            tx.open_table(ACCOUNT_NAMES)
                .map_err(db)?
                .insert(key.as_str(), a.id)
                .map_err(db)?;
            append(
                tx,
                AuditEvent::AccountCreated {
                    account: a.id,
                    role: a.role,
                    person: a.person,
                },
            )?;
            Ok(a)
        })
    }

    fn account(&self, id: u64) -> Result<Option<Account>, StoreError> {
        self.read_json(ACCOUNTS, id)
    }

    fn account_by_name(&self, name: &str) -> Result<Option<Account>, StoreError> {
        // The exact name first: only an old store's raw-name entries, or a key typed as such,
        // match it, and each names the account it was written for.
        let id = match self.read_u64(ACCOUNT_NAMES, name)? {
            Some(id) => Some(id),
            None => self.read_u64(ACCOUNT_NAMES, &name_key(name))?,
        };
        id.map_or(Ok(None), |id| self.account(id))
    }

    fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        self.all_json(ACCOUNTS)
    }

    fn add_token(&self, mut t: Token) -> Result<Token, StoreError> {
        self.write(|tx| {
            t.id = next_id(tx, "token")?;
            put_json(tx, TOKENS, t.id, &t)?;
            list(tx, "tokens", &[account_owner(t.account)], t.id)?;
            tx.open_table(TOKEN_HASHES)
                .map_err(db)?
                .insert(t.hash.as_str(), t.id)
                .map_err(db)?;
            append(
                tx,
                AuditEvent::TokenIssued {
                    account: t.account,
                    token: t.id,
                },
            )?;
            Ok(t)
        })
    }

    fn token_by_hash(&self, hash: &str) -> Result<Option<Token>, StoreError> {
        let id = self.read_u64(TOKEN_HASHES, hash)?;
        id.map_or(Ok(None), |id| self.read_json(TOKENS, id))
    }

    fn tokens(&self, account: u64) -> Result<Vec<Token>, StoreError> {
        let mut all = crate::walk(
            1024,
            |t: &Token| t.id,
            |page| self.tokens_page(account, page),
        )?;
        all.reverse();
        Ok(all)
    }

    fn tokens_page(&self, account: u64, page: Page) -> Result<Vec<Token>, StoreError> {
        let tx = self.db.begin_read().map_err(db)?;
        let ids = listed(
            &tx.open_table(LISTINGS).map_err(db)?,
            "tokens",
            &account_owner(account),
            page,
        )?;
        let t = tx.open_table(TOKENS).map_err(db)?;
        ids.into_iter()
            .map(|id| {
                let v = t.get(id).map_err(db)?.ok_or_else(|| {
                    StoreError::Db(format!("listing `tokens` names {id}, which is missing"))
                })?;
                from_json(v.value())
            })
            .collect()
    }

    fn revoke_token(&self, id: u64, at_ms: i64) -> Result<Token, StoreError> {
        self.write(|tx| {
            let mut t: Token = {
                let table = tx.open_table(TOKENS).map_err(db)?;
                let v = table.get(id).map_err(db)?.ok_or(StoreError::NoToken(id))?;
                from_json(v.value())?
            };
            if t.revoked_ms.is_none() {
                t.revoked_ms = Some(at_ms);
                put_json(tx, TOKENS, id, &t)?;
                append(
                    tx,
                    AuditEvent::TokenRevoked {
                        account: t.account,
                        token: id,
                    },
                )?;
            }
            Ok(t)
        })
    }
}
