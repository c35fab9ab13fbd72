//! The CloudEvents 1.0 envelope, as carried in structured mode (`application/cloudevents+json`);
//! binary mode inbound is read into the same shape (`inbound.rs`).

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const SPEC_VERSION: &str = "1.0";
pub const CONTENT_TYPE: &str = "application/cloudevents+json";
pub const DATA_CONTENT_TYPE: &str = "application/json";

/// A CloudEvent whose `data` is `T`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CloudEvent<T> {
    /// Always `1.0`.
    pub specversion: String,
    /// Unique per event; also sent as `Nats-Msg-Id` so JetStream drops duplicates.
    pub id: String,
    /// URI-reference of the producer, e.g. `urn:brygga:matcher` or your system's URI.
    pub source: String,
    /// Event type, ending in its version, e.g. `se.brygga.call.published.v1`.
    #[serde(rename = "type")]
    pub ty: String,
    /// The entity the event is about (organisation or call id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// When it happened (RFC 3339). Optional, as in CloudEvents 1.0; Brygga always sets it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<DateTime<Utc>>,
    #[serde(default = "default_data_content_type")]
    pub datacontenttype: String,
    /// W3C trace context (the CloudEvents Distributed Tracing extension); on Brygga's events,
    /// the context of the event that caused them, with a span id of their own (`trace.rs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracestate: Option<String>,
    /// Other extension attributes (lowercase `a-z0-9` names of at most 20 characters; string,
    /// number or boolean values): kept from an inbound event onto the registry event it causes.
    #[serde(flatten, default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extensions: BTreeMap<String, serde_json::Value>,
    pub data: T,
}

fn default_data_content_type() -> String {
    DATA_CONTENT_TYPE.to_owned()
}

impl<T> CloudEvent<T> {
    pub fn new(
        id: impl Into<String>,
        source: &str,
        ty: &str,
        subject: Option<String>,
        time: DateTime<Utc>,
        data: T,
    ) -> Self {
        Self {
            specversion: SPEC_VERSION.to_owned(),
            id: id.into(),
            source: source.to_owned(),
            ty: ty.to_owned(),
            subject,
            time: Some(time),
            datacontenttype: DATA_CONTENT_TYPE.to_owned(),
            traceparent: None,
            tracestate: None,
            extensions: BTreeMap::new(),
            data,
        }
    }

    /// The same event, carrying `trace` (if any).
    pub fn traced(mut self, trace: Option<&crate::trace::TraceContext>) -> Self {
        if let Some(t) = trace {
            self.traceparent = Some(t.parent.to_string());
            self.tracestate = t.state.clone();
        }
        self
    }
}

/// Event types. Every type ends in `.v{N}`; a consumer rejects versions it does not know.
pub mod types {
    pub const ORGANISATION_REGISTERED: &str = "se.brygga.organisation.registered.v1";
    pub const ORGANISATION_UPDATED: &str = "se.brygga.organisation.updated.v1";
    pub const ORGANISATION_REMOVED: &str = "se.brygga.organisation.removed.v1";
    pub const CALL_PUBLISHED: &str = "se.brygga.call.published.v1";
    pub const CALL_UPDATED: &str = "se.brygga.call.updated.v1";
    pub const CALL_CLOSED: &str = "se.brygga.call.closed.v1";
    pub const ORGANISATION_PREFERENCES_UPDATED: &str = "se.brygga.organisation.preferences.updated.v1";
    pub const RECOMMENDATION_FEEDBACK: &str = "se.brygga.recommendation.feedback.v1";
    pub const REGISTRY_FEEDBACK: &str = "se.brygga.registry.feedback.v1";
    pub const REGISTRY_ORGANISATION: &str = "se.brygga.registry.organisation.v1";
    pub const REGISTRY_CALL: &str = "se.brygga.registry.call.v1";
    pub const RECOMMENDATION_CREATED: &str = "se.brygga.recommendation.created.v1";
    pub const RECOMMENDATION_UPDATED: &str = "se.brygga.recommendation.updated.v1";
    pub const RECOMMENDATION_WITHDRAWN: &str = "se.brygga.recommendation.withdrawn.v1";
    pub const DEAD_LETTER: &str = "se.brygga.deadletter.v1";
}
