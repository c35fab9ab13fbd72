//! Wiring: resolves NATS (configured or embedded) and the database (configured or a
//! SQLite file), prepares streams and schema, and runs the services as tasks.

use crate::health::Phase;
use brygga_bus::{Bus, ConsumerStats};
use brygga_domain::{Catalogue, Clock};
use brygga_events::subject::Stream;
use brygga_runtime::secret::redact_url;
use brygga_runtime::{Config, ExposeSecret, NatsServer};
use brygga_store::Store;
use brygga_svc_ingest::Ingest;
use brygga_svc_matcher::{Loops, Matcher, Partitioning};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

/// Which services this process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Role {
    /// Ingest, matcher and query service in one process (the embedded default).
    All,
    Ingest,
    Matcher,
    /// The request/reply query service (`brygga-svc-query`).
    Query,
    /// The notification service (`brygga-svc-notify`): e-mail and webhooks.
    Notify,
}

impl Role {
    /// Whether this role runs the notification service: `notify` always, `all` when a channel
    /// (SMTP or a webhook key) is configured.
    pub fn runs_notify(self, cfg: &Config) -> bool {
        self == Self::Notify || (self == Self::All && cfg.notify.configured())
    }
}

/// A running Brygga.
#[derive(Debug)]
pub struct App {
    pub bus: Bus,
    pub store: Store,
    pub nats: Option<NatsServer>,
    /// The NATS server as it may be shown (credentials redacted).
    pub nats_url: String,
    /// The database as it may be shown (credentials redacted).
    pub database: String,
    pub cancel: CancellationToken,
    pub ingest_stats: Arc<ConsumerStats>,
    pub matcher_stats: Arc<ConsumerStats>,
    /// The matcher of this process, if it runs one.
    pub matcher: Option<Arc<Matcher>>,
    /// The notification service's consume loop and counters, if it runs.
    pub notify: Option<(Arc<ConsumerStats>, Arc<brygga_svc_notify::NotifyStats>)>,
    tasks: Vec<JoinHandle<anyhow::Result<()>>>,
}

/// Connects to (or starts) NATS, ensures every stream; returns the bus, the embedded server if
/// one was started, and the server as it may be shown.
pub async fn connect_bus(cfg: &Config) -> anyhow::Result<(Bus, Option<NatsServer>, String)> {
    connect_bus_for(cfg, &Stream::ALL).await
}

/// As [`connect_bus`], ensuring only `streams`.
async fn connect_bus_for(cfg: &Config, streams: &[Stream]) -> anyhow::Result<(Bus, Option<NatsServer>, String)> {
    let (nats, url) = match &cfg.nats_url {
        Some(u) => (None, u.expose_secret().to_owned()),
        None => {
            let server = NatsServer::start(&cfg.data_dir.join("nats")).await?;
            let url = server.url();
            info!(%url, store = %server.store_dir().display(), "started embedded nats-server");
            (Some(server), url)
        }
    };
    let bus = Bus::connect(&url, &cfg.nats, &cfg.prefix, cfg.streams.clone(), cfg.consumer.clone()).await?;
    bus.ensure(streams).await?;
    Ok((bus, nats, redact_url(&url)))
}

/// Connects to the configured database (or the SQLite file in `data_dir`) and migrates it, or,
/// with `migrate_on_start = false` (Kubernetes, where the Job migrates), waits for its schema;
/// returns the store and the database as it may be shown.
pub async fn connect_store(cfg: &Config) -> anyhow::Result<(Store, String)> {
    let (db_url, database) = match &cfg.database_url {
        Some(u) => (u.expose_secret().to_owned(), redact_url(u.expose_secret())),
        None => {
            let path = cfg.data_dir.join("brygga.sqlite");
            (Store::sqlite_url(&path)?, format!("SQLite file {}", path.display()))
        }
    };
    let store = Store::connect(&db_url).await?;
    if cfg.migrate_on_start {
        store.migrate().await?;
    } else {
        store.wait_for_schema(Duration::from_secs(cfg.schema_wait_secs)).await?;
    }
    Ok((store, database))
}

/// Starts the services of `role`, telling `phase` where start-up is.
pub async fn start(
    cfg: &Config,
    role: Role,
    clock: Arc<dyn Clock>,
    cancel: CancellationToken,
    phase: &(dyn Fn(Phase) + Sync),
) -> anyhow::Result<App> {
    phase(Phase::ConnectingNats);
    // The notification service may see only the streams it uses.
    let streams: &[Stream] =
        if role == Role::Notify { &[Stream::Recommendations, Stream::DeadLetters] } else { &Stream::ALL };
    let (bus, nats, nats_url) = connect_bus_for(cfg, streams).await?;
    phase(Phase::ConnectingDatabase);
    let (store, database) = connect_store(cfg).await?;
    let (catalogue, _) = Catalogue::shipped();
    let ingest_stats = Arc::new(ConsumerStats::default());
    let matcher_stats = Arc::new(ConsumerStats::default());
    let poll = brygga_relay::Timing {
        poll: Duration::from_millis(cfg.outbox_poll_ms),
        retention: Duration::from_secs(cfg.outbox_retention_secs),
    };
    let mut tasks = Vec::new();
    let mut running_matcher = None;
    if matches!(role, Role::All | Role::Ingest) {
        let ingest = Ingest {
            store: store.clone(),
            prefix: cfg.prefix.clone(),
            max_event_bytes: cfg.max_event_bytes,
            wake: Arc::new(Notify::new()),
            hops: hops(cfg, "brygga-ingest")?,
        };
        let run = brygga_svc_ingest::run(bus.clone(), ingest, poll, ingest_stats.clone(), cancel.clone());
        tasks.push(tokio::spawn(async move {
            run.await;
            Ok(())
        }));
    }
    if matches!(role, Role::All | Role::Matcher) {
        // The stream position first, then the store: what the feed follows from is in the store.
        phase(Phase::LoadingIndex);
        let seen = bus.last_sequence(Stream::Registry).await?;
        let partitions = cfg.matcher.partitions;
        let matcher =
            Matcher::load(store.clone(), catalogue, &cfg.prefix, cfg.ranker.clone(), clock.clone(), seen, partitions)
                .await?
                .settling(Duration::from_secs(cfg.matcher.settle_secs))
                .exporting(hops(cfg, "brygga-matcher")?);
        let matcher = Arc::new(matcher);
        running_matcher = Some(matcher.clone());
        let loops = Loops {
            outbox: poll,
            sweep_interval: Duration::from_secs(cfg.sweep_interval_secs),
            converge_after: Duration::from_secs(cfg.matcher.converge_after_secs),
        };
        let part = Partitioning {
            replica: cfg.matcher.replica.clone().unwrap_or_else(default_replica),
            lease_ttl: Duration::from_secs(cfg.matcher.lease_ttl_secs),
        };
        let run = brygga_svc_matcher::run(bus.clone(), matcher, loops, part, matcher_stats.clone(), cancel.clone());
        tasks.push(tokio::spawn(async move { Ok(run.await?) }));
    }
    if matches!(role, Role::All | Role::Query) {
        let run = brygga_svc_query::run(bus.client().clone(), cfg.prefix.clone(), store.clone(), cancel.clone());
        tasks.push(tokio::spawn(async move { Ok(run.await?) }));
    }
    let mut notify = None;
    if role.runs_notify(cfg) {
        let (notifier, timing) = notifier(cfg, store.clone(), clock.clone())?;
        let consumer = Arc::new(ConsumerStats::default());
        notify = Some((consumer.clone(), notifier.stats.clone()));
        let run = brygga_svc_notify::run(bus.clone(), Arc::new(notifier), timing, consumer, cancel.clone());
        tasks.push(tokio::spawn(async move {
            run.await;
            Ok(())
        }));
    }
    phase(Phase::Started);
    info!(?role, nats = %nats_url, %database, prefix = %cfg.prefix, "brygga running");
    Ok(App {
        bus,
        store,
        nats,
        nats_url,
        database,
        cancel,
        ingest_stats,
        matcher_stats,
        matcher: running_matcher,
        notify,
        tasks,
    })
}

/// The notification service as configured (`notify.*`).
fn notifier(
    cfg: &Config,
    store: Store,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<(brygga_svc_notify::Notifier, brygga_svc_notify::Timing)> {
    let n = &cfg.notify;
    let key = n.webhook_key()?;
    let smtp = n.smtp_url.as_ref().map(|u| u.expose_secret().to_owned());
    let channels = brygga_svc_notify::deliver::Channels::new(
        smtp.as_deref(),
        &n.from,
        key.as_ref().map(|k| k.expose_secret().as_bytes()),
        Duration::from_secs(n.timeout_secs),
    )?;
    if smtp.is_none() {
        warn!("notify.smtp_url is not set: e-mail notifications will fail and be dead-lettered");
    }
    let notifier = brygga_svc_notify::Notifier {
        store,
        prefix: cfg.prefix.clone(),
        rules: brygga_domain::notify::Rules {
            material_score_delta: n.material_score_delta,
            digest_hour_utc: n.digest_hour_utc,
        },
        clock,
        channels,
        max_attempts: n.max_attempts,
        stats: Arc::default(),
        links: cfg.links.links()?,
    };
    let timing = brygga_svc_notify::Timing {
        poll: Duration::from_millis(n.poll_ms),
        reminders: Duration::from_secs(n.reminder_interval_secs),
    };
    Ok((notifier, timing))
}

/// The OTLP exporter of service `name`, when `otlp_endpoint` is set.
fn hops(cfg: &Config, name: &str) -> anyhow::Result<Option<Arc<brygga_runtime::otlp::Hops>>> {
    match &cfg.otlp_endpoint {
        Some(endpoint) => {
            let hops = brygga_runtime::otlp::Hops::new(endpoint, name)?;
            info!(%endpoint, service = name, "exporting the hops of traced events (OTLP/HTTP)");
            Ok(Some(Arc::new(hops)))
        }
        None => Ok(None),
    }
}

/// A replica name unique to this process: the host (the pod name on Kubernetes) and the pid.
fn default_replica() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "brygga".into());
    format!("{host}-{}", std::process::id())
}

impl App {
    /// Waits for the services to end (after `cancel`), at most `timeout`, then stops NATS.
    pub async fn stop(self, timeout: Duration) -> anyhow::Result<()> {
        self.cancel.cancel();
        let all = futures_util::future::join_all(self.tasks);
        let mut failed = None;
        match tokio::time::timeout(timeout, all).await {
            Ok(results) => {
                for r in results {
                    match r {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => failed = Some(e),
                        Err(e) => failed = Some(anyhow::anyhow!("service task failed: {e}")),
                    }
                }
            }
            Err(_) => {
                warn!(?timeout, "services did not stop in time; abandoning in-flight work (it will be redelivered)")
            }
        }
        self.bus.client().flush().await.ok();
        if let Some(n) = self.nats {
            n.stop().await;
        }
        failed.map_or(Ok(()), Err)
    }

    /// Ends early if a service task has already failed (for `serve`).
    pub fn any_finished(&self) -> bool {
        self.tasks.iter().any(JoinHandle::is_finished)
    }
}
