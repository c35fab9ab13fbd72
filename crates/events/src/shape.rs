//! Every shape error of an inbound event at once. The typed decoder (serde) stops at the first
//! field it cannot read; when it does, the event is checked against the published JSON Schema
//! of its type (the same document integrators validate against, [`crate::schemas`]) and every
//! violation is named by its path. The messages never repeat the offending value (it may be a
//! contact address or a secret pasted into the wrong field), only what was expected.

use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::OnceLock;

/// The compiled schema of each inbound event type, and one of the bare envelope for events
/// whose type is unknown.
struct Validators {
    by_type: Vec<(&'static str, jsonschema::Validator)>,
    envelope: jsonschema::Validator,
}

fn validators() -> &'static Validators {
    static V: OnceLock<Validators> = OnceLock::new();
    V.get_or_init(|| {
        let compile = |s: &Value| jsonschema::validator_for(s).expect("the generated schemas are valid JSON Schema");
        let mut by_type = Vec::new();
        for (_, schema) in crate::schemas() {
            let types: Vec<String> = schema["properties"]["type"]["enum"]
                .as_array()
                .map(|a| a.iter().filter_map(|t| t.as_str().map(str::to_owned)).collect())
                .unwrap_or_default();
            for t in types {
                if let Some(known) = crate::inbound::KNOWN.iter().find(|k| **k == t) {
                    by_type.push((*known, compile(&schema)));
                }
            }
        }
        let mut envelope = schemars::schema_for!(crate::CloudEvent<Value>).to_value();
        envelope["properties"]["specversion"]["const"] = serde_json::json!(crate::SPEC_VERSION);
        Validators { by_type, envelope: compile(&envelope) }
    })
}

/// Every violation of the schema of `event`'s type (of the envelope alone when the type is
/// not an inbound one), as `path: what was expected`, sorted by path; empty when it conforms.
pub(crate) fn violations(event: &Value) -> Vec<String> {
    let v = validators();
    let ty = event.get("type").and_then(Value::as_str);
    let validator = ty.and_then(|t| v.by_type.iter().find(|(k, _)| *k == t)).map_or(&v.envelope, |(_, s)| s);
    let mut out = BTreeSet::new();
    for e in validator.iter_errors(event) {
        let at = dotted(&e.instance_path().to_string());
        for m in describe(e.kind(), &at) {
            out.insert(m);
        }
    }
    out.into_iter().collect()
}

/// Every violation under `under` (a path prefix; empty for all), or `first` (what the typed
/// reader said) when the schema finds none there.
pub(crate) fn every(event: &Value, under: &str, first: Vec<String>) -> Vec<String> {
    let all: Vec<String> = violations(event).into_iter().filter(|m| m.starts_with(under)).collect();
    if all.is_empty() {
        first
    } else {
        all
    }
}

/// `/data/keywords/3` → `data.keywords[3]`; the root is `event`.
fn dotted(pointer: &str) -> String {
    let mut out = String::new();
    for seg in pointer.split('/').skip(1) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        if !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{seg}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&seg);
        }
    }
    if out.is_empty() {
        "event".to_owned()
    } else {
        out
    }
}

fn join(at: &str, field: &str) -> String {
    if at == "event" {
        field.to_owned()
    } else {
        format!("{at}.{field}")
    }
}

/// What the schema expected at `at`, without the value found there.
fn describe(kind: &jsonschema::error::ValidationErrorKind, at: &str) -> Vec<String> {
    use jsonschema::error::ValidationErrorKind as K;
    let one = |m: String| vec![format!("{at}: {m}")];
    match kind {
        K::Required { property } => {
            vec![format!("{}: missing", join(at, property.as_str().unwrap_or("?")))]
        }
        K::AdditionalProperties { unexpected } => {
            unexpected.iter().map(|f| format!("{}: not a field of this event", join(at, f))).collect()
        }
        K::Type { kind } => one(format!("must be {}", type_name(kind))),
        K::Enum { options } => {
            let n = options.as_array().map_or(0, Vec::len);
            if n <= 8 {
                one(format!("must be one of {options}"))
            } else {
                one(format!("not one of the {n} allowed values (see the schema)"))
            }
        }
        K::Constant { expected_value } => one(format!("must be {expected_value}")),
        K::MaxLength { limit } => one(format!("longer than {limit} characters")),
        K::MinLength { limit } => one(format!("shorter than {limit} characters")),
        K::MaxItems { limit } => one(format!("more than {limit} entries")),
        K::MinItems { limit } => one(format!("fewer than {limit} entries")),
        K::Maximum { limit } => one(format!("above the maximum {limit}")),
        K::Minimum { limit } => one(format!("below the minimum {limit}")),
        K::ExclusiveMaximum { limit } => one(format!("not below {limit}")),
        K::ExclusiveMinimum { limit } => one(format!("not above {limit}")),
        K::Pattern { .. } => one("holds characters not allowed here, or is blank".into()),
        K::Format { format } => one(format!("not a valid {format}")),
        K::UniqueItems => one("entries repeat".into()),
        K::AnyOf { .. } | K::OneOfNotValid { .. } | K::OneOfMultipleValid { .. } => {
            one("matches none of the allowed shapes".into())
        }
        _ => one("does not match the schema".into()),
    }
}

fn type_name(kind: &jsonschema::error::TypeKind) -> String {
    use jsonschema::error::TypeKind;
    let name = |t: &jsonschema::JsonType| format!("{t}");
    match kind {
        TypeKind::Single(t) => format!("a{} {}", if name(t).starts_with(['a', 'i', 'o']) { "n" } else { "" }, name(t)),
        TypeKind::Multiple(ts) => {
            let names: Vec<String> = ts.iter().map(|t| name(&t)).collect();
            format!("one of {}", names.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_read_as_paths() {
        assert_eq!(dotted(""), "event");
        assert_eq!(dotted("/data/keywords/3"), "data.keywords[3]");
        assert_eq!(dotted("/data/interests/missions/0"), "data.interests.missions[0]");
    }
}
