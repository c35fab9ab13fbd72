//! The matcher service: keeps an in-memory matching index (loaded from the store, then
//! updated from registry events), recomputes recommendations after every change and on a
//! deadline sweep, and writes the differences (created / updated / withdrawn) and their
//! events in one transaction; the outbox relay publishes them.
//!
//! Main items: [`Matcher`], [`run`]. Ranking itself lives in `brygga-domain`.

use brygga_bus::{Bus, ConsumerSpec, ConsumerStats, Delivery, Outcome};
use brygga_domain::{
    recommendation_event_id, reconcile, Catalogue, Change, Clock, Index, OrgId, Published, RankerConfig,
};
use brygga_events::subject::{recommendation, Stream};
use brygga_events::{
    change_name, change_type, types, CloudEvent, RecommendationV1, RegistryCallV1, RegistryOrganisationV1,
};
use brygga_store::outbox::OutboxEvent;
use brygga_store::{outbox, recommendations, registry, Store, StoreError, TransactionTrait};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, Notify};
use tokio_util::sync::CancellationToken;
use tracing::{info, instrument, warn};

/// Durable consumer name, also the service name in dead letters.
pub const DURABLE: &str = "matcher";
const SOURCE: &str = "urn:brygga:matcher";

/// The matcher's state and settings.
#[derive(Debug)]
pub struct Matcher {
    index: Mutex<Index>,
    store: Store,
    prefix: String,
    ranker: RankerConfig,
    clock: Arc<dyn Clock>,
    wake: Arc<Notify>,
}

impl Matcher {
    /// Loads the index from the store.
    pub async fn load(
        store: Store,
        catalogue: Catalogue,
        prefix: &str,
        ranker: RankerConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StoreError> {
        let calls = registry::calls(store.db()).await?;
        let orgs = registry::organisations(store.db()).await?;
        info!(calls = calls.len(), organisations = orgs.len(), "matching index loaded");
        let index = Index::with(catalogue, ranker.clone(), calls, orgs);
        Ok(Self {
            index: Mutex::new(index),
            store,
            prefix: prefix.to_owned(),
            ranker,
            clock,
            wake: Arc::new(Notify::new()),
        })
    }

    /// Applies one registry event to the index and publishes what changed.
    #[instrument(name = "matcher.handle", skip_all, fields(subject = %d.subject, seq = d.stream_sequence))]
    pub async fn handle(&self, d: Delivery) -> Outcome {
        let reject = |reason: String| Outcome::Reject { code: "invalid_payload".into(), reason };
        let env: CloudEvent<serde_json::Value> = match serde_json::from_slice(&d.payload) {
            Ok(e) => e,
            Err(e) => return Outcome::Reject { code: "malformed_json".into(), reason: e.to_string() },
        };
        let mut index = self.index.lock().await;
        let caused_by = match env.ty.as_str() {
            types::REGISTRY_ORGANISATION => {
                let data: RegistryOrganisationV1 = match serde_json::from_value(env.data) {
                    Ok(x) => x,
                    Err(e) => return reject(e.to_string()),
                };
                match data.organisation {
                    Some(o) => match o.into_domain() {
                        Ok(o) => {
                            index.upsert_org(o);
                        }
                        Err(e) => return reject(e.to_string()),
                    },
                    None => match OrgId::parse(&data.id) {
                        Ok(id) => index.remove_org(&id),
                        Err(e) => return reject(e.to_string()),
                    },
                }
                vec![data.caused_by, env.id]
            }
            types::REGISTRY_CALL => {
                let data: RegistryCallV1 = match serde_json::from_value(env.data) {
                    Ok(x) => x,
                    Err(e) => return reject(e.to_string()),
                };
                match data.call {
                    Some(c) => match c.into_domain() {
                        Ok(c) => {
                            index.upsert_call(c);
                        }
                        Err(e) => return reject(e.to_string()),
                    },
                    None => match brygga_domain::CallId::parse(&data.id) {
                        Ok(id) => index.remove_call(&id),
                        Err(e) => return reject(e.to_string()),
                    },
                }
                vec![data.caused_by, env.id]
            }
            other => {
                return Outcome::Reject { code: "unknown_type".into(), reason: format!("unknown event type {other:?}") }
            }
        };
        match self.sync(&index, caused_by).await {
            Ok(_) => Outcome::Ack,
            Err(e) if e.is_retryable() => Outcome::Retry(e.to_string()),
            Err(e) => Outcome::Reject { code: "processing_failed".into(), reason: e.to_string() },
        }
    }

    /// Re-evaluates every organisation against the clock (deadlines that passed are withdrawn).
    pub async fn sweep(&self) -> Result<usize, StoreError> {
        let index = self.index.lock().await;
        let today = self.clock.today();
        self.sync(&index, vec![format!("sweep:{today}")]).await
    }

    /// Computes every organisation's recommendations, compares them with what is active,
    /// and commits the changes with their events. Returns how many changes were made.
    async fn sync(&self, index: &Index, caused_by: Vec<String>) -> Result<usize, StoreError> {
        let today = self.clock.today();
        let mut active: HashMap<OrgId, Vec<Published>> = HashMap::new();
        for p in recommendations::all_active(self.store.db()).await? {
            active.entry(p.rec.org_id.clone()).or_default().push(p);
        }
        let orgs: BTreeSet<OrgId> = index.orgs().map(|o| o.id.clone()).chain(active.keys().cloned()).collect();
        let mut changes: Vec<Change> = Vec::new();
        for org in orgs {
            let desired = index.recommend(&org, today);
            let current = active.remove(&org).unwrap_or_default();
            changes
                .extend(reconcile(desired, current, self.ranker.min_score_delta, |r| index.withdraw_reason(r, today)));
        }
        if changes.is_empty() {
            return Ok(0);
        }
        let events: Vec<OutboxEvent> = changes.iter().map(|c| self.event(c, &caused_by)).collect::<Result<_, _>>()?;
        let txn = self.store.db().begin().await?;
        recommendations::apply(&txn, &changes).await?;
        outbox::enqueue(&txn, &events).await?;
        txn.commit().await?;
        self.wake.notify_one();
        info!(changes = changes.len(), "recommendations changed");
        Ok(changes.len())
    }

    fn event(&self, c: &Change, caused_by: &[String]) -> Result<OutboxEvent, StoreError> {
        let id = recommendation_event_id(c.rec.id, c.revision).to_string();
        let ty = change_type(c.kind);
        let data = RecommendationV1::from_domain(&c.rec, c.kind, c.revision, caused_by.to_vec());
        let ev = CloudEvent::new(id.clone(), SOURCE, ty, Some(c.rec.org_id.to_string()), self.clock.now(), data);
        let payload = serde_json::to_string(&ev).map_err(|e| StoreError::Corrupt {
            what: "event",
            id: id.clone(),
            message: e.to_string(),
        })?;
        Ok(OutboxEvent {
            event_id: id,
            subject: recommendation(&self.prefix, c.rec.org_id.as_str(), change_name(c.kind)),
            event_type: ty.to_owned(),
            payload,
        })
    }
}

/// Settings of the matcher's loops.
#[derive(Debug, Clone, Copy)]
pub struct Loops {
    pub outbox_poll: Duration,
    pub sweep_interval: Duration,
}

/// Runs the consumer, the deadline sweep and the outbox relay until `cancel` fires.
pub async fn run(
    bus: Bus,
    matcher: Arc<Matcher>,
    loops: Loops,
    stats: Arc<ConsumerStats>,
    cancel: CancellationToken,
) -> Result<(), brygga_bus::BusError> {
    let relay = tokio::spawn(brygga_relay::run(
        bus.clone(),
        matcher.store.clone(),
        format!("{}.rec.", matcher.prefix),
        loops.outbox_poll,
        matcher.wake.clone(),
        cancel.clone(),
    ));
    let sweeper = {
        let (m, cancel) = (matcher.clone(), cancel.clone());
        tokio::spawn(async move {
            loop {
                // The first sweep runs at start: catches deadlines that passed while down.
                if let Err(e) = m.sweep().await {
                    warn!(error = %e, "deadline sweep failed; will retry");
                }
                tokio::select! {
                    _ = cancel.cancelled() => break,
                    _ = tokio::time::sleep(loops.sweep_interval) => {}
                }
            }
        })
    };
    let spec = ConsumerSpec { stream: Stream::Registry, durable: DURABLE.into() };
    let m = matcher.clone();
    let result = bus
        .consume(spec, &stats, cancel, |d| {
            let m = m.clone();
            async move { m.handle(d).await }
        })
        .await;
    let _ = sweeper.await;
    let _ = relay.await;
    let [acked, retried, dead, errors] = stats.get();
    info!(acked, retried, dead_lettered = dead, stream_errors = errors, "matcher stopped");
    result
}
