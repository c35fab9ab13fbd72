//! Outbound and internal contracts: registry state (ingest → matcher), recommendations
//! (matcher → notification consumers) and dead letters.

use crate::inbound::{CallV1, OrganisationV1};
use brygga_domain::{ChangeKind, Criterion, Language, Published, Recommendation, Tri};
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `data` of `registry.organisation.v1`: the validated state, or its removal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RegistryOrganisationV1 {
    pub id: String,
    pub version: u64,
    /// `None` when the organisation was removed.
    pub organisation: Option<OrganisationV1>,
    /// Id of the inbound event that caused this state.
    pub caused_by: String,
}

/// `data` of `registry.call.v1`: the validated state, or its closing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RegistryCallV1 {
    pub id: String,
    pub version: u64,
    /// `None` when the call was closed.
    pub call: Option<CallV1>,
    pub caused_by: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TargetV1 {
    /// `mission`, `s3_area`, `call` or `partner`.
    pub kind: String,
    pub id: String,
    pub title: String,
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct EligibilityLineV1 {
    /// `status`, `deadline`, `organisation_kind`, `country`, `consortium`.
    pub criterion: String,
    /// `met`, `missed` or `unknown`.
    pub status: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ExplanationV1 {
    /// `sv` or `en`: the organisation's preferred language.
    pub language: String,
    pub summary: String,
    pub eligibility: Vec<EligibilityLineV1>,
    pub matched_terms: Vec<String>,
    pub evidence: Option<String>,
    pub ranker_version: String,
}

/// `data` of `recommendation.{created,updated,withdrawn}.v1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RecommendationV1 {
    /// Deterministic from (organisation, target).
    pub recommendation_id: String,
    /// 1 when created; +1 on every published change.
    pub revision: u32,
    /// `created`, `updated` or `withdrawn`.
    pub change: String,
    pub organisation_id: String,
    pub target: TargetV1,
    /// 0-100, comparable across organisations.
    pub score: u8,
    /// Rank among this organisation's recommendations of the same kind.
    pub rank: u16,
    /// Next deadline of a call target, `YYYY-MM-DD`.
    pub deadline: Option<String>,
    pub explanation: ExplanationV1,
    /// Ids of the events that led to this change.
    pub caused_by: Vec<String>,
}

impl RecommendationV1 {
    /// A stored recommendation as it stands (for queries and re-publishing): `created` at its
    /// first revision, else `updated`; `withdrawn` when it is not active.
    pub fn current(p: &Published, active: bool, caused_by: Vec<String>) -> Self {
        Self::from_domain(&p.rec, current_change(p, active), p.revision, caused_by)
    }

    pub fn from_domain(rec: &Recommendation, change: ChangeKind, revision: u32, caused_by: Vec<String>) -> Self {
        let e = &rec.explanation;
        Self {
            recommendation_id: rec.id.to_string(),
            revision,
            change: change_name(change).to_owned(),
            organisation_id: rec.org_id.to_string(),
            target: TargetV1 {
                kind: rec.target.kind().to_owned(),
                id: rec.target.id().to_owned(),
                title: rec.title.clone(),
                url: rec.url.clone(),
            },
            score: rec.score,
            rank: rec.rank,
            deadline: rec.deadline.map(|d| d.to_string()),
            explanation: ExplanationV1 {
                language: match e.language {
                    Language::Sv => "sv".into(),
                    Language::En => "en".into(),
                },
                summary: e.summary.clone(),
                eligibility: e
                    .eligibility
                    .iter()
                    .map(|l| EligibilityLineV1 {
                        criterion: criterion_name(l.criterion).into(),
                        status: tri_name(l.status).into(),
                        text: l.text.clone(),
                    })
                    .collect(),
                matched_terms: e.matched_terms.clone(),
                evidence: e.evidence.clone(),
                ranker_version: e.ranker_version.clone(),
            },
            caused_by,
        }
    }
}

/// Reads a recommendation event as consumers receive it (structured mode), or why not.
pub fn decode_recommendation(payload: &[u8]) -> Result<crate::CloudEvent<RecommendationV1>, crate::Rejection> {
    use crate::Rejection;
    let ev: crate::CloudEvent<RecommendationV1> =
        serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_slice(payload))
            .map_err(|e| Rejection::InvalidPayload(vec![format!("{}: {}", e.path(), e.inner())]))?;
    let known = [
        crate::types::RECOMMENDATION_CREATED,
        crate::types::RECOMMENDATION_UPDATED,
        crate::types::RECOMMENDATION_WITHDRAWN,
    ];
    if !known.contains(&ev.ty.as_str()) {
        return Err(Rejection::UnknownType(ev.ty));
    }
    Ok(ev)
}

/// The change that brought a stored recommendation to its state (see [`RecommendationV1::current`]).
pub fn current_change(p: &Published, active: bool) -> ChangeKind {
    match (active, p.revision) {
        (false, _) => ChangeKind::Withdrawn,
        (true, 0 | 1) => ChangeKind::Created,
        (true, _) => ChangeKind::Updated,
    }
}

pub fn change_name(c: ChangeKind) -> &'static str {
    match c {
        ChangeKind::Created => "created",
        ChangeKind::Updated => "updated",
        ChangeKind::Withdrawn => "withdrawn",
    }
}

pub fn change_type(c: ChangeKind) -> &'static str {
    use crate::envelope::types;
    match c {
        ChangeKind::Created => types::RECOMMENDATION_CREATED,
        ChangeKind::Updated => types::RECOMMENDATION_UPDATED,
        ChangeKind::Withdrawn => types::RECOMMENDATION_WITHDRAWN,
    }
}

fn criterion_name(c: Criterion) -> &'static str {
    match c {
        Criterion::Status => "status",
        Criterion::Deadline => "deadline",
        Criterion::OrganisationKind => "organisation_kind",
        Criterion::Country => "country",
        Criterion::Consortium => "consortium",
    }
}

fn tri_name(t: Tri) -> &'static str {
    match t {
        Tri::Met => "met",
        Tri::Missed => "missed",
        Tri::Unknown => "unknown",
    }
}

/// `data` of `deadletter.v1`: an event Brygga could not process, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DeadLetterV1 {
    /// `oversized`, `malformed_json`, `bad_envelope`, `unknown_type`, `unsupported_version`,
    /// `invalid_payload`, or `processing_failed` after the last retry.
    pub reason_code: String,
    pub reason: String,
    /// The service that gave up.
    pub service: String,
    pub original_subject: String,
    /// Stream sequence of the original message, to fetch it whole.
    pub original_stream_sequence: u64,
    pub deliveries: u64,
    /// The original payload as UTF-8 (lossy), cut to 64 KiB.
    pub payload: String,
    pub payload_bytes: usize,
    pub payload_truncated: bool,
    pub failed_at: DateTime<Utc>,
}

/// The largest payload copy kept in a dead letter.
pub const DEAD_LETTER_PAYLOAD_MAX: usize = 64 * 1024;

impl DeadLetterV1 {
    pub fn payload_copy(bytes: &[u8]) -> (String, bool) {
        let cut = &bytes[..bytes.len().min(DEAD_LETTER_PAYLOAD_MAX)];
        (String::from_utf8_lossy(cut).into_owned(), cut.len() < bytes.len())
    }
}
