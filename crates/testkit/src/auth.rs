//! Credentials for tests of NATS security, made in the test: a CA with server and client
//! certificates (rcgen), nkeys, and an operator → account → user JWT chain with a `.creds`
//! file, so that a real nats-server can demand each kind of authentication.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use nkeys::KeyPair;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyUsagePurpose};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// PEM files of a test PKI: a CA, a server certificate for 127.0.0.1 / localhost, and a client
/// certificate, all signed by the CA.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub ca: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
}

impl TlsFiles {
    /// Generates the certificates into `dir`.
    pub fn generate(dir: &Path) -> Self {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.distinguished_name.push(DnType::CommonName, "Brygga test CA");
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = CertifiedIssuer::self_signed(ca_params, rcgen::KeyPair::generate().expect("key")).expect("CA");
        let leaf = |names: Vec<String>, cn: &str| {
            let mut p = CertificateParams::new(names).expect("params");
            p.distinguished_name.push(DnType::CommonName, cn);
            let key = rcgen::KeyPair::generate().expect("key");
            let cert = p.signed_by(&key, &ca).expect("sign");
            (cert.pem(), key.serialize_pem())
        };
        let (server_cert, server_key) = leaf(vec!["localhost".into(), "127.0.0.1".into()], "nats-server");
        let (client_cert, client_key) = leaf(vec!["brygga-client".into()], "brygga-client");
        let write = |name: &str, text: &str| {
            let p = dir.join(name);
            std::fs::write(&p, text).expect("write PEM");
            p
        };
        Self {
            ca: write("ca.pem", &ca.pem()),
            server_cert: write("server.pem", &server_cert),
            server_key: write("server-key.pem", &server_key),
            client_cert: write("client.pem", &client_cert),
            client_key: write("client-key.pem", &client_key),
        }
    }

    /// The server configuration block: TLS required, client certificates verified.
    pub fn server_config(&self) -> String {
        format!(
            "tls {{\n  cert_file: {:?}\n  key_file: {:?}\n  ca_file: {:?}\n  verify: true\n}}\n",
            self.server_cert, self.server_key, self.ca
        )
    }
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// A NATS JWT (`ed25519-nkey`) with `claims.nats = nats`, issued by `issuer` for `subject`.
fn jwt(issuer: &KeyPair, subject: &str, name: &str, nats: Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(json!({"typ": "JWT", "alg": "ed25519-nkey"}).to_string());
    let claims = json!({
        "jti": uuid::Uuid::new_v4().simple().to_string().to_uppercase(),
        "iat": now(), "iss": issuer.public_key(), "sub": subject, "name": name, "nats": nats,
    });
    let body = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signed = format!("{header}.{body}");
    let sig = issuer.sign(signed.as_bytes()).expect("sign JWT");
    format!("{signed}.{}", URL_SAFE_NO_PAD.encode(sig))
}

/// Operator mode (decentralised JWT authentication) with one JetStream-enabled account and
/// one user whose `.creds` file is written for the client.
#[derive(Debug)]
pub struct JwtAccount {
    /// The server configuration block (operator, memory resolver with the account preloaded).
    pub server_config: String,
    /// The user's `.creds` file.
    pub creds_file: PathBuf,
}

impl JwtAccount {
    pub fn generate(dir: &Path) -> Self {
        let operator = KeyPair::new_operator();
        let account = KeyPair::new_account();
        let user = KeyPair::new_user();
        let op_jwt =
            jwt(&operator, &operator.public_key(), "brygga-test-op", json!({"type": "operator", "version": 2}));
        let unlimited = json!({
            "subs": -1, "conn": -1, "leaf": -1, "imports": -1, "exports": -1, "data": -1, "payload": -1,
            "wildcards": true, "mem_storage": -1, "disk_storage": -1, "streams": -1, "consumer": -1
        });
        let acc_jwt = jwt(
            &operator,
            &account.public_key(),
            "brygga",
            json!({"type": "account", "version": 2, "limits": unlimited}),
        );
        // JetStream in operator mode needs a system account.
        let system = KeyPair::new_account();
        let sys_jwt = jwt(&operator, &system.public_key(), "SYS", json!({"type": "account", "version": 2}));
        let user_jwt = jwt(
            &account,
            &user.public_key(),
            "brygga-matcher",
            json!({"type": "user", "version": 2, "pub": {}, "sub": {}, "subs": -1, "data": -1, "payload": -1}),
        );
        let seed = user.seed().expect("seed");
        let creds = format!(
            "-----BEGIN NATS USER JWT-----\n{user_jwt}\n------END NATS USER JWT------\n\n\
             -----BEGIN USER NKEY SEED-----\n{seed}\n------END USER NKEY SEED------\n"
        );
        let creds_file = dir.join("brygga.creds");
        std::fs::write(&creds_file, creds).expect("write creds");
        let server_config = format!(
            "operator: {op_jwt}\nsystem_account: {sys}\nresolver: MEMORY\n\
             resolver_preload: {{\n  {sys}: {sys_jwt}\n  {acc}: {acc_jwt}\n}}\n",
            sys = system.public_key(),
            acc = account.public_key()
        );
        Self { server_config, creds_file }
    }
}

/// A user nkey: the seed (for the client's file) and the server configuration that admits it.
pub fn nkey_user() -> (String, String) {
    let user = KeyPair::new_user();
    let config = format!("authorization {{\n  users: [ {{ nkey: {} }} ]\n}}\n", user.public_key());
    (user.seed().expect("seed"), config)
}
