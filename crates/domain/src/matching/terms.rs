//! The term dictionary (every stem and phrase interned once as a `u32`), the written words
//! it has analysed, and sparse vectors over it. Vectors are sorted by term id, so a dot
//! product is a merge of two sorted lists.
//!
//! Each distinct written word is analysed once (lower-cased, stop words dropped, stemmed,
//! translated when Swedish) and remembered with the ids it gives; a phrase of two stems is
//! named once per pair. Analysing a document then costs a look-up per word, not a stemmer run
//! and a few allocations per word: most of the index's build was that.

use crate::text::{is_phrase, words, Analyzer};
use crate::Language;
use foldhash::fast::RandomState;
use std::borrow::Cow;
use std::collections::HashMap;

/// Weight of an English translation relative to the Swedish word it translates.
pub(super) const TRANSLATION_WEIGHT: f32 = 0.7;

/// Interned terms. Ids are never reused; the dictionary only grows (a term costs its bytes
/// once, however many documents hold it). Maps keyed by text use foldhash with a random
/// seed per process: fast, and not open to inputs chosen to collide.
#[derive(Debug, Default, Clone)]
pub(super) struct Terms {
    ids: HashMap<Box<str>, u32, RandomState>,
    names: Vec<Box<str>>,
    phrase: Vec<bool>,
    /// The first way a term was written (for explanations of organisations' words); empty
    /// until a document uses it.
    surface: Vec<Box<str>>,
    /// Written words (lower-case) by language, as indexes into `words`; `None`: not a term.
    seen: [HashMap<Box<str>, Option<u32>, RandomState>; 2],
    words: Vec<Word>,
    /// The phrase of two stems, by their ids.
    phrases: HashMap<(u32, u32), u32, RandomState>,
}

/// One distinct written word of one language, analysed.
#[derive(Debug, Clone)]
pub(super) struct Word {
    pub(super) stem: u32,
    /// The word as written, lower-cased.
    pub(super) surface: Box<str>,
    /// English translations of a Swedish word: term, weight, spelling.
    pub(super) translations: Box<[(u32, f32, Box<str>)]>,
}

impl Terms {
    pub(super) fn intern(&mut self, term: &str) -> u32 {
        if let Some(&id) = self.ids.get(term) {
            return id;
        }
        let id = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.ids.insert(term.into(), id);
        self.names.push(term.into());
        self.phrase.push(is_phrase(term));
        self.surface.push(Box::default());
        id
    }
    #[cfg(test)]
    pub(super) fn get(&self, term: &str) -> Option<u32> {
        self.ids.get(term).copied()
    }
    pub(super) fn name(&self, id: u32) -> &str {
        &self.names[id as usize]
    }
    pub(super) fn is_phrase(&self, id: u32) -> bool {
        self.phrase[id as usize]
    }
    /// How the term was first written, else its name.
    pub(super) fn surface(&self, id: u32) -> &str {
        match &self.surface[id as usize] {
            s if s.is_empty() => self.name(id),
            s => s,
        }
    }
    /// Whether the term has been written yet (its surface is set).
    pub(super) fn has_surface(&self, id: u32) -> bool {
        !self.surface[id as usize].is_empty()
    }
    /// Records `s` as the way `id` is written, if it is the first.
    pub(super) fn note_surface(&mut self, id: u32, s: &str) {
        let slot = &mut self.surface[id as usize];
        if slot.is_empty() {
            *slot = s.into();
        }
    }
    pub(super) fn len(&self) -> usize {
        self.names.len()
    }

    /// The words of `text` that are terms, in order, as indexes for [`Terms::word`]; a word
    /// not seen before in `lang` is analysed with `a` (and translated if `a` says so).
    pub(super) fn tokens(&mut self, a: &Analyzer, text: &str, lang: Language) -> Vec<u32> {
        let l = usize::from(lang == Language::Sv);
        let mut out = Vec::new();
        for w in words(text) {
            let lower: Cow<str> = if w.bytes().any(|b| !b.is_ascii_lowercase() && !b.is_ascii_digit()) {
                Cow::Owned(w.to_lowercase())
            } else {
                Cow::Borrowed(w)
            };
            let known = self.seen[l].get(lower.as_ref()).copied();
            let word = match known {
                Some(word) => word,
                None => {
                    let word = self.analyse(a, &lower, lang);
                    self.seen[l].insert(lower.as_ref().into(), word);
                    word
                }
            };
            out.extend(word);
        }
        out
    }

    pub(super) fn word(&self, i: u32) -> &Word {
        &self.words[i as usize]
    }

    /// The phrase term of two stems (`a_b`; stems never hold `_`).
    pub(super) fn phrase(&mut self, a: u32, b: u32) -> u32 {
        if let Some(&id) = self.phrases.get(&(a, b)) {
            return id;
        }
        let id = self.intern(&format!("{}_{}", self.name(a), self.name(b)));
        self.phrases.insert((a, b), id);
        id
    }

    fn analyse(&mut self, a: &Analyzer, lower: &str, lang: Language) -> Option<u32> {
        let stem = a.stem_of(lower, lang)?;
        let translations = if lang == Language::Sv && a.translate_swedish {
            let lexicon = crate::crosslingual::Lexicon::get();
            let found = lexicon.translate(a, &stem, lower);
            found.into_iter().map(|t| (self.intern(&t.stem), t.weight, t.surface.into_boxed_str())).collect()
        } else {
            Box::default()
        };
        let stem = self.intern(&stem);
        let i = u32::try_from(self.words.len()).unwrap_or(u32::MAX);
        self.words.push(Word { stem, surface: lower.into(), translations });
        Some(i)
    }
}

/// Weighted terms, sorted by id, each id once.
#[derive(Debug, Default, Clone, PartialEq)]
pub(super) struct TermWeights(pub(super) Vec<(u32, f32)>);

impl TermWeights {
    /// From interned weights, each id once.
    pub(super) fn from_map(m: impl IntoIterator<Item = (u32, f32)>) -> Self {
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
            t.intern(w);
        }
        let (sum, parts) = a.dot(&a, &t);
        assert!((sum - 1.0).abs() < 1e-6 && parts.len() == 2 && parts[0].0 == 1, "{parts:?}");
    }
}
