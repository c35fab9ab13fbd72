//! Issue 7, bug 1: Brygga could not connect to a NATS server that requires authentication
//! (credentials in the URL were ignored, then the empty version read as "too old"), and had
//! no settings for tokens, nkeys, creds or TLS. Each method here against a real nats-server.

use brygga_bus::{Bus, BusError};
use brygga_events::subject;
use brygga_runtime::{ConsumerSettings, NatsSettings, SecretString, StreamSettings};
use brygga_testkit::auth::{nkey_user, JwtAccount, TlsFiles};
use std::path::Path;

/// Connects, creates the streams and stores one event: authentication and JetStream work.
async fn works(url: &str, settings: &NatsSettings) -> Result<(), BusError> {
    let bus =
        Bus::connect(url, settings, &brygga_testkit::prefix(), StreamSettings::default(), ConsumerSettings::default())
            .await?;
    bus.ensure_streams().await?;
    let s = subject::inbound_call(bus.prefix(), "published");
    let ack = bus.publish_raw(&s, "auth-probe", "t", "{}".into()).await?;
    assert_eq!(ack.sequence, 1);
    Ok(())
}

fn url_with(nats: &brygga_testkit::TestNats, userinfo: &str) -> String {
    nats.url().replace("nats://", &format!("nats://{userinfo}@"))
}

fn secret_file(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, format!("{text}\n")).expect("write secret");
    p
}

fn assert_unauthorised(r: Result<(), BusError>) {
    match r {
        Err(e @ BusError::Unauthorised { .. }) => {
            let m = e.to_string();
            assert!(!m.contains("too old"), "{m}");
        }
        other => panic!("expected Unauthorised, got {other:?}"),
    }
}

#[tokio::test]
async fn user_and_password_from_the_url_and_from_a_file() {
    let nats =
        brygga_testkit::nats_with_config(Some("authorization {\n  user: alice\n  password: \"s3cr3t pw:@\"\n}\n"))
            .await;
    let dir = tempfile::tempdir().expect("tmp");
    let none = NatsSettings::default();
    works(&url_with(&nats, "alice:s3cr3t%20pw%3A%40"), &none).await.expect("URL credentials");
    let from_file = NatsSettings {
        user: Some("alice".into()),
        password_file: Some(secret_file(dir.path(), "pw", "s3cr3t pw:@")),
        ..Default::default()
    };
    works(&nats.url(), &from_file).await.expect("password file");
    let from_env = NatsSettings {
        user: Some("alice".into()),
        password: Some(SecretString::from("s3cr3t pw:@")),
        ..Default::default()
    };
    works(&nats.url(), &from_env).await.expect("password setting");
    assert_unauthorised(works(&url_with(&nats, "alice:wrong"), &none).await);
    assert_unauthorised(works(&nats.url(), &none).await);
    let e = works(&url_with(&nats, "alice:wrong"), &none).await.expect_err("refused").to_string();
    assert!(!e.contains("wrong") && e.contains("***"), "the password is not printed: {e}");
}

#[tokio::test]
async fn token_from_the_url_and_from_a_file() {
    let nats = brygga_testkit::nats_with_config(Some("authorization {\n  token: t0ken-xyz\n}\n")).await;
    let dir = tempfile::tempdir().expect("tmp");
    works(&url_with(&nats, "t0ken-xyz"), &NatsSettings::default()).await.expect("URL token");
    let s = NatsSettings { token_file: Some(secret_file(dir.path(), "token", "t0ken-xyz")), ..Default::default() };
    works(&nats.url(), &s).await.expect("token file");
    assert_unauthorised(works(&url_with(&nats, "nope"), &NatsSettings::default()).await);
}

#[tokio::test]
async fn nkey_seed_file() {
    let (seed, config) = nkey_user();
    let nats = brygga_testkit::nats_with_config(Some(&config)).await;
    let dir = tempfile::tempdir().expect("tmp");
    let s = NatsSettings { nkey_seed_file: Some(secret_file(dir.path(), "seed", &seed)), ..Default::default() };
    works(&nats.url(), &s).await.expect("nkey");
    let (other, _) = nkey_user();
    let s = NatsSettings { nkey_seed_file: Some(secret_file(dir.path(), "other", &other)), ..Default::default() };
    assert_unauthorised(works(&nats.url(), &s).await);
}

#[tokio::test]
async fn creds_file_in_operator_mode() {
    let dir = tempfile::tempdir().expect("tmp");
    let account = JwtAccount::generate(dir.path());
    let nats = brygga_testkit::nats_with_config(Some(&account.server_config)).await;
    let s = NatsSettings { creds_file: Some(account.creds_file.clone()), ..Default::default() };
    works(&nats.url(), &s).await.expect("creds");
    assert_unauthorised(works(&nats.url(), &NatsSettings::default()).await);
}

#[tokio::test]
async fn tls_with_a_ca_and_a_client_certificate() {
    let dir = tempfile::tempdir().expect("tmp");
    let tls = TlsFiles::generate(dir.path());
    let nats = brygga_testkit::nats_with_config(Some(&tls.server_config())).await;
    let url = nats.url().replace("nats://", "tls://");
    let full = NatsSettings {
        tls_ca_file: Some(tls.ca.clone()),
        tls_cert_file: Some(tls.client_cert.clone()),
        tls_key_file: Some(tls.client_key.clone()),
        ..Default::default()
    };
    works(&url, &full).await.expect("mutual TLS");
    works(&nats.url(), &full).await.expect("the tls_* files imply TLS on a nats:// URL");
    // Without the CA the server's certificate is not trusted; without a client certificate
    // the server refuses the client. Neither is retried, and neither is "too old".
    let no_ca = NatsSettings { tls_ca_file: None, ..full.clone() };
    let no_client = NatsSettings { tls_cert_file: None, tls_key_file: None, ..full.clone() };
    for (what, s) in [("no CA", no_ca), ("no client certificate", no_client)] {
        let started = std::time::Instant::now();
        match works(&url, &s).await {
            Err(BusError::Tls { .. }) => {}
            other => panic!("{what}: expected a TLS refusal, got {other:?}"),
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "{what}: a TLS failure is not retried");
    }
}

#[tokio::test]
async fn an_unreachable_server_is_reported_as_unreachable() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let s = NatsSettings { connect_retry_secs: 1, ..Default::default() };
    let url = format!("nats://bob:hunter22@127.0.0.1:{port}");
    match works(&url, &s).await {
        Err(e @ BusError::Unreachable { .. }) => {
            let m = e.to_string();
            assert!(m.contains("unreachable") && !m.contains("hunter22") && !m.contains("too old"), "{m}");
        }
        other => panic!("expected Unreachable, got {other:?}"),
    }
}

#[tokio::test]
async fn ambiguous_or_incomplete_settings_are_one_clear_error() {
    let nats = brygga_testkit::nats().await;
    let s = NatsSettings { user: Some("alice".into()), ..Default::default() };
    let e = works(&nats.url(), &s).await.expect_err("incomplete").to_string();
    assert!(e.contains("nats.user is set without nats.password"), "{e}");
    let s =
        NatsSettings { token: Some(SecretString::from("a")), nkey_seed_file: Some("/x".into()), ..Default::default() };
    let e = works(&nats.url(), &s).await.expect_err("missing file").to_string();
    assert!(e.contains("nats.nkey_seed_file") && e.contains("/x"), "{e}");
    let dir = tempfile::tempdir().expect("tmp");
    let (seed, _) = nkey_user();
    let s = NatsSettings {
        token: Some(SecretString::from("a")),
        nkey_seed_file: Some(secret_file(dir.path(), "seed", &seed)),
        ..Default::default()
    };
    let e = works(&nats.url(), &s).await.expect_err("ambiguous").to_string();
    assert!(e.contains("more than one") && e.contains("token") && e.contains("nkey"), "{e}");
}
