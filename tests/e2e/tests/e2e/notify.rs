//! The notification service on real parts: a real SMTP server (aiosmtpd, `scripts/smtp-sink.py`,
//! installed by `scripts/ensure-tools.sh`) whose mail is parsed back, a real HTTP webhook
//! receiver, and the harness's nats-server and database. Preferences arrive as inbound events
//! through ingest, recommendations from the matcher.

use super::{date, Harness, OCEAN_CALL};
use brygga_bus::{ConsumerStats, Delivery};
use brygga_events::subject::{self, Stream};
use brygga_events::{types, DeadLetterV1, RecommendationV1};
use brygga_store::notifications::{of_organisation, preferences_of};
use brygga_svc_notify::deliver::{signature, Channels};
use brygga_svc_notify::{Notifier, Timing};
use brygga_testkit::fixtures::{call, org};
use brygga_testkit::Backend;
use mail_parser::MessageParser;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A real SMTP server for one test, writing what it receives to a directory.
struct SmtpSink {
    child: tokio::process::Child,
    dir: tempfile::TempDir,
    port: u16,
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

impl SmtpSink {
    async fn start() -> Self {
        let tools = std::process::Command::new(repo().join("scripts/ensure-tools.sh")).output().expect("ensure-tools");
        assert!(tools.status.success(), "scripts/ensure-tools.sh: {}", String::from_utf8_lossy(&tools.stderr));
        let python = PathBuf::from(String::from_utf8_lossy(&tools.stdout).trim()).join("python");
        let dir = tempfile::tempdir().expect("dir");
        let port = free_port();
        let mut child = tokio::process::Command::new(python)
            .arg(repo().join("scripts/smtp-sink.py"))
            .args(["--port", &port.to_string(), "--dir"])
            .arg(dir.path())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start the SMTP sink");
        let mut out = tokio::io::BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        let read = tokio::io::AsyncBufReadExt::read_line(&mut out, &mut line);
        tokio::time::timeout(Duration::from_secs(20), read).await.expect("SMTP sink ready in 20 s").expect("line");
        assert_eq!(line.trim(), "ready");
        Self { child, dir, port }
    }

    fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received so far, as (raw bytes), oldest first.
    fn mails(&self) -> Vec<Vec<u8>> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .expect("dir")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        files.sort();
        files.iter().map(|f| std::fs::read(f).expect("mail")).collect()
    }

    async fn wait_for(&self, n: usize) -> Vec<Vec<u8>> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let m = self.mails();
            if m.len() >= n || Instant::now() > deadline {
                return m;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// A parsed mail: (to, subject, text, html).
fn parse(raw: &[u8]) -> (String, String, String, String) {
    let m = MessageParser::default().parse(raw).expect("a MIME message");
    let to = m.to().and_then(|a| a.first()).and_then(|a| a.address()).unwrap_or_default().to_owned();
    let subject = m.subject().unwrap_or_default().to_owned();
    let text = m.body_text(0).map(|t| t.into_owned()).unwrap_or_default();
    let html = m.body_html(0).map(|t| t.into_owned()).unwrap_or_default();
    (to, subject, text, html)
}

fn notifier(h: &Harness, smtp: Option<&str>, webhook_secret: Option<&[u8]>) -> Arc<Notifier> {
    notifier_timed(h, smtp, webhook_secret, Duration::from_secs(5))
}

/// As [`notifier`], each delivery attempt given at most `timeout`.
fn notifier_timed(h: &Harness, smtp: Option<&str>, webhook_secret: Option<&[u8]>, timeout: Duration) -> Arc<Notifier> {
    let channels = Channels::new(smtp, "Brygga <brygga@example.se>", webhook_secret, timeout).expect("channels");
    Arc::new(Notifier {
        store: h.store.clone(),
        prefix: h.p().to_owned(),
        rules: Default::default(),
        clock: h.clock.clone(),
        channels,
        max_attempts: 3,
        stats: Arc::default(),
        links: None,
    })
}

fn run(h: &Harness, n: &Arc<Notifier>) -> tokio::task::JoinHandle<()> {
    let timing = Timing { poll: Duration::from_millis(100), reminders: Duration::from_secs(3600) };
    tokio::spawn(brygga_svc_notify::run(
        h.bus.clone(),
        n.clone(),
        timing,
        Arc::new(ConsumerStats::default()),
        h.cancel.clone(),
    ))
}

async fn preferences(h: &Harness, org_id: &str, version: u64, prefs: Value) {
    let mut data = prefs;
    data["organisation_id"] = json!(org_id);
    data["version"] = json!(version);
    let subject = subject::inbound_organisation(h.p(), "preferences.updated");
    h.publish(&subject, &format!("prefs-{org_id}-{version}"), types::ORGANISATION_PREFERENCES_UPDATED, data).await;
}

fn with_consent(mut v: Value, contact: bool) -> Value {
    v["consent"]["contact"] = json!(contact);
    v
}

fn marine(id: &str) -> Value {
    org(
        id,
        1,
        "sv",
        "Vi bygger marine sensors för havet och Östersjön, ocean technology.",
        &["marine sensors", "ocean"],
    )
}

fn ocean_call() -> Value {
    call(
        OCEAN_CALL,
        1,
        "Ocean technology testing sites",
        "Test sites where companies trial marine sensors and ocean technology in the Baltic Sea.",
        "2026-09-23",
    )
}

/// Only calls: the other kinds opted out (so each organisation gets one message per call).
fn calls_only() -> Value {
    json!(["mission", "s3_area", "partner"])
}

async fn wait_until(what: &str, mut f: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !f().await {
        assert!(Instant::now() < deadline, "{what}: not within 30 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub(super) async fn notifications_go_by_email_once_and_never_without_consent(backend: Backend) {
    let sink = SmtpSink::start().await;
    let h = Harness::start(backend).await;
    let links = brygga_runtime::links::Links::new(b"link key".to_vec(), "https://brygga.example.se", 86_400);
    let mut with_links = Arc::try_unwrap(notifier(&h, Some(&sink.url()), None)).expect("one owner");
    with_links.links = Some(links.clone());
    let n = Arc::new(with_links);
    let task = run(&h, &n);
    let email =
        |a: &str| json!({"channel": "email", "address": a, "cadence": "instant", "opt_out": {"kinds": calls_only()}});
    preferences(&h, "havsoga", 1, email("havsoga@example.se")).await;
    preferences(&h, "tyst", 1, email("tyst@example.se")).await;
    let mut out = email("avregistrerad@example.se");
    out["opt_out"]["all"] = json!(true);
    preferences(&h, "avregistrerad", 1, out).await;
    // A second replica on the same store and consumer: each message still goes once.
    let mut replica = Arc::try_unwrap(notifier(&h, Some(&sink.url()), None)).expect("one owner");
    replica.links = Some(links.clone());
    let replica = Arc::new(replica);
    let replica_task = run(&h, &replica);
    let mut weekly = email("senare@example.se");
    weekly["cadence"] = json!("weekly");
    preferences(&h, "senare", 1, weekly.clone()).await;
    // Quiet from 13:00 to 15:00 Swedish time: the harness's noon UTC is 14:00 there in August.
    let mut quiet = email("natt@example.se");
    quiet["quiet_hours"] = json!({"from": "13:00", "to": "15:00"});
    preferences(&h, "natt", 1, quiet).await;
    h.call("ev-call-1", ocean_call()).await;
    h.org("ev-org-1", marine("havsoga")).await;
    h.org("ev-org-5", marine("senare")).await;
    h.org("ev-org-6", marine("natt")).await;
    h.org("ev-org-2", with_consent(marine("tyst"), false)).await;
    h.org("ev-org-3", marine("utan-preferenser")).await;
    h.org("ev-org-4", marine("avregistrerad")).await;
    h.settle().await;
    let active =
        brygga_store::recommendations::active_for(h.store.db(), &brygga_domain::OrgId::parse("havsoga").expect("id"))
            .await
            .expect("store");
    let calls = active.iter().filter(|p| p.rec.target.kind() == "call").count();
    assert_eq!(calls, 1, "havsoga is recommended the ocean call");
    let mails = sink.wait_for(1).await;
    // Nothing more comes: not to the others, not twice.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mails_after = sink.mails();
    assert_eq!(mails_after.len(), 1, "one message: {:?}", mails_after.iter().map(|m| parse(m).1).collect::<Vec<_>>());
    let (to, subject, text, html) = parse(&mails[0]);
    assert_eq!(to, "havsoga@example.se");
    assert_eq!(subject, "Ny rekommendation: Ocean technology testing sites");
    for part in [
        "Poäng",
        "Sista ansökningsdag: 2026-09-23",
        "Varför den passar",
        "Behörighet",
        "https://example.org/HORIZON-MISS-2026-03-OCEAN-04",
    ] {
        assert!(text.contains(part), "{part} missing from the text part:\n{text}");
    }
    assert!(text.contains("[okänt, kontrollera]"), "the unknowns are marked:\n{text}");
    assert!(html.contains("<h2>Ny rekommendation: Ocean technology testing sites</h2>"), "{html}");
    assert!(html.contains("href=\"https://example.org/HORIZON-MISS-2026-03-OCEAN-04\""), "{html}");
    // Signed one-click links: feedback on this recommendation, the organisation's page, opting out.
    let token = |label: &str| -> String {
        let line = text.lines().find(|l| l.starts_with(label)).unwrap_or_else(|| panic!("no {label} line:\n{text}"));
        line.rsplit("/o/").next().expect("token").to_owned()
    };
    use brygga_domain::Clock as _;
    use brygga_runtime::links::Action;
    let now = h.clock.now().timestamp();
    let dismiss = links.verify(&token("Inte för oss:"), now).expect("a genuine dismiss link");
    assert_eq!((dismiss.org_id.as_str(), dismiss.action), ("havsoga", Action::Dismiss));
    let rec_id = brygga_domain::recommendation_id(
        &brygga_domain::OrgId::parse("havsoga").expect("id"),
        &brygga_domain::Target::Call(brygga_domain::CallId::parse(OCEAN_CALL).expect("id")),
    );
    assert_eq!(dismiss.recommendation_id, rec_id.to_string());
    assert_eq!(links.verify(&token("Sluta skicka:"), now).map(|g| g.action), Some(Action::OptOut));
    // Mail clients offer one-click unsubscribe (RFC 8058) with the same signed link.
    let raw = MessageParser::default().parse(&mails[0][..]).expect("mime");
    let unsubscribe = raw.header_raw("List-Unsubscribe").expect("List-Unsubscribe").trim().to_owned();
    assert!(unsubscribe.starts_with("<https://brygga.example.se/o/") && unsubscribe.ends_with('>'), "{unsubscribe}");
    let t = unsubscribe
        .trim_start_matches("<https://brygga.example.se/o/")
        .trim_end_matches('>')
        .replace([' ', '\r', '\n', '\t'], "");
    assert_eq!(links.verify(&t, now).map(|g| g.action), Some(Action::OptOut));
    assert_eq!(raw.header_raw("List-Unsubscribe-Post").map(str::trim), Some("List-Unsubscribe=One-Click"));
    assert_eq!(links.verify(&token("Alla era rekommendationer:"), now).map(|g| g.action), Some(Action::Page));
    // The store says so, once.
    let rows = of_organisation(h.store.db(), "havsoga").await.expect("rows");
    let sent: Vec<_> = rows.iter().filter(|r| r.status == "sent").collect();
    assert_eq!(sent.len(), 1, "{rows:?}");
    assert!(sent[0].message_id.is_some() && sent[0].sent_at.is_some());
    for quiet in ["tyst", "utan-preferenser", "avregistrerad"] {
        assert!(of_organisation(h.store.db(), quiet).await.expect("rows").is_empty(), "{quiet} has nothing planned");
    }
    // "natt" is in its quiet hours: planned for 15:00 local (13:00 UTC), not sent yet.
    let held = of_organisation(h.store.db(), "natt").await.expect("rows");
    assert_eq!(held.iter().map(|r| r.status.as_str()).collect::<Vec<_>>(), ["pending"], "{held:?}");
    // "senare" opts out after its digest was planned and before it is due: it is not sent.
    let planned = of_organisation(h.store.db(), "senare").await.expect("rows");
    assert_eq!(planned.iter().map(|r| r.status.as_str()).collect::<Vec<_>>(), ["pending"]);
    weekly["opt_out"]["all"] = json!(true);
    preferences(&h, "senare", 2, weekly).await;
    h.settle().await;
    h.clock.set(date("2026-08-24"));
    wait_until("the digest suppressed at sending", async || {
        let rows = of_organisation(h.store.db(), "senare").await.expect("rows");
        rows.iter().all(|r| r.status == "suppressed" && r.reason.as_deref() == Some("opted_out"))
    })
    .await;
    // A week later the quiet hours are long over: "natt" has its message.
    let mails = sink.wait_for(2).await;
    assert_eq!(mails.len(), 2);
    assert_eq!(parse(&mails[1]).0, "natt@example.se");
    let suppressed: Vec<&str> = n
        .stats
        .suppressed_by_reason()
        .into_iter()
        .chain(replica.stats.suppressed_by_reason())
        .map(|(r, _)| r)
        .collect();
    // Without contact consent the matcher recommends nothing ("tyst" has no events); the
    // service checks consent again anyway (`no_consent`), as it checks preferences at sending.
    for reason in ["no_preferences", "opted_out", "opted_out_of_kind"] {
        assert!(suppressed.contains(&reason), "{reason} not counted: {suppressed:?}");
    }
    // Every recommendation event delivered again (a redelivery, a restart): nothing new is sent.
    let recs = h.bus.replay::<RecommendationV1>(Stream::Recommendations, None).await.expect("replay");
    let again: Vec<Delivery> = recs
        .iter()
        .map(|ev| Delivery {
            subject: subject::recommendation(h.p(), &ev.data.organisation_id, &ev.data.change),
            payload: serde_json::to_vec(ev).expect("json").into(),
            headers: None,
            stream_sequence: 0,
            delivered: 2,
            pending: 0,
        })
        .collect();
    let outcomes = n.plan_batch(again).await;
    assert!(outcomes.iter().all(|o| *o == brygga_bus::Outcome::Ack), "{outcomes:?}");
    assert_eq!(n.deliver_due(&h.bus).await.expect("deliver"), 0, "nothing is due again");
    assert_eq!(sink.mails().len(), 2);
    // Removing an organisation erases its preferences (the address is contact data).
    let removed = json!({"id": "havsoga", "version": 2});
    h.publish(&subject::inbound_organisation(h.p(), "removed"), "ev-rm", types::ORGANISATION_REMOVED, removed).await;
    h.settle().await;
    assert!(preferences_of(h.store.db(), &["havsoga".into()]).await.expect("read").is_empty());
    h.cancel.cancel();
    task.await.expect("notify ended cleanly");
    replica_task.await.expect("replica ended cleanly");
    h.stop().await;
}

/// What a webhook receiver got: (path, idempotency key, signature, body).
type Received = Arc<Mutex<Vec<(String, String, String, Vec<u8>)>>>;

async fn receiver() -> (u16, Received) {
    use axum::extract::{Path as UrlPath, State};
    use axum::http::{HeaderMap, StatusCode};
    let got: Received = Arc::default();
    let handler = |State(got): State<Received>,
                   UrlPath(path): UrlPath<String>,
                   headers: HeaderMap,
                   body: axum::body::Bytes| async move {
        let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let tries = {
            let mut g = got.lock().expect("lock");
            g.push((path.clone(), header("idempotency-key"), header("brygga-signature"), body.to_vec()));
            g.iter().filter(|(p, ..)| *p == path).count()
        };
        match path.as_str() {
            // Answers the first attempt only after the sender's timeout (1 s), then at once.
            "slow" if tries == 1 => {
                tokio::time::sleep(Duration::from_secs(3)).await;
                StatusCode::NO_CONTENT
            }
            "slow" => StatusCode::NO_CONTENT,
            // Fails once with a 503, then takes it.
            "flaky" if tries == 1 => StatusCode::SERVICE_UNAVAILABLE,
            "flaky" => StatusCode::NO_CONTENT,
            // Never takes it: dead-lettered after the last attempt.
            "down" => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::GONE,
        }
    };
    let app = axum::Router::new().route("/hook/{path}", axum::routing::post(handler)).with_state(got.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (port, got)
}

pub(super) async fn webhooks_are_signed_retried_after_5xx_and_dead_lettered_after_4xx(backend: Backend) {
    let (port, got) = receiver().await;
    let h = Harness::start(backend).await;
    let secret = b"a webhook key of the region";
    let n = notifier_timed(&h, None, Some(secret), Duration::from_secs(1));
    let task = run(&h, &n);
    let hook = |path: &str| json!({"channel": "webhook", "address": format!("http://127.0.0.1:{port}/hook/{path}"), "opt_out": {"kinds": calls_only()}});
    preferences(&h, "flaky", 1, hook("flaky")).await;
    preferences(&h, "gone", 1, hook("gone")).await;
    preferences(&h, "down", 1, hook("down")).await;
    preferences(&h, "slow", 1, hook("slow")).await;
    h.call("ev-call-1", ocean_call()).await;
    h.org("ev-org-1", marine("flaky")).await;
    h.org("ev-org-2", marine("gone")).await;
    h.org("ev-org-3", marine("down")).await;
    h.org("ev-org-4", marine("slow")).await;
    h.settle().await;
    let count = |path: &str| got.lock().expect("lock").iter().filter(|(p, ..)| p == path).count();
    wait_until("the first attempts", async || {
        count("flaky") == 1 && count("gone") == 1 && count("down") == 1 && count("slow") == 1
    })
    .await;
    // The retry waits for its backoff (30 s): a day later on the service's clock it is due.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(count("flaky"), 1, "not retried before the backoff");
    // The attempt that timed out is a transient failure, waiting for its retry like a 5xx.
    wait_until("the timeout noted", async || {
        of_organisation(h.store.db(), "slow").await.expect("rows").iter().any(|r| r.attempts == 1 && r.status != "sent")
    })
    .await;
    h.clock.set(date("2026-08-18"));
    wait_until("the retry", async || count("flaky") == 2 && count("slow") == 2).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(count("flaky"), 2, "taken at the second attempt, not sent again");
    assert_eq!(count("gone"), 1, "a 4xx is not retried");
    // The third attempt (max_attempts 3) is the last: after it, a dead letter.
    wait_until("the second attempt", async || count("down") == 2).await;
    h.clock.set(date("2026-08-19"));
    wait_until("the last attempt", async || count("down") == 3).await;
    wait_until("given up", async || {
        of_organisation(h.store.db(), "down").await.expect("rows").iter().any(|r| r.status == "failed")
    })
    .await;
    h.clock.set(date("2026-08-25"));
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(count("down"), 3, "not tried after the last attempt");
    let rows = of_organisation(h.store.db(), "down").await.expect("rows");
    assert_eq!((rows[0].attempts, rows[0].reason.as_deref()), (3, Some("webhook answered 503")), "{rows:?}");
    let all = got.lock().expect("lock").clone();
    let flaky: Vec<_> = all.iter().filter(|(p, ..)| p == "flaky").collect();
    assert_eq!(flaky[0].1, flaky[1].1, "one idempotency key for every attempt of a message");
    for (_, _, sig, body) in &all {
        let t: i64 = sig.split(',').next().and_then(|t| t.strip_prefix("t=")).and_then(|t| t.parse().ok()).expect("t=");
        assert_eq!(*sig, signature(secret, t, body), "the signature verifies");
    }
    let body: Value = serde_json::from_slice(&flaky[1].3).expect("json body");
    assert_eq!(body["organisation_id"], "flaky");
    assert_eq!(body["kind"], "created");
    assert_eq!(body["recommendations"][0]["target"]["id"], OCEAN_CALL);
    assert!(body["text"].as_str().is_some_and(|t| t.contains("Ocean technology testing sites")));
    let rows = of_organisation(h.store.db(), "flaky").await.expect("rows");
    assert_eq!((rows.len(), rows[0].status.as_str(), rows[0].attempts), (1, "sent", 2), "{rows:?}");
    let rows = of_organisation(h.store.db(), "slow").await.expect("rows");
    assert_eq!((rows.len(), rows[0].status.as_str(), rows[0].attempts), (1, "sent", 2), "{rows:?}");
    let slow: Vec<_> = all.iter().filter(|(p, ..)| p == "slow").collect();
    assert_eq!(slow[0].1, slow[1].1, "the retry after a timeout keeps the idempotency key");
    let rows = of_organisation(h.store.db(), "gone").await.expect("rows");
    assert_eq!((rows[0].status.as_str(), rows[0].reason.as_deref()), ("failed", Some("webhook answered 410")));
    // The dead letter names the reason, and never the address.
    let mut dead = Vec::new();
    wait_until("the dead letter", async || {
        dead = h
            .bus
            .replay::<DeadLetterV1>(Stream::DeadLetters, Some(&subject::dead_letter(h.p(), "notify")))
            .await
            .unwrap_or_default();
        dead.len() >= 2
    })
    .await;
    assert!(dead.iter().any(|d| d.data.reason == "webhook answered 503" && d.data.deliveries == 3), "{dead:?}");
    let d = &dead.iter().find(|d| d.data.reason == "webhook answered 410").expect("the 410's dead letter").data;
    assert_eq!(
        (d.reason_code.as_str(), d.reason.as_str(), d.service.as_str()),
        ("delivery_failed", "webhook answered 410", "notify")
    );
    assert!(!d.payload.contains("127.0.0.1") && !d.reason.contains("127.0.0.1"), "{d:?}");
    assert!(d.payload.contains(OCEAN_CALL));
    // Retried: flaky once, down twice, slow once; failed: gone and down; sent: flaky and slow.
    assert_eq!((n.stats.retried(), n.stats.failed(), n.stats.sent()), (4, 2, 2));
    h.cancel.cancel();
    task.await.expect("notify ended cleanly");
    h.stop().await;
}

pub(super) async fn digests_fold_a_week_and_reminders_come_14_7_and_1_days_before(backend: Backend) {
    let sink = SmtpSink::start().await;
    let h = Harness::start(backend).await;
    let n = notifier(&h, Some(&sink.url()), None);
    let task = run(&h, &n);
    // 2026-08-17, the harness's today, is a Monday: the weekly digest is due on the 24th.
    let weekly = json!({"channel": "email", "address": "vecka@example.se", "language": "en", "cadence": "weekly", "opt_out": {"kinds": calls_only()}});
    preferences(&h, "vecka", 1, weekly).await;
    let soon = call("CALL-SOON", 1, "Ocean sensors pilot", "Marine sensors for the Baltic Sea ocean.", "2026-08-31");
    let later =
        call("CALL-LATER", 1, "Ocean technology testing sites", "Marine sensors and ocean technology.", "2026-10-30");
    let closing =
        call("CALL-CLOSING", 1, "Ocean sensor networks", "Marine sensors networks in the ocean.", "2026-11-30");
    for (id, c) in [("ev-c1", soon), ("ev-c2", later), ("ev-c3", closing)] {
        h.call(id, c).await;
    }
    h.org("ev-org-1", marine("vecka")).await;
    h.settle().await;
    let held = of_organisation(h.store.db(), "vecka").await.expect("rows");
    assert_eq!(held.len(), 3, "a message planned per call: {held:?}");
    // One call closes before the digest goes: the digest does not announce it.
    let closed = json!({"id": "CALL-CLOSING", "version": 2});
    h.publish(&subject::inbound_call(h.p(), "closed"), "ev-close", types::CALL_CLOSED, closed).await;
    h.settle().await;
    wait_until("the closed call's message cancelled", async || {
        of_organisation(h.store.db(), "vecka").await.expect("rows").iter().any(|r| r.status == "suppressed")
    })
    .await;
    // Today: 14 days before CALL-SOON's deadline. The reminder goes at once; the digest waits.
    assert_eq!(n.plan_reminders().await.expect("reminders"), 1);
    assert_eq!(n.plan_reminders().await.expect("reminders"), 0, "each reminder once");
    let m = sink.wait_for(1).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sink.mails().len(), 1, "the digest waits for Monday");
    assert_eq!(parse(&m[0]).1, "14 days left: Ocean sensors pilot");
    // Monday: the digest, and the 7-day reminder.
    h.clock.set(date("2026-08-24"));
    assert_eq!(n.plan_reminders().await.expect("reminders"), 1);
    let m = sink.wait_for(3).await;
    let subjects: Vec<String> = m.iter().map(|x| parse(x).1).collect();
    assert_eq!(m.len(), 3, "{subjects:?}");
    assert!(subjects.contains(&"7 days left: Ocean sensors pilot".to_owned()), "{subjects:?}");
    let digest = m.iter().map(|x| parse(x)).find(|x| x.1.starts_with("Brygga: ")).expect("a digest");
    assert_eq!(digest.1, "Brygga: 2 recommendations for Org vecka");
    assert!(
        digest.2.contains("New recommendation: Ocean sensors pilot")
            && digest.2.contains("Ocean technology testing sites")
    );
    assert!(!digest.2.contains("Ocean sensor networks"), "the closed call is not announced");
    // The day before the deadline: the last reminder. After it, none.
    h.clock.set(date("2026-08-30"));
    assert_eq!(n.plan_reminders().await.expect("reminders"), 1);
    let m = sink.wait_for(4).await;
    assert_eq!(parse(&m[3]).1, "1 day left: Ocean sensors pilot");
    h.clock.set(date("2026-08-31"));
    assert_eq!(n.plan_reminders().await.expect("reminders"), 0);
    // A call the organisation saved closes: it hears so, once.
    let later = brygga_domain::Target::Call(brygga_domain::CallId::parse("CALL-LATER").expect("id"));
    let rec = brygga_domain::recommendation_id(&brygga_domain::OrgId::parse("vecka").expect("id"), &later).to_string();
    let saved = json!({"organisation_id": "vecka", "recommendation_id": rec, "version": 1, "feedback": "saved",
                       "target": {"kind": "call", "id": "CALL-LATER"}});
    let subject = subject::inbound_recommendation(h.p(), "feedback");
    h.publish(&subject, "fb-vecka-later", types::RECOMMENDATION_FEEDBACK, saved).await;
    h.settle().await;
    let closed = json!({"id": "CALL-LATER", "version": 2});
    h.publish(&subject::inbound_call(h.p(), "closed"), "ev-close-later", types::CALL_CLOSED, closed).await;
    h.settle().await;
    let m = sink.wait_for(5).await;
    let (_, subject_line, text, _) = parse(&m[4]);
    assert_eq!(subject_line, "No longer open: Ocean technology testing sites");
    // The reason is the matcher's, in the organisation's preferred language (Swedish here).
    assert!(text.contains("Why: utlysningen är stängd"), "{text}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sink.mails().len(), 5, "the closing of a call it did not save is not announced");
    h.cancel.cancel();
    task.await.expect("notify ended cleanly");
    h.stop().await;
}
