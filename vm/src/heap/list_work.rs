//! Long work on one list or map, a slice at a time (`long_work.rs`):
//! `contains` and `index_of`, `copy` and `slice`, `reverse`, and a map's
//! `keys` and `values`.
//!
//! A list may hold tens of millions of items; walking it inside one
//! instruction took tens of milliseconds. In a call each of these does
//! `SLICE_BYTES / ITEM_WORK` items a slice and stops unfinished between
//! slices. Another call may change the container in the meantime: a
//! search and a copy go on with the items they find (as `join` does), and
//! a reverse whose list's length changed is an error (as a sort is).

use super::long_work::{ITEM_WORK, Progress, SameBits, Task};
use super::{Heap, SLICE_BYTES};
use crate::error::stale;
use crate::ops;
use crate::value::{ListKey, MapKey, Value};

/// Items walked in a slice.
const ITEMS_PER_SLICE: usize = SLICE_BYTES / ITEM_WORK;

/// The error of a reverse whose list another call shortened or lengthened.
const CHANGED: &str = "the list changed while it was reversed";

impl Heap {
    /// The index of the first item of `list` equal to `v`.
    pub(crate) fn list_position(
        &mut self,
        list: ListKey,
        v: Value,
    ) -> Result<Option<usize>, String> {
        let task = Task::FindItem(list, SameBits(v));
        let mut at = match self.work.take(|t| *t == task) {
            Some(Progress::Walking { at }) => at,
            _ => 0,
        };
        let debt = self.concat.work_debt;
        loop {
            let items = self.lists.get(list).ok_or_else(stale)?;
            let (start, end) = (at.min(items.len()), items.len().min(at + ITEMS_PER_SLICE));
            let found = items[start..end].iter().position(|&x| ops::equal(x, v));
            self.worked_over((found.map_or(end, |i| start + i + 1) - start) * ITEM_WORK);
            if let Some(i) = found {
                return Ok(Some(start + i));
            }
            at = end;
            if end == self.lists.get(list).map_or(0, |l| l.len()) {
                return Ok(None);
            }
            if self.slice_done_since(debt) && self.work.may_stop() {
                return Err(self.work.stop(task, Progress::Walking { at }));
            }
        }
    }

    /// A new list of the items of `list` from `a` to `b` (`a <= b <=` its
    /// length). If another call shortens the list while they are copied,
    /// the copy ends with its last item.
    pub(crate) fn list_copy(
        &mut self,
        list: ListKey,
        a: usize,
        b: usize,
    ) -> Result<ListKey, String> {
        let oom = |_| "out of memory".to_string();
        let task = Task::CopyItems(list, a, b);
        let (into, mut at) = match self.work.take(|t| *t == task) {
            Some(Progress::Copying { into, at }) => (into, at),
            _ if b - a <= ITEMS_PER_SLICE || !self.work.may_stop() => {
                self.worked_over((b - a) * ITEM_WORK);
                let items = self.lists.get(list).ok_or_else(stale)?;
                let part = items[a..b].to_vec();
                return self.alloc_list(part).map_err(oom);
            }
            _ => {
                let into = self.alloc_list(Vec::new()).map_err(oom)?;
                self.list_reserve(into, b - a).map_err(oom)?;
                (into, a)
            }
        };
        let debt = self.concat.work_debt;
        loop {
            let items = self.lists.get(list).ok_or_else(stale)?;
            let end = b.min(items.len()).min(at + ITEMS_PER_SLICE);
            let chunk = items[at.min(end)..end].to_vec();
            self.worked_over(chunk.len() * ITEM_WORK);
            for v in chunk {
                // Room was reserved for every item.
                self.list_push(into, v).map_err(oom)?;
            }
            at = end;
            if end == b.min(self.lists.get(list).map_or(0, |l| l.len())) {
                return Ok(into);
            }
            if self.slice_done_since(debt) && self.work.may_stop() {
                return Err(self.work.stop(task, Progress::Copying { into, at }));
            }
        }
    }

    /// A new list of the keys of `map` (`keys`), or of its values, in
    /// order. If another call changes the map while they are copied, the
    /// list holds what was at each position as it was copied.
    pub(crate) fn map_items(&mut self, map: MapKey, keys: bool) -> Result<ListKey, String> {
        let oom = |_| "out of memory".to_string();
        let task = Task::MapItems(map, keys);
        let item = |(k, v): (&super::Key, &Value)| if keys { k.to_value() } else { *v };
        let (into, mut at) = match self.work.take(|t| *t == task) {
            Some(Progress::Copying { into, at }) => (into, at),
            _ => {
                let len = self.maps.get(map).ok_or_else(stale)?.len();
                let into = self.alloc_list(Vec::new()).map_err(oom)?;
                self.list_reserve(into, len).map_err(oom)?;
                (into, 0)
            }
        };
        let debt = self.concat.work_debt;
        loop {
            let m = self.maps.get(map).ok_or_else(stale)?;
            let (len, end) = (m.len(), m.len().min(at + ITEMS_PER_SLICE));
            let chunk: Vec<Value> = (at..end).filter_map(|i| m.get_index(i)).map(item).collect();
            self.worked_over(chunk.len() * ITEM_WORK);
            for v in chunk {
                // Room was reserved for every item (more if the map grew).
                self.list_push(into, v).map_err(oom)?;
            }
            at = end;
            if end == len {
                return Ok(into);
            }
            if self.slice_done_since(debt) && self.work.may_stop() {
                return Err(self.work.stop(task, Progress::Copying { into, at }));
            }
        }
    }

    /// Reverses `list` in place.
    pub(crate) fn list_reverse(&mut self, list: ListKey) -> Result<(), String> {
        let task = Task::Reverse(list);
        let len = self.lists.get(list).ok_or_else(stale)?.len();
        let mut done = match self.work.take(|t| *t == task) {
            Some(Progress::Reversing { done, len: started }) if started == len => done,
            Some(_) => return Err(CHANGED.into()),
            None => 0,
        };
        let debt = self.concat.work_debt;
        let pairs = len / 2;
        loop {
            let end = pairs.min(done + ITEMS_PER_SLICE / 2);
            if let Some(l) = self.list_mut(list) {
                let items = l.as_mut_slice();
                for i in done..end {
                    items.swap(i, len - 1 - i);
                }
            }
            // The items swapped moved: while marking, into a part of the
            // list that may be traced already.
            if self.list_moves_need_shading(list) {
                self.shade_moved(|heap, out| {
                    if let Some(l) = heap.lists.get(list) {
                        out.extend_from_slice(&l[done..end]);
                        out.extend_from_slice(&l[len - end..len - done]);
                    }
                });
            }
            self.worked_over((end - done) * 2 * ITEM_WORK);
            done = end;
            if done == pairs {
                return Ok(());
            }
            if self.slice_done_since(debt) && self.work.may_stop() {
                return Err(self.work.stop(task, Progress::Reversing { done, len }));
            }
        }
    }
}
