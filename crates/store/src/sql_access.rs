//! [`AccessStore`] for both backends: users and their roles, invitations. Same SQL text on both,
//! like `sql.rs`.

use async_trait::async_trait;
use be_domain::{Email, FamilyId, InviteId, OrganizationId, Role, UserId};
use sqlx::FromRow;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    AccessStore, AuditFilter, AuditRecord, Conflict, InviteRecord, NewUser, PgStore, Result,
    SqliteStore, StoreError, User, UserChange,
    sql::{UserRow, families_from_db, families_to_db, role_from_db},
};

#[derive(FromRow)]
struct InviteRow {
    id: Uuid,
    organization_id: Uuid,
    email: String,
    role: String,
    families: Option<String>,
    invited_by: Option<Uuid>,
    created_at: OffsetDateTime,
    expires_at: OffsetDateTime,
}

impl TryFrom<InviteRow> for InviteRecord {
    type Error = StoreError;
    fn try_from(r: InviteRow) -> Result<Self> {
        Ok(InviteRecord {
            id: InviteId::from_uuid(r.id),
            organization_id: OrganizationId::from_uuid(r.organization_id),
            email: Email::from_trusted(r.email),
            role: role_from_db(&r.role)?,
            families: families_from_db(r.families.as_deref())?,
            invited_by: r.invited_by.map(UserId::from_uuid),
            created_at: r.created_at,
            expires_at: r.expires_at,
        })
    }
}

#[derive(FromRow)]
struct AuditRow {
    id: Uuid,
    organization_id: Uuid,
    at: OffsetDateTime,
    actor_id: Option<Uuid>,
    actor_email: String,
    address: Option<String>,
    kind: String,
    action: String,
    target: String,
    before: Option<String>,
    after: Option<String>,
}

impl TryFrom<AuditRow> for AuditRecord {
    type Error = StoreError;
    fn try_from(r: AuditRow) -> Result<Self> {
        let corrupt =
            |what: &str, v: &str| StoreError::Corrupt(format!("unknown audit {what} {v:?}"));
        Ok(AuditRecord {
            id: be_domain::AuditEventId::from_uuid(r.id),
            organization_id: OrganizationId::from_uuid(r.organization_id),
            at: r.at,
            actor_id: r.actor_id.map(UserId::from_uuid),
            actor_email: r.actor_email,
            address: r.address,
            kind: be_domain::AuditKind::parse(&r.kind).map_err(|_| corrupt("kind", &r.kind))?,
            action: be_domain::AuditAction::parse(&r.action)
                .map_err(|_| corrupt("action", &r.action))?,
            target: r.target,
            before: r.before,
            after: r.after,
        })
    }
}

macro_rules! audit_cols {
    () => {
        "id, organization_id, at, actor_id, actor_email, address, kind, action, target, before, after"
    };
}

macro_rules! user_cols {
    () => {
        "u.id, u.organization_id, u.email, u.role, u.families, u.created_at"
    };
}
macro_rules! invite_cols {
    () => {
        "id, organization_id, email, role, families, invited_by, created_at, expires_at"
    };
}

/// The update leaves at least one owner: either the user stays or becomes an owner, or was not
/// one, or another owner remains.
macro_rules! keeps_an_owner {
    () => {
        "(role <> 'owner' OR (SELECT COUNT(*) FROM users o WHERE o.organization_id = $1 AND o.role = 'owner') > 1)"
    };
}

macro_rules! access_store {
    ($store:ty) => {
        impl $store {
            async fn user_change(&self, org: OrganizationId, id: UserId, rows: u64) -> Result<UserChange> {
                if rows > 0 {
                    return Ok(UserChange::Done);
                }
                Ok(match self.get_user(org, id).await? {
                    Some(_) => UserChange::LastOwner,
                    None => UserChange::NotFound,
                })
            }
        }

        #[async_trait]
        impl AccessStore for $store {
            async fn list_users(&self, org: OrganizationId) -> Result<Vec<User>> {
                let rows: Vec<UserRow> = sqlx::query_as(concat!("SELECT ", user_cols!(), " FROM users u WHERE u.organization_id = $1 ORDER BY u.email"))
                    .bind(org.as_uuid())
                    .fetch_all(&self.pool)
                    .await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn get_user(&self, org: OrganizationId, id: UserId) -> Result<Option<User>> {
                let row: Option<UserRow> = sqlx::query_as(concat!("SELECT ", user_cols!(), " FROM users u WHERE u.organization_id = $1 AND u.id = $2"))
                    .bind(org.as_uuid())
                    .bind(id.as_uuid())
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(TryInto::try_into).transpose()
            }

            async fn set_user_role(
                &self,
                org: OrganizationId,
                id: UserId,
                role: Role,
                families: Option<&[FamilyId]>,
            ) -> Result<UserChange> {
                let sql = if role == Role::Owner {
                    "UPDATE users SET role = $3, families = $4 WHERE organization_id = $1 AND id = $2"
                } else {
                    concat!("UPDATE users SET role = $3, families = $4 WHERE organization_id = $1 AND id = $2 AND ", keeps_an_owner!())
                };
                let done = sqlx::query(sql)
                    .bind(org.as_uuid())
                    .bind(id.as_uuid())
                    .bind(role.as_str())
                    .bind(families_to_db(families))
                    .execute(&self.pool)
                    .await?;
                self.user_change(org, id, done.rows_affected()).await
            }

            async fn delete_user(&self, org: OrganizationId, id: UserId) -> Result<UserChange> {
                let done = sqlx::query(concat!("DELETE FROM users WHERE organization_id = $1 AND id = $2 AND ", keeps_an_owner!()))
                    .bind(org.as_uuid())
                    .bind(id.as_uuid())
                    .execute(&self.pool)
                    .await?;
                self.user_change(org, id, done.rows_affected()).await
            }

            async fn create_invite(&self, i: &InviteRecord, token_hash: &[u8]) -> Result<()> {
                sqlx::query(concat!("INSERT INTO invites (", invite_cols!(), ", token_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"))
                    .bind(i.id.as_uuid())
                    .bind(i.organization_id.as_uuid())
                    .bind(i.email.as_str())
                    .bind(i.role.as_str())
                    .bind(families_to_db(i.families.as_deref()))
                    .bind(i.invited_by.map(|u| u.as_uuid()))
                    .bind(i.created_at)
                    .bind(i.expires_at)
                    .bind(token_hash)
                    .execute(&self.pool)
                    .await
                    .map_err(|e| StoreError::from_write(e, Conflict::InviteEmail))?;
                Ok(())
            }

            async fn list_invites(&self, org: OrganizationId) -> Result<Vec<InviteRecord>> {
                let rows: Vec<InviteRow> = sqlx::query_as(concat!("SELECT ", invite_cols!(), " FROM invites WHERE organization_id = $1 ORDER BY created_at, id"))
                    .bind(org.as_uuid())
                    .fetch_all(&self.pool)
                    .await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn delete_invite(&self, org: OrganizationId, id: InviteId) -> Result<bool> {
                let done = sqlx::query("DELETE FROM invites WHERE organization_id = $1 AND id = $2")
                    .bind(org.as_uuid())
                    .bind(id.as_uuid())
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn find_invite(&self, token_hash: &[u8], now: OffsetDateTime) -> Result<Option<InviteRecord>> {
                let row: Option<InviteRow> = sqlx::query_as(concat!("SELECT ", invite_cols!(), " FROM invites WHERE token_hash = $1 AND expires_at > $2"))
                    .bind(token_hash)
                    .bind(now)
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(TryInto::try_into).transpose()
            }

            async fn append_audit(&self, e: &AuditRecord) -> Result<()> {
                sqlx::query(concat!("INSERT INTO audit_events (", audit_cols!(), ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"))
                    .bind(e.id.as_uuid())
                    .bind(e.organization_id.as_uuid())
                    .bind(e.at)
                    .bind(e.actor_id.map(|u| u.as_uuid()))
                    .bind(&e.actor_email)
                    .bind(&e.address)
                    .bind(e.kind.as_str())
                    .bind(e.action.as_str())
                    .bind(&e.target)
                    .bind(&e.before)
                    .bind(&e.after)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn list_audit(&self, org: OrganizationId, f: &AuditFilter) -> Result<Vec<AuditRecord>> {
                let rows: Vec<AuditRow> = sqlx::query_as(concat!(
                    "SELECT ", audit_cols!(), " FROM audit_events WHERE organization_id = $1 \
                     AND ($2 IS NULL OR kind = $2) AND ($3 IS NULL OR action = $3) \
                     AND ($4 IS NULL OR actor_email = $4) AND ($5 IS NULL OR target = $5) \
                     AND ($6 IS NULL OR at >= $6) AND ($7 IS NULL OR at < $7) \
                     ORDER BY at DESC, id LIMIT $8"))
                    .bind(org.as_uuid())
                    .bind(f.kind.map(be_domain::AuditKind::as_str))
                    .bind(f.action.map(be_domain::AuditAction::as_str))
                    .bind(&f.actor)
                    .bind(&f.target)
                    .bind(f.from)
                    .bind(f.to)
                    .bind(f.limit)
                    .fetch_all(&self.pool)
                    .await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn accept_invite(&self, token_hash: &[u8], now: OffsetDateTime, user: &NewUser) -> Result<bool> {
                let mut tx = self.pool.begin().await?;
                let taken = sqlx::query("DELETE FROM invites WHERE token_hash = $1 AND expires_at > $2 AND organization_id = $3")
                    .bind(token_hash)
                    .bind(now)
                    .bind(user.organization_id.as_uuid())
                    .execute(&mut *tx)
                    .await?;
                if taken.rows_affected() == 0 {
                    return Ok(false);
                }
                sqlx::query(
                    "INSERT INTO users (id, organization_id, email, password_hash, role, families, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(user.id.as_uuid())
                .bind(user.organization_id.as_uuid())
                .bind(user.email.as_str())
                .bind(&user.password_hash)
                .bind(user.role.as_str())
                .bind(families_to_db(user.families.as_deref()))
                .bind(user.created_at)
                .execute(&mut *tx)
                .await
                .map_err(|e| StoreError::from_write(e, Conflict::UserEmail))?;
                tx.commit().await?;
                Ok(true)
            }
        }
    };
}

access_store!(SqliteStore);
access_store!(PgStore);
