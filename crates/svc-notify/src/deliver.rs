//! Delivery: e-mail over SMTP (lettre) and webhooks over HTTP, each attempt ending sent,
//! transient (tried again later) or permanent (dead-lettered). Errors name no address: SMTP
//! replies that echo the recipient are scrubbed, and HTTP errors carry no URL.
//!
//! **Webhook signature.** Every POST carries `Brygga-Signature: t=<unix seconds>,v1=<hex>`,
//! where `<hex>` is HMAC-SHA256 under `notify.webhook_secret` of `"<t>.<body>"` (the body's
//! bytes as sent), and `Idempotency-Key: <message id>` (the same on every attempt of one
//! message). A receiver recomputes the HMAC, compares it in constant time, refuses a `t` far
//! from its clock, and drops a repeated key. [`signature`] is the reference.

use crate::compose::Message;
use brygga_domain::notify::Channel;
use brygga_events::RecommendationV1;
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use serde::Serialize;
use std::time::Duration;

/// How one attempt failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth trying again later (a 5xx, a timeout, a refused connection, an SMTP 4xx).
    #[error("{0}")]
    Transient(String),
    /// Will not pass by trying again (a 4xx, an address the server refuses, no channel set up).
    #[error("{0}")]
    Permanent(String),
}

/// Why the channels could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("notify.smtp_url is not a usable SMTP URL (smtp://host:port, smtps://…): {0}")]
    Smtp(String),
    #[error("notify.from {0:?} is not a mailbox (\"Name <address>\" or an address)")]
    From(String),
    #[error("building the webhook HTTP client: {0}")]
    Http(String),
}

/// What a webhook receives (JSON).
#[derive(Debug, Clone, Serialize)]
pub struct WebhookBody<'a> {
    pub message_id: &'a str,
    pub organisation_id: &'a str,
    /// `created`, `updated`, `reminder-14`, `reminder-7`, `reminder-1` or `digest`.
    pub kind: &'a str,
    pub subject: &'a str,
    pub text: &'a str,
    pub recommendations: &'a [RecommendationV1],
}

/// One message on its way.
#[derive(Debug, Clone)]
pub struct Outgoing<'a> {
    pub message_id: &'a str,
    pub org_id: &'a str,
    pub kind: &'a str,
    pub message: &'a Message,
    pub recommendations: &'a [RecommendationV1],
    /// The signed opt-out link: e-mail carries it as `List-Unsubscribe` with one-click POST
    /// (RFC 8058), so mail clients offer "unsubscribe" themselves.
    pub opt_out: Option<&'a str>,
}

/// `List-Unsubscribe: <link>` (RFC 2369).
#[derive(Debug, Clone)]
struct ListUnsubscribe(String);

impl lettre::message::header::Header for ListUnsubscribe {
    fn name() -> lettre::message::header::HeaderName {
        lettre::message::header::HeaderName::new_from_ascii_str("List-Unsubscribe")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_owned()))
    }
    fn display(&self) -> lettre::message::header::HeaderValue {
        lettre::message::header::HeaderValue::new(Self::name(), format!("<{}>", self.0))
    }
}

/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058): a POST to the link unsubscribes.
#[derive(Debug, Clone)]
struct OneClick;

impl lettre::message::header::Header for OneClick {
    fn name() -> lettre::message::header::HeaderName {
        lettre::message::header::HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }
    fn display(&self) -> lettre::message::header::HeaderValue {
        lettre::message::header::HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".into())
    }
}

/// The ways out.
#[derive(Debug, Clone)]
pub struct Channels {
    smtp: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: Mailbox,
    http: reqwest::Client,
    webhook_secret: Option<Vec<u8>>,
}

impl Channels {
    /// SMTP from `smtp_url` (none: e-mail fails permanently, said at start), webhooks signed with
    /// `webhook_secret` (none: webhooks fail permanently), each HTTP attempt at most `timeout`.
    pub fn new(
        smtp_url: Option<&str>,
        from: &str,
        webhook_secret: Option<&[u8]>,
        timeout: Duration,
    ) -> Result<Self, SetupError> {
        // reqwest and lettre use rustls; the process has one crypto provider, ring.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let smtp = smtp_url
            .map(|u| {
                AsyncSmtpTransport::<Tokio1Executor>::from_url(u).map(|b| b.timeout(Some(timeout)).build()).map_err(
                    |e| {
                        SetupError::Smtp(brygga_runtime::secret::scrub(
                            &e.to_string(),
                            &brygga_runtime::secret::url_secrets(u),
                        ))
                    },
                )
            })
            .transpose()?;
        let from = from.parse::<Mailbox>().map_err(|_| SetupError::From(from.to_owned()))?;
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| SetupError::Http(e.to_string()))?;
        Ok(Self { smtp, from, http, webhook_secret: webhook_secret.map(<[u8]>::to_vec) })
    }

    /// Sends `out` on `channel`.
    pub async fn send(&self, channel: &Channel, out: &Outgoing<'_>) -> Result<(), SendError> {
        match channel {
            Channel::Email(address) => self.email(address, out).await,
            Channel::Webhook(url) => self.webhook(url, out).await,
            Channel::None => Err(SendError::Permanent("the organisation's channel is none".into())),
        }
    }

    async fn email(&self, address: &str, out: &Outgoing<'_>) -> Result<(), SendError> {
        let Some(smtp) = &self.smtp else {
            return Err(SendError::Permanent("no SMTP server is configured (notify.smtp_url)".into()));
        };
        let to = address.parse::<Mailbox>().map_err(|_| {
            SendError::Permanent("the organisation's e-mail address is refused by the mail library".into())
        })?;
        let m = out.message;
        let mut email = lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(m.subject.clone())
            .message_id(Some(format!("<{}@brygga>", out.message_id)));
        if let Some(link) = out.opt_out {
            email = email.header(ListUnsubscribe(link.to_owned())).header(OneClick);
        }
        let email = email
            .multipart(MultiPart::alternative_plain_html(m.text.clone(), m.html.clone()))
            .map_err(|e| SendError::Permanent(format!("building the message: {e}")))?;
        let scrub = |e: &lettre::transport::smtp::Error| e.to_string().replace(address, "<address>");
        match smtp.send(email).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(SendError::Permanent(format!("SMTP: {}", scrub(&e)))),
            Err(e) => Err(SendError::Transient(format!("SMTP: {}", scrub(&e)))),
        }
    }

    async fn webhook(&self, url: &str, out: &Outgoing<'_>) -> Result<(), SendError> {
        let Some(secret) = &self.webhook_secret else {
            return Err(SendError::Permanent("no webhook secret is configured (notify.webhook_secret)".into()));
        };
        let body = WebhookBody {
            message_id: out.message_id,
            organisation_id: out.org_id,
            kind: out.kind,
            subject: &out.message.subject,
            text: &out.message.text,
            recommendations: out.recommendations,
        };
        let body = serde_json::to_vec(&body).map_err(|e| SendError::Permanent(e.to_string()))?;
        let t = chrono::Utc::now().timestamp();
        let answer = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .header("idempotency-key", out.message_id)
            .header("brygga-signature", signature(secret, t, &body))
            .body(body)
            .send()
            .await;
        match answer {
            Ok(r) if r.status().is_success() => Ok(()),
            Ok(r) => {
                let s = r.status();
                let reason = format!("webhook answered {}", s.as_u16());
                // 408 and 429 say "later"; every other 4xx says "no".
                if s.is_server_error() || s.as_u16() == 408 || s.as_u16() == 429 {
                    Err(SendError::Transient(reason))
                } else {
                    Err(SendError::Permanent(reason))
                }
            }
            Err(e) if e.is_builder() => Err(SendError::Permanent(format!("webhook: {}", e.without_url()))),
            Err(e) => Err(SendError::Transient(format!("webhook: {}", e.without_url()))),
        }
    }
}

/// The `Brygga-Signature` header value of `body` sent at `t` (unix seconds).
pub fn signature(secret: &[u8], t: i64, body: &[u8]) -> String {
    let hex = brygga_runtime::mac::hex(secret, &[t.to_string().as_bytes(), b".", body]);
    format!("t={t},v1={hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_of_time_dot_body() {
        // Computed apart from Brygga: Python's
        // hmac.new(b"Jefe", b"0.what do ya want for nothing?", hashlib.sha256).hexdigest()
        let s = signature(b"Jefe", 0, b"what do ya want for nothing?");
        assert_eq!(s, "t=0,v1=37f471929915ccd2cbbe79feb84ffcff4f2bb25e15fc41c2506687331ae179cc");
    }
}
