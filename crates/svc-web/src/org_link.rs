//! An organisation's own pages, reached through the signed links in its messages (`/o/<token>`,
//! `brygga_runtime::links`): the token is the only credential and names the organisation, so a
//! link shows that organisation and no other, and an altered or expired one shows nothing. A GET
//! never changes anything (mail scanners follow links): feedback and opt-out links show one
//! button, whose POST to the same address acts; the page itself holds the organisation's
//! notification preferences as a form, whose POST publishes them as the next version.

use crate::pages::{esc, layout, t};
use crate::{explained, kind_label, language, publish, publish_feedback, unavailable, Web};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use brygga_domain::{Language, OrgId};
use brygga_events::{subject, types, PreferencesV1, TargetRefV1};
use brygga_runtime::links::{Action, Grant};
use brygga_store::{notifications, recommendations};
use std::fmt::Write as _;
use std::sync::Arc;

fn refused(l: Language) -> Response {
    let body =
        format!("<p>{}</p>", t(l, "Länken gäller inte, eller har gått ut.", "This link is not valid, or has expired."));
    (StatusCode::FORBIDDEN, Html(layout(l, t(l, "Ogiltig länk", "Invalid link"), None, &body))).into_response()
}

fn grant<'w>(w: &'w Web, token: &str) -> Option<(Grant, &'w brygga_runtime::links::Links)> {
    let links = w.links.as_ref()?;
    Some((links.verify(token, w.clock.now().timestamp())?, links))
}

/// GET: the organisation's page, or the button of a feedback or opt-out link.
pub(crate) async fn show(State(w): State<Arc<Web>>, headers: HeaderMap, Path(token): Path<String>) -> Response {
    let (l, _) = language(&headers, None);
    let Some((g, links)) = grant(&w, &token) else { return refused(l) };
    if g.action != Action::Page {
        let (title, button) = match g.action {
            Action::Dismiss => {
                (t(l, "Inte för oss", "Not for us"), t(l, "Avböj rekommendationen", "Dismiss the recommendation"))
            }
            Action::Save => (t(l, "Spara", "Save"), t(l, "Spara rekommendationen", "Save the recommendation")),
            _ => (
                t(l, "Sluta skicka", "Stop these messages"),
                t(l, "Sluta skicka meddelanden till oss", "Stop sending us messages"),
            ),
        };
        let body = format!("<form method=\"post\"><button type=\"submit\">{button}</button></form>");
        return Html(layout(l, title, None, &body)).into_response();
    }
    let Ok(org) = OrgId::parse(&g.org_id) else { return refused(l) };
    let db = w.store.db();
    let recs = match recommendations::active_for(db, &org).await {
        Ok(r) => r,
        Err(e) => return unavailable(&e),
    };
    let now = w.clock.now().timestamp();
    let mut b =
        format!("<p>{}</p><ul>", t(l, "Det här rekommenderar Brygga er nu.", "What Brygga recommends you now."));
    for p in &recs {
        let r = &p.rec;
        let rid = r.id.to_string();
        let _ = write!(
            b,
            "<li data-recommendation=\"{rid}\"><h2>{} · {}</h2>{}<p><a href=\"{}\">{}</a> · <a href=\"{}\">{}</a></p></li>",
            kind_label(l, r.target.kind()),
            esc(&r.title),
            explained(l, p),
            esc(&links.link(&g.org_id, Action::Save, &rid, now)),
            t(l, "Spara", "Save"),
            esc(&links.link(&g.org_id, Action::Dismiss, &rid, now)),
            t(l, "Inte för oss", "Not for us")
        );
    }
    b.push_str("</ul>");
    let prefs = match notifications::preferences_of(db, std::slice::from_ref(&g.org_id)).await {
        Ok(p) => p.get(&g.org_id).map(PreferencesV1::from_domain),
        Err(e) => return unavailable(&e),
    };
    b.push_str(&preferences_form(l, prefs.as_ref()));
    let title = t(l, "Era rekommendationer", "Your recommendations");
    Html(layout(l, title, None, &b)).into_response()
}

/// POST: the feedback or the opt-out the link stands for.
pub(crate) async fn act(
    State(w): State<Arc<Web>>,
    headers: HeaderMap,
    Path(token): Path<String>,
    axum::extract::RawForm(form): axum::extract::RawForm,
) -> Response {
    let (l, _) = language(&headers, None);
    let Some((g, _)) = grant(&w, &token) else { return refused(l) };
    let done = match g.action {
        Action::Page => set_preferences(&w, &g.org_id, &form).await,
        Action::Dismiss | Action::Save => {
            let Ok(id) = g.recommendation_id.parse::<uuid::Uuid>() else { return refused(l) };
            let rec = match recommendations::one(w.store.db(), &id).await {
                Ok(Some((p, _))) if p.rec.org_id.as_str() == g.org_id => p.rec,
                Ok(_) => return refused(l),
                Err(e) => return unavailable(&e),
            };
            let target = TargetRefV1 { kind: rec.target.kind().to_owned(), id: rec.target.id().to_owned() };
            let kind = if g.action == Action::Save { "saved" } else { "dismissed" };
            publish_feedback(&w, &g.org_id, g.recommendation_id.clone(), target, kind.into()).await
        }
        Action::OptOut => opt_out(&w, &g.org_id).await,
    };
    match done {
        Ok(()) => {
            let body = format!("<p role=\"status\">{}</p>", t(l, "Tack, det är noterat.", "Thank you, that is noted."));
            Html(layout(l, t(l, "Klart", "Done"), None, &body)).into_response()
        }
        Err(r) => r,
    }
}

fn preferences_form(l: Language, p: Option<&PreferencesV1>) -> String {
    let v = |x: Option<&str>| esc(x.unwrap_or(""));
    let sel = |on: bool| if on { " selected" } else { "" };
    let chk = |on: bool| if on { " checked" } else { "" };
    let channel = p.map_or("email", |p| p.channel.as_str());
    let cadence = p.map_or("instant", |p| p.cadence.as_str());
    let lang = p.and_then(|p| p.language.as_deref());
    let quiet = p.and_then(|p| p.quiet_hours.as_ref());
    let out = |k: &str| p.is_some_and(|p| p.opt_out.kinds.iter().any(|x| x == k));
    let mut kinds = String::new();
    for (k, sv, en) in [
        ("mission", "missioner", "missions"),
        ("s3_area", "områden", "areas"),
        ("call", "utlysningar", "calls"),
        ("partner", "partner", "partners"),
    ] {
        let _ = write!(
            kinds,
            "<label><input type=\"checkbox\" name=\"opt_out\" value=\"{k}\"{}> {}</label>",
            chk(out(k)),
            t(l, sv, en)
        );
    }
    format!(
        "<h2>{}</h2><form method=\"post\"><p><label>{} <select name=\"channel\"><option value=\"email\"{}>e-post / e-mail</option>\
         <option value=\"webhook\"{}>webhook</option><option value=\"none\"{}>{}</option></select></label>\
         <label>{} <input name=\"address\" size=\"40\" value=\"{}\"></label></p>\
         <p><label>{} <select name=\"language\"><option value=\"\">–</option><option value=\"sv\"{}>svenska</option><option value=\"en\"{}>English</option></select></label>\
         <label>{} <select name=\"cadence\"><option value=\"instant\"{}>{}</option><option value=\"daily\"{}>{}</option><option value=\"weekly\"{}>{}</option></select></label></p>\
         <p><label>{} <input name=\"quiet_from\" size=\"5\" placeholder=\"22:00\" value=\"{}\"></label>\
         <label>{} <input name=\"quiet_to\" size=\"5\" placeholder=\"07:00\" value=\"{}\"></label></p>\
         <fieldset><legend>{}</legend>{kinds}</fieldset><p><button type=\"submit\">{}</button></p></form>",
        t(l, "Hur ni vill höra av oss", "How you want to hear from us"),
        t(l, "Kanal", "Channel"),
        sel(channel == "email"),
        sel(channel == "webhook"),
        sel(channel == "none"),
        t(l, "ingen", "none"),
        t(l, "Adress", "Address"),
        v(p.and_then(|p| p.address.as_deref())),
        t(l, "Språk", "Language"),
        sel(lang == Some("sv")),
        sel(lang == Some("en")),
        t(l, "Hur ofta", "How often"),
        sel(cadence == "instant"),
        t(l, "direkt", "at once"),
        sel(cadence == "daily"),
        t(l, "dagligen", "daily"),
        sel(cadence == "weekly"),
        t(l, "veckovis", "weekly"),
        t(l, "Tyst från", "Quiet from"),
        v(quiet.map(|q| q.from.as_str())),
        t(l, "till", "to"),
        v(quiet.map(|q| q.to.as_str())),
        t(l, "Inga meddelanden om", "No messages about"),
        t(l, "Spara inställningarna", "Save the preferences")
    )
}

/// The form's preferences, checked as ingest checks them (the one decode path), published as
/// the next version.
async fn set_preferences(w: &Web, org: &str, form: &[u8]) -> Result<(), Response> {
    let mut f: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    let mut kinds = Vec::new();
    for (k, v) in url::form_urlencoded::parse(form) {
        if k == "opt_out" {
            kinds.push(v.into_owned());
        } else {
            f.insert(k.into_owned(), v.into_owned());
        }
    }
    let field = |k: &str| f.get(k).map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let stored = notifications::preferences_of(w.store.db(), &[org.to_owned()]).await.map_err(|e| unavailable(&e))?;
    let version = stored.get(org).map_or(1, |p| p.version + 1);
    let quiet_hours = match (field("quiet_from"), field("quiet_to")) {
        (None, None) => None,
        (from, to) => Some(brygga_events::QuietHoursV1 { from: from.unwrap_or_default(), to: to.unwrap_or_default() }),
    };
    let next = PreferencesV1 {
        organisation_id: org.to_owned(),
        version,
        channel: field("channel").unwrap_or_else(|| "none".into()),
        address: field("address"),
        language: field("language"),
        cadence: field("cadence").unwrap_or_else(|| "instant".into()),
        opt_out: brygga_events::OptOutV1 { all: false, kinds },
        quiet_hours,
    };
    if let Err(e) = next.clone().into_domain() {
        return Err(
            (StatusCode::BAD_REQUEST, Html(format!("<!DOCTYPE html><p>{}</p>", esc(&e.to_string())))).into_response()
        );
    }
    let s = subject::inbound_organisation(&w.prefix, "preferences.updated");
    publish(w, &s, types::ORGANISATION_PREFERENCES_UPDATED, org, next).await
}

/// The organisation's preferences again, opted out of everything, as the next version.
async fn opt_out(w: &Web, org: &str) -> Result<(), Response> {
    let prefs = notifications::preferences_of(w.store.db(), &[org.to_owned()]).await.map_err(|e| unavailable(&e))?;
    let Some(p) = prefs.get(org) else { return Ok(()) }; // nothing is sent without preferences anyway
    let mut next = PreferencesV1::from_domain(p);
    next.version += 1;
    next.opt_out.all = true;
    let s = subject::inbound_organisation(&w.prefix, "preferences.updated");
    publish(w, &s, types::ORGANISATION_PREFERENCES_UPDATED, org, next).await
}
