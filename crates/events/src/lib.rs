//! Brygga's wire contracts: the CloudEvents envelope, versioned payloads, subject and
//! stream names, and decoding of inbound bytes into validated domain values.
//!
//! Main items: [`CloudEvent`], [`decode`], [`Rejection`], [`subject`], [`schemas`], [`asyncapi`],
//! and the query service's requests and replies, [`query`].
//! This crate does no I/O; it only defines and checks what crosses the bus.

mod asyncapi;
mod envelope;
mod feedback;
mod inbound;
pub mod limits;
mod outbound;
mod preferences;
pub mod query;
mod shape;
pub mod subject;
pub mod trace;

pub use asyncapi::asyncapi;
pub use envelope::{types, CloudEvent, CONTENT_TYPE, DATA_CONTENT_TYPE, SPEC_VERSION};
pub use feedback::{FeedbackV1, RegistryFeedbackV1, TargetRefV1};
pub use inbound::{
    decode, decode_message, BudgetV1, CallV1, ConsentV1, Decoded, Inbound, InterestsV1, OrganisationV1,
    ParticipationV1, Rejection, RemovedV1, SizeV1, DEFAULT_MAX_EVENT_BYTES, MAX_VERSION,
};
pub use outbound::{
    change_name, change_type, current_change, decode_recommendation, DeadLetterV1, EligibilityLineV1, ExplanationV1,
    RecommendationV1, RegistryCallV1, RegistryOrganisationV1, TargetV1, DEAD_LETTER_PAYLOAD_MAX,
};
pub use preferences::{OptOutV1, PreferencesV1, QuietHoursV1, MAX_EMAIL};

/// JSON Schemas of every event and query (request and reply), by file name; committed under `schemas/` and checked by a test.
/// Each has an `$id` and a title of its own, pins `specversion` and the event types it covers,
/// and lists the values the decoder accepts (kinds, countries, NACE codes, missions, languages,
/// programmes, statuses) and its length limits, so a payload that passes the schema is not
/// refused for those (`tests/it` checks the poison corpus against them).
pub fn schemas() -> Vec<(&'static str, serde_json::Value)> {
    use schemars::schema_for;
    let v = |s: schemars::Schema| s.to_value();
    let t = types::ORGANISATION_REGISTERED;
    let mut out = [
        (
            "organisation.v1.schema.json",
            "organisation.registered / organisation.updated, v1",
            vec![t, types::ORGANISATION_UPDATED],
            v(schema_for!(CloudEvent<OrganisationV1>)),
        ),
        (
            "removed.v1.schema.json",
            "organisation.removed / call.closed, v1",
            vec![types::ORGANISATION_REMOVED, types::CALL_CLOSED],
            v(schema_for!(CloudEvent<RemovedV1>)),
        ),
        (
            "preferences.v1.schema.json",
            "organisation.preferences.updated, v1",
            vec![types::ORGANISATION_PREFERENCES_UPDATED],
            v(schema_for!(CloudEvent<PreferencesV1>)),
        ),
        (
            "feedback.v1.schema.json",
            "recommendation.feedback, v1",
            vec![types::RECOMMENDATION_FEEDBACK],
            v(schema_for!(CloudEvent<FeedbackV1>)),
        ),
        (
            "registry.feedback.v1.schema.json",
            "registry.feedback, v1 (Brygga internal)",
            vec![types::REGISTRY_FEEDBACK],
            v(schema_for!(CloudEvent<RegistryFeedbackV1>)),
        ),
        (
            "call.v1.schema.json",
            "call.published / call.updated, v1",
            vec![types::CALL_PUBLISHED, types::CALL_UPDATED],
            v(schema_for!(CloudEvent<CallV1>)),
        ),
        (
            "registry.organisation.v1.schema.json",
            "registry.organisation, v1 (Brygga internal)",
            vec![types::REGISTRY_ORGANISATION],
            v(schema_for!(CloudEvent<RegistryOrganisationV1>)),
        ),
        (
            "registry.call.v1.schema.json",
            "registry.call, v1 (Brygga internal)",
            vec![types::REGISTRY_CALL],
            v(schema_for!(CloudEvent<RegistryCallV1>)),
        ),
        (
            "recommendation.v1.schema.json",
            "recommendation.created / updated / withdrawn, v1",
            vec![types::RECOMMENDATION_CREATED, types::RECOMMENDATION_UPDATED, types::RECOMMENDATION_WITHDRAWN],
            v(schema_for!(CloudEvent<RecommendationV1>)),
        ),
        (
            "deadletter.v1.schema.json",
            "deadletter, v1",
            vec![types::DEAD_LETTER],
            v(schema_for!(CloudEvent<DeadLetterV1>)),
        ),
    ];
    out.iter_mut()
        .map(|(name, title, tys, schema)| {
            refine(name, title, tys, schema);
            (*name, std::mem::take(schema))
        })
        .chain(query::schemas())
        .collect()
}

/// Adds what the Rust types cannot say to a generated schema (see [`schemas`]).
fn refine(name: &str, title: &str, tys: &[&str], s: &mut serde_json::Value) {
    use serde_json::json;
    let stem = name.trim_end_matches(".schema.json");
    s["$id"] = json!(format!("urn:brygga:schema:{stem}"));
    s["title"] = json!(title);
    s["properties"]["specversion"]["const"] = json!(SPEC_VERSION);
    s["properties"]["type"]["enum"] = json!(tys);
    s["properties"]["datacontenttype"]["pattern"] = json!("^application/json(;.*)?$");
    // Extension attributes: CloudEvents names, scalar values (the decoder refuses others).
    s["propertyNames"] = json!({"pattern": "^[a-z0-9]{1,20}$"});
    s["additionalProperties"] = json!({"type": ["string", "number", "boolean"]});
    s["properties"]["traceparent"]["pattern"] = json!("^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}");
    let kinds: Vec<&str> = brygga_domain::OrgKind::ALL.iter().map(|k| k.as_str()).collect();
    let missions: Vec<&str> = brygga_domain::MissionId::ALL.iter().map(|m| m.as_str()).collect();
    let countries: Vec<&str> = brygga_domain::Country::codes().collect();
    let languages = json!(["sv", "en", null]);
    let programmes = ["horizon_europe", "interreg", "vinnova", "life", "digital_europe", "regional_funds", "other"];
    // Text without control characters or bidirectional overrides (`limits.rs`); descriptions may
    // hold tabs and line breaks.
    const LINE: &str = "^[^\\u0000-\\u001F\\u007F\\u202A-\\u202E\\u2066-\\u2069]*$";
    const TEXT: &str = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F\\u202A-\\u202E\\u2066-\\u2069]*$";
    const ID: &str = "^[A-Za-z0-9_:-]{1,128}$";
    // Not blank either (the decoder trims).
    let line = |max: usize| json!({"type": "string", "maxLength": max, "pattern": LINE, "allOf": [{"pattern": "\\S"}]});
    s["properties"]["id"] = line(limits::MAX_NAME);
    s["properties"]["source"] = line(limits::MAX_NAME);
    let defs = &mut s["$defs"];
    let mut set = |def: &str, field: &str, key: &str, value: serde_json::Value| {
        if let Some(p) = defs.get_mut(def).and_then(|d| d.get_mut("properties")).and_then(|p| p.get_mut(field)) {
            p[key] = value;
        }
    };
    let items = |values: serde_json::Value, max: usize| json!({"type": "string", "enum": values, "maxLength": max});
    for def in ["OrganisationV1", "CallV1", "RemovedV1", "ParticipationV1"] {
        set(def, "version", "maximum", json!(MAX_VERSION));
    }
    for def in ["OrganisationV1", "CallV1", "RemovedV1"] {
        set(def, "id", "pattern", json!(ID));
    }
    set("RemovedV1", "reason", "pattern", json!(LINE));
    set("RemovedV1", "reason", "maxLength", json!(limits::MAX_NAME));
    // What integrators send: the decoder refuses anything outside these.
    set("OrganisationV1", "kind", "enum", json!(kinds));
    set(
        "OrganisationV1",
        "country",
        "enum",
        json!(countries.iter().map(|c| json!(c)).chain([json!(null)]).collect::<Vec<_>>()),
    );
    set("OrganisationV1", "nace", "items", items(json!(brygga_domain::nace_codes()), 8));
    set("OrganisationV1", "nace", "maxItems", json!(limits::MAX_CODES));
    set("OrganisationV1", "sni", "maxItems", json!(limits::MAX_CODES));
    set("OrganisationV1", "description_language", "enum", languages.clone());
    set("OrganisationV1", "preferred_language", "enum", languages);
    set("OrganisationV1", "name", "allOf", json!([{"pattern": "\\S"}]));
    set("OrganisationV1", "name", "maxLength", json!(limits::MAX_NAME));
    set("OrganisationV1", "name", "pattern", json!(LINE));
    set("OrganisationV1", "description", "maxLength", json!(limits::MAX_DESCRIPTION));
    set("OrganisationV1", "description", "pattern", json!(TEXT));
    set("OrganisationV1", "nuts", "pattern", json!("^[A-Za-z0-9]{2,5}$"));
    set("OrganisationV1", "municipality", "pattern", json!(LINE));
    set("OrganisationV1", "sni", "items", items(json!(brygga_domain::sni_codes()), 6));
    set(
        "OrganisationV1",
        "keywords",
        "items",
        json!({"type": "string", "maxLength": limits::MAX_KEYWORD, "pattern": LINE}),
    );
    set("OrganisationV1", "keywords", "maxItems", json!(limits::MAX_KEYWORDS));
    set("OrganisationV1", "participations", "maxItems", json!(limits::MAX_PARTICIPATIONS));
    set("InterestsV1", "missions", "items", items(json!(missions), 20));
    set("InterestsV1", "themes", "maxItems", json!(limits::MAX_KEYWORDS));
    set("PreferencesV1", "version", "maximum", json!(MAX_VERSION));
    set("PreferencesV1", "organisation_id", "pattern", json!(ID));
    set("PreferencesV1", "channel", "enum", json!(["email", "webhook", "none"]));
    set("PreferencesV1", "cadence", "enum", json!(["instant", "daily", "weekly"]));
    set("PreferencesV1", "language", "enum", json!(["sv", "en", null]));
    set("PreferencesV1", "address", "maxLength", json!(limits::MAX_URL));
    set("PreferencesV1", "address", "pattern", json!(LINE));
    set("OptOutV1", "kinds", "items", items(json!(brygga_domain::Target::KINDS), 20));
    set("OptOutV1", "kinds", "maxItems", json!(brygga_domain::Target::KINDS.len()));
    set("QuietHoursV1", "from", "pattern", json!("^([01][0-9]|2[0-3]):[0-5][0-9]$"));
    set("QuietHoursV1", "to", "pattern", json!("^([01][0-9]|2[0-3]):[0-5][0-9]$"));
    set("FeedbackV1", "version", "maximum", json!(MAX_VERSION));
    set("FeedbackV1", "organisation_id", "pattern", json!(ID));
    set("FeedbackV1", "feedback", "enum", json!(["saved", "dismissed", "applied", "not_relevant"]));
    set("FeedbackV1", "reason", "maxLength", json!(limits::MAX_TITLE));
    set("FeedbackV1", "reason", "pattern", json!(LINE));
    set("FeedbackV1", "recommendation_id", "format", json!("uuid"));
    set("TargetRefV1", "kind", "enum", json!(brygga_domain::Target::KINDS));
    set("CallV1", "programme", "enum", json!(programmes));
    set("CallV1", "status", "enum", json!(["forthcoming", "open", "closed"]));
    set("CallV1", "missions", "items", items(json!(missions), 20));
    set("CallV1", "title", "allOf", json!([{"pattern": "\\S"}]));
    set("CallV1", "title", "maxLength", json!(limits::MAX_TITLE));
    set("CallV1", "title", "pattern", json!(LINE));
    set("CallV1", "description", "maxLength", json!(limits::MAX_DESCRIPTION));
    set("CallV1", "description", "pattern", json!(TEXT));
    set("CallV1", "deadlines", "items", json!({"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}));
    set("CallV1", "deadlines", "maxItems", json!(2));
    set("CallV1", "opening_date", "pattern", json!("^[0-9]{4}-[0-9]{2}-[0-9]{2}$"));
    set("CallV1", "trl", "items", json!({"type": "integer", "minimum": 1, "maximum": 9}));
    set("CallV1", "keywords", "items", json!({"type": "string", "maxLength": limits::MAX_KEYWORD, "pattern": LINE}));
    set("CallV1", "keywords", "maxItems", json!(limits::MAX_KEYWORDS));
    set("CallV1", "url", "maxLength", json!(limits::MAX_URL));
    set("CallV1", "url", "pattern", json!("^https?://"));
    set("CallV1", "eligible_kinds", "items", items(json!(kinds), 30));
    set("CallV1", "eligible_countries", "items", items(json!(countries), 2));
}
