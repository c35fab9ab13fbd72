//! Keeping secrets out of logs, errors and printed configuration.
//!
//! URLs are redacted through a real URL parser ([`url::Url`]), not by string search: the
//! user-info part (user and password, or a token in the user position) and the values of
//! query parameters that carry secrets (`?password=`, `?token=`, …) become `***`. An URL that
//! does not parse is not echoed at all. [`scrub`] removes known secret values from a message
//! produced by a library (a driver error that quotes the connection string, say).

use url::Url;

/// What a redacted part is replaced with.
pub const MASK: &str = "***";

/// Query parameter names whose values are secret (compared in lower case, by substring).
const SECRET_PARAMS: [&str; 5] = ["pass", "pwd", "token", "secret", "auth"];

/// `url` with every credential replaced by `***`; a comma-separated list (NATS server lists)
/// is redacted element by element. What does not parse as an URL is replaced whole.
pub fn redact_url(url: &str) -> String {
    url.split(',').map(|u| redact_one(u.trim())).collect::<Vec<_>>().join(",")
}

fn redact_one(raw: &str) -> String {
    // `user:pass@host:4222` without a scheme would parse as scheme `user`: give it one.
    let (parsed, added_scheme) = if raw.contains("://") || raw.starts_with("sqlite:") {
        (Url::parse(raw), false)
    } else {
        (Url::parse(&format!("nats://{raw}")), true)
    };
    let Ok(mut u) = parsed else { return "<unparseable URL>".to_owned() };
    if !u.username().is_empty() {
        // Only fails for URLs that cannot carry credentials, which then have none.
        let _ = u.set_username(MASK);
    }
    if u.password().is_some() {
        let _ = u.set_password(Some(MASK));
    }
    if u.query().is_some() {
        let pairs: Vec<(String, String)> = u
            .query_pairs()
            .map(|(k, v)| {
                let secret = SECRET_PARAMS.iter().any(|s| k.to_ascii_lowercase().contains(s));
                (k.into_owned(), if secret { MASK.to_owned() } else { v.into_owned() })
            })
            .collect();
        u.query_pairs_mut().clear().extend_pairs(pairs);
    }
    let s = u.to_string();
    match s.strip_prefix("nats://") {
        Some(rest) if added_scheme => rest.to_owned(),
        _ => s,
    }
}

/// The secret parts of an URL: the raw URL itself, its password, its user (when it is the only
/// credential, as with a NATS token) and secret query values, percent-decoded and raw.
pub fn url_secrets(url: &str) -> Vec<String> {
    let mut out = vec![url.to_owned()];
    for raw in url.split(',') {
        let raw = raw.trim();
        let with_scheme =
            if raw.contains("://") || raw.starts_with("sqlite:") { raw.into() } else { format!("nats://{raw}") };
        let Ok(u) = Url::parse(&with_scheme) else { continue };
        let mut add = |s: &str| {
            if !s.is_empty() {
                out.push(s.to_owned());
                if let Ok(d) = urlencoding_decode(s) {
                    out.push(d);
                }
            }
        };
        match u.password() {
            Some(p) => add(p),
            None => add(u.username()),
        }
        for (k, v) in u.query_pairs() {
            if SECRET_PARAMS.iter().any(|s| k.to_ascii_lowercase().contains(s)) {
                add(&v);
            }
        }
    }
    out.retain(|s| s.len() >= 3);
    out.sort_by_key(|s| std::cmp::Reverse(s.len()));
    out.dedup();
    out
}

fn urlencoding_decode(s: &str) -> Result<String, std::str::Utf8Error> {
    percent_encoding::percent_decode_str(s).decode_utf8().map(|c| c.into_owned())
}

/// `message` with every occurrence of each secret replaced by `***` (longest first, so a
/// password inside a quoted URL goes with the URL).
pub fn scrub(message: &str, secrets: &[String]) -> String {
    let mut m = message.to_owned();
    for s in secrets {
        if !s.is_empty() {
            m = m.replace(s.as_str(), MASK);
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_and_secret_parameters_are_masked() {
        assert_eq!(redact_url("nats://alice:s3cret@nats:4222"), "nats://***:***@nats:4222");
        assert_eq!(redact_url("nats://tok3n@nats:4222"), "nats://***@nats:4222");
        assert_eq!(redact_url("tls://a:b@n1:4222, nats://n2:4222"), "tls://***:***@n1:4222,nats://n2:4222");
        assert_eq!(redact_url("alice:pw@localhost:4222"), "***:***@localhost:4222");
        assert_eq!(redact_url("nats://127.0.0.1:4222"), "nats://127.0.0.1:4222");
        assert_eq!(
            redact_url("postgres://u@db/brygga?sslmode=require&password=hunter2"),
            "postgres://***@db/brygga?sslmode=require&password=***"
        );
        assert_eq!(redact_url("sqlite://.brygga/brygga.sqlite?mode=rwc"), "sqlite://.brygga/brygga.sqlite?mode=rwc");
        assert_eq!(redact_url("p%40ss://::"), "<unparseable URL>");
    }

    #[test]
    fn secrets_of_an_url_are_found_and_scrubbed() {
        let url = "postgress://brygga:p%40ss%20word@db:5432/x?token=abc123";
        let secrets = url_secrets(url);
        assert!(secrets.contains(&"p@ss word".to_owned()) && secrets.contains(&"abc123".to_owned()), "{secrets:?}");
        let msg = format!("The connection string '{url}' has no supporting driver; p@ss word");
        let clean = scrub(&msg, &secrets);
        assert!(!clean.contains("p%40ss") && !clean.contains("p@ss") && !clean.contains("abc123"), "{clean}");
    }
}
