//! Three-valued eligibility of an organisation for a call. `Unknown` never counts as met and
//! never excludes: it is shown to the reader instead.

use crate::{Call, CallStatus, Language, OrgKind, Organisation};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The outcome of one eligibility criterion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tri {
    Met,
    Missed,
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Criterion {
    Status,
    Deadline,
    OrganisationKind,
    Country,
    Consortium,
}

/// One line of an explanation's eligibility block, rendered in the reader's language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EligibilityLine {
    pub criterion: Criterion,
    pub status: Tri,
    pub text: String,
}

impl EligibilityLine {
    fn new(criterion: Criterion, status: Tri, text: String) -> Self {
        Self { criterion, status, text }
    }
}

/// Evaluates every criterion. The call is recommendable only if no line is `Missed`.
pub fn assess(org: &Organisation, call: &Call, today: NaiveDate, lang: Language) -> Vec<EligibilityLine> {
    let sv = lang == Language::Sv;
    let mut lines = Vec::with_capacity(5);
    if call.status == CallStatus::Closed {
        let t = if sv { "utlysningen är stängd" } else { "the call is closed" };
        lines.push(EligibilityLine::new(Criterion::Status, Tri::Missed, t.into()));
    }
    lines.push(deadline_line(call, today, sv));
    lines.push(kind_line(org, call, sv));
    lines.push(country_line(org, call, sv));
    if let Some(n) = call.min_consortium.filter(|n| *n > 1) {
        let t = if sv {
            format!("kräver ett konsortium med minst {n} parter; se partnerförslagen")
        } else {
            format!("needs a consortium of at least {n} partners; see the partner suggestions")
        };
        lines.push(EligibilityLine::new(Criterion::Consortium, Tri::Unknown, t));
    }
    lines
}

/// Whether the lines allow a recommendation (no criterion missed).
pub fn allows(lines: &[EligibilityLine]) -> bool {
    lines.iter().all(|l| l.status != Tri::Missed)
}

fn deadline_line(call: &Call, today: NaiveDate, sv: bool) -> EligibilityLine {
    match (call.next_deadline(today), call.final_deadline()) {
        (Some(d), _) => {
            let days = (d - today).num_days();
            let t = if sv {
                format!("sista ansökningsdag {d} (om {days} dagar)")
            } else {
                format!("deadline {d} ({days} days left)")
            };
            EligibilityLine::new(Criterion::Deadline, Tri::Met, t)
        }
        (None, Some(d)) => {
            let t =
                if sv { format!("sista ansökningsdag {d} har passerat") } else { format!("deadline {d} has passed") };
            EligibilityLine::new(Criterion::Deadline, Tri::Missed, t)
        }
        (None, None) => {
            let t = if sv { "sista ansökningsdag okänd" } else { "deadline not known" };
            EligibilityLine::new(Criterion::Deadline, Tri::Unknown, t.into())
        }
    }
}

fn kind_line(org: &Organisation, call: &Call, sv: bool) -> EligibilityLine {
    let Some(kinds) = &call.eligible_kinds else {
        let t = if sv {
            "utlysningen anger inte vilka organisationstyper som får söka"
        } else {
            "the call does not state which kinds of organisation may apply"
        };
        return EligibilityLine::new(Criterion::OrganisationKind, Tri::Unknown, t.into());
    };
    // An SME is a company; a call open to companies is open to SMEs.
    let ok = kinds.contains(&org.kind) || (org.kind == OrgKind::Sme && kinds.contains(&OrgKind::Company));
    let (status, t) = match (ok, sv) {
        (true, true) => (Tri::Met, format!("organisationstypen {} får söka", org.kind)),
        (true, false) => (Tri::Met, format!("organisation kind {} may apply", org.kind)),
        (false, true) => (Tri::Missed, format!("organisationstypen {} får inte söka", org.kind)),
        (false, false) => (Tri::Missed, format!("organisation kind {} may not apply", org.kind)),
    };
    EligibilityLine::new(Criterion::OrganisationKind, status, t)
}

fn country_line(org: &Organisation, call: &Call, sv: bool) -> EligibilityLine {
    let (status, t) = match (&call.eligible_countries, org.country) {
        (None, _) => (
            Tri::Unknown,
            if sv {
                "utlysningen anger inte vilka länder som får söka".into()
            } else {
                "the call does not state eligible countries".into()
            },
        ),
        (Some(_), None) => (
            Tri::Unknown,
            if sv {
                "organisationens land är okänt".into()
            } else {
                "the organisation's country is not known".into()
            },
        ),
        (Some(list), Some(c)) if list.contains(&c) => (
            Tri::Met,
            if sv { format!("{c} är ett stödberättigat land") } else { format!("{c} is an eligible country") },
        ),
        (Some(_), Some(c)) => (
            Tri::Missed,
            if sv {
                format!("{c} är inte ett stödberättigat land")
            } else {
                format!("{c} is not an eligible country")
            },
        ),
    };
    EligibilityLine::new(Criterion::Country, status, t)
}
