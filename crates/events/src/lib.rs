//! Brygga's wire contracts: the CloudEvents envelope, versioned payloads, subject and
//! stream names, and decoding of inbound bytes into validated domain values.
//!
//! Main items: [`CloudEvent`], [`decode`], [`Rejection`], [`subject`], [`schemas`].
//! This crate does no I/O; it only defines and checks what crosses the bus.

mod envelope;
mod inbound;
pub mod limits;
mod outbound;
pub mod subject;

pub use envelope::{types, CloudEvent, CONTENT_TYPE, DATA_CONTENT_TYPE, SPEC_VERSION};
pub use inbound::{
    decode, BudgetV1, CallV1, ConsentV1, Decoded, Inbound, InterestsV1, OrganisationV1, ParticipationV1, Rejection,
    RemovedV1, SizeV1, DEFAULT_MAX_EVENT_BYTES, MAX_VERSION,
};
pub use outbound::{
    change_name, change_type, DeadLetterV1, EligibilityLineV1, ExplanationV1, RecommendationV1, RegistryCallV1,
    RegistryOrganisationV1, TargetV1, DEAD_LETTER_PAYLOAD_MAX,
};

/// JSON Schemas of every event, by file name; committed under `schemas/` and checked by a test.
pub fn schemas() -> Vec<(&'static str, serde_json::Value)> {
    use schemars::schema_for;
    let v = |s: schemars::Schema| s.to_value();
    vec![
        ("organisation.v1.schema.json", v(schema_for!(CloudEvent<OrganisationV1>))),
        ("removed.v1.schema.json", v(schema_for!(CloudEvent<RemovedV1>))),
        ("call.v1.schema.json", v(schema_for!(CloudEvent<CallV1>))),
        ("registry.organisation.v1.schema.json", v(schema_for!(CloudEvent<RegistryOrganisationV1>))),
        ("registry.call.v1.schema.json", v(schema_for!(CloudEvent<RegistryCallV1>))),
        ("recommendation.v1.schema.json", v(schema_for!(CloudEvent<RecommendationV1>))),
        ("deadletter.v1.schema.json", v(schema_for!(CloudEvent<DeadLetterV1>))),
    ]
}
