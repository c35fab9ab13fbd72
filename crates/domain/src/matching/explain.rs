//! Explanations: the matched terms as the target writes them, the sentence of the target that
//! carries most of the matched weight, and the summary line in the organisation's language.

use super::docs::Doc;
use super::terms::Terms;
use crate::recommendation::{Explanation, RANKER_VERSION};
use crate::Language;
use chrono::NaiveDate;

/// Contributing terms an explanation names.
pub(super) const EXPLAINED_TERMS: usize = 6;

/// The target's own words for the top contributing terms.
pub(super) fn surface_terms(terms: &Terms, parts: &[(u32, f32)], target: &Doc) -> Vec<String> {
    parts.iter().take(EXPLAINED_TERMS).map(|(t, _)| target.surface(terms, *t).to_owned()).collect()
}

/// The sentence of the target (in `lang`) holding the most weight of the contributing terms,
/// cut to ~200 characters.
pub(super) fn evidence(doc: &Doc, parts: &[(u32, f32)], lang: Language) -> Option<String> {
    // The 20 strongest terms, sorted by id for a binary search (cheaper than hashing here).
    let mut weights: Vec<(u32, f32)> = parts.iter().take(20).copied().collect();
    weights.sort_unstable_by_key(|(t, _)| *t);
    let weight = |t: &u32| weights.binary_search_by_key(t, |(id, _)| *id).ok().map(|i| weights[i].1);
    let best = doc
        .sentences
        .iter()
        .filter(|(l, _, _)| *l == lang)
        .map(|(_, s, ids)| (ids.iter().filter_map(weight).sum::<f32>(), s))
        .filter(|(score, _)| *score > 0.0)
        .max_by(|a, b| a.0.total_cmp(&b.0))?
        .1;
    Some(truncate(best, 200))
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let cut: String = s.chars().take(max).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head).to_owned();
    format!("{cut} …")
}

pub(super) fn explanation(
    lang: Language,
    summary: String,
    eligibility: Vec<crate::EligibilityLine>,
    matched_terms: Vec<String>,
    evidence: Option<String>,
) -> Explanation {
    Explanation { language: lang, summary, eligibility, matched_terms, evidence, ranker_version: RANKER_VERSION.into() }
}

fn list(terms: &[String]) -> String {
    terms.iter().take(4).map(String::as_str).collect::<Vec<_>>().join(", ")
}

pub(super) fn call_summary(lang: Language, title: &str, terms: &[String], deadline: Option<NaiveDate>) -> String {
    let d = deadline.map(|d| d.to_string());
    match lang {
        Language::Sv => format!(
            "«{title}» matchar er verksamhet ({}). Sista ansökningsdag: {}.",
            list(terms),
            d.as_deref().unwrap_or("okänd")
        ),
        Language::En => {
            format!("“{title}” matches your work ({}). Deadline: {}.", list(terms), d.as_deref().unwrap_or("not known"))
        }
    }
}

pub(super) fn mission_summary(lang: Language, name: &str, terms: &[String], declared: bool) -> String {
    match (lang, declared) {
        (Language::Sv, true) => {
            format!("Ni har angett intresse för EU-uppdraget «{name}», och er profil stämmer ({}).", list(terms))
        }
        (Language::Sv, false) => format!("Er profil passar EU-uppdraget «{name}» ({}).", list(terms)),
        (Language::En, true) => {
            format!("You declared an interest in the EU Mission “{name}”, and your profile fits ({}).", list(terms))
        }
        (Language::En, false) => format!("Your profile fits the EU Mission “{name}” ({}).", list(terms)),
    }
}

pub(super) fn area_summary(lang: Language, label: &str, terms: &[String], nace: bool) -> String {
    let t = list(terms);
    match (lang, nace) {
        (Language::Sv, true) => format!("Er bransch (SNI/NACE) och profil hör till Blekinges område «{label}» ({t})."),
        (Language::Sv, false) => format!("Er profil passar Blekinges smarta specialiseringsområde «{label}» ({t})."),
        (Language::En, true) => format!("Your industry (NACE) and profile belong to Blekinge's area “{label}” ({t})."),
        (Language::En, false) => format!("Your profile fits Blekinge's smart-specialisation area “{label}” ({t})."),
    }
}

pub(super) fn partner_summary(lang: Language, name: &str, kind: &str, terms: &[String], complementary: bool) -> String {
    let t = list(terms);
    match (lang, complementary) {
        (Language::Sv, true) => format!("{name} ({kind}) kan komplettera er i ett konsortium; gemensamt fokus: {t}."),
        (Language::Sv, false) => format!("{name} ({kind}) kan bli partner i ett konsortium; gemensamt fokus: {t}."),
        (Language::En, true) => format!("{name} ({kind}) could complement you in a consortium; shared focus: {t}."),
        (Language::En, false) => format!("{name} ({kind}) could join you in a consortium; shared focus: {t}."),
    }
}
