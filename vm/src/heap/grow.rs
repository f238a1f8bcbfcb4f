//! A long list's buffer, grown a slice at a time.
//!
//! A list's buffer doubles as it fills. Growing one of megabytes copies
//! it: glibc keeps blocks under 32 MiB in its own heap once big ones have
//! been freed, and moves one that cannot grow in place by copying it.
//! Inside one instruction, no budget could stop that: an allocation bomb
//! pushing to one list had resumes of 5.3-5.8 ms under a 1 ms budget
//! (`cargo bench --features bench --bench hostile`). (A big map's storage
//! grows without a copy: `big_map.rs`.)
//!
//! So in a call, the instruction that needs room in a list of at least
//! [`GROWN_IN_SLICES`] bytes (`push`, `insert`, a list literal's items)
//! fills the bigger buffer beside the list a slice at a time, stopping
//! unfinished between slices (`long_work.rs`); run again, it goes on, and
//! the last slice puts the new buffer in place and the instruction goes
//! ahead. Until then the list is as it was: nothing has been added. Both
//! buffers are counted in the heap's bytes while the copy is made (both
//! exist). The copy holds only items the list holds, so the collector
//! needs no roots for it.
//!
//! Another call (or the host) that changes the list in the meantime drops
//! the copy (`Heap::list_mut`): the instruction, run again, starts a new
//! one.

use super::long_work::{ITEM_WORK, Progress, Task};
use super::objects::VALUE_SIZE;
use super::{Heap, ListObj, OutOfMemory, SLICE_BYTES};
use crate::value::{ListKey, Value};

/// Bytes of items from which a list grows a slice at a time: copying
/// a megabyte takes about 0.1 ms (more with the page faults of its new
/// place).
pub(crate) const GROWN_IN_SLICES: usize = 1 << 20;

/// Items of a list copied in a slice.
const ITEMS_PER_SLICE: usize = SLICE_BYTES / ITEM_WORK;

/// A list's new buffer being filled (grown, or with an item inserted or
/// removed: `shift.rs`), and its bytes, counted in the heap's.
pub(super) struct Growing {
    buffer: Vec<Value>,
    pub(super) charged: usize,
}

impl Growing {
    pub(super) fn from_parts(buffer: Vec<Value>, charged: usize) -> Growing {
        Growing { buffer, charged }
    }

    pub(super) fn into_parts(self) -> (Vec<Value>, usize) {
        (self.buffer, self.charged)
    }
}

impl Heap {
    /// `list.push(v)` in the interpreter: `list_make_room`, then
    /// `list_push`. An error is `out of memory`, or the growth stopped
    /// unfinished (`LongWork::take_unfinished` says so), nothing pushed.
    /// Out of line, and with an error of one byte, as `list_push`: the
    /// interpreter loop kept its instruction pointer on the stack with a
    /// `String` error here (`ark` on `loop.ark`: 0.43 s against 0.38 s).
    #[inline(never)]
    pub(crate) fn list_push_in_call(&mut self, list: ListKey, v: Value) -> Result<(), OutOfMemory> {
        // Most pushes find room: one lookup, when no buffer is being made
        // for any list (which a change to this one would have to drop).
        if !self.work.has_tasks() {
            self.barrier(v);
            if let Some(l) = self.lists.get_mut(list)
                && l.len() < l.capacity()
            {
                l.push(v);
                return Ok(());
            }
        }
        self.list_push_growing(list, v)
    }

    /// `list_push_in_call` where the list has no room: apart, so that the
    /// common push saves and restores no more registers than it uses.
    #[cold]
    #[inline(never)]
    fn list_push_growing(&mut self, list: ListKey, v: Value) -> Result<(), OutOfMemory> {
        self.list_make_room(list, 1).map_err(|_| OutOfMemory)?;
        self.list_push(list, v)
    }

    /// Room for `extra` items (a list literal's), as `list_push_in_call`.
    #[inline(never)]
    pub(crate) fn list_reserve_in_call(
        &mut self,
        list: ListKey,
        extra: usize,
    ) -> Result<(), OutOfMemory> {
        self.list_make_room(list, extra).map_err(|_| OutOfMemory)
    }

    /// Makes room for `extra` more items in `list`, as `list_reserve`
    /// does. In a call, a long buffer grows a slice at a time: between
    /// slices this stops unfinished, and the list is unchanged.
    pub(crate) fn list_make_room(&mut self, list: ListKey, extra: usize) -> Result<(), String> {
        let oom = |_| "out of memory".to_string();
        let Some(l) = self.lists.get(list) else {
            return Ok(());
        };
        let wanted = l.len().saturating_add(extra);
        if wanted <= l.capacity() {
            return Ok(());
        }
        if l.buffer_capacity() * VALUE_SIZE < GROWN_IN_SLICES || !self.work.may_stop() {
            return self.list_reserve(list, extra).map_err(oom);
        }
        let task = Task::GrowList(list);
        let (mut buffer, charged) = match self.work.take(|t| *t == task) {
            Some(Progress::Growing(Growing { buffer, charged })) => (buffer, charged),
            _ => {
                let capacity = super::write::list_grown_capacity(l.len(), l.capacity(), wanted);
                let charged = capacity * VALUE_SIZE;
                self.charge(charged).map_err(oom)?;
                self.work.bytes += charged;
                (Vec::with_capacity(capacity), charged)
            }
        };
        // A change to the list dropped the copy: what it holds is still
        // the list's first items.
        let items: &[Value] = self.lists.get(list).map_or(&[], |l| l);
        let (start, len) = (buffer.len().min(items.len()), items.len());
        let end = len.min(start + ITEMS_PER_SLICE);
        buffer.extend_from_slice(&items[start..end]);
        let (copied, done) = (end - start, end == len);
        self.worked_over(copied * ITEM_WORK);
        if !done {
            let growing = Growing { buffer, charged };
            return Err(self.work.stop(task, Progress::Growing(growing)));
        }
        debug_assert!(self.lists.get(list).is_none_or(|l| buffer[..] == l[..]));
        self.put_new_buffer(list, buffer, charged);
        Ok(())
    }

    /// Puts a new buffer made beside `list` (grown, or with an item
    /// inserted or removed: `shift.rs`) in place of its own, which is
    /// given back a piece at a time; its bytes, counted while it was made,
    /// are the list's now.
    pub(super) fn put_new_buffer(&mut self, list: ListKey, buffer: Vec<Value>, charged: usize) {
        self.work.bytes -= charged;
        // Through `list_mut`: another call's new buffer for the list is
        // dropped.
        if let Some(l) = self.list_mut(list) {
            let old = l.set_buffer(buffer);
            let _freed_now = self.releasing.free_values(old);
        }
        self.lists.resized(list);
    }

    /// `list`, to change: a copy being made to grow it is dropped.
    #[inline]
    pub(super) fn list_mut(&mut self, list: ListKey) -> Option<&mut ListObj> {
        self.list_changes(list);
        self.lists.get_mut(list)
    }

    /// Drops any new buffer being made for `list` (to grow it, or with an
    /// item inserted or removed), which is about to change.
    #[inline]
    pub(super) fn list_changes(&mut self, list: ListKey) {
        if self.work.has_tasks() {
            self.drop_growth(list);
        }
    }

    #[cold]
    #[inline(never)]
    fn drop_growth(&mut self, list: ListKey) {
        if let Some(Progress::Growing(growing)) = self.work.drop_task(|t| t.rebuilds(list)) {
            self.release_growth(growing);
        }
    }

    /// Gives back the new buffer of a growth not finished.
    pub(super) fn release_growth(&mut self, growing: Growing) {
        self.work.bytes -= growing.charged;
        let _freed_now = self.releasing.free_values(growing.buffer);
    }
}
