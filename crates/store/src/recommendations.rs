//! Recommendation state: what was last published for each (organisation, target).

use crate::entity::recommendation as rec;
use crate::StoreError;
use brygga_domain::{Change, ChangeKind, OrgId, Published, Recommendation};
use chrono::{NaiveDate, Utc};
use sea_orm::sea_query::{Alias, Expr, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::collections::HashMap;

fn decode(r: rec::Model) -> Result<Published, StoreError> {
    let rec: Recommendation = serde_json::from_str(&r.data).map_err(|e| StoreError::Corrupt {
        what: "recommendation",
        id: r.id.clone(),
        message: e.to_string(),
    })?;
    Ok(Published { rec, revision: u32::try_from(r.revision).unwrap_or(0) })
}

/// The active recommendations of one organisation.
pub async fn active_for(db: &impl ConnectionTrait, org: &OrgId) -> Result<Vec<Published>, StoreError> {
    rec::Entity::find()
        .filter(rec::Column::OrgId.eq(org.as_str()))
        .filter(rec::Column::Active.eq(true))
        .all(db)
        .await?
        .into_iter()
        .map(decode)
        .collect()
}

/// The active recommendations of several organisations, in one query per 500.
pub async fn active_for_many(db: &impl ConnectionTrait, orgs: &[OrgId]) -> Result<Vec<Published>, StoreError> {
    let mut out = Vec::new();
    for chunk in orgs.chunks(500) {
        let rows = rec::Entity::find()
            .filter(rec::Column::Active.eq(true))
            .filter(rec::Column::OrgId.is_in(chunk.iter().map(OrgId::as_str)))
            .all(db)
            .await?;
        for r in rows {
            out.push(decode(r)?);
        }
    }
    Ok(out)
}

/// The `deadline` column's form of a date: `YYYY-MM-DD`, which orders as the dates do (for
/// four-digit years) and is how the stored JSON writes it (migration 5 filled the column
/// from there).
fn deadline_key(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// The active call recommendations whose deadline falls in `from..=to` (the deadline
/// reminders): an index range, not a scan of every active recommendation.
pub async fn active_calls_due(
    db: &impl ConnectionTrait,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<Published>, StoreError> {
    rec::Entity::find()
        .filter(rec::Column::TargetKind.eq("call"))
        .filter(rec::Column::Active.eq(true))
        .filter(rec::Column::Deadline.between(deadline_key(from), deadline_key(to)))
        .order_by_asc(rec::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(decode)
        .collect()
}

/// Every active recommendation, by organisation then score.
pub async fn all_active(db: &impl ConnectionTrait) -> Result<Vec<Published>, StoreError> {
    rec::Entity::find()
        .filter(rec::Column::Active.eq(true))
        .order_by_asc(rec::Column::OrgId)
        .order_by_desc(rec::Column::Score)
        .all(db)
        .await?
        .into_iter()
        .map(decode)
        .collect()
}

/// A page of active recommendations in id order, after `after` (exclusive), at most `limit`.
pub async fn active_page(
    db: &impl ConnectionTrait,
    after: Option<&uuid::Uuid>,
    limit: u64,
) -> Result<Vec<Published>, StoreError> {
    let mut q = rec::Entity::find().filter(rec::Column::Active.eq(true));
    if let Some(a) = after {
        q = q.filter(rec::Column::Id.gt(a.to_string()));
    }
    q.order_by_asc(rec::Column::Id).limit(limit).all(db).await?.into_iter().map(decode).collect()
}

/// One stored recommendation by id, active or withdrawn: (it, active).
pub async fn one(db: &impl ConnectionTrait, id: &uuid::Uuid) -> Result<Option<(Published, bool)>, StoreError> {
    match rec::Entity::find_by_id(id.to_string()).one(db).await? {
        Some(r) => {
            let active = r.active;
            Ok(Some((decode(r)?, active)))
        }
        None => Ok(None),
    }
}

/// The active recommendations of one target, best score first (ties by organisation), at most
/// `limit`; of each stored recommendation only its rank is read.
pub async fn of_target(
    db: &impl ConnectionTrait,
    kind: &str,
    target_id: &str,
    limit: u64,
) -> Result<Vec<TargetRow>, StoreError> {
    let rows: Vec<(String, String, i32, i32, String)> = rec::Entity::find()
        .select_only()
        .column(rec::Column::OrgId)
        .column(rec::Column::Id)
        .column(rec::Column::Revision)
        .column(rec::Column::Score)
        .column(rec::Column::Data)
        .filter(rec::Column::TargetKind.eq(kind))
        .filter(rec::Column::TargetId.eq(target_id))
        .filter(rec::Column::Active.eq(true))
        .order_by_desc(rec::Column::Score)
        .order_by_asc(rec::Column::OrgId)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?;
    rows.into_iter()
        .map(|(org, id, revision, score, data)| {
            #[derive(serde::Deserialize)]
            struct Rank {
                rank: u16,
            }
            let rank: Rank = serde_json::from_str(&data).map_err(|e| StoreError::Corrupt {
                what: "recommendation",
                id: id.clone(),
                message: e.to_string(),
            })?;
            Ok(TargetRow {
                org,
                id,
                revision: u32::try_from(revision).unwrap_or(0),
                score: u8::try_from(score).unwrap_or(0),
                rank: rank.rank,
            })
        })
        .collect()
}

/// One row of [`of_target`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetRow {
    pub org: String,
    pub id: String,
    pub revision: u32,
    pub score: u8,
    pub rank: u16,
}

/// Active recommendations by target kind.
pub async fn active_counts(db: &impl ConnectionTrait) -> Result<Vec<(String, u64)>, StoreError> {
    let rows: Vec<(String, i64)> = rec::Entity::find()
        .select_only()
        .column(rec::Column::TargetKind)
        .column_as(rec::Column::Id.count(), "n")
        .filter(rec::Column::Active.eq(true))
        .group_by(rec::Column::TargetKind)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|(k, n)| (k, u64::try_from(n).unwrap_or(0))).collect())
}

/// The last revision of each of these recommendations that is stored but not active
/// (withdrawn), so that one wanted again continues its revisions; one query per 500 ids.
pub async fn withdrawn_revisions(
    db: &impl ConnectionTrait,
    ids: &[uuid::Uuid],
) -> Result<HashMap<uuid::Uuid, u32>, StoreError> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<(String, i32)> = rec::Entity::find()
            .select_only()
            .column(rec::Column::Id)
            .column(rec::Column::Revision)
            .filter(rec::Column::Active.eq(false))
            .filter(rec::Column::Id.is_in(chunk.iter().map(ToString::to_string)))
            .into_tuple()
            .all(db)
            .await?;
        for (id, revision) in rows {
            let corrupt = |m: String| StoreError::Corrupt { what: "recommendation", id: id.clone(), message: m };
            let uuid = uuid::Uuid::parse_str(&id).map_err(|e| corrupt(e.to_string()))?;
            out.insert(uuid, u32::try_from(revision).map_err(|e| corrupt(e.to_string()))?);
        }
    }
    Ok(out)
}

/// One stored recommendation of an organisation as the matcher's entry bar needs it, active
/// or withdrawn, with its revision: [`held`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldRow {
    pub org: OrgId,
    pub kind: String,
    pub target: String,
    pub score: u8,
    pub revision: u32,
    pub active: bool,
}

/// Every stored recommendation of these kinds that `orgs` have or had (withdrawn ones too, so
/// that a reader folding them by revision with changes it saw itself cannot resurrect one),
/// without decoding whole recommendations; one query per 500 organisations.
pub async fn held(db: &impl ConnectionTrait, kinds: &[&str], orgs: &[OrgId]) -> Result<Vec<HeldRow>, StoreError> {
    let mut out = Vec::new();
    for chunk in orgs.chunks(500) {
        let rows: Vec<(String, String, String, i32, i32, bool)> = rec::Entity::find()
            .select_only()
            .column(rec::Column::OrgId)
            .column(rec::Column::TargetKind)
            .column(rec::Column::TargetId)
            .column(rec::Column::Score)
            .column(rec::Column::Revision)
            .column(rec::Column::Active)
            .filter(rec::Column::TargetKind.is_in(kinds.iter().copied()))
            .filter(rec::Column::OrgId.is_in(chunk.iter().map(OrgId::as_str)))
            .into_tuple()
            .all(db)
            .await?;
        out.extend(rows.into_iter().filter_map(|(org, kind, target, score, revision, active)| {
            Some(HeldRow {
                org: OrgId::parse(org).ok()?,
                kind,
                target,
                score: u8::try_from(score).unwrap_or(0),
                revision: u32::try_from(revision).unwrap_or(0),
                active,
            })
        }));
    }
    Ok(out)
}

/// The holders of these targets of one kind: (organisation, target id) for every active
/// recommendation of them, in queries of 500 ids.
pub async fn holders(
    db: &impl ConnectionTrait,
    kind: &str,
    target_ids: &[String],
) -> Result<Vec<(OrgId, String)>, StoreError> {
    let mut out = Vec::new();
    for chunk in target_ids.chunks(500) {
        let rows: Vec<(String, String)> = rec::Entity::find()
            .select_only()
            .column(rec::Column::OrgId)
            .column(rec::Column::TargetId)
            .filter(rec::Column::Active.eq(true))
            .filter(rec::Column::TargetKind.eq(kind))
            .filter(rec::Column::TargetId.is_in(chunk.iter().map(String::as_str)))
            .into_tuple()
            .all(db)
            .await?;
        out.extend(rows.into_iter().filter_map(|(o, t)| Some((OrgId::parse(o).ok()?, t))));
    }
    Ok(out)
}

/// Records each change's new state (call inside the transaction that enqueues its events),
/// in multi-row statements of up to 200 rows. Revisions only move forward: a change whose
/// revision is not above the stored one is ignored. Two writers that computed the same
/// revision (a matcher replica still finishing a batch of a partition that another has just
/// taken over) thus leave the first one's state, and the second one's event, having the same
/// id, is dropped by the outbox: the store and the consumers agree.
pub async fn apply(db: &impl ConnectionTrait, changes: &[Change]) -> Result<(), StoreError> {
    for chunk in changes.chunks(200) {
        let rows = chunk.iter().map(|c| rec::ActiveModel {
            id: Set(c.rec.id.to_string()),
            org_id: Set(c.rec.org_id.to_string()),
            target_kind: Set(c.rec.target.kind().to_owned()),
            target_id: Set(c.rec.target.id().to_owned()),
            revision: Set(i32::try_from(c.revision).unwrap_or(i32::MAX)),
            active: Set(c.kind != ChangeKind::Withdrawn),
            score: Set(i32::from(c.rec.score)),
            data: Set(serde_json::to_string(&c.rec).unwrap_or_default()),
            deadline: Set(c.rec.deadline.map(deadline_key)),
            updated_at: Set(Utc::now()),
        });
        let on_conflict = OnConflict::column(rec::Column::Id)
            .update_columns([
                rec::Column::Revision,
                rec::Column::Active,
                rec::Column::Score,
                rec::Column::Data,
                rec::Column::Deadline,
                rec::Column::UpdatedAt,
            ])
            .action_and_where(
                Expr::col((rec::Entity, rec::Column::Revision))
                    .lt(Expr::col((Alias::new("excluded"), rec::Column::Revision))),
            )
            .to_owned();
        rec::Entity::insert_many(rows).on_conflict(on_conflict).exec_without_returning(db).await?;
    }
    Ok(())
}
