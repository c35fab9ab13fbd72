//! A deterministic generator of organisations and calls that vary as a region's do, drawn
//! only from the repository's own vocabulary: the 615 NACE Rev.2 classes in English and
//! Swedish, the catalogue's missions and smart-specialisation areas (descriptions and keywords
//! in both languages), and the sample organisations' keywords. The same seed gives the same
//! corpus on every machine.

use brygga_domain::{nace_classes, Catalogue, Language, NaceEntry};
use brygga_events::{BudgetV1, CallV1, ConsentV1, InterestsV1, OrganisationV1, SizeV1};
use chrono::NaiveDate;

/// SplitMix64: a tiny, well-known deterministic generator (a benchmark needs repeatability,
/// not statistical strength).
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

/// Texts in one language: sentences and keywords of the catalogue.
#[derive(Debug, Default)]
struct Vocabulary {
    sentences: Vec<String>,
    keywords: Vec<String>,
}

#[derive(Debug)]
pub struct Generator {
    rng: Rng,
    nace: Vec<&'static NaceEntry>,
    en: Vocabulary,
    sv: Vocabulary,
    missions: Vec<&'static str>,
    snapshot: NaiveDate,
}

fn sentences_of(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(['.', ';']).map(str::trim).filter(|s| s.split_whitespace().count() >= 4).map(|s| format!("{s}."))
}

impl Generator {
    pub fn new(seed: u64, catalogue: &Catalogue, sample_keywords: &[String], snapshot: NaiveDate) -> Self {
        let (mut en, mut sv) = (Vocabulary::default(), Vocabulary::default());
        for m in &catalogue.missions {
            en.sentences.extend(sentences_of(&m.description_en));
            sv.sentences.extend(sentences_of(&m.description_sv));
            en.keywords.extend(m.keywords_en.iter().cloned());
            sv.keywords.extend(m.keywords_sv.iter().cloned());
        }
        for a in &catalogue.s3_areas {
            en.sentences.extend(sentences_of(&a.description_en));
            sv.sentences.extend(sentences_of(&a.description_sv));
            en.keywords.extend(a.keywords_en.iter().cloned());
            sv.keywords.extend(a.keywords_sv.iter().cloned());
        }
        en.keywords.extend(sample_keywords.iter().cloned());
        Self {
            rng: Rng(seed),
            nace: nace_classes(),
            en,
            sv,
            missions: vec!["adaptation", "cancer", "ocean", "cities", "soil"],
            snapshot,
        }
    }

    /// The `i`th organisation (id `gen-org-<i>`).
    pub fn organisation(&mut self, i: usize) -> OrganisationV1 {
        let r = &mut self.rng;
        let lang = if r.chance(0.6) { Language::Sv } else { Language::En };
        let voc = if lang == Language::Sv { &self.sv } else { &self.en };
        let kinds = [
            "sme",
            "sme",
            "sme",
            "sme",
            "company",
            "company",
            "university",
            "research_institute",
            "public_body",
            "ngo",
        ];
        let nace: Vec<&NaceEntry> = (0..1 + r.below(3)).map(|_| *r.pick(&self.nace)).collect();
        let mut description: Vec<String> = nace
            .iter()
            .map(|e| {
                let title = if lang == Language::Sv { e.title_sv } else { e.title_en };
                if lang == Language::Sv {
                    format!("Vi arbetar med {}.", title.to_lowercase())
                } else {
                    format!("We work in {}.", title.to_lowercase())
                }
            })
            .collect();
        for _ in 0..1 + r.below(3) {
            description.push(r.pick(&voc.sentences).clone());
        }
        let keywords = (0..r.below(4)).map(|_| r.pick(&voc.keywords).clone()).collect();
        let missions = (0..r.below(3)).map(|_| (*r.pick(&self.missions)).to_owned()).collect();
        OrganisationV1 {
            id: format!("gen-org-{i}"),
            version: 1,
            name: format!("Generated organisation {i}"),
            org_number: None,
            kind: (*r.pick(&kinds)).to_owned(),
            size: SizeV1::default(),
            country: Some("SE".into()),
            nuts: Some("SE221".into()),
            municipality: None,
            nace: nace.iter().map(|e| e.code.to_owned()).collect(),
            sni: vec![],
            description: description.join(" "),
            description_language: Some(if lang == Language::Sv { "sv" } else { "en" }.into()),
            keywords,
            interests: InterestsV1 { missions, themes: vec![] },
            participations: vec![],
            preferred_language: None,
            consent: ConsentV1 { contact: r.chance(0.95), partner_suggestions: r.chance(0.8) },
        }
    }

    /// The `j`th call (id `GEN-CALL-<j>`), in English, open, one deadline within 13 months.
    pub fn call(&mut self, j: usize) -> CallV1 {
        let r = &mut self.rng;
        let a = r.pick(&self.nace).title_en.to_lowercase();
        let kw = r.pick(&self.en.keywords).clone();
        let mut description: Vec<String> = (0..2 + r.below(4)).map(|_| r.pick(&self.en.sentences).clone()).collect();
        description.push(format!("Applicants may come from {} and {}.", a, r.pick(&self.nace).title_en.to_lowercase()));
        let deadline = self.snapshot + chrono::Days::new(30 + r.below(365) as u64);
        let missions = if r.chance(0.4) { vec![(*r.pick(&self.missions)).to_owned()] } else { vec![] };
        CallV1 {
            id: format!("GEN-CALL-{j}"),
            version: 1,
            programme: "horizon_europe".into(),
            title: format!("{kw} in {a}"),
            description: description.join(" "),
            keywords: (0..1 + r.below(3)).map(|_| r.pick(&self.en.keywords).clone()).collect(),
            action_type: Some(if r.chance(0.5) { "RIA" } else { "IA" }.into()),
            opening_date: None,
            deadlines: vec![deadline.to_string()],
            budget: BudgetV1::default(),
            eligible_kinds: None,
            eligible_countries: None,
            min_consortium: None,
            missions,
            trl: None,
            url: Some(format!("https://example.org/calls/GEN-CALL-{j}")),
            status: "open".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_valid_corpus() {
        let (cat, snap) = Catalogue::shipped();
        let mut a = Generator::new(7, &cat, &[], snap);
        let mut b = Generator::new(7, &cat, &[], snap);
        for i in 0..50 {
            let (oa, ob) = (a.organisation(i), b.organisation(i));
            assert_eq!(oa, ob);
            oa.clone().into_domain().unwrap_or_else(|e| panic!("{e}: {oa:?}"));
            let c = a.call(i);
            assert_eq!(c, b.call(i));
            c.clone().into_domain().unwrap_or_else(|e| panic!("{e}: {c:?}"));
        }
        let descriptions: std::collections::HashSet<String> =
            (0..50).map(|i| a.organisation(100 + i).description).collect();
        assert!(descriptions.len() > 45, "organisations vary");
    }
}
