//! The inbound decoder on arbitrary bytes: it must return an event or a rejection, never panic,
//! and a rejection of a payload that is valid JSON must say which part was wrong.
#![no_main]

use brygga_events::{decode, Rejection};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match decode(data, 256 * 1024) {
        Ok(d) => assert!(!d.event_id.trim().is_empty(), "an accepted event has an id"),
        Err(Rejection::InvalidPayload(reasons)) => assert!(!reasons.is_empty(), "a rejection gives its reasons"),
        Err(r) => assert!(!r.to_string().is_empty()),
    }
});
