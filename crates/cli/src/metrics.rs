//! `/metrics`: what an operator watches, in the OpenMetrics text format (prometheus-client):
//! deliveries by service and outcome, redeliveries, stream errors, batch handling time, each
//! durable consumer's lag (pending + unacknowledged), the outbox backlog, and the build.
//! Values are read at scrape time; lags and backlog need NATS and the database, and are left
//! out (with `brygga_scrape_errors`) when they do not answer within a second.

use brygga_bus::{Bus, ConsumerStats};
use brygga_events::subject::Stream;
use brygga_store::Store;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::time::Duration;

/// A durable consumer whose lag is reported: (service, stream, durable name).
pub type Watched = (&'static str, Stream, String);

/// Everything one scrape reports.
#[derive(Debug)]
struct Snapshot {
    services: Vec<(&'static str, [u64; 5], prometheus_client::metrics::histogram::Histogram)>,
    lags: Vec<(&'static str, String, u64)>,
    outbox: Option<u64>,
    errors: u64,
}

/// Reads the counters, asks NATS and the database, and encodes it all.
pub async fn scrape(
    bus: &Bus,
    store: &Store,
    services: &[(&'static str, Arc<ConsumerStats>)],
    consumers: &[Watched],
) -> String {
    const WAIT: Duration = Duration::from_secs(1);
    let mut errors = 0;
    let mut lags = Vec::new();
    for (service, stream, durable) in consumers {
        match tokio::time::timeout(WAIT, bus.backlog(*stream, durable)).await {
            Ok(Ok(n)) => lags.push((*service, durable.clone(), n)),
            _ => errors += 1,
        }
    }
    let outbox = match tokio::time::timeout(WAIT, brygga_store::outbox::backlog(store.db())).await {
        Ok(Ok(n)) => Some(n),
        _ => {
            errors += 1;
            None
        }
    };
    let services = services
        .iter()
        .map(|(name, s)| {
            let [a, r, d, e] = s.get();
            (*name, [a, r, d, e, s.redelivered()], s.batch_seconds.clone())
        })
        .collect();
    let mut registry = Registry::default();
    registry.register_collector(Box::new(Snapshot { services, lags, outbox, errors }));
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = prometheus_client::encoding::text::encode(&mut out, &registry);
    out
}

/// The content type of [`scrape`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

impl Collector for Snapshot {
    fn encode(&self, mut e: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let help = "Deliveries handled, by service and how they ended";
        let mut m = e.encode_descriptor("brygga_events", help, None, MetricType::Counter)?;
        for (service, v, _) in &self.services {
            for (outcome, n) in [("acked", v[0]), ("retried", v[1]), ("dead_lettered", v[2])] {
                ConstCounter::new(n).encode(m.encode_family(&[("service", *service), ("outcome", outcome)])?)?;
            }
        }
        let counters: [(&str, &str, usize); 2] = [
            ("brygga_redeliveries", "Deliveries that were not a message's first (in brygga_events too)", 4),
            ("brygga_stream_errors", "Errors reading a stream, recovered from", 3),
        ];
        for (name, help, i) in counters {
            let mut m = e.encode_descriptor(name, help, None, MetricType::Counter)?;
            for (service, v, _) in &self.services {
                ConstCounter::new(v[i]).encode(m.encode_family(&[("service", *service)])?)?;
            }
        }
        let help = "Time to handle a batch of deliveries, acknowledgements included, in seconds";
        let mut m = e.encode_descriptor("brygga_batch_seconds", help, None, MetricType::Histogram)?;
        for (service, _, h) in &self.services {
            h.encode(m.encode_family(&[("service", *service)])?)?;
        }
        let help = "Messages a durable consumer still has to handle (pending and unacknowledged)";
        let mut m = e.encode_descriptor("brygga_consumer_lag", help, None, MetricType::Gauge)?;
        for (service, durable, n) in &self.lags {
            let n = i64::try_from(*n).unwrap_or(i64::MAX);
            ConstGauge::new(n).encode(m.encode_family(&[("service", *service), ("durable", durable.as_str())])?)?;
        }
        if let Some(n) = self.outbox {
            let help = "Outbox rows not yet published";
            let m = e.encode_descriptor("brygga_outbox_backlog", help, None, MetricType::Gauge)?;
            ConstGauge::new(i64::try_from(n).unwrap_or(i64::MAX)).encode(m)?;
        }
        let help = "Lags or backlog this scrape could not read (NATS or the database did not answer in time)";
        let m = e.encode_descriptor("brygga_scrape_errors", help, None, MetricType::Gauge)?;
        ConstGauge::new(i64::try_from(self.errors).unwrap_or(i64::MAX)).encode(m)?;
        let mut m = e.encode_descriptor("brygga_build", "The running build", None, MetricType::Info)?;
        m.encode_info(&[("version", env!("CARGO_PKG_VERSION"))])?;
        Ok(())
    }
}
