//! `/metrics`: what an operator watches, in the OpenMetrics text format (prometheus-client):
//! deliveries by service and outcome, redeliveries, stream errors, dead letters by reason code,
//! batch handling time, each durable consumer's pending and unacknowledged messages (and their
//! sum, the lag), the outbox backlog and its oldest row's age, the matcher's committed changes
//! by kind and its event → recommendation latency, notifications sent, undelivered and
//! suppressed, and the build.
//! Values are read at scrape time; lags and backlog need NATS and the database, and are left
//! out (with `brygga_scrape_errors`) when they do not answer within a second.

use crate::http::Probe;
use brygga_events::subject::Stream;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use std::time::Duration;

/// A durable consumer whose lag is reported: (service, stream, durable name).
pub type Watched = (&'static str, Stream, String);

/// Everything one scrape reports.
#[derive(Debug)]
struct Snapshot {
    services: Vec<(&'static str, [u64; 5], prometheus_client::metrics::histogram::Histogram)>,
    /// (service, durable, pending, unacknowledged).
    lags: Vec<(&'static str, String, u64, u64)>,
    /// (service, reason code, dead letters).
    dead_letters: Vec<(&'static str, String, u64)>,
    outbox: Option<(u64, Option<Duration>)>,
    matcher: Option<([u64; 3], prometheus_client::metrics::histogram::Histogram)>,
    notify: Option<Notify>,
    errors: u64,
}

/// The notification service's counters at scrape time.
#[derive(Debug)]
struct Notify {
    sent: Vec<(&'static str, u64)>,
    retried: u64,
    failed: u64,
    unknown: u64,
    suppressed: Vec<(&'static str, u64)>,
}

/// Reads the counters, asks NATS and the database, and encodes it all.
pub async fn scrape(p: &Probe) -> String {
    const WAIT: Duration = Duration::from_secs(1);
    let mut errors = 0;
    let mut lags = Vec::new();
    for (service, stream, durable) in &p.consumers {
        match tokio::time::timeout(WAIT, p.bus.consumer_counts(*stream, durable)).await {
            Ok(Ok((pending, unacked))) => lags.push((*service, durable.clone(), pending, unacked)),
            _ => errors += 1,
        }
    }
    let db = p.store.db();
    let outbox = tokio::time::timeout(WAIT, async {
        Ok::<_, brygga_store::StoreError>((
            brygga_store::outbox::backlog(db).await?,
            brygga_store::outbox::oldest_waiting(db).await?,
        ))
    })
    .await;
    let outbox = match outbox {
        Ok(Ok(o)) => Some(o),
        _ => {
            errors += 1;
            None
        }
    };
    let services = p
        .services
        .iter()
        .map(|(name, s)| {
            let [a, r, d, e] = s.get();
            (*name, [a, r, d, e, s.redelivered()], s.batch_seconds.clone())
        })
        .collect();
    let dead_letters = p
        .services
        .iter()
        .flat_map(|(name, s)| s.dead_letters_by_code().into_iter().map(move |(code, n)| (*name, code, n)))
        .collect();
    let matcher = p.matcher.as_ref().map(|m| (m.stats().changes(), m.stats().event_to_recommendation.clone()));
    let notify = p.notify.as_ref().map(|s| Notify {
        sent: s.sent_by_channel(),
        retried: s.retried(),
        failed: s.failed(),
        unknown: s.unknown_total(),
        suppressed: s.suppressed_by_reason(),
    });
    let mut registry = Registry::default();
    registry.register_collector(Box::new(Snapshot { services, lags, dead_letters, outbox, matcher, notify, errors }));
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = prometheus_client::encoding::text::encode(&mut out, &registry);
    out
}

fn gauge(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
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
        for (service, durable, pending, unacked) in &self.lags {
            let n = gauge(pending + unacked);
            ConstGauge::new(n).encode(m.encode_family(&[("service", *service), ("durable", durable.as_str())])?)?;
        }
        let split = [
            ("brygga_consumer_pending", "Messages a durable consumer has not been delivered yet", 0),
            ("brygga_consumer_ack_pending", "Messages delivered to a durable consumer and not yet acknowledged", 1),
        ];
        for (name, help, i) in split {
            let mut m = e.encode_descriptor(name, help, None, MetricType::Gauge)?;
            for (service, durable, pending, unacked) in &self.lags {
                let n = gauge([*pending, *unacked][i]);
                ConstGauge::new(n).encode(m.encode_family(&[("service", *service), ("durable", durable.as_str())])?)?;
            }
        }
        let help = "Events refused to the dead-letter subject, by service and reason code";
        let mut m = e.encode_descriptor("brygga_dead_letters", help, None, MetricType::Counter)?;
        for (service, code, n) in &self.dead_letters {
            ConstCounter::new(*n).encode(m.encode_family(&[("service", *service), ("reason_code", code.as_str())])?)?;
        }
        if let Some((n, oldest)) = self.outbox {
            let help = "Outbox rows not yet published";
            let m = e.encode_descriptor("brygga_outbox_backlog", help, None, MetricType::Gauge)?;
            ConstGauge::new(gauge(n)).encode(m)?;
            let help = "How long the oldest unpublished outbox row has waited, in seconds (0: none waits)";
            let m = e.encode_descriptor("brygga_outbox_oldest_seconds", help, None, MetricType::Gauge)?;
            ConstGauge::new(oldest.unwrap_or_default().as_secs_f64()).encode(m)?;
        }
        if let Some((changes, latency)) = &self.matcher {
            let help = "Recommendation changes the matcher committed (each one event), by change";
            let mut m = e.encode_descriptor("brygga_recommendations", help, None, MetricType::Counter)?;
            for (change, n) in ["created", "updated", "withdrawn"].iter().zip(changes) {
                ConstCounter::new(*n).encode(m.encode_family(&[("change", *change)])?)?;
            }
            let help = "From ingest accepting an event to the matcher committing the recommendations it changed, in seconds (per partition)";
            let m = e.encode_descriptor("brygga_event_to_recommendation_seconds", help, None, MetricType::Histogram)?;
            latency.encode(m)?;
        }
        if let Some(n) = &self.notify {
            let help = "Notifications sent, by channel";
            let mut m = e.encode_descriptor("brygga_notifications_sent", help, None, MetricType::Counter)?;
            for (channel, c) in &n.sent {
                ConstCounter::new(*c).encode(m.encode_family(&[("channel", *channel)])?)?;
            }
            let help = "Notification attempts that did not deliver: retried (will be repeated), failed (dead-lettered), unknown (claimed by a process that stopped mid-send; never repeated)";
            let mut m = e.encode_descriptor("brygga_notifications_undelivered", help, None, MetricType::Counter)?;
            for (outcome, c) in [("retried", n.retried), ("failed", n.failed), ("unknown", n.unknown)] {
                ConstCounter::new(c).encode(m.encode_family(&[("outcome", outcome)])?)?;
            }
            let help = "Notifications not sent on purpose, by reason (no consent, opted out, not material, withdrawn before it went…)";
            let mut m = e.encode_descriptor("brygga_notifications_suppressed", help, None, MetricType::Counter)?;
            for (reason, c) in &n.suppressed {
                ConstCounter::new(*c).encode(m.encode_family(&[("reason", *reason)])?)?;
            }
        }
        let help = "Lags or backlog this scrape could not read (NATS or the database did not answer in time)";
        let m = e.encode_descriptor("brygga_scrape_errors", help, None, MetricType::Gauge)?;
        ConstGauge::new(gauge(self.errors)).encode(m)?;
        let mut m = e.encode_descriptor("brygga_build", "The running build", None, MetricType::Info)?;
        m.encode_info(&[("version", env!("CARGO_PKG_VERSION"))])?;
        Ok(())
    }
}
