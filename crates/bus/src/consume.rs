//! The consume loop: one durable pull consumer, messages handled one at a time, each
//! ending in exactly one of ack, nak-with-backoff, or dead-letter-then-term.

use crate::{Bus, BusError};
use async_nats::jetstream::consumer::{pull, AckPolicy, DeliverPolicy, PullConsumer};
use async_nats::jetstream::{AckKind, Message};
use async_nats::HeaderMap;
use brygga_events::subject::{dead_letter, Stream};
use brygga_events::{types, CloudEvent, DeadLetterV1};
use bytes::Bytes;
use futures_util::StreamExt;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info, warn};

/// The longest wait before a message is tried again while a dependency is unavailable.
const UNAVAILABLE_PAUSE: Duration = Duration::from_secs(5);
/// How long one pull request waits at the server, and how often the server says it is alive
/// while it has nothing to deliver.
const PULL_EXPIRES: Duration = Duration::from_secs(10);
const PULL_HEARTBEAT: Duration = Duration::from_secs(2);

/// Which durable consumer to run.
#[derive(Debug, Clone)]
pub struct ConsumerSpec {
    pub stream: Stream,
    /// Durable name; also the service name in dead letters.
    pub durable: String,
}

/// One message handed to a handler.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub subject: String,
    pub payload: Bytes,
    pub headers: Option<HeaderMap>,
    pub stream_sequence: u64,
    /// 1 on first delivery.
    pub delivered: i64,
    /// Messages the consumer still had to deliver after this one when it was delivered: 0 on
    /// the last of a backlog (a handler may hold work back while more is coming).
    pub pending: u64,
}

impl Delivery {
    /// The delivery a JetStream message makes.
    pub(crate) fn of(msg: &Message) -> Self {
        let (seq, delivered, pending) =
            msg.info().map(|i| (i.stream_sequence, i.delivered, i.pending)).unwrap_or((0, 1, 0));
        Self {
            subject: msg.subject.to_string(),
            payload: msg.payload.clone(),
            headers: msg.headers.clone(),
            stream_sequence: seq,
            delivered,
            pending,
        }
    }

    /// Its headers as (name, value) pairs, every value of a repeated name.
    pub fn header_pairs(&self) -> Vec<(String, String)> {
        let Some(h) = &self.headers else { return Vec::new() };
        h.iter().flat_map(|(k, vs)| vs.iter().map(move |v| (k.to_string(), v.to_string()))).collect()
    }
}

/// What a handler decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Done (committed): acknowledge.
    Ack,
    /// A transient failure: redeliver after a backoff, dead-letter after the last attempt.
    Retry(String),
    /// A permanent failure (bad input): dead-letter with the reason, then terminate.
    Reject { code: String, reason: String },
    /// A dependency (the database) is away: every message would fail alike. Redelivered after
    /// a backoff of at most 5 s, never dead-lettered for it, and the loop pauses before it
    /// handles more, so an outage of any length costs no message.
    Unavailable(String),
}

/// Counters of one consume loop. `acked`, `retried` and `dead_lettered` count deliveries by
/// how they ended; `redelivered` counts the deliveries that were not a message's first (after a
/// retry, a crash, or an acknowledgement that did not arrive), so `acked - redelivered` is a
/// lower bound of the distinct messages acknowledged. `batch_seconds`: how long each batch took,
/// handler and acknowledgements.
#[derive(Debug)]
pub struct ConsumerStats {
    pub acked: AtomicU64,
    pub retried: AtomicU64,
    pub dead_lettered: AtomicU64,
    pub stream_errors: AtomicU64,
    pub redelivered: AtomicU64,
    pub batch_seconds: Histogram,
    /// Why the last batch found a dependency away (`Outcome::Unavailable`); cleared by the
    /// next batch that does not. Readiness reports it: a database can answer a ping and still
    /// refuse every write (a full disk, a read-only file system).
    unavailable: std::sync::Mutex<Option<String>>,
    /// Dead letters by reason code.
    dead_letters: std::sync::Mutex<std::collections::BTreeMap<String, u64>>,
    /// The loops running on these counters (several when a matcher holds several partitions),
    /// by durable name: what liveness looks at.
    loops: std::sync::Mutex<std::collections::BTreeMap<String, LoopProgress>>,
}

/// What a consume loop reports to [`ConsumerStats::loops`].
#[derive(Debug, Clone, Copy)]
enum Track {
    Started(Stream),
    Taken,
    Finished,
    Stopped,
}

/// How far one running consume loop has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoopProgress {
    pub stream: Stream,
    /// Batches finished since the loop started.
    pub batches: u64,
    /// When the batch in hand was taken, if one is.
    pub busy_since: Option<std::time::Instant>,
}

impl Default for ConsumerStats {
    fn default() -> Self {
        Self {
            acked: AtomicU64::default(),
            retried: AtomicU64::default(),
            dead_lettered: AtomicU64::default(),
            stream_errors: AtomicU64::default(),
            redelivered: AtomicU64::default(),
            // 1 ms … 16 s.
            batch_seconds: Histogram::new(exponential_buckets(0.001, 2.0, 15)),
            unavailable: std::sync::Mutex::default(),
            dead_letters: std::sync::Mutex::default(),
            loops: std::sync::Mutex::default(),
        }
    }
}

impl ConsumerStats {
    /// `[acked, retried, dead_lettered, stream_errors]`.
    pub fn get(&self) -> [u64; 4] {
        [&self.acked, &self.retried, &self.dead_lettered, &self.stream_errors].map(|a| a.load(Ordering::Relaxed))
    }
    pub fn redelivered(&self) -> u64 {
        self.redelivered.load(Ordering::Relaxed)
    }
    /// Why the last batch found a dependency away, or why the consumer cannot be opened yet.
    pub fn unavailable(&self) -> Option<String> {
        self.unavailable.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
    fn set_unavailable(&self, why: Option<String>) {
        *self.unavailable.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = why;
    }
    /// Dead letters so far, by reason code.
    pub fn dead_letters_by_code(&self) -> Vec<(String, u64)> {
        let m = self.dead_letters.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        m.iter().map(|(k, v)| (k.clone(), *v)).collect()
    }
    /// The loops running now, by durable name, and how far each has come.
    pub fn loops(&self) -> Vec<(String, LoopProgress)> {
        self.loops
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    }
    /// Records what a loop does: it started, took a batch, finished it, stopped.
    fn track(&self, durable: &str, event: Track) {
        let mut loops = self.loops.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match event {
            Track::Started(stream) => {
                loops.insert(durable.to_owned(), LoopProgress { stream, batches: 0, busy_since: None });
            }
            Track::Taken => {
                if let Some(l) = loops.get_mut(durable) {
                    l.busy_since = Some(std::time::Instant::now());
                }
            }
            Track::Finished => {
                if let Some(l) = loops.get_mut(durable) {
                    l.busy_since = None;
                    l.batches += 1;
                }
            }
            Track::Stopped => {
                loops.remove(durable);
            }
        }
    }
}

impl Bus {
    /// Creates the durable consumer or updates it to the configured settings.
    pub async fn ensure_consumer(&self, spec: &ConsumerSpec) -> Result<PullConsumer, BusError> {
        let name = spec.stream.name(&self.prefix);
        let stream = self.js.get_stream(&name).await.map_err(|source| BusError::GetStream { name, source })?;
        let cfg = pull::Config {
            durable_name: Some(spec.durable.clone()),
            ack_policy: AckPolicy::Explicit,
            deliver_policy: DeliverPolicy::All,
            ack_wait: Duration::from_secs(self.consumers.ack_wait_secs),
            // Unlimited at the server: the loop counts deliveries itself and dead-letters
            // on the last one, so a crash during the last attempt cannot lose a message.
            max_deliver: -1,
            max_ack_pending: self.consumers.max_ack_pending,
            ..Default::default()
        };
        stream.create_consumer(cfg).await.map_err(|source| BusError::Consumer { name: spec.durable.clone(), source })
    }

    /// Runs `handler` over the consumer until `cancel` fires, one message at a time.
    pub async fn consume<F, Fut>(
        &self,
        spec: ConsumerSpec,
        stats: &ConsumerStats,
        cancel: CancellationToken,
        mut handler: F,
    ) where
        F: FnMut(Delivery) -> Fut,
        Fut: Future<Output = Outcome>,
    {
        self.consume_batches(spec, stats, cancel, 1, |mut ds| {
            let d = ds.pop();
            let fut = d.map(&mut handler);
            async move {
                match fut {
                    Some(f) => vec![f.await],
                    None => Vec::new(),
                }
            }
        })
        .await
    }

    /// Runs `handler` over the consumer until `cancel` fires, on batches of the messages that
    /// are ready (up to `max_batch`, never waiting to fill one), so a burst costs one handler
    /// call (one transaction) per batch and a trickle costs no added latency. The handler
    /// returns one outcome per delivery, in order. The batch in hand is finished first
    /// (drain). Stream errors, and failures to open the consumer, are logged, counted and
    /// recovered from; they never end it.
    pub async fn consume_batches<F, Fut>(
        &self,
        spec: ConsumerSpec,
        stats: &ConsumerStats,
        cancel: CancellationToken,
        max_batch: usize,
        mut handler: F,
    ) where
        F: FnMut(Vec<Delivery>) -> Fut,
        Fut: Future<Output = Vec<Outcome>>,
    {
        // The consumer is opened again until it opens: after a node loss the stream may have
        // no leader for a while, and a loop that gave up here would leave its work undone for
        // as long as the process lives (the matcher's worker of a regained partition did).
        // Until then readiness says why (`ConsumerStats::unavailable`).
        let consumer = loop {
            match self.ensure_consumer(&spec).await {
                Ok(c) => {
                    stats.set_unavailable(None);
                    break c;
                }
                Err(e) => {
                    stats.stream_errors.fetch_add(1, Ordering::Relaxed);
                    stats.set_unavailable(Some(format!("consumer {} cannot be opened: {e}", spec.durable)));
                    warn!(durable = %spec.durable, error = %e, "opening the consumer failed; retrying");
                    pause(&cancel, Duration::from_secs(1)).await;
                    if cancel.is_cancelled() {
                        return;
                    }
                }
            }
        };
        info!(durable = %spec.durable, stream = %spec.stream.name(&self.prefix), max_batch, "consuming");
        stats.track(&spec.durable, Track::Started(spec.stream));
        while !cancel.is_cancelled() {
            // Short pull requests with heartbeats: a request the server lost (its consumer
            // leader died, or moved) is noticed within two heartbeats and replaced at once,
            // rather than after the client's default 30 s expiry.
            let opened = consumer.stream().expires(PULL_EXPIRES).heartbeat(PULL_HEARTBEAT).messages().await;
            let messages = match opened {
                Ok(m) => m,
                Err(e) => {
                    stats.stream_errors.fetch_add(1, Ordering::Relaxed);
                    warn!(durable = %spec.durable, error = %e, "opening the message stream failed; retrying");
                    pause(&cancel, Duration::from_secs(1)).await;
                    continue;
                }
            };
            let mut chunks = messages.ready_chunks(max_batch.max(1));
            loop {
                let next = tokio::select! {
                    _ = cancel.cancelled() => {
                        hand_back(&spec, &mut chunks).await;
                        break;
                    }
                    m = chunks.next() => m,
                };
                let Some(chunk) = next else {
                    warn!(durable = %spec.durable, "message stream ended; reopening");
                    break;
                };
                let mut batch = Vec::with_capacity(chunk.len());
                let mut reopen = false;
                for m in chunk {
                    match m {
                        Ok(msg) => batch.push(msg),
                        Err(e) => {
                            stats.stream_errors.fetch_add(1, Ordering::Relaxed);
                            // The server stopped answering this pull request: ask again.
                            reopen |= e.kind() == pull::MessagesErrorKind::MissingHeartbeat;
                            warn!(durable = %spec.durable, error = %e, reopen, "message stream error; continuing");
                        }
                    }
                }
                if batch.is_empty() {
                    if reopen {
                        break;
                    }
                    continue;
                }
                let started = std::time::Instant::now();
                stats.track(&spec.durable, Track::Taken);
                let unavailable = self.process(&spec, stats, batch, &mut handler).await;
                stats.track(&spec.durable, Track::Finished);
                stats.batch_seconds.observe(started.elapsed().as_secs_f64());
                if let Some(wait) = unavailable {
                    pause(&cancel, wait).await;
                }
                if reopen {
                    break;
                }
            }
        }
        stats.track(&spec.durable, Track::Stopped);
        info!(durable = %spec.durable, "consumer stopped");
    }

    /// Handles one batch and finishes every delivery; when a dependency was unavailable, how
    /// long to wait before handling more.
    async fn process<F, Fut>(
        &self,
        spec: &ConsumerSpec,
        stats: &ConsumerStats,
        msgs: Vec<Message>,
        handler: &mut F,
    ) -> Option<Duration>
    where
        F: FnMut(Vec<Delivery>) -> Fut,
        Fut: Future<Output = Vec<Outcome>>,
    {
        let deliveries: Vec<Delivery> = msgs.iter().map(Delivery::of).collect();
        let behind = deliveries.last().map_or(0, |d| d.pending);
        debug!(durable = %spec.durable, batch = msgs.len(), behind, "batch taken");
        let mut outcomes = handler(deliveries.clone()).await;
        debug_assert_eq!(outcomes.len(), msgs.len(), "one outcome per delivery");
        // A handler that returned too few outcomes leaves the rest to be redelivered.
        outcomes.resize(msgs.len(), Outcome::Retry("no outcome from the handler".into()));
        // The deliveries that found a dependency away: why, and how long each waits.
        let away: Vec<(&str, Duration)> = outcomes
            .iter()
            .zip(&deliveries)
            .filter_map(|(o, d)| match o {
                Outcome::Unavailable(why) => Some((why.as_str(), self.backoff(d.delivered).min(UNAVAILABLE_PAUSE))),
                _ => None,
            })
            .collect();
        let unavailable = away.iter().map(|(_, wait)| *wait).max();
        if let (Some((reason, _)), Some(pause)) = (away.first(), unavailable) {
            // One line per batch (each delivery's is at debug level).
            let waiting = away.len();
            warn!(durable = %spec.durable, waiting, ?pause, %reason, "a dependency is unavailable; waiting for it");
        }
        stats.set_unavailable(away.first().map(|(why, _)| (*why).to_owned()));
        let finishing = msgs
            .iter()
            .zip(&deliveries)
            .zip(outcomes)
            .map(|((msg, d), outcome)| self.finish(spec, stats, msg, d, outcome));
        futures_util::future::join_all(finishing).await;
        unavailable
    }

    /// Ends one delivery in exactly one of ack, nak-with-backoff, or dead-letter-then-term.
    async fn finish(&self, spec: &ConsumerSpec, stats: &ConsumerStats, msg: &Message, d: &Delivery, outcome: Outcome) {
        let (seq, delivered) = (d.stream_sequence, d.delivered);
        if delivered > 1 {
            stats.redelivered.fetch_add(1, Ordering::Relaxed);
        }
        let max = self.consumers.max_deliver;
        let result = match outcome {
            Outcome::Ack => {
                stats.acked.fetch_add(1, Ordering::Relaxed);
                msg.double_ack().await
            }
            Outcome::Retry(reason) if delivered < max => {
                stats.retried.fetch_add(1, Ordering::Relaxed);
                let delay = self.backoff(delivered);
                warn!(durable = %spec.durable, seq, delivered, ?delay, %reason, "transient failure; will retry");
                msg.ack_with(AckKind::Nak(Some(delay))).await
            }
            Outcome::Unavailable(reason) => {
                stats.retried.fetch_add(1, Ordering::Relaxed);
                let delay = self.backoff(delivered).min(UNAVAILABLE_PAUSE);
                debug!(durable = %spec.durable, seq, delivered, ?delay, %reason, "a dependency is unavailable; waiting for it");
                msg.ack_with(AckKind::Nak(Some(delay))).await
            }
            Outcome::Retry(reason) => {
                let reason = format!("gave up after {delivered} deliveries: {reason}");
                self.dead_letter_then_term(spec, stats, msg, d, "processing_failed", &reason).await
            }
            Outcome::Reject { code, reason } => self.dead_letter_then_term(spec, stats, msg, d, &code, &reason).await,
        };
        if let Err(e) = result {
            // The server will redeliver; handlers are idempotent.
            warn!(durable = %spec.durable, seq, error = %e, "acknowledgement failed; message will be redelivered");
        }
    }

    fn backoff(&self, delivered: i64) -> Duration {
        let b = &self.consumers.backoff_ms;
        let i = usize::try_from(delivered.saturating_sub(1)).unwrap_or(0).min(b.len().saturating_sub(1));
        Duration::from_millis(b.get(i).copied().unwrap_or(1_000))
    }

    async fn dead_letter_then_term(
        &self,
        spec: &ConsumerSpec,
        stats: &ConsumerStats,
        msg: &Message,
        d: &Delivery,
        code: &str,
        reason: &str,
    ) -> Result<(), async_nats::Error> {
        let (payload, payload_truncated) = DeadLetterV1::payload_copy(&d.payload);
        let data = DeadLetterV1 {
            reason_code: code.to_owned(),
            reason: reason.to_owned(),
            service: spec.durable.clone(),
            original_subject: d.subject.clone(),
            original_stream_sequence: d.stream_sequence,
            deliveries: u64::try_from(d.delivered).unwrap_or(0),
            payload,
            payload_bytes: d.payload.len(),
            payload_truncated,
            failed_at: chrono::Utc::now(),
        };
        // Deterministic id: a dead letter re-sent after a crash is dropped as a duplicate.
        let id = format!("dlq-{}-{}-{}", spec.stream.name(&self.prefix), spec.durable, d.stream_sequence);
        let ev = CloudEvent::new(
            id,
            &format!("urn:brygga:{}", spec.durable),
            types::DEAD_LETTER,
            None,
            chrono::Utc::now(),
            data,
        );
        let subject = dead_letter(&self.prefix, &spec.durable);
        match self.publish_event(&subject, &ev).await {
            Ok(_) => {
                stats.dead_lettered.fetch_add(1, Ordering::Relaxed);
                *stats
                    .dead_letters
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .entry(code.to_owned())
                    .or_default() += 1;
                warn!(durable = %spec.durable, seq = d.stream_sequence, code, reason, "dead-lettered");
                msg.ack_with(AckKind::Term).await
            }
            Err(e) => {
                // Not lost: leave it to be redelivered and dead-lettered later.
                error!(durable = %spec.durable, error = %e, "dead-letter publish failed; message will be redelivered");
                msg.ack_with(AckKind::Nak(Some(Duration::from_secs(5)))).await
            }
        }
    }
}

/// On stopping: the messages this client has received but not handled (the pull's prefetch) are
/// nak'ed without delay, so another consumer of the durable (a replica taking the partition
/// over, the next pod) gets them now instead of after `ack_wait`.
async fn hand_back<S>(spec: &ConsumerSpec, chunks: &mut S)
where
    S: futures_util::Stream<Item = Vec<Result<Message, async_nats::jetstream::consumer::pull::MessagesError>>> + Unpin,
{
    let mut handed = 0;
    while let Ok(Some(chunk)) = tokio::time::timeout(Duration::from_millis(50), chunks.next()).await {
        for msg in chunk.into_iter().flatten() {
            if msg.ack_with(AckKind::Nak(None)).await.is_ok() {
                handed += 1;
            }
        }
    }
    if handed > 0 {
        debug!(durable = %spec.durable, handed, "unhandled messages handed back");
    }
}

async fn pause(cancel: &CancellationToken, d: Duration) {
    tokio::select! {
        _ = cancel.cancelled() => debug!("pause interrupted by shutdown"),
        _ = tokio::time::sleep(d) => {}
    }
}
