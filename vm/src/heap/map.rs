//! A map's storage: a few entries inline in the object's slot, a short
//! list of entries of its own beyond that, and a hash table beyond that.
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
use super::objects::{ArkMap, LISTED_ENTRY_SIZE, MAP_ENTRY_SIZE};
use super::pool::{BufferPool, Reusable, is_pooled, rounded_capacity};
use crate::value::Value;

/// Entries a map holds in its slot before it moves them out.
pub(crate) const INLINE_ENTRIES: usize = 4;
/// Entries a map holds in a list of its own before it moves them to a
/// hash table.
pub(crate) const LISTED_ENTRIES: usize = 8;

pub(super) enum Entries {
    Inline(ArrayVec<(Key, Value), INLINE_ENTRIES>),
    Listed(Vec<(Key, Value)>),
    Hashed(ArkMap),
}

/// The entries as read: a few in order, or a table.
enum View<'a> {
    Few(&'a [(Key, Value)]),
    Hashed(&'a ArkMap),
}

enum ViewMut<'a> {
    Few(&'a mut [(Key, Value)]),
    Hashed(&'a mut ArkMap),
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
}

impl<'a> Iterator for MapIter<'a> {
    type Item = (&'a Key, &'a Value);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            MapIter::Few(it) => it.next().map(|(k, v)| (k, v)),
            MapIter::Hashed(it) => it.next(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            MapIter::Few(it) => it.size_hint(),
            MapIter::Hashed(it) => it.size_hint(),
        }
    }

    /// In constant time, as both forms' own iterators (`skip` uses it).
    fn nth(&mut self, n: usize) -> Option<Self::Item> {
        match self {
            MapIter::Few(it) => it.nth(n).map(|(k, v)| (k, v)),
            MapIter::Hashed(it) => it.nth(n),
        }
    }
}

impl DoubleEndedIterator for MapIter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        match self {
            MapIter::Few(it) => it.next_back().map(|(k, v)| (k, v)),
            MapIter::Hashed(it) => it.next_back(),
        }
    }
}

impl ExactSizeIterator for MapIter<'_> {}

impl MapObj {
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
        }
    }

    #[inline]
    fn view_mut(&mut self) -> ViewMut<'_> {
        match &mut self.entries {
            Entries::Inline(e) => ViewMut::Few(e),
            Entries::Listed(e) => ViewMut::Few(e),
            Entries::Hashed(m) => ViewMut::Hashed(m),
        }
    }

    #[inline]
    pub fn len(&self) -> usize {
        match self.view() {
            View::Few(e) => e.len(),
            View::Hashed(m) => m.len(),
        }
    }

    /// The position of `key` in insertion order.
    #[inline]
    pub fn get_index_of(&self, key: &Key) -> Option<usize> {
        match self.view() {
            View::Few(e) => e.iter().position(|(k, _)| k == key),
            View::Hashed(m) => m.get_index_of(key),
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
        }
    }

    #[inline]
    pub fn get(&self, key: &Key) -> Option<&Value> {
        match self.view() {
            View::Few(e) => e.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            View::Hashed(m) => m.get(key),
        }
    }

    #[inline]
    pub fn contains_key(&self, key: &Key) -> bool {
        self.get(key).is_some()
    }

    /// The entry at position `index` in insertion order.
    #[inline]
    pub fn get_index(&self, index: usize) -> Option<(&Key, &Value)> {
        match self.view() {
            View::Few(e) => e.get(index).map(|(k, v)| (k, v)),
            View::Hashed(m) => m.get_index(index),
        }
    }

    pub fn iter(&self) -> MapIter<'_> {
        match self.view() {
            View::Few(e) => MapIter::Few(e.iter()),
            View::Hashed(m) => MapIter::Hashed(m.iter()),
        }
    }

    /// Entries the map has room for without growing.
    pub(super) fn capacity(&self) -> usize {
        match &self.entries {
            Entries::Inline(_) => INLINE_ENTRIES,
            Entries::Listed(e) => e.capacity(),
            Entries::Hashed(m) => m.capacity(),
        }
    }

    /// Entries held outside the slot (none while inline).
    pub(super) fn table_capacity(&self) -> usize {
        match &self.entries {
            Entries::Inline(_) => 0,
            Entries::Listed(e) => e.capacity(),
            Entries::Hashed(m) => m.capacity(),
        }
    }

    /// Bytes the entries take outside the slot.
    pub(super) fn table_bytes(&self) -> usize {
        match &self.entries {
            Entries::Inline(_) => 0,
            Entries::Listed(e) => e.bytes(),
            Entries::Hashed(m) => m.bytes(),
        }
    }

    /// Bytes the entries of a map grown to `capacity` take outside the
    /// slot.
    pub(super) fn table_bytes_for(capacity: usize) -> usize {
        if capacity <= INLINE_ENTRIES {
            0
        } else if capacity <= LISTED_ENTRIES {
            rounded_capacity(capacity) * LISTED_ENTRY_SIZE
        } else {
            rounded_capacity(capacity) * MAP_ENTRY_SIZE
        }
    }

    pub(super) fn get_mut(&mut self, key: &Key) -> Option<&mut Value> {
        match self.view_mut() {
            ViewMut::Few(e) => e.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v),
            ViewMut::Hashed(m) => m.get_mut(key),
        }
    }

    pub(super) fn get_index_mut(&mut self, index: usize) -> Option<(&Key, &mut Value)> {
        match self.view_mut() {
            ViewMut::Few(e) => e.get_mut(index).map(|(k, v)| (&*k, v)),
            ViewMut::Hashed(m) => m.get_index_mut(index),
        }
    }

    /// Makes room for `capacity` entries in all: a map that outgrows its
    /// slot moves its entries to a list of their own, and one that
    /// outgrows that to a hash table. Lists and tables of pooled sizes
    /// come from the pool, and go back to it as they are outgrown.
    pub(super) fn grow_to(&mut self, capacity: usize, pool: &mut BufferPool) {
        if capacity <= self.capacity() {
            return;
        }
        if let Entries::Hashed(m) = &mut self.entries
            && !is_pooled(capacity)
        {
            // A big table grows in place where it can.
            m.reserve(capacity - m.len());
            return;
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
        MapObj { entries: outgrown }.recycle_into(pool);
    }

    /// Gives the map's storage outside its slot, if any, to the pool (the
    /// map is being freed).
    pub(super) fn recycle_into(self, pool: &mut BufferPool) {
        match self.entries {
            Entries::Inline(_) => {}
            Entries::Listed(e) => pool.recycle(e),
            Entries::Hashed(m) => pool.recycle(m),
        }
    }

    /// Adds an entry whose key is not in the map, with room reserved.
    pub(super) fn push(&mut self, key: Key, v: Value) {
        match &mut self.entries {
            Entries::Inline(e) => e.push((key, v)),
            Entries::Listed(e) => e.push((key, v)),
            Entries::Hashed(m) => {
                m.insert(key, v);
            }
        }
    }

    /// Removes `key`, keeping the other entries in order: its position
    /// and value.
    pub(super) fn shift_remove(&mut self, key: &Key) -> Option<(usize, Value)> {
        match &mut self.entries {
            Entries::Inline(e) => {
                let index = e.iter().position(|(k, _)| k == key)?;
                Some((index, e.remove(index).1))
            }
            Entries::Listed(e) => {
                let index = e.iter().position(|(k, _)| k == key)?;
                Some((index, e.remove(index).1))
            }
            Entries::Hashed(m) => m.shift_remove_full(key).map(|(i, _, v)| (i, v)),
        }
    }

    /// Gives back a table mostly unused after removals (to `capacity`
    /// entries).
    pub(super) fn shrink_to(&mut self, capacity: usize) {
        if let Entries::Hashed(m) = &mut self.entries {
            m.shrink_to(capacity);
        }
    }
}
