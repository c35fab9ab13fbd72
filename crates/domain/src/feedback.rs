//! Feedback on a recommendation (`recommendation.feedback.v1`), and what it does to matching:
//! a target an organisation dismissed, or found not relevant, is not recommended to it again,
//! unless the target changes materially (for a call: its title, deadlines or programme; the
//! other kinds of target do not change in ways that matter here, so their dismissal holds).
//! Saved and applied ones are kept as they are (and their reminders sent).

use crate::{Call, OrgId, Target};

/// What an organisation said about a recommendation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedbackKind {
    Saved,
    Dismissed,
    Applied,
    NotRelevant,
}

impl FeedbackKind {
    pub const ALL: [FeedbackKind; 4] = [Self::Saved, Self::Dismissed, Self::Applied, Self::NotRelevant];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Saved => "saved",
            Self::Dismissed => "dismissed",
            Self::Applied => "applied",
            Self::NotRelevant => "not_relevant",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
    /// Whether the target is no longer recommended to the organisation.
    pub fn excludes(self) -> bool {
        matches!(self, Self::Dismissed | Self::NotRelevant)
    }
    /// Whether the organisation keeps the target (hears when it closes).
    pub fn keeps(self) -> bool {
        matches!(self, Self::Saved | Self::Applied)
    }
}

/// One organisation's feedback on one recommendation (versioned per recommendation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feedback {
    pub org_id: OrgId,
    pub target: Target,
    pub version: u64,
    pub kind: FeedbackKind,
    /// In the organisation's words (kept with the feedback, erased with the organisation).
    pub reason: Option<String>,
}

/// What a call's dismissal is tied to: its title, deadlines and programme (FNV-1a, 64 bits, as
/// hex: stable across processes and releases, so it can be stored). A call whose fingerprint
/// moved has changed materially, and its dismissal lapses.
pub fn call_fingerprint(call: &Call) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for b in bytes.iter().chain([0u8].iter()) {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    eat(call.title.trim().as_bytes());
    eat(format!("{:?}", call.programme).as_bytes());
    for d in &call.deadlines {
        eat(d.to_string().as_bytes());
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_read_back_and_only_dismissals_exclude() {
        for k in FeedbackKind::ALL {
            assert_eq!(FeedbackKind::parse(k.as_str()), Some(k));
            assert_ne!(k.excludes(), k.keeps());
        }
        assert!(FeedbackKind::NotRelevant.excludes() && FeedbackKind::Saved.keeps());
    }
}
