//! Matcher replicas as an operator runs them: `brygga serve --role matcher` processes sharing
//! four partitions over a real nats-server and PostgreSQL (issue 10). One run has one matcher;
//! the other has two, one of them killed with SIGKILL in the middle of the burst. Both must end
//! with the same recommendations, none published twice, the consumers' view equal to the store.

use brygga_bus::Bus;
use brygga_domain::{Catalogue, Index, RankerConfig};
use brygga_events::subject::{self, Stream};
use brygga_events::{types, CloudEvent, RecommendationV1};
use brygga_store::Store;
use brygga_testkit::fixtures::{call, consumer_view, org};
use brygga_testkit::{Backend, TestDb, TestNats};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

const PARTITIONS: u16 = 4;
/// `ranker.min_score_delta` by default: smaller score moves are not published.
const MIN_SCORE_DELTA: u8 = 5;

/// What a run ends with: the active recommendations (id → target and score).
type Active = BTreeMap<String, (String, u8)>;

/// Phrases organisations and calls are written from: five themes of the region's strategy.
const THEMES: [&[&str]; 5] = [
    &["marine sensors for the Baltic Sea", "underwater robotics and ocean observation", "offshore wind foundations"],
    &["metal forming and automation", "additive manufacturing of components", "industrial robots on the factory floor"],
    &["digital twins of cities", "cyber security for public services", "artificial intelligence for health care"],
    &["climate adaptation of coastal towns", "flood protection and storm water", "heat waves and urban greening"],
    &[
        "precision agriculture and soil health",
        "aquaculture of mussels and seaweed",
        "forestry and bio-based materials",
    ],
];

/// Organisation `i`: two themes, two phrases of each, English or Swedish.
fn org_text(i: usize, salt: usize) -> String {
    let (a, b) = (THEMES[i % 5], THEMES[(i / 5 + salt) % 5]);
    format!("We work on {} and {}, and on {} and {}.", a[i % 3], a[(i + 1) % 3], b[(i + salt) % 3], b[(i + 2) % 3])
}

/// One inbound event: subject, type, data.
type Inbound = (String, &'static str, Value);

/// The workload, in publishing order: (subject action, type, data), split where the kill comes.
fn workload(p: &str) -> (Vec<Inbound>, Vec<Inbound>) {
    let (o, c) = (|a: &str| subject::inbound_organisation(p, a), |a: &str| subject::inbound_call(p, a));
    let mut first = Vec::new();
    for (t, theme) in THEMES.iter().enumerate() {
        for (j, phrase) in theme.iter().enumerate() {
            let id = format!("CALL-{t}-{j}");
            let body = format!("Projects on {phrase}, with pilots across Europe.");
            first.push((c("published"), types::CALL_PUBLISHED, call(&id, 1, phrase, &body, "2027-03-01")));
        }
    }
    for i in 0..60 {
        first.push((
            o("registered"),
            types::ORGANISATION_REGISTERED,
            org(&format!("org-{i}"), 1, "en", &org_text(i, 0), &[]),
        ));
    }
    let mut rest = Vec::new();
    for i in 60..120 {
        rest.push((
            o("registered"),
            types::ORGANISATION_REGISTERED,
            org(&format!("org-{i}"), 1, "en", &org_text(i, 0), &[]),
        ));
    }
    for i in (0..120).step_by(6) {
        rest.push((o("updated"), types::ORGANISATION_UPDATED, org(&format!("org-{i}"), 2, "en", &org_text(i, 2), &[])));
    }
    for i in [7, 33, 91] {
        rest.push((
            o("removed"),
            types::ORGANISATION_REMOVED,
            serde_json::json!({"id": format!("org-{i}"), "version": 3}),
        ));
    }
    rest.push((c("closed"), types::CALL_CLOSED, serde_json::json!({"id": "CALL-0-0", "version": 2})));
    (first, rest)
}

struct Cluster<'a> {
    nats: &'a TestNats,
    db: TestDb,
    prefix: String,
    bus: Bus,
    store: Store,
    dirs: Vec<tempfile::TempDir>,
    matchers: BTreeMap<String, Child>,
    others: Vec<Child>,
}

impl<'a> Cluster<'a> {
    async fn start(nats: &'a TestNats) -> Self {
        let db = TestDb::new(Backend::Postgres).await;
        let prefix = brygga_testkit::prefix();
        let bus = Bus::connect(&nats.url(), &Default::default(), &prefix, Default::default(), Default::default())
            .await
            .expect("bus");
        bus.ensure_streams().await.expect("streams");
        let store = Store::connect(&db.url).await.expect("store");
        store.migrate().await.expect("migrate");
        let mut c =
            Self { nats, db, prefix, bus, store, dirs: Vec::new(), matchers: BTreeMap::new(), others: Vec::new() };
        let ingest = c.serve("ingest", None);
        c.others.push(ingest);
        c
    }

    fn serve(&mut self, role: &str, replica: Option<&str>) -> Child {
        let dir = tempfile::tempdir().expect("tmp");
        let mut envs = vec![
            ("NATS_URL", self.nats.url()),
            ("DATABASE_URL", self.db.url.clone()),
            ("BRYGGA_PREFIX", self.prefix.clone()),
            ("BRYGGA_AS_OF", "2026-08-17".into()),
            ("BRYGGA_MATCHER__PARTITIONS", PARTITIONS.to_string()),
            ("BRYGGA_MATCHER__LEASE_TTL_SECS", "3".into()),
            ("BRYGGA_MATCHER__CONVERGE_AFTER_SECS", "1".into()),
            ("BRYGGA_CONSUMER__ACK_WAIT_SECS", "2".into()),
            ("BRYGGA_OUTBOX_POLL_MS", "50".into()),
        ];
        if let Some(r) = replica {
            envs.push(("BRYGGA_MATCHER__REPLICA", r.to_owned()));
        }
        let (child, _) = crate::serve_as(role, dir.path(), &envs);
        self.dirs.push(dir);
        child
    }

    fn start_matcher(&mut self, name: &str) {
        let child = self.serve("matcher", Some(name));
        self.matchers.insert(name.to_owned(), child);
    }

    fn kill(&mut self, name: &str) {
        let mut child = self.matchers.remove(name).expect("running");
        child.kill().expect("SIGKILL");
        child.wait().expect("reaped");
    }

    async fn publish(&self, events: &[Inbound]) {
        for (i, (subject, ty, data)) in events.iter().enumerate() {
            let ev = CloudEvent::new(
                format!("ev-{ty}-{i}-{}", data["id"].as_str().unwrap_or_default()),
                "urn:test",
                ty,
                None,
                chrono::Utc::now(),
                data,
            );
            self.bus.publish_event(subject, &ev).await.expect("publish");
        }
    }

    /// Who holds each partition, from the lease bucket.
    async fn owners(&self) -> BTreeMap<u16, String> {
        let Ok(kv) = self.bus.jetstream().get_key_value(format!("{}_matcher", self.prefix)).await else {
            return BTreeMap::new();
        };
        let mut out = BTreeMap::new();
        for p in 0..PARTITIONS {
            if let Ok(Some(v)) = kv.get(format!("p.{p}")).await {
                out.insert(p, String::from_utf8_lossy(&v).into_owned());
            }
        }
        out
    }

    async fn wait_for_owners(&self, want: &BTreeSet<&str>) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let owners = self.owners().await;
            let names: BTreeSet<&str> = owners.values().map(String::as_str).collect();
            if owners.len() == usize::from(PARTITIONS) && names == *want {
                return;
            }
            assert!(Instant::now() < deadline, "partitions not shared by {want:?} in 30 s: {owners:?}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn backlog(&self) -> u64 {
        let mut b = self.bus.backlog(Stream::Inbound, brygga_svc_ingest::DURABLE).await.unwrap_or(1);
        for p in 0..PARTITIONS {
            let durable = brygga_svc_matcher::partition::durable(p, PARTITIONS);
            b += self.bus.backlog(Stream::Registry, &durable).await.unwrap_or(1);
        }
        b + brygga_store::outbox::backlog(self.store.db()).await.unwrap_or(1)
    }

    async fn recommendations_published(&self) -> u64 {
        self.bus.last_sequence(Stream::Recommendations).await.unwrap_or(0)
    }

    /// Waits until every consumer and the outbox are drained and no recommendation has been
    /// published for 6 s (convergence starts within 2 s of quiet and takes well under a
    /// second here).
    async fn settle(&self) {
        let deadline = Instant::now() + Duration::from_secs(120);
        let (mut quiet, mut last) = (0, u64::MAX);
        while quiet < 12 {
            assert!(Instant::now() < deadline, "did not settle in 120 s");
            tokio::time::sleep(Duration::from_millis(500)).await;
            let published = self.recommendations_published().await;
            quiet = if self.backlog().await == 0 && published == last { quiet + 1 } else { 0 };
            last = published;
        }
    }

    /// The active set, after checking that the consumers' view (folded from the stream, which
    /// panics on an id and revision seen twice) equals the store.
    async fn active(&self) -> Active {
        let recs: Vec<CloudEvent<RecommendationV1>> =
            self.bus.replay(Stream::Recommendations, None).await.expect("replay");
        let view = consumer_view(&recs);
        let for_consumers: BTreeSet<&String> = view.iter().filter(|(_, (_, a))| *a).map(|(id, _)| id).collect();
        let stored = brygga_store::recommendations::all_active(self.store.db()).await.expect("active");
        let active: Active = stored
            .into_iter()
            .map(|p| {
                (
                    p.rec.id.to_string(),
                    (format!("{} {}:{}", p.rec.org_id, p.rec.target.kind(), p.rec.target.id()), p.rec.score),
                )
            })
            .collect();
        assert_eq!(for_consumers, active.keys().collect(), "the consumers' view differs from the store");
        assert!(!active.is_empty(), "the workload recommends something");
        active
    }

    /// The oracle: what a clean index built from the store's registry recommends, as of the
    /// processes' date.
    async fn clean_run(&self) -> Active {
        let db = self.store.db();
        let calls = brygga_store::registry::calls(db).await.expect("calls");
        let orgs = brygga_store::registry::organisations(db).await.expect("organisations");
        let ids: Vec<_> = orgs.iter().map(|o| o.id.clone()).collect();
        let index = Index::with(Catalogue::shipped().0, RankerConfig::default(), calls, orgs);
        let today = chrono::NaiveDate::from_ymd_opt(2026, 8, 17).expect("date");
        ids.iter()
            .flat_map(|o| index.recommend(o, today))
            .map(|r| (r.id.to_string(), (format!("{} {}:{}", r.org_id, r.target.kind(), r.target.id()), r.score)))
            .collect()
    }

    fn stop(mut self) {
        for mut c in self.matchers.into_values().chain(self.others.drain(..)) {
            let _ = Command::new("kill").args(["-TERM", &c.id().to_string()]).status();
            let _ = c.wait();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_matcher_replicas_end_as_one_and_a_killed_one_is_taken_over() {
    let nats = brygga_testkit::nats().await;

    let mut one = Cluster::start(&nats).await;
    one.start_matcher("solo");
    one.wait_for_owners(&BTreeSet::from(["solo"])).await;
    let (first, rest) = workload(&one.prefix);
    one.publish(&first).await;
    one.publish(&rest).await;
    one.settle().await;
    let reference = one.active().await;
    assert_like_a_clean_run(&reference, &one.clean_run().await);
    one.stop();

    let mut two = Cluster::start(&nats).await;
    two.start_matcher("a");
    two.start_matcher("b");
    two.wait_for_owners(&BTreeSet::from(["a", "b"])).await;
    let (first, rest) = workload(&two.prefix);
    two.publish(&first).await;
    // Mid-burst: once recommendations flow, and while work is still pending.
    let deadline = Instant::now() + Duration::from_secs(30);
    while two.recommendations_published().await == 0 {
        assert!(Instant::now() < deadline, "no recommendation within 30 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    two.kill("a");
    two.publish(&rest).await;
    two.wait_for_owners(&BTreeSet::from(["b"])).await;
    two.settle().await;
    let survived = two.active().await;
    assert_like_a_clean_run(&survived, &two.clean_run().await);
    two.stop();
    assert_eq!(
        survived.keys().collect::<Vec<_>>(),
        reference.keys().collect::<Vec<_>>(),
        "two replicas, one killed, end with one replica's recommendations"
    );
}

/// The same recommendations as a clean run, with scores within `ranker.min_score_delta`: a
/// smaller move is not announced (README "Reliability": what is deterministic and what not).
fn assert_like_a_clean_run(active: &Active, clean: &Active) {
    let missing: Vec<_> = clean.iter().filter(|(k, _)| !active.contains_key(*k)).map(|(_, v)| v).collect();
    let extra: Vec<_> = active.iter().filter(|(k, _)| !clean.contains_key(*k)).map(|(_, v)| v).collect();
    assert!(missing.is_empty() && extra.is_empty(), "lost {missing:?}, extra {extra:?}");
    let moved: Vec<_> = clean
        .iter()
        .filter(|(id, (_, score))| active.get(*id).is_some_and(|(_, s)| s.abs_diff(*score) >= MIN_SCORE_DELTA))
        .map(|(id, r)| (r, &active[id]))
        .collect();
    assert!(moved.is_empty(), "{} of {} scores moved too far: {moved:?}", moved.len(), clean.len());
}
