//! The entities Brygga matches: organisations, funding calls, EU Missions and the
//! region's smart-specialisation (S3) areas.

use crate::{CallId, Country, NaceCode, OrgId, OrgNumber};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A language Brygga analyses and explains in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Sv,
    #[default]
    En,
}

impl Language {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "sv" | "swe" | "swedish" | "svenska" => Some(Self::Sv),
            "en" | "eng" | "english" | "engelska" => Some(Self::En),
            _ => None,
        }
    }
}

/// What kind of legal entity an organisation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    Company,
    Sme,
    University,
    ResearchInstitute,
    PublicBody,
    Ngo,
    Other,
}

impl OrgKind {
    pub const ALL: [OrgKind; 7] =
        [Self::Company, Self::Sme, Self::University, Self::ResearchInstitute, Self::PublicBody, Self::Ngo, Self::Other];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Company => "company",
            Self::Sme => "sme",
            Self::University => "university",
            Self::ResearchInstitute => "research_institute",
            Self::PublicBody => "public_body",
            Self::Ngo => "ngo",
            Self::Other => "other",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
    /// Academia in the Horizon sense (higher education and research organisations).
    pub fn is_academic(self) -> bool {
        matches!(self, Self::University | Self::ResearchInstitute)
    }
    pub fn is_business(self) -> bool {
        matches!(self, Self::Company | Self::Sme)
    }
}

impl fmt::Display for OrgKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Head-count and finances, each optional because registries rarely publish all of them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OrgSize {
    pub employees: Option<u32>,
    pub turnover_eur: Option<u64>,
    pub balance_sheet_eur: Option<u64>,
}

impl OrgSize {
    /// SME test of Commission Recommendation 2003/361/EC: fewer than 250 employees and
    /// turnover ≤ EUR 50 m or balance-sheet total ≤ EUR 43 m. `None` when the data cannot decide.
    pub fn is_sme(&self) -> Option<bool> {
        let staff_ok = self.employees.map(|e| e < 250)?;
        if !staff_ok {
            return Some(false);
        }
        let turnover_ok = self.turnover_eur.map(|t| t <= 50_000_000);
        let balance_ok = self.balance_sheet_eur.map(|b| b <= 43_000_000);
        match (turnover_ok, balance_ok) {
            (Some(true), _) | (_, Some(true)) => Some(true),
            (Some(false), Some(false)) => Some(false),
            (Some(false), None) | (None, Some(false)) | (None, None) => None,
        }
    }
}

/// The five EU Missions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MissionId {
    Adaptation,
    Cancer,
    Ocean,
    Cities,
    Soil,
}

impl MissionId {
    pub const ALL: [MissionId; 5] = [Self::Adaptation, Self::Cancer, Self::Ocean, Self::Cities, Self::Soil];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Adaptation => "adaptation",
            Self::Cancer => "cancer",
            Self::Ocean => "ocean",
            Self::Cities => "cities",
            Self::Soil => "soil",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s.trim().to_ascii_lowercase())
    }
    /// The token Horizon Europe mission topic codes carry (`HORIZON-MISS-2026-01-OCEAN-03`).
    pub fn from_topic_token(token: &str) -> Option<Self> {
        match token {
            "CLIMA" => Some(Self::Adaptation),
            "CANCER" | "UNCAN" => Some(Self::Cancer),
            "OCEAN" => Some(Self::Ocean),
            "CIT" => Some(Self::Cities),
            "SOIL" => Some(Self::Soil),
            _ => None,
        }
    }
}

/// A past participation in a funded project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Participation {
    pub call_id: String,
    pub project_title: String,
}

/// What the organisation has agreed to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    /// Brygga may send it recommendations.
    pub contact: bool,
    /// Brygga may suggest it to others as a consortium partner.
    pub partner_suggestions: bool,
}

/// An organisation as Brygga knows it (validated).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Organisation {
    pub id: OrgId,
    pub version: u64,
    pub name: String,
    pub org_number: Option<OrgNumber>,
    pub kind: OrgKind,
    pub size: OrgSize,
    pub country: Option<Country>,
    pub nuts: Option<String>,
    pub municipality: Option<String>,
    pub nace: Vec<NaceCode>,
    pub description: String,
    /// Language of `description` and `keywords`.
    pub description_language: Language,
    pub keywords: Vec<String>,
    pub interest_missions: Vec<MissionId>,
    pub interest_themes: Vec<String>,
    pub participations: Vec<Participation>,
    /// Language for explanations sent to this organisation.
    pub preferred_language: Language,
    pub consent: Consent,
}

impl Organisation {
    /// SME status: declared kind first, else the EU size test.
    pub fn is_sme(&self) -> Option<bool> {
        match self.kind {
            OrgKind::Sme => Some(true),
            OrgKind::Company => self.size.is_sme(),
            _ => Some(false),
        }
    }
}

/// Who funds a call.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Programme {
    HorizonEurope,
    Interreg,
    Vinnova,
    Life,
    DigitalEurope,
    RegionalFunds,
    Other,
}

impl Programme {
    pub fn parse(s: &str) -> Option<Self> {
        let k: String = s.trim().to_ascii_lowercase().chars().filter(|c| c.is_ascii_alphanumeric()).collect();
        Some(match k.as_str() {
            "horizoneurope" | "horizon" | "he" => Self::HorizonEurope,
            "interreg" => Self::Interreg,
            "vinnova" => Self::Vinnova,
            "life" => Self::Life,
            "digitaleurope" | "dep" => Self::DigitalEurope,
            "regionalfunds" | "erdf" | "regional" => Self::RegionalFunds,
            "other" => Self::Other,
            _ => return None,
        })
    }
    pub fn label(&self) -> &'static str {
        match self {
            Self::HorizonEurope => "Horizon Europe",
            Self::Interreg => "Interreg",
            Self::Vinnova => "Vinnova",
            Self::Life => "LIFE",
            Self::DigitalEurope => "Digital Europe",
            Self::RegionalFunds => "Regional funds",
            Self::Other => "Other",
        }
    }
}

/// Publication state of a call as its publisher states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallStatus {
    Forthcoming,
    Open,
    Closed,
}

/// Indicative money, in EUR; every part may be unknown.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Budget {
    pub total_eur: Option<u64>,
    pub per_grant_min_eur: Option<u64>,
    pub per_grant_max_eur: Option<u64>,
}

/// A funding call (for Horizon Europe: one topic).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Call {
    pub id: CallId,
    pub version: u64,
    pub programme: Programme,
    pub title: String,
    pub description: String,
    pub keywords: Vec<String>,
    pub action_type: Option<String>,
    pub opening: Option<NaiveDate>,
    /// One deadline, or two for a two-stage call (first stage first).
    pub deadlines: Vec<NaiveDate>,
    pub budget: Budget,
    /// `None`: the call does not say (eligibility is then unknown, not met).
    pub eligible_kinds: Option<Vec<OrgKind>>,
    pub eligible_countries: Option<Vec<Country>>,
    pub min_consortium: Option<u32>,
    pub missions: Vec<MissionId>,
    pub trl: Option<(u8, u8)>,
    pub url: Option<String>,
    pub status: CallStatus,
}

impl Call {
    /// The next deadline on or after `today`; `None` if there is none or all have passed.
    pub fn next_deadline(&self, today: NaiveDate) -> Option<NaiveDate> {
        self.deadlines.iter().copied().filter(|d| *d >= today).min()
    }
    /// The last deadline, to decide whether the call is over.
    pub fn final_deadline(&self) -> Option<NaiveDate> {
        self.deadlines.iter().copied().max()
    }
}

/// One of the five EU Missions, as shipped in the catalogue (bilingual).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mission {
    pub id: MissionId,
    pub name_en: String,
    pub name_sv: String,
    pub description_en: String,
    pub description_sv: String,
    pub keywords_en: Vec<String>,
    pub keywords_sv: Vec<String>,
    pub url: String,
}

/// One of Region Blekinge's smart-specialisation areas (bilingual).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct S3Area {
    pub id: String,
    pub label_en: String,
    pub label_sv: String,
    pub description_en: String,
    pub description_sv: String,
    pub keywords_en: Vec<String>,
    pub keywords_sv: Vec<String>,
    /// NACE divisions that typically belong to the area (evidence, not a rule).
    pub nace_divisions: Vec<String>,
    /// Missions the area mobilises for.
    pub missions: Vec<MissionId>,
    pub url: String,
}

/// The catalogue loaded at start: missions and S3 areas.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Catalogue {
    pub missions: Vec<Mission>,
    pub s3_areas: Vec<S3Area>,
}

impl Catalogue {
    /// The catalogue shipped in `catalogue/catalogue.json` (compiled in), and the date of the
    /// sample call snapshot it goes with.
    pub fn shipped() -> (Catalogue, NaiveDate) {
        #[derive(Deserialize)]
        struct File {
            snapshot_date: NaiveDate,
            #[serde(flatten)]
            catalogue: Catalogue,
        }
        const JSON: &str = include_str!("../../../catalogue/catalogue.json");
        // The file is part of the build; a test below proves it parses.
        let f: File = serde_json::from_str(JSON).unwrap_or_else(|e| panic!("catalogue/catalogue.json: {e}"));
        (f.catalogue, f.snapshot_date)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sme_test_follows_the_eu_definition() {
        let s = |e, t, b| OrgSize { employees: e, turnover_eur: t, balance_sheet_eur: b };
        assert_eq!(s(Some(40), Some(8_000_000), None).is_sme(), Some(true));
        assert_eq!(s(Some(300), Some(1), Some(1)).is_sme(), Some(false));
        assert_eq!(s(Some(200), Some(60_000_000), Some(40_000_000)).is_sme(), Some(true));
        assert_eq!(s(Some(200), Some(60_000_000), Some(50_000_000)).is_sme(), Some(false));
        assert_eq!(s(Some(200), Some(60_000_000), None).is_sme(), None);
        assert_eq!(s(None, Some(1), Some(1)).is_sme(), None);
    }

    #[test]
    fn the_shipped_catalogue_parses() {
        let (c, date) = Catalogue::shipped();
        assert_eq!(c.missions.len(), 5);
        assert_eq!(c.s3_areas.len(), 3);
        assert_eq!(date.to_string(), "2026-08-17");
    }

    #[test]
    fn mission_tokens_follow_topic_codes() {
        assert_eq!(MissionId::from_topic_token("UNCAN"), Some(MissionId::Cancer));
        assert_eq!(MissionId::from_topic_token("NEB"), None);
    }
}
