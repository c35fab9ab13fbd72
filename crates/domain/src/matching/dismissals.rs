//! What organisations' feedback does to their rankings.
//!
//! Targets organisations dismissed (feedback `dismissed` or `not_relevant`) are never ranked for
//! them again while the target stands as it was dismissed (a call until its title, deadlines or
//! programme change: [`crate::feedback::call_fingerprint`]). Checked before each kind is cut to
//! its top-k, in the candidate searches and in `enters`, so a dismissal frees its slot for the
//! next target instead of leaving the list one short.
//!
//! Feedback also moves the ranking of *similar* calls for that organisation: a call scores
//! [`DISMISSED_PULL`] × its cosine with each call the organisation dismissed less, and
//! [`APPLIED_PULL`] × its cosine with each call it applied for more (cosines of the calls'
//! vectors, 0-1; the sum is added to the raw relevance before the score curve). The same shift
//! is used by every path that scores a call for the organisation, so the incremental matcher and
//! a rebuild agree. Costs nothing for an organisation that gave no feedback (one map lookup).

/// How much a dismissed call pulls similar calls down (raw relevance per unit of cosine).
pub const DISMISSED_PULL: f32 = 0.3;
/// How much a call applied for pulls similar calls up.
pub const APPLIED_PULL: f32 = 0.15;

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
    /// Calls the organisation applied for (they pull similar calls up).
    applied: HashSet<CallId>,
}

impl Dismissals {
    fn is_empty(&self) -> bool {
        self.calls.is_empty() && self.partners.is_empty() && self.others.is_empty() && self.applied.is_empty()
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
        self.feedback_changed(org);
    }

    /// `org` applied for `call` (or, `false`, no longer says so): similar calls rank higher for it.
    pub fn set_applied(&mut self, org: &OrgId, call: &CallId, applied: bool) {
        if applied {
            self.dismissed.entry(org.clone()).or_default().applied.insert(call.clone());
        } else if let Some(d) = self.dismissed.get_mut(org) {
            d.applied.remove(call);
            if d.is_empty() {
                self.dismissed.remove(org);
            }
        }
        self.feedback_changed(org);
    }

    /// Counts a change of `org`'s feedback and says in its entry whether it has any.
    fn feedback_changed(&mut self, org: &OrgId) {
        let has = self.dismissed.contains_key(org);
        self.orgs.update(org, |e| e.feedback = has);
        self.changes += 1;
    }

    /// The raw-relevance shift of call `e` for `org` from its feedback on other calls.
    pub(super) fn feedback_shift(&self, org: &OrgId, e: &CallEntry) -> f32 {
        let Some(d) = self.dismissals(org) else { return 0.0 };
        let pull = |ids: &mut dyn Iterator<Item = &CallId>| -> f32 {
            ids.filter(|c| **c != e.call.id).filter_map(|c| self.calls.get(c)).map(|x| x.vec.cos(&e.vec)).sum()
        };
        APPLIED_PULL * pull(&mut d.applied.iter()) - DISMISSED_PULL * pull(&mut d.calls.keys())
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
        self.feedback_changed(org);
    }

    /// Whether `target` is dismissed by `org` and still stands as it was dismissed.
    pub fn is_dismissed(&self, org: &OrgId, target: &Target) -> bool {
        let Some(d) = self.dismissals(org) else { return false };
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

    /// An organisation's feedback, if any; no hashing at all while nobody gave feedback (the
    /// candidate searches ask this for every organisation they touch).
    pub(super) fn dismissals(&self, org: &OrgId) -> Option<&Dismissals> {
        if self.dismissed.is_empty() {
            return None;
        }
        self.dismissed.get(org)
    }

    pub(super) fn forget_dismissals(&mut self, org: &OrgId) {
        self.dismissed.remove(org);
    }
}
