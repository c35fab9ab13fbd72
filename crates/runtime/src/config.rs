//! Configuration: defaults < TOML file < environment (12-factor).
//!
//! `NATS_URL` and `DATABASE_URL` are read as they are; every other key comes from
//! `BRYGGA_<KEY>`, nested keys joined with `__` (`BRYGGA_RANKER__FLOOR=40`).

use brygga_domain::RankerConfig;
use chrono::NaiveDate;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Stream settings applied when streams are created or updated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StreamSettings {
    pub replicas: usize,
    /// How long messages are kept, in days (0 = forever).
    pub max_age_days: u64,
    /// Window in which a repeated `Nats-Msg-Id` is dropped, in seconds.
    pub duplicate_window_secs: u64,
    pub storage: Storage,
}

/// Where JetStream keeps Brygga's streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Storage {
    File,
    Memory,
}

impl std::fmt::Display for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::File => "file",
            Self::Memory => "memory",
        })
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// For people: one compact line per event.
    Text,
    /// For log pipelines: one JSON object per line.
    Json,
}

impl Default for StreamSettings {
    fn default() -> Self {
        Self { replicas: 1, max_age_days: 30, duplicate_window_secs: 600, storage: Storage::File }
    }
}

/// Durable consumer settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConsumerSettings {
    /// Deliveries before a failing message is dead-lettered.
    pub max_deliver: i64,
    pub ack_wait_secs: u64,
    /// Delays before redelivery after a transient failure, in milliseconds.
    pub backoff_ms: Vec<u64>,
    /// Messages a durable consumer may hold unacknowledged; the server delivers no more until
    /// some are acknowledged (a slow consumer waits at this bound, it loses nothing).
    pub max_ack_pending: i64,
}

impl Default for ConsumerSettings {
    fn default() -> Self {
        Self { max_deliver: 5, ack_wait_secs: 30, backoff_ms: vec![500, 2_000, 10_000, 30_000], max_ack_pending: 1_000 }
    }
}

/// How to authenticate to NATS and secure the connection. Secrets come from files (Kubernetes
/// Secrets mounted as files) or from the environment, never from the printed configuration:
/// `brygga config` shows `***` for every secret that is set. Credentials in `NATS_URL`
/// (`nats://user:pass@host`, `nats://token@host`) work too, and are redacted the same way.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NatsSettings {
    /// User name for user/password authentication.
    pub user: Option<String>,
    /// Password (`BRYGGA_NATS__PASSWORD`); prefer `password_file`.
    #[serde(serialize_with = "masked")]
    pub password: Option<SecretString>,
    pub password_file: Option<PathBuf>,
    /// Token (`BRYGGA_NATS__TOKEN`); prefer `token_file`.
    #[serde(serialize_with = "masked")]
    pub token: Option<SecretString>,
    pub token_file: Option<PathBuf>,
    /// A file holding an nkey seed (`SU…`).
    pub nkey_seed_file: Option<PathBuf>,
    /// A `.creds` file (user JWT and nkey seed), as `nsc` writes it.
    pub creds_file: Option<PathBuf>,
    /// PEM file of the CA that signed the server's certificate.
    pub tls_ca_file: Option<PathBuf>,
    /// PEM client certificate and key, for servers that verify clients.
    pub tls_cert_file: Option<PathBuf>,
    pub tls_key_file: Option<PathBuf>,
    /// Refuse a connection without TLS (implied by a `tls://` URL or any `tls_*` file).
    pub tls_required: bool,
    /// How long start-up retries an unreachable server before giving up (authorisation and
    /// TLS failures are not retried: they will not pass by waiting).
    pub connect_retry_secs: u64,
}

impl Default for NatsSettings {
    fn default() -> Self {
        Self {
            user: None,
            password: None,
            password_file: None,
            token: None,
            token_file: None,
            nkey_seed_file: None,
            creds_file: None,
            tls_ca_file: None,
            tls_cert_file: None,
            tls_key_file: None,
            tls_required: false,
            connect_retry_secs: 30,
        }
    }
}

/// How matcher replicas share the work.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MatcherSettings {
    /// Organisations are split into this many partitions by a hash of their id; each has a
    /// durable consumer, and each is worked on by one replica at a time. More partitions than
    /// replicas lets replicas be added later; changing it makes the new consumers replay the
    /// registry stream (harmless, but work). 1-256.
    pub partitions: u16,
    /// A replica that stops renewing its partitions loses them after this many seconds, and
    /// the others take them over.
    pub lease_ttl_secs: u64,
    /// This replica's name in the lease bucket (default: host name and process id).
    pub replica: Option<String>,
    /// Once no event has arrived for this many seconds, the matcher relearns its statistics
    /// and re-ranks every organisation it holds, so that rankings no longer depend on the
    /// order events came in (see the README's "Reliability").
    pub converge_after_secs: u64,
    /// While a partition's consumer is behind (a burst), a new call or partner that enters
    /// the lists of organisations other than the one that changed waits, at most this many
    /// seconds, and is merged in with whatever else entered meanwhile once the consumer has
    /// caught up: one change per list instead of one per displacement. 0: never wait.
    pub settle_secs: u64,
}

impl Default for MatcherSettings {
    fn default() -> Self {
        Self { partitions: 1, lease_ttl_secs: 10, replica: None, converge_after_secs: 30, settle_secs: 15 }
    }
}

/// The notification service (`serve --role notify`; in `--role all` when a channel is set up).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotifySettings {
    /// SMTP server: `smtp://host:25` (plain; `?tls=required` for STARTTLS), `smtps://host:465`
    /// (TLS); credentials as `smtp://user:pass@host`. A secret: printed redacted. None: e-mail
    /// is not sent (such messages fail and are dead-lettered).
    #[serde(serialize_with = "redacted")]
    pub smtp_url: Option<SecretString>,
    /// The sender, `Name <address>`.
    pub from: String,
    /// The key webhooks are signed with (`Brygga-Signature`); prefer `webhook_secret_file`.
    #[serde(serialize_with = "masked")]
    pub webhook_secret: Option<SecretString>,
    pub webhook_secret_file: Option<PathBuf>,
    /// Longest SMTP session or webhook request, in seconds.
    pub timeout_secs: u64,
    /// Attempts before a message is dead-lettered (transient failures; permanent ones at once).
    pub max_attempts: u32,
    /// Between delivery rounds that found nothing due, in milliseconds.
    pub poll_ms: u64,
    /// Between scans for deadline reminders, in seconds.
    pub reminder_interval_secs: u64,
    /// An update is worth a message when the score moved by at least this (0-100).
    pub material_score_delta: u8,
    /// Daily and weekly (Monday) digests go out at this hour, UTC.
    pub digest_hour_utc: u32,
}

impl Default for NotifySettings {
    fn default() -> Self {
        Self {
            smtp_url: None,
            from: "Brygga <brygga@localhost>".into(),
            webhook_secret: None,
            webhook_secret_file: None,
            timeout_secs: 10,
            max_attempts: 6,
            poll_ms: 1_000,
            reminder_interval_secs: 3_600,
            material_score_delta: 10,
            digest_hour_utc: 6,
        }
    }
}

impl NotifySettings {
    /// The webhook key: `webhook_secret`, else the contents of `webhook_secret_file` (trimmed).
    pub fn webhook_key(&self) -> Result<Option<SecretString>, ConfigError> {
        if let Some(s) = &self.webhook_secret {
            return Ok(Some(s.clone()));
        }
        match &self.webhook_secret_file {
            Some(f) => std::fs::read_to_string(f)
                .map(|s| Some(SecretString::from(s.trim().to_owned())))
                .map_err(|e| ConfigError::Invalid(format!("notify.webhook_secret_file {}: {e}", f.display()))),
            None => Ok(None),
        }
    }

    /// Whether any channel is set up (then `--role all` runs the service).
    pub fn configured(&self) -> bool {
        self.smtp_url.is_some() || self.webhook_secret.is_some() || self.webhook_secret_file.is_some()
    }
}

/// Signed links for organisations (`links.rs`): in notifications, honoured by the advisor page's
/// `/o/<token>` routes. Both sides need the same key.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LinkSettings {
    /// The advisor page as the public reaches it (`https://brygga.example.se`); none: no links.
    pub base_url: Option<String>,
    /// The key links are signed with; prefer `key_file`.
    #[serde(serialize_with = "masked")]
    pub key: Option<SecretString>,
    pub key_file: Option<PathBuf>,
    /// How long a link works, in days.
    pub ttl_days: u64,
}

impl Default for LinkSettings {
    fn default() -> Self {
        Self { base_url: None, key: None, key_file: None, ttl_days: 60 }
    }
}

impl LinkSettings {
    /// The links, when a base URL and a key are set.
    pub fn links(&self) -> Result<Option<crate::links::Links>, ConfigError> {
        let key = match (&self.key, &self.key_file) {
            (Some(k), _) => k.expose_secret().to_owned(),
            (None, Some(f)) => std::fs::read_to_string(f)
                .map(|s| s.trim().to_owned())
                .map_err(|e| ConfigError::Invalid(format!("links.key_file {}: {e}", f.display())))?,
            (None, None) => return Ok(None),
        };
        let ttl = i64::try_from(self.ttl_days.saturating_mul(86_400)).unwrap_or(i64::MAX);
        Ok(self.base_url.as_deref().map(|b| crate::links::Links::new(key.into_bytes(), b, ttl)))
    }
}

/// One advisor who may sign in to the advisor page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdvisorSetting {
    pub name: String,
    /// Argon2 PHC string from `brygga hash-password` (never the password itself).
    pub password_hash: String,
}

/// The advisor web page (`serve`, when `web.addr` is set).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebSettings {
    /// Where the page answers (e.g. `0.0.0.0:8081`), apart from the operator endpoints; none: off.
    pub addr: Option<std::net::SocketAddr>,
    /// Who may sign in (required with `addr`).
    pub advisors: Vec<AdvisorSetting>,
    /// The key sessions and CSRF tokens are signed with; prefer `session_key_file`.
    #[serde(serialize_with = "masked")]
    pub session_key: Option<SecretString>,
    pub session_key_file: Option<PathBuf>,
    /// How long a sign-in lasts, in seconds.
    pub session_ttl_secs: u64,
    /// Session cookies only over HTTPS (turn off only for a page on localhost over HTTP).
    pub secure_cookies: bool,
}

impl Default for WebSettings {
    fn default() -> Self {
        Self {
            addr: None,
            advisors: Vec::new(),
            session_key: None,
            session_key_file: None,
            session_ttl_secs: 8 * 3_600,
            secure_cookies: true,
        }
    }
}

impl WebSettings {
    /// The session key: `session_key`, else the contents of `session_key_file` (trimmed).
    pub fn key(&self) -> Result<Option<SecretString>, ConfigError> {
        if let Some(s) = &self.session_key {
            return Ok(Some(s.clone()));
        }
        match &self.session_key_file {
            Some(f) => std::fs::read_to_string(f)
                .map(|s| Some(SecretString::from(s.trim().to_owned())))
                .map_err(|e| ConfigError::Invalid(format!("web.session_key_file {}: {e}", f.display()))),
            None => Ok(None),
        }
    }
}

fn masked<S: serde::Serializer>(v: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(_) => s.serialize_some(crate::secret::MASK),
        None => s.serialize_none(),
    }
}

fn redacted<S: serde::Serializer>(v: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(u) => s.serialize_some(&crate::secret::redact_url(u.expose_secret())),
        None => s.serialize_none(),
    }
}

/// Everything a Brygga process can be configured with.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// NATS server URL(s), comma-separated; without it the CLI starts its own nats-server.
    /// May carry credentials, so it is a secret: printed redacted.
    #[serde(serialize_with = "redacted")]
    pub nats_url: Option<SecretString>,
    /// Authentication and TLS for NATS.
    pub nats: NatsSettings,
    /// Database URL (`postgres://…` or `sqlite://…`); without it a SQLite file in `data_dir`.
    #[serde(serialize_with = "redacted")]
    pub database_url: Option<SecretString>,
    /// Prefix of every subject and stream.
    pub prefix: String,
    /// Where embedded state lives (SQLite file, embedded NATS store).
    pub data_dir: PathBuf,
    pub log_format: LogFormat,
    pub streams: StreamSettings,
    pub consumer: ConsumerSettings,
    /// Largest inbound event, in bytes.
    pub max_event_bytes: usize,
    pub ranker: RankerConfig,
    /// Matcher replicas and partitions.
    pub matcher: MatcherSettings,
    /// The notification service.
    pub notify: NotifySettings,
    /// The advisor web page.
    pub web: WebSettings,
    /// Signed links for organisations.
    pub links: LinkSettings,
    /// How often the matcher re-checks deadlines, in seconds.
    pub sweep_interval_secs: u64,
    /// How often the outbox relay looks for unpublished rows, in milliseconds.
    pub outbox_poll_ms: u64,
    /// How long published outbox rows are kept before they are deleted, in seconds.
    pub outbox_retention_secs: u64,
    /// How long shutdown may take before work is abandoned (keep below terminationGracePeriod).
    pub shutdown_timeout_secs: u64,
    /// Evaluate deadlines as of this date instead of today (snapshots, demos).
    pub as_of: Option<NaiveDate>,
    /// Apply migrations at start (the embedded default). `false`: wait for another process (the
    /// migration Job) to have applied them, at most `schema_wait_secs`.
    pub migrate_on_start: bool,
    pub schema_wait_secs: u64,
    /// Where `serve` answers `/livez`, `/readyz`, `/startupz` and `/metrics` (e.g.
    /// `0.0.0.0:8080`); none: off.
    pub http_addr: Option<std::net::SocketAddr>,
    /// Where to send the hops of traced events as OTLP spans (OTLP/HTTP JSON, e.g.
    /// `http://otel-collector:4318/v1/traces`); none: off.
    pub otlp_endpoint: Option<String>,
    /// `/livez` fails when a consume loop has held one batch this long, or has had messages
    /// waiting this long without finishing a batch (a wedged loop: restart the process).
    pub stuck_after_secs: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            nats_url: None,
            nats: NatsSettings::default(),
            database_url: None,
            prefix: "brygga".into(),
            data_dir: PathBuf::from(".brygga"),
            log_format: LogFormat::Text,
            streams: StreamSettings::default(),
            consumer: ConsumerSettings::default(),
            max_event_bytes: 256 * 1024,
            ranker: RankerConfig::default(),
            matcher: MatcherSettings::default(),
            notify: NotifySettings::default(),
            web: WebSettings::default(),
            links: LinkSettings::default(),
            sweep_interval_secs: 300,
            outbox_poll_ms: 200,
            outbox_retention_secs: 3_600,
            shutdown_timeout_secs: 20,
            as_of: None,
            migrate_on_start: true,
            schema_wait_secs: 300,
            http_addr: None,
            otlp_endpoint: None,
            stuck_after_secs: 120,
        }
    }
}

/// `BRYGGA_*` variables that are not settings: the config file's path, the nats-server binary
/// to start, and the test suite's own. Every other `BRYGGA_*` must name a setting: a typo
/// (`BRYGGA_RANKER__FLOR`) is an error, not silently ignored.
const NOT_SETTINGS: [&str; 6] =
    ["config", "nats_server", "test_postgres_url", "test_log_dir", "faults_full", "update_schemas"];

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {0} does not exist")]
    MissingFile(PathBuf),
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl Config {
    /// Loads defaults, then `file` (if given), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(f) = file {
            if !f.exists() {
                return Err(ConfigError::MissingFile(f.to_owned()));
            }
            fig = fig.merge(Toml::file(f));
        }
        fig = fig
            .merge(Env::prefixed("BRYGGA_").split("__").ignore(&NOT_SETTINGS))
            .merge(Env::raw().only(&["NATS_URL", "DATABASE_URL"]).map(|k| k.as_str().to_ascii_lowercase().into()));
        let cfg: Config = fig.extract().map_err(|e| ConfigError::Invalid(one_line(&e)))?;
        cfg.validate()?;
        Ok(cfg)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: String| Err(ConfigError::Invalid(m));
        if self.prefix.is_empty() || !self.prefix.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return bad(format!("prefix {:?} must be a single subject token (A-Z a-z 0-9 - _)", self.prefix));
        }
        if self.stuck_after_secs == 0 {
            return bad("stuck_after_secs must be at least 1".into());
        }
        if self.streams.replicas == 0 || self.streams.replicas > 5 {
            return bad(format!("streams.replicas {} must be 1-5", self.streams.replicas));
        }
        if self.consumer.max_deliver < 1 {
            return bad("consumer.max_deliver must be at least 1".into());
        }
        if self.consumer.max_ack_pending < 1 {
            return bad("consumer.max_ack_pending must be at least 1".into());
        }
        if !(1..=256).contains(&self.matcher.partitions) {
            return bad(format!("matcher.partitions {} must be 1-256", self.matcher.partitions));
        }
        if self.matcher.lease_ttl_secs < 3 {
            return bad(format!("matcher.lease_ttl_secs {} must be at least 3", self.matcher.lease_ttl_secs));
        }
        if self.web.addr.is_some() {
            if self.web.advisors.is_empty() {
                return bad("web.addr is set but web.advisors is empty: nobody could sign in".into());
            }
            if self.web.session_key.is_none() && self.web.session_key_file.is_none() {
                return bad("web.addr is set but neither web.session_key nor web.session_key_file".into());
            }
            if let Some(a) = self.web.advisors.iter().find(|a| !a.password_hash.starts_with("$argon2")) {
                return bad(format!("web.advisors: {:?} has no Argon2 password_hash (brygga hash-password)", a.name));
            }
        }
        if let Some(b) = &self.links.base_url {
            if !(b.starts_with("https://") || b.starts_with("http://")) {
                return bad(format!("links.base_url {b:?} must be an https (or http) URL"));
            }
        }
        if self.notify.max_attempts < 1 {
            return bad("notify.max_attempts must be at least 1".into());
        }
        if self.notify.digest_hour_utc > 23 {
            return bad(format!("notify.digest_hour_utc {} must be 0-23", self.notify.digest_hour_utc));
        }
        if self.notify.material_score_delta > 100 {
            return bad("notify.material_score_delta must be 0-100".into());
        }
        if self.ranker.floor > 100 {
            return bad("ranker.floor must be 0-100".into());
        }
        Ok(())
    }
}

fn one_line(e: &figment::Error) -> String {
    e.clone().into_iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; ")
}
