//! The request/reply contract of Brygga's query service (NATS Service API, `svc-query`):
//! requests, their decoding (every faulty field named), replies and the error codes.
//!
//! | endpoint (`{p}.query.v1.…`) | request | reply |
//! |---|---|---|
//! | `recommendations` | [`RecommendationsRequestV1`] | [`RecommendationsReplyV1`] |
//! | `recommendation` | [`RecommendationRequestV1`] | [`RecommendationReplyV1`] |
//! | `call-matches` | [`CallMatchesRequestV1`] | [`CallMatchesReplyV1`] |
//! | `stats` | `{}` (or nothing) | [`StatsReplyV1`] |
//! | `snapshot` | [`SnapshotRequestV1`] | [`SnapshotReplyV1`] |
//!
//! A refused request gets the Service API's error headers (`Nats-Service-Error`,
//! `Nats-Service-Error-Code`) with a [`QueryError`]'s code and message and an empty body.

use crate::RecommendationV1;
use brygga_domain::{CallId, OrgId, Target};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The endpoints, in the order the service registers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Recommendations,
    Recommendation,
    CallMatches,
    Stats,
    Snapshot,
}

impl Endpoint {
    pub const ALL: [Endpoint; 5] =
        [Self::Recommendations, Self::Recommendation, Self::CallMatches, Self::Stats, Self::Snapshot];

    /// The JSON Schema files of its request and reply (see [`schemas`]).
    pub fn schema_files(self) -> (&'static str, &'static str) {
        match self {
            Self::Recommendations => {
                ("query.recommendations.request.v1.schema.json", "query.recommendations.reply.v1.schema.json")
            }
            Self::Recommendation => {
                ("query.recommendation.request.v1.schema.json", "query.recommendation.reply.v1.schema.json")
            }
            Self::CallMatches => {
                ("query.call-matches.request.v1.schema.json", "query.call-matches.reply.v1.schema.json")
            }
            Self::Stats => ("query.stats.request.v1.schema.json", "query.stats.reply.v1.schema.json"),
            Self::Snapshot => ("query.snapshot.request.v1.schema.json", "query.snapshot.reply.v1.schema.json"),
        }
    }

    /// What it answers, for discovery and the AsyncAPI document.
    pub fn summary(self) -> &'static str {
        match self {
            Self::Recommendations => {
                "An organisation's active recommendations (optionally of one kind), by kind then rank."
            }
            Self::Recommendation => "One recommendation with its explanation, active or withdrawn.",
            Self::CallMatches => "The organisations a call is actively recommended to, best score first.",
            Self::Stats => "Counts: organisations, open calls, active recommendations by kind, outbox backlog.",
            Self::Snapshot => {
                "Every active recommendation, a page at a time by id (`after`, `next`): a consumer's re-sync."
            }
        }
    }

    /// The endpoint's name, the last token of its subject.
    pub fn name(self) -> &'static str {
        match self {
            Self::Recommendations => "recommendations",
            Self::Recommendation => "recommendation",
            Self::CallMatches => "call-matches",
            Self::Stats => "stats",
            Self::Snapshot => "snapshot",
        }
    }
}

/// `recommendations`: an organisation's active recommendations, by kind then rank.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecommendationsRequestV1 {
    pub organisation_id: String,
    /// Only this kind of target: `mission`, `s3_area`, `call` or `partner`.
    #[serde(default)]
    pub kind: Option<String>,
}

/// `recommendation`: one recommendation with its explanation, active or withdrawn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecommendationRequestV1 {
    /// The `recommendation_id` of a recommendation event (a UUID).
    pub recommendation_id: String,
}

/// `call-matches`: the organisations a call is actively recommended to, best first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CallMatchesRequestV1 {
    pub call_id: String,
    /// At most this many (1-1000, default 100).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// `snapshot`: every active recommendation, a page at a time in recommendation-id order. A
/// consumer that lost its state re-syncs so: note the recommendation stream's last sequence,
/// read every page (`after` = the previous reply's `next`, until `next` is null), then consume
/// the stream after that sequence, keeping per recommendation the highest revision (the store is
/// committed before its events are published, so anything on the stream from before the
/// snapshot carries a revision the snapshot already has or passed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SnapshotRequestV1 {
    /// Start after this recommendation id (a UUID); none: from the first.
    #[serde(default)]
    pub after: Option<String>,
    /// At most this many (1-1000, default 500).
    #[serde(default)]
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SnapshotReplyV1 {
    /// In recommendation-id order; `change` reads `created` or `updated`.
    pub recommendations: Vec<RecommendationV1>,
    /// Pass as `after` for the next page; null when this was the last.
    pub next: Option<String>,
}

/// `stats`: takes nothing (an empty body or `{}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StatsRequestV1 {}

/// A decoded request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    Recommendations { org: OrgId, kind: Option<&'static str> },
    Recommendation { id: uuid::Uuid },
    CallMatches { call: CallId, limit: u32 },
    Stats,
    Snapshot { after: Option<uuid::Uuid>, limit: u32 },
}

pub const DEFAULT_CALL_MATCHES: u32 = 100;
pub const MAX_CALL_MATCHES: u32 = 1000;
pub const DEFAULT_SNAPSHOT_PAGE: u32 = 500;
pub const MAX_SNAPSHOT_PAGE: u32 = 1000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RecommendationsReplyV1 {
    pub organisation_id: String,
    /// `change` reads `created` for a first revision, else `updated`; `caused_by` is empty.
    pub recommendations: Vec<RecommendationV1>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RecommendationReplyV1 {
    /// False once withdrawn (`change` then reads `withdrawn`).
    pub active: bool,
    pub recommendation: RecommendationV1,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CallMatchV1 {
    pub organisation_id: String,
    pub recommendation_id: String,
    pub revision: u32,
    pub score: u8,
    /// The call's rank among the organisation's call recommendations.
    pub rank: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CallMatchesReplyV1 {
    pub call_id: String,
    /// Best score first (ties by organisation id).
    pub organisations: Vec<CallMatchV1>,
    /// More organisations hold the call than `limit` let through.
    pub truncated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct StatsReplyV1 {
    /// Registered and not removed.
    pub organisations: u64,
    /// Published and not closed.
    pub calls: u64,
    /// Active recommendations by target kind.
    pub active_recommendations: std::collections::BTreeMap<String, u64>,
    /// Outbox rows not yet on the bus.
    pub outbox_backlog: u64,
}

/// The JSON Schemas of every request and reply, by file name (committed under `schemas/`).
pub fn schemas() -> Vec<(&'static str, Value)> {
    use schemars::schema_for;
    use serde_json::json;
    const ID: &str = "^[A-Za-z0-9_:-]{1,128}$";
    let mut out = Vec::new();
    for e in Endpoint::ALL {
        let (request, reply) = e.schema_files();
        let (mut req, mut rep) = match e {
            Endpoint::Recommendations => {
                let mut req = schema_for!(RecommendationsRequestV1).to_value();
                req["properties"]["organisation_id"]["pattern"] = json!(ID);
                req["properties"]["kind"]["enum"] =
                    json!(Target::KINDS.iter().map(|k| json!(k)).chain([Value::Null]).collect::<Vec<_>>());
                (req, schema_for!(RecommendationsReplyV1).to_value())
            }
            Endpoint::Recommendation => {
                let mut req = schema_for!(RecommendationRequestV1).to_value();
                req["properties"]["recommendation_id"]["format"] = json!("uuid");
                (req, schema_for!(RecommendationReplyV1).to_value())
            }
            Endpoint::CallMatches => {
                let mut req = schema_for!(CallMatchesRequestV1).to_value();
                req["properties"]["call_id"]["pattern"] = json!(ID);
                req["properties"]["limit"]["minimum"] = json!(1);
                req["properties"]["limit"]["maximum"] = json!(MAX_CALL_MATCHES);
                (req, schema_for!(CallMatchesReplyV1).to_value())
            }
            Endpoint::Stats => (schema_for!(StatsRequestV1).to_value(), schema_for!(StatsReplyV1).to_value()),
            Endpoint::Snapshot => {
                let mut req = schema_for!(SnapshotRequestV1).to_value();
                req["properties"]["after"]["format"] = json!("uuid");
                req["properties"]["limit"]["minimum"] = json!(1);
                req["properties"]["limit"]["maximum"] = json!(MAX_SNAPSHOT_PAGE);
                (req, schema_for!(SnapshotReplyV1).to_value())
            }
        };
        for (file, s, what) in [(request, &mut req, "request"), (reply, &mut rep, "reply")] {
            s["$id"] = json!(format!("urn:brygga:schema:{}", file.trim_end_matches(".schema.json")));
            s["title"] = json!(format!("query {} {what}, v1", e.name()));
        }
        out.push((request, req));
        out.push((reply, rep));
    }
    out
}

/// Why a request was not answered; `code` follows HTTP's meaning.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// Names every faulty field.
    #[error("bad request: {}", .0.join("; "))]
    BadRequest(Vec<String>),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("the database is unavailable; try again")]
    Unavailable,
    #[error("internal error")]
    Internal,
}

impl QueryError {
    pub fn code(&self) -> usize {
        match self {
            Self::BadRequest(_) => 400,
            Self::NotFound(_) => 404,
            Self::Unavailable => 503,
            Self::Internal => 500,
        }
    }
}

/// Decodes a request to `endpoint`, naming every faulty field (a request is a JSON object; an
/// empty body is `{}`); values are not echoed.
pub fn decode_query(endpoint: Endpoint, body: &[u8]) -> Result<Query, QueryError> {
    let mut faults = Vec::new();
    let object = if body.iter().all(u8::is_ascii_whitespace) {
        Map::new()
    } else {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(m)) => m,
            Ok(_) => return Err(QueryError::BadRequest(vec!["the request is not a JSON object".into()])),
            Err(e) => return Err(QueryError::BadRequest(vec![format!("the request is not JSON ({e})")])),
        }
    };
    let known: &[&str] = match endpoint {
        Endpoint::Recommendations => &["organisation_id", "kind"],
        Endpoint::Recommendation => &["recommendation_id"],
        Endpoint::CallMatches => &["call_id", "limit"],
        Endpoint::Stats => &[],
        Endpoint::Snapshot => &["after", "limit"],
    };
    for key in object.keys().filter(|k| !known.contains(&k.as_str())) {
        faults.push(format!("{}: unknown field", printable(key)));
    }
    let mut field = Fields { object: &object, faults: &mut faults };
    let query = match endpoint {
        Endpoint::Recommendations => {
            let org = field.id("organisation_id", OrgId::parse);
            let kind = field.optional_str("kind").and_then(|k| {
                let found = Target::KINDS.iter().copied().find(|known| *known == k);
                if found.is_none() {
                    field.fault("kind", &format!("one of {}", Target::KINDS.join(", ")));
                }
                found
            });
            org.map(|org| Query::Recommendations { org, kind })
        }
        Endpoint::Recommendation => field
            .required_str("recommendation_id")
            .and_then(|s| match uuid::Uuid::parse_str(s) {
                Ok(id) => Some(id),
                Err(_) => {
                    field.fault("recommendation_id", "a UUID");
                    None
                }
            })
            .map(|id| Query::Recommendation { id }),
        Endpoint::CallMatches => {
            let call = field.id("call_id", CallId::parse);
            let limit = field.limit(DEFAULT_CALL_MATCHES, MAX_CALL_MATCHES);
            call.zip(limit).map(|(call, limit)| Query::CallMatches { call, limit })
        }
        Endpoint::Stats => Some(Query::Stats),
        Endpoint::Snapshot => {
            let after = match field.optional_str("after") {
                None => Some(None),
                Some(s) => match uuid::Uuid::parse_str(s) {
                    Ok(id) => Some(Some(id)),
                    Err(_) => {
                        field.fault("after", "a UUID");
                        None
                    }
                },
            };
            let limit = field.limit(DEFAULT_SNAPSHOT_PAGE, MAX_SNAPSHOT_PAGE);
            after.zip(limit).map(|(after, limit)| Query::Snapshot { after, limit })
        }
    };
    match query {
        Some(q) if faults.is_empty() => Ok(q),
        _ => Err(QueryError::BadRequest(faults)),
    }
}

/// Reads fields of a request object, collecting what is wrong with them.
struct Fields<'a> {
    object: &'a Map<String, Value>,
    faults: &'a mut Vec<String>,
}

impl<'a> Fields<'a> {
    fn fault(&mut self, field: &str, expected: &str) {
        self.faults.push(format!("{field}: expected {expected}"));
    }

    fn required_str(&mut self, field: &str) -> Option<&'a str> {
        match self.object.get(field) {
            None | Some(Value::Null) => {
                self.faults.push(format!("{field}: missing"));
                None
            }
            Some(Value::String(s)) => Some(s),
            Some(_) => {
                self.fault(field, "a string");
                None
            }
        }
    }

    fn optional_str(&mut self, field: &str) -> Option<&'a str> {
        match self.object.get(field) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s),
            Some(_) => {
                self.fault(field, "a string");
                None
            }
        }
    }

    /// `limit`: absent or null is `default`; else an integer from 1 to `max`.
    fn limit(&mut self, default: u32, max: u32) -> Option<u32> {
        match self.object.get("limit") {
            None | Some(Value::Null) => Some(default),
            Some(v) => match v.as_u64().and_then(|n| u32::try_from(n).ok()) {
                Some(n) if (1..=max).contains(&n) => Some(n),
                _ => {
                    self.fault("limit", &format!("an integer from 1 to {max}"));
                    None
                }
            },
        }
    }

    fn id<T, E>(&mut self, field: &str, parse: impl Fn(String) -> Result<T, E>) -> Option<T> {
        let s = self.required_str(field)?;
        let parsed = parse(s.to_owned()).ok();
        if parsed.is_none() {
            self.fault(field, "an id (1-128 of A-Z, a-z, 0-9, '_', '-', ':')");
        }
        parsed
    }
}

/// A field name as it may be shown in a one-line error: at most 64 printable characters.
fn printable(key: &str) -> String {
    let mut s: String = key.chars().filter(|c| !c.is_control()).take(64).collect();
    if s.len() < key.len() {
        s.push('…');
    }
    format!("{s:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bad(endpoint: Endpoint, body: &str) -> Vec<String> {
        match decode_query(endpoint, body.as_bytes()) {
            Err(QueryError::BadRequest(f)) => f,
            other => panic!("expected a bad request, got {other:?}"),
        }
    }

    #[test]
    fn decodes_each_endpoint() {
        let q = decode_query(Endpoint::Recommendations, br#"{"organisation_id":"org-1","kind":"call"}"#);
        assert_eq!(q, Ok(Query::Recommendations { org: OrgId::parse("org-1").expect("id"), kind: Some("call") }));
        let id = uuid::Uuid::new_v4();
        let q = decode_query(Endpoint::Recommendation, format!(r#"{{"recommendation_id":"{id}"}}"#).as_bytes());
        assert_eq!(q, Ok(Query::Recommendation { id }));
        let q = decode_query(Endpoint::CallMatches, br#"{"call_id":"HORIZON-1"}"#);
        assert_eq!(q, Ok(Query::CallMatches { call: CallId::parse("HORIZON-1").expect("id"), limit: 100 }));
        assert_eq!(decode_query(Endpoint::Stats, b""), Ok(Query::Stats));
        assert_eq!(decode_query(Endpoint::Stats, b" {} "), Ok(Query::Stats));
        assert_eq!(decode_query(Endpoint::Snapshot, b"{}"), Ok(Query::Snapshot { after: None, limit: 500 }));
        let q = decode_query(Endpoint::Snapshot, format!(r#"{{"after":"{id}","limit":2}}"#).as_bytes());
        assert_eq!(q, Ok(Query::Snapshot { after: Some(id), limit: 2 }));
    }

    #[test]
    fn names_every_faulty_field() {
        let f = bad(Endpoint::Recommendations, r#"{"organisation_id":"a b","kind":"x","extra":1}"#);
        assert_eq!(f.len(), 3, "{f:?}");
        assert!(f.iter().any(|m| m.starts_with("\"extra\": unknown field")), "{f:?}");
        assert!(f.iter().any(|m| m.starts_with("organisation_id: expected an id")), "{f:?}");
        assert!(f.iter().any(|m| m.starts_with("kind: expected one of mission")), "{f:?}");
        let f = bad(Endpoint::CallMatches, r#"{"limit":0}"#);
        assert_eq!(f, vec!["call_id: missing".to_owned(), "limit: expected an integer from 1 to 1000".to_owned()]);
        assert_eq!(
            bad(Endpoint::Recommendation, r#"{"recommendation_id":7}"#),
            vec!["recommendation_id: expected a string"]
        );
        assert_eq!(
            bad(Endpoint::Recommendation, r#"{"recommendation_id":"nope"}"#),
            vec!["recommendation_id: expected a UUID"]
        );
        assert_eq!(bad(Endpoint::Stats, "[1]"), vec!["the request is not a JSON object"]);
        let f = bad(Endpoint::Snapshot, r#"{"after":"x","limit":5000}"#);
        assert_eq!(
            f,
            vec!["after: expected a UUID".to_owned(), "limit: expected an integer from 1 to 1000".to_owned()]
        );
        assert!(bad(Endpoint::Stats, "{").pop().expect("a fault").starts_with("the request is not JSON"));
    }

    #[test]
    fn does_not_echo_control_characters_or_long_keys() {
        let key = format!("a\n{}", "k".repeat(200));
        let f = bad(Endpoint::Stats, &serde_json::json!({ key: 1 }).to_string());
        assert!(!f[0].contains('\n') && f[0].chars().count() < 90, "{f:?}");
    }

    #[test]
    fn codes_follow_http() {
        assert_eq!(QueryError::BadRequest(vec![]).code(), 400);
        assert_eq!(QueryError::NotFound("x".into()).code(), 404);
        assert_eq!(QueryError::Unavailable.code(), 503);
        assert_eq!(QueryError::Internal.code(), 500);
    }
}
