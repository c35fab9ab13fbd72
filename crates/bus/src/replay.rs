//! Reading a stream back from its start, with an ephemeral consumer: for the demo, the
//! tests and operators who want to see what was published.

use crate::{Bus, BusError};
use async_nats::jetstream::consumer::{pull, AckPolicy, DeliverPolicy};
use brygga_events::subject::Stream;
use brygga_events::CloudEvent;
use futures_util::{StreamExt, TryStreamExt};
use serde::de::DeserializeOwned;
use std::time::Duration;

/// How long a replay may go without receiving a message before it gives up.
const IDLE_LIMIT: Duration = Duration::from_secs(30);

impl Bus {
    /// Every event stored in `stream` (optionally only on subjects matching `filter`) when the
    /// replay starts, in order.
    ///
    /// How many that is comes from the stream leader, and the replay reads until it has that
    /// many: on a cluster, the ephemeral consumer may sit on a replica that is still catching
    /// up (a node that just came back), whose own count of pending messages says 0 before the
    /// replica holds the stream's tail. A replay that receives nothing for 30 s while it still
    /// misses messages fails with [`BusError::Replay`] rather than return a short list.
    pub async fn replay<T: DeserializeOwned>(
        &self,
        stream: Stream,
        filter: Option<&str>,
    ) -> Result<Vec<CloudEvent<T>>, BusError> {
        let name = stream.name(&self.prefix);
        let err = |m: String| BusError::Replay { stream: name.clone(), message: m };
        let s = self.js.get_stream(&name).await.map_err(|e| err(e.to_string()))?;
        let stored = match filter {
            None => s.get_info().await.map_err(|e| err(e.to_string()))?.state.messages,
            Some(f) => {
                let counts = s.info_with_subjects(f).await.map_err(|e| err(e.to_string()))?;
                let counts: Vec<(String, usize)> = counts.try_collect().await.map_err(|e| err(e.to_string()))?;
                counts.iter().map(|(_, n)| *n as u64).sum()
            }
        };
        let stored = usize::try_from(stored).unwrap_or(usize::MAX);
        if stored == 0 {
            return Ok(Vec::new());
        }
        let cfg = pull::Config {
            deliver_policy: DeliverPolicy::All,
            ack_policy: AckPolicy::None,
            filter_subject: filter.unwrap_or_default().to_owned(),
            ..Default::default()
        };
        let consumer = s.create_consumer(cfg).await.map_err(|e| err(e.to_string()))?;
        // One fetch may end (its 1 s expiry) before everything is delivered, as on a cluster
        // whose stream leader just moved: fetch again until all of them are here.
        let mut out = Vec::with_capacity(stored);
        let mut last_progress = std::time::Instant::now();
        while out.len() < stored {
            let mut batch = consumer
                .fetch()
                .max_messages(stored - out.len())
                .expires(Duration::from_secs(1))
                .messages()
                .await
                .map_err(|e| err(e.to_string()))?;
            let before = out.len();
            while let Some(m) = batch.next().await {
                let m = m.map_err(|e| err(e.to_string()))?;
                out.push(
                    serde_json::from_slice(&m.payload).map_err(|e| err(format!("an event is not readable: {e}")))?,
                );
            }
            if out.len() > before {
                last_progress = std::time::Instant::now();
            } else if last_progress.elapsed() >= IDLE_LIMIT {
                return Err(err(format!(
                    "read {} of the {stored} events stored, then nothing for {} s",
                    out.len(),
                    IDLE_LIMIT.as_secs()
                )));
            }
        }
        Ok(out)
    }
}
