//! Brygga's domain: organisations, calls, EU Missions and smart-specialisation areas;
//! validation of what the outside world sends; three-valued eligibility; relevance
//! scoring; explained, deterministic recommendations and their reconciliation.
//!
//! Main types: [`Organisation`], [`Call`], [`Catalogue`], [`Index`] (the matcher),
//! [`Recommendation`], [`reconcile`].
//!
//! This crate is pure: no I/O, no async, no tokio, sea-orm or async-nats. Time comes from
//! a [`Clock`] the caller injects.

pub mod association;
mod clock;
mod country;
pub mod crosslingual;
mod eligibility;
pub mod feedback;
mod ids;
mod industry;
mod matching;
mod model;
pub mod notify;
mod org_number;
mod recommendation;
pub mod text;

pub use clock::{Clock, FixedClock, ManualClock, SystemClock};
pub use country::{Country, CountryError};
pub use eligibility::{allows, assess, eligible, Criterion, EligibilityLine, Tri};
pub use ids::{CallId, IdError, OrgId};
pub use industry::{nace_classes, nace_codes, sni_codes, IndustryError, NaceCode, NaceEntry};
pub use matching::{enters_top_k, EntryBar, Index, RankerConfig, TARGET_KINDS};
pub use model::{
    Budget, Call, CallStatus, Catalogue, Consent, Language, Mission, MissionId, OrgKind, OrgSize, Organisation,
    Participation, Programme, S3Area,
};
pub use org_number::{OrgNumber, OrgNumberError};
pub use recommendation::{
    recommendation_event_id, recommendation_id, reconcile, Change, ChangeKind, Explanation, Published, Recommendation,
    Target, RANKER_VERSION,
};
