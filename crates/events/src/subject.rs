//! Subject and stream names, all under one configurable prefix (default `brygga`).
//!
//! | subject | stream | carries |
//! |---|---|---|
//! | `{p}.in.v1.organisation.{registered,updated,removed}` | `{P}_IN` | inbound organisation events |
//! | `{p}.in.v1.call.{published,updated,closed}` | `{P}_IN` | inbound call events |
//! | `{p}.in.v1.organisation.preferences.updated`, `{p}.in.v1.recommendation.feedback` | `{P}_IN` | notification preferences, feedback |
//! | `{p}.registry.v1.organisation.{org_id}` / `.call.{call_id}` / `.feedback.{org_id}` | `{P}_REGISTRY` | validated state, from ingest to the matcher |
//! | `{p}.rec.v1.{org_id}.{created,updated,withdrawn}` | `{P}_REC` | recommendations |
//! | `{p}.dlq.v1.{service}` | `{P}_DLQ` | dead letters with their reason |
//! | `{p}.query.v1.{endpoint}` | none (request/reply) | the query service (`crate::query`) |

/// Inbound organisation events: `registered`, `updated`, `removed`.
pub fn inbound_organisation(prefix: &str, action: &str) -> String {
    format!("{prefix}.in.v1.organisation.{action}")
}
/// Inbound call events: `published`, `updated`, `closed`.
pub fn inbound_call(prefix: &str, action: &str) -> String {
    format!("{prefix}.in.v1.call.{action}")
}
/// Everything inbound (the ingest consumer's filter).
pub fn inbound_all(prefix: &str) -> String {
    format!("{prefix}.in.>")
}
/// Inbound feedback on recommendations: `feedback`.
pub fn inbound_recommendation(prefix: &str, action: &str) -> String {
    format!("{prefix}.in.v1.recommendation.{action}")
}
/// An organisation's feedback, announced to the matcher.
pub fn registry_feedback(prefix: &str, org_id: &str) -> String {
    format!("{prefix}.registry.v1.feedback.{org_id}")
}
pub fn registry_organisation(prefix: &str, org_id: &str) -> String {
    format!("{prefix}.registry.v1.organisation.{org_id}")
}
pub fn registry_call(prefix: &str, call_id: &str) -> String {
    format!("{prefix}.registry.v1.call.{call_id}")
}
pub fn registry_all(prefix: &str) -> String {
    format!("{prefix}.registry.>")
}
/// A recommendation change for one organisation (`created`, `updated`, `withdrawn`).
pub fn recommendation(prefix: &str, org_id: &str, change: &str) -> String {
    format!("{prefix}.rec.v1.{org_id}.{change}")
}
/// All recommendations of one organisation: what a per-organisation consumer subscribes to.
pub fn recommendations_for(prefix: &str, org_id: &str) -> String {
    format!("{prefix}.rec.v1.{org_id}.>")
}
pub fn recommendations_all(prefix: &str) -> String {
    format!("{prefix}.rec.>")
}
pub fn dead_letter(prefix: &str, service: &str) -> String {
    format!("{prefix}.dlq.v1.{service}")
}
pub fn dead_letters_all(prefix: &str) -> String {
    format!("{prefix}.dlq.>")
}
/// A query service endpoint (request/reply on core NATS, no stream).
pub fn query(prefix: &str, endpoint: &str) -> String {
    format!("{prefix}.query.v1.{endpoint}")
}

/// The streams Brygga owns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Inbound,
    Registry,
    Recommendations,
    DeadLetters,
}

impl Stream {
    pub const ALL: [Stream; 4] = [Self::Inbound, Self::Registry, Self::Recommendations, Self::DeadLetters];

    /// `brygga` → `BRYGGA_IN`; a prefix like `t-1.x` → `T_1_X_IN`.
    pub fn name(self, prefix: &str) -> String {
        let p: String =
            prefix.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect();
        let suffix = match self {
            Self::Inbound => "IN",
            Self::Registry => "REGISTRY",
            Self::Recommendations => "REC",
            Self::DeadLetters => "DLQ",
        };
        format!("{p}_{suffix}")
    }

    pub fn subjects(self, prefix: &str) -> Vec<String> {
        vec![match self {
            Self::Inbound => inbound_all(prefix),
            Self::Registry => registry_all(prefix),
            Self::Recommendations => recommendations_all(prefix),
            Self::DeadLetters => dead_letters_all(prefix),
        }]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_prefix() {
        assert_eq!(recommendation("brygga", "o-1", "created"), "brygga.rec.v1.o-1.created");
        assert_eq!(recommendations_for("brygga", "o-1"), "brygga.rec.v1.o-1.>");
        assert_eq!(Stream::Registry.name("t-1.x"), "T_1_X_REGISTRY");
        assert_eq!(Stream::Inbound.subjects("brygga"), vec!["brygga.in.>"]);
    }
}
