//! The `brygga` binary as a user runs it: one-line errors, the F&T importer, the operator
//! endpoints, and a clean drain on SIGTERM.

mod cluster;
mod faults;
mod permissions;
mod replicas;
mod web;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn brygga() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_brygga"));
    c.env_remove("NATS_URL").env_remove("DATABASE_URL").env("RUST_LOG", "warn");
    c
}

/// An inbound CloudEvent (structured mode) as the tests publish it.
fn inbound_event(id: &str, ty: &str, data: serde_json::Value) -> String {
    serde_json::json!({"specversion": "1.0", "id": id, "source": "urn:test", "type": ty, "data": data}).to_string()
}

fn one_line_error(out: std::process::Output) -> String {
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr).trim_end().to_owned();
    assert_eq!(err.lines().count(), 1, "one line, no panic or backtrace: {err}");
    assert!(err.starts_with("error: "), "{err}");
    err
}

#[test]
fn config_errors_are_one_clear_line() {
    let err = one_line_error(brygga().args(["--config", "/nonexistent/brygga.toml", "config"]).output().expect("run"));
    assert!(err.contains("/nonexistent/brygga.toml does not exist"), "{err}");
    let err = one_line_error(brygga().arg("config").env("BRYGGA_RANKER__FLOOR", "lots").output().expect("run"));
    assert!(err.to_lowercase().contains("ranker.floor") && err.contains("lots"), "{err}");
    let err = one_line_error(brygga().arg("config").env("BRYGGA_RANKER__FLOR", "40").output().expect("run"));
    assert!(err.contains("flor"), "a mistyped setting is an error naming it: {err}");
    let err = one_line_error(brygga().arg("config").env("BRYGGA_PREFIX", "a.b").output().expect("run"));
    assert!(err.contains("prefix"), "{err}");
    // Enumerated settings are typed: a value outside them names the key and the allowed ones.
    let err = one_line_error(brygga().arg("config").env("BRYGGA_LOG_FORMAT", "xml").output().expect("run"));
    assert!(err.contains("LOG_FORMAT") && err.contains("`text` or `json`"), "{err}");
    let err = one_line_error(brygga().arg("config").env("BRYGGA_STREAMS__STORAGE", "disk").output().expect("run"));
    assert!(err.contains("STREAMS.STORAGE") && err.contains("`file` or `memory`"), "{err}");
    let err = one_line_error(brygga().args(["import-topics", "x.jsonl"]).output().expect("run"));
    assert!(err.contains("NATS_URL"), "{err}");
    let err = one_line_error(brygga().args(["republish", "some-org"]).output().expect("run"));
    assert!(err.contains("NATS_URL"), "{err}");
}

#[test]
fn config_layers_defaults_file_and_environment() {
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("brygga.toml");
    std::fs::write(&file, "prefix = \"fromfile\"\n[ranker]\nfloor = 50\ntop_k_calls = 7\n").expect("write");
    let out = brygga()
        .args(["--config", file.to_str().expect("utf8"), "config"])
        .env("BRYGGA_RANKER__FLOOR", "60")
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let cfg: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(cfg["prefix"], "fromfile");
    assert_eq!(cfg["ranker"]["floor"], 60, "environment beats file");
    assert_eq!(cfg["ranker"]["top_k_calls"], 7, "file beats defaults");
    assert!(cfg["database_url"].is_null(), "no database configured");
}

const TOPICS: &str = r#"{"topicId":"HORIZON-MISS-2026-03-OCEAN-04","title":"Ocean technology test sites","deadline":"2026-09-23","callStatus":"open","budgetMin":"2500000","budgetMax":2900000,"keywords":"HORIZON-MISS-2026-03-OCEAN-04, Marine engineering","missions":["ocean"],"description":"Sites where marine technology is tested.","portalUrl":"https://example.org/a","actionType":"CSA"}
{"title":"no id here"}
{"topicId":"HORIZON-CL4-2027-01-MAT-PROD-02","title":"Advanced manufacturing","deadline":"2027-02-02","callStatus":"forthcoming","budgetMin":6000000,"budgetMax":8000000,"keywords":"['forming', 'automation']","missions":"[]","description":"Forming and automation.","actionType":"IA"}
not json
"#;

#[tokio::test]
async fn import_topics_publishes_call_events_and_reports_bad_lines() {
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("topics.jsonl");
    std::fs::write(&file, TOPICS).expect("write");
    let out = brygga().args(["import-topics", "--dry-run", file.to_str().expect("utf8")]).output().expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("2 valid calls, 2 invalid lines"), "{text}");
    assert!(text.contains("topics.jsonl:2: topicId is missing") && text.contains("topics.jsonl:4: not JSON"), "{text}");

    let nats = brygga_testkit::nats().await;
    let run = || {
        brygga()
            .args(["import-topics", "--version", "5", file.to_str().expect("utf8")])
            .env("NATS_URL", nats.url())
            .env("BRYGGA_PREFIX", "imp")
            .output()
            .expect("run")
    };
    let out = run();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("2 calls published, 0 already known (duplicates), 2 invalid lines"), "{text}");
    let again = run();
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("0 calls published, 2 already known"),
        "re-import is deduplicated"
    );
    let client = async_nats::connect(nats.url()).await.expect("connect");
    let mut s = async_nats::jetstream::new(client).get_stream("IMP_IN").await.expect("stream");
    assert_eq!(s.info().await.expect("info").state.messages, 2);
}

/// One HTTP/1.1 GET: the status code and the body.
fn get(addr: &str, path: &str) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").expect("write");
    let mut resp = String::new();
    s.read_to_string(&mut resp).expect("read");
    let status = resp.split_whitespace().nth(1).and_then(|c| c.parse().ok()).expect("status line");
    (status, resp.split_once("\r\n\r\n").map(|x| x.1.to_owned()).unwrap_or_default())
}

/// A `brygga serve` process, killed when dropped (a failing test leaves none behind).
#[derive(Debug)]
struct Serving(std::process::Child);

impl std::ops::Deref for Serving {
    type Target = std::process::Child;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::ops::DerefMut for Serving {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// `brygga serve` with its operator endpoints on a free port: the process and their address.
fn serve(data_dir: &std::path::Path, envs: &[(&str, String)]) -> (Serving, String) {
    serve_as("all", data_dir, envs)
}

/// As [`serve`], in one role (`all`, `ingest`, `matcher`, `query`), once it serves. Its log
/// (warnings) goes to `$BRYGGA_TEST_LOG_DIR/<pid>.log` when that is set, else nowhere.
fn serve_as(role: &str, data_dir: &std::path::Path, envs: &[(&str, String)]) -> (Serving, String) {
    spawn_serve(role, data_dir, envs, "brygga serving")
}

/// Starts `brygga serve` and returns once its stdout prints a line with `until` (and the http
/// address); stdout is drained in a thread from then on, so later lines cannot block it.
fn spawn_serve(role: &str, data_dir: &std::path::Path, envs: &[(&str, String)], until: &str) -> (Serving, String) {
    let log_dir = std::env::var_os("BRYGGA_TEST_LOG_DIR").map(std::path::PathBuf::from);
    let log = || -> Stdio {
        let Some(dir) = &log_dir else { return Stdio::null() };
        let file = dir.join(format!("{role}-{}.log", uuid::Uuid::new_v4().simple()));
        std::fs::File::create(file).map(Stdio::from).unwrap_or_else(|_| Stdio::null())
    };
    let mut child = brygga()
        .args(["serve", "--role", role])
        .env("BRYGGA_DATA_DIR", data_dir)
        .env("BRYGGA_HTTP_ADDR", "127.0.0.1:0")
        .envs(envs.iter().map(|(k, v)| (k, v)))
        .stdout(Stdio::piped())
        .stderr(log())
        .spawn()
        .expect("spawn");
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().expect("stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let _ = tx.send(line);
        }
    });
    let line = loop {
        let line = rx.recv_timeout(Duration::from_secs(60)).expect("serve printed its banner");
        if line.contains(until) {
            break line;
        }
    };
    let addr = line.split("http://").nth(1).and_then(|r| r.split_whitespace().next()).expect("http address");
    (Serving(child), addr.to_owned())
}

#[test]
fn serve_answers_probes_then_drains_and_exits_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().expect("tmp");
    let (mut child, addr) = serve(dir.path(), &[]);
    let addr = addr.as_str();
    assert_eq!(get(addr, "/healthz"), (200, "ok\n".into()));
    assert_eq!(get(addr, "/livez"), (200, "ok\n".into()));
    assert_eq!(get(addr, "/startupz"), (200, "started\n".into()));
    assert_eq!(get(addr, "/readyz"), (200, "ready\n".into()));
    // The matcher's durable consumer exists once it holds its partition (a lease round).
    let started = Instant::now();
    let (status, metrics) = loop {
        let (status, metrics) = get(addr, "/metrics");
        if metrics.contains("durable=\"matcher\"") || started.elapsed() > Duration::from_secs(10) {
            break (status, metrics);
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(status, 200);
    for service in ["ingest", "matcher"] {
        assert!(
            metrics.contains(&format!("brygga_events_total{{service=\"{service}\",outcome=\"acked\"}} 0")),
            "{metrics}"
        );
        assert!(metrics.contains(&format!("brygga_stream_errors_total{{service=\"{service}\"}} 0")), "{metrics}");
        assert!(metrics.contains(&format!("brygga_redeliveries_total{{service=\"{service}\"}} 0")), "{metrics}");
        assert!(metrics.contains(&format!("brygga_batch_seconds_count{{service=\"{service}\"}} ")), "{metrics}");
    }
    for lag in ["{service=\"ingest\",durable=\"ingest\"} 0", "{service=\"matcher\",durable=\"matcher\"} 0"] {
        assert!(metrics.contains(&format!("brygga_consumer_lag{lag}")), "{metrics}");
    }
    for line in ["brygga_outbox_backlog 0", "brygga_scrape_errors 0", "brygga_build_info{version=\"0.1.0\"} 1"] {
        assert!(metrics.contains(line), "{line} in {metrics}");
    }
    assert!(metrics.ends_with("# EOF\n"), "OpenMetrics text: {metrics}");
    assert_eq!(get(addr, "/nothing").0, 404);
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().expect("kill").success());
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            assert!(status.success(), "exit status {status}");
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(25), "did not stop within 25 s of SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The endpoints answer before anything else is up: with NATS unreachable, start-up and
/// readiness say so, liveness holds (the startup probe is the judge while starting).
#[test]
fn probes_answer_while_nats_is_unreachable_at_start() {
    let dir = tempfile::tempdir().expect("tmp");
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
    let envs = [("NATS_URL", format!("nats://127.0.0.1:{port}")), ("BRYGGA_NATS__CONNECT_RETRY_SECS", "60".into())];
    let (mut child, addr) = spawn_serve("all", dir.path(), &envs, "brygga starting");
    let addr = addr.as_str();
    assert_eq!(get(addr, "/startupz"), (503, "starting: connecting to NATS\n".into()));
    assert_eq!(get(addr, "/readyz"), (503, "not ready: starting: connecting to NATS\n".into()));
    assert_eq!(get(addr, "/livez"), (200, "ok\n".into()));
    assert_eq!(get(addr, "/metrics").0, 503);
    child.kill().expect("kill");
    child.wait().expect("wait");
}

#[tokio::test]
async fn readiness_fails_with_the_reason_while_nats_is_away() {
    let dir = tempfile::tempdir().expect("tmp");
    let nats = brygga_testkit::nats().await;
    let (mut child, addr) = serve(dir.path(), &[("NATS_URL", nats.url()), ("BRYGGA_PREFIX", brygga_testkit::prefix())]);
    assert_eq!(get(&addr, "/readyz").0, 200);
    drop(nats);
    let start = Instant::now();
    let (status, body) = loop {
        let r = get(&addr, "/readyz");
        if r.0 != 200 || start.elapsed() > Duration::from_secs(15) {
            break r;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    child.kill().expect("kill");
    child.wait().expect("wait");
    assert_eq!(status, 503, "{body}");
    assert!(body.starts_with("not ready: nats: "), "{body}");
}

/// Liveness fails when a consume loop is wedged: the test holds an exclusive lock on the
/// organisations table, so ingest's write of the next event waits on it; after
/// `stuck_after_secs` `/livez` answers 503 naming the loop (readiness does not: the database
/// answers), and once the lock is gone it is alive again.
#[tokio::test]
async fn liveness_fails_while_a_consume_loop_is_wedged() {
    use brygga_store::{ConnectionTrait, TransactionTrait};
    let dir = tempfile::tempdir().expect("tmp");
    let nats = brygga_testkit::nats().await;
    let db = brygga_testkit::TestDb::new(brygga_testkit::Backend::Postgres).await;
    let prefix = brygga_testkit::prefix();
    let envs = [
        ("NATS_URL", nats.url()),
        ("DATABASE_URL", db.url.clone()),
        ("BRYGGA_PREFIX", prefix.clone()),
        ("BRYGGA_STUCK_AFTER_SECS", "2".to_owned()),
    ];
    let (mut child, addr) = serve(dir.path(), &envs);
    assert_eq!(get(&addr, "/livez"), (200, "ok\n".into()));
    let store = brygga_store::Store::connect(&db.url).await.expect("store");
    let lock = store.db().begin().await.expect("begin");
    lock.execute_unprepared("LOCK TABLE organisations IN ACCESS EXCLUSIVE MODE").await.expect("lock");
    let js = async_nats::jetstream::new(async_nats::connect(nats.url()).await.expect("connect"));
    let data = brygga_testkit::fixtures::org("wedged", 1, "en", "Marine sensors.", &["ocean"]);
    let ev = inbound_event("w-1", "se.brygga.organisation.registered.v1", data);
    js.publish(format!("{prefix}.in.v1.organisation.registered"), ev.into())
        .await
        .expect("publish")
        .await
        .expect("ack");
    let start = Instant::now();
    let (status, body) = loop {
        let r = get(&addr, "/livez");
        if r.0 != 200 || start.elapsed() > Duration::from_secs(20) {
            break r;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(status, 503, "{body}");
    assert!(body.starts_with("wedged: ingest: one batch in hand for "), "{body}");
    assert!(start.elapsed() >= Duration::from_secs(2), "not before stuck_after_secs");
    lock.rollback().await.expect("release");
    let start = Instant::now();
    while get(&addr, "/livez").0 != 200 {
        assert!(start.elapsed() < Duration::from_secs(20), "still wedged after the lock was released");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    child.kill().expect("kill");
    child.wait().expect("wait");
}

/// `/metrics` after real traffic: dead letters by reason code, the matcher's committed changes
/// by kind and its event → recommendation latency, the consumers' pending and unacknowledged
/// messages, the outbox backlog and its oldest row's age.
#[tokio::test]
async fn metrics_count_traffic_by_kind_and_reason() {
    use brygga_testkit::fixtures::{call, org};
    let dir = tempfile::tempdir().expect("tmp");
    let nats = brygga_testkit::nats().await;
    let prefix = brygga_testkit::prefix();
    let (mut child, addr) = serve(dir.path(), &[("NATS_URL", nats.url()), ("BRYGGA_PREFIX", prefix.clone())]);
    let js = async_nats::jetstream::new(async_nats::connect(nats.url()).await.expect("connect"));
    let event = inbound_event;
    let description = "Marine sensors and ocean technology test sites in the Baltic Sea.";
    let publish = [
        (
            "call.published",
            event(
                "m-1",
                "se.brygga.call.published.v1",
                call("HORIZON-OCEAN-1", 1, "Ocean testing", description, "2027-09-23"),
            ),
        ),
        (
            "organisation.registered",
            event("m-2", "se.brygga.organisation.registered.v1", org("metrics-org", 1, "en", description, &["ocean"])),
        ),
        ("organisation.registered", "{not json".to_owned()),
    ];
    for (s, body) in publish {
        js.publish(format!("{prefix}.in.v1.{s}"), body.into()).await.expect("publish").await.expect("ack");
    }
    let start = Instant::now();
    let metrics = loop {
        let (_, m) = get(&addr, "/metrics");
        let done = m.contains("brygga_recommendations_total{change=\"created\"}")
            && !m.contains("brygga_recommendations_total{change=\"created\"} 0")
            && m.contains("brygga_dead_letters_total{service=\"ingest\",reason_code=\"malformed_json\"} 1");
        if done || start.elapsed() > Duration::from_secs(20) {
            break m;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    child.kill().expect("kill");
    child.wait().expect("wait");
    assert!(
        metrics.contains("brygga_dead_letters_total{service=\"ingest\",reason_code=\"malformed_json\"} 1"),
        "{metrics}"
    );
    assert!(!metrics.contains("brygga_recommendations_total{change=\"created\"} 0"), "{metrics}");
    let count = metrics
        .lines()
        .find_map(|l| l.strip_prefix("brygga_event_to_recommendation_seconds_count "))
        .and_then(|n| n.trim().parse::<u64>().ok())
        .expect("the latency histogram");
    assert!(count >= 2, "both accepted events reached the matcher: {metrics}");
    for line in ["brygga_consumer_pending{service=\"ingest\",durable=\"ingest\"} 0", "brygga_outbox_oldest_seconds "] {
        assert!(metrics.contains(line), "{line} in {metrics}");
    }
}

/// No contact PII in logs at any level: organisations with an organisation number and an
/// e-mail address and a phone number in their free text, two of them refused (a bad check
/// digit; a number where text belongs), handled by `serve` at `RUST_LOG=trace` in both log
/// formats; every log line is searched. The traced one's trace id is in the logs (a field of
/// the JSON lines).
#[tokio::test]
async fn contact_pii_never_appears_in_logs_at_any_level() {
    use brygga_testkit::fixtures::{call, org};
    const ORG_NUMBER: &str = "559912-3451";
    const BAD_ORG_NUMBER: &str = "559912-3452";
    const EMAIL: &str = "anna.berg@example.se";
    const PHONE: &str = "0455-123 45";
    const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    let nats = brygga_testkit::nats().await;
    let js = async_nats::jetstream::new(async_nats::connect(nats.url()).await.expect("connect"));
    for format in ["text", "json"] {
        let dir = tempfile::tempdir().expect("tmp");
        let log = dir.path().join("serve.log");
        let prefix = brygga_testkit::prefix();
        let mut child = brygga()
            .arg("serve")
            .env("NATS_URL", nats.url())
            .env("BRYGGA_PREFIX", &prefix)
            .env("BRYGGA_DATA_DIR", dir.path())
            .env("BRYGGA_LOG_FORMAT", format)
            .env("RUST_LOG", "trace")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("spawn");
        let mut banner = String::new();
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        stdout.read_line(&mut banner).expect("read");
        assert!(banner.contains("brygga serving"), "{banner}");
        let text = format!("Marine sensors for the Baltic Sea. Contact {EMAIL} or {PHONE}.");
        let mut good = org("pii-org", 1, "en", &text, &["marine sensors"]);
        good["org_number"] = ORG_NUMBER.into();
        let mut bad = org("pii-bad", 1, "en", &text, &["marine sensors"]);
        bad["org_number"] = BAD_ORG_NUMBER.into();
        // Of the wrong type: the typed reader's message would quote it.
        let mut typed = org("pii-typed", 1, "en", &text, &["marine sensors"]);
        typed["org_number"] = 5599123451u64.into();
        let event = inbound_event;
        let c = call("HORIZON-PII-1", 1, "Ocean sensors", "Marine sensors for the Baltic Sea.", "2027-09-23");
        // The good organisation comes traced: its trace id must be in the logs (and nothing else of it).
        let mut traced = async_nats::HeaderMap::new();
        traced.insert("traceparent", format!("00-{TRACE_ID}-00f067aa0ba902b7-01").as_str());
        js.publish_with_headers(
            format!("{prefix}.in.v1.organisation.registered"),
            traced,
            event("pii-2", "se.brygga.organisation.registered.v1", good).into(),
        )
        .await
        .expect("publish")
        .await
        .expect("ack");
        for (s, body) in [
            ("call.published", event("pii-1", "se.brygga.call.published.v1", c)),
            ("organisation.registered", event("pii-3", "se.brygga.organisation.registered.v1", bad)),
            ("organisation.registered", event("pii-4", "se.brygga.organisation.registered.v1", typed)),
        ] {
            js.publish(format!("{prefix}.in.v1.{s}"), body.into()).await.expect("publish").await.expect("ack");
        }
        // Wait for the recommendations and both dead letters.
        let start = Instant::now();
        loop {
            let mut rec = js.get_stream(format!("{}_REC", prefix.to_uppercase())).await.expect("rec stream");
            let mut dlq = js.get_stream(format!("{}_DLQ", prefix.to_uppercase())).await.expect("dlq stream");
            let done = rec.info().await.expect("info").state.messages > 0
                && dlq.info().await.expect("info").state.messages >= 2;
            if done {
                break;
            }
            assert!(start.elapsed() < Duration::from_secs(30), "not handled within 30 s");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let pid = child.id().to_string();
        assert!(Command::new("kill").args(["-TERM", &pid]).status().expect("kill").success());
        assert!(child.wait().expect("wait").success());
        let logs = std::fs::read_to_string(&log).expect("logs");
        assert!(logs.lines().count() > 50, "trace logs were written");
        let traced_lines = logs.lines().filter(|l| l.contains(TRACE_ID)).count();
        assert!(traced_lines > 0, "{format} logs carry the trace id");
        if format == "json" {
            let with_field = logs
                .lines()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .any(|v| v["trace_id"] == TRACE_ID || v.to_string().contains(&format!("\"trace_ids\":\"{TRACE_ID}")));
            assert!(with_field, "a JSON log line has the trace id as a field");
        }
        for pii in [ORG_NUMBER, BAD_ORG_NUMBER, "5599123451", EMAIL, PHONE] {
            let leaks: Vec<&str> = logs.lines().filter(|l| l.contains(pii)).take(3).collect();
            assert!(leaks.is_empty(), "{format} logs carry {pii}: {leaks:#?}");
        }
    }
}

/// Issue 7, bug 3: the NATS password was printed by `brygga config`, the INFO log line and the
/// banner, and the database password by the "no supporting driver" error. Here every line
/// of output, at every log level, of `config`, `serve` and failing commands, is searched for
/// each secret value.
#[tokio::test]
async fn secrets_never_appear_in_output_logs_or_errors() {
    const NATS_PW: &str = "NatsPw-7f3a9c";
    const PG_PW: &str = "PgPw-51d0e2";
    const Q_PW: &str = "QueryPw-0b77";
    const TOKEN: &str = "EnvToken-93kd";
    let nats = brygga_testkit::nats_with_config(Some(&format!(
        "authorization {{\n  user: brygga\n  password: {NATS_PW}\n}}\n"
    )))
    .await;
    let nats_url = nats.url().replace("nats://", &format!("nats://brygga:{NATS_PW}@"));
    let db = brygga_testkit::TestDb::new(brygga_testkit::Backend::Postgres).await;
    // Trust authentication ignores the password, so a real connection carries one.
    let db_url = db.url.replace("postgres://postgres@", &format!("postgres://postgres:{PG_PW}@"))
        + &format!("?application_name=brygga&password={Q_PW}");
    let secrets = [NATS_PW, PG_PW, Q_PW, TOKEN];
    let check = |what: &str, text: &str| {
        for s in secrets {
            assert!(!text.contains(s), "{what} printed a secret: {text}");
        }
    };

    let out = brygga()
        .arg("config")
        .env("NATS_URL", &nats_url)
        .env("DATABASE_URL", &db_url)
        .env("BRYGGA_NATS__TOKEN", TOKEN)
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    check("brygga config", &text);
    let cfg: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(cfg["nats_url"].as_str().is_some_and(|u| u.contains("***@127.0.0.1")), "{cfg}");
    assert!(cfg["database_url"].as_str().is_some_and(|u| u.contains("password=***")), "{cfg}");
    assert_eq!(cfg["nats"]["token"], "***");

    // serve at every log level, with an event handled, then SIGTERM.
    let dir = tempfile::tempdir().expect("tmp");
    let log = dir.path().join("serve.log");
    for format in ["text", "json"] {
        let mut child = brygga()
            .arg("serve")
            .env("NATS_URL", &nats_url)
            .env("DATABASE_URL", &db_url)
            .env("BRYGGA_PREFIX", brygga_testkit::prefix())
            .env("BRYGGA_DATA_DIR", dir.path())
            .env("BRYGGA_LOG_FORMAT", format)
            .env("RUST_LOG", "trace")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("spawn");
        let mut banner = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut banner).expect("read");
        assert!(banner.contains("brygga serving") && banner.contains("***"), "{banner}");
        check("the serve banner", &banner);
        let pid = child.id().to_string();
        assert!(Command::new("kill").args(["-TERM", &pid]).status().expect("kill").success());
        assert!(child.wait().expect("wait").success());
        let logs = std::fs::read_to_string(&log).expect("logs");
        assert!(logs.lines().count() > 20, "trace logs were written: {logs}");
        check(&format!("serve's {format} logs"), &logs);
    }

    // Failing commands: a mistyped database scheme, and a wrong NATS password.
    let typo = db_url.replace("postgres://", "postgress://");
    let err = one_line_error(brygga().arg("migrate").env("DATABASE_URL", &typo).output().expect("run"));
    check("a database error", &err);
    assert!(err.contains("***"), "{err}");
    let wrong = nats.url().replace("nats://", "nats://brygga:Wrong-NatsPw-1@");
    let out = brygga()
        .arg("serve")
        .env("NATS_URL", &wrong)
        .env("DATABASE_URL", &db_url)
        .env("RUST_LOG", "trace")
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let last = err.lines().last().unwrap_or_default();
    assert!(last.starts_with("error: NATS at") && last.contains("refused Brygga's credentials"), "{last}");
    assert!(!err.contains("Wrong-NatsPw-1"), "{err}");
    check("a NATS error", &err);
}

/// Issue 7, bug 6: `/readyz` took 10 s to answer during a database outage. On a PostgreSQL
/// the test owns and stops: 503 naming the database within a second, and ready again after.
#[tokio::test]
async fn readiness_answers_within_a_second_during_a_database_outage() {
    let pg = match brygga_testkit::OwnedPostgres::start() {
        Ok(pg) => pg,
        Err(why) => {
            eprintln!("SKIPPED: no PostgreSQL of the test's own: {why}");
            return;
        }
    };
    let dir = tempfile::tempdir().expect("tmp");
    let nats = brygga_testkit::nats().await;
    let envs = [("NATS_URL", nats.url()), ("DATABASE_URL", pg.url()), ("BRYGGA_PREFIX", brygga_testkit::prefix())];
    let (mut child, addr) = serve(dir.path(), &envs);
    assert_eq!(get(&addr, "/readyz").0, 200);
    pg.stop().expect("stop PostgreSQL");
    let mut slowest = Duration::ZERO;
    let mut last = (0, String::new());
    for _ in 0..5 {
        let t = Instant::now();
        last = get(&addr, "/readyz");
        slowest = slowest.max(t.elapsed());
    }
    assert_eq!(last.0, 503, "{}", last.1);
    assert!(last.1.contains("database"), "{}", last.1);
    assert!(slowest < Duration::from_secs(1), "readiness took {slowest:?}");
    pg.start_again().expect("restart PostgreSQL");
    let t = Instant::now();
    while get(&addr, "/readyz").0 != 200 {
        assert!(t.elapsed() < Duration::from_secs(30), "not ready again after the database returned");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    child.kill().expect("kill");
    child.wait().expect("wait");
}
