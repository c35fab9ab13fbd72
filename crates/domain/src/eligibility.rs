//! Three-valued eligibility of an organisation for a call. `Unknown` never counts as met and
//! never excludes: it is shown to the reader instead.

use crate::{Call, CallStatus, Country, Language, OrgKind, Organisation};
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
    let rules = CallRules::of(call);
    let mut lines = Vec::with_capacity(5);
    if rules.status() == Tri::Missed {
        let t = if sv { "utlysningen är stängd" } else { "the call is closed" };
        lines.push(EligibilityLine::new(Criterion::Status, Tri::Missed, t.into()));
    }
    lines.push(deadline_line(call, &rules, today, sv));
    lines.push(kind_line(org, &rules, sv));
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

/// Whether `org` may apply to `call` as of `today`: [`allows`] of [`assess`], without
/// writing the lines (the candidate searches ask it of thousands of pairs per query). Both
/// read the same per-criterion statuses below; the consortium criterion is never missed.
pub fn eligible(org: &Organisation, call: &Call, today: NaiveDate) -> bool {
    eligible_as(org.kind, org.country, call, today)
}

/// [`eligible`] from the only two facts of the organisation it reads.
pub(crate) fn eligible_as(kind: OrgKind, country: Option<Country>, call: &Call, today: NaiveDate) -> bool {
    eligible_by(&CallRules::of(call), kind, country, today, || Some(call))
}

/// [`eligible_as`] from the call's [`CallRules`]; `call` is asked for only if it lists
/// countries (`None`: not eligible).
pub(crate) fn eligible_by<'c>(
    rules: &CallRules,
    kind: OrgKind,
    country: Option<Country>,
    today: NaiveDate,
    call: impl FnOnce() -> Option<&'c Call>,
) -> bool {
    rules.allow(kind, today) && (!rules.countries || call().is_some_and(|c| country_status(country, c) != Tri::Missed))
}

/// What eligibility reads of a call but its country list, in a few bytes: the candidate
/// searches test it for every call a query touches (`matching::slots`), and read the call
/// itself only where it lists countries ([`eligible_by`]). The default is a closed
/// call (a freed slot).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CallRules {
    closed: bool,
    final_deadline: Option<NaiveDate>,
    /// The kinds that may apply, one bit each in [`OrgKind::ALL`] order, an SME counting as a
    /// company; `None`: not stated.
    kinds: Option<u8>,
    countries: bool,
}

impl Default for CallRules {
    fn default() -> Self {
        Self { closed: true, final_deadline: None, kinds: None, countries: false }
    }
}

fn kind_bit(k: OrgKind) -> u8 {
    OrgKind::ALL.iter().position(|x| *x == k).map_or(0, |i| 1 << i)
}

impl CallRules {
    pub(crate) fn of(call: &Call) -> Self {
        let kinds = call.eligible_kinds.as_ref().map(|ks| {
            // An SME is a company; a call open to companies is open to SMEs.
            let sme = if ks.contains(&OrgKind::Company) { kind_bit(OrgKind::Sme) } else { 0 };
            ks.iter().fold(sme, |bits, k| bits | kind_bit(*k))
        });
        Self {
            closed: call.status == CallStatus::Closed,
            final_deadline: call.final_deadline(),
            kinds,
            countries: call.eligible_countries.is_some(),
        }
    }

    /// Whether an organisation of `kind` may apply as of `today`, countries aside.
    pub(crate) fn allow(&self, kind: OrgKind, today: NaiveDate) -> bool {
        [self.status(), self.deadline(today), self.kind_status(kind)].iter().all(|t| *t != Tri::Missed)
    }

    fn status(&self) -> Tri {
        if self.closed {
            Tri::Missed
        } else {
            Tri::Met
        }
    }

    /// Met while a deadline is ahead ([`Call::next_deadline`]: one is, exactly when the last is).
    fn deadline(&self, today: NaiveDate) -> Tri {
        match self.final_deadline {
            Some(d) if d >= today => Tri::Met,
            Some(_) => Tri::Missed,
            None => Tri::Unknown,
        }
    }

    fn kind_status(&self, kind: OrgKind) -> Tri {
        match self.kinds {
            None => Tri::Unknown,
            Some(bits) if bits & kind_bit(kind) != 0 => Tri::Met,
            Some(_) => Tri::Missed,
        }
    }
}

fn country_status(country: Option<Country>, call: &Call) -> Tri {
    match (&call.eligible_countries, country) {
        (None, _) | (Some(_), None) => Tri::Unknown,
        (Some(list), Some(c)) if list.contains(&c) => Tri::Met,
        (Some(_), Some(_)) => Tri::Missed,
    }
}

fn deadline_line(call: &Call, rules: &CallRules, today: NaiveDate, sv: bool) -> EligibilityLine {
    let status = rules.deadline(today);
    let t = match (call.next_deadline(today), call.final_deadline()) {
        (Some(d), _) => {
            let days = (d - today).num_days();
            if sv {
                format!("sista ansökningsdag {d} (om {days} dagar)")
            } else {
                format!("deadline {d} ({days} days left)")
            }
        }
        (None, Some(d)) => {
            if sv {
                format!("sista ansökningsdag {d} har passerat")
            } else {
                format!("deadline {d} has passed")
            }
        }
        (None, None) => (if sv { "sista ansökningsdag okänd" } else { "deadline not known" }).into(),
    };
    EligibilityLine::new(Criterion::Deadline, status, t)
}

fn kind_line(org: &Organisation, rules: &CallRules, sv: bool) -> EligibilityLine {
    let status = rules.kind_status(org.kind);
    let k = org.kind;
    let t = match (status, sv) {
        (Tri::Unknown, true) => "utlysningen anger inte vilka organisationstyper som får söka".into(),
        (Tri::Unknown, false) => "the call does not state which kinds of organisation may apply".into(),
        (Tri::Met, true) => format!("organisationstypen {k} får söka"),
        (Tri::Met, false) => format!("organisation kind {k} may apply"),
        (Tri::Missed, true) => format!("organisationstypen {k} får inte söka"),
        (Tri::Missed, false) => format!("organisation kind {k} may not apply"),
    };
    EligibilityLine::new(Criterion::OrganisationKind, status, t)
}

fn country_line(org: &Organisation, call: &Call, sv: bool) -> EligibilityLine {
    let status = country_status(org.country, call);
    let t = match (call.eligible_countries.is_some(), org.country, status, sv) {
        (false, _, _, true) => "utlysningen anger inte vilka länder som får söka".into(),
        (false, _, _, false) => "the call does not state eligible countries".into(),
        (true, None, _, true) => "organisationens land är okänt".into(),
        (true, None, _, false) => "the organisation's country is not known".into(),
        (true, Some(c), Tri::Met, true) => format!("{c} är ett stödberättigat land"),
        (true, Some(c), Tri::Met, false) => format!("{c} is an eligible country"),
        (true, Some(c), _, true) => format!("{c} är inte ett stödberättigat land"),
        (true, Some(c), _, false) => format!("{c} is not an eligible country"),
    };
    EligibilityLine::new(Criterion::Country, status, t)
}
