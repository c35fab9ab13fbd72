//! The pages as HTML, from what the handlers read: server-rendered, readable without
//! JavaScript, Swedish or English, every text escaped. Accessible markup: a language attribute,
//! a skip link, labelled form fields, table headers, visible focus, text and charts with a text
//! alternative, contrast well above WCAG AA (near-black on white, links in dark blue).

use brygga_domain::Language;
use std::fmt::Write as _;

/// `&`, `<`, `>`, `"` and `'` as HTML entities.
pub use brygga_domain::text::escape_html as esc;

/// Swedish or English.
pub fn t(l: Language, sv: &'static str, en: &'static str) -> &'static str {
    if l == Language::Sv {
        sv
    } else {
        en
    }
}

/// Percent-encodes a path segment or query value.
pub fn url(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b':' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;color:#111;background:#fff;max-width:72rem;margin:0 auto;padding:1rem;line-height:1.45}\
a{color:#0b3d91}a:focus,button:focus,input:focus,select:focus{outline:3px solid #c60;outline-offset:2px}\
table{border-collapse:collapse;width:100%;margin:1rem 0}th,td{border:1px solid #999;padding:.35rem .5rem;text-align:left;vertical-align:top}\
th{background:#eef}nav a{margin-right:1rem}.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#ff0}\
.unknown{color:#7a3b00;font-weight:600}.note{background:#ffd;padding:.5rem;border:1px solid #cc8}\
label{display:inline-block;margin:.25rem .75rem .25rem 0}button{padding:.3rem .7rem}";

/// A whole page around `body`; `signed_in` adds the navigation and the sign-out form.
pub fn layout(l: Language, title: &str, signed_in: Option<(&str, &str)>, body: &str) -> String {
    let mut h = String::new();
    let lang = if l == Language::Sv { "sv" } else { "en" };
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{} · Brygga</title><style>{STYLE}</style></head><body>\
         <a class=\"skip\" href=\"#main\">{}</a><header><p><strong>Brygga</strong> · {}</p>",
        esc(title),
        t(l, "Till innehållet", "Skip to content"),
        t(l, "Region Blekinges matchning", "Region Blekinge's matching")
    );
    if let Some((advisor, csrf)) = signed_in {
        let _ = write!(
            h,
            "<nav aria-label=\"{}\"><a href=\"/advisor\">{}</a><a href=\"/advisor/orgs\">{}</a>\
             <a href=\"?lang={}\" lang=\"{}\">{}</a></nav>\
             <form method=\"post\" action=\"/advisor/logout\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <p>{} {} <button type=\"submit\">{}</button></p></form>",
            t(l, "Huvudmeny", "Main"),
            t(l, "Översikt", "Overview"),
            t(l, "Organisationer", "Organisations"),
            t(l, "en", "sv"),
            t(l, "en", "sv"),
            t(l, "English", "Svenska"),
            esc(csrf),
            t(l, "Inloggad som", "Signed in as"),
            esc(advisor),
            t(l, "Logga ut", "Sign out")
        );
    }
    let _ = writeln!(h, "</header><main id=\"main\"><h1>{}</h1>{body}</main></body></html>", esc(title));
    h
}

/// A horizontal bar chart as inline SVG, with the figures as its text alternative (a table
/// beside it carries them too).
pub fn bars(label: &str, rows: &[(String, usize)]) -> String {
    let max = rows.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let height = rows.len() * 26 + 4;
    let alt: Vec<String> = rows.iter().map(|(k, n)| format!("{k}: {n}")).collect();
    let mut s = format!(
        "<svg role=\"img\" aria-label=\"{}\" width=\"640\" height=\"{height}\" viewBox=\"0 0 640 {height}\"><title>{}</title>",
        esc(label),
        esc(&format!("{label}: {}", alt.join(", ")))
    );
    for (i, (k, n)) in rows.iter().enumerate() {
        let y = i * 26 + 2;
        let w = n * 360 / max;
        let _ = write!(
            s,
            "<text x=\"0\" y=\"{}\" font-size=\"13\" fill=\"#111\">{}</text><rect x=\"240\" y=\"{y}\" width=\"{w}\" height=\"20\" fill=\"#0b3d91\"></rect>\
             <text x=\"{}\" y=\"{}\" font-size=\"13\" fill=\"#111\">{n}</text>",
            y + 15,
            esc(&k.chars().take(34).collect::<String>()),
            245 + w,
            y + 15
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_shown_is_escaped() {
        let page = layout(Language::En, "<script>x</script>", Some(("a\"b", "t")), "<p>ok</p>");
        assert!(page.contains("&lt;script&gt;x&lt;/script&gt;") && !page.contains("<script>x"));
        assert!(page.contains("a&quot;b"));
        assert!(page.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
        assert!(bars("x", &[("<b>".into(), 3)]).contains("&lt;b&gt;"));
        assert_eq!(url("a b/å"), "a%20b%2F%C3%A5");
    }
}
