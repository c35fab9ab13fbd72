//! Inbound contracts: what integrators publish about organisations and calls, and how
//! raw bytes become validated domain values or a classified rejection.

use crate::envelope::{types, CloudEvent, DATA_CONTENT_TYPE, SPEC_VERSION};
use crate::trace::TraceContext;
use crate::{limits, shape};
use brygga_domain::{
    Budget, Call, CallId, CallStatus, Consent, Country, Language, MissionId, NaceCode, OrgId, OrgKind, OrgNumber,
    OrgSize, Organisation, Participation, Programme,
};
use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Largest inbound event accepted (bytes); larger ones are dead-lettered.
pub const DEFAULT_MAX_EVENT_BYTES: usize = 256 * 1024;

/// Size of an organisation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SizeV1 {
    #[serde(default)]
    pub employees: Option<u32>,
    #[serde(default)]
    pub turnover_eur: Option<u64>,
    #[serde(default)]
    pub balance_sheet_eur: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InterestsV1 {
    /// Mission ids: `adaptation`, `cancer`, `ocean`, `cities`, `soil`.
    #[serde(default)]
    pub missions: Vec<String>,
    #[serde(default)]
    pub themes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ParticipationV1 {
    pub call_id: String,
    pub project_title: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentV1 {
    /// Brygga may send this organisation recommendations.
    pub contact: bool,
    /// Brygga may suggest this organisation to others as a partner.
    pub partner_suggestions: bool,
}

/// `data` of `organisation.registered.v1` and `organisation.updated.v1`: the full state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganisationV1 {
    /// Subject-safe id: A-Z a-z 0-9 _ - :
    pub id: String,
    /// Increases with every change of this organisation; older versions are ignored.
    pub version: u64,
    pub name: String,
    /// Swedish organisation number, `NNNNNN-NNNN`, checksum-validated.
    #[serde(default)]
    pub org_number: Option<String>,
    /// `company`, `sme`, `university`, `research_institute`, `public_body`, `ngo`, `other`.
    pub kind: String,
    #[serde(default)]
    pub size: SizeV1,
    /// ISO 3166-1 alpha-2.
    #[serde(default)]
    pub country: Option<String>,
    /// NUTS code, e.g. `SE221` (Blekinge län).
    #[serde(default)]
    pub nuts: Option<String>,
    #[serde(default)]
    pub municipality: Option<String>,
    /// NACE Rev.2 codes, dotted (`30.11`).
    #[serde(default)]
    pub nace: Vec<String>,
    /// SNI 2007 codes (`30110`), mapped to NACE classes.
    #[serde(default)]
    pub sni: Vec<String>,
    #[serde(default)]
    pub description: String,
    /// `sv` or `en`; detected from the text when absent.
    #[serde(default)]
    pub description_language: Option<String>,
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub interests: InterestsV1,
    #[serde(default)]
    pub participations: Vec<ParticipationV1>,
    /// `sv` or `en`: the language of explanations.
    #[serde(default)]
    pub preferred_language: Option<String>,
    #[serde(default)]
    pub consent: ConsentV1,
}

/// `data` of `organisation.removed.v1` and `call.closed.v1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RemovedV1 {
    pub id: String,
    pub version: u64,
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetV1 {
    #[serde(default)]
    pub total_eur: Option<u64>,
    #[serde(default)]
    pub per_grant_min_eur: Option<u64>,
    #[serde(default)]
    pub per_grant_max_eur: Option<u64>,
}

/// `data` of `call.published.v1` and `call.updated.v1`: the full state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CallV1 {
    /// The topic code for Horizon Europe; subject-safe.
    pub id: String,
    pub version: u64,
    /// `horizon_europe`, `interreg`, `vinnova`, `life`, `digital_europe`, `regional_funds`, `other`.
    pub programme: String,
    pub title: String,
    /// Expected outcome and scope.
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub action_type: Option<String>,
    /// `YYYY-MM-DD`.
    #[serde(default)]
    pub opening_date: Option<String>,
    /// One `YYYY-MM-DD` deadline, or two for a two-stage call.
    #[serde(default)]
    pub deadlines: Vec<String>,
    #[serde(default)]
    pub budget: BudgetV1,
    /// `null` when the call does not say (eligibility is then unknown).
    #[serde(default)]
    pub eligible_kinds: Option<Vec<String>>,
    #[serde(default)]
    pub eligible_countries: Option<Vec<String>>,
    #[serde(default)]
    pub min_consortium: Option<u32>,
    #[serde(default)]
    pub missions: Vec<String>,
    /// `[min, max]`, 1-9.
    #[serde(default)]
    pub trl: Option<[u8; 2]>,
    #[serde(default)]
    pub url: Option<String>,
    /// `forthcoming`, `open` or `closed`.
    #[serde(default = "default_status")]
    pub status: String,
}

fn default_status() -> String {
    "open".to_owned()
}

/// A decoded, validated inbound event.
#[derive(Debug, Clone, PartialEq)]
pub enum Inbound {
    OrganisationUpserted(Box<Organisation>),
    OrganisationRemoved { id: OrgId, version: u64 },
    CallUpserted(Box<Call>),
    CallClosed { id: CallId, version: u64 },
    PreferencesUpdated(Box<brygga_domain::notify::Preferences>),
    Feedback(Box<brygga_domain::feedback::Feedback>),
}

/// A decoded event with its envelope's id.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub event_id: String,
    pub ty: String,
    pub event: Inbound,
    /// The W3C trace context it came with (a `traceparent` header before the attribute).
    pub trace: Option<TraceContext>,
    /// Its extension attributes other than the trace context.
    pub extensions: BTreeMap<String, serde_json::Value>,
}

/// Why an inbound event was refused. Every refusal is dead-lettered with this reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("payload of {size} bytes exceeds the limit of {max} bytes")]
    Oversized { size: usize, max: usize },
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    #[error("not a CloudEvents 1.0 envelope: {0}")]
    BadEnvelope(String),
    #[error("unknown event type {0:?}")]
    UnknownType(String),
    #[error("unsupported version of event type {0:?}")]
    UnsupportedVersion(String),
    #[error("invalid payload: {}", .0.join("; "))]
    InvalidPayload(Vec<String>),
}

impl Rejection {
    /// Stable machine-readable code for dashboards and alerts.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Oversized { .. } => "oversized",
            Self::MalformedJson(_) => "malformed_json",
            Self::BadEnvelope(_) => "bad_envelope",
            Self::UnknownType(_) => "unknown_type",
            Self::UnsupportedVersion(_) => "unsupported_version",
            Self::InvalidPayload(_) => "invalid_payload",
        }
    }
}

pub(crate) const KNOWN: [&str; 8] = [
    types::ORGANISATION_REGISTERED,
    types::ORGANISATION_UPDATED,
    types::ORGANISATION_REMOVED,
    types::CALL_PUBLISHED,
    types::CALL_UPDATED,
    types::CALL_CLOSED,
    types::ORGANISATION_PREFERENCES_UPDATED,
    types::RECOMMENDATION_FEEDBACK,
];

/// Decodes and validates the bytes of an inbound event in structured mode (no headers).
pub fn decode(payload: &[u8], max_bytes: usize) -> Result<Decoded, Rejection> {
    decode_message(&[], payload, max_bytes)
}

/// Decodes and validates an inbound NATS message in either content mode of the CloudEvents
/// NATS binding: **structured** (the body is the whole event; `Content-Type`
/// `application/cloudevents+json` or none) or **binary** (a `ce-specversion` header and any
/// other `Content-Type`: the attributes are `ce-*` headers, the data's media type is
/// `Content-Type`, the body is the data). Header names are matched without regard to case. A
/// `traceparent` header (W3C) is preferred to the attribute of that name.
pub fn decode_message(headers: &[(String, String)], payload: &[u8], max_bytes: usize) -> Result<Decoded, Rejection> {
    if payload.len() > max_bytes {
        return Err(Rejection::Oversized { size: payload.len(), max: max_bytes });
    }
    let header = |name: &str| headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str());
    // Structured mode says so in `Content-Type` (and may repeat attributes in `ce-` headers).
    let structured =
        header("content-type").is_some_and(|t| t.trim().to_ascii_lowercase().starts_with("application/cloudevents"));
    let value: serde_json::Value = match header("ce-specversion") {
        Some(_) if !structured => binary_mode(headers, payload)?,
        _ => serde_json::from_slice(payload).map_err(|e| Rejection::MalformedJson(e.to_string()))?,
    };
    let attribute = |name: &str| value.get(name).and_then(serde_json::Value::as_str);
    let trace = TraceContext::read(
        header("traceparent").or_else(|| attribute("traceparent")),
        header("tracestate").or_else(|| attribute("tracestate")),
    );
    let mut decoded = decode_value(value)?;
    decoded.trace = trace;
    Ok(decoded)
}

/// A binary-mode message as the structured event it stands for: `ce-<name>` headers become
/// attributes, `Content-Type` the `datacontenttype`, the body (JSON) the data.
fn binary_mode(headers: &[(String, String)], payload: &[u8]) -> Result<serde_json::Value, Rejection> {
    let mut event = serde_json::Map::new();
    for (k, v) in headers {
        let k = k.to_ascii_lowercase();
        if let Some(name) = k.strip_prefix("ce-") {
            event.insert(name.to_owned(), serde_json::Value::String(v.clone()));
        } else if k == "content-type" {
            event.insert("datacontenttype".into(), serde_json::Value::String(v.clone()));
        }
    }
    let data =
        serde_json::from_slice(payload).map_err(|e| Rejection::MalformedJson(format!("binary-mode data: {e}")))?;
    event.insert("data".into(), data);
    Ok(serde_json::Value::Object(event))
}

fn decode_value(value: serde_json::Value) -> Result<Decoded, Rejection> {
    // The typed readers stop at the first field they cannot read; the schema names them all.
    let env = match <CloudEvent<serde_json::Value> as serde::Deserialize>::deserialize(&value) {
        Ok(env) => env,
        Err(e) => return Err(Rejection::BadEnvelope(shape::every(&value, "", vec![e.to_string()]).join("; "))),
    };
    if env.specversion != SPEC_VERSION {
        return Err(Rejection::BadEnvelope(format!("specversion {:?}, expected \"1.0\"", env.specversion)));
    }
    let mut bad: Vec<String> = Vec::new();
    if env.id.trim().is_empty() || env.source.trim().is_empty() {
        bad.push("id and source must not be empty".into());
    }
    for (field, v) in [("id", &env.id), ("source", &env.source)] {
        if let Err(m) = limits::text(v, limits::MAX_NAME, false) {
            bad.push(format!("{field} {m}"));
        }
    }
    for (name, v) in &env.extensions {
        let name_ok =
            (1..=20).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        if !name_ok {
            bad.push(format!(
                "attribute {:?} is not a CloudEvents attribute name (a-z, 0-9, at most 20)",
                name.chars().take(40).collect::<String>()
            ));
        } else if !matches!(v, serde_json::Value::String(_) | serde_json::Value::Number(_) | serde_json::Value::Bool(_))
        {
            bad.push(format!("extension attribute {name} must be a string, number or boolean"));
        } else if let serde_json::Value::String(text) = v {
            if let Err(m) = limits::text(text, limits::MAX_NAME, false) {
                bad.push(format!("extension attribute {name} {m}"));
            }
        }
    }
    let media = env.datacontenttype.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    if media != DATA_CONTENT_TYPE {
        bad.push(format!("datacontenttype {:?} is not {DATA_CONTENT_TYPE}", env.datacontenttype));
    }
    if !bad.is_empty() {
        return Err(Rejection::BadEnvelope(bad.join("; ")));
    }
    if !KNOWN.contains(&env.ty.as_str()) {
        let base = env.ty.rsplit_once(".v").map(|(b, _)| b);
        return Err(match base {
            Some(b) if KNOWN.iter().any(|k| k.rsplit_once(".v").map(|(kb, _)| kb) == Some(b)) => {
                Rejection::UnsupportedVersion(env.ty)
            }
            _ => Rejection::UnknownType(env.ty),
        });
    }
    let data = |e: Rejection| match e {
        Rejection::InvalidPayload(first) => Rejection::InvalidPayload(shape::every(&value, "data", first)),
        other => other,
    };
    let event = match env.ty.as_str() {
        types::ORGANISATION_REGISTERED | types::ORGANISATION_UPDATED => {
            Inbound::OrganisationUpserted(Box::new(typed::<OrganisationV1>(env.data).map_err(data)?.into_domain()?))
        }
        types::ORGANISATION_REMOVED => {
            let (id, version) = typed::<RemovedV1>(env.data).map_err(data)?.validate(OrgId::parse)?;
            Inbound::OrganisationRemoved { id, version }
        }
        types::CALL_PUBLISHED | types::CALL_UPDATED => {
            Inbound::CallUpserted(Box::new(typed::<CallV1>(env.data).map_err(data)?.into_domain()?))
        }
        types::RECOMMENDATION_FEEDBACK => {
            Inbound::Feedback(Box::new(typed::<crate::FeedbackV1>(env.data).map_err(data)?.into_domain()?))
        }
        types::ORGANISATION_PREFERENCES_UPDATED => {
            Inbound::PreferencesUpdated(Box::new(typed::<crate::PreferencesV1>(env.data).map_err(data)?.into_domain()?))
        }
        _ => {
            let (id, version) = typed::<RemovedV1>(env.data).map_err(data)?.validate(CallId::parse)?;
            Inbound::CallClosed { id, version }
        }
    };
    Ok(Decoded { event_id: env.id, ty: env.ty, event, trace: None, extensions: env.extensions })
}

/// `data` as `T`; a shape error names the field's path (`data.version: invalid value …`)
/// of the first field that could not be read ([`decode`] then asks the schema for all).
fn typed<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> Result<T, Rejection> {
    serde_path_to_error::deserialize(v).map_err(|e| {
        let path = e.path().to_string();
        let at = if path == "." { "data".to_owned() } else { format!("data.{path}") };
        Rejection::InvalidPayload(vec![format!("{at}: {}", e.into_inner())])
    })
}

/// Collects every field error instead of stopping at the first.
#[derive(Default)]
pub(crate) struct Errors(pub(crate) Vec<String>);

impl Errors {
    pub(crate) fn take<T, E: std::fmt::Display>(&mut self, field: &str, r: Result<T, E>) -> Option<T> {
        r.map_err(|e| self.0.push(format!("{field}: {e}"))).ok()
    }
    pub(crate) fn push(&mut self, field: &str, msg: impl std::fmt::Display) {
        self.0.push(format!("{field}: {msg}"));
    }
}

fn date(s: &str) -> Result<NaiveDate, String> {
    limits::strict_date(s)
}

impl Errors {
    /// A text field within its length, without control or bidirectional characters.
    pub(crate) fn text(&mut self, field: &str, s: &str, max: usize, multiline: bool) {
        if let Err(m) = limits::text(s, max, multiline) {
            self.push(field, m);
        }
    }
    /// A list within its length, each entry a single-line text within `max_item`.
    fn texts(&mut self, field: &str, items: &[String], max_items: usize, max_item: usize) {
        if let Err(m) = limits::list(items, max_items) {
            self.push(field, m);
            return;
        }
        for (i, s) in items.iter().enumerate() {
            self.text(&format!("{field}[{i}]"), s, max_item, false);
        }
    }
    fn list_len<T>(&mut self, field: &str, items: &[T], max: usize) {
        if let Err(m) = limits::list(items, max) {
            self.push(field, m);
        }
    }
}

pub(crate) fn language(field: &str, s: Option<&str>, errs: &mut Errors) -> Option<Language> {
    let s = s?;
    let l = Language::parse(s);
    if l.is_none() {
        errs.push(field, format!("{s:?} is not a supported language (sv, en)"));
    }
    l
}

fn missions(field: &str, list: &[String], errs: &mut Errors) -> Vec<MissionId> {
    list.iter()
        .filter_map(|m| {
            errs.take(
                field,
                MissionId::parse(m)
                    .ok_or_else(|| format!("{m:?} is not a mission (adaptation, cancer, ocean, cities, soil)")),
            )
        })
        .collect()
}

/// The largest version: the store keeps versions as signed 64-bit integers, and a larger one
/// would have to be clamped, after which no later version could ever apply.
pub const MAX_VERSION: u64 = i64::MAX as u64;

pub(crate) fn version(v: u64, errs: &mut Errors) {
    if v > MAX_VERSION {
        errs.push("version", format!("{v} exceeds the largest version {MAX_VERSION}"));
    }
}

impl RemovedV1 {
    /// Validates id, version and reason, reporting every one that is wrong.
    fn validate<Id>(
        self,
        parse: impl FnOnce(String) -> Result<Id, brygga_domain::IdError>,
    ) -> Result<(Id, u64), Rejection> {
        let mut e = Errors::default();
        let id = e.take("id", parse(self.id));
        version(self.version, &mut e);
        if let Some(r) = &self.reason {
            e.text("reason", r, limits::MAX_TITLE, false);
        }
        match (id, e.0.is_empty()) {
            (Some(id), true) => Ok((id, self.version)),
            _ => Err(Rejection::InvalidPayload(e.0)),
        }
    }
}

fn non_empty(field: &str, s: &str, errs: &mut Errors) {
    if s.trim().is_empty() {
        errs.push(field, "must not be empty");
    }
}

impl OrganisationV1 {
    /// Validates every field and returns the domain organisation, or all field errors.
    pub fn into_domain(self) -> Result<Organisation, Rejection> {
        let mut e = Errors::default();
        let id = e.take("id", OrgId::parse(self.id));
        version(self.version, &mut e);
        non_empty("name", &self.name, &mut e);
        e.text("name", &self.name, limits::MAX_NAME, false);
        e.text("description", &self.description, limits::MAX_DESCRIPTION, true);
        if let Some(m) = &self.municipality {
            e.text("municipality", m, limits::MAX_NAME, false);
        }
        e.texts("keywords", &self.keywords, limits::MAX_KEYWORDS, limits::MAX_KEYWORD);
        e.texts("interests.themes", &self.interests.themes, limits::MAX_KEYWORDS, limits::MAX_KEYWORD);
        e.list_len("nace", &self.nace, limits::MAX_CODES);
        e.list_len("sni", &self.sni, limits::MAX_CODES);
        e.list_len("participations", &self.participations, limits::MAX_PARTICIPATIONS);
        for (i, p) in self.participations.iter().enumerate().take(limits::MAX_PARTICIPATIONS) {
            e.text(&format!("participations[{i}].call_id"), &p.call_id, limits::MAX_KEYWORD, false);
            e.text(&format!("participations[{i}].project_title"), &p.project_title, limits::MAX_TITLE, false);
        }
        let org_number = self.org_number.as_deref().and_then(|n| e.take("org_number", OrgNumber::parse(n)));
        let kind = e.take(
            "kind",
            OrgKind::parse(&self.kind).ok_or_else(|| format!("{:?} is not an organisation kind", self.kind)),
        );
        let country = self.country.as_deref().and_then(|c| e.take("country", Country::parse(c)));
        let mut nace: Vec<NaceCode> = self.nace.iter().filter_map(|c| e.take("nace", NaceCode::parse(c))).collect();
        nace.extend(self.sni.iter().filter_map(|c| e.take("sni", NaceCode::from_sni2007(c))));
        nace.sort();
        nace.dedup();
        let desc_lang = language("description_language", self.description_language.as_deref(), &mut e)
            .unwrap_or_else(|| brygga_domain::text::detect_language(&self.description));
        let preferred = language("preferred_language", self.preferred_language.as_deref(), &mut e).unwrap_or(desc_lang);
        let interest_missions = missions("interests.missions", &self.interests.missions, &mut e);
        if let Some(n) = &self.nuts {
            if !(2..=5).contains(&n.len()) || !n.chars().all(|c| c.is_ascii_alphanumeric()) {
                e.push("nuts", format!("{n:?} is not a NUTS code"));
            }
        }
        let (Some(id), Some(kind), true) = (id, kind, e.0.is_empty()) else {
            return Err(Rejection::InvalidPayload(e.0));
        };
        Ok(Organisation {
            id,
            version: self.version,
            name: self.name.trim().to_owned(),
            org_number,
            kind,
            size: OrgSize {
                employees: self.size.employees,
                turnover_eur: self.size.turnover_eur,
                balance_sheet_eur: self.size.balance_sheet_eur,
            },
            country,
            nuts: self.nuts,
            municipality: self.municipality,
            nace,
            description: self.description,
            description_language: desc_lang,
            keywords: self.keywords,
            interest_missions,
            interest_themes: self.interests.themes,
            participations: self
                .participations
                .into_iter()
                .map(|p| Participation { call_id: p.call_id, project_title: p.project_title })
                .collect(),
            preferred_language: preferred,
            consent: Consent { contact: self.consent.contact, partner_suggestions: self.consent.partner_suggestions },
        })
    }

    /// The wire form of a domain organisation.
    pub fn from_domain(o: &Organisation) -> Self {
        let lang = |l: Language| match l {
            Language::Sv => "sv".to_owned(),
            Language::En => "en".to_owned(),
        };
        Self {
            id: o.id.to_string(),
            version: o.version,
            name: o.name.clone(),
            org_number: o.org_number.as_ref().map(ToString::to_string),
            kind: o.kind.as_str().to_owned(),
            size: SizeV1 {
                employees: o.size.employees,
                turnover_eur: o.size.turnover_eur,
                balance_sheet_eur: o.size.balance_sheet_eur,
            },
            country: o.country.map(|c| c.to_string()),
            nuts: o.nuts.clone(),
            municipality: o.municipality.clone(),
            nace: o.nace.iter().map(ToString::to_string).collect(),
            sni: Vec::new(),
            description: o.description.clone(),
            description_language: Some(lang(o.description_language)),
            keywords: o.keywords.clone(),
            interests: InterestsV1 {
                missions: o.interest_missions.iter().map(|m| m.as_str().to_owned()).collect(),
                themes: o.interest_themes.clone(),
            },
            participations: o
                .participations
                .iter()
                .map(|p| ParticipationV1 { call_id: p.call_id.clone(), project_title: p.project_title.clone() })
                .collect(),
            preferred_language: Some(lang(o.preferred_language)),
            consent: ConsentV1 { contact: o.consent.contact, partner_suggestions: o.consent.partner_suggestions },
        }
    }
}

impl CallV1 {
    /// Validates every field and returns the domain call, or all field errors.
    pub fn into_domain(self) -> Result<Call, Rejection> {
        let mut e = Errors::default();
        let id = e.take("id", CallId::parse(self.id));
        version(self.version, &mut e);
        non_empty("title", &self.title, &mut e);
        e.text("title", &self.title, limits::MAX_TITLE, false);
        e.text("description", &self.description, limits::MAX_DESCRIPTION, true);
        e.texts("keywords", &self.keywords, limits::MAX_KEYWORDS, limits::MAX_KEYWORD);
        if let Some(a) = &self.action_type {
            e.text("action_type", a, limits::MAX_KEYWORD, false);
        }
        if let Some(u) = &self.url {
            if let Err(m) = limits::web_url(u) {
                e.push("url", m);
            }
        }
        if let Some(k) = &self.eligible_kinds {
            e.list_len("eligible_kinds", k, limits::MAX_CODES);
        }
        if let Some(c) = &self.eligible_countries {
            e.list_len("eligible_countries", c, 300);
        }
        let programme = e.take(
            "programme",
            Programme::parse(&self.programme).ok_or_else(|| format!("{:?} is not a programme", self.programme)),
        );
        let opening = self.opening_date.as_deref().and_then(|d| e.take("opening_date", date(d)));
        let mut deadlines: Vec<NaiveDate> =
            self.deadlines.iter().filter_map(|d| e.take("deadlines", date(d))).collect();
        deadlines.sort();
        if deadlines.len() > 2 {
            e.push("deadlines", "at most two (a two-stage call)");
        }
        if let (Some(o), Some(d)) = (opening, deadlines.first()) {
            if o > *d {
                e.push("opening_date", format!("{o} is after the deadline {d}"));
            }
        }
        let eligible_kinds = self.eligible_kinds.map(|ks| {
            ks.iter()
                .filter_map(|k| {
                    e.take(
                        "eligible_kinds",
                        OrgKind::parse(k).ok_or_else(|| format!("{k:?} is not an organisation kind")),
                    )
                })
                .collect()
        });
        let eligible_countries = self
            .eligible_countries
            .map(|cs| cs.iter().filter_map(|c| e.take("eligible_countries", Country::parse(c))).collect());
        let missions = missions("missions", &self.missions, &mut e);
        let trl = match self.trl {
            Some([lo, hi]) if (1..=9).contains(&lo) && (lo..=9).contains(&hi) => Some((lo, hi)),
            Some(t) => {
                e.push("trl", format!("{t:?} is not a TRL range within 1-9"));
                None
            }
            None => None,
        };
        let status = match self.status.as_str() {
            "forthcoming" => Some(CallStatus::Forthcoming),
            "open" => Some(CallStatus::Open),
            "closed" => Some(CallStatus::Closed),
            s => {
                e.push("status", format!("{s:?} is not forthcoming, open or closed"));
                None
            }
        };
        let (Some(id), Some(programme), Some(status), true) = (id, programme, status, e.0.is_empty()) else {
            return Err(Rejection::InvalidPayload(e.0));
        };
        Ok(Call {
            id,
            version: self.version,
            programme,
            title: self.title.trim().to_owned(),
            description: self.description,
            keywords: self.keywords,
            action_type: self.action_type,
            opening,
            deadlines,
            budget: Budget {
                total_eur: self.budget.total_eur,
                per_grant_min_eur: self.budget.per_grant_min_eur,
                per_grant_max_eur: self.budget.per_grant_max_eur,
            },
            eligible_kinds,
            eligible_countries,
            min_consortium: self.min_consortium,
            missions,
            trl,
            url: self.url,
            status,
        })
    }
}

impl CallV1 {
    /// The wire form of a domain call.
    pub fn from_domain(c: &Call) -> Self {
        let programme = match c.programme {
            Programme::HorizonEurope => "horizon_europe",
            Programme::Interreg => "interreg",
            Programme::Vinnova => "vinnova",
            Programme::Life => "life",
            Programme::DigitalEurope => "digital_europe",
            Programme::RegionalFunds => "regional_funds",
            Programme::Other => "other",
        };
        let status = match c.status {
            CallStatus::Forthcoming => "forthcoming",
            CallStatus::Open => "open",
            CallStatus::Closed => "closed",
        };
        Self {
            id: c.id.to_string(),
            version: c.version,
            programme: programme.to_owned(),
            title: c.title.clone(),
            description: c.description.clone(),
            keywords: c.keywords.clone(),
            action_type: c.action_type.clone(),
            opening_date: c.opening.map(|d| d.to_string()),
            deadlines: c.deadlines.iter().map(ToString::to_string).collect(),
            budget: BudgetV1 {
                total_eur: c.budget.total_eur,
                per_grant_min_eur: c.budget.per_grant_min_eur,
                per_grant_max_eur: c.budget.per_grant_max_eur,
            },
            eligible_kinds: c.eligible_kinds.as_ref().map(|ks| ks.iter().map(|k| k.as_str().to_owned()).collect()),
            eligible_countries: c.eligible_countries.as_ref().map(|cs| cs.iter().map(ToString::to_string).collect()),
            min_consortium: c.min_consortium,
            missions: c.missions.iter().map(|m| m.as_str().to_owned()).collect(),
            trl: c.trl.map(|(a, b)| [a, b]),
            url: c.url.clone(),
            status: status.to_owned(),
        }
    }
}
