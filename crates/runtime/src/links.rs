//! Signed links for organisations: the notification service puts them in its messages, the
//! advisor page's organisation routes (`/o/<token>`) honour them. A token names one
//! organisation, one action and, for feedback, one recommendation, and expires; it is signed with
//! HMAC-SHA256 under `links.key`, so it cannot be altered to reach another organisation or
//! another recommendation. The token is the only credential on those routes.

use base64::Engine as _;

/// What a link lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Read the organisation's own page.
    Page,
    /// Dismiss one recommendation.
    Dismiss,
    /// Save one recommendation.
    Save,
    /// Stop every notification.
    OptOut,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Page => "page",
            Self::Dismiss => "dismiss",
            Self::Save => "save",
            Self::OptOut => "optout",
        }
    }
    fn parse(s: &str) -> Option<Self> {
        [Self::Page, Self::Dismiss, Self::Save, Self::OptOut].into_iter().find(|a| a.as_str() == s)
    }
}

/// A verified link: whose, what, about which recommendation (feedback actions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub org_id: String,
    pub action: Action,
    /// The recommendation id, for `Dismiss` and `Save`; empty otherwise.
    pub recommendation_id: String,
    /// Unix seconds after which the link no longer works.
    pub expires: i64,
}

/// Makes and checks tokens, and the links that carry them.
#[derive(Debug, Clone)]
pub struct Links {
    key: Vec<u8>,
    /// Where the advisor page answers as the public sees it (`https://brygga.example.se`).
    pub base_url: String,
    /// How long a link works, in seconds.
    pub ttl_secs: i64,
}

fn mac(key: &[u8], body: &str) -> String {
    crate::mac::hex(key, &[b"brygga-link\x1f", body.as_bytes()])
}

impl Links {
    pub fn new(key: Vec<u8>, base_url: &str, ttl_secs: i64) -> Self {
        Self { key, base_url: base_url.trim_end_matches('/').to_owned(), ttl_secs }
    }

    /// A token granting `action` on `org` (and `rec`), valid for `ttl_secs` from `now`.
    pub fn token(&self, org: &str, action: Action, rec: &str, now: i64) -> String {
        let body = format!("v1|{org}|{}|{rec}|{}", action.as_str(), now + self.ttl_secs);
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(body.as_bytes());
        format!("{b64}.{}", mac(&self.key, &b64))
    }

    /// The link carrying such a token.
    pub fn link(&self, org: &str, action: Action, rec: &str, now: i64) -> String {
        format!("{}/o/{}", self.base_url, self.token(org, action, rec, now))
    }

    /// What a token grants, if it is genuine and has not expired.
    pub fn verify(&self, token: &str, now: i64) -> Option<Grant> {
        let (b64, sig) = token.split_once('.')?;
        if !crate::mac::same(sig, &mac(&self.key, b64)) {
            return None;
        }
        let body = String::from_utf8(base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(b64).ok()?).ok()?;
        let mut parts = body.split('|');
        let (v, org, action, rec, exp) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        let expires: i64 = exp.parse().ok()?;
        if v != "v1" || parts.next().is_some() || expires <= now {
            return None;
        }
        Some(Grant {
            org_id: org.to_owned(),
            action: Action::parse(action)?,
            recommendation_id: rec.to_owned(),
            expires,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_grants_what_it_says_until_it_expires_and_cannot_be_altered() {
        let l = Links::new(b"link key".to_vec(), "https://brygga.example.se/", 3_600);
        let t = l.token("org-a", Action::Dismiss, "rec-1", 1_000);
        let g = l.verify(&t, 1_000).expect("genuine");
        assert_eq!((g.org_id.as_str(), g.action, g.recommendation_id.as_str()), ("org-a", Action::Dismiss, "rec-1"));
        assert_eq!(l.verify(&t, 4_600), None, "expired");
        // Another organisation, another action, a longer life: the signature no longer holds.
        let (_, sig) = t.split_once('.').expect("dot");
        for body in ["v1|org-b|dismiss|rec-1|4600", "v1|org-a|optout||4600", "v1|org-a|dismiss|rec-1|99999999999"] {
            let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(body);
            assert_eq!(l.verify(&format!("{forged}.{sig}"), 1_000), None, "{body}");
        }
        assert_eq!(Links::new(b"other".to_vec(), "x", 3_600).verify(&t, 1_000), None, "another key");
        assert!(l.link("org-a", Action::Page, "", 1_000).starts_with("https://brygga.example.se/o/"));
    }
}
