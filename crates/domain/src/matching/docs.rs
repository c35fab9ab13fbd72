//! Analysed documents: the weighted terms of organisations, calls, missions and S3 areas
//! (interned), with what explanations need of targets: their own spelling of each term and
//! their sentences, analysed once.

use super::terms::{TermWeights, Terms};
use crate::text::{detect_language, sentences, Analyzer};
use crate::{Call, Catalogue, Language, Organisation, RankerConfig};
use std::collections::HashMap;

/// Field weights of organisation and catalogue texts.
const W_TITLE: f32 = 3.0;
const W_KEYWORDS: f32 = 2.0;
const W_BODY: f32 = 1.0;
const W_NACE: f32 = 1.5;
const W_HISTORY: f32 = 1.5;

/// A document as the index holds it.
#[derive(Debug, Default, Clone)]
pub(super) struct Doc {
    /// Weighted term frequencies of every field but a call's title.
    pub(super) tf: TermWeights,
    /// A call's title terms at weight 1; each vector space applies its own title weight.
    pub(super) title_tf: TermWeights,
    /// How a target writes each of its terms (organisations use the dictionary's spelling).
    pub(super) surfaces: HashMap<u32, Box<str>>,
    /// Language of the text (detected once).
    pub(super) lang: Language,
    /// The sentences evidence is quoted from, each with its language and terms.
    pub(super) sentences: Vec<(Language, Box<str>, Vec<u32>)>,
}

impl Doc {
    /// A target's spelling of `term`, else the dictionary's.
    pub(super) fn surface<'a>(&'a self, terms: &'a Terms, term: u32) -> &'a str {
        match self.surfaces.get(&term) {
            Some(s) => s,
            None => terms.surface(term),
        }
    }
}

/// Collects weighted text fields, then interns them into a [`Doc`].
struct Builder<'a> {
    a: &'a Analyzer,
    tf: HashMap<String, f32>,
    title: HashMap<String, f32>,
    surfaces: HashMap<String, String>,
    sentences: Vec<(Language, String)>,
}

impl<'a> Builder<'a> {
    fn new(a: &'a Analyzer) -> Self {
        Self { a, tf: HashMap::new(), title: HashMap::new(), surfaces: HashMap::new(), sentences: Vec::new() }
    }
    fn add(&mut self, text: &str, lang: Language, weight: f32) {
        self.a.add_weighted(text, lang, weight, &mut self.tf, &mut self.surfaces);
    }
    fn title(&mut self, text: &str, lang: Language) {
        self.a.add_weighted(text, lang, 1.0, &mut self.title, &mut self.surfaces);
    }
    fn quote_from(&mut self, text: &str, lang: Language) {
        self.sentences.extend(sentences(text).map(|s| (lang, s.to_owned())));
    }

    /// Interns the terms; `keep_surfaces` for targets, whose own spelling explanations quote.
    fn build(self, terms: &mut Terms, lang: Language, keep_surfaces: bool) -> Doc {
        let intern = |m: HashMap<String, f32>, terms: &mut Terms| {
            let ids: HashMap<u32, f32> =
                m.into_iter().map(|(t, w)| (terms.intern(&t, self.surfaces.get(&t).map(String::as_str)), w)).collect();
            TermWeights::from_map(ids)
        };
        let title_tf = intern(self.title, terms);
        let tf = intern(self.tf, terms);
        let surfaces = if keep_surfaces {
            self.surfaces.iter().filter_map(|(t, s)| Some((terms.get(t)?, s.as_str().into()))).collect()
        } else {
            HashMap::new()
        };
        let sentences = self
            .sentences
            .into_iter()
            .map(|(l, s)| {
                let ids = self.a.terms(&s, l).into_iter().map(|t| terms.intern(&t.stem, Some(&t.surface))).collect();
                (l, s.into_boxed_str(), ids)
            })
            .collect();
        Doc { tf, title_tf, surfaces, lang, sentences }
    }
}

pub(super) fn call_doc(a: &Analyzer, terms: &mut Terms, c: &Call, w: &RankerConfig) -> Doc {
    // Title weights are applied per vector space (`Index::vector`).
    let lang = detect_language(&format!("{} {}", c.title, c.description));
    let mut b = Builder::new(a);
    b.quote_from(&c.description, lang);
    b.title(&c.title, lang);
    b.add(&c.keywords.join(" , "), lang, w.keyword_weight);
    b.add(&c.description, lang, w.body_weight);
    b.build(terms, lang, true)
}

pub(super) fn org_doc(a: &Analyzer, terms: &mut Terms, o: &Organisation, cat: &Catalogue) -> Doc {
    let lang = o.description_language;
    let mut b = Builder::new(a);
    b.add(&o.description, lang, W_BODY);
    b.add(&o.keywords.join(" , "), lang, W_KEYWORDS);
    b.add(&o.interest_themes.join(" , "), lang, W_KEYWORDS);
    for code in &o.nace {
        let e = code.entry();
        b.add(e.title_en, Language::En, W_NACE);
        b.add(e.title_sv, Language::Sv, W_NACE);
    }
    for p in &o.participations {
        b.add(&p.project_title, detect_language(&p.project_title), W_HISTORY);
    }
    for m in cat.missions.iter().filter(|m| o.interest_missions.contains(&m.id)) {
        b.add(&m.name_en, Language::En, W_BODY);
        b.add(&m.name_sv, Language::Sv, W_BODY);
    }
    // Organisations keep no surfaces or sentences of their own: at 100,000 organisations
    // those would be most of the index's memory.
    b.build(terms, Language::default(), false)
}

/// A mission's or an area's text in both languages: (label, description, keywords) per language.
pub(super) fn catalogue_doc(a: &Analyzer, terms: &mut Terms, fields: [(Language, &str, &str, &[String]); 2]) -> Doc {
    let mut b = Builder::new(a);
    for (lang, label, desc, kw) in fields {
        b.add(label, lang, W_TITLE);
        b.add(desc, lang, W_BODY);
        b.add(&kw.join(" , "), lang, W_KEYWORDS);
        b.quote_from(desc, lang);
    }
    b.build(terms, Language::default(), true)
}

pub(super) fn mission_doc(a: &Analyzer, terms: &mut Terms, m: &crate::Mission) -> Doc {
    catalogue_doc(
        a,
        terms,
        [
            (Language::En, &m.name_en, &m.description_en, &m.keywords_en),
            (Language::Sv, &m.name_sv, &m.description_sv, &m.keywords_sv),
        ],
    )
}

pub(super) fn area_doc(a: &Analyzer, terms: &mut Terms, s: &crate::S3Area) -> Doc {
    catalogue_doc(
        a,
        terms,
        [
            (Language::En, &s.label_en, &s.description_en, &s.keywords_en),
            (Language::Sv, &s.label_sv, &s.description_sv, &s.keywords_sv),
        ],
    )
}
