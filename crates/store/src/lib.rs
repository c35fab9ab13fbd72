//! Brygga's persistence with sea-orm: the registry of organisations and calls (with the
//! version rule), recommendation state, and the transactional outbox.
//!
//! Main items: [`Store`], [`registry`], [`recommendations`], [`outbox`]. Functions take
//! `&impl ConnectionTrait` (a connection or a transaction) and speak domain types; the
//! entities stay private. Only this crate writes SQL. SQLite and PostgreSQL both work.

mod entity;
pub mod outbox;
pub mod recommendations;
pub mod registry;

pub use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, TransactionTrait};

use brygga_migration::{Migrator, MigratorTrait};
use brygga_runtime::secret::{redact_url, scrub, url_secrets};
use sea_orm::{ConnectOptions, Database};
use std::path::Path;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The driver's message with the URL's secrets scrubbed (drivers quote the URL).
    #[error("connecting to the database {url}: {message}")]
    Connect { url: String, message: String },
    #[error("applying migrations: {0}")]
    Migrate(#[source] DbErr),
    #[error("database: {0}")]
    Db(#[from] DbErr),
    #[error("stored {what} {id} is unreadable: {message}")]
    Corrupt { what: &'static str, id: String, message: String },
    #[error("version {version} of {id} does not fit the store (at most 2^63 - 1)")]
    VersionOutOfRange { id: String, version: u64 },
    #[error("creating the directory of the SQLite file {path}: {source}")]
    Dir { path: String, source: std::io::Error },
}

impl StoreError {
    /// Connection and lock problems pass; corrupt rows do not.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Connect { .. } | Self::Db(_))
    }
}

/// A database handle.
#[derive(Debug, Clone)]
pub struct Store {
    db: DatabaseConnection,
}

impl Store {
    /// Connects to `postgres://…` or `sqlite://…`.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let mut opts = ConnectOptions::new(url.to_owned());
        opts.max_connections(if url.starts_with("sqlite:") { 4 } else { 10 })
            .connect_timeout(Duration::from_secs(10))
            .sqlx_logging(false)
            // On every pooled connection: WAL lets readers and the single writer proceed
            // together, and with WAL `synchronous=NORMAL` syncs at checkpoints instead of at
            // every commit (the database cannot be corrupted; a power cut may lose the last
            // commits, as JetStream's own periodic sync may lose the last messages).
            // A 16 MiB page cache per connection (SQLite's default is 2 MiB): the matcher's
            // reads of held recommendations otherwise go to the file on every event.
            .map_sqlx_sqlite_opts(|o| {
                o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                    .pragma("cache_size", "-16384")
            });
        let failed =
            |e: DbErr| StoreError::Connect { url: redact_url(url), message: scrub(&e.to_string(), &url_secrets(url)) };
        let db = Database::connect(opts).await.map_err(failed)?;
        Ok(Self { db })
    }

    /// The URL of a SQLite file (created when missing).
    pub fn sqlite_url(path: &Path) -> Result<String, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|source| StoreError::Dir { path: dir.display().to_string(), source })?;
        }
        Ok(format!("sqlite://{}?mode=rwc", path.display()))
    }

    /// Applies pending migrations.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        Migrator::up(&self.db, None).await.map_err(StoreError::Migrate)
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }
}
