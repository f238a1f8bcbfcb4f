//! Inserting into and removing from the middle of a long list, a slice at
//! a time.
//!
//! `l.insert(0, x)` and `l.remove(0)` move every later item one place:
//! inside one instruction, a script shifting a list of 4,000,000 items had
//! resumes of 55 ms under a 1 ms budget (`cargo bench --features bench
//! --bench hostile`, `shift`). Moving the items in place a slice at a
//! time would leave the list holding one item twice between slices, for
//! any other call to see and for a call abandoned midway to leave behind.
//!
//! So in a call, an insertion or removal that moves more than
//! [`GROWN_IN_SLICES`] bytes of items builds the list's new buffer beside
//! it, with the item put in or left out, a slice at a time, as growth does
//! (`grow.rs`), and the last slice puts it in place. Until then the list is
//! as it was; another call (or the host) that changes it drops the new
//! buffer, and the instruction, run again, starts over. The new buffer is
//! counted in the heap's bytes while it is made; where the heap has no room
//! for it, the items are moved in place in one go, as outside a call.

use super::grow::{GROWN_IN_SLICES, Growing};
use super::long_work::{ITEM_WORK, Progress, Task};
use super::objects::VALUE_SIZE;
use super::write::list_grown_capacity;
use super::{Heap, SLICE_BYTES};
use crate::error::stale;
use crate::value::{ListKey, Value};

/// Items written into the new buffer in a slice.
const ITEMS_PER_SLICE: usize = SLICE_BYTES / ITEM_WORK;

/// The change the new buffer makes to the list.
#[derive(Clone, Copy)]
enum Edit {
    /// `v` goes in before `index`.
    Insert(usize, Value),
    /// The item at `index` is left out.
    Remove(usize),
}

impl Edit {
    /// Appends to `buffer` (the new list's first items) the new list's
    /// items up to `end`, taken from `items` (the list's).
    fn fill(self, buffer: &mut Vec<Value>, items: &[Value], end: usize) {
        while buffer.len() < end {
            let at = buffer.len();
            match self {
                Edit::Insert(index, _) | Edit::Remove(index) if at < index => {
                    buffer.extend_from_slice(&items[at..end.min(index)]);
                }
                Edit::Insert(index, v) if at == index => buffer.push(v),
                Edit::Insert(..) => buffer.extend_from_slice(&items[at - 1..end - 1]),
                Edit::Remove(_) => buffer.extend_from_slice(&items[at + 1..end + 1]),
            }
        }
    }
}

impl Heap {
    /// `list.insert(index, v)` (`index <=` its length) in a native: out of
    /// memory, or stopped unfinished with the list unchanged.
    pub(crate) fn list_insert_split(
        &mut self,
        list: ListKey,
        index: usize,
        v: Value,
    ) -> Result<(), String> {
        let len = self.lists.get(list).ok_or_else(stale)?.len();
        let moved = len - index;
        if !self.splits_shift(moved) {
            self.list_make_room(list, 1)?;
            self.worked_over(moved * ITEM_WORK);
            return self
                .list_insert(list, index, v)
                .map_err(|_| "out of memory".to_string());
        }
        self.rebuild(list, Task::InsertItem(list, index), Edit::Insert(index, v))?;
        // The only item of the new buffer the list did not hold.
        self.barrier(v);
        Ok(())
    }

    /// `list.remove(index)` (`index <` its length) in a native: the item,
    /// or stopped unfinished with the list unchanged.
    pub(crate) fn list_remove_split(
        &mut self,
        list: ListKey,
        index: usize,
    ) -> Result<Value, String> {
        let items = self.lists.get(list).ok_or_else(stale)?;
        let moved = items.len() - index - 1;
        if !self.splits_shift(moved) {
            self.worked_over(moved * ITEM_WORK);
            return self.list_remove(list, index).ok_or_else(stale);
        }
        let removed = items[index];
        self.rebuild(list, Task::RemoveItem(list, index), Edit::Remove(index))?;
        // The later items moved a place towards the front, where the
        // list's tracing may have passed them.
        if self.list_moves_need_shading(list) {
            self.gc.retrace_list(list);
        }
        Ok(removed)
    }

    /// Whether moving `moved` items is split between slices.
    fn splits_shift(&self, moved: usize) -> bool {
        moved * VALUE_SIZE >= GROWN_IN_SLICES && self.work.may_stop()
    }

    /// Fills the list's new buffer a slice more, and puts it in place once
    /// full; stops unfinished before. Where the heap has no room for a new
    /// buffer, makes the edit in place.
    fn rebuild(&mut self, list: ListKey, task: Task, edit: Edit) -> Result<(), String> {
        let l = self.lists.get(list).ok_or_else(stale)?;
        let new_len = match edit {
            Edit::Insert(..) => l.len() + 1,
            Edit::Remove(_) => l.len() - 1,
        };
        let (mut buffer, charged) = match self.work.take(|t| *t == task) {
            Some(Progress::Growing(growing)) => growing.into_parts(),
            _ => {
                let (len, cap) = (l.len(), l.capacity());
                let capacity = if new_len > cap {
                    list_grown_capacity(len, cap, new_len)
                } else {
                    cap
                };
                let charged = capacity * VALUE_SIZE;
                if self.charge(charged).is_err() {
                    return self.edit_in_place(list, edit);
                }
                self.work.bytes += charged;
                (Vec::with_capacity(capacity), charged)
            }
        };
        let items: &[Value] = self.lists.get(list).map_or(&[], |l| l);
        let start = buffer.len();
        let end = new_len.min(start + ITEMS_PER_SLICE);
        edit.fill(&mut buffer, items, end);
        self.worked_over((end - start) * ITEM_WORK);
        if end < new_len {
            let growing = Growing::from_parts(buffer, charged);
            return Err(self.work.stop(task, Progress::Growing(growing)));
        }
        self.put_new_buffer(list, buffer, charged);
        Ok(())
    }

    /// The edit made in place in one go.
    fn edit_in_place(&mut self, list: ListKey, edit: Edit) -> Result<(), String> {
        let (Edit::Insert(index, _) | Edit::Remove(index)) = edit;
        let len = self.lists.get(list).map_or(0, |l| l.len());
        self.worked_over(len.saturating_sub(index) * ITEM_WORK);
        match edit {
            Edit::Insert(index, v) => self
                .list_insert(list, index, v)
                .map_err(|_| "out of memory".to_string()),
            Edit::Remove(index) => self.list_remove(list, index).map(|_| ()).ok_or_else(stale),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ints(range: std::ops::Range<i64>) -> Vec<Value> {
        range.map(Value::Int).collect()
    }

    /// Filling in pieces of every size gives the list with the edit made.
    #[test]
    fn fill_makes_the_edited_list_in_any_pieces() {
        let items = ints(0..10);
        for step in 1..=11 {
            for index in 0..=10 {
                let mut inserted = Vec::new();
                let edit = Edit::Insert(index, Value::Int(-1));
                while inserted.len() < 11 {
                    let end = (inserted.len() + step).min(11);
                    edit.fill(&mut inserted, &items, end);
                }
                let mut expected = items.clone();
                expected.insert(index, Value::Int(-1));
                assert_eq!(inserted, expected, "insert at {index}, {step} at a time");
                if index == 10 {
                    continue;
                }
                let mut removed = Vec::new();
                while removed.len() < 9 {
                    let end = (removed.len() + step).min(9);
                    Edit::Remove(index).fill(&mut removed, &items, end);
                }
                let mut expected = items.clone();
                expected.remove(index);
                assert_eq!(removed, expected, "remove at {index}, {step} at a time");
            }
        }
    }
}
