//! A big map's storage: its entries in chunks, found through an index that
//! resizes a few slots at a time (`table.rs`).
//!
//! A hash map of millions of entries that grows in one go copies its
//! entries, rehashes them into a new index, and frees the old storage:
//! with `IndexMap`, a map of 2,000,000 keys took 3-4 ms just to set up its
//! new table and free the old one, and tens of milliseconds to rehash
//! (`cargo bench --features bench --bench hostile`, `map_walk`,
//! `map_keys`). Here nothing is moved as the map grows: entries go in
//! fixed chunks of [`CHUNK`], a new chunk when the last is full, and the
//! index moves to a bigger table a few slots per insertion.
//!
//! A map becomes big past [`BIG_FROM`] entries (`map.rs`); below, an
//! `IndexMap` grows at once in well under a millisecond.

use std::hash::BuildHasher;

use super::table::{ResizingTable, Slot};
use super::{Key, SeededHasher};
use crate::value::Value;

/// Entries a map holds before it becomes big.
pub(crate) const BIG_FROM: usize = 4 * 1024;
/// Entries in a chunk (32 KiB of them).
pub(crate) const CHUNK: usize = 1024;
const CHUNK_SHIFT: u32 = CHUNK.trailing_zeros();
/// Bytes an entry takes in its chunk.
pub(crate) const BIG_ENTRY_SIZE: usize = std::mem::size_of::<(Key, Value)>();

/// The work an insertion counts as while the index moves to a new table.
/// The new table's pages are mapped as they are first touched, and its
/// entries land on them at random: most insertions (and the slots moved
/// with each) take a page fault or two, 1-2 µs, where an instruction takes
/// nanoseconds. Counted as instructions, a run of 1,024 of them between
/// two reads of the clock took 2-4 ms (the hostile bench's `map_walk`,
/// 2,000,000 keys; `perf`: `do_wp_page`, `do_anonymous_page`).
const RESIZING_INSERT_WORK: usize = 8 * 1024;

/// An entry's slot in the index: the low half of its key's hash, then its
/// position plus one (never zero).
type IndexSlot = Slot<2>;

#[inline]
fn position(slot: IndexSlot) -> usize {
    slot[1] as usize - 1
}

pub(crate) struct BigMap {
    /// The entries in order, `CHUNK` to a chunk; only the last may be part
    /// full, and chunks past it are empty (room reserved).
    chunks: Vec<Vec<(Key, Value)>>,
    len: usize,
    index: ResizingTable<2>,
    hasher: SeededHasher,
}

impl BigMap {
    /// A big map of `entries` (in order, keys distinct), with room for
    /// `capacity` in all.
    pub(super) fn from_entries(
        entries: impl Iterator<Item = (Key, Value)>,
        capacity: usize,
    ) -> BigMap {
        let mut map = BigMap {
            chunks: Vec::new(),
            len: 0,
            index: ResizingTable::default(),
            hasher: SeededHasher::default(),
        };
        map.reserve(capacity);
        for (k, v) in entries {
            map.push(k, v);
        }
        map
    }

    #[inline]
    fn hash(&self, key: &Key) -> u32 {
        self.hasher.hash_one(key) as u32
    }

    #[inline]
    fn entry(&self, i: usize) -> &(Key, Value) {
        &self.chunks[i >> CHUNK_SHIFT][i & (CHUNK - 1)]
    }

    #[inline]
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Entries it has room for without a new chunk.
    pub(super) fn capacity(&self) -> usize {
        self.chunks.len() * CHUNK
    }

    /// Bytes of its chunks and index.
    pub(super) fn bytes(&self) -> usize {
        self.capacity() * BIG_ENTRY_SIZE + self.index.bytes()
    }

    /// Out of line, as a hash lookup is (`IndexMap`'s too).
    #[inline(never)]
    pub(super) fn get_index_of(&self, key: &Key) -> Option<usize> {
        let hash = self.hash(key);
        let slot = self
            .index
            .find(hash, |slot| self.entry(position(slot)).0 == *key)?;
        Some(position(slot))
    }

    /// Inline: a call here, in the interpreter loop's field lookups, made
    /// the loop keep its instruction pointer on the stack (`ark` on
    /// `loop.ark`: 0.38 s against 0.33 s inline).
    #[inline(always)]
    pub(super) fn get_index(&self, i: usize) -> Option<(&Key, &Value)> {
        (i < self.len).then(|| {
            let (k, v) = self.entry(i);
            (k, v)
        })
    }

    #[inline(always)]
    pub(super) fn get_index_mut(&mut self, i: usize) -> Option<(&Key, &mut Value)> {
        if i >= self.len {
            return None;
        }
        let (k, v) = &mut self.chunks[i >> CHUNK_SHIFT][i & (CHUNK - 1)];
        Some((&*k, v))
    }

    /// The entries in order.
    pub(super) fn iter(&self) -> BigIter<'_> {
        BigIter {
            map: self,
            front: 0,
            back: self.len,
        }
    }

    /// Makes room for `capacity` entries in all: chunks, empty.
    pub(super) fn reserve(&mut self, capacity: usize) {
        while self.capacity() < capacity {
            self.chunks.push(Vec::with_capacity(CHUNK));
        }
    }

    /// Adds an entry whose key is not in the map; room must be reserved.
    /// The bytes of work it counts as beyond its instruction's own: while
    /// the index moves to a new table, [`RESIZING_INSERT_WORK`].
    pub(super) fn push(&mut self, key: Key, v: Value) -> usize {
        let i = self.len;
        let hash = self.hash(&key);
        self.chunks[i >> CHUNK_SHIFT].push((key, v));
        self.index.insert([hash, i as u32 + 1]);
        self.len += 1;
        if self.index.resizing() {
            RESIZING_INSERT_WORK
        } else {
            0
        }
    }

    /// Removes `key`, keeping the other entries in order: its position
    /// and value. The entries after it move down a place, and their
    /// positions in the index with them.
    pub(super) fn shift_remove(&mut self, key: &Key) -> Option<(usize, Value)> {
        let i = self.get_index_of(key)?;
        let hash = self.hash(key);
        self.index.remove(hash, |slot| position(slot) == i);
        let mut chunk = i >> CHUNK_SHIFT;
        let (_, v) = self.chunks[chunk].remove(i & (CHUNK - 1));
        while chunk + 1 < self.chunks.len() && !self.chunks[chunk + 1].is_empty() {
            let first = self.chunks[chunk + 1].remove(0);
            self.chunks[chunk].push(first);
            chunk += 1;
        }
        self.len -= 1;
        self.index.for_each_entry(|slot| {
            if position(*slot) > i {
                slot[1] -= 1;
            }
        });
        Some((i, v))
    }

    /// Frees about `bytes` of the storage of a map being freed, its last
    /// chunks first, then its index: the bytes freed, none once all is.
    pub(super) fn give_back(&mut self, bytes: usize) -> usize {
        let before = self.bytes();
        let chunks = self
            .chunks
            .len()
            .saturating_sub(bytes / (CHUNK * BIG_ENTRY_SIZE))
            .max(1);
        if self.chunks.len() > 1 {
            self.chunks.truncate(chunks);
        } else {
            self.chunks = Vec::new();
            self.len = 0;
            self.index.give_back(bytes);
        }
        before - self.bytes()
    }

    /// Gives back the chunks past those `capacity` entries need (emptied
    /// by removals).
    pub(super) fn shrink_to(&mut self, capacity: usize) {
        let chunks = capacity.max(self.len).div_ceil(CHUNK);
        self.chunks.truncate(chunks.max(1));
        self.chunks.shrink_to_fit();
    }
}

/// A big map's entries in order.
pub struct BigIter<'a> {
    map: &'a BigMap,
    /// The next entry from the front, and one past the next from the back.
    front: usize,
    back: usize,
}

impl<'a> Iterator for BigIter<'a> {
    type Item = (&'a Key, &'a Value);

    fn next(&mut self) -> Option<Self::Item> {
        if self.front == self.back {
            return None;
        }
        let (k, v) = self.map.entry(self.front);
        self.front += 1;
        Some((k, v))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.back - self.front;
        (n, Some(n))
    }

    fn nth(&mut self, n: usize) -> Option<Self::Item> {
        self.front = self.front.saturating_add(n).min(self.back);
        self.next()
    }
}

impl DoubleEndedIterator for BigIter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.front == self.back {
            return None;
        }
        self.back -= 1;
        let (k, v) = self.map.entry(self.back);
        Some((k, v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(i: i64) -> (Key, Value) {
        (Key::Int(i), Value::Int(i * 10))
    }

    #[test]
    fn entries_are_found_in_order_through_growth_and_removal() {
        let mut map = BigMap::from_entries((0..100).map(int), 100);
        for i in 100..50_000 {
            if map.len() == map.capacity() {
                map.reserve(map.capacity() + CHUNK);
            }
            let (k, v) = int(i);
            map.push(k, v);
        }
        assert_eq!(map.len(), 50_000);
        for i in (0..50_000).step_by(7) {
            assert_eq!(map.get_index_of(&Key::Int(i)), Some(i as usize));
        }
        assert_eq!(map.get_index_of(&Key::Int(50_000)), None);
        // Removing from the middle and the first chunk shifts the rest.
        assert_eq!(
            map.shift_remove(&Key::Int(2_000)),
            Some((2_000, Value::Int(20_000)))
        );
        assert_eq!(map.shift_remove(&Key::Int(5)), Some((5, Value::Int(50))));
        assert_eq!(map.shift_remove(&Key::Int(5)), None);
        assert_eq!(map.len(), 49_998);
        let keys: Vec<i64> = map
            .iter()
            .map(|(k, _)| match k {
                Key::Int(i) => *i,
                _ => unreachable!(),
            })
            .collect();
        let expected: Vec<i64> = (0..50_000).filter(|&i| i != 5 && i != 2_000).collect();
        assert_eq!(keys, expected);
        for (i, &k) in expected.iter().enumerate().step_by(11) {
            assert_eq!(map.get_index_of(&Key::Int(k)), Some(i));
        }
        assert_eq!(map.iter().nth(4_000), map.get_index(4_000));
        assert_eq!(map.iter().next_back(), map.get_index(49_997));
    }

    #[test]
    fn emptied_chunks_are_given_back() {
        let mut map = BigMap::from_entries((0..20_000).map(int), 20_000);
        let full = map.capacity();
        for i in 0..15_000 {
            map.shift_remove(&Key::Int(i));
        }
        map.shrink_to(map.len());
        assert!(map.capacity() < full / 3, "{} of {full}", map.capacity());
        assert_eq!(map.get_index_of(&Key::Int(19_999)), Some(4_999));
    }
}
