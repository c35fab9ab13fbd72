//! Analysed documents: the weighted terms of organisations, calls, missions and S3 areas
//! (interned), with what explanations need of targets: their own spelling of each term and
//! their sentences, analysed once.

use super::terms::{TermWeights, Terms, TRANSLATION_WEIGHT};
use crate::text::{detect_language, sentences, Analyzer};
use crate::{Call, Catalogue, Language, Organisation, RankerConfig};
use rustc_hash::FxHashMap;
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

/// Collects a document's weighted term frequencies, field by field, over the dictionary.
struct Builder<'a> {
    a: &'a Analyzer,
    terms: &'a mut Terms,
    tf: FxHashMap<u32, f32>,
    title: FxHashMap<u32, f32>,
    /// The document's own first spelling of each term (targets only: explanations quote it).
    surfaces: Option<HashMap<u32, Box<str>>>,
    sentences: Vec<(Language, String)>,
}

impl<'a> Builder<'a> {
    /// `keep_surfaces` for targets, whose own spelling explanations quote.
    fn new(a: &'a Analyzer, terms: &'a mut Terms, keep_surfaces: bool) -> Self {
        let surfaces = keep_surfaces.then(HashMap::new);
        Self { a, terms, tf: FxHashMap::default(), title: FxHashMap::default(), surfaces, sentences: Vec::new() }
    }
    fn add(&mut self, text: &str, lang: Language, weight: f32) {
        add_weighted(self.a, self.terms, text, lang, weight, &mut self.tf, &mut self.surfaces);
    }
    fn title(&mut self, text: &str, lang: Language) {
        add_weighted(self.a, self.terms, text, lang, 1.0, &mut self.title, &mut self.surfaces);
    }
    fn quote_from(&mut self, text: &str, lang: Language) {
        self.sentences.extend(sentences(text).map(|s| (lang, s.to_owned())));
    }

    fn build(self, lang: Language) -> Doc {
        let (a, terms) = (self.a, self.terms);
        let sentences = self
            .sentences
            .into_iter()
            .map(|(l, s)| {
                let ids = terms.tokens(a, &s, l).into_iter().map(|w| (w, terms.word(w).stem)).collect::<Vec<_>>();
                for &(w, id) in &ids {
                    if !terms.has_surface(id) {
                        let surface = terms.word(w).surface.clone();
                        terms.note_surface(id, &surface);
                    }
                }
                (l, s.into_boxed_str(), ids.into_iter().map(|(_, id)| id).collect())
            })
            .collect();
        Doc {
            tf: TermWeights::from_map(self.tf),
            title_tf: TermWeights::from_map(self.title),
            surfaces: self.surfaces.unwrap_or_default(),
            lang,
            sentences,
        }
    }
}

/// Adds the weighted term frequencies of `text` into `into`: English translations of Swedish
/// words (at [`TRANSLATION_WEIGHT`] of theirs), the phrases of adjacent stems, then the stems,
/// in that order (the order in which a term's weights are summed and its spelling is first
/// seen).
fn add_weighted(
    a: &Analyzer,
    terms: &mut Terms,
    text: &str,
    lang: Language,
    weight: f32,
    into: &mut FxHashMap<u32, f32>,
    surfaces: &mut Option<HashMap<u32, Box<str>>>,
) {
    let words = terms.tokens(a, text, lang);
    let mut spelt = |terms: &mut Terms, id: u32, s: &dyn Fn(&Terms) -> Box<str>| {
        let doc_has = surfaces.as_ref().is_none_or(|m| m.contains_key(&id));
        if doc_has && terms.has_surface(id) {
            return;
        }
        let s = s(terms);
        terms.note_surface(id, &s);
        if let Some(m) = surfaces.as_mut() {
            m.entry(id).or_insert(s);
        }
    };
    for &w in &words {
        for i in 0..terms.word(w).translations.len() {
            let (id, tw) = (terms.word(w).translations[i].0, terms.word(w).translations[i].1);
            *into.entry(id).or_default() += weight * TRANSLATION_WEIGHT * tw;
            spelt(terms, id, &|t| t.word(w).translations[i].2.clone());
        }
    }
    for pair in words.windows(2) {
        let (x, y) = (pair[0], pair[1]);
        let id = terms.phrase(terms.word(x).stem, terms.word(y).stem);
        *into.entry(id).or_default() += weight;
        spelt(terms, id, &|t| format!("{} {}", t.word(x).surface, t.word(y).surface).into());
    }
    for &w in &words {
        let id = terms.word(w).stem;
        *into.entry(id).or_default() += weight;
        spelt(terms, id, &|t| t.word(w).surface.clone());
    }
}

pub(super) fn call_doc(a: &Analyzer, terms: &mut Terms, c: &Call, w: &RankerConfig) -> Doc {
    // Title weights are applied per vector space (`Index::vector`).
    let lang = detect_language(&format!("{} {}", c.title, c.description));
    let mut b = Builder::new(a, terms, true);
    b.quote_from(&c.description, lang);
    b.title(&c.title, lang);
    b.add(&c.keywords.join(" , "), lang, w.keyword_weight);
    b.add(&c.description, lang, w.body_weight);
    b.build(lang)
}

pub(super) fn org_doc(a: &Analyzer, terms: &mut Terms, o: &Organisation, cat: &Catalogue) -> Doc {
    let lang = o.description_language;
    // Organisations keep no surfaces or sentences of their own: at 100,000 organisations
    // those would be most of the index's memory.
    let mut b = Builder::new(a, terms, false);
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
    b.build(Language::default())
}

/// A mission's or an area's text in both languages: (label, description, keywords) per language.
pub(super) fn catalogue_doc(a: &Analyzer, terms: &mut Terms, fields: [(Language, &str, &str, &[String]); 2]) -> Doc {
    let mut b = Builder::new(a, terms, true);
    for (lang, label, desc, kw) in fields {
        b.add(label, lang, W_TITLE);
        b.add(desc, lang, W_BODY);
        b.add(&kw.join(" , "), lang, W_KEYWORDS);
        b.quote_from(desc, lang);
    }
    b.build(Language::default())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Catalogue;

    /// Each word analysed afresh, keyed by strings: what the index did before it remembered
    /// words, kept as the reference the cached analysis must equal to the bit.
    fn reference(
        a: &Analyzer,
        text: &str,
        lang: Language,
        weight: f32,
        into: &mut HashMap<String, f32>,
        surfaces: &mut HashMap<String, String>,
    ) {
        let terms = a.terms(text, lang);
        if lang == Language::Sv && a.translate_swedish {
            for t in &terms {
                for tr in crate::crosslingual::Lexicon::get().translate(a, &t.stem, &t.surface) {
                    *into.entry(tr.stem.clone()).or_default() += weight * TRANSLATION_WEIGHT * tr.weight;
                    surfaces.entry(tr.stem).or_insert(tr.surface);
                }
            }
        }
        for w in terms.windows(2) {
            let key = format!("{}_{}", w[0].stem, w[1].stem);
            *into.entry(key.clone()).or_default() += weight;
            surfaces.entry(key).or_insert_with(|| format!("{} {}", w[0].surface, w[1].surface));
        }
        for t in terms {
            *into.entry(t.stem.clone()).or_default() += weight;
            surfaces.entry(t.stem).or_insert(t.surface);
        }
    }

    #[test]
    fn remembered_words_give_what_analysing_every_word_afresh_gives() {
        let a = Analyzer::default();
        let (catalogue, _) = Catalogue::shipped();
        let mut fields: Vec<(String, Language, f32)> = Vec::new();
        for m in &catalogue.missions {
            fields.push((m.name_en.clone(), Language::En, 3.0));
            fields.push((m.description_en.clone(), Language::En, 1.0));
            fields.push((m.description_sv.clone(), Language::Sv, 1.0));
            fields.push((m.keywords_sv.join(" , "), Language::Sv, 2.0));
        }
        for s in &catalogue.s3_areas {
            fields.push((s.description_en.clone(), Language::En, 0.3));
            fields.push((s.description_sv.clone(), Language::Sv, 1.5));
        }
        // Upper case, digits, non-ASCII letters, Swedish compounds, repeats.
        fields.push(("Undervattenssensorer för HAVET och Östersjön 2030; båtar, båtar.".into(), Language::Sv, 1.0));
        fields.push(("CO2-free Shipping: ΣΊΣΥΦΟΣ and Ångström units, i e 4G/5G".into(), Language::En, 2.0));
        let mut terms = Terms::default();
        let (mut tf, mut surfaces) = (FxHashMap::default(), Some(HashMap::new()));
        let (mut want_tf, mut want_surfaces) = (HashMap::new(), HashMap::new());
        for (text, lang, w) in &fields {
            add_weighted(&a, &mut terms, text, *lang, *w, &mut tf, &mut surfaces);
            reference(&a, text, *lang, *w, &mut want_tf, &mut want_surfaces);
        }
        let got_tf: HashMap<String, f32> = tf.iter().map(|(id, w)| (terms.name(*id).to_owned(), *w)).collect();
        assert_eq!(got_tf.len(), want_tf.len());
        for (t, w) in &want_tf {
            assert_eq!(got_tf.get(t).map(|x| x.to_bits()), Some(w.to_bits()), "{t}: {:?} for {w}", got_tf.get(t));
        }
        let got_surfaces: HashMap<String, String> =
            surfaces.unwrap_or_default().into_iter().map(|(id, s)| (terms.name(id).to_owned(), s.into())).collect();
        assert_eq!(got_surfaces, want_surfaces);
        // One document: the dictionary's first spelling is the document's.
        for (t, s) in &want_surfaces {
            assert_eq!(terms.surface(terms.get(t).expect("interned")), s, "{t}");
        }
    }
}
