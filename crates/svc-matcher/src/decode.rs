//! The one decode path of the registry events the matcher reads: what an event does to the
//! index, and which target it changed (with the events that caused it).

use crate::scope::Changed;
use brygga_bus::{Delivery, Outcome};
use brygga_domain::{Call, CallId, Index, OrgId, Organisation, Target};
use brygga_events::trace::TraceContext;
use brygga_events::{types, CloudEvent, RegistryCallV1, RegistryFeedbackV1, RegistryOrganisationV1};

/// What one registry event does to the index.
#[derive(Debug)]
pub(crate) enum Update {
    Org(Box<Organisation>),
    OrgRemoved(OrgId),
    Call(Box<Call>),
    CallClosed(CallId),
    /// An organisation's feedback: the target excluded for it (with a call's fingerprint), or not.
    Feedback {
        org: OrgId,
        target: Target,
        excluded: Option<Option<String>>,
        /// It applied for the target (a call).
        applied: bool,
    },
}

impl Update {
    pub(crate) fn apply(self, index: &mut Index) {
        match self {
            Self::Org(o) => {
                index.upsert_org(*o);
            }
            Self::OrgRemoved(id) => index.remove_org(&id),
            Self::Call(c) => {
                index.upsert_call(*c);
            }
            Self::CallClosed(id) => index.remove_call(&id),
            Self::Feedback { org, target, excluded, applied } => {
                if let Target::Call(c) = &target {
                    index.set_applied(&org, c, applied);
                }
                match excluded {
                    Some(fingerprint) => index.dismiss(&org, target, fingerprint),
                    None => index.undismiss(&org, &target),
                }
            }
        }
    }
}

/// A registry event, read.
#[derive(Debug)]
pub(crate) struct Decoded {
    pub(crate) update: Update,
    pub(crate) changed: Changed,
    /// The W3C trace context the event carries (ingest continues the inbound event's).
    pub(crate) trace: Option<TraceContext>,
    /// When ingest accepted it (the registry event's `time`).
    pub(crate) accepted_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Reads one registry event, or says how its delivery ends when it is bad.
pub(crate) fn decode(d: &Delivery) -> Result<Decoded, Outcome> {
    let reject = |reason: String| Outcome::Reject { code: "invalid_payload".into(), reason };
    let env: CloudEvent<serde_json::Value> = serde_json::from_slice(&d.payload)
        .map_err(|e| Outcome::Reject { code: "malformed_json".into(), reason: e.to_string() })?;
    let trace = TraceContext::read(env.traceparent.as_deref(), env.tracestate.as_deref());
    match env.ty.as_str() {
        types::REGISTRY_ORGANISATION => {
            let data: RegistryOrganisationV1 = serde_json::from_value(env.data).map_err(|e| reject(e.to_string()))?;
            let org_id = OrgId::parse(&data.id).map_err(|_| reject(format!("bad organisation id {:?}", data.id)))?;
            let update = match data.organisation {
                Some(o) => Update::Org(Box::new(o.into_domain().map_err(|e| reject(e.to_string()))?)),
                None => Update::OrgRemoved(org_id.clone()),
            };
            Ok(Decoded {
                update,
                changed: Changed { target: Target::Partner(org_id), causes: vec![data.caused_by, env.id] },
                trace,
                accepted_at: env.time,
            })
        }
        types::REGISTRY_CALL => {
            let data: RegistryCallV1 = serde_json::from_value(env.data).map_err(|e| reject(e.to_string()))?;
            let call_id = CallId::parse(&data.id).map_err(|_| reject(format!("bad call id {:?}", data.id)))?;
            let update = match data.call {
                Some(c) => Update::Call(Box::new(c.into_domain().map_err(|e| reject(e.to_string()))?)),
                None => Update::CallClosed(call_id.clone()),
            };
            Ok(Decoded {
                update,
                changed: Changed { target: Target::Call(call_id), causes: vec![data.caused_by, env.id] },
                trace,
                accepted_at: env.time,
            })
        }
        types::REGISTRY_FEEDBACK => {
            let data: RegistryFeedbackV1 = serde_json::from_value(env.data).map_err(|e| reject(e.to_string()))?;
            let (org, target) = data.read().map_err(reject)?;
            let excluded = data.excluded.then_some(data.fingerprint);
            Ok(Decoded {
                update: Update::Feedback { org: org.clone(), target, excluded, applied: data.applied },
                // The organisation is re-ranked from scratch (as when it changes itself).
                changed: Changed { target: Target::Partner(org), causes: vec![data.caused_by, env.id] },
                trace,
                accepted_at: env.time,
            })
        }
        other => Err(Outcome::Reject { code: "unknown_type".into(), reason: format!("unknown event type {other:?}") }),
    }
}
