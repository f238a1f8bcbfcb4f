//! `l.sort()`, a slice at a time (`long_work.rs`).
//!
//! A bottom-up merge sort (stable), between two lists of the heap's own
//! that only the sort holds (roots of the collector while it runs, traced
//! a chunk at a time like any list, every write through the barrier):
//! the items are checked and copied into one, merged back and forth in
//! passes of doubling width, and copied back into the list. Two long
//! strings are compared a slice at a time too. A list another call
//! changes while it is sorted gets the sorted items back if its length
//! is unchanged; if it is not, the sort is an error.

use std::cmp::Ordering;

use super::long_work::{ITEM_WORK, Progress, Task};
use super::{Heap, SLICE_BYTES};
use crate::error::stale;
use crate::ops;
use crate::value::{ListKey, Value};

/// The error of a sort whose list another call shortened or lengthened.
const CHANGED: &str = "the list changed while it was sorted";

pub(crate) struct Sorting {
    stage: Stage,
    /// Whether the items are strings (else numbers).
    strings: bool,
    /// The items, as merged so far, and where the next pass merges them.
    from: ListKey,
    into: ListKey,
}

enum Stage {
    /// Checking the items and copying them into `from`, `at` of them done.
    Copying { at: usize },
    /// Merging runs of `width` items: the pair of runs from `start`, the
    /// next items of each at `left` and `right`, `out` written; of two
    /// long strings being compared, `equal` bytes found equal.
    Merging {
        width: usize,
        start: usize,
        left: usize,
        right: usize,
        out: usize,
        equal: usize,
    },
    /// Copying the sorted items back, `at` of them done.
    Writing { at: usize },
}

impl Sorting {
    /// The lists it holds: roots of the collector.
    pub(super) fn roots(&self) -> [Value; 2] {
        [Value::List(self.from), Value::List(self.into)]
    }
}

impl Heap {
    /// Sorts `list` (numbers, or strings): stable, in place. In a call,
    /// work longer than a slice stops unfinished between slices.
    pub(crate) fn sort_list(&mut self, list: ListKey) -> Result<(), String> {
        let oom = |_| "out of memory".to_string();
        let task = Task::Sort(list);
        let mut sorting = match self.work.take(|t| *t == task) {
            Some(Progress::Sorting(s)) => s,
            _ => {
                let items = self.lists.get(list).ok_or_else(stale)?;
                if items.len() < 2 {
                    return Ok(());
                }
                let strings = matches!(items[0], Value::Str(_));
                let n = items.len();
                let from = self.alloc_list(Vec::new()).map_err(oom)?;
                self.list_reserve(from, n).map_err(oom)?;
                let into = self.alloc_list(Vec::new()).map_err(oom)?;
                self.list_reserve(into, n).map_err(oom)?;
                Sorting {
                    stage: Stage::Copying { at: 0 },
                    strings,
                    from,
                    into,
                }
            }
        };
        let debt = self.concat.work_debt;
        loop {
            if self.sort_slice(list, &mut sorting)? {
                return Ok(());
            }
            if self.slice_done_since(debt) && self.work.may_stop() {
                return Err(self.work.stop(task, Progress::Sorting(sorting)));
            }
        }
    }

    /// One slice of a sort; true once the list is sorted.
    fn sort_slice(&mut self, list: ListKey, s: &mut Sorting) -> Result<bool, String> {
        let n = self.lists.get(s.from).map_or(0, |l| l.len());
        match &mut s.stage {
            Stage::Copying { at } => {
                let items = self.lists.get(list).ok_or_else(stale)?;
                let (len, end) = (items.len(), items.len().min(*at + SLICE_BYTES / ITEM_WORK));
                let (Some(&first), true) = (items.first(), *at <= len) else {
                    return Err(CHANGED.into());
                };
                let chunk: Vec<Value> = items[*at..end].to_vec();
                for v in chunk {
                    self.check_sortable(first, v, s.strings)?;
                    self.list_push(s.from, v)
                        .map_err(|_| "out of memory".to_string())?;
                }
                self.worked_over((end - *at) * ITEM_WORK);
                *at = end;
                if end == len {
                    s.stage = Stage::Merging {
                        width: 1,
                        start: 0,
                        left: 0,
                        right: 1,
                        out: 0,
                        equal: 0,
                    };
                }
                Ok(false)
            }
            Stage::Merging {
                width,
                start,
                left,
                right,
                out,
                equal,
            } => {
                let mut work = 0;
                while work < SLICE_BYTES {
                    let mid = (*start + *width).min(n);
                    let end = (*start + 2 * *width).min(n);
                    let take_right = if *left < mid && *right < end {
                        let (a, b) = (self.item(s.from, *left), self.item(s.from, *right));
                        let Some((order, read)) = self.order_items(a, b, s.strings, *equal) else {
                            // Two long strings, equal so far.
                            *equal += SLICE_BYTES;
                            self.worked_over(work + SLICE_BYTES);
                            return Ok(false);
                        };
                        work += read;
                        *equal = 0;
                        order == Ordering::Greater
                    } else if *left < mid {
                        false
                    } else if *right < end {
                        true
                    } else {
                        // The pair of runs is merged: the next pair, or
                        // the next pass.
                        *start += 2 * *width;
                        if *start >= n {
                            std::mem::swap(&mut s.from, &mut s.into);
                            *width *= 2;
                            *start = 0;
                            *out = 0;
                            if *width >= n {
                                s.stage = Stage::Writing { at: 0 };
                                break;
                            }
                        }
                        *left = *start;
                        *right = (*start + *width).min(n);
                        continue;
                    };
                    let v = if take_right {
                        *right += 1;
                        self.item(s.from, *right - 1)
                    } else {
                        *left += 1;
                        self.item(s.from, *left - 1)
                    };
                    if *out < self.lists.get(s.into).map_or(0, |l| l.len()) {
                        self.list_set(s.into, *out, v);
                    } else {
                        self.list_push(s.into, v)
                            .map_err(|_| "out of memory".to_string())?;
                    }
                    *out += 1;
                    work += ITEM_WORK;
                }
                self.worked_over(work);
                Ok(false)
            }
            Stage::Writing { at } => {
                if self.lists.get(list).map(|l| l.len()) != Some(n) {
                    return Err(CHANGED.into());
                }
                let end = n.min(*at + SLICE_BYTES / ITEM_WORK);
                for i in *at..end {
                    let v = self.item(s.from, i);
                    self.list_set(list, i, v);
                }
                self.worked_over((end - *at) * ITEM_WORK);
                *at = end;
                Ok(end == n)
            }
        }
    }

    fn item(&self, list: ListKey, i: usize) -> Value {
        self.lists
            .get(list)
            .and_then(|l| l.get(i).copied())
            .unwrap_or(Value::Nil)
    }

    /// Whether `v` sorts with `first`'s kind (strings, or numbers but NaN);
    /// the error if not.
    fn check_sortable(&self, first: Value, v: Value, strings: bool) -> Result<(), String> {
        let fits = match v {
            Value::Str(k) => strings && self.strings.contains_key(k),
            Value::Float(f) => !strings && !f.is_nan(),
            Value::Int(_) => !strings,
            _ => false,
        };
        if fits {
            return Ok(());
        }
        Err(match v {
            Value::Float(f) if !strings && f.is_nan() => "cannot sort NaN".into(),
            Value::Str(k) if strings && !self.strings.contains_key(k) => stale(),
            _ => format!("cannot compare {} and {}", first.type_name(), v.type_name()),
        })
    }

    /// Orders two items, and the bytes read; for strings, from byte
    /// `equal` (those before it found equal), and `None` if a slice of
    /// them is equal too.
    fn order_items(
        &self,
        a: Value,
        b: Value,
        strings: bool,
        equal: usize,
    ) -> Option<(Ordering, usize)> {
        match (a, b) {
            (Value::Str(x), Value::Str(y)) if strings => {
                let (a, b) = (self.str(x).as_bytes(), self.str(y).as_bytes());
                let shorter = a.len().min(b.len());
                let end = shorter.min(equal + SLICE_BYTES);
                let order = a[equal..end].cmp(&b[equal..end]);
                if order == Ordering::Equal && end < shorter {
                    return None;
                }
                Some((order.then(a.len().cmp(&b.len())), end - equal + ITEM_WORK))
            }
            _ => Some((
                ops::compare_numbers(a, b).unwrap_or(Ordering::Equal),
                ITEM_WORK,
            )),
        }
    }
}
