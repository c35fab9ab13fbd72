//! The query service: request/reply on the bus with the NATS Service API, discoverable under
//! `$SRV` as [`SERVICE`] (`nats micro ls`, `$SRV.INFO.brygga-query`). It answers from the
//! store what the recommendation stream has announced: an organisation's active
//! recommendations, one recommendation with its explanation, the organisations a call is
//! recommended to, counts, and every active recommendation page by page (a consumer's re-sync). The contract (subjects, requests, replies, error codes) is
//! `brygga_events::query`.
//!
//! Stateless: every replica joins the same queue group, so NATS spreads requests over them;
//! it needs only NATS and the database (read-only use).

use async_nats::service::ServiceExt;
use brygga_events::query::{
    decode_query, CallMatchV1, CallMatchesReplyV1, Endpoint, Query, QueryError, RecommendationReplyV1,
    RecommendationsReplyV1, SnapshotReplyV1, StatsReplyV1,
};
use brygga_events::{subject, RecommendationV1};
use brygga_store::{recommendations, registry, Store, StoreError};
use futures_util::StreamExt;
use tokio_util::sync::CancellationToken;

/// The service's name in `$SRV` discovery.
pub const SERVICE: &str = "brygga-query";

/// How many requests one replica answers at once.
const IN_FLIGHT: usize = 64;

/// Why the service could not run.
#[derive(Debug, thiserror::Error)]
pub enum QueryServiceError {
    #[error("starting the query service on NATS: {0}")]
    Start(String),
}

/// Serves requests until `cancel`, then leaves the queue group.
pub async fn run(
    client: async_nats::Client,
    prefix: String,
    store: Store,
    cancel: CancellationToken,
) -> Result<(), QueryServiceError> {
    let start = |e: async_nats::Error| QueryServiceError::Start(e.to_string());
    let service = client
        .service_builder()
        .description("Brygga: recommendations, their explanations and call matches, from the store")
        .start(SERVICE, env!("CARGO_PKG_VERSION"))
        .await
        .map_err(start)?;
    let mut endpoints = Vec::new();
    for e in Endpoint::ALL {
        let endpoint =
            service.endpoint_builder().name(e.name()).add(subject::query(&prefix, e.name())).await.map_err(start)?;
        endpoints.push(endpoint.map(move |r| (e, r)).boxed());
    }
    tracing::info!(service = SERVICE, subjects = %subject::query(&prefix, "*"), "query service answering");
    futures_util::stream::select_all(endpoints)
        .take_until(cancel.cancelled())
        .for_each_concurrent(IN_FLIGHT, |(endpoint, request)| {
            let store = store.clone();
            async move {
                let reply = answer(&store, endpoint, &request.message.payload).await;
                let reply = reply.map(Into::into).map_err(|e| {
                    if e.code() >= 500 {
                        tracing::warn!(endpoint = endpoint.name(), error = %e, "query not answered");
                    }
                    async_nats::service::error::Error { status: e.to_string(), code: e.code() }
                });
                if let Err(e) = request.respond(reply).await {
                    tracing::warn!(endpoint = endpoint.name(), error = %e, "could not send a query reply");
                }
            }
        })
        .await;
    service.stop().await.ok();
    Ok(())
}

/// Decodes a request, reads the store, and encodes the reply.
pub async fn answer(store: &Store, endpoint: Endpoint, body: &[u8]) -> Result<Vec<u8>, QueryError> {
    let query = decode_query(endpoint, body)?;
    let db = store.db();
    let json = match query {
        Query::Recommendations { org, kind } => {
            if registry::organisation_version(db, &org).await.map_err(unavailable)?.is_none() {
                return Err(QueryError::NotFound(format!("no organisation {org}")));
            }
            let mut recs: Vec<RecommendationV1> = recommendations::active_for(db, &org)
                .await
                .map_err(unavailable)?
                .iter()
                .filter(|p| kind.is_none_or(|k| p.rec.target.kind() == k))
                .map(|p| RecommendationV1::current(p, true, Vec::new()))
                .collect();
            recs.sort_by(|a, b| {
                kind_order(&a.target.kind)
                    .cmp(&kind_order(&b.target.kind))
                    .then(a.rank.cmp(&b.rank))
                    .then_with(|| a.target.id.cmp(&b.target.id))
            });
            serde_json::to_vec(&RecommendationsReplyV1 { organisation_id: org.to_string(), recommendations: recs })
        }
        Query::Recommendation { id } => match recommendations::one(db, &id).await.map_err(unavailable)? {
            Some((p, active)) => serde_json::to_vec(&RecommendationReplyV1 {
                active,
                recommendation: RecommendationV1::current(&p, active, Vec::new()),
            }),
            None => return Err(QueryError::NotFound(format!("no recommendation {id}"))),
        },
        Query::CallMatches { call, limit } => {
            let mut rows = recommendations::of_target(db, "call", call.as_str(), u64::from(limit) + 1)
                .await
                .map_err(unavailable)?;
            let truncated = rows.len() > limit as usize;
            rows.truncate(limit as usize);
            let organisations = rows
                .into_iter()
                .map(|r| CallMatchV1 {
                    organisation_id: r.org,
                    recommendation_id: r.id,
                    revision: r.revision,
                    score: r.score,
                    rank: r.rank,
                })
                .collect();
            serde_json::to_vec(&CallMatchesReplyV1 { call_id: call.to_string(), organisations, truncated })
        }
        Query::Snapshot { after, limit } => {
            let page =
                recommendations::active_page(db, after.as_ref(), u64::from(limit) + 1).await.map_err(unavailable)?;
            let more = page.len() > limit as usize;
            let recommendations: Vec<RecommendationV1> =
                page.iter().take(limit as usize).map(|p| RecommendationV1::current(p, true, Vec::new())).collect();
            let next = if more { recommendations.last().map(|r| r.recommendation_id.clone()) } else { None };
            serde_json::to_vec(&SnapshotReplyV1 { recommendations, next })
        }
        Query::Stats => {
            let (organisations, calls) = registry::counts(db).await.map_err(unavailable)?;
            let active_recommendations = recommendations::active_counts(db).await.map_err(unavailable)?;
            let outbox_backlog = brygga_store::outbox::backlog(db).await.map_err(unavailable)?;
            serde_json::to_vec(&StatsReplyV1 {
                organisations,
                calls,
                active_recommendations: active_recommendations.into_iter().collect(),
                outbox_backlog,
            })
        }
    };
    json.map_err(|_| QueryError::Internal)
}

/// Targets in the order the catalogue presents them: missions, areas, calls, partners.
fn kind_order(kind: &str) -> usize {
    brygga_domain::Target::KINDS.iter().position(|k| *k == kind).unwrap_or(usize::MAX)
}

/// A store failure as the requester sees it: retry later, or our fault (logged, not shown).
fn unavailable(e: StoreError) -> QueryError {
    if e.is_retryable() {
        QueryError::Unavailable
    } else {
        tracing::error!(error = %e, "query failed on stored data");
        QueryError::Internal
    }
}
