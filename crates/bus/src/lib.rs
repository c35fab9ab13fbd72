//! JetStream for Brygga: streams and durable consumers created or updated idempotently,
//! publishing that waits for the PubAck, and a consume loop that acks, retries with
//! backoff, or dead-letters with a reason, and never ends silently.
//!
//! Main items: [`Bus`], [`ConsumerSpec`], [`Delivery`], [`Outcome`], [`Bus::consume`],
//! [`Bus::follow`] (every message of a stream from a sequence, unacknowledged), and
//! [`lease::Leases`] (partitions shared among replicas).
//! Only this crate knows about acks; it knows nothing of the database or the domain.

mod connect;
mod consume;
mod follow;
pub mod lease;
mod publish;
mod replay;

pub use connect::AuthError;
pub use consume::{ConsumerSpec, ConsumerStats, Delivery, LoopProgress, Outcome};
pub use publish::{Published, RawEvent};

use async_nats::jetstream::{self, stream};
use brygga_events::subject::Stream;
use brygga_runtime::{ConsumerSettings, StreamSettings};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("NATS at {url} is unreachable (gave up after {waited} s): {message}")]
    Unreachable { url: String, waited: u64, message: String },
    #[error("NATS at {url} refused Brygga's credentials: {message} (check nats.* authentication settings)")]
    Unauthorised { url: String, message: String },
    #[error("TLS with NATS at {url} failed: {message} (check nats.tls_* settings and the URL scheme)")]
    Tls { url: String, message: String },
    #[error("NATS authentication settings: {0}")]
    Auth(#[from] AuthError),
    #[error("NATS server {0} is too old: Brygga needs 2.10 or newer (JetStream consumer filters and strict creates)")]
    ServerTooOld(String),
    #[error("NATS server has JetStream disabled (start it with -js)")]
    NoJetStream,
    #[error("creating or updating stream {name}: {source}")]
    Stream {
        name: String,
        #[source]
        source: async_nats::jetstream::context::CreateStreamError,
    },
    #[error("creating consumer {name}: {source}")]
    Consumer {
        name: String,
        #[source]
        source: async_nats::jetstream::stream::ConsumerError,
    },
    #[error("getting stream {name}: {source}")]
    GetStream {
        name: String,
        #[source]
        source: async_nats::jetstream::context::GetStreamError,
    },
    #[error("publishing to {subject}: {message}")]
    Publish { subject: String, message: String },
    #[error("reading stream {stream} back: {message}")]
    Replay { stream: String, message: String },
    #[error("reading consumer {name}: {message}")]
    ConsumerInfo { name: String, message: String },
    #[error("partition leases in bucket {bucket}: {message}")]
    Lease { bucket: String, message: String },
    #[error("following stream {stream}: {message}")]
    Follow { stream: String, message: String },
}

impl BusError {
    /// Whether trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::Unreachable { .. }
                | Self::Publish { .. }
                | Self::ConsumerInfo { .. }
                | Self::Lease { .. }
                | Self::Follow { .. }
        )
    }
}

/// A connection to NATS with JetStream, under one subject prefix.
#[derive(Debug, Clone)]
pub struct Bus {
    client: async_nats::Client,
    js: jetstream::Context,
    prefix: String,
    streams: StreamSettings,
    consumers: ConsumerSettings,
}

impl Bus {
    pub fn prefix(&self) -> &str {
        &self.prefix
    }
    pub fn client(&self) -> &async_nats::Client {
        &self.client
    }
    pub fn jetstream(&self) -> &jetstream::Context {
        &self.js
    }

    /// The configuration every Brygga stream gets.
    pub fn stream_config(&self, s: Stream) -> stream::Config {
        let st = &self.streams;
        stream::Config {
            name: s.name(&self.prefix),
            subjects: s.subjects(&self.prefix),
            retention: stream::RetentionPolicy::Limits,
            storage: match st.storage {
                brygga_runtime::Storage::Memory => stream::StorageType::Memory,
                brygga_runtime::Storage::File => stream::StorageType::File,
            },
            num_replicas: st.replicas,
            max_age: Duration::from_secs(st.max_age_days * 86_400),
            duplicate_window: Duration::from_secs(st.duplicate_window_secs),
            // Never silently drop the oldest events: refuse new ones when full.
            discard: stream::DiscardPolicy::New,
            ..Default::default()
        }
    }

    /// Creates every stream, or updates it to the configured settings. Idempotent.
    pub async fn ensure_streams(&self) -> Result<(), BusError> {
        self.ensure(&Stream::ALL).await
    }

    /// As [`Bus::ensure_streams`], for these streams only (a service that may not see the
    /// others: the notification service uses the recommendation and dead-letter streams).
    pub async fn ensure(&self, streams: &[Stream]) -> Result<(), BusError> {
        for &s in streams {
            let cfg = self.stream_config(s);
            let name = cfg.name.clone();
            self.js.create_or_update_stream(cfg).await.map_err(|source| BusError::Stream { name, source })?;
        }
        Ok(())
    }

    /// Messages a durable consumer still has to process (pending + unacknowledged).
    pub async fn backlog(&self, stream: Stream, durable: &str) -> Result<u64, BusError> {
        let (pending, unacked) = self.consumer_counts(stream, durable).await?;
        Ok(pending + unacked)
    }

    /// A durable consumer's messages not yet delivered and those delivered but not yet
    /// acknowledged.
    pub async fn consumer_counts(&self, stream: Stream, durable: &str) -> Result<(u64, u64), BusError> {
        let name = stream.name(&self.prefix);
        let s = self.js.get_stream(&name).await.map_err(|source| BusError::GetStream { name: name.clone(), source })?;
        let info = s
            .consumer_info(durable)
            .await
            .map_err(|e| BusError::ConsumerInfo { name: durable.to_owned(), message: e.to_string() })?;
        Ok((info.num_pending, info.num_ack_pending as u64))
    }
}
