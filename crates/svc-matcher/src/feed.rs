//! Keeping the index whole: every replica follows the registry stream (an ordered consumer,
//! no acknowledgements) from the sequence after the store snapshot it loaded, and applies each
//! event to its index. Workers wait for it (`Matcher::caught_up`) before they re-rank a batch,
//! so a batch is always judged on an index that has seen it.

use crate::{decode, Matcher, BATCH};
use brygga_bus::Bus;
use brygga_events::subject::Stream;
use futures_util::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

/// Applies the registry stream to the index until `cancel` fires; reopens after errors from
/// the sequence after the last one applied.
pub(crate) async fn follow(bus: Bus, m: Arc<Matcher>, cancel: CancellationToken) {
    let mut next = *m.seen.borrow() + 1;
    while !cancel.is_cancelled() {
        let stream = match bus.follow(Stream::Registry, next).await {
            Ok(s) => s,
            Err(e) => {
                warn!(error = %e, next, "following the registry stream failed; retrying");
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                }
            }
        };
        let mut chunks = std::pin::pin!(stream.ready_chunks(BATCH));
        loop {
            let chunk = tokio::select! {
                _ = cancel.cancelled() => return,
                c = chunks.next() => c,
            };
            let Some(chunk) = chunk else { break };
            let mut last = None;
            let mut failed = false;
            {
                let mut index = m.index.write().await;
                for d in chunk {
                    match d {
                        Ok(d) => {
                            match decode::decode(&d) {
                                Ok(dec) => dec.update.apply(&mut index),
                                Err(_) => debug!(seq = d.stream_sequence, "bad registry event left out of the index"),
                            }
                            last = Some(d.stream_sequence);
                        }
                        Err(e) => {
                            warn!(error = %e, "the registry feed broke; reopening");
                            failed = true;
                            break;
                        }
                    }
                }
            }
            if let Some(seq) = last {
                next = seq + 1;
                m.seen.send_replace(seq);
            }
            if failed {
                break;
            }
        }
    }
}
