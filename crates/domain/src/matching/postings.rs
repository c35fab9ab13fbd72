//! Inverted indexes over vectors: for each term, the slots whose vector has it, with the
//! weight. A query is scored term-at-a-time into a dense array of slot scores, which is the
//! fast way for long queries (a call's vector has some 100-300 terms; block-max pruning loses
//! there, see the crate docs). Cost: the postings of the query's terms, never all slots.
//!
//! Slots are not reused: a changed document takes a new slot and the old one is dropped by
//! the index (its postings stay until the next rebuild; collectors skip slots without an entry).

use super::terms::SparseVec;

#[derive(Debug, Default, Clone)]
pub(super) struct Postings {
    lists: Vec<Vec<(u32, f32)>>,
    slots: u32,
    postings: usize,
}

impl Postings {
    /// Adds `v` under a new slot and returns it.
    pub(super) fn push(&mut self, v: &SparseVec) -> u32 {
        let slot = self.slots;
        self.slots += 1;
        for &(t, w) in v.entries() {
            let t = t as usize;
            if self.lists.len() <= t {
                self.lists.resize_with(t + 1, Vec::new);
            }
            self.lists[t].push((slot, w));
        }
        self.postings += v.entries().len();
        slot
    }

    /// Cosine of `query` with every slot, accumulated term at a time (dropped slots included:
    /// the collector skips them). Touches only the postings of the query's terms.
    pub(super) fn scores(&self, query: &SparseVec) -> Vec<f32> {
        let mut acc = vec![0.0f32; self.slots as usize];
        for &(t, qw) in query.entries() {
            if let Some(list) = self.lists.get(t as usize) {
                for &(slot, w) in list {
                    acc[slot as usize] += qw * w;
                }
            }
        }
        acc
    }

    /// Postings held (the cost model's unit).
    pub(super) fn len(&self) -> usize {
        self.postings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn term_at_a_time_scores_equal_cosines() {
        let docs = [
            SparseVec::unit(vec![(0, 1.0), (2, 1.0)]),
            SparseVec::unit(vec![(1, 1.0)]),
            SparseVec::unit(vec![(2, 3.0), (1, 1.0)]),
        ];
        let mut p = Postings::default();
        let slots: Vec<u32> = docs.iter().map(|d| p.push(d)).collect();
        let q = SparseVec::unit(vec![(2, 1.0), (1, 2.0)]);
        let s = p.scores(&q);
        for (d, slot) in docs.iter().zip(slots) {
            assert!((s[slot as usize] - q.cos(d)).abs() < 1e-6);
        }
        assert_eq!(p.len(), 5);
    }
}
