//! Organizations and their users (operator commands and the demo seed).

use be_domain::{Email, OrganizationId, OrganizationName, Password, Role, UserId};
use be_store::{Conflict, NewUser, Organization, StoreError, User};

use crate::{App, AppError, IssuedToken, Result};

/// What `demo` prints after seeding.
#[derive(Debug)]
pub struct DemoSeed {
    pub organization: Organization,
    pub email: Email,
    pub caller: crate::Caller,
    pub cli_token: IssuedToken,
}

impl App {
    /// Create an organization (operator command).
    pub async fn create_organization(&self, name: &str) -> Result<Organization> {
        let org = Organization {
            id: OrganizationId::new(),
            name: OrganizationName::parse(name)?,
            created_at: self.clock.now(),
        };
        self.store.create_organization(&org).await?;
        tracing::info!(org = %org.id, "organization created");
        Ok(org)
    }

    /// Add a user to an organization (operator command).
    pub async fn create_user(
        &self,
        org: OrganizationId,
        email: &str,
        password: &str,
        role: Role,
    ) -> Result<User> {
        let email = Email::parse(email)?;
        let password = Password::parse(password)?;
        if self.store.get_organization(org).await?.is_none() {
            return Err(AppError::NotFound {
                code: "organization_not_found",
                message: "There is no such organization.".into(),
            });
        }
        let user = NewUser {
            id: UserId::new(),
            organization_id: org,
            email: email.clone(),
            password_hash: self.hash(password.expose()).await?,
            role,
            families: None,
            created_at: self.clock.now(),
        };
        match self.store.create_user(&user).await {
            Ok(user) => Ok(user),
            Err(StoreError::Conflict(Conflict::UserEmail)) => Err(AppError::Conflict {
                code: "email_taken",
                field: Some(Email::FIELD),
                message: format!("A user with the e-mail address {email} already exists."),
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// Make sure the demo organization and its administrator exist with the given password, and
    /// issue a fresh CLI token (replacing the previous demo token). Idempotent across restarts.
    pub async fn seed_demo(&self, org_name: &str, email: &str, password: &str) -> Result<DemoSeed> {
        let email_v = Email::parse(email)?;
        let org = match self.store.find_organization_by_name(org_name).await? {
            Some(org) => org,
            None => self.create_organization(org_name).await?,
        };
        let user = match self.store.find_user_credentials(&email_v).await? {
            Some(creds) => {
                self.store
                    .set_password_hash(creds.user.id, &self.hash(password).await?)
                    .await?;
                creds.user
            }
            None => {
                self.create_user(org.id, email, password, Role::Owner)
                    .await?
            }
        };
        if self.store.list_accounts(org.id).await?.is_empty() {
            let caller = crate::Caller::from(user.clone());
            self.create_account(&caller, "Contoso Retail").await?;
        }
        const DEMO_TOKEN: &str = "demo CLI";
        self.store
            .revoke_api_tokens_named(org.id, user.id, DEMO_TOKEN)
            .await?;
        let cli_token = self
            .create_api_token(&user.clone().into(), DEMO_TOKEN)
            .await?;
        Ok(DemoSeed {
            organization: org,
            email: email_v,
            caller: user.into(),
            cli_token,
        })
    }
}

impl App {
    /// The caller's own organization.
    pub async fn organization(&self, caller: &crate::Caller) -> Result<Organization> {
        caller.require(be_domain::Permission::OwnTokens)?;
        self.store
            .get_organization(caller.organization_id)
            .await?
            .ok_or_else(|| AppError::NotFound {
                code: "organization_not_found",
                message: "There is no such organization.".into(),
            })
    }
}

impl App {
    /// Create an organization with its first administrator. Every input is checked, and the
    /// e-mail address must be free, before anything is written.
    pub async fn create_organization_with_admin(
        &self,
        name: &str,
        email: &str,
        password: &str,
    ) -> Result<(Organization, User)> {
        OrganizationName::parse(name)?;
        let email_v = Email::parse(email)?;
        Password::parse(password)?;
        if self.store.find_user_credentials(&email_v).await?.is_some() {
            return Err(AppError::Conflict {
                code: "email_taken",
                field: Some(Email::FIELD),
                message: format!("A user with the e-mail address {email_v} already exists."),
            });
        }
        let org = self.create_organization(name).await?;
        let user = self
            .create_user(org.id, email, password, Role::Owner)
            .await?;
        Ok((org, user))
    }
}
