//! Property tests of the inbound decoder and the version rule (proptest): arbitrary bytes,
//! arbitrary values in every field of a valid event, any version.

use super::{example, repo};
use brygga_events::{decode, Rejection, DEFAULT_MAX_EVENT_BYTES, MAX_VERSION};
use proptest::prelude::*;
use serde_json::{json, Value};

const CODES: [&str; 6] =
    ["oversized", "malformed_json", "bad_envelope", "unknown_type", "unsupported_version", "invalid_payload"];

fn bytes_of(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).expect("json")
}

/// Any JSON value, a few levels deep, with strings that include control, bidi and non-ASCII
/// characters, and numbers at the edges.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| json!(f)),
        ".{0,40}".prop_map(Value::String),
        prop::sample::select(vec![
            "",
            " ",
            "\u{0}",
            "\u{202e}evil",
            "sme",
            "SE",
            "2026-9-3",
            "javascript:alert(1)",
            "ocean"
        ])
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,12}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// The data fields of the committed examples, by file.
fn fields(file: &str) -> Vec<String> {
    example(file)["data"].as_object().expect("data object").keys().cloned().collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    /// Any bytes end in an event or a classified rejection, never a panic.
    #[test]
    fn any_bytes_decode_or_are_rejected_with_a_code(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        if let Err(r) = decode(&bytes, DEFAULT_MAX_EVENT_BYTES) {
            prop_assert!(CODES.contains(&r.code()));
            prop_assert!(!r.to_string().is_empty());
        }
    }

    /// Any value in any one field of a valid organisation or call: accepted, or rejected with a
    /// reason that names the field.
    #[test]
    fn a_bad_value_in_any_field_is_refused_naming_it(
        file in prop::sample::select(vec!["organisation.registered.json", "call.published.json", "call.closed.json"]),
        pick in any::<prop::sample::Index>(),
        value in any_json(),
    ) {
        let names = fields(file);
        let field = &names[pick.index(names.len())];
        let mut v = example(file);
        v["data"][field.as_str()] = value;
        if let Err(r) = decode(&bytes_of(&v), DEFAULT_MAX_EVENT_BYTES) {
            prop_assert_eq!(r.code(), "invalid_payload", "{}", r);
            let text = r.to_string();
            let mut words = text.split(|c: char| !(c.is_alphanumeric() || c == '_'));
            prop_assert!(words.any(|w| w == field), "{} does not name {}", text, field);
        }
    }

    /// The version rule: 0 ..= 2^63 - 1 is stored as it is; anything above is refused naming
    /// `version`, never clamped.
    #[test]
    fn versions_are_kept_exactly_or_refused(version in prop_oneof![any::<u64>(), (MAX_VERSION - 3)..=u64::MAX, 0..10_u64]) {
        for file in ["organisation.registered.json", "call.closed.json"] {
            let mut v = example(file);
            v["data"]["version"] = json!(version);
            match decode(&bytes_of(&v), DEFAULT_MAX_EVENT_BYTES) {
                Ok(d) => {
                    prop_assert!(version <= MAX_VERSION);
                    let kept = match d.event {
                        brygga_events::Inbound::OrganisationUpserted(o) => o.version,
                        brygga_events::Inbound::CallClosed { version, .. } => version,
                        other => panic!("unexpected {other:?}"),
                    };
                    prop_assert_eq!(kept, version);
                }
                Err(Rejection::InvalidPayload(reasons)) => {
                    prop_assert!(version > MAX_VERSION, "{:?}", reasons);
                    prop_assert!(reasons.iter().any(|r| r.contains("version")), "{:?}", reasons);
                }
                Err(other) => prop_assert!(false, "{}", other),
            }
        }
    }

    /// Bytes of a valid event cut anywhere, or with one byte changed: never a panic.
    #[test]
    fn damaged_events_never_panic(cut in any::<prop::sample::Index>(), flip in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let bytes = std::fs::read(repo().join("schemas/examples/organisation.registered.json")).expect("example");
        let mut damaged = bytes[..cut.index(bytes.len() + 1)].to_vec();
        if !damaged.is_empty() {
            let i = flip.index(damaged.len());
            damaged[i] = byte;
        }
        let _ = decode(&damaged, DEFAULT_MAX_EVENT_BYTES);
    }
}
