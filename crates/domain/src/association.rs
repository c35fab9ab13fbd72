//! Term associations learned from co-occurrence (global analysis, after Xu & Croft).
//!
//! A call title is a handful of words ("aquaculture", "biosecurity"); the organisations that
//! fit it describe the same work in their own words ("fish", "vaccine", "farm"). The words an
//! organisation corpus uses *together with* a title word, much more often than by chance, are
//! added to that title at a weight below its own words. The statistics come only from the texts
//! the index holds; nothing is keyed by a call or an organisation.

use std::collections::{HashMap, HashSet};

/// Documents a pair must share before it counts.
const MIN_SHARED_DOCS: u32 = 3;
/// How many times more often than by chance a pair must co-occur.
const MIN_LIFT: f32 = 2.0;
/// Associated terms kept per term.
const TOP: usize = 5;

/// For each term, its associated terms with a weight in (0, 1].
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Associations {
    related: HashMap<String, Vec<(String, f32)>>,
}

impl Associations {
    /// Learns, for each term of `rows`, the terms of `columns` that co-occur with it in
    /// `docs` (each a set of terms). A pair needs `MIN_SHARED_DOCS` (3) documents and a lift
    /// above `MIN_LIFT` (2); the `TOP` (5) pairs by local mutual information (shared documents ×
    /// ln lift) are kept, weighted by `scale` × P(column term | row term).
    pub fn learn<'a, D, I>(docs: D, rows: &HashSet<&str>, columns: &HashSet<&str>, scale: f32) -> Self
    where
        D: IntoIterator<Item = I>,
        I: IntoIterator<Item = &'a str>,
    {
        let mut id: HashMap<&'a str, u32> = HashMap::new();
        let mut names: Vec<&'a str> = Vec::new();
        let mut df: Vec<u32> = Vec::new();
        let mut shared: HashMap<u32, HashMap<u32, u32>> = HashMap::new();
        let mut n_docs = 0u32;
        let mut terms: Vec<(u32, bool, bool)> = Vec::new();
        for doc in docs {
            n_docs += 1;
            terms.clear();
            for t in doc {
                let (is_row, is_col) = (rows.contains(t), columns.contains(t));
                if !(is_row || is_col) {
                    continue;
                }
                let i = *id.entry(t).or_insert_with(|| {
                    names.push(t);
                    df.push(0);
                    (names.len() - 1) as u32
                });
                terms.push((i, is_row, is_col));
            }
            terms.sort_unstable();
            terms.dedup();
            for &(i, _, _) in &terms {
                df[i as usize] += 1;
            }
            for &(u, _, _) in terms.iter().filter(|(_, is_row, _)| *is_row) {
                let row = shared.entry(u).or_default();
                for &(t, _, _) in terms.iter().filter(|(t, _, is_col)| *is_col && *t != u) {
                    *row.entry(t).or_default() += 1;
                }
            }
        }
        let n = n_docs as f32;
        let related = shared
            .into_iter()
            .filter_map(|(u, row)| {
                let df_u = df[u as usize] as f32;
                let mut kept: Vec<(&str, f32, f32)> = row
                    .into_iter()
                    .filter(|&(_, c)| c >= MIN_SHARED_DOCS)
                    .filter_map(|(t, c)| {
                        let (c, p) = (c as f32, c as f32 / df_u);
                        let lift = p / (df[t as usize] as f32 / n);
                        (lift > MIN_LIFT).then_some((names[t as usize], c * lift.ln(), p))
                    })
                    .collect();
                kept.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
                kept.truncate(TOP);
                let kept: Vec<(String, f32)> = kept.into_iter().map(|(t, _, p)| (t.to_owned(), scale * p)).collect();
                (!kept.is_empty()).then(|| (names[u as usize].to_owned(), kept))
            })
            .collect();
        Self { related }
    }

    /// The terms associated with `term`, strongest first.
    pub fn related(&self, term: &str) -> &[(String, f32)] {
        self.related.get(term).map_or(&[], Vec::as_slice)
    }

    /// The associated terms of weighted `terms`: each at the largest of (term weight × association).
    pub fn expand(&self, terms: &HashMap<String, f32>) -> HashMap<String, f32> {
        let mut out: HashMap<String, f32> = HashMap::new();
        for (u, w) in terms {
            for (t, a) in self.related(u) {
                let x = out.entry(t.clone()).or_default();
                *x = x.max(w * a);
            }
        }
        out
    }

    /// Of `terms`, the one `term` is most strongly associated with (for explanations).
    pub fn source<'t>(&self, term: &str, terms: impl IntoIterator<Item = &'t String>) -> Option<&'t String> {
        terms
            .into_iter()
            .filter_map(|u| self.related(u).iter().find(|(t, _)| t == term).map(|(_, a)| (u, *a)))
            .max_by(|a, b| a.1.total_cmp(&b.1).then_with(|| b.0.cmp(a.0)))
            .map(|(u, _)| u)
    }

    pub fn is_empty(&self) -> bool {
        self.related.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    fn set<'a>(xs: &[&'a str]) -> HashSet<&'a str> {
        xs.iter().copied().collect()
    }

    #[test]
    fn learns_terms_used_together_more_than_by_chance() {
        let cols = set(&["fish", "vaccin", "feed", "report", "batteri"]);
        let a = Associations::learn(corpus(), &set(&["aquacultur"]), &cols, 1.0);
        let related = a.related("aquacultur");
        // fish: 3 shared of 4 → P = 0.75, lift 0.75 / (3/16) = 4. vaccin: 2 shared, too few.
        // report: 2 shared, and rarer with it than without (it is everywhere). feed: 1 shared.
        assert_eq!(related, &[("fish".to_owned(), 0.75)]);
        assert!(a.related("fish").is_empty(), "only row terms get associations");
    }

    #[test]
    fn expansion_takes_the_strongest_route_and_scales() {
        let cols = set(&["fish", "vaccin", "feed", "report"]);
        let a = Associations::learn(corpus(), &set(&["aquacultur"]), &cols, 0.5);
        let terms: HashMap<String, f32> = [("aquacultur".to_owned(), 2.0), ("other".to_owned(), 1.0)].into();
        let ex = a.expand(&terms);
        assert_eq!(ex.len(), 1);
        assert!((ex["fish"] - 2.0 * 0.5 * 0.75).abs() < 1e-6);
        let keys: Vec<String> = terms.keys().cloned().collect();
        assert_eq!(a.source("fish", &keys).map(String::as_str), Some("aquacultur"));
        assert_eq!(a.source("feed", &keys), None);
    }

    #[test]
    fn small_or_empty_corpora_learn_nothing() {
        let a = Associations::learn(corpus().into_iter().take(2), &set(&["aquacultur"]), &set(&["fish"]), 1.0);
        assert!(a.is_empty());
        let none: Vec<Vec<&str>> = Vec::new();
        assert!(Associations::learn(none, &set(&["x"]), &set(&["y"]), 1.0).is_empty());
    }
}
