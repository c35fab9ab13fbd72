//! Text analysis for Swedish and English: tokens, stop words, Snowball stems.

use crate::Language;

/// `&`, `<`, `>`, `"` and `'` as HTML entities: text that goes into a page or a message.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
use rust_stemmers::{Algorithm, Stemmer};
use std::collections::HashSet;

const STOP_EN: &str = "a about above after again against all also an and any are as at be because been before being \
below between both but by can could did do does doing down during each either etc few for from further had has have \
having he her here hers him his how i if in into is it its itself just may might more most must no nor not of off on \
once only or other our ours out over own per same shall she should so some such than that the their theirs them then \
there these they this those through thus to too under until up upon us very via was we were what when where which \
while who whom why will with within would you your including include includes expected outcome outcomes scope \
project projects proposal proposals activities results new well use used using based also e g eg i e ie";

const STOP_SV: &str = "alla allt att av blev bli blir blivit de dem den denna deras dess dessa det detta dig din \
dina ditt du där då efter ej eller en er era ert ett från för ha hade han hans har henne hennes hon honom hur här i \
icke ingen inom inte jag ju kan kunde man med mellan men mig min mina mitt mot mycket ni nu när någon något några \
och om oss på samma sedan sig sin sina sitta själv skulle som så sådan sådana till under upp ut utan vad var vara \
varför varit varje vars vi vid vilka vilken vilket vår våra vårt än är åt över även samt också genom";

/// A term of an analysed text: the stem used for matching and the word as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub stem: String,
    pub surface: String,
}

/// Tokenises, drops stop words and stems, per language.
pub struct Analyzer {
    en: Stemmer,
    sv: Stemmer,
    stop: HashSet<&'static str>,
    /// Add English translations to Swedish text (see [`crate::crosslingual`]).
    pub translate_swedish: bool,
}

impl std::fmt::Debug for Analyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analyzer").finish_non_exhaustive()
    }
}

impl Default for Analyzer {
    fn default() -> Self {
        Self {
            en: Stemmer::create(Algorithm::English),
            sv: Stemmer::create(Algorithm::Swedish),
            stop: STOP_EN.split_whitespace().chain(STOP_SV.split_whitespace()).collect(),
            translate_swedish: true,
        }
    }
}

impl Analyzer {
    /// The Swedish stem of one lower-case word.
    pub fn stem_sv(&self, word: &str) -> String {
        self.sv.stem(word).into_owned()
    }

    /// The terms of `text`, in order. Stems carry a language-neutral form: both stemmers see
    /// the same lower-cased word, so shared loanwords (`digital`, `hydrogen`) meet across languages.
    pub fn terms(&self, text: &str, lang: Language) -> Vec<Term> {
        words(text)
            .filter_map(|w| {
                let lower = w.to_lowercase();
                Some(Term { stem: self.stem_of(&lower, lang)?, surface: lower })
            })
            .collect()
    }

    /// The stem of one lower-cased word, or `None` for a stop word, a number or a single
    /// character. The index analyses each distinct word with this once
    /// (`matching::terms::Terms::tokens`); adjacent stems also count there as a phrase `a_b`
    /// (stems never contain `_`), so that "climate risk" can weigh more than "climate" and
    /// "risk" apart; see [`is_phrase`].
    pub fn stem_of(&self, lower: &str, lang: Language) -> Option<String> {
        if lower.chars().count() < 2 || self.stop.contains(lower) || lower.chars().all(|c| c.is_numeric()) {
            return None;
        }
        let stemmer = match lang {
            Language::En => &self.en,
            Language::Sv => &self.sv,
        };
        Some(stemmer.stem(lower).into_owned())
    }
}

/// Whether a term key is a phrase of two stems.
pub fn is_phrase(term: &str) -> bool {
    term.contains('_')
}

/// Alphanumeric runs; hyphens split words (`climate-neutral` → `climate`, `neutral`).
pub fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty())
}

/// Guesses whether a text is Swedish or English by counting each language's stop words;
/// English wins ties, since most call texts are English.
pub fn detect_language(text: &str) -> Language {
    static SETS: std::sync::OnceLock<(HashSet<&'static str>, HashSet<&'static str>)> = std::sync::OnceLock::new();
    let (sv_set, en_set) =
        SETS.get_or_init(|| (STOP_SV.split_whitespace().collect(), STOP_EN.split_whitespace().collect()));
    let (mut sv, mut en) = (0u32, 0u32);
    for w in words(text).take(400) {
        let l = w.to_lowercase();
        sv += u32::from(sv_set.contains(l.as_str()));
        en += u32::from(en_set.contains(l.as_str()));
    }
    if sv > en {
        Language::Sv
    } else {
        Language::En
    }
}

/// Splits text into sentences for evidence quotes.
pub fn sentences(text: &str) -> impl Iterator<Item = &str> {
    text.split(['.', '!', '?', '\n', ';']).map(str::trim).filter(|s| s.len() > 20)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_and_drops_stop_words() {
        let a = Analyzer::default();
        let stems: Vec<_> =
            a.terms("The ships and the shipping of 2030", Language::En).into_iter().map(|t| t.stem).collect();
        assert_eq!(stems, vec!["ship", "ship"]);
        let sv: Vec<_> = a.terms("Vi bygger fartyg och båtar", Language::Sv).into_iter().map(|t| t.stem).collect();
        assert_eq!(sv, vec!["bygg", "fartyg", "båt"]);
    }

    #[test]
    fn detects_language() {
        assert_eq!(detect_language("Vi utvecklar sensorer för havet och det är viktigt"), Language::Sv);
        assert_eq!(detect_language("We develop sensors for the ocean and it is important"), Language::En);
    }
}
