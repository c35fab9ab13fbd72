//! Reading Funding & Tenders Portal topic exports (one JSON object per line) into call
//! events. The portal's fields vary in shape (numbers as numbers or strings, lists as JSON
//! or Python-style strings); what it lacks (opening date, TRL, eligibility) stays unknown.

use brygga_domain::MissionId;
use brygga_events::{BudgetV1, CallV1};
use serde_json::Value;

/// Converts one topic object; `version` orders re-imports of the same topic.
pub fn to_call(topic: &Value, version: u64) -> Result<CallV1, String> {
    let s = |k: &str| topic.get(k).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let id = s("topicId").ok_or("topicId is missing")?;
    let title = s("title").ok_or("title is missing")?;
    let deadline = s("deadline");
    let missions = list(topic.get("missions"));
    let mut mission_ids: Vec<String> = missions.iter().filter(|m| MissionId::parse(m).is_some()).cloned().collect();
    // Mission topics carry their mission in the code (HORIZON-MISS-2026-03-OCEAN-04).
    if id.starts_with("HORIZON-MISS-") {
        for token in id.split('-') {
            if let Some(m) = MissionId::from_topic_token(token) {
                mission_ids.push(m.as_str().to_owned());
            }
        }
    }
    mission_ids.sort();
    mission_ids.dedup();
    let call_ident = s("callIdentifier");
    let keywords: Vec<String> = list(topic.get("keywords"))
        .into_iter()
        .filter(|k| *k != id && Some(k) != call_ident.as_ref())
        .fold(Vec::new(), |mut acc, k| {
            if !acc.iter().any(|a: &String| a.eq_ignore_ascii_case(&k)) {
                acc.push(k);
            }
            acc
        });
    let status = match s("callStatus").as_deref() {
        Some("forthcoming") => "forthcoming",
        Some("closed") => "closed",
        _ => "open",
    };
    let programme = match s("programme").as_deref() {
        Some(p) if brygga_domain::Programme::parse(p).is_some() => {
            p.to_ascii_lowercase().split_whitespace().collect::<Vec<_>>().join("_")
        }
        _ => "horizon_europe".to_owned(),
    };
    Ok(CallV1 {
        id,
        version,
        programme,
        title: title.split_whitespace().collect::<Vec<_>>().join(" "),
        description: s("description").unwrap_or_default(),
        keywords,
        action_type: s("actionType"),
        opening_date: None,
        deadlines: deadline.into_iter().collect(),
        budget: BudgetV1 {
            total_eur: None,
            per_grant_min_eur: number(topic.get("budgetMin")),
            per_grant_max_eur: number(topic.get("budgetMax")),
        },
        eligible_kinds: None,
        eligible_countries: None,
        min_consortium: None,
        missions: mission_ids,
        trl: None,
        url: s("portalUrl"),
        status: status.to_owned(),
    })
}

/// A non-negative number given as a number or a numeric string; 0 and junk are unknown.
fn number(v: Option<&Value>) -> Option<u64> {
    let n = match v? {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().replace([' ', ','], "").parse::<f64>().ok()?,
        _ => return None,
    };
    (n.is_finite() && n > 0.0).then_some(n.round() as u64)
}

/// A list given as a JSON array, a Python-style list string (`"['a', 'b']"`), or a
/// comma-separated string (commas inside parentheses do not split).
fn list(v: Option<&Value>) -> Vec<String> {
    let items: Vec<String> = match v {
        Some(Value::Array(a)) => a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect(),
        Some(Value::String(s)) => {
            let t = s.trim();
            if t.starts_with('[') && t.ends_with(']') {
                split_top_level(&t[1..t.len() - 1])
                    .into_iter()
                    .map(|x| x.trim().trim_matches(['\'', '"']).to_owned())
                    .collect()
            } else {
                split_top_level(t)
            }
        }
        _ => Vec::new(),
    };
    items.into_iter().map(|x| x.trim().to_owned()).filter(|x| !x.is_empty()).collect()
}

fn split_top_level(s: &str) -> Vec<String> {
    let (mut out, mut cur, mut depth, mut quote) = (Vec::new(), String::new(), 0i32, None::<char>);
    for c in s.chars() {
        match c {
            '\'' | '"' if quote == Some(c) => quote = None,
            '\'' | '"' if quote.is_none() && cur.trim().is_empty() => quote = Some(c),
            '(' if quote.is_none() => depth += 1,
            ')' if quote.is_none() => depth -= 1,
            ',' if depth <= 0 && quote.is_none() => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_the_portal_shapes() {
        let t = json!({"topicId":"HORIZON-MISS-2026-06-CLIMA-SOIL","title":" Joint  demo ","callIdentifier":"HORIZON-MISS-2026-06",
            "deadline":"2026-09-23","callStatus":"open","budgetMin":"10000000","budgetMax":10000000,
            "keywords":"HORIZON-MISS-2026-06-CLIMA-SOIL, HORIZON-MISS-2026-06, Soil sciences, Climate (change, adaptation), soil sciences",
            "missions":"['adaptation', 'soil']","portalUrl":"https://example.org/t","actionType":"IA","description":"Scope: x"});
        let c = to_call(&t, 7).expect("valid");
        assert_eq!(c.title, "Joint demo");
        assert_eq!(c.keywords, vec!["Soil sciences", "Climate (change, adaptation)"]);
        assert_eq!(c.missions, vec!["adaptation", "soil"]);
        assert_eq!(c.budget.per_grant_min_eur, Some(10_000_000));
        assert_eq!(c.deadlines, vec!["2026-09-23"]);
        assert_eq!((&c.opening_date, &c.trl, &c.eligible_kinds), (&None, &None, &None), "unknown stays unknown");
        assert!(c.into_domain().is_ok());
    }

    #[test]
    fn missing_id_is_an_error() {
        assert!(to_call(&json!({"title":"x"}), 1).is_err());
        assert_eq!(number(Some(&json!("n/a"))), None);
        assert_eq!(number(Some(&json!(0))), None);
    }
}
