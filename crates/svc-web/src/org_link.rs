//! An organisation's own pages, reached through the signed links in its messages (`/o/<token>`,
//! `brygga_runtime::links`): the token is the only credential and names the organisation, so a
//! link shows that organisation and no other, and an altered or expired one shows nothing. A GET
//! never changes anything (mail scanners follow links): feedback and opt-out links show one
//! button, whose POST to the same address acts.

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
    let title = t(l, "Era rekommendationer", "Your recommendations");
    Html(layout(l, title, None, &b)).into_response()
}

/// POST: the feedback or the opt-out the link stands for.
pub(crate) async fn act(State(w): State<Arc<Web>>, headers: HeaderMap, Path(token): Path<String>) -> Response {
    let (l, _) = language(&headers, None);
    let Some((g, _)) = grant(&w, &token) else { return refused(l) };
    let done = match g.action {
        Action::Page => return refused(l),
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
