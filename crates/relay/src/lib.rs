//! The outbox relay: moves committed outbox rows onto JetStream, in order, and marks them
//! published once the PubAck is in. Each service relays only its own subjects.
//!
//! Main item: [`run`]. It holds no state of its own; the database is the truth.

use brygga_bus::Bus;
use brygga_store::{outbox, Store};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

const BATCH: u64 = 256;

/// Relays until `cancel` fires, then flushes what is already committed. `wake` shortens
/// the wait after a commit; without it the relay polls every `poll`.
pub async fn run(
    bus: Bus,
    store: Store,
    subject_prefix: String,
    poll: Duration,
    wake: Arc<Notify>,
    cancel: CancellationToken,
) {
    loop {
        match relay_once(&bus, &store, &subject_prefix).await {
            Ok(n) if n > 0 => continue,
            Ok(_) => {}
            Err(e) => warn!(error = %e, "outbox relay failed; retrying"),
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

/// Publishes one batch; returns how many rows were published.
pub async fn relay_once(bus: &Bus, store: &Store, subject_prefix: &str) -> Result<usize, String> {
    let rows = outbox::pending(store.db(), subject_prefix, BATCH).await.map_err(|e| e.to_string())?;
    let mut done = Vec::with_capacity(rows.len());
    let mut failure = None;
    for row in &rows {
        let e = &row.event;
        match bus.publish_raw(&e.subject, &e.event_id, &e.event_type, e.payload.clone().into_bytes().into()).await {
            Ok(_) => done.push(row.seq),
            Err(err) => {
                // Keep order: stop at the first failure; the rest follow on the next round.
                failure = Some(err.to_string());
                break;
            }
        }
    }
    outbox::mark_published(store.db(), &done).await.map_err(|e| e.to_string())?;
    match failure {
        Some(f) => Err(f),
        None => Ok(done.len()),
    }
}
