//! Events as tests write them: organisations and calls as inbound payloads, a recommendation
//! as the matcher makes one, and what a consumer believes after reading the recommendation
//! stream.

use brygga_domain::{recommendation_id, CallId, Explanation, Language, OrgId, Recommendation, Target, RANKER_VERSION};
use brygga_events::{types, CloudEvent, RecommendationV1};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

/// An inbound organisation payload (a Swedish SME interested in the ocean mission).
pub fn org(id: &str, version: u64, lang: &str, description: &str, keywords: &[&str]) -> Value {
    json!({
        "id": id, "version": version, "name": format!("Org {id}"), "kind": "sme", "country": "SE", "nuts": "SE221",
        "nace": ["26.51"], "description": description, "description_language": lang, "keywords": keywords,
        "interests": {"missions": ["ocean"], "themes": []}, "preferred_language": lang,
        "consent": {"contact": true, "partner_suggestions": true}
    })
}

/// An inbound call payload (Horizon Europe, ocean mission, open).
pub fn call(id: &str, version: u64, title: &str, description: &str, deadline: &str) -> Value {
    json!({
        "id": id, "version": version, "programme": "horizon_europe", "title": title, "description": description,
        "keywords": [], "deadlines": [deadline], "missions": ["ocean"], "status": "open",
        "url": format!("https://example.org/{id}")
    })
}

/// What a consumer believes from the recommendation stream alone: each recommendation's
/// latest revision and whether it is active. Panics if an (id, revision) arrives twice.
pub fn consumer_view(recs: &[CloudEvent<RecommendationV1>]) -> BTreeMap<String, (u32, bool)> {
    let mut seen = BTreeSet::new();
    let mut view = BTreeMap::new();
    for e in recs {
        let d = &e.data;
        assert!(
            seen.insert((d.recommendation_id.clone(), d.revision)),
            "{} r{} twice",
            d.recommendation_id,
            d.revision
        );
        let active = e.ty != types::RECOMMENDATION_WITHDRAWN;
        let entry = view.entry(d.recommendation_id.clone()).or_insert((d.revision, active));
        if d.revision >= entry.0 {
            *entry = (d.revision, active);
        }
    }
    view
}

/// A recommendation of call `call` to organisation `org` with `score` (a Swedish explanation
/// with one matched term, no eligibility lines).
pub fn call_recommendation(org: &str, call: &str, score: u8) -> Recommendation {
    let org = OrgId::parse(org).expect("id");
    let target = Target::Call(CallId::parse(call).expect("id"));
    Recommendation {
        id: recommendation_id(&org, &target),
        org_id: org,
        target,
        title: "t".into(),
        url: None,
        score,
        rank: 1,
        deadline: None,
        explanation: Explanation {
            language: Language::Sv,
            summary: "s".into(),
            eligibility: vec![],
            matched_terms: vec!["hav".into()],
            evidence: None,
            ranker_version: RANKER_VERSION.into(),
        },
    }
}
