//! Bus tests on a real nats-server: retries with backoff, dead-lettering after the last
//! delivery, rejection, and refusal of servers older than 2.10.

use brygga_bus::{Bus, BusError, ConsumerSpec, ConsumerStats, Outcome};
use brygga_events::subject::{self, Stream};
use brygga_events::{CloudEvent, DeadLetterV1};
use brygga_runtime::{ConsumerSettings, StreamSettings};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

mod follow;
mod security;

async fn bus(url: &str) -> Bus {
    let consumers =
        ConsumerSettings { max_deliver: 3, ack_wait_secs: 5, backoff_ms: vec![20, 40], ..Default::default() };
    let bus = Bus::connect(url, &Default::default(), &brygga_testkit::prefix(), StreamSettings::default(), consumers)
        .await
        .expect("connect");
    bus.ensure_streams().await.expect("streams");
    bus
}

async fn dead_letters(bus: &Bus, n: usize) -> Vec<DeadLetterV1> {
    let stream = bus.jetstream().get_stream(Stream::DeadLetters.name(bus.prefix())).await.expect("stream");
    let mut out = Vec::new();
    for seq in 1..=n as u64 {
        let m = stream.get_raw_message(seq).await.expect("dead letter stored");
        let ev: CloudEvent<DeadLetterV1> = serde_json::from_slice(&m.payload).expect("dead letter json");
        out.push(ev.data);
    }
    out
}

/// Runs a consumer until it has seen `until` deliveries, then stops it.
async fn run_until(
    bus: &Bus,
    until: i64,
    outcome: impl Fn(i64) -> Outcome + Send + Sync + 'static,
) -> (Arc<ConsumerStats>, i64) {
    let stats = Arc::new(ConsumerStats::default());
    let seen = Arc::new(AtomicI64::new(0));
    let cancel = CancellationToken::new();
    let spec = ConsumerSpec { stream: Stream::Inbound, durable: "t".into() };
    let task = {
        let (bus, stats, seen, cancel) = (bus.clone(), stats.clone(), seen.clone(), cancel.clone());
        let outcome = Arc::new(outcome);
        tokio::spawn(async move {
            bus.consume(spec, &stats, cancel, |d| {
                let (seen, outcome) = (seen.clone(), outcome.clone());
                async move {
                    seen.fetch_add(1, Ordering::SeqCst);
                    outcome(d.delivered)
                }
            })
            .await
        })
    };
    for _ in 0..200 {
        if seen.load(Ordering::SeqCst) >= until && stats.get()[..3].iter().sum::<u64>() >= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    cancel.cancel();
    task.await.expect("consume ends cleanly on cancel");
    (stats, seen.load(Ordering::SeqCst))
}

/// A loop reports its progress (liveness judges it): batches finished, and since when it has
/// held the batch in hand; a loop that stopped is no longer listed.
#[tokio::test]
async fn a_loop_reports_its_progress_and_the_batch_it_holds() {
    let nats = brygga_testkit::nats().await;
    let bus = bus(&nats.url()).await;
    let s = subject::inbound_call(bus.prefix(), "published");
    bus.publish_raw(&s, "e1", "t", "{}".into()).await.expect("publish");
    let stats = Arc::new(ConsumerStats::default());
    let cancel = CancellationToken::new();
    let spec = ConsumerSpec { stream: Stream::Inbound, durable: "wedge".into() };
    let release = Arc::new(tokio::sync::Notify::new());
    let task = {
        let (bus, stats, cancel, release) = (bus.clone(), stats.clone(), cancel.clone(), release.clone());
        tokio::spawn(async move {
            bus.consume(spec, &stats, cancel, |d| {
                let release = release.clone();
                async move {
                    // The second message hangs until released: a wedged handler.
                    if d.stream_sequence == 2 {
                        release.notified().await;
                    }
                    Outcome::Ack
                }
            })
            .await
        })
    };
    let progress = || wedge(&stats);
    wait_for(&stats, |p| p.batches == 1 && p.busy_since.is_none()).await;
    assert_eq!(progress().map(|p| p.stream), Some(Stream::Inbound));
    bus.publish_raw(&s, "e2", "t", "{}".into()).await.expect("publish");
    wait_for(&stats, |p| p.busy_since.is_some()).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let held = progress().and_then(|p| p.busy_since).expect("held").elapsed();
    assert!(held >= Duration::from_millis(200) && progress().map(|p| p.batches) == Some(1), "{held:?}");
    release.notify_one();
    wait_for(&stats, |p| p.batches == 2 && p.busy_since.is_none()).await;
    cancel.cancel();
    task.await.expect("consume ends cleanly");
    assert!(progress().is_none(), "a stopped loop is not listed");
}

fn wedge(stats: &ConsumerStats) -> Option<brygga_bus::LoopProgress> {
    stats.loops().into_iter().find(|(d, _)| d == "wedge").map(|(_, p)| p)
}

async fn wait_for(stats: &ConsumerStats, want: impl Fn(&brygga_bus::LoopProgress) -> bool) {
    for _ in 0..250 {
        if wedge(stats).is_some_and(|p| want(&p)) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("progress never matched: {:?}", wedge(stats));
}

#[tokio::test]
async fn transient_failures_retry_then_succeed() {
    let nats = brygga_testkit::nats().await;
    let bus = bus(&nats.url()).await;
    bus.publish_raw(&subject::inbound_call(bus.prefix(), "published"), "e1", "t", "{}".into()).await.expect("publish");
    let (stats, seen) =
        run_until(&bus, 3, |delivered| if delivered < 3 { Outcome::Retry("db busy".into()) } else { Outcome::Ack })
            .await;
    assert_eq!(seen, 3);
    assert_eq!(stats.get(), [1, 2, 0, 0]);
    assert_eq!(stats.redelivered(), 2, "the second and third deliveries");
}

/// A consumer that cannot be opened yet (here its stream does not exist; after a node loss, a
/// stream without a leader) is opened again until it opens: the loop never gives its work up.
#[tokio::test]
async fn a_loop_opens_its_consumer_again_until_it_opens() {
    let nats = brygga_testkit::nats().await;
    let consumers = ConsumerSettings { ack_wait_secs: 5, ..Default::default() };
    let bus =
        Bus::connect(&nats.url(), &Default::default(), &brygga_testkit::prefix(), StreamSettings::default(), consumers)
            .await
            .expect("connect");
    let (stats, cancel) = (Arc::new(ConsumerStats::default()), CancellationToken::new());
    let seen = Arc::new(AtomicI64::new(0));
    let task = {
        let (bus, stats, cancel, seen) = (bus.clone(), stats.clone(), cancel.clone(), seen.clone());
        let spec = ConsumerSpec { stream: Stream::Inbound, durable: "late".into() };
        tokio::spawn(async move {
            bus.consume(spec, &stats, cancel, |_| {
                seen.fetch_add(1, Ordering::SeqCst);
                async { Outcome::Ack }
            })
            .await;
        })
    };
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(!task.is_finished(), "the loop waits for its stream");
    assert!(stats.get()[3] >= 1, "the failed opening is counted as a stream error");
    let why = stats.unavailable().expect("readiness is told why");
    assert!(why.contains("consumer late cannot be opened"), "{why}");
    bus.ensure_streams().await.expect("streams");
    bus.publish_raw(&subject::inbound_call(bus.prefix(), "published"), "e1", "t", "{}".into()).await.expect("publish");
    for _ in 0..250 {
        if seen.load(Ordering::SeqCst) == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(seen.load(Ordering::SeqCst), 1, "the message published once the stream exists is handled");
    assert_eq!(stats.unavailable(), None, "ready again once it opened");
    cancel.cancel();
    task.await.expect("consume ends cleanly on cancel");
}

/// A database outage longer than `max_deliver` attempts costs no message: `Unavailable` is
/// retried without being dead-lettered.
#[tokio::test]
async fn an_unavailable_dependency_is_waited_for_beyond_max_deliver() {
    let nats = brygga_testkit::nats().await;
    let bus = bus(&nats.url()).await;
    bus.publish_raw(&subject::inbound_call(bus.prefix(), "published"), "e1", "t", "{}".into()).await.expect("publish");
    let (stats, seen) = run_until(&bus, 6, |delivered| {
        if delivered < 6 {
            Outcome::Unavailable("database unreachable".into())
        } else {
            Outcome::Ack
        }
    })
    .await;
    assert_eq!(seen, 6, "past max_deliver = 3");
    assert_eq!(stats.get(), [1, 5, 0, 0], "acked on the sixth delivery, nothing dead-lettered");
    assert_eq!(bus.last_sequence(Stream::DeadLetters).await.expect("dead letters"), 0);
}

#[tokio::test]
async fn the_last_failed_delivery_is_dead_lettered_with_the_reason() {
    let nats = brygga_testkit::nats().await;
    let bus = bus(&nats.url()).await;
    bus.publish_raw(&subject::inbound_call(bus.prefix(), "published"), "e1", "t", "payload".into())
        .await
        .expect("publish");
    let (stats, seen) = run_until(&bus, 3, |_| Outcome::Retry("database unreachable".into())).await;
    assert_eq!(seen, 3, "max_deliver = 3");
    assert_eq!(stats.get(), [0, 2, 1, 0]);
    let d = dead_letters(&bus, 1).await.remove(0);
    assert_eq!(d.reason_code, "processing_failed");
    assert!(d.reason.contains("3 deliveries") && d.reason.contains("database unreachable"), "{}", d.reason);
    assert_eq!((d.payload.as_str(), d.deliveries, d.original_stream_sequence), ("payload", 3, 1));
}

#[tokio::test]
async fn a_rejected_message_is_dead_lettered_at_once_and_the_next_is_handled() {
    let nats = brygga_testkit::nats().await;
    let bus = bus(&nats.url()).await;
    let s = subject::inbound_call(bus.prefix(), "published");
    bus.publish_raw(&s, "bad", "t", "bad".into()).await.expect("publish");
    bus.publish_raw(&s, "good", "t", "good".into()).await.expect("publish");
    let (stats, _) = run_until(&bus, 2, |_| {
        // Reject the first message, accept the next.
        static CALLS: AtomicI64 = AtomicI64::new(0);
        if CALLS.fetch_add(1, Ordering::SeqCst) == 0 {
            Outcome::Reject { code: "invalid_payload".into(), reason: "no".into() }
        } else {
            Outcome::Ack
        }
    })
    .await;
    assert_eq!(stats.get(), [1, 0, 1, 0]);
    assert_eq!(stats.redelivered(), 0);
    assert_eq!(dead_letters(&bus, 1).await[0].reason_code, "invalid_payload");
}

#[tokio::test]
async fn publishing_the_same_event_id_twice_is_a_duplicate() {
    let nats = brygga_testkit::nats().await;
    let bus = bus(&nats.url()).await;
    let s = subject::inbound_call(bus.prefix(), "published");
    let a = bus.publish_raw(&s, "same", "t", "1".into()).await.expect("publish");
    let b = bus.publish_raw(&s, "same", "t", "1".into()).await.expect("publish");
    assert!(!a.duplicate && b.duplicate);
    let mut st = bus.jetstream().get_stream(Stream::Inbound.name(bus.prefix())).await.expect("stream");
    assert_eq!(st.info().await.expect("info").state.messages, 1);
}

/// Debian's nats-server 2.9 runs on this machine at 127.0.0.1:4222; Brygga must refuse it.
#[tokio::test]
async fn servers_older_than_2_10_are_refused() {
    let url = std::env::var("BRYGGA_TEST_OLD_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into());
    let Ok(client) = async_nats::connect(&url).await else {
        eprintln!("SKIPPED: no NATS server at {url} to check the version gate against");
        return;
    };
    let version = client.server_info().version;
    let old = brygga_runtime::nats_server::parse_version(&version).is_some_and(|v| v < (2, 10));
    if !old {
        eprintln!("SKIPPED: the server at {url} is {version}, not older than 2.10");
        return;
    }
    match Bus::connect(&url, &Default::default(), "old", StreamSettings::default(), ConsumerSettings::default()).await {
        Err(BusError::ServerTooOld(v)) => assert_eq!(v, version),
        other => panic!("expected ServerTooOld, got {other:?}"),
    }
}
