//! OTLP export: with an exporter configured, a traced inbound event's hops reach a collector
//! (here an HTTP server the test runs, receiving OTLP/HTTP JSON) as spans of its trace: the
//! ingest span is the registry event's span and a child of the inbound event's; every matcher
//! span is a recommendation event's span and a child of the registry event's.

use super::{seed, Harness};
use async_nats::HeaderMap;
use brygga_events::subject::{self, Stream};
use brygga_events::trace::TraceParent;
use brygga_events::types;
use brygga_runtime::otlp::Hops;
use brygga_testkit::fixtures::org;
use brygga_testkit::Backend;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TRACE: &str = "5b8efff798038103d269b633813fc60c";
const INBOUND_SPAN: &str = "eee19b7ec3c1b174";

/// A collector: every span posted to `/v1/traces`, as (service, span).
async fn collector() -> (String, Arc<Mutex<Vec<(String, Value)>>>) {
    let spans: Arc<Mutex<Vec<(String, Value)>>> = Arc::default();
    let kept = spans.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |body: String| {
            let kept = kept.clone();
            async move {
                let v: Value = serde_json::from_str(&body).expect("OTLP JSON");
                for rs in v["resourceSpans"].as_array().into_iter().flatten() {
                    let service = rs["resource"]["attributes"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .find(|a| a["key"] == "service.name")
                        .and_then(|a| a["value"]["stringValue"].as_str())
                        .unwrap_or_default()
                        .to_owned();
                    for ss in rs["scopeSpans"].as_array().into_iter().flatten() {
                        for span in ss["spans"].as_array().into_iter().flatten() {
                            kept.lock().expect("lock").push((service.clone(), span.clone()));
                        }
                    }
                }
                "{}"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/v1/traces"), spans)
}

pub(super) async fn the_hops_of_a_trace_are_exported_as_otlp_spans(backend: Backend) {
    let (endpoint, spans) = collector().await;
    let hops = Arc::new(Hops::new(&endpoint, "brygga-test").expect("exporter"));
    let h = Harness::start_with(backend, Some(hops.clone())).await;
    seed(&h).await;
    let ev = json!({
        "specversion": "1.0", "id": "ev-otlp-1", "source": "urn:test:crm", "type": types::ORGANISATION_REGISTERED,
        "data": org("otlp-org", 1, "en", "Marine sensors for ocean technology test sites.", &["marine sensors"]),
    });
    let mut headers = HeaderMap::new();
    headers.insert("Nats-Msg-Id", "ev-otlp-1");
    headers.insert("traceparent", format!("00-{TRACE}-{INBOUND_SPAN}-01").as_str());
    let on = subject::inbound_organisation(h.p(), "registered");
    h.bus.jetstream().publish_with_headers(on, headers, ev.to_string().into()).await.expect("pub").await.expect("ack");
    h.settle().await;
    // The registry event and the recommendation events carry the span ids the spans must have.
    let registry: Vec<brygga_events::CloudEvent<Value>> =
        h.read(Stream::Registry, &subject::registry_organisation(h.p(), "otlp-org")).await;
    let registry_span =
        TraceParent::parse(registry[0].traceparent.as_deref().expect("traced")).expect("valid").span_id().to_owned();
    let recs: Vec<brygga_events::CloudEvent<Value>> =
        h.read(Stream::Recommendations, &subject::recommendations_all(h.p())).await;
    let rec_spans: std::collections::BTreeSet<String> = recs
        .iter()
        .filter_map(|e| e.traceparent.as_deref().and_then(TraceParent::parse))
        .filter(|p| p.trace_id() == TRACE)
        .map(|p| p.span_id().to_owned())
        .collect();
    assert!(!rec_spans.is_empty());
    hops.flush();
    let start = Instant::now();
    let ours = loop {
        let ours: Vec<Value> =
            spans.lock().expect("lock").iter().filter(|(_, s)| s["traceId"] == TRACE).map(|(_, s)| s.clone()).collect();
        if ours.len() > rec_spans.len() || start.elapsed() > Duration::from_secs(10) {
            break ours;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let ingest: Vec<&Value> = ours.iter().filter(|s| s["name"] == "ingest").collect();
    assert_eq!(ingest.len(), 1, "{ours:#?}");
    assert_eq!(
        (ingest[0]["spanId"].as_str(), ingest[0]["parentSpanId"].as_str()),
        (Some(registry_span.as_str()), Some(INBOUND_SPAN))
    );
    let matcher: std::collections::BTreeSet<String> = ours
        .iter()
        .filter(|s| s["name"] == "matcher")
        .map(|s| {
            assert_eq!(s["parentSpanId"].as_str(), Some(registry_span.as_str()), "{s}");
            s["spanId"].as_str().expect("span id").to_owned()
        })
        .collect();
    assert_eq!(matcher, rec_spans, "one matcher span per traced recommendation event, with its span id");
    assert!(spans.lock().expect("lock").iter().all(|(service, _)| service == "brygga-test"));
    h.stop().await;
}
