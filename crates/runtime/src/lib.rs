//! Process plumbing shared by Brygga's binaries: configuration, telemetry, shutdown,
//! and the embedded `nats-server` child process.
//!
//! Main items: [`Config`], [`telemetry::init`], [`shutdown::on_signal`], [`NatsServer`],
//! [`secret::redact_url`].
//! No domain logic lives here.

mod config;
pub mod links;
pub mod mac;
pub mod nats_server;
pub mod otlp;
pub mod secret;
pub mod shutdown;
pub mod telemetry;

pub use config::{
    AdvisorSetting, Config, ConfigError, ConsumerSettings, LinkSettings, LogFormat, MatcherSettings, NatsSettings,
    NotifySettings, Storage, StreamSettings, WebSettings,
};
pub use nats_server::{NatsServer, NatsServerError};
pub use secrecy::{ExposeSecret, SecretString};
