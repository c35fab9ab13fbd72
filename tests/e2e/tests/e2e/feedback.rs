//! Feedback through the whole path: a `recommendation.feedback` event through ingest and the
//! registry to the matcher, which withdraws a dismissed target and does not recommend it again
//! until it changes materially; a matcher started later loads the dismissals from the store.

use super::{seed, Harness, OCEAN_CALL};
use brygga_domain::{recommendation_id, CallId, OrgId, Target};
use brygga_events::subject;
use brygga_events::types;
use brygga_testkit::fixtures::{call, consumer_view};
use brygga_testkit::Backend;
use serde_json::json;

async fn feedback(h: &Harness, org: &str, target: &Target, version: u64, kind: &str) {
    let rec = recommendation_id(&OrgId::parse(org).expect("id"), target).to_string();
    let data = json!({
        "organisation_id": org, "recommendation_id": rec, "version": version, "feedback": kind,
        "target": {"kind": target.kind(), "id": target.id()}, "reason": "not for us"
    });
    let subject = subject::inbound_recommendation(h.p(), "feedback");
    h.publish(&subject, &format!("fb-{org}-{}-{version}", target.id()), types::RECOMMENDATION_FEEDBACK, data).await;
    h.settle().await;
}

/// The score the store holds for an active recommendation (what consumers were told last).
async fn score(h: &Harness, org: &str, target: &Target) -> Option<u8> {
    let org = OrgId::parse(org).expect("id");
    let recs = brygga_store::recommendations::active_for(h.store.db(), &org).await.expect("store");
    recs.iter().find(|p| &p.rec.target == target).map(|p| p.rec.score)
}

async fn active(h: &Harness, org: &str, target: &Target) -> bool {
    let id = recommendation_id(&OrgId::parse(org).expect("id"), target).to_string();
    consumer_view(&h.recs().await).get(&id).is_some_and(|(_, active)| *active)
}

pub(super) async fn dismissed_targets_are_withdrawn_and_stay_out_until_they_change(backend: Backend) {
    let h = Harness::start(backend).await;
    seed(&h).await;
    // A call much like the ocean call: dismissing that one pulls this one down for havsoga.
    let similar = call(
        "HORIZON-MISS-2026-03-OCEAN-07",
        1,
        "Ocean technology test beds",
        "Test beds where companies trial marine sensors and ocean technology in the Baltic Sea.",
        "2026-10-15",
    );
    h.call("ev-call-7", similar).await;
    h.settle().await;
    let like = Target::Call(CallId::parse("HORIZON-MISS-2026-03-OCEAN-07").expect("id"));
    let before = score(&h, "havsoga", &like).await.expect("the similar call is recommended");
    let ocean = Target::Call(CallId::parse(OCEAN_CALL).expect("id"));
    let uni = Target::Partner(OrgId::parse("uni").expect("id"));
    assert!(active(&h, "havsoga", &ocean).await, "the ocean call is recommended to havsoga");
    assert!(active(&h, "havsoga", &uni).await, "uni is suggested to havsoga as a partner");
    // Saved: nothing changes.
    feedback(&h, "havsoga", &ocean, 1, "saved").await;
    assert!(active(&h, "havsoga", &ocean).await, "a saved call stays");
    // Dismissed: withdrawn, for havsoga only.
    feedback(&h, "havsoga", &ocean, 2, "dismissed").await;
    assert!(!active(&h, "havsoga", &ocean).await, "a dismissed call is withdrawn");
    let after = score(&h, "havsoga", &like).await.expect("still recommended");
    eprintln!("havsoga, the similar call: {before} before the dismissal, {after} after");
    assert!(after < before, "a call like the dismissed one ranks lower: {before} → {after}");
    assert!(active(&h, "uni", &Target::Call(CallId::parse(OCEAN_CALL).expect("id"))).await, "uni keeps it");
    let withdrawn = h.recs().await.into_iter().rfind(|e| {
        e.data.target.id == OCEAN_CALL && e.data.organisation_id == "havsoga" && e.ty == types::RECOMMENDATION_WITHDRAWN
    });
    let w = withdrawn.expect("a withdrawn event");
    assert!(
        w.data.caused_by.iter().any(|c| c.starts_with("fb-havsoga")),
        "caused by the feedback: {:?}",
        w.data.caused_by
    );
    // A reworded call is not a material change: it stays out.
    let reworded = call(
        OCEAN_CALL,
        2,
        "Ocean technology testing sites",
        "Reworded: marine sensors and ocean technology test sites in the Baltic Sea.",
        "2026-09-23",
    );
    h.publish(&subject::inbound_call(h.p(), "updated"), "ev-call-1-v2", types::CALL_UPDATED, reworded).await;
    h.settle().await;
    assert!(!active(&h, "havsoga", &ocean).await, "still out after a rewording");
    // A new deadline is: recommended again.
    let moved = call(
        OCEAN_CALL,
        3,
        "Ocean technology testing sites",
        "Reworded: marine sensors and ocean technology test sites in the Baltic Sea.",
        "2026-10-30",
    );
    h.publish(&subject::inbound_call(h.p(), "updated"), "ev-call-1-v3", types::CALL_UPDATED, moved).await;
    h.settle().await;
    assert!(active(&h, "havsoga", &ocean).await, "a call whose deadline moved is recommended again");
    // Not relevant (a partner): withdrawn, and a matcher loaded later from the store knows it.
    feedback(&h, "havsoga", &uni, 1, "not_relevant").await;
    assert!(!active(&h, "havsoga", &uni).await, "a partner found not relevant is withdrawn");
    let (catalogue, _) = brygga_domain::Catalogue::shipped();
    let later =
        brygga_svc_matcher::Matcher::load(h.store.clone(), catalogue, h.p(), Default::default(), h.clock.clone(), 0, 1)
            .await
            .expect("load");
    let havsoga = OrgId::parse("havsoga").expect("id");
    assert!(later.read_index(|ix| ix.is_dismissed(&havsoga, &uni)).await, "the dismissal is loaded from the store");
    assert!(!later.read_index(|ix| ix.is_dismissed(&havsoga, &ocean)).await, "the lapsed one is not");
    // Removing the organisation erases its feedback (reasons in its own words).
    let removed = json!({"id": "havsoga", "version": 2});
    h.publish(&subject::inbound_organisation(h.p(), "removed"), "ev-rm", types::ORGANISATION_REMOVED, removed).await;
    h.settle().await;
    assert!(brygga_store::feedback::of_organisation(h.store.db(), "havsoga").await.expect("read").is_empty());
    h.stop().await;
}
