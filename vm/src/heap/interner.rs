//! The table of interned strings: each string's hash and key, found by
//! hash and text. It grows and shrinks without a stop (`table.rs`).

use super::table::{ResizingTable, Slot};
use crate::arena::{make_key, split};
use crate::value::StrKey;

/// A string's slot: the low half of its hash, then its key's index and
/// version (its FFI form). A key's version is odd, never zero.
type StrSlot = Slot<3>;

fn entry(hash: u32, key: StrKey) -> StrSlot {
    let (index, version) = split(key);
    [hash, index as u32, version]
}

/// The key in a slot that holds one.
#[inline]
fn key_of(slot: StrSlot) -> StrKey {
    make_key(slot[1] as usize, slot[2])
}

#[derive(Default)]
pub(crate) struct Interner {
    table: ResizingTable<3>,
}

impl Interner {
    /// Strings held.
    pub(crate) fn len(&self) -> usize {
        self.table.len()
    }

    /// Bytes the table takes (both tables while it resizes).
    pub(crate) fn bytes(&self) -> usize {
        self.table.bytes()
    }

    /// The string with `hash` that `eq` accepts.
    #[inline(always)]
    pub(crate) fn find(&self, hash: u64, mut eq: impl FnMut(StrKey) -> bool) -> Option<StrKey> {
        let found = self.table.find(hash as u32, |slot| eq(key_of(slot)))?;
        Some(key_of(found))
    }

    /// Adds a string that is not in the table.
    pub(crate) fn insert(&mut self, hash: u64, key: StrKey) {
        self.table.insert(entry(hash as u32, key));
    }

    /// Removes `key` (whose string hashes to `hash`), if the table holds it.
    pub(crate) fn remove(&mut self, hash: u64, key: StrKey) {
        self.table.remove(hash as u32, |slot| key_of(slot) == key);
    }

    /// Checks that the table holds exactly `keys` (with their hashes): the
    /// first disagreement, if any.
    pub(crate) fn check(&self, keys: impl Iterator<Item = (StrKey, u64)>) -> Result<(), String> {
        let mut count = 0;
        for (key, hash) in keys {
            count += 1;
            if self.find(hash, |k| k == key).is_none() {
                return Err(format!("the interner does not hold {key:?}"));
            }
        }
        if count != self.len() {
            return Err(format!(
                "the interner holds {} strings, the heap {count}",
                self.len()
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heap::table::GIVE_BACK_SLOTS;
    use slotmap::{Key, SlotMap};

    /// Hashes shared by three keys each, so that probes step over
    /// entries with the same hash.
    fn hash_of(i: usize) -> u64 {
        (i as u64 / 3).wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }

    #[test]
    fn entries_are_found_through_growth_removal_and_shrinking() {
        let mut keys: SlotMap<StrKey, ()> = SlotMap::with_key();
        let mut interner = Interner::default();
        let all: Vec<(StrKey, u64)> = (0..20_000).map(|i| (keys.insert(()), hash_of(i))).collect();
        for (n, &(k, h)) in all.iter().enumerate() {
            interner.insert(h, k);
            // Mid-resize, every entry so far is still found.
            if n % 997 == 0 {
                interner.check(all[..=n].iter().copied()).unwrap();
            }
        }
        interner.check(all.iter().copied()).unwrap();
        // Remove nine in ten: the table shrinks as insertions go on.
        for &(k, h) in all.iter().filter(|(k, _)| k.data().as_ffi() % 10 != 0) {
            interner.remove(h, k);
        }
        let kept: Vec<(StrKey, u64)> = all
            .iter()
            .copied()
            .filter(|(k, _)| k.data().as_ffi() % 10 == 0)
            .collect();
        interner.check(kept.iter().copied()).unwrap();
        let big = interner.bytes();
        let more: Vec<(StrKey, u64)> = (0..10_000).map(|i| (keys.insert(()), hash_of(i))).collect();
        for &(k, h) in &more {
            interner.insert(h, k);
        }
        interner.check(kept.iter().chain(&more).copied()).unwrap();
        assert!(
            interner.bytes() < big,
            "the table shrank after most entries went"
        );
    }

    /// Strings that come and go at a steady count, as a script's
    /// temporary strings do: the tombstones they leave, and the rebuilds
    /// that clear them, never lose an entry or keep a removed one.
    #[test]
    fn entries_are_found_through_steady_churn() {
        let mut keys: SlotMap<StrKey, ()> = SlotMap::with_key();
        let mut interner = Interner::default();
        let mut live = std::collections::VecDeque::new();
        let mut gone = Vec::new();
        for i in 0..60_000usize {
            let k = keys.insert(());
            // Hashes shared by three keys, 300 of them: long probe
            // chains, with tombstones in them.
            let h = hash_of(i % 900);
            interner.insert(h, k);
            live.push_back((k, h));
            // Remove an old entry, or (every third step) a middle one.
            if live.len() > 500 {
                let at = if i % 3 == 0 { live.len() / 2 } else { 0 };
                let (k, h) = live.remove(at).expect("present");
                interner.remove(h, k);
                gone.push((k, h));
            }
            if i % 1_009 == 0 {
                interner.check(live.iter().copied()).unwrap();
                for &(k, h) in gone.iter().rev().take(50) {
                    assert_eq!(interner.find(h, |found| found == k), None);
                }
            }
        }
        interner.check(live.iter().copied()).unwrap();
    }

    #[test]
    fn a_chain_that_wraps_out_of_the_end_given_back_is_still_found() {
        let mut keys: SlotMap<StrKey, ()> = SlotMap::with_key();
        let mut interner = Interner::default();
        let mut all: Vec<(StrKey, u64)> = (0..60_000)
            .map(|i| {
                (
                    keys.insert(()),
                    (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
                )
            })
            .collect();
        for &(k, h) in &all {
            interner.insert(h, k);
        }
        // Twenty strings whose probes start four slots before the table's
        // end: their chain wraps round to its start.
        let slots = interner.table.current.slot_count as u64;
        let chain: Vec<(StrKey, u64)> = (0..20).map(|_| (keys.insert(()), slots - 4)).collect();
        for &(k, h) in &chain {
            interner.insert(h, k);
        }
        all.extend(&chain);
        // A resize that has moved the table's end and given it back, but
        // not yet the chain's head.
        interner.table.start_resize();
        assert_eq!(interner.table.old.slot_count as u64, slots);
        assert!(interner.table.old.slot_count > GIVE_BACK_SLOTS);
        while interner.table.old.slots.len() == interner.table.old.slot_count {
            interner.table.move_some();
        }
        assert!(interner.table.cursor > 100);
        interner.check(all.iter().copied()).unwrap();
        // Removing the chain's entries finds them in the old table too.
        for &(k, h) in &chain[10..] {
            interner.remove(h, k);
        }
        interner
            .check(all[..all.len() - 10].iter().copied())
            .unwrap();
    }

    #[test]
    fn no_insertion_moves_more_than_a_few_slots() {
        let mut keys: SlotMap<StrKey, ()> = SlotMap::with_key();
        let mut interner = Interner::default();
        for i in 0..200_000 {
            interner.insert(
                (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
                keys.insert(()),
            );
            assert!(
                interner.table.step <= 4,
                "step {} at {i}",
                interner.table.step
            );
        }
    }

    #[test]
    fn shrinking_moves_a_bounded_number_of_slots_per_insertion() {
        let mut keys: SlotMap<StrKey, ()> = SlotMap::with_key();
        let mut interner = Interner::default();
        let all: Vec<(StrKey, u64)> = (0..100_000)
            .map(|i| (keys.insert(()), hash_of(i)))
            .collect();
        for &(k, h) in &all {
            interner.insert(h, k);
        }
        for &(k, h) in &all[10..] {
            interner.remove(h, k);
        }
        for i in 0..50_000 {
            interner.insert(hash_of(i + 200_000), keys.insert(()));
            assert!(
                interner.table.step <= 16,
                "step {} at {i}",
                interner.table.step
            );
        }
    }

    /// Entries removed from the middle and the ends of their clusters,
    /// one of which wraps past the table's last slot: every entry left is
    /// still found, and none removed is.
    #[test]
    fn removals_inside_clusters_keep_the_rest_found() {
        let mut keys: SlotMap<StrKey, ()> = SlotMap::with_key();
        let mut interner = Interner::default();
        // Eight keys on one hash, four on another, and five whose home is
        // the last of the table's first 64 slots (their cluster wraps to
        // its start).
        let hashes = [(hash_of(0), 8), (hash_of(3), 4), (63, 5)];
        let all: Vec<(StrKey, u64)> = hashes
            .iter()
            .flat_map(|&(h, n)| (0..n).map(move |_| h))
            .map(|h| (keys.insert(()), h))
            .collect();
        for &(k, h) in &all {
            interner.insert(h, k);
        }
        let mut live = all.clone();
        for at in [7, 3, 12, 4, 0, 16, 9, 13, 14] {
            let (k, h) = all[at];
            interner.remove(h, k);
            live.retain(|&(key, _)| key != k);
            interner.check(live.iter().copied()).unwrap();
            assert_eq!(interner.find(h, |found| found == k), None);
        }
    }

    /// A steady count of strings coming and going (a script's
    /// temporaries, made and swept every frame) does not make the table
    /// rebuild itself again and again: removals shift entries back instead
    /// of filling the table with tombstones.
    #[test]
    fn steady_churn_does_not_keep_rebuilding_the_table() {
        let mut keys: SlotMap<StrKey, ()> = SlotMap::with_key();
        let mut interner = Interner::default();
        let mut live = std::collections::VecDeque::new();
        let mut rebuilds = 0;
        for i in 0..200_000u64 {
            let k = keys.insert(());
            let h = i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
            let resizing = interner.table.resizing();
            interner.insert(h, k);
            if !resizing && interner.table.resizing() {
                rebuilds += 1;
            }
            live.push_back((k, h));
            if live.len() > 1_000 {
                let (k, h) = live.pop_front().expect("present");
                interner.remove(h, k);
            }
        }
        interner.check(live.iter().copied()).unwrap();
        // Growing to 1,000 entries takes a few; tombstones left by each of
        // the 199,000 removals took one every 2,700 insertions.
        assert!(rebuilds < 20, "{rebuilds} rebuilds");
    }
}
