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

    /// Every message of `stream` from sequence `from` on, in order, each once, for as long as
    /// the returned stream is polled. Items are errors when the client gave up recreating the
    /// consumer, or when it went back in the stream; the caller follows again from the
    /// sequence after the last it saw.
    ///
    /// Going back is the client's doing: async-nats recreates an ordered consumer that has not
    /// yet delivered a message from the stream's *first* sequence (`DeliverPolicy::All`), not
    /// from the one it was opened at, as after a server restart or a cluster node loss while
    /// the stream is quiet. The matcher's index re-applied old registrations that way and
    /// brought removed organisations back. Following again opens a fresh consumer at the right
    /// sequence instead of reading the whole stream once more.
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
        let mut expected = from.max(1);
        let items = messages.map(move |m| {
            let failed = |message: String| BusError::Follow { stream: name.clone(), message };
            let d = m.map(|m| Delivery::of(&m)).map_err(|e| failed(e.to_string()))?;
            in_order(&mut expected, d).map_err(failed)
        });
        Ok(items)
    }
}

/// Passes `d` if it is at or after the sequence `expected` (moved past it), else says where
/// the client went back to.
fn in_order(expected: &mut u64, d: Delivery) -> Result<Delivery, String> {
    if d.stream_sequence < *expected {
        return Err(format!(
            "the client went back to sequence {} while the next expected was {expected}",
            d.stream_sequence
        ));
    }
    *expected = d.stream_sequence + 1;
    Ok(d)
}
