//! A list's storage: a few items inline in the object's slot, a buffer of
//! its own beyond that.
//!
//! As with maps (`map.rs`): small lists (`[x, y]`, a colour, a pair) are
//! common, and a buffer of their own costs an allocation beside the slot.
//! Worse, a sweep that frees a million of them leaves a million small
//! chunks in glibc's fast bins, which the next large allocation (a new
//! arena page) consolidates in one go: tens of milliseconds inside a
//! script's slice. Inline, they free nothing through the allocator.

use std::ops::Deref;

use arrayvec::ArrayVec;

use super::pool::{BufferPool, is_pooled};
use crate::value::Value;

/// Items a list holds in its slot before it moves them to a buffer.
pub(crate) const INLINE_ITEMS: usize = 4;

enum Items {
    Inline(ArrayVec<Value, INLINE_ITEMS>),
    Buffer(Vec<Value>),
}

/// A list's items: read as a slice; changed only by the heap.
pub struct ListObj {
    items: Items,
}

impl Deref for ListObj {
    type Target = [Value];
    #[inline]
    fn deref(&self) -> &[Value] {
        match &self.items {
            Items::Inline(items) => items,
            Items::Buffer(items) => items,
        }
    }
}

impl ListObj {
    pub(super) fn new(items: Vec<Value>) -> ListObj {
        let items = if items.len() <= INLINE_ITEMS {
            Items::Inline(items.into_iter().collect())
        } else {
            Items::Buffer(items)
        };
        ListObj { items }
    }

    /// A list of copies of `items`: no buffer of its own when they fit
    /// in the slot.
    pub(super) fn from_slice(items: &[Value], pool: &mut BufferPool) -> ListObj {
        // Copied in one piece (collecting item by item checked the
        // capacity at each: 6% of binary_trees, perf).
        let items = match ArrayVec::try_from(items) {
            Ok(inline) => Items::Inline(inline),
            Err(_) => {
                let mut buffer = pool.take::<Vec<Value>>(items.len());
                buffer.extend_from_slice(items);
                Items::Buffer(buffer)
            }
        };
        ListObj { items }
    }

    /// The list's buffer, if it has one (for the pool, as it is freed).
    pub(super) fn into_buffer(self) -> Option<Vec<Value>> {
        match self.items {
            Items::Inline(_) => None,
            Items::Buffer(items) => Some(items),
        }
    }

    #[inline]
    pub(super) fn as_mut_slice(&mut self) -> &mut [Value] {
        match &mut self.items {
            Items::Inline(items) => items,
            Items::Buffer(items) => items,
        }
    }

    /// Items the list has room for without growing.
    pub(super) fn capacity(&self) -> usize {
        match &self.items {
            Items::Inline(_) => INLINE_ITEMS,
            Items::Buffer(items) => items.capacity(),
        }
    }

    /// Items held in a buffer of its own (none while inline).
    pub(super) fn buffer_capacity(&self) -> usize {
        match &self.items {
            Items::Inline(_) => 0,
            Items::Buffer(items) => items.capacity(),
        }
    }

    /// Makes room for `capacity` items in all (exactly, or a pooled size
    /// class's capacity): an inline list that outgrows its slot moves to a
    /// buffer, and a buffer of a pooled size moves to a larger one.
    pub(super) fn grow_to(&mut self, capacity: usize, pool: &mut BufferPool) {
        match &mut self.items {
            Items::Inline(items) if capacity > INLINE_ITEMS => {
                let mut buffer = pool.take::<Vec<Value>>(capacity);
                buffer.extend(items.drain(..));
                self.items = Items::Buffer(buffer);
            }
            Items::Inline(_) => {}
            Items::Buffer(items) if items.capacity() >= capacity => {}
            Items::Buffer(items) if is_pooled(capacity) => {
                let mut buffer = pool.take::<Vec<Value>>(capacity);
                buffer.extend_from_slice(items);
                pool.recycle(std::mem::replace(items, buffer));
            }
            // A big buffer grows in place where it can (`realloc` moves a
            // large one by remapping its pages, not by copying them).
            Items::Buffer(items) => items.reserve_exact(capacity - items.len()),
        }
    }

    /// Puts `buffer` (a copy of the items with more room, or with one
    /// inserted or removed: `Heap::put_new_buffer`) in place of the list's
    /// own, which it returns.
    pub(super) fn set_buffer(&mut self, buffer: Vec<Value>) -> Vec<Value> {
        match std::mem::replace(&mut self.items, Items::Buffer(buffer)) {
            Items::Buffer(old) => old,
            Items::Inline(_) => Vec::new(),
        }
    }

    /// Gives back buffer space after removals (to `capacity` items).
    pub(super) fn shrink_to(&mut self, capacity: usize) {
        if let Items::Buffer(items) = &mut self.items {
            items.shrink_to(capacity);
        }
    }

    /// Adds an item at the end; room must be reserved.
    pub(super) fn push(&mut self, v: Value) {
        match &mut self.items {
            Items::Inline(items) => items.push(v),
            Items::Buffer(items) => items.push(v),
        }
    }

    /// Inserts an item before `index` (at most the length); room must be
    /// reserved.
    pub(super) fn insert(&mut self, index: usize, v: Value) {
        match &mut self.items {
            Items::Inline(items) => items.insert(index, v),
            Items::Buffer(items) => items.insert(index, v),
        }
    }

    pub(super) fn pop(&mut self) -> Option<Value> {
        match &mut self.items {
            Items::Inline(items) => items.pop(),
            Items::Buffer(items) => items.pop(),
        }
    }

    /// Removes the item at `index` (in range), moving the rest down.
    pub(super) fn remove(&mut self, index: usize) -> Value {
        match &mut self.items {
            Items::Inline(items) => items.remove(index),
            Items::Buffer(items) => items.remove(index),
        }
    }
}
