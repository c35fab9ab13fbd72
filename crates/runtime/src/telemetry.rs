//! Structured logs with `tracing`: human text or JSON lines, filtered by `RUST_LOG`.
//!
//! Whatever `RUST_LOG` asks, the targets that print message payloads are held below the level
//! at which they do ([`PAYLOAD_TARGETS`]): payloads carry organisations' data (organisation
//! numbers, contact details in free text), which no log may hold.

use tracing_subscriber::filter::Directive;
use tracing_subscriber::EnvFilter;

/// Targets that log whole messages at `trace` (async-nats: every protocol operation read or
/// written, payload included), or open `trace` spans whose fields hold the database URL with
/// its password (sea-orm's connect: every event inside them, rustls' handshake logs among them,
/// would print it), with the most they may log.
pub const PAYLOAD_TARGETS: [&str; 3] =
    ["async_nats::connection=debug", "sea_orm::database=debug", "sea_orm::driver=debug"];

/// Installs the global subscriber; a second call is a no-op.
pub fn init(format: crate::config::LogFormat) {
    let mut filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,async_nats=warn,sqlx=warn,sea_orm=warn,sea_orm_migration=warn"));
    for d in PAYLOAD_TARGETS {
        if let Ok(d) = d.parse::<Directive>() {
            filter = filter.add_directive(d);
        }
    }
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = if format == crate::config::LogFormat::Json {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.compact().try_init()
    };
}
