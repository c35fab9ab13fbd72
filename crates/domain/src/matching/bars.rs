//! Entry bars: the score a new call or partner must reach to enter each organisation's top-k
//! list of that kind, as the matcher holds the lists ([`EntryBar`]). The matcher says them
//! ([`Index::set_entry_bars`]); the candidate searches ([`Index::orgs_matching_call`],
//! [`Index::orgs_matching_partner`]) then name only the organisations whose lists a target
//! can enter, read from the facts column, instead of every one above the floor (a quarter of
//! a region's organisations for a typical call). An organisation the matcher said nothing of
//! has the floor as its bar, so a missing bar costs candidates, never a missed entry.
//!
//! The bar kept is the k-th held score: a target scoring it exactly may still lose the tie
//! on its id, which the matcher judges with the full [`EntryBar`].

use super::candidates::EntryBar;
use super::{Index, RankerConfig};
use crate::OrgId;

/// An organisation's bars, one per kind a new target can enter: what to compare a raw
/// relevance with first, and the score it must then reach.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct Bars {
    pub(super) call: Bar,
    pub(super) partner: Bar,
}

/// One list's bar: a score (0: the floor decides; above 100: nothing enters) and the raw
/// relevance below which no score reaches it.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct Bar {
    pub(super) score: u8,
    pub(super) raw: f32,
}

/// A score no target reaches (a list of k = 0).
const CLOSED: u8 = u8::MAX;

impl Bar {
    fn of(bar: &EntryBar, cfg: &RankerConfig) -> Self {
        let score = match bar {
            EntryBar::Open { k: 0 } => CLOSED,
            EntryBar::Open { .. } => 0,
            EntryBar::Kth { score, .. } => *score,
        };
        let raw = if score > 100 { f32::INFINITY } else { cfg.raw_below(score) };
        Self { score, raw }
    }

    /// Whether `raw` may reach the bar (and the floor, `floor_raw`): the cheap test first.
    pub(super) fn may_pass(&self, raw: f32, floor_raw: f32) -> bool {
        raw >= floor_raw && raw >= self.raw
    }

    /// Whether `score` (over the floor) reaches the bar.
    pub(super) fn passes(&self, score: u8) -> bool {
        score >= self.score
    }
}

impl Index {
    /// Sets the bars of `kind` ("call" or "partner") of the organisations named, as their
    /// lists are held now. Other kinds are ignored; unknown organisations too. Does not change
    /// the index's stamp ([`Index::changes`]): rankings do not depend on it.
    pub fn set_entry_bars<'a>(&mut self, kind: &str, bars: impl IntoIterator<Item = (&'a OrgId, &'a EntryBar)>) {
        let list: fn(&mut Bars) -> &mut Bar = match kind {
            "call" => |b| &mut b.call,
            "partner" => |b| &mut b.partner,
            _ => return,
        };
        for (org, bar) in bars {
            let bar = Bar::of(bar, &self.ranker);
            self.orgs.update(org, |e| *list(&mut e.bars) = bar);
        }
    }

    /// Forgets the bars of the organisations `of` accepts (their lists may have changed
    /// elsewhere): the floor again. Costs a pass over the organisations.
    pub fn clear_entry_bars(&mut self, of: impl Fn(&OrgId) -> bool) {
        let ids: Vec<OrgId> =
            self.orgs.iter().filter(|(id, e)| of(id) && e.bars != Bars::default()).map(|(id, _)| id.clone()).collect();
        for id in ids {
            self.orgs.update(&id, |e| e.bars = Bars::default());
        }
    }
}
