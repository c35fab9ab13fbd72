//! `recommendation.feedback.v1`: what an organisation said about a recommendation (saved,
//! dismissed, applied, not relevant), and its registry announcement to the matcher.

use crate::inbound::{version, Errors, Rejection};
use crate::limits;
use brygga_domain::feedback::{Feedback, FeedbackKind};
use brygga_domain::{recommendation_id, CallId, MissionId, OrgId, Target};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The target of a recommendation, as on the recommendation events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetRefV1 {
    /// `mission`, `s3_area`, `call` or `partner`.
    pub kind: String,
    pub id: String,
}

/// `data` of `recommendation.feedback.v1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackV1 {
    pub organisation_id: String,
    /// The recommendation's id, as on its events (it must be the one of this organisation and target).
    pub recommendation_id: String,
    pub target: TargetRefV1,
    /// Increases with every feedback on this recommendation; older versions are ignored.
    pub version: u64,
    /// `saved`, `dismissed`, `applied` or `not_relevant`.
    pub feedback: String,
    /// Why, in the organisation's words.
    #[serde(default)]
    pub reason: Option<String>,
}

impl TargetRefV1 {
    /// The target it names, or what is wrong with it.
    pub fn read(&self) -> Result<Target, String> {
        target(&self.kind, &self.id)
    }
}

/// Reads a target reference, or says what is wrong with it.
fn target(kind: &str, id: &str) -> Result<Target, String> {
    match kind {
        "call" => CallId::parse(id).map(Target::Call).map_err(|e| e.to_string()),
        "partner" => OrgId::parse(id).map(Target::Partner).map_err(|e| e.to_string()),
        "mission" => MissionId::parse(id)
            .map(Target::Mission)
            .ok_or_else(|| format!("{id:?} is not a mission (adaptation, cancer, ocean, cities, soil)")),
        "s3_area" => {
            limits::text(id, limits::MAX_KEYWORD, false)?;
            if id.trim().is_empty() {
                return Err("must not be empty".into());
            }
            Ok(Target::S3Area(id.to_owned()))
        }
        other => {
            let shown: String = other.chars().take(40).collect();
            Err(format!("{shown:?} is not a target kind (mission, s3_area, call, partner)"))
        }
    }
}

impl FeedbackV1 {
    /// Validates every field and returns the domain feedback, or all field errors.
    pub fn into_domain(self) -> Result<Feedback, Rejection> {
        let mut e = Errors::default();
        let org_id = e.take("organisation_id", OrgId::parse(self.organisation_id));
        version(self.version, &mut e);
        let target = e.take("target", target(&self.target.kind, &self.target.id));
        let kind = FeedbackKind::parse(&self.feedback);
        if kind.is_none() {
            let shown: String = self.feedback.chars().take(40).collect();
            e.push("feedback", format!("{shown:?} is not feedback (saved, dismissed, applied, not_relevant)"));
        }
        if let Some(r) = &self.reason {
            e.text("reason", r, limits::MAX_TITLE, false);
        }
        if let (Some(o), Some(t)) = (&org_id, &target) {
            if recommendation_id(o, t).to_string() != self.recommendation_id {
                e.push("recommendation_id", "is not the recommendation of this organisation and target");
            }
        }
        match (org_id, target, kind, e.0.is_empty()) {
            (Some(org_id), Some(target), Some(kind), true) => {
                Ok(Feedback { org_id, target, version: self.version, kind, reason: self.reason })
            }
            _ => Err(Rejection::InvalidPayload(e.0)),
        }
    }

    pub fn from_domain(f: &Feedback) -> Self {
        Self {
            organisation_id: f.org_id.to_string(),
            recommendation_id: recommendation_id(&f.org_id, &f.target).to_string(),
            target: TargetRefV1 { kind: f.target.kind().to_owned(), id: f.target.id().to_owned() },
            version: f.version,
            feedback: f.kind.as_str().to_owned(),
            reason: f.reason.clone(),
        }
    }
}

/// `data` of `registry.feedback.v1` (Brygga internal, ingest → matcher): whether the target is
/// excluded for the organisation from now on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RegistryFeedbackV1 {
    pub organisation_id: String,
    pub target: TargetRefV1,
    pub version: u64,
    /// Dismissed or not relevant: not recommended to it again while the target stands.
    pub excluded: bool,
    /// A call's fingerprint when it was dismissed (`brygga_domain::feedback::call_fingerprint`).
    pub fingerprint: Option<String>,
    /// The organisation applied for it (a call): similar calls rank higher for it.
    #[serde(default)]
    pub applied: bool,
    pub caused_by: String,
}

impl RegistryFeedbackV1 {
    /// The organisation and target it is about, or what is wrong.
    pub fn read(&self) -> Result<(OrgId, Target), String> {
        let org = OrgId::parse(&self.organisation_id).map_err(|e| format!("organisation_id: {e}"))?;
        let t = self.target.read().map_err(|e| format!("target: {e}"))?;
        Ok((org, t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> FeedbackV1 {
        let org = OrgId::parse("o-1").expect("id");
        let t = Target::Call(CallId::parse("HORIZON-X").expect("id"));
        FeedbackV1 {
            organisation_id: "o-1".into(),
            recommendation_id: recommendation_id(&org, &t).to_string(),
            target: TargetRefV1 { kind: "call".into(), id: "HORIZON-X".into() },
            version: 1,
            feedback: "dismissed".into(),
            reason: Some("not our field".into()),
        }
    }

    #[test]
    fn valid_feedback_reads_back_the_same() {
        let f = valid().into_domain().expect("valid");
        assert_eq!(f.kind, FeedbackKind::Dismissed);
        assert_eq!(FeedbackV1::from_domain(&f), valid());
    }

    #[test]
    fn every_faulty_field_is_named() {
        let bad = FeedbackV1 {
            organisation_id: "o 1".into(),
            version: u64::MAX,
            feedback: "meh".into(),
            reason: Some("x\u{202e}y".into()),
            target: TargetRefV1 { kind: "planet".into(), id: "x".into() },
            ..valid()
        };
        let Err(Rejection::InvalidPayload(errs)) = bad.into_domain() else { panic!("refused") };
        for field in ["organisation_id", "version", "target", "feedback", "reason"] {
            assert!(errs.iter().any(|e| e.starts_with(field)), "{field} not named in {errs:?}");
        }
        let wrong = FeedbackV1 { recommendation_id: uuid::Uuid::nil().to_string(), ..valid() };
        let Err(Rejection::InvalidPayload(errs)) = wrong.into_domain() else { panic!("refused") };
        assert!(errs[0].starts_with("recommendation_id"), "{errs:?}");
    }
}
