//! W3C trace context crosses the bus: a `traceparent` on an inbound event (a NATS header, or
//! the CloudEvents attribute of a binary-mode event) is continued on the registry event and on
//! every recommendation event it causes, in their bodies and their headers, each hop with a
//! span id of its own.

use super::{seed, Harness};
use async_nats::HeaderMap;
use brygga_events::subject::{self, Stream};
use brygga_events::trace::TraceParent;
use brygga_events::types;
use brygga_testkit::fixtures::org;
use brygga_testkit::Backend;
use serde_json::{json, Value};

const STRUCTURED_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const BINARY_TRACE: &str = "0af7651916cd43dd8448eb211c80319c";

/// Every message on `stream` as (subject, headers, body).
async fn messages(h: &Harness, stream: Stream) -> Vec<(String, HeaderMap, Value)> {
    let s = h.bus.jetstream().get_stream(stream.name(h.p())).await.expect("stream");
    let last = s.get_info().await.expect("info").state.last_sequence;
    let mut out = Vec::new();
    for seq in 1..=last {
        let Ok(m) = s.get_raw_message(seq).await else { continue };
        out.push((m.subject.to_string(), m.headers, serde_json::from_slice(&m.payload).expect("json")));
    }
    out
}

pub(super) async fn a_trace_is_followed_from_an_inbound_event_to_its_recommendations(backend: Backend) {
    let h = Harness::start(backend).await;
    seed(&h).await;
    let on = subject::inbound_organisation(h.p(), "registered");
    let description = "Marine sensors for ocean technology test sites in the Baltic Sea.";
    // Structured mode, the context in a NATS header.
    let ev = json!({
        "specversion": "1.0", "id": "ev-traced-1", "source": "urn:test:crm", "type": types::ORGANISATION_REGISTERED,
        "data": org("traced", 1, "en", description, &["marine sensors"]),
    });
    let mut headers = HeaderMap::new();
    headers.insert("Nats-Msg-Id", "ev-traced-1");
    headers.insert("traceparent", format!("00-{STRUCTURED_TRACE}-00f067aa0ba902b7-01").as_str());
    h.bus
        .jetstream()
        .publish_with_headers(on.clone(), headers, ev.to_string().into())
        .await
        .expect("pub")
        .await
        .expect("ack");
    // Binary mode: attributes (the trace context among them) in ce- headers, the data as the body.
    let mut headers = HeaderMap::new();
    for (k, v) in [
        ("Nats-Msg-Id", "ev-traced-2"),
        ("ce-specversion", "1.0"),
        ("ce-id", "ev-traced-2"),
        ("ce-source", "urn:test:crm"),
        ("ce-type", types::ORGANISATION_REGISTERED),
        ("ce-traceparent", &format!("00-{BINARY_TRACE}-b7ad6b7169203331-01")),
        ("ce-region", "blekinge"),
        ("Content-Type", "application/json"),
    ] {
        headers.insert(k, v);
    }
    let data = org("binary", 1, "en", description, &["marine sensors"]).to_string();
    h.bus.jetstream().publish_with_headers(on, headers, data.into()).await.expect("pub").await.expect("ack");
    h.settle().await;

    for (org_id, trace_id) in [("traced", STRUCTURED_TRACE), ("binary", BINARY_TRACE)] {
        let inbound_span = if org_id == "traced" { "00f067aa0ba902b7" } else { "b7ad6b7169203331" };
        // The registry event continues the trace with a span of its own (and keeps extensions).
        let registry = messages(&h, Stream::Registry).await;
        let (_, rh, body) = registry
            .iter()
            .find(|(s, _, _)| *s == subject::registry_organisation(h.p(), org_id))
            .expect("the registry event");
        let parent = TraceParent::parse(body["traceparent"].as_str().expect("traceparent attribute")).expect("valid");
        assert_eq!(parent.trace_id(), trace_id);
        assert!(!parent.to_string().contains(inbound_span), "a span of its own: {parent}");
        assert_eq!(rh.get("traceparent").map(|v| v.to_string()), Some(parent.to_string()), "and in the header");
        if org_id == "binary" {
            assert_eq!(body["region"], "blekinge", "extension attributes are kept");
        }
    }
    // Every recommendation event continues the trace of its first traced cause (by id; its
    // `caused_by`), with a span of its own, in the body and the header; untraced causes, none.
    let trace_of = |cause: &str| match cause {
        "ev-traced-1" | "registry-organisation-traced-v1" => Some(STRUCTURED_TRACE),
        "ev-traced-2" | "registry-organisation-binary-v1" => Some(BINARY_TRACE),
        _ => None,
    };
    let mut continued = std::collections::BTreeSet::new();
    for (s, headers, body) in messages(&h, Stream::Recommendations).await {
        let mut causes: Vec<&str> =
            body["data"]["caused_by"].as_array().expect("caused_by").iter().filter_map(Value::as_str).collect();
        causes.sort();
        let want = causes.iter().find_map(|c| trace_of(c));
        let attr = body["traceparent"].as_str();
        let got = attr.map(|a| TraceParent::parse(a).expect("valid"));
        assert_eq!(got.as_ref().map(|p| p.trace_id()), want, "{s} caused by {causes:?}");
        assert_eq!(headers.get("traceparent").map(|v| v.to_string()).as_deref(), attr, "{s}: the header");
        assert_eq!(headers.get("ce-source").map(|v| v.to_string()).as_deref(), Some("urn:brygga:matcher"));
        assert!(headers.get("ce-time").is_some(), "{s}: ce-time");
        if let Some(p) = got {
            assert!(!p.to_string().ends_with("00f067aa0ba902b7-01") && !p.to_string().ends_with("b7ad6b7169203331-01"));
            continued
                .insert((body["data"]["organisation_id"].as_str().expect("org").to_owned(), p.trace_id().to_owned()));
        }
    }
    assert!(continued.contains(&("traced".to_owned(), STRUCTURED_TRACE.to_owned())), "{continued:?}");
    assert!(continued.contains(&("binary".to_owned(), BINARY_TRACE.to_owned())), "{continued:?}");
    h.stop().await;
}
