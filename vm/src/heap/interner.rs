//! The table of interned strings: each string's hash and key, found by
//! hash and text.
//!
//! It grows (and shrinks) without a stop. A hash table that doubles in one
//! go rehashes every string it holds inside one allocation, and with a few
//! million strings that is tens of milliseconds in the middle of a script's
//! slice, where no budget sees it. This one, when it must resize, starts a
//! new table and moves the old one's entries over a few slots at every
//! insertion, paced so that the old table is empty before the new one
//! fills (Redis resizes its dictionaries the same way). Until then a
//! lookup searches both. The hash is kept beside the key, so moving an
//! entry never reads the string itself.
//!
//! Open addressing with linear probing; a removed entry leaves a tombstone
//! (so that probes past it go on), and tombstones count as used until the
//! next resize clears them.
//!
//! The old table is emptied from its end, and given back to the system a
//! piece at a time as it empties (freeing a table of two million slots in
//! one go took the kernel 1.4 ms).

use crate::arena::{make_key, split};
use crate::value::StrKey;

/// A table is resized when more than this fraction of its slots is used
/// (entries and tombstones)...
const MAX_USED: (usize, usize) = (3, 4);
/// ...and shrunk when fewer than this fraction hold entries.
const MIN_LIVE: (usize, usize) = (1, 16);
/// A new table is sized so that this fraction of it holds the entries.
const FILL_AFTER_RESIZE: (usize, usize) = (3, 8);
const MIN_SLOTS: usize = 64;
/// The old table is given back in pieces of this many slots (768 KiB).
const GIVE_BACK_SLOTS: usize = 1 << 16;

/// A slot: the low half of the hash, then the key's index and version
/// (its FFI form). All zero when empty, which lets a new table come from
/// zeroed memory that the kernel maps as it is first touched, instead of
/// being written out in one go. A key's version is odd, never zero: a
/// tombstone is a zero version with a hash of one.
type Slot = [u32; 3];

const EMPTY: Slot = [0, 0, 0];
const TOMBSTONE: Slot = [1, 0, 0];

fn entry(hash: u32, key: StrKey) -> Slot {
    let (index, version) = split(key);
    [hash, index as u32, version]
}

/// The key in a slot, if it holds one.
#[inline]
fn key_of(slot: Slot) -> Option<StrKey> {
    (slot[2] != 0).then(|| make_key(slot[1] as usize, slot[2]))
}

#[derive(Default)]
struct Table {
    /// The slots kept: all of them, except in an old table being emptied,
    /// which gives back its end as it goes.
    slots: Vec<Slot>,
    /// Slots in the table (a power of two), those given back included.
    slot_count: usize,
    /// Entries held.
    len: usize,
    /// Entries and tombstones.
    used: usize,
}

impl Table {
    fn with_slots(n: usize) -> Table {
        Table {
            // Zeroed: allocated as untouched pages.
            slots: vec![EMPTY; n],
            slot_count: n,
            len: 0,
            used: 0,
        }
    }

    fn mask(&self) -> usize {
        self.slot_count - 1
    }

    /// The slot holding the entry with `hash` that `eq` accepts.
    ///
    /// A probe that reaches the end given back goes on at the start, as a
    /// probe that reaches the table's end does: everything in that end was
    /// moved, and an entry still here whose chain ran through it sits,
    /// unbroken, from slot 0 up to itself.
    #[inline]
    fn find(&self, hash: u32, mut eq: impl FnMut(StrKey) -> bool) -> Option<usize> {
        if self.len == 0 {
            return None;
        }
        let kept = self.slots.len();
        let mut i = hash as usize & self.mask();
        // The slots kept need not hold an empty one: a second lap of them
        // ends the search.
        let mut laps = 0;
        if i >= kept {
            (i, laps) = (0, 1);
        }
        loop {
            let slot = self.slots[i];
            if slot == EMPTY {
                return None;
            }
            if slot[0] == hash
                && let Some(key) = key_of(slot)
                && eq(key)
            {
                return Some(i);
            }
            i += 1;
            if i == kept {
                laps += 1;
                if laps == 2 {
                    return None;
                }
                i = 0;
            }
        }
    }

    /// Adds an entry known to be absent; the table has room (and all its
    /// slots).
    fn insert(&mut self, hash: u32, key: StrKey) {
        let mask = self.mask();
        let mut i = hash as usize & mask;
        // The first free slot takes it, a tombstone included: the key is
        // absent, so nothing further along can be it.
        loop {
            let slot = self.slots[i];
            if key_of(slot).is_none() {
                if slot == EMPTY {
                    self.used += 1;
                }
                self.slots[i] = entry(hash, key);
                self.len += 1;
                return;
            }
            i = (i + 1) & mask;
        }
    }

    fn remove_at(&mut self, i: usize) {
        self.slots[i] = TOMBSTONE;
        self.len -= 1;
    }

    /// Gives back the slots from `end` on, once there are enough of them to
    /// be worth it; their entries have all been moved.
    fn give_back_from(&mut self, end: usize) {
        if self.slots.len() - end >= GIVE_BACK_SLOTS {
            self.slots.truncate(end);
            self.slots.shrink_to_fit();
        }
    }

    fn has_room_for_one(&self) -> bool {
        (self.used + 1) * MAX_USED.1 <= self.slot_count * MAX_USED.0
    }

    fn mostly_empty(&self) -> bool {
        self.slot_count > MIN_SLOTS && self.len * MIN_LIVE.1 < self.slot_count * MIN_LIVE.0
    }
}

#[derive(Default)]
pub(crate) struct Interner {
    current: Table,
    /// The table being emptied into `current`.
    old: Table,
    /// The slots of `old` not yet moved: those below this one (it is
    /// emptied from its end).
    cursor: usize,
    /// Slots of `old` moved at each insertion.
    step: usize,
}

impl Interner {
    /// Strings held.
    pub(crate) fn len(&self) -> usize {
        self.current.len + self.old.len
    }

    /// Bytes the table takes (both tables while it resizes).
    pub(crate) fn bytes(&self) -> usize {
        (self.current.slots.len() + self.old.slots.len()) * std::mem::size_of::<Slot>()
    }

    /// The string with `hash` that `eq` accepts.
    #[inline]
    pub(crate) fn find(&self, hash: u64, mut eq: impl FnMut(StrKey) -> bool) -> Option<StrKey> {
        let hash = hash as u32;
        match self.current.find(hash, &mut eq) {
            Some(i) => key_of(self.current.slots[i]),
            None => key_of(self.old.slots[self.old.find(hash, eq)?]),
        }
    }

    /// Adds a string that is not in the table.
    pub(crate) fn insert(&mut self, hash: u64, key: StrKey) {
        let hash = hash as u32;
        self.move_some();
        let resizing = self.old.slot_count > 0;
        if !self.current.has_room_for_one() || (!resizing && self.current.mostly_empty()) {
            self.start_resize();
        }
        self.current.insert(hash, key);
    }

    /// Removes `key` (whose string hashes to `hash`), if the table holds it.
    pub(crate) fn remove(&mut self, hash: u64, key: StrKey) {
        let hash = hash as u32;
        if let Some(i) = self.current.find(hash, |k| k == key) {
            self.current.remove_at(i);
        } else if let Some(i) = self.old.find(hash, |k| k == key) {
            self.old.remove_at(i);
        }
    }

    /// Starts moving everything into a table sized for what it holds.
    fn start_resize(&mut self) {
        // The pacing below empties the old table first; this is for a
        // resize that a burst of removals brought forward.
        while self.old.len > 0 {
            self.move_some();
        }
        let len = self.len() + 1;
        // Shrinking goes a quarter at a time, so that the old table's
        // slots spread over enough insertions.
        let slots = (len * FILL_AFTER_RESIZE.1 / FILL_AFTER_RESIZE.0)
            .next_power_of_two()
            .max(self.current.slot_count / 4)
            .max(MIN_SLOTS);
        let fresh = Table::with_slots(slots);
        self.old = std::mem::replace(&mut self.current, fresh);
        self.cursor = self.old.slot_count;
        // The new table takes this many insertions before it needs to
        // resize again; the old one's slots are spread over them.
        let room =
            slots * MAX_USED.0 / MAX_USED.1 - slots * FILL_AFTER_RESIZE.0 / FILL_AFTER_RESIZE.1;
        self.step = self.old.slot_count.div_ceil(room.max(1)).max(1);
    }

    /// Moves the entries of the last `step` slots of the old table not yet
    /// moved.
    fn move_some(&mut self) {
        if self.old.slot_count == 0 {
            return;
        }
        let start = self.cursor.saturating_sub(self.step);
        for i in (start..self.cursor).rev() {
            let slot = self.old.slots[i];
            if let Some(key) = key_of(slot) {
                self.current.insert(slot[0], key);
                self.old.len -= 1;
            }
        }
        self.cursor = start;
        if self.cursor == 0 {
            self.old = Table::default();
        } else {
            self.old.give_back_from(start);
        }
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
        let slots = interner.current.slot_count as u64;
        let chain: Vec<(StrKey, u64)> = (0..20).map(|_| (keys.insert(()), slots - 4)).collect();
        for &(k, h) in &chain {
            interner.insert(h, k);
        }
        all.extend(&chain);
        // A resize that has moved the table's end and given it back, but
        // not yet the chain's head.
        interner.start_resize();
        assert_eq!(interner.old.slot_count as u64, slots);
        assert!(interner.old.slot_count > GIVE_BACK_SLOTS);
        while interner.old.slots.len() == interner.old.slot_count {
            interner.move_some();
        }
        assert!(interner.cursor > 100);
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
            assert!(interner.step <= 4, "step {} at {i}", interner.step);
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
            assert!(interner.step <= 16, "step {} at {i}", interner.step);
        }
    }
}
