//! `organisation.preferences.updated.v1`: how an organisation wants to hear from Brygga (the
//! notification service reads them from the store). The address is contact data: a rejection
//! names the field and what is wrong, never the value.

use crate::inbound::{language, version, Errors, Rejection};
use brygga_domain::notify::{Cadence, Channel, Preferences};
use brygga_domain::{Language, OrgId, Target};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Longest e-mail address (RFC 5321's path limit).
pub const MAX_EMAIL: usize = 254;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OptOutV1 {
    /// Nothing at all is sent.
    #[serde(default)]
    pub all: bool,
    /// Target kinds nothing is sent about: `mission`, `s3_area`, `call`, `partner`.
    #[serde(default)]
    pub kinds: Vec<String>,
}

/// A daily window in Swedish local time (`HH:MM`, Europe/Stockholm) in which nothing is sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QuietHoursV1 {
    /// Start, `HH:MM` (e.g. `22:00`).
    pub from: String,
    /// End, `HH:MM` (e.g. `07:00`; before `from`: the window spans midnight).
    pub to: String,
}

fn clock_time(s: &str) -> Result<chrono::NaiveTime, String> {
    let ok = s.len() == 5 && s.as_bytes()[2] == b':';
    chrono::NaiveTime::parse_from_str(s, "%H:%M")
        .ok()
        .filter(|_| ok)
        .ok_or_else(|| format!("{:?} is not a time of day written HH:MM", s.chars().take(20).collect::<String>()))
}

/// `data` of `organisation.preferences.updated.v1`: the full preferences of one organisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PreferencesV1 {
    pub organisation_id: String,
    /// Increases with every change of these preferences; older versions are ignored.
    pub version: u64,
    /// `email`, `webhook` or `none`.
    pub channel: String,
    /// The e-mail address (channel `email`) or the `https`/`http` URL (channel `webhook`).
    #[serde(default)]
    pub address: Option<String>,
    /// `sv` or `en`; absent: the organisation's preferred language.
    #[serde(default)]
    pub language: Option<String>,
    /// `instant`, `daily` or `weekly`.
    #[serde(default = "instant")]
    pub cadence: String,
    #[serde(default)]
    pub opt_out: OptOutV1,
    /// Nothing is sent in this window; what falls due waits until it ends.
    #[serde(default)]
    pub quiet_hours: Option<QuietHoursV1>,
}

fn instant() -> String {
    Cadence::Instant.as_str().to_owned()
}

/// A plausible mailbox: `local@domain`, one `@`, a dotted domain, no spaces or angle brackets
/// (the mail library checks it again when it sends).
fn email(s: &str) -> Result<(), String> {
    crate::limits::text(s, MAX_EMAIL, false).map_err(|m| m.replace(s, "…"))?;
    let ok = match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !s.chars().any(|c| c.is_whitespace() || matches!(c, '<' | '>' | ',' | ';' | '"'))
        }
        None => false,
    };
    if ok {
        Ok(())
    } else {
        Err("is not an e-mail address (local@domain)".into())
    }
}

impl PreferencesV1 {
    /// Validates every field and returns the domain preferences, or all field errors.
    pub fn into_domain(self) -> Result<Preferences, Rejection> {
        let mut e = Errors::default();
        let org_id = e.take("organisation_id", OrgId::parse(self.organisation_id));
        version(self.version, &mut e);
        let address = self.address.unwrap_or_default();
        let channel = match self.channel.as_str() {
            "email" => {
                if let Err(m) = email(&address) {
                    e.push("address", m);
                }
                Some(Channel::Email(address))
            }
            "webhook" => {
                // Not quoted back: a webhook URL may carry a secret of the receiver.
                if let Err(m) = crate::limits::web_url(&address) {
                    let m = if m.starts_with("scheme") { m } else { "is not an absolute https or http URL".into() };
                    e.push("address", m);
                }
                Some(Channel::Webhook(address))
            }
            "none" => Some(Channel::None),
            other => {
                e.push("channel", format!("{other:?} is not a channel (email, webhook, none)"));
                None
            }
        };
        let language = language("language", self.language.as_deref(), &mut e);
        let cadence = Cadence::parse(&self.cadence);
        if cadence.is_none() {
            e.push("cadence", format!("{:?} is not a cadence (instant, daily, weekly)", self.cadence));
        }
        if let Err(m) = crate::limits::list(&self.opt_out.kinds, Target::KINDS.len()) {
            e.push("opt_out.kinds", m);
        }
        for (i, k) in self.opt_out.kinds.iter().enumerate() {
            if !Target::KINDS.contains(&k.as_str()) {
                let shown: String = k.chars().take(40).collect();
                e.push(
                    &format!("opt_out.kinds[{i}]"),
                    format!("{shown:?} is not a target kind (mission, s3_area, call, partner)"),
                );
            }
        }
        let quiet_hours = self.quiet_hours.as_ref().and_then(|q| {
            let from = e.take("quiet_hours.from", clock_time(&q.from));
            let to = e.take("quiet_hours.to", clock_time(&q.to));
            match (from, to) {
                (Some(f), Some(t)) if f == t => {
                    e.push("quiet_hours", "from and to are the same time: an empty or a whole-day window");
                    None
                }
                (Some(from), Some(to)) => Some(brygga_domain::notify::QuietHours { from, to }),
                _ => None,
            }
        });
        match (org_id, channel, cadence, e.0.is_empty()) {
            (Some(org_id), Some(channel), Some(cadence), true) => Ok(Preferences {
                org_id,
                version: self.version,
                channel,
                language,
                cadence,
                opt_out_all: self.opt_out.all,
                opt_out_kinds: self.opt_out.kinds,
                quiet_hours,
            }),
            _ => Err(Rejection::InvalidPayload(e.0)),
        }
    }

    pub fn from_domain(p: &Preferences) -> Self {
        let address = match &p.channel {
            Channel::Email(a) | Channel::Webhook(a) => Some(a.clone()),
            Channel::None => None,
        };
        Self {
            organisation_id: p.org_id.to_string(),
            version: p.version,
            channel: p.channel.name().to_owned(),
            address,
            language: p.language.map(|l| match l {
                Language::Sv => "sv".to_owned(),
                Language::En => "en".to_owned(),
            }),
            cadence: p.cadence.as_str().to_owned(),
            opt_out: OptOutV1 { all: p.opt_out_all, kinds: p.opt_out_kinds.clone() },
            quiet_hours: p.quiet_hours.map(|q| QuietHoursV1 {
                from: q.from.format("%H:%M").to_string(),
                to: q.to.format("%H:%M").to_string(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefs(channel: &str, address: Option<&str>) -> PreferencesV1 {
        PreferencesV1 {
            organisation_id: "o-1".into(),
            version: 3,
            channel: channel.into(),
            address: address.map(Into::into),
            language: Some("sv".into()),
            cadence: "daily".into(),
            opt_out: OptOutV1 { all: false, kinds: vec!["partner".into()] },
            quiet_hours: Some(QuietHoursV1 { from: "22:00".into(), to: "07:00".into() }),
        }
    }

    #[test]
    fn valid_preferences_read_back_the_same() {
        for (channel, address) in
            [("email", Some("info@example.se")), ("webhook", Some("https://crm.example.se/h")), ("none", None)]
        {
            let p = prefs(channel, address).into_domain().expect("valid");
            assert_eq!(PreferencesV1::from_domain(&p), prefs(channel, address));
        }
    }

    #[test]
    fn every_faulty_field_is_named_and_the_address_is_never_quoted() {
        let bad = PreferencesV1 {
            organisation_id: "o 1".into(),
            version: u64::MAX,
            channel: "email".into(),
            address: Some("secret.person at example".into()),
            language: Some("fi".into()),
            cadence: "hourly".into(),
            opt_out: OptOutV1 { all: false, kinds: vec!["spam".into()] },
            quiet_hours: Some(QuietHoursV1 { from: "25:00".into(), to: "7".into() }),
        };
        let Err(Rejection::InvalidPayload(errs)) = bad.into_domain() else { panic!("refused") };
        let all = errs.join("; ");
        for field in [
            "organisation_id",
            "version",
            "address",
            "language",
            "cadence",
            "opt_out.kinds[0]",
            "quiet_hours.from",
            "quiet_hours.to",
        ] {
            assert!(errs.iter().any(|e| e.starts_with(field)), "{field} not named in {all}");
        }
        assert!(!all.contains("secret.person"), "{all}");
        let hook = prefs("webhook", Some("ftp://user:pw@host/x")).into_domain();
        let Err(Rejection::InvalidPayload(errs)) = hook else { panic!("refused") };
        assert!(!errs.join("; ").contains("pw"), "{errs:?}");
        let channel = prefs("sms", None).into_domain();
        assert!(matches!(channel, Err(Rejection::InvalidPayload(e)) if e[0].starts_with("channel")));
    }
}
