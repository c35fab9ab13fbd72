//! `brygga bench`: the end-to-end latency and footprint of the embedded deployment.
//! Publishes the sample calls, then N organisations (the samples under new ids), and
//! measures for each organisation the time from its PubAck to its first recommendation
//! event, plus throughput and the process's peak memory.

use crate::app::{self, Role};
use crate::demo::{event, wait_until_settled, SAMPLE_CALLS, SAMPLE_ORGS};
use anyhow::Context;
use brygga_domain::{Catalogue, FixedClock};
use brygga_events::{subject, types, CallV1, OrganisationV1};
use brygga_runtime::Config;
use futures_util::StreamExt;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Organisations to register.
    #[arg(long, default_value_t = 200)]
    pub orgs: usize,
    /// Where the benchmark keeps its data (emptied at start).
    #[arg(long, default_value = ".brygga/bench")]
    pub data_dir: PathBuf,
}

pub async fn run(mut cfg: Config, args: BenchArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.orgs > 0, "--orgs must be at least 1");
    if args.data_dir.exists() {
        std::fs::remove_dir_all(&args.data_dir).with_context(|| format!("emptying {}", args.data_dir.display()))?;
    }
    cfg.data_dir = args.data_dir.clone();
    if cfg.nats_url.is_some() {
        cfg.prefix = format!("bench{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    }
    let (_, snapshot) = Catalogue::shipped();
    let app = app::start(&cfg, Role::All, Arc::new(FixedClock::on(snapshot)), CancellationToken::new()).await?;
    let p = app.bus.prefix().to_owned();

    // First recommendation per organisation, as it arrives on the bus.
    let first: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let mut sub = app.bus.client().subscribe(subject::recommendations_all(&p)).await?;
    let seen = first.clone();
    let listener = tokio::spawn(async move {
        while let Some(m) = sub.next().await {
            if let Some(org) = m.subject.as_str().split('.').nth(3) {
                seen.lock().map(|mut s| s.entry(org.to_owned()).or_insert_with(Instant::now).to_owned()).ok();
            }
        }
    });

    let calls: Vec<CallV1> = SAMPLE_CALLS.lines().map(serde_json::from_str).collect::<Result<_, _>>()?;
    for c in &calls {
        app.bus
            .publish_event(&subject::inbound_call(&p, "published"), &event(types::CALL_PUBLISHED, &c.id, c.version, c))
            .await?;
    }
    wait_until_settled(&app).await?;

    let samples: Vec<OrganisationV1> = SAMPLE_ORGS.lines().map(serde_json::from_str).collect::<Result<_, _>>()?;
    let mut published: Vec<(String, Instant)> = Vec::with_capacity(args.orgs);
    let start = Instant::now();
    for i in 0..args.orgs {
        let mut o = samples[i % samples.len()].clone();
        o.id = format!("{}-{i}", o.id);
        let to = subject::inbound_organisation(&p, "registered");
        app.bus.publish_event(&to, &event(types::ORGANISATION_REGISTERED, &o.id, 1, &o)).await?;
        published.push((o.id, Instant::now()));
    }
    let publish_secs = start.elapsed().as_secs_f64();
    wait_until_settled(&app).await?;
    let total_secs = start.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_millis(200)).await;
    listener.abort();

    let first = first.lock().map(|m| m.clone()).unwrap_or_default();
    let mut lat: Vec<f64> = published
        .iter()
        .filter_map(|(id, t)| first.get(id).map(|f| f.saturating_duration_since(*t).as_secs_f64() * 1e3))
        .collect();
    lat.sort_by(f64::total_cmp);
    let pct = |q: f64| lat.get(((lat.len() as f64 - 1.0) * q).round() as usize).copied().unwrap_or(f64::NAN);
    let recs = brygga_store::recommendations::all_active(app.store.db()).await?.len();
    println!("brygga bench: {} calls, {} organisations, embedded NATS + SQLite, one process", calls.len(), args.orgs);
    println!("  organisations with a recommendation: {} of {}", lat.len(), args.orgs);
    println!(
        "  PubAck → first recommendation event: p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        pct(0.5),
        pct(0.95),
        pct(0.99),
        lat.last().copied().unwrap_or(f64::NAN)
    );
    println!(
        "  published {} organisations in {:.2} s; all recommendations settled after {:.2} s ({:.1} organisations/s)",
        args.orgs,
        publish_secs,
        total_secs,
        args.orgs as f64 / total_secs
    );
    println!("  active recommendations: {recs}; peak resident memory of this process: {}", peak_rss());
    app.stop(Duration::from_secs(cfg.shutdown_timeout_secs)).await
}

/// `VmHWM` from /proc (Linux), or "unknown".
fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).map(|l| l.trim_start_matches("VmHWM:").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into())
}
