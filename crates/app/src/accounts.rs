//! Accounts: create by name, list, rename, delete. Scoped to the caller's organization.

use be_domain::{Account, AccountId, AccountName};
use be_store::{Conflict, StoreError};

use crate::{App, AppError, Caller, Result};

fn not_found() -> AppError {
    AppError::NotFound {
        code: "account_not_found",
        message: "There is no such account.".into(),
    }
}

fn name_taken(existing: &str) -> AppError {
    AppError::Conflict {
        code: "account_name_taken",
        field: Some(AccountName::FIELD),
        message: format!(
            "An account named \"{existing}\" already exists (names are compared ignoring case). Choose another name."
        ),
    }
}

fn parse_id(id: &str) -> Result<AccountId> {
    // A malformed ID names no account: the same answer as an unknown one.
    id.parse().map_err(|_| not_found())
}

impl App {
    /// The conflict error, naming the account that holds the name as it is spelled.
    async fn name_taken(&self, caller: &Caller, wanted: &AccountName) -> AppError {
        let key = wanted.key();
        let existing = match self.store.list_accounts(caller.organization_id).await {
            Ok(all) => all
                .into_iter()
                .find(|a| a.name.key() == key)
                .map(|a| a.name.to_string()),
            Err(_) => None,
        };
        name_taken(existing.as_deref().unwrap_or(wanted.as_str()))
    }

    pub async fn create_account(&self, caller: &Caller, name: &str) -> Result<Account> {
        caller.require(be_domain::Permission::ManageConnections)?;
        let name = AccountName::parse(name)?;
        let now = self.clock.now();
        let account = Account {
            id: AccountId::new(),
            organization_id: caller.organization_id,
            name,
            created_at: now,
            updated_at: now,
        };
        match self.store.create_account(&account).await {
            Ok(()) => {
                tracing::info!(org = %caller.organization_id, account = %account.id, "account created");
                let after = serde_json::to_value(&account).ok();
                self.audit(
                    caller,
                    be_domain::AuditKind::Account,
                    be_domain::AuditAction::Create,
                    account.id,
                    None,
                    after,
                )
                .await;
                Ok(account)
            }
            Err(StoreError::Conflict(Conflict::AccountName)) => {
                Err(self.name_taken(caller, &account.name).await)
            }
            Err(e) => Err(e.into()),
        }
    }

    pub async fn list_accounts(&self, caller: &Caller) -> Result<Vec<Account>> {
        caller.require(be_domain::Permission::Read)?;
        Ok(self.store.list_accounts(caller.organization_id).await?)
    }

    /// A page of the accounts by name (ignoring case): at most `limit`, after the account whose
    /// name key (its name in lower case) is `after`.
    pub async fn list_accounts_after(
        &self,
        caller: &Caller,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Account>> {
        caller.require(be_domain::Permission::Read)?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        Ok(self
            .store
            .list_accounts_after(caller.organization_id, after, limit)
            .await?)
    }

    pub async fn get_account(&self, caller: &Caller, id: &str) -> Result<Account> {
        caller.require(be_domain::Permission::Read)?;
        self.store
            .get_account(caller.organization_id, parse_id(id)?)
            .await?
            .ok_or_else(not_found)
    }

    pub async fn rename_account(&self, caller: &Caller, id: &str, name: &str) -> Result<Account> {
        caller.require(be_domain::Permission::ManageConnections)?;
        let id = parse_id(id)?;
        let name = AccountName::parse(name)?;
        let before = self.store.get_account(caller.organization_id, id).await?;
        match self
            .store
            .rename_account(caller.organization_id, id, &name, self.clock.now())
            .await
        {
            Ok(Some(account)) => {
                tracing::info!(org = %caller.organization_id, account = %id, "account renamed");
                let (before, after) = (
                    before.and_then(|b| serde_json::to_value(b).ok()),
                    serde_json::to_value(&account).ok(),
                );
                self.audit(
                    caller,
                    be_domain::AuditKind::Account,
                    be_domain::AuditAction::Update,
                    id,
                    before,
                    after,
                )
                .await;
                Ok(account)
            }
            Ok(None) => Err(not_found()),
            Err(StoreError::Conflict(Conflict::AccountName)) => {
                Err(self.name_taken(caller, &name).await)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Delete an account with its connection and that connection's data.
    pub async fn delete_account(&self, caller: &Caller, id: &str) -> Result<()> {
        caller.require(be_domain::Permission::ManageConnections)?;
        let id = parse_id(id)?;
        let connections: Vec<_> = self
            .store
            .list_connections(caller.organization_id)
            .await?
            .into_iter()
            .filter(|c| c.account_id == id)
            .collect();
        let before = self.store.get_account(caller.organization_id, id).await?;
        let mut periods = Vec::new();
        for c in &connections {
            periods.extend(
                self.connection_periods(caller.organization_id, c.id)
                    .await?,
            );
        }
        if self
            .store
            .delete_account(caller.organization_id, id, self.clock.now())
            .await?
        {
            for c in connections {
                self.remove_connection_data(c.id).await;
            }
            self.data_changed(caller.organization_id, &periods).await?;
            tracing::info!(org = %caller.organization_id, account = %id, "account deleted");
            let before = before.and_then(|b| serde_json::to_value(b).ok());
            self.audit(
                caller,
                be_domain::AuditKind::Account,
                be_domain::AuditAction::Delete,
                id,
                before,
                None,
            )
            .await;
            Ok(())
        } else {
            Err(not_found())
        }
    }
}
