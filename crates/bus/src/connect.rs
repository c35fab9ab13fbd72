//! Connecting to NATS: credentials from the URL or from [`NatsSettings`] (user/password,
//! token, nkey seed, creds file, each from a file or the environment), TLS with a CA and a
//! client certificate, a start-up retry for an unreachable server, and a version gate that
//! runs only once the server has answered. Errors name the server by its redacted URL.

use crate::{Bus, BusError};
use async_nats::{ConnectErrorKind, ConnectOptions};
use brygga_runtime::secret::redact_url;
use brygga_runtime::{ConsumerSettings, ExposeSecret, NatsSettings, StreamSettings};
use std::path::Path;
use std::time::{Duration, Instant};
use tracing::{info, warn};
use url::Url;

/// Why the connection options could not be built.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("reading nats.{setting} from {path}: {source}")]
    File {
        setting: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("nats.{0} is set but empty")]
    Empty(&'static str),
    #[error("NATS URL {0} does not parse")]
    BadUrl(String),
    #[error("nats.user is set without nats.password or nats.password_file")]
    UserWithoutPassword,
    #[error("nats.password or nats.password_file is set without nats.user")]
    PasswordWithoutUser,
    #[error("nats.tls_cert_file and nats.tls_key_file go together: set both or neither")]
    CertWithoutKey,
    #[error("more than one NATS authentication method is set: {0}; choose one")]
    Ambiguous(String),
}

fn read_secret(setting: &'static str, path: &Path) -> Result<String, AuthError> {
    let s = std::fs::read_to_string(path).map_err(|source| AuthError::File {
        setting,
        path: path.display().to_string(),
        source,
    })?;
    let s = s.trim().to_owned();
    if s.is_empty() {
        return Err(AuthError::Empty(setting));
    }
    Ok(s)
}

/// Credentials found in a NATS URL: user and password, or a token alone in the user position.
#[derive(Debug, Clone, PartialEq, Eq)]
struct UrlCredentials {
    user: String,
    password: Option<String>,
}

/// The server list without credentials, and the credentials it carried, percent-decoded.
fn split_credentials(url: &str) -> Result<(String, Option<UrlCredentials>), AuthError> {
    let mut creds = None;
    let mut servers = Vec::new();
    for raw in url.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let with_scheme = if raw.contains("://") { raw.to_owned() } else { format!("nats://{raw}") };
        let mut u = Url::parse(&with_scheme).map_err(|_| AuthError::BadUrl(redact_url(raw)))?;
        let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
        if !u.username().is_empty() {
            creds = Some(UrlCredentials { user: decode(u.username()), password: u.password().map(decode) });
            let _ = u.set_username("");
            let _ = u.set_password(None);
        }
        servers.push(u.to_string().trim_end_matches('/').to_owned());
    }
    Ok((servers.join(","), creds))
}

/// Connection options from the settings and the credentials found in the URL.
fn options(
    settings: &NatsSettings,
    url_creds: Option<UrlCredentials>,
    tls_url: bool,
) -> Result<ConnectOptions, AuthError> {
    let mut opts = ConnectOptions::new();
    let mut methods = Vec::new();
    if let Some(UrlCredentials { user, password }) = url_creds {
        match password {
            Some(p) => opts = opts.user_and_password(user, p),
            None => opts = opts.token(user),
        }
        methods.push("credentials in the URL");
    }
    let password = match (&settings.password, &settings.password_file) {
        (_, Some(f)) => Some(read_secret("password_file", f)?),
        (Some(p), None) => Some(p.expose_secret().to_owned()),
        (None, None) => None,
    };
    match (&settings.user, password) {
        (Some(u), Some(p)) => {
            opts = opts.user_and_password(u.clone(), p);
            methods.push("user/password");
        }
        (Some(_), None) => return Err(AuthError::UserWithoutPassword),
        (None, Some(_)) => return Err(AuthError::PasswordWithoutUser),
        (None, None) => {}
    }
    let token = match (&settings.token, &settings.token_file) {
        (_, Some(f)) => Some(read_secret("token_file", f)?),
        (Some(t), None) => Some(t.expose_secret().to_owned()),
        (None, None) => None,
    };
    if let Some(t) = token {
        opts = opts.token(t);
        methods.push("token");
    }
    if let Some(f) = &settings.nkey_seed_file {
        opts = opts.nkey(read_secret("nkey_seed_file", f)?);
        methods.push("nkey");
    }
    if let Some(f) = &settings.creds_file {
        // Not trimmed: the creds parser needs the newline after the seed's END line.
        let creds = read_secret("creds_file", f)? + "\n";
        opts = opts.credentials(&creds).map_err(|source| AuthError::File {
            setting: "creds_file",
            path: f.display().to_string(),
            source,
        })?;
        methods.push("creds file");
    }
    if methods.len() > 1 {
        return Err(AuthError::Ambiguous(methods.join(", ")));
    }
    if let Some(ca) = &settings.tls_ca_file {
        opts = opts.add_root_certificates(ca.clone());
    }
    match (&settings.tls_cert_file, &settings.tls_key_file) {
        (Some(c), Some(k)) => opts = opts.add_client_certificate(c.clone(), k.clone()),
        (None, None) => {}
        _ => return Err(AuthError::CertWithoutKey),
    }
    let tls = settings.tls_required || tls_url || settings.tls_ca_file.is_some() || settings.tls_cert_file.is_some();
    Ok(opts.require_tls(tls))
}

/// A TLS set-up or handshake failure: async-nats reports handshake errors as I/O errors
/// that wrap a rustls error. Waiting does not fix them, so they are not retried.
fn is_tls_failure(e: &async_nats::ConnectError) -> bool {
    if e.kind() == ConnectErrorKind::Tls {
        return true;
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = source {
        if s.is::<async_nats::rustls::Error>() {
            return true;
        }
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            if io.get_ref().is_some_and(|inner| inner.is::<async_nats::rustls::Error>()) {
                return true;
            }
        }
        source = s.source();
    }
    false
}

/// The error with its sources, one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let m = s.to_string();
        if !out.contains(&m) {
            out.push_str(": ");
            out.push_str(&m);
        }
        source = s.source();
    }
    out
}

impl Bus {
    /// Connects with the configured credentials and TLS, retrying an unreachable server for
    /// `nats.connect_retry_secs`, then refuses servers older than 2.10 or without JetStream.
    pub async fn connect(
        url: &str,
        settings: &NatsSettings,
        prefix: &str,
        streams: StreamSettings,
        consumers: ConsumerSettings,
    ) -> Result<Self, BusError> {
        let shown = redact_url(url);
        let (servers, url_creds) = split_credentials(url)?;
        let tls_url = servers.split(',').any(|s| s.starts_with("tls://"));
        let started = Instant::now();
        let budget = Duration::from_secs(settings.connect_retry_secs);
        let mut delay = Duration::from_millis(200);
        // Every server of a cluster: the client picks one and fails over to the others.
        let addrs: Vec<async_nats::ServerAddr> = servers
            .split(',')
            .map(|s| s.parse().map_err(|_| AuthError::BadUrl(redact_url(s))))
            .collect::<Result<_, _>>()?;
        let client = loop {
            let opts = options(settings, url_creds.clone(), tls_url)?
                .name(format!("brygga-{prefix}"))
                .connection_timeout(Duration::from_secs(5));
            match opts.connect(addrs.as_slice()).await {
                Ok(c) => break c,
                Err(e) => match e.kind() {
                    ConnectErrorKind::AuthorizationViolation | ConnectErrorKind::Authentication => {
                        return Err(BusError::Unauthorised { url: shown, message: chain(&e) })
                    }
                    _ if is_tls_failure(&e) => return Err(BusError::Tls { url: shown, message: chain(&e) }),
                    ConnectErrorKind::ServerParse => return Err(AuthError::BadUrl(shown).into()),
                    _ if started.elapsed() + delay < budget => {
                        warn!(url = %shown, error = %e, retry_in = ?delay, "NATS unreachable; retrying");
                        tokio::time::sleep(delay).await;
                        delay = (delay * 2).min(Duration::from_secs(5));
                    }
                    _ => {
                        let waited = started.elapsed().as_secs();
                        return Err(BusError::Unreachable { url: shown, waited, message: chain(&e) });
                    }
                },
            }
        };
        // Without retry_on_initial_connect, connect returns after the server's INFO: the
        // version is known here (it was read as empty before, and reported as "too old").
        let info = client.server_info();
        let version = brygga_runtime::nats_server::parse_version(&info.version);
        if version.is_none_or(|v| v < brygga_runtime::nats_server::MIN_SERVER) {
            return Err(BusError::ServerTooOld(info.version));
        }
        if !info.jetstream {
            return Err(BusError::NoJetStream);
        }
        info!(url = %shown, version = %info.version, "connected to NATS");
        let js = async_nats::jetstream::new(client.clone());
        Ok(Self { client, js, prefix: prefix.to_owned(), streams, consumers })
    }
}

#[cfg(test)]
mod tests {
    use super::{split_credentials, UrlCredentials};

    #[test]
    fn credentials_are_taken_out_of_the_url() {
        let (s, c) = split_credentials("nats://al%40ce:p%3Ass@n1:4222, tls://n2:4222").expect("parse");
        assert_eq!(s, "nats://n1:4222,tls://n2:4222");
        assert_eq!(c, Some(UrlCredentials { user: "al@ce".into(), password: Some("p:ss".into()) }));
        let (s, c) = split_credentials("tok@127.0.0.1:4222").expect("parse");
        assert_eq!(s, "nats://127.0.0.1:4222");
        assert_eq!(c, Some(UrlCredentials { user: "tok".into(), password: None }));
    }
}
