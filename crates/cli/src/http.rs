//! Operator endpoints of `brygga serve`: `/healthz` (liveness: the process answers),
//! `/readyz` (readiness: NATS connected, the database reachable and no service's last batch
//! finding it unavailable, else 503 with the reason)
//! and `/metrics` (`metrics.rs`).

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use brygga_bus::{Bus, ConsumerStats};
use brygga_store::Store;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// How long `/readyz` waits for the database.
const READY_DB_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(800);

/// What the endpoints look at.
#[derive(Debug, Clone)]
pub struct Probe {
    pub bus: Bus,
    pub store: Store,
    /// The consume loops this process runs, by service name.
    pub services: Vec<(&'static str, Arc<ConsumerStats>)>,
    /// The durable consumers whose lag `/metrics` reports.
    pub consumers: Vec<crate::metrics::Watched>,
}

/// Binds `addr` and serves in a task until `cancel`. Returns the bound address (port 0 picks one).
pub async fn serve(addr: SocketAddr, probe: Probe, cancel: CancellationToken) -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on http_addr {addr}: {e}"))?;
    let bound = listener.local_addr()?;
    let app = Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .with_state(probe);
    tokio::spawn(async move {
        let served = axum::serve(listener, app).with_graceful_shutdown(async move { cancel.cancelled().await }).await;
        if let Err(e) = served {
            tracing::error!(error = %e, "the operator endpoints stopped");
        }
    });
    Ok(bound)
}

async fn ready(State(p): State<Probe>) -> (StatusCode, String) {
    let mut problems = Vec::new();
    let nats = p.bus.client().connection_state();
    if nats != async_nats::connection::State::Connected {
        problems.push(format!("nats: {nats}"));
    }
    // Answer within a second even while the database does not (its connect timeout is 10 s).
    match tokio::time::timeout(READY_DB_TIMEOUT, p.store.db().ping()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => problems.push(format!("database: {e}")),
        Err(_) => problems.push(format!("database: no answer within {} ms", READY_DB_TIMEOUT.as_millis())),
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

async fn metrics(State(p): State<Probe>) -> impl IntoResponse {
    let text = crate::metrics::scrape(&p.bus, &p.store, &p.services, &p.consumers).await;
    ([(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)], text)
}
