use std::sync::Arc;

use be_store::{PgStore, SqliteStore, Store};
use sqlx::{Connection, Executor, PgConnection};

/// A store on a fresh database; dropping the guard removes it.
pub struct TestDb {
    pub store: Arc<dyn Store>,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile_dir::Dir),
    Postgres { admin_url: String, name: String, store: PgStore },
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
    std::env::var("BILLING_ENGINE_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

impl TestDb {
    pub async fn sqlite() -> Self {
        let dir = std::env::temp_dir().join(format!("be-store-test-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let url = format!("sqlite://{}", dir.join("state.db").display());
        let store = SqliteStore::connect(&url).await.expect("open sqlite");
        store.migrate().await.expect("migrate sqlite");
        Self { store: Arc::new(store), cleanup: Cleanup::Sqlite(tempfile_dir::Dir(dir)) }
    }

    pub async fn postgres() -> Self {
        let admin_url = pg_admin_url();
        let name = format!("be_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(&admin_url).await.unwrap_or_else(|e| {
            panic!(
                "PostgreSQL is required for the store tests and is not reachable at {admin_url}: {e}. \
                 Start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
            )
        });
        admin.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).await.expect("create test database");
        admin.close().await.ok();
        let url = replace_db(&admin_url, &name);
        let store = PgStore::connect(&url).await.expect("open postgres");
        store.migrate().await.expect("migrate postgres");
        Self { store: Arc::new(store.clone()), cleanup: Cleanup::Postgres { admin_url, name, store } }
    }

    pub async fn drop_db(self) {
        if let Cleanup::Postgres { admin_url, name, store } = self.cleanup {
            store.close().await;
            if let Ok(mut admin) = PgConnection::connect(&admin_url).await {
                let _ = admin.execute(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))).await;
            }
        }
    }
}

fn replace_db(url: &str, db: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
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
