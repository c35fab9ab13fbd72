//! Configuration: defaults < TOML file < environment (12-factor).
//!
//! `NATS_URL` and `DATABASE_URL` are read as they are; every other key comes from
//! `BRYGGA_<KEY>`, nested keys joined with `__` (`BRYGGA_RANKER__FLOOR=40`).

use brygga_domain::RankerConfig;
use chrono::NaiveDate;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Stream settings applied when streams are created or updated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StreamSettings {
    pub replicas: usize,
    /// How long messages are kept, in days (0 = forever).
    pub max_age_days: u64,
    /// Window in which a repeated `Nats-Msg-Id` is dropped, in seconds.
    pub duplicate_window_secs: u64,
    /// `file` or `memory`.
    pub storage: String,
}

impl Default for StreamSettings {
    fn default() -> Self {
        Self { replicas: 1, max_age_days: 30, duplicate_window_secs: 600, storage: "file".into() }
    }
}

/// Durable consumer settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConsumerSettings {
    /// Deliveries before a failing message is dead-lettered.
    pub max_deliver: i64,
    pub ack_wait_secs: u64,
    /// Delays before redelivery after a transient failure, in milliseconds.
    pub backoff_ms: Vec<u64>,
}

impl Default for ConsumerSettings {
    fn default() -> Self {
        Self { max_deliver: 5, ack_wait_secs: 30, backoff_ms: vec![500, 2_000, 10_000, 30_000] }
    }
}

/// Everything a Brygga process can be configured with.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// NATS server URL; without it the CLI starts its own nats-server.
    pub nats_url: Option<String>,
    /// Database URL (`postgres://…` or `sqlite://…`); without it a SQLite file in `data_dir`.
    #[serde(skip_serializing)]
    pub database_url: Option<SecretString>,
    /// Prefix of every subject and stream.
    pub prefix: String,
    /// Where embedded state lives (SQLite file, embedded NATS store).
    pub data_dir: PathBuf,
    /// `text` or `json`.
    pub log_format: String,
    pub streams: StreamSettings,
    pub consumer: ConsumerSettings,
    /// Largest inbound event, in bytes.
    pub max_event_bytes: usize,
    pub ranker: RankerConfig,
    /// How often the matcher re-checks deadlines, in seconds.
    pub sweep_interval_secs: u64,
    /// How often the outbox relay looks for unpublished rows, in milliseconds.
    pub outbox_poll_ms: u64,
    /// How long shutdown may take before work is abandoned (keep below terminationGracePeriod).
    pub shutdown_timeout_secs: u64,
    /// Evaluate deadlines as of this date instead of today (snapshots, demos).
    pub as_of: Option<NaiveDate>,
    /// Where `serve` answers `/healthz`, `/readyz` and `/metrics` (e.g. `0.0.0.0:8080`); none: off.
    pub http_addr: Option<std::net::SocketAddr>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            nats_url: None,
            database_url: None,
            prefix: "brygga".into(),
            data_dir: PathBuf::from(".brygga"),
            log_format: "text".into(),
            streams: StreamSettings::default(),
            consumer: ConsumerSettings::default(),
            max_event_bytes: 256 * 1024,
            ranker: RankerConfig::default(),
            sweep_interval_secs: 300,
            outbox_poll_ms: 200,
            shutdown_timeout_secs: 20,
            as_of: None,
            http_addr: None,
        }
    }
}

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
            .merge(Env::prefixed("BRYGGA_").split("__").ignore(&["config"]))
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
        if !matches!(self.log_format.as_str(), "text" | "json") {
            return bad(format!("log_format {:?} must be text or json", self.log_format));
        }
        if !matches!(self.streams.storage.as_str(), "file" | "memory") {
            return bad(format!("streams.storage {:?} must be file or memory", self.streams.storage));
        }
        if self.streams.replicas == 0 || self.streams.replicas > 5 {
            return bad(format!("streams.replicas {} must be 1-5", self.streams.replicas));
        }
        if self.consumer.max_deliver < 1 {
            return bad("consumer.max_deliver must be at least 1".into());
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
