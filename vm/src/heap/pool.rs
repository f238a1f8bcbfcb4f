//! Buffers of lists, and entry lists and tables of maps, past their
//! inline size, kept for reuse instead of being handed back to the system
//! allocator.
//!
//! A list of six items, or a map of six fields, has a buffer of its own
//! beside its slot. A sweep that frees a few hundred thousand of them
//! leaves as many small chunks in glibc's fast bins, and the next large
//! allocation (a new arena page, the interner's next table) consolidates
//! them all in one go: 2-7 ms inside a script's slice, where no budget
//! sees it (heap_churn's `churn_wide` scene, under perf). So the sweep
//! hands small buffers here, by size class, and new lists and maps take
//! them back: a churning heap reuses its buffers and the allocator sees
//! neither end.
//!
//! What the pool holds is not part of the heap's size (it is not live),
//! but it is bounded: at most a quarter of the heap as the sweep found it
//! (so the heap and the pool together stay within 1.25x the heap's peak),
//! and no more than the mutator asked for over the last cycle, so that a
//! program that stops making such lists does not keep their buffers.
//! Anything over that is given back a few buffers at a time, as the sweep
//! goes.

use super::Key;
use super::objects::{ArkMap, MAP_ENTRY_SIZE};
use super::release::Releasing;
use super::{ListObj, MapObj};
use crate::value::Value;

/// Capacities of the size classes: 8, 16, 32 and 64 items. Smaller lists
/// and maps live in their slots; larger ones are rarer, and their
/// allocations are large ones anyway.
const SMALLEST: usize = 8;
const CLASSES: usize = 4;
/// Buffers given back to the allocator at a time, when the pool holds
/// more than it may.
const TRIM_AT_ONCE: usize = 32;

/// The class of buffers that hold at least `capacity` items, if pooled.
fn class_holding(capacity: usize) -> Option<usize> {
    let class =
        capacity.max(SMALLEST).next_power_of_two().trailing_zeros() - SMALLEST.trailing_zeros();
    (class < CLASSES as u32).then_some(class as usize)
}

/// The class a buffer of `capacity` items can serve (the largest whose
/// capacity it has), if pooled.
fn class_served_by(capacity: usize) -> Option<usize> {
    if capacity < SMALLEST {
        return None;
    }
    let class = capacity.ilog2() - SMALLEST.trailing_zeros();
    (class < CLASSES as u32).then_some(class as usize)
}

/// The capacity of class `class`.
fn class_capacity(class: usize) -> usize {
    SMALLEST << class
}

/// Whether buffers of `capacity` items come from the pool.
pub(super) fn is_pooled(capacity: usize) -> bool {
    class_holding(capacity).is_some()
}

/// The capacity a buffer made for `capacity` items gets: its class's, if
/// pooled.
pub(super) fn rounded_capacity(capacity: usize) -> usize {
    class_holding(capacity).map_or(capacity, class_capacity)
}

/// A buffer the pool can keep: emptied, it keeps its capacity.
pub(super) trait Reusable: Sized {
    /// Bytes each item of capacity counts, as the heap counts them.
    const ITEM_BYTES: usize;
    fn with_capacity(capacity: usize) -> Self;
    fn capacity(&self) -> usize;
    fn clear(&mut self);

    /// Bytes the buffer counts.
    fn bytes(&self) -> usize {
        self.capacity() * Self::ITEM_BYTES
    }
}

impl<T> Reusable for Vec<T> {
    const ITEM_BYTES: usize = std::mem::size_of::<T>();
    fn with_capacity(capacity: usize) -> Self {
        Vec::with_capacity(capacity)
    }
    fn capacity(&self) -> usize {
        self.capacity()
    }
    fn clear(&mut self) {
        self.clear();
    }
}

impl Reusable for ArkMap {
    const ITEM_BYTES: usize = MAP_ENTRY_SIZE;
    fn with_capacity(capacity: usize) -> Self {
        ArkMap::with_capacity_and_hasher(capacity, Default::default())
    }
    fn capacity(&self) -> usize {
        self.capacity()
    }
    fn clear(&mut self) {
        self.clear();
    }
}

/// Kept buffers of one kind, by size class.
pub(super) struct Shelves<T>([Vec<T>; CLASSES]);

impl<T> Default for Shelves<T> {
    fn default() -> Self {
        Shelves(std::array::from_fn(|_| Vec::new()))
    }
}

#[derive(Default)]
pub(crate) struct BufferPool {
    lists: Shelves<Vec<Value>>,
    /// A few map entries, searched in order (`map.rs`).
    entries: Shelves<Vec<(Key, Value)>>,
    tables: Shelves<ArkMap>,
    /// Bytes held, counted as the heap counts buffers.
    bytes: usize,
    /// The most the pool may hold (set as the sweep goes).
    limit: usize,
    /// Bytes of buffers asked for since the current cycle started (from
    /// the pool or not), and over the last whole cycle.
    asked: usize,
    asked_last_cycle: usize,
}

/// Which shelves hold buffers of type `T`.
pub(super) trait Shelved: Reusable {
    fn shelves(pool: &mut BufferPool) -> &mut Shelves<Self>;
}

impl Shelved for Vec<Value> {
    fn shelves(pool: &mut BufferPool) -> &mut Shelves<Self> {
        &mut pool.lists
    }
}

impl Shelved for Vec<(Key, Value)> {
    fn shelves(pool: &mut BufferPool) -> &mut Shelves<Self> {
        &mut pool.entries
    }
}

impl Shelved for ArkMap {
    fn shelves(pool: &mut BufferPool) -> &mut Shelves<Self> {
        &mut pool.tables
    }
}

impl BufferPool {
    /// Bytes the pool holds.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// An empty buffer for at least `capacity` items.
    pub(super) fn take<T: Shelved>(&mut self, capacity: usize) -> T {
        let Some(class) = class_holding(capacity) else {
            return T::with_capacity(capacity);
        };
        self.asked += class_capacity(class) * T::ITEM_BYTES;
        match T::shelves(self).0[class].pop() {
            Some(buffer) => {
                self.bytes -= buffer.bytes();
                buffer
            }
            None => T::with_capacity(class_capacity(class)),
        }
    }

    /// Keeps a buffer no longer used, if it is of a pooled size and there
    /// is room; frees it otherwise.
    pub(super) fn recycle<T: Shelved>(&mut self, mut buffer: T) {
        let size = buffer.bytes();
        if let Some(class) = class_served_by(buffer.capacity())
            && self.bytes + size <= self.limit
        {
            buffer.clear();
            self.bytes += size;
            T::shelves(self).0[class].push(buffer);
        }
    }

    /// A list is freed: keeps its buffer, if it has one that may be kept;
    /// a big one is given back a piece at a time (`release.rs`).
    pub(crate) fn freed_list(&mut self, list: ListObj, releasing: &mut Releasing) {
        if let Some(buffer) = list.into_buffer().and_then(|b| releasing.free_values(b)) {
            self.recycle(buffer);
        }
    }

    /// A map is freed: keeps its entries' storage, if it may be kept; a
    /// big map's is given back a piece at a time (`release.rs`).
    pub(crate) fn freed_map(&mut self, map: MapObj, releasing: &mut Releasing) {
        map.recycle_into(self, releasing);
    }

    /// Sets how much the pool may hold on a heap of `heap_bytes`, and gives
    /// back a few buffers if it holds more.
    pub(crate) fn fit(&mut self, heap_bytes: usize) {
        self.limit = (heap_bytes / 4).min(self.asked.max(self.asked_last_cycle));
        for _ in 0..TRIM_AT_ONCE {
            if self.bytes <= self.limit {
                break;
            }
            self.give_back_one();
        }
    }

    /// A collection cycle ended.
    pub(crate) fn cycle_finished(&mut self) {
        self.asked_last_cycle = std::mem::take(&mut self.asked);
    }

    /// Frees one buffer, from the largest class that holds any.
    fn give_back_one(&mut self) {
        for class in (0..CLASSES).rev() {
            let freed = None
                .or_else(|| self.tables.0[class].pop().map(|b| b.bytes()))
                .or_else(|| self.entries.0[class].pop().map(|b| b.bytes()))
                .or_else(|| self.lists.0[class].pop().map(|b| b.bytes()));
            if let Some(bytes) = freed {
                self.bytes -= bytes;
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heap::VALUE_SIZE;

    #[test]
    fn size_classes_hold_and_serve_what_they_say() {
        assert_eq!(class_holding(5), Some(0));
        assert_eq!(class_holding(8), Some(0));
        assert_eq!(class_holding(9), Some(1));
        assert_eq!(class_holding(64), Some(3));
        assert_eq!(class_holding(65), None);
        assert_eq!(class_served_by(7), None);
        assert_eq!(class_served_by(8), Some(0));
        assert_eq!(class_served_by(15), Some(0));
        assert_eq!(class_served_by(127), Some(3));
        assert_eq!(class_served_by(128), None);
        assert_eq!(rounded_capacity(6), 8);
        assert_eq!(rounded_capacity(100), 100);
    }

    #[test]
    fn a_recycled_buffer_is_handed_out_again_within_the_limit() {
        let mut pool = BufferPool {
            asked_last_cycle: 1 << 20,
            ..BufferPool::default()
        };
        pool.fit(1 << 20);
        let buffer = pool.take::<Vec<Value>>(6);
        assert_eq!(buffer.capacity(), 8);
        let address = buffer.as_ptr();
        pool.recycle(buffer);
        assert_eq!(pool.bytes(), 8 * VALUE_SIZE);
        let again = pool.take::<Vec<Value>>(7);
        assert_eq!(again.as_ptr(), address);
        assert!(again.is_empty());
        assert_eq!(pool.bytes(), 0);
        // Too big a buffer is not kept.
        pool.recycle::<Vec<Value>>(Vec::with_capacity(200));
        assert_eq!(pool.bytes(), 0);

        let mut table: ArkMap = pool.take(5);
        table.insert(Key::Int(1), Value::Int(2));
        let capacity = table.capacity();
        pool.recycle(table);
        let again: ArkMap = pool.take(8);
        assert!(again.is_empty());
        assert_eq!(again.capacity(), capacity);
    }

    #[test]
    fn the_pool_gives_back_what_the_mutator_stopped_asking_for() {
        let mut pool = BufferPool {
            asked_last_cycle: 1 << 20,
            ..BufferPool::default()
        };
        pool.fit(1 << 30);
        let buffers: Vec<_> = (0..100).map(|_| pool.take::<Vec<Value>>(8)).collect();
        for buffer in buffers {
            pool.recycle(buffer);
        }
        assert_eq!(pool.bytes(), 100 * 8 * VALUE_SIZE);
        // Two cycles in which nothing was asked for: the limit falls to
        // nothing, and the buffers go back a few at a time.
        pool.cycle_finished();
        pool.cycle_finished();
        pool.fit(1 << 30);
        assert_eq!(pool.bytes(), (100 - TRIM_AT_ONCE) * 8 * VALUE_SIZE);
        for _ in 0..3 {
            pool.fit(1 << 30);
        }
        assert_eq!(pool.bytes(), 0);
        // Nor does it keep more than a quarter of the heap.
        pool.asked_last_cycle = 1 << 20;
        pool.fit(4 * 8 * VALUE_SIZE);
        for _ in 0..2 {
            let buffer = pool.take::<Vec<Value>>(8);
            pool.recycle(buffer);
        }
        let (a, b) = (pool.take::<Vec<Value>>(8), pool.take::<Vec<Value>>(8));
        pool.recycle(a);
        pool.recycle(b);
        assert_eq!(pool.bytes(), 8 * VALUE_SIZE);
    }
}
