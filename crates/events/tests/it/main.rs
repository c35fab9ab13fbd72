//! Wire-contract tests: committed schemas, committed examples, and every rejection class.

mod props;

use brygga_events::{decode, schemas, Inbound, Rejection, DEFAULT_MAX_EVENT_BYTES};
use std::path::PathBuf;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Fails when the wire format drifts from the committed schemas.
/// Regenerate deliberately with `BRYGGA_UPDATE_SCHEMAS=1 cargo test -p brygga-events`.
#[test]
fn wire_format_matches_committed_schemas() {
    let dir = repo().join("schemas");
    let update = std::env::var_os("BRYGGA_UPDATE_SCHEMAS").is_some();
    for (name, schema) in schemas() {
        let path = dir.join(name);
        let now = serde_json::to_string_pretty(&schema).expect("schema serialises") + "\n";
        if update {
            std::fs::write(&path, &now).expect("write schema");
            continue;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("{} is missing", path.display()));
        assert_eq!(committed, now, "{name} drifted from the Rust types: a contract change needs a new version");
    }
}

/// The AsyncAPI document is generated from the subjects, types and schemas the services use;
/// regenerate with `BRYGGA_UPDATE_SCHEMAS=1` like the schemas.
#[test]
fn asyncapi_document_matches_the_code() {
    let path = repo().join("schemas/asyncapi.json");
    let now = serde_json::to_string_pretty(&brygga_events::asyncapi("brygga")).expect("json") + "\n";
    if std::env::var_os("BRYGGA_UPDATE_SCHEMAS").is_some() {
        std::fs::write(&path, &now).expect("write");
        return;
    }
    let committed = std::fs::read_to_string(&path).expect("schemas/asyncapi.json is missing");
    assert_eq!(committed, now, "schemas/asyncapi.json drifted from the code");
    // Every schema it references is committed.
    let doc: serde_json::Value = serde_json::from_str(&now).expect("json");
    for (key, m) in doc["components"]["messages"].as_object().expect("messages") {
        let file = m["payload"]["schema"]["$ref"].as_str().expect("ref").trim_start_matches("./");
        assert!(repo().join("schemas").join(file).is_file(), "{key}: {file} is not committed");
    }
}

#[test]
fn committed_examples_decode() {
    for (file, want) in [
        ("organisation.registered.json", "org"),
        ("call.published.json", "call"),
        ("call.closed.json", "closed"),
        ("organisation.preferences.updated.json", "preferences"),
        ("recommendation.feedback.json", "feedback"),
    ] {
        let bytes = std::fs::read(repo().join("schemas/examples").join(file)).expect("example exists");
        let d = decode(&bytes, DEFAULT_MAX_EVENT_BYTES).unwrap_or_else(|e| panic!("{file}: {e}"));
        let got = match d.event {
            Inbound::OrganisationUpserted(_) => "org",
            Inbound::CallUpserted(_) => "call",
            Inbound::CallClosed { .. } => "closed",
            Inbound::OrganisationRemoved { .. } => "removed",
            Inbound::PreferencesUpdated(_) => "preferences",
            Inbound::Feedback(_) => "feedback",
        };
        assert_eq!(got, want, "{file}");
    }
}

fn example(file: &str) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(repo().join("schemas/examples").join(file)).expect("example")).expect("json")
}

fn reject(v: &serde_json::Value) -> Rejection {
    decode(&serde_json::to_vec(v).expect("json"), DEFAULT_MAX_EVENT_BYTES).expect_err("must be rejected")
}

#[test]
fn every_bad_input_class_is_rejected_with_a_clear_reason() {
    assert_eq!(decode(b"{not json", 1024).expect_err("bad").code(), "malformed_json");
    let big = vec![b' '; 2048];
    assert_eq!(decode(&big, 1024).expect_err("big"), Rejection::Oversized { size: 2048, max: 1024 });

    let mut v = example("organisation.registered.json");
    v["specversion"] = "0.3".into();
    assert_eq!(reject(&v).code(), "bad_envelope");
    let mut v = example("organisation.registered.json");
    v.as_object_mut().expect("object").remove("source");
    assert_eq!(reject(&v).code(), "bad_envelope");

    let mut v = example("organisation.registered.json");
    v["type"] = "se.brygga.organisation.exploded.v1".into();
    assert_eq!(reject(&v).code(), "unknown_type");
    v["type"] = "se.brygga.organisation.registered.v9".into();
    assert_eq!(reject(&v).code(), "unsupported_version");

    let mut v = example("organisation.registered.json");
    v["data"].as_object_mut().expect("data").remove("name");
    assert!(matches!(reject(&v), Rejection::InvalidPayload(e) if e[0].contains("name")));

    let mut v = example("organisation.registered.json");
    v["data"]["country"] = "XX".into();
    v["data"]["nace"] = serde_json::json!(["99.99"]);
    v["data"]["org_number"] = "559912-3452".into();
    let Rejection::InvalidPayload(errs) = reject(&v) else { panic!("invalid payload expected") };
    assert_eq!(errs.len(), 3, "every field error is reported: {errs:?}");
    assert!(errs.iter().any(|e| e.starts_with("country:")));
    assert!(errs.iter().any(|e| e.starts_with("nace:")));
    assert!(errs.iter().any(|e| e.starts_with("org_number:") && e.contains("checksum")));

    let mut v = example("call.published.json");
    v["data"]["deadlines"] = serde_json::json!(["2026-13-45"]);
    assert!(matches!(reject(&v), Rejection::InvalidPayload(e) if e[0].contains("not a date")));
}

/// CloudEvents 1.0 makes `time` optional: an event without it is accepted.
#[test]
fn an_event_without_time_is_accepted() {
    let mut v = example("organisation.registered.json");
    v.as_object_mut().expect("object").remove("time");
    decode(&serde_json::to_vec(&v).expect("json"), DEFAULT_MAX_EVENT_BYTES).expect("accepted without time");
    v["time"] = "yesterday".into();
    assert_eq!(reject(&v).code(), "bad_envelope", "but a time must be RFC 3339 when given");
}

#[test]
fn sni_codes_become_nace_classes() {
    let mut v = example("organisation.registered.json");
    v["data"]["nace"] = serde_json::json!([]);
    v["data"]["sni"] = serde_json::json!(["30110"]);
    let d = decode(&serde_json::to_vec(&v).expect("json"), DEFAULT_MAX_EVENT_BYTES).expect("valid");
    let Inbound::OrganisationUpserted(o) = d.event else { panic!("organisation expected") };
    assert_eq!(o.nace.iter().map(|c| c.as_str()).collect::<Vec<_>>(), vec!["30.11"]);
}

/// Issue 7, bug 4: versions of 2^63 or more were clamped by the store; now refused at decode,
/// naming the field, for every kind of event that carries one.
#[test]
fn versions_beyond_the_store_are_refused_naming_the_field() {
    for file in ["organisation.registered.json", "call.published.json", "call.closed.json"] {
        let mut v = example(file);
        v["data"]["version"] = serde_json::json!(brygga_events::MAX_VERSION + 1);
        let r = reject(&v);
        assert_eq!(r.code(), "invalid_payload", "{file}");
        assert!(r.to_string().contains("version: 9223372036854775808 exceeds"), "{file}: {r}");
        v["data"]["version"] = serde_json::json!(brygga_events::MAX_VERSION);
        assert!(decode(&serde_json::to_vec(&v).expect("json"), DEFAULT_MAX_EVENT_BYTES).is_ok(), "{file}");
    }
    // A removal with a bad id and a bad version names both.
    let mut v = example("call.closed.json");
    v["data"] = serde_json::json!({"id": "a b", "version": u64::MAX});
    let r = reject(&v).to_string();
    assert!(r.contains("id:") && r.contains("version:"), "{r}");
}

/// serde stops at the first field it cannot read; the rejection still names every one, from
/// the published schema, and never repeats the values found.
#[test]
fn shape_errors_name_every_faulty_field() {
    let mut v = example("organisation.registered.json");
    v["data"]["version"] = "seven".into();
    v["data"]["kind"] = 5.into();
    v["data"]["keywords"] = "anna@example.se".into();
    v["data"]["interests"]["missions"] = serde_json::json!(["mars"]);
    v["data"]["favourite_colour"] = "blue".into();
    v["data"].as_object_mut().expect("data").remove("name");
    let Rejection::InvalidPayload(errs) = reject(&v) else { panic!("invalid payload expected") };
    for field in [
        "data.version:",
        "data.kind:",
        "data.keywords:",
        "data.interests.missions[0]:",
        "data.favourite_colour:",
        "data.name:",
    ] {
        assert!(errs.iter().any(|e| e.starts_with(field)), "{field} is not named in {errs:?}");
    }
    assert!(!errs.iter().any(|e| e.contains("anna@example.se") || e.contains("seven")), "values repeated: {errs:?}");

    let mut v = example("call.published.json");
    v["id"] = 42.into();
    v.as_object_mut().expect("event").remove("source");
    let Rejection::BadEnvelope(reason) = reject(&v) else { panic!("bad envelope expected") };
    assert!(reason.contains("id:") && reason.contains("source: missing"), "{reason}");

    let mut v = example("call.published.json");
    v["type"] = "se.brygga.unheard.of.v1".into();
    v["specversion"] = 1.into();
    v["time"] = serde_json::json!({"when": "now"});
    let Rejection::BadEnvelope(reason) = reject(&v) else { panic!("bad envelope expected") };
    assert!(reason.contains("specversion:") && reason.contains("time:"), "{reason}");
}

/// A query request the service decodes passes its committed schema, and one it refuses fails it.
#[test]
fn query_request_schemas_agree_with_the_decoder() {
    use brygga_events::query::{decode_query, Endpoint};
    use serde_json::json;
    let uuid = "2f1d7c1e-5b7a-5c1e-9a4b-0d6f5f5b2a10";
    let cases = [
        (Endpoint::Recommendations, json!({"organisation_id": "org-1"}), true),
        (Endpoint::Recommendations, json!({"organisation_id": "org-1", "kind": "partner"}), true),
        (Endpoint::Recommendations, json!({"organisation_id": "org 1"}), false),
        (Endpoint::Recommendations, json!({"organisation_id": "org-1", "kind": "person"}), false),
        (Endpoint::Recommendations, json!({"organisation_id": "org-1", "extra": true}), false),
        (Endpoint::Recommendations, json!({}), false),
        (Endpoint::Recommendation, json!({"recommendation_id": uuid}), true),
        (Endpoint::Recommendation, json!({"recommendation_id": 12}), false),
        (Endpoint::CallMatches, json!({"call_id": "HORIZON-CL6-2026-01", "limit": 1000}), true),
        (Endpoint::CallMatches, json!({"call_id": "HORIZON-CL6-2026-01", "limit": 0}), false),
        (Endpoint::CallMatches, json!({"call_id": "HORIZON-CL6-2026-01", "limit": 1001}), false),
        (Endpoint::CallMatches, json!({"limit": 5}), false),
        (Endpoint::Stats, json!({}), true),
        (Endpoint::Stats, json!({"verbose": true}), false),
        (Endpoint::Snapshot, json!({}), true),
        (Endpoint::Snapshot, json!({"after": uuid, "limit": 1000}), true),
        (Endpoint::Snapshot, json!({"after": null}), true),
        (Endpoint::Snapshot, json!({"limit": 0}), false),
        (Endpoint::Snapshot, json!({"after": 3}), false),
    ];
    for (endpoint, body, ok) in cases {
        let file = endpoint.schema_files().0;
        let schema: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(repo().join("schemas").join(file)).expect("committed"))
                .expect("json");
        let valid = jsonschema::validator_for(&schema).expect("schema compiles").is_valid(&body);
        let decoded = decode_query(endpoint, body.to_string().as_bytes()).is_ok();
        assert_eq!((decoded, valid), (ok, ok), "{} {body}", endpoint.name());
    }
}

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// Binary content mode (CloudEvents NATS binding): attributes in `ce-` headers, the data's media
/// type in `Content-Type`, the body the data; decoded like the same event in structured mode.
#[test]
fn binary_mode_decodes_like_structured_mode() {
    use brygga_events::decode_message;
    let ev = example("organisation.registered.json");
    let structured = decode(ev.to_string().as_bytes(), DEFAULT_MAX_EVENT_BYTES).expect("structured");
    let h = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>();
    let headers = h(&[
        ("ce-specversion", "1.0"),
        ("ce-id", ev["id"].as_str().expect("id")),
        ("Ce-Source", ev["source"].as_str().expect("source")),
        ("ce-type", ev["type"].as_str().expect("type")),
        ("ce-time", "2026-11-30T08:00:00Z"),
        ("Content-Type", "application/json"),
        ("ce-traceparent", TRACEPARENT),
        ("ce-partition", "blekinge"),
    ]);
    let binary = decode_message(&headers, ev["data"].to_string().as_bytes(), DEFAULT_MAX_EVENT_BYTES).expect("binary");
    assert_eq!((binary.event_id.as_str(), binary.ty.as_str()), (structured.event_id.as_str(), structured.ty.as_str()));
    assert_eq!(binary.event, structured.event);
    assert_eq!(binary.trace.as_ref().map(|t| t.parent.trace_id()), Some("4bf92f3577b34da6a3ce929d0e0e4736"));
    assert_eq!(
        binary.extensions.get("partition"),
        Some(&serde_json::json!("blekinge")),
        "extension attributes are kept"
    );
    // Binary mode with data that is not JSON, or a media type that is not JSON, is refused.
    let xml = decode_message(&headers, b"<org/>", DEFAULT_MAX_EVENT_BYTES).expect_err("not JSON");
    assert_eq!(xml.code(), "malformed_json");
    let mut as_xml = headers.clone();
    as_xml.retain(|(k, _)| k != "Content-Type");
    as_xml.push(("content-type".into(), "application/xml".into()));
    let e = decode_message(&as_xml, ev["data"].to_string().as_bytes(), DEFAULT_MAX_EVENT_BYTES).expect_err("xml");
    assert!(e.to_string().contains("datacontenttype"), "{e}");
}

/// The trace context: a `traceparent` header before the attribute; an invalid one is not
/// carried (and does not refuse the event).
#[test]
fn trace_context_is_read_from_the_header_or_the_attribute() {
    use brygga_events::decode_message;
    let mut ev = example("organisation.registered.json");
    ev["traceparent"] = serde_json::json!(TRACEPARENT);
    ev["tracestate"] = serde_json::json!("congo=t61rcWkgMzE");
    let body = ev.to_string();
    let d = decode(body.as_bytes(), DEFAULT_MAX_EVENT_BYTES).expect("decodes");
    let t = d.trace.expect("from the attribute");
    assert_eq!((t.parent.to_string().as_str(), t.state.as_deref()), (TRACEPARENT, Some("congo=t61rcWkgMzE")));
    let header = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    let d = decode_message(&[("traceparent".into(), header.into())], body.as_bytes(), DEFAULT_MAX_EVENT_BYTES)
        .expect("decodes");
    assert_eq!(d.trace.map(|t| t.parent.trace_id().to_owned()).as_deref(), Some("0af7651916cd43dd8448eb211c80319c"));
    ev["traceparent"] = serde_json::json!("not-a-trace");
    let d = decode(ev.to_string().as_bytes(), DEFAULT_MAX_EVENT_BYTES).expect("still decodes");
    assert_eq!(d.trace, None);
}

/// Extension attributes: CloudEvents names and scalar values are kept; others are refused,
/// each named.
#[test]
fn extension_attributes_are_kept_or_refused_by_name() {
    let mut ev = example("organisation.registered.json");
    ev["region"] = serde_json::json!("SE221");
    ev["priority"] = serde_json::json!(2);
    let d = decode(ev.to_string().as_bytes(), DEFAULT_MAX_EVENT_BYTES).expect("decodes");
    assert_eq!(d.extensions.len(), 2);
    ev["Bad-Name"] = serde_json::json!("x");
    ev["nested"] = serde_json::json!({"a": 1});
    let e = decode(ev.to_string().as_bytes(), DEFAULT_MAX_EVENT_BYTES).expect_err("refused");
    let m = e.to_string();
    assert!(e.code() == "bad_envelope" && m.contains("\"Bad-Name\"") && m.contains("nested"), "{m}");
}

/// Structured mode may repeat attributes in `ce-` headers (Brygga's own publisher does): its
/// `Content-Type` tells it apart from binary mode.
#[test]
fn structured_mode_with_ce_headers_stays_structured() {
    let ev = example("call.published.json");
    let h: Vec<(String, String)> = [
        ("ce-specversion", "1.0"),
        ("ce-id", ev["id"].as_str().expect("id")),
        ("ce-type", ev["type"].as_str().expect("type")),
        ("content-type", "application/cloudevents+json"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let d = brygga_events::decode_message(&h, ev.to_string().as_bytes(), DEFAULT_MAX_EVENT_BYTES).expect("structured");
    assert_eq!(d.event_id, ev["id"].as_str().expect("id"));
}
