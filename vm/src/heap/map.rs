//! A map's storage: a few entries inline in the object's slot, a short
//! list of entries of its own beyond that, a hash table beyond that, and
//! past [`BIG_FROM`] entries a big map's chunks and index (`big_map.rs`),
//! which grow without moving what they hold.
//!
//! Most maps in a game are records of a few fields (`{name, pos, hp}`). An
//! `IndexMap` holding three entries takes two allocations of its own
//! (entries and index table, sized for seven) beside its slot: about 400
//! bytes. Inline, the same record is its slot alone, and freeing it frees
//! nothing through the system allocator, so that a sweep freeing a million
//! records does not leave a million chunks for `malloc` to consolidate.
//! Up to [`INLINE_ENTRIES`] entries are searched linearly in the slot,
//! which for keys compared as integers is faster than hashing them. Up to
//! [`LISTED_ENTRIES`] are searched linearly in a list of their own: eight
//! entries take 256 bytes there, where a hash table for them takes about
//! 500 (with six-field maps in hash tables, a heap of 150,000 records
//! churning peaked at 1.63x Lua's memory; 1.28x with them listed). Every
//! form keeps the entries in insertion order, and removal keeps the others
//! in order.

use arrayvec::ArrayVec;

use super::Key;
use super::big_map::{BIG_ENTRY_SIZE, BIG_FROM, BigIter, BigMap, CHUNK};
use super::objects::{ArkMap, LISTED_ENTRY_SIZE, MAP_ENTRY_SIZE};
use super::pool::{BufferPool, Reusable, is_pooled, rounded_capacity};
use super::release::Releasing;
use crate::value::Value;

/// Entries a map holds in its slot before it moves them out.
pub(crate) const INLINE_ENTRIES: usize = 4;
/// Entries a map holds in a list of its own before it moves them to a
/// hash table.
pub(crate) const LISTED_ENTRIES: usize = 8;
/// Entries a big map is down to when it goes back to a hash table.
const BACK_FROM_BIG: usize = BIG_FROM / 4;

/// A big map's index's share for `entries` entries: a slot of 8 bytes for
/// each, at most 3 in 4 slots used.
fn big_index_bytes(entries: usize) -> usize {
    entries * 8 * 4 / 3
}

pub(super) enum Entries {
    Inline(ArrayVec<(Key, Value), INLINE_ENTRIES>),
    Listed(Vec<(Key, Value)>),
    Hashed(ArkMap),
    Big(Box<BigMap>),
}

/// The entries as read: a few in order, or a table.
enum View<'a> {
    Few(&'a [(Key, Value)]),
    Hashed(&'a ArkMap),
    Big(&'a BigMap),
}

enum ViewMut<'a> {
    Few(&'a mut [(Key, Value)]),
    Hashed(&'a mut ArkMap),
    Big(&'a mut BigMap),
}

/// A map's entries: read through these methods; changed only by the heap.
pub struct MapObj {
    pub(super) entries: Entries,
}

/// The entries of a map in insertion order: from its slot or its short
/// list of them, or from its hash table.
pub enum MapIter<'a> {
    Few(std::slice::Iter<'a, (Key, Value)>),
    Hashed(indexmap::map::Iter<'a, Key, Value>),
    Big(BigIter<'a>),
}

impl<'a> Iterator for MapIter<'a> {
    type Item = (&'a Key, &'a Value);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            MapIter::Few(it) => it.next().map(|(k, v)| (k, v)),
            MapIter::Hashed(it) => it.next(),
            MapIter::Big(it) => it.next(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            MapIter::Few(it) => it.size_hint(),
            MapIter::Hashed(it) => it.size_hint(),
            MapIter::Big(it) => it.size_hint(),
        }
    }

    /// In constant time, as both forms' own iterators (`skip` uses it).
    fn nth(&mut self, n: usize) -> Option<Self::Item> {
        match self {
            MapIter::Few(it) => it.nth(n).map(|(k, v)| (k, v)),
            MapIter::Hashed(it) => it.nth(n),
            MapIter::Big(it) => it.nth(n),
        }
    }
}

impl DoubleEndedIterator for MapIter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        match self {
            MapIter::Few(it) => it.next_back().map(|(k, v)| (k, v)),
            MapIter::Hashed(it) => it.next_back(),
            MapIter::Big(it) => it.next_back(),
        }
    }
}

impl ExactSizeIterator for MapIter<'_> {}

impl MapObj {
    /// An empty map, its entries in its slot.
    #[inline]
    pub(super) fn empty() -> MapObj {
        MapObj {
            entries: Entries::Inline(ArrayVec::new_const()),
        }
    }

    pub(super) fn new(map: ArkMap) -> MapObj {
        let entries = if map.len() <= INLINE_ENTRIES {
            Entries::Inline(map.into_iter().collect())
        } else {
            Entries::Hashed(map)
        };
        MapObj { entries }
    }

    #[inline]
    fn view(&self) -> View<'_> {
        match &self.entries {
            Entries::Inline(e) => View::Few(e),
            Entries::Listed(e) => View::Few(e),
            Entries::Hashed(m) => View::Hashed(m),
            Entries::Big(m) => View::Big(m),
        }
    }

    #[inline]
    fn view_mut(&mut self) -> ViewMut<'_> {
        match &mut self.entries {
            Entries::Inline(e) => ViewMut::Few(e),
            Entries::Listed(e) => ViewMut::Few(e),
            Entries::Hashed(m) => ViewMut::Hashed(m),
            Entries::Big(m) => ViewMut::Big(m),
        }
    }

    #[inline]
    pub fn len(&self) -> usize {
        match self.view() {
            View::Few(e) => e.len(),
            View::Hashed(m) => m.len(),
            View::Big(m) => m.len(),
        }
    }

    /// The position, key and value of `key`'s entry.
    #[inline]
    pub fn get_full(&self, key: &Key) -> Option<(usize, &Key, &Value)> {
        match self.view() {
            View::Few(e) => e
                .iter()
                .enumerate()
                .find(|(_, (k, _))| k == key)
                .map(|(i, (k, v))| (i, k, v)),
            View::Hashed(m) => m.get_full(key),
            View::Big(m) => m.get_full(key),
        }
    }

    #[inline]
    pub fn get(&self, key: &Key) -> Option<&Value> {
        match self.view() {
            View::Few(e) => e.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            View::Hashed(m) => m.get(key),
            View::Big(m) => m.get_full(key).map(|(_, _, v)| v),
        }
    }

    #[inline]
    pub fn contains_key(&self, key: &Key) -> bool {
        self.get(key).is_some()
    }

    /// `get_full`, out of line: the interpreter's slow paths of field
    /// access call it, so that the lookup's code for each form of map
    /// stays out of the interpreter loop (inlined there, it made the loop
    /// keep its instruction pointer on the stack).
    #[inline(never)]
    pub fn find_full(&self, key: &Key) -> Option<(usize, &Key, &Value)> {
        self.get_full(key)
    }

    /// The entry at position `index` in insertion order.
    #[inline]
    pub fn get_index(&self, index: usize) -> Option<(&Key, &Value)> {
        match self.view() {
            View::Few(e) => e.get(index).map(|(k, v)| (k, v)),
            View::Hashed(m) => m.get_index(index),
            View::Big(m) => m.get_index(index),
        }
    }

    /// The entry at position `index` for the interpreter's field caches,
    /// which only small maps use: a big map's fields are found by hashing.
    /// Finding a big map's entry by position, inlined into the interpreter
    /// loop (or a call to it there), made every program slower by a tenth
    /// or more (`ark` on `fib.ark`: 0.16 s against 0.14 s), maps or not.
    #[inline]
    pub fn cached_entry(&self, index: usize) -> Option<(&Key, &Value)> {
        match self.view() {
            View::Few(e) => e.get(index).map(|(k, v)| (k, v)),
            View::Hashed(m) => m.get_index(index),
            View::Big(_) => None,
        }
    }

    /// `cached_entry`, to change the value.
    #[inline]
    pub(super) fn cached_entry_mut(&mut self, index: usize) -> Option<(&Key, &mut Value)> {
        match self.view_mut() {
            ViewMut::Few(e) => e.get_mut(index).map(|(k, v)| (&*k, v)),
            ViewMut::Hashed(m) => m.get_index_mut(index),
            ViewMut::Big(_) => None,
        }
    }

    pub fn iter(&self) -> MapIter<'_> {
        match self.view() {
            View::Few(e) => MapIter::Few(e.iter()),
            View::Hashed(m) => MapIter::Hashed(m.iter()),
            View::Big(m) => MapIter::Big(m.iter()),
        }
    }

    /// Entries the map has room for without growing.
    pub(super) fn capacity(&self) -> usize {
        match &self.entries {
            Entries::Inline(_) => INLINE_ENTRIES,
            Entries::Listed(e) => e.capacity(),
            Entries::Hashed(m) => m.capacity(),
            Entries::Big(m) => m.capacity(),
        }
    }

    /// Entries held outside the slot (none while inline).
    pub(super) fn table_capacity(&self) -> usize {
        match &self.entries {
            Entries::Inline(_) => 0,
            Entries::Listed(e) => e.capacity(),
            Entries::Hashed(m) => m.capacity(),
            Entries::Big(m) => m.capacity(),
        }
    }

    /// Bytes the entries take outside the slot.
    pub(super) fn table_bytes(&self) -> usize {
        match &self.entries {
            Entries::Inline(_) => 0,
            Entries::Listed(e) => e.bytes(),
            Entries::Hashed(m) => m.bytes(),
            Entries::Big(m) => m.bytes(),
        }
    }

    /// Bytes the entries of a map grown to `capacity` take outside the
    /// slot.
    pub(super) fn table_bytes_for(capacity: usize) -> usize {
        if capacity <= INLINE_ENTRIES {
            0
        } else if capacity <= LISTED_ENTRIES {
            rounded_capacity(capacity) * LISTED_ENTRY_SIZE
        } else if capacity <= BIG_FROM {
            rounded_capacity(capacity) * MAP_ENTRY_SIZE
        } else {
            capacity.div_ceil(CHUNK) * CHUNK * BIG_ENTRY_SIZE + big_index_bytes(capacity)
        }
    }

    /// Bytes the entries' storage grows by to hold `capacity` entries: a
    /// big map adds chunks, and its index grows with them; any other map
    /// copies its entries to storage of the new size.
    pub(super) fn growth_bytes(&self, capacity: usize) -> usize {
        match &self.entries {
            Entries::Big(m) => {
                let more = capacity.saturating_sub(m.capacity());
                more.div_ceil(CHUNK) * CHUNK * BIG_ENTRY_SIZE + big_index_bytes(more)
            }
            _ => Self::table_bytes_for(capacity).saturating_sub(self.table_bytes()),
        }
    }

    pub(super) fn get_mut(&mut self, key: &Key) -> Option<&mut Value> {
        match self.view_mut() {
            ViewMut::Few(e) => e.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v),
            ViewMut::Hashed(m) => m.get_mut(key),
            ViewMut::Big(m) => m.get_mut(key),
        }
    }

    /// Makes room for `capacity` entries in all: a map that outgrows its
    /// slot moves its entries to a list of their own, one that outgrows
    /// that to a hash table, and one that outgrows [`BIG_FROM`] to a big
    /// map's chunks. Lists and tables of pooled sizes come from the pool,
    /// and go back to it as they are outgrown.
    pub(super) fn grow_to(
        &mut self,
        capacity: usize,
        pool: &mut BufferPool,
        releasing: &mut Releasing,
    ) {
        if capacity <= self.capacity() {
            return;
        }
        match &mut self.entries {
            Entries::Big(m) => return m.reserve(capacity),
            Entries::Hashed(m) if capacity > BIG_FROM => {
                let entries = m.iter().map(|(&k, &v)| (k, v));
                let big = BigMap::from_entries(entries, capacity);
                let outgrown = std::mem::replace(&mut self.entries, Entries::Big(Box::new(big)));
                return MapObj { entries: outgrown }.recycle_into(pool, releasing);
            }
            // A table of a size not pooled grows in place where it can.
            Entries::Hashed(m) if !is_pooled(capacity) => return m.reserve(capacity - m.len()),
            _ => {}
        }
        let entries = self.iter().map(|(&k, &v)| (k, v));
        let grown = if capacity <= LISTED_ENTRIES {
            let mut listed: Vec<(Key, Value)> = pool.take(capacity);
            listed.extend(entries);
            Entries::Listed(listed)
        } else {
            let mut table: ArkMap = pool.take(capacity);
            table.extend(entries);
            Entries::Hashed(table)
        };
        let outgrown = std::mem::replace(&mut self.entries, grown);
        MapObj { entries: outgrown }.recycle_into(pool, releasing);
    }

    /// Gives the map's storage outside its slot, if any, to the pool (the
    /// map is being freed, or has outgrown it), a big map's to `releasing`
    /// to be given back a piece at a time.
    pub(super) fn recycle_into(self, pool: &mut BufferPool, releasing: &mut Releasing) {
        match self.entries {
            Entries::Inline(_) => {}
            Entries::Listed(e) => pool.recycle(e),
            Entries::Hashed(m) => pool.recycle(m),
            Entries::Big(m) => releasing.free_map(*m),
        }
    }

    /// Adds an entry whose key is not in the map, with room reserved: the
    /// bytes of work it counts as beyond its instruction's own.
    #[inline]
    pub(super) fn push(&mut self, key: Key, v: Value) -> usize {
        match &mut self.entries {
            // The value written into the entry on its own: a pair moved in
            // whole was put together on the stack from narrower stores and
            // copied on with 16-byte loads, which wait for those stores.
            Entries::Inline(e) => {
                e.push((key, Value::nil()));
                if let Some(entry) = e.last_mut() {
                    entry.1 = v;
                }
            }
            Entries::Listed(e) => e.push((key, v)),
            Entries::Hashed(m) => {
                m.insert(key, v);
            }
            Entries::Big(m) => return m.push(key, v),
        }
        0
    }

    /// Removes `key`, keeping the other entries in order: its position,
    /// its value, and the bytes of work the removal counts as (the
    /// entries it moved).
    pub(super) fn shift_remove(&mut self, key: &Key) -> Option<(usize, Value, usize)> {
        let len = self.len();
        let (index, v) = match &mut self.entries {
            Entries::Inline(e) => {
                let index = e.iter().position(|(k, _)| k == key)?;
                (index, e.remove(index).1)
            }
            Entries::Listed(e) => {
                let index = e.iter().position(|(k, _)| k == key)?;
                (index, e.remove(index).1)
            }
            // Each later entry moves, and its place in the index with it.
            Entries::Hashed(m) => m.shift_remove_full(key).map(|(i, _, v)| (i, v))?,
            Entries::Big(m) => return m.shift_remove(key),
        };
        Some((index, v, (len - index) * MAP_ENTRY_SIZE))
    }

    /// Whether the entries are a big map's, whose removals need not shade
    /// the entries they move (the collector's place in it moves with them).
    pub(super) fn is_big(&self) -> bool {
        matches!(self.entries, Entries::Big(_))
    }

    /// Where the collector's trace of the map goes on, given the position
    /// its last slice queued (0 for a trace that begins): a big map keeps
    /// its own, which removals move down with its entries.
    pub(crate) fn trace_from(&mut self, queued: usize) -> usize {
        match &mut self.entries {
            Entries::Big(m) => m.trace_cursor(queued == 0),
            _ => queued,
        }
    }

    /// How far the collector has traced the map, given the position its
    /// last slice queued (as `trace_from`, without starting a trace).
    pub(crate) fn traced_before(&self, queued: usize) -> usize {
        match &self.entries {
            Entries::Big(m) if queued > 0 => m.traced_before(),
            _ => queued,
        }
    }

    /// Records where the collector's trace of the map stopped.
    pub(crate) fn traced_to(&mut self, position: usize) {
        if let Entries::Big(m) = &mut self.entries {
            m.traced_to(position);
        }
    }

    /// The capacity a big map down to [`BACK_FROM_BIG`] entries shrinks
    /// to, going back to a hash table.
    pub(super) fn back_from_big(&self) -> Option<usize> {
        (self.is_big() && self.len() <= BACK_FROM_BIG).then_some(self.len())
    }

    /// Gives back a table mostly unused after removals (to `capacity`
    /// entries).
    ///
    /// A big map down to [`BACK_FROM_BIG`] entries goes back to a hash
    /// table of its own, its chunks and index given back a piece at a time
    /// (above that, its index shrinks as removals empty it:
    /// `ResizingTable::remove_shrinking`).
    pub(super) fn shrink_to(&mut self, capacity: usize, releasing: &mut Releasing) {
        match &mut self.entries {
            Entries::Hashed(m) => m.shrink_to(capacity),
            Entries::Big(m) if m.len() <= BACK_FROM_BIG => {
                let mut table = ArkMap::with_capacity_and_hasher(m.len(), Default::default());
                table.extend(m.iter().map(|(&k, &v)| (k, v)));
                if let Entries::Big(big) =
                    std::mem::replace(&mut self.entries, Entries::Hashed(table))
                {
                    releasing.free_map(*big);
                }
            }
            Entries::Big(m) => m.shrink_to(capacity),
            _ => {}
        }
    }
}
