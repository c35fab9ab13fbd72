//! ISO 3166-1 alpha-2 country codes.

use serde::{Deserialize, Serialize};
use std::fmt;

/// All officially assigned ISO 3166-1 alpha-2 codes.
const ISO_3166_1: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ \
BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET \
FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR \
IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN \
MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY \
QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR \
TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an ISO 3166-1 alpha-2 country code")]
pub struct CountryError(pub String);

/// A country, as an upper-case ISO 3166-1 alpha-2 code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Country([u8; 2]);

impl Country {
    /// Parses a code; `se` and `SE` are both accepted. `EL` (the EU's code for Greece) maps to `GR`,
    /// `UK` to `GB`, as EU sources use them.
    pub fn parse(s: &str) -> Result<Self, CountryError> {
        let up = s.trim().to_ascii_uppercase();
        let up = match up.as_str() {
            "EL" => "GR".to_owned(),
            "UK" => "GB".to_owned(),
            _ => up,
        };
        if up.len() == 2 && ISO_3166_1.split(' ').any(|c| c == up) {
            let b = up.as_bytes();
            Ok(Self([b[0], b[1]]))
        } else {
            Err(CountryError(s.to_owned()))
        }
    }
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
    /// Every code [`Country::parse`] accepts in its canonical (upper-case) form.
    pub fn codes() -> impl Iterator<Item = &'static str> {
        ISO_3166_1.split(' ')
    }
}
impl TryFrom<String> for Country {
    type Error = CountryError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}
impl From<Country> for String {
    fn from(c: Country) -> String {
        c.as_str().to_owned()
    }
}
impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_codes() {
        assert_eq!(Country::parse("se").map(|c| c.to_string()), Ok("SE".into()));
        assert_eq!(Country::parse("EL").map(|c| c.to_string()), Ok("GR".into()));
        assert_eq!(ISO_3166_1.split(' ').count(), 249);
        assert!(Country::parse("XX").is_err());
        assert!(Country::parse("SWE").is_err());
    }
}
