//! SQLite's WAL checkpoints, off the writers' path.
//!
//! By default SQLite checkpoints in the commit that takes the WAL past 1,000 pages (4 MiB):
//! that commit copies the WAL into the database file and syncs both. A matcher chunk of a few
//! hundred organisations writes more than that (random-keyed indexes dirty a page per row), so
//! every commit paid a checkpoint and its syncs. `scripts/sqlite-commit-cost` times both ways
//! on a copy of a bench's store (30 transactions of 700 recommendation and 700 outbox rows,
//! back to back: 3.85 s, 2.84 s of it committing, against 2.93 s and 1.85 s on 2026-12-08); in
//! `brygga bench --orgs 10000 --calls 1000` the matcher's writing fell from 24.5 s to 18.0 s
//! (README "Speed and memory"). Here one task runs a
//! `PASSIVE` checkpoint (it never blocks a reader or the writer) every [`INTERVAL`] on its
//! own connection, and the pooled connections checkpoint themselves only past
//! [`WAL_PAGES`] pages, a bound for when this task lags. Durability is as before: with WAL and
//! `synchronous=NORMAL` the WAL is synced at checkpoints, now at most an interval apart.

use sea_orm::sqlx::sqlite::SqliteConnectOptions;
use sea_orm::sqlx::{Connection as _, Executor as _, SqliteConnection};
use std::time::Duration;

/// How often the WAL is checkpointed.
pub(crate) const INTERVAL: Duration = Duration::from_millis(500);
/// The WAL's size, in pages, past which a committing connection checkpoints it itself.
pub(crate) const WAL_PAGES: &str = "16384";
/// The size the WAL file is cut back to when it starts over (bytes).
pub(crate) const WAL_KEEP_BYTES: &str = "67108864";

/// The checkpointing task of one pool; it stops when the last clone of the store is dropped.
#[derive(Debug)]
pub(crate) struct Checkpointer(tokio::task::AbortHandle);

impl Checkpointer {
    /// Starts checkpointing the database `opts` opens.
    pub(crate) fn start(opts: SqliteConnectOptions) -> Self {
        let task = tokio::spawn(async move {
            let mut conn: Option<SqliteConnection> = None;
            let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + INTERVAL, INTERVAL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if conn.is_none() {
                    conn = SqliteConnection::connect_with(&opts).await.ok();
                }
                let Some(c) = conn.as_mut() else { continue };
                if let Err(e) = c.execute("PRAGMA wal_checkpoint(PASSIVE)").await {
                    // A full disk, say: the writers report it; this retries on a new connection.
                    tracing::debug!(error = %e, "WAL checkpoint failed");
                    conn = None;
                }
            }
        });
        Self(task.abort_handle())
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.0.abort();
    }
}
