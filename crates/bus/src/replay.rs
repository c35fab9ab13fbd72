//! Reading a stream back from its start, with an ephemeral consumer: for the demo, the
//! tests and operators who want to see what was published.

use crate::{Bus, BusError};
use async_nats::jetstream::consumer::{pull, AckPolicy, DeliverPolicy};
use brygga_events::subject::Stream;
use brygga_events::CloudEvent;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use std::time::Duration;

impl Bus {
    /// Every event now stored in `stream` (optionally only on subjects matching `filter`), in order.
    pub async fn replay<T: DeserializeOwned>(
        &self,
        stream: Stream,
        filter: Option<&str>,
    ) -> Result<Vec<CloudEvent<T>>, BusError> {
        let name = stream.name(&self.prefix);
        let err = |m: String| BusError::Replay { stream: name.clone(), message: m };
        let mut s = self.js.get_stream(&name).await.map_err(|e| err(e.to_string()))?;
        let stored = s.info().await.map_err(|e| err(e.to_string()))?.state.messages;
        if stored == 0 {
            return Ok(Vec::new());
        }
        let cfg = pull::Config {
            deliver_policy: DeliverPolicy::All,
            ack_policy: AckPolicy::None,
            filter_subject: filter.unwrap_or_default().to_owned(),
            ..Default::default()
        };
        let mut consumer = s.create_consumer(cfg).await.map_err(|e| err(e.to_string()))?;
        // One fetch may end (its 1 s expiry) before everything is delivered, as on a cluster
        // whose stream leader just moved: fetch again until the consumer has nothing pending.
        let mut out = Vec::new();
        loop {
            let max = usize::try_from(stored).unwrap_or(usize::MAX).saturating_sub(out.len()).max(1);
            let mut batch = consumer
                .fetch()
                .max_messages(max)
                .expires(Duration::from_secs(1))
                .messages()
                .await
                .map_err(|e| err(e.to_string()))?;
            while let Some(m) = batch.next().await {
                let m = m.map_err(|e| err(e.to_string()))?;
                out.push(
                    serde_json::from_slice(&m.payload).map_err(|e| err(format!("an event is not readable: {e}")))?,
                );
            }
            let pending = consumer.info().await.map_err(|e| err(e.to_string()))?.num_pending;
            if pending == 0 {
                return Ok(out);
            }
        }
    }
}
