//! Candidates: the reverse questions the matcher asks when something changes, which
//! organisations' lists a call or a partner may enter (from the postings and the facts
//! column, with each list's entry bar), and whether one target enters one list.

use super::recommend::{partner_raw, partner_raw_of};
use super::{mission_bits, mission_bonus, Index, BONUS_DECLARED_MISSION};
use crate::eligibility::{eligible, eligible_as};
use crate::recommendation::Target;
use crate::OrgId;
use chrono::NaiveDate;

impl Index {
    /// Organisations (with contact consent) whose call list `call` could enter as of `today`,
    /// with the score it would have: they share a term with it, may apply, and the score
    /// clears the floor and reaches their list's entry bar ([`Self::set_entry_bars`]; the
    /// floor alone where none was set). Costs the organisation postings of the call's terms
    /// and a pass over the facts column; an entry is read only for what is kept.
    pub fn orgs_matching_call(&self, call: &crate::CallId, today: NaiveDate) -> Vec<(&OrgId, u8)> {
        let Some(c) = self.calls.get(call) else { return Vec::new() };
        let (cfg, floor) = (&self.ranker, self.ranker.floor_raw());
        let missions = mission_bits(&c.call.missions);
        let cos = self.org_postings.scores(&c.vec);
        // The facts column first; an entry is read only for what is kept, or for feedback.
        cos.iter()
            .zip(self.orgs.facts())
            .enumerate()
            .filter(|(_, (cos, f))| **cos > 0.0 && f.contact)
            .filter_map(|(slot, (cos, f))| {
                let bonus = if f.missions & missions != 0 { BONUS_DECLARED_MISSION } else { 0.0 };
                let mut raw = cos + bonus;
                let mut entry = None;
                if f.feedback {
                    let o = self.orgs.at(slot as u32)?;
                    if self.dismissals(&o.org.id).is_some_and(|d| d.call(c)) {
                        return None;
                    }
                    raw += self.feedback_shift(&o.org.id, c);
                    entry = Some(o);
                }
                if !f.bars.call.may_pass(raw, floor) {
                    return None;
                }
                let score = cfg.score_over_floor(raw, floor).filter(|s| f.bars.call.passes(*s))?;
                if !eligible_as(f.kind?, f.country, &c.call, today) {
                    return None;
                }
                let o = match entry {
                    Some(o) => o,
                    None => self.orgs.at(slot as u32)?,
                };
                Some((&o.org.id, score))
            })
            .collect()
    }

    /// Organisations (with contact consent) whose partner list `org` could enter, with its
    /// score as their partner: above the floor and reaching the list's entry bar, as
    /// [`Self::orgs_matching_call`] for calls (same costs).
    pub fn orgs_matching_partner(&self, org: &OrgId) -> Vec<(&OrgId, u8)> {
        let Some(p) = self.orgs.get(org).filter(|p| p.org.consent.partner_suggestions) else {
            return Vec::new();
        };
        let (cfg, floor) = (&self.ranker, self.ranker.floor_raw());
        let own = self.orgs.slot(org).map_or(usize::MAX, |s| s as usize);
        let partner = (p.org.kind, mission_bits(&p.org.interest_missions));
        let cos = self.org_postings.scores(&p.vec);
        cos.iter()
            .zip(self.orgs.facts())
            .enumerate()
            .filter(|(slot, (cos, f))| **cos > 0.0 && f.contact && *slot != own)
            .filter_map(|(slot, (cos, f))| {
                let raw = partner_raw_of(*cos, (f.kind?, f.missions), partner);
                if !f.bars.partner.may_pass(raw, floor) {
                    return None;
                }
                let score = cfg.score_over_floor(raw, floor).filter(|s| f.bars.partner.passes(*s))?;
                let o = self.orgs.at(slot as u32)?;
                if f.feedback && self.dismissals(&o.org.id).is_some_and(|d| d.partner(&p.org.id)) {
                    return None;
                }
                Some((&o.org.id, score))
            })
            .collect()
    }

    /// Whether `target` (a call or a partner) would enter `org`'s top-k of its kind, judged
    /// against the scores of that kind `org` holds now (`held`: target id and score, as
    /// published; ties go to the smaller id, as in ranking). Other kinds: always true. The
    /// matcher has the scores from [`Self::orgs_matching_call`] / [`Self::orgs_matching_partner`]
    /// and calls [`enters_top_k`] directly.
    pub fn enters(&self, org: &OrgId, target: &Target, held: &[(String, u8)], today: NaiveDate) -> bool {
        let Some(o) = self.orgs.get(org) else { return false };
        if self.is_dismissed(org, target) {
            return false;
        }
        let cfg = &self.ranker;
        let score = match target {
            Target::Partner(p) => {
                let Some(p) = self.orgs.get(p) else { return false };
                let cos = o.vec.cos(&p.vec);
                if cos <= 0.0 || !p.org.consent.partner_suggestions || p.org.id == o.org.id {
                    return false;
                }
                cfg.calibrate(partner_raw(cos, &o.org, &p.org))
            }
            Target::Call(c) => {
                let Some(c) = self.calls.get(c) else { return false };
                let cos = o.vec.cos(&c.vec);
                if cos <= 0.0 || !eligible(&o.org, &c.call, today) {
                    return false;
                }
                cfg.calibrate(cos + mission_bonus(&o.org, &c.call) + self.feedback_shift(&o.org.id, c))
            }
            _ => return true,
        };
        score >= cfg.floor && enters_top_k(target.id(), score, self.top_k(target.kind()), held)
    }
}

/// Whether a target scoring `score` enters a top-`k` list whose held entries are `held`
/// (target id, score): a free place, a higher score than the k-th, or a tie that the smaller
/// id wins (as ranking breaks ties).
pub fn enters_top_k(target_id: &str, score: u8, k: usize, held: &[(String, u8)]) -> bool {
    EntryBar::of(k, held.iter().map(|(id, s)| (id.as_str(), *s))).admits(target_id, score)
}

/// What a target must beat to enter a top-k list: nothing (a free place), or the k-th held
/// entry (score, id). Computed once per list, then asked of every candidate target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryBar {
    /// The list has room, or k is 0 (nothing enters).
    Open { k: usize },
    /// The k-th entry, by score then smaller id first.
    Kth { score: u8, id: String },
}

impl EntryBar {
    /// The bar of a top-`k` list holding `held` (target id, score).
    pub fn of<'a>(k: usize, held: impl IntoIterator<Item = (&'a str, u8)>) -> Self {
        let mut kept: Vec<(u8, &str)> = held.into_iter().map(|(id, s)| (s, id)).collect();
        if k == 0 || kept.len() < k {
            return Self::Open { k };
        }
        kept.select_nth_unstable_by(k - 1, |a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
        let (score, id) = kept[k - 1];
        Self::Kth { score, id: id.to_owned() }
    }

    /// Whether a target `target_id` scoring `score` enters.
    pub fn admits(&self, target_id: &str, score: u8) -> bool {
        match self {
            Self::Open { k } => *k > 0,
            Self::Kth { score: s, id } => score > *s || (score == *s && target_id < id.as_str()),
        }
    }
}
