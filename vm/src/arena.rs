//! An arena of one object kind: a `slotmap` plus a side table, indexed by
//! slot, that remembers each slot's key, mark and size for the collector.
//!
//! The side table lets the sweep walk the arena a chunk of slots at a time
//! and free what the last marking did not reach, without holding an
//! iterator across slices.
//!
//! An object's counted size is always what [`HeapSize::heap_size`] says of
//! it: it is computed when the object is added and again by
//! [`Arena::resized`] after every change that may grow or shrink it, so the
//! arena's byte count cannot drift from its objects.

use slotmap::{Key, SlotMap};

/// The bytes an object counts against the heap limit.
pub trait HeapSize {
    fn heap_size(&self) -> usize;
}

#[derive(Clone, Copy)]
struct SlotInfo<K> {
    /// The key living in this slot, or the null key when the slot is free.
    key: K,
    /// The collector epoch in which the object was last marked.
    mark: u32,
    /// Bytes accounted to the object.
    size: u32,
}

/// The slot index of a key (the low half of its FFI form).
#[inline]
fn slot_of<K: Key>(k: K) -> usize {
    (k.data().as_ffi() & 0xffff_ffff) as usize
}

pub struct Arena<K: Key, T> {
    map: SlotMap<K, T>,
    slots: Vec<SlotInfo<K>>,
    bytes: usize,
}

impl<K: Key, T> Default for Arena<K, T> {
    fn default() -> Self {
        Arena {
            map: SlotMap::with_key(),
            slots: Vec::new(),
            bytes: 0,
        }
    }
}

impl<K: Key, T: HeapSize> Arena<K, T> {
    /// Adds an object with mark `mark`.
    pub fn insert(&mut self, value: T, mark: u32) -> K {
        let size = value.heap_size();
        let key = self.map.insert(value);
        let i = slot_of(key);
        if i >= self.slots.len() {
            self.slots.resize(
                i + 1,
                SlotInfo {
                    key: K::null(),
                    mark: 0,
                    size: 0,
                },
            );
        }
        let size = size.min(u32::MAX as usize) as u32;
        self.slots[i] = SlotInfo { key, mark, size };
        self.bytes += size as usize;
        key
    }

    #[inline]
    pub fn get(&self, key: K) -> Option<&T> {
        self.map.get(key)
    }

    #[inline]
    pub fn get_mut(&mut self, key: K) -> Option<&mut T> {
        self.map.get_mut(key)
    }

    #[inline]
    pub fn contains_key(&self, key: K) -> bool {
        self.map.contains_key(key)
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Bytes accounted to the live objects.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn iter(&self) -> impl Iterator<Item = (K, &T)> {
        self.map.iter()
    }

    /// Removes an object now (objects the host owns, like instances).
    pub fn remove(&mut self, key: K) -> Option<T> {
        let value = self.map.remove(key)?;
        let slot = &mut self.slots[slot_of(key)];
        self.bytes -= slot.size as usize;
        slot.key = K::null();
        Some(value)
    }

    /// Counts an object at its size now, after a change that may have
    /// grown or shrunk it.
    pub fn resized(&mut self, key: K) {
        let Some(value) = self.map.get(key) else {
            return;
        };
        let size = value.heap_size().min(u32::MAX as usize) as u32;
        let slot = &mut self.slots[slot_of(key)];
        self.bytes = self.bytes - slot.size as usize + size as usize;
        slot.size = size;
    }

    /// Checks that every object is counted at its size and the arena's
    /// total is their sum; the first disagreement, if any.
    pub fn check_sizes(&self) -> Result<(), String> {
        let mut total = 0;
        for (k, v) in self.map.iter() {
            let slot = &self.slots[slot_of(k)];
            if slot.key != k {
                return Err(format!("slot of {k:?} holds {:?}", slot.key));
            }
            let size = v.heap_size().min(u32::MAX as usize);
            if slot.size as usize != size {
                return Err(format!(
                    "{k:?} is counted at {} bytes but is {size}",
                    slot.size
                ));
            }
            total += size;
        }
        if total != self.bytes {
            return Err(format!(
                "the arena counts {} bytes, its objects hold {total}",
                self.bytes
            ));
        }
        Ok(())
    }

    /// Marks a live object in `epoch`; true when it was not marked yet.
    /// Stale keys are never marked.
    #[inline]
    pub fn mark(&mut self, key: K, epoch: u32) -> bool {
        match self.slots.get_mut(slot_of(key)) {
            Some(slot) if slot.key == key && slot.mark != epoch => {
                slot.mark = epoch;
                true
            }
            _ => false,
        }
    }

    /// Makes a live object white again: it must be queued for tracing,
    /// which marks it (see `Heap::put_host`).
    #[inline]
    pub fn unmark(&mut self, key: K) {
        if let Some(slot) = self.slots.get_mut(slot_of(key))
            && slot.key == key
        {
            slot.mark = 0;
        }
    }

    /// Whether a live object is marked in `epoch` (stale keys count as
    /// marked: there is nothing to do for them).
    #[inline]
    pub fn is_marked(&self, key: K, epoch: u32) -> bool {
        match self.slots.get(slot_of(key)) {
            Some(slot) if slot.key == key => slot.mark == epoch,
            _ => true,
        }
    }

    /// Slots in the side table (the sweep's range).
    pub fn slot_count(&self) -> usize {
        self.slots.len()
    }

    /// Frees every object in slots `from..to` not marked in `epoch`,
    /// handing each to `on_free`. Returns the number freed.
    pub fn sweep(
        &mut self,
        from: usize,
        to: usize,
        epoch: u32,
        mut on_free: impl FnMut(K, T),
    ) -> usize {
        let mut freed = 0;
        for i in from..to.min(self.slots.len()) {
            let slot = self.slots[i];
            if slot.key.is_null() || slot.mark == epoch {
                continue;
            }
            if let Some(value) = self.map.remove(slot.key) {
                self.bytes -= slot.size as usize;
                freed += 1;
                on_free(slot.key, value);
            }
            self.slots[i].key = K::null();
        }
        freed
    }
}
