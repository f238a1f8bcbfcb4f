//! An arena of one object kind: a `slotmap` plus a side table, indexed by
//! slot, that remembers each slot's key, mark and size for the collector.
//!
//! The side table lets the sweep walk the arena a chunk of slots at a time
//! and free what the last marking did not reach, without holding an
//! iterator across slices.

use slotmap::{Key, SlotMap};

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

impl<K: Key, T> Arena<K, T> {
    /// Adds an object of `size` bytes with mark `mark`.
    pub fn insert(&mut self, value: T, size: usize, mark: u32) -> K {
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

    /// Adds `delta` bytes to an object's account (a list that grew).
    pub fn grow(&mut self, key: K, delta: usize) {
        if let Some(slot) = self.slots.get_mut(slot_of(key))
            && slot.key == key
        {
            let delta = delta.min((u32::MAX - slot.size) as usize) as u32;
            slot.size += delta;
            self.bytes += delta as usize;
        }
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
