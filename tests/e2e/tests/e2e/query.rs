//! The query service (NATS Service API) answers from the store what the recommendation stream
//! announced, discoverable under `$SRV`, and refuses bad requests naming every faulty field.

use super::{seed, Harness, OCEAN_CALL};
use brygga_events::query::{
    CallMatchesReplyV1, RecommendationReplyV1, RecommendationsReplyV1, SnapshotReplyV1, StatsReplyV1,
};
use brygga_events::subject;
use brygga_testkit::fixtures::consumer_view;
use brygga_testkit::Backend;
use serde_json::{json, Value};
use std::time::Duration;

/// Sends a request; `Ok(body)` or `Err((code, status))` from the Service API's error headers.
async fn ask(h: &Harness, endpoint: &str, body: Value) -> Result<Vec<u8>, (String, String)> {
    let reply =
        h.bus.client().request(subject::query(h.p(), endpoint), body.to_string().into()).await.expect("a reply");
    match reply.headers.as_ref().and_then(|hd| hd.get(async_nats::service::NATS_SERVICE_ERROR_CODE)) {
        Some(code) => {
            let status = reply.headers.as_ref().and_then(|hd| hd.get(async_nats::service::NATS_SERVICE_ERROR));
            Err((code.to_string(), status.map(|s| s.to_string()).unwrap_or_default()))
        }
        None => Ok(reply.payload.to_vec()),
    }
}

fn parse<T: serde::de::DeserializeOwned>(r: Result<Vec<u8>, (String, String)>) -> T {
    serde_json::from_slice(&r.expect("answered")).expect("reply decodes")
}

pub(super) async fn the_query_service_answers_from_the_store(backend: Backend) {
    let h = Harness::start(backend).await;
    let cancel = h.cancel.child_token();
    let service =
        tokio::spawn(brygga_svc_query::run(h.bus.client().clone(), h.p().to_owned(), h.store.clone(), cancel.clone()));
    seed(&h).await;
    // Discoverable: `$SRV.INFO.<name>` lists the endpoints with their subjects.
    let mut info = None;
    for _ in 0..50 {
        let srv = format!("$SRV.INFO.{}", brygga_svc_query::SERVICE);
        if let Ok(Ok(m)) = tokio::time::timeout(Duration::from_secs(1), h.bus.client().request(srv, "".into())).await {
            info = Some(serde_json::from_slice::<Value>(&m.payload).expect("info json"));
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let info = info.expect("the service answers $SRV.INFO");
    let mut subjects: Vec<&str> =
        info["endpoints"].as_array().expect("endpoints").iter().filter_map(|e| e["subject"].as_str()).collect();
    subjects.sort();
    let mut want: Vec<String> =
        brygga_events::query::Endpoint::ALL.iter().map(|e| subject::query(h.p(), e.name())).collect();
    want.sort();
    assert_eq!(subjects, want);

    let view = consumer_view(&h.recs().await);
    let recs = h.recs().await;
    let active_of = |org: &str| -> Vec<(String, u32)> {
        let mut v: Vec<(String, u32)> = view
            .iter()
            .filter(|(id, (_, active))| {
                *active && recs.iter().any(|e| &e.data.recommendation_id == *id && e.data.organisation_id == org)
            })
            .map(|(id, (rev, _))| (id.clone(), *rev))
            .collect();
        v.sort();
        v
    };

    // An organisation's active recommendations: what a consumer folded from the stream.
    let reply: RecommendationsReplyV1 = parse(ask(&h, "recommendations", json!({"organisation_id": "havsoga"})).await);
    let mut got: Vec<(String, u32)> =
        reply.recommendations.iter().map(|r| (r.recommendation_id.clone(), r.revision)).collect();
    got.sort();
    assert_eq!(got, active_of("havsoga"));
    assert!(reply.recommendations.iter().all(|r| r.change != "withdrawn" && !r.explanation.summary.is_empty()));
    let kinds: Vec<&str> = reply.recommendations.iter().map(|r| r.target.kind.as_str()).collect();
    let mut sorted = kinds.clone();
    sorted.sort_by_key(|k| brygga_domain::Target::KINDS.iter().position(|x| x == k));
    assert_eq!(kinds, sorted, "missions, areas, calls, partners");
    let calls: RecommendationsReplyV1 =
        parse(ask(&h, "recommendations", json!({"organisation_id": "havsoga", "kind": "call"})).await);
    assert!(!calls.recommendations.is_empty() && calls.recommendations.iter().all(|r| r.target.kind == "call"));

    // One recommendation, with its explanation.
    let first = &calls.recommendations[0];
    let one: RecommendationReplyV1 =
        parse(ask(&h, "recommendation", json!({"recommendation_id": first.recommendation_id})).await);
    assert!(one.active);
    assert_eq!(&one.recommendation, first);

    // The organisations a call is recommended to, best first.
    let matches: CallMatchesReplyV1 = parse(ask(&h, "call-matches", json!({"call_id": OCEAN_CALL})).await);
    let holders: Vec<&str> = recs
        .iter()
        .filter(|e| e.data.target.id == OCEAN_CALL && view.get(&e.data.recommendation_id).is_some_and(|v| v.1))
        .map(|e| e.data.organisation_id.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut got: Vec<&str> = matches.organisations.iter().map(|m| m.organisation_id.as_str()).collect();
    assert!(matches.organisations.windows(2).all(|w| w[0].score >= w[1].score), "best first");
    got.sort();
    assert_eq!(got, holders);
    assert!(!matches.truncated);
    let one_only: CallMatchesReplyV1 = parse(ask(&h, "call-matches", json!({"call_id": OCEAN_CALL, "limit": 1})).await);
    assert_eq!(one_only.organisations.len(), 1);
    assert_eq!(one_only.truncated, holders.len() > 1);

    // A re-sync: every active recommendation, page by page, is what the consumer view holds.
    let mut after: Option<String> = None;
    let mut snapshot = Vec::new();
    let mut pages = 0;
    loop {
        let page: SnapshotReplyV1 = parse(ask(&h, "snapshot", json!({"after": after, "limit": 3})).await);
        assert!(page.recommendations.len() <= 3);
        snapshot.extend(page.recommendations.iter().map(|r| (r.recommendation_id.clone(), r.revision)));
        pages += 1;
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    let mut want: Vec<(String, u32)> =
        view.iter().filter(|(_, (_, active))| *active).map(|(id, (rev, _))| (id.clone(), *rev)).collect();
    want.sort();
    assert!(snapshot.windows(2).all(|w| w[0].0 < w[1].0), "in id order, no repeats");
    assert_eq!(snapshot, want);
    assert!(pages > 1, "paged");

    // Counts.
    let stats: StatsReplyV1 = parse(ask(&h, "stats", json!({})).await);
    assert_eq!((stats.organisations, stats.calls, stats.outbox_backlog), (2, 2, 0));
    let active = view.values().filter(|(_, a)| *a).count() as u64;
    assert_eq!(stats.active_recommendations.values().sum::<u64>(), active);

    // Refusals: every faulty field named; unknown ids are 404.
    let (code, status) =
        ask(&h, "recommendations", json!({"organisation_id": 5, "kind": "x", "extra": 1})).await.expect_err("refused");
    assert_eq!(code, "400");
    for field in ["organisation_id", "kind", "\"extra\""] {
        assert!(status.contains(field), "{field} not named in {status}");
    }
    let (code, _) = ask(&h, "recommendations", json!({"organisation_id": "nobody"})).await.expect_err("unknown");
    assert_eq!(code, "404");
    let (code, _) =
        ask(&h, "recommendation", json!({"recommendation_id": uuid::Uuid::new_v4()})).await.expect_err("404");
    assert_eq!(code, "404");

    cancel.cancel();
    service.await.expect("task").expect("the service stops cleanly");
    h.stop().await;
}
