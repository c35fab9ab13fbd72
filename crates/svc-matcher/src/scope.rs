//! Which organisations a batch of changes can affect, and which events caused each.
//!
//! A changed organisation is a changed *partner*: it is re-ranked itself, and so are those
//! that hold it now and those whose top-k partners it enters. A changed call: those that hold
//! it now and those whose top-k calls it enters. "Enters" is judged by the index against the
//! scores each candidate holds (`held.rs`, without reading the store each time); candidates come from
//! the index's postings, so the cost is the organisations that share a term with the change.

use crate::held::Held;
use brygga_domain::{Index, OrgId, Recommendation, Target, TARGET_KINDS};
use brygga_store::{recommendations, DatabaseConnection, StoreError};
use chrono::NaiveDate;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use tokio::sync::RwLock;

/// One entity a registry event changed, and the events that caused it.
#[derive(Debug)]
pub(crate) struct Changed {
    pub(crate) target: Target,
    pub(crate) causes: Vec<String>,
}

/// How one organisation is re-ranked, and why.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    pub(crate) causes: BTreeSet<String>,
    /// Everything from scratch: the organisation itself changed.
    pub(crate) full: bool,
    /// Kinds ranked again from scratch: it holds a changed target of that kind.
    pub(crate) refill: BTreeSet<&'static str>,
    /// Targets that enter its lists: merged into what it holds of their kind.
    pub(crate) enter: Vec<Target>,
}

/// What to re-rank.
#[derive(Debug)]
pub(crate) enum Scope {
    /// The organisations these changes can affect.
    Changed(Vec<Changed>),
    /// These organisations' lists of one kind (the sweep: calls), each with its cause.
    Refill(&'static str, Vec<(OrgId, String)>),
    /// These organisations from scratch (convergence after relearning), each with its cause.
    Full(Vec<(OrgId, String)>),
}

/// One entry per changed target, with the causes of all its events: a batch may hold several
/// events of one entity (updates, redeliveries), and each target must enter a list once.
fn coalesce(changed: Vec<Changed>) -> Vec<Changed> {
    let mut by_target: BTreeMap<(&'static str, String), Changed> = BTreeMap::new();
    for c in changed {
        match by_target.entry((c.target.kind(), c.target.id().to_owned())) {
            std::collections::btree_map::Entry::Occupied(mut e) => e.get_mut().causes.extend(c.causes),
            std::collections::btree_map::Entry::Vacant(e) => {
                e.insert(c);
            }
        }
    }
    by_target.into_values().collect()
}

/// The organisations to re-rank that `mine` accepts (the replica's partition), each with how
/// and why. The index is read-locked only while it is queried, never across database reads.
pub(crate) async fn affected(
    db: &DatabaseConnection,
    index: &RwLock<Index>,
    held: &Held,
    scope: Scope,
    today: NaiveDate,
    mine: impl Fn(&OrgId) -> bool,
) -> Result<BTreeMap<OrgId, Plan>, StoreError> {
    let mut out: BTreeMap<OrgId, Plan> = BTreeMap::new();
    let changed = match scope {
        Scope::Refill(kind, orgs) => {
            for (o, cause) in orgs.into_iter().filter(|(o, _)| mine(o)) {
                let plan = out.entry(o).or_default();
                plan.causes.insert(cause);
                plan.refill.insert(kind);
            }
            return Ok(out);
        }
        Scope::Full(orgs) => {
            for (o, cause) in orgs.into_iter().filter(|(o, _)| mine(o)) {
                let plan = out.entry(o).or_default();
                plan.causes.insert(cause);
                plan.full = true;
            }
            return Ok(out);
        }
        Scope::Changed(c) => coalesce(c),
    };
    for kind in ["partner", "call"] {
        let of_kind: Vec<&Changed> = changed.iter().filter(|c| c.target.kind() == kind).collect();
        if of_kind.is_empty() {
            continue;
        }
        // Those that hold a changed target now rank that kind again.
        let ids: Vec<String> = of_kind.iter().map(|c| c.target.id().to_owned()).collect();
        let by_id: HashMap<&str, &Changed> = of_kind.iter().map(|c| (c.target.id(), *c)).collect();
        let kind: &'static str = if kind == "partner" { "partner" } else { "call" };
        for (org, target) in recommendations::holders(db, kind, &ids).await? {
            if !mine(&org) {
                continue;
            }
            if let Some(c) = by_id.get(target.as_str()) {
                plan(&mut out, org, &c.causes).refill.insert(kind);
            }
        }
        // Those whose top-k a changed target enters, judged on the scores they hold. The
        // index names candidates by reference; each distinct one is copied once, and the
        // matches keep its place in `cands`.
        let (cands, found, k) = {
            let index = index.read().await;
            crate::compute(|| {
                let mut place: HashMap<&OrgId, u32> = HashMap::new();
                let mut cands: Vec<OrgId> = Vec::new();
                let found: Vec<(&Changed, Vec<(u32, u8)>)> = of_kind
                    .iter()
                    .map(|c| {
                        let matches = match &c.target {
                            Target::Partner(p) => index.orgs_matching_partner(p),
                            Target::Call(call) => index.orgs_matching_call(call, today),
                            _ => Vec::new(),
                        };
                        let at = matches
                            .into_iter()
                            .filter(|(o, _)| mine(o))
                            .map(|(o, score)| {
                                let n = *place.entry(o).or_insert_with(|| {
                                    cands.push(o.clone());
                                    u32::try_from(cands.len() - 1).unwrap_or(u32::MAX)
                                });
                                (n, score)
                            })
                            .collect();
                        (*c, at)
                    })
                    .collect();
                (cands, found, index.top_k(kind))
            })
        };
        let bars = held.bars(db, kind, k, &cands).await?;
        for (c, found) in found {
            if let Target::Partner(p) = &c.target {
                if mine(p) {
                    plan(&mut out, p.clone(), &c.causes).full = true;
                }
            }
            for (n, score) in found {
                if bars[n as usize].admits(c.target.id(), score) {
                    plan(&mut out, cands[n as usize].clone(), &c.causes).enter.push(c.target.clone());
                }
            }
        }
    }
    Ok(out)
}

/// The plan of `o`, with `causes` added.
fn plan<'a>(out: &'a mut BTreeMap<OrgId, Plan>, o: OrgId, causes: &[String]) -> &'a mut Plan {
    let p = out.entry(o).or_default();
    p.causes.extend(causes.iter().cloned());
    p
}

/// An organisation's recommendations after `plan`: from scratch where the plan says so (or
/// where the per-organisation cap couples the kinds), else what it holds with the targets
/// that enter merged in. Kinds the plan does not touch are kept as held.
pub(crate) fn desired(
    index: &Index,
    org: &OrgId,
    plan: &Plan,
    held: &[brygga_domain::Published],
    today: NaiveDate,
) -> Vec<Recommendation> {
    if plan.full || !index.kinds_are_independent() {
        return index.recommend(org, today);
    }
    let mut out = Vec::new();
    for kind in TARGET_KINDS {
        let held_kind: Vec<Recommendation> =
            held.iter().filter(|p| p.rec.target.kind() == kind).map(|p| p.rec.clone()).collect();
        let new: Vec<Target> = plan.enter.iter().filter(|t| t.kind() == kind).cloned().collect();
        if plan.refill.contains(kind) {
            out.extend(index.recommend_kind(org, kind, today));
        } else if !new.is_empty() {
            out.extend(index.merge_kind(org, kind, held_kind, &new, today));
        } else {
            out.extend(held_kind);
        }
    }
    out
}
