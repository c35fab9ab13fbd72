//! The notification service's state: organisations' preferences (version rule, erased with
//! the organisation) and the messages it plans, each row keyed by (recommendation, kind), so a
//! message is planned at most once however often the event behind it is delivered, by however
//! many replicas.
//!
//! A row's life: `pending` (due at `due_at`, tried at `next_attempt_at`) → claimed
//! (`sending`) by one delivery loop → `sent`, or `pending` again with a later
//! `next_attempt_at` after a transient failure, or `failed` (dead-lettered), or `suppressed`
//! (withdrawn before it went, or consent or preferences changed). A row left `sending` by a
//! crash is never sent again: it becomes `unknown` ([`expire_sending`]), at most once.

use crate::entity::{notification as n, organisation, preferences as pref};
use crate::registry::Applied;
use crate::StoreError;
use brygga_domain::notify::Preferences;
use brygga_domain::OrgId;
use brygga_events::{OrganisationV1, PreferencesV1};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, LockBehavior, LockType, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use std::collections::HashMap;

/// Stores preferences if their version is newer than the stored one.
pub async fn put_preferences(db: &impl ConnectionTrait, p: &Preferences) -> Result<Applied, StoreError> {
    use pref::Column as C;
    let version = i64::try_from(p.version)
        .map_err(|_| StoreError::VersionOutOfRange { id: p.org_id.to_string(), version: p.version })?;
    let data = serde_json::to_string(&PreferencesV1::from_domain(p)).unwrap_or_default();
    let am = pref::ActiveModel {
        org_id: Set(p.org_id.to_string()),
        version: Set(version),
        data: Set(Some(data)),
        updated_at: Set(Utc::now()),
    };
    let on_conflict = OnConflict::column(C::OrgId)
        .update_columns([C::Version, C::Data, C::UpdatedAt])
        .action_and_where(Expr::col((pref::Entity, C::Version)).lt(Expr::cust("excluded.version")))
        .to_owned();
    let rows = pref::Entity::insert(am).on_conflict(on_conflict).exec_without_returning(db).await?;
    Ok(if rows > 0 { Applied::Applied } else { Applied::Stale })
}

/// Erases an organisation's preferences (its address is contact data); the version stays, so a
/// late, older preferences event cannot bring the address back.
pub async fn erase_preferences(db: &impl ConnectionTrait, org: &OrgId) -> Result<(), StoreError> {
    pref::Entity::update_many()
        .col_expr(pref::Column::Data, Expr::value(Option::<String>::None))
        .col_expr(pref::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(pref::Column::OrgId.eq(org.as_str()))
        .exec(db)
        .await?;
    Ok(())
}

/// The preferences of these organisations (those that have any).
pub async fn preferences_of(
    db: &impl ConnectionTrait,
    orgs: &[String],
) -> Result<HashMap<String, Preferences>, StoreError> {
    let mut out = HashMap::new();
    for chunk in orgs.chunks(500) {
        let rows = pref::Entity::find().filter(pref::Column::OrgId.is_in(chunk.iter().cloned())).all(db).await?;
        for r in rows {
            let Some(data) = r.data else { continue };
            let corrupt = |m: String| StoreError::Corrupt { what: "preferences", id: r.org_id.clone(), message: m };
            let v: PreferencesV1 = serde_json::from_str(&data).map_err(|e| corrupt(e.to_string()))?;
            out.insert(r.org_id.clone(), v.into_domain().map_err(|_| corrupt("invalid preferences".into()))?);
        }
    }
    Ok(out)
}

/// What the notification service needs of an organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addressee {
    pub name: String,
    pub consent_contact: bool,
}

/// These organisations' names and contact consent (removed ones are absent).
pub async fn addressees(db: &impl ConnectionTrait, orgs: &[String]) -> Result<HashMap<String, Addressee>, StoreError> {
    let mut out = HashMap::new();
    for chunk in orgs.chunks(500) {
        let rows = organisation::Entity::find()
            .filter(organisation::Column::Removed.eq(false))
            .filter(organisation::Column::Id.is_in(chunk.iter().cloned()))
            .all(db)
            .await?;
        for r in rows {
            let corrupt = |m: String| StoreError::Corrupt { what: "organisation", id: r.id.clone(), message: m };
            let v: OrganisationV1 =
                serde_json::from_str(r.data.as_deref().unwrap_or("")).map_err(|e| corrupt(e.to_string()))?;
            out.insert(r.id.clone(), Addressee { name: v.name, consent_contact: v.consent.contact });
        }
    }
    Ok(out)
}

/// A message to plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    /// `{recommendation_id}:{kind}` with what distinguishes one of its kind (a revision, a deadline).
    pub id: String,
    pub org_id: String,
    pub recommendation_id: String,
    /// `created`, `updated`, `reminder-14`…
    pub kind: String,
    pub due_at: DateTime<Utc>,
    /// The `RecommendationV1` JSON the message is about.
    pub data: String,
}

/// Plans messages; one whose id is already planned is left as it is. Returns how many are new.
pub async fn plan(db: &impl ConnectionTrait, planned: &[Planned]) -> Result<u64, StoreError> {
    let mut new = 0;
    for chunk in planned.chunks(200) {
        let rows = chunk.iter().map(|p| n::ActiveModel {
            id: Set(p.id.clone()),
            org_id: Set(p.org_id.clone()),
            recommendation_id: Set(p.recommendation_id.clone()),
            kind: Set(p.kind.clone()),
            status: Set(Status::Pending.as_str().into()),
            reason: Set(None),
            due_at: Set(p.due_at),
            attempts: Set(0),
            next_attempt_at: Set(p.due_at),
            sent_at: Set(None),
            message_id: Set(None),
            data: Set(p.data.clone()),
            created_at: Set(Utc::now()),
        });
        let on_conflict = OnConflict::column(n::Column::Id).do_nothing().to_owned();
        new += n::Entity::insert_many(rows).on_conflict(on_conflict).exec_without_returning(db).await?;
    }
    Ok(new)
}

/// Where a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pending,
    Sending,
    Sent,
    Failed,
    Suppressed,
    /// Claimed by a process that stopped before it said how the send ended: not sent again.
    Unknown,
}

impl Status {
    pub const ALL: [Status; 6] =
        [Self::Pending, Self::Sending, Self::Sent, Self::Failed, Self::Suppressed, Self::Unknown];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Failed => "failed",
            Self::Suppressed => "suppressed",
            Self::Unknown => "unknown",
        }
    }
}

/// Suppresses what still waits to be sent about these recommendations (they were withdrawn);
/// returns how many.
pub async fn suppress_waiting(db: &impl ConnectionTrait, recs: &[String], reason: &str) -> Result<u64, StoreError> {
    let mut n_rows = 0;
    for chunk in recs.chunks(500) {
        n_rows += n::Entity::update_many()
            .col_expr(n::Column::Status, Expr::value(Status::Suppressed.as_str()))
            .col_expr(n::Column::Reason, Expr::value(reason))
            .filter(n::Column::Status.eq(Status::Pending.as_str()))
            .filter(n::Column::RecommendationId.is_in(chunk.iter().cloned()))
            .exec(db)
            .await?
            .rows_affected;
    }
    Ok(n_rows)
}

/// The last message planned or sent about each of these recommendations (`created` or
/// `updated`; its `RecommendationV1` JSON), to judge whether an update says something new.
pub async fn last_announced(db: &impl ConnectionTrait, recs: &[String]) -> Result<HashMap<String, String>, StoreError> {
    let mut out: HashMap<String, (DateTime<Utc>, String)> = HashMap::new();
    let live = [Status::Pending, Status::Sending, Status::Sent, Status::Unknown].map(Status::as_str);
    for chunk in recs.chunks(500) {
        let rows = n::Entity::find()
            .filter(n::Column::RecommendationId.is_in(chunk.iter().cloned()))
            .filter(n::Column::Kind.is_in(["created", "updated"]))
            .filter(n::Column::Status.is_in(live))
            .all(db)
            .await?;
        for r in rows {
            let newer = out.get(&r.recommendation_id).is_none_or(|(t, _)| *t < r.created_at);
            if newer {
                out.insert(r.recommendation_id, (r.created_at, r.data));
            }
        }
    }
    Ok(out.into_iter().map(|(k, (_, d))| (k, d)).collect())
}

/// A message claimed for delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    pub id: String,
    pub org_id: String,
    pub recommendation_id: String,
    pub kind: String,
    /// Attempts made before this one.
    pub attempts: u32,
    pub data: String,
}

/// Claims up to `limit` messages due by `now` (`sending`); on PostgreSQL the rows are read `FOR
/// UPDATE SKIP LOCKED` (call it in a transaction), so replicas never claim the same row.
pub async fn claim_due(db: &impl ConnectionTrait, now: DateTime<Utc>, limit: u64) -> Result<Vec<Claimed>, StoreError> {
    let mut q = n::Entity::find()
        .filter(n::Column::Status.eq(Status::Pending.as_str()))
        .filter(n::Column::NextAttemptAt.lte(now))
        .order_by_asc(n::Column::NextAttemptAt)
        .order_by_asc(n::Column::Id)
        .limit(limit);
    if db.get_database_backend() == DbBackend::Postgres {
        q = q.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let rows = q.all(db).await?;
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    for chunk in ids.chunks(500) {
        n::Entity::update_many()
            .col_expr(n::Column::Status, Expr::value(Status::Sending.as_str()))
            .col_expr(n::Column::NextAttemptAt, Expr::value(now))
            .filter(n::Column::Id.is_in(chunk.iter().cloned()))
            .filter(n::Column::Status.eq(Status::Pending.as_str()))
            .exec(db)
            .await?;
    }
    Ok(rows
        .into_iter()
        .map(|r| Claimed {
            id: r.id,
            org_id: r.org_id,
            recommendation_id: r.recommendation_id,
            kind: r.kind,
            attempts: u32::try_from(r.attempts).unwrap_or(0),
            data: r.data,
        })
        .collect())
}

/// How a delivery attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    Sent {
        message_id: String,
        at: DateTime<Utc>,
    },
    /// Tried again at `at`.
    Retry {
        at: DateTime<Utc>,
        reason: String,
    },
    Failed {
        reason: String,
    },
    Suppressed {
        reason: String,
    },
}

/// Records how the delivery of claimed messages ended (the reason holds no contact data).
pub async fn finish(db: &impl ConnectionTrait, ids: &[String], ended: &Ended) -> Result<(), StoreError> {
    let mut q = n::Entity::update_many();
    q = match ended {
        Ended::Sent { message_id, at } => q
            .col_expr(n::Column::Status, Expr::value(Status::Sent.as_str()))
            .col_expr(n::Column::SentAt, Expr::value(*at))
            .col_expr(n::Column::MessageId, Expr::value(message_id.clone()))
            .col_expr(n::Column::Attempts, Expr::col(n::Column::Attempts).add(1)),
        Ended::Retry { at, reason } => q
            .col_expr(n::Column::Status, Expr::value(Status::Pending.as_str()))
            .col_expr(n::Column::NextAttemptAt, Expr::value(*at))
            .col_expr(n::Column::Reason, Expr::value(reason.clone()))
            .col_expr(n::Column::Attempts, Expr::col(n::Column::Attempts).add(1)),
        Ended::Failed { reason } => q
            .col_expr(n::Column::Status, Expr::value(Status::Failed.as_str()))
            .col_expr(n::Column::Reason, Expr::value(reason.clone()))
            .col_expr(n::Column::Attempts, Expr::col(n::Column::Attempts).add(1)),
        Ended::Suppressed { reason } => q
            .col_expr(n::Column::Status, Expr::value(Status::Suppressed.as_str()))
            .col_expr(n::Column::Reason, Expr::value(reason.clone())),
    };
    for chunk in ids.chunks(500) {
        q.clone().filter(n::Column::Id.is_in(chunk.iter().cloned())).exec(db).await?;
    }
    Ok(())
}

/// Rows claimed before `before` and never finished (their process stopped mid-send) become
/// `unknown`: never sent again. Returns how many.
pub async fn expire_sending(db: &impl ConnectionTrait, before: DateTime<Utc>) -> Result<u64, StoreError> {
    Ok(n::Entity::update_many()
        .col_expr(n::Column::Status, Expr::value(Status::Unknown.as_str()))
        .col_expr(n::Column::Reason, Expr::value("claimed by a process that stopped before the send ended"))
        .filter(n::Column::Status.eq(Status::Sending.as_str()))
        .filter(n::Column::NextAttemptAt.lt(before))
        .exec(db)
        .await?
        .rows_affected)
}

/// A message as the store holds it (for the organisation's view and for tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub id: String,
    pub recommendation_id: String,
    pub kind: String,
    pub status: String,
    pub reason: Option<String>,
    pub attempts: u32,
    pub sent_at: Option<DateTime<Utc>>,
    pub message_id: Option<String>,
}

/// Every message planned for an organisation, oldest first.
pub async fn of_organisation(db: &impl ConnectionTrait, org: &str) -> Result<Vec<Notification>, StoreError> {
    let rows = n::Entity::find()
        .filter(n::Column::OrgId.eq(org))
        .order_by_asc(n::Column::CreatedAt)
        .order_by_asc(n::Column::Id)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| Notification {
            id: r.id,
            recommendation_id: r.recommendation_id,
            kind: r.kind,
            status: r.status,
            reason: r.reason,
            attempts: u32::try_from(r.attempts).unwrap_or(0),
            sent_at: r.sent_at,
            message_id: r.message_id,
        })
        .collect())
}
