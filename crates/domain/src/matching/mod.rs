//! The matching index: organisations, calls, missions and S3 areas as weighted term vectors,
//! and the rankings Brygga recommends from.
//!
//! Relevance is a cosine over TF-IDF vectors (IDF from the targets: calls, missions, areas),
//! with field weights (call titles gain the words organisations use with them, see
//! [`crate::association`]), plus bounded bonuses for declared interests and industry codes. The
//! raw value is mapped to 0-100 by one fixed curve, so a score means the same for everyone.
//!
//! # How it is built (a search index, as tantivy's layers)
//! - **Term dictionary** ([`terms`]): every stem and phrase interned once as a `u32`, and every
//!   distinct written word analysed once (a document costs a look-up per word); vectors are
//!   sorted `(u32, f32)` lists, so a cosine is a merge and nothing is keyed by a string.
//! - **Postings** ([`postings`]): one inverted index over the calls' vectors and one over the
//!   organisations'. A query is scored term at a time into a dense array of slot scores
//!   (block-max pruning loses on queries of 100-300 terms); collectors pick from what was
//!   touched and never see how it was scored.
//! - **Statistics** (target IDF, organisation-side IDF, learned associations) are frozen in a
//!   snapshot and rebuilt, with every vector and both postings, once a tenth of the corpus
//!   changed since the last rebuild. A new document is vectorised with the snapshot, so it never
//!   rewrites the others. Between rebuilds the statistics lag by at most that tenth; an index
//!   built in one pass ([`Index::with`], as evaluation does) is exact.
//!
//! # What each path costs
//! | path | cost |
//! |---|---|
//! | organisation → its calls | the call postings of its terms, plus one pass over the calls' facts column (M, a few bytes each: missions, eligibility rules); only the contenders for its top-k are calibrated and read |
//! | organisation → partners | the organisation postings of its terms, plus one pass over the organisations' facts column (N); only the contenders for its top-k are calibrated and read |
//! | call → organisations whose lists it enters | the organisation postings of the call's terms, plus one pass over the organisations' facts column (N, a few bytes each, with each list's entry bar, [`bars`]); an entry is read only for a list the call enters |
//! | organisation → organisations whose partner lists it enters | as the row above, over the same column |
//! | organisation or call upsert | its analysis and vector (its terms), one posting per term |
//! | rebuild (every tenth of the corpus) | every document's vector and postings, and the associations |
//!
//! A call or partner is recommended only when it shares at least one term with the
//! organisation (its explanation names them); the bonuses rank among those.

mod bars;
mod candidates;
mod dismissals;
mod docs;
mod explain;
mod postings;
mod recommend;
mod select;
pub use candidates::{enters_top_k, EntryBar};
mod slots;
mod terms;
#[cfg(test)]
mod tests;

use crate::association::{self, Role};
use crate::text::Analyzer;
use crate::{Call, CallId, Catalogue, MissionId, OrgId, Organisation};
use docs::{area_doc, call_doc, mission_doc, org_doc, Doc};
use postings::Postings;
use serde::{Deserialize, Serialize};
use slots::Slotted;
use std::collections::HashMap;
use terms::{SparseVec, Terms};

/// Tunable ranking settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RankerConfig {
    /// Recommendations scoring below this (0-100) are not made: no padding.
    pub floor: u8,
    pub top_k_calls: usize,
    pub top_k_missions: usize,
    pub top_k_s3_areas: usize,
    pub top_k_partners: usize,
    /// At most this many active recommendations per organisation (best first).
    pub max_per_org: usize,
    /// Score movement that counts as a material change.
    pub min_score_delta: u8,
    /// Raw relevance at which the score reaches 63 (1 - 1/e of 100).
    pub saturation: f32,
    /// Field weights of a call's text.
    pub title_weight: f32,
    pub keyword_weight: f32,
    pub body_weight: f32,
    /// How much the rarity of a term among organisations' own texts counts (0 = not at all):
    /// words every organisation uses ("data", "report") say little about which call fits.
    pub org_idf_gamma: f32,
    /// Power of the target IDF in an organisation's own vector (the targets' vectors carry it
    /// too; 1 counts it twice, 0 leaves the organisation side to `org_idf_gamma`).
    pub query_idf_exponent: f32,
    /// Weight of two-word phrases when organisations meet calls, missions, areas and partners.
    pub phrase_weight: f32,
    /// Weight of two-word phrases when calls are tagged with missions.
    pub mission_phrase_weight: f32,
    /// Weight of a call's title when calls are tagged with missions (`title_weight` elsewhere).
    pub mission_title_weight: f32,
    /// Give Swedish text the English translations of its words (the NACE/SNI-aligned lexicon).
    pub translate_swedish: bool,
    /// Weight of the words organisations use together with a call title's words, learned from
    /// their texts ([`crate::association`]); 0 turns it off.
    pub association_weight: f32,
}

impl Default for RankerConfig {
    fn default() -> Self {
        Self {
            floor: 35,
            top_k_calls: 5,
            top_k_missions: 2,
            top_k_s3_areas: 2,
            top_k_partners: 3,
            max_per_org: 12,
            min_score_delta: 5,
            saturation: 0.12,
            title_weight: 3.0,
            keyword_weight: 2.0,
            body_weight: 0.3,
            org_idf_gamma: 1.0,
            query_idf_exponent: 0.0,
            phrase_weight: 0.25,
            mission_phrase_weight: 4.0,
            mission_title_weight: 2.0,
            translate_swedish: true,
            association_weight: 1.0,
        }
    }
}

impl RankerConfig {
    /// The top-k of a kind of target.
    pub fn top_k(&self, kind: &str) -> usize {
        match kind {
            "call" => self.top_k_calls,
            "partner" => self.top_k_partners,
            "mission" => self.top_k_missions,
            _ => self.top_k_s3_areas,
        }
    }

    /// Maps raw relevance (≥ 0) onto 0-100.
    pub fn calibrate(&self, raw: f32) -> u8 {
        self.calibrate_fine(raw).round().clamp(0.0, 100.0) as u8
    }

    /// A raw relevance below which [`Self::calibrate`] is under the floor, a little low so that
    /// rounding cannot cross it: the candidate searches compare with it first and calibrate
    /// only what clears it (most of what a query touches does not).
    pub fn floor_raw(&self) -> f32 {
        self.raw_below(self.floor)
    }

    /// A raw relevance below which [`Self::calibrate`] is under `score` (≤ 100), a little
    /// low so that rounding cannot cross it.
    pub fn raw_below(&self, score: u8) -> f32 {
        let share = (f32::from(score) - 0.5) / 100.0;
        -self.saturation * (1.0 - share).ln() - 1e-4
    }

    /// The score of `raw` if it clears the floor; `floor_raw` is [`Self::floor_raw`].
    fn score_over_floor(&self, raw: f32, floor_raw: f32) -> Option<u8> {
        if raw < floor_raw {
            return None;
        }
        let score = self.calibrate(raw);
        (score >= self.floor).then_some(score)
    }

    /// [`Self::calibrate`] without rounding, for rankings that must not tie.
    pub fn calibrate_fine(&self, raw: f32) -> f32 {
        100.0 * (1.0 - (-raw.max(0.0) / self.saturation).exp())
    }
}

/// Organisations at which the organisation-side IDF and the learned associations count half.
const ORG_IDF_SHRINK: f32 = 50.0;
/// Share of the documents that must change before statistics and vectors are rebuilt.
const RELEARN_SHARE: f32 = 0.1;
/// Organisations the associations are learned from at most (a deterministic sample by id
/// beyond that: the statistics are ratios, and learning is quadratic in a document's terms).
const ASSOCIATION_SAMPLE: usize = 20_000;
/// The kinds of target, as `Target::kind` names them, in the order recommendations list them.
pub const TARGET_KINDS: [&str; 4] = ["mission", "s3_area", "call", "partner"];
/// Bonuses added to cosine relevance.
const BONUS_DECLARED_MISSION: f32 = 0.12;
const BONUS_NACE_AREA: f32 = 0.10;
const BONUS_COMPLEMENTARY: f32 = 0.03;
const BONUS_SHARED_MISSION: f32 = 0.05;

/// How one vector space weighs phrases and call titles.
#[derive(Debug, Clone, Copy)]
struct Space {
    phrase: f32,
    title: f32,
    /// Add the learned associations of call titles (organisations meeting calls).
    expand: bool,
}

#[derive(Debug, Clone)]
struct CallEntry {
    call: Call,
    doc: Doc,
    /// Organisation ↔ targets space.
    vec: SparseVec,
    /// Call ↔ mission space.
    vec_m: SparseVec,
}

#[derive(Debug, Clone)]
struct OrgEntry {
    org: Organisation,
    doc: Doc,
    vec: SparseVec,
    /// The organisation gave feedback (`dismissals.rs`): its scores may shift.
    feedback: bool,
    /// What a new call or partner must score to enter its lists (`bars.rs`).
    bars: bars::Bars,
}

/// What the search for the organisations a call reaches tests of every touched one
/// ([`slots::Facts`]); a freed slot has no consent and is never a candidate.
#[derive(Debug, Clone, Copy, Default)]
struct OrgFacts {
    contact: bool,
    /// Consent to be suggested as a partner.
    partners: bool,
    feedback: bool,
    /// Declared missions, one bit each ([`mission_bits`]).
    missions: u8,
    kind: Option<crate::OrgKind>,
    country: Option<crate::Country>,
    bars: bars::Bars,
}

impl slots::Facts for OrgEntry {
    type Of = OrgFacts;
    fn facts(&self) -> OrgFacts {
        let o = &self.org;
        OrgFacts {
            contact: o.consent.contact,
            partners: o.consent.partner_suggestions,
            feedback: self.feedback,
            missions: mission_bits(&o.interest_missions),
            kind: Some(o.kind),
            country: o.country,
            bars: self.bars,
        }
    }
}

/// What the search for an organisation's calls tests of every touched call; a freed slot's
/// rules are a closed call's.
#[derive(Debug, Clone, Copy, Default)]
struct CallFacts {
    /// The call's missions, one bit each ([`mission_bits`]).
    missions: u8,
    rules: crate::eligibility::CallRules,
}

impl slots::Facts for CallEntry {
    type Of = CallFacts;
    fn facts(&self) -> CallFacts {
        CallFacts { missions: mission_bits(&self.call.missions), rules: crate::eligibility::CallRules::of(&self.call) }
    }
}

/// One bit per mission, in [`MissionId::ALL`] order.
fn mission_bits(ms: &[MissionId]) -> u8 {
    ms.iter().filter_map(|m| MissionId::ALL.iter().position(|x| x == m)).fold(0, |bits, i| bits | 1 << i)
}

#[derive(Debug, Clone, Default)]
struct TargetEntry {
    doc: Doc,
    vec: SparseVec,
    vec_m: SparseVec,
}

/// Corpus statistics the vectors are computed with, frozen between rebuilds.
#[derive(Debug, Default, Clone)]
struct Stats {
    /// IDF over the targets (calls, missions, areas) by term id; NaN where no target has it.
    idf: Vec<f32>,
    /// IDF over the organisations' texts by term id; NaN where none has it.
    org_idf: Vec<f32>,
    n_targets: usize,
    n_orgs: usize,
    /// Call-title term → the terms organisations use with it, and the weight.
    assoc: HashMap<u32, Vec<(u32, f32)>>,
}

impl Stats {
    fn idf(&self, t: u32) -> Option<f32> {
        self.idf.get(t as usize).copied().filter(|x| !x.is_nan())
    }
    fn org_idf(&self, t: u32) -> Option<f32> {
        self.org_idf.get(t as usize).copied().filter(|x| !x.is_nan())
    }
    fn related(&self, t: u32) -> &[(u32, f32)] {
        self.assoc.get(&t).map_or(&[], Vec::as_slice)
    }
}

/// Everything Brygga matches over. Mutations keep the vectors current.
///
/// Two vector spaces share the term statistics: organisations meet calls, missions, areas and
/// each other with `phrase_weight`; calls meet missions with `mission_phrase_weight`.
#[derive(Debug)]
pub struct Index {
    analyzer: Analyzer,
    ranker: RankerConfig,
    catalogue: Catalogue,
    terms: Terms,
    calls: Slotted<CallId, CallEntry>,
    orgs: Slotted<OrgId, OrgEntry>,
    missions: Vec<TargetEntry>,
    areas: Vec<TargetEntry>,
    stats: Stats,
    call_postings: Postings,
    org_postings: Postings,
    changes_since_learn: usize,
    /// Changes ever made (a stamp: equal stamps, equal index).
    changes: u64,
    /// What each organisation dismissed (`dismissals.rs`).
    dismissed: std::collections::HashMap<OrgId, dismissals::Dismissals>,
}

impl Index {
    pub fn new(catalogue: Catalogue, ranker: RankerConfig) -> Self {
        Self::with(catalogue, ranker, Vec::new(), Vec::new())
    }

    /// Builds an index holding `calls` and `orgs` in one pass (exact statistics).
    pub fn with(catalogue: Catalogue, ranker: RankerConfig, calls: Vec<Call>, orgs: Vec<Organisation>) -> Self {
        let mut analyzer = Analyzer::default();
        analyzer.translate_swedish = ranker.translate_swedish;
        let mut terms = Terms::default();
        let missions = catalogue
            .missions
            .iter()
            .map(|m| TargetEntry { doc: mission_doc(&analyzer, &mut terms, m), ..Default::default() })
            .collect();
        let areas = catalogue
            .s3_areas
            .iter()
            .map(|a| TargetEntry { doc: area_doc(&analyzer, &mut terms, a), ..Default::default() })
            .collect();
        let calls = Slotted::from_entries(calls.into_iter().map(|c| {
            let doc = call_doc(&analyzer, &mut terms, &c, &ranker);
            let e = CallEntry { call: c, doc, vec: SparseVec::default(), vec_m: SparseVec::default() };
            (e.call.id.clone(), e)
        }));
        let orgs = Slotted::from_entries(orgs.into_iter().map(|o| {
            let doc = org_doc(&analyzer, &mut terms, &o, &catalogue);
            (
                o.id.clone(),
                OrgEntry { org: o, doc, vec: SparseVec::default(), feedback: false, bars: Default::default() },
            )
        }));
        let mut ix = Self {
            analyzer,
            ranker,
            catalogue,
            terms,
            calls,
            orgs,
            missions,
            areas,
            stats: Stats::default(),
            call_postings: Postings::default(),
            org_postings: Postings::default(),
            changes_since_learn: 0,
            changes: 0,
            dismissed: std::collections::HashMap::new(),
        };
        ix.rebuild();
        ix
    }

    pub fn ranker(&self) -> &RankerConfig {
        &self.ranker
    }
    pub fn call(&self, id: &CallId) -> Option<&Call> {
        self.calls.get(id).map(|e| &e.call)
    }
    pub fn org(&self, id: &OrgId) -> Option<&Organisation> {
        self.orgs.get(id).map(|e| &e.org)
    }
    pub fn orgs(&self) -> impl Iterator<Item = &Organisation> {
        self.orgs.values().map(|e| &e.org)
    }
    pub fn calls(&self) -> impl Iterator<Item = &Call> {
        self.calls.values().map(|e| &e.call)
    }
    /// Sizes for operators and the bench: (organisations, calls, terms, postings).
    pub fn sizes(&self) -> (usize, usize, usize, usize) {
        (self.orgs.len(), self.calls.len(), self.terms.len(), self.call_postings.len() + self.org_postings.len())
    }

    /// Inserts or replaces a call; an older version than the one held is ignored (returns false).
    pub fn upsert_call(&mut self, call: Call) -> bool {
        if self.calls.get(&call.id).is_some_and(|e| e.call.version > call.version) {
            return false;
        }
        self.drop_call(&call.id);
        let doc = call_doc(&self.analyzer, &mut self.terms, &call, &self.ranker);
        let (vec, vec_m) = self.call_vectors(&doc);
        let slot = self.call_postings.push(&vec);
        let entry_slot = self.calls.insert(call.id.clone(), CallEntry { call, doc, vec, vec_m });
        debug_assert_eq!(slot, entry_slot, "postings and entries hand out slots in step");
        self.changed();
        true
    }
    pub fn remove_call(&mut self, id: &CallId) {
        if self.drop_call(id) {
            self.changed();
        }
    }
    fn drop_call(&mut self, id: &CallId) -> bool {
        self.calls.remove(id).is_some()
    }

    /// Inserts or replaces an organisation; an older version is ignored (returns false).
    pub fn upsert_org(&mut self, org: Organisation) -> bool {
        if self.orgs.get(&org.id).is_some_and(|e| e.org.version > org.version) {
            return false;
        }
        self.drop_org(&org.id);
        let doc = org_doc(&self.analyzer, &mut self.terms, &org, &self.catalogue);
        let vec = self.org_vector(&doc);
        let slot = self.org_postings.push(&vec);
        let feedback = self.dismissed.contains_key(&org.id);
        let entry_slot =
            self.orgs.insert(org.id.clone(), OrgEntry { org, doc, vec, feedback, bars: Default::default() });
        debug_assert_eq!(slot, entry_slot, "postings and entries hand out slots in step");
        self.changed();
        true
    }
    pub fn remove_org(&mut self, id: &OrgId) {
        self.forget_dismissals(id);
        if self.drop_org(id) {
            self.changed();
        }
    }
    fn drop_org(&mut self, id: &OrgId) -> bool {
        self.orgs.remove(id).is_some()
    }

    /// How many changes the index has taken since it was built: equal stamps, equal index.
    pub fn changes(&self) -> u64 {
        self.changes
    }

    /// Learns the statistics from every document now held, if anything changed since they
    /// were last learned. Afterwards the index is what [`Index::with`] would build from the
    /// same documents, whatever order they came in: rankings are then canonical.
    pub fn relearn(&mut self) {
        if self.changes_since_learn > 0 {
            self.rebuild();
        }
    }

    /// Counts a change; rebuilds once [`RELEARN_SHARE`] of the documents changed since the
    /// last rebuild (so a burst of events costs a few passes, not one per event).
    fn changed(&mut self) {
        self.changes += 1;
        self.changes_since_learn += 1;
        let corpus = (self.orgs.len() + self.calls.len()) as f32;
        if self.changes_since_learn as f32 >= RELEARN_SHARE * corpus {
            self.rebuild();
        }
    }

    /// Statistics from every document, then every vector and both postings, slots compacted.
    fn rebuild(&mut self) {
        self.changes_since_learn = 0;
        let n_terms = self.terms.len();
        let targets: Vec<&Doc> = self
            .calls
            .values()
            .map(|e| &e.doc)
            .chain(self.missions.iter().map(|m| &m.doc))
            .chain(self.areas.iter().map(|a| &a.doc))
            .collect();
        let idf = document_frequencies(&targets, n_terms);
        let n_targets = targets.len();
        let org_docs: Vec<&Doc> = self.orgs.values().map(|e| &e.doc).collect();
        let org_idf = document_frequencies(&org_docs, n_terms);
        self.stats = Stats { idf, org_idf, n_targets, n_orgs: org_docs.len(), assoc: HashMap::new() };
        self.stats.assoc = self.learn_associations();

        // Vectors in id order, then slots renumbered in the same order as the postings fill.
        let mut call_postings = Postings::default();
        let mut vectors = self.calls.values().map(|e| self.call_vectors(&e.doc)).collect::<Vec<_>>().into_iter();
        self.calls.compact(|_, e| {
            if let Some((vec, vec_m)) = vectors.next() {
                call_postings.push(&vec);
                (e.vec, e.vec_m) = (vec, vec_m);
            }
        });
        let org_space = self.org_space();
        let mission_space = self.mission_space();
        let targets: Vec<(SparseVec, SparseVec)> = self
            .missions
            .iter()
            .map(|m| (self.vector(&m.doc, org_space, None), self.vector(&m.doc, mission_space, None)))
            .collect();
        for (m, (v, vm)) in self.missions.iter_mut().zip(targets) {
            (m.vec, m.vec_m) = (v, vm);
        }
        let areas: Vec<SparseVec> = self.areas.iter().map(|a| self.vector(&a.doc, org_space, None)).collect();
        for (a, v) in self.areas.iter_mut().zip(areas) {
            a.vec = v;
        }
        let mut org_postings = Postings::default();
        let mut vectors = self.orgs.values().map(|e| self.org_vector(&e.doc)).collect::<Vec<_>>().into_iter();
        self.orgs.compact(|_, e| {
            if let Some(vec) = vectors.next() {
                org_postings.push(&vec);
                e.vec = vec;
            }
        });
        (self.call_postings, self.org_postings) = (call_postings, org_postings);
    }

    /// For each call-title word, the words organisations use with it ([`association::learn`]),
    /// learned from at most [`ASSOCIATION_SAMPLE`] organisations.
    fn learn_associations(&self) -> HashMap<u32, Vec<(u32, f32)>> {
        // Shrunk like the organisation-side IDF: a few organisations say little.
        let n = self.orgs.len() as f32;
        let scale = self.ranker.association_weight * n / (n + ORG_IDF_SHRINK);
        if scale <= 0.0 {
            return HashMap::new();
        }
        let t = &self.terms;
        let mut roles = vec![Role::default(); t.len()];
        for id in self.calls.values().flat_map(|e| e.doc.title_tf.ids()).filter(|&id| !t.is_phrase(id)) {
            roles[id as usize].row = true;
        }
        for id in (0..self.stats.idf.len() as u32).filter(|&id| self.stats.idf(id).is_some() && !t.is_phrase(id)) {
            roles[id as usize].column = true;
        }
        let step = self.orgs.len().div_ceil(ASSOCIATION_SAMPLE).max(1);
        let docs = self.orgs.values().step_by(step).map(|e| e.doc.tf.ids());
        let role = |id: u32| roles.get(id as usize).copied().unwrap_or_default();
        association::learn(docs, role, scale, |a, b| t.name(*a).cmp(t.name(*b)))
    }

    fn org_space(&self) -> Space {
        Space { phrase: self.ranker.phrase_weight, title: self.ranker.title_weight, expand: true }
    }
    fn mission_space(&self) -> Space {
        Space { phrase: self.ranker.mission_phrase_weight, title: self.ranker.mission_title_weight, expand: false }
    }

    fn call_vectors(&self, d: &Doc) -> (SparseVec, SparseVec) {
        (self.vector(d, self.org_space(), None), self.vector(d, self.mission_space(), None))
    }

    fn org_vector(&self, d: &Doc) -> SparseVec {
        // The organisation-side IDF is shrunk towards 0 while there are few organisations.
        let n = self.stats.n_orgs as f32;
        let space = Space { expand: false, ..self.org_space() };
        self.vector(d, space, Some(self.ranker.org_idf_gamma * n / (n + ORG_IDF_SHRINK)))
    }

    /// A unit TF-IDF vector: sublinear term frequency times target IDF; phrases, call titles and
    /// the titles' associated terms weighted as the `space` says. An organisation's vector
    /// (`org_gamma`) keeps only terms some target has (the others cannot match and would only
    /// dilute it) and multiplies in its own-corpus IDF.
    fn vector(&self, d: &Doc, space: Space, org_gamma: Option<f32>) -> SparseVec {
        let s = &self.stats;
        let max_own = idf(s.n_orgs as f32, 1.0).max(f32::EPSILON);
        let mut tf: HashMap<u32, f32> = d.tf.0.iter().copied().collect();
        for &(t, w) in &d.title_tf.0 {
            *tf.entry(t).or_default() += w * space.title;
        }
        if space.expand {
            let mut expanded: HashMap<u32, f32> = HashMap::new();
            for &(u, w) in &d.title_tf.0 {
                for &(t, a) in s.related(u) {
                    let x = expanded.entry(t).or_default();
                    *x = x.max(w * a);
                }
            }
            for (t, w) in expanded {
                *tf.entry(t).or_default() += w;
            }
        }
        let weights = tf
            .into_iter()
            .filter_map(|(t, tf)| {
                let scale = if self.terms.is_phrase(t) { space.phrase } else { 1.0 };
                if scale <= 0.0 {
                    return None;
                }
                let target_idf = match org_gamma {
                    Some(_) => s.idf(t)?.powf(self.ranker.query_idf_exponent),
                    None => s.idf(t).unwrap_or_else(|| idf(s.n_targets as f32, 0.0)),
                };
                let own = org_gamma.map_or(1.0, |g| (s.org_idf(t).unwrap_or(max_own) / max_own).powf(g));
                Some((t, (1.0 + tf * scale).ln() * target_idf * own))
            })
            .collect();
        SparseVec::unit(weights)
    }

    /// Raw relevance of one organisation to every call, for evaluation (no eligibility, no floor).
    pub fn call_scores(&self, org_id: &OrgId) -> Vec<(CallId, f32, u8)> {
        let Some(o) = self.orgs.get(org_id) else { return Vec::new() };
        let cos = self.call_postings.scores(&o.vec);
        self.calls
            .iter_slots()
            .map(|(slot, id, c)| {
                let raw = cos[slot as usize] + mission_bonus(&o.org, &c.call);
                (id.clone(), raw, self.ranker.calibrate(raw))
            })
            .collect()
    }

    /// Raw relevance of an organisation to each mission, declared interests included.
    pub fn mission_scores(&self, org_id: &OrgId) -> Vec<(MissionId, f32)> {
        let Some(o) = self.orgs.get(org_id) else { return Vec::new() };
        self.catalogue
            .missions
            .iter()
            .zip(&self.missions)
            .map(|(m, t)| {
                let declared = if o.org.interest_missions.contains(&m.id) { BONUS_DECLARED_MISSION } else { 0.0 };
                (m.id, o.vec.cos(&t.vec) + declared)
            })
            .collect()
    }

    /// Raw relevance of a call to each mission (call → mission tagging).
    pub fn call_mission_scores(&self, call_id: &CallId) -> Vec<(MissionId, f32)> {
        let Some(c) = self.calls.get(call_id) else { return Vec::new() };
        self.catalogue.missions.iter().zip(&self.missions).map(|(m, t)| (m.id, c.vec_m.cos(&t.vec_m))).collect()
    }
}

/// The declared-mission bonus of a call for an organisation.
fn mission_bonus(org: &Organisation, call: &Call) -> f32 {
    if call.missions.iter().any(|m| org.interest_missions.contains(m)) {
        BONUS_DECLARED_MISSION
    } else {
        0.0
    }
}

/// IDF by term id over `docs` (a title-only term counts once); NaN for terms none has.
fn document_frequencies(docs: &[&Doc], n_terms: usize) -> Vec<f32> {
    let mut df = vec![0u32; n_terms];
    for d in docs {
        for t in d.tf.ids() {
            df[t as usize] += 1;
        }
        for t in d.title_tf.ids().filter(|t| !d.tf.contains(*t)) {
            df[t as usize] += 1;
        }
    }
    let n = docs.len() as f32;
    df.into_iter().map(|f| if f == 0 { f32::NAN } else { idf(n, f as f32) }).collect()
}

fn idf(n: f32, df: f32) -> f32 {
    (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
}
