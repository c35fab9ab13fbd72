//! Which organisations a batch of changes can affect, and which events caused each.
//!
//! A changed organisation is a changed *partner*: it is re-ranked itself, and so are those
//! that hold it now and those whose top-k partners it enters. A changed call: those that hold
//! it now and those whose top-k calls it enters. "Enters" is judged by the index against the
//! scores each candidate holds (read without decoding recommendations); candidates come from
//! the index's postings, so the cost is the organisations that share a term with the change.

use brygga_domain::{Index, OrgId, Target};
use brygga_store::{recommendations, DatabaseConnection, StoreError};
use chrono::NaiveDate;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// One entity a registry event changed, and the events that caused it.
#[derive(Debug)]
pub(crate) struct Changed {
    pub(crate) target: Target,
    pub(crate) causes: Vec<String>,
}

/// What to re-rank.
#[derive(Debug)]
pub(crate) enum Scope {
    /// The organisations these changes can affect.
    Changed(Vec<Changed>),
    /// Exactly these organisations (the sweep), each with its cause.
    Orgs(Vec<(OrgId, String)>),
}

/// The organisations to re-rank, each with the events that caused it.
pub(crate) async fn affected(
    db: &DatabaseConnection,
    index: &Index,
    scope: Scope,
    today: NaiveDate,
) -> Result<BTreeMap<OrgId, BTreeSet<String>>, StoreError> {
    let mut out: BTreeMap<OrgId, BTreeSet<String>> = BTreeMap::new();
    let changed = match scope {
        Scope::Orgs(orgs) => {
            for (o, cause) in orgs {
                out.entry(o).or_default().insert(cause);
            }
            return Ok(out);
        }
        Scope::Changed(c) => c,
    };
    let mut add = |o: OrgId, causes: &[String]| out.entry(o).or_default().extend(causes.iter().cloned());
    for kind in ["partner", "call"] {
        let of_kind: Vec<&Changed> = changed.iter().filter(|c| c.target.kind() == kind).collect();
        if of_kind.is_empty() {
            continue;
        }
        // Those that hold a changed target now.
        let ids: Vec<String> = of_kind.iter().map(|c| c.target.id().to_owned()).collect();
        let by_id: HashMap<&str, &Changed> = of_kind.iter().map(|c| (c.target.id(), *c)).collect();
        for (org, target) in recommendations::holders(db, kind, &ids).await? {
            if let Some(c) = by_id.get(target.as_str()) {
                add(org, &c.causes);
            }
        }
        // Those whose top-k a changed target enters, judged on the scores they hold.
        let candidates: Vec<(&Changed, Vec<OrgId>)> = of_kind
            .iter()
            .map(|c| {
                let found = match &c.target {
                    Target::Partner(p) => index.orgs_matching_partner(p),
                    Target::Call(call) => index.orgs_matching_call(call),
                    _ => Vec::new(),
                };
                (*c, found)
            })
            .collect();
        let all: BTreeSet<OrgId> = candidates.iter().flat_map(|(_, v)| v.iter().cloned()).collect();
        let held = recommendations::held_scores(db, kind, &all.into_iter().collect::<Vec<_>>()).await?;
        let none = Vec::new();
        for (c, found) in candidates {
            if let Target::Partner(p) = &c.target {
                add(p.clone(), &c.causes);
            }
            for o in found {
                if index.enters(&o, &c.target, held.get(&o).unwrap_or(&none), today) {
                    add(o, &c.causes);
                }
            }
        }
    }
    Ok(out)
}
