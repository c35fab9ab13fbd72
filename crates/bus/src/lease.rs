//! Sharing a fixed set of partitions among the live replicas of a service, with leases in a
//! NATS key-value bucket (no coordinator of our own).
//!
//! Every replica writes `m.<replica>` (its heartbeat) and holds `p.<n>` for each partition it
//! owns; every key in the bucket expires `ttl` after its last write (the bucket's `max_age`),
//! so a replica that dies loses its partitions within `ttl` without anyone acting. Each round
//! (every `ttl / 3`) a replica renews what it holds with a compare-and-set on the revision it
//! last wrote, releases partitions above its fair share (`ceil(partitions / live replicas)`)
//! so that a newcomer can take them, and creates free ones up to its share. A holder that could
//! not renew for `ttl / 2` gives its partition up before any other replica can take it, so two
//! replicas never both believe they own one (the store's revision check covers the rest: see
//! `recommendations::apply`).
//!
//! Pure rules: [`fair_share`], [`plan`]. I/O: [`Leases`].

use crate::{Bus, BusError};
use async_nats::jetstream::kv;
use bytes::Bytes;
use futures_util::TryStreamExt;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};
use tracing::{debug, info, warn};

/// How many partitions each of `replicas` live replicas should hold at most.
pub fn fair_share(partitions: u16, replicas: usize) -> usize {
    usize::from(partitions).div_ceil(replicas.max(1))
}

/// One round's decision: partitions to give up and free ones to try, in the order to try them.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub release: Vec<u16>,
    pub acquire: Vec<u16>,
}

/// What a replica should do this round, holding `held`, seeing `taken` held by others and
/// `replicas` live replicas. Free partitions are tried starting from an offset derived from the
/// replica's name, so that replicas starting together try different ones first.
pub fn plan(partitions: u16, replicas: usize, me: &str, held: &BTreeSet<u16>, taken: &BTreeSet<u16>) -> Plan {
    let share = fair_share(partitions, replicas);
    if held.len() > share {
        return Plan { release: held.iter().rev().take(held.len() - share).copied().collect(), acquire: Vec::new() };
    }
    let start = u16::try_from(fnv1a(me.as_bytes()) % u32::from(partitions.max(1))).unwrap_or(0);
    let acquire = (0..partitions)
        .map(|i| (start + i) % partitions)
        .filter(|p| !held.contains(p) && !taken.contains(p))
        .take(share - held.len())
        .collect();
    Plan { release: Vec::new(), acquire }
}

/// FNV-1a, 32 bits: a hash that is the same in every process and release (unlike std's).
pub fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5_u32, |h, b| (h ^ u32::from(*b)).wrapping_mul(0x0100_0193))
}

/// A lease this replica holds: the revision it last wrote and when.
#[derive(Debug, Clone, Copy)]
struct Held {
    revision: u64,
    renewed: Instant,
}

/// This replica's view of one group's leases.
#[derive(Debug)]
pub struct Leases {
    kv: kv::Store,
    me: String,
    partitions: u16,
    ttl: Duration,
    held: BTreeMap<u16, Held>,
    member_revision: Option<u64>,
    rounds: u64,
}

impl Leases {
    /// Opens (or creates) the bucket `<prefix>_<group>` for `partitions` partitions, as `me`.
    pub async fn open(bus: &Bus, group: &str, partitions: u16, me: &str, ttl: Duration) -> Result<Self, BusError> {
        let bucket = format!("{}_{group}", bus.prefix);
        let cfg = kv::Config {
            bucket: bucket.clone(),
            description: format!("partition leases of {group}: m.<replica> heartbeats, p.<n> owners"),
            history: 1,
            max_age: ttl,
            num_replicas: bus.streams.replicas,
            ..Default::default()
        };
        let kv = bus
            .js
            .create_or_update_key_value(cfg)
            .await
            .map_err(|e| BusError::Lease { bucket, message: e.to_string() })?;
        Ok(Self { kv, me: key_safe(me), partitions, ttl, held: BTreeMap::new(), member_revision: None, rounds: 0 })
    }

    /// The replica name as written in the bucket.
    pub fn me(&self) -> &str {
        &self.me
    }

    /// The partitions held now.
    pub fn held(&self) -> BTreeSet<u16> {
        self.held.keys().copied().collect()
    }

    /// How often [`Leases::round`] should run.
    pub fn interval(&self) -> Duration {
        self.ttl / 3
    }

    fn err(&self, e: impl std::fmt::Display) -> BusError {
        BusError::Lease { bucket: self.kv.name.clone(), message: e.to_string() }
    }

    /// One round: heartbeat, renew what is held, create free partitions up to the fair share.
    /// Returns the partitions to give up (above the share): stop working on them, then call
    /// [`Leases::release`]. [`Leases::held`] is what is held afterwards: a partition lost to
    /// another replica, or not renewed for `ttl / 2` (the bucket failing), is no longer in it,
    /// and its work must stop at once. A failing bucket is reported after that.
    pub async fn round(&mut self) -> Result<Vec<u16>, BusError> {
        let result = self.round_inner().await;
        let limit = self.ttl / 2;
        let now = Instant::now();
        self.held.retain(|p, h| {
            let fresh = now.duration_since(h.renewed) < limit;
            if !fresh {
                warn!(partition = p, "lease not renewed in time; giving the partition up");
            }
            fresh
        });
        result
    }

    async fn round_inner(&mut self) -> Result<Vec<u16>, BusError> {
        let me = Bytes::from(self.me.clone());
        let member = format!("m.{}", self.me);
        self.member_revision = Some(self.kv.put(&member, me.clone()).await.map_err(|e| self.err(e))?);
        for (p, h) in self.held.clone() {
            match self.kv.update(format!("p.{p}"), me.clone(), h.revision).await {
                Ok(revision) => {
                    self.held.insert(p, Held { revision, renewed: Instant::now() });
                }
                Err(e) if e.kind() == kv::UpdateErrorKind::WrongLastRevision => {
                    // Still ours if the key says so: an earlier renewal was stored but its
                    // acknowledgement was lost (a server restart), so the revision moved on.
                    let entry = self.kv.entry(format!("p.{p}")).await.map_err(|e| self.err(e))?;
                    match entry.filter(|e| e.operation == kv::Operation::Put && e.value == me) {
                        Some(e) => {
                            self.held.insert(p, Held { revision: e.revision, renewed: Instant::now() });
                        }
                        None => {
                            warn!(partition = p, "lease taken over by another replica");
                            self.held.remove(&p);
                        }
                    }
                }
                Err(e) => return Err(self.err(e)),
            }
        }
        let keys: Vec<String> =
            self.kv.keys().await.map_err(|e| self.err(e))?.try_collect().await.map_err(|e| self.err(e))?;
        let replicas = keys.iter().filter(|k| k.starts_with("m.")).count().max(1);
        let taken: BTreeSet<u16> = keys
            .iter()
            .filter_map(|k| k.strip_prefix("p.")?.parse().ok())
            .filter(|p| !self.held.contains_key(p))
            .collect();
        self.rounds += 1;
        // With several partitions, the first round only announces this replica: replicas that
        // start together then see each other before they take shares, instead of one taking
        // everything and handing half back a round later.
        if self.rounds == 1 && self.partitions > 1 {
            return Ok(Vec::new());
        }
        let plan = plan(self.partitions, replicas, &self.me, &self.held(), &taken);
        for p in plan.acquire {
            match self.kv.create(format!("p.{p}"), me.clone()).await {
                Ok(revision) => {
                    info!(partition = p, replica = %self.me, "partition lease acquired");
                    self.held.insert(p, Held { revision, renewed: Instant::now() });
                }
                Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => {
                    debug!(partition = p, "partition taken meanwhile");
                }
                Err(e) => return Err(self.err(e)),
            }
        }
        Ok(plan.release)
    }

    /// Gives up `p` (after the work on it has stopped), so that another replica can take it now.
    pub async fn release(&mut self, p: u16) -> Result<(), BusError> {
        if let Some(h) = self.held.remove(&p) {
            self.kv.delete_expect_revision(format!("p.{p}"), Some(h.revision)).await.map_err(|e| self.err(e))?;
            info!(partition = p, replica = %self.me, "partition lease released");
        }
        Ok(())
    }

    /// Gives up everything and leaves (on shutdown): the others take over at once.
    pub async fn leave(&mut self) -> Result<(), BusError> {
        for p in self.held() {
            self.release(p).await?;
        }
        if let Some(rev) = self.member_revision.take() {
            self.kv.delete_expect_revision(format!("m.{}", self.me), Some(rev)).await.map_err(|e| self.err(e))?;
        }
        Ok(())
    }
}

/// A replica name as a key token: `[-_=a-zA-Z0-9]`, anything else as `_`.
fn key_safe(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '=') { c } else { '_' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(v: &[u16]) -> BTreeSet<u16> {
        v.iter().copied().collect()
    }

    #[test]
    fn the_fair_share_rounds_up_so_every_partition_has_an_owner() {
        assert_eq!(fair_share(4, 1), 4);
        assert_eq!(fair_share(4, 2), 2);
        assert_eq!(fair_share(4, 3), 2);
        assert_eq!(fair_share(1, 2), 1);
        assert_eq!(fair_share(4, 0), 4, "no replica seen yet counts as one");
    }

    #[test]
    fn a_replica_above_its_share_releases_the_excess() {
        let p = plan(4, 2, "a", &set(&[0, 1, 2, 3]), &set(&[]));
        assert_eq!(p.release.len(), 2);
        assert!(p.acquire.is_empty());
    }

    #[test]
    fn a_replica_below_its_share_tries_only_free_partitions() {
        let p = plan(4, 2, "b", &set(&[]), &set(&[0, 1]));
        assert_eq!(set(&p.acquire), set(&[2, 3]));
        let p = plan(4, 2, "b", &set(&[2]), &set(&[0, 1]));
        assert_eq!(p.acquire, vec![3]);
        assert_eq!(plan(4, 2, "b", &set(&[2, 3]), &set(&[0, 1])), Plan::default(), "at its share: nothing to do");
    }

    #[test]
    fn a_survivor_takes_every_partition_of_a_dead_replica() {
        let p = plan(4, 1, "a", &set(&[0, 1]), &set(&[]));
        assert_eq!(set(&p.acquire), set(&[2, 3]));
    }

    #[test]
    fn fnv1a_is_the_published_function() {
        assert_eq!(fnv1a(b""), 0x811c_9dc5);
        assert_eq!(fnv1a(b"a"), 0xe40c_292c);
        assert_eq!(fnv1a(b"foobar"), 0xbf9c_f968);
    }
}
