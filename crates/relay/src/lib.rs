//! The outbox relay: moves committed outbox rows onto JetStream, in order, and marks them
//! published once the PubAck is in. Each service relays only its own subjects.
//!
//! Main item: [`run`]. It holds no state of its own; the database is the truth.

use brygga_bus::{Bus, RawEvent};
use brygga_store::{outbox, ConnectionTrait, DbBackend, Store, TransactionTrait};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

const BATCH: u64 = 256;

/// How often the relay looks for rows, and how long published rows are kept.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// Poll interval (the relay is also woken on every commit).
    pub poll: Duration,
    /// Published rows older than this are deleted (they are on the stream; the stream and the
    /// store's state are what consumers re-sync from).
    pub retention: Duration,
}

/// Relays until `cancel` fires, then flushes what is already committed. `wake` shortens
/// the wait after a commit; without it the relay polls every `timing.poll`. When idle, it
/// deletes published rows past `timing.retention` (at most once a minute).
pub async fn run(
    bus: Bus,
    store: Store,
    subject_prefix: String,
    timing: Timing,
    wake: Arc<Notify>,
    cancel: CancellationToken,
) {
    let poll = timing.poll;
    let mut compacted = Instant::now();
    loop {
        match relay_once(&bus, &store, &subject_prefix).await {
            Ok(n) if n > 0 => continue,
            Ok(_) => {}
            Err(e) => warn!(error = %e, "outbox relay failed; retrying"),
        }
        if compacted.elapsed() >= Duration::from_secs(60).min(timing.retention) {
            compacted = Instant::now();
            let cutoff = chrono::Utc::now() - timing.retention;
            match outbox::delete_published_before(store.db(), &subject_prefix, cutoff).await {
                Ok(n) if n > 0 => debug!(deleted = n, %subject_prefix, "published outbox rows deleted"),
                Ok(_) => {}
                Err(e) => warn!(error = %e, "deleting published outbox rows failed; will retry"),
            }
        }
        if cancel.is_cancelled() {
            break;
        }
        tokio::select! {
            _ = cancel.cancelled() => {}
            _ = wake.notified() => {}
            _ = tokio::time::sleep(poll) => {}
        }
    }
    // Drain: publish what was committed before shutdown.
    for _ in 0..20 {
        match relay_once(&bus, &store, &subject_prefix).await {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                warn!(error = %e, "outbox relay failed during shutdown; rows stay for the next start");
                break;
            }
        }
    }
    debug!(%subject_prefix, "relay stopped");
}

/// Claims and publishes one batch (PubAcks pipelined, order kept within it), marks it, and
/// commits; returns how many rows were published. The claim is a transaction: on PostgreSQL
/// the rows are locked `SKIP LOCKED`, so several replicas share the outbox and each row is
/// published once (between replicas, batches may be published out of order: consumers order
/// by revision and version, never by arrival).
pub async fn relay_once(bus: &Bus, store: &Store, subject_prefix: &str) -> Result<usize, String> {
    let db = store.db();
    if db.get_database_backend() != DbBackend::Postgres {
        // SQLite has one writer, this process; a read-then-write transaction would only add
        // lock upgrades that fail under the matcher's commits.
        return publish_batch(bus, db, subject_prefix).await;
    }
    let txn = db.begin().await.map_err(|x| x.to_string())?;
    let n = publish_batch(bus, &txn, subject_prefix).await?;
    txn.commit().await.map_err(|x| x.to_string())?;
    Ok(n)
}

async fn publish_batch(bus: &Bus, db: &impl ConnectionTrait, subject_prefix: &str) -> Result<usize, String> {
    let e = |x: brygga_store::StoreError| x.to_string();
    let rows = outbox::pending(db, subject_prefix, BATCH).await.map_err(e)?;
    if rows.is_empty() {
        return Ok(0);
    }
    let events: Vec<RawEvent<'_>> = rows
        .iter()
        .map(|r| RawEvent {
            subject: &r.event.subject,
            event_id: &r.event.event_id,
            ty: &r.event.event_type,
            payload: r.event.payload.clone().into_bytes().into(),
        })
        .collect();
    // Keep order: only the rows before the first failure count; the rest follow next round.
    let (ok, failure) = bus.publish_raw_batch(&events).await;
    let done: Vec<i64> = rows.iter().take(ok).map(|r| r.seq).collect();
    outbox::mark_published(db, &done).await.map_err(e)?;
    match failure {
        Some(f) => Err(f.to_string()),
        None => Ok(done.len()),
    }
}
