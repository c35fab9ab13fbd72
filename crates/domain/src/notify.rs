//! What the notification service decides, without I/O: an organisation's preferences, which
//! recommendation changes become a message (and when), which deadline reminders are due, and
//! how long a failed delivery waits before it is tried again.
//!
//! The rules, in the order they are applied:
//! - nothing is ever sent to an organisation without contact consent, without preferences,
//!   with the channel `none`, or opted out (of everything, or of the target's kind);
//! - `created` is a message; `updated` only when the score moved by at least
//!   [`Rules::material_score_delta`] since the last message about it, or its deadline changed;
//!   `withdrawn` cancels what is still waiting to be sent about that recommendation, and is a
//!   message of its own when the organisation saved or applied for the target;
//! - instant messages are due at once; digests at the next [`Rules::digest_hour_utc`] (daily)
//!   or the next Monday at that hour (weekly);
//! - a reminder is due 14, 7 and 1 days before an active call's deadline; after an outage only
//!   the most urgent one still ahead is sent, never several at once.

use crate::{Language, OrgId};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};

/// How an organisation is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Channel {
    /// An e-mail address (contact data: never logged).
    Email(String),
    /// An `https` (or `http`) URL Brygga POSTs signed JSON to (may hold a secret: never logged).
    Webhook(String),
    /// Nothing is sent.
    None,
}

impl Channel {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Email(_) => "email",
            Self::Webhook(_) => "webhook",
            Self::None => "none",
        }
    }
}

/// How often an organisation hears from Brygga.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Cadence {
    /// A message per change, at once.
    #[default]
    Instant,
    /// A period's changes folded into one message a day.
    Daily,
    /// … or a week (Mondays).
    Weekly,
}

impl Cadence {
    pub const ALL: [Cadence; 3] = [Self::Instant, Self::Daily, Self::Weekly];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Instant => "instant",
            Self::Daily => "daily",
            Self::Weekly => "weekly",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// An organisation's notification preferences (`organisation.preferences.updated`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preferences {
    pub org_id: OrgId,
    pub version: u64,
    pub channel: Channel,
    /// The language of messages; `None`: the recommendation's (the organisation's preferred).
    pub language: Option<Language>,
    pub cadence: Cadence,
    /// Nothing at all is sent.
    pub opt_out_all: bool,
    /// Target kinds (`mission`, `s3_area`, `call`, `partner`) nothing is sent about.
    pub opt_out_kinds: Vec<String>,
    /// Nothing goes out between these times (Swedish local time); what falls due waits.
    pub quiet_hours: Option<QuietHours>,
}

/// A daily window, in Swedish local time (Europe/Stockholm: UTC+1, UTC+2 in EU summer time),
/// in which nothing is sent; `from` after `to` spans midnight (22:00-07:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    pub from: chrono::NaiveTime,
    pub to: chrono::NaiveTime,
}

/// Sweden's offset from UTC at `t`: the EU rule (summer time from 01:00 UTC on the last Sunday
/// of March to 01:00 UTC on the last Sunday of October).
pub fn stockholm_offset(t: DateTime<Utc>) -> Duration {
    let last_sunday = |month: u32| {
        let year = t.year();
        (25..=31)
            .rev()
            .filter_map(|d| NaiveDate::from_ymd_opt(year, month, d))
            .find(|d| d.weekday() == chrono::Weekday::Sun)
            .and_then(|d| d.and_hms_opt(1, 0, 0))
            .map(|d| d.and_utc())
    };
    match (last_sunday(3), last_sunday(10)) {
        (Some(start), Some(end)) if t >= start && t < end => Duration::hours(2),
        _ => Duration::hours(1),
    }
}

impl QuietHours {
    /// `t`, or the end of the quiet window it falls in.
    pub fn after(&self, t: DateTime<Utc>) -> DateTime<Utc> {
        let local = t + stockholm_offset(t);
        let time = local.time();
        let quiet = if self.from <= self.to {
            time >= self.from && time < self.to
        } else {
            time >= self.from || time < self.to
        };
        if !quiet {
            return t;
        }
        let mut end = local.date_naive().and_time(self.to).and_utc();
        if end <= local {
            end += Duration::days(1);
        }
        // Back to UTC with the offset in force at the end (a window may span a change of
        // summer time): the offset that, applied, gives itself.
        [Duration::hours(2), Duration::hours(1)]
            .into_iter()
            .map(|off| end - off)
            .find(|u| *u + stockholm_offset(*u) == end)
            .unwrap_or(end - Duration::hours(1))
    }
}

/// What a message is about: the key of "at most once".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    Created,
    Updated,
    /// `n` days before the deadline (14, 7 or 1).
    Reminder(u8),
    /// A target the organisation saved or applied for was withdrawn (a call closed).
    Withdrawn,
}

impl MessageKind {
    pub fn as_str(self) -> String {
        match self {
            Self::Created => "created".into(),
            Self::Updated => "updated".into(),
            Self::Reminder(n) => format!("reminder-{n}"),
            Self::Withdrawn => "withdrawn".into(),
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "created" => Some(Self::Created),
            "updated" => Some(Self::Updated),
            "withdrawn" => Some(Self::Withdrawn),
            _ => s.strip_prefix("reminder-").and_then(|n| n.parse().ok()).map(Self::Reminder),
        }
    }
}

/// Why nothing is sent (a metric label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Suppressed {
    NoConsent,
    NoPreferences,
    ChannelNone,
    OptedOut,
    OptedOutOfKind,
    NotMaterial,
    /// Withdrawn before it was sent (a digest no longer announces it).
    Withdrawn,
    /// The organisation was removed.
    Removed,
}

impl Suppressed {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoConsent => "no_consent",
            Self::NoPreferences => "no_preferences",
            Self::ChannelNone => "channel_none",
            Self::OptedOut => "opted_out",
            Self::OptedOutOfKind => "opted_out_of_kind",
            Self::NotMaterial => "not_material",
            Self::Withdrawn => "withdrawn",
            Self::Removed => "organisation_removed",
        }
    }
}

/// The service's rules (configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// An update is worth a message when the score moved by at least this (0-100 scale).
    pub material_score_delta: u8,
    /// Digests are sent at this hour (UTC).
    pub digest_hour_utc: u32,
}

impl Default for Rules {
    fn default() -> Self {
        Self { material_score_delta: 10, digest_hour_utc: 6 }
    }
}

/// Whether the organisation may be sent anything about a target of `kind`.
pub fn may_send(consent_contact: bool, prefs: Option<&Preferences>, kind: &str) -> Result<(), Suppressed> {
    let p = may_contact(consent_contact, prefs)?;
    if p.opt_out_kinds.iter().any(|k| k == kind) {
        return Err(Suppressed::OptedOutOfKind);
    }
    Ok(())
}

/// Whether the organisation may be sent anything at all (whatever the kind of target): its
/// preferences if so.
pub fn may_contact(consent_contact: bool, prefs: Option<&Preferences>) -> Result<&Preferences, Suppressed> {
    if !consent_contact {
        return Err(Suppressed::NoConsent);
    }
    let Some(p) = prefs else { return Err(Suppressed::NoPreferences) };
    if p.opt_out_all {
        return Err(Suppressed::OptedOut);
    }
    if p.channel == Channel::None {
        return Err(Suppressed::ChannelNone);
    }
    Ok(p)
}

/// What the last message about a recommendation said (to judge an update).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastSent {
    pub score: u8,
    pub deadline: Option<NaiveDate>,
}

/// Whether an `updated` recommendation deserves a message.
pub fn material_update(rules: &Rules, last: Option<&LastSent>, score: u8, deadline: Option<NaiveDate>) -> bool {
    match last {
        // Nothing was said about it (created before preferences existed): say it now.
        None => true,
        Some(l) => l.deadline != deadline || l.score.abs_diff(score) >= rules.material_score_delta,
    }
}

/// When a message planned at `now` is due for `p`: by its cadence, then after its quiet hours.
pub fn due_for(rules: &Rules, p: &Preferences, now: DateTime<Utc>) -> DateTime<Utc> {
    let due = due_at(rules, p.cadence, now);
    p.quiet_hours.map_or(due, |q| q.after(due))
}

/// When a message planned at `now` is due under `cadence`.
pub fn due_at(rules: &Rules, cadence: Cadence, now: DateTime<Utc>) -> DateTime<Utc> {
    let at_hour = |d: NaiveDate| d.and_hms_opt(rules.digest_hour_utc.min(23), 0, 0).map(|t| t.and_utc());
    let today = now.date_naive();
    let next = |from: NaiveDate| {
        (0..8)
            .map(|i| from + Duration::days(i))
            .filter(|d| cadence != Cadence::Weekly || d.weekday() == chrono::Weekday::Mon)
            .filter_map(at_hour)
            .find(|t| *t > now)
    };
    match cadence {
        Cadence::Instant => now,
        Cadence::Daily | Cadence::Weekly => next(today).unwrap_or(now),
    }
}

/// Days before a deadline at which reminders go out.
pub const REMINDER_DAYS: [u8; 3] = [14, 7, 1];

/// The reminder due on `today` for a deadline, if any: the smallest of [`REMINDER_DAYS`] that
/// is at least the days left (so a service that was down on the 14th day before sends the
/// 14-day reminder late, on the 13th, but after the 7th only the 7-day one). None on or after
/// the deadline.
pub fn reminder_due(deadline: NaiveDate, today: NaiveDate) -> Option<u8> {
    let left = (deadline - today).num_days();
    if left < 1 {
        return None;
    }
    REMINDER_DAYS.iter().rev().copied().find(|&d| left <= i64::from(d))
}

/// The deadlines for which [`reminder_due`] has a reminder on `today`: the days from
/// tomorrow to the longest of [`REMINDER_DAYS`] ahead (the store's range for the scan).
pub fn reminder_window(today: NaiveDate) -> (NaiveDate, NaiveDate) {
    let longest = REMINDER_DAYS.iter().copied().max().unwrap_or(0);
    (today + Duration::days(1), today + Duration::days(i64::from(longest)))
}

/// The wait before delivery attempt `attempt + 1` (1-based `attempt` failed): 30 s doubling, at
/// most an hour.
pub fn backoff(attempt: u32) -> Duration {
    let secs = 30_i64.saturating_mul(1_i64 << attempt.saturating_sub(1).min(7));
    Duration::seconds(secs.min(3_600))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }
    fn prefs() -> Preferences {
        Preferences {
            org_id: OrgId::parse("o-1").expect("id"),
            version: 1,
            channel: Channel::Email("a@b.se".into()),
            language: None,
            cadence: Cadence::Instant,
            opt_out_all: false,
            opt_out_kinds: vec!["partner".into()],
            quiet_hours: None,
        }
    }

    #[test]
    fn nothing_is_sent_without_consent_preferences_or_against_an_opt_out() {
        let p = prefs();
        assert_eq!(may_send(true, Some(&p), "call"), Ok(()));
        assert_eq!(may_send(false, Some(&p), "call"), Err(Suppressed::NoConsent));
        assert_eq!(may_send(true, None, "call"), Err(Suppressed::NoPreferences));
        assert_eq!(may_send(true, Some(&p), "partner"), Err(Suppressed::OptedOutOfKind));
        assert_eq!(may_contact(true, Some(&p)), Ok(&p), "opting out of a kind is not opting out of all");
        assert_eq!(may_contact(false, Some(&p)), Err(Suppressed::NoConsent));
        let all = Preferences { opt_out_all: true, ..p.clone() };
        assert_eq!(may_send(true, Some(&all), "call"), Err(Suppressed::OptedOut));
        let none = Preferences { channel: Channel::None, ..p };
        assert_eq!(may_send(true, Some(&none), "call"), Err(Suppressed::ChannelNone));
    }

    #[test]
    fn an_update_is_material_when_the_score_moved_enough_or_the_deadline_changed() {
        let r = Rules::default();
        let last = LastSent { score: 60, deadline: Some(d("2026-10-01")) };
        assert!(!material_update(&r, Some(&last), 65, Some(d("2026-10-01"))));
        assert!(material_update(&r, Some(&last), 70, Some(d("2026-10-01"))));
        assert!(material_update(&r, Some(&last), 50, Some(d("2026-10-01"))));
        assert!(material_update(&r, Some(&last), 60, Some(d("2026-10-08"))));
        assert!(material_update(&r, None, 60, None));
    }

    #[test]
    fn digests_are_due_at_the_next_digest_hour_and_weekly_ones_on_monday() {
        let r = Rules { digest_hour_utc: 6, ..Rules::default() };
        // 2026-12-02 is a Wednesday.
        let wed_noon = d("2026-12-02").and_hms_opt(12, 0, 0).expect("t").and_utc();
        let wed_five = d("2026-12-02").and_hms_opt(5, 0, 0).expect("t").and_utc();
        assert_eq!(due_at(&r, Cadence::Instant, wed_noon), wed_noon);
        assert_eq!(due_at(&r, Cadence::Daily, wed_noon), d("2026-12-03").and_hms_opt(6, 0, 0).expect("t").and_utc());
        assert_eq!(due_at(&r, Cadence::Daily, wed_five), d("2026-12-02").and_hms_opt(6, 0, 0).expect("t").and_utc());
        assert_eq!(due_at(&r, Cadence::Weekly, wed_noon), d("2026-12-07").and_hms_opt(6, 0, 0).expect("t").and_utc());
        let mon_seven = d("2026-12-07").and_hms_opt(7, 0, 0).expect("t").and_utc();
        assert_eq!(due_at(&r, Cadence::Weekly, mon_seven), d("2026-12-14").and_hms_opt(6, 0, 0).expect("t").and_utc());
    }

    #[test]
    fn reminders_fall_14_7_and_1_days_before_and_an_outage_sends_only_the_most_urgent() {
        let deadline = d("2026-12-31");
        let on = |s: &str| reminder_due(deadline, d(s));
        assert_eq!(on("2026-12-01"), None);
        assert_eq!(on("2026-12-17"), Some(14));
        assert_eq!(on("2026-12-18"), Some(14));
        assert_eq!(on("2026-12-24"), Some(7));
        assert_eq!(on("2026-12-29"), Some(7));
        assert_eq!(on("2026-12-30"), Some(1));
        assert_eq!(on("2026-12-31"), None);
        assert_eq!(on("2027-01-02"), None);
    }

    #[test]
    fn the_reminder_window_holds_exactly_the_deadlines_with_a_reminder_today() {
        let today = d("2026-12-07");
        let (from, to) = reminder_window(today);
        for ahead in -3..30 {
            let deadline = today + Duration::days(ahead);
            let inside = (from..=to).contains(&deadline);
            assert_eq!(inside, reminder_due(deadline, today).is_some(), "{deadline}");
        }
    }

    #[test]
    fn quiet_hours_hold_a_message_until_they_end_in_swedish_time() {
        let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).expect("time").with_timezone(&Utc);
        let hm = |h, m| chrono::NaiveTime::from_hms_opt(h, m, 0).expect("time");
        let night = QuietHours { from: hm(22, 0), to: hm(7, 0) };
        // Winter (UTC+1): 22:30 local is 21:30 UTC; it waits until 07:00 local, 06:00 UTC.
        assert_eq!(night.after(at("2026-12-02T21:30:00Z")), at("2026-12-03T06:00:00Z"));
        assert_eq!(night.after(at("2026-12-03T05:30:00Z")), at("2026-12-03T06:00:00Z"));
        assert_eq!(night.after(at("2026-12-02T12:00:00Z")), at("2026-12-02T12:00:00Z"), "not quiet");
        // Summer (UTC+2): 07:00 local is 05:00 UTC.
        assert_eq!(night.after(at("2026-07-01T21:00:00Z")), at("2026-07-02T05:00:00Z"));
        // Through the change to summer time (2026-03-29 01:00 UTC): 07:00 local is 05:00 UTC.
        assert_eq!(night.after(at("2026-03-28T22:00:00Z")), at("2026-03-29T05:00:00Z"));
        // A window within one day: lunch, 12:00-13:00 local.
        let lunch = QuietHours { from: hm(12, 0), to: hm(13, 0) };
        assert_eq!(lunch.after(at("2026-12-02T11:15:00Z")), at("2026-12-02T12:00:00Z"));
        assert_eq!(stockholm_offset(at("2026-10-25T00:59:00Z")), Duration::hours(2));
        assert_eq!(stockholm_offset(at("2026-10-25T01:00:00Z")), Duration::hours(1));
    }

    #[test]
    fn backoff_doubles_from_30_seconds_to_an_hour() {
        let s: Vec<i64> = (1..=9).map(|a| backoff(a).num_seconds()).collect();
        assert_eq!(s, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
    }

    #[test]
    fn message_kinds_read_back() {
        for k in [MessageKind::Created, MessageKind::Updated, MessageKind::Reminder(7), MessageKind::Withdrawn] {
            assert_eq!(MessageKind::parse(&k.as_str()), Some(k));
        }
    }
}
