//! Recommendations, their deterministic ids, and reconciliation of what should be
//! recommended against what already was (created / updated / withdrawn).

use crate::{CallId, EligibilityLine, Language, MissionId, OrgId};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use uuid::Uuid;

/// Version of the ranking code; carried in every explanation.
pub const RANKER_VERSION: &str = "brygga-lexical-2";

/// Namespace for name-based (v5) ids of recommendations and their events.
const NAMESPACE: Uuid = Uuid::from_u128(0x6272_7967_6761_4000_8000_7265_636f_6d6d);

/// What a recommendation points the organisation to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Target {
    Mission(MissionId),
    S3Area(String),
    Call(CallId),
    Partner(OrgId),
}

impl Target {
    /// Every [`Target::kind`].
    pub const KINDS: [&'static str; 4] = ["mission", "s3_area", "call", "partner"];

    pub fn kind(&self) -> &'static str {
        match self {
            Self::Mission(_) => "mission",
            Self::S3Area(_) => "s3_area",
            Self::Call(_) => "call",
            Self::Partner(_) => "partner",
        }
    }
    pub fn id(&self) -> &str {
        match self {
            Self::Mission(m) => m.as_str(),
            Self::S3Area(a) => a,
            Self::Call(c) => c.as_str(),
            Self::Partner(o) => o.as_str(),
        }
    }
}

/// Why a recommendation is made, in the organisation's language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    pub language: Language,
    pub summary: String,
    pub eligibility: Vec<EligibilityLine>,
    /// Terms that contributed most to the score, as written in the target's text.
    pub matched_terms: Vec<String>,
    /// A short quote from the target's text holding the matched terms.
    pub evidence: Option<String>,
    pub ranker_version: String,
}

/// One recommendation: an organisation, a target, a score and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    pub id: Uuid,
    pub org_id: OrgId,
    pub target: Target,
    pub title: String,
    pub url: Option<String>,
    /// 0-100, comparable across organisations.
    pub score: u8,
    /// 1-based rank among this organisation's recommendations of the same kind.
    pub rank: u16,
    pub deadline: Option<NaiveDate>,
    pub explanation: Explanation,
}

/// The deterministic id of the recommendation of `target` to `org`.
pub fn recommendation_id(org: &OrgId, target: &Target) -> Uuid {
    Uuid::new_v5(&NAMESPACE, format!("{org}\u{1f}{}\u{1f}{}", target.kind(), target.id()).as_bytes())
}

/// The deterministic id of the event announcing `revision` of recommendation `id`.
pub fn recommendation_event_id(id: Uuid, revision: u32) -> Uuid {
    Uuid::new_v5(&NAMESPACE, format!("{id}\u{1f}{revision}").as_bytes())
}

/// A recommendation as last published, with its revision (1 = created).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Published {
    pub rec: Recommendation,
    pub revision: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Created,
    Updated,
    Withdrawn,
}

/// A change to publish: the recommendation at its new revision.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub kind: ChangeKind,
    pub rec: Recommendation,
    pub revision: u32,
}

/// Compares what should be recommended now with what is active, and returns the changes.
///
/// Revisions never repeat: a recommendation that was withdrawn and is wanted again is
/// `Created` at the revision after its withdrawal (`withdrawn` holds the last revision of
/// inactive ones), so its event id is new and no consumer misses it.
///
/// A change is *material*, and gives `Updated`, when the score moves by at least
/// `min_score_delta`, the deadline or title changes, or an eligibility status changes;
/// smaller score jitter (for example from corpus statistics shifting) is not published.
/// Recommendations no longer wanted are `Withdrawn`; `withdraw_reason` says why.
pub fn reconcile(
    desired: Vec<Recommendation>,
    active: Vec<Published>,
    withdrawn: &HashMap<Uuid, u32>,
    min_score_delta: u8,
    mut withdraw_reason: impl FnMut(&Recommendation) -> String,
) -> Vec<Change> {
    let mut active: HashMap<Uuid, Published> = active.into_iter().map(|p| (p.rec.id, p)).collect();
    let mut changes = Vec::new();
    for rec in desired {
        match active.remove(&rec.id) {
            None => {
                let revision = withdrawn.get(&rec.id).map_or(1, |r| r + 1);
                changes.push(Change { kind: ChangeKind::Created, rec, revision })
            }
            Some(p) if is_material(&p.rec, &rec, min_score_delta) => {
                changes.push(Change { kind: ChangeKind::Updated, rec, revision: p.revision + 1 })
            }
            Some(_) => {}
        }
    }
    let mut gone: Vec<_> = active.into_values().collect();
    gone.sort_by_key(|p| p.rec.id);
    for mut p in gone {
        p.rec.explanation.summary = withdraw_reason(&p.rec);
        changes.push(Change { kind: ChangeKind::Withdrawn, rec: p.rec, revision: p.revision + 1 });
    }
    changes
}

fn is_material(old: &Recommendation, new: &Recommendation, min_score_delta: u8) -> bool {
    let statuses =
        |r: &Recommendation| r.explanation.eligibility.iter().map(|l| (l.criterion, l.status)).collect::<Vec<_>>();
    old.score.abs_diff(new.score) >= min_score_delta
        || old.deadline != new.deadline
        || old.title != new.title
        || old.explanation.language != new.explanation.language
        || statuses(old) != statuses(new)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(target: &str, score: u8) -> Recommendation {
        let org = OrgId::parse("o1").expect("id");
        let target = Target::Call(CallId::parse(target).expect("id"));
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
                language: Language::En,
                summary: "s".into(),
                eligibility: vec![],
                matched_terms: vec![],
                evidence: None,
                ranker_version: RANKER_VERSION.into(),
            },
        }
    }

    #[test]
    fn ids_are_deterministic_and_distinct() {
        let o = OrgId::parse("o1").expect("id");
        let a = Target::Mission(MissionId::Ocean);
        assert_eq!(recommendation_id(&o, &a), recommendation_id(&o, &a));
        assert_ne!(recommendation_id(&o, &a), recommendation_id(&o, &Target::Mission(MissionId::Soil)));
        assert_ne!(
            recommendation_event_id(recommendation_id(&o, &a), 1),
            recommendation_event_id(recommendation_id(&o, &a), 2)
        );
    }

    #[test]
    fn reconcile_creates_updates_on_material_change_and_withdraws() {
        let active = vec![
            Published { rec: rec("A", 50), revision: 1 },
            Published { rec: rec("B", 60), revision: 2 },
            Published { rec: rec("C", 70), revision: 1 },
        ];
        let desired = vec![rec("A", 52), rec("B", 70), rec("D", 40)];
        let changes = reconcile(desired, active, &HashMap::new(), 5, |_| "gone".into());
        let got: Vec<_> = changes.iter().map(|c| (c.kind, c.rec.target.id().to_owned(), c.revision)).collect();
        assert_eq!(
            got,
            vec![
                (ChangeKind::Updated, "B".into(), 3),
                (ChangeKind::Created, "D".into(), 1),
                (ChangeKind::Withdrawn, "C".into(), 2)
            ]
        );
        assert_eq!(changes[2].rec.explanation.summary, "gone");
    }

    #[test]
    fn reconcile_of_same_state_is_empty() {
        let active = vec![Published { rec: rec("A", 50), revision: 1 }];
        assert!(reconcile(vec![rec("A", 50)], active, &HashMap::new(), 5, |_| String::new()).is_empty());
    }

    /// Issue 7, bug 2: a withdrawn recommendation wanted again restarted at revision 1, so its
    /// event id equalled the first `created` event's and the outbox dropped it.
    #[test]
    fn a_recommendation_wanted_again_continues_its_revisions() {
        let a = rec("A", 50);
        let withdrawn = HashMap::from([(a.id, 2)]);
        let changes = reconcile(vec![a.clone()], vec![], &withdrawn, 5, |_| String::new());
        assert_eq!(changes.len(), 1);
        assert_eq!((changes[0].kind, changes[0].revision), (ChangeKind::Created, 3));
        let first = recommendation_event_id(a.id, 1);
        assert_ne!(recommendation_event_id(a.id, changes[0].revision), first);
    }
}
