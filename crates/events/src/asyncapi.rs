//! The AsyncAPI 3.0 document of Brygga's bus contract, built from the same subject functions,
//! event types and JSON Schemas the services use (committed as `schemas/asyncapi.json` and
//! checked by a test, so it cannot drift). Integrators generate clients from it.

use crate::subject::{
    dead_letter, inbound_call, inbound_organisation, inbound_recommendation, recommendation, registry_call,
    registry_feedback, registry_organisation,
};
use crate::types;
use serde_json::{json, Map, Value};

/// One channel: its id, address, the messages on it (type, schema file), what Brygga does.
struct Channel {
    id: &'static str,
    address: String,
    messages: Vec<(&'static str, &'static str)>,
    /// `receive`: integrators send, Brygga receives; `send`: Brygga sends.
    action: &'static str,
    summary: &'static str,
}

/// The AsyncAPI document for subjects under `prefix` (`brygga` by default).
pub fn asyncapi(prefix: &str) -> Value {
    let org = "organisation.v1.schema.json";
    let removed = "removed.v1.schema.json";
    let call = "call.v1.schema.json";
    let rec = "recommendation.v1.schema.json";
    let channels = [
        Channel {
            id: "organisationRegistered",
            address: inbound_organisation(prefix, "registered"),
            messages: vec![(types::ORGANISATION_REGISTERED, org)],
            action: "receive",
            summary: "An organisation's full state, first time or again (versioned: older versions are ignored).",
        },
        Channel {
            id: "organisationUpdated",
            address: inbound_organisation(prefix, "updated"),
            messages: vec![(types::ORGANISATION_UPDATED, org)],
            action: "receive",
            summary: "An organisation's full state after a change.",
        },
        Channel {
            id: "organisationRemoved",
            address: inbound_organisation(prefix, "removed"),
            messages: vec![(types::ORGANISATION_REMOVED, removed)],
            action: "receive",
            summary: "Erases the organisation's personal data and withdraws everything it receives or appears in.",
        },
        Channel {
            id: "organisationPreferencesUpdated",
            address: inbound_organisation(prefix, "preferences.updated"),
            messages: vec![(types::ORGANISATION_PREFERENCES_UPDATED, "preferences.v1.schema.json")],
            action: "receive",
            summary: "How an organisation wants to hear from Brygga's notification service: channel (e-mail or a \
                      signed webhook) and address, language, cadence (instant, daily or weekly digest) and \
                      opt-outs (versioned; the address is contact data, erased with the organisation).",
        },
        Channel {
            id: "recommendationFeedback",
            address: inbound_recommendation(prefix, "feedback"),
            messages: vec![(types::RECOMMENDATION_FEEDBACK, "feedback.v1.schema.json")],
            action: "receive",
            summary: "What an organisation said about a recommendation: saved, dismissed, applied or not_relevant \
                      (versioned per recommendation). A dismissed or not relevant target is not recommended to it \
                      again until it changes materially (a call: its title, deadlines or programme).",
        },
        Channel {
            id: "callPublished",
            address: inbound_call(prefix, "published"),
            messages: vec![(types::CALL_PUBLISHED, call)],
            action: "receive",
            summary: "A funding call's full state.",
        },
        Channel {
            id: "callUpdated",
            address: inbound_call(prefix, "updated"),
            messages: vec![(types::CALL_UPDATED, call)],
            action: "receive",
            summary: "A funding call's full state after a change.",
        },
        Channel {
            id: "callClosed",
            address: inbound_call(prefix, "closed"),
            messages: vec![(types::CALL_CLOSED, removed)],
            action: "receive",
            summary: "The call no longer takes applications; its recommendations are withdrawn.",
        },
        Channel {
            id: "registryOrganisation",
            address: registry_organisation(prefix, "{id}"),
            messages: vec![(types::REGISTRY_ORGANISATION, "registry.organisation.v1.schema.json")],
            action: "send",
            summary: "Internal: the validated state ingest accepted (read by the matcher).",
        },
        Channel {
            id: "registryCall",
            address: registry_call(prefix, "{id}"),
            messages: vec![(types::REGISTRY_CALL, "registry.call.v1.schema.json")],
            action: "send",
            summary: "Internal: the validated call ingest accepted (read by the matcher).",
        },
        Channel {
            id: "registryFeedback",
            address: registry_feedback(prefix, "{org_id}"),
            messages: vec![(types::REGISTRY_FEEDBACK, "registry.feedback.v1.schema.json")],
            action: "send",
            summary: "Internal: feedback ingest accepted, as the matcher applies it (excluded or not).",
        },
        Channel {
            id: "recommendation",
            address: recommendation(prefix, "{org_id}", "{change}"),
            messages: vec![
                (types::RECOMMENDATION_CREATED, rec),
                (types::RECOMMENDATION_UPDATED, rec),
                (types::RECOMMENDATION_WITHDRAWN, rec),
            ],
            action: "send",
            summary: "An explained recommendation for one organisation: created, updated (score moved or facts \
                      changed) or withdrawn. Order by `revision`; `Nats-Msg-Id` = event id.",
        },
        Channel {
            id: "deadLetter",
            address: dead_letter(prefix, "{service}"),
            messages: vec![(types::DEAD_LETTER, "deadletter.v1.schema.json")],
            action: "send",
            summary: "An event a service refused, with the reason code, the reason naming every faulty field, \
                      and a copy of the payload (up to 64 KiB).",
        },
    ];
    let mut chans = Map::new();
    let mut ops = Map::new();
    let mut msgs = Map::new();
    for c in &channels {
        let mut messages = Map::new();
        for (ty, schema) in &c.messages {
            let key = message_key(ty);
            messages.insert(key.clone(), json!({"$ref": format!("#/components/messages/{key}")}));
            msgs.insert(
                key.clone(),
                json!({
                    "name": ty,
                    "title": ty,
                    "contentType": "application/json",
                    "payload": {"schemaFormat": "application/schema+json;version=draft-2020-12", "schema": {"$ref": format!("./{schema}")}},
                    "headers": {"type": "object", "properties": {
                        "Nats-Msg-Id": {"type": "string", "description": "The event id: JetStream drops a repeat within the duplicate window."},
                        "Content-Type": {"type": "string", "description": "`application/cloudevents+json` in structured mode. Inbound, binary mode is accepted too: the attributes as `ce-` headers, `Content-Type: application/json`, the data as the body."},
                        "ce-id": {"type": "string"}, "ce-type": {"type": "string"}, "ce-specversion": {"type": "string"},
                        "ce-source": {"type": "string"}, "ce-time": {"type": "string"},
                        "traceparent": {"type": "string", "description": "W3C trace context. Inbound: read before the `traceparent` attribute. Outbound: the context of the event's cause, with a span id of its own (also the `traceparent` attribute)."},
                        "tracestate": {"type": "string"},
                    }},
                }),
            );
        }
        let mut params = Map::new();
        for p in ["id", "org_id", "change", "service"] {
            if c.address.contains(&format!("{{{p}}}")) {
                params.insert(p.to_owned(), json!({"description": param_description(p)}));
            }
        }
        let mut channel = json!({"address": c.address, "messages": messages, "description": c.summary});
        if !params.is_empty() {
            channel["parameters"] = Value::Object(params);
        }
        chans.insert(c.id.to_owned(), channel);
        ops.insert(
            format!("{}{}", c.action, capitalise(c.id)),
            json!({"action": c.action, "channel": {"$ref": format!("#/channels/{}", c.id)}, "summary": c.summary}),
        );
    }
    for e in crate::query::Endpoint::ALL {
        query_channel(prefix, e, &mut chans, &mut ops, &mut msgs);
    }
    json!({
        "asyncapi": "3.0.0",
        "info": {
            "title": "Brygga",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Events in and out of Brygga on NATS JetStream: CloudEvents 1.0 in structured mode \
                            (JSON). Integrators publish organisations and calls; Brygga publishes explained \
                            recommendations and dead letters, and answers queries (request/reply, NATS \
                            Service API). Subjects below use the default prefix `brygga`.",
        },
        "defaultContentType": "application/json",
        "servers": {"nats": {"host": "nats:4222", "protocol": "nats", "description": "A NATS server (2.10+) with JetStream; streams BRYGGA_IN, BRYGGA_REGISTRY, BRYGGA_REC, BRYGGA_DLQ."}},
        "channels": chans,
        "operations": ops,
        "components": {"messages": msgs},
    })
}

/// A query endpoint: a channel Brygga receives requests on, and the reply to the requester's
/// inbox (a channel without an address: NATS picks it per request).
fn query_channel(
    prefix: &str,
    e: crate::query::Endpoint,
    chans: &mut Map<String, Value>,
    ops: &mut Map<String, Value>,
    msgs: &mut Map<String, Value>,
) {
    let id = format!("query{}", e.name().split('-').map(capitalise).collect::<String>());
    let (request, reply) = e.schema_files();
    let payload = |file: &str| json!({"schemaFormat": "application/schema+json;version=draft-2020-12", "schema": {"$ref": format!("./{file}")}});
    let req_key = format!("query_{}_request", e.name().replace('-', "_"));
    let rep_key = format!("query_{}_reply", e.name().replace('-', "_"));
    msgs.insert(
        req_key.clone(),
        json!({"name": req_key, "title": format!("{} request", e.name()), "contentType": "application/json", "payload": payload(request)}),
    );
    msgs.insert(
        rep_key.clone(),
        json!({
            "name": rep_key,
            "title": format!("{} reply", e.name()),
            "contentType": "application/json",
            "payload": payload(reply),
            "headers": {"type": "object", "properties": {
                "Nats-Service-Error-Code": {"type": "string", "description": "Set when the request was refused: 400 (the message names every faulty field), 404, 500 or 503 (retry later); the body is then empty."},
                "Nats-Service-Error": {"type": "string", "description": "Why, in one line."},
            }},
        }),
    );
    chans.insert(
        id.clone(),
        json!({
            "address": crate::subject::query(prefix, e.name()),
            "messages": {req_key.clone(): {"$ref": format!("#/components/messages/{req_key}")}},
            "description": format!("Query service (NATS Service API `brygga-query`, queue group `q`): {}", e.summary()),
        }),
    );
    let reply_id = format!("{id}Reply");
    chans.insert(
        reply_id.clone(),
        json!({
            "address": null,
            "messages": {rep_key.clone(): {"$ref": format!("#/components/messages/{rep_key}")}},
            "description": "The requester's reply inbox.",
        }),
    );
    ops.insert(
        format!("receive{}", capitalise(&id)),
        json!({
            "action": "receive",
            "channel": {"$ref": format!("#/channels/{id}")},
            "summary": e.summary(),
            "messages": [{"$ref": format!("#/channels/{id}/messages/{req_key}")}],
            "reply": {
                "channel": {"$ref": format!("#/channels/{reply_id}")},
                "messages": [{"$ref": format!("#/channels/{reply_id}/messages/{rep_key}")}],
            },
        }),
    );
}

fn message_key(ty: &str) -> String {
    ty.trim_start_matches("se.brygga.").replace('.', "_")
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
}

fn param_description(p: &str) -> &'static str {
    match p {
        "id" => "The organisation or call id.",
        "org_id" => {
            "The organisation the recommendation is for: subscribe to `brygga.rec.v1.<org_id>.>` to follow one."
        }
        "change" => "`created`, `updated` or `withdrawn`.",
        _ => "The service that refused the event (`ingest`, `matcher`, …).",
    }
}
