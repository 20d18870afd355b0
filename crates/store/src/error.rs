/// Which uniqueness rule a write broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    AccountName,
    UserEmail,
    OrganizationName,
    /// The account already has a connection to this provider.
    AccountConnected,
    /// Another change of the pricing configuration saved the same version first.
    PricingVersion,
    ImportSourceName,
    ViewName,
    TemplateName,
    /// An invitation for this e-mail address is pending.
    InviteEmail,
    Other,
}

/// The store crate's one error enum.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the write conflicts with existing data ({0:?})")]
    Conflict(Conflict),
    #[error("the database URL must start with sqlite: or postgres://")]
    UnsupportedUrl,
    #[error("cannot open the database")]
    Connect(#[source] sqlx::Error),
    #[error("the database schema could not be migrated")]
    Migrate(#[source] sqlx::migrate::MigrateError),
    #[error("a database operation failed")]
    Backend(#[source] sqlx::Error),
    /// The row written refers to one that no longer exists (a connection deleted meanwhile).
    #[error("the record it belongs to no longer exists")]
    Gone(#[source] sqlx::Error),
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// True when the database could not be reached (as opposed to a query that failed).
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Connect(_) => true,
            StoreError::Backend(e) => matches!(
                e,
                sqlx::Error::Io(_)
                    | sqlx::Error::PoolTimedOut
                    | sqlx::Error::PoolClosed
                    | sqlx::Error::Tls(_)
            ),
            _ => false,
        }
    }

    pub(crate) fn from_write(err: sqlx::Error, on_unique: Conflict) -> Self {
        match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Conflict(on_unique)
            }
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => StoreError::Gone(err),
            _ => StoreError::Backend(err),
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        StoreError::Backend(err)
    }
}
