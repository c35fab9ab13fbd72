//! OTLP export of the hops a trace takes through Brygga (off unless `otlp_endpoint` is set).
//!
//! Each hop is one span whose ids are the trace context Brygga already puts on the event it
//! publishes (`brygga_events::trace`): the ingest hop's span id is the registry event's, its
//! parent the inbound event's; a matcher hop's span id is the recommendation event's, its parent
//! the registry event's. So a trace viewer shows producer → ingest → matcher → consumer as one
//! trace, and a consumer that continues the context links to the right span. The OpenTelemetry
//! SDK's batch processor queues and sends them (OTLP/HTTP, JSON) from a thread of its own; a
//! full queue drops spans, never blocks a service.

use brygga_events::trace::TraceContext;
use opentelemetry::trace::{SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::trace::{BatchSpanProcessor, SpanData, SpanEvents, SpanLinks, SpanProcessor};
use opentelemetry_sdk::Resource;
use std::time::{Duration, SystemTime};

/// Sends hops to an OTLP collector.
#[derive(Debug)]
pub struct Hops {
    processor: BatchSpanProcessor,
    scope: InstrumentationScope,
}

/// Why the exporter could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("OTLP exporter for {endpoint}: {message}")]
pub struct OtlpError {
    endpoint: String,
    message: String,
}

/// One hop: ids as lowercase hex (`traceparent` parts), when it began and ended, and what it
/// was (no personal data: ids of events and entities only).
#[derive(Debug, Clone)]
pub struct Hop<'a> {
    pub name: &'static str,
    pub trace_id: &'a str,
    pub span_id: &'a str,
    pub parent_span_id: &'a str,
    pub sampled: bool,
    pub start: SystemTime,
    pub end: SystemTime,
    pub attributes: Vec<(&'static str, String)>,
}

impl Hops {
    /// An exporter to `endpoint` (the collector's traces URL, e.g.
    /// `http://otel-collector:4318/v1/traces`) for the service `service`.
    pub fn new(endpoint: &str, service: &str) -> Result<Self, OtlpError> {
        let err = |m: String| OtlpError { endpoint: endpoint.to_owned(), message: m };
        if !endpoint.starts_with("http://") {
            return Err(err("only http:// endpoints are supported (send to a collector in the cluster)".into()));
        }
        let mut exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpJson)
            .with_endpoint(endpoint)
            .with_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| err(e.to_string()))?;
        let resource = Resource::builder_empty()
            .with_attributes([
                KeyValue::new("service.name", service.to_owned()),
                KeyValue::new("service.version", env!("CARGO_PKG_VERSION")),
            ])
            .build();
        opentelemetry_sdk::trace::SpanExporter::set_resource(&mut exporter, &resource);
        let processor = BatchSpanProcessor::builder(exporter).build();
        Ok(Self { processor, scope: InstrumentationScope::builder("brygga").build() })
    }

    /// Queues one hop for export; a hop with ids that are not valid hex is left out.
    pub fn export(&self, hop: Hop<'_>) {
        let (Ok(trace_id), Ok(span_id), Ok(parent)) =
            (TraceId::from_hex(hop.trace_id), SpanId::from_hex(hop.span_id), SpanId::from_hex(hop.parent_span_id))
        else {
            return;
        };
        let flags = if hop.sampled { TraceFlags::SAMPLED } else { TraceFlags::default() };
        let span = SpanData {
            span_context: SpanContext::new(trace_id, span_id, flags, false, TraceState::default()),
            parent_span_id: parent,
            parent_span_is_remote: true,
            span_kind: SpanKind::Consumer,
            name: hop.name.into(),
            start_time: hop.start,
            end_time: hop.end,
            attributes: hop.attributes.into_iter().map(|(k, v)| KeyValue::new(k, v)).collect(),
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status: Status::Unset,
            instrumentation_scope: self.scope.clone(),
        };
        self.processor.on_end(span);
    }

    /// Queues the hop that carries `trace` on to the event `event_id` (whose span id is the one
    /// `trace.child(event_id)` put on that event), from `start` until now.
    pub fn continue_trace(
        &self,
        name: &'static str,
        trace: &TraceContext,
        event_id: &str,
        start: SystemTime,
        attributes: Vec<(&'static str, String)>,
    ) {
        let child = trace.child(event_id);
        self.export(Hop {
            name,
            trace_id: trace.parent.trace_id(),
            span_id: child.parent.span_id(),
            parent_span_id: trace.parent.span_id(),
            sampled: trace.parent.sampled(),
            start,
            end: SystemTime::now(),
            attributes,
        });
    }

    /// Sends what is queued now (tests; shutdown).
    pub fn flush(&self) {
        let _ = self.processor.force_flush();
    }
}

impl Drop for Hops {
    fn drop(&mut self) {
        let _ = self.processor.shutdown_with_timeout(Duration::from_secs(2));
    }
}
