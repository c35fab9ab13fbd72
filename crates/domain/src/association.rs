//! Term associations learned from co-occurrence (global analysis, after Xu & Croft).
//!
//! A call title is a handful of words ("aquaculture", "biosecurity"); the organisations that
//! fit it describe the same work in their own words ("fish", "vaccine", "farm"). The words an
//! organisation corpus uses *together with* a title word, much more often than by chance, are
//! added to that title at a weight below its own words. The statistics come only from the texts
//! the index holds; nothing is keyed by a call or an organisation.

use rustc_hash::FxHashMap;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::hash::Hash;

/// Documents a pair must share before it counts.
const MIN_SHARED_DOCS: u32 = 3;
/// How many times more often than by chance a pair must co-occur.
const MIN_LIFT: f32 = 2.0;
/// Associated terms kept per term.
const TOP: usize = 5;

/// What a term is to the learning: a row (a term that gets associations), a column (a term
/// that may be associated), both or neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Role {
    pub row: bool,
    pub column: bool,
}

/// Learns, for each row term, the column terms that co-occur with it in `docs` (each a
/// collection of terms; repeats count once). A pair needs `MIN_SHARED_DOCS` (3) documents and
/// a lift above `MIN_LIFT` (2); the `TOP` (5) pairs by local mutual information (shared
/// documents × ln lift) are kept, strongest first, weighted by `scale` × P(column | row).
/// `order` breaks ties between equally strong terms, so that the result does not depend on
/// how terms are numbered (the index numbers them in arrival order).
///
/// Terms are any small copyable keys (the index's interned `u32` ids), numbered densely on
/// first sight. Pairs are counted row by row into one dense array over the documents that
/// hold the row (its postings), so each shared occurrence costs an array increment, not a
/// hash-map update: the cost is the (row, column) occurrences the documents hold.
pub fn learn<K, D, I>(
    docs: D,
    role: impl Fn(K) -> Role,
    scale: f32,
    order: impl Fn(&K, &K) -> Ordering,
) -> HashMap<K, Vec<(K, f32)>>
where
    K: Copy + Eq + Hash,
    D: IntoIterator<Item = I>,
    I: IntoIterator<Item = K>,
{
    // Dense local numbers, in order of first sight, for the terms that take part.
    let mut local: FxHashMap<K, u32> = FxHashMap::default();
    let mut keys: Vec<(K, Role)> = Vec::new();
    // Each document's terms (local numbers, once each), and each row's documents.
    let mut doc_terms: Vec<Vec<u32>> = Vec::new();
    let mut row_docs: Vec<Vec<u32>> = Vec::new();
    for doc in docs {
        let d = u32::try_from(doc_terms.len()).unwrap_or(u32::MAX);
        let mut terms: Vec<u32> = Vec::new();
        for t in doc {
            let i = match local.get(&t) {
                Some(i) => *i,
                None => {
                    let r = role(t);
                    if !(r.row || r.column) {
                        continue;
                    }
                    keys.push((t, r));
                    row_docs.push(Vec::new());
                    let i = u32::try_from(keys.len() - 1).unwrap_or(u32::MAX);
                    local.insert(t, i);
                    i
                }
            };
            terms.push(i);
        }
        terms.sort_unstable();
        terms.dedup();
        for &i in &terms {
            if keys[i as usize].1.row {
                row_docs[i as usize].push(d);
            }
        }
        doc_terms.push(terms);
    }
    let mut df = vec![0u32; keys.len()];
    for &i in doc_terms.iter().flatten() {
        df[i as usize] += 1;
    }
    let n = doc_terms.len() as f32;
    let mut shared = vec![0u32; keys.len()];
    let mut touched: Vec<u32> = Vec::new();
    let mut out = HashMap::new();
    for (u, docs_of_u) in row_docs.iter().enumerate().filter(|(_, ds)| !ds.is_empty()) {
        for &d in docs_of_u {
            for &t in &doc_terms[d as usize] {
                if keys[t as usize].1.column && t as usize != u {
                    if shared[t as usize] == 0 {
                        touched.push(t);
                    }
                    shared[t as usize] += 1;
                }
            }
        }
        let df_u = df[u] as f32;
        let mut kept: Vec<(K, f32, f32)> = touched
            .iter()
            .filter(|&&t| shared[t as usize] >= MIN_SHARED_DOCS)
            .filter_map(|&t| {
                let c = shared[t as usize] as f32;
                let p = c / df_u;
                let lift = p / (df[t as usize] as f32 / n);
                (lift > MIN_LIFT).then_some((keys[t as usize].0, c * lift.ln(), p))
            })
            .collect();
        for t in touched.drain(..) {
            shared[t as usize] = 0;
        }
        kept.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| order(&a.0, &b.0)));
        kept.truncate(TOP);
        if !kept.is_empty() {
            out.insert(keys[u].0, kept.into_iter().map(|(t, _, p)| (t, scale * p)).collect());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn corpus() -> Vec<Vec<&'static str>> {
        let mut docs = vec![
            vec!["aquacultur", "fish", "vaccin"],
            vec!["aquacultur", "fish", "feed"],
            vec!["aquacultur", "fish", "report"],
            vec!["aquacultur", "vaccin", "report"],
        ];
        // Unrelated documents: "report" is everywhere, "fish" nowhere else.
        for _ in 0..12 {
            docs.push(vec!["report", "batteri"]);
        }
        docs
    }

    fn learn_words<'a>(
        docs: Vec<Vec<&'a str>>,
        rows: &[&str],
        columns: &[&str],
        scale: f32,
    ) -> HashMap<&'a str, Vec<(&'a str, f32)>> {
        let (rows, columns): (HashSet<&str>, HashSet<&str>) =
            (rows.iter().copied().collect(), columns.iter().copied().collect());
        learn(docs, |t: &str| Role { row: rows.contains(t), column: columns.contains(t) }, scale, |a, b| a.cmp(b))
    }

    #[test]
    fn learns_terms_used_together_more_than_by_chance() {
        let a = learn_words(corpus(), &["aquacultur"], &["fish", "vaccin", "feed", "report", "batteri"], 1.0);
        // fish: 3 shared of 4 → P = 0.75, lift 0.75 / (3/16) = 4. vaccin: 2 shared, too few.
        // report: 2 shared, and rarer with it than without (it is everywhere). feed: 1 shared.
        assert_eq!(a["aquacultur"], vec![("fish", 0.75)]);
        assert!(!a.contains_key("fish"), "only row terms get associations");
        let half = learn_words(corpus(), &["aquacultur"], &["fish"], 0.5);
        assert!((half["aquacultur"][0].1 - 0.5 * 0.75).abs() < 1e-6, "weights scale");
    }

    #[test]
    fn ties_are_broken_by_the_order_given_not_by_numbering() {
        // "cod" and "eel" go with "fish" equally: the order decides, whatever came first.
        let mut docs: Vec<Vec<&str>> = (0..3).map(|_| vec!["fish", "eel", "cod"]).collect();
        docs.extend((0..12).map(|_| vec!["other"]));
        let forward = learn_words(docs.clone(), &["fish"], &["cod", "eel"], 1.0);
        docs.iter_mut().for_each(|d| d.reverse());
        let backward = learn_words(docs, &["fish"], &["cod", "eel"], 1.0);
        assert_eq!(forward["fish"], vec![("cod", 1.0), ("eel", 1.0)]);
        assert_eq!(forward, backward);
    }

    #[test]
    fn small_or_empty_corpora_learn_nothing() {
        assert!(learn_words(corpus().into_iter().take(2).collect(), &["aquacultur"], &["fish"], 1.0).is_empty());
        assert!(learn_words(Vec::new(), &["x"], &["y"], 1.0).is_empty());
    }
}
