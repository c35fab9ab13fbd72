//! `brygga bench-replicas`: how the matcher's rate grows with replicas (issue 10). For each
//! replica count it loads the same generated workload into a fresh PostgreSQL database through
//! an ingest process, so the registry stream holds every event before any matcher runs; then it
//! starts that many `brygga serve --role matcher` processes, each pinned to a core of its own
//! (`taskset -c i`), and times them from start to drained (every partition consumer without lag,
//! the outbox empty). The nats-server, PostgreSQL and the idle ingest are not pinned: on a
//! 2-core machine they share the replicas' cores, which the figures include.

use super::{corpus, event, publish_all, stream_messages, BenchArgs};
use brygga_bus::Bus;
use brygga_domain::Catalogue;
use brygga_events::subject::{self, Stream};
use brygga_events::types;
use brygga_runtime::{Config, NatsServer};
use brygga_store::ConnectionTrait;
use brygga_store::Store;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Debug, clap::Args)]
pub struct ReplicasArgs {
    /// Organisations in the workload.
    #[arg(long, default_value_t = 2_000)]
    pub orgs: usize,
    /// Calls in the workload.
    #[arg(long, default_value_t = 200)]
    pub calls: usize,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Matcher partitions (`matcher.partitions`).
    #[arg(long, default_value_t = 4)]
    pub partitions: u16,
    /// Replica counts to measure, in order.
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    pub replicas: Vec<usize>,
    /// Do not pin each replica to a core.
    #[arg(long)]
    pub no_pin: bool,
    /// A PostgreSQL URL allowed to create databases (one per run is created and dropped).
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/test")]
    pub database_admin_url: String,
}

/// A child `brygga serve`, stopped when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub async fn run(_cfg: Config, args: ReplicasArgs) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("brygga-bench-replicas-{}", uuid::Uuid::new_v4().simple()));
    let nats = NatsServer::start(&dir.join("nats")).await?;
    let (catalogue, snapshot) = Catalogue::shipped();
    let gen_args = BenchArgs {
        orgs: args.orgs,
        calls: args.calls,
        corpus: None,
        topics: Vec::new(),
        seed: args.seed,
        raw: 0,
        latency_events: 0,
        samples: 0,
        data_dir: dir.join("unused"),
        index_only: false,
        builds: 0,
        from_store: false,
    };
    let (calls, orgs) = corpus(&gen_args, &catalogue, snapshot)?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "brygga bench-replicas: {} calls, {} organisations, {} partitions; PostgreSQL, one nats-server; {} cores, replicas {}",
        calls.len(),
        orgs.len(),
        args.partitions,
        cores,
        if args.no_pin { "not pinned".to_owned() } else { "pinned one per core (taskset)".to_owned() }
    );
    let mut rates = Vec::new();
    for &r in &args.replicas {
        let admin = Store::connect(&args.database_admin_url).await?;
        let admin = admin.db();
        let name = format!("brygga_bench_{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await?;
        let base = args.database_admin_url.rsplit_once('/').map_or(args.database_admin_url.as_str(), |(b, _)| b);
        let db_url = format!("{base}/{name}");
        let prefix = format!("bench{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let work = dir.join(&prefix);
        let result = one_run(&args, &nats.url(), &db_url, &prefix, &work, (&calls, &orgs), snapshot, r, cores).await;
        admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await?;
        let (events, recs, secs) = result?;
        let rate = (events + recs) as f64 / secs;
        println!(
            "  {r} replica(s): {events} registry events handled and {recs} recommendation events published in {secs:.1} s: {rate:.0} msgs/s"
        );
        rates.push((r, rate, secs));
    }
    let base = rates.first().map_or(1.0, |(_, rate, _)| *rate);
    for (r, rate, _) in &rates[1..] {
        println!("  {r} replicas / {} : {:.2}×", rates[0].0, rate / base);
    }
    let line = serde_json::json!({
        "orgs": orgs.len(), "calls": calls.len(), "partitions": args.partitions, "pinned": !args.no_pin,
        "cores": cores,
        "runs": rates.iter().map(|(r, rate, s)| serde_json::json!({"replicas": r, "msgs_per_s": rate.round(), "seconds": s})).collect::<Vec<_>>(),
        "speedup": rates.last().map(|(_, rate, _)| rate / base),
    });
    println!("{line}");
    nats.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn one_run(
    args: &ReplicasArgs,
    nats_url: &str,
    db_url: &str,
    prefix: &str,
    work: &std::path::Path,
    (calls, orgs): (&[brygga_events::CallV1], &[brygga_events::OrganisationV1]),
    snapshot: chrono::NaiveDate,
    replicas: usize,
    cores: usize,
) -> anyhow::Result<(u64, u64, f64)> {
    let bus = Bus::connect(nats_url, &Default::default(), prefix, Default::default(), Default::default()).await?;
    bus.ensure_streams().await?;
    let store = Store::connect(db_url).await?;
    store.migrate().await?;
    let spawn = |role: &str, name: &str, core: Option<usize>| -> anyhow::Result<Proc> {
        let exe = std::env::current_exe()?;
        let mut cmd = match core {
            Some(c) => {
                let mut t = Command::new("taskset");
                t.args(["-c", &c.to_string()]).arg(&exe);
                t
            }
            None => Command::new(&exe),
        };
        let child = cmd
            .args(["serve", "--role", role])
            .env_remove("BRYGGA_HTTP_ADDR")
            .env("NATS_URL", nats_url)
            .env("DATABASE_URL", db_url)
            .env("BRYGGA_PREFIX", prefix)
            .env("BRYGGA_AS_OF", snapshot.to_string())
            .env("BRYGGA_DATA_DIR", work.join(name))
            .env("BRYGGA_MATCHER__PARTITIONS", args.partitions.to_string())
            .env("BRYGGA_MATCHER__REPLICA", name)
            .env("BRYGGA_MATCHER__LEASE_TTL_SECS", "3")
            // Convergence is not part of the rate measured here.
            .env("BRYGGA_MATCHER__CONVERGE_AFTER_SECS", "100000")
            .env("BRYGGA_OUTBOX_POLL_MS", "50")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        Ok(Proc(child))
    };
    // Load: everything through ingest into the store and the registry stream first.
    let _ingest = spawn("ingest", "ingest", None)?;
    let call_events: Vec<_> = calls.iter().map(|c| event(types::CALL_PUBLISHED, &c.id, c.version, c)).collect();
    publish_all(&bus, &subject::inbound_call(prefix, "published"), &call_events).await?;
    let org_events: Vec<_> = orgs.iter().map(|o| event(types::ORGANISATION_REGISTERED, &o.id, o.version, o)).collect();
    publish_all(&bus, &subject::inbound_organisation(prefix, "registered"), &org_events).await?;
    let events = (calls.len() + orgs.len()) as u64;
    let deadline = Instant::now() + Duration::from_secs(3_600);
    while stream_messages(&bus, Stream::Registry).await? < events {
        anyhow::ensure!(Instant::now() < deadline, "ingest did not load the workload within an hour");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Then the matchers, timed from their start to drained.
    let started = Instant::now();
    let _matchers: Vec<Proc> = (0..replicas)
        .map(|i| spawn("matcher", &format!("m{i}"), (!args.no_pin).then_some(i % cores)))
        .collect::<anyhow::Result<_>>()?;
    loop {
        anyhow::ensure!(Instant::now() < deadline, "the matchers did not drain within an hour");
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut lag = 0;
        for p in 0..args.partitions {
            let durable = brygga_svc_matcher::partition::durable(p, args.partitions);
            lag += bus.backlog(Stream::Registry, &durable).await.unwrap_or(1);
        }
        if lag == 0 && brygga_store::outbox::backlog(store.db()).await? == 0 {
            break;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let recs = stream_messages(&bus, Stream::Recommendations).await?;
    Ok((events, recs, secs))
}
