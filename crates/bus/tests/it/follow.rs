//! Following a stream from a sequence (the matcher's index feed) when its consumer is lost.

use crate::bus;
use brygga_events::subject::{self, Stream};
use futures_util::StreamExt;
use std::time::Duration;
use tokio::sync::mpsc;

/// A follower opened at a sequence of a quiet stream never hands out anything before it, even
/// when its consumer is lost before it delivered a message (deleted here; the same happens when
/// the cluster node that held it is lost), after which async-nats recreates the consumer from
/// the stream's *first* sequence: the client's going back is an error, and following again
/// from the sequence after the last one seen reads on from there. Every sequence arrives
/// once, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_never_goes_back_when_its_consumer_is_lost() {
    let nats = brygga_testkit::nats().await;
    let bus = bus(&nats.url()).await;
    let publish = |n: &str| {
        let (bus, id) = (bus.clone(), n.to_owned());
        async move {
            let s = subject::registry_organisation(bus.prefix(), &id);
            loop {
                match bus.publish_raw(&s, &id, "t", "{}".into()).await {
                    Ok(_) => return,
                    Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
                }
            }
        }
    };
    for i in 0..3 {
        publish(&format!("old-{i}")).await;
    }
    let from = bus.last_sequence(Stream::Registry).await.expect("last") + 1;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let follower = {
        let bus = bus.clone();
        tokio::spawn(async move {
            let mut next = from;
            loop {
                let Ok(s) = bus.follow(Stream::Registry, next).await else {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                };
                let mut s = std::pin::pin!(s);
                while let Some(item) = s.next().await {
                    let Ok(d) = item else { break };
                    next = d.stream_sequence + 1;
                    if tx.send(d.stream_sequence).is_err() {
                        return;
                    }
                }
            }
        })
    };
    let stream = bus.jetstream().get_stream(Stream::Registry.name(bus.prefix())).await.expect("stream");
    let mut names = Vec::new();
    for _ in 0..50 {
        names = stream.consumer_names().collect::<Vec<_>>().await;
        if !names.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!names.is_empty(), "the follower's consumer exists");
    for name in names {
        stream.delete_consumer(&name.expect("a consumer name")).await.expect("consumer deleted");
    }
    // Long enough for the client to notice and recreate it.
    tokio::time::sleep(Duration::from_secs(3)).await;
    publish("new-0").await;
    publish("new-1").await;
    let mut got = Vec::new();
    while got.len() < 2 {
        match tokio::time::timeout(Duration::from_secs(30), rx.recv()).await {
            Ok(Some(seq)) => got.push(seq),
            _ => break,
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    while let Ok(seq) = rx.try_recv() {
        got.push(seq);
    }
    follower.abort();
    assert_eq!(got, vec![from, from + 1], "each sequence from {from} on, once, in order");
}
