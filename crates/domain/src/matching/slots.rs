//! Entries by id and by slot: postings name slots, and a collector turns a slot back into its
//! entry in O(1) (a map lookup per touched document was most of a fan-out's cost). Slots are
//! handed out in insertion order, in step with the postings, and renumbered in id order when
//! the index is rebuilt.
//!
//! Beside the entries, a dense column of each entry's [`Facts`]: the few values a collector
//! tests of every touched slot, so that it reads two arrays in slot order and an entry only
//! for what it keeps (an entry read whole was a cache miss per candidate).

use std::collections::BTreeMap;

/// What collectors test of an entry for every touched slot; `Default` for a freed slot.
pub(super) trait Facts {
    type Of: Copy + Default;
    fn facts(&self) -> Self::Of;
}

#[derive(Debug, Clone)]
pub(super) struct Slotted<K: Ord, V: Facts> {
    ids: BTreeMap<K, u32>,
    entries: Vec<Option<V>>,
    facts: Vec<V::Of>,
}

impl<K: Ord, V: Facts> Default for Slotted<K, V> {
    fn default() -> Self {
        Self { ids: BTreeMap::new(), entries: Vec::new(), facts: Vec::new() }
    }
}

impl<K: Ord + Clone, V: Facts> Slotted<K, V> {
    /// From entries in any order; slots follow id order.
    pub(super) fn from_entries(entries: impl IntoIterator<Item = (K, V)>) -> Self {
        let sorted: BTreeMap<K, V> = entries.into_iter().collect();
        let mut s = Self::default();
        for (k, v) in sorted {
            s.insert(k, v);
        }
        s
    }
    pub(super) fn get(&self, k: &K) -> Option<&V> {
        self.at(*self.ids.get(k)?)
    }
    pub(super) fn slot(&self, k: &K) -> Option<u32> {
        self.ids.get(k).copied()
    }
    pub(super) fn at(&self, slot: u32) -> Option<&V> {
        self.entries.get(slot as usize)?.as_ref()
    }
    pub(super) fn contains_key(&self, k: &K) -> bool {
        self.ids.contains_key(k)
    }
    pub(super) fn len(&self) -> usize {
        self.ids.len()
    }
    /// Adds `v` under the next slot (remove an old entry of `k` first).
    pub(super) fn insert(&mut self, k: K, v: V) -> u32 {
        let slot = u32::try_from(self.entries.len()).unwrap_or(u32::MAX);
        debug_assert!(!self.ids.contains_key(&k), "insert after remove");
        self.facts.push(v.facts());
        self.entries.push(Some(v));
        self.ids.insert(k, slot);
        slot
    }
    pub(super) fn remove(&mut self, k: &K) -> Option<V> {
        let slot = self.ids.remove(k)? as usize;
        if let Some(f) = self.facts.get_mut(slot) {
            *f = V::Of::default();
        }
        self.entries.get_mut(slot)?.take()
    }
    /// Changes the entry of `k` in place (its facts follow).
    pub(super) fn update(&mut self, k: &K, f: impl FnOnce(&mut V)) {
        let Some(&slot) = self.ids.get(k) else { return };
        if let Some(v) = self.entries.get_mut(slot as usize).and_then(Option::as_mut) {
            f(v);
            self.facts[slot as usize] = v.facts();
        }
    }
    /// Every slot's facts, freed slots at `Default`.
    pub(super) fn facts(&self) -> &[V::Of] {
        &self.facts
    }
    /// Entries in id order.
    pub(super) fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.ids.iter().filter_map(|(k, s)| Some((k, self.entries.get(*s as usize)?.as_ref()?)))
    }
    /// Entries in id order, with their slots.
    pub(super) fn iter_slots(&self) -> impl Iterator<Item = (u32, &K, &V)> {
        self.ids.iter().filter_map(|(k, s)| Some((*s, k, self.entries.get(*s as usize)?.as_ref()?)))
    }
    pub(super) fn values(&self) -> impl Iterator<Item = &V> {
        self.iter().map(|(_, v)| v)
    }
    /// Renumbers the slots in id order (dropping freed ones); `f` updates each entry in that order.
    pub(super) fn compact(&mut self, mut f: impl FnMut(&K, &mut V)) {
        let mut old = std::mem::take(&mut self.entries);
        self.facts.clear();
        for (k, slot) in self.ids.iter_mut() {
            if let Some(mut v) = old.get_mut(*slot as usize).and_then(Option::take) {
                f(k, &mut v);
                *slot = u32::try_from(self.entries.len()).unwrap_or(u32::MAX);
                self.facts.push(v.facts());
                self.entries.push(Some(v));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Facts for i32 {
        type Of = i32;
        fn facts(&self) -> i32 {
            self * 100
        }
    }

    #[test]
    fn slots_follow_insertion_then_id_order_after_compaction() {
        let mut s = Slotted::from_entries([("b", 2), ("a", 1)]);
        assert_eq!((s.slot(&"a"), s.slot(&"b")), (Some(0), Some(1)));
        assert_eq!(s.remove(&"a"), Some(1));
        assert_eq!(s.insert("a", 10), 2);
        assert_eq!(s.at(0), None);
        assert_eq!(s.get(&"a"), Some(&10));
        assert_eq!(s.facts(), &[0, 200, 1000], "a freed slot's facts are the default");
        s.update(&"a", |v| *v = 11);
        assert_eq!(s.facts()[2], 1100);
        let mut seen = Vec::new();
        s.compact(|k, v| seen.push((*k, *v)));
        assert_eq!(seen, vec![("a", 11), ("b", 2)]);
        assert_eq!(s.facts(), &[1100, 200], "facts follow the compacted slots");
        assert_eq!((s.slot(&"a"), s.slot(&"b"), s.len()), (Some(0), Some(1), 2));
    }
}
