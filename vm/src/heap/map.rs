//! A map's storage: a few entries inline in the object's slot, a hash
//! table beyond that.
//!
//! Most maps in a game are records of a few fields (`{name, pos, hp}`). An
//! `IndexMap` holding three entries takes two allocations of its own
//! (entries and index table, sized for seven) beside its slot: about 400
//! bytes. Inline, the same record is its slot alone, and freeing it frees
//! nothing through the system allocator, so that a sweep freeing a million
//! records does not leave a million chunks for `malloc` to consolidate.
//! Up to [`INLINE_ENTRIES`] entries are searched linearly, which for keys
//! compared as integers is faster than hashing them. Both forms keep the
//! entries in insertion order, and removal keeps the others in order.

use arrayvec::ArrayVec;

use super::Key;
use super::objects::ArkMap;
use crate::value::Value;

/// Entries a map holds in its slot before it moves them to a hash table.
pub(crate) const INLINE_ENTRIES: usize = 4;

pub(super) enum Entries {
    Inline(ArrayVec<(Key, Value), INLINE_ENTRIES>),
    Hashed(ArkMap),
}

/// A map's entries: read through these methods; changed only by the heap.
pub struct MapObj {
    pub(super) entries: Entries,
}

/// The entries of a map in insertion order.
pub enum MapIter<'a> {
    Inline(std::slice::Iter<'a, (Key, Value)>),
    Hashed(indexmap::map::Iter<'a, Key, Value>),
}

impl<'a> Iterator for MapIter<'a> {
    type Item = (&'a Key, &'a Value);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            MapIter::Inline(it) => it.next().map(|(k, v)| (k, v)),
            MapIter::Hashed(it) => it.next(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            MapIter::Inline(it) => it.size_hint(),
            MapIter::Hashed(it) => it.size_hint(),
        }
    }

    /// In constant time, as both forms' own iterators (`skip` uses it).
    fn nth(&mut self, n: usize) -> Option<Self::Item> {
        match self {
            MapIter::Inline(it) => it.nth(n).map(|(k, v)| (k, v)),
            MapIter::Hashed(it) => it.nth(n),
        }
    }
}

impl DoubleEndedIterator for MapIter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        match self {
            MapIter::Inline(it) => it.next_back().map(|(k, v)| (k, v)),
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
    pub fn len(&self) -> usize {
        match &self.entries {
            Entries::Inline(e) => e.len(),
            Entries::Hashed(m) => m.len(),
        }
    }

    /// The position of `key` in insertion order.
    #[inline]
    pub fn get_index_of(&self, key: &Key) -> Option<usize> {
        match &self.entries {
            Entries::Inline(e) => e.iter().position(|(k, _)| k == key),
            Entries::Hashed(m) => m.get_index_of(key),
        }
    }

    /// The position, key and value of `key`'s entry.
    #[inline]
    pub fn get_full(&self, key: &Key) -> Option<(usize, &Key, &Value)> {
        match &self.entries {
            Entries::Inline(e) => e
                .iter()
                .enumerate()
                .find(|(_, (k, _))| k == key)
                .map(|(i, (k, v))| (i, k, v)),
            Entries::Hashed(m) => m.get_full(key),
        }
    }

    #[inline]
    pub fn get(&self, key: &Key) -> Option<&Value> {
        match &self.entries {
            Entries::Inline(e) => e.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            Entries::Hashed(m) => m.get(key),
        }
    }

    #[inline]
    pub fn contains_key(&self, key: &Key) -> bool {
        self.get(key).is_some()
    }

    /// The entry at position `index` in insertion order.
    #[inline]
    pub fn get_index(&self, index: usize) -> Option<(&Key, &Value)> {
        match &self.entries {
            Entries::Inline(e) => e.get(index).map(|(k, v)| (k, v)),
            Entries::Hashed(m) => m.get_index(index),
        }
    }

    pub fn iter(&self) -> MapIter<'_> {
        match &self.entries {
            Entries::Inline(e) => MapIter::Inline(e.iter()),
            Entries::Hashed(m) => MapIter::Hashed(m.iter()),
        }
    }

    /// Entries the map has room for without growing.
    pub(super) fn capacity(&self) -> usize {
        match &self.entries {
            Entries::Inline(_) => INLINE_ENTRIES,
            Entries::Hashed(m) => m.capacity(),
        }
    }

    /// Entries held in a table of its own (none while inline).
    pub(super) fn table_capacity(&self) -> usize {
        match &self.entries {
            Entries::Inline(_) => 0,
            Entries::Hashed(m) => m.capacity(),
        }
    }

    pub(super) fn get_mut(&mut self, key: &Key) -> Option<&mut Value> {
        match &mut self.entries {
            Entries::Inline(e) => e.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v),
            Entries::Hashed(m) => m.get_mut(key),
        }
    }

    pub(super) fn get_index_mut(&mut self, index: usize) -> Option<(&Key, &mut Value)> {
        match &mut self.entries {
            Entries::Inline(e) => e.get_mut(index).map(|(k, v)| (&*k, v)),
            Entries::Hashed(m) => m.get_index_mut(index),
        }
    }

    /// Makes room for `capacity` entries in all: an inline map that
    /// outgrows its slot moves to a table.
    pub(super) fn grow_to(&mut self, capacity: usize) {
        match &mut self.entries {
            Entries::Inline(e) if capacity > INLINE_ENTRIES => {
                let mut map = ArkMap::with_capacity_and_hasher(capacity, Default::default());
                map.extend(e.drain(..));
                self.entries = Entries::Hashed(map);
            }
            Entries::Inline(_) => {}
            Entries::Hashed(m) => m.reserve(capacity.saturating_sub(m.len())),
        }
    }

    /// Adds an entry whose key is not in the map, with room reserved.
    pub(super) fn push(&mut self, key: Key, v: Value) {
        match &mut self.entries {
            Entries::Inline(e) => e.push((key, v)),
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
