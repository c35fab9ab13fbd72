//! Feedback on recommendations: the latest per recommendation (version rule), what it
//! excludes for the matcher, what organisations keep for the notification service.

use crate::entity::feedback as fb;
use crate::registry::Applied;
use crate::StoreError;
use brygga_domain::feedback::{Feedback, FeedbackKind};
use brygga_domain::{recommendation_id, OrgId, Target};
use chrono::Utc;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use std::collections::HashSet;

/// Stores feedback if its version is newer than the stored one for that recommendation;
/// `fingerprint`: the call's, when the target is a call the registry holds.
pub async fn put(db: &impl ConnectionTrait, f: &Feedback, fingerprint: Option<String>) -> Result<Applied, StoreError> {
    use fb::Column as C;
    let rec = recommendation_id(&f.org_id, &f.target).to_string();
    let version =
        i64::try_from(f.version).map_err(|_| StoreError::VersionOutOfRange { id: rec.clone(), version: f.version })?;
    let am = fb::ActiveModel {
        recommendation_id: Set(rec),
        org_id: Set(f.org_id.to_string()),
        target_kind: Set(f.target.kind().to_owned()),
        target_id: Set(f.target.id().to_owned()),
        version: Set(version),
        kind: Set(f.kind.as_str().to_owned()),
        reason: Set(f.reason.clone()),
        fingerprint: Set(fingerprint),
        updated_at: Set(Utc::now()),
    };
    let on_conflict = OnConflict::column(C::RecommendationId)
        .update_columns([C::Version, C::Kind, C::Reason, C::Fingerprint, C::UpdatedAt])
        .action_and_where(Expr::col((fb::Entity, C::Version)).lt(Expr::cust("excluded.version")))
        .to_owned();
    let rows = fb::Entity::insert(am).on_conflict(on_conflict).exec_without_returning(db).await?;
    Ok(if rows > 0 { Applied::Applied } else { Applied::Stale })
}

fn target_of(r: &fb::Model) -> Result<(OrgId, Target), StoreError> {
    let corrupt = |m: String| StoreError::Corrupt { what: "feedback", id: r.recommendation_id.clone(), message: m };
    let org = OrgId::parse(&r.org_id).map_err(|e| corrupt(e.to_string()))?;
    let t = brygga_events::TargetRefV1 { kind: r.target_kind.clone(), id: r.target_id.clone() };
    Ok((org, t.read().map_err(corrupt)?))
}

/// Every standing dismissal (dismissed or not relevant), with the call fingerprint it is tied to.
pub async fn exclusions(db: &impl ConnectionTrait) -> Result<Vec<(OrgId, Target, Option<String>)>, StoreError> {
    let kinds = [FeedbackKind::Dismissed, FeedbackKind::NotRelevant].map(FeedbackKind::as_str);
    let rows = fb::Entity::find()
        .filter(fb::Column::Kind.is_in(kinds))
        .order_by_asc(fb::Column::RecommendationId)
        .all(db)
        .await?;
    rows.iter()
        .map(|r| {
            let (org, target) = target_of(r)?;
            Ok((org, target, r.fingerprint.clone()))
        })
        .collect()
}

/// Every call an organisation applied for (similar calls rank higher for it).
pub async fn applied(db: &impl ConnectionTrait) -> Result<Vec<(OrgId, Target)>, StoreError> {
    let rows = fb::Entity::find()
        .filter(fb::Column::Kind.eq(FeedbackKind::Applied.as_str()))
        .filter(fb::Column::TargetKind.eq("call"))
        .order_by_asc(fb::Column::RecommendationId)
        .all(db)
        .await?;
    rows.iter().map(target_of).collect()
}

/// Of these recommendations, those their organisation saved or applied for.
pub async fn kept(db: &impl ConnectionTrait, recs: &[String]) -> Result<HashSet<String>, StoreError> {
    let kinds = [FeedbackKind::Saved, FeedbackKind::Applied].map(FeedbackKind::as_str);
    let mut out = HashSet::new();
    for chunk in recs.chunks(500) {
        let rows = fb::Entity::find()
            .filter(fb::Column::RecommendationId.is_in(chunk.iter().cloned()))
            .filter(fb::Column::Kind.is_in(kinds))
            .all(db)
            .await?;
        out.extend(rows.into_iter().map(|r| r.recommendation_id));
    }
    Ok(out)
}

/// An organisation's feedback, as (recommendation id, feedback, reason), by recommendation.
pub async fn of_organisation(
    db: &impl ConnectionTrait,
    org: &str,
) -> Result<Vec<(String, String, Option<String>)>, StoreError> {
    let rows =
        fb::Entity::find().filter(fb::Column::OrgId.eq(org)).order_by_asc(fb::Column::RecommendationId).all(db).await?;
    Ok(rows.into_iter().map(|r| (r.recommendation_id, r.kind, r.reason)).collect())
}

/// Erases an organisation's feedback (its reasons are in its own words).
pub async fn erase(db: &impl ConnectionTrait, org: &OrgId) -> Result<(), StoreError> {
    fb::Entity::delete_many().filter(fb::Column::OrgId.eq(org.as_str())).exec(db).await?;
    Ok(())
}

/// The version of the feedback stored for a recommendation, if any (the next one is higher).
pub async fn version_of(db: &impl ConnectionTrait, rec: &str) -> Result<Option<u64>, StoreError> {
    Ok(fb::Entity::find_by_id(rec).one(db).await?.map(|r| u64::try_from(r.version).unwrap_or(0)))
}
