//! Wiring of the advisor page (`brygga_svc_web`): from the configuration (`serve`), or with a
//! one-run advisor (`demo --serve`), on a listener of its own apart from the operator endpoints.

use crate::app::App;
use brygga_domain::{Clock, FixedClock, SystemClock};
use brygga_runtime::{Config, ExposeSecret};
use brygga_svc_web::auth::{Advisor, Auth};
use brygga_svc_web::Web;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// The page for `app` as `web.*` configures it.
pub fn configured(cfg: &Config, app: &App) -> anyhow::Result<Web> {
    let key = cfg.web.key()?.ok_or_else(|| anyhow::anyhow!("web.session_key is not set"))?;
    let advisors = cfg
        .web
        .advisors
        .iter()
        .map(|a| Advisor { name: a.name.clone(), password_hash: a.password_hash.clone() })
        .collect();
    let ttl = i64::try_from(cfg.web.session_ttl_secs).unwrap_or(i64::MAX);
    let auth = Auth::new(advisors, key.expose_secret().as_bytes().to_vec(), ttl, cfg.web.secure_cookies);
    let clock: Arc<dyn Clock> = match cfg.as_of {
        Some(d) => Arc::new(FixedClock::on(d)),
        None => Arc::new(SystemClock),
    };
    page(cfg, app, auth, clock)
}

/// The page for `app` with `auth` and `clock` (and the organisations' links, `links.*`).
pub fn page(cfg: &Config, app: &App, auth: Auth, clock: Arc<dyn Clock>) -> anyhow::Result<Web> {
    Ok(Web {
        store: app.store.clone(),
        nats: app.bus.jetstream().clone(),
        prefix: cfg.prefix.clone(),
        catalogue: brygga_domain::Catalogue::shipped().0,
        auth,
        clock,
        links: cfg.links.links()?,
    })
}

/// Serves `web` on `addr` until `cancel`; returns the bound address.
pub async fn serve(web: Web, addr: SocketAddr, cancel: CancellationToken) -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on web.addr {addr}: {e}"))?;
    let bound = listener.local_addr()?;
    let router = brygga_svc_web::router(Arc::new(web));
    tokio::spawn(async move {
        let served =
            axum::serve(listener, router).with_graceful_shutdown(async move { cancel.cancelled().await }).await;
        if let Err(e) = served {
            tracing::error!(error = %e, "the advisor page stopped");
        }
    });
    Ok(bound)
}
