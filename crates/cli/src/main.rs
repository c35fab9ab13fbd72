//! `brygga`: Brygga's command line. `demo` runs the main job end to end on embedded
//! defaults; `serve` runs the services; `migrate` prepares the database; `import-topics`
//! publishes Funding & Tenders exports. Errors are one line, never a panic.

mod app;
mod bench;
mod demo;
mod eval;
mod ft_topics;
mod health;
mod http;
mod import;
mod metrics;
mod web;

use anyhow::Context;
use app::Role;
use brygga_domain::{Clock, FixedClock, SystemClock};
use brygga_events::subject::Stream;
use brygga_runtime::{telemetry, Config};
use brygga_svc_matcher::partition;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "brygga",
    version,
    about = "Mobilises organisations into EU Missions, smart specialisation and funding calls"
)]
struct Cli {
    /// TOML configuration file (values in the environment override it).
    #[arg(long, global = true, env = "BRYGGA_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the main job end to end on embedded defaults and print explained recommendations.
    Demo(demo::DemoArgs),
    /// Measure end-to-end latency, throughput and memory on embedded defaults.
    Bench(bench::BenchArgs),
    /// Measure how the matcher's rate grows with replicas (processes pinned to cores, PostgreSQL).
    BenchReplicas(bench::replicas::ReplicasArgs),
    /// Measure what JetStream durability costs (fsync, R3 on a 3-node cluster), servers started here.
    BenchDurability(bench::durability::DurabilityArgs),
    /// Run the services until SIGTERM (all in one process by default).
    Serve {
        #[arg(long, value_enum, default_value = "all")]
        role: Role,
    },
    /// Apply database migrations and exit (a Kubernetes Job).
    Migrate,
    /// Publish Funding & Tenders topic files as call events (needs NATS_URL).
    ImportTopics(import::ImportArgs),
    /// Publish organisations' active recommendations again, for a consumer that lost them
    /// (needs NATS_URL and the database of the running Brygga).
    Republish {
        /// Organisation ids.
        #[arg(required = true)]
        orgs: Vec<String>,
    },
    /// Measure match quality on a benchmark set (Brygga beside BM25).
    Eval(eval::EvalArgs),
    /// Print the effective configuration (secrets hidden).
    Config,
    /// Read a password on standard input and print its Argon2id hash, for `web.advisors`.
    HashPassword,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
        .and_then(|rt| rt.block_on(run(cli)));
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", format!("{e:#}").replace('\n', " "));
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let cfg = Config::load(cli.config.as_deref())?;
    telemetry::init(cfg.log_format);
    match cli.command {
        Command::Demo(args) => demo::run(cfg, args).await,
        Command::Bench(args) => bench::run(cfg, args).await,
        Command::BenchReplicas(args) => bench::replicas::run(cfg, args).await,
        Command::BenchDurability(args) => bench::durability::run(args).await,
        Command::Serve { role } => serve(cfg, role).await,
        Command::Migrate => {
            // Migrating is this command's job, whatever `migrate_on_start` says for services.
            let cfg = Config { migrate_on_start: true, ..cfg };
            let (_, db) = app::connect_store(&cfg).await?;
            println!("migrations applied to {db}");
            Ok(())
        }
        Command::ImportTopics(args) => {
            let version = args.version.unwrap_or_else(import::default_version);
            if args.dry_run {
                let (calls, invalid) = import::read(&args.files, version)?;
                println!("{} valid calls, {} invalid lines", calls.len(), invalid.len());
                for i in invalid.iter().take(20) {
                    println!("  - {i}");
                }
                return Ok(());
            }
            anyhow::ensure!(cfg.nats_url.is_some(), "import-topics publishes to a running Brygga: set NATS_URL");
            let (bus, _, _) = app::connect_bus(&cfg).await?;
            let summary = import::import(&bus, &args.files, version, true).await?;
            println!(
                "{}: {summary}",
                args.files.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
            );
            Ok(())
        }
        Command::Republish { orgs } => {
            anyhow::ensure!(cfg.nats_url.is_some(), "republish publishes to a running Brygga: set NATS_URL");
            let ids = orgs.iter().map(brygga_domain::OrgId::parse).collect::<Result<Vec<_>, _>>()?;
            let (bus, _, _) = app::connect_bus(&cfg).await?;
            let cfg = Config { migrate_on_start: false, ..cfg };
            let (store, _) = app::connect_store(&cfg).await?;
            for id in &ids {
                let n = brygga_svc_matcher::republish(&bus, &store, id).await?;
                println!("{id}: {n} active recommendations published again");
            }
            Ok(())
        }
        Command::Eval(args) => eval::run(&cfg, args),
        Command::Config => {
            println!("{}", serde_json::to_string_pretty(&cfg)?);
            Ok(())
        }
        Command::HashPassword => {
            let mut password = String::new();
            std::io::stdin().read_line(&mut password)?;
            let password = password.trim_end_matches(['\r', '\n']);
            anyhow::ensure!(!password.is_empty(), "no password on standard input");
            let salt: [u8; 16] = *uuid::Uuid::new_v4().as_bytes();
            println!("{}", brygga_svc_web::auth::hash_password(password, &salt).map_err(anyhow::Error::msg)?);
            Ok(())
        }
    }
}

async fn serve(cfg: Config, role: Role) -> anyhow::Result<()> {
    let clock: Arc<dyn Clock> = match cfg.as_of {
        Some(d) => Arc::new(FixedClock::on(d)),
        None => Arc::new(SystemClock),
    };
    let cancel = brygga_runtime::shutdown::on_signal();
    // The operator endpoints first, so that probes see start-up as it goes.
    let health = Arc::new(http::Health::new(Duration::from_secs(cfg.stuck_after_secs)));
    let http = match cfg.http_addr {
        Some(addr) => {
            let bound = http::serve(addr, health.clone(), cancel.clone()).await?;
            let shown = format!("; http://{bound} (/livez, /readyz, /startupz, /metrics)");
            println!("brygga starting ({role:?}){shown}");
            shown
        }
        None => String::new(),
    };
    let app = app::start(&cfg, role, clock, cancel.clone(), &|p| health.set_phase(p)).await?;
    let (mut services, mut consumers) = (Vec::new(), Vec::new());
    if matches!(role, Role::All | Role::Ingest) {
        services.push(("ingest", app.ingest_stats.clone()));
        consumers.push(("ingest", Stream::Inbound, brygga_svc_ingest::DURABLE.to_owned()));
    }
    if matches!(role, Role::All | Role::Matcher) {
        services.push(("matcher", app.matcher_stats.clone()));
        let n = cfg.matcher.partitions;
        consumers.extend((0..n).map(|p| ("matcher", Stream::Registry, partition::durable(p, n))));
    }
    if let Some((consumer, _)) = &app.notify {
        services.push(("notify", consumer.clone()));
        consumers.push(("notify", Stream::Recommendations, brygga_svc_notify::DURABLE.to_owned()));
    }
    let matcher = app.matcher.clone();
    let notify = app.notify.as_ref().map(|(_, s)| s.clone());
    health.running(http::Probe {
        bus: app.bus.clone(),
        store: app.store.clone(),
        services,
        consumers,
        matcher,
        notify,
    });
    let web = match cfg.web.addr {
        Some(addr) => {
            let bound = web::serve(web::configured(&cfg, &app)?, addr, cancel.clone()).await?;
            format!("; advisor page http://{bound}/advisor")
        }
        None => String::new(),
    };
    println!(
        "brygga serving ({role:?}); NATS {}; {}{http}{web}. SIGTERM or Ctrl-C stops it.",
        app.nats_url, app.database
    );
    while !cancel.is_cancelled() && !app.any_finished() {
        tokio::select! {
            _ = cancel.cancelled() => {}
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
    }
    app.stop(Duration::from_secs(cfg.shutdown_timeout_secs)).await
}
