//! Selection: the best k of many candidates without sorting or calibrating them all.

use super::RankerConfig;
use crate::recommendation::Recommendation;

/// Keeps of `v` (raw relevance, candidate) those that may be among the best `k` by
/// calibrated score and tie-break, so that the rest are never calibrated nor read: all whose
/// raw relevance reaches the bar that the k-th highest raw value's score sets. Exact: the
/// score is monotone in raw, so at least k candidates score that much, and each of the best k
/// does too ([`RankerConfig::raw_below`] is low enough that rounding cannot cross it).
pub(super) fn contenders<T>(v: &mut Vec<(f32, T)>, k: usize, cfg: &RankerConfig) {
    if k == 0 {
        v.clear();
    } else if v.len() > k {
        v.select_nth_unstable_by(k - 1, |a, b| b.0.total_cmp(&a.0));
        let bar = cfg.raw_below(cfg.calibrate(v[k - 1].0));
        v.retain(|(raw, _)| *raw >= bar);
    }
}

/// Keeps the first `k` of `v` in the total order `cmp`, sorted: what a sort and a truncation
/// give, in time linear in `v` (candidate lists run to thousands; lists to a handful).
pub(super) fn best_first<T>(v: &mut Vec<T>, k: usize, cmp: impl Fn(&T, &T) -> std::cmp::Ordering) {
    if k == 0 {
        v.clear();
        return;
    }
    if v.len() > k {
        v.select_nth_unstable_by(k - 1, &cmp);
        v.truncate(k);
    }
    v.sort_by(cmp);
}

/// Ranks within one kind: best first (ties by target), floor, top-k, ranks from 1.
pub(super) fn rank(mut recs: Vec<Recommendation>, k: usize, floor: u8) -> Vec<Recommendation> {
    recs.retain(|r| r.score >= floor);
    recs.sort_by(|a, b| b.score.cmp(&a.score).then_with(|| a.target.cmp(&b.target)));
    recs.truncate(k);
    for (i, r) in recs.iter_mut().enumerate() {
        r.rank = u16::try_from(i + 1).unwrap_or(u16::MAX);
    }
    recs
}

#[cfg(test)]
mod tests {
    use super::{best_first, contenders};
    use crate::RankerConfig;

    #[test]
    fn best_first_is_a_sort_and_a_truncation() {
        // Scores with many ties, broken by a unique key, as candidates are.
        let all: Vec<(u8, u32)> = (0..500u32).map(|i| (((i * 7919) % 13) as u8, (i * 104_729) % 1009)).collect();
        let cmp = |a: &(u8, u32), b: &(u8, u32)| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1));
        for k in [0, 1, 3, 10, 499, 500, 600] {
            let mut want = all.clone();
            want.sort_by(cmp);
            want.truncate(k);
            let mut got = all.clone();
            best_first(&mut got, k, cmp);
            assert_eq!(got, want, "k = {k}");
        }
    }

    #[test]
    fn contenders_keep_every_one_of_the_best_k_and_calibrate_few() {
        let cfg = RankerConfig::default();
        let cmp = |a: &(u8, u32), b: &(u8, u32)| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1));
        // Raw values crowded around score boundaries (ties in the calibrated score, raws a hair
        // on either side of a boundary), with a unique key each, as candidates have.
        let mut x: u64 = 42;
        let mut next = || {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (x >> 33) as u32
        };
        for round in 0..200u32 {
            let n = 1 + next() % 400;
            let all: Vec<(f32, u32)> = (0..n)
                .map(|i| {
                    let score = 20 + (next() % 30) as u8;
                    let jitter = [-1e-5, 0.0, 1e-5, 0.003][(next() % 4) as usize];
                    (cfg.raw_below(score) + 1e-4 + jitter, i * 7 + round)
                })
                .collect();
            let score_all =
                |v: &[(f32, u32)]| -> Vec<(u8, u32)> { v.iter().map(|(r, i)| (cfg.calibrate(*r), *i)).collect() };
            for k in [0, 1, 3, 5, 10, n as usize, n as usize + 1] {
                let mut want = score_all(&all);
                best_first(&mut want, k, cmp);
                let mut kept = all.clone();
                contenders(&mut kept, k, &cfg);
                if k <= 10 && n >= 200 {
                    // 30 scores among n raws: the k-th score's bucket and those above it.
                    assert!(kept.len() < n as usize / 2, "kept {} of {n} for k {k}", kept.len());
                }
                let mut got = score_all(&kept);
                best_first(&mut got, k, cmp);
                assert_eq!(got, want, "round {round}, n {n}, k {k}");
            }
        }
    }
}
