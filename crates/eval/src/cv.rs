//! K-fold cross-validation of the ranking weights: for each fold, the grid point with the
//! best mean nDCG@10 on the other folds is chosen and scored on the held-out fold. Folds
//! split the queries (organisations for org → call, calls for call → mission) by position.

use crate::metrics::{mean, ndcg_at, rank_ids, Judged};
use crate::{mission_matrix, org_call_rankings, EvalSet, Options};
use brygga_domain::RankerConfig;
use serde::Serialize;
use std::collections::HashMap;

/// One grid point: its name and the configuration it stands for.
#[derive(Debug, Clone)]
pub struct Point {
    pub name: String,
    pub ranker: RankerConfig,
}

/// The grids searched (the other weights stay as in `base`).
pub fn grid(base: &RankerConfig, task: &str) -> Vec<Point> {
    let mut out = Vec::new();
    if task == "org-call" {
        for p in [0.25, 0.5] {
            for g in [0.5, 1.0, 1.5] {
                for a in [0.0, 0.5, 1.0, 1.5] {
                    let ranker =
                        RankerConfig { phrase_weight: p, org_idf_gamma: g, association_weight: a, ..base.clone() };
                    out.push(Point {
                        name: format!("phrase_weight={p} org_idf_gamma={g} association_weight={a}"),
                        ranker,
                    });
                }
            }
        }
    } else {
        for p in [0.0, 2.0, 4.0, 8.0] {
            for t in [1.0, 2.0, 3.0, 4.0] {
                let ranker = RankerConfig { mission_phrase_weight: p, mission_title_weight: t, ..base.clone() };
                out.push(Point { name: format!("mission_phrase_weight={p} mission_title_weight={t}"), ranker });
            }
        }
    }
    out
}

/// One fold's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Fold {
    pub fold: usize,
    pub chosen: String,
    pub train_ndcg_at_10: f64,
    pub test_ndcg_at_10: f64,
    pub test_queries: usize,
}

/// Cross-validation of one task.
#[derive(Debug, Clone, Serialize)]
pub struct CvReport {
    pub task: String,
    pub folds: Vec<Fold>,
    /// Mean of the held-out folds: the estimate of quality on unseen queries.
    pub cv_ndcg_at_10: f64,
}

/// Per-query nDCG@10 of each grid point, then fold selection.
pub fn cross_validate(set: &EvalSet, opts: &Options, k: usize) -> Vec<CvReport> {
    let k = k.max(2);
    let mut reports = Vec::new();
    if let (false, Some(gold)) = (set.orgs.is_empty(), &set.gold) {
        let points = grid(&opts.ranker, "org-call");
        let per_point: Vec<Vec<Option<f64>>> = points
            .iter()
            .map(|p| {
                let o = Options { ranker: p.ranker.clone(), ..opts.clone() };
                org_call_rankings(set, &o)
                    .into_iter()
                    .map(|r| gold.get(&r.query_id).map(|rel| ndcg_at(&r.ranking, rel, 10)))
                    .collect()
            })
            .collect();
        reports.push(select("org-call", &points, k, |pi, fold, test| {
            let v: Vec<f64> = per_point[pi]
                .iter()
                .enumerate()
                .filter(|(i, _)| (i % k == fold) == test)
                .filter_map(|(_, x)| *x)
                .collect();
            (mean(&v), v.len())
        }));
    }
    if let (Some(_), true, Some(gold)) = (&set.missions, set.orgs.is_empty(), &set.gold) {
        let points = grid(&opts.ranker, "call-mission");
        let mats: Vec<_> =
            points.iter().map(|p| mission_matrix(set, &Options { ranker: p.ranker.clone(), ..opts.clone() })).collect();
        reports.push(select("call-mission", &points, k, |pi, fold, test| {
            let (calls, missions, m) = &mats[pi];
            let keep: Vec<usize> = (0..calls.len()).filter(|i| (i % k == fold) == test).collect();
            let mut by_mission: HashMap<&str, Judged> = HashMap::new();
            for &i in &keep {
                for (mission, g) in gold.get(&calls[i]).into_iter().flatten() {
                    by_mission.entry(mission.as_str()).or_default().insert(calls[i].clone(), *g);
                }
            }
            let v: Vec<f64> = missions
                .iter()
                .enumerate()
                .filter_map(|(j, mid)| {
                    let rel = by_mission.get(mid.as_str())?;
                    let ranked: Vec<String> = rank_ids(
                        keep.iter().filter(|&&i| m[i][j] > 0.0).map(|&i| (i, calls[i].clone(), m[i][j])).collect(),
                    )
                    .into_iter()
                    .map(|x| x.0)
                    .collect();
                    Some(ndcg_at(&ranked, rel, 10))
                })
                .collect();
            (mean(&v), keep.len())
        }));
    }
    reports
}

/// For each fold, the point best on training folds, and its held-out score.
fn select(task: &str, points: &[Point], k: usize, score: impl Fn(usize, usize, bool) -> (f64, usize)) -> CvReport {
    let folds: Vec<Fold> = (0..k)
        .map(|fold| {
            let (best, train) = (0..points.len())
                .map(|pi| (pi, score(pi, fold, false).0))
                .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
                .unwrap_or((0, 0.0));
            let (test, n) = score(best, fold, true);
            Fold {
                fold: fold + 1,
                chosen: points[best].name.clone(),
                train_ndcg_at_10: train,
                test_ndcg_at_10: test,
                test_queries: n,
            }
        })
        .collect();
    let cv = mean(&folds.iter().map(|f| f.test_ndcg_at_10).collect::<Vec<_>>());
    CvReport { task: task.to_owned(), folds, cv_ndcg_at_10: cv }
}
