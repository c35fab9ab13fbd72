//! Brygga's persistence with sea-orm: the registry of organisations and calls (with the
//! version rule), recommendation state, and the transactional outbox.
//!
//! Main items: [`Store`], [`registry`], [`recommendations`], [`outbox`], [`notifications`]. Functions take
//! `&impl ConnectionTrait` (a connection or a transaction) and speak domain types; the
//! entities stay private. Only this crate writes SQL. SQLite and PostgreSQL both work.

mod checkpoint;
mod entity;
pub mod feedback;
pub mod notifications;
pub mod outbox;
pub mod recommendations;
pub mod registry;

pub use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, TransactionTrait};

use brygga_migration::{Migrator, MigratorTrait};
use brygga_runtime::secret::{redact_url, scrub, url_secrets};
use sea_orm::{sqlx, ConnectOptions, Database};
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
    #[error("the database schema is not current after {waited} s (pending: {pending}); run `brygga migrate` or the migration Job")]
    SchemaNotReady { waited: u64, pending: String },
    #[error("creating the directory of the SQLite file {path}: {source}")]
    Dir { path: String, source: std::io::Error },
}

impl StoreError {
    /// Connection and lock problems pass; corrupt rows do not.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Connect { .. } | Self::Db(_))
    }

    /// The database itself is away (unreachable, shutting down, out of disk, read-only), as
    /// opposed to this one statement failing: every message would fail alike, so consumers
    /// wait for it instead of spending a message's deliveries (see `Outcome::Unavailable`).
    pub fn is_unavailable(&self) -> bool {
        use sea_orm::sqlx::Error as Sqlx;
        use sea_orm::RuntimeErr;
        let sqlx_down = |e: &Sqlx| match e {
            Sqlx::Io(_) | Sqlx::PoolTimedOut | Sqlx::PoolClosed | Sqlx::WorkerCrashed | Sqlx::Tls(_) => true,
            Sqlx::Protocol(_) => true,
            // PostgreSQL: connection exceptions (08…) and operator intervention (57P…:
            // shutdown, cannot connect now); SQLite: disk full (13), read-only (8), I/O (10),
            // and a write lock another connection keeps past the busy timeout (5, 6, and the
            // extended 261 and 517), as after a full disk: every write would fail alike.
            Sqlx::Database(d) => d.code().is_some_and(|c| {
                c.starts_with("08")
                    || c.starts_with("57P")
                    || ["13", "8", "10", "5", "6", "261", "517"].contains(&c.as_ref())
            }),
            _ => false,
        };
        match self {
            Self::Connect { .. } => true,
            Self::Db(DbErr::ConnectionAcquire(_) | DbErr::Conn(_)) => true,
            Self::Db(DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e))) => sqlx_down(e),
            _ => false,
        }
    }
}

/// The PostgreSQL advisory lock key migrators take (any fixed number; "brygga" in ASCII).
const MIGRATION_LOCK: i64 = 0x62_72_79_67_67_61;

/// A database handle.
#[derive(Debug, Clone)]
pub struct Store {
    db: DatabaseConnection,
    /// SQLite only: the WAL checkpoints (`checkpoint.rs`), stopped with the last clone.
    _checkpoints: Option<std::sync::Arc<checkpoint::Checkpointer>>,
}

impl Store {
    /// Connects to `postgres://…` or `sqlite://…`.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let failed = |m: String| StoreError::Connect { url: redact_url(url), message: scrub(&m, &url_secrets(url)) };
        let mut opts = ConnectOptions::new(url.to_owned());
        opts.max_connections(if url.starts_with("sqlite:") { 4 } else { 10 })
            .connect_timeout(Duration::from_secs(10))
            .sqlx_logging(false);
        if !url.starts_with("sqlite:") {
            let db = Database::connect(opts).await.map_err(|e| failed(e.to_string()))?;
            return Ok(Self { db, _checkpoints: None });
        }
        let (db, checkpoints) = Self::connect_sqlite(url, opts).await.map_err(|e| failed(e.to_string()))?;
        Ok(Self { db, _checkpoints: Some(std::sync::Arc::new(checkpoints)) })
    }

    /// A SQLite pool, with the settings of every pooled connection and a check of each one
    /// the pool hands out.
    async fn connect_sqlite(
        url: &str,
        opts: ConnectOptions,
    ) -> Result<(DatabaseConnection, checkpoint::Checkpointer), sqlx::Error> {
        use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
        use sqlx::{ConnectOptions as _, Connection as _};
        // WAL lets readers and the single writer proceed together, and with WAL
        // `synchronous=NORMAL` syncs at checkpoints instead of at every commit (the database
        // cannot be corrupted; a power cut may lose the last commits, as JetStream's own
        // periodic sync may lose the last messages). A 16 MiB page cache per connection
        // (SQLite's default is 2 MiB): the matcher's reads of held recommendations otherwise go
        // to the file on every event. Checkpoints run on a connection of their own
        // (`checkpoint.rs`).
        let conn_opts = url
            .parse::<SqliteConnectOptions>()?
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .pragma("cache_size", "-16384")
            .pragma("wal_autocheckpoint", checkpoint::WAL_PAGES)
            .pragma("journal_size_limit", checkpoint::WAL_KEEP_BYTES)
            .disable_statement_logging();
        // A connection that still counts itself in a transaction when the pool hands it out is
        // closed instead. It happens after a COMMIT that failed on a full disk: SQLite has
        // rolled the transaction back, the driver's ROLLBACK then fails and its transaction
        // depth stays one too high, so the connection's next "transaction" is a savepoint
        // whose rollback leaves the real transaction, and its write lock, open for good:
        // every other connection then answers "database is locked" after the disk is back.
        let pool = opts
            .sqlx_pool_options::<sqlx::Sqlite>()
            .before_acquire(|conn, _| {
                Box::pin(async move {
                    let stuck = conn.is_in_transaction();
                    if stuck {
                        tracing::warn!("a SQLite connection left in a transaction is closed and replaced");
                    }
                    Ok(!stuck)
                })
            })
            .connect_with(conn_opts)
            .await?;
        // Started once the pool's first connection has put the file in WAL mode: the
        // checkpointer's own leaves the journal mode alone (two connections setting it at once
        // make one fail with "database is locked").
        let checkpoints =
            checkpoint::Checkpointer::start(url.parse::<SqliteConnectOptions>()?.disable_statement_logging());
        Ok((sea_orm::SqlxSqliteConnector::from_sqlx_sqlite_pool(pool), checkpoints))
    }

    /// The URL of a SQLite file (created when missing).
    pub fn sqlite_url(path: &Path) -> Result<String, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|source| StoreError::Dir { path: dir.display().to_string(), source })?;
        }
        Ok(format!("sqlite://{}?mode=rwc", path.display()))
    }

    /// Applies pending migrations. On PostgreSQL under a transaction-scoped advisory lock, so
    /// migrators that start together (a Job and a pod, two Jobs) run one after the other and
    /// the later finds nothing to do. SQLite has one writer anyway.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        if self.db.get_database_backend() != DbBackend::Postgres {
            return Migrator::up(&self.db, None).await.map_err(StoreError::Migrate);
        }
        let txn = self.db.begin().await.map_err(StoreError::Migrate)?;
        txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"))
            .await
            .map_err(StoreError::Migrate)?;
        Migrator::up(&txn, None).await.map_err(StoreError::Migrate)?;
        txn.commit().await.map_err(StoreError::Migrate)
    }

    /// Migrations not yet applied (their names); empty when the schema is current.
    pub async fn pending_migrations(&self) -> Result<Vec<String>, StoreError> {
        let pending = Migrator::get_pending_migrations(&self.db).await.map_err(StoreError::Migrate)?;
        Ok(pending.iter().map(|m| m.name().to_owned()).collect())
    }

    /// Waits until the schema is current (another process migrates: the Kubernetes Job), at
    /// most `timeout`; the services call this instead of migrating when told not to.
    pub async fn wait_for_schema(&self, timeout: Duration) -> Result<(), StoreError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let pending = match self.pending_migrations().await {
                Ok(p) if p.is_empty() => return Ok(()),
                Ok(p) => p.join(", "),
                // No migration table yet: nothing has migrated.
                Err(e) => e.to_string(),
            };
            if tokio::time::Instant::now() >= deadline {
                return Err(StoreError::SchemaNotReady { waited: timeout.as_secs(), pending });
            }
            tracing::info!(%pending, "waiting for the database schema (migrations run elsewhere)");
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }
}
