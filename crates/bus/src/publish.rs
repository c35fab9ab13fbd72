//! Publishing CloudEvents: `Nats-Msg-Id` = event id (JetStream drops duplicates within
//! the window), `ce-*` headers, and the PubAck awaited before returning.

use crate::{Bus, BusError};
use async_nats::HeaderMap;
use brygga_events::{CloudEvent, CONTENT_TYPE, SPEC_VERSION};
use bytes::Bytes;
use serde::Serialize;

/// What the server acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Published {
    pub sequence: u64,
    /// The server had this event id already (a redelivered or repeated publish).
    pub duplicate: bool,
}

/// One serialised event for [`Bus::publish_raw_batch`].
#[derive(Debug, Clone)]
pub struct RawEvent<'a> {
    pub subject: &'a str,
    pub event_id: &'a str,
    pub ty: &'a str,
    pub payload: Bytes,
}

fn headers(event_id: &str, ty: &str, payload: &[u8]) -> HeaderMap {
    headers_as(event_id, event_id, ty, payload)
}

/// The attributes of a serialised event that also go into headers (read without its data).
#[derive(serde::Deserialize)]
struct HeaderAttributes {
    source: Option<String>,
    time: Option<String>,
    traceparent: Option<String>,
    tracestate: Option<String>,
}

/// Headers with a `Nats-Msg-Id` of its own (a deliberate re-publish of an event id): the
/// CloudEvents attributes `ce-id`, `ce-type`, `ce-specversion`, `ce-source`, `ce-time`, the
/// `Content-Type` of structured mode, and the W3C `traceparent` / `tracestate` the event
/// carries, so that a consumer can route and trace without reading the body.
fn headers_as(msg_id: &str, event_id: &str, ty: &str, payload: &[u8]) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("Nats-Msg-Id", msg_id);
    h.insert("ce-id", event_id);
    h.insert("ce-type", ty);
    h.insert("ce-specversion", SPEC_VERSION);
    h.insert("content-type", CONTENT_TYPE);
    if let Ok(a) = serde_json::from_slice::<HeaderAttributes>(payload) {
        let printable = |v: &str| !v.is_empty() && v.len() <= 512 && v.bytes().all(|b| (b' '..=b'~').contains(&b));
        for (name, value) in
            [("ce-source", a.source), ("ce-time", a.time), ("traceparent", a.traceparent), ("tracestate", a.tracestate)]
        {
            if let Some(v) = value.filter(|v| printable(v)) {
                h.insert(name, v.as_str());
            }
        }
    }
    h
}

impl Bus {
    /// Publishes an event and waits for JetStream to store it.
    pub async fn publish_event<T: Serialize>(
        &self,
        subject: &str,
        event: &CloudEvent<T>,
    ) -> Result<Published, BusError> {
        let payload = serde_json::to_vec(event)
            .map_err(|e| BusError::Publish { subject: subject.to_owned(), message: e.to_string() })?;
        self.publish_raw(subject, &event.id, &event.ty, payload.into()).await
    }

    /// Publishes serialised CloudEvents in order with every PubAck outstanding at once, then
    /// awaits the acks in order. Returns how many, from the first, the server stored, and the
    /// error that stopped the rest (those are published again later; `Nats-Msg-Id` makes a
    /// repeat a no-op).
    pub async fn publish_raw_batch(&self, events: &[RawEvent<'_>]) -> (usize, Option<BusError>) {
        let mut acks = Vec::with_capacity(events.len());
        for e in events {
            let err =
                |x: &dyn std::fmt::Display| BusError::Publish { subject: e.subject.to_owned(), message: x.to_string() };
            match self
                .js
                .publish_with_headers(e.subject.to_owned(), headers(e.event_id, e.ty, &e.payload), e.payload.clone())
                .await
            {
                Ok(ack) => acks.push((e.subject, ack)),
                Err(x) => {
                    let failed = err(&x);
                    return (Self::await_acks(acks).await.0, Some(failed));
                }
            }
        }
        Self::await_acks(acks).await
    }

    async fn await_acks(
        acks: Vec<(&str, async_nats::jetstream::context::PublishAckFuture)>,
    ) -> (usize, Option<BusError>) {
        let mut ok = 0;
        for (subject, a) in acks {
            match a.await {
                Ok(_) => ok += 1,
                Err(e) => return (ok, Some(BusError::Publish { subject: subject.to_owned(), message: e.to_string() })),
            }
        }
        (ok, None)
    }

    /// Publishes bytes already serialised as a CloudEvent (from the outbox).
    pub async fn publish_raw(
        &self,
        subject: &str,
        event_id: &str,
        ty: &str,
        payload: Bytes,
    ) -> Result<Published, BusError> {
        self.publish_with(subject, headers(event_id, ty, &payload), payload).await
    }

    /// Publishes an event again on purpose (an operator's re-publish): the same CloudEvent id,
    /// so consumers that have it drop it by (id, revision), under a `Nats-Msg-Id` of
    /// `<event id>~<run>`, so JetStream's duplicate window does not drop it.
    pub async fn republish_raw(
        &self,
        subject: &str,
        event_id: &str,
        run: &str,
        ty: &str,
        payload: Bytes,
    ) -> Result<Published, BusError> {
        let msg_id = format!("{event_id}~{run}");
        self.publish_with(subject, headers_as(&msg_id, event_id, ty, &payload), payload).await
    }

    /// Publishes with `headers` and waits for the PubAck.
    async fn publish_with(&self, subject: &str, headers: HeaderMap, payload: Bytes) -> Result<Published, BusError> {
        let err = |e: &dyn std::fmt::Display| BusError::Publish { subject: subject.to_owned(), message: e.to_string() };
        let ack = self
            .js
            .publish_with_headers(subject.to_owned(), headers, payload)
            .await
            .map_err(|e| err(&e))?
            .await
            .map_err(|e| err(&e))?;
        Ok(Published { sequence: ack.sequence, duplicate: ack.duplicate })
    }
}
