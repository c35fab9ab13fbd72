//! `brygga bench`: the scale benchmark of the embedded deployment (one process, embedded
//! NATS, SQLite), every figure measured in one run on one server, with the references beside:
//!
//! 1. the raw JetStream round trip on the same server and storage ([`raw`]);
//! 2. Brygga end to end: M calls then N organisations published as fast as the bus takes them,
//!    everything persisted, acked and published; events in + recommendations out per second;
//! 3. event → first recommendation latency at a steady half of that rate;
//! 4. in process, on the index built from the store: call → organisations fan-out beside the
//!    same queries on tantivy (exhaustive collection, same corpus), organisation → calls, the
//!    index build, a sweep, and the top-k overlap of the service's incrementally kept index
//!    with an exact rebuild;
//! 5. peak resident memory after the load (before the in-process extras).
//!
//! The last line is one JSON object with the figures. `--index-only` skips 1-3 and 5's load:
//! the index is built straight from the corpus (`--builds` times) and queried, so the
//! in-process figures reach 100,000 organisations in minutes.

pub mod durability;
mod gen;
mod raw;
pub mod replicas;

use crate::app::{self, Role};
use crate::demo::{event, wait_until_settled_within, SAMPLE_ORGS};
use anyhow::Context;
use brygga_bus::Bus;
use brygga_domain::{Catalogue, FixedClock, Index, OrgId};
use brygga_events::subject::{self, Stream};
use brygga_events::{types, CallV1, OrganisationV1};
use brygga_runtime::Config;
use futures_util::StreamExt;
use gen::Generator;
use serde_json::json;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Organisations to register (generated, unless --corpus).
    #[arg(long, default_value_t = 1000)]
    pub orgs: usize,
    /// Calls to publish (generated, unless --topics).
    #[arg(long, default_value_t = 100)]
    pub calls: usize,
    /// A benchmark set directory whose orgs.jsonl gives the organisations (at most --orgs).
    #[arg(long, value_name = "SET_DIR")]
    pub corpus: Option<PathBuf>,
    /// Funding & Tenders topic exports to publish as the calls (at most --calls).
    #[arg(long, value_name = "FILE")]
    pub topics: Vec<PathBuf>,
    /// Seed of the generator.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Round trips of the raw JetStream reference.
    #[arg(long, default_value_t = 20_000)]
    pub raw: usize,
    /// New organisations published at half load for the latency figure.
    #[arg(long, default_value_t = 500)]
    pub latency_events: usize,
    /// Queries sampled for the in-process latencies.
    #[arg(long, default_value_t = 200)]
    pub samples: usize,
    /// Where the benchmark keeps its data (emptied at start).
    #[arg(long, default_value = ".brygga/bench")]
    pub data_dir: PathBuf,
    /// Only the in-process figures, on an index built straight from the generated corpus (no
    /// bus, no store): the index build (best and median of --builds), the queries, the memory.
    /// Reaches 100,000 organisations in minutes where the full run takes the load's time.
    #[arg(long)]
    pub index_only: bool,
    /// Index builds timed with --index-only.
    #[arg(long, default_value_t = 3)]
    pub builds: usize,
    /// With --index-only: also write the corpus to a fresh SQLite store under --data-dir and
    /// time the index build from it (the registry read and decoded, then built), as a
    /// matcher does at start (before the in-process builds; the peak RSS then includes the
    /// store's reads).
    #[arg(long, requires = "index_only")]
    pub from_store: bool,
}

/// p-quantile of sorted milliseconds.
fn pct(sorted: &[f64], q: f64) -> f64 {
    sorted.get(((sorted.len() as f64 - 1.0) * q).round() as usize).copied().unwrap_or(f64::NAN)
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

/// Milliseconds of `f` on each item, sorted.
fn time_each<T, R>(items: &[T], f: impl Fn(&T) -> R) -> Vec<f64> {
    sorted(
        items
            .iter()
            .map(|x| {
                let t = Instant::now();
                std::hint::black_box(f(x));
                ms(t)
            })
            .collect(),
    )
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

pub async fn run(mut cfg: Config, args: BenchArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.orgs > 0 && args.calls > 0, "--orgs and --calls must be at least 1");
    if args.index_only {
        return index_only(&cfg, &args).await;
    }
    if args.data_dir.exists() {
        std::fs::remove_dir_all(&args.data_dir).with_context(|| format!("emptying {}", args.data_dir.display()))?;
    }
    cfg.data_dir = args.data_dir.clone();
    if cfg.nats_url.is_some() {
        cfg.prefix = format!("bench{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    }
    let (catalogue, snapshot) = Catalogue::shipped();
    let (calls, orgs) = corpus(&args, &catalogue, snapshot)?;
    let app =
        app::start(&cfg, Role::All, Arc::new(FixedClock::on(snapshot)), CancellationToken::new(), &|_| {}).await?;
    let matcher = app.matcher.clone().context("the bench runs the matcher in process")?;
    println!(
        "brygga bench: {} calls, {} organisations; embedded NATS ({} storage) + SQLite, one process",
        calls.len(),
        orgs.len(),
        cfg.streams.storage
    );

    let raw_rate = raw::roundtrip(&app.bus, args.raw, cfg.streams.storage == brygga_runtime::Storage::File).await?;
    println!("  raw JetStream round trip (1 KiB, 256 in flight): {raw_rate:.0} msgs/s (in + out)");

    let limit = Duration::from_secs(3_600);
    let t_calls = Instant::now();
    let p = app.bus.prefix().to_owned();
    let call_events: Vec<_> = calls.iter().map(|c| event(types::CALL_PUBLISHED, &c.id, c.version, c)).collect();
    publish_all(&app.bus, &subject::inbound_call(&p, "published"), &call_events).await?;
    wait_until_settled_within(&app, limit).await?;
    let calls_s = t_calls.elapsed().as_secs_f64();
    println!("  {} calls absorbed in {calls_s:.1} s", calls.len());

    let t_orgs = Instant::now();
    let org_events: Vec<_> = orgs.iter().map(|o| event(types::ORGANISATION_REGISTERED, &o.id, o.version, o)).collect();
    publish_all(&app.bus, &subject::inbound_organisation(&p, "registered"), &org_events).await?;
    wait_until_settled_within(&app, limit).await?;
    let orgs_s = t_orgs.elapsed().as_secs_f64();
    let recs_out = stream_messages(&app.bus, Stream::Recommendations).await?;
    let events_in = (calls.len() + orgs.len()) as f64;
    let brygga_rate = (events_in + recs_out as f64) / (calls_s + orgs_s);
    println!(
        "  {} organisations absorbed in {orgs_s:.1} s ({:.0}/s); {recs_out} recommendation events",
        orgs.len(),
        orgs.len() as f64 / orgs_s
    );
    println!(
        "  Brygga end to end: {brygga_rate:.0} msgs/s (events in + recommendations out), {:.3} of the raw round trip",
        brygga_rate / raw_rate
    );
    let peak_rss = peak_rss_mb();

    // Latency at a steady half of the measured organisation rate.
    let half = 0.5 * orgs.len() as f64 / orgs_s;
    let (lat, offered) = latency(&app, &args, &catalogue, snapshot, half).await?;
    println!(
        "  event → first recommendation at {offered:.0} organisations/s offered: p50 {:.1} ms, p99 {:.1} ms ({} of {})",
        pct(&lat, 0.5),
        pct(&lat, 0.99),
        lat.len(),
        args.latency_events
    );

    // In process: the index as a restarted matcher builds it from the store.
    let t_build = Instant::now();
    let stored_calls = brygga_store::registry::calls(app.store.db()).await?;
    let stored_orgs = brygga_store::registry::organisations(app.store.db()).await?;
    let mut fresh = Index::with(catalogue.clone(), cfg.ranker.clone(), stored_calls, stored_orgs);
    let build_s = t_build.elapsed().as_secs_f64();
    let (orgs_n, calls_n, terms_n, postings_n) = fresh.sizes();
    println!("  index build from the store: {build_s:.2} s ({orgs_n} organisations, {calls_n} calls, {terms_n} terms, {postings_n} postings)");

    let Queries { fanout, exhaustive, tantivy, org_calls, org_ids } = queries(&mut fresh, &args, snapshot)?;

    let overlap = matcher.read_index(|live| topk_overlap(live, &fresh, &org_ids, 5)).await;
    println!("  top-5 call overlap, the service's index against an exact rebuild: {overlap:.4}");
    let published = published_overlap(&app.store, &fresh, &org_ids, snapshot).await?;
    println!("  published recommendations (calls and partners) against an exact rebuild's: {published:.4}");
    drop(fresh);

    let t_sweep = Instant::now();
    matcher.sweep(&matcher.all_partitions()).await?;
    let sweep_s = t_sweep.elapsed().as_secs_f64();
    println!("  deadline sweep: {sweep_s:.2} s; peak resident memory after the load: {peak_rss:.0} MB");

    let line = json!({
        "orgs": orgs.len(), "calls": calls.len(),
        "bus_roundtrip_msgs_per_s": raw_rate.round(), "brygga_msgs_per_s": brygga_rate.round(),
        "ratio": (brygga_rate / raw_rate * 1000.0).round() / 1000.0,
        "event_to_rec_p50_ms": pct(&lat, 0.5), "event_to_rec_p99_ms": pct(&lat, 0.99),
        "call_fanout_p50_ms": pct(&fanout, 0.5), "call_fanout_p99_ms": pct(&fanout, 0.99),
        "call_fanout_exhaustive_p50_ms": pct(&exhaustive, 0.5), "call_fanout_exhaustive_p99_ms": pct(&exhaustive, 0.99),
        "tantivy_call_fanout_p99_ms": tantivy.as_ref().map(|t| pct(t, 0.99)),
        "org_to_calls_p99_ms": pct(&org_calls, 0.99),
        "index_build_s": build_s, "sweep_s": sweep_s, "peak_rss_mb": peak_rss.round(),
        "topk_overlap": overlap, "published_overlap": published, "recommendation_events": recs_out,
    });
    println!("{line}");
    app.stop(Duration::from_secs(cfg.shutdown_timeout_secs)).await
}

/// Latencies of the index's queries, sorted milliseconds, and the organisations sampled.
struct Queries {
    /// Call → the lists it enters (entry bars set).
    fanout: Vec<f64>,
    /// Call → every organisation above the floor.
    exhaustive: Vec<f64>,
    tantivy: Option<Vec<f64>>,
    org_calls: Vec<f64>,
    org_ids: Vec<OrgId>,
}

/// Times call → all organisations (beside tantivy when compiled in) and organisation → all
/// calls on `index`, over `args.samples` of each, and prints them.
fn queries(index: &mut Index, args: &BenchArgs, snapshot: chrono::NaiveDate) -> anyhow::Result<Queries> {
    let (orgs_n, calls_n, _, _) = index.sizes();
    let step = |n: usize| (n / args.samples.max(1)).max(1);
    let call_ids: Vec<_> = index.calls().step_by(step(calls_n)).map(|c| c.id.clone()).collect();
    let mean = |n: usize| n as f64 / call_ids.len().max(1) as f64;
    let exhaustive = time_each(&call_ids, |id| index.orgs_matching_call(id, snapshot));
    let above_floor = mean(call_ids.iter().map(|id| index.orgs_matching_call(id, snapshot).len()).sum());
    // The matcher's question: the lists a call enters, each organisation's k-th score kept.
    let bars = call_bars(index, snapshot);
    index.set_entry_bars("call", bars.iter().map(|(o, b)| (o, b)));
    let fanout = time_each(&call_ids, |id| index.orgs_matching_call(id, snapshot));
    let entered = mean(call_ids.iter().map(|id| index.orgs_matching_call(id, snapshot).len()).sum());
    let tantivy = tantivy_fanout(index, &call_ids)?;
    let org_ids: Vec<OrgId> = index.orgs().step_by(step(orgs_n)).map(|o| o.id.clone()).collect();
    // What the matcher asks of an organisation: every call scored, the top-k explained.
    let org_calls = time_each(&org_ids, |id| index.recommend_kind(id, "call", snapshot));
    println!(
        "  call → all organisations above the floor (exhaustive): p50 {:.2} ms, p99 {:.2} ms, {above_floor:.0} organisations on average; tantivy BM25, same queries, exhaustive collection: {}",
        pct(&exhaustive, 0.5),
        pct(&exhaustive, 0.99),
        tantivy.as_ref().map_or("not compiled in (scripts/bench builds with --features bm25)".to_owned(), |t| {
            format!("p50 {:.2} ms, p99 {:.2} ms", pct(t, 0.5), pct(t, 0.99))
        })
    );
    println!(
        "  call → the call lists it enters (each organisation's k-th call score kept, as the matcher asks): p50 {:.2} ms, p99 {:.2} ms, {entered:.1} organisations on average{}",
        pct(&fanout, 0.5),
        pct(&fanout, 0.99),
        tantivy.as_ref().map_or(String::new(), |t| format!("; p99 {:.2}× tantivy's", pct(&fanout, 0.99) / pct(t, 0.99)))
    );
    println!(
        "  organisation → its calls (all scored, top-k explained): p50 {:.3} ms, p99 {:.3} ms",
        pct(&org_calls, 0.5),
        pct(&org_calls, 0.99)
    );
    Ok(Queries { fanout, exhaustive, tantivy, org_calls, org_ids })
}

/// Each organisation's entry bar of its call list, from the calls `index` ranks for it now
/// (what the matcher holds once the lists are published); on both cores.
fn call_bars(index: &Index, today: chrono::NaiveDate) -> Vec<(OrgId, brygga_domain::EntryBar)> {
    let ids: Vec<OrgId> = index.orgs().map(|o| o.id.clone()).collect();
    let k = index.top_k("call");
    let bar = |id: &OrgId| {
        let recs = index.recommend_kind(id, "call", today);
        brygga_domain::EntryBar::of(k, recs.iter().map(|r| (r.target.id(), r.score)))
    };
    let half = ids.len().div_ceil(2);
    std::thread::scope(|s| {
        let chunks: Vec<_> = ids
            .chunks(half.max(1))
            .map(|c| s.spawn(move || c.iter().map(|id| (id.clone(), bar(id))).collect::<Vec<_>>()))
            .collect();
        chunks.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
    })
}

/// `--index-only`: the index built straight from the corpus, `args.builds` times, then its
/// queries and the peak memory. The last line is JSON.
async fn index_only(cfg: &Config, args: &BenchArgs) -> anyhow::Result<()> {
    let (catalogue, snapshot) = Catalogue::shipped();
    let (calls, orgs) = corpus(args, &catalogue, snapshot)?;
    let calls: Vec<brygga_domain::Call> = calls.into_iter().map(CallV1::into_domain).collect::<Result<_, _>>()?;
    let orgs: Vec<brygga_domain::Organisation> =
        orgs.into_iter().map(OrganisationV1::into_domain).collect::<Result<_, _>>()?;
    println!("brygga bench --index-only: {} calls, {} organisations, in process", calls.len(), orgs.len());
    // Before the in-process builds, so that no other index is held meanwhile.
    let from_store = match args.from_store {
        true => Some(build_from_store(cfg, args, &catalogue, &calls, &orgs).await?),
        false => None,
    };
    let mut builds = Vec::new();
    let mut index = None;
    for _ in 0..args.builds.max(1) {
        drop(index.take());
        let t = Instant::now();
        index = Some(Index::with(catalogue.clone(), cfg.ranker.clone(), calls.clone(), orgs.clone()));
        builds.push(t.elapsed().as_secs_f64());
    }
    let mut index = index.context("one build at least")?;
    let builds = sorted(builds);
    let (orgs_n, calls_n, terms_n, postings_n) = index.sizes();
    println!(
        "  index build: best {:.2} s, median {:.2} s of {} ({orgs_n} organisations, {calls_n} calls, {terms_n} terms, {postings_n} postings)",
        builds[0],
        pct(&builds, 0.5),
        builds.len()
    );
    let q = queries(&mut index, args, snapshot)?;
    let peak_rss = peak_rss_mb();
    println!("  peak resident memory: {peak_rss:.0} MB (the corpus twice, as events and as documents, and the index)");
    let line = json!({
        "orgs": orgs.len(), "calls": calls.len(), "mode": "index-only",
        "index_build_s": builds[0], "index_build_median_s": pct(&builds, 0.5),
        "index_build_from_store_s": from_store,
        "call_fanout_p50_ms": pct(&q.fanout, 0.5), "call_fanout_p99_ms": pct(&q.fanout, 0.99),
        "call_fanout_exhaustive_p50_ms": pct(&q.exhaustive, 0.5), "call_fanout_exhaustive_p99_ms": pct(&q.exhaustive, 0.99),
        "tantivy_call_fanout_p99_ms": q.tantivy.as_ref().map(|t| pct(t, 0.99)),
        "org_to_calls_p99_ms": pct(&q.org_calls, 0.99), "peak_rss_mb": peak_rss.round(),
    });
    println!("{line}");
    Ok(())
}

/// `--from-store`: writes `calls` and `orgs` to a fresh SQLite store under `--data-dir` (one
/// transaction, through the registry's own writes), then times reading the registry back and
/// building the index from it; prints both parts and returns the total in seconds.
async fn build_from_store(
    cfg: &Config,
    args: &BenchArgs,
    catalogue: &Catalogue,
    calls: &[brygga_domain::Call],
    orgs: &[brygga_domain::Organisation],
) -> anyhow::Result<f64> {
    use brygga_store::{registry, TransactionTrait};
    if args.data_dir.exists() {
        std::fs::remove_dir_all(&args.data_dir).with_context(|| format!("emptying {}", args.data_dir.display()))?;
    }
    let mut cfg = cfg.clone();
    (cfg.data_dir, cfg.database_url, cfg.migrate_on_start) = (args.data_dir.clone(), None, true);
    let (store, database) = app::connect_store(&cfg).await?;
    let t = Instant::now();
    let txn = store.db().begin().await?;
    for c in calls {
        registry::put_call(&txn, c).await?;
    }
    for o in orgs {
        registry::put_organisation(&txn, o).await?;
    }
    txn.commit().await?;
    println!("  written to the store ({database}) in {:.1} s", t.elapsed().as_secs_f64());
    let t = Instant::now();
    let (stored_calls, stored_orgs) = (registry::calls(store.db()).await?, registry::organisations(store.db()).await?);
    let read_s = t.elapsed().as_secs_f64();
    let index = Index::with(catalogue.clone(), cfg.ranker.clone(), stored_calls, stored_orgs);
    let total_s = t.elapsed().as_secs_f64();
    let (orgs_n, calls_n, _, _) = index.sizes();
    println!(
        "  index build from the store: {total_s:.2} s ({read_s:.2} s reading and decoding the registry, {:.2} s building; {orgs_n} organisations, {calls_n} calls)",
        total_s - read_s
    );
    Ok(total_s)
}

/// The calls and organisations of this run: generated, or read from the given files.
fn corpus(
    args: &BenchArgs,
    catalogue: &Catalogue,
    snapshot: chrono::NaiveDate,
) -> anyhow::Result<(Vec<CallV1>, Vec<OrganisationV1>)> {
    let samples: Vec<OrganisationV1> = SAMPLE_ORGS.lines().map(serde_json::from_str).collect::<Result<_, _>>()?;
    let keywords: Vec<String> = samples.iter().flat_map(|o| o.keywords.clone()).collect();
    let mut g = Generator::new(args.seed, catalogue, &keywords, snapshot);
    let calls = if args.topics.is_empty() {
        (0..args.calls).map(|j| g.call(j)).collect()
    } else {
        let (mut calls, invalid) = crate::import::read(&args.topics, 1)?;
        println!("  {} calls read from the topic files ({} invalid lines skipped)", calls.len(), invalid.len());
        calls.truncate(args.calls);
        calls
    };
    let orgs = match &args.corpus {
        None => (0..args.orgs).map(|i| g.organisation(i)).collect(),
        Some(dir) => {
            let set = brygga_eval::EvalSet::load(dir)?;
            set.orgs
                .iter()
                .take(args.orgs)
                .map(|o| {
                    let mut v = OrganisationV1::from_domain(o);
                    v.consent = brygga_events::ConsentV1 { contact: true, partner_suggestions: true };
                    v
                })
                .collect()
        }
    };
    Ok((calls, orgs))
}

/// Publishes events with up to 256 PubAcks outstanding.
async fn publish_all<T: serde::Serialize>(
    bus: &Bus,
    subject: &str,
    events: &[brygga_events::CloudEvent<T>],
) -> anyhow::Result<()> {
    futures_util::stream::iter(events)
        .map(|e| bus.publish_event(subject, e))
        .buffer_unordered(256)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
    Ok(())
}

async fn stream_messages(bus: &Bus, s: Stream) -> anyhow::Result<u64> {
    let mut st = bus.jetstream().get_stream(s.name(bus.prefix())).await?;
    Ok(st.info().await?.state.messages)
}

/// New organisations at `rate` per second; milliseconds from each PubAck to its first
/// recommendation event, sorted, and the rate actually offered.
async fn latency(
    app: &app::App,
    args: &BenchArgs,
    catalogue: &Catalogue,
    snapshot: chrono::NaiveDate,
    rate: f64,
) -> anyhow::Result<(Vec<f64>, f64)> {
    let p = app.bus.prefix().to_owned();
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
    let mut g = Generator::new(args.seed ^ 0x5eed, catalogue, &[], snapshot);
    let interval = Duration::from_secs_f64(1.0 / rate.max(1.0));
    let mut tick = tokio::time::interval(interval);
    let mut published = Vec::with_capacity(args.latency_events);
    let to = subject::inbound_organisation(&p, "registered");
    let started = Instant::now();
    for i in 0..args.latency_events {
        tick.tick().await;
        let mut o = g.organisation(i);
        o.id = format!("lat-{i}");
        o.consent.contact = true;
        app.bus.publish_event(&to, &event(types::ORGANISATION_REGISTERED, &o.id, 1, &o)).await?;
        published.push((o.id, Instant::now()));
    }
    let offered = args.latency_events as f64 / started.elapsed().as_secs_f64();
    wait_until_settled_within(app, Duration::from_secs(600)).await?;
    tokio::time::sleep(Duration::from_millis(200)).await;
    listener.abort();
    let first = first.lock().map(|m| m.clone()).unwrap_or_default();
    let lat = published
        .iter()
        .filter_map(|(id, t)| first.get(id).map(|f| f.saturating_duration_since(*t).as_secs_f64() * 1e3))
        .collect();
    Ok((sorted(lat), offered))
}

/// Mean share of each sampled organisation's top-k calls (by raw score) that two indexes agree on.
fn topk_overlap(a: &Index, b: &Index, orgs: &[OrgId], k: usize) -> f64 {
    let top = |ix: &Index, id: &OrgId| {
        let mut s = ix.call_scores(id);
        s.sort_by(|x, y| y.1.total_cmp(&x.1).then_with(|| x.0.cmp(&y.0)));
        s.into_iter().take(k).map(|x| x.0).collect::<Vec<_>>()
    };
    let shares: Vec<f64> = orgs
        .iter()
        .filter_map(|id| {
            let (x, y) = (top(a, id), top(b, id));
            (!y.is_empty()).then(|| x.iter().filter(|c| y.contains(c)).count() as f64 / y.len() as f64)
        })
        .collect();
    shares.iter().sum::<f64>() / shares.len().max(1) as f64
}

/// Mean share, over the sampled organisations, of the calls and partners an exact rebuild would
/// recommend now that are active in the store (what consumers hold): the drift of incremental
/// re-ranking between rebuilds.
async fn published_overlap(
    store: &brygga_store::Store,
    fresh: &Index,
    orgs: &[OrgId],
    today: chrono::NaiveDate,
) -> anyhow::Result<f64> {
    let mut shares = Vec::new();
    for chunk in orgs.chunks(500) {
        let mut held: HashMap<OrgId, Vec<brygga_domain::Target>> = HashMap::new();
        for p in brygga_store::recommendations::active_for_many(store.db(), chunk).await? {
            held.entry(p.rec.org_id.clone()).or_default().push(p.rec.target);
        }
        for id in chunk {
            let want: Vec<_> =
                ["call", "partner"].iter().flat_map(|k| fresh.recommend_kind(id, k, today)).map(|r| r.target).collect();
            if want.is_empty() {
                continue;
            }
            let have = held.get(id).map_or(&[][..], Vec::as_slice);
            shares.push(want.iter().filter(|t| have.contains(t)).count() as f64 / want.len() as f64);
        }
    }
    Ok(shares.iter().sum::<f64>() / shares.len().max(1) as f64)
}

#[cfg(feature = "bm25")]
fn tantivy_fanout(ix: &Index, calls: &[brygga_domain::CallId]) -> anyhow::Result<Option<Vec<f64>>> {
    let texts: Vec<String> = ix.orgs().map(brygga_eval::org_text).collect();
    let bm25 = brygga_eval::bm25::Bm25::new(&texts)?;
    let mut out = Vec::new();
    for id in calls {
        let Some(c) = ix.call(id) else { continue };
        let q = brygga_eval::call_text(c);
        let t = Instant::now();
        std::hint::black_box(bm25.search(&q)?);
        out.push(ms(t));
    }
    Ok(Some(sorted(out)))
}

#[cfg(not(feature = "bm25"))]
fn tantivy_fanout(_: &Index, _: &[brygga_domain::CallId]) -> anyhow::Result<Option<Vec<f64>>> {
    Ok(None)
}

/// `VmHWM` from /proc (Linux) in MB, or NaN.
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let l = s.lines().find(|l| l.starts_with("VmHWM:"))?;
            l.trim_start_matches("VmHWM:").trim().trim_end_matches("kB").trim().parse::<f64>().ok()
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}
