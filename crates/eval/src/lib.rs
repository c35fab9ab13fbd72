//! Match quality you can measure: reads a benchmark set, ranks with **the same domain
//! code the services run** (`brygga_domain::Index`), scores the rankings against the gold
//! files, and (with the `bm25` feature) runs a tantivy BM25 baseline on the same queries.
//!
//! Main items: [`EvalSet`], [`evaluate`], [`Outcome`], [`metrics`]. No NATS, no database.
//! Gold files are read only to score, never to rank.

#[cfg(feature = "bm25")]
pub mod bm25;
pub mod cv;
pub mod metrics;
mod set;

pub use cv::{cross_validate, CvReport, Fold};
pub use set::{EvalSet, Gold, SetError};

use brygga_domain::{Call, Catalogue, Index, Mission, RankerConfig};
use chrono::NaiveDate;
use metrics::{average_precision, mean, mrr, ndcg_at, rank_ids, recall_at, zscore, Judged};
use serde::Serialize;
use std::collections::HashMap;
use std::time::Instant;

/// How many targets a run file keeps per query.
pub const RUN_DEPTH: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Task {
    #[serde(rename = "org-call")]
    OrgCall,
    #[serde(rename = "org-mission")]
    OrgMission,
    #[serde(rename = "call-mission")]
    CallMission,
}

impl Task {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OrgCall => "org-call",
            Self::OrgMission => "org-mission",
            Self::CallMission => "call-mission",
        }
    }
}

/// One query's ranking, best first (a run-file line).
#[derive(Debug, Clone, Serialize)]
pub struct Ranking {
    pub task: Task,
    pub query_id: String,
    pub ranking: Vec<String>,
    pub scores: Vec<f64>,
}

/// The figures of one system on one task.
#[derive(Debug, Clone, Serialize)]
pub struct Scores {
    pub system: String,
    pub task: Task,
    pub queries: usize,
    pub recall_at_10: f64,
    pub mrr: f64,
    pub ndcg_at_10: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub map: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top1_accuracy: Option<f64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub per_mission_ndcg_at_10: Vec<(String, f64)>,
    pub ms_per_query: f64,
}

/// Settings of one evaluation.
#[derive(Debug, Clone)]
pub struct Options {
    /// Apply deadlines as of this date (none: the set defines the candidates).
    pub as_of: Option<NaiveDate>,
    pub ranker: RankerConfig,
    /// The product's own mission catalogue: its bilingual texts and keywords enrich the set's missions.
    pub catalogue: Catalogue,
    /// Run the BM25 baseline too (needs the `bm25` feature).
    pub baseline: bool,
}

impl Default for Options {
    /// The service's ranker and the shipped catalogue; no deadline filter; no baseline.
    fn default() -> Self {
        Self { as_of: None, ranker: RankerConfig::default(), catalogue: Catalogue::shipped().0, baseline: false }
    }
}

/// Everything an evaluation produced.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub set: String,
    /// Brygga's rankings, for the run file (top 100, no floor).
    #[serde(skip)]
    pub runs: Vec<Ranking>,
    pub scores: Vec<Scores>,
    /// Organisation queries whose best call would fall under the relevance floor.
    pub org_call_empty_under_floor: Option<usize>,
    pub floor: u8,
}

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("the BM25 baseline is not compiled in: build with `--features bm25`, or pass --no-baseline")]
    NoBaseline,
    #[error("BM25 baseline: {0}")]
    Baseline(String),
}

struct Prepared {
    index: Index,
    calls: Vec<Call>,
    missions: Option<Vec<Mission>>,
    build_ms: f64,
}

/// The candidates (deadlines applied only with `as_of`) and the index over them.
fn prepare(set: &EvalSet, opts: &Options) -> Prepared {
    let calls: Vec<Call> = set
        .calls
        .iter()
        .filter(|c| opts.as_of.is_none_or(|d| c.deadlines.is_empty() || c.final_deadline().is_some_and(|x| x >= d)))
        .cloned()
        .collect();
    let missions = set.missions.as_ref().map(|ms| enrich(ms, &opts.catalogue));
    let catalogue = Catalogue { missions: missions.clone().unwrap_or_default(), s3_areas: vec![] };
    let started = Instant::now();
    let index = Index::with(catalogue, opts.ranker.clone(), calls.clone(), set.orgs.clone());
    Prepared { index, calls, missions, build_ms: started.elapsed().as_secs_f64() * 1e3 }
}

/// Every organisation's ranking of the calls, and how many have no call above the floor.
fn rank_org_calls(p: &Prepared, set: &EvalSet) -> (Vec<Ranking>, usize) {
    let order: HashMap<&str, usize> = p.calls.iter().enumerate().map(|(i, c)| (c.id.as_str(), i)).collect();
    let cfg = p.index.ranker();
    let mut empty = 0;
    let rankings = set
        .orgs
        .iter()
        .map(|o| {
            let scored = p.index.call_scores(&o.id);
            if scored.iter().map(|s| s.2).max().unwrap_or(0) < cfg.floor {
                empty += 1;
            }
            let ranked = rank_ids(
                scored
                    .into_iter()
                    .map(|(id, raw, _)| (order[id.as_str()], id.to_string(), f64::from(cfg.calibrate_fine(raw))))
                    .collect(),
            );
            ranking(Task::OrgCall, o.id.as_str(), ranked)
        })
        .collect();
    (rankings, empty)
}

/// Call × mission relevance (`[call][mission]`), with the call and mission ids.
fn matrix(p: &Prepared) -> (Vec<String>, Vec<String>, Vec<Vec<f64>>) {
    let ms = p.missions.as_deref().unwrap_or_default();
    let m = p
        .calls
        .iter()
        .map(|c| {
            let s: HashMap<_, _> = p.index.call_mission_scores(&c.id).into_iter().collect();
            ms.iter().map(|m| f64::from(s.get(&m.id).copied().unwrap_or(0.0))).collect()
        })
        .collect();
    (p.calls.iter().map(|c| c.id.to_string()).collect(), ms.iter().map(|m| m.id.as_str().to_owned()).collect(), m)
}

/// Brygga's organisation → call rankings under `opts` (for cross-validation).
pub fn org_call_rankings(set: &EvalSet, opts: &Options) -> Vec<Ranking> {
    rank_org_calls(&prepare(set, opts), set).0
}

/// Brygga's call × mission relevance under `opts` (for cross-validation).
pub fn mission_matrix(set: &EvalSet, opts: &Options) -> (Vec<String>, Vec<String>, Vec<Vec<f64>>) {
    matrix(&prepare(set, opts))
}

/// Ranks and scores every task the set supports.
pub fn evaluate(set: &EvalSet, opts: &Options) -> Result<Outcome, EvalError> {
    let p = prepare(set, opts);
    let mut runs = Vec::new();
    let mut scores = Vec::new();
    let mut floor_empty = None;
    if !set.orgs.is_empty() {
        let t = Instant::now();
        let (rankings, empty) = rank_org_calls(&p, set);
        let ms = (t.elapsed().as_secs_f64() * 1e3 + p.build_ms) / set.orgs.len() as f64;
        floor_empty = Some(empty);
        if let Some(g) = &set.gold {
            scores.push(score_queries("brygga", Task::OrgCall, &rankings, g, ms));
        }
        runs.extend(rankings);
        if p.missions.is_some() {
            let t = Instant::now();
            let rankings: Vec<Ranking> = set
                .orgs
                .iter()
                .map(|o| {
                    let s = p.index.mission_scores(&o.id);
                    let ranked = rank_ids(
                        s.into_iter()
                            .enumerate()
                            .map(|(i, (m, raw))| (i, m.as_str().to_owned(), f64::from(raw)))
                            .collect(),
                    );
                    ranking(Task::OrgMission, o.id.as_str(), ranked)
                })
                .collect();
            let ms = t.elapsed().as_secs_f64() * 1e3 / set.orgs.len() as f64;
            if let Some(g) = &set.gold_missions {
                scores.push(score_queries("brygga", Task::OrgMission, &rankings, g, ms));
            }
            runs.extend(rankings);
        }
    }
    if p.missions.is_some() {
        let t = Instant::now();
        let (call_ids, mission_ids, m) = matrix(&p);
        let per_query_ms = t.elapsed().as_secs_f64() * 1e3 / mission_ids.len().max(1) as f64;
        let gold = set.orgs.is_empty().then_some(set.gold.as_ref()).flatten();
        let (rankings, s) = call_mission("brygga", &call_ids, &mission_ids, &m, gold, per_query_ms);
        runs.extend(rankings);
        scores.extend(s);
    }
    if opts.baseline {
        // The baseline reads the set as it is: no catalogue enrichment.
        scores.extend(baseline(set, &p.calls, set.missions.as_deref())?);
    }
    Ok(Outcome {
        set: set.name.clone(),
        runs,
        scores,
        org_call_empty_under_floor: floor_empty,
        floor: opts.ranker.floor,
    })
}

/// Adds the product catalogue's bilingual names, descriptions and keywords to the set's missions.
fn enrich(set_missions: &[Mission], catalogue: &Catalogue) -> Vec<Mission> {
    set_missions
        .iter()
        .map(|m| {
            let mut m = m.clone();
            if let Some(c) = catalogue.missions.iter().find(|c| c.id == m.id) {
                m.name_sv.clone_from(&c.name_sv);
                m.description_sv.clone_from(&c.description_sv);
                m.keywords_en.clone_from(&c.keywords_en);
                m.keywords_sv.clone_from(&c.keywords_sv);
                m.description_en = format!("{} {}", m.description_en, c.description_en);
            }
            m
        })
        .collect()
}

fn ranking(task: Task, query: &str, ranked: Vec<(String, f64)>) -> Ranking {
    let (ranking, scores) = ranked.into_iter().unzip();
    Ranking { task, query_id: query.to_owned(), ranking, scores }
}

/// Scores per-query rankings against gold (queries without gold rows are not scored).
fn score_queries(system: &str, task: Task, rankings: &[Ranking], gold: &Gold, ms: f64) -> Scores {
    let (mut r, mut m, mut n) = (vec![], vec![], vec![]);
    for q in rankings {
        let Some(rel) = gold.get(&q.query_id) else { continue };
        r.push(recall_at(&q.ranking, rel, 10));
        m.push(mrr(&q.ranking, rel));
        n.push(ndcg_at(&q.ranking, rel, 10));
    }
    Scores {
        system: system.into(),
        task,
        queries: n.len(),
        recall_at_10: mean(&r),
        mrr: mean(&m),
        ndcg_at_10: mean(&n),
        map: None,
        top1_accuracy: None,
        per_mission_ndcg_at_10: vec![],
        ms_per_query: ms,
    }
}

/// Call → mission: each mission ranks all calls (nDCG@10 etc. averaged over missions), and
/// each call's best mission after z-scoring every mission's scores over the calls (top-1).
/// `matrix[call][mission]`. Returns the per-call rankings for the run file and the scores.
fn call_mission(
    system: &str,
    calls: &[String],
    missions: &[String],
    matrix: &[Vec<f64>],
    gold: Option<&Gold>,
    ms: f64,
) -> (Vec<Ranking>, Option<Scores>) {
    let z_cols: Vec<Vec<f64>> =
        (0..missions.len()).map(|j| zscore(&matrix.iter().map(|row| row[j]).collect::<Vec<_>>())).collect();
    let runs = calls
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let ranked = rank_ids(missions.iter().enumerate().map(|(j, m)| (j, m.clone(), z_cols[j][i])).collect());
            ranking(Task::CallMission, c, ranked)
        })
        .collect();
    let Some(gold) = gold else { return (runs, None) };
    let mut by_mission: HashMap<&str, Judged> = HashMap::new();
    for (call, targets) in gold {
        for (m, g) in targets {
            by_mission.entry(m.as_str()).or_default().insert(call.clone(), *g);
        }
    }
    let (mut r, mut mr, mut n, mut ap, mut per) = (vec![], vec![], vec![], vec![], vec![]);
    for (j, m) in missions.iter().enumerate() {
        let Some(rel) = by_mission.get(m.as_str()) else { continue };
        let ranked: Vec<String> = rank_ids(
            calls
                .iter()
                .enumerate()
                .filter(|(i, _)| matrix[*i][j] > 0.0)
                .map(|(i, c)| (i, c.clone(), matrix[i][j]))
                .collect(),
        )
        .into_iter()
        .map(|x| x.0)
        .collect();
        r.push(recall_at(&ranked, rel, 10));
        mr.push(mrr(&ranked, rel));
        let nd = ndcg_at(&ranked, rel, 10);
        n.push(nd);
        per.push((m.clone(), nd));
        ap.push(average_precision(&ranked, rel));
    }
    let mut hits = 0;
    let mut tagged = 0;
    for (i, c) in calls.iter().enumerate() {
        let Some(rel) = gold.get(c) else { continue };
        tagged += 1;
        let best = (0..missions.len()).max_by(|a, b| z_cols[*a][i].total_cmp(&z_cols[*b][i]).then(b.cmp(a)));
        if best.is_some_and(|j| rel.contains_key(&missions[j])) {
            hits += 1;
        }
    }
    let scores = Scores {
        system: system.into(),
        task: Task::CallMission,
        queries: n.len(),
        recall_at_10: mean(&r),
        mrr: mean(&mr),
        ndcg_at_10: mean(&n),
        map: Some(mean(&ap)),
        top1_accuracy: Some(if tagged > 0 { f64::from(hits) / f64::from(tagged) } else { 0.0 }),
        per_mission_ndcg_at_10: per,
        ms_per_query: ms,
    };
    (runs, Some(scores))
}

#[cfg(feature = "bm25")]
/// The text BM25 sees of a call (title, keywords, description).
pub fn call_text(c: &Call) -> String {
    format!("{} {} {}", c.title, c.keywords.join(" "), c.description)
}

#[cfg(feature = "bm25")]
/// The text BM25 sees of an organisation (description, keywords, past projects).
pub fn org_text(o: &brygga_domain::Organisation) -> String {
    let history: Vec<&str> = o.participations.iter().map(|p| p.project_title.as_str()).collect();
    format!("{} {} {}", o.description, o.keywords.join(" "), history.join(" "))
}

#[cfg(not(feature = "bm25"))]
fn baseline(_: &EvalSet, _: &[Call], _: Option<&[Mission]>) -> Result<Vec<Scores>, EvalError> {
    Err(EvalError::NoBaseline)
}

#[cfg(feature = "bm25")]
fn baseline(set: &EvalSet, calls: &[Call], missions: Option<&[Mission]>) -> Result<Vec<Scores>, EvalError> {
    let e = |x: tantivy::TantivyError| EvalError::Baseline(x.to_string());
    let mut out = Vec::new();
    let call_ids: Vec<String> = calls.iter().map(|c| c.id.to_string()).collect();
    let call_index = bm25::Bm25::new(&calls.iter().map(call_text).collect::<Vec<_>>()).map_err(e)?;
    let rank = |index: &bm25::Bm25, ids: &[String], query: &str| -> Result<Vec<(String, f64)>, EvalError> {
        let hits = index.search(query).map_err(e)?;
        Ok(rank_ids(hits.into_iter().map(|(i, s)| (i, ids[i].clone(), f64::from(s))).collect()))
    };
    if !set.orgs.is_empty() {
        if let Some(g) = &set.gold {
            let t = Instant::now();
            let rankings = set
                .orgs
                .iter()
                .map(|o| Ok(ranking(Task::OrgCall, o.id.as_str(), rank(&call_index, &call_ids, &org_text(o))?)))
                .collect::<Result<Vec<_>, EvalError>>()?;
            out.push(score_queries(
                "bm25",
                Task::OrgCall,
                &rankings,
                g,
                t.elapsed().as_secs_f64() * 1e3 / set.orgs.len() as f64,
            ));
        }
        if let (Some(ms), Some(g)) = (missions, &set.gold_missions) {
            let ids: Vec<String> = ms.iter().map(|m| m.id.as_str().to_owned()).collect();
            let index =
                bm25::Bm25::new(&ms.iter().map(|m| format!("{} {}", m.name_en, m.description_en)).collect::<Vec<_>>())
                    .map_err(e)?;
            let t = Instant::now();
            let rankings = set
                .orgs
                .iter()
                .map(|o| Ok(ranking(Task::OrgMission, o.id.as_str(), rank(&index, &ids, &org_text(o))?)))
                .collect::<Result<Vec<_>, EvalError>>()?;
            out.push(score_queries(
                "bm25",
                Task::OrgMission,
                &rankings,
                g,
                t.elapsed().as_secs_f64() * 1e3 / set.orgs.len() as f64,
            ));
        }
    }
    if let Some(ms) = missions {
        let t = Instant::now();
        let mut matrix = vec![vec![0.0; ms.len()]; calls.len()];
        for (j, m) in ms.iter().enumerate() {
            for (i, s) in call_index.search(&format!("{} {}", m.name_en, m.description_en)).map_err(e)? {
                matrix[i][j] = f64::from(s);
            }
        }
        let ids: Vec<String> = ms.iter().map(|m| m.id.as_str().to_owned()).collect();
        let gold = set.orgs.is_empty().then_some(set.gold.as_ref()).flatten();
        let (_, s) = call_mission(
            "bm25",
            &call_ids,
            &ids,
            &matrix,
            gold,
            t.elapsed().as_secs_f64() * 1e3 / ms.len().max(1) as f64,
        );
        out.extend(s);
    }
    Ok(out)
}
