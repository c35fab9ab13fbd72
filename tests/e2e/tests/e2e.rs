//! End to end: ingest and matcher in-process on a private nats-server (2.10+) and a real
//! database (SQLite and PostgreSQL). Events go in on the inbound subjects; the assertions
//! read what comes out on the recommendation and dead-letter subjects.

use brygga_bus::{Bus, ConsumerStats};
use brygga_domain::{recommendation_id, Catalogue, ManualClock, OrgId, RankerConfig, Target};
use brygga_events::subject::{self, Stream};
use brygga_events::{types, CloudEvent, DeadLetterV1, RecommendationV1};
use brygga_runtime::{ConsumerSettings, StreamSettings};
use brygga_store::Store;
use brygga_svc_ingest::Ingest;
use brygga_svc_matcher::{Loops, Matcher, Partitioning};
use brygga_testkit::fixtures::{call, consumer_view, org};
use brygga_testkit::{Backend, TestDb, TestNats};
use chrono::NaiveDate;
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

#[path = "e2e/query.rs"]
mod query;
use query::the_query_service_answers_from_the_store;
#[path = "e2e/trace.rs"]
mod trace;
use trace::a_trace_is_followed_from_an_inbound_event_to_its_recommendations;
#[path = "e2e/cloudevents_sdk.rs"]
mod cloudevents_sdk;
use cloudevents_sdk::events_from_the_cloudevents_sdk_are_accepted_in_both_modes;
#[path = "e2e/otlp.rs"]
mod otlp;
use otlp::the_hops_of_a_trace_are_exported_as_otlp_spans;
#[path = "e2e/feedback.rs"]
mod feedback;
use feedback::dismissed_targets_are_withdrawn_and_stay_out_until_they_change;
#[path = "e2e/notify.rs"]
mod notify;
use notify::{
    digests_fold_a_week_and_reminders_come_14_7_and_1_days_before,
    notifications_go_by_email_once_and_never_without_consent,
    webhooks_are_signed_retried_after_5xx_and_dead_lettered_after_4xx,
};

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

struct Harness {
    _nats: TestNats,
    _db: TestDb,
    bus: Bus,
    store: Store,
    matcher: Arc<Matcher>,
    clock: Arc<ManualClock>,
    ingest_stats: Arc<ConsumerStats>,
    cancel: CancellationToken,
    tasks: Vec<tokio::task::JoinHandle<Result<(), brygga_bus::BusError>>>,
}

impl Harness {
    async fn start(backend: Backend) -> Self {
        Self::start_with(backend, None).await
    }

    /// As [`Harness::start`], with the services exporting the hops of traced events to `hops`.
    async fn start_with(backend: Backend, hops: Option<Arc<brygga_runtime::otlp::Hops>>) -> Self {
        let nats = brygga_testkit::nats().await;
        let db = TestDb::new(backend).await;
        let prefix = brygga_testkit::prefix();
        let consumers =
            ConsumerSettings { max_deliver: 3, ack_wait_secs: 5, backoff_ms: vec![50, 100], ..Default::default() };
        let bus = Bus::connect(&nats.url(), &Default::default(), &prefix, StreamSettings::default(), consumers)
            .await
            .expect("bus");
        bus.ensure_streams().await.expect("streams");
        bus.ensure_streams().await.expect("ensure_streams is idempotent");
        let store = Store::connect(&db.url).await.expect("store");
        store.migrate().await.expect("migrate");
        let (catalogue, _) = Catalogue::shipped();
        let clock = Arc::new(ManualClock::on(date("2026-08-17")));
        let matcher = Arc::new(
            Matcher::load(store.clone(), catalogue, &prefix, RankerConfig::default(), clock.clone(), 0, 1)
                .await
                .expect("matcher")
                .exporting(hops.clone()),
        );
        let cancel = CancellationToken::new();
        let ingest_stats = Arc::new(ConsumerStats::default());
        let ingest = Ingest {
            store: store.clone(),
            prefix: prefix.clone(),
            max_event_bytes: 16 * 1024,
            wake: Arc::new(Notify::new()),
            hops,
        };
        let poll = brygga_relay::Timing { poll: Duration::from_millis(50), retention: Duration::from_secs(3600) };
        // Convergence is left to the replica tests (crates/cli/tests/it/replicas.rs): here each
        // test counts the events it causes.
        let loops = Loops {
            outbox: poll,
            sweep_interval: Duration::from_secs(3600),
            converge_after: Duration::from_secs(3600),
        };
        let tasks = vec![
            tokio::spawn({
                let run = brygga_svc_ingest::run(bus.clone(), ingest, poll, ingest_stats.clone(), cancel.clone());
                async move {
                    run.await;
                    Ok(())
                }
            }),
            tokio::spawn(brygga_svc_matcher::run(
                bus.clone(),
                matcher.clone(),
                loops,
                Partitioning { replica: format!("{prefix}-matcher"), lease_ttl: Duration::from_secs(10) },
                Arc::new(ConsumerStats::default()),
                cancel.clone(),
            )),
        ];
        Self { _nats: nats, _db: db, bus, store, matcher, clock, ingest_stats, cancel, tasks }
    }

    fn p(&self) -> &str {
        self.bus.prefix()
    }

    async fn publish(&self, subject: &str, id: &str, ty: &str, data: Value) {
        let ev = CloudEvent::new(id, "urn:test", ty, None, chrono::Utc::now(), data);
        self.bus.publish_event(subject, &ev).await.expect("publish");
    }

    async fn org(&self, id: &str, data: Value) {
        self.publish(&subject::inbound_organisation(self.p(), "registered"), id, types::ORGANISATION_REGISTERED, data)
            .await;
    }

    async fn call(&self, id: &str, data: Value) {
        self.publish(&subject::inbound_call(self.p(), "published"), id, types::CALL_PUBLISHED, data).await;
    }

    /// Waits until inbound, registry and outbox are all drained.
    async fn settle(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut quiet = 0;
        while quiet < 3 {
            assert!(Instant::now() < deadline, "did not settle in 30 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
            let b = self.bus.backlog(Stream::Inbound, brygga_svc_ingest::DURABLE).await.unwrap_or(1)
                + self.bus.backlog(Stream::Registry, brygga_svc_matcher::DURABLE).await.unwrap_or(1)
                + brygga_store::outbox::backlog(self.store.db()).await.unwrap_or(1);
            quiet = if b == 0 { quiet + 1 } else { 0 };
        }
    }

    async fn read<T: serde::de::DeserializeOwned>(&self, stream: Stream, filter: &str) -> Vec<CloudEvent<T>> {
        self.bus.replay(stream, Some(filter)).await.expect("replay")
    }

    async fn recs(&self) -> Vec<CloudEvent<RecommendationV1>> {
        self.read(Stream::Recommendations, &subject::recommendations_all(self.p())).await
    }

    async fn stop(self) {
        self.cancel.cancel();
        for t in self.tasks {
            t.await.expect("task").expect("service ended cleanly");
        }
    }
}

/// The seeded Swedish marine-sensor organisation, version 1.
fn havsoga() -> Value {
    org(
        "havsoga",
        1,
        "sv",
        "Vi bygger marine sensors för havet och Östersjön, ocean technology.",
        &["marine sensors", "ocean"],
    )
}

const OCEAN_CALL: &str = "HORIZON-MISS-2026-03-OCEAN-04";

async fn seed(h: &Harness) {
    h.call(
        "ev-call-1",
        call(
            OCEAN_CALL,
            1,
            "Ocean technology testing sites",
            "Test sites where companies trial marine sensors and ocean technology in the Baltic Sea.",
            "2026-09-23",
        ),
    )
    .await;
    h.call(
        "ev-call-2",
        call(
            "HORIZON-CL4-2027-01-MAT-PROD-02",
            1,
            "Advanced manufacturing",
            "Metal forming and automation in factories.",
            "2027-02-02",
        ),
    )
    .await;
    h.org("ev-org-1", havsoga()).await;
    h.org(
        "ev-org-2",
        org(
            "uni",
            1,
            "en",
            "University research on ocean sensors and marine technology testing.",
            &["marine technology"],
        ),
    )
    .await;
    h.settle().await;
}

/// An organisation registered after another was handled enters that one's partner list: the
/// lists the feed closed when it applied the first one's event are open again once that
/// event's re-rank is committed. Convergence, which would tell every list's bar again, is off
/// in this harness.
async fn a_later_organisation_enters_the_lists_of_those_ranked_before_it(backend: Backend) {
    let h = Harness::start(backend).await;
    h.org("ev-org-1", havsoga()).await;
    h.settle().await;
    // Its update comes once the worker runs (a worker opens its partition's lists when it
    // starts, which may be after the first event reached the index).
    let mut update = havsoga();
    update["version"] = json!(2);
    let updated = subject::inbound_organisation(h.p(), "updated");
    h.publish(&updated, "ev-org-1b", types::ORGANISATION_UPDATED, update).await;
    h.settle().await;
    let text = "University research on ocean sensors and marine technology testing.";
    h.org("ev-org-2", org("uni", 1, "en", text, &["marine technology"])).await;
    h.settle().await;
    let recs = h.recs().await;
    let partner = |of: &str, p: &str| {
        recs.iter().any(|e| e.data.organisation_id == of && e.data.target.kind == "partner" && e.data.target.id == p)
    };
    assert!(partner("uni", "havsoga"), "havsoga is a partner of uni");
    assert!(partner("havsoga", "uni"), "uni entered the partner list of havsoga, ranked before it");
    h.stop().await;
}

async fn publishes_explained_recommendations(backend: Backend) {
    let h = Harness::start(backend).await;
    seed(&h).await;
    let recs = h.recs().await;
    let org = OrgId::parse("havsoga").expect("id");
    let target = Target::Call(brygga_domain::CallId::parse(OCEAN_CALL).expect("id"));
    let want_id = recommendation_id(&org, &target).to_string();
    let rec = recs.iter().find(|e| e.data.recommendation_id == want_id).expect("org → ocean call recommended");
    let d = &rec.data;
    assert_eq!(rec.ty, types::RECOMMENDATION_CREATED);
    assert_eq!(
        (d.organisation_id.as_str(), d.target.kind.as_str(), d.target.id.as_str()),
        ("havsoga", "call", OCEAN_CALL)
    );
    assert_eq!(d.target.url.as_deref(), Some("https://example.org/HORIZON-MISS-2026-03-OCEAN-04"));
    assert!(d.score >= RankerConfig::default().floor && d.score <= 100);
    assert_eq!(d.deadline.as_deref(), Some("2026-09-23"));
    assert_eq!(d.explanation.language, "sv", "explained in the organisation's language");
    assert!(d.explanation.summary.contains("Sista ansökningsdag"), "{}", d.explanation.summary);
    assert!(
        d.explanation.eligibility.iter().any(|l| l.criterion == "organisation_kind" && l.status == "unknown"),
        "unknown is shown"
    );
    assert!(!d.explanation.matched_terms.is_empty());
    assert!(d.explanation.evidence.as_deref().is_some_and(|e| e.contains("sensors")), "{:?}", d.explanation.evidence);
    assert_eq!(d.explanation.ranker_version, brygga_domain::RANKER_VERSION);
    assert!(d.caused_by.iter().any(|c| c.starts_with("ev-")), "caused_by names an inbound event: {:?}", d.caused_by);
    // Every kind of target is recommended, and partners are never the organisation itself.
    for kind in ["mission", "s3_area", "call", "partner"] {
        assert!(
            recs.iter().any(|e| e.data.organisation_id == "havsoga" && e.data.target.kind == kind),
            "no {kind} recommendation"
        );
    }
    assert!(!recs.iter().any(|e| e.data.target.kind == "partner" && e.data.target.id == e.data.organisation_id));
    // Recommendation subjects carry the organisation id: one organisation can be followed alone.
    let only = h.read::<RecommendationV1>(Stream::Recommendations, &subject::recommendations_for(h.p(), "uni")).await;
    assert!(!only.is_empty() && only.iter().all(|e| e.data.organisation_id == "uni"));
    // No event id twice.
    let mut ids: Vec<_> = recs.iter().map(|e| e.id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), recs.len());
    h.stop().await;
}

async fn redelivery_and_repeats_do_not_duplicate(backend: Backend) {
    let h = Harness::start(backend).await;
    seed(&h).await;
    let before = h.recs().await.len();
    // The same event again (JetStream dedup), the same state under a new event id (stale
    // version), and an older version: nothing new may be published.
    h.org("ev-org-1", org("havsoga", 1, "sv", "x", &[])).await;
    h.org("ev-org-1-again", havsoga()).await;
    h.org("ev-org-1-old", org("havsoga", 0, "sv", "something else", &[])).await;
    // A matcher restart re-reads the registry and recomputes: still nothing new.
    h.matcher.sweep(&h.matcher.all_partitions()).await.expect("sweep");
    h.settle().await;
    assert_eq!(h.recs().await.len(), before, "no duplicates on redelivery, repeats or recomputation");
    h.stop().await;
}

async fn closing_a_call_and_passing_deadlines_withdraw(backend: Backend) {
    let h = Harness::start(backend).await;
    seed(&h).await;
    h.publish(
        &subject::inbound_call(h.p(), "closed"),
        "ev-close",
        types::CALL_CLOSED,
        json!({"id": OCEAN_CALL, "version": 2}),
    )
    .await;
    h.settle().await;
    let recs = h.recs().await;
    let withdrawn: Vec<_> = recs.iter().filter(|e| e.ty == types::RECOMMENDATION_WITHDRAWN).collect();
    assert!(withdrawn.iter().any(|e| e.data.target.id == OCEAN_CALL && e.data.organisation_id == "havsoga"));
    let w = withdrawn.iter().find(|e| e.data.target.id == OCEAN_CALL).expect("withdrawn");
    assert!(w.data.caused_by.contains(&"ev-close".to_owned()));
    assert!(
        w.data.explanation.summary.contains("stängd") || w.data.explanation.summary.contains("closed"),
        "{}",
        w.data.explanation.summary
    );
    assert!(w.data.revision >= 2);

    // The manufacturing call's deadline passes: the sweep withdraws what was recommended.
    let active_before = recs.iter().filter(|e| e.data.target.id == "HORIZON-CL4-2027-01-MAT-PROD-02").count();
    h.clock.set(date("2027-02-03"));
    h.matcher.sweep(&h.matcher.all_partitions()).await.expect("sweep");
    h.settle().await;
    let after = h.recs().await;
    let gone = after
        .iter()
        .filter(|e| e.ty == types::RECOMMENDATION_WITHDRAWN && e.data.target.id == "HORIZON-CL4-2027-01-MAT-PROD-02")
        .count();
    assert_eq!(gone, active_before, "every recommendation of the expired call is withdrawn");
    h.stop().await;
}

/// Clock jumps around deadlines: a call with two deadlines keeps its recommendations when the
/// first passes (now naming the second), loses them when the second does, and a clock that
/// jumps back before it brings them back at the next revision; nothing reaches consumers twice
/// and their view equals the store throughout.
async fn clock_jumps_around_deadlines_lose_and_double_nothing(backend: Backend) {
    let h = Harness::start(backend).await;
    seed(&h).await;
    let two = "HORIZON-MISS-2026-05-OCEAN-09";
    let mut c = call(
        two,
        1,
        "Ocean sensor testbeds",
        "Marine sensors and ocean technology testing in the Baltic Sea.",
        "2026-09-01",
    );
    c["deadlines"] = json!(["2026-09-01", "2026-12-01"]);
    h.call("ev-two-deadlines", c).await;
    h.settle().await;
    let org = OrgId::parse("havsoga").expect("id");
    let rec_id = recommendation_id(&org, &Target::Call(brygga_domain::CallId::parse(two).expect("id"))).to_string();
    let latest = |recs: &[CloudEvent<RecommendationV1>]| {
        recs.iter()
            .filter(|e| e.data.recommendation_id == rec_id)
            .max_by_key(|e| e.data.revision)
            .cloned()
            .expect("recommended")
    };
    let first = latest(&h.recs().await);
    assert_eq!(first.data.deadline.as_deref(), Some("2026-09-01"));
    let all = h.matcher.all_partitions();
    // Past the first deadline: still recommended, now with the second.
    h.clock.set(date("2026-09-02"));
    h.matcher.sweep(&all).await.expect("sweep");
    h.settle().await;
    let moved = latest(&h.recs().await);
    assert_eq!(
        (moved.ty.as_str(), moved.data.deadline.as_deref()),
        (types::RECOMMENDATION_UPDATED, Some("2026-12-01"))
    );
    assert_consumer_view_matches_store(&h).await;
    // Past the second: withdrawn.
    h.clock.set(date("2026-12-02"));
    h.matcher.sweep(&all).await.expect("sweep");
    h.settle().await;
    assert_eq!(latest(&h.recs().await).ty, types::RECOMMENDATION_WITHDRAWN);
    assert_consumer_view_matches_store(&h).await;
    // The clock jumps back (a corrected clock): at the next convergence it is wanted again,
    // at the next revision.
    h.clock.set(date("2026-11-30"));
    h.matcher.converge(&all, &CancellationToken::new()).await.expect("converge");
    h.settle().await;
    let back = latest(&h.recs().await);
    assert_eq!(back.ty, types::RECOMMENDATION_CREATED);
    assert!(back.data.revision > moved.data.revision + 1, "revisions continue: {}", back.data.revision);
    assert_consumer_view_matches_store(&h).await;
    consumer_view(&h.recs().await); // panics on an (id, revision) published twice
    h.stop().await;
}

/// Every class of bad input is dead-lettered with its reason, and the next good event flows.
async fn poison_events_are_dead_lettered_and_the_next_is_processed(backend: Backend) {
    let h = Harness::start(backend).await;
    seed(&h).await;
    let s = subject::inbound_organisation(h.p(), "registered");
    let good = org("fresh", 1, "en", "ocean sensors for marine technology", &["marine sensors"]);
    let mut cases: Vec<(&str, Vec<u8>)> = vec![
        ("malformed_json", b"{\"specversion\": ".to_vec()),
        ("bad_envelope", serde_json::to_vec(&json!({"specversion": "1.0", "id": "x", "type": types::ORGANISATION_REGISTERED, "time": "2026-08-17T00:00:00Z", "data": {}})).expect("json")),
        ("unknown_type", env("se.brygga.organisation.exploded.v1", good.clone())),
        ("unsupported_version", env("se.brygga.organisation.registered.v7", good.clone())),
        ("oversized", env(types::ORGANISATION_REGISTERED, with(&good, "description", json!("x".repeat(20_000))))),
    ];
    for (field, bad) in [
        ("name", Value::Null),
        ("country", json!("XX")),
        ("nace", json!(["99.99"])),
        ("org_number", json!("559912-3452")),
        ("kind", json!("pirate")),
    ] {
        cases.push(("invalid_payload", env(types::ORGANISATION_REGISTERED, with(&good, field, bad))));
    }
    let bad_date = call("C-BAD", 1, "t", "d", "2026-02-30");
    let bad_call = serde_json::to_vec(&CloudEvent::new(
        "bad-date",
        "urn:test",
        types::CALL_PUBLISHED,
        None,
        chrono::Utc::now(),
        bad_date,
    ))
    .expect("json");
    for (i, (_, payload)) in cases.iter().enumerate() {
        h.bus.publish_raw(&s, &format!("bad-{i}"), "x", payload.clone().into()).await.expect("publish");
    }
    h.bus
        .publish_raw(&subject::inbound_call(h.p(), "published"), "bad-date", "x", bad_call.into())
        .await
        .expect("publish");
    h.org("ev-good-after-poison", good).await;
    h.settle().await;

    let dead = h.read::<DeadLetterV1>(Stream::DeadLetters, &subject::dead_letters_all(h.p())).await;
    let codes: Vec<&str> = dead.iter().map(|d| d.data.reason_code.as_str()).collect();
    let mut want: Vec<&str> = cases.iter().map(|(c, _)| *c).chain(["invalid_payload"]).collect();
    let mut got = codes.clone();
    want.sort();
    got.sort();
    assert_eq!(got, want, "each bad event is dead-lettered once, with its class");
    for d in &dead {
        assert_eq!(d.data.service, "ingest");
        assert!(!d.data.reason.is_empty());
        assert!(d.data.original_stream_sequence > 0);
    }
    let reasons: Vec<&str> = dead.iter().map(|d| d.data.reason.as_str()).collect();
    for needle in ["data.name: missing", "country:", "nace:", "checksum", "kind:", "not a date", "exceeds the limit"] {
        assert!(reasons.iter().any(|r| r.contains(needle)), "no dead-letter reason mentions {needle:?}: {reasons:#?}");
    }
    assert_eq!(h.ingest_stats.get()[2], dead.len() as u64, "dead letters are counted");
    assert!(
        h.recs().await.iter().any(|e| e.data.organisation_id == "fresh"),
        "the good event after the poison ones was processed"
    );
    h.stop().await;
}

/// The poison corpus (`tests/poison/`, one file per class, written by
/// `scripts/poison-corpus.py`): each is dead-lettered once with its reason code and a reason
/// naming its faulty fields, and the good event after them all is processed.
async fn poison_corpus_is_dead_lettered_with_its_reason(backend: Backend) {
    let h = Harness::start(backend).await;
    seed(&h).await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../poison");
    let mut files: Vec<_> = std::fs::read_dir(&dir).expect("tests/poison").map(|e| e.expect("entry").path()).collect();
    files.sort();
    assert!(files.len() >= 40, "at least 40 classes, found {}", files.len());
    let mut by_seq = BTreeMap::new();
    for f in &files {
        let c: Value = serde_json::from_str(&std::fs::read_to_string(f).expect("read")).expect("json");
        let payload = match c.get("payload_raw") {
            Some(Value::String(raw)) => raw.clone().into_bytes(),
            _ => serde_json::to_vec(&c["event"]).expect("event"),
        };
        let subject = format!("{}.in.v1.{}", h.p(), c["subject"].as_str().expect("subject"));
        let class = c["class"].as_str().expect("class").to_owned();
        let ack = h.bus.publish_raw(&subject, &class, "x", payload.into()).await.expect("publish");
        by_seq.insert(ack.sequence, c);
    }
    h.org("ev-good-after-corpus", org("after-corpus", 1, "en", "ocean sensors", &["marine sensors"])).await;
    h.settle().await;
    let dead = h.read::<DeadLetterV1>(Stream::DeadLetters, &subject::dead_letters_all(h.p())).await;
    let mut seen = BTreeSet::new();
    for d in &dead {
        let c = by_seq.get(&d.data.original_stream_sequence).unwrap_or_else(|| panic!("unexpected dead letter {d:?}"));
        let class = c["class"].as_str().expect("class");
        assert!(seen.insert(class.to_owned()), "{class} dead-lettered twice");
        assert_eq!(d.data.reason_code, c["reason_code"].as_str().expect("code"), "{class}: {}", d.data.reason);
        for needle in c["reason_contains"].as_array().expect("list") {
            let needle = needle.as_str().expect("text");
            assert!(d.data.reason.contains(needle), "{class}: reason {:?} lacks {needle:?}", d.data.reason);
        }
    }
    let missing: Vec<_> =
        by_seq.values().map(|c| c["class"].as_str().expect("class")).filter(|c| !seen.contains(*c)).collect();
    assert!(missing.is_empty(), "not dead-lettered (so applied): {missing:?}");
    assert!(h.recs().await.iter().any(|e| e.data.organisation_id == "after-corpus"), "the good event was processed");
    h.stop().await;
}

/// The consumer's view equals the store's active set (issue 7, bug 2: recommendations
/// withdrawn and wanted again were lost for consumers).
async fn assert_consumer_view_matches_store(h: &Harness) {
    let view = consumer_view(&h.recs().await);
    let active_for_consumers: BTreeSet<String> =
        view.iter().filter(|(_, (_, active))| *active).map(|(id, _)| id.clone()).collect();
    let in_store: BTreeSet<String> = brygga_store::recommendations::all_active(h.store.db())
        .await
        .expect("active")
        .into_iter()
        .map(|p| p.rec.id.to_string())
        .collect();
    assert_eq!(active_for_consumers, in_store, "consumer view differs from the store");
}

async fn withdrawn_and_wanted_again_reaches_consumers(backend: Backend) {
    let h = Harness::start(backend).await;
    seed(&h).await;
    let first = h.recs().await.iter().filter(|e| e.data.organisation_id == "havsoga").count();
    assert!(first > 0);
    // Consent off withdraws everything of havsoga; consent on recommends it all again.
    let mut off = havsoga();
    off["version"] = json!(2);
    off["consent"]["contact"] = json!(false);
    h.org("ev-consent-off", off).await;
    h.settle().await;
    let mut on = havsoga();
    on["version"] = json!(3);
    h.org("ev-consent-on", on).await;
    h.settle().await;
    assert_consumer_view_matches_store(&h).await;
    let again: Vec<_> = h
        .recs()
        .await
        .into_iter()
        .filter(|e| e.data.organisation_id == "havsoga" && e.data.caused_by.contains(&"ev-consent-on".to_owned()))
        .collect();
    assert!(!again.is_empty() && again.iter().all(|e| e.ty == types::RECOMMENDATION_CREATED && e.data.revision == 3));

    // Close a call, then publish it again: its recommendations come back to consumers.
    let close = json!({"id": OCEAN_CALL, "version": 2});
    h.publish(&subject::inbound_call(h.p(), "closed"), "ev-close", types::CALL_CLOSED, close).await;
    h.settle().await;
    let reopened = call(
        OCEAN_CALL,
        3,
        "Ocean technology testing sites",
        "Test sites for marine sensors and ocean technology in the Baltic Sea.",
        "2026-09-23",
    );
    h.call("ev-reopen", reopened).await;
    h.settle().await;
    assert_consumer_view_matches_store(&h).await;
    let view = consumer_view(&h.recs().await);
    let id = recommendation_id(
        &OrgId::parse("havsoga").expect("id"),
        &Target::Call(brygga_domain::CallId::parse(OCEAN_CALL).expect("id")),
    );
    assert!(view.get(&id.to_string()).is_some_and(|(r, active)| *active && *r >= 5), "{:?}", view.get(&id.to_string()));
    h.stop().await;
}

/// GDPR: `organisation.removed` erases what the store holds of the organisation (its state,
/// description included) and withdraws every recommendation it receives or appears in.
/// An operator re-publishes an organisation's active recommendations for a consumer that lost
/// them: each arrives again with its id and revision (so consumers that have it drop it), past
/// JetStream's duplicate window, and nothing else changes.
async fn republishing_sends_the_active_recommendations_again(backend: Backend) {
    let h = Harness::start(backend).await;
    seed(&h).await;
    let before = h.recs().await;
    let havsoga = brygga_domain::OrgId::parse("havsoga").expect("id");
    let active = brygga_store::recommendations::active_for(h.store.db(), &havsoga).await.expect("active");
    assert!(!active.is_empty(), "the seed recommends something to havsoga");
    let n = brygga_svc_matcher::republish(&h.bus, &h.store, &havsoga).await.expect("republish");
    assert_eq!(n, active.len());
    let after = h.recs().await;
    assert_eq!(after.len(), before.len() + n, "published again, not dropped as duplicates");
    let again = &after[before.len()..];
    for e in again {
        let first = before.iter().find(|b| b.id == e.id).expect("the same event id as before");
        assert_eq!(
            (first.data.recommendation_id.as_str(), first.data.revision),
            (e.data.recommendation_id.as_str(), e.data.revision)
        );
        assert_eq!(e.data.caused_by, vec!["republish".to_owned()]);
    }
    // A consumer that folds by (id, revision) ends where it was.
    assert_eq!(consumer_view(&before), consumer_view(&dedup(&after)));
    h.stop().await;
}

/// The events with an (id, revision) not seen before, in order: what a consumer keeps.
fn dedup(recs: &[CloudEvent<RecommendationV1>]) -> Vec<CloudEvent<RecommendationV1>> {
    let mut seen = BTreeSet::new();
    recs.iter().filter(|e| seen.insert((e.data.recommendation_id.clone(), e.data.revision))).cloned().collect()
}

async fn removing_an_organisation_erases_it_and_withdraws_everything(backend: Backend) {
    let h = Harness::start(backend).await;
    seed(&h).await;
    let id = OrgId::parse("havsoga").expect("id");
    let stored = brygga_store::registry::organisation_data(h.store.db(), &id).await.expect("read");
    assert!(stored.is_some_and(|d| d.contains("marine sensors")), "held before removal");
    let recs = h.recs().await;
    assert!(recs.iter().any(|e| e.data.target.kind == "partner" && e.data.target.id == "havsoga"), "a partner of uni");
    let removed = json!({"id": "havsoga", "version": 2, "reason": "erasure request"});
    h.publish(&subject::inbound_organisation(h.p(), "removed"), "ev-erase", types::ORGANISATION_REMOVED, removed).await;
    h.settle().await;
    assert_eq!(brygga_store::registry::organisation_data(h.store.db(), &id).await.expect("read"), None);
    let active = brygga_store::recommendations::all_active(h.store.db()).await.expect("active");
    assert!(
        !active.iter().any(|p| p.rec.org_id == id || p.rec.target == Target::Partner(id.clone())),
        "nothing active for or about the removed organisation"
    );
    assert_consumer_view_matches_store(&h).await;
    // An older registration cannot bring it back.
    h.org("ev-late", havsoga()).await;
    h.settle().await;
    assert_eq!(brygga_store::registry::organisation_data(h.store.db(), &id).await.expect("read"), None);
    h.stop().await;
}

/// Issue 7, bug 4: a version of 2^63 or more was clamped to i64::MAX, after which the entity
/// could never change again. It is refused, naming the field, and the entity stays changeable.
async fn versions_beyond_i64_are_refused(backend: Backend) {
    let h = Harness::start(backend).await;
    seed(&h).await;
    let mut huge = havsoga();
    huge["version"] = json!(9_223_372_036_854_775_808u64);
    h.org("ev-huge", huge).await;
    let removed = json!({"id": "uni", "version": 18_446_744_073_709_551_615u64});
    h.publish(&subject::inbound_organisation(h.p(), "removed"), "ev-huge-rm", types::ORGANISATION_REMOVED, removed)
        .await;
    h.settle().await;
    let dead = h.read::<DeadLetterV1>(Stream::DeadLetters, &subject::dead_letters_all(h.p())).await;
    assert_eq!(dead.len(), 2, "{dead:#?}");
    for d in &dead {
        assert_eq!(d.data.reason_code, "invalid_payload");
        assert!(d.data.reason.contains("version"), "{}", d.data.reason);
    }
    // The organisation can still be withdrawn from (consent off at the next real version).
    let mut off = havsoga();
    off["version"] = json!(2);
    off["consent"]["contact"] = json!(false);
    h.org("ev-off", off).await;
    h.settle().await;
    let o = OrgId::parse("havsoga").expect("id");
    assert!(brygga_store::recommendations::active_for(h.store.db(), &o).await.expect("active").is_empty());
    h.stop().await;
}

/// A shutdown does not wait for a convergence (a re-rank of every organisation held, minutes
/// at 100,000): cancelled, it stops before its next chunk and leaves the rankings to be
/// converged again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_convergence_stops_and_leaves_the_rankings_to_converge() {
    let h = Harness::start(Backend::Sqlite).await;
    h.org("ev-org-1", havsoga()).await;
    h.settle().await;
    let all = h.matcher.all_partitions();
    assert!(h.matcher.needs_converging().await, "a batch was handled");
    let stopped = CancellationToken::new();
    stopped.cancel();
    assert_eq!(h.matcher.converge(&all, &stopped).await.expect("converge"), 0, "nothing re-ranked");
    assert!(h.matcher.needs_converging().await, "still to be converged");
    h.matcher.converge(&all, &CancellationToken::new()).await.expect("converge");
    assert!(!h.matcher.needs_converging().await, "converged");
}

/// Issue 10: each ingest replica used to relay every outbox row (relying on the duplicate
/// window). Three replicas on one PostgreSQL database: every registry row reaches the bus once
/// (counted on a plain subscription, which sees duplicates that JetStream would drop), and
/// published rows are deleted after the retention.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_replicas_publish_each_outbox_row_once_and_clean_up() {
    let nats = brygga_testkit::nats().await;
    let db = TestDb::new(Backend::Postgres).await;
    let prefix = brygga_testkit::prefix();
    let bus =
        Bus::connect(&nats.url(), &Default::default(), &prefix, StreamSettings::default(), ConsumerSettings::default())
            .await
            .expect("bus");
    bus.ensure_streams().await.expect("streams");
    let store = Store::connect(&db.url).await.expect("store");
    store.migrate().await.expect("migrate");
    let mut seen = bus.client().subscribe(subject::registry_all(&prefix)).await.expect("subscribe");
    let cancel = CancellationToken::new();
    let timing = brygga_relay::Timing { poll: Duration::from_millis(20), retention: Duration::ZERO };
    let mut tasks = Vec::new();
    for _ in 0..3 {
        let bus = Bus::connect(
            &nats.url(),
            &Default::default(),
            &prefix,
            StreamSettings::default(),
            ConsumerSettings::default(),
        )
        .await
        .expect("bus");
        let ingest = Ingest {
            store: store.clone(),
            prefix: prefix.clone(),
            max_event_bytes: 16 * 1024,
            wake: Arc::new(Notify::new()),
            hops: None,
        };
        tasks.push(tokio::spawn(brygga_svc_ingest::run(
            bus,
            ingest,
            timing,
            Arc::new(ConsumerStats::default()),
            cancel.clone(),
        )));
    }
    const N: usize = 300;
    for i in 0..N {
        let o = org(&format!("o{i}"), 1, "en", "marine sensors", &[]);
        let ev =
            CloudEvent::new(format!("ev-{i}"), "urn:test", types::ORGANISATION_REGISTERED, None, chrono::Utc::now(), o);
        bus.publish_event(&subject::inbound_organisation(&prefix, "registered"), &ev).await.expect("publish");
    }
    let mut ids = BTreeSet::new();
    let mut copies = 0;
    let deadline = Instant::now() + Duration::from_secs(30);
    while ids.len() < N && Instant::now() < deadline {
        if let Ok(Some(m)) = tokio::time::timeout(Duration::from_millis(500), seen.next()).await {
            copies += 1;
            ids.insert(m.headers.and_then(|h| h.get("Nats-Msg-Id").map(|v| v.to_string())).expect("msg id"));
        }
    }
    // Late duplicates would arrive within a few relay polls.
    while let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(500), seen.next()).await {
        copies += 1;
    }
    assert_eq!((ids.len(), copies), (N, N), "every registry row published exactly once by three replicas");
    let deadline = Instant::now() + Duration::from_secs(10);
    while brygga_store::outbox::rows(store.db()).await.expect("rows") > 0 {
        assert!(Instant::now() < deadline, "published rows were not deleted");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    cancel.cancel();
    for t in tasks {
        t.await.expect("ingest ended cleanly");
    }
}

fn env(ty: &str, data: Value) -> Vec<u8> {
    serde_json::to_vec(&CloudEvent::new(
        uuid::Uuid::new_v4().to_string(),
        "urn:test",
        ty,
        None,
        chrono::Utc::now(),
        data,
    ))
    .expect("json")
}

fn with(v: &Value, field: &str, value: Value) -> Value {
    let mut v = v.clone();
    if value.is_null() {
        v.as_object_mut().expect("object").remove(field);
    } else {
        v[field] = value;
    }
    v
}

macro_rules! on_both {
    ($($name:ident),*) => {
        mod sqlite { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(brygga_testkit::Backend::Sqlite).await } )* }
        mod postgres { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(brygga_testkit::Backend::Postgres).await } )* }
    };
}

on_both!(
    publishes_explained_recommendations,
    a_later_organisation_enters_the_lists_of_those_ranked_before_it,
    redelivery_and_repeats_do_not_duplicate,
    closing_a_call_and_passing_deadlines_withdraw,
    poison_events_are_dead_lettered_and_the_next_is_processed,
    withdrawn_and_wanted_again_reaches_consumers,
    versions_beyond_i64_are_refused,
    republishing_sends_the_active_recommendations_again,
    poison_corpus_is_dead_lettered_with_its_reason,
    removing_an_organisation_erases_it_and_withdraws_everything,
    the_query_service_answers_from_the_store,
    a_trace_is_followed_from_an_inbound_event_to_its_recommendations,
    events_from_the_cloudevents_sdk_are_accepted_in_both_modes,
    the_hops_of_a_trace_are_exported_as_otlp_spans,
    clock_jumps_around_deadlines_lose_and_double_nothing,
    notifications_go_by_email_once_and_never_without_consent,
    webhooks_are_signed_retried_after_5xx_and_dead_lettered_after_4xx,
    digests_fold_a_week_and_reminders_come_14_7_and_1_days_before,
    dismissed_targets_are_withdrawn_and_stay_out_until_they_change
);
