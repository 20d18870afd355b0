use be_domain::{ApiTokenId, Email, OrganizationId, OrganizationName, Role, TokenName, UserId};
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub id: OrganizationId,
    pub name: OrganizationName,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub organization_id: OrganizationId,
    pub email: Email,
    pub role: Role,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: UserId,
    pub organization_id: OrganizationId,
    pub email: Email,
    pub password_hash: String,
    pub role: Role,
    pub created_at: OffsetDateTime,
}

/// A user with the stored password hash, for logging in.
#[derive(Debug, Clone)]
pub struct UserCredentials {
    pub user: User,
    pub password_hash: String,
}

#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub user: User,
    pub expires_at: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub struct NewApiToken {
    pub id: ApiTokenId,
    pub organization_id: OrganizationId,
    pub user_id: UserId,
    pub name: TokenName,
    pub token_hash: Vec<u8>,
    /// The first characters of the token, shown so a person can tell tokens apart.
    pub prefix: String,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiTokenRecord {
    pub id: ApiTokenId,
    pub organization_id: OrganizationId,
    pub user_id: UserId,
    pub name: TokenName,
    pub prefix: String,
    pub created_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
}
