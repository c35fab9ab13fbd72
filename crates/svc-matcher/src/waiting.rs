//! Entries that wait: a new or changed call or partner that enters the lists of organisations
//! *other* than the one that changed is held back while the partition's consumer is behind,
//! and merged in once it has caught up (the batch whose last delivery has nothing pending
//! after it) or once the oldest entry has waited [`Waiting::settle`].
//!
//! Why: during a burst (a CRM backfill, a call import) every new organisation enters the
//! partner lists of many that came before it and displaces what they held, only to be
//! displaced by the next. Published at once, that is a `created` and a `withdrawn` event per
//! displacement, read by every consumer, written twice to the store and the outbox (measured
//! at 10,000 organisations: about two thirds of all recommendation events). Held back, each
//! list changes once per flush with the best of what entered it meanwhile. The organisation
//! that changed is re-ranked at once (its own recommendations wait for nothing), and so is
//! every holder of a changed target (a withdrawal waits for nothing either; a plan with such
//! work keeps its entries too, the organisation being re-ranked anyway).
//!
//! Per organisation and kind only the best `k` entrants are kept (by the score they entered
//! with): more cannot enter a top-`k` list. Entries live in memory only; a replica that stops
//! with entries waiting leaves them to convergence (`Matcher::converge` re-ranks every
//! organisation from scratch once events are quiet, on whichever replica holds the partition).

use crate::scope::{Entrant, Plan};
use brygga_domain::{EntryBar, OrgId};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The entries waiting for one organisation.
#[derive(Debug)]
pub(crate) struct Entries {
    since: Instant,
    /// Best first, at most `k` per kind.
    by_kind: BTreeMap<&'static str, Vec<Entrant>>,
}

/// The waiting room of a matcher replica (every partition it holds).
#[derive(Debug)]
pub(crate) struct Waiting {
    /// The longest an entry waits while the consumer stays behind.
    settle: Duration,
    orgs: Mutex<HashMap<OrgId, Entries>>,
}

/// Entries taken out to be merged; handed back if the batch that took them fails.
#[derive(Debug, Default)]
pub(crate) struct Taken(Vec<(OrgId, Entries)>);

impl Waiting {
    pub(crate) fn new(settle: Duration) -> Self {
        Self { settle, orgs: Mutex::default() }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<OrgId, Entries>> {
        self.orgs.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The longest an entry waits while the consumer stays behind.
    pub(crate) fn settle(&self) -> Duration {
        self.settle
    }

    /// How long the oldest entry waiting for the organisations `mine` accepts has waited.
    pub(crate) fn oldest(&self, mine: impl Fn(&OrgId) -> bool) -> Option<Duration> {
        let now = Instant::now();
        self.lock().iter().filter(|(o, _)| mine(o)).map(|(_, e)| now.duration_since(e.since)).max()
    }

    /// Organisations with entries waiting.
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }

    /// Holds back what `plans` would only merge into other organisations' lists (a plan with
    /// nothing but entries), and drops waiting entries that a plan makes moot (the
    /// organisation is re-ranked from scratch, or that kind is). `k` gives each kind's list
    /// length.
    pub(crate) fn hold_back(&self, plans: &mut BTreeMap<OrgId, Plan>, k: impl Fn(&str) -> usize) {
        let mut orgs = self.lock();
        let now = Instant::now();
        plans.retain(|org, plan| {
            if plan.full {
                orgs.remove(org);
                return true;
            }
            if let Some(e) = orgs.get_mut(org) {
                e.by_kind.retain(|kind, _| !plan.refill.contains(kind));
                if e.by_kind.is_empty() {
                    orgs.remove(org);
                }
            }
            if !plan.refill.is_empty() || !plan.rescore.is_empty() || plan.enter.is_empty() {
                return true;
            }
            let e = orgs.entry(org.clone()).or_insert_with(|| Entries { since: now, by_kind: BTreeMap::new() });
            for entrant in std::mem::take(&mut plan.enter) {
                let kind = entrant.target.kind();
                add(e.by_kind.entry(kind).or_default(), entrant, k(kind));
            }
            false
        });
    }

    /// Brings every entry waiting for the organisations `mine` accepts into `plans`, and
    /// returns them (for [`Waiting::restore`] if the batch fails).
    pub(crate) fn take_into(&self, plans: &mut BTreeMap<OrgId, Plan>, mine: impl Fn(&OrgId) -> bool) -> Taken {
        let mut orgs = self.lock();
        let ids: Vec<OrgId> = orgs.keys().filter(|o| mine(o)).cloned().collect();
        let mut taken = Vec::with_capacity(ids.len());
        for o in ids {
            let Some(e) = orgs.remove(&o) else { continue };
            let plan = plans.entry(o.clone()).or_default();
            plan.enter.extend(e.by_kind.values().flatten().cloned());
            taken.push((o, e));
        }
        Taken(taken)
    }

    /// Puts entries taken by a batch that failed back (entries that arrived meanwhile are
    /// kept beside them).
    pub(crate) fn restore(&self, taken: Taken, k: impl Fn(&str) -> usize) {
        let mut orgs = self.lock();
        for (o, old) in taken.0 {
            match orgs.get_mut(&o) {
                None => {
                    orgs.insert(o, old);
                }
                Some(e) => {
                    e.since = e.since.min(old.since);
                    for (kind, entrants) in old.by_kind {
                        let list = e.by_kind.entry(kind).or_default();
                        for x in entrants {
                            add(list, x, k(kind));
                        }
                    }
                }
            }
        }
    }

    /// The entry bar of each of `orgs`' lists of `kind`, from what `held` gives of each list
    /// (target id, score; `None` where the list is not known in full) and what waits to enter
    /// it: the k-th best of both. A target that cannot beat it would only be cut at the
    /// flush, or, merged at once into a list with other work, be displaced by the flush (a
    /// `created` and a `withdrawn` event for nothing). With nothing known of the list and
    /// fewer than `k` waiting, the list is open.
    pub(crate) fn bars<'h>(
        &self,
        kind: &str,
        k: usize,
        orgs: &[OrgId],
        held: impl Fn(&OrgId) -> Option<Vec<(&'h str, u8)>>,
    ) -> Vec<EntryBar> {
        let waiting = self.lock();
        orgs.iter()
            .map(|o| {
                let waits = waiting.get(o).and_then(|e| e.by_kind.get(kind)).map_or(&[][..], Vec::as_slice);
                let mut list = match held(o) {
                    Some(list) => list,
                    None if waits.len() < k => return EntryBar::Open { k },
                    None => Vec::new(),
                };
                for w in waits {
                    let id = w.target.id();
                    match list.iter_mut().find(|(t, _)| *t == id) {
                        Some(held) => held.1 = w.score,
                        None => list.push((id, w.score)),
                    }
                }
                EntryBar::of(k, list)
            })
            .collect()
    }

    /// Drops the entries of the organisations `of` accepts (convergence re-ranks them from
    /// scratch).
    pub(crate) fn forget(&self, of: impl Fn(&OrgId) -> bool) {
        self.lock().retain(|o, _| !of(o));
    }
}

/// Adds `x` to a best-first list of at most `k` (one entry per target: the later one, with
/// the causes of both).
fn add(list: &mut Vec<Entrant>, mut x: Entrant, k: usize) {
    if let Some(i) = list.iter().position(|e| e.target == x.target) {
        let old = list.remove(i);
        for c in old.causes {
            if !x.causes.contains(&c) {
                x.causes.push(c);
            }
        }
    }
    let at = list.partition_point(|e| e.score >= x.score);
    list.insert(at, x);
    list.truncate(k);
}

#[cfg(test)]
mod tests {
    use super::*;
    use brygga_domain::{CallId, Target};

    fn org(s: &str) -> OrgId {
        OrgId::parse(s.to_owned()).expect("id")
    }

    fn partner(id: &str, score: u8, cause: &str) -> Entrant {
        Entrant { target: Target::Partner(org(id)), score, causes: vec![cause.to_owned()] }
    }

    fn call(id: &str, score: u8) -> Entrant {
        Entrant { target: Target::Call(CallId::parse(id.to_owned()).expect("id")), score, causes: vec![] }
    }

    fn entering(entrants: Vec<Entrant>) -> Plan {
        Plan { enter: entrants, ..Plan::default() }
    }

    fn targets(p: &Plan) -> Vec<(String, u8)> {
        p.enter.iter().map(|e| (e.target.id().to_owned(), e.score)).collect()
    }

    #[test]
    fn entries_alone_wait_and_come_back_best_first_at_most_k_per_kind() {
        let w = Waiting::new(Duration::from_secs(60));
        for batch in [vec![partner("p1", 40, "e1"), partner("p2", 60, "e2")], vec![partner("p3", 50, "e3")]] {
            let mut plans = BTreeMap::from([(org("o1"), entering(batch))]);
            w.hold_back(&mut plans, |_| 2);
            assert!(plans.is_empty(), "nothing but entries: all of it waits");
        }
        let mut plans = BTreeMap::from([(org("o1"), entering(vec![call("c1", 30)]))]);
        w.hold_back(&mut plans, |_| 2);
        assert_eq!(w.len(), 1);
        assert!(w.oldest(|_| true).is_some_and(|d| d < w.settle()), "not waited long enough");

        let mut plans = BTreeMap::new();
        let taken = w.take_into(&mut plans, |_| true);
        assert_eq!(w.len(), 0);
        let got = targets(&plans[&org("o1")]);
        assert_eq!(got, [("c1".to_owned(), 30), ("p2".to_owned(), 60), ("p3".to_owned(), 50)]);

        // A failed batch hands them back, beside what arrived meanwhile.
        let mut later = BTreeMap::from([(org("o1"), entering(vec![partner("p4", 70, "e4")]))]);
        w.hold_back(&mut later, |_| 2);
        w.restore(taken, |_| 2);
        let mut plans = BTreeMap::new();
        w.take_into(&mut plans, |_| true);
        let got = targets(&plans[&org("o1")]);
        assert_eq!(got, [("c1".to_owned(), 30), ("p4".to_owned(), 70), ("p2".to_owned(), 60)]);
    }

    #[test]
    fn a_plan_with_other_work_keeps_its_entries_and_makes_waiting_ones_moot() {
        let w = Waiting::new(Duration::ZERO);
        let mut plans = BTreeMap::from([
            (org("o1"), entering(vec![partner("p1", 40, "e1"), call("c1", 50)])),
            (org("o2"), entering(vec![partner("p1", 45, "e1")])),
        ]);
        w.hold_back(&mut plans, |_| 3);
        assert!(w.oldest(|_| true).is_some_and(|d| d >= w.settle()));
        assert_eq!(w.oldest(|o| o.as_str() == "o3"), None, "only the partitions asked about");

        // o1's partner list is ranked again from scratch, o2 from scratch altogether.
        let mut refill = Plan { enter: vec![partner("p2", 41, "e2")], ..Plan::default() };
        refill.refill.insert("partner");
        let full = Plan { full: true, ..Plan::default() };
        let mut plans = BTreeMap::from([(org("o1"), refill), (org("o2"), full)]);
        w.hold_back(&mut plans, |_| 3);
        assert_eq!(plans.len(), 2, "both are re-ranked now");
        assert_eq!(targets(&plans[&org("o1")]), [("p2".to_owned(), 41)], "its own entries stay with it");

        let mut rest = BTreeMap::new();
        w.take_into(&mut rest, |_| true);
        assert_eq!(targets(&rest[&org("o1")]), [("c1".to_owned(), 50)], "the call still waits; the partner is moot");
        assert!(!rest.contains_key(&org("o2")));
    }

    #[test]
    fn a_bar_is_the_kth_of_what_is_held_and_what_waits() {
        let w = Waiting::new(Duration::from_secs(60));
        let mut plans = BTreeMap::from([
            (org("o1"), entering(vec![partner("p1", 70, "e1"), partner("p2", 30, "e2")])),
            (org("o2"), entering(vec![partner("p1", 50, "e1"), partner("p2", 45, "e2"), partner("p3", 40, "e3")])),
        ]);
        w.hold_back(&mut plans, |_| 3);
        let held = |o: &OrgId| match o.as_str() {
            "o1" => Some(vec![("h1", 90), ("h2", 80), ("h3", 20)]),
            "o3" => Some(vec![("h1", 60), ("p1", 10)]),
            _ => None,
        };
        let orgs = [org("o1"), org("o2"), org("o3"), org("o4")];
        let bars = w.bars("partner", 3, &orgs, held);
        let kth = |score: u8, id: &str| EntryBar::Kth { score, id: id.to_owned() };
        // o1: 90, 80 held and 70 waiting beat the held 20 and the waiting 30.
        assert_eq!(bars[0], kth(70, "p1"));
        // o2: nothing known of what it holds, but three wait: a subset of the list.
        assert_eq!(bars[1], kth(40, "p3"));
        // o3: two held, nothing waiting: room.
        assert_eq!(bars[2], EntryBar::Open { k: 3 });
        assert_eq!(bars[3], EntryBar::Open { k: 3 }, "nothing known, nothing waiting");
        // A target held and waiting counts once, at the score it entered with.
        let mut plans = BTreeMap::from([(org("o3"), entering(vec![partner("p1", 55, "e4")]))]);
        w.hold_back(&mut plans, |_| 3);
        assert_eq!(w.bars("partner", 2, &orgs[2..3], held), [kth(55, "p1")]);
        assert_eq!(w.bars("call", 3, &orgs[..1], held), [kth(20, "h3")], "another kind waits apart");
    }

    #[test]
    fn one_entry_per_target_with_the_causes_of_both() {
        let mut list = Vec::new();
        add(&mut list, partner("p1", 40, "e1"), 3);
        add(&mut list, partner("p1", 35, "e2"), 3);
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].score, 35);
        assert_eq!(list[0].causes, ["e2", "e1"]);
    }
}
