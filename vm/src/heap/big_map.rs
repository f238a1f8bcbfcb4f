//! A big map's storage: its entries in chunks, found through an index that
//! resizes a few slots at a time (`table.rs`).
//!
//! A hash map of millions of entries that grows in one go copies its
//! entries, rehashes them into a new index, and frees the old storage:
//! with `IndexMap`, a map of 2,000,000 keys took 3-4 ms just to set up its
//! new table and free the old one, and tens of milliseconds to rehash
//! (`cargo bench --features bench --bench hostile`, `map_walk`,
//! `map_keys`). Here nothing is moved as the map grows: entries go in
//! chunks of at most [`CHUNK`], a new chunk when the last is full, and the
//! index moves to a bigger table a few slots per insertion.
//!
//! Removal keeps the other entries in order without moving them all: the
//! entries after the removed one in its own chunk move down a place, a
//! chunk left short is merged with a neighbour, and an emptied one is
//! dropped. The index names an entry by its chunk's id and its place in
//! that chunk, which no other chunk's change touches; an entry's position
//! in the map is its chunk's start (kept per chunk, in order) plus its
//! place. So a removal moves at most about a chunk of entries and updates
//! a start per chunk after it, where shifting the whole map moved
//! everything after the key (tens of milliseconds with millions of keys).
//!
//! A map becomes big past [`BIG_FROM`] entries (`map.rs`); below, an
//! `IndexMap` grows at once in well under a millisecond.

use std::hash::BuildHasher;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::table::{ResizingTable, Slot};
use super::{Key, SeededHasher};
use crate::value::Value;

/// Entries a map holds before it becomes big.
pub(crate) const BIG_FROM: usize = 4 * 1024;
/// Entries in a full chunk (32 KiB of them).
pub(crate) const CHUNK: usize = 1024;
const CHUNK_SHIFT: u32 = CHUNK.trailing_zeros();
/// Two neighbouring chunks holding this many entries or fewer between
/// them are merged, so that chunks stay at least this full on average
/// (a sparse map takes at most 8/3 of a dense one's chunk storage) and a
/// merge moves at most this many entries.
const MERGE_AT_MOST: usize = CHUNK * 3 / 4;
/// Bytes an entry takes in its chunk.
pub(crate) const BIG_ENTRY_SIZE: usize = std::mem::size_of::<(Key, Value)>();
/// Bytes of work a removal counts as for each entry it moves (and index
/// slot it updates: a hash probe, often a cache miss), and for each later
/// chunk whose start it updates.
const MOVED_ENTRY_WORK: usize = 1024;
const CHUNK_START_WORK: usize = 8;

/// The work an insertion counts as while the index moves to a new table.
/// The new table's pages are mapped as they are first touched, and its
/// entries land on them at random: most insertions (and the slots moved
/// with each) take a page fault or two, 1-2 µs, where an instruction takes
/// nanoseconds. Counted as instructions, a run of 1,024 of them between
/// two reads of the clock took 2-4 ms (the hostile bench's `map_walk`,
/// 2,000,000 keys; `perf`: `do_wp_page`, `do_anonymous_page`).
const RESIZING_INSERT_WORK: usize = 8 * 1024;

/// An entry's slot in the index: the low half of its key's hash, then its
/// place ([`place`]) plus one (never zero).
type IndexSlot = Slot<2>;

/// An entry's place: its chunk's id and its offset in the chunk. Ids are
/// reused, and there are never more chunks than 2^22 - 1 (a map of at
/// least 1.6 billion entries, 50 GiB), so a place plus one fits in a `u32`.
#[inline]
fn place(id: u32, offset: usize) -> u32 {
    (id << CHUNK_SHIFT | offset as u32) + 1
}

#[inline]
fn unplace(slot: IndexSlot) -> (usize, usize) {
    let place = slot[1] - 1;
    (
        (place >> CHUNK_SHIFT) as usize,
        place as usize & (CHUNK - 1),
    )
}

type Entry = (Key, Value);

pub(crate) struct BigMap {
    /// Chunk storage by id; an unused id's chunk has no buffer.
    chunks: Vec<Vec<Entry>>,
    /// The ids of the chunks in use, in the order of their entries.
    order: Vec<u32>,
    /// Each chunk's rank in `order`, by id.
    rank: Vec<u32>,
    /// The position of each chunk's first entry, by rank.
    starts: Vec<usize>,
    len: usize,
    /// Ids whose chunks are not in use.
    free_ids: Vec<u32>,
    /// Empty chunk buffers reserved for the entries to come.
    spare: Vec<Vec<Entry>>,
    /// Chunk buffers held, in use or spare.
    buffers: usize,
    index: ResizingTable<2>,
    hasher: SeededHasher,
    /// The rank of the chunk the last position lookup found: walks go in
    /// order, and find the next entry there or in the next chunk.
    hint: AtomicUsize,
    /// The next position the collector traces: kept here, and moved down
    /// with the entries when one before it is removed, so that an entry
    /// the collector has not reached yet cannot slip behind it.
    trace_cursor: usize,
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
            order: Vec::new(),
            rank: Vec::new(),
            starts: Vec::new(),
            len: 0,
            free_ids: Vec::new(),
            spare: Vec::new(),
            buffers: 0,
            index: ResizingTable::default(),
            hasher: SeededHasher::default(),
            hint: AtomicUsize::new(0),
            trace_cursor: 0,
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
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// The rank of the chunk holding position `i` (which is in the map).
    #[inline]
    fn rank_of(&self, i: usize) -> usize {
        let starts = &self.starts;
        let holds = |rank: usize| {
            rank < starts.len()
                && starts[rank] <= i
                && i < starts.get(rank + 1).copied().unwrap_or(self.len)
        };
        let hint = self.hint.load(Ordering::Relaxed);
        let rank = if holds(hint) {
            return hint;
        } else if holds(hint + 1) {
            hint + 1
        } else {
            // No chunk but an only one is empty: starts rise strictly.
            starts.partition_point(|&start| start <= i) - 1
        };
        self.hint.store(rank, Ordering::Relaxed);
        rank
    }

    #[inline]
    fn entry(&self, i: usize) -> &Entry {
        let rank = self.rank_of(i);
        &self.chunks[self.order[rank] as usize][i - self.starts[rank]]
    }

    #[inline]
    fn at(&self, slot: IndexSlot) -> &Entry {
        let (id, offset) = unplace(slot);
        &self.chunks[id][offset]
    }

    /// Entries it has room for without a new chunk buffer.
    pub(super) fn capacity(&self) -> usize {
        let room_in_last = self
            .order
            .last()
            .map_or(0, |&id| CHUNK - self.chunks[id as usize].len());
        self.len() + room_in_last + self.spare.len() * CHUNK
    }

    /// Bytes of its chunks and index.
    pub(super) fn bytes(&self) -> usize {
        self.buffers * CHUNK * BIG_ENTRY_SIZE + self.index.bytes()
    }

    /// The index slot of `key`'s entry.
    #[inline]
    fn find(&self, key: &Key) -> Option<IndexSlot> {
        self.index
            .find(self.hash(key), |slot| self.at(slot).0 == *key)
    }

    /// The position, key and value of `key`'s entry. Out of line, as a
    /// hash lookup is (`IndexMap`'s too).
    #[inline(never)]
    pub(super) fn get_full(&self, key: &Key) -> Option<(usize, &Key, &Value)> {
        let slot = self.find(key)?;
        let (id, offset) = unplace(slot);
        let (k, v) = self.at(slot);
        Some((self.starts[self.rank[id] as usize] + offset, k, v))
    }

    #[inline(never)]
    pub(super) fn get_mut(&mut self, key: &Key) -> Option<&mut Value> {
        let (id, offset) = unplace(self.find(key)?);
        Some(&mut self.chunks[id][offset].1)
    }

    #[cfg(test)]
    fn get_index_of(&self, key: &Key) -> Option<usize> {
        self.get_full(key).map(|(i, _, _)| i)
    }

    /// Out of line: finding the chunk, inlined into the interpreter loop,
    /// made every program slower by a tenth or more, maps or not (`ark` on
    /// `fib.ark`: 0.16 s against 0.14 s).
    #[inline(never)]
    pub(super) fn get_index(&self, i: usize) -> Option<(&Key, &Value)> {
        (i < self.len).then(|| {
            let (k, v) = self.entry(i);
            (k, v)
        })
    }

    /// The entries in order.
    pub(super) fn iter(&self) -> BigIter<'_> {
        BigIter {
            map: self,
            front: 0,
            back: self.len(),
        }
    }

    /// Makes room for `capacity` entries in all: chunk buffers, empty.
    pub(super) fn reserve(&mut self, capacity: usize) {
        while self.capacity() < capacity {
            self.spare.push(Vec::with_capacity(CHUNK));
            self.buffers += 1;
        }
    }

    /// Puts a chunk at the end of the order: a spare buffer under a free
    /// id where there are some.
    fn new_chunk(&mut self) -> u32 {
        let buffer = self.spare.pop().unwrap_or_else(|| {
            self.buffers += 1;
            Vec::with_capacity(CHUNK)
        });
        let id = match self.free_ids.pop() {
            Some(id) => {
                self.chunks[id as usize] = buffer;
                id
            }
            None => {
                self.chunks.push(buffer);
                self.rank.push(0);
                (self.chunks.len() - 1) as u32
            }
        };
        debug_assert!(
            id < (u32::MAX >> CHUNK_SHIFT),
            "too many chunks for a place"
        );
        self.rank[id as usize] = self.order.len() as u32;
        self.order.push(id);
        self.starts.push(self.len);
        id
    }

    /// Adds an entry whose key is not in the map; room must be reserved.
    /// The bytes of work it counts as beyond its instruction's own: while
    /// the index moves to a new table, [`RESIZING_INSERT_WORK`].
    pub(super) fn push(&mut self, key: Key, v: Value) -> usize {
        let id = match self.order.last() {
            Some(&id) if self.chunks[id as usize].len() < CHUNK => id,
            _ => self.new_chunk(),
        };
        let hash = self.hash(&key);
        let chunk = &mut self.chunks[id as usize];
        chunk.push((key, v));
        self.index.insert([hash, place(id, chunk.len() - 1)]);
        self.len += 1;
        if self.index.resizing() {
            RESIZING_INSERT_WORK
        } else {
            0
        }
    }

    /// Removes `key`, keeping the other entries in order: its position,
    /// its value, and the bytes of work it counts as.
    pub(super) fn shift_remove(&mut self, key: &Key) -> Option<(usize, Value, usize)> {
        let slot = self.find(key)?;
        self.index.remove_shrinking(self.hash(key), |s| s == slot);
        let (id, offset) = unplace(slot);
        let rank = self.rank[id] as usize;
        let position = self.starts[rank] + offset;
        let (_, v) = self.chunks[id].remove(offset);
        for later in offset..self.chunks[id].len() {
            self.moved(id, later, place(id as u32, later + 1));
        }
        for start in &mut self.starts[rank + 1..] {
            *start -= 1;
        }
        self.len -= 1;
        if self.trace_cursor > position {
            self.trace_cursor -= 1;
        }
        let moved = self.chunks[id].len() - offset + self.rebalance(rank);
        let chunks_after = self.order.len().saturating_sub(rank);
        // Slots moving to a smaller index land on its pages at random, as
        // an insertion's do while the index grows.
        let resizing = if self.index.resizing() {
            RESIZING_INSERT_WORK
        } else {
            0
        };
        Some((
            position,
            v,
            moved * MOVED_ENTRY_WORK + chunks_after * CHUNK_START_WORK + resizing,
        ))
    }

    /// Points the index at the entry now at `offset` in chunk `id`, which
    /// was at place `from`.
    fn moved(&mut self, id: usize, offset: usize, from: u32) {
        let hash = self.hash(&self.chunks[id][offset].0);
        if let Some(slot) = self.index.find_mut(hash, |slot| slot[1] == from) {
            slot[1] = place(id as u32, offset);
        }
    }

    #[inline]
    fn chunk_len(&self, rank: usize) -> usize {
        self.chunks[self.order[rank] as usize].len()
    }

    /// After a removal from the chunk at `rank`: drops it if it is empty
    /// (unless it is the only one), or merges it with a neighbour if the
    /// two are short. The entries moved.
    fn rebalance(&mut self, rank: usize) -> usize {
        let len = self.chunk_len(rank);
        if len == 0 {
            if self.order.len() > 1 {
                self.drop_chunk(rank);
            }
            0
        } else if rank + 1 < self.order.len() && len + self.chunk_len(rank + 1) <= MERGE_AT_MOST {
            self.merge_next_into(rank)
        } else if rank > 0 && self.chunk_len(rank - 1) + len <= MERGE_AT_MOST {
            self.merge_next_into(rank - 1)
        } else {
            0
        }
    }

    /// Moves the entries of the chunk after `rank` to the end of the one
    /// at `rank`, and drops the emptied chunk: the entries moved.
    fn merge_next_into(&mut self, rank: usize) -> usize {
        let (into, from) = (self.order[rank] as usize, self.order[rank + 1] as usize);
        let mut moving = std::mem::take(&mut self.chunks[from]);
        let base = self.chunks[into].len();
        self.chunks[into].extend_from_slice(&moving);
        for offset in 0..moving.len() {
            self.moved(into, base + offset, place(from as u32, offset));
        }
        let moved = moving.len();
        moving.clear();
        self.chunks[from] = moving;
        self.drop_chunk(rank + 1);
        moved
    }

    /// Drops the chunk at `rank`, which holds no entries: its buffer is
    /// freed and its id is free for another.
    fn drop_chunk(&mut self, rank: usize) {
        let id = self.order.remove(rank);
        // Its entries, if any, now belong to the chunk before it.
        self.starts.remove(rank);
        self.chunks[id as usize] = Vec::new();
        self.buffers -= 1;
        self.free_ids.push(id);
        for (r, &id) in self.order.iter().enumerate().skip(rank) {
            self.rank[id as usize] = r as u32;
        }
        self.hint.store(0, Ordering::Relaxed);
    }

    /// Where the collector's trace of the map goes on: from the start for
    /// a trace that begins (`restart`), else from where the last slice
    /// ended (`traced_to`), moved down with the entries since.
    pub(super) fn trace_cursor(&mut self, restart: bool) -> usize {
        if restart {
            self.trace_cursor = 0;
        }
        self.trace_cursor
    }

    pub(super) fn traced_before(&self) -> usize {
        self.trace_cursor
    }

    pub(super) fn traced_to(&mut self, position: usize) {
        self.trace_cursor = position;
    }

    /// Frees about `bytes` of the storage of a map being freed, chunks
    /// first, then its index: the bytes freed, none once all is.
    pub(super) fn give_back(&mut self, bytes: usize) -> usize {
        let before = self.bytes();
        let mut chunks = (bytes / (CHUNK * BIG_ENTRY_SIZE)).max(1);
        while chunks > 0 && self.buffers > 0 {
            let Some(buffer) = self.spare.pop().or_else(|| self.chunks.pop()) else {
                break;
            };
            if buffer.capacity() > 0 {
                self.buffers -= 1;
                chunks -= 1;
            }
        }
        if self.buffers == 0 {
            self.index.give_back(bytes);
        }
        before - self.bytes()
    }

    /// Gives back the spare chunk buffers past those `capacity` entries
    /// need.
    pub(super) fn shrink_to(&mut self, capacity: usize) {
        while !self.spare.is_empty() && self.capacity() - CHUNK >= capacity.max(self.len()) {
            self.spare.pop();
            self.buffers -= 1;
        }
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

    fn grow(map: &mut BigMap, key: i64) {
        if map.len() == map.capacity() {
            map.reserve(map.capacity() + CHUNK);
        }
        let (k, v) = int(key);
        map.push(k, v);
    }

    fn keys(map: &BigMap) -> Vec<i64> {
        map.iter()
            .map(|(k, _)| match k {
                Key::Int(i) => *i,
                _ => unreachable!(),
            })
            .collect()
    }

    /// Every key is found at its position, and the chunks are as
    /// `rebalance` leaves them.
    fn check(map: &BigMap, expected: &[i64]) {
        assert_eq!(keys(map), expected);
        assert_eq!(map.len(), expected.len());
        for (i, &k) in expected.iter().enumerate() {
            assert_eq!(map.get_index_of(&Key::Int(k)), Some(i), "key {k}");
            assert_eq!(map.get_index(i).map(|(k, _)| *k), Some(Key::Int(k)));
        }
        let lens: Vec<usize> = (0..map.order.len()).map(|r| map.chunk_len(r)).collect();
        if lens.len() > 1 {
            assert!(lens.iter().all(|&n| n > 0), "an empty chunk kept: {lens:?}");
        }
        for pair in lens.windows(2) {
            assert!(
                pair[0] + pair[1] > MERGE_AT_MOST,
                "short neighbours: {lens:?}"
            );
        }
        let buffers = map.order.len() + map.spare.len();
        assert_eq!(map.buffers, buffers);
    }

    #[test]
    fn entries_are_found_in_order_through_growth_and_removal() {
        let mut map = BigMap::from_entries((0..100).map(int), 100);
        for i in 100..50_000 {
            grow(&mut map, i);
        }
        let mut expected: Vec<i64> = (0..50_000).collect();
        check(&map, &expected);
        assert_eq!(map.get_index_of(&Key::Int(50_000)), None);
        // Removing from the middle and the first chunk shifts the rest.
        let (at, v, _) = map.shift_remove(&Key::Int(2_000)).unwrap();
        assert_eq!((at, v), (2_000, Value::Int(20_000)));
        let (at, v, _) = map.shift_remove(&Key::Int(5)).unwrap();
        assert_eq!((at, v), (5, Value::Int(50)));
        assert!(map.shift_remove(&Key::Int(5)).is_none());
        expected.retain(|&i| i != 5 && i != 2_000);
        check(&map, &expected);
        assert_eq!(map.iter().nth(4_000), map.get_index(4_000));
        assert_eq!(map.iter().next_back(), map.get_index(49_997));
    }

    /// Removals and insertions at random, against a list of the keys.
    #[test]
    fn random_removals_and_insertions_keep_the_order() {
        let mut random = super::super::test_random(0x2545_f491_4f6c_dd1d_u64);
        let mut map = BigMap::from_entries((0..8_000).map(int), 8_000);
        let mut expected: Vec<i64> = (0..8_000).collect();
        let mut next = 8_000;
        for round in 0..40 {
            for _ in 0..random(3_000) {
                if expected.is_empty() {
                    break;
                }
                let key = expected.remove(random(expected.len()));
                let (_, v, _) = map.shift_remove(&Key::Int(key)).unwrap();
                assert_eq!(v, Value::Int(key * 10));
            }
            for _ in 0..random(3_000) {
                grow(&mut map, next);
                expected.push(next);
                next += 1;
            }
            if round % 8 == 0 {
                check(&map, &expected);
            }
        }
        check(&map, &expected);
    }

    #[test]
    fn a_removal_moves_at_most_about_a_chunk() {
        let mut map = BigMap::from_entries((0..300_000).map(int), 300_000);
        let most = (CHUNK + MERGE_AT_MOST) * MOVED_ENTRY_WORK + map.order.len() * CHUNK_START_WORK;
        for key in (0..300_000).step_by(997).chain(0..2_000) {
            if let Some((_, _, work)) = map.shift_remove(&Key::Int(key)) {
                assert!(work <= most, "{work} > {most}");
            }
        }
    }

    /// Removing the entries before the collector's place moves it down
    /// with them; removing after it leaves it.
    #[test]
    fn the_trace_cursor_moves_with_the_entries() {
        let mut map = BigMap::from_entries((0..10_000).map(int), 10_000);
        assert_eq!(map.trace_cursor(true), 0);
        map.traced_to(5_000);
        map.shift_remove(&Key::Int(10)).unwrap();
        map.shift_remove(&Key::Int(9_000)).unwrap();
        assert_eq!(map.trace_cursor(false), 4_999);
        // The entry the trace goes on with is the one it would have met.
        assert_eq!(map.get_index(4_999).map(|(k, _)| *k), Some(Key::Int(5_000)));
        assert_eq!(map.trace_cursor(true), 0);
    }

    #[test]
    fn emptied_chunks_are_given_back() {
        let mut map = BigMap::from_entries((0..20_000).map(int), 20_000);
        let full = map.bytes();
        for i in 0..15_000 {
            map.shift_remove(&Key::Int(i));
        }
        map.shrink_to(map.len());
        let chunks = map.buffers * CHUNK * BIG_ENTRY_SIZE;
        assert!(chunks < full / 3, "{chunks} of {full}");
        assert_eq!(map.get_index_of(&Key::Int(19_999)), Some(4_999));
        // A queue: entries in at the end, out at the front, for many times
        // the map's size, in storage of the same size.
        for i in 20_000..200_000 {
            grow(&mut map, i);
            map.shift_remove(&Key::Int(i - 5_000));
        }
        assert!(map.buffers <= 7, "{} chunks", map.buffers);
        check(&map, &(195_000..200_000).collect::<Vec<_>>());
    }

    #[test]
    fn an_index_emptied_by_removals_shrinks() {
        let mut map = BigMap::from_entries((0..200_000).map(int), 200_000);
        let full = map.index.bytes();
        for i in 0..198_000 {
            map.shift_remove(&Key::Int(i));
        }
        assert!(
            map.index.bytes() < full / 8,
            "{} of {full}",
            map.index.bytes()
        );
        check(&map, &(198_000..200_000).collect::<Vec<_>>());
    }
}
