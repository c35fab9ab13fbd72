//! Reading a benchmark set (`../shared/bench/FORMAT.md`): `orgs.jsonl`, `calls.jsonl`,
//! `missions.jsonl` for ranking; `gold.jsonl`, `gold_missions.jsonl` only for scoring.
//! Every problem is reported as `file:line: what`.

use brygga_domain::{
    Budget, Call, CallId, CallStatus, Consent, Country, Language, Mission, MissionId, NaceCode, OrgId, OrgKind,
    Organisation, Participation, Programme,
};
use serde::Deserialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum SetError {
    #[error("{0} is not a directory")]
    NotADir(PathBuf),
    #[error("{0} is missing (a set needs calls.jsonl)")]
    Missing(PathBuf),
    #[error("reading {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{file}:{line}: {message}")]
    Line { file: String, line: usize, message: String },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OrgRow {
    id: String,
    name: String,
    kind: String,
    country: Option<String>,
    #[serde(default)]
    region: Option<String>,
    language: String,
    description: String,
    nace: Vec<String>,
    keywords: Vec<String>,
    history: Vec<HistoryRow>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HistoryRow {
    call_id: String,
    title: String,
    #[serde(default)]
    call_title: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CallRow {
    id: String,
    title: String,
    description: String,
    keywords: Vec<String>,
    programme: String,
    action_type: Option<String>,
    deadline: Option<String>,
    budget_eur: Option<f64>,
    url: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MissionRow {
    id: String,
    name: String,
    description: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GoldRow {
    query_id: String,
    target_id: String,
    grade: u8,
}

/// Relevance judgements: query id → target id → grade (1-3).
pub type Gold = HashMap<String, HashMap<String, u8>>;

/// A loaded set. Candidates keep file order (ties are broken by it).
#[derive(Debug)]
pub struct EvalSet {
    pub name: String,
    pub orgs: Vec<Organisation>,
    pub calls: Vec<Call>,
    pub missions: Option<Vec<Mission>>,
    /// `gold.jsonl`: org → call, or call → mission in a set without orgs.
    pub gold: Option<Gold>,
    /// `gold_missions.jsonl`: org → mission.
    pub gold_missions: Option<Gold>,
}

fn lines<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Vec<(usize, T)>, SetError> {
    let text = std::fs::read_to_string(path).map_err(|source| SetError::Io { path: path.to_owned(), source })?;
    let file = path.display().to_string();
    text.lines()
        .enumerate()
        .map(|(i, l)| {
            serde_json::from_str(l).map(|v| (i + 1, v)).map_err(|e| SetError::Line {
                file: file.clone(),
                line: i + 1,
                message: e.to_string(),
            })
        })
        .collect()
}

fn optional<T: for<'de> Deserialize<'de>>(dir: &Path, name: &str) -> Result<Option<Vec<(usize, T)>>, SetError> {
    let p = dir.join(name);
    if p.exists() {
        lines(&p).map(Some)
    } else {
        Ok(None)
    }
}

fn kind(k: &str) -> Option<OrgKind> {
    Some(match k {
        "company" => OrgKind::Company,
        "sme" => OrgKind::Sme,
        "university" => OrgKind::University,
        "research" => OrgKind::ResearchInstitute,
        "public" => OrgKind::PublicBody,
        "other" | "unknown" => OrgKind::Other,
        _ => return None,
    })
}

impl EvalSet {
    /// Loads and checks a set directory.
    pub fn load(dir: &Path) -> Result<Self, SetError> {
        if !dir.is_dir() {
            return Err(SetError::NotADir(dir.to_owned()));
        }
        let calls_path = dir.join("calls.jsonl");
        if !calls_path.exists() {
            return Err(SetError::Missing(calls_path));
        }
        let err = |file: &str, line: usize, message: String| SetError::Line {
            file: dir.join(file).display().to_string(),
            line,
            message,
        };
        let mut calls = Vec::new();
        for (line, r) in lines::<CallRow>(&calls_path)? {
            let e = |m: String| err("calls.jsonl", line, m);
            let deadlines = match &r.deadline {
                Some(d) => vec![parse_date(d).ok_or_else(|| e(format!("deadline {d:?} is not YYYY-MM-DD")))?],
                None => vec![],
            };
            calls.push(Call {
                id: CallId::parse(&r.id).map_err(|x| e(x.to_string()))?,
                version: 1,
                programme: if r.programme == "Horizon Europe" { Programme::HorizonEurope } else { Programme::Other },
                title: r.title,
                description: r.description,
                keywords: r.keywords,
                action_type: r.action_type,
                opening: None,
                deadlines,
                budget: Budget { per_grant_max_eur: r.budget_eur.map(|b| b.max(0.0) as u64), ..Budget::default() },
                eligible_kinds: None,
                eligible_countries: None,
                min_consortium: None,
                missions: vec![],
                trl: None,
                url: r.url,
                status: CallStatus::Open,
            });
        }
        let mut orgs = Vec::new();
        for (line, r) in optional::<OrgRow>(dir, "orgs.jsonl")?.unwrap_or_default() {
            let e = |m: String| err("orgs.jsonl", line, m);
            let lang =
                Language::parse(&r.language).ok_or_else(|| e(format!("language {:?} is not en or sv", r.language)))?;
            let nace =
                r.nace.iter().map(|c| NaceCode::parse(c).map_err(|x| e(x.to_string()))).collect::<Result<_, _>>()?;
            let country = r.country.as_deref().map(Country::parse).transpose().map_err(|x| e(x.to_string()))?;
            let _ = r.region;
            orgs.push(Organisation {
                id: OrgId::parse(&r.id).map_err(|x| e(x.to_string()))?,
                version: 1,
                name: r.name,
                org_number: None,
                kind: kind(&r.kind).ok_or_else(|| {
                    e(format!(
                        "kind {:?} is not one of company, sme, university, research, public, other, unknown",
                        r.kind
                    ))
                })?,
                size: Default::default(),
                country,
                nuts: None,
                municipality: None,
                nace,
                description: r.description,
                description_language: lang,
                keywords: r.keywords,
                interest_missions: vec![],
                interest_themes: vec![],
                participations: r
                    .history
                    .into_iter()
                    .map(|h| Participation {
                        call_id: h.call_id,
                        project_title: h.call_title.map_or(h.title.clone(), |t| format!("{} {t}", h.title)),
                    })
                    .collect(),
                preferred_language: lang,
                consent: Consent { contact: true, partner_suggestions: true },
            });
        }
        let missions = optional::<MissionRow>(dir, "missions.jsonl")?
            .map(|rows| {
                rows.into_iter()
                    .map(|(line, r)| {
                        let id = MissionId::parse(&r.id)
                            .ok_or_else(|| err("missions.jsonl", line, format!("{:?} is not a mission id", r.id)))?;
                        Ok(Mission {
                            id,
                            name_en: r.name,
                            name_sv: String::new(),
                            description_en: r.description,
                            description_sv: String::new(),
                            keywords_en: vec![],
                            keywords_sv: vec![],
                            url: String::new(),
                        })
                    })
                    .collect::<Result<Vec<_>, SetError>>()
            })
            .transpose()?;
        let gold = read_gold(dir, "gold.jsonl")?;
        let gold_missions = read_gold(dir, "gold_missions.jsonl")?;
        let name = dir.file_name().map_or_else(|| dir.display().to_string(), |n| n.to_string_lossy().into_owned());
        Ok(Self { name, orgs, calls, missions, gold, gold_missions })
    }
}

fn read_gold(dir: &Path, name: &str) -> Result<Option<Gold>, SetError> {
    let Some(rows) = optional::<GoldRow>(dir, name)? else { return Ok(None) };
    let mut g: Gold = HashMap::new();
    for (line, r) in rows {
        if !(1..=3).contains(&r.grade) {
            return Err(SetError::Line {
                file: dir.join(name).display().to_string(),
                line,
                message: format!("grade {} is not 1, 2 or 3", r.grade),
            });
        }
        g.entry(r.query_id).or_default().insert(r.target_id, r.grade);
    }
    Ok(Some(g))
}

fn parse_date(s: &str) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}
