//! Every change to what a heap object holds: the write barrier and exact
//! sizes.
//!
//! The collector's invariant while it marks (`gc/mod.rs`): no object it
//! has traced points at one it has not marked. Two kinds of change could
//! break it, and each has one rule here:
//!
//! - **A value stored** into an object (`list[i] = v`, a push, a map entry,
//!   a cell, a module variable, `self`) is shaded first: Dijkstra's
//!   insertion barrier, [`Heap::barrier`].
//! - **Values moved within** a list or map (removing from the middle,
//!   reversing, sorting) may move an item from the part of a big container
//!   not yet traced (they are traced a chunk at a time) into the part
//!   already traced. So while marking, a container that is marked has
//!   every item that moved shaded: `list_remove` and `map_remove` the ones
//!   they shift, `list_reverse` the ones it swaps (a sort writes its items
//!   back through the barrier). The work is the size of the move, which
//!   the operation does anyway. A big map is the exception: a removal
//!   there moves few entries but shifts the positions of all after it, so
//!   the map keeps the collector's place in it and moves it down with
//!   them (`big_map.rs`).
//!
//! A host object is taken out of the heap while its methods run; putting it
//! back re-queues it for tracing if it was traced (`put_host`), since it may
//! have stored values inside itself.
//!
//! Growth is charged before it happens (`Heap::charge`), and every change
//! recounts the object's size (`Arena::resized`), so shrinking gives bytes
//! back as growing takes them.

use super::{Heap, Key, OutOfMemory};
use crate::host::HostObject;
use crate::value::{CellKey, HostKey, InstanceKey, ListKey, MapKey, Value};

use super::big_map::{BIG_FROM, CHUNK};
use super::objects::VALUE_SIZE;
use super::pool::rounded_capacity;

/// A list shrinks its buffer when fewer than a quarter of its slots are used
/// (to half, so that one that fills again does not regrow at once), unless
/// the buffer is this small.
const SHRINK_ABOVE: usize = 16;

/// The capacity a buffer of `len` items and capacity `cap` shrinks to, if
/// it should.
fn shrunk_capacity(len: usize, cap: usize) -> Option<usize> {
    (cap > SHRINK_ABOVE && len < cap / 4).then_some((cap / 2).max(len))
}

/// The capacity a list of `len` items and capacity `cap` grows to, to hold
/// `wanted`.
pub(super) fn list_grown_capacity(len: usize, cap: usize, wanted: usize) -> usize {
    debug_assert!(wanted > cap && cap >= len);
    rounded_capacity(wanted.max(cap * 2).max(4))
}

/// The capacity a full map of capacity `cap` grows to: double, but a chunk
/// at a time once big (`big_map.rs`).
pub(super) fn map_grown_capacity(cap: usize) -> usize {
    if cap >= BIG_FROM {
        cap + CHUNK
    } else {
        rounded_capacity((cap * 2).max(4))
    }
}

impl Heap {
    /// The write barrier: call it before storing `v` into a heap object.
    #[inline]
    pub(crate) fn barrier(&mut self, v: Value) {
        if self.gc.is_marking() {
            self.shade(v);
        }
    }

    /// Shades values that moved inside a marked container (see the module
    /// doc); `moved` writes them into the buffer it is given.
    pub(super) fn shade_moved(&mut self, moved: impl FnOnce(&Heap, &mut Vec<Value>)) {
        let mut scratch = std::mem::take(&mut self.gc.scratch);
        scratch.clear();
        moved(self, &mut scratch);
        for &v in &scratch {
            self.shade(v);
        }
        self.gc.scratch = scratch;
    }

    /// Whether moves inside list `l` must be shaded now.
    #[inline]
    pub(super) fn list_moves_need_shading(&self, l: ListKey) -> bool {
        self.gc.is_marking() && self.lists.is_marked(l, self.gc.epoch())
    }

    // ---- lists ----

    /// `list[index] = v` when `index` is in range; false, changing
    /// nothing, otherwise (the caller reports the error).
    #[inline]
    pub(crate) fn list_set_checked(&mut self, list: ListKey, index: i64, v: Value) -> bool {
        if self.work.has_tasks() {
            return self.list_set_during_work(list, index, v);
        }
        self.store_item(list, index, v)
    }

    /// `list_set_checked` while some call has long work in progress: the
    /// list may be being copied to grow (`grow.rs`). Out of line: the
    /// interpreter inlines `list_set_checked`, and its loop's code is
    /// sensitive to every call in it.
    #[inline(never)]
    fn list_set_during_work(&mut self, list: ListKey, index: i64, v: Value) -> bool {
        self.list_changes(list);
        self.store_item(list, index, v)
    }

    /// The write itself, barrier included.
    #[inline(always)]
    fn store_item(&mut self, list: ListKey, index: i64, v: Value) -> bool {
        let Some(slot) = self.lists.get_mut(list).and_then(|l| {
            usize::try_from(index)
                .ok()
                .and_then(|i| l.as_mut_slice().get_mut(i))
        }) else {
            return false;
        };
        *slot = v;
        self.barrier(v);
        true
    }

    /// `list[index] = v`; nothing for an index out of range.
    #[inline]
    pub fn list_set(&mut self, list: ListKey, index: usize, v: Value) {
        self.list_set_checked(list, index as i64, v);
    }

    /// Makes room for `extra` more items in `list`, charging the buffer's
    /// growth before it happens.
    pub(crate) fn list_reserve(&mut self, list: ListKey, extra: usize) -> Result<(), OutOfMemory> {
        let Some(l) = self.lists.get(list) else {
            return Ok(());
        };
        let (len, cap) = (l.len(), l.capacity());
        let wanted = len.saturating_add(extra);
        if wanted <= cap {
            return Ok(());
        }
        let new_cap = list_grown_capacity(len, cap, wanted);
        // Charged for the whole buffer: an inline list moving to one
        // copies its items there.
        let grows_by = new_cap - l.buffer_capacity();
        self.charge(grows_by.saturating_mul(VALUE_SIZE))?;
        self.list_changes(list);
        if let Some(l) = self.lists.get_mut(list) {
            l.grow_to(new_cap, &mut self.pool);
        }
        self.lists.resized(list);
        Ok(())
    }

    /// Out of line: inlined into the interpreter's `push` fast path, it
    /// made the interpreter loop keep its instruction pointer on the stack
    /// (about 15% slower on every benchmark program).
    #[inline(never)]
    pub fn list_push(&mut self, list: ListKey, v: Value) -> Result<(), OutOfMemory> {
        self.list_reserve(list, 1)?;
        self.barrier(v);
        if let Some(l) = self.list_mut(list) {
            l.push(v);
        }
        Ok(())
    }

    /// Inserts `v` before `index` (which the caller has checked). The items
    /// after it move towards the end: away from the traced part of the
    /// list, so they need no shading.
    pub fn list_insert(
        &mut self,
        list: ListKey,
        index: usize,
        v: Value,
    ) -> Result<(), OutOfMemory> {
        self.list_reserve(list, 1)?;
        self.barrier(v);
        if let Some(l) = self.list_mut(list) {
            l.insert(index.min(l.len()), v);
        }
        Ok(())
    }

    /// Removes and returns the last item.
    pub fn list_pop(&mut self, list: ListKey) -> Option<Value> {
        let v = self.list_mut(list)?.pop();
        self.list_shrink(list);
        v
    }

    /// Removes and returns the item at `index` (`None` out of range). The
    /// items after it move one place towards the front, where the list may
    /// already be traced: they are shaded.
    pub fn list_remove(&mut self, list: ListKey, index: usize) -> Option<Value> {
        let l = self.list_mut(list)?;
        if index >= l.len() {
            return None;
        }
        let v = l.remove(index);
        if self.list_moves_need_shading(list) {
            self.shade_moved(|heap, out| {
                if let Some(l) = heap.lists.get(list) {
                    out.extend_from_slice(&l[index..]);
                }
            });
        }
        self.list_shrink(list);
        Some(v)
    }

    /// Gives back a buffer mostly unused after removals.
    fn list_shrink(&mut self, list: ListKey) {
        if let Some(l) = self.list_mut(list)
            && let Some(cap) = shrunk_capacity(l.len(), l.buffer_capacity())
        {
            l.shrink_to(cap);
            self.lists.resized(list);
        }
    }

    // ---- maps ----

    /// Makes room for one more entry in `map`, charging the growth of its
    /// storage before it happens.
    pub(crate) fn map_reserve_one(&mut self, map: MapKey) -> Result<(), OutOfMemory> {
        let Some(m) = self.maps.get(map) else {
            return Ok(());
        };
        let cap = m.capacity();
        if m.len() < cap {
            return Ok(());
        }
        let new_cap = map_grown_capacity(cap);
        // Charged for the whole of the new storage: a map moving to it
        // copies its entries there.
        let grows_by = m.growth_bytes(new_cap);
        self.charge(grows_by)?;
        if let Some(m) = self.maps.get_mut(map) {
            m.grow_to(new_cap, &mut self.pool, &mut self.releasing);
        }
        Ok(())
    }

    pub fn map_insert(&mut self, map: MapKey, key: Key, v: Value) -> Result<(), OutOfMemory> {
        let Some(m) = self.maps.get_mut(map) else {
            return Ok(());
        };
        if let Some(slot) = m.get_mut(&key) {
            *slot = v;
            self.barrier(v);
            return Ok(());
        }
        self.map_reserve_one(map)?;
        self.barrier(key.to_value());
        self.barrier(v);
        let work = self.maps.get_mut(map).map_or(0, |m| m.push(key, v));
        self.worked_over(work);
        // Recounted after every insert and removal, growth or not: a map's
        // capacity also moves as its hash table reuses or leaves deleted
        // slots.
        self.maps.resized(map);
        Ok(())
    }

    /// `map[key] = v` when `key` is the entry at position `index` of a map
    /// that is not big (the field caches' fast path); false, changing
    /// nothing, otherwise.
    #[inline]
    pub(crate) fn map_set_at(&mut self, map: MapKey, index: usize, key: Key, v: Value) -> bool {
        let Some(slot) = self
            .maps
            .get_mut(map)
            .and_then(|m| m.cached_entry_mut(index))
            .filter(|(k, _)| **k == key)
            .map(|(_, slot)| slot)
        else {
            return false;
        };
        *slot = v;
        self.barrier(v);
        true
    }

    /// Removes `key`, keeping the other entries in order; returns its value.
    /// The entries after it move one place towards the front, where the
    /// collector may already have traced: in a map of a few thousand
    /// entries they are shaded; a big map moves the collector's place in
    /// it down with them instead. The removal is charged for the entries
    /// it moved.
    pub fn map_remove(&mut self, map: MapKey, key: Key) -> Option<Value> {
        let m = self.maps.get_mut(map)?;
        let was_big = m.is_big();
        let (index, v, work) = m.shift_remove(&key)?;
        self.worked_over(work);
        let marked = self.gc.is_marking() && self.maps.is_marked(map, self.gc.epoch());
        if marked && !was_big {
            self.shade_entries_from(map, index);
        }
        if let Some(m) = self.maps.get_mut(map)
            && let Some(cap) = m
                .back_from_big()
                .or_else(|| shrunk_capacity(m.len(), m.table_capacity()))
        {
            m.shrink_to(cap, &mut self.releasing);
            // Back in a table, the map is traced by position again: a
            // trace in progress may not have reached every entry.
            if marked && was_big && !m.is_big() {
                self.shade_entries_from(map, 0);
            }
        }
        self.maps.resized(map);
        Some(v)
    }

    /// Shades the entries of `map` from position `from` on.
    fn shade_entries_from(&mut self, map: MapKey, from: usize) {
        self.shade_moved(|heap, out| {
            if let Some(m) = heap.maps.get(map) {
                for (k, v) in m.iter().skip(from) {
                    out.extend([k.to_value(), *v]);
                }
            }
        });
    }

    // ---- cells, instances, host objects ----

    #[inline]
    pub fn cell_set(&mut self, cell: CellKey, v: Value) {
        self.barrier(v);
        if let Some(slot) = self.cells.get_mut(cell) {
            slot.0 = v;
        }
    }

    #[inline]
    pub fn instance_var_set(&mut self, instance: InstanceKey, slot: usize, v: Value) {
        self.barrier(v);
        self.module_written();
        if let Some(var) = self
            .instances
            .get_mut(instance)
            .and_then(|inst| inst.vars.get_mut(slot))
        {
            *var = v;
        }
    }

    /// Sets what `self` evaluates to inside an instance.
    pub(crate) fn instance_set_self(&mut self, instance: InstanceKey, v: Value) {
        self.barrier(v);
        if let Some(inst) = self.instances.get_mut(instance) {
            inst.self_value = v;
        }
    }

    /// Grows an instance's variables to `new_len` (a REPL entry declaring
    /// new ones), all `nil`.
    pub(crate) fn grow_instance(&mut self, key: InstanceKey, new_len: usize) {
        self.layout_changed();
        if let Some(inst) = self.instances.get_mut(key)
            && new_len > inst.vars.len()
        {
            inst.vars.resize(new_len, Value::Nil);
            self.instances.resized(key);
        }
    }

    /// Points an instance at the module of a REPL entry compiled in it.
    pub(crate) fn instance_set_module(
        &mut self,
        key: InstanceKey,
        module: std::sync::Arc<crate::bytecode::ModuleCode>,
    ) {
        // The instance may be traced already: its new code is shaded.
        if self.gc.is_marking() {
            self.gc.mark_proto(&module.main);
        }
        if let Some(inst) = self.instances.get_mut(key) {
            inst.module = module;
        }
    }

    /// Takes a host object out of the heap while its methods run, leaving
    /// `placeholder`.
    pub(crate) fn take_host(
        &mut self,
        host: HostKey,
        placeholder: Box<dyn HostObject>,
    ) -> Option<Box<dyn HostObject>> {
        let slot = self.hosts.get_mut(host)?;
        Some(std::mem::replace(slot, placeholder))
    }

    /// Puts a host object back. It may have stored values inside itself:
    /// while marking, one already traced is traced again.
    pub(crate) fn put_host(&mut self, host: HostKey, obj: Box<dyn HostObject>) {
        if let Some(slot) = self.hosts.get_mut(host) {
            *slot = obj;
        }
        self.gc.retrace_host(&mut self.hosts, host);
    }
}

#[cfg(test)]
mod tests {
    use crate::value::Value;
    use crate::vm::{Budget, Vm};

    /// A module list holding one record, and a cycle whose marking has
    /// traced it (black) but not yet ended.
    fn black_list_mid_cycle() -> (Vm, crate::value::ListKey) {
        let mut vm = Vm::new();
        let game = vm
            .load("t.ark", "let l = [{v: 1}]; let spare = [];")
            .unwrap();
        let Some(Value::List(l)) = vm.get_var(game, "l") else {
            panic!("a list")
        };
        vm.gc_step_forced(Budget::Instructions(1));
        // Trace whatever is queued, stopping before the atomic step.
        while vm.core.heap.gc.has_grey() {
            vm.gc_step(Budget::Instructions(1));
        }
        assert!(vm.core.heap.gc.is_marking());
        assert!(vm.core.heap.lists.is_marked(l, vm.core.heap.gc.epoch()));
        vm.validate_heap().unwrap();
        (vm, l)
    }

    #[test]
    fn the_validator_reports_a_store_that_skipped_the_barrier() {
        let (mut vm, l) = black_list_mid_cycle();
        let fresh = vm.core.heap.alloc_list(Vec::new()).unwrap();
        vm.core.heap.lists.get_mut(l).unwrap().as_mut_slice()[0] = Value::List(fresh);
        let error = vm.validate_heap().unwrap_err();
        assert!(error.contains("points at white"), "{error}");
    }

    #[test]
    fn the_validator_reports_a_size_that_was_not_recounted() {
        let (mut vm, l) = black_list_mid_cycle();
        let heap = &mut vm.core.heap;
        heap.lists.get_mut(l).unwrap().grow_to(1000, &mut heap.pool);
        let error = vm.validate_heap().unwrap_err();
        assert!(error.contains("list sizes"), "{error}");
    }

    #[test]
    fn the_same_store_through_the_heap_validates() {
        let (mut vm, l) = black_list_mid_cycle();
        let fresh = vm.core.heap.alloc_list(Vec::new()).unwrap();
        vm.core.heap.list_set(l, 0, Value::List(fresh));
        vm.core.heap.list_push(l, Value::List(fresh)).unwrap();
        vm.validate_heap().unwrap();
    }
}
