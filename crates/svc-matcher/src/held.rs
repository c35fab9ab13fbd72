//! What each organisation holds of the kinds a new target can enter (calls and partners), as
//! (target, score, revision): the bar a changed call or partner must pass to enter its lists
//! (`scope.rs`), kept in memory so that a batch does not read the store for every candidate.
//!
//! Filled from the store the first time an organisation is asked about, then kept current by
//! the changes this replica commits. Both are folded by the store's own rule, revisions only
//! move forward, and withdrawn rows are read too, so a read of the store that overtakes a
//! commit (or the other way round) ends where the store ends. A partition's entries are
//! forgotten whenever this replica starts working on it: another replica may have written its
//! organisations meanwhile.

use crate::waiting::Waiting;
use brygga_domain::{Change, ChangeKind, EntryBar, OrgId, Published};
use brygga_store::recommendations::{self, HeldRow};
use brygga_store::{DatabaseConnection, StoreError};
use std::collections::HashMap;
use std::sync::Mutex;

/// The kinds kept (those `scope::affected` judges entries for).
pub(crate) const KINDS: [&str; 2] = ["call", "partner"];

#[derive(Debug, Clone, Copy)]
struct Entry {
    score: u8,
    revision: u32,
    active: bool,
}

#[derive(Debug, Default)]
struct Lists {
    /// Read from the store once: the entries are all it holds, not only changes seen since.
    complete: bool,
    entries: HashMap<(&'static str, Box<str>), Entry>,
}

impl Lists {
    fn fold(&mut self, kind: &'static str, target: &str, e: Entry) {
        match self.entries.get_mut(&(kind, target.into())) {
            Some(old) if old.revision >= e.revision => {}
            Some(old) => *old = e,
            None => {
                self.entries.insert((kind, target.into()), e);
            }
        }
    }
}

/// An active recommendation as a held row, if of a kind kept.
pub(crate) fn row(p: &Published) -> Option<HeldRow> {
    let kind = kind_of(p.rec.target.kind())?;
    Some(HeldRow {
        org: p.rec.org_id.clone(),
        kind: kind.to_owned(),
        target: p.rec.target.id().to_owned(),
        score: p.rec.score,
        revision: p.revision,
        active: true,
    })
}

/// The held lists, by organisation.
#[derive(Debug, Default)]
pub(crate) struct Held {
    orgs: Mutex<HashMap<OrgId, Lists>>,
}

fn kind_of(k: &str) -> Option<&'static str> {
    KINDS.into_iter().find(|x| *x == k)
}

impl Held {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<OrgId, Lists>> {
        self.orgs.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The entry bar of each of `orgs`' top-`k` lists of `kind` (in the order given), with
    /// what waits to enter them; reads the store only for organisations not asked about
    /// before.
    pub(crate) async fn bars(
        &self,
        db: &DatabaseConnection,
        kind: &'static str,
        k: usize,
        orgs: &[OrgId],
        waiting: &Waiting,
    ) -> Result<Vec<EntryBar>, StoreError> {
        let missing: Vec<OrgId> = {
            let held = self.lock();
            orgs.iter().filter(|o| !held.get(*o).is_some_and(|l| l.complete)).cloned().collect()
        };
        if !missing.is_empty() {
            let rows = recommendations::held(db, &KINDS, &missing).await?;
            self.load(&missing, rows);
        }
        Ok(self.known_bars(kind, k, orgs, waiting))
    }

    /// The entry bar of each of `orgs`' lists of `kind` as far as known without the store,
    /// with what waits to enter them (`Waiting::bars`); of what is held, nothing is known for
    /// an organisation not read from the store yet, whose list may hold more than the
    /// changes seen.
    pub(crate) fn known_bars(&self, kind: &'static str, k: usize, orgs: &[OrgId], waiting: &Waiting) -> Vec<EntryBar> {
        let held = self.lock();
        waiting.bars(kind, k, orgs, |o| {
            let l = held.get(o).filter(|l| l.complete)?;
            let of_kind = l.entries.iter().filter(|((x, _), e)| *x == kind && e.active);
            Some(of_kind.map(|((_, t), e)| (&**t, e.score)).collect())
        })
    }

    /// Folds what the store holds of `orgs` in, and marks them complete (a read of the
    /// store, or the matcher's own read of their active lists before it ranked and committed
    /// them: no one else writes them meanwhile).
    pub(crate) fn load(&self, orgs: &[OrgId], rows: Vec<HeldRow>) {
        let mut held = self.lock();
        for o in orgs {
            held.entry(o.clone()).or_default().complete = true;
        }
        for r in rows {
            let Some(kind) = kind_of(&r.kind) else { continue };
            let e = Entry { score: r.score, revision: r.revision, active: r.active };
            held.entry(r.org).or_default().fold(kind, &r.target, e);
        }
    }

    /// Folds committed changes in (an organisation not read yet gets them too, still
    /// incomplete, so a read of the store that started before the commit cannot undo them).
    pub(crate) fn apply(&self, changes: &[Change]) {
        let mut held = self.lock();
        for c in changes {
            let Some(kind) = kind_of(c.rec.target.kind()) else { continue };
            let e = Entry { score: c.rec.score, revision: c.revision, active: c.kind != ChangeKind::Withdrawn };
            held.entry(c.rec.org_id.clone()).or_default().fold(kind, c.rec.target.id(), e);
        }
    }

    /// Forgets the organisations `of` accepts (a partition this replica starts working on).
    pub(crate) fn forget(&self, of: impl Fn(&OrgId) -> bool) {
        self.lock().retain(|o, _| !of(o));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org(s: &str) -> OrgId {
        OrgId::parse(s.to_owned()).expect("id")
    }

    fn row(o: &str, target: &str, score: u8, revision: u32, active: bool) -> HeldRow {
        HeldRow { org: org(o), kind: "call".into(), target: target.into(), score, revision, active }
    }

    fn change(o: &str, target: &str, score: u8, revision: u32, kind: ChangeKind) -> Change {
        let rec = brygga_testkit::fixtures::call_recommendation(o, target, score);
        Change { kind, rec, revision }
    }

    fn active(h: &Held, o: &str) -> Vec<(String, u8)> {
        let held = h.lock();
        let mut v: Vec<(String, u8)> = held[&org(o)]
            .entries
            .iter()
            .filter(|(_, e)| e.active)
            .map(|((_, t), e)| (t.to_string(), e.score))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_read_of_the_store_and_a_commit_end_alike_in_either_order() {
        // The store read saw c1 at revision 1 and c2 withdrawn at 2; the commit moves c1 to 2
        // and wants c2 again at 3.
        let rows = || vec![row("o1", "c1", 40, 1, true), row("o1", "c2", 30, 2, false)];
        let commit =
            || vec![change("o1", "c1", 55, 2, ChangeKind::Updated), change("o1", "c2", 35, 3, ChangeKind::Created)];
        let (a, b) = (Held::default(), Held::default());
        a.load(&[org("o1")], rows());
        a.apply(&commit());
        b.apply(&commit());
        b.load(&[org("o1")], rows());
        let want = vec![("c1".to_owned(), 55), ("c2".to_owned(), 35)];
        assert_eq!(active(&a, "o1"), want);
        assert_eq!(active(&b, "o1"), want);
    }

    #[test]
    fn a_withdrawal_is_not_undone_by_an_older_read() {
        let h = Held::default();
        h.apply(&[change("o1", "c1", 40, 4, ChangeKind::Withdrawn)]);
        h.load(&[org("o1")], vec![row("o1", "c1", 40, 3, true)]);
        assert!(active(&h, "o1").is_empty());
        assert!(h.lock()[&org("o1")].complete);
    }

    #[test]
    fn changes_alone_do_not_make_an_organisation_complete_and_forget_drops_it() {
        let h = Held::default();
        h.apply(&[change("o1", "c1", 40, 1, ChangeKind::Created)]);
        assert!(!h.lock()[&org("o1")].complete);
        h.load(&[org("o2")], vec![]);
        h.forget(|o| o.as_str() == "o2");
        assert!(!h.lock().contains_key(&org("o2")));
        assert!(h.lock().contains_key(&org("o1")));
    }
}
