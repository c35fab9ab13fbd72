//! Test harness on real infrastructure: a private current `nats-server -js` per test (free
//! port, temporary store), a fresh PostgreSQL database or SQLite file per test, and a unique
//! subject prefix per test. Dev-dependency only.

pub mod auth;

use brygga_runtime::NatsServer;
use sea_orm::{ConnectionTrait, Database};
use std::path::PathBuf;
use tempfile::TempDir;

/// A NATS server owned by one test; stopped when dropped.
#[derive(Debug)]
pub struct TestNats {
    pub server: NatsServer,
    _dir: TempDir,
}

impl TestNats {
    pub fn url(&self) -> String {
        self.server.url()
    }
}

/// Starts a private nats-server (2.10+) with JetStream. Panics with the installer hint if none.
pub async fn nats() -> TestNats {
    nats_with_config(None).await
}

/// As [`nats`], with a server configuration file's text (authorisation, TLS, operator mode).
pub async fn nats_with_config(config: Option<&str>) -> TestNats {
    let dir = tempfile::tempdir().expect("temporary directory");
    let server = NatsServer::start_with_config(&dir.path().join("js"), config).await.unwrap_or_else(|e| panic!("{e}"));
    TestNats { server, _dir: dir }
}

/// A unique subject prefix, so tests never see each other's events.
pub fn prefix() -> String {
    format!("t{}", &uuid::Uuid::new_v4().simple().to_string()[..12])
}

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh, empty database: dropped (PostgreSQL) or deleted (SQLite) afterwards.
#[derive(Debug)]
pub struct TestDb {
    pub url: String,
    pub backend: Backend,
    pg: Option<(String, String)>,
    _dir: Option<TempDir>,
}

/// Base URL of the PostgreSQL server for tests: `BRYGGA_TEST_POSTGRES_URL`, else this
/// machine's `postgres://postgres@127.0.0.1:5432/test` (trust auth).
pub fn postgres_admin_url() -> String {
    std::env::var("BRYGGA_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

impl TestDb {
    pub async fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let path: PathBuf = dir.path().join("brygga.sqlite");
                Self { url: format!("sqlite://{}?mode=rwc", path.display()), backend, pg: None, _dir: Some(dir) }
            }
            Backend::Postgres => {
                let admin = postgres_admin_url();
                let name = format!("brygga_test_{}", uuid::Uuid::new_v4().simple());
                let db = Database::connect(&admin).await.unwrap_or_else(|e| panic!("PostgreSQL at {admin}: {e}"));
                db.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create test database");
                db.close().await.ok();
                let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b).to_owned();
                Self { url: format!("{base}/{name}"), backend, pg: Some((admin, name)), _dir: None }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin, name)) = self.pg.take() else { return };
        // Best effort, on a thread of its own: Drop may run inside or outside a runtime.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            rt.block_on(async {
                let db = Database::connect(&admin).await.ok()?;
                db.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await.ok()
            })
        })
        .join();
    }
}
