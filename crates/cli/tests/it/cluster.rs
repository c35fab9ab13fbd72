//! The harness of the process-level tests (replicas, faults): `brygga serve` processes of any
//! role on one nats-server and one PostgreSQL database, a workload with its expected registry,
//! and the oracle: what a clean index built from that registry recommends, compared with the
//! store and with the consumers' view folded from the recommendation stream.

use brygga_bus::Bus;
use brygga_domain::{Call, Catalogue, Index, Organisation, RankerConfig};
use brygga_events::subject::{self, Stream};
use brygga_events::{types, CallV1, CloudEvent, OrganisationV1, RecommendationV1};
use brygga_store::Store;
use brygga_testkit::fixtures::{call, consumer_view, org};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::time::{Duration, Instant};

/// `ranker.min_score_delta` by default: smaller score moves are not published.
pub const MIN_SCORE_DELTA: u8 = 5;

/// The date every process evaluates deadlines on (`BRYGGA_AS_OF`).
const AS_OF: &str = "2026-08-17";

/// What a run ends with: the active recommendations (id → "org kind:target" and score).
pub type Active = BTreeMap<String, (String, u8)>;

/// One inbound event: subject, type, data.
pub type Inbound = (String, &'static str, Value);

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

/// Organisation `i`: two themes, two phrases of each.
fn org_text(i: usize, salt: usize) -> String {
    let (a, b) = (THEMES[i % 5], THEMES[(i / 5 + salt) % 5]);
    format!("We work on {} and {}, and on {} and {}.", a[i % 3], a[(i + 1) % 3], b[(i + salt) % 3], b[(i + 2) % 3])
}

/// The workload, in publishing order: 15 calls, `orgs` organisations, an update of every sixth,
/// three removals and a call closed. Split in two halves at the middle organisation.
pub fn workload(p: &str, orgs: usize) -> (Vec<Inbound>, Vec<Inbound>) {
    let (o, c) = (|a: &str| subject::inbound_organisation(p, a), |a: &str| subject::inbound_call(p, a));
    let register = |i: usize| {
        (o("registered"), types::ORGANISATION_REGISTERED, org(&format!("org-{i}"), 1, "en", &org_text(i, 0), &[]))
    };
    let mut first = Vec::new();
    for (t, theme) in THEMES.iter().enumerate() {
        for (j, phrase) in theme.iter().enumerate() {
            let id = format!("CALL-{t}-{j}");
            let body = format!("Projects on {phrase}, with pilots across Europe.");
            first.push((c("published"), types::CALL_PUBLISHED, call(&id, 1, phrase, &body, "2027-03-01")));
        }
    }
    first.extend((0..orgs / 2).map(register));
    let mut rest: Vec<Inbound> = (orgs / 2..orgs).map(register).collect();
    for i in (0..orgs).step_by(6) {
        rest.push((o("updated"), types::ORGANISATION_UPDATED, org(&format!("org-{i}"), 2, "en", &org_text(i, 2), &[])));
    }
    for i in [7, 33, 91].into_iter().filter(|i| *i < orgs) {
        rest.push((
            o("removed"),
            types::ORGANISATION_REMOVED,
            serde_json::json!({"id": format!("org-{i}"), "version": 3}),
        ));
    }
    rest.push((c("closed"), types::CALL_CLOSED, serde_json::json!({"id": "CALL-0-0", "version": 2})));
    (first, rest)
}

/// The registry a workload must leave: every event folded by the version rule.
pub fn expected_registry(events: &[Inbound]) -> (Vec<Organisation>, Vec<Call>) {
    let mut orgs: BTreeMap<String, (u64, Option<Organisation>)> = BTreeMap::new();
    let mut calls: BTreeMap<String, (u64, Option<Call>)> = BTreeMap::new();
    for (_, ty, data) in events {
        let id = data["id"].as_str().expect("id").to_owned();
        let version = data["version"].as_u64().expect("version");
        let newer_org = orgs.get(&id).is_none_or(|(v, _)| version > *v);
        let newer_call = calls.get(&id).is_none_or(|(v, _)| version > *v);
        match *ty {
            types::ORGANISATION_REGISTERED | types::ORGANISATION_UPDATED if newer_org => {
                let o: OrganisationV1 = serde_json::from_value(data.clone()).expect("organisation");
                orgs.insert(id, (version, Some(o.into_domain().expect("valid"))));
            }
            types::ORGANISATION_REMOVED if newer_org => {
                orgs.insert(id, (version, None));
            }
            types::CALL_PUBLISHED | types::CALL_UPDATED if newer_call => {
                let c: CallV1 = serde_json::from_value(data.clone()).expect("call");
                calls.insert(id, (version, Some(c.into_domain().expect("valid"))));
            }
            types::CALL_CLOSED if newer_call => {
                calls.insert(id, (version, None));
            }
            _ => {}
        }
    }
    (orgs.into_values().filter_map(|(_, o)| o).collect(), calls.into_values().filter_map(|(_, c)| c).collect())
}

/// The oracle: what a clean index of `registry` recommends, as of the processes' date.
pub fn clean_run((orgs, calls): (Vec<Organisation>, Vec<Call>)) -> Active {
    let ids: Vec<_> = orgs.iter().map(|o| o.id.clone()).collect();
    let index = Index::with(Catalogue::shipped().0, RankerConfig::default(), calls, orgs);
    let today = chrono::NaiveDate::parse_from_str(AS_OF, "%Y-%m-%d").expect("date");
    ids.iter()
        .flat_map(|o| index.recommend(o, today))
        .map(|r| (r.id.to_string(), (format!("{} {}:{}", r.org_id, r.target.kind(), r.target.id()), r.score)))
        .collect()
}

/// Brygga processes on one nats-server (or cluster) and one database, under a prefix of their own.
pub struct Cluster {
    nats_url: String,
    db_url: String,
    pub prefix: String,
    pub bus: Bus,
    pub store: Store,
    partitions: u16,
    /// Replicas of the streams (3 on a JetStream cluster).
    replicas: usize,
    dirs: Vec<tempfile::TempDir>,
    /// Running processes by name, with their operator endpoint.
    procs: BTreeMap<String, (crate::Serving, String)>,
}

impl Cluster {
    /// Connects to `nats_url` and `db_url` (migrated); starts no process yet.
    pub async fn new(nats_url: &str, db_url: &str, partitions: u16) -> Self {
        Self::with_replicas(nats_url, db_url, partitions, 1).await
    }

    /// As [`Cluster::new`], with streams of `replicas` replicas (a JetStream cluster), which the
    /// services are started with too; waits (30 s at most) for JetStream to take them.
    pub async fn with_replicas(nats_url: &str, db_url: &str, partitions: u16, replicas: usize) -> Self {
        let prefix = brygga_testkit::prefix();
        let streams = brygga_runtime::StreamSettings { replicas, ..Default::default() };
        let bus = Bus::connect(nats_url, &Default::default(), &prefix, streams, Default::default()).await.expect("bus");
        let t = std::time::Instant::now();
        while let Err(e) = bus.ensure_streams().await {
            assert!(t.elapsed() < std::time::Duration::from_secs(30), "streams: {e}");
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
        let store = Store::connect(db_url).await.expect("store");
        store.migrate().await.expect("migrate");
        let (nats_url, db_url) = (nats_url.to_owned(), db_url.to_owned());
        Self { nats_url, db_url, prefix, bus, store, partitions, replicas, dirs: Vec::new(), procs: BTreeMap::new() }
    }

    /// Starts `brygga serve --role ROLE` as `name` (also its matcher replica name).
    pub fn start(&mut self, name: &str, role: &str) {
        self.start_with(name, role, &[]);
    }

    /// As [`Cluster::start`], with more settings (`BRYGGA_*` variables).
    pub fn start_with(&mut self, name: &str, role: &str, more: &[(&'static str, String)]) {
        let dir = tempfile::tempdir().expect("tmp");
        let mut envs = vec![
            ("NATS_URL", self.nats_url.clone()),
            ("DATABASE_URL", self.db_url.clone()),
            ("BRYGGA_PREFIX", self.prefix.clone()),
            ("BRYGGA_AS_OF", AS_OF.into()),
            ("BRYGGA_MATCHER__PARTITIONS", self.partitions.to_string()),
            ("BRYGGA_STREAMS__REPLICAS", self.replicas.to_string()),
            ("BRYGGA_MATCHER__REPLICA", name.to_owned()),
            ("BRYGGA_MATCHER__LEASE_TTL_SECS", "3".into()),
            ("BRYGGA_MATCHER__CONVERGE_AFTER_SECS", "1".into()),
            ("BRYGGA_CONSUMER__ACK_WAIT_SECS", "2".into()),
            ("BRYGGA_OUTBOX_POLL_MS", "50".into()),
            ("BRYGGA_NATS__CONNECT_RETRY_SECS", "60".into()),
        ];
        envs.extend(more.iter().cloned());
        let proc = crate::serve_as(role, dir.path(), &envs);
        self.dirs.push(dir);
        assert!(self.procs.insert(name.to_owned(), proc).is_none(), "{name} already runs");
    }

    /// Kills `name` with SIGKILL.
    pub fn kill(&mut self, name: &str) {
        let (mut child, _) = self.procs.remove(name).expect("running");
        child.kill().expect("SIGKILL");
        child.wait().expect("reaped");
    }

    /// `GET path` on `name`'s operator endpoint: status and body, and how long it took.
    pub fn probe(&self, name: &str, path: &str) -> ((u16, String), Duration) {
        let t = Instant::now();
        let got = crate::get(&self.procs[name].1, path);
        (got, t.elapsed())
    }

    pub async fn publish(&self, events: &[Inbound]) {
        for (i, (subject, ty, data)) in events.iter().enumerate() {
            let ev = CloudEvent::new(
                format!("ev-{ty}-{i}-{}", data["id"].as_str().unwrap_or_default()),
                "urn:test",
                ty,
                None,
                chrono::Utc::now(),
                data,
            );
            // As a producer would: retry while the stream has no leader (a node lost) or its
            // server is cut off from the others (a partition, 60 s in the full run).
            let t = Instant::now();
            while let Err(e) = self.bus.publish_event(subject, &ev).await {
                assert!(t.elapsed() < Duration::from_secs(90), "publish: {e}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }

    /// Who holds each partition, from the lease bucket.
    pub async fn owners(&self) -> BTreeMap<u16, String> {
        let Ok(kv) = self.bus.jetstream().get_key_value(format!("{}_matcher", self.prefix)).await else {
            return BTreeMap::new();
        };
        let mut out = BTreeMap::new();
        for p in 0..self.partitions {
            if let Ok(Some(v)) = kv.get(format!("p.{p}")).await {
                out.insert(p, String::from_utf8_lossy(&v).into_owned());
            }
        }
        out
    }

    pub async fn wait_for_owners(&self, want: &BTreeSet<&str>) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let owners = self.owners().await;
            let names: BTreeSet<&str> = owners.values().map(String::as_str).collect();
            if owners.len() == usize::from(self.partitions) && names == *want {
                return;
            }
            assert!(Instant::now() < deadline, "partitions not shared by {want:?} in 30 s: {owners:?}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub async fn backlog(&self) -> u64 {
        let mut b = self.bus.backlog(Stream::Inbound, brygga_svc_ingest::DURABLE).await.unwrap_or(1);
        for p in 0..self.partitions {
            let durable = brygga_svc_matcher::partition::durable(p, self.partitions);
            b += self.bus.backlog(Stream::Registry, &durable).await.unwrap_or(1);
        }
        b + brygga_store::outbox::backlog(self.store.db()).await.unwrap_or(1)
    }

    pub async fn recommendations_published(&self) -> u64 {
        self.bus.last_sequence(Stream::Recommendations).await.unwrap_or(0)
    }

    /// Waits until every consumer and the outbox are drained and no recommendation has been
    /// published for 6 s (convergence starts within 2 s of quiet and takes well under a
    /// second here).
    pub async fn settle(&self) {
        let deadline = Instant::now() + Duration::from_secs(120);
        let (mut quiet, mut last) = (0, u64::MAX);
        while quiet < 12 {
            if Instant::now() >= deadline {
                let inbound = self.bus.backlog(Stream::Inbound, brygga_svc_ingest::DURABLE).await;
                let outbox = brygga_store::outbox::backlog(self.store.db()).await;
                let mut registry = Vec::new();
                for p in 0..self.partitions {
                    let durable = brygga_svc_matcher::partition::durable(p, self.partitions);
                    registry.push(self.bus.backlog(Stream::Registry, &durable).await.map_err(|e| e.to_string()));
                }
                panic!(
                    "did not settle in 120 s: inbound {:?}, registry {registry:?}, outbox {:?}, quiet {quiet}",
                    inbound.map_err(|e| e.to_string()),
                    outbox.map_err(|e| e.to_string())
                );
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
            let published = self.recommendations_published().await;
            quiet = if self.backlog().await == 0 && published == last { quiet + 1 } else { 0 };
            last = published;
        }
    }

    /// The active set, after checking that the consumers' view (folded from the stream, which
    /// panics on an id and revision seen twice) equals the store.
    pub async fn active(&self) -> Active {
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
        let stored_ids: BTreeSet<&String> = active.keys().collect();
        if for_consumers != stored_ids {
            let lost: Vec<&&String> = stored_ids.difference(&for_consumers).take(5).collect();
            let extra: Vec<&&String> = for_consumers.difference(&stored_ids).take(5).collect();
            let last = self.recommendations_published().await;
            tokio::time::sleep(Duration::from_secs(3)).await;
            let again: Vec<CloudEvent<RecommendationV1>> =
                self.bus.replay(Stream::Recommendations, None).await.expect("replay");
            let mut story = format!("stream last sequence {last}; read again 3 s later: {} events\n", again.len());
            for id in lost.iter().chain(&extra).take(6) {
                story.push_str(&self.story(id, &recs).await);
            }
            panic!(
                "the consumers' view differs from the store: {} active for consumers ({} events read), {} in the store; \
                 first lost {lost:?}, first extra {extra:?}\n{story}",
                for_consumers.len(),
                recs.len(),
                stored_ids.len()
            );
        }
        assert!(!active.is_empty(), "the workload recommends something");
        active
    }

    /// One recommendation's history, for a failure message: its events on the stream, its row
    /// in the store, and its outbox rows (published or not).
    async fn story(&self, id: &str, recs: &[CloudEvent<RecommendationV1>]) -> String {
        let on_stream: Vec<String> = recs
            .iter()
            .filter(|e| e.data.recommendation_id == id)
            .map(|e| format!("{} r{}", e.ty.rsplit('.').nth(1).unwrap_or(&e.ty), e.data.revision))
            .collect();
        let stored = brygga_store::recommendations::one(self.store.db(), &id.parse().expect("uuid"))
            .await
            .expect("row")
            .map(|(p, active)| format!("r{} active={active}", p.revision));
        let outbox: Vec<String> = brygga_store::outbox::mentioning(self.store.db(), id)
            .await
            .expect("outbox")
            .into_iter()
            .map(|(r, published)| {
                let v: Value = serde_json::from_str(&r.event.payload).unwrap_or_default();
                let ty = &r.event.event_type;
                format!(
                    "seq {} {} r{} published={published}",
                    r.seq,
                    ty.rsplit('.').nth(1).unwrap_or(ty),
                    v["data"]["revision"]
                )
            })
            .collect();
        format!("  {id}: stream {on_stream:?}; store {stored:?}; outbox {outbox:?}\n")
    }

    /// What the store's registry holds, as the oracle reads it.
    pub async fn stored_registry(&self) -> (Vec<Organisation>, Vec<Call>) {
        let db = self.store.db();
        let orgs = brygga_store::registry::organisations(db).await.expect("organisations");
        (orgs, brygga_store::registry::calls(db).await.expect("calls"))
    }

    /// Stops every process with SIGTERM.
    pub fn stop(mut self) {
        for (_, (mut c, _)) in std::mem::take(&mut self.procs) {
            let _ = Command::new("kill").args(["-TERM", &c.id().to_string()]).status();
            let _ = c.wait();
        }
    }
}

/// The same recommendations as a clean run, with scores within `ranker.min_score_delta`: a
/// smaller move is not announced (README "Reliability": what is deterministic and what not).
pub fn assert_like_a_clean_run(active: &Active, clean: &Active) {
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
