//! The advisor page in a real browser: `brygga serve` with an advisor configured (its password
//! hashed by `brygga hash-password`), a private nats-server and SQLite; headless Chromium driven
//! by playwright-core (`scripts/ensure-browser.sh` installs both) signs in, opens the mission
//! view, follows an organisation, dismisses a recommendation and sees it gone. Screenshots go to
//! `target/screenshots/advisor/`. Without a session, nothing: checked here over plain HTTP too.

use crate::{brygga, get, inbound_event, spawn_serve};
use brygga_testkit::fixtures::{call, org};
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

fn post(addr: &str, path: &str, body: &str) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("write");
    let mut resp = String::new();
    s.read_to_string(&mut resp).expect("read");
    let status = resp.split_whitespace().nth(1).and_then(|c| c.parse().ok()).expect("status line");
    (status, resp)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_advisor_signs_in_follows_a_mission_and_dismisses_a_recommendation_in_a_browser() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let ensure = Command::new(root.join("scripts/ensure-browser.sh")).output().expect("run ensure-browser.sh");
    assert!(ensure.status.success(), "scripts/ensure-browser.sh: {}", String::from_utf8_lossy(&ensure.stderr));
    let runner = String::from_utf8_lossy(&ensure.stdout).trim().to_owned();

    // The advisor's password, hashed by the command operators use.
    let mut hash = brygga().arg("hash-password").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().expect("spawn");
    hash.stdin.take().expect("stdin").write_all(b"havet och kusten\n").expect("write");
    let out = hash.wait_with_output().expect("hash-password");
    let hashed = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(hashed.starts_with("$argon2id$"), "{hashed}");

    let nats = brygga_testkit::nats().await;
    let dir = tempfile::tempdir().expect("tmp");
    let web_port = free_port();
    let config = dir.path().join("brygga.toml");
    std::fs::write(
        &config,
        format!(
            "[web]\naddr = \"127.0.0.1:{web_port}\"\nsession_key = \"a session key for the test\"\nsecure_cookies = false\n\
             [[web.advisors]]\nname = \"rådgivare\"\npassword_hash = \"{hashed}\"\n"
        ),
    )
    .expect("config");
    let envs = [("NATS_URL", nats.url()), ("BRYGGA_CONFIG", config.display().to_string())];
    let (_serving, _ops) = spawn_serve("all", &dir.path().join("data"), &envs, "advisor page");
    let web = format!("127.0.0.1:{web_port}");

    let client = async_nats::connect(nats.url()).await.expect("connect");
    let js = async_nats::jetstream::new(client);
    let text = "Vi bygger marine sensors för havet och Östersjön, ocean technology testing.";
    for (s, body) in [
        (
            "call.published",
            inbound_event(
                "w-1",
                "se.brygga.call.published.v1",
                call("HORIZON-OCEAN-1", 1, "Ocean technology testing sites", text, "2027-09-23"),
            ),
        ),
        (
            "call.published",
            inbound_event(
                "w-2",
                "se.brygga.call.published.v1",
                call("HORIZON-OCEAN-2", 1, "Marine sensors for the Baltic", text, "2027-10-23"),
            ),
        ),
        (
            "organisation.registered",
            inbound_event(
                "w-3",
                "se.brygga.organisation.registered.v1",
                org("havsoga", 1, "sv", text, &["marine sensors"]),
            ),
        ),
        (
            "organisation.registered",
            inbound_event("w-4", "se.brygga.organisation.registered.v1", org("kustlab", 1, "sv", text, &["ocean"])),
        ),
    ] {
        js.publish(format!("brygga.in.v1.{s}"), body.into()).await.expect("publish").await.expect("ack");
    }
    let start = Instant::now();
    loop {
        let n = js.get_stream("BRYGGA_REC").await.expect("stream").get_info().await.expect("info").state.messages;
        if n >= 4 {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "no recommendations within 30 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Without a session: a redirect to the sign-in form, never data; a form post is refused.
    for path in ["/advisor", "/advisor/org/havsoga", "/advisor/target/mission/ocean", "/advisor/orgs?q=havs"] {
        let (status, body) = get(&web, path);
        assert_eq!(status, 303, "{path}");
        assert!(!body.contains("havsoga") && !body.contains("Org "), "{path} leaked: {body}");
    }
    let forged = "csrf=x&recommendation_id=x&target_kind=call&target_id=HORIZON-OCEAN-1&feedback=dismissed";
    assert_eq!(post(&web, "/advisor/org/havsoga/feedback", forged).0, 403);
    assert_eq!(post(&web, "/advisor/login", "name=r%C3%A5dgivare&password=wrong").0, 401);

    let shots = root.join("target/screenshots/advisor");
    let run = Command::new("node")
        .arg(Path::new(&runner).join("advisor.mjs"))
        .args([&format!("http://{web}"), &shots.display().to_string(), "rådgivare", "havet och kusten", "ocean"])
        .env("NODE_PATH", Path::new(&runner).join("node_modules"))
        .current_dir(&runner)
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "the browser test failed:\n{stdout}\n{}", String::from_utf8_lossy(&run.stderr));
    assert!(stdout.contains("\"ok\":true"), "{stdout}");
    for shot in ["1-sign-in", "2-overview", "3-mission", "4-organisation", "5-dismissed"] {
        assert!(shots.join(format!("{shot}.png")).is_file(), "{shot}.png");
    }
}
