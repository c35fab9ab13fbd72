//! Industry classification: NACE Rev.2 (EU) and SNI 2007 (Sweden, maps onto NACE classes).
//!
//! The tables are derived from the public classifications by `scripts/build-resources.py`
//! and compiled in, so validation needs no I/O.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

const NACE_TSV: &str = include_str!("../resources/nace.tsv");
const SNI_TSV: &str = include_str!("../resources/sni2007.tsv");

/// One NACE Rev.2 entry.
#[derive(Debug)]
pub struct NaceEntry {
    pub code: &'static str,
    pub level: u8,
    pub title_en: &'static str,
    pub title_sv: &'static str,
}

struct Tables {
    nace: HashMap<&'static str, NaceEntry>,
    sni: HashMap<&'static str, &'static str>,
}

fn tables() -> &'static Tables {
    static T: OnceLock<Tables> = OnceLock::new();
    T.get_or_init(|| {
        let rows = |tsv: &'static str| {
            tsv.lines().filter(|l| !l.starts_with('#') && !l.is_empty()).map(|l| l.split('\t').collect::<Vec<_>>())
        };
        let nace = rows(NACE_TSV)
            .filter(|c| c.len() == 4)
            .map(|c| {
                let e = NaceEntry { code: c[0], level: c[1].parse().unwrap_or(0), title_en: c[2], title_sv: c[3] };
                (c[0], e)
            })
            .collect();
        let sni = rows(SNI_TSV).filter(|c| c.len() >= 2).map(|c| (c[0], c[1])).collect();
        Tables { nace, sni }
    })
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndustryError {
    #[error("{0:?} is not a NACE Rev.2 code")]
    UnknownNace(String),
    #[error("{0:?} is not an SNI 2007 code")]
    UnknownSni(String),
}

/// A valid NACE Rev.2 code in dotted form (`C`, `30`, `30.1`, `30.11`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct NaceCode(String);

impl NaceCode {
    /// Accepts the dotted form and the undotted digits (`3011`).
    pub fn parse(s: &str) -> Result<Self, IndustryError> {
        let t = s.trim().to_ascii_uppercase();
        let dotted = if t.len() > 2 && !t.contains('.') && t.bytes().all(|b| b.is_ascii_digit()) {
            format!("{}.{}", &t[..2], &t[2..])
        } else {
            t
        };
        match tables().nace.get_key_value(dotted.as_str()) {
            Some((k, _)) => Ok(Self((*k).to_owned())),
            None => Err(IndustryError::UnknownNace(s.to_owned())),
        }
    }

    /// Maps an SNI 2007 code (`30110` or `30.110`) onto its NACE Rev.2 class.
    pub fn from_sni2007(s: &str) -> Result<Self, IndustryError> {
        let digits: String = s.trim().chars().filter(|c| *c != '.').collect();
        let class = tables().sni.get(digits.as_str()).ok_or_else(|| IndustryError::UnknownSni(s.to_owned()))?;
        Self::parse(class).map_err(|_| IndustryError::UnknownSni(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn entry(&self) -> &'static NaceEntry {
        // A NaceCode only exists for codes in the table.
        &tables().nace[self.0.as_str()]
    }

    /// The two-digit division (`30` for `30.11`); sections have none.
    pub fn division(&self) -> Option<&str> {
        self.0.get(..2).filter(|d| d.bytes().all(|b| b.is_ascii_digit()))
    }

    /// Whether `self` equals `other` or lies under it in the hierarchy (`30.11` is within `30`).
    pub fn within(&self, other: &NaceCode) -> bool {
        self.0 == other.0 || (self.0.starts_with(&other.0) && other.0.len() >= 2)
    }
}
impl TryFrom<String> for NaceCode {
    type Error = IndustryError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}
impl From<NaceCode> for String {
    fn from(c: NaceCode) -> String {
        c.0
    }
}
impl fmt::Display for NaceCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Every NACE Rev.2 code of every level in its canonical (dotted) form, ordered: what
/// [`NaceCode::parse`] accepts (it also takes undotted digits).
pub fn nace_codes() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = tables().nace.keys().copied().collect();
    v.sort_unstable();
    v
}

/// Every SNI 2007 code (five digits, undotted) that [`NaceCode::from_sni2007`] maps, ordered.
pub fn sni_codes() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = tables().sni.keys().copied().collect();
    v.sort_unstable();
    v
}

/// Every NACE Rev.2 class (the four-digit level), ordered by code: the vocabulary of
/// generated organisations in benchmarks.
pub fn nace_classes() -> Vec<&'static NaceEntry> {
    let mut v: Vec<&NaceEntry> = tables().nace.values().filter(|e| e.level == 4).collect();
    v.sort_by_key(|e| e.code);
    v
}

/// Parallel (Swedish, English) titles: every NACE code, and every SNI 2007 code with the
/// English title of its NACE class. The raw material of the cross-lingual lexicon.
pub fn parallel_titles() -> Vec<(&'static str, &'static str)> {
    let t = tables();
    let nace = t.nace.values().map(|e| (e.title_sv, e.title_en));
    let sni = SNI_TSV.lines().filter(|l| !l.starts_with('#')).filter_map(|l| {
        let c: Vec<&str> = l.split('\t').collect();
        let e = t.nace.get(c.get(1)?)?;
        Some((*c.get(2)?, e.title_en))
    });
    nace.chain(sni).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nace_parses_known_codes_in_both_forms() {
        let c = NaceCode::parse("30.11").expect("known");
        assert_eq!(c.entry().title_en, "Building of ships and floating structures");
        assert_eq!(NaceCode::parse("3011"), Ok(c.clone()));
        assert_eq!(c.division(), Some("30"));
        assert!(c.within(&NaceCode::parse("30").expect("division")));
        assert!(!c.within(&NaceCode::parse("31").expect("division")));
        assert!(NaceCode::parse("99.99").is_err());
    }

    #[test]
    fn sni_maps_to_nace_class() {
        assert_eq!(NaceCode::from_sni2007("30110").map(|c| c.to_string()), Ok("30.11".into()));
        assert_eq!(NaceCode::from_sni2007("30.110").map(|c| c.to_string()), Ok("30.11".into()));
        assert!(NaceCode::from_sni2007("99999").is_err());
    }
}
