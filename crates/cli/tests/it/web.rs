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
             [[web.advisors]]\nname = \"rådgivare\"\npassword_hash = \"{hashed}\"\n\
             [links]\nbase_url = \"http://127.0.0.1:{web_port}\"\nkey = \"a link key for the test\"\n"
        ),
    )
    .expect("config");
    let envs = [("NATS_URL", nats.url()), ("BRYGGA_CONFIG", config.display().to_string())];
    let (_serving, _ops) = spawn_serve("all", &dir.path().join("data"), &envs, "advisor page");
    let web = format!("127.0.0.1:{web_port}");

    let nats_client = async_nats::connect(nats.url()).await.expect("connect");
    let js = async_nats::jetstream::new(nats_client.clone());
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

    organisations_reach_only_their_own_page_through_signed_links(&web, &nats_client).await;

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

/// The active recommendation ids of `org` (of `kind`, if given), from the query service.
async fn active_ids(nats: &async_nats::Client, org: &str, kind: Option<&str>) -> Vec<String> {
    let ask = serde_json::json!({"organisation_id": org, "kind": kind});
    let reply = nats.request("brygga.query.v1.recommendations", ask.to_string().into()).await.expect("query answered");
    let v: serde_json::Value = serde_json::from_slice(&reply.payload).expect("json");
    let list = v["recommendations"].as_array().cloned().unwrap_or_default();
    list.iter().filter_map(|r| r["recommendation_id"].as_str().map(str::to_owned)).collect()
}

/// An organisation's links show its own recommendations and nobody else's; an altered link, or
/// one whose recommendation is another organisation's, does nothing; a GET never acts; the
/// dismiss link's POST withdraws the recommendation.
async fn organisations_reach_only_their_own_page_through_signed_links(web: &str, nats: &async_nats::Client) {
    use brygga_runtime::links::{Action, Links};
    let links = Links::new(b"a link key for the test".to_vec(), &format!("http://{web}"), 3_600);
    let now = chrono::Utc::now().timestamp();
    let mine = active_ids(nats, "havsoga", None).await;
    let theirs = active_ids(nats, "kustlab", None).await;
    assert!(!mine.is_empty() && !theirs.is_empty(), "both have recommendations");
    let page = links.token("havsoga", Action::Page, "", now);
    let (status, body) = get(web, &format!("/o/{page}"));
    assert_eq!(status, 200, "{body}");
    for id in &mine {
        assert!(body.contains(id.as_str()), "havsoga's page lacks its recommendation {id}");
    }
    for id in &theirs {
        assert!(!body.contains(id.as_str()), "havsoga's page shows kustlab's recommendation {id}");
    }
    // Altered: refused, nothing shown.
    let mut altered = page.clone();
    let last = altered.pop().expect("char");
    altered.push(if last == '0' { '1' } else { '0' });
    let (status, body) = get(web, &format!("/o/{altered}"));
    assert_eq!(status, 403);
    assert!(!mine.iter().any(|id| body.contains(id.as_str())));
    // havsoga's link naming kustlab's recommendation: refused.
    let cross = links.token("havsoga", Action::Dismiss, &theirs[0], now);
    assert_eq!(post(web, &format!("/o/{cross}"), "").0, 403);
    assert_eq!(active_ids(nats, "kustlab", None).await, theirs, "kustlab's recommendations unchanged");
    // A GET of a dismiss link only shows its button; the POST dismisses.
    let calls = active_ids(nats, "havsoga", Some("call")).await;
    let target = calls.first().expect("havsoga has a call").clone();
    let dismiss = links.token("havsoga", Action::Dismiss, &target, now);
    let (status, body) = get(web, &format!("/o/{dismiss}"));
    assert!(status == 200 && body.contains("<form method=\"post\">"), "{body}");
    assert!(active_ids(nats, "havsoga", None).await.contains(&target), "a GET changes nothing");
    assert_eq!(post(web, &format!("/o/{dismiss}"), "").0, 200);
    // A mail client's one-click unsubscribe (RFC 8058) posts to the opt-out link.
    let opt_out = links.token("havsoga", Action::OptOut, "", now);
    assert_eq!(post(web, &format!("/o/{opt_out}"), "List-Unsubscribe=One-Click").0, 200);
    // The page holds the organisation's preferences as a form: refused naming the field (not
    // echoing the address) when wrong, published as the next version when right.
    let (status, body) = post(web, &format!("/o/{page}"), "channel=email&address=not-an-address&cadence=weekly");
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("address:") && !body.contains("not-an-address"), "{body}");
    let form = "channel=email&address=innovation%40havsoga.example&language=en&cadence=weekly&quiet_from=22%3A00&quiet_to=07%3A00&opt_out=partner";
    assert_eq!(post(web, &format!("/o/{page}"), form).0, 200);
    let start = Instant::now();
    loop {
        let (_, body) = get(web, &format!("/o/{page}"));
        let stored = body.contains("value=\"innovation@havsoga.example\"")
            && body.contains("<option value=\"weekly\" selected>")
            && body.contains("value=\"22:00\"")
            && body.contains("value=\"partner\" checked");
        if stored {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "the preferences were not stored in 30 s:\n{body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let start = Instant::now();
    while active_ids(nats, "havsoga", None).await.contains(&target) {
        assert!(start.elapsed() < Duration::from_secs(30), "the dismissed recommendation was not withdrawn in 30 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
