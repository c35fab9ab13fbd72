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

/// How long the feed waits for a message before it checks that it is not stuck.
const WATCH: Duration = Duration::from_secs(2);

/// Closes `org`'s lists to entries until its own event is handled: that event re-ranks it
/// from scratch, over an index that already holds whatever would enter meanwhile, and its
/// commit tells the index its bars again (`Matcher::write_chunk`). During a backfill the feed
/// runs far ahead of the workers; with open lists, every new organisation would be judged a
/// candidate partner of the thousands registered after it, and entries held back for them
/// for nothing. A worker that takes a partition over opens its lists first
/// (`Matcher::forget_bars`); convergence tells every list's bar again.
fn close_lists(index: &mut brygga_domain::Index, org: &brygga_domain::OrgId) {
    let closed = brygga_domain::EntryBar::Open { k: 0 };
    for kind in crate::held::KINDS {
        index.set_entry_bars(kind, [(org, &closed)]);
    }
}

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
        let mut behind = 0;
        loop {
            let chunk = tokio::select! {
                _ = cancel.cancelled() => return,
                c = tokio::time::timeout(WATCH, chunks.next()) => c,
            };
            let Ok(chunk) = chunk else {
                // Quiet: fine if the stream has nothing new. If it has and nothing comes, the
                // consumer was lost (a server restart) before the client noticed: reopen.
                let last = bus.last_sequence(Stream::Registry).await.unwrap_or(0);
                behind = if last > *m.seen.borrow() { behind + 1 } else { 0 };
                if behind >= 2 {
                    warn!(seen = *m.seen.borrow(), last, "the registry feed is stuck behind the stream; reopening");
                    break;
                }
                continue;
            };
            behind = 0;
            let Some(chunk) = chunk else { break };
            let mut last = None;
            let mut failed = false;
            {
                let mut index = m.index.write().await;
                crate::compute(|| {
                    for d in chunk {
                        match d {
                            Ok(d) => {
                                match decode::decode(&d) {
                                    Ok(dec) => {
                                        let own = match &dec.changed.target {
                                            brygga_domain::Target::Partner(o) => Some(o.clone()),
                                            _ => None,
                                        };
                                        dec.update.apply(&mut index);
                                        if let Some(o) = own {
                                            close_lists(&mut index, &o);
                                        }
                                    }
                                    Err(_) => {
                                        debug!(seq = d.stream_sequence, "bad registry event left out of the index")
                                    }
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
                });
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
