//! Operator endpoints of `brygga serve`, on a listener bound before anything else starts:
//! `/startupz` (503 with the phase until NATS is connected, the schema current and the index
//! loaded), `/livez` (also `/healthz`: the process answers and no consume loop is wedged, see
//! [`Watchdog`]), `/readyz` (NATS connected, the database reachable and no service's last batch
//! finding it unavailable, else 503 with the reason) and `/metrics` (`metrics.rs`).

use crate::health::{Phase, Watchdog};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use brygga_bus::{Bus, ConsumerStats};
use brygga_store::Store;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// How long `/readyz` waits for the database, and `/livez` for NATS.
const PROBE_TIMEOUT: Duration = Duration::from_millis(800);

/// What the endpoints look at once the services run.
#[derive(Debug, Clone)]
pub struct Probe {
    pub bus: Bus,
    pub store: Store,
    /// The consume loops this process runs, by service name.
    pub services: Vec<(&'static str, Arc<ConsumerStats>)>,
    /// The durable consumers whose lag `/metrics` reports.
    pub consumers: Vec<crate::metrics::Watched>,
    /// The matcher of this process, if it runs one (its counters).
    pub matcher: Option<Arc<brygga_svc_matcher::Matcher>>,
    /// The notification service's counters, if it runs here.
    pub notify: Option<Arc<brygga_svc_notify::NotifyStats>>,
}

/// The endpoints' state: the start-up phase, then the running services.
#[derive(Debug)]
pub struct Health {
    phase: Mutex<Phase>,
    probe: OnceLock<Probe>,
    watchdog: Watchdog,
}

impl Health {
    pub fn new(stuck_after: Duration) -> Self {
        Self { phase: Mutex::new(Phase::ConnectingNats), probe: OnceLock::new(), watchdog: Watchdog::new(stuck_after) }
    }
    pub fn set_phase(&self, p: Phase) {
        *self.phase.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = p;
    }
    fn phase(&self) -> Phase {
        *self.phase.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
    /// The services run: the probes look at them from now on.
    pub fn running(&self, probe: Probe) {
        let _ = self.probe.set(probe);
    }
    /// The probe, once started; else the phase, as a 503 body.
    fn started(&self) -> Result<&Probe, (StatusCode, String)> {
        match (self.phase(), self.probe.get()) {
            (Phase::Started, Some(p)) => Ok(p),
            (phase, _) => Err((StatusCode::SERVICE_UNAVAILABLE, format!("starting: {}\n", phase.describe()))),
        }
    }
}

/// Binds `addr` and serves in a task until `cancel`. Returns the bound address (port 0 picks one).
pub async fn serve(addr: SocketAddr, health: Arc<Health>, cancel: CancellationToken) -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on http_addr {addr}: {e}"))?;
    let bound = listener.local_addr()?;
    let app = Router::new()
        .route("/livez", get(live))
        .route("/healthz", get(live))
        .route("/startupz", get(startup))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .with_state(health);
    tokio::spawn(async move {
        let served = axum::serve(listener, app).with_graceful_shutdown(async move { cancel.cancelled().await }).await;
        if let Err(e) = served {
            tracing::error!(error = %e, "the operator endpoints stopped");
        }
    });
    Ok(bound)
}

async fn startup(State(h): State<Arc<Health>>) -> (StatusCode, String) {
    match h.started() {
        Ok(_) => (StatusCode::OK, "started\n".into()),
        Err(e) => e,
    }
}

/// Alive unless a consume loop is wedged (while starting, the startup probe is the judge).
async fn live(State(h): State<Arc<Health>>) -> (StatusCode, String) {
    let Ok(p) = h.started() else { return (StatusCode::OK, "ok\n".into()) };
    let now = Instant::now();
    let mut wedged = Vec::new();
    let mut running = Vec::new();
    for (_, stats) in &p.services {
        for (durable, progress) in stats.loops() {
            let backlog = tokio::time::timeout(PROBE_TIMEOUT, p.bus.backlog(progress.stream, &durable)).await;
            if let Some(why) = h.watchdog.judge(now, &durable, &progress, backlog.ok().and_then(Result::ok)) {
                wedged.push(why);
            }
            running.push(durable);
        }
    }
    h.watchdog.retain(&running);
    if wedged.is_empty() {
        (StatusCode::OK, "ok\n".into())
    } else {
        tracing::error!(wedged = %wedged.join("; "), "a consume loop is wedged; liveness fails");
        (StatusCode::SERVICE_UNAVAILABLE, format!("wedged: {}\n", wedged.join("; ")))
    }
}

async fn ready(State(h): State<Arc<Health>>) -> (StatusCode, String) {
    let p = match h.started() {
        Ok(p) => p,
        Err((code, why)) => return (code, format!("not ready: {why}")),
    };
    let mut problems = Vec::new();
    let nats = p.bus.client().connection_state();
    if nats != async_nats::connection::State::Connected {
        problems.push(format!("nats: {nats}"));
    }
    // Answer within a second even while the database does not (its connect timeout is 10 s).
    match tokio::time::timeout(PROBE_TIMEOUT, p.store.db().ping()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => problems.push(format!("database: {e}")),
        Err(_) => problems.push(format!("database: no answer within {} ms", PROBE_TIMEOUT.as_millis())),
    }
    // A database can answer the ping and still refuse every write (a full disk, a read-only
    // file system): what the services' last batches found.
    for (name, stats) in &p.services {
        if let Some(why) = stats.unavailable() {
            problems.push(format!("{name}: {why}"));
        }
    }
    if problems.is_empty() {
        (StatusCode::OK, "ready\n".into())
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {}\n", problems.join("; ")))
    }
}

async fn metrics(State(h): State<Arc<Health>>) -> axum::response::Response {
    match h.started() {
        Ok(p) => {
            let text = crate::metrics::scrape(p).await;
            ([(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)], text).into_response()
        }
        Err(e) => e.into_response(),
    }
}
