//! Targets organisations dismissed (feedback `dismissed` or `not_relevant`): never ranked for
//! them again while the target stands as it was dismissed (a call until its title, deadlines or
//! programme change: [`crate::feedback::call_fingerprint`]). Checked before each kind is cut to
//! its top-k, in the candidate searches and in `enters`, so a dismissal frees its slot for the
//! next target instead of leaving the list one short. Costs nothing for an organisation that
//! dismissed nothing (one map lookup).

use super::{CallEntry, Index};
use crate::feedback::call_fingerprint;
use crate::{CallId, OrgId, Recommendation, Target};
use std::collections::{HashMap, HashSet};

/// One organisation's dismissed targets.
#[derive(Debug, Default, Clone)]
pub(super) struct Dismissals {
    /// Calls, each with its fingerprint when dismissed (`None`: the call was not known then;
    /// the dismissal holds whatever the call becomes).
    calls: HashMap<CallId, Option<String>>,
    partners: HashSet<OrgId>,
    /// Missions and areas.
    others: HashSet<Target>,
}

impl Dismissals {
    fn is_empty(&self) -> bool {
        self.calls.is_empty() && self.partners.is_empty() && self.others.is_empty()
    }

    pub(super) fn call(&self, e: &CallEntry) -> bool {
        match self.calls.get(&e.call.id) {
            None => false,
            Some(None) => true,
            Some(Some(f)) => *f == call_fingerprint(&e.call),
        }
    }

    pub(super) fn partner(&self, p: &OrgId) -> bool {
        self.partners.contains(p)
    }

    pub(super) fn other(&self, t: &Target) -> bool {
        self.others.contains(t)
    }
}

impl Index {
    /// `org` dismissed `target`: it is not recommended to `org` again while it stands as it is
    /// (`fingerprint`: a call's [`call_fingerprint`] when it was dismissed, if known).
    pub fn dismiss(&mut self, org: &OrgId, target: Target, fingerprint: Option<String>) {
        let d = self.dismissed.entry(org.clone()).or_default();
        match target {
            Target::Call(c) => {
                d.calls.insert(c, fingerprint);
            }
            Target::Partner(p) => {
                d.partners.insert(p);
            }
            other => {
                d.others.insert(other);
            }
        }
        self.changes += 1;
    }

    /// `org` takes a dismissal back (later feedback: saved or applied).
    pub fn undismiss(&mut self, org: &OrgId, target: &Target) {
        let Some(d) = self.dismissed.get_mut(org) else { return };
        match target {
            Target::Call(c) => {
                d.calls.remove(c);
            }
            Target::Partner(p) => {
                d.partners.remove(p);
            }
            other => {
                d.others.remove(other);
            }
        }
        if d.is_empty() {
            self.dismissed.remove(org);
        }
        self.changes += 1;
    }

    /// Whether `target` is dismissed by `org` and still stands as it was dismissed.
    pub fn is_dismissed(&self, org: &OrgId, target: &Target) -> bool {
        let Some(d) = self.dismissed.get(org) else { return false };
        match target {
            Target::Call(c) => self.calls.get(c).is_some_and(|e| d.call(e)),
            Target::Partner(p) => d.partner(p),
            other => d.other(other),
        }
    }

    /// `recs` without what `org` dismissed.
    pub(super) fn undismissed(&self, org: &OrgId, mut recs: Vec<Recommendation>) -> Vec<Recommendation> {
        if self.dismissed.contains_key(org) {
            recs.retain(|r| !self.is_dismissed(org, &r.target));
        }
        recs
    }

    pub(super) fn dismissals(&self, org: &OrgId) -> Option<&Dismissals> {
        self.dismissed.get(org)
    }

    pub(super) fn forget_dismissals(&mut self, org: &OrgId) {
        self.dismissed.remove(org);
    }
}
