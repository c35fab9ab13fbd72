//! The registry: latest known state of each organisation and call.
//!
//! Version rule: events carry the entity's full state and a version. A write applies only
//! if its version is greater than the stored one (atomically, in the upsert's WHERE), so an
//! update that arrives before its registration simply wins, and an older or repeated event
//! is reported [`Applied::Stale`] and changes nothing. Removal and closing keep a tombstone
//! with their version, so a late, older registration cannot resurrect the entity.

use crate::entity::{call, organisation};
use crate::StoreError;
use brygga_domain::{Call, CallId, OrgId, Organisation};
use brygga_events::{CallV1, OrganisationV1};
use chrono::Utc;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};

/// Whether a write changed the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Applied,
    /// The store already holds this version or a newer one.
    Stale,
}

fn applied(rows: u64) -> Applied {
    if rows > 0 {
        Applied::Applied
    } else {
        Applied::Stale
    }
}

/// Versions are validated at decode (`brygga_events::MAX_VERSION`); a larger one here is a
/// bug, refused rather than clamped (a clamped version could never be superseded).
fn version(id: &str, v: u64) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| StoreError::VersionOutOfRange { id: id.to_owned(), version: v })
}

fn json<T: serde::Serialize>(v: &T) -> String {
    // Serialising plain data structs cannot fail.
    serde_json::to_string(v).unwrap_or_default()
}

async fn upsert_org(db: &impl ConnectionTrait, id: &str, v: u64, data: Option<String>) -> Result<Applied, StoreError> {
    use organisation::Column as C;
    let am = organisation::ActiveModel {
        id: Set(id.to_owned()),
        version: Set(version(id, v)?),
        removed: Set(data.is_none()),
        data: Set(data),
        updated_at: Set(Utc::now()),
    };
    let on_conflict = OnConflict::column(C::Id)
        .update_columns([C::Version, C::Removed, C::Data, C::UpdatedAt])
        .action_and_where(Expr::col((organisation::Entity, C::Version)).lt(Expr::cust("excluded.version")))
        .to_owned();
    let rows = organisation::Entity::insert(am).on_conflict(on_conflict).exec_without_returning(db).await?;
    Ok(applied(rows))
}

async fn upsert_call(db: &impl ConnectionTrait, id: &str, v: u64, data: Option<String>) -> Result<Applied, StoreError> {
    use call::Column as C;
    let am = call::ActiveModel {
        id: Set(id.to_owned()),
        version: Set(version(id, v)?),
        closed: Set(data.is_none()),
        data: Set(data),
        updated_at: Set(Utc::now()),
    };
    let on_conflict = OnConflict::column(C::Id)
        .update_columns([C::Version, C::Closed, C::Data, C::UpdatedAt])
        .action_and_where(Expr::col((call::Entity, C::Version)).lt(Expr::cust("excluded.version")))
        .to_owned();
    let rows = call::Entity::insert(am).on_conflict(on_conflict).exec_without_returning(db).await?;
    Ok(applied(rows))
}

pub async fn put_organisation(db: &impl ConnectionTrait, org: &Organisation) -> Result<Applied, StoreError> {
    upsert_org(db, org.id.as_str(), org.version, Some(json(&OrganisationV1::from_domain(org)))).await
}

/// Removes an organisation and erases what the store held of it: its state (contact fields,
/// description) and its notification preferences (the address).
pub async fn remove_organisation(db: &impl ConnectionTrait, id: &OrgId, v: u64) -> Result<Applied, StoreError> {
    let applied = upsert_org(db, id.as_str(), v, None).await?;
    if applied == Applied::Applied {
        crate::notifications::erase_preferences(db, id).await?;
        crate::feedback::erase(db, id).await?;
    }
    Ok(applied)
}

pub async fn put_call(db: &impl ConnectionTrait, c: &Call) -> Result<Applied, StoreError> {
    upsert_call(db, c.id.as_str(), c.version, Some(json(&CallV1::from_domain(c)))).await
}

pub async fn close_call(db: &impl ConnectionTrait, id: &CallId, v: u64) -> Result<Applied, StoreError> {
    upsert_call(db, id.as_str(), v, None).await
}

/// Every organisation that is not removed.
pub async fn organisations(db: &impl ConnectionTrait) -> Result<Vec<Organisation>, StoreError> {
    let rows = organisation::Entity::find().filter(organisation::Column::Removed.eq(false)).all(db).await?;
    rows.into_iter()
        .map(|r| {
            let corrupt = |m: String| StoreError::Corrupt { what: "organisation", id: r.id.clone(), message: m };
            let v: OrganisationV1 =
                serde_json::from_str(r.data.as_deref().unwrap_or("")).map_err(|e| corrupt(e.to_string()))?;
            v.into_domain().map_err(|e| corrupt(e.to_string()))
        })
        .collect()
}

/// Every call that is not closed.
pub async fn calls(db: &impl ConnectionTrait) -> Result<Vec<Call>, StoreError> {
    let rows = call::Entity::find().filter(call::Column::Closed.eq(false)).all(db).await?;
    rows.into_iter()
        .map(|r| {
            let corrupt = |m: String| StoreError::Corrupt { what: "call", id: r.id.clone(), message: m };
            let v: CallV1 =
                serde_json::from_str(r.data.as_deref().unwrap_or("")).map_err(|e| corrupt(e.to_string()))?;
            v.into_domain().map_err(|e| corrupt(e.to_string()))
        })
        .collect()
}

/// A call the registry holds (closed ones too, as last published), if any.
pub async fn call(db: &impl ConnectionTrait, id: &CallId) -> Result<Option<Call>, StoreError> {
    let Some(r) = call::Entity::find_by_id(id.as_str()).one(db).await? else { return Ok(None) };
    let Some(data) = r.data else { return Ok(None) };
    let corrupt = |m: String| StoreError::Corrupt { what: "call", id: r.id.clone(), message: m };
    let v: CallV1 = serde_json::from_str(&data).map_err(|e| corrupt(e.to_string()))?;
    v.into_domain().map(Some).map_err(|e| corrupt(e.to_string()))
}

/// How many organisations are registered and not removed, and calls published and not closed.
pub async fn counts(db: &impl ConnectionTrait) -> Result<(u64, u64), StoreError> {
    let orgs = organisation::Entity::find().filter(organisation::Column::Removed.eq(false)).count(db).await?;
    let calls = call::Entity::find().filter(call::Column::Closed.eq(false)).count(db).await?;
    Ok((orgs, calls))
}

/// The stored version of an organisation (removed ones included).
pub async fn organisation_version(db: &impl ConnectionTrait, id: &OrgId) -> Result<Option<u64>, StoreError> {
    Ok(organisation::Entity::find_by_id(id.as_str()).one(db).await?.map(|r| r.version as u64))
}

/// What the store holds of an organisation's state (its JSON), if anything: `None` once it is
/// removed (erased) or was never registered. For access and erasure requests, and their tests.
pub async fn organisation_data(db: &impl ConnectionTrait, id: &OrgId) -> Result<Option<String>, StoreError> {
    Ok(organisation::Entity::find_by_id(id.as_str()).one(db).await?.and_then(|r| r.data))
}
