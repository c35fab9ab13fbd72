//! The reference: a raw JetStream round trip on the same server and storage as Brygga.
//! Consume one 1 KiB message, publish one derived message and await its PubAck, then ack the
//! input, with 256 in flight. Its rate (input + output messages per second) is what Brygga's
//! end-to-end rate is compared with.

use async_nats::jetstream::consumer::{pull, AckPolicy};
use async_nats::jetstream::stream;
use brygga_bus::Bus;
use futures_util::StreamExt;
use std::time::{Duration, Instant};

/// Messages per second, input and output counted, for `n` round trips.
pub async fn roundtrip(bus: &Bus, n: usize, file_storage: bool) -> anyhow::Result<f64> {
    roundtrip_on(bus, n, file_storage, 1).await
}

/// As [`roundtrip`], on streams of `replicas` replicas (a cluster).
pub async fn roundtrip_on(bus: &Bus, n: usize, file_storage: bool, replicas: usize) -> anyhow::Result<f64> {
    let js = bus.jetstream();
    let p = bus.prefix();
    let storage = if file_storage { stream::StorageType::File } else { stream::StorageType::Memory };
    for (name, subject) in [("RAWIN", "rawin"), ("RAWOUT", "rawout")] {
        let cfg = stream::Config {
            name: format!("{}_{name}", p.to_uppercase()),
            subjects: vec![format!("{p}.bench.{subject}")],
            storage,
            num_replicas: replicas,
            ..Default::default()
        };
        let _ = js.delete_stream(&cfg.name).await;
        js.create_stream(cfg).await?;
    }
    let payload = bytes::Bytes::from(vec![b'x'; 1024]);
    let mut acks = Vec::with_capacity(256);
    for _ in 0..n {
        acks.push(js.publish(format!("{p}.bench.rawin"), payload.clone()).await?);
        if acks.len() == 256 {
            for a in acks.drain(..) {
                a.await?;
            }
        }
    }
    for a in acks {
        a.await?;
    }
    let stream = js.get_stream(format!("{}_RAWIN", p.to_uppercase())).await?;
    let consumer = stream
        .create_consumer(pull::Config {
            durable_name: Some("raw".into()),
            ack_policy: AckPolicy::Explicit,
            max_ack_pending: 1_024,
            ..Default::default()
        })
        .await?;
    let out = format!("{p}.bench.rawout");
    let started = Instant::now();
    let messages = consumer.messages().await?.take(n);
    messages
        .for_each_concurrent(256, |m| {
            let (js, out) = (js.clone(), out.clone());
            async move {
                let Ok(m) = m else { return };
                let derived = bytes::Bytes::from(m.payload.to_vec());
                if let Ok(ack) = js.publish(out, derived).await {
                    if ack.await.is_ok() {
                        let _ = m.double_ack().await;
                    }
                }
            }
        })
        .await;
    let secs = started.elapsed().as_secs_f64().max(f64::EPSILON);
    for name in ["RAWIN", "RAWOUT"] {
        let _ = js.delete_stream(format!("{}_{name}", p.to_uppercase())).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    Ok(2.0 * n as f64 / secs)
}
