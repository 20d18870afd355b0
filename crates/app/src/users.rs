//! The organization's users: roles, invitations by link, removal. Owners only (`ManageUsers`),
//! except accepting an invitation, which its link authorizes.

use std::fmt;

use be_domain::{
    AuditAction, AuditKind, Email, FamilyId, FieldError, InviteId, Password, Permission, Role,
    UserId,
};
use be_store::{Conflict, InviteRecord, NewUser, StoreError, User, UserChange};
use serde::Serialize;
use time::OffsetDateTime;

use crate::{App, AppError, Caller, Result};

/// How long an invitation link stays valid.
pub const INVITE_TTL: time::Duration = time::Duration::days(7);

/// A user as the API and the console show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserView {
    pub id: UserId,
    pub email: Email,
    pub role: Role,
    /// The families a viewer is limited to; absent: no limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub families: Option<Vec<FamilyId>>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        Self {
            id: u.id,
            email: u.email,
            role: u.role,
            families: u.families,
            created_at: u.created_at,
        }
    }
}

/// A pending invitation (never its link: that is shown once, to the inviter).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InviteView {
    pub id: InviteId,
    pub email: Email,
    pub role: Role,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub families: Option<Vec<FamilyId>>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

impl From<InviteRecord> for InviteView {
    fn from(i: InviteRecord) -> Self {
        Self {
            id: i.id,
            email: i.email,
            role: i.role,
            families: i.families,
            created_at: i.created_at,
            expires_at: i.expires_at,
        }
    }
}

/// A new invitation and its link (shown once; the link is the only way in).
#[derive(Serialize)]
pub struct IssuedInvite {
    #[serde(flatten)]
    pub invite: InviteView,
    pub link: String,
}

impl fmt::Debug for IssuedInvite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedInvite")
            .field("invite", &self.invite)
            .field("link", &"[redacted]")
            .finish()
    }
}

fn json(v: &impl Serialize) -> Option<serde_json::Value> {
    serde_json::to_value(v).ok()
}

fn user_not_found() -> AppError {
    AppError::NotFound {
        code: "user_not_found",
        message: "There is no such user in your organization.".into(),
    }
}

fn invite_not_found() -> AppError {
    AppError::NotFound {
        code: "invite_not_found",
        message: "This invitation does not exist or has expired. Ask for a new one.".into(),
    }
}

fn last_owner() -> AppError {
    AppError::Conflict {
        code: "last_owner",
        field: Some(Role::FIELD),
        message: "The organization needs at least one owner: make someone else an owner first."
            .into(),
    }
}

fn change_result(change: UserChange) -> Result<()> {
    match change {
        UserChange::Done => Ok(()),
        UserChange::NotFound => Err(user_not_found()),
        UserChange::LastOwner => Err(last_owner()),
    }
}

impl App {
    /// A role and a family limit as a request gives them: the limit only for viewers, and only
    /// families of the organization's configuration.
    async fn parse_access(
        &self,
        caller: &Caller,
        role: &str,
        families: Option<&[String]>,
    ) -> Result<(Role, Option<Vec<FamilyId>>)> {
        let role = Role::parse(role)?;
        let Some(raw) = families.filter(|f| !f.is_empty()) else {
            return Ok((role, None));
        };
        if role != Role::Viewer {
            return Err(FieldError::new(
                "families",
                "families_only_for_viewers",
                "Only a viewer can be limited to some families; choose the viewer role or no families.",
            )
            .into());
        }
        let config = self.load_pricing(caller.organization_id).await?.config;
        let mut ids = Vec::new();
        for (i, f) in raw.iter().enumerate() {
            let id = f
                .parse::<FamilyId>()
                .ok()
                .filter(|id| config.families.iter().any(|fam| fam.id == *id))
                .ok_or_else(|| {
                    FieldError::new(
                        format!("families[{i}]"),
                        "family_not_found",
                        format!(
                            "{f:?} is not one of your families: use an ID from GET /api/v1/pricing."
                        ),
                    )
                })?;
            ids.push(id);
        }
        Ok((role, Some(ids)))
    }

    pub async fn list_users(&self, caller: &Caller) -> Result<Vec<UserView>> {
        caller.require(Permission::ManageUsers)?;
        let users = self.store.list_users(caller.organization_id).await?;
        Ok(users.into_iter().map(Into::into).collect())
    }

    /// Change a user's role (and a viewer's family limit). Never leaves the organization
    /// without an owner.
    pub async fn set_user_role(
        &self,
        caller: &Caller,
        id: &str,
        role: &str,
        families: Option<&[String]>,
    ) -> Result<UserView> {
        caller.require(Permission::ManageUsers)?;
        let id: UserId = id.parse().map_err(|_| user_not_found())?;
        let (role, families) = self.parse_access(caller, role, families).await?;
        let org = caller.organization_id;
        let before = self
            .store
            .get_user(org, id)
            .await?
            .ok_or_else(user_not_found)?;
        change_result(
            self.store
                .set_user_role(org, id, role, families.as_deref())
                .await?,
        )?;
        tracing::info!(user = %id, role = role.as_str(), by = %caller.user_id, "role changed");
        let user: UserView = self
            .store
            .get_user(org, id)
            .await?
            .ok_or_else(user_not_found)?
            .into();
        let before: UserView = before.into();
        self.audit(
            caller,
            AuditKind::User,
            AuditAction::Update,
            id,
            json(&before),
            json(&user),
        )
        .await;
        Ok(user)
    }

    /// Remove a user with their sessions and API tokens. Never the last owner.
    pub async fn remove_user(&self, caller: &Caller, id: &str) -> Result<UserView> {
        caller.require(Permission::ManageUsers)?;
        let id: UserId = id.parse().map_err(|_| user_not_found())?;
        let org = caller.organization_id;
        let user = self
            .store
            .get_user(org, id)
            .await?
            .ok_or_else(user_not_found)?;
        change_result(self.store.delete_user(org, id).await?)?;
        tracing::info!(user = %id, by = %caller.user_id, "user removed");
        let user: UserView = user.into();
        self.audit(
            caller,
            AuditKind::User,
            AuditAction::Delete,
            id,
            json(&user),
            None,
        )
        .await;
        Ok(user)
    }

    /// Invite someone by e-mail address: the link (shown to the inviter, to pass on) lets them
    /// choose a password and join with the role given.
    pub async fn invite_user(
        &self,
        caller: &Caller,
        email: &str,
        role: &str,
        families: Option<&[String]>,
    ) -> Result<IssuedInvite> {
        caller.require(Permission::ManageUsers)?;
        let email = Email::parse(email)?;
        let (role, families) = self.parse_access(caller, role, families).await?;
        if self.store.find_user_credentials(&email).await?.is_some() {
            return Err(AppError::Conflict {
                code: "email_taken",
                field: Some(Email::FIELD),
                message: format!("{email} already has a user."),
            });
        }
        let secret = crate::auth::random_secret()?;
        let now = self.clock.now();
        let invite = InviteRecord {
            id: InviteId::new(),
            organization_id: caller.organization_id,
            email: email.clone(),
            role,
            families,
            invited_by: Some(caller.user_id),
            created_at: now,
            expires_at: now + INVITE_TTL,
        };
        match self
            .store
            .create_invite(&invite, &crate::auth::digest(&secret))
            .await
        {
            Ok(()) => {}
            Err(StoreError::Conflict(Conflict::InviteEmail)) => {
                return Err(AppError::Conflict {
                    code: "invite_pending",
                    field: Some(Email::FIELD),
                    message: format!(
                        "{email} has a pending invitation: revoke it first to send a new one."
                    ),
                });
            }
            Err(e) => return Err(e.into()),
        }
        tracing::info!(invite = %invite.id, by = %caller.user_id, "user invited");
        let base = self.settings.public_url.trim_end_matches('/');
        let view: InviteView = invite.into();
        self.audit(
            caller,
            AuditKind::Invite,
            AuditAction::Create,
            view.id,
            None,
            json(&view),
        )
        .await;
        Ok(IssuedInvite {
            invite: view,
            link: format!("{base}/invite/{secret}"),
        })
    }

    pub async fn list_invites(&self, caller: &Caller) -> Result<Vec<InviteView>> {
        caller.require(Permission::ManageUsers)?;
        let invites = self.store.list_invites(caller.organization_id).await?;
        Ok(invites.into_iter().map(Into::into).collect())
    }

    pub async fn revoke_invite(&self, caller: &Caller, id: &str) -> Result<()> {
        caller.require(Permission::ManageUsers)?;
        let id: InviteId = id.parse().map_err(|_| invite_not_found())?;
        if self.store.delete_invite(caller.organization_id, id).await? {
            self.audit(
                caller,
                AuditKind::Invite,
                AuditAction::Delete,
                id,
                None,
                None,
            )
            .await;
            Ok(())
        } else {
            Err(invite_not_found())
        }
    }

    async fn invite_record(&self, secret: &str) -> Result<InviteRecord> {
        self.store
            .find_invite(&crate::auth::digest(secret), self.clock.now())
            .await?
            .ok_or_else(invite_not_found)
    }

    /// The invitation behind a link, if it is pending (the link itself authorizes this).
    pub async fn invite_by_link(&self, secret: &str) -> Result<InviteView> {
        Ok(self.invite_record(secret).await?.into())
    }

    /// Join through an invitation: the new user, with the invitation's role.
    pub async fn accept_invite(
        &self,
        secret: &str,
        password: &str,
        address: Option<String>,
    ) -> Result<Caller> {
        let invite = self.invite_record(secret).await?;
        let password = Password::parse(password)?;
        let digest = crate::auth::digest(secret);
        let org = invite.organization_id;
        let user = NewUser {
            id: UserId::new(),
            organization_id: org,
            email: invite.email.clone(),
            password_hash: self.hash(password.expose()).await?,
            role: invite.role,
            families: invite.families.clone(),
            created_at: self.clock.now(),
        };
        match self
            .store
            .accept_invite(&digest, self.clock.now(), &user)
            .await
        {
            Ok(true) => {}
            Ok(false) => return Err(invite_not_found()),
            Err(StoreError::Conflict(Conflict::UserEmail)) => {
                return Err(AppError::Conflict {
                    code: "email_taken",
                    field: Some(Email::FIELD),
                    message: format!("{} already has a user: sign in instead.", invite.email),
                });
            }
            Err(e) => return Err(e.into()),
        }
        tracing::info!(user = %user.id, org = %org, "invitation accepted");
        let caller = Caller {
            user_id: user.id,
            organization_id: org,
            email: user.email.clone(),
            role: user.role,
            families: user.families.clone(),
            address,
        };
        let view = UserView {
            id: user.id,
            email: user.email,
            role: user.role,
            families: user.families,
            created_at: user.created_at,
        };
        self.audit(
            &caller,
            AuditKind::User,
            AuditAction::Create,
            user.id,
            None,
            json(&view),
        )
        .await;
        Ok(caller)
    }
}
