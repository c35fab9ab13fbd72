//! Ranking metrics as defined in `FORMAT.md`: Recall@k, MRR, nDCG@k, AP, and top-1
//! accuracy over z-scored mission scores. A ranking is target ids, best first; targets not
//! in it are unranked.

use std::collections::HashMap;

/// Grades of the relevant targets of one query (grade ≥ 1).
pub type Judged = HashMap<String, u8>;

pub fn recall_at(ranking: &[String], rel: &Judged, k: usize) -> f64 {
    if rel.is_empty() {
        return 0.0;
    }
    let hits = ranking.iter().take(k).filter(|t| rel.contains_key(*t)).count();
    hits as f64 / rel.len() as f64
}

pub fn mrr(ranking: &[String], rel: &Judged) -> f64 {
    ranking.iter().position(|t| rel.contains_key(t)).map_or(0.0, |i| 1.0 / (i as f64 + 1.0))
}

fn gain(grade: u8) -> f64 {
    f64::from((1u32 << grade) - 1)
}

pub fn ndcg_at(ranking: &[String], rel: &Judged, k: usize) -> f64 {
    let dcg: f64 = ranking
        .iter()
        .take(k)
        .enumerate()
        .map(|(i, t)| rel.get(t).map_or(0.0, |g| gain(*g) / (i as f64 + 2.0).log2()))
        .sum();
    let mut ideal: Vec<u8> = rel.values().copied().collect();
    ideal.sort_unstable_by(|a, b| b.cmp(a));
    let idcg: f64 = ideal.iter().take(k).enumerate().map(|(i, g)| gain(*g) / (i as f64 + 2.0).log2()).sum();
    if idcg > 0.0 {
        dcg / idcg
    } else {
        0.0
    }
}

/// Average precision: mean of precision@r over the ranks r of relevant targets (all of rel).
pub fn average_precision(ranking: &[String], rel: &Judged) -> f64 {
    if rel.is_empty() {
        return 0.0;
    }
    let mut hits = 0.0;
    let mut sum = 0.0;
    for (i, t) in ranking.iter().enumerate() {
        if rel.contains_key(t) {
            hits += 1.0;
            sum += hits / (i as f64 + 1.0);
        }
    }
    sum / rel.len() as f64
}

/// Z-scores each column (one mission's scores over all calls).
pub fn zscore(values: &[f64]) -> Vec<f64> {
    let n = values.len().max(1) as f64;
    let mean = values.iter().sum::<f64>() / n;
    let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
    values.iter().map(|v| if sd > 0.0 { (v - mean) / sd } else { 0.0 }).collect()
}

/// Sorts `(id, score)` best first; ties keep the candidates' file order (`order`).
pub fn rank_ids(mut scored: Vec<(usize, String, f64)>) -> Vec<(String, f64)> {
    scored.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)));
    scored.into_iter().map(|(_, id, s)| (id, s)).collect()
}

/// Mean of the figures (0 for none).
pub fn mean(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        0.0
    } else {
        xs.iter().sum::<f64>() / xs.len() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|s| (*s).to_owned()).collect()
    }
    fn rel(pairs: &[(&str, u8)]) -> Judged {
        pairs.iter().map(|(k, g)| ((*k).to_owned(), *g)).collect()
    }

    #[test]
    fn recall_and_mrr_by_hand() {
        let ranking = r(&["a", "b", "c", "d"]);
        assert_eq!(recall_at(&ranking, &rel(&[("b", 3), ("z", 3)]), 10), 0.5);
        assert_eq!(recall_at(&ranking, &rel(&[("d", 3)]), 3), 0.0);
        assert_eq!(mrr(&ranking, &rel(&[("c", 3), ("d", 1)])), 1.0 / 3.0);
        assert_eq!(mrr(&ranking, &rel(&[("z", 3)])), 0.0);
    }

    #[test]
    fn ndcg_by_hand() {
        // One relevant target (grade 3) at rank 2: DCG = 7/log2(3), IDCG = 7/log2(2) = 7.
        let got = ndcg_at(&r(&["a", "b"]), &rel(&[("b", 3)]), 10);
        assert!((got - 1.0 / 3f64.log2()).abs() < 1e-12, "{got}");
        // Graded: ranking [g1, g3] vs ideal [g3, g1].
        let got = ndcg_at(&r(&["x", "y"]), &rel(&[("x", 1), ("y", 3)]), 10);
        let dcg = 1.0 + 7.0 / 3f64.log2();
        let idcg = 7.0 + 1.0 / 3f64.log2();
        assert!((got - dcg / idcg).abs() < 1e-12, "{got}");
        assert_eq!(ndcg_at(&r(&["a", "b"]), &rel(&[("b", 3)]), 1), 0.0, "cut at k");
        assert_eq!(ndcg_at(&r(&["b"]), &rel(&[("b", 2)]), 10), 1.0);
    }

    #[test]
    fn average_precision_by_hand() {
        // Relevant at ranks 1 and 3, a third never ranked: (1/1 + 2/3) / 3.
        let got = average_precision(&r(&["a", "x", "b"]), &rel(&[("a", 3), ("b", 3), ("c", 3)]));
        assert!((got - (1.0 + 2.0 / 3.0) / 3.0).abs() < 1e-12);
    }

    #[test]
    fn ties_keep_file_order_and_zscores_center() {
        let ranked = rank_ids(vec![(2, "c".into(), 1.0), (0, "a".into(), 1.0), (1, "b".into(), 2.0)]);
        assert_eq!(ranked.iter().map(|x| x.0.as_str()).collect::<Vec<_>>(), vec!["b", "a", "c"]);
        let z = zscore(&[1.0, 2.0, 3.0]);
        assert!((z[0] + z[2]).abs() < 1e-12 && z[1].abs() < 1e-12);
    }
}
