//! The transactional outbox: events written in the same transaction as the state they
//! announce, then relayed to JetStream and marked published. A crash between publish and
//! mark re-publishes with the same event id, which JetStream's duplicate window drops.
//! Published rows are deleted after a retention ([`delete_published_before`]).

use crate::entity::outbox;
use crate::StoreError;
use chrono::Utc;
use sea_orm::sea_query::{Expr, LockBehavior, LockType, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

/// An event waiting to be published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEvent {
    pub event_id: String,
    pub subject: String,
    pub event_type: String,
    /// The serialised CloudEvent.
    pub payload: String,
}

/// A stored outbox row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub seq: i64,
    pub event: OutboxEvent,
}

/// Adds events; an event id already present is ignored (idempotent). Multi-row statements
/// of up to 200 rows.
pub async fn enqueue(db: &impl ConnectionTrait, events: &[OutboxEvent]) -> Result<(), StoreError> {
    for chunk in events.chunks(200) {
        let rows = chunk.iter().map(|e| outbox::ActiveModel {
            event_id: Set(e.event_id.clone()),
            subject: Set(e.subject.clone()),
            event_type: Set(e.event_type.clone()),
            payload: Set(e.payload.clone()),
            created_at: Set(Utc::now()),
            published_at: Set(None),
            ..Default::default()
        });
        let on_conflict = OnConflict::column(outbox::Column::EventId).do_nothing().to_owned();
        outbox::Entity::insert_many(rows).on_conflict(on_conflict).exec_without_returning(db).await?;
    }
    Ok(())
}

/// The oldest unpublished events whose subject starts with `subject_prefix`, in order. On
/// PostgreSQL the rows are locked `FOR UPDATE SKIP LOCKED`: called inside a transaction, each
/// row is claimed by one relay of several replicas, which publishes and marks it before it
/// commits, so N replicas publish every row once (SQLite has one writer, the process).
pub async fn pending(db: &impl ConnectionTrait, subject_prefix: &str, limit: u64) -> Result<Vec<Pending>, StoreError> {
    let mut q = outbox::Entity::find()
        .filter(outbox::Column::PublishedAt.is_null())
        .filter(outbox::Column::Subject.starts_with(subject_prefix))
        .order_by_asc(outbox::Column::Seq)
        .limit(limit);
    if db.get_database_backend() == DbBackend::Postgres {
        q = q.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    Ok(q.all(db).await?.into_iter().map(pending_of).collect())
}

fn pending_of(r: outbox::Model) -> Pending {
    let event = OutboxEvent { event_id: r.event_id, subject: r.subject, event_type: r.event_type, payload: r.payload };
    Pending { seq: r.seq, event }
}

pub async fn mark_published(db: &impl ConnectionTrait, seqs: &[i64]) -> Result<(), StoreError> {
    if seqs.is_empty() {
        return Ok(());
    }
    outbox::Entity::update_many()
        .col_expr(outbox::Column::PublishedAt, Expr::value(Utc::now()))
        .filter(outbox::Column::Seq.is_in(seqs.iter().copied()))
        .exec(db)
        .await?;
    Ok(())
}

/// Deletes rows under `subject_prefix` published before `cutoff`; returns how many.
pub async fn delete_published_before(
    db: &impl ConnectionTrait,
    subject_prefix: &str,
    cutoff: chrono::DateTime<Utc>,
) -> Result<u64, StoreError> {
    let r = outbox::Entity::delete_many()
        .filter(outbox::Column::PublishedAt.lt(cutoff))
        .filter(outbox::Column::Subject.starts_with(subject_prefix))
        .exec(db)
        .await?;
    Ok(r.rows_affected)
}

/// The rows (published or not) whose payload contains `needle`, e.g. a recommendation id, in
/// order, each with whether it is published: what the cluster tests' failure report reads.
pub async fn mentioning(db: &impl ConnectionTrait, needle: &str) -> Result<Vec<(Pending, bool)>, StoreError> {
    let rows = outbox::Entity::find()
        .filter(outbox::Column::Payload.contains(needle))
        .order_by_asc(outbox::Column::Seq)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|r| (r.published_at.is_some(), r)).map(|(p, r)| (pending_of(r), p)).collect())
}

/// Rows held, published or not.
pub async fn rows(db: &impl ConnectionTrait) -> Result<u64, StoreError> {
    Ok(outbox::Entity::find().count(db).await?)
}

/// How many events wait to be published.
pub async fn backlog(db: &impl ConnectionTrait) -> Result<u64, StoreError> {
    Ok(outbox::Entity::find().filter(outbox::Column::PublishedAt.is_null()).count(db).await?)
}

/// How long the oldest row not yet published has waited (none: nothing waits).
pub async fn oldest_waiting(db: &impl ConnectionTrait) -> Result<Option<std::time::Duration>, StoreError> {
    let oldest = outbox::Entity::find()
        .filter(outbox::Column::PublishedAt.is_null())
        .order_by_asc(outbox::Column::Seq)
        .one(db)
        .await?;
    Ok(oldest.map(|r| (Utc::now() - r.created_at).to_std().unwrap_or_default()))
}
