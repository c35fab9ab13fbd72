//! sea-orm entities: private to the store; callers see domain types.

pub mod call;
pub mod organisation;
pub mod outbox;
pub mod recommendation;
