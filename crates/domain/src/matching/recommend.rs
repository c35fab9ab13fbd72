//! Ranking: an organisation's recommendations of each kind (scored over the postings, only
//! the contenders calibrated, ranked, cut, explained only for what is kept), and why one is
//! withdrawn. The reverse questions are in `candidates.rs`; selection in `select.rs`.

use super::explain::{
    area_summary, call_summary, evidence, explanation, mission_summary, partner_summary, surface_terms, EXPLAINED_TERMS,
};
use super::select::{best_first, contenders, rank};
use super::{
    mission_bits, mission_bonus, CallEntry, Index, OrgEntry, RankerConfig, BONUS_COMPLEMENTARY, BONUS_DECLARED_MISSION,
    BONUS_NACE_AREA, BONUS_SHARED_MISSION, TARGET_KINDS,
};
use crate::eligibility::{allows, assess, eligible_by};
use crate::recommendation::{recommendation_id, Recommendation, Target};
use crate::{Language, OrgId, OrgKind, Organisation};
use chrono::NaiveDate;

/// The score of `p` as a partner for `org` from their cosine: one formula for ranking, the
/// candidate search and `enters`, so the candidate bound cannot drift from the score.
pub(super) fn partner_raw(cos: f32, org: &Organisation, p: &Organisation) -> f32 {
    let missions = |o: &Organisation| mission_bits(&o.interest_missions);
    partner_raw_of(cos, (org.kind, missions(org)), (p.kind, missions(p)))
}

/// [`partner_raw`] from the two facts of each organisation it reads: kind, declared missions.
pub(super) fn partner_raw_of(cos: f32, org: (OrgKind, u8), p: (OrgKind, u8)) -> f32 {
    let complementary = org.0.is_academic() != p.0.is_academic();
    let shared = org.1 & p.1 != 0;
    cos + if complementary { BONUS_COMPLEMENTARY } else { 0.0 } + if shared { BONUS_SHARED_MISSION } else { 0.0 }
}

impl Index {
    /// Every recommendation for `org_id` as of `today`: missions, S3 areas, calls, partners,
    /// each kind ranked and cut to its top-k, the floor applied, and the total capped.
    pub fn recommend(&self, org_id: &OrgId, today: NaiveDate) -> Vec<Recommendation> {
        let mut all: Vec<Recommendation> =
            TARGET_KINDS.iter().flat_map(|k| self.recommend_kind(org_id, k, today)).collect();
        all.sort_by(|a, b| b.score.cmp(&a.score).then_with(|| a.target.cmp(&b.target)));
        all.truncate(self.ranker.max_per_org);
        all
    }

    /// The recommendations of one kind (`mission`, `s3_area`, `call`, `partner`) for `org_id`:
    /// ranked, cut to the kind's top-k, the floor applied (the per-organisation cap is not).
    pub fn recommend_kind(&self, org_id: &OrgId, kind: &str, today: NaiveDate) -> Vec<Recommendation> {
        let cfg = &self.ranker;
        let Some(o) = self.orgs.get(org_id).filter(|o| o.org.consent.contact) else { return Vec::new() };
        match kind {
            "mission" => rank(self.undismissed(org_id, self.mission_recs(o, cfg)), cfg.top_k_missions, cfg.floor),
            "s3_area" => rank(self.undismissed(org_id, self.area_recs(o, cfg)), cfg.top_k_s3_areas, cfg.floor),
            "call" => rank(self.call_recs(o, today, cfg), cfg.top_k_calls, cfg.floor),
            "partner" => rank(self.partner_recs(o, cfg), cfg.top_k_partners, cfg.floor),
            _ => Vec::new(),
        }
    }

    /// Whether ranking kind by kind gives what [`recommend`](Self::recommend) gives: the
    /// per-organisation cap cannot cut when the top-ks add up to no more than it.
    pub fn kinds_are_independent(&self) -> bool {
        let c = &self.ranker;
        c.top_k_missions + c.top_k_s3_areas + c.top_k_calls + c.top_k_partners <= c.max_per_org
    }

    /// `held` (the organisation's current recommendations of one kind, still valid) with the
    /// `new` targets of that kind added: re-ranked and cut to the kind's top-k. Equals
    /// [`recommend_kind`](Self::recommend_kind) when nothing else of that kind changed, at
    /// the cost of explaining the new targets only, instead of scoring every candidate.
    pub fn merge_kind(
        &self,
        org_id: &OrgId,
        kind: &str,
        held: Vec<Recommendation>,
        new: &[Target],
        today: NaiveDate,
    ) -> Vec<Recommendation> {
        let cfg = &self.ranker;
        let Some(o) = self.orgs.get(org_id).filter(|o| o.org.consent.contact) else { return Vec::new() };
        let mut recs: Vec<Recommendation> =
            held.into_iter().filter(|r| !new.contains(&r.target) && !self.is_dismissed(org_id, &r.target)).collect();
        for (i, t) in new.iter().enumerate() {
            if new[..i].contains(t) {
                continue; // named twice (two events of one entity in a batch): one entry
            }
            let rec = match t {
                Target::Call(c) => self.calls.get(c).and_then(|e| self.call_rec(o, e, today)),
                Target::Partner(p) => self.orgs.get(p).and_then(|p| self.partner_rec(o, p)),
                _ => None,
            };
            recs.extend(rec);
        }
        rank(recs, self.top_k(kind), cfg.floor)
    }

    /// The top-k of a kind of target.
    pub fn top_k(&self, kind: &str) -> usize {
        self.ranker.top_k(kind)
    }

    fn call_recs(&self, o: &OrgEntry, today: NaiveDate, cfg: &RankerConfig) -> Vec<Recommendation> {
        let (org, floor) = (&o.org, cfg.floor_raw());
        let missions = mission_bits(&org.interest_missions);
        // Score every call over the postings, test the facts column, read an entry only for
        // feedback or a country list, calibrate and read only the contenders for the top-k,
        // explain only the few that will be recommended.
        let cos = self.call_postings.scores(&o.vec);
        let dismissed = self.dismissals(&org.id);
        let mut raws: Vec<(f32, u32)> = cos
            .iter()
            .zip(self.calls.facts())
            .enumerate()
            .filter(|(_, (c, f))| **c > 0.0 && f.rules.allow(org.kind, today))
            .filter_map(|(slot, (c, f))| {
                let slot = slot as u32;
                let mut raw = c + if f.missions & missions != 0 { BONUS_DECLARED_MISSION } else { 0.0 };
                if let Some(d) = dismissed {
                    let e = self.calls.at(slot).filter(|e| !d.call(e))?;
                    raw += self.feedback_shift(&org.id, e);
                }
                let call = || self.calls.at(slot).map(|e| &e.call);
                (raw >= floor && eligible_by(&f.rules, org.kind, org.country, today, call)).then_some((raw, slot))
            })
            .collect();
        contenders(&mut raws, cfg.top_k_calls, cfg);
        let mut scored: Vec<(u8, &CallEntry)> = raws
            .into_iter()
            .filter_map(|(raw, slot)| Some((cfg.score_over_floor(raw, floor)?, self.calls.at(slot)?)))
            .collect();
        best_first(&mut scored, cfg.top_k_calls, |a, b| b.0.cmp(&a.0).then_with(|| a.1.call.id.cmp(&b.1.call.id)));
        scored.into_iter().filter_map(|(_, e)| self.call_rec(o, e, today)).collect()
    }

    /// The explained recommendation of one call, if it shares a term with the organisation and
    /// the organisation may apply (the floor is the ranker's to apply).
    fn call_rec(&self, o: &OrgEntry, e: &CallEntry, today: NaiveDate) -> Option<Recommendation> {
        let (org, call) = (&o.org, &e.call);
        if self.dismissals(&org.id).is_some_and(|d| d.call(e)) {
            return None;
        }
        let lang = org.preferred_language;
        let lines = assess(org, call, today, lang);
        let (cos, parts) = o.vec.dot(&e.vec, &self.terms);
        if cos <= 0.0 || !allows(&lines) {
            return None;
        }
        let terms = self.call_terms(&parts, e);
        let evidence = evidence(&e.doc, &parts, e.doc.lang);
        let deadline = call.next_deadline(today);
        let summary = call_summary(lang, &call.title, &terms, deadline);
        let target = Target::Call(call.id.clone());
        Some(Recommendation {
            id: recommendation_id(&org.id, &target),
            org_id: org.id.clone(),
            target,
            title: call.title.clone(),
            url: call.url.clone(),
            score: self.ranker.calibrate(cos + mission_bonus(org, call) + self.feedback_shift(&org.id, e)),
            rank: 0,
            deadline,
            explanation: explanation(lang, summary, lines, terms, evidence),
        })
    }

    /// A call's contributing terms as written: the call's own words, and for a word the call
    /// only has by association, the organisation's word with the title word it goes with.
    fn call_terms(&self, parts: &[(u32, f32)], call: &CallEntry) -> Vec<String> {
        parts
            .iter()
            .take(EXPLAINED_TERMS)
            .map(|&(t, _)| {
                // Only a word the call does not have is looked up among the associations.
                let own = call.doc.surfaces.contains_key(&t);
                match (!own).then(|| self.association_source(t, call)).flatten() {
                    Some(title_word) => {
                        format!("{} (≈ {})", self.terms.surface(t), call.doc.surface(&self.terms, title_word))
                    }
                    None => call.doc.surface(&self.terms, t).to_owned(),
                }
            })
            .collect()
    }

    /// Of the call's title terms, the one `term` is most strongly associated with.
    fn association_source(&self, term: u32, call: &CallEntry) -> Option<u32> {
        call.doc
            .title_tf
            .ids()
            .filter_map(|u| self.stats.related(u).iter().find(|(t, _)| *t == term).map(|(_, a)| (u, *a)))
            .max_by(|a, b| a.1.total_cmp(&b.1).then_with(|| self.terms.name(b.0).cmp(self.terms.name(a.0))))
            .map(|(u, _)| u)
    }

    fn mission_recs(&self, o: &OrgEntry, cfg: &RankerConfig) -> Vec<Recommendation> {
        let org = &o.org;
        let lang = org.preferred_language;
        self.catalogue
            .missions
            .iter()
            .zip(&self.missions)
            .map(|(m, t)| {
                let (cos, parts) = o.vec.dot(&t.vec, &self.terms);
                let declared = org.interest_missions.contains(&m.id);
                let raw = cos + if declared { BONUS_DECLARED_MISSION } else { 0.0 };
                let terms = surface_terms(&self.terms, &parts, &t.doc);
                let name = if lang == Language::Sv && !m.name_sv.is_empty() { &m.name_sv } else { &m.name_en };
                let summary = mission_summary(lang, name, &terms, declared);
                let ev = evidence(&t.doc, &parts, lang);
                let target = Target::Mission(m.id);
                Recommendation {
                    id: recommendation_id(&org.id, &target),
                    org_id: org.id.clone(),
                    target,
                    title: name.clone(),
                    url: Some(m.url.clone()),
                    score: cfg.calibrate(raw),
                    rank: 0,
                    deadline: None,
                    explanation: explanation(lang, summary, vec![], terms, ev),
                }
            })
            .collect()
    }

    fn area_recs(&self, o: &OrgEntry, cfg: &RankerConfig) -> Vec<Recommendation> {
        let org = &o.org;
        let lang = org.preferred_language;
        self.catalogue
            .s3_areas
            .iter()
            .zip(&self.areas)
            .map(|(a, t)| {
                let (cos, parts) = o.vec.dot(&t.vec, &self.terms);
                let nace_hit =
                    org.nace.iter().filter_map(|c| c.division()).any(|d| a.nace_divisions.iter().any(|x| x == d));
                let raw = cos + if nace_hit { BONUS_NACE_AREA } else { 0.0 };
                let terms = surface_terms(&self.terms, &parts, &t.doc);
                let label = if lang == Language::Sv { &a.label_sv } else { &a.label_en };
                let summary = area_summary(lang, label, &terms, nace_hit);
                let ev = evidence(&t.doc, &parts, lang);
                let target = Target::S3Area(a.id.clone());
                Recommendation {
                    id: recommendation_id(&org.id, &target),
                    org_id: org.id.clone(),
                    target,
                    title: label.clone(),
                    url: Some(a.url.clone()),
                    score: cfg.calibrate(raw),
                    rank: 0,
                    deadline: None,
                    explanation: explanation(lang, summary, vec![], terms, ev),
                }
            })
            .collect()
    }

    fn partner_recs(&self, o: &OrgEntry, cfg: &RankerConfig) -> Vec<Recommendation> {
        let (org, floor) = (&o.org, cfg.floor_raw());
        // As for calls: the facts column, then only the contenders calibrated and read.
        let cos = self.org_postings.scores(&o.vec);
        let dismissed = self.dismissals(&org.id);
        let own = self.orgs.slot(&org.id).map_or(usize::MAX, |s| s as usize);
        let me = (org.kind, mission_bits(&org.interest_missions));
        let mut raws: Vec<(f32, u32)> = cos
            .iter()
            .zip(self.orgs.facts())
            .enumerate()
            .filter(|(slot, (cos, f))| **cos > 0.0 && f.partners && *slot != own)
            .filter_map(|(slot, (cos, f))| {
                let (slot, raw) = (slot as u32, partner_raw_of(*cos, me, (f.kind?, f.missions)));
                if raw < floor {
                    return None;
                }
                if let Some(d) = dismissed {
                    self.orgs.at(slot).filter(|p| !d.partner(&p.org.id))?;
                }
                Some((raw, slot))
            })
            .collect();
        contenders(&mut raws, cfg.top_k_partners, cfg);
        let mut candidates: Vec<(u8, &OrgEntry)> = raws
            .into_iter()
            .filter_map(|(raw, slot)| Some((cfg.score_over_floor(raw, floor)?, self.orgs.at(slot)?)))
            .collect();
        best_first(&mut candidates, cfg.top_k_partners, |a, b| b.0.cmp(&a.0).then_with(|| a.1.org.id.cmp(&b.1.org.id)));
        candidates.into_iter().filter_map(|(_, p)| self.partner_rec(o, p)).collect()
    }

    /// The explained recommendation of one partner, if it may be suggested and shares a term.
    fn partner_rec(&self, o: &OrgEntry, p: &OrgEntry) -> Option<Recommendation> {
        let org = &o.org;
        if p.org.id == org.id
            || !p.org.consent.partner_suggestions
            || self.dismissals(&org.id).is_some_and(|d| d.partner(&p.org.id))
        {
            return None;
        }
        let lang = org.preferred_language;
        let (cos, parts) = o.vec.dot(&p.vec, &self.terms);
        if cos <= 0.0 {
            return None;
        }
        let complementary = org.kind.is_academic() != p.org.kind.is_academic();
        let terms = surface_terms(&self.terms, &parts, &p.doc);
        let summary = partner_summary(lang, &p.org.name, p.org.kind.as_str(), &terms, complementary);
        let target = Target::Partner(p.org.id.clone());
        Some(Recommendation {
            id: recommendation_id(&org.id, &target),
            org_id: org.id.clone(),
            target,
            title: p.org.name.clone(),
            url: None,
            score: self.ranker.calibrate(partner_raw(cos, org, &p.org)),
            rank: 0,
            deadline: None,
            explanation: explanation(lang, summary, vec![], terms, None),
        })
    }

    /// Why an active recommendation is no longer made, in its language.
    pub fn withdraw_reason(&self, rec: &Recommendation, today: NaiveDate) -> String {
        let sv = rec.explanation.language == Language::Sv;
        let gone_org = !self.orgs.contains_key(&rec.org_id);
        let reason = match &rec.target {
            _ if gone_org => ("organisationen är borttagen", "the organisation was removed"),
            t if self.is_dismissed(&rec.org_id, t) => ("ni har avböjt den", "you dismissed it"),
            Target::Call(id) => match self.call(id) {
                None => ("utlysningen är stängd eller borttagen", "the call was closed or removed"),
                Some(c) if c.next_deadline(today).is_none() && c.final_deadline().is_some() => {
                    ("sista ansökningsdag har passerat", "the deadline has passed")
                }
                Some(c) if c.status == crate::CallStatus::Closed => ("utlysningen är stängd", "the call is closed"),
                Some(_) => ("inte längre bland de bästa träffarna", "no longer among the best matches"),
            },
            Target::Partner(id) if !self.orgs.contains_key(id) => {
                ("partnern finns inte längre", "the partner is no longer registered")
            }
            Target::Partner(id) if self.org(id).is_some_and(|p| !p.consent.partner_suggestions) => {
                ("partnern vill inte längre föreslås", "the partner no longer consents to be suggested")
            }
            _ => ("inte längre bland de bästa träffarna", "no longer among the best matches"),
        };
        if sv {
            reason.0.to_owned()
        } else {
            reason.1.to_owned()
        }
    }
}
