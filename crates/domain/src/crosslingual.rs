//! A Swedish → English lexicon, aligned from the parallel Swedish and English titles of
//! NACE Rev.2 and SNI 2007 (about 1,800 title pairs) by Dice co-occurrence, with Swedish
//! compounds split into known parts. It lets a Swedish description meet English calls.

use crate::industry::parallel_titles;
use crate::text::Analyzer;
use crate::Language;
use std::collections::HashMap;
use std::sync::OnceLock;

/// An English translation of a Swedish stem: the English stem, a surface form, a weight (0-1].
#[derive(Debug, Clone, PartialEq)]
pub struct Translation {
    pub stem: String,
    pub surface: String,
    pub weight: f32,
}

/// Minimum title pairs a word pair must share, and its minimum Dice coefficient.
const MIN_PAIRS: u32 = 2;
const MIN_DICE: f32 = 0.25;
const MAX_TRANSLATIONS: usize = 3;
/// Weight of a compound's modifier (`vatten` in `vattenbruk`) relative to its head.
const MODIFIER_WEIGHT: f32 = 0.6;

#[derive(Debug, Default)]
pub struct Lexicon {
    map: HashMap<String, Vec<Translation>>,
}

impl Lexicon {
    /// The lexicon aligned from the compiled-in classification titles (built once).
    pub fn get() -> &'static Lexicon {
        static L: OnceLock<Lexicon> = OnceLock::new();
        L.get_or_init(|| Lexicon::align(&Analyzer::default(), &parallel_titles()))
    }

    /// Dice alignment over parallel (Swedish, English) texts.
    pub fn align(a: &Analyzer, pairs: &[(&str, &str)]) -> Lexicon {
        let mut cs: HashMap<String, u32> = HashMap::new();
        let mut ce: HashMap<String, u32> = HashMap::new();
        let mut cse: HashMap<(String, String), u32> = HashMap::new();
        let mut surface: HashMap<String, String> = HashMap::new();
        for (sv, en) in pairs {
            let mut s: Vec<String> = a.terms(sv, Language::Sv).into_iter().map(|t| t.stem).collect();
            let mut e: Vec<(String, String)> =
                a.terms(en, Language::En).into_iter().map(|t| (t.stem, t.surface)).collect();
            s.sort();
            s.dedup();
            e.sort();
            e.dedup_by(|x, y| x.0 == y.0);
            for x in &s {
                *cs.entry(x.clone()).or_default() += 1;
            }
            for (x, surf) in &e {
                *ce.entry(x.clone()).or_default() += 1;
                surface.entry(x.clone()).or_insert_with(|| surf.clone());
            }
            for x in &s {
                for (y, _) in &e {
                    *cse.entry((x.clone(), y.clone())).or_default() += 1;
                }
            }
        }
        let mut map: HashMap<String, Vec<Translation>> = HashMap::new();
        for ((s, e), n) in cse {
            if n < MIN_PAIRS {
                continue;
            }
            let dice = 2.0 * n as f32 / (cs[&s] + ce[&e]) as f32;
            if dice >= MIN_DICE {
                let surf = surface.get(&e).cloned().unwrap_or_else(|| e.clone());
                map.entry(s).or_default().push(Translation { stem: e, surface: surf, weight: dice });
            }
        }
        for v in map.values_mut() {
            v.sort_by(|a, b| b.weight.total_cmp(&a.weight).then_with(|| a.stem.cmp(&b.stem)));
            v.truncate(MAX_TRANSLATIONS);
            let top = v[0].weight;
            v.iter_mut().for_each(|t| t.weight /= top);
        }
        Lexicon { map }
    }

    /// Translations of a Swedish word (`surface`, lower-case) with stem `stem`; compounds
    /// unknown as a whole are split into a known modifier and a known head.
    pub fn translate(&self, a: &Analyzer, stem: &str, surface: &str) -> Vec<Translation> {
        if let Some(t) = self.map.get(stem) {
            return t.clone();
        }
        let chars: Vec<char> = surface.chars().collect();
        // Longest head first: `undervattenssensorer` → `undervatten(s)` + `sensorer`.
        for i in 3..chars.len().saturating_sub(3) {
            let (left, right): (String, String) = (chars[..i].iter().collect(), chars[i..].iter().collect());
            let head = a.stem_sv(&right);
            let Some(head_t) = self.map.get(&head) else { continue };
            let left = left.strip_suffix('s').filter(|l| l.chars().count() >= 3).unwrap_or(&left).to_owned();
            let modifier = self.map.get(&a.stem_sv(&left)).cloned().unwrap_or_default();
            let mut out = head_t.clone();
            out.extend(modifier.into_iter().map(|t| Translation { weight: t.weight * MODIFIER_WEIGHT, ..t }));
            return out;
        }
        Vec::new()
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn english(word: &str) -> Vec<String> {
        let a = Analyzer::default();
        let stem = a.stem_sv(word);
        Lexicon::get().translate(&a, &stem, word).into_iter().map(|t| t.surface).collect()
    }

    #[test]
    fn aligns_industry_vocabulary_from_the_classification_titles() {
        assert!(Lexicon::get().len() > 300, "{}", Lexicon::get().len());
        assert!(english("tillverkning").iter().any(|w| w.starts_with("manufactur")), "{:?}", english("tillverkning"));
        assert!(english("fartyg").iter().any(|w| w.starts_with("ship")), "{:?}", english("fartyg"));
        assert!(
            english("jordbruk").iter().any(|w| w.starts_with("agricultur") || w.starts_with("farm")),
            "{:?}",
            english("jordbruk")
        );
    }

    #[test]
    fn splits_compounds_into_known_parts() {
        let got = english("plasttillverkning");
        assert!(got.iter().any(|w| w.starts_with("manufactur")), "{got:?}");
    }
}
