//! Which organisations a batch of changes can affect, and which events caused each.
//!
//! A changed organisation is a changed *partner*: it is re-ranked itself, and so are those
//! that hold it now and those whose top-k partners it enters. A changed call: those that hold
//! it now and those whose top-k calls it enters. A holder scores the changed target again and
//! ranks that kind from scratch only if its score fell (or it went): a score that held or rose
//! cannot let in anything it did not already beat. That matters more than it seems: the index
//! runs ahead of the partitions' consumers (`feed.rs`), so organisations re-ranked now already
//! hold targets whose own events are still to come, and ranking each of them from scratch again
//! when those events arrive re-ranked about one holder per new organisation. "Enters" is
//! judged by the index against the scores each candidate holds and those waiting to enter its
//! lists (`held.rs`, `waiting.rs`, without reading the store each time); candidates come from the index's postings, so the cost is the
//! organisations that share a term with the change.

use crate::held::Held;
use crate::waiting::Waiting;
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
    /// The events that caused the full, refill and rescore parts (each entrant names its own).
    pub(crate) causes: BTreeSet<String>,
    /// Everything from scratch: the organisation itself changed.
    pub(crate) full: bool,
    /// Kinds ranked again from scratch (the sweep: a held call expired).
    pub(crate) refill: BTreeSet<&'static str>,
    /// Targets it holds that changed: scored again, and their kind ranked from scratch if the
    /// score fell.
    pub(crate) rescore: Vec<Target>,
    /// Targets that enter its lists: merged into what it holds of their kind.
    pub(crate) enter: Vec<Entrant>,
}

impl Plan {
    /// Every event that caused some part of the plan.
    pub(crate) fn all_causes(&self) -> BTreeSet<String> {
        let mut all = self.causes.clone();
        all.extend(self.enter.iter().flat_map(|e| e.causes.iter().cloned()));
        all
    }
}

/// A target that enters an organisation's list, with the score it entered with and the
/// events that caused it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entrant {
    pub(crate) target: Target,
    pub(crate) score: u8,
    pub(crate) causes: Vec<String>,
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
    waiting: &Waiting,
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
        // Those that hold a changed target now score it again.
        let ids: Vec<String> = of_kind.iter().map(|c| c.target.id().to_owned()).collect();
        let by_id: HashMap<&str, &Changed> = of_kind.iter().map(|c| (c.target.id(), *c)).collect();
        let kind: &'static str = if kind == "partner" { "partner" } else { "call" };
        for (org, target) in recommendations::holders(db, kind, &ids).await? {
            if !mine(&org) {
                continue;
            }
            if let Some(c) = by_id.get(target.as_str()) {
                plan(&mut out, org, &c.causes).rescore.push(c.target.clone());
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
        let bars = held.bars(db, kind, k, &cands, waiting).await?;
        // The index leaves out, next time, the lists a target cannot enter (`bars.rs`).
        index.write().await.set_entry_bars(kind, cands.iter().zip(&bars));
        for (c, found) in found {
            if let Target::Partner(p) = &c.target {
                if mine(p) {
                    plan(&mut out, p.clone(), &c.causes).full = true;
                }
            }
            for (n, score) in found {
                if bars[n as usize].admits(c.target.id(), score) {
                    let entrant = Entrant { target: c.target.clone(), score, causes: c.causes.clone() };
                    out.entry(cands[n as usize].clone()).or_default().enter.push(entrant);
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
/// where the per-organisation cap couples the kinds, or a held target's score fell), else what
/// it holds with the targets that enter and the changed ones it holds merged in. Kinds the
/// plan does not touch are kept as held.
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
        let changed: Vec<&Target> = plan.rescore.iter().filter(|t| t.kind() == kind).collect();
        let mut new: Vec<Target> =
            plan.enter.iter().filter(|e| e.target.kind() == kind).map(|e| e.target.clone()).collect();
        new.extend(changed.iter().map(|t| (*t).clone()));
        if plan.refill.contains(kind) {
            out.extend(index.recommend_kind(org, kind, today));
        } else if new.is_empty() {
            out.extend(held_kind);
        } else {
            let merged = index.merge_kind(org, kind, held_kind.clone(), &new, today);
            let score_in = |list: &[Recommendation], t: &Target| list.iter().find(|r| r.target == *t).map(|r| r.score);
            let fell = changed.iter().any(|t| match (score_in(&held_kind, t), score_in(&merged, t)) {
                (Some(old), Some(now)) => now < old,
                (Some(_), None) => true,
                (None, _) => false,
            });
            if fell {
                out.extend(index.recommend_kind(org, kind, today));
            } else {
                out.extend(merged);
            }
        }
    }
    out
}
