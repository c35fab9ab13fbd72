//! Limits on inbound text, lists and URLs, checked field by field so that a rejection names
//! every faulty field. Control characters are rejected (tab and line breaks are allowed in
//! descriptions), and so are the Unicode bidirectional embedding, override and isolate
//! characters (U+202A-U+202E, U+2066-U+2069), which can make a consumer display text other
//! than what it holds ("Trojan Source"). Nothing is stripped silently: the producer hears why.

/// Longest single-line texts (names, titles, keywords), in characters.
pub const MAX_NAME: usize = 300;
pub const MAX_TITLE: usize = 500;
pub const MAX_KEYWORD: usize = 200;
/// Longest multi-line texts, in characters.
pub const MAX_DESCRIPTION: usize = 50_000;
/// Longest lists.
pub const MAX_KEYWORDS: usize = 100;
pub const MAX_CODES: usize = 50;
pub const MAX_PARTICIPATIONS: usize = 500;
pub const MAX_URL: usize = 2_000;

/// What is wrong with a text, if anything.
pub fn text(s: &str, max_chars: usize, multiline: bool) -> Result<(), String> {
    let n = s.chars().count();
    if n > max_chars {
        return Err(format!("is {n} characters long, at most {max_chars}"));
    }
    for c in s.chars() {
        let allowed_break = multiline && matches!(c, '\n' | '\r' | '\t');
        if c.is_control() && !allowed_break {
            return Err(format!("contains the control character U+{:04X}", c as u32));
        }
        if matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}') {
            return Err(format!("contains the bidirectional control character U+{:04X}", c as u32));
        }
    }
    Ok(())
}

/// What is wrong with a list's length, if anything.
pub fn list<T>(items: &[T], max: usize) -> Result<(), String> {
    if items.len() > max {
        Err(format!("has {} entries, at most {max}", items.len()))
    } else {
        Ok(())
    }
}

/// An absolute `https` or `http` URL, or what is wrong with it (other schemes, `javascript:`
/// and `data:` among them, are refused: consumers put these links in e-mails and pages).
pub fn web_url(s: &str) -> Result<(), String> {
    text(s, MAX_URL, false)?;
    let u = url::Url::parse(s).map_err(|e| format!("{s:?} is not an absolute URL ({e})"))?;
    match u.scheme() {
        "https" | "http" if u.host_str().is_some_and(|h| !h.is_empty()) => Ok(()),
        "https" | "http" => Err(format!("{s:?} has no host")),
        other => Err(format!("scheme {other:?} is not allowed (https or http only)")),
    }
}

/// A calendar date written exactly `YYYY-MM-DD` (`2026-9-3` is refused, not guessed).
pub fn strict_date(s: &str) -> Result<chrono::NaiveDate, String> {
    let b = s.as_bytes();
    let shaped = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    let bad = || format!("{s:?} is not a date (YYYY-MM-DD)");
    if !shaped {
        return Err(bad());
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_lists_urls_and_dates() {
        assert!(text("Havsöga Marinteknik AB", MAX_NAME, false).is_ok());
        assert!(text("rad ett\nrad två\ttab", MAX_DESCRIPTION, true).is_ok());
        assert!(text("a\nb", MAX_NAME, false).expect_err("refused").contains("U+000A"));
        assert!(text("nul\0", MAX_DESCRIPTION, true).expect_err("refused").contains("U+0000"));
        assert!(text("evil\u{202E}txt.exe", MAX_NAME, false).expect_err("refused").contains("U+202E"));
        assert!(text(&"x".repeat(301), MAX_NAME, false).expect_err("refused").contains("at most 300"));
        assert!(list(&[1; 101], MAX_KEYWORDS).is_err() && list(&[1; 100], MAX_KEYWORDS).is_ok());
        assert!(web_url("https://ec.europa.eu/x?y=1").is_ok());
        assert!(web_url("javascript:alert(1)").expect_err("refused").contains("javascript"));
        assert!(web_url("data:text/html,hi").is_err() && web_url("ftp://x.org/a").is_err());
        assert!(web_url("/relative").is_err());
        assert_eq!(strict_date("2026-09-03").map(|d| d.to_string()), Ok("2026-09-03".into()));
        for bad in ["2026-9-3", "2026-09-3", "26-09-03", "2026-02-30", "2026/09/03", " 2026-09-03"] {
            assert!(strict_date(bad).is_err(), "{bad}");
        }
    }
}
