//! Interoperability: events produced by an independent CloudEvents implementation (the CNCF
//! Python SDK, `scripts/cloudevents-produce.py`, installed pinned by
//! `scripts/ensure-cloudevents.sh`) in binary and in structured content mode are accepted,
//! their trace context carried, and they lead to recommendations.

use super::{seed, Harness};
use async_nats::HeaderMap;
use brygga_events::subject::{self, Stream};
use brygga_events::{types, RecommendationV1};
use brygga_testkit::fixtures::org;
use brygga_testkit::Backend;
use serde_json::{json, Value};
use std::io::Write;
use std::process::{Command, Stdio};

/// One message the SDK produced.
struct Produced {
    mode: String,
    id: String,
    headers: Vec<(String, String)>,
    body: String,
}

fn produce(specs: &Value) -> Vec<Produced> {
    let scripts = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts");
    let ensure = Command::new(scripts.join("ensure-cloudevents.sh")).output().expect("run ensure-cloudevents.sh");
    assert!(ensure.status.success(), "installing the SDK failed: {}", String::from_utf8_lossy(&ensure.stderr));
    let python = String::from_utf8(ensure.stdout).expect("path").trim().to_owned();
    let mut child = Command::new(python)
        .arg(scripts.join("cloudevents-produce.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python");
    child.stdin.take().expect("stdin").write_all(specs.to_string().as_bytes()).expect("write");
    let out = child.wait_with_output().expect("output");
    assert!(out.status.success(), "the SDK script failed");
    let produced: Vec<Value> = serde_json::from_slice(&out.stdout).expect("json");
    produced
        .into_iter()
        .map(|m| {
            let headers = m["headers"]
                .as_object()
                .expect("headers")
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().expect("string").to_owned()))
                .collect();
            let s = |k: &str| m[k].as_str().expect(k).to_owned();
            Produced { mode: s("mode"), id: s("id"), headers, body: s("body") }
        })
        .collect()
}

pub(super) async fn events_from_the_cloudevents_sdk_are_accepted_in_both_modes(backend: Backend) {
    let h = Harness::start(backend).await;
    seed(&h).await;
    let description = "Marine sensors for ocean technology test sites in the Baltic Sea.";
    let trace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let specs = json!([
        {"type": types::ORGANISATION_REGISTERED, "id": "sdk-1", "traceparent": trace,
         "data": org("sdk-binary", 1, "en", description, &["marine sensors"])},
        {"type": types::ORGANISATION_REGISTERED, "id": "sdk-2", "traceparent": trace,
         "data": org("sdk-structured", 1, "en", description, &["marine sensors"])},
    ]);
    let produced = produce(&specs);
    let on = subject::inbound_organisation(h.p(), "registered");
    // sdk-1 in binary mode, sdk-2 in structured mode.
    for m in produced {
        if (m.id == "sdk-1") != (m.mode == "binary") {
            continue;
        }
        let mut hm = HeaderMap::new();
        for (k, v) in &m.headers {
            hm.insert(k.as_str(), v.as_str());
        }
        h.bus
            .jetstream()
            .publish_with_headers(on.clone(), hm, m.body.into())
            .await
            .expect("publish")
            .await
            .expect("ack");
    }
    h.settle().await;
    let dead = h.bus.last_sequence(Stream::DeadLetters).await.expect("dead letters");
    assert_eq!(dead, 0, "nothing dead-lettered");
    let registry: Vec<brygga_events::CloudEvent<Value>> = h.read(Stream::Registry, &subject::registry_all(h.p())).await;
    for org_id in ["sdk-binary", "sdk-structured"] {
        let e = registry.iter().find(|e| e.subject.as_deref() == Some(org_id)).expect("registry event");
        let carried = e.traceparent.as_deref().and_then(brygga_events::trace::TraceParent::parse).expect("trace");
        assert_eq!(carried.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736", "{org_id}");
        let recs: Vec<brygga_events::CloudEvent<RecommendationV1>> =
            h.read(Stream::Recommendations, &subject::recommendations_for(h.p(), org_id)).await;
        assert!(!recs.is_empty(), "{org_id} has recommendations");
    }
    h.stop().await;
}
