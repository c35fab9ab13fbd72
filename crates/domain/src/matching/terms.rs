//! The term dictionary (every stem and phrase interned once as a `u32`) and sparse vectors
//! over it. Vectors are sorted by term id, so a dot product is a merge of two sorted lists.

use crate::text::is_phrase;
use std::collections::HashMap;

/// Interned terms. Ids are never reused; the dictionary only grows (a term costs its bytes
/// once, however many documents hold it).
#[derive(Debug, Default, Clone)]
pub(super) struct Terms {
    ids: HashMap<Box<str>, u32>,
    names: Vec<Box<str>>,
    phrase: Vec<bool>,
    /// The first way a term was written (for explanations of organisations' words).
    surface: Vec<Box<str>>,
}

impl Terms {
    pub(super) fn intern(&mut self, term: &str, surface: Option<&str>) -> u32 {
        if let Some(&id) = self.ids.get(term) {
            return id;
        }
        let id = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.ids.insert(term.into(), id);
        self.names.push(term.into());
        self.phrase.push(is_phrase(term));
        self.surface.push(surface.unwrap_or(term).into());
        id
    }
    pub(super) fn get(&self, term: &str) -> Option<u32> {
        self.ids.get(term).copied()
    }
    pub(super) fn name(&self, id: u32) -> &str {
        &self.names[id as usize]
    }
    pub(super) fn is_phrase(&self, id: u32) -> bool {
        self.phrase[id as usize]
    }
    pub(super) fn surface(&self, id: u32) -> &str {
        &self.surface[id as usize]
    }
    pub(super) fn len(&self) -> usize {
        self.names.len()
    }
}

/// Weighted terms, sorted by id, each id once.
#[derive(Debug, Default, Clone, PartialEq)]
pub(super) struct TermWeights(pub(super) Vec<(u32, f32)>);

impl TermWeights {
    /// From a map of interned weights.
    pub(super) fn from_map(m: HashMap<u32, f32>) -> Self {
        let mut v: Vec<(u32, f32)> = m.into_iter().collect();
        v.sort_unstable_by_key(|p| p.0);
        Self(v)
    }
    pub(super) fn ids(&self) -> impl Iterator<Item = u32> + '_ {
        self.0.iter().map(|p| p.0)
    }
    pub(super) fn contains(&self, id: u32) -> bool {
        self.0.binary_search_by_key(&id, |p| p.0).is_ok()
    }
}

/// A unit-length sparse vector (TF-IDF weights), sorted by term id.
#[derive(Debug, Default, Clone, PartialEq)]
pub(super) struct SparseVec(pub(super) TermWeights);

impl SparseVec {
    /// Normalises `weights` (dropping zeros) to unit length.
    pub(super) fn unit(mut weights: Vec<(u32, f32)>) -> Self {
        weights.retain(|p| p.1 != 0.0);
        weights.sort_unstable_by_key(|p| p.0);
        let norm = weights.iter().map(|p| p.1 * p.1).sum::<f32>().sqrt();
        if norm > 0.0 {
            weights.iter_mut().for_each(|p| p.1 /= norm);
        }
        Self(TermWeights(weights))
    }

    pub(super) fn entries(&self) -> &[(u32, f32)] {
        &self.0 .0
    }

    /// Cosine (both are unit vectors): a merge of the sorted lists, no allocation.
    pub(super) fn cos(&self, other: &SparseVec) -> f32 {
        let (a, b) = (self.entries(), other.entries());
        let (mut i, mut j, mut sum) = (0, 0, 0.0);
        while i < a.len() && j < b.len() {
            match a[i].0.cmp(&b[j].0) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    sum += a[i].1 * b[j].1;
                    i += 1;
                    j += 1;
                }
            }
        }
        sum
    }

    /// Cosine with per-term contributions, largest first (ties by term name, as `names` gives).
    pub(super) fn dot(&self, other: &SparseVec, terms: &Terms) -> (f32, Vec<(u32, f32)>) {
        let (a, b) = (self.entries(), other.entries());
        let (mut i, mut j) = (0, 0);
        let mut parts = Vec::new();
        while i < a.len() && j < b.len() {
            match a[i].0.cmp(&b[j].0) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    parts.push((a[i].0, a[i].1 * b[j].1));
                    i += 1;
                    j += 1;
                }
            }
        }
        parts.sort_by(|x, y| y.1.total_cmp(&x.1).then_with(|| terms.name(x.0).cmp(terms.name(y.0))));
        (parts.iter().map(|p| p.1).sum(), parts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_of_sorted_sparse_vectors() {
        let a = SparseVec::unit(vec![(3, 1.0), (1, 1.0)]);
        let b = SparseVec::unit(vec![(1, 2.0), (7, 0.0)]);
        assert_eq!(b.entries(), &[(1, 1.0)], "zeros dropped, unit length");
        assert!((a.cos(&b) - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-6);
        let mut t = Terms::default();
        for w in ["a", "b", "c", "d"] {
            t.intern(w, None);
        }
        let (sum, parts) = a.dot(&a, &t);
        assert!((sum - 1.0).abs() < 1e-6 && parts.len() == 2 && parts[0].0 == 1, "{parts:?}");
    }
}
