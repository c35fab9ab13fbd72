//! sea-orm entities: private to the store; callers see domain types.

pub mod call;
pub mod feedback;
pub mod notification;
pub mod organisation;
pub mod outbox;
pub mod preferences;
pub mod recommendation;
