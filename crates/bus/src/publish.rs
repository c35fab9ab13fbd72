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

    /// Publishes bytes already serialised as a CloudEvent (from the outbox).
    pub async fn publish_raw(
        &self,
        subject: &str,
        event_id: &str,
        ty: &str,
        payload: Bytes,
    ) -> Result<Published, BusError> {
        let err = |e: &dyn std::fmt::Display| BusError::Publish { subject: subject.to_owned(), message: e.to_string() };
        let mut headers = HeaderMap::new();
        headers.insert("Nats-Msg-Id", event_id);
        headers.insert("ce-id", event_id);
        headers.insert("ce-type", ty);
        headers.insert("ce-specversion", SPEC_VERSION);
        headers.insert("content-type", CONTENT_TYPE);
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
