//! The ingest (registry) service: consumes inbound organisation and call events, validates
//! them, applies the version rule in the store, and announces accepted state on the
//! registry subjects through the outbox, all in one transaction.
//!
//! Main items: [`run`], [`handle_batch`]. Bad input is rejected to the dead-letter subject by the
//! bus with the reason from [`brygga_events::Rejection`]; the next event is processed.

use brygga_bus::{Bus, ConsumerSpec, ConsumerStats, Delivery, Outcome};
use brygga_events::subject::{
    inbound_call, inbound_organisation, inbound_recommendation, registry_call, registry_feedback,
    registry_organisation, Stream,
};
use brygga_events::{
    decode_message, types, CallV1, CloudEvent, Decoded, Inbound, OrganisationV1, RegistryCallV1, RegistryFeedbackV1,
    RegistryOrganisationV1, TargetRefV1,
};
use brygga_runtime::otlp::Hops;
use brygga_store::outbox::OutboxEvent;
use brygga_store::registry::{self, Applied};
use brygga_store::{outbox, ConnectionTrait, Store, StoreError, TransactionTrait};
use serde::Serialize;
use std::sync::Arc;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, instrument};

/// Durable consumer name, also the service name in dead letters.
pub const DURABLE: &str = "ingest";
const SOURCE: &str = "urn:brygga:ingest";

/// What the ingest service needs.
#[derive(Debug, Clone)]
pub struct Ingest {
    pub store: Store,
    pub prefix: String,
    pub max_event_bytes: usize,
    /// Woken after each commit so the relay publishes at once.
    pub wake: Arc<Notify>,
    /// Where the hops of traced events go (OTLP), if anywhere.
    pub hops: Option<Arc<Hops>>,
}

/// Runs the consumer and its outbox relay until `cancel` fires.
pub async fn run(
    bus: Bus,
    ingest: Ingest,
    outbox: brygga_relay::Timing,
    stats: Arc<ConsumerStats>,
    cancel: CancellationToken,
) {
    let relay = tokio::spawn(brygga_relay::run(
        bus.clone(),
        ingest.store.clone(),
        format!("{}.registry.", ingest.prefix),
        outbox,
        ingest.wake.clone(),
        cancel.clone(),
    ));
    let spec = ConsumerSpec { stream: Stream::Inbound, durable: DURABLE.into() };
    bus.consume_batches(spec, &stats, cancel, BATCH, |ds| handle_batch(&ingest, ds)).await;
    let _ = relay.await;
    let [acked, retried, dead, errors] = stats.get();
    info!(acked, retried, dead_lettered = dead, stream_errors = errors, "ingest stopped");
}

/// Deliveries handled in one transaction at most.
pub const BATCH: usize = 256;

/// Handles a batch of inbound deliveries: each is decoded and checked on its own (bad input
/// is rejected alone); the valid ones are applied in one transaction. A transient failure
/// retries them all; a permanent one is isolated by applying them one by one.
#[instrument(name = "ingest.handle", skip_all, fields(batch = ds.len()))]
pub async fn handle_batch(ingest: &Ingest, ds: Vec<Delivery>) -> Vec<Outcome> {
    let mut outcomes = Vec::with_capacity(ds.len());
    let mut valid: Vec<(usize, Decoded)> = Vec::new();
    for (i, d) in ds.iter().enumerate() {
        match check(ingest, d) {
            Ok(decoded) => {
                valid.push((i, decoded));
                outcomes.push(Outcome::Ack);
            }
            Err(o) => outcomes.push(o),
        }
    }
    if valid.is_empty() {
        return outcomes;
    }
    let all: Vec<&Decoded> = valid.iter().map(|(_, d)| d).collect();
    let started = std::time::SystemTime::now();
    match persist(ingest, &all).await {
        Ok(applied) => {
            export_hops(ingest, &applied, started);
            let applied = applied.len();
            debug!(applied, stale = all.len() - applied, "batch persisted");
            if applied > 0 {
                ingest.wake.notify_one();
            }
        }
        Err(e) if e.is_retryable() => {
            let failed = if e.is_unavailable() { Outcome::Unavailable } else { Outcome::Retry };
            for (i, _) in &valid {
                outcomes[*i] = failed(e.to_string());
            }
        }
        Err(_) => {
            for (i, d) in &valid {
                outcomes[*i] = match persist(ingest, &[d]).await {
                    Ok(applied) => {
                        export_hops(ingest, &applied, started);
                        Outcome::Ack
                    }
                    Err(e) if e.is_unavailable() => Outcome::Unavailable(e.to_string()),
                    Err(e) if e.is_retryable() => Outcome::Retry(e.to_string()),
                    Err(e) => Outcome::Reject { code: "processing_failed".into(), reason: e.to_string() },
                };
            }
            ingest.wake.notify_one();
        }
    }
    outcomes
}

/// Decodes and validates one delivery, or says how it ends.
/// Either CloudEvents content mode is read (structured, or binary with `ce-` headers), and the
/// W3C trace context with it; logs carry its `trace_id`.
fn check(ingest: &Ingest, d: &Delivery) -> Result<Decoded, Outcome> {
    let headers = d.header_pairs();
    let decoded = decode_message(&headers, &d.payload, ingest.max_event_bytes).map_err(|rej| {
        let trace = headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("traceparent"));
        let trace_id = trace.and_then(|(_, v)| brygga_events::trace::TraceParent::parse(v));
        info!(
            seq = d.stream_sequence,
            code = rej.code(),
            trace_id = trace_id.as_ref().map(|t| t.trace_id()),
            "event refused"
        );
        Outcome::Reject { code: rej.code().into(), reason: rej.to_string() }
    })?;
    let trace_id = decoded.trace.as_ref().map(|t| t.parent.trace_id());
    subject_fits(&ingest.prefix, &d.subject, &decoded).map_err(|reason| {
        info!(seq = d.stream_sequence, code = "bad_envelope", trace_id, "event refused");
        Outcome::Reject { code: "bad_envelope".into(), reason }
    })?;
    debug!(seq = d.stream_sequence, event_id = %decoded.event_id, trace_id, "event read");
    Ok(decoded)
}

/// An event must arrive on the subject of its type (`organisation.registered.v1` on
/// `{p}.in.v1.organisation.registered`): a registration published on the `removed` subject,
/// or on a made-up one, is refused rather than applied.
fn subject_fits(prefix: &str, subject: &str, d: &Decoded) -> Result<(), String> {
    let expected = match d.ty.as_str() {
        types::ORGANISATION_REGISTERED => inbound_organisation(prefix, "registered"),
        types::ORGANISATION_UPDATED => inbound_organisation(prefix, "updated"),
        types::ORGANISATION_REMOVED => inbound_organisation(prefix, "removed"),
        types::CALL_PUBLISHED => inbound_call(prefix, "published"),
        types::CALL_UPDATED => inbound_call(prefix, "updated"),
        types::ORGANISATION_PREFERENCES_UPDATED => inbound_organisation(prefix, "preferences.updated"),
        types::RECOMMENDATION_FEEDBACK => inbound_recommendation(prefix, "feedback"),
        _ => inbound_call(prefix, "closed"),
    };
    if subject == expected {
        Ok(())
    } else {
        Err(format!("subject: event type {} belongs on {expected}, not on {subject}", d.ty))
    }
}

/// The registry event `id` announcing what `cause` did: it continues the cause's trace (a span
/// of its own) and keeps its extension attributes.
fn envelope<T: Serialize>(
    id: String,
    ty: &str,
    subject: String,
    entity: &str,
    data: T,
    cause: &Decoded,
) -> Result<OutboxEvent, StoreError> {
    let mut ev = CloudEvent::new(id.clone(), SOURCE, ty, Some(entity.to_owned()), chrono::Utc::now(), data)
        .traced(cause.trace.as_ref().map(|t| t.child(&id)).as_ref());
    ev.extensions = cause.extensions.clone();
    let payload = serde_json::to_string(&ev).map_err(|e| StoreError::Corrupt {
        what: "event",
        id: id.clone(),
        message: e.to_string(),
    })?;
    Ok(OutboxEvent { event_id: id, subject, event_type: ty.to_owned(), payload })
}

/// Applies the events in order and enqueues the registry announcements of those that
/// applied, all in one transaction; returns those that applied and are announced (the others
/// were stale, or preferences), each with its registry event's id.
async fn persist<'a>(ingest: &Ingest, ds: &[&'a Decoded]) -> Result<Vec<(&'a Decoded, String)>, StoreError> {
    let txn = ingest.store.db().begin().await?;
    let mut events = Vec::new();
    let mut applied_ones = Vec::new();
    for d in ds {
        let (applied, event) = apply(&txn, &ingest.prefix, d).await?;
        if applied == Applied::Applied {
            // Preferences are stored and announced to no one.
            if let Some(event) = event {
                applied_ones.push((*d, event.event_id.clone()));
                events.push(event);
            }
        } else {
            debug!(event_id = %d.event_id, "stale or repeated version; ignored");
        }
    }
    outbox::enqueue(&txn, &events).await?;
    txn.commit().await?;
    Ok(applied_ones)
}

/// One OTLP span per traced event that applied: from the inbound event's span to its registry
/// event's (the ids it carries on), over the batch's handling.
fn export_hops(ingest: &Ingest, applied: &[(&Decoded, String)], started: std::time::SystemTime) {
    let Some(hops) = &ingest.hops else { return };
    for (d, registry_id) in applied {
        if let Some(t) = &d.trace {
            let attributes = vec![
                ("brygga.event_id", d.event_id.clone()),
                ("brygga.event_type", d.ty.clone()),
                ("brygga.registry_event_id", registry_id.clone()),
            ];
            hops.continue_trace("ingest", t, registry_id, started, attributes);
        }
    }
}

/// Applies one event to the registry (version rule) and builds its registry announcement;
/// preferences are the notification service's alone (read from the store), announced to no one.
async fn apply(txn: &impl ConnectionTrait, p: &str, d: &Decoded) -> Result<(Applied, Option<OutboxEvent>), StoreError> {
    let caused_by = d.event_id.clone();
    Ok(match &d.event {
        Inbound::OrganisationUpserted(o) => {
            let data = RegistryOrganisationV1 {
                id: o.id.to_string(),
                version: o.version,
                organisation: Some(OrganisationV1::from_domain(o)),
                caused_by,
            };
            let id = format!("registry-organisation-{}-v{}", o.id, o.version);
            (
                registry::put_organisation(txn, o).await?,
                Some(envelope(
                    id,
                    types::REGISTRY_ORGANISATION,
                    registry_organisation(p, o.id.as_str()),
                    o.id.as_str(),
                    data,
                    d,
                )?),
            )
        }
        Inbound::OrganisationRemoved { id, version } => {
            let data = RegistryOrganisationV1 { id: id.to_string(), version: *version, organisation: None, caused_by };
            let eid = format!("registry-organisation-{id}-v{version}");
            (
                registry::remove_organisation(txn, id, *version).await?,
                Some(envelope(
                    eid,
                    types::REGISTRY_ORGANISATION,
                    registry_organisation(p, id.as_str()),
                    id.as_str(),
                    data,
                    d,
                )?),
            )
        }
        Inbound::CallUpserted(c) => {
            let data = RegistryCallV1 {
                id: c.id.to_string(),
                version: c.version,
                call: Some(CallV1::from_domain(c)),
                caused_by,
            };
            let id = format!("registry-call-{}-v{}", c.id, c.version);
            (
                registry::put_call(txn, c).await?,
                Some(envelope(id, types::REGISTRY_CALL, registry_call(p, c.id.as_str()), c.id.as_str(), data, d)?),
            )
        }
        Inbound::CallClosed { id, version } => {
            let data = RegistryCallV1 { id: id.to_string(), version: *version, call: None, caused_by };
            let eid = format!("registry-call-{id}-v{version}");
            (
                registry::close_call(txn, id, *version).await?,
                Some(envelope(eid, types::REGISTRY_CALL, registry_call(p, id.as_str()), id.as_str(), data, d)?),
            )
        }
        Inbound::PreferencesUpdated(prefs) => (brygga_store::notifications::put_preferences(txn, prefs).await?, None),
        Inbound::Feedback(f) => {
            // A dismissed call is tied to the call as it stands now (its title, deadlines, programme).
            let fingerprint = match &f.target {
                brygga_domain::Target::Call(c) if f.kind.excludes() => {
                    registry::call(txn, c).await?.map(|c| brygga_domain::feedback::call_fingerprint(&c))
                }
                _ => None,
            };
            let data = RegistryFeedbackV1 {
                organisation_id: f.org_id.to_string(),
                target: TargetRefV1 { kind: f.target.kind().to_owned(), id: f.target.id().to_owned() },
                version: f.version,
                excluded: f.kind.excludes(),
                fingerprint: fingerprint.clone(),
                applied: f.kind == brygga_domain::feedback::FeedbackKind::Applied,
                caused_by,
            };
            let rec = brygga_domain::recommendation_id(&f.org_id, &f.target);
            let id = format!("registry-feedback-{rec}-v{}", f.version);
            let org = f.org_id.as_str();
            (
                brygga_store::feedback::put(txn, f, fingerprint).await?,
                Some(envelope(id, types::REGISTRY_FEEDBACK, registry_feedback(p, org), org, data, d)?),
            )
        }
    })
}
