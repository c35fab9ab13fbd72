//! The trace contexts of the registry events a batch read, by the ids of those events and of
//! the inbound events behind them, so that a recommendation event continues the trace of what
//! caused it (`brygga_events::trace`). A recommendation with several causes continues the
//! first of them (by id) that carried a context. Bounded: past [`CAP`] remembered events the
//! memory starts afresh, and a change that waited that long carries no context.

use brygga_events::trace::TraceContext;
use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

/// How many event ids are remembered at most.
const CAP: usize = 65_536;

#[derive(Debug, Default)]
pub(crate) struct Traces(Mutex<HashMap<String, TraceContext>>);

impl Traces {
    /// Remembers `trace` for each of `causes`.
    pub(crate) fn note(&self, causes: &[String], trace: &TraceContext) {
        let mut m = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if m.len() + causes.len() > CAP {
            m.clear();
        }
        for c in causes {
            m.insert(c.clone(), trace.clone());
        }
    }

    /// The context to continue for a change with these causes.
    pub(crate) fn of(&self, causes: &BTreeSet<String>) -> Option<TraceContext> {
        let m = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        causes.iter().find_map(|c| m.get(c).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_traced_cause_is_continued() {
        let t = |s: &str| TraceContext::read(Some(s), None).expect("valid");
        let a = t("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
        let b = t("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
        let traces = Traces::default();
        traces.note(&["in-2".into(), "reg-2".into()], &b);
        traces.note(&["in-1".into()], &a);
        let causes = |ids: &[&str]| ids.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        assert_eq!(traces.of(&causes(&["reg-2", "in-1"])), Some(a));
        assert_eq!(traces.of(&causes(&["reg-2", "zz"])), Some(b));
        assert_eq!(traces.of(&causes(&["untraced"])), None);
    }
}
