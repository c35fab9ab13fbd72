//! The advisor web page, served by `brygga serve` beside the operator endpoints when advisors
//! are configured (`web.advisors`): for each EU Mission and smart-specialisation area the
//! region's organisations that fit, ranked, with the reasons; an organisation's
//! recommendations, eligibility, feedback and notifications, with a form to dismiss one (sent as
//! `recommendation.feedback` through the bus, like any integrator's); a call's organisations
//! and the partners the matcher suggests them; search and filters. Server-rendered HTML that
//! reads without JavaScript, in Swedish or English.
//!
//! Nothing is shown without a session: an anonymous request gets a redirect to the sign-in form
//! (GET) or 403 (POST), never data. Forms carry the session's CSRF token. It reads the store
//! (what the recommendation stream announced) and writes only through the bus.

pub mod auth;
mod org_link;
pub mod pages;

use auth::{Auth, COOKIE};
use axum::extract::{Form, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use brygga_domain::{Catalogue, Clock, Language, OrgId, Organisation, Published};
use brygga_events::{subject, types, CloudEvent, FeedbackV1, TargetRefV1};
use brygga_store::{feedback, notifications, recommendations, registry, Store, StoreError};
use pages::{bars, esc, layout, t, url};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::Arc;

/// What the page needs.
#[derive(Debug)]
pub struct Web {
    pub store: Store,
    /// Where dismissals are published (`{prefix}.in.v1.recommendation.feedback`).
    pub nats: async_nats::jetstream::Context,
    pub prefix: String,
    pub catalogue: Catalogue,
    pub auth: Auth,
    pub clock: Arc<dyn Clock>,
    /// Signed links for organisations (`/o/<token>`), when configured.
    pub links: Option<brygga_runtime::links::Links>,
}

/// The page's routes, all under `/advisor`.
pub fn router(web: Arc<Web>) -> Router {
    Router::new()
        .route("/advisor/login", get(login_form).post(login))
        .route("/advisor/logout", post(logout))
        .route("/advisor", get(overview))
        .route("/advisor/orgs", get(orgs))
        .route("/advisor/org/{id}", get(org_page))
        .route("/advisor/org/{id}/feedback", post(send_feedback))
        .route("/advisor/target/{kind}/{id}", get(target_page))
        .route("/o/{token}", get(org_link::show).post(org_link::act))
        .with_state(web)
}

/// The language of a request: `?lang=` (remembered in a cookie), the cookie, else Swedish.
pub(crate) fn language(headers: &HeaderMap, asked: Option<&str>) -> (Language, Option<String>) {
    if let Some(l) = asked.and_then(Language::parse) {
        let code = if l == Language::Sv { "sv" } else { "en" };
        return (l, Some(format!("brygga_lang={code}; Path=/advisor; SameSite=Strict; Max-Age=31536000")));
    }
    let l = cookie(headers, "brygga_lang").and_then(Language::parse).unwrap_or(Language::Sv);
    (l, None)
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A signed-in request: the advisor and the session cookie's value.
struct Session {
    advisor: String,
    value: String,
}

impl Web {
    fn session(&self, headers: &HeaderMap) -> Option<Session> {
        let value = cookie(headers, COOKIE)?;
        let advisor = self.auth.check(value, self.clock.now().timestamp())?;
        Some(Session { advisor, value: value.to_owned() })
    }

    fn page(&self, l: Language, s: &Session, title: &str, body: &str, set_lang: Option<String>) -> Response {
        let csrf = self.auth.csrf(&s.value);
        let html = layout(l, title, Some((&s.advisor, &csrf)), body);
        let mut r = Html(html).into_response();
        if let Some(c) = set_lang.and_then(|c| c.parse().ok()) {
            r.headers_mut().append(header::SET_COOKIE, c);
        }
        r
    }
}

fn to_login() -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, "/advisor/login")]).into_response()
}

pub(crate) fn unavailable(e: &StoreError) -> Response {
    tracing::warn!(error = %e, "advisor page: the database did not answer");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Html("<!DOCTYPE html><title>503</title><p>The database is unavailable; try again.</p>"),
    )
        .into_response()
}

#[derive(Debug, Deserialize, Default)]
struct LangQuery {
    lang: Option<String>,
}

async fn login_form(State(w): State<Arc<Web>>, headers: HeaderMap, Query(q): Query<LangQuery>) -> Response {
    let (l, _) = language(&headers, q.lang.as_deref());
    login_page(l, None, &w)
}

fn login_page(l: Language, failed: Option<&str>, _w: &Web) -> Response {
    let mut body = String::new();
    if let Some(m) = failed {
        let _ = write!(body, "<p class=\"note\" role=\"alert\">{}</p>", esc(m));
    }
    let _ = write!(
        body,
        "<form method=\"post\" action=\"/advisor/login\"><p><label for=\"name\">{}</label>\
         <input id=\"name\" name=\"name\" autocomplete=\"username\" required></p>\
         <p><label for=\"password\">{}</label><input id=\"password\" name=\"password\" type=\"password\" \
         autocomplete=\"current-password\" required></p><p><button type=\"submit\">{}</button></p></form>",
        t(l, "Namn", "Name"),
        t(l, "Lösenord", "Password"),
        t(l, "Logga in", "Sign in")
    );
    let status = if failed.is_some() { StatusCode::UNAUTHORIZED } else { StatusCode::OK };
    (status, Html(layout(l, t(l, "Logga in", "Sign in"), None, &body))).into_response()
}

#[derive(Debug, Deserialize)]
struct Credentials {
    name: String,
    password: String,
}

async fn login(State(w): State<Arc<Web>>, headers: HeaderMap, Form(c): Form<Credentials>) -> Response {
    let (l, _) = language(&headers, None);
    if !w.auth.verify(&c.name, &c.password) {
        tracing::info!("advisor sign-in refused");
        return login_page(l, Some(t(l, "Fel namn eller lösenord.", "Wrong name or password.")), &w);
    }
    let value = w.auth.session(&c.name, w.clock.now().timestamp());
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, "/advisor".to_owned()), (header::SET_COOKIE, w.auth.set_cookie(&value))],
    )
        .into_response()
}

#[derive(Debug, Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn logout(State(w): State<Arc<Web>>, headers: HeaderMap, Form(f): Form<CsrfForm>) -> Response {
    match w.session(&headers) {
        Some(s) if w.auth.csrf_ok(&s.value, &f.csrf) => (
            StatusCode::SEE_OTHER,
            [(header::LOCATION, "/advisor/login".to_owned()), (header::SET_COOKIE, w.auth.clear_cookie())],
        )
            .into_response(),
        _ => (StatusCode::FORBIDDEN, "forbidden").into_response(),
    }
}

fn target_name(c: &Catalogue, l: Language, kind: &str, id: &str) -> Option<String> {
    match kind {
        "mission" => c.missions.iter().find(|m| m.id.as_str() == id).map(|m| t2(l, &m.name_sv, &m.name_en)),
        "s3_area" => c.s3_areas.iter().find(|a| a.id == id).map(|a| t2(l, &a.label_sv, &a.label_en)),
        _ => None,
    }
}

fn t2(l: Language, sv: &str, en: &str) -> String {
    if l == Language::Sv { sv } else { en }.to_owned()
}

pub(crate) fn kind_label(l: Language, kind: &str) -> &'static str {
    match kind {
        "mission" => t(l, "EU-mission", "EU Mission"),
        "s3_area" => t(l, "Smart specialisering", "Smart specialisation"),
        "call" => t(l, "Utlysning", "Call"),
        "partner" => t(l, "Partner", "Partner"),
        _ => "",
    }
}

async fn overview(State(w): State<Arc<Web>>, headers: HeaderMap, Query(q): Query<LangQuery>) -> Response {
    let Some(s) = w.session(&headers) else { return to_login() };
    let (l, set) = language(&headers, q.lang.as_deref());
    let db = w.store.db();
    let mut rows = Vec::new();
    for (kind, id) in w
        .catalogue
        .missions
        .iter()
        .map(|m| ("mission", m.id.as_str().to_owned()))
        .chain(w.catalogue.s3_areas.iter().map(|a| ("s3_area", a.id.clone())))
    {
        match recommendations::of_target(db, kind, &id, 100_000).await {
            Ok(r) => rows.push((kind, id, r.len())),
            Err(e) => return unavailable(&e),
        }
    }
    let calls = match registry::calls(db).await {
        Ok(c) => c,
        Err(e) => return unavailable(&e),
    };
    let today = w.clock.today();
    let mut months: BTreeMap<String, usize> = BTreeMap::new();
    for c in &calls {
        if let Some(d) = c.next_deadline(today) {
            *months.entry(d.format("%Y-%m").to_string()).or_default() += 1;
        }
    }
    let mut b = String::new();
    let _ = write!(
        b,
        "<h2>{}</h2><table><caption>{}</caption><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
        t(l, "Missioner och smart specialisering", "Missions and smart specialisation"),
        t(l, "Organisationer som passar, per mission och område", "Organisations that fit, per mission and area"),
        t(l, "Mission eller område", "Mission or area"),
        t(l, "Slag", "Kind"),
        t(l, "Organisationer", "Organisations")
    );
    let mut chart = Vec::new();
    for (kind, id, n) in &rows {
        let name = target_name(&w.catalogue, l, kind, id).unwrap_or_else(|| id.clone());
        let _ = write!(
            b,
            "<tr><td><a href=\"/advisor/target/{kind}/{}\">{}</a></td><td>{}</td><td>{n}</td></tr>",
            url(id),
            esc(&name),
            kind_label(l, kind)
        );
        chart.push((name, *n));
    }
    b.push_str("</tbody></table>");
    b.push_str(&bars(t(l, "Organisationer per mission och område", "Organisations per mission and area"), &chart));
    let _ = write!(b, "<h2>{}</h2>", t(l, "Sista ansökningsdagar per månad", "Deadlines per month"));
    let months: Vec<(String, usize)> = months.into_iter().take(12).collect();
    b.push_str(&bars(
        t(
            l,
            "Öppna utlysningar per månad för nästa sista ansökningsdag",
            "Open calls by the month of their next deadline",
        ),
        &months,
    ));
    let _ = write!(
        b,
        "<h2>{}</h2><form method=\"get\" action=\"/advisor/orgs\"><label for=\"q\">{}</label><input id=\"q\" name=\"q\"> <button type=\"submit\">{}</button></form>",
        t(l, "Sök organisation", "Find an organisation"),
        t(l, "Namn, ort eller nyckelord", "Name, place or keyword"),
        t(l, "Sök", "Search")
    );
    w.page(l, &s, t(l, "Översikt", "Overview"), &b, set)
}

#[derive(Debug, Deserialize, Default)]
struct Filters {
    q: Option<String>,
    municipality: Option<String>,
    kind: Option<String>,
    nace: Option<String>,
    language: Option<String>,
    lang: Option<String>,
}

impl Filters {
    fn keeps(&self, o: &Organisation) -> bool {
        let has = |v: &Option<String>| v.as_deref().map(str::trim).filter(|x| !x.is_empty()).map(str::to_lowercase);
        let text_ok = has(&self.q).is_none_or(|q| {
            [o.name.as_str(), o.description.as_str(), o.municipality.as_deref().unwrap_or("")]
                .iter()
                .any(|f| f.to_lowercase().contains(&q))
                || o.keywords.iter().any(|k| k.to_lowercase().contains(&q))
        });
        let muni_ok =
            has(&self.municipality).is_none_or(|m| o.municipality.as_deref().is_some_and(|x| x.to_lowercase() == m));
        let kind_ok = has(&self.kind).is_none_or(|k| o.kind.as_str() == k);
        let nace_ok = has(&self.nace).is_none_or(|n| o.nace.iter().any(|c| c.to_string().starts_with(&n)));
        let lang_ok = has(&self.language).is_none_or(|x| Language::parse(&x) == Some(o.preferred_language));
        text_ok && muni_ok && kind_ok && nace_ok && lang_ok
    }

    fn form(&self, l: Language, action: &str) -> String {
        let v = |x: &Option<String>| esc(x.as_deref().unwrap_or(""));
        let kinds: String = brygga_domain::OrgKind::ALL
            .iter()
            .map(|k| {
                let sel = if self.kind.as_deref() == Some(k.as_str()) { " selected" } else { "" };
                format!("<option value=\"{0}\"{sel}>{0}</option>", k.as_str())
            })
            .collect();
        format!(
            "<form method=\"get\" action=\"{action}\"><label>{} <input name=\"q\" value=\"{}\"></label>\
             <label>{} <input name=\"municipality\" value=\"{}\"></label>\
             <label>{} <select name=\"kind\"><option value=\"\">{}</option>{kinds}</select></label>\
             <label>NACE <input name=\"nace\" size=\"6\" value=\"{}\"></label>\
             <label>{} <select name=\"language\"><option value=\"\">{}</option><option value=\"sv\">svenska</option><option value=\"en\">English</option></select></label>\
             <button type=\"submit\">{}</button></form>",
            t(l, "Sök", "Search"),
            v(&self.q),
            t(l, "Kommun", "Municipality"),
            v(&self.municipality),
            t(l, "Slag", "Kind"),
            t(l, "alla", "all"),
            v(&self.nace),
            t(l, "Språk", "Language"),
            t(l, "alla", "all"),
            t(l, "Filtrera", "Filter")
        )
    }
}

async fn orgs(State(w): State<Arc<Web>>, headers: HeaderMap, Query(f): Query<Filters>) -> Response {
    let Some(s) = w.session(&headers) else { return to_login() };
    let (l, set) = language(&headers, f.lang.as_deref());
    let all = match registry::organisations(w.store.db()).await {
        Ok(o) => o,
        Err(e) => return unavailable(&e),
    };
    let mut b = f.form(l, "/advisor/orgs");
    let found: Vec<&Organisation> = all.iter().filter(|o| f.keeps(o)).collect();
    let _ = write!(
        b,
        "<p>{} {}</p><table><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">NACE</th></tr></thead><tbody>",
        found.len(),
        t(l, "organisationer", "organisations"),
        t(l, "Namn", "Name"),
        t(l, "Slag", "Kind"),
        t(l, "Kommun", "Municipality")
    );
    for o in found.iter().take(500) {
        let nace: Vec<String> = o.nace.iter().map(ToString::to_string).collect();
        let _ = write!(
            b,
            "<tr><td><a href=\"/advisor/org/{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            url(o.id.as_str()),
            esc(&o.name),
            o.kind.as_str(),
            esc(o.municipality.as_deref().unwrap_or("")),
            esc(&nace.join(", "))
        );
    }
    b.push_str("</tbody></table>");
    w.page(l, &s, t(l, "Organisationer", "Organisations"), &b, set)
}

/// One recommendation's explanation: summary, eligibility (unknowns marked), quote.
pub(crate) fn explained(l: Language, p: &Published) -> String {
    let e = &p.rec.explanation;
    let mut s = format!("<p>{}</p>", esc(&e.summary));
    if !e.eligibility.is_empty() {
        s.push_str("<ul>");
        for line in &e.eligibility {
            let (class, word) = match line.status {
                brygga_domain::Tri::Met => ("met", t(l, "uppfyllt", "met")),
                brygga_domain::Tri::Missed => ("missed", t(l, "ej uppfyllt", "not met")),
                brygga_domain::Tri::Unknown => ("unknown", t(l, "okänt, kontrollera", "unknown, please check")),
            };
            let _ = write!(s, "<li><span class=\"{class}\">{word}</span>: {}</li>", esc(&line.text));
        }
        s.push_str("</ul>");
    }
    if let Some(q) = &e.evidence {
        let _ = write!(s, "<blockquote>\u{201c}{}\u{201d}</blockquote>", esc(q));
    }
    s
}

#[derive(Debug, Deserialize, Default)]
struct OrgQuery {
    lang: Option<String>,
    sent: Option<String>,
}

async fn org_page(
    State(w): State<Arc<Web>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<OrgQuery>,
) -> Response {
    let Some(s) = w.session(&headers) else { return to_login() };
    let (l, set) = language(&headers, q.lang.as_deref());
    let Ok(org_id) = OrgId::parse(&id) else { return (StatusCode::NOT_FOUND, "no such organisation").into_response() };
    let db = w.store.db();
    let loaded = async {
        let org = registry::organisations(db).await?.into_iter().find(|o| o.id == org_id);
        let recs = recommendations::active_for(db, &org_id).await?;
        let fb = feedback::of_organisation(db, org_id.as_str()).await?;
        let sent = notifications::of_organisation(db, org_id.as_str()).await?;
        Ok::<_, StoreError>((org, recs, fb, sent))
    };
    let (org, mut recs, fb, sent) = match loaded.await {
        Ok(x) => x,
        Err(e) => return unavailable(&e),
    };
    let Some(org) = org else { return (StatusCode::NOT_FOUND, "no such organisation").into_response() };
    recs.sort_by(|a, b| a.rec.target.kind().cmp(b.rec.target.kind()).then(a.rec.rank.cmp(&b.rec.rank)));
    let csrf = w.auth.csrf(&s.value);
    let mut b = format!(
        "<p>{} · {} · {}</p>",
        esc(org.kind.as_str()),
        esc(org.municipality.as_deref().unwrap_or("")),
        esc(&org.nace.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))
    );
    if q.sent.is_some() {
        let _ = write!(
            b,
            "<p class=\"note\" role=\"status\">{}</p>",
            t(
                l,
                "Avböjandet är skickat; rekommendationen dras tillbaka när matchningen har tagit emot det.",
                "The dismissal is sent; the recommendation is withdrawn once the matcher has taken it."
            )
        );
    }
    let _ = write!(
        b,
        "<h2>{}</h2><table><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
        t(l, "Rekommendationer", "Recommendations"),
        t(l, "Slag", "Kind"),
        t(l, "Mål", "Target"),
        t(l, "Poäng", "Score"),
        t(l, "Varför", "Why"),
        t(l, "Återkoppling", "Feedback")
    );
    for p in &recs {
        let r = &p.rec;
        let kind = r.target.kind();
        let link = match kind {
            "partner" => format!("/advisor/org/{}", url(r.target.id())),
            _ => format!("/advisor/target/{kind}/{}", url(r.target.id())),
        };
        let deadline = r.deadline.map(|d| format!("<br>{} {d}", t(l, "Sista dag", "Deadline"))).unwrap_or_default();
        let _ = write!(
            b,
            "<tr data-recommendation=\"{rid}\"><td>{}</td><td><a href=\"{link}\">{}</a>{deadline}</td><td>{}</td><td>{}</td>\
             <td><form method=\"post\" action=\"/advisor/org/{}/feedback\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <input type=\"hidden\" name=\"recommendation_id\" value=\"{rid}\"><input type=\"hidden\" name=\"target_kind\" value=\"{kind}\">\
             <input type=\"hidden\" name=\"target_id\" value=\"{}\"><input type=\"hidden\" name=\"feedback\" value=\"dismissed\">\
             <button type=\"submit\" aria-label=\"{} {}\">{}</button></form></td></tr>",
            kind_label(l, kind),
            esc(&r.title),
            r.score,
            explained(l, p),
            url(org.id.as_str()),
            esc(r.target.id()),
            t(l, "Avböj", "Dismiss"),
            esc(&r.title),
            t(l, "Avböj", "Dismiss"),
            rid = r.id,
        );
    }
    b.push_str("</tbody></table>");
    let _ = write!(b, "<h2>{}</h2><ul>", t(l, "Återkoppling som getts", "Feedback given"));
    for (rec, kind, reason) in &fb {
        let _ = write!(b, "<li>{} · {} {}</li>", esc(rec), esc(kind), esc(reason.as_deref().unwrap_or("")));
    }
    let _ = write!(b, "</ul><h2>{}</h2><ul>", t(l, "Aviseringar", "Notifications"));
    for n in &sent {
        let when = n.sent_at.map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default();
        let _ = write!(b, "<li>{} · {} · {} {when}</li>", esc(&n.kind), esc(&n.status), esc(&n.recommendation_id));
    }
    b.push_str("</ul>");
    w.page(l, &s, &org.name, &b, set)
}

#[derive(Debug, Deserialize)]
struct FeedbackForm {
    csrf: String,
    recommendation_id: String,
    target_kind: String,
    target_id: String,
    feedback: String,
}

async fn send_feedback(
    State(w): State<Arc<Web>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<FeedbackForm>,
) -> Response {
    let Some(s) = w.session(&headers) else { return (StatusCode::FORBIDDEN, "forbidden").into_response() };
    if !w.auth.csrf_ok(&s.value, &f.csrf) {
        return (StatusCode::FORBIDDEN, "forbidden").into_response();
    }
    let target = TargetRefV1 { kind: f.target_kind, id: f.target_id };
    if let Err(r) = publish_feedback(&w, &id, f.recommendation_id, target, f.feedback).await {
        return r;
    }
    let to = format!("/advisor/org/{}?sent=1", url(&id));
    (StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response()
}

/// Publishes `kind` feedback of `org` on a recommendation as the next version after the stored
/// one, refused first as ingest would refuse it (the one decode path).
pub(crate) async fn publish_feedback(
    w: &Web,
    org: &str,
    recommendation_id: String,
    target: TargetRefV1,
    kind: String,
) -> Result<(), Response> {
    let version = match feedback::version_of(w.store.db(), &recommendation_id).await {
        Ok(v) => v.unwrap_or(0) + 1,
        Err(e) => return Err(unavailable(&e)),
    };
    let data = FeedbackV1 {
        organisation_id: org.to_owned(),
        recommendation_id,
        target,
        version,
        feedback: kind,
        reason: None,
    };
    if let Err(e) = data.clone().into_domain() {
        return Err((StatusCode::BAD_REQUEST, e.to_string()).into_response());
    }
    publish(w, &subject::inbound_recommendation(&w.prefix, "feedback"), types::RECOMMENDATION_FEEDBACK, org, data).await
}

/// Publishes an inbound event as any integrator would (awaiting the PubAck).
pub(crate) async fn publish<T: serde::Serialize>(
    w: &Web,
    subject: &str,
    ty: &str,
    org: &str,
    data: T,
) -> Result<(), Response> {
    let ev = CloudEvent::new(
        uuid::Uuid::new_v4().to_string(),
        "urn:brygga:web",
        ty,
        Some(org.to_owned()),
        w.clock.now(),
        data,
    );
    let Ok(body) = serde_json::to_vec(&ev) else {
        return Err((StatusCode::INTERNAL_SERVER_ERROR, "encoding").into_response());
    };
    let mut h = async_nats::HeaderMap::new();
    h.insert("Nats-Msg-Id", ev.id.as_str());
    h.insert("Content-Type", brygga_events::CONTENT_TYPE);
    let sent = match w.nats.publish_with_headers(subject.to_owned(), h, body.into()).await {
        Ok(ack) => ack.await.map(|_| ()).map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    sent.map_err(|e| {
        tracing::warn!(error = %e, "advisor page: an event could not be published");
        (StatusCode::SERVICE_UNAVAILABLE, "the bus is unavailable; try again").into_response()
    })
}

async fn target_page(
    State(w): State<Arc<Web>>,
    headers: HeaderMap,
    Path((kind, id)): Path<(String, String)>,
    Query(f): Query<Filters>,
) -> Response {
    let Some(s) = w.session(&headers) else { return to_login() };
    let (l, set) = language(&headers, f.lang.as_deref());
    if !["mission", "s3_area", "call"].contains(&kind.as_str()) {
        return (StatusCode::NOT_FOUND, "no such target").into_response();
    }
    let db = w.store.db();
    let loaded = async {
        let rows = recommendations::of_target(db, &kind, &id, 1_000).await?;
        let orgs: HashMap<OrgId, Organisation> =
            registry::organisations(db).await?.into_iter().map(|o| (o.id.clone(), o)).collect();
        let ids: Vec<OrgId> = rows.iter().filter_map(|r| OrgId::parse(&r.org).ok()).collect();
        let recs = recommendations::active_for_many(db, &ids).await?;
        let calls = registry::calls(db).await?;
        Ok::<_, StoreError>((rows, orgs, recs, calls))
    };
    let (rows, orgs, recs, calls) = match loaded.await {
        Ok(x) => x,
        Err(e) => return unavailable(&e),
    };
    let today = w.clock.today();
    let call = calls.iter().find(|c| kind == "call" && c.id.as_str() == id);
    let title = target_name(&w.catalogue, l, &kind, &id)
        .or_else(|| call.map(|c| c.title.clone()))
        .unwrap_or_else(|| id.clone());
    let mut b = String::new();
    if let Some(c) = call {
        let deadline = c.next_deadline(today).map(|d| d.to_string()).unwrap_or_else(|| "–".into());
        let link = c
            .url
            .as_deref()
            .map(|u| format!(" · <a href=\"{}\">{}</a>", esc(u), t(l, "utlysningen", "the call")))
            .unwrap_or_default();
        let _ = write!(b, "<p>{} {deadline}{link}</p>", t(l, "Sista ansökningsdag", "Deadline"));
    }
    b.push_str(&f.form(l, &format!("/advisor/target/{kind}/{}", url(&id))));
    let of_target: HashMap<String, &Published> = recs
        .iter()
        .filter(|p| p.rec.target.kind() == kind && p.rec.target.id() == id)
        .map(|p| (p.rec.org_id.to_string(), p))
        .collect();
    let _ = write!(
        b,
        "<h2>{}</h2><table><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th>{}</tr></thead><tbody>",
        t(l, "Organisationer som passar", "Organisations that fit"),
        t(l, "Organisation", "Organisation"),
        t(l, "Slag", "Kind"),
        t(l, "Kommun", "Municipality"),
        t(l, "Poäng", "Score"),
        t(l, "Varför", "Why"),
        if kind == "call" { format!("<th scope=\"col\">{}</th>", t(l, "Föreslagna partner", "Suggested partners")) } else { String::new() }
    );
    let mut shown = 0;
    for r in &rows {
        let Some(o) = OrgId::parse(&r.org).ok().and_then(|id| orgs.get(&id)) else { continue };
        if !f.keeps(o) {
            continue;
        }
        shown += 1;
        let why = of_target.get(&r.org).map(|p| explained(l, p)).unwrap_or_default();
        let partners = if kind == "call" {
            let names: Vec<String> = recs
                .iter()
                .filter(|p| p.rec.org_id == o.id && p.rec.target.kind() == "partner")
                .map(|p| format!("<a href=\"/advisor/org/{}\">{}</a>", url(p.rec.target.id()), esc(&p.rec.title)))
                .collect();
            format!("<td>{}</td>", names.join(", "))
        } else {
            String::new()
        };
        let _ = write!(
            b,
            "<tr><td><a href=\"/advisor/org/{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{why}</td>{partners}</tr>",
            url(o.id.as_str()),
            esc(&o.name),
            o.kind.as_str(),
            esc(o.municipality.as_deref().unwrap_or("")),
            r.score
        );
    }
    let _ = write!(b, "</tbody></table><p>{shown} {}</p>", t(l, "organisationer", "organisations"));
    if kind == "mission" {
        let _ = write!(b, "<h2>{}</h2><ul>", t(l, "Öppna utlysningar i missionen", "Open calls of the mission"));
        let mut open: Vec<_> = calls
            .iter()
            .filter(|c| c.missions.iter().any(|m| m.as_str() == id))
            .filter_map(|c| c.next_deadline(today).map(|d| (d, c)))
            .collect();
        open.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.id.cmp(&b.1.id)));
        for (d, c) in open {
            let _ = write!(
                b,
                "<li><a href=\"/advisor/target/call/{}\">{}</a> · {d}</li>",
                url(c.id.as_str()),
                esc(&c.title)
            );
        }
        b.push_str("</ul>");
    }
    w.page(l, &s, &title, &b, set)
}
