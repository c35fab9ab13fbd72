//! Following a stream without a durable consumer: an ordered consumer from a sequence, which
//! the client recreates by itself after a gap or a server restart. For state that every
//! replica keeps whole (the matcher's index), beside durable consumers that share the work.

use crate::{Bus, BusError, Delivery};
use async_nats::jetstream::consumer::{pull, DeliverPolicy};
use brygga_events::subject::Stream;
use futures_util::{Stream as FutStream, StreamExt};

impl Bus {
    /// The sequence of the last message now in `stream` (0 when it is empty).
    pub async fn last_sequence(&self, stream: Stream) -> Result<u64, BusError> {
        let name = stream.name(&self.prefix);
        let err = |m: String| BusError::Follow { stream: name.clone(), message: m };
        let mut s = self.js.get_stream(&name).await.map_err(|e| err(e.to_string()))?;
        Ok(s.info().await.map_err(|e| err(e.to_string()))?.state.last_sequence)
    }

    /// Every message of `stream` from sequence `from` on, in order, for as long as the
    /// returned stream is polled. Items are errors only when the client gave up recreating
    /// the consumer; the caller follows again from the sequence after the last it saw.
    pub async fn follow(
        &self,
        stream: Stream,
        from: u64,
    ) -> Result<impl FutStream<Item = Result<Delivery, BusError>> + Send + use<>, BusError> {
        let name = stream.name(&self.prefix);
        let err = |m: String| BusError::Follow { stream: name.clone(), message: m };
        let s = self.js.get_stream(&name).await.map_err(|e| err(e.to_string()))?;
        let cfg = pull::OrderedConfig {
            deliver_policy: DeliverPolicy::ByStartSequence { start_sequence: from.max(1) },
            ..Default::default()
        };
        let consumer = s.create_consumer(cfg).await.map_err(|e| err(e.to_string()))?;
        let messages = consumer.messages().await.map_err(|e| err(e.to_string()))?;
        Ok(messages.map(move |m| {
            m.map(|m| Delivery::of(&m)).map_err(|e| BusError::Follow { stream: name.clone(), message: e.to_string() })
        }))
    }
}
