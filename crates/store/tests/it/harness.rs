use std::sync::Arc;

use be_store::{PgStore, SqliteStore, Store};
use sqlx::{Connection, Executor, PgConnection};

/// A store on a fresh database; dropping the guard removes it.
pub struct TestDb {
    pub store: Arc<dyn Store>,
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile_dir::Dir),
    Postgres {
        admin_url: String,
        name: String,
        store: PgStore,
    },
}

mod tempfile_dir {
    /// A directory removed on drop (kept dependency-free on purpose).
    pub struct Dir(pub std::path::PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

pub fn pg_admin_url() -> String {
    std::env::var("BILLING_ENGINE_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

impl TestDb {
    pub async fn sqlite() -> Self {
        let db = Self::sqlite_at(None).await;
        db.store.migrate().await.expect("migrate sqlite");
        db
    }

    pub async fn postgres() -> Self {
        let db = Self::postgres_at(None).await;
        db.store.migrate().await.expect("migrate postgres");
        db
    }

    /// A fresh SQLite database migrated up to `version` (none: not at all).
    pub async fn sqlite_at(version: Option<i64>) -> Self {
        let dir = std::env::temp_dir().join(format!("be-store-test-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let url = format!("sqlite://{}", dir.join("state.db").display());
        let store = SqliteStore::connect(&url).await.expect("open sqlite");
        if let Some(v) = version {
            let pool = sqlx::SqlitePool::connect(&url).await.expect("raw pool");
            migrator("sqlite")
                .await
                .run_to(v, &pool)
                .await
                .expect("migrate sqlite partially");
            pool.close().await;
        }
        Self {
            store: Arc::new(store),
            url,
            cleanup: Cleanup::Sqlite(tempfile_dir::Dir(dir)),
        }
    }

    /// A fresh PostgreSQL database migrated up to `version` (none: not at all).
    pub async fn postgres_at(version: Option<i64>) -> Self {
        let admin_url = pg_admin_url();
        let name = format!("be_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(&admin_url).await.unwrap_or_else(|e| {
            panic!(
                "PostgreSQL is required for the store tests and is not reachable at {admin_url}: {e}. \
                 Start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
            )
        });
        admin
            .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .expect("create test database");
        admin.close().await.ok();
        let url = replace_db(&admin_url, &name);
        let store = PgStore::connect(&url).await.expect("open postgres");
        if let Some(v) = version {
            let pool = sqlx::PgPool::connect(&url).await.expect("raw pool");
            migrator("postgres")
                .await
                .run_to(v, &pool)
                .await
                .expect("migrate postgres partially");
            pool.close().await;
        }
        Self {
            store: Arc::new(store.clone()),
            url,
            cleanup: Cleanup::Postgres {
                admin_url,
                name,
                store,
            },
        }
    }

    pub async fn drop_db(self) {
        if let Cleanup::Postgres {
            admin_url,
            name,
            store,
        } = self.cleanup
        {
            store.close().await;
            if let Ok(mut admin) = PgConnection::connect(&admin_url).await {
                let _ = admin
                    .execute(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .await;
            }
        }
    }
}

async fn migrator(backend: &str) -> sqlx::migrate::Migrator {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    sqlx::migrate::Migrator::new(dir).await.expect("migrations")
}

fn replace_db(url: &str, db: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let base = match base.rfind('/') {
        Some(i) if i > "postgres://".len() => &base[..i],
        _ => base,
    };
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

/// Runs each named story once per backend.
#[macro_export]
macro_rules! story {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let db = $crate::harness::TestDb::sqlite().await;
                    super::$name(db.store.clone()).await;
                    db.drop_db().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let db = $crate::harness::TestDb::postgres().await;
                    super::$name(db.store.clone()).await;
                    db.drop_db().await;
                }
            )*
        }
    };
}
