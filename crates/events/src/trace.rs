//! W3C trace context across the bus: `traceparent` (and `tracestate`) read from an inbound
//! event's NATS headers or its CloudEvents Distributed Tracing extension attributes, and
//! continued on every event it causes, with a span id of each hop's own.
//!
//! Brygga does not sample or export spans itself; it carries the context so that a trace
//! started by a producer can be followed through ingest and the matcher to the
//! recommendations (`trace_id` in the logs, `traceparent` on every event and header).

use std::fmt;

/// A valid `traceparent`, version `00`: `00-<trace id, 32 hex>-<parent id, 16 hex>-<flags, 2 hex>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TraceParent {
    trace_id: String,
    parent_id: String,
    flags: String,
}

impl TraceParent {
    /// Parses a `traceparent`; `None` when it is not a valid one (then no context is carried,
    /// as W3C prescribes: a receiver starts afresh). A later version is read by its version-00
    /// prefix.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        let hex =
            |p: &str, n: usize| p.len() == n && p.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        let version = s.get(0..2)?;
        if !hex(version, 2) || version == "ff" || (version == "00" && s.len() != 55) || s.len() < 55 {
            return None;
        }
        if version != "00" && s.as_bytes().get(55).is_some_and(|b| *b != b'-') {
            return None;
        }
        let (trace_id, parent_id, flags) = (s.get(3..35)?, s.get(36..52)?, s.get(53..55)?);
        let dashes = [2, 35, 52].iter().all(|i| s.as_bytes()[*i] == b'-');
        let zero = |p: &str| p.bytes().all(|b| b == b'0');
        if !dashes || !hex(trace_id, 32) || !hex(parent_id, 16) || !hex(flags, 2) || zero(trace_id) || zero(parent_id) {
            return None;
        }
        Some(Self { trace_id: trace_id.to_owned(), parent_id: parent_id.to_owned(), flags: flags.to_owned() })
    }

    /// The trace this belongs to (what logs carry as `trace_id`).
    pub fn trace_id(&self) -> &str {
        &self.trace_id
    }

    /// The span this context names (the parent of whatever continues it).
    pub fn span_id(&self) -> &str {
        &self.parent_id
    }

    /// The caller sampled the trace (flag `01`).
    pub fn sampled(&self) -> bool {
        u8::from_str_radix(&self.flags, 16).is_ok_and(|f| f & 1 == 1)
    }

    /// The context for an event this one causes: same trace and flags, a span id of its own,
    /// derived from `event_id` (so a retried hop sends the same context).
    pub fn child(&self, event_id: &str) -> Self {
        let digest = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, format!("{}/{event_id}", self.trace_id).as_bytes());
        let mut span: String = digest.as_bytes()[..8].iter().map(|b| format!("{b:02x}")).collect();
        if span.bytes().all(|b| b == b'0') {
            span.replace_range(15..16, "1");
        }
        Self { trace_id: self.trace_id.clone(), parent_id: span, flags: self.flags.clone() }
    }
}

impl fmt::Display for TraceParent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "00-{}-{}-{}", self.trace_id, self.parent_id, self.flags)
    }
}

/// A trace context as carried: the parent and the vendors' `tracestate` (passed on as is,
/// when it is printable ASCII of at most 512 characters).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TraceContext {
    pub parent: TraceParent,
    pub state: Option<String>,
}

impl TraceContext {
    /// From the values found (a header before an attribute); `None` without a valid parent.
    pub fn read(traceparent: Option<&str>, tracestate: Option<&str>) -> Option<Self> {
        let parent = TraceParent::parse(traceparent?)?;
        let state = tracestate
            .map(str::trim)
            .filter(|s| !s.is_empty() && s.len() <= 512 && s.bytes().all(|b| (b' '..=b'~').contains(&b)))
            .map(str::to_owned);
        Some(Self { parent, state })
    }

    /// The context for an event this one causes (see [`TraceParent::child`]).
    pub fn child(&self, event_id: &str) -> Self {
        Self { parent: self.parent.child(event_id), state: self.state.clone() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const W3C: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn reads_valid_and_refuses_invalid_parents() {
        let p = TraceParent::parse(W3C).expect("the W3C example");
        assert_eq!(p.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(p.to_string(), W3C);
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",
        ] {
            assert_eq!(TraceParent::parse(bad), None, "{bad:?}");
        }
        // A later version is read by its version-00 prefix.
        let later = format!("01-{}-future", &W3C[3..]);
        assert_eq!(TraceParent::parse(&later).map(|p| p.trace_id().to_owned()), Some(p.trace_id().to_owned()));
    }

    #[test]
    fn a_child_keeps_the_trace_and_takes_a_span_of_its_own() {
        let p = TraceParent::parse(W3C).expect("parent");
        let c = p.child("registry-organisation-x-v1");
        assert_eq!(c.trace_id(), p.trace_id());
        assert_ne!(c.to_string(), p.to_string());
        assert_eq!(TraceParent::parse(&c.to_string()), Some(c.clone()), "a valid traceparent");
        assert_eq!(p.child("registry-organisation-x-v1"), c, "deterministic per event");
        assert_ne!(p.child("other"), c);
    }

    #[test]
    fn tracestate_is_kept_when_printable() {
        let t = TraceContext::read(Some(W3C), Some("congo=t61rcWkgMzE")).expect("context");
        assert_eq!(t.state.as_deref(), Some("congo=t61rcWkgMzE"));
        assert_eq!(TraceContext::read(Some(W3C), Some("a=\u{7}")).and_then(|t| t.state), None);
        assert_eq!(TraceContext::read(Some("nope"), Some("a=b")), None);
    }
}
