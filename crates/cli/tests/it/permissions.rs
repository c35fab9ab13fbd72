//! Subject permissions per service (`deploy/nats/permissions.json`) on a real nats-server:
//! ingest, matcher, query and notify each run as `brygga serve --role …` under their own user
//! and together turn events into recommendations without one permission violation; the matcher
//! cannot publish on the inbound subjects; the notification user can read the recommendation
//! stream and ask the query service, and cannot read the inbound stream.

use crate::{get, serve_as};
use brygga_testkit::fixtures::{call, org};
use brygga_testkit::{Backend, TestDb};
use serde_json::Value;
use std::time::{Duration, Instant};

const PASSWORD: &str = "test-password-only";

/// The server configuration: every user of the permissions file (same password), and an
/// unrestricted `admin` for the test itself; the server logs to `log`.
fn server_config(log: &std::path::Path) -> String {
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/nats/permissions.json");
    let perms: Value = serde_json::from_str(&std::fs::read_to_string(file).expect("permissions.json")).expect("json");
    let mut users: Vec<String> = perms["users"]
        .as_object()
        .expect("users")
        .iter()
        .map(|(user, p)| format!("{{user: {user:?}, password: {PASSWORD:?}, permissions: {p}}}"))
        .collect();
    users.push(format!("{{user: \"admin\", password: {PASSWORD:?}}}"));
    format!(
        "log_file: {log:?}\naccounts {{\n  BRYGGA {{\n    jetstream: enabled\n    users: [\n      {}\n    ]\n  }}\n}}\n",
        users.join("\n      ")
    )
}

async fn client(url: &str, user: &str) -> async_nats::Client {
    async_nats::ConnectOptions::with_user_and_password(user.into(), PASSWORD.into())
        .connect(url)
        .await
        .unwrap_or_else(|e| panic!("{user} connects: {e}"))
}

async fn messages_in(js: &async_nats::jetstream::Context, stream: &str) -> u64 {
    js.get_stream(stream).await.expect("stream").get_info().await.expect("info").state.messages
}

#[tokio::test]
async fn each_service_runs_under_its_permissions_and_no_further() {
    let dir = tempfile::tempdir().expect("tmp");
    let log = dir.path().join("nats.log");
    let nats = brygga_testkit::nats_with_config(Some(&server_config(&log))).await;
    let db = TestDb::new(Backend::Postgres).await;
    let env = |user: &str| {
        vec![
            ("NATS_URL", nats.url()),
            ("DATABASE_URL", db.url.clone()),
            ("BRYGGA_NATS__USER", user.to_owned()),
            ("BRYGGA_NATS__PASSWORD", PASSWORD.to_owned()),
            ("BRYGGA_MATCHER__PARTITIONS", "2".to_owned()),
        ]
    };
    let work = tempfile::tempdir().expect("tmp");
    let (_ingest, _) = serve_as("ingest", &work.path().join("i"), &env("brygga-ingest"));
    let (_matcher, matcher_http) = serve_as("matcher", &work.path().join("m"), &env("brygga-matcher"));
    let (_query, _) = serve_as("query", &work.path().join("q"), &env("brygga-query"));
    let mut notify_env = env("brygga-notify");
    notify_env.push(("BRYGGA_NOTIFY__WEBHOOK_SECRET", "test-webhook-key".to_owned()));
    let (_notify, notify_http) = serve_as("notify", &work.path().join("n"), &notify_env);

    let admin = client(&nats.url(), "admin").await;
    let js = async_nats::jetstream::new(admin.clone());
    let event = crate::inbound_event;
    let text = "Marine sensors and ocean technology test sites in the Baltic Sea.";
    for (s, body) in [
        (
            "call.published",
            event("p-1", "se.brygga.call.published.v1", call("HORIZON-OCEAN-9", 1, "Ocean tests", text, "2027-09-23")),
        ),
        (
            "organisation.registered",
            event("p-2", "se.brygga.organisation.registered.v1", org("perm-a", 1, "en", text, &["ocean"])),
        ),
        (
            "organisation.registered",
            event("p-3", "se.brygga.organisation.registered.v1", org("perm-b", 1, "en", text, &["ocean"])),
        ),
    ] {
        js.publish(format!("brygga.in.v1.{s}"), body.into()).await.expect("publish").await.expect("ack");
    }
    // The services turn them into recommendations, each under its own user.
    let start = Instant::now();
    while messages_in(&js, "BRYGGA_REC").await == 0 {
        assert!(start.elapsed() < Duration::from_secs(30), "no recommendation within 30 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(get(&matcher_http, "/readyz").0, 200);
    assert_eq!(get(&notify_http, "/readyz").0, 200, "the notification service runs under brygga-notify");
    // It counts what it does not send, and why (these organisations set no preferences).
    let start = Instant::now();
    while !get(&notify_http, "/metrics").1.contains("brygga_notifications_suppressed_total{reason=\"no_preferences\"}")
    {
        assert!(start.elapsed() < Duration::from_secs(20), "{}", get(&notify_http, "/metrics").1);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // The matcher may not publish inbound events.
    let before = messages_in(&js, "BRYGGA_IN").await;
    let matcher = client(&nats.url(), "brygga-matcher").await;
    let forged = event("forged", "se.brygga.organisation.registered.v1", org("forged", 1, "en", text, &[]));
    let _ = matcher.publish("brygga.in.v1.organisation.registered", forged.into()).await;
    let _ = matcher.flush().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(messages_in(&js, "BRYGGA_IN").await, before, "the matcher's inbound publish was refused");

    // A notification consumer reads the recommendation stream...
    let notify = client(&nats.url(), "brygga-notify").await;
    let njs = async_nats::jetstream::new(notify.clone());
    let rec = njs.get_stream("BRYGGA_REC").await.expect("the notifier sees BRYGGA_REC");
    let consumer = rec
        .create_consumer(async_nats::jetstream::consumer::pull::Config {
            durable_name: Some("notify-probe".into()),
            ..Default::default()
        })
        .await
        .expect("the notifier creates its consumer");
    let mut batch = consumer.fetch().max_messages(10).expires(Duration::from_secs(2)).messages().await.expect("fetch");
    use futures_util::StreamExt;
    let first = batch.next().await.expect("a recommendation").expect("message");
    assert!(first.subject.starts_with("brygga.rec.v1."), "{}", first.subject);
    first.ack().await.expect("ack");
    // ... and asks the query service ...
    let stats = notify.request("brygga.query.v1.stats", "{}".into()).await.expect("query answered");
    let stats: Value = serde_json::from_slice(&stats.payload).expect("json");
    assert_eq!(stats["organisations"], 2, "{stats}");
    // ... but cannot read the inbound stream (organisations' data), by consumer or subscription.
    let denied =
        tokio::time::timeout(Duration::from_secs(3), async { njs.get_stream("BRYGGA_IN").await.map(|_| ()) }).await;
    assert!(!matches!(denied, Ok(Ok(()))), "the notifier must not see BRYGGA_IN");
    let mut sub = notify.subscribe("brygga.in.>").await.expect("subscribe call returns");
    js.publish(
        "brygga.in.v1.call.published",
        event("p-4", "se.brygga.call.published.v1", call("HORIZON-OCEAN-10", 1, "More", text, "2027-10-01")).into(),
    )
    .await
    .expect("publish")
    .await
    .expect("ack");
    let leaked = tokio::time::timeout(Duration::from_secs(1), sub.next()).await;
    assert!(!matches!(leaked, Ok(Some(_))), "the notifier received an inbound event");

    // The services themselves never hit a violation; the refusals above are in the log.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let logged = std::fs::read_to_string(&log).expect("nats log");
    let violations: Vec<&str> = logged.lines().filter(|l| l.contains(" Violation - ")).collect();
    for user in ["brygga-ingest", "brygga-query"] {
        let by: Vec<&&str> = violations.iter().filter(|l| l.contains(&format!("user:{user}\""))).collect();
        assert!(by.is_empty(), "{user} hit violations: {by:#?}");
    }
    let matcher_violations: Vec<&&str> = violations
        .iter()
        .filter(|l| l.contains("user:brygga-matcher\"") && !l.contains("brygga.in.v1.organisation.registered"))
        .collect();
    assert!(matcher_violations.is_empty(), "the matcher hit violations: {matcher_violations:#?}");
    assert!(violations.iter().any(|l| l.contains("user:brygga-matcher\"") && l.contains("brygga.in.v1")), "{logged}");
    // The notification service (its own durable consumer, dead letters) stays within its
    // permissions; the test's own probes above (the inbound stream) are the refusals logged.
    let notify_violations: Vec<&&str> = violations
        .iter()
        .filter(|l| l.contains("user:brygga-notify\"") && !l.contains("BRYGGA_IN") && !l.contains("brygga.in."))
        .collect();
    assert!(notify_violations.is_empty(), "the notification service hit violations: {notify_violations:#?}");
    assert!(violations.iter().any(|l| l.contains("user:brygga-notify\"")), "{logged}");
}
