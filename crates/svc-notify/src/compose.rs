//! Messages in Swedish and English, plain text and HTML, from the recommendations they are
//! about: what fits and why, eligibility with the unknowns marked, the quote the match rests
//! on, the deadline and the link. Pure: no I/O.

use brygga_domain::notify::MessageKind;
use brygga_domain::Language;
use brygga_events::RecommendationV1;
use std::fmt::Write as _;

/// One recommendation in a message.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub kind: MessageKind,
    pub rec: RecommendationV1,
    /// One-click feedback links (signed), when links are configured.
    pub actions: Option<Actions>,
}

/// Signed links about one recommendation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actions {
    pub dismiss: String,
    pub save: String,
}

/// Signed links about the organisation: its own page, and stopping every message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Footer {
    pub page: String,
    pub opt_out: String,
}

/// A composed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub subject: String,
    pub text: String,
    pub html: String,
}

struct Words {
    new: &'static str,
    updated: &'static str,
    withdrawn: &'static str,
    digest: &'static str,
    days_left: fn(u8) -> String,
    score: &'static str,
    deadline: &'static str,
    why: &'static str,
    why_gone: &'static str,
    eligibility: &'static str,
    quote: &'static str,
    link: &'static str,
    met: &'static str,
    missed: &'static str,
    unknown: &'static str,
    kinds: [(&'static str, &'static str); 4],
    footer: &'static str,
    dismiss: &'static str,
    save: &'static str,
    page: &'static str,
    opt_out: &'static str,
}

const EN: Words = Words {
    new: "New recommendation",
    updated: "Updated recommendation",
    withdrawn: "No longer open",
    digest: "recommendations for",
    days_left: |n| if n == 1 { "1 day left".into() } else { format!("{n} days left") },
    score: "Score",
    deadline: "Deadline",
    why: "Why it fits",
    why_gone: "Why",
    eligibility: "Eligibility",
    quote: "From the text",
    link: "Read more",
    met: "met",
    missed: "not met",
    unknown: "unknown, please check",
    kinds: [("call", "Call"), ("mission", "EU Mission"), ("s3_area", "Smart specialisation area"), ("partner", "Possible partner")],
    dismiss: "Not for us",
    save: "Save",
    page: "All your recommendations",
    opt_out: "Stop these messages",
    footer: "You receive this because your organisation asked Brygga, Region Blekinge's matching service, for recommendations. To change how often you hear from us, or to stop, update your notification preferences or ask your regional innovation advisor.",
};

const SV: Words = Words {
    new: "Ny rekommendation",
    updated: "Uppdaterad rekommendation",
    withdrawn: "Inte längre aktuell",
    digest: "rekommendationer för",
    days_left: |n| if n == 1 { "1 dag kvar".into() } else { format!("{n} dagar kvar") },
    score: "Poäng",
    deadline: "Sista ansökningsdag",
    why: "Varför den passar",
    why_gone: "Varför",
    eligibility: "Behörighet",
    quote: "Ur texten",
    link: "Läs mer",
    met: "uppfyllt",
    missed: "ej uppfyllt",
    unknown: "okänt, kontrollera",
    kinds: [("call", "Utlysning"), ("mission", "EU-mission"), ("s3_area", "Smart specialiseringsområde"), ("partner", "Möjlig partner")],
    dismiss: "Inte för oss",
    save: "Spara",
    page: "Alla era rekommendationer",
    opt_out: "Sluta skicka",
    footer: "Du får detta eftersom din organisation har bett Brygga, Region Blekinges matchningstjänst, om rekommendationer. Vill du ändra hur ofta du hör av oss, eller sluta, uppdatera dina aviseringsinställningar eller kontakta din innovationsrådgivare i regionen.",
};

fn words(l: Language) -> &'static Words {
    match l {
        Language::Sv => &SV,
        Language::En => &EN,
    }
}

/// `&`, `<`, `>`, `"` and `'` as HTML entities (one escape for every page and message).
pub use brygga_domain::text::escape_html as escape;

fn heading(w: &Words, e: &Entry) -> String {
    let lead = match e.kind {
        MessageKind::Created => w.new.to_owned(),
        MessageKind::Updated => w.updated.to_owned(),
        MessageKind::Reminder(n) => (w.days_left)(n),
        MessageKind::Withdrawn => w.withdrawn.to_owned(),
    };
    format!("{lead}: {}", e.rec.target.title)
}

fn kind_label(w: &Words, kind: &str) -> &'static str {
    w.kinds.iter().find(|(k, _)| *k == kind).map_or("", |(_, l)| l)
}

fn status_label(w: &Words, status: &str) -> &'static str {
    match status {
        "met" => w.met,
        "missed" => w.missed,
        _ => w.unknown,
    }
}

/// A message about `entries` (one, or a digest of several) for organisation `org_name`.
pub fn compose(language: Language, org_name: &str, entries: &[Entry], footer: Option<&Footer>) -> Message {
    let w = words(language);
    let subject = match entries {
        [one] => heading(w, one),
        many => format!("Brygga: {} {} {org_name}", many.len(), w.digest),
    };
    let mut text = String::new();
    let mut html = String::from("<!DOCTYPE html>\n<html lang=\"");
    html.push_str(if language == Language::Sv { "sv" } else { "en" });
    let _ = writeln!(html, "\"><head><meta charset=\"utf-8\"><title>{}</title></head><body>", escape(&subject));
    for e in entries {
        let r = &e.rec;
        let head = heading(w, e);
        let _ = writeln!(text, "{head}\n{}", "=".repeat(head.chars().count().min(72)));
        let _ = writeln!(text, "{} · {} {}/100", kind_label(w, &r.target.kind), w.score, r.score);
        let _ = write!(
            html,
            "<h2>{}</h2>\n<p>{} · {} {}/100",
            escape(&head),
            kind_label(w, &r.target.kind),
            w.score,
            r.score
        );
        if let Some(d) = &r.deadline {
            let _ = writeln!(text, "{}: {d}", w.deadline);
            let _ = write!(html, "<br>{}: <strong>{}</strong>", w.deadline, escape(d));
        }
        html.push_str("</p>\n");
        let why = if e.kind == MessageKind::Withdrawn { w.why_gone } else { w.why };
        let _ = writeln!(text, "\n{why}: {}", r.explanation.summary);
        let _ = writeln!(html, "<p><strong>{why}:</strong> {}</p>", escape(&r.explanation.summary));
        if !r.explanation.eligibility.is_empty() {
            let _ = writeln!(text, "\n{}:", w.eligibility);
            let _ = writeln!(html, "<p><strong>{}:</strong></p>\n<ul>", w.eligibility);
            for l in &r.explanation.eligibility {
                let status = status_label(w, &l.status);
                let _ = writeln!(text, "  - [{status}] {}", l.text);
                let _ = writeln!(html, "<li><em>{status}</em>: {}</li>", escape(&l.text));
            }
            html.push_str("</ul>\n");
        }
        if let Some(q) = &r.explanation.evidence {
            let _ = writeln!(text, "\n{}: \u{201c}{q}\u{201d}", w.quote);
            let _ = writeln!(html, "<blockquote>{}: \u{201c}{}\u{201d}</blockquote>", w.quote, escape(q));
        }
        if let Some(u) = &r.target.url {
            let _ = writeln!(text, "\n{}: {u}", w.link);
            let _ = writeln!(html, "<p><a href=\"{}\">{}</a></p>", escape(u), w.link);
        }
        if let Some(a) = &e.actions {
            let _ = writeln!(text, "{}: {}\n{}: {}", w.save, a.save, w.dismiss, a.dismiss);
            let _ = writeln!(
                html,
                "<p><a href=\"{}\">{}</a> · <a href=\"{}\">{}</a></p>",
                escape(&a.save),
                w.save,
                escape(&a.dismiss),
                w.dismiss
            );
        }
        text.push('\n');
    }
    let _ = writeln!(text, "--\n{}", w.footer);
    let _ = writeln!(html, "<hr>\n<p><small>{}</small></p>", escape(w.footer));
    if let Some(f) = footer {
        let _ = writeln!(text, "{}: {}\n{}: {}", w.page, f.page, w.opt_out, f.opt_out);
        let _ = writeln!(
            html,
            "<p><small><a href=\"{}\">{}</a> · <a href=\"{}\">{}</a></small></p>",
            escape(&f.page),
            w.page,
            escape(&f.opt_out),
            w.opt_out
        );
    }
    html.push_str("</body></html>\n");
    Message { subject, text, html }
}

#[cfg(test)]
mod tests {
    use super::*;
    use brygga_events::{EligibilityLineV1, ExplanationV1, TargetV1};

    pub(crate) fn rec(title: &str) -> RecommendationV1 {
        RecommendationV1 {
            recommendation_id: "r-1".into(),
            revision: 1,
            change: "created".into(),
            organisation_id: "o-1".into(),
            target: TargetV1 {
                kind: "call".into(),
                id: "HORIZON-MISS-2026-OCEAN-01".into(),
                title: title.into(),
                url: Some("https://ec.europa.eu/x?a=1&b=2".into()),
            },
            score: 71,
            rank: 1,
            deadline: Some("2026-12-31".into()),
            explanation: ExplanationV1 {
                language: "sv".into(),
                summary: "Matchar era nyckelord: marin, sensorer".into(),
                eligibility: vec![
                    EligibilityLineV1 {
                        criterion: "country".into(),
                        status: "met".into(),
                        text: "SE är behörigt".into(),
                    },
                    EligibilityLineV1 {
                        criterion: "organisation_kind".into(),
                        status: "unknown".into(),
                        text: "Utlysningen anger inte vilka slags organisationer".into(),
                    },
                ],
                matched_terms: vec!["marin".into()],
                evidence: Some("restore marine <ecosystems>".into()),
                ranker_version: "v".into(),
            },
            caused_by: vec![],
        }
    }

    #[test]
    fn a_swedish_message_carries_the_explanation_the_unknowns_and_the_link() {
        let actions = Some(Actions { dismiss: "https://b.se/o/d".into(), save: "https://b.se/o/s".into() });
        let footer = Footer { page: "https://b.se/o/p".into(), opt_out: "https://b.se/o/x".into() };
        let entry = Entry { kind: MessageKind::Created, rec: rec("Havet & kusten"), actions };
        let m = compose(Language::Sv, "Marin AB", &[entry], Some(&footer));
        for link in ["Spara: https://b.se/o/s", "Inte för oss: https://b.se/o/d", "Sluta skicka: https://b.se/o/x"] {
            assert!(m.text.contains(link), "{link}");
        }
        assert!(m.html.contains("<a href=\"https://b.se/o/p\">Alla era rekommendationer</a>"));
        assert_eq!(m.subject, "Ny rekommendation: Havet & kusten");
        for part in [
            "Poäng 71/100",
            "Sista ansökningsdag: 2026-12-31",
            "Matchar era nyckelord",
            "[okänt, kontrollera]",
            "[uppfyllt]",
            "https://ec.europa.eu/x?a=1&b=2",
            "restore marine <ecosystems>",
        ] {
            assert!(m.text.contains(part), "{part} missing from {}", m.text);
        }
        assert!(m.html.contains("<h2>Ny rekommendation: Havet &amp; kusten</h2>"), "{}", m.html);
        assert!(m.html.contains("href=\"https://ec.europa.eu/x?a=1&amp;b=2\""), "{}", m.html);
        assert!(m.html.contains("&lt;ecosystems&gt;"), "{}", m.html);
        assert!(m.html.starts_with("<!DOCTYPE html>\n<html lang=\"sv\">"));
    }

    #[test]
    fn reminders_and_digests_say_what_they_are_in_english() {
        let e = |kind, title: &str| Entry { kind, rec: rec(title), actions: None };
        let one = compose(Language::En, "Marin AB", &[e(MessageKind::Reminder(7), "Ocean")], None);
        assert_eq!(one.subject, "7 days left: Ocean");
        let last = compose(Language::En, "Marin AB", &[e(MessageKind::Reminder(1), "Ocean")], None);
        assert_eq!(last.subject, "1 day left: Ocean");
        let entries = [e(MessageKind::Created, "A"), e(MessageKind::Updated, "B")];
        let digest = compose(Language::En, "Marin AB", &entries, None);
        assert_eq!(digest.subject, "Brygga: 2 recommendations for Marin AB");
        assert!(digest.text.contains("New recommendation: A") && digest.text.contains("Updated recommendation: B"));
        assert!(digest.text.contains("[unknown, please check]"));
    }
}
