//! Identifier newtypes. Ids end up as NATS subject tokens, so they are restricted to
//! characters that are safe there (no `.`, `*`, `>` or whitespace).

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why an identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("{kind} id is empty")]
    Empty { kind: &'static str },
    #[error("{kind} id is longer than {max} characters")]
    TooLong { kind: &'static str, max: usize },
    #[error("{kind} id {value:?} has a character outside A-Z a-z 0-9 _ - : (ids are NATS subject tokens)")]
    BadChar { kind: &'static str, value: String },
}

const MAX_ID_LEN: usize = 128;

fn check(kind: &'static str, s: &str) -> Result<(), IdError> {
    if s.is_empty() {
        return Err(IdError::Empty { kind });
    }
    if s.len() > MAX_ID_LEN {
        return Err(IdError::TooLong { kind, max: MAX_ID_LEN });
    }
    if !s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ':')) {
        return Err(IdError::BadChar { kind, value: s.to_owned() });
    }
    Ok(())
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Parses and validates an id.
            pub fn parse(s: impl Into<String>) -> Result<Self, IdError> {
                let s = s.into();
                check($kind, &s)?;
                Ok(Self(s))
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, IdError> {
                Self::parse(s)
            }
        }
        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// Identifier of an organisation.
    OrgId,
    "organisation"
);
id_type!(
    /// Identifier of a funding call (for Horizon Europe: the topic code).
    CallId,
    "call"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_accept_topic_codes_and_refuse_subject_breakers() {
        assert!(CallId::parse("HORIZON-CL5-2027-07-D3-11").is_ok());
        assert!(OrgId::parse("se-5566778899").is_ok());
        assert_eq!(OrgId::parse(""), Err(IdError::Empty { kind: "organisation" }));
        assert!(matches!(OrgId::parse("a.b"), Err(IdError::BadChar { .. })));
        assert!(matches!(OrgId::parse("a b"), Err(IdError::BadChar { .. })));
        assert!(matches!(OrgId::parse("x".repeat(129)), Err(IdError::TooLong { .. })));
    }
}
