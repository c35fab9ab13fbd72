//! Re-ranking planned organisations and committing what changed, one transaction per chunk
//! of organisations: [`Matcher::commit`] reads a chunk's held lists and re-ranks them
//! ([`Matcher::reconcile_chunk`]), then writes the changes with their events and keeps what
//! the chunk's organisations hold ([`Matcher::write_chunk`]). The one encoding of a
//! recommendation event is [`recommendation_event`].

use crate::{compute, held, scope, Matcher, SOURCE, SYNC_CHUNK};
use brygga_domain::{recommendation_event_id, reconcile, Change, OrgId, Published, Recommendation};
use brygga_events::subject::recommendation;
use brygga_events::trace::TraceContext;
use brygga_events::{change_name, change_type, CloudEvent, RecommendationV1};
use brygga_store::outbox::OutboxEvent;
use brygga_store::{outbox, recommendations, StoreError, TransactionTrait};
use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};
use tracing::info;

impl Matcher {
    /// Re-ranks the organisations `plans` name (planned since `t0`) and commits the changes,
    /// one transaction per chunk of organisations: a flush of the waiting room or a call that
    /// reaches tens of thousands of lists neither holds all their lists and changes in memory
    /// at once nor keeps the database's write lock for long, and the relay publishes the
    /// first chunks while later ones are ranked. A chunk is whole (each organisation's changes
    /// are in one transaction); a failed one fails the batch, whose redelivery finds the
    /// chunks that landed already done.
    pub(crate) async fn commit(
        &self,
        plans: std::collections::BTreeMap<OrgId, scope::Plan>,
        t0: Instant,
    ) -> Result<usize, StoreError> {
        let today = self.clock.today();
        let t_plan = t0.elapsed();
        let (mut t_rank, mut t_write, mut n) = (Duration::ZERO, Duration::ZERO, 0);
        let all: Vec<(&OrgId, &scope::Plan)> = plans.iter().collect();
        for chunk in all.chunks(SYNC_CHUNK) {
            let t = Instant::now();
            let (changes, held) = self.reconcile_chunk(chunk, today).await?;
            t_rank += t.elapsed();
            let t = Instant::now();
            let written = self.write_chunk(chunk, changes, held, t0).await;
            t_write += t.elapsed();
            n += written?;
        }
        if n > 0 {
            let ms = |d: Duration| d.as_secs_f64() * 1e3;
            info!(
                changes = n,
                organisations = plans.len(),
                plan_ms = ms(t_plan),
                rank_ms = ms(t_rank),
                write_ms = ms(t_write),
                "recommendations changed"
            );
        }
        Ok(n)
    }

    /// Commits one chunk's changes with their events, then keeps what its organisations hold
    /// (`held`: their active lists as read before ranking, the changes folded in) and tells
    /// the index their bars. Every planned list's bar is told, changed or not: those that took
    /// entries from the waiting room fall back to what they hold.
    async fn write_chunk(
        &self,
        chunk: &[(&OrgId, &scope::Plan)],
        changes: Vec<Change>,
        held: (Vec<OrgId>, Vec<recommendations::HeldRow>),
        t0: Instant,
    ) -> Result<usize, StoreError> {
        let planned: Vec<OrgId> = chunk.iter().map(|(o, _)| (*o).clone()).collect();
        if changes.is_empty() {
            self.held.load(&held.0, held.1);
            self.tell_bars(planned).await;
            return Ok(0);
        }
        let causes: HashMap<&OrgId, BTreeSet<String>> = chunk.iter().map(|(o, p)| (*o, p.all_causes())).collect();
        let no_causes = BTreeSet::new();
        let traces: Vec<Option<TraceContext>> =
            changes.iter().map(|c| self.traces.of(causes.get(&c.rec.org_id).unwrap_or(&no_causes))).collect();
        let events: Vec<OutboxEvent> = changes
            .iter()
            .zip(&traces)
            .map(|(c, t)| {
                let caused_by = causes.get(&c.rec.org_id).unwrap_or(&no_causes);
                recommendation_event(&self.prefix, self.clock.now(), c, caused_by, t.as_ref())
            })
            .collect::<Result<_, _>>()?;
        let started = std::time::SystemTime::now() - t0.elapsed();
        let txn = self.store.db().begin().await?;
        recommendations::apply(&txn, &changes).await?;
        outbox::enqueue(&txn, &events).await?;
        if let Err(e) = txn.commit().await {
            // A commit that failed on the way back may have landed: read these again.
            let orgs: BTreeSet<&OrgId> = changes.iter().map(|c| &c.rec.org_id).collect();
            self.held.forget(|o| orgs.contains(o));
            self.tell_bars(planned).await;
            return Err(e.into());
        }
        self.held.load(&held.0, held.1);
        self.held.apply(&changes);
        self.tell_bars(planned).await;
        self.stats.committed(&changes);
        self.export_hops(&events, &traces, started);
        self.wake.notify_one();
        Ok(changes.len())
    }

    /// The changes of some organisations: what they hold against what their plans give.
    /// Also returns what they hold as read (their held lists once the changes are folded in:
    /// [`Self::write_chunk`]).
    async fn reconcile_chunk(
        &self,
        chunk: &[(&OrgId, &scope::Plan)],
        today: chrono::NaiveDate,
    ) -> Result<(Vec<Change>, (Vec<OrgId>, Vec<recommendations::HeldRow>)), StoreError> {
        let db = self.store.db();
        let list: Vec<OrgId> = chunk.iter().map(|(o, _)| (*o).clone()).collect();
        let mut active: HashMap<OrgId, Vec<Published>> = HashMap::new();
        for p in recommendations::active_for_many(db, &list).await? {
            active.entry(p.rec.org_id.clone()).or_default().push(p);
        }
        let rows = active.values().flatten().filter_map(held::row).collect();
        let none = Vec::new();
        let desired: Vec<(OrgId, Vec<Recommendation>)> = self
            .read_index(|index| {
                chunk
                    .iter()
                    .map(|(org, plan)| {
                        let held = active.get(*org).unwrap_or(&none);
                        ((*org).clone(), scope::desired(index, org, plan, held, today))
                    })
                    .collect()
            })
            .await;
        let is_active =
            |r: &Recommendation| active.get(&r.org_id).is_some_and(|ps| ps.iter().any(|p| p.rec.id == r.id));
        let new: Vec<uuid::Uuid> =
            desired.iter().flat_map(|(_, d)| d).filter(|r| !is_active(r)).map(|r| r.id).collect();
        let withdrawn = recommendations::withdrawn_revisions(db, &new).await?;
        let index = self.index.read().await;
        Ok(compute(|| {
            let mut changes = Vec::new();
            for (org, desired) in desired {
                let current = active.remove(&org).unwrap_or_default();
                let reason = |r: &Recommendation| index.withdraw_reason(r, today);
                changes.extend(reconcile(desired, current, &withdrawn, self.ranker.min_score_delta, reason));
            }
            (changes, (list, rows))
        }))
    }

    /// One OTLP span per traced recommendation event committed: from its cause's registry
    /// event's span to its own (the ids it carries), over the batch's handling.
    fn export_hops(&self, events: &[OutboxEvent], traces: &[Option<TraceContext>], started: std::time::SystemTime) {
        let Some(hops) = &self.hops else { return };
        for (e, t) in events.iter().zip(traces) {
            if let Some(t) = t {
                let attributes =
                    vec![("brygga.event_id", e.event_id.clone()), ("brygga.event_type", e.event_type.clone())];
                hops.continue_trace("matcher", t, &e.event_id, started, attributes);
            }
        }
    }
}

/// The event that announces change `c` (one encoding for the matcher and for re-publishing).
pub(crate) fn recommendation_event(
    prefix: &str,
    now: chrono::DateTime<chrono::Utc>,
    c: &Change,
    caused_by: &BTreeSet<String>,
    trace: Option<&TraceContext>,
) -> Result<OutboxEvent, StoreError> {
    let id = recommendation_event_id(c.rec.id, c.revision).to_string();
    let ty = change_type(c.kind);
    let data = RecommendationV1::from_domain(&c.rec, c.kind, c.revision, caused_by.iter().cloned().collect());
    let ev = CloudEvent::new(id.clone(), SOURCE, ty, Some(c.rec.org_id.to_string()), now, data)
        .traced(trace.map(|t| t.child(&id)).as_ref());
    let payload = serde_json::to_string(&ev).map_err(|e| StoreError::Corrupt {
        what: "event",
        id: id.clone(),
        message: e.to_string(),
    })?;
    Ok(OutboxEvent {
        event_id: id,
        subject: recommendation(prefix, c.rec.org_id.as_str(), change_name(c.kind)),
        event_type: ty.to_owned(),
        payload,
    })
}
