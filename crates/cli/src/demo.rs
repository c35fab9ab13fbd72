//! `brygga demo`: the main job end to end on embedded defaults. Publishes the shipped
//! sample calls and Blekinge organisations (and two bad events), lets ingest and matcher
//! run, then reads the recommendation events back from JetStream and prints them.

use crate::app::{self, Role};
use anyhow::Context;
use brygga_bus::Bus;
use brygga_domain::FixedClock;
use brygga_events::subject::{self, Stream};
use brygga_events::{types, CallV1, CloudEvent, DeadLetterV1, OrganisationV1, RecommendationV1};
use brygga_runtime::Config;
use chrono::NaiveDate;
use comfy_table::{ContentArrangement, Table};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

pub const SAMPLE_CALLS: &str = include_str!("../../../catalogue/sample-calls.jsonl");
pub const SAMPLE_ORGS: &str = include_str!("../../../catalogue/sample-orgs.jsonl");

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Evaluate deadlines as of this date (default: the sample snapshot's date).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub as_of: Option<NaiveDate>,
    /// Where the demo keeps its SQLite file and NATS store (emptied at start).
    #[arg(long, default_value = ".brygga/demo")]
    pub data_dir: PathBuf,
    /// Afterwards, serve the advisor page on this address (default 127.0.0.1:8081) with a
    /// one-run advisor, until Ctrl-C.
    #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = "127.0.0.1:8081")]
    pub serve: Option<std::net::SocketAddr>,
}

pub async fn run(mut cfg: Config, args: DemoArgs) -> anyhow::Result<()> {
    let (_, snapshot) = brygga_domain::Catalogue::shipped();
    let as_of = args.as_of.or(cfg.as_of).unwrap_or(snapshot);
    if args.data_dir.exists() {
        std::fs::remove_dir_all(&args.data_dir).with_context(|| format!("emptying {}", args.data_dir.display()))?;
    }
    cfg.data_dir = args.data_dir.clone();
    if cfg.nats_url.is_some() {
        // A shared server: keep this run's events apart from anything else on it.
        cfg.prefix = format!("demo{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    }
    println!("Brygga demo: matching as of {as_of} (sample snapshot {snapshot}; change with --as-of)");
    let started = Instant::now();
    let app = app::start(&cfg, Role::All, Arc::new(FixedClock::on(as_of)), CancellationToken::new(), &|_| {}).await?;
    let (calls, orgs) = publish_samples(&app.bus).await?;
    publish_bad_events(&app.bus).await?;
    let t_published = Instant::now();
    wait_until_settled(&app).await?;
    let settle = t_published.elapsed();

    let recs: Vec<RecommendationV1> =
        app.bus.replay(Stream::Recommendations, None).await?.into_iter().map(|e| e.data).collect();
    let dead: Vec<DeadLetterV1> =
        app.bus.replay(Stream::DeadLetters, None).await?.into_iter().map(|e| e.data).collect();
    let published = recs.len();
    print_recommendations(recs);
    println!("\nDead letters (bad input is never dropped silently):");
    for d in &dead {
        println!("  - [{}] on {}: {}", d.reason_code, d.original_subject, d.reason);
    }
    println!(
        "\nPublished {calls} calls and {orgs} organisations; {published} recommendation events on {}; settled {} ms after the last publish (total {} ms).",
        subject::recommendations_all(&cfg.prefix),
        settle.as_millis(),
        started.elapsed().as_millis()
    );
    let stats = app
        .bus
        .client()
        .request(subject::query(&cfg.prefix, "stats"), "{}".into())
        .await
        .context("asking the query service")?;
    println!(
        "Asked the query service ({}, request/reply): {}",
        subject::query(&cfg.prefix, "stats"),
        String::from_utf8_lossy(&stats.payload)
    );
    let [i_ok, i_retry, i_dead, _] = app.ingest_stats.get();
    let [m_ok, m_retry, m_dead, _] = app.matcher_stats.get();
    println!("Counters: ingest acked {i_ok}, retried {i_retry}, dead-lettered {i_dead}; matcher acked {m_ok}, retried {m_retry}, dead-lettered {m_dead}.");
    if let Some(addr) = args.serve {
        // A one-run advisor: a fresh password and session key, printed here and kept nowhere.
        let password = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();
        let salt: [u8; 16] = *uuid::Uuid::new_v4().as_bytes();
        let hash = brygga_svc_web::auth::hash_password(&password, &salt).map_err(anyhow::Error::msg)?;
        let advisor = brygga_svc_web::auth::Advisor { name: "demo".into(), password_hash: hash };
        let key = uuid::Uuid::new_v4().as_bytes().to_vec();
        let auth = brygga_svc_web::auth::Auth::new(vec![advisor], key, 8 * 3_600, false);
        let stop = brygga_runtime::shutdown::on_signal();
        let web = crate::web::page(&cfg, &app, auth, Arc::new(FixedClock::on(as_of)))?;
        let bound = crate::web::serve(web, addr, stop.clone()).await?;
        println!("\nAdvisor page: http://{bound}/advisor (sign in as demo, password {password}; this run only). Ctrl-C stops.");
        stop.cancelled().await;
    }
    let (nats, db) = (app.nats_url.clone(), app.database.clone());
    app.stop(Duration::from_secs(cfg.shutdown_timeout_secs)).await?;
    println!(
        "Data: {db}; NATS: {nats} (store in {}). Run again to start afresh.",
        args.data_dir.join("nats").display()
    );
    Ok(())
}

pub fn event<T>(ty: &str, entity: &str, version: u64, data: T) -> CloudEvent<T> {
    let id =
        uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, format!("urn:brygga:demo/{ty}/{entity}/{version}").as_bytes());
    CloudEvent::new(id.to_string(), "urn:brygga:demo", ty, Some(entity.to_owned()), chrono::Utc::now(), data)
}

async fn publish_samples(bus: &Bus) -> anyhow::Result<(usize, usize)> {
    let p = bus.prefix().to_owned();
    let calls: Vec<CallV1> =
        SAMPLE_CALLS.lines().map(serde_json::from_str).collect::<Result<_, _>>().context("sample calls")?;
    for c in &calls {
        bus.publish_event(&subject::inbound_call(&p, "published"), &event(types::CALL_PUBLISHED, &c.id, c.version, c))
            .await?;
    }
    let orgs: Vec<OrganisationV1> =
        SAMPLE_ORGS.lines().map(serde_json::from_str).collect::<Result<_, _>>().context("sample organisations")?;
    for o in &orgs {
        bus.publish_event(
            &subject::inbound_organisation(&p, "registered"),
            &event(types::ORGANISATION_REGISTERED, &o.id, o.version, o),
        )
        .await?;
    }
    Ok((calls.len(), orgs.len()))
}

/// Two poison events, to show that they are dead-lettered and the rest flows on.
async fn publish_bad_events(bus: &Bus) -> anyhow::Result<()> {
    let s = subject::inbound_organisation(bus.prefix(), "registered");
    bus.publish_raw(&s, "demo-bad-json", types::ORGANISATION_REGISTERED, "{\"specversion\": \"1.0\", ".into()).await?;
    let mut o: OrganisationV1 = serde_json::from_str(SAMPLE_ORGS.lines().next().unwrap_or_default())?;
    o.id = "sample-typo".into();
    o.org_number = Some("559912-3452".into());
    o.country = Some("SW".into());
    bus.publish_event(&s, &event(types::ORGANISATION_REGISTERED, &o.id, 1, &o)).await?;
    Ok(())
}

pub async fn wait_until_settled(app: &app::App) -> anyhow::Result<()> {
    wait_until_settled_within(app, Duration::from_secs(120)).await
}

/// Waits until inbound, registry and outbox are drained (three quiet polls in a row).
pub async fn wait_until_settled_within(app: &app::App, limit: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + limit;
    let mut quiet = 0;
    while quiet < 3 {
        anyhow::ensure!(Instant::now() < deadline, "the services did not settle within {} s", limit.as_secs());
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut backlog = app.bus.backlog(Stream::Inbound, brygga_svc_ingest::DURABLE).await?
            + brygga_store::outbox::backlog(app.store.db()).await?;
        // Every partition's consumer (each appears once a replica takes its lease).
        let partitions = app.matcher.as_ref().map(|m| m.all_partitions()).unwrap_or_default();
        let n = u16::try_from(partitions.len()).unwrap_or(u16::MAX);
        for p in partitions {
            let durable = brygga_svc_matcher::partition::durable(p, n);
            backlog += app.bus.backlog(Stream::Registry, &durable).await.unwrap_or(1);
        }
        // Entries wait only while a consumer is behind; counted for certainty.
        backlog += app.matcher.as_ref().map_or(0, |m| m.waiting() as u64);
        quiet = if backlog == 0 { quiet + 1 } else { 0 };
    }
    Ok(())
}

fn print_recommendations(events: Vec<RecommendationV1>) {
    // Fold the event log into each recommendation's latest state.
    let mut latest: BTreeMap<String, RecommendationV1> = BTreeMap::new();
    for e in events {
        if latest.get(&e.recommendation_id).is_none_or(|old| old.revision < e.revision) {
            latest.insert(e.recommendation_id.clone(), e);
        }
    }
    let names: BTreeMap<String, String> = SAMPLE_ORGS
        .lines()
        .filter_map(|l| serde_json::from_str::<OrganisationV1>(l).ok())
        .map(|o| (o.id.clone(), format!("{} ({}, {})", o.name, o.kind, o.municipality.unwrap_or_default())))
        .collect();
    let mut by_org: BTreeMap<String, Vec<RecommendationV1>> = BTreeMap::new();
    for r in latest.into_values().filter(|r| r.change != "withdrawn") {
        by_org.entry(r.organisation_id.clone()).or_default().push(r);
    }
    for (org, mut recs) in by_org {
        recs.sort_by_key(|r| std::cmp::Reverse(r.score));
        println!("\n{} [{}]", names.get(&org).map_or(org.as_str(), String::as_str), org);
        let mut t = Table::new();
        t.set_content_arrangement(ContentArrangement::Dynamic).set_width(150).set_header([
            "kind",
            "recommendation",
            "score",
            "why",
        ]);
        for r in recs {
            let mut why = r.explanation.summary.clone();
            for l in r.explanation.eligibility.iter().filter(|l| l.status != "met" || l.criterion == "deadline") {
                why.push_str(&format!("\n{} {}", if l.status == "met" { "✓" } else { "?" }, l.text));
            }
            if let Some(e) = &r.explanation.evidence {
                why.push_str(&format!("\n“{e}”"));
            }
            t.add_row([
                r.target.kind.clone(),
                format!("{}\n{}", r.target.title, r.target.id),
                r.score.to_string(),
                why,
            ]);
        }
        println!("{t}");
    }
}
