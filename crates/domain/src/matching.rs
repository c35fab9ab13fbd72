//! The matching index: organisations, calls, missions and S3 areas as weighted term vectors,
//! and the rankings Brygga recommends from.
//!
//! Relevance is a cosine over TF-IDF vectors (IDF from the targets: calls, missions, areas),
//! with field weights (call titles gain the words organisations use with them, see
//! [`crate::association`]), plus bounded bonuses for declared interests and industry codes. The
//! raw value is mapped to 0-100 by one fixed curve, so a score means the same for everyone.

use crate::association::Associations;
use crate::eligibility::{allows, assess};
use crate::recommendation::{recommendation_id, Explanation, Published, Recommendation, Target, RANKER_VERSION};
use crate::text::{detect_language, is_phrase, sentences, Analyzer};
use crate::{Call, CallId, Catalogue, Language, MissionId, OrgId, Organisation};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Tunable ranking settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
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
    /// Maps raw relevance (≥ 0) onto 0-100.
    pub fn calibrate(&self, raw: f32) -> u8 {
        self.calibrate_fine(raw).round().clamp(0.0, 100.0) as u8
    }

    /// [`Self::calibrate`] without rounding, for rankings that must not tie.
    pub fn calibrate_fine(&self, raw: f32) -> f32 {
        100.0 * (1.0 - (-raw.max(0.0) / self.saturation).exp())
    }
}

/// Field weights of organisation and catalogue texts.
const W_TITLE: f32 = 3.0;
const W_KEYWORDS: f32 = 2.0;
const W_BODY: f32 = 1.0;
const W_NACE: f32 = 1.5;
const W_HISTORY: f32 = 1.5;
/// Organisations at which the organisation-side IDF and the learned associations count half.
const ORG_IDF_SHRINK: f32 = 50.0;
/// Share of the documents that must change before the associations are learned again.
const RELEARN_SHARE: f32 = 0.1;
/// Contributing terms an explanation names.
const EXPLAINED_TERMS: usize = 6;
/// Bonuses added to cosine relevance.
const BONUS_DECLARED_MISSION: f32 = 0.12;
const BONUS_NACE_AREA: f32 = 0.10;
const BONUS_COMPLEMENTARY: f32 = 0.03;
const BONUS_SHARED_MISSION: f32 = 0.05;

#[derive(Debug, Default, Clone)]
struct Doc {
    /// Weighted term frequencies of every field but a call's title.
    tf: HashMap<String, f32>,
    /// A call's title terms at weight 1; each vector space applies its own title weight.
    title_tf: HashMap<String, f32>,
    surfaces: HashMap<String, String>,
    /// Language of the text (detected once).
    lang: Language,
    /// The sentences evidence is quoted from, each with its language and stems (analysed once).
    sentences: Vec<(Language, String, Vec<String>)>,
}

impl Doc {
    fn quote_from(&mut self, a: &Analyzer, text: &str, lang: Language) {
        for s in sentences(text) {
            let stems = a.terms(s, lang).into_iter().map(|t| t.stem).collect();
            self.sentences.push((lang, s.to_owned(), stems));
        }
    }
}

/// How one vector space weighs phrases and call titles.
#[derive(Debug, Clone, Copy)]
struct Space {
    phrase: f32,
    title: f32,
    /// Add the learned associations of call titles (organisations meeting calls).
    expand: bool,
}

/// A unit-length TF-IDF vector.
#[derive(Debug, Default, Clone)]
struct Vector(HashMap<String, f32>);

impl Vector {
    /// Cosine only (no allocation): for ranking many candidates.
    fn cos(&self, other: &Vector) -> f32 {
        let (small, large) = if self.0.len() <= other.0.len() { (self, other) } else { (other, self) };
        small.0.iter().filter_map(|(t, w)| large.0.get(t).map(|v| w * v)).sum()
    }

    /// Cosine with per-term contributions, largest first.
    fn dot(&self, other: &Vector) -> (f32, Vec<(String, f32)>) {
        let (small, large) = if self.0.len() <= other.0.len() { (self, other) } else { (other, self) };
        let mut parts: Vec<(String, f32)> =
            small.0.iter().filter_map(|(t, w)| large.0.get(t).map(|v| (t.clone(), w * v))).collect();
        parts.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        (parts.iter().map(|p| p.1).sum(), parts)
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
    calls: BTreeMap<CallId, (Call, Doc)>,
    orgs: BTreeMap<OrgId, (Organisation, Doc)>,
    missions: Vec<Doc>,
    areas: Vec<Doc>,
    /// IDF over the targets (calls, missions, areas).
    idf: HashMap<String, f32>,
    /// IDF over the organisations' own texts.
    org_idf: HashMap<String, f32>,
    call_vecs: HashMap<CallId, Vector>,
    org_vecs: HashMap<OrgId, Vector>,
    mission_vecs: Vec<Vector>,
    area_vecs: Vec<Vector>,
    /// The call ↔ mission space.
    call_vecs_m: HashMap<CallId, Vector>,
    mission_vecs_m: Vec<Vector>,
    /// What organisations say together with call-title words, and the changes since learned.
    associations: Associations,
    changes_since_learn: usize,
}

impl Index {
    pub fn new(catalogue: Catalogue, ranker: RankerConfig) -> Self {
        Self::with(catalogue, ranker, Vec::new(), Vec::new())
    }

    /// Builds an index holding `calls` and `orgs` in one pass.
    pub fn with(catalogue: Catalogue, ranker: RankerConfig, calls: Vec<Call>, orgs: Vec<Organisation>) -> Self {
        let mut analyzer = Analyzer::default();
        analyzer.translate_swedish = ranker.translate_swedish;
        let missions = catalogue.missions.iter().map(|m| mission_doc(&analyzer, m)).collect();
        let areas = catalogue.s3_areas.iter().map(|a| area_doc(&analyzer, a)).collect();
        let calls = calls
            .into_iter()
            .map(|c| {
                let d = call_doc(&analyzer, &c, &ranker);
                (c.id.clone(), (c, d))
            })
            .collect();
        let orgs = orgs
            .into_iter()
            .map(|o| {
                let d = org_doc(&analyzer, &o, &catalogue);
                (o.id.clone(), (o, d))
            })
            .collect();
        let mut ix = Self {
            analyzer,
            ranker,
            catalogue,
            calls,
            orgs,
            missions,
            areas,
            idf: HashMap::new(),
            org_idf: HashMap::new(),
            call_vecs: HashMap::new(),
            org_vecs: HashMap::new(),
            mission_vecs: Vec::new(),
            area_vecs: Vec::new(),
            call_vecs_m: HashMap::new(),
            mission_vecs_m: Vec::new(),
            associations: Associations::default(),
            changes_since_learn: usize::MAX,
        };
        ix.org_idf = ix.org_frequencies();
        ix.refresh();
        ix
    }

    pub fn ranker(&self) -> &RankerConfig {
        &self.ranker
    }
    pub fn call(&self, id: &CallId) -> Option<&Call> {
        self.calls.get(id).map(|(c, _)| c)
    }
    pub fn org(&self, id: &OrgId) -> Option<&Organisation> {
        self.orgs.get(id).map(|(o, _)| o)
    }
    pub fn orgs(&self) -> impl Iterator<Item = &Organisation> {
        self.orgs.values().map(|(o, _)| o)
    }

    /// Inserts or replaces a call; an older version than the one held is ignored (returns false).
    pub fn upsert_call(&mut self, call: Call) -> bool {
        if self.calls.get(&call.id).is_some_and(|(c, _)| c.version > call.version) {
            return false;
        }
        let d = call_doc(&self.analyzer, &call, &self.ranker);
        self.calls.insert(call.id.clone(), (call, d));
        self.refresh();
        true
    }
    pub fn remove_call(&mut self, id: &CallId) {
        if self.calls.remove(id).is_some() {
            self.refresh();
        }
    }
    /// Inserts or replaces an organisation; an older version is ignored (returns false).
    pub fn upsert_org(&mut self, org: Organisation) -> bool {
        if self.orgs.get(&org.id).is_some_and(|(o, _)| o.version > org.version) {
            return false;
        }
        let d = org_doc(&self.analyzer, &org, &self.catalogue);
        self.orgs.insert(org.id.clone(), (org, d));
        self.refresh_orgs();
        true
    }
    pub fn remove_org(&mut self, id: &OrgId) {
        if self.orgs.remove(id).is_some() {
            self.refresh_orgs();
        }
    }

    /// After a call changed: the target IDF, the associations when stale, every vector.
    fn refresh(&mut self) {
        let docs: Vec<&Doc> = self.calls.values().map(|(_, d)| d).chain(&self.missions).chain(&self.areas).collect();
        self.idf = document_frequencies(&docs);
        self.relearn_if_stale();
        self.target_vectors();
        self.org_vectors();
    }

    /// After an organisation changed: the organisation-side statistics and vectors (and the
    /// targets' when the associations were learned again).
    fn refresh_orgs(&mut self) {
        self.org_idf = self.org_frequencies();
        if self.relearn_if_stale() {
            self.target_vectors();
        }
        self.org_vectors();
    }

    fn org_frequencies(&self) -> HashMap<String, f32> {
        document_frequencies(&self.orgs.values().map(|(_, d)| d).collect::<Vec<_>>())
    }

    /// Learns the associations again once [`RELEARN_SHARE`] of the documents changed since
    /// the last time (so a burst of events costs a few passes, not one per event). Returns
    /// whether it did.
    fn relearn_if_stale(&mut self) -> bool {
        self.changes_since_learn = self.changes_since_learn.saturating_add(1);
        let corpus = (self.orgs.len() + self.calls.len()) as f32;
        if (self.changes_since_learn as f32) < RELEARN_SHARE * corpus {
            return false;
        }
        self.changes_since_learn = 0;
        let rows: HashSet<&str> = self
            .calls
            .values()
            .flat_map(|(_, d)| d.title_tf.keys())
            .filter(|t| !is_phrase(t))
            .map(String::as_str)
            .collect();
        let columns: HashSet<&str> = self.idf.keys().filter(|t| !is_phrase(t)).map(String::as_str).collect();
        // Shrunk like the organisation-side IDF: a few organisations say little.
        let n = self.orgs.len() as f32;
        let scale = self.ranker.association_weight * n / (n + ORG_IDF_SHRINK);
        self.associations = if scale > 0.0 {
            let docs = self.orgs.values().map(|(_, d)| d.tf.keys().filter(|t| !is_phrase(t)).map(String::as_str));
            Associations::learn(docs, &rows, &columns, scale)
        } else {
            Associations::default()
        };
        true
    }

    fn target_vectors(&mut self) {
        let r = &self.ranker;
        let org_space = Space { phrase: r.phrase_weight, title: r.title_weight, expand: true };
        let mission_space = Space { phrase: r.mission_phrase_weight, title: r.mission_title_weight, expand: false };
        self.call_vecs = self.calls.iter().map(|(id, (_, d))| (id.clone(), self.vector(d, org_space, None))).collect();
        self.mission_vecs = self.missions.iter().map(|d| self.vector(d, org_space, None)).collect();
        self.area_vecs = self.areas.iter().map(|d| self.vector(d, org_space, None)).collect();
        self.call_vecs_m =
            self.calls.iter().map(|(id, (_, d))| (id.clone(), self.vector(d, mission_space, None))).collect();
        self.mission_vecs_m = self.missions.iter().map(|d| self.vector(d, mission_space, None)).collect();
    }

    fn org_vectors(&mut self) {
        // The organisation-side IDF is shrunk towards 0 while there are few organisations.
        let n = self.orgs.len() as f32;
        let space = Space { phrase: self.ranker.phrase_weight, title: self.ranker.title_weight, expand: false };
        let gamma = self.ranker.org_idf_gamma * n / (n + ORG_IDF_SHRINK);
        self.org_vecs = self.orgs.iter().map(|(id, (_, d))| (id.clone(), self.vector(d, space, Some(gamma)))).collect();
    }

    /// A unit TF-IDF vector: sublinear term frequency times target IDF; phrases, call titles and
    /// the titles' associated terms weighted as the `space` says. An organisation's vector
    /// (`org_gamma`) keeps only terms some target has (the others cannot match and would only
    /// dilute it) and multiplies in its own-corpus IDF.
    fn vector(&self, d: &Doc, space: Space, org_gamma: Option<f32>) -> Vector {
        let n_targets = (self.calls.len() + self.missions.len() + self.areas.len()) as f32;
        let max_own = idf(self.orgs.len() as f32, 1.0).max(f32::EPSILON);
        let mut tf = d.tf.clone();
        for (t, w) in &d.title_tf {
            *tf.entry(t.clone()).or_default() += w * space.title;
        }
        if space.expand {
            for (t, w) in self.associations.expand(&d.title_tf) {
                *tf.entry(t).or_default() += w;
            }
        }
        let mut v: HashMap<String, f32> = tf
            .into_iter()
            .filter_map(|(t, tf)| {
                let scale = if is_phrase(&t) { space.phrase } else { 1.0 };
                if scale <= 0.0 {
                    return None;
                }
                let target_idf = match org_gamma {
                    Some(_) => self.idf.get(&t)?.powf(self.ranker.query_idf_exponent),
                    None => self.idf.get(&t).copied().unwrap_or_else(|| idf(n_targets, 0.0)),
                };
                let own =
                    org_gamma.map_or(1.0, |g| (self.org_idf.get(&t).copied().unwrap_or(max_own) / max_own).powf(g));
                let w = (1.0 + tf * scale).ln() * target_idf * own;
                Some((t, w))
            })
            .collect();
        let norm = v.values().map(|x| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            v.values_mut().for_each(|x| *x /= norm);
        }
        Vector(v)
    }

    /// Every recommendation for `org_id` as of `today`: missions, S3 areas, calls, partners,
    /// each kind ranked and cut to its top-k, the floor applied, and the total capped.
    pub fn recommend(&self, org_id: &OrgId, today: NaiveDate) -> Vec<Recommendation> {
        let cfg = &self.ranker;
        let Some((org, _)) = self.orgs.get(org_id) else { return Vec::new() };
        if !org.consent.contact {
            return Vec::new();
        }
        let mut all = Vec::new();
        all.extend(rank(self.mission_recs(org, cfg), cfg.top_k_missions, cfg.floor));
        all.extend(rank(self.area_recs(org, cfg), cfg.top_k_s3_areas, cfg.floor));
        all.extend(rank(self.call_recs(org, today, cfg), cfg.top_k_calls, cfg.floor));
        all.extend(rank(self.partner_recs(org, cfg), cfg.top_k_partners, cfg.floor));
        all.sort_by(|a, b| b.score.cmp(&a.score).then_with(|| a.target.cmp(&b.target)));
        all.truncate(cfg.max_per_org);
        all
    }

    /// Organisations (with contact consent) that `call` could be recommended to: its quick
    /// score clears the floor. The matcher re-ranks these when the call changes.
    pub fn orgs_matching_call(&self, call: &CallId) -> Vec<OrgId> {
        let Some(cv) = self.call_vecs.get(call) else { return Vec::new() };
        self.orgs
            .values()
            .filter(|(o, _)| o.consent.contact)
            .filter(|(o, _)| {
                self.org_vecs
                    .get(&o.id)
                    .is_some_and(|ov| self.ranker.calibrate(ov.cos(cv) + BONUS_DECLARED_MISSION) >= self.ranker.floor)
            })
            .map(|(o, _)| o.id.clone())
            .collect()
    }

    /// Organisations (with contact consent) for which `org` is a partner above the floor.
    pub fn orgs_matching_partner(&self, org: &OrgId) -> Vec<OrgId> {
        let Some((p, _)) = self.orgs.get(org).filter(|(p, _)| p.consent.partner_suggestions) else {
            return Vec::new();
        };
        self.orgs
            .values()
            .filter(|(o, _)| o.consent.contact && &o.id != org)
            .filter(|(o, _)| self.partner_score(o, p) >= self.ranker.floor)
            .map(|(o, _)| o.id.clone())
            .collect()
    }

    /// Whether `partner` would enter `org`'s top-k partners, judged against the partner
    /// recommendations `org` holds now (`held`, as published; ties go to the smaller id, as in
    /// ranking). The matcher re-ranks only those organisations when a partner arrives or changes.
    pub fn partner_enters(&self, org: &OrgId, partner: &OrgId, held: &[Published]) -> bool {
        let (Some((o, _)), Some((p, _))) = (self.orgs.get(org), self.orgs.get(partner)) else { return false };
        let k = self.ranker.top_k_partners;
        let score = self.partner_score(o, p);
        if k == 0 || score < self.ranker.floor {
            return false;
        }
        let mut kept: Vec<(u8, &OrgId)> = held
            .iter()
            .filter_map(|x| match &x.rec.target {
                Target::Partner(id) => Some((x.rec.score, id)),
                _ => None,
            })
            .collect();
        if kept.len() < k {
            return true;
        }
        kept.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
        let (last_score, last_id) = kept[k - 1];
        score > last_score || (score == last_score && partner < last_id)
    }

    /// The score of `p` as a partner for `org`, before explanation.
    fn partner_score(&self, org: &Organisation, p: &Organisation) -> u8 {
        let cos = match (self.org_vecs.get(&org.id), self.org_vecs.get(&p.id)) {
            (Some(a), Some(b)) => a.cos(b),
            _ => 0.0,
        };
        let complementary = org.kind.is_academic() != p.kind.is_academic();
        let shared = p.interest_missions.iter().any(|m| org.interest_missions.contains(m));
        self.ranker.calibrate(
            cos + if complementary { BONUS_COMPLEMENTARY } else { 0.0 }
                + if shared { BONUS_SHARED_MISSION } else { 0.0 },
        )
    }

    /// Raw relevance of one organisation to every call, for evaluation (no eligibility, no floor).
    pub fn call_scores(&self, org_id: &OrgId) -> Vec<(CallId, f32, u8)> {
        let cfg = &self.ranker;
        let (Some((org, _)), Some(ov)) = (self.orgs.get(org_id), self.org_vecs.get(org_id)) else { return Vec::new() };
        self.calls
            .iter()
            .map(|(id, (call, _))| {
                let raw = self.call_relevance(org, ov, call).0;
                (id.clone(), raw, cfg.calibrate(raw))
            })
            .collect()
    }

    /// Raw relevance of an organisation to each mission, declared interests included.
    pub fn mission_scores(&self, org_id: &OrgId) -> Vec<(MissionId, f32)> {
        let (Some((org, _)), Some(ov)) = (self.orgs.get(org_id), self.org_vecs.get(org_id)) else { return Vec::new() };
        self.catalogue
            .missions
            .iter()
            .zip(&self.mission_vecs)
            .map(|(m, mv)| {
                let declared = if org.interest_missions.contains(&m.id) { BONUS_DECLARED_MISSION } else { 0.0 };
                (m.id, ov.dot(mv).0 + declared)
            })
            .collect()
    }

    /// Raw relevance of a call to each mission (call → mission tagging).
    pub fn call_mission_scores(&self, call_id: &CallId) -> Vec<(MissionId, f32)> {
        let Some(cv) = self.call_vecs_m.get(call_id) else { return Vec::new() };
        self.catalogue.missions.iter().zip(&self.mission_vecs_m).map(|(m, mv)| (m.id, cv.dot(mv).0)).collect()
    }

    fn call_relevance(&self, org: &Organisation, ov: &Vector, call: &Call) -> (f32, Vec<(String, f32)>) {
        let (cos, parts) = self.call_vecs.get(&call.id).map(|cv| ov.dot(cv)).unwrap_or_default();
        let bonus =
            if call.missions.iter().any(|m| org.interest_missions.contains(m)) { BONUS_DECLARED_MISSION } else { 0.0 };
        (cos + bonus, parts)
    }

    fn call_recs(&self, org: &Organisation, today: NaiveDate, cfg: &RankerConfig) -> Vec<Recommendation> {
        let (Some(ov), Some((_, org_doc))) = (self.org_vecs.get(&org.id), self.orgs.get(&org.id)) else {
            return Vec::new();
        };
        let lang = org.preferred_language;
        // Score every eligible call cheaply; explain only the few that will be recommended.
        let bonus = |call: &Call| {
            if call.missions.iter().any(|m| org.interest_missions.contains(m)) {
                BONUS_DECLARED_MISSION
            } else {
                0.0
            }
        };
        let mut scored: Vec<(u8, &Call, &Doc)> = self
            .calls
            .values()
            .filter_map(|(call, doc)| {
                let cv = self.call_vecs.get(&call.id)?;
                let score = cfg.calibrate(ov.cos(cv) + bonus(call));
                (score >= cfg.floor && allows(&assess(org, call, today, lang))).then_some((score, call, doc))
            })
            .collect();
        scored.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.id.cmp(&b.1.id)));
        scored.truncate(cfg.top_k_calls);
        scored
            .into_iter()
            .map(|(_, call, doc)| {
                let lines = assess(org, call, today, lang);
                let (raw, parts) = self.call_relevance(org, ov, call);
                let terms = self.call_terms(&parts, doc, org_doc);
                let evidence = evidence(doc, &parts, doc.lang);
                let deadline = call.next_deadline(today);
                let summary = call_summary(lang, &call.title, &terms, deadline);
                let target = Target::Call(call.id.clone());
                Recommendation {
                    id: recommendation_id(&org.id, &target),
                    org_id: org.id.clone(),
                    target,
                    title: call.title.clone(),
                    url: call.url.clone(),
                    score: cfg.calibrate(raw),
                    rank: 0,
                    deadline,
                    explanation: explanation(lang, summary, lines, terms, evidence),
                }
            })
            .collect()
    }

    /// A call's contributing terms as written: the call's own words, and for a word the call
    /// only has by association, the organisation's word with the title word it goes with.
    fn call_terms(&self, parts: &[(String, f32)], call: &Doc, org: &Doc) -> Vec<String> {
        parts
            .iter()
            .take(EXPLAINED_TERMS)
            .map(|(stem, _)| match self.associations.source(stem, call.title_tf.keys()) {
                Some(title_word) if !call.surfaces.contains_key(stem) => {
                    format!("{} (≈ {})", surface(org, stem), surface(call, title_word))
                }
                _ => surface(call, stem),
            })
            .collect()
    }

    fn mission_recs(&self, org: &Organisation, cfg: &RankerConfig) -> Vec<Recommendation> {
        let Some(ov) = self.org_vecs.get(&org.id) else { return Vec::new() };
        let lang = org.preferred_language;
        self.catalogue
            .missions
            .iter()
            .zip(self.mission_vecs.iter().zip(&self.missions))
            .map(|(m, (mv, doc))| {
                let (cos, parts) = ov.dot(mv);
                let declared = org.interest_missions.contains(&m.id);
                let raw = cos + if declared { BONUS_DECLARED_MISSION } else { 0.0 };
                let terms = surface_terms(&parts, doc);
                let name = if lang == Language::Sv && !m.name_sv.is_empty() { &m.name_sv } else { &m.name_en };
                let summary = mission_summary(lang, name, &terms, declared);
                let ev = evidence(doc, &parts, lang);
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

    fn area_recs(&self, org: &Organisation, cfg: &RankerConfig) -> Vec<Recommendation> {
        let Some(ov) = self.org_vecs.get(&org.id) else { return Vec::new() };
        let lang = org.preferred_language;
        self.catalogue
            .s3_areas
            .iter()
            .zip(self.area_vecs.iter().zip(&self.areas))
            .map(|(a, (av, doc))| {
                let (cos, parts) = ov.dot(av);
                let nace_hit =
                    org.nace.iter().filter_map(|c| c.division()).any(|d| a.nace_divisions.iter().any(|x| x == d));
                let raw = cos + if nace_hit { BONUS_NACE_AREA } else { 0.0 };
                let terms = surface_terms(&parts, doc);
                let label = if lang == Language::Sv { &a.label_sv } else { &a.label_en };
                let summary = area_summary(lang, label, &terms, nace_hit);
                let ev = evidence(doc, &parts, lang);
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

    fn partner_recs(&self, org: &Organisation, cfg: &RankerConfig) -> Vec<Recommendation> {
        let Some(ov) = self.org_vecs.get(&org.id) else { return Vec::new() };
        let lang = org.preferred_language;
        let mut candidates: Vec<(u8, &(Organisation, Doc))> = self
            .orgs
            .values()
            .filter(|(p, _)| p.id != org.id && p.consent.partner_suggestions)
            .map(|e| (self.partner_score(org, &e.0), e))
            .filter(|(score, _)| *score >= cfg.floor)
            .collect();
        candidates.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1 .0.id.cmp(&b.1 .0.id)));
        candidates.truncate(cfg.top_k_partners);
        candidates
            .into_iter()
            .map(|(_, e)| e)
            .filter_map(|(p, doc)| {
                let (cos, parts) = ov.dot(self.org_vecs.get(&p.id)?);
                let complementary = org.kind.is_academic() != p.kind.is_academic();
                let shared: Vec<MissionId> =
                    p.interest_missions.iter().copied().filter(|m| org.interest_missions.contains(m)).collect();
                let raw = cos
                    + if complementary { BONUS_COMPLEMENTARY } else { 0.0 }
                    + if shared.is_empty() { 0.0 } else { BONUS_SHARED_MISSION };
                let terms = surface_terms(&parts, doc);
                let summary = partner_summary(lang, &p.name, p.kind.as_str(), &terms, complementary);
                let target = Target::Partner(p.id.clone());
                Some(Recommendation {
                    id: recommendation_id(&org.id, &target),
                    org_id: org.id.clone(),
                    target,
                    title: p.name.clone(),
                    url: None,
                    score: cfg.calibrate(raw),
                    rank: 0,
                    deadline: None,
                    explanation: explanation(lang, summary, vec![], terms, None),
                })
            })
            .collect()
    }

    /// Why an active recommendation is no longer made, in its language.
    pub fn withdraw_reason(&self, rec: &Recommendation, today: NaiveDate) -> String {
        let sv = rec.explanation.language == Language::Sv;
        let gone_org = !self.orgs.contains_key(&rec.org_id);
        let reason = match &rec.target {
            _ if gone_org => ("organisationen är borttagen", "the organisation was removed"),
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

fn document_frequencies(docs: &[&Doc]) -> HashMap<String, f32> {
    let n = docs.len() as f32;
    let mut df: HashMap<&str, u32> = HashMap::new();
    for d in docs {
        let title_only = d.title_tf.keys().filter(|t| !d.tf.contains_key(*t));
        for t in d.tf.keys().chain(title_only) {
            *df.entry(t.as_str()).or_default() += 1;
        }
    }
    df.into_iter().map(|(t, f)| (t.to_owned(), idf(n, f as f32))).collect()
}

fn idf(n: f32, df: f32) -> f32 {
    (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
}

/// Ranks within one kind: best first (ties by target), floor, top-k, ranks from 1.
fn rank(mut recs: Vec<Recommendation>, k: usize, floor: u8) -> Vec<Recommendation> {
    recs.retain(|r| r.score >= floor);
    recs.sort_by(|a, b| b.score.cmp(&a.score).then_with(|| a.target.cmp(&b.target)));
    recs.truncate(k);
    for (i, r) in recs.iter_mut().enumerate() {
        r.rank = u16::try_from(i + 1).unwrap_or(u16::MAX);
    }
    recs
}

fn call_doc(a: &Analyzer, c: &Call, w: &RankerConfig) -> Doc {
    // Title weights are applied per vector space (`Index::vector`).
    let lang = detect_language(&format!("{} {}", c.title, c.description));
    let mut d = Doc { lang, ..Doc::default() };
    d.quote_from(a, &c.description, lang);
    a.add_weighted(&c.title, lang, 1.0, &mut d.title_tf, &mut d.surfaces);
    a.add_weighted(&c.keywords.join(" , "), lang, w.keyword_weight, &mut d.tf, &mut d.surfaces);
    a.add_weighted(&c.description, lang, w.body_weight, &mut d.tf, &mut d.surfaces);
    d
}

fn org_doc(a: &Analyzer, o: &Organisation, cat: &Catalogue) -> Doc {
    let lang = o.description_language;
    let mut d = Doc::default();
    a.add_weighted(&o.description, lang, W_BODY, &mut d.tf, &mut d.surfaces);
    a.add_weighted(&o.keywords.join(" , "), lang, W_KEYWORDS, &mut d.tf, &mut d.surfaces);
    a.add_weighted(&o.interest_themes.join(" , "), lang, W_KEYWORDS, &mut d.tf, &mut d.surfaces);
    for code in &o.nace {
        let e = code.entry();
        a.add_weighted(e.title_en, Language::En, W_NACE, &mut d.tf, &mut d.surfaces);
        a.add_weighted(e.title_sv, Language::Sv, W_NACE, &mut d.tf, &mut d.surfaces);
    }
    for p in &o.participations {
        a.add_weighted(&p.project_title, detect_language(&p.project_title), W_HISTORY, &mut d.tf, &mut d.surfaces);
    }
    for m in cat.missions.iter().filter(|m| o.interest_missions.contains(&m.id)) {
        a.add_weighted(&m.name_en, Language::En, W_BODY, &mut d.tf, &mut d.surfaces);
        a.add_weighted(&m.name_sv, Language::Sv, W_BODY, &mut d.tf, &mut d.surfaces);
    }
    d
}

fn mission_doc(a: &Analyzer, m: &crate::Mission) -> Doc {
    let mut d = Doc::default();
    for (lang, name, desc, kw) in [
        (Language::En, &m.name_en, &m.description_en, &m.keywords_en),
        (Language::Sv, &m.name_sv, &m.description_sv, &m.keywords_sv),
    ] {
        a.add_weighted(name, lang, W_TITLE, &mut d.tf, &mut d.surfaces);
        a.add_weighted(desc, lang, W_BODY, &mut d.tf, &mut d.surfaces);
        a.add_weighted(&kw.join(" , "), lang, W_KEYWORDS, &mut d.tf, &mut d.surfaces);
        d.quote_from(a, desc, lang);
    }
    d
}

fn area_doc(a: &Analyzer, s: &crate::S3Area) -> Doc {
    let mut d = Doc::default();
    for (lang, label, desc, kw) in [
        (Language::En, &s.label_en, &s.description_en, &s.keywords_en),
        (Language::Sv, &s.label_sv, &s.description_sv, &s.keywords_sv),
    ] {
        a.add_weighted(label, lang, W_TITLE, &mut d.tf, &mut d.surfaces);
        a.add_weighted(desc, lang, W_BODY, &mut d.tf, &mut d.surfaces);
        a.add_weighted(&kw.join(" , "), lang, W_KEYWORDS, &mut d.tf, &mut d.surfaces);
        d.quote_from(a, desc, lang);
    }
    d
}

/// The target's own words for the top contributing stems.
fn surface_terms(parts: &[(String, f32)], target: &Doc) -> Vec<String> {
    parts.iter().take(EXPLAINED_TERMS).map(|(stem, _)| surface(target, stem)).collect()
}

/// A stem as `d` writes it (the stem itself where `d` never does).
fn surface(d: &Doc, stem: &str) -> String {
    d.surfaces.get(stem).cloned().unwrap_or_else(|| stem.to_owned())
}

/// The sentence of `text` that holds the most weight of the contributing stems, cut to ~200 chars.
/// The sentence of the target (in `lang`) holding the most weight of the contributing stems.
fn evidence(doc: &Doc, parts: &[(String, f32)], lang: Language) -> Option<String> {
    let weights: HashMap<&str, f32> = parts.iter().take(20).map(|(s, w)| (s.as_str(), *w)).collect();
    let best = doc
        .sentences
        .iter()
        .filter(|(l, _, _)| *l == lang)
        .map(|(_, s, stems)| (stems.iter().filter_map(|t| weights.get(t.as_str())).sum::<f32>(), s))
        .filter(|(score, _)| *score > 0.0)
        .max_by(|a, b| a.0.total_cmp(&b.0))?
        .1;
    Some(truncate(best, 200))
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let cut: String = s.chars().take(max).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head).to_owned();
    format!("{cut} …")
}

fn explanation(
    lang: Language,
    summary: String,
    eligibility: Vec<crate::EligibilityLine>,
    matched_terms: Vec<String>,
    evidence: Option<String>,
) -> Explanation {
    Explanation { language: lang, summary, eligibility, matched_terms, evidence, ranker_version: RANKER_VERSION.into() }
}

fn list(terms: &[String]) -> String {
    terms.iter().take(4).map(String::as_str).collect::<Vec<_>>().join(", ")
}

fn call_summary(lang: Language, title: &str, terms: &[String], deadline: Option<NaiveDate>) -> String {
    let d = deadline.map(|d| d.to_string());
    match lang {
        Language::Sv => format!(
            "«{title}» matchar er verksamhet ({}). Sista ansökningsdag: {}.",
            list(terms),
            d.as_deref().unwrap_or("okänd")
        ),
        Language::En => {
            format!("“{title}” matches your work ({}). Deadline: {}.", list(terms), d.as_deref().unwrap_or("not known"))
        }
    }
}

fn mission_summary(lang: Language, name: &str, terms: &[String], declared: bool) -> String {
    match (lang, declared) {
        (Language::Sv, true) => {
            format!("Ni har angett intresse för EU-uppdraget «{name}», och er profil stämmer ({}).", list(terms))
        }
        (Language::Sv, false) => format!("Er profil passar EU-uppdraget «{name}» ({}).", list(terms)),
        (Language::En, true) => {
            format!("You declared an interest in the EU Mission “{name}”, and your profile fits ({}).", list(terms))
        }
        (Language::En, false) => format!("Your profile fits the EU Mission “{name}” ({}).", list(terms)),
    }
}

fn area_summary(lang: Language, label: &str, terms: &[String], nace: bool) -> String {
    let t = list(terms);
    match (lang, nace) {
        (Language::Sv, true) => format!("Er bransch (SNI/NACE) och profil hör till Blekinges område «{label}» ({t})."),
        (Language::Sv, false) => format!("Er profil passar Blekinges smarta specialiseringsområde «{label}» ({t})."),
        (Language::En, true) => format!("Your industry (NACE) and profile belong to Blekinge's area “{label}” ({t})."),
        (Language::En, false) => format!("Your profile fits Blekinge's smart-specialisation area “{label}” ({t})."),
    }
}

fn partner_summary(lang: Language, name: &str, kind: &str, terms: &[String], complementary: bool) -> String {
    let t = list(terms);
    match (lang, complementary) {
        (Language::Sv, true) => format!("{name} ({kind}) kan komplettera er i ett konsortium; gemensamt fokus: {t}."),
        (Language::Sv, false) => format!("{name} ({kind}) kan bli partner i ett konsortium; gemensamt fokus: {t}."),
        (Language::En, true) => format!("{name} ({kind}) could complement you in a consortium; shared focus: {t}."),
        (Language::En, false) => format!("{name} ({kind}) could join you in a consortium; shared focus: {t}."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Budget, CallStatus, Consent, Country, Mission, OrgKind, Programme, Tri};

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    fn catalogue() -> Catalogue {
        let m = Mission {
            id: MissionId::Ocean,
            name_en: "Restore our Ocean and Waters".into(),
            name_sv: "Återställ våra hav och vatten".into(),
            description_en: "Restore ocean, sea and water ecosystems and marine biodiversity.".into(),
            description_sv: "Återställa hav, sjöar och vatten.".into(),
            keywords_en: vec!["ocean".into(), "marine".into()],
            keywords_sv: vec!["hav".into()],
            url: "https://example.org/ocean".into(),
        };
        Catalogue { missions: vec![m], s3_areas: vec![] }
    }

    fn org(id: &str, kind: OrgKind, text: &str, lang: Language) -> Organisation {
        Organisation {
            id: OrgId::parse(id).expect("id"),
            version: 1,
            name: format!("Org {id}"),
            org_number: None,
            kind,
            size: Default::default(),
            country: Some(Country::parse("SE").expect("SE")),
            nuts: None,
            municipality: None,
            nace: vec![],
            description: text.into(),
            description_language: lang,
            keywords: vec![],
            interest_missions: vec![],
            interest_themes: vec![],
            participations: vec![],
            preferred_language: lang,
            consent: Consent { contact: true, partner_suggestions: true },
        }
    }

    fn call(id: &str, text: &str, deadline: &str) -> Call {
        Call {
            id: CallId::parse(id).expect("id"),
            version: 1,
            programme: Programme::HorizonEurope,
            title: text.into(),
            description: format!("{text}. Projects should develop this in pilots across Europe."),
            keywords: vec![],
            action_type: None,
            opening: None,
            deadlines: vec![date(deadline)],
            budget: Budget::default(),
            eligible_kinds: None,
            eligible_countries: None,
            min_consortium: None,
            missions: vec![],
            trl: None,
            url: None,
            status: CallStatus::Open,
        }
    }

    fn fixture() -> Index {
        fixture_with(RankerConfig::default())
    }

    fn fixture_with(cfg: RankerConfig) -> Index {
        let calls = vec![
            call("SENSORS", "Marine sensors for ocean monitoring", "2026-10-01"),
            call("EXPIRED", "Marine sensors for ocean monitoring and buoys", "2026-01-01"),
            call("CANCER", "Cancer screening in hospitals", "2026-10-01"),
            call("FILLER-1", "Wind turbines and offshore energy", "2026-10-01"),
            call("FILLER-2", "Food systems and agriculture", "2026-10-01"),
        ];
        let mut loner = org("loner", OrgKind::Sme, "Marine sensors and ocean buoys", Language::En);
        loner.consent.partner_suggestions = false;
        let orgs = vec![
            org("a", OrgKind::Sme, "We build marine sensors for ocean monitoring", Language::En),
            org("b", OrgKind::University, "Research on ocean monitoring with marine sensors", Language::Sv),
            loner,
        ];
        Index::with(catalogue(), cfg, calls, orgs)
    }

    fn targets(recs: &[Recommendation], kind: &str) -> Vec<String> {
        recs.iter().filter(|r| r.target.kind() == kind).map(|r| r.target.id().to_owned()).collect()
    }

    /// Sixty organisations: twenty fish farms that say "aquaculture", forty battery recyclers,
    /// and one that says "fish" but never "aquaculture".
    fn fish_farm_index(cfg: RankerConfig) -> Index {
        let calls = vec![
            call("AQUA", "Biosecurity in aquaculture", "2026-10-01"),
            call("FISH", "Fish stocks in the Baltic", "2026-10-01"),
            call("BATTERY", "Battery recycling", "2026-10-01"),
        ];
        let mut orgs: Vec<Organisation> = (0..20)
            .map(|i| org(&format!("farm-{i}"), OrgKind::Sme, "Aquaculture farms raising healthy fish", Language::En))
            .chain((0..40).map(|i| org(&format!("rec-{i}"), OrgKind::Sme, "Battery recycling plants", Language::En)))
            .collect();
        orgs.push(org("vet", OrgKind::Sme, "We vaccinate fish against disease", Language::En));
        Index::with(catalogue(), cfg, calls, orgs)
    }

    #[test]
    fn learned_associations_bridge_vocabulary_and_are_explained() {
        let cfg = RankerConfig { floor: 1, ..RankerConfig::default() };
        let vet = OrgId::parse("vet").expect("id");
        let aqua = |ix: &Index| ix.call_scores(&vet).into_iter().find(|s| s.0.as_str() == "AQUA").expect("scored").1;
        let off = fish_farm_index(RankerConfig { association_weight: 0.0, ..cfg.clone() });
        assert_eq!(aqua(&off), 0.0, "no word in common");
        let ix = fish_farm_index(cfg);
        assert!(aqua(&ix) > 0.0, "fish farms say fish with aquaculture");
        let recs = ix.recommend(&vet, date("2026-06-01"));
        let rec = recs.iter().find(|r| r.target.id() == "AQUA").expect("recommended");
        assert!(rec.explanation.matched_terms.contains(&"fish (≈ aquaculture)".to_owned()), "{rec:?}");
        assert!(aqua(&ix) < ix.call_scores(&vet).into_iter().find(|s| s.0.as_str() == "FISH").expect("scored").1);
    }

    #[test]
    fn associations_are_learned_again_as_organisations_arrive() {
        let built = fish_farm_index(RankerConfig::default());
        let mut ix = Index::with(
            catalogue(),
            RankerConfig::default(),
            built.calls.values().map(|c| c.0.clone()).collect(),
            vec![],
        );
        assert!(ix.associations.is_empty());
        for o in built.orgs() {
            ix.upsert_org(o.clone());
        }
        assert!(!ix.associations.related("aquacultur").is_empty(), "relearned on the way");
        assert!(ix.changes_since_learn > 0, "but not on every event");
    }

    #[test]
    fn a_partner_enters_only_lists_it_would_rank_in() {
        let ix = fixture_with(RankerConfig { top_k_partners: 1, ..RankerConfig::default() });
        let (a, b) = (OrgId::parse("a").expect("id"), OrgId::parse("b").expect("id"));
        let rec = ix.recommend(&a, date("2026-06-01")).into_iter().find(|r| r.target.kind() == "partner").expect("b");
        assert_eq!(rec.target, Target::Partner(b.clone()));
        let held = |id: &str, score: u8| {
            let target = Target::Partner(OrgId::parse(id).expect("id"));
            vec![Published { rec: Recommendation { target, score, ..rec.clone() }, revision: 1 }]
        };
        assert!(ix.partner_enters(&a, &b, &[]), "an empty list");
        assert!(ix.partner_enters(&a, &b, &held("c", rec.score - 1)), "beats the last one");
        assert!(!ix.partner_enters(&a, &b, &held("c", rec.score + 1)), "does not");
        assert!(ix.partner_enters(&a, &b, &held("c", rec.score)), "a tie goes to the smaller id");
        assert!(!ix.partner_enters(&a, &b, &held("aa", rec.score)));
        let loner = OrgId::parse("loner").expect("id");
        assert!(!ix.orgs_matching_partner(&loner).contains(&a), "no partner consent");
    }

    #[test]
    fn recommends_relevant_open_calls_only() {
        let ix = fixture();
        let recs = ix.recommend(&OrgId::parse("a").expect("id"), date("2026-08-17"));
        let calls = targets(&recs, "call");
        assert_eq!(calls, vec!["SENSORS"], "relevant and open; the expired twin and the off-topic ones are out");
        let r = recs.iter().find(|r| r.target.id() == "SENSORS").expect("sensors");
        assert!(r.explanation.matched_terms.iter().any(|t| t == "sensors"), "{:?}", r.explanation.matched_terms);
        assert!(r.explanation.evidence.as_deref().is_some_and(|e| e.contains("Marine sensors")));
        let kind = r
            .explanation
            .eligibility
            .iter()
            .find(|l| l.criterion == crate::Criterion::OrganisationKind)
            .expect("kind line");
        assert_eq!(kind.status, Tri::Unknown, "unknown eligibility is shown, not dropped or met");
        assert_eq!(r.deadline, Some(date("2026-10-01")));
        assert_eq!(r.rank, 1);
    }

    #[test]
    fn passed_deadlines_and_missed_eligibility_exclude() {
        let mut ix = fixture();
        let today = date("2026-10-02");
        let a = OrgId::parse("a").expect("id");
        assert!(targets(&ix.recommend(&a, today), "call").is_empty(), "every deadline passed");
        let mut c = call("UNI-ONLY", "Marine sensors for ocean monitoring", "2027-01-01");
        c.eligible_kinds = Some(vec![OrgKind::University]);
        ix.upsert_call(c);
        let recs = ix.recommend(&a, today);
        assert!(!targets(&recs, "call").contains(&"UNI-ONLY".to_owned()), "an SME may not apply");
        let b = ix.recommend(&OrgId::parse("b").expect("id"), today);
        assert!(targets(&b, "call").contains(&"UNI-ONLY".to_owned()), "a university may");
    }

    #[test]
    fn partners_are_consenting_others_and_explanations_follow_the_language() {
        let ix = fixture();
        let b = ix.recommend(&OrgId::parse("b").expect("id"), date("2026-08-17"));
        let partners = targets(&b, "partner");
        assert_eq!(partners, vec!["a"], "never itself, never one that did not consent");
        assert!(b.iter().all(|r| r.explanation.language == Language::Sv));
        assert!(b
            .iter()
            .find(|r| r.target.kind() == "partner")
            .is_some_and(|r| r.explanation.summary.contains("konsortium")));
    }

    #[test]
    fn no_contact_consent_means_no_recommendations() {
        let mut ix = fixture();
        let mut a = ix.org(&OrgId::parse("a").expect("id")).cloned().expect("a");
        a.consent.contact = false;
        a.version = 2;
        ix.upsert_org(a);
        assert!(ix.recommend(&OrgId::parse("a").expect("id"), date("2026-08-17")).is_empty());
    }

    #[test]
    fn floor_top_k_and_cap_bound_the_output() {
        let a = OrgId::parse("a").expect("id");
        let today = date("2026-08-17");
        let all = fixture_with(RankerConfig { floor: 0, ..RankerConfig::default() }).recommend(&a, today);
        let cut = all.iter().map(|r| r.score).max().expect("some");
        let kept = fixture_with(RankerConfig { floor: cut, ..RankerConfig::default() }).recommend(&a, today);
        assert!(kept.len() < all.len() && kept.iter().all(|r| r.score >= cut), "no padding below the floor");
        let tiny = fixture_with(RankerConfig { max_per_org: 1, floor: 0, ..RankerConfig::default() });
        assert_eq!(tiny.recommend(&a, today).len(), 1);
        let k1 = fixture_with(RankerConfig { top_k_calls: 1, floor: 0, ..RankerConfig::default() });
        assert_eq!(targets(&k1.recommend(&a, today), "call").len(), 1);
    }

    #[test]
    fn older_versions_do_not_replace_newer_ones() {
        let mut ix = fixture();
        let mut c = call("SENSORS", "Something else entirely", "2026-10-01");
        c.version = 0;
        assert!(!ix.upsert_call(c));
        assert_eq!(
            ix.call(&CallId::parse("SENSORS").expect("id")).map(|c| c.title.as_str()),
            Some("Marine sensors for ocean monitoring")
        );
    }

    #[test]
    fn calibration_is_monotonic_and_bounded() {
        let cfg = RankerConfig::default();
        let scores: Vec<u8> = [0.0, 0.01, 0.05, 0.1, 0.3, 1.0, 10.0].iter().map(|r| cfg.calibrate(*r)).collect();
        assert!(scores.windows(2).all(|w| w[0] <= w[1]), "{scores:?}");
        assert_eq!((scores[0], *scores.last().expect("last")), (0, 100));
    }
}
