//! An arena of one object kind: slots in fixed pages that never move,
//! addressed by `slotmap` generational keys.
//!
//! Each slot keeps, beside its object, what the collector needs: the
//! slot's version (odd while occupied, as `slotmap` counts them, so a stale
//! key never matches), the epoch in which the object was last marked, and
//! the bytes it counts. The sweep walks the slots by index, a chunk at a
//! time, without holding an iterator across slices.
//!
//! Why pages: a growing `Vec` of slots copies every object each time it
//! doubles, and a heap of a few hundred megabytes then stops the script
//! for tens of milliseconds in one allocation that no budget sees. A page
//! is allocated when the last one fills and never moves, so growth costs
//! the same (one page written out) at every size. Freed slots are reused
//! (most recently freed first) before a new page is touched.
//!
//! An object's counted size is always what [`HeapSize::heap_size`] says of
//! it: it is computed when the object is added and again by
//! [`Arena::resized`] after every change that may grow or shrink it, so the
//! arena's byte count cannot drift from its objects.

use slotmap::{Key, KeyData};

/// The bytes an object counts against the heap limit.
pub trait HeapSize {
    fn heap_size(&self) -> usize;
}

/// The bytes one object's slot takes: the object and the collector's
/// bookkeeping. Each kind's [`HeapSize`] counts it.
pub const fn slot_size<T>() -> usize {
    std::mem::size_of::<Slot<T>>()
}

/// Slots per page.
const PAGE_SLOTS: usize = 512;
const PAGE_BITS: u32 = PAGE_SLOTS.trailing_zeros();
/// Marks the end of the free list.
const NO_SLOT: u32 = u32::MAX;

struct Slot<T> {
    /// Odd while the slot holds an object; a key matches only the version
    /// it was made with.
    version: u32,
    /// The collector epoch in which the object was last marked.
    mark: u32,
    /// Bytes accounted to the object.
    size: u32,
    /// While free: the next free slot.
    next_free: u32,
    value: Option<T>,
}

impl<T> Slot<T> {
    /// Marks an emptied slot free, ahead of `next_free` on the free list;
    /// returns the bytes its object counted.
    fn retire(&mut self, next_free: u32) -> usize {
        self.version = self.version.wrapping_add(1) & !1;
        self.next_free = next_free;
        std::mem::take(&mut self.size) as usize
    }
}

/// The slot index and version of a key (its FFI form, as `slotmap` builds
/// it).
#[inline]
pub(crate) fn split<K: Key>(k: K) -> (usize, u32) {
    let ffi = k.data().as_ffi();
    ((ffi & 0xffff_ffff) as usize, (ffi >> 32) as u32)
}

/// The key for slot `index` at `version`.
#[inline]
pub(crate) fn make_key<K: Key>(index: usize, version: u32) -> K {
    KeyData::from_ffi((u64::from(version) << 32) | index as u64).into()
}

/// The bytes `value` counts, as a slot records them.
fn counted_size<T: HeapSize>(value: &T) -> u32 {
    value.heap_size().min(u32::MAX as usize) as u32
}

/// A page: a fixed array, so that a slot's offset in it needs no bounds
/// check.
type Page<T> = Box<[Slot<T>; PAGE_SLOTS]>;

pub struct Arena<K: Key, T> {
    pages: Vec<Page<T>>,
    /// Slots handed out so far (the last page's are filled in order).
    slots_used: usize,
    /// Head of the list of free slots.
    free: u32,
    len: usize,
    bytes: usize,
    _key: std::marker::PhantomData<K>,
}

impl<K: Key, T> Default for Arena<K, T> {
    fn default() -> Self {
        Arena {
            pages: Vec::new(),
            slots_used: 0,
            free: NO_SLOT,
            len: 0,
            bytes: 0,
            _key: std::marker::PhantomData,
        }
    }
}

impl<K: Key, T: HeapSize> Arena<K, T> {
    #[inline]
    fn slot(&self, index: usize) -> Option<&Slot<T>> {
        let page = self.pages.get(index >> PAGE_BITS)?;
        Some(&page[index & (PAGE_SLOTS - 1)])
    }

    #[inline]
    fn slot_mut(&mut self, index: usize) -> Option<&mut Slot<T>> {
        let page = self.pages.get_mut(index >> PAGE_BITS)?;
        Some(&mut page[index & (PAGE_SLOTS - 1)])
    }

    /// The occupied slot `key` names, if it is still there.
    #[inline]
    fn live_slot(&self, key: K) -> Option<&Slot<T>> {
        let (index, version) = split(key);
        self.slot(index).filter(|s| s.version == version)
    }

    #[inline]
    fn live_slot_mut(&mut self, key: K) -> Option<&mut Slot<T>> {
        let (index, version) = split(key);
        self.slot_mut(index).filter(|s| s.version == version)
    }

    /// Adds an object with mark `mark`, in the most recently freed slot,
    /// else in the next slot never used.
    #[inline]
    pub fn insert(&mut self, value: T, mark: u32) -> K {
        let size = counted_size(&value);
        let index = if self.free != NO_SLOT {
            let index = self.free as usize;
            self.free = self
                .slot(index)
                .expect("a free slot is in a page")
                .next_free;
            index
        } else {
            let index = self.slots_used;
            // The null key's index is never handed out.
            assert!(
                index < NO_SLOT as usize,
                "an arena holds fewer than 2^32 objects"
            );
            if index == self.pages.len() * PAGE_SLOTS {
                self.pages.push(new_page());
            }
            self.slots_used += 1;
            index
        };
        self.bytes += size as usize;
        self.len += 1;
        let slot = self.slot_mut(index).expect("a slot in a page");
        // A free slot's version is even (zero in a new page).
        slot.version = slot.version.wrapping_add(1) | 1;
        slot.mark = mark;
        slot.size = size;
        slot.value = Some(value);
        make_key(index, slot.version)
    }

    #[inline]
    pub fn get(&self, key: K) -> Option<&T> {
        self.live_slot(key)?.value.as_ref()
    }

    #[inline]
    pub fn get_mut(&mut self, key: K) -> Option<&mut T> {
        self.live_slot_mut(key)?.value.as_mut()
    }

    #[inline]
    pub fn contains_key(&self, key: K) -> bool {
        self.live_slot(key).is_some()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// Bytes accounted to the live objects.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn iter(&self) -> impl Iterator<Item = (K, &T)> {
        (0..self.slots_used).filter_map(|index| {
            let slot = self.slot(index)?;
            let value = slot.value.as_ref()?;
            Some((make_key(index, slot.version), value))
        })
    }

    /// Frees the slot at `index` (which holds an object); returns the object.
    fn vacate(&mut self, index: usize) -> Option<T> {
        let free = self.free;
        let slot = self.slot_mut(index)?;
        let value = slot.value.take()?;
        let size = slot.retire(free);
        self.freed(index, size);
        Some(value)
    }

    /// Counts slot `index`, just emptied of an object of `size` bytes, as
    /// free: the next insertion takes it.
    fn freed(&mut self, index: usize, size: usize) {
        self.free = index as u32;
        self.bytes -= size;
        self.len -= 1;
    }

    /// Removes an object now (objects the host owns, like instances).
    pub fn remove(&mut self, key: K) -> Option<T> {
        self.live_slot(key)?;
        self.vacate(split(key).0)
    }

    /// Counts an object at its size now, after a change that may have
    /// grown or shrunk it.
    pub fn resized(&mut self, key: K) {
        let Some(slot) = self.live_slot_mut(key) else {
            return;
        };
        let Some(value) = &slot.value else {
            return;
        };
        let size = counted_size(value);
        let old = std::mem::replace(&mut slot.size, size);
        self.bytes = self.bytes - old as usize + size as usize;
    }

    /// Checks that every object is counted at its size, the arena's total
    /// is their sum, and the free list holds exactly the free slots; the
    /// first disagreement, if any.
    pub fn check_sizes(&self) -> Result<(), String> {
        let (mut total, mut count, mut vacant) = (0, 0, 0);
        for index in 0..self.slot_count() {
            let slot = self.slot(index).expect("in range");
            match &slot.value {
                Some(v) => {
                    if slot.version & 1 == 0 {
                        return Err(format!("slot {index} holds an object at an even version"));
                    }
                    let size = counted_size(v) as usize;
                    if slot.size as usize != size {
                        return Err(format!(
                            "slot {index} is counted at {} bytes but holds {size}",
                            slot.size
                        ));
                    }
                    total += size;
                    count += 1;
                }
                None => vacant += 1,
            }
        }
        if total != self.bytes || count != self.len {
            return Err(format!(
                "the arena counts {} objects of {} bytes, its slots hold {count} of {total}",
                self.len, self.bytes
            ));
        }
        let mut on_list = 0;
        let mut next = self.free;
        while next != NO_SLOT {
            let slot = self
                .slot(next as usize)
                .ok_or("the free list leaves the arena")?;
            if slot.value.is_some() {
                return Err(format!("occupied slot {next} is on the free list"));
            }
            on_list += 1;
            if on_list > vacant {
                return Err("the free list loops".into());
            }
            next = slot.next_free;
        }
        if on_list != vacant {
            return Err(format!("{vacant} free slots, {on_list} on the free list"));
        }
        Ok(())
    }

    /// Marks a live object in `epoch`; true when it was not marked yet.
    /// Stale keys are never marked.
    #[inline]
    pub fn mark(&mut self, key: K, epoch: u32) -> bool {
        match self.live_slot_mut(key) {
            Some(slot) if slot.mark != epoch => {
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
        if let Some(slot) = self.live_slot_mut(key) {
            slot.mark = 0;
        }
    }

    /// Whether a live object is marked in `epoch` (stale keys count as
    /// marked: there is nothing to do for them).
    #[inline]
    pub fn is_marked(&self, key: K, epoch: u32) -> bool {
        self.live_slot(key).is_none_or(|slot| slot.mark == epoch)
    }

    /// Slots in use or ever used (the sweep's range).
    pub fn slot_count(&self) -> usize {
        self.slots_used
    }

    /// Frees every object in slots `from..to` not marked in `epoch`,
    /// handing each to `on_free` (with the key it had), which drops it or
    /// keeps what it owns. Returns what it freed, counting apart the bytes
    /// of objects that still carry the mark `young`.
    ///
    /// It reads only the slots' bookkeeping (the version says whether a
    /// slot is occupied) until it finds one to free.
    pub fn sweep(
        &mut self,
        from: usize,
        to: usize,
        (epoch, young): (u32, u32),
        mut on_free: impl FnMut(K, T),
    ) -> Swept {
        let mut swept = Swept::default();
        for index in from..to.min(self.slot_count()) {
            let free = self.free;
            let Some(slot) = self.slot_mut(index) else {
                break;
            };
            if slot.version & 1 == 0 || slot.mark == epoch {
                continue;
            }
            let Some(value) = slot.value.take() else {
                continue;
            };
            let key = make_key(index, slot.version);
            let young_object = slot.mark == young;
            let size = slot.retire(free);
            self.freed(index, size);
            swept.objects += 1;
            if young_object {
                swept.young_bytes += size;
            }
            on_free(key, value);
        }
        swept
    }
}

/// What one `Arena::sweep` freed.
#[derive(Default, Debug, PartialEq)]
pub struct Swept {
    pub objects: usize,
    /// Bytes of the freed objects that were made during the marking.
    pub young_bytes: usize,
}

/// A page of free slots, written out when the last page fills: a bounded
/// cost, the same at every heap size.
fn new_page<T>() -> Page<T> {
    let slots: Box<[Slot<T>]> = (0..PAGE_SLOTS)
        .map(|_| Slot {
            version: 0,
            mark: 0,
            size: 0,
            next_free: NO_SLOT,
            value: None,
        })
        .collect();
    slots
        .try_into()
        .unwrap_or_else(|_| unreachable!("PAGE_SLOTS slots"))
}

#[cfg(test)]
mod tests {
    use super::*;

    slotmap::new_key_type! { struct TestKey; }

    struct Blob(usize);

    impl HeapSize for Blob {
        fn heap_size(&self) -> usize {
            self.0
        }
    }

    #[test]
    fn keys_stay_valid_across_pages_and_stale_keys_never_match() {
        let mut arena: Arena<TestKey, Blob> = Arena::default();
        let keys: Vec<TestKey> = (0..3 * PAGE_SLOTS + 7)
            .map(|i| arena.insert(Blob(i), 1))
            .collect();
        for (i, &k) in keys.iter().enumerate() {
            assert_eq!(arena.get(k).map(|b| b.0), Some(i));
        }
        let removed = keys[PAGE_SLOTS + 3];
        assert_eq!(arena.remove(removed).map(|b| b.0), Some(PAGE_SLOTS + 3));
        assert!(arena.get(removed).is_none());
        assert!(!arena.mark(removed, 5));
        // The freed slot is reused under a new version: the old key stays stale.
        let reused = arena.insert(Blob(1), 1);
        assert_eq!(split(reused).0, split(removed).0);
        assert!(arena.get(removed).is_none());
        assert_eq!(arena.get(reused).map(|b| b.0), Some(1));
        assert_eq!(arena.len(), keys.len());
        arena.check_sizes().unwrap();
    }

    #[test]
    fn sweep_frees_the_unmarked_and_counts_what_is_left() {
        let mut arena: Arena<TestKey, Blob> = Arena::default();
        let keys: Vec<TestKey> = (0..1000).map(|_| arena.insert(Blob(10), 1)).collect();
        for k in keys.iter().step_by(2) {
            arena.mark(*k, 2);
        }
        // Made during the marking (young, mark 7) and never reached.
        let young: Vec<TestKey> = (0..10).map(|_| arena.insert(Blob(3), 7)).collect();
        let mut freed = Vec::new();
        let mut young_bytes = 0;
        let mut from = 0;
        while from < arena.slot_count() {
            young_bytes += arena
                .sweep(from, from + 128, (2, 7), |k, _| freed.push(k))
                .young_bytes;
            from += 128;
        }
        let old_freed = keys.iter().skip(1).step_by(2).copied();
        assert_eq!(freed, old_freed.chain(young).collect::<Vec<_>>());
        assert_eq!(young_bytes, 30);
        assert_eq!((arena.len(), arena.bytes()), (500, 5000));
        assert!(keys.iter().step_by(2).all(|&k| arena.contains_key(k)));
        arena.check_sizes().unwrap();
        // Freed slots are filled before a new page is started.
        let slots = arena.slot_count();
        for _ in 0..500 {
            arena.insert(Blob(1), 2);
        }
        assert_eq!(arena.slot_count(), slots);
        arena.check_sizes().unwrap();
    }
}
