//! How organisations are split among matcher replicas: by a hash of the id into a fixed number
//! of partitions. Every partition's durable consumer reads every registry event (a call or a
//! partner can change anyone's list) and re-ranks only the organisations of its partition; the
//! index itself is kept whole by every replica (`feed.rs`).

use brygga_bus::lease::fnv1a;
use brygga_domain::OrgId;

/// The partition `org` belongs to, out of `partitions` (FNV-1a of the id: the same in every
/// process and release).
pub fn partition_of(org: &OrgId, partitions: u16) -> u16 {
    if partitions <= 1 {
        return 0; // asked for every candidate of every change: no hash when there is one
    }
    u16::try_from(fnv1a(org.as_str().as_bytes()) % u32::from(partitions.max(1))).unwrap_or(0)
}

/// The durable consumer of partition `p`: [`crate::DURABLE`] alone when there is one partition
/// (as before partitions existed), else with the partition and the count, so that a new count
/// starts fresh consumers instead of reusing positions that meant other organisations.
pub fn durable(p: u16, partitions: u16) -> String {
    if partitions <= 1 {
        crate::DURABLE.to_owned()
    } else {
        format!("{}-{p}-of-{partitions}", crate::DURABLE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn organisations_spread_over_the_partitions_and_stay_where_they_are() {
        let ids: Vec<OrgId> = (0..4_000).map(|i| OrgId::parse(format!("se-{i:06}")).expect("id")).collect();
        let mut counts = [0_usize; 4];
        for id in &ids {
            counts[usize::from(partition_of(id, 4))] += 1;
            assert_eq!(partition_of(id, 4), partition_of(id, 4));
            assert_eq!(partition_of(id, 1), 0);
        }
        assert!(counts.iter().all(|c| (800..1_200).contains(c)), "roughly even: {counts:?}");
    }

    #[test]
    fn one_partition_keeps_the_old_consumer_name() {
        assert_eq!(durable(0, 1), "matcher");
        assert_eq!(durable(1, 4), "matcher-1-of-4");
    }
}
