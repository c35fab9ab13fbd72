//! The notification service: the reference consumer of the recommendation stream. It turns
//! recommendation events into e-mails (SMTP) and signed webhooks for the organisations that
//! asked for them, as their preferences say (channel, language, instant or digest, opt-outs),
//! and reminds them of call deadlines 14, 7 and 1 days ahead.
//!
//! Three loops, all state in the store (so any number of replicas and restarts send each
//! message at most once per organisation, recommendation and kind):
//! - **plan** ([`Notifier::plan_batch`]): its own durable consumer (`notify`) on the
//!   recommendation stream; each batch becomes planned messages in one transaction (rows
//!   keyed by recommendation, kind and revision), withdrawn recommendations cancel what still
//!   waits, then the batch is acknowledged;
//! - **remind** ([`Notifier::plan_reminders`]): from the injectable clock, plans the deadline
//!   reminder due today for every active call recommendation;
//! - **deliver** ([`Notifier::deliver_due`]): claims due messages (`FOR UPDATE SKIP LOCKED` on
//!   PostgreSQL), checks consent and preferences again, folds a digest organisation's messages
//!   into one, sends, and records how it ended; transient failures are tried again with
//!   exponential backoff, the last failure and permanent ones are dead-lettered on
//!   `{prefix}.dlq.v1.notify`.
//!
//! The rules themselves are pure, in `brygga_domain::notify`; the messages in [`mod@compose`];
//! the channels and the webhook signature in [`deliver`].

pub mod compose;
pub mod deliver;
mod stats;

pub use stats::NotifyStats;

use brygga_bus::{Bus, ConsumerSpec, ConsumerStats, Delivery, Outcome};
use brygga_domain::notify::{
    backoff, due_for, material_update, may_contact, may_send, reminder_due, reminder_window, Cadence, LastSent,
    MessageKind, Preferences, Rules, Suppressed,
};
use brygga_domain::{Clock, Language};
use brygga_events::subject::{dead_letter, recommendation, Stream};
use brygga_events::{decode_recommendation, types, CloudEvent, DeadLetterV1, RecommendationV1};
use brygga_runtime::links::Action;
use brygga_store::notifications::{self as rows, Addressee, Claimed, Ended, Planned};
use brygga_store::{recommendations, Store, StoreError, TransactionTrait};
use compose::{compose, Entry};
use deliver::{Channels, Outgoing, SendError};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

/// Durable consumer name, also the service name in dead letters.
pub const DURABLE: &str = "notify";
const SOURCE: &str = "urn:brygga:notify";
/// Recommendation events planned in one transaction at most.
pub const BATCH: usize = 256;
/// Messages claimed per delivery round.
const CLAIM: u64 = 100;
/// A message claimed this long ago and never finished belonged to a process that stopped.
const CLAIM_EXPIRY: chrono::Duration = chrono::Duration::minutes(10);

/// What the notification service needs.
#[derive(Debug)]
pub struct Notifier {
    pub store: Store,
    pub prefix: String,
    pub rules: Rules,
    pub clock: Arc<dyn Clock>,
    pub channels: Channels,
    /// Attempts before a message is dead-lettered.
    pub max_attempts: u32,
    pub stats: Arc<NotifyStats>,
    /// Signed links for the organisation (its page, feedback, opt-out), when configured.
    pub links: Option<brygga_runtime::links::Links>,
}

/// How often the loops run.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// Between delivery rounds that found nothing to do.
    pub poll: Duration,
    /// Between reminder scans.
    pub reminders: Duration,
}

/// Runs the three loops until `cancel` fires.
pub async fn run(
    bus: Bus,
    notifier: Arc<Notifier>,
    timing: Timing,
    consumer: Arc<ConsumerStats>,
    cancel: CancellationToken,
) {
    let deliver = tokio::spawn(deliver_loop(bus.clone(), notifier.clone(), timing.poll, cancel.clone()));
    let remind = tokio::spawn(remind_loop(notifier.clone(), timing.reminders, cancel.clone()));
    let spec = ConsumerSpec { stream: Stream::Recommendations, durable: DURABLE.into() };
    let n = notifier.clone();
    bus.consume_batches(spec, &consumer, cancel, BATCH, move |ds| {
        let n = n.clone();
        async move { n.plan_batch(ds).await }
    })
    .await;
    let _ = deliver.await;
    let _ = remind.await;
    let s = &notifier.stats;
    info!(sent = s.sent(), failed = s.failed(), retried = s.retried(), "notify stopped");
}

async fn deliver_loop(bus: Bus, n: Arc<Notifier>, poll: Duration, cancel: CancellationToken) {
    while !cancel.is_cancelled() {
        let busy = match n.deliver_due(&bus).await {
            Ok(done) => done > 0,
            Err(e) => {
                warn!(error = %e, "delivering notifications failed; trying again");
                false
            }
        };
        if !busy {
            tokio::select! {
                _ = cancel.cancelled() => {}
                _ = tokio::time::sleep(poll) => {}
            }
        }
    }
}

async fn remind_loop(n: Arc<Notifier>, every: Duration, cancel: CancellationToken) {
    while !cancel.is_cancelled() {
        match n.plan_reminders().await {
            Ok(planned) if planned > 0 => info!(planned, "deadline reminders planned"),
            Ok(_) => {}
            Err(e) => warn!(error = %e, "planning deadline reminders failed; trying again later"),
        }
        tokio::select! {
            _ = cancel.cancelled() => {}
            _ = tokio::time::sleep(every) => {}
        }
    }
}

fn outcome_of(e: &StoreError) -> Outcome {
    if e.is_unavailable() {
        Outcome::Unavailable(e.to_string())
    } else {
        Outcome::Retry(e.to_string())
    }
}

fn last_sent(r: &RecommendationV1) -> LastSent {
    LastSent { score: r.score, deadline: r.deadline.as_deref().and_then(|d| d.parse().ok()) }
}

/// Who may hear what: names and consent, and preferences, of some organisations.
struct Audience {
    addressees: HashMap<String, Addressee>,
    prefs: HashMap<String, Preferences>,
}

impl Audience {
    async fn of(store: &Store, orgs: &[String]) -> Result<Self, StoreError> {
        let db = store.db();
        Ok(Self { addressees: rows::addressees(db, orgs).await?, prefs: rows::preferences_of(db, orgs).await? })
    }

    /// Whether `org` may be sent anything about a target of `kind`: whom to address and how.
    fn check(&self, org: &str, kind: &str) -> Result<(&Addressee, &Preferences), Suppressed> {
        let a = self.addressees.get(org).ok_or(Suppressed::Removed)?;
        may_send(a.consent_contact, self.prefs.get(org), kind)?;
        self.reachable(org)
    }

    /// Whether `org` may be sent anything at all: whom to address and how.
    fn reachable(&self, org: &str) -> Result<(&Addressee, &Preferences), Suppressed> {
        let a = self.addressees.get(org).ok_or(Suppressed::Removed)?;
        Ok((a, may_contact(a.consent_contact, self.prefs.get(org))?))
    }
}

impl Notifier {
    /// Plans the messages a batch of recommendation events calls for (one transaction), or
    /// says why not; malformed events are dead-lettered.
    pub async fn plan_batch(&self, ds: Vec<Delivery>) -> Vec<Outcome> {
        let mut outcomes = vec![Outcome::Ack; ds.len()];
        let mut events = Vec::new();
        for (i, d) in ds.iter().enumerate() {
            match decode_recommendation(&d.payload) {
                Ok(ev) => events.push(ev.data),
                Err(rej) => outcomes[i] = Outcome::Reject { code: rej.code().into(), reason: rej.to_string() },
            }
        }
        if events.is_empty() {
            return outcomes;
        }
        let failed = |e: StoreError| {
            let o = outcome_of(&e);
            outcomes.iter().map(|x| if *x == Outcome::Ack { o.clone() } else { x.clone() }).collect::<Vec<_>>()
        };
        let orgs: Vec<String> =
            events.iter().map(|r| r.organisation_id.clone()).collect::<HashSet<_>>().into_iter().collect();
        let updated: Vec<String> =
            events.iter().filter(|r| r.change == "updated").map(|r| r.recommendation_id.clone()).collect();
        let gone: Vec<String> =
            events.iter().filter(|r| r.change == "withdrawn").map(|r| r.recommendation_id.clone()).collect();
        let kept = match brygga_store::feedback::kept(self.store.db(), &gone).await {
            Ok(k) => k,
            Err(e) => return failed(e),
        };
        let audience = match Audience::of(&self.store, &orgs).await {
            Ok(a) => a,
            Err(e) => return failed(e),
        };
        let mut last: HashMap<String, LastSent> = match rows::last_announced(self.store.db(), &updated).await {
            Ok(m) => m
                .into_iter()
                .filter_map(|(k, v)| serde_json::from_str::<RecommendationV1>(&v).ok().map(|r| (k, last_sent(&r))))
                .collect(),
            Err(e) => return failed(e),
        };
        let now = self.clock.now();
        let mut planned: Vec<Planned> = Vec::new();
        let mut withdrawn: Vec<String> = Vec::new();
        for r in events {
            let kind = match r.change.as_str() {
                "created" => MessageKind::Created,
                "updated" => MessageKind::Updated,
                _ => {
                    // What still waits about it is not sent: a digest does not announce it.
                    let before = planned.len();
                    planned.retain(|p| p.recommendation_id != r.recommendation_id);
                    for _ in planned.len()..before {
                        self.stats.suppress(Suppressed::Withdrawn);
                    }
                    last.remove(&r.recommendation_id);
                    withdrawn.push(r.recommendation_id.clone());
                    // Saved or applied for: the organisation hears that it is gone.
                    if !kept.contains(&r.recommendation_id) {
                        continue;
                    }
                    MessageKind::Withdrawn
                }
            };
            let prefs = match audience.check(&r.organisation_id, &r.target.kind) {
                Ok((_, p)) => p,
                Err(s) => {
                    self.stats.suppress(s);
                    continue;
                }
            };
            if kind == MessageKind::Withdrawn {
                planned.push(Planned {
                    id: format!("{}:{}:r{}", r.recommendation_id, kind.as_str(), r.revision),
                    org_id: r.organisation_id.clone(),
                    recommendation_id: r.recommendation_id.clone(),
                    kind: kind.as_str(),
                    due_at: audience
                        .prefs
                        .get(&r.organisation_id)
                        .and_then(|p| p.quiet_hours)
                        .map_or(now, |q| q.after(now)),
                    data: serde_json::to_string(&r).unwrap_or_default(),
                });
                continue;
            }
            let now_says = last_sent(&r);
            if kind == MessageKind::Updated
                && !material_update(&self.rules, last.get(&r.recommendation_id), now_says.score, now_says.deadline)
            {
                self.stats.suppress(Suppressed::NotMaterial);
                continue;
            }
            last.insert(r.recommendation_id.clone(), now_says);
            planned.push(Planned {
                id: format!("{}:{}:r{}", r.recommendation_id, kind.as_str(), r.revision),
                org_id: r.organisation_id.clone(),
                recommendation_id: r.recommendation_id.clone(),
                kind: kind.as_str(),
                due_at: due_for(&self.rules, prefs, now),
                data: serde_json::to_string(&r).unwrap_or_default(),
            });
        }
        let write = async {
            let txn = self.store.db().begin().await?;
            let cancelled = rows::suppress_waiting(&txn, &withdrawn, Suppressed::Withdrawn.as_str()).await?;
            let new = rows::plan(&txn, &planned).await?;
            txn.commit().await?;
            Ok::<_, StoreError>((cancelled, new))
        };
        match write.await {
            Ok((cancelled, new)) => {
                for _ in 0..cancelled {
                    self.stats.suppress(Suppressed::Withdrawn);
                }
                self.stats.planned(new);
                outcomes
            }
            Err(e) => failed(e),
        }
    }

    /// Plans today's deadline reminders (each once: its row is keyed by recommendation, days
    /// and deadline); returns how many are new.
    pub async fn plan_reminders(&self) -> Result<u64, StoreError> {
        let today = self.clock.today();
        let (from, to) = reminder_window(today);
        let due: Vec<(u8, brygga_domain::Published)> = recommendations::active_calls_due(self.store.db(), from, to)
            .await?
            .into_iter()
            .filter_map(|p| p.rec.deadline.and_then(|d| reminder_due(d, today)).map(|n| (n, p)))
            .collect();
        if due.is_empty() {
            return Ok(0);
        }
        let orgs: Vec<String> =
            due.iter().map(|(_, p)| p.rec.org_id.to_string()).collect::<HashSet<_>>().into_iter().collect();
        let audience = Audience::of(&self.store, &orgs).await?;
        let now = self.clock.now();
        let mut planned = Vec::new();
        for (n, p) in due {
            let r = RecommendationV1::current(&p, true, Vec::new());
            let due = match audience.check(&r.organisation_id, "call") {
                Ok((_, prefs)) => prefs.quiet_hours.map_or(now, |q| q.after(now)),
                Err(s) => {
                    self.stats.suppress(s);
                    continue;
                }
            };
            let kind = MessageKind::Reminder(n).as_str();
            planned.push(Planned {
                id: format!("{}:{kind}:{}", r.recommendation_id, r.deadline.as_deref().unwrap_or_default()),
                org_id: r.organisation_id.clone(),
                recommendation_id: r.recommendation_id.clone(),
                kind,
                due_at: due,
                data: serde_json::to_string(&r).unwrap_or_default(),
            });
        }
        let new = rows::plan(self.store.db(), &planned).await?;
        self.stats.planned(new);
        Ok(new)
    }

    /// Sends the messages that are due; returns how many rows it finished.
    pub async fn deliver_due(&self, bus: &Bus) -> Result<usize, StoreError> {
        let now = self.clock.now();
        let expired = rows::expire_sending(self.store.db(), now - CLAIM_EXPIRY).await?;
        if expired > 0 {
            warn!(expired, "messages claimed by a stopped process are not sent again (at most once)");
            self.stats.unknown(expired);
        }
        let txn = self.store.db().begin().await?;
        let claimed = rows::claim_due(&txn, now, CLAIM).await?;
        txn.commit().await?;
        if claimed.is_empty() {
            return Ok(0);
        }
        let done = claimed.len();
        let orgs: Vec<String> = claimed.iter().map(|c| c.org_id.clone()).collect::<HashSet<_>>().into_iter().collect();
        let audience = Audience::of(&self.store, &orgs).await?;
        let mut by_org: BTreeMap<String, Vec<Claimed>> = BTreeMap::new();
        for c in claimed {
            by_org.entry(c.org_id.clone()).or_default().push(c);
        }
        for (org, list) in by_org {
            self.deliver_org(bus, &audience, &org, list).await?;
        }
        Ok(done)
    }

    async fn deliver_org(
        &self,
        bus: &Bus,
        audience: &Audience,
        org: &str,
        list: Vec<Claimed>,
    ) -> Result<(), StoreError> {
        let db = self.store.db();
        let mut sendable: Vec<(Claimed, Entry)> = Vec::new();
        for c in list {
            let (Ok(rec), Some(kind)) =
                (serde_json::from_str::<RecommendationV1>(&c.data), MessageKind::parse(&c.kind))
            else {
                let reason = "the planned message is unreadable".to_owned();
                rows::finish(db, std::slice::from_ref(&c.id), &Ended::Failed { reason }).await?;
                self.stats.fail();
                continue;
            };
            match audience.check(org, &rec.target.kind) {
                Ok(_) => {
                    let actions = self.links.as_ref().filter(|_| kind != MessageKind::Withdrawn).map(|l| {
                        let now = self.clock.now().timestamp();
                        let rid = &rec.recommendation_id;
                        compose::Actions {
                            dismiss: l.link(org, Action::Dismiss, rid, now),
                            save: l.link(org, Action::Save, rid, now),
                        }
                    });
                    sendable.push((c, Entry { kind, rec, actions }))
                }
                Err(s) => {
                    // Consent or preferences changed after it was planned: not sent, ever.
                    rows::finish(db, &[c.id], &Ended::Suppressed { reason: s.as_str().into() }).await?;
                    self.stats.suppress(s);
                }
            }
        }
        let Ok((addressee, prefs)) = audience.reachable(org) else { return Ok(()) };
        // A digest organisation's created and updated messages go as one; reminders on their own.
        let mut messages: Vec<Vec<(Claimed, Entry)>> = Vec::new();
        let mut digest = Vec::new();
        for one in sendable {
            let foldable =
                prefs.cadence != Cadence::Instant && matches!(one.1.kind, MessageKind::Created | MessageKind::Updated);
            if foldable {
                digest.push(one);
            } else {
                messages.push(vec![one]);
            }
        }
        if !digest.is_empty() {
            messages.push(digest);
        }
        for m in messages {
            self.send_one(bus, addressee, prefs, m).await?;
        }
        Ok(())
    }

    async fn send_one(
        &self,
        bus: &Bus,
        addressee: &Addressee,
        prefs: &Preferences,
        parts: Vec<(Claimed, Entry)>,
    ) -> Result<(), StoreError> {
        let db = self.store.db();
        let ids: Vec<String> = parts.iter().map(|(c, _)| c.id.clone()).collect();
        let attempts = parts.iter().map(|(c, _)| c.attempts).max().unwrap_or(0) + 1;
        let entries: Vec<Entry> = parts.into_iter().map(|(_, e)| e).collect();
        let language = prefs.language.unwrap_or_else(|| {
            Language::parse(entries.first().map_or("en", |e| e.rec.explanation.language.as_str())).unwrap_or_default()
        });
        let now = self.clock.now().timestamp();
        let org = prefs.org_id.as_str();
        let footer = self.links.as_ref().map(|l| compose::Footer {
            page: l.link(org, Action::Page, "", now),
            opt_out: l.link(org, Action::OptOut, "", now),
        });
        let message = compose(language, &addressee.name, &entries, footer.as_ref());
        let message_id = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, ids.join("\n").as_bytes()).to_string();
        let kind = match entries.as_slice() {
            [one] => one.kind.as_str(),
            _ => "digest".to_owned(),
        };
        let recs: Vec<RecommendationV1> = entries.iter().map(|e| e.rec.clone()).collect();
        let opt_out = footer.as_ref().map(|f| f.opt_out.as_str());
        let out = Outgoing {
            message_id: &message_id,
            org_id: prefs.org_id.as_str(),
            kind: &kind,
            message: &message,
            recommendations: &recs,
            opt_out,
        };
        let ended = match self.channels.send(&prefs.channel, &out).await {
            Ok(()) => {
                self.stats.send(prefs.channel.name());
                Ended::Sent { message_id: message_id.clone(), at: self.clock.now() }
            }
            Err(SendError::Transient(reason)) if attempts < self.max_attempts => {
                self.stats.retry();
                info!(%message_id, attempts, %reason, "notification not delivered; trying again later");
                Ended::Retry { at: self.clock.now() + backoff(attempts), reason }
            }
            Err(SendError::Transient(reason) | SendError::Permanent(reason)) => {
                self.stats.fail();
                warn!(%message_id, attempts, %reason, "notification not delivered; dead-lettered");
                self.dead_letter(bus, &message_id, &recs, attempts, &reason).await;
                Ended::Failed { reason }
            }
        };
        rows::finish(db, &ids, &ended).await
    }

    /// A message given up on, on `{prefix}.dlq.v1.notify`: the recommendations it was about
    /// (never the address), the reason and the attempts made.
    async fn dead_letter(&self, bus: &Bus, message_id: &str, recs: &[RecommendationV1], attempts: u32, reason: &str) {
        let Some(first) = recs.first() else { return };
        let payload = serde_json::to_vec(recs).unwrap_or_default();
        let (copy, truncated) = DeadLetterV1::payload_copy(&payload);
        let data = DeadLetterV1 {
            reason_code: "delivery_failed".into(),
            reason: reason.to_owned(),
            service: DURABLE.into(),
            original_subject: recommendation(&self.prefix, &first.organisation_id, &first.change),
            original_stream_sequence: 0,
            deliveries: u64::from(attempts),
            payload: copy,
            payload_bytes: payload.len(),
            payload_truncated: truncated,
            failed_at: self.clock.now(),
        };
        let id = format!("notify-dead-{message_id}");
        let ev = CloudEvent::new(
            id,
            SOURCE,
            types::DEAD_LETTER,
            Some(first.organisation_id.clone()),
            self.clock.now(),
            data,
        );
        if let Err(e) = bus.publish_event(&dead_letter(&self.prefix, DURABLE), &ev).await {
            warn!(%message_id, error = %e, "could not publish the dead letter of a notification");
        }
    }
}
