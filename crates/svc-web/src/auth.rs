//! Who may see the advisor page: a configured set of advisors with Argon2id password hashes
//! (PHC strings), sessions in signed cookies (HMAC-SHA256, with an expiry), and a CSRF token
//! per session on every form. Nothing here logs a name or a password.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::Engine as _;

/// One advisor who may sign in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advisor {
    pub name: String,
    /// Argon2 PHC string (`$argon2id$v=19$…`), from `brygga hash-password`.
    pub password_hash: String,
}

/// The session cookie's name.
pub const COOKIE: &str = "brygga_session";

/// Sign-in and sessions.
#[derive(Debug, Clone)]
pub struct Auth {
    advisors: Vec<Advisor>,
    key: Vec<u8>,
    /// Verified against when the name is unknown, so an unknown name costs the same time.
    dummy: String,
    /// How long a session lasts, in seconds.
    pub ttl_secs: i64,
    /// Cookies only over HTTPS (off for a page served on localhost over HTTP).
    pub secure_cookies: bool,
}

/// The MAC of `body` for one purpose (`tag`: session, csrf).
fn mac(key: &[u8], tag: &[u8], body: &[u8]) -> String {
    brygga_runtime::mac::hex(key, &[tag, b"\x1f", body, b"\x1f"])
}

impl Auth {
    pub fn new(advisors: Vec<Advisor>, key: Vec<u8>, ttl_secs: i64, secure_cookies: bool) -> Self {
        let dummy = hash_password("no such advisor", &[0; 16]).unwrap_or_default();
        Self { advisors, key, dummy, ttl_secs, secure_cookies }
    }

    /// Whether `name` signs in with `password`.
    pub fn verify(&self, name: &str, password: &str) -> bool {
        let found = self.advisors.iter().find(|a| a.name == name);
        let hash = found.map_or(self.dummy.as_str(), |a| a.password_hash.as_str());
        let ok =
            PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok());
        ok && found.is_some()
    }

    /// A session cookie value for `name`, valid until `now + ttl`.
    pub fn session(&self, name: &str, now: i64) -> String {
        let body = format!("{name}|{}", now + self.ttl_secs);
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(body.as_bytes());
        format!("{b64}.{}", mac(&self.key, b"session", b64.as_bytes()))
    }

    /// The advisor a session cookie value belongs to, if it is genuine and not expired.
    pub fn check(&self, value: &str, now: i64) -> Option<String> {
        let (b64, sig) = value.split_once('.')?;
        if !brygga_runtime::mac::same(sig, &mac(&self.key, b"session", b64.as_bytes())) {
            return None;
        }
        let body = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(b64).ok()?;
        let body = String::from_utf8(body).ok()?;
        let (name, exp) = body.rsplit_once('|')?;
        let exp: i64 = exp.parse().ok()?;
        (exp > now && self.advisors.iter().any(|a| a.name == name)).then(|| name.to_owned())
    }

    /// The CSRF token of a session (the same for every form of that session).
    pub fn csrf(&self, session: &str) -> String {
        mac(&self.key, b"csrf", session.as_bytes())
    }

    pub fn csrf_ok(&self, session: &str, token: &str) -> bool {
        brygga_runtime::mac::same(token, &self.csrf(session))
    }

    /// The `Set-Cookie` value that starts a session.
    pub fn set_cookie(&self, value: &str) -> String {
        let secure = if self.secure_cookies { "; Secure" } else { "" };
        format!("{COOKIE}={value}; Path=/advisor; HttpOnly; SameSite=Strict; Max-Age={}{secure}", self.ttl_secs)
    }

    /// The `Set-Cookie` value that ends it.
    pub fn clear_cookie(&self) -> String {
        format!("{COOKIE}=; Path=/advisor; HttpOnly; SameSite=Strict; Max-Age=0")
    }
}

/// An Argon2id PHC string for `password` (`brygga hash-password`).
pub fn hash_password(password: &str, salt: &[u8; 16]) -> Result<String, String> {
    let salt = SaltString::encode_b64(salt).map_err(|e| e.to_string())?;
    Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth() -> Auth {
        let hash = hash_password("correct horse", &[7; 16]).expect("hash");
        Auth::new(vec![Advisor { name: "anna".into(), password_hash: hash }], b"k".to_vec(), 3600, true)
    }

    #[test]
    fn only_the_right_password_signs_in() {
        let a = auth();
        assert!(a.verify("anna", "correct horse"));
        assert!(!a.verify("anna", "wrong"));
        assert!(!a.verify("bertil", "correct horse"));
    }

    #[test]
    fn sessions_are_signed_and_expire() {
        let a = auth();
        let s = a.session("anna", 1_000);
        assert_eq!(a.check(&s, 1_000).as_deref(), Some("anna"));
        assert_eq!(a.check(&s, 1_000 + 3_600), None, "expired");
        let (b64, sig) = s.split_once('.').expect("dot");
        let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b"anna|99999999999");
        assert_eq!(a.check(&format!("{forged}.{sig}"), 1_000), None, "a changed expiry breaks the signature");
        assert_eq!(a.check(b64, 1_000), None);
        let other = Auth::new(vec![], b"other key".to_vec(), 3600, true);
        assert_eq!(other.check(&s, 1_000), None);
        assert!(a.csrf_ok(&s, &a.csrf(&s)) && !a.csrf_ok(&s, "0"));
        assert!(a.set_cookie(&s).contains("HttpOnly; SameSite=Strict") && a.set_cookie(&s).ends_with("; Secure"));
    }
}
