//! Swedish organisation numbers (organisationsnummer), validated with the Luhn checksum
//! that Bolagsverket and Skatteverket use.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a number is not an organisation number. The message never repeats the number: it is
/// personal data for a sole trader (their personal identity number), and refusals are logged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrgNumberError {
    #[error("the organisation number must be 10 digits (NNNNNN-NNNN), optionally prefixed with 16")]
    Format,
    #[error("the organisation number fails its checksum (Luhn)")]
    Checksum,
}

/// A validated Swedish organisation number, stored as `NNNNNN-NNNN`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OrgNumber(String);

impl OrgNumber {
    /// Accepts `5560360793`, `556036-0793` and the 12-digit `16556036-0793` form.
    pub fn parse(s: &str) -> Result<Self, OrgNumberError> {
        let digits: String = s.trim().chars().filter(|c| *c != '-').collect();
        let digits = match digits.len() {
            12 if digits.starts_with("16") => digits[2..].to_owned(),
            _ => digits,
        };
        if digits.len() != 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(OrgNumberError::Format);
        }
        if !luhn_valid(&digits) {
            return Err(OrgNumberError::Checksum);
        }
        Ok(Self(format!("{}-{}", &digits[..6], &digits[6..])))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Luhn over ASCII digits: doubling every second digit from the left for a 10-digit number.
fn luhn_valid(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

impl TryFrom<String> for OrgNumber {
    type Error = OrgNumberError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}
impl From<OrgNumber> for String {
    fn from(n: OrgNumber) -> String {
        n.0
    }
}
impl fmt::Display for OrgNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_valid_numbers_in_all_forms() {
        // 556036-0793 is a published, checksum-valid company number.
        for s in ["5560360793", "556036-0793", "16556036-0793", " 556036-0793 "] {
            assert_eq!(OrgNumber::parse(s).map(|n| n.0), Ok("556036-0793".to_owned()), "{s}");
        }
        // Blekinge Tekniska Högskola: 202100-4185.
        assert!(OrgNumber::parse("202100-4185").is_ok());
    }

    #[test]
    fn refuses_bad_checksum_and_format() {
        assert!(matches!(OrgNumber::parse("556036-0794"), Err(OrgNumberError::Checksum)));
        assert!(matches!(OrgNumber::parse("55603607"), Err(OrgNumberError::Format)));
        assert!(matches!(OrgNumber::parse("55603607ab"), Err(OrgNumberError::Format)));
    }
}
