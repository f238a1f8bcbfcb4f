//! `contains`, `find`, `starts_with` and `ends_with` on a string, a slice
//! at a time (`long_work.rs`).
//!
//! Searching a 256 MiB string takes tens of milliseconds. In a call, the
//! search goes through a window of `SLICE_BYTES` at a time (`find_within`:
//! each window also reads the pattern's length past its end, so that a
//! match across two windows is found), and stops unfinished between
//! windows; `find` counts the characters it passes as it goes, for the
//! index it returns. A pattern longer than a slice is looked for a slice
//! of work at a time instead (`long_pattern.rs`). A prefix or suffix is
//! compared a slice at a time.

use super::long_pattern::LongScan;
use super::long_work::{Progress, Task, find_within};
use super::{Heap, SLICE_BYTES};
use crate::value::{StrKey, Value};

/// Which search.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Search {
    Contains,
    /// The character index of the first match, or nil.
    Find,
    StartsWith,
    EndsWith,
}

impl Heap {
    /// `text.contains(pattern)` and its kin: their result. In a call, a
    /// search longer than a slice stops unfinished between slices.
    pub(crate) fn search(
        &mut self,
        text: StrKey,
        pattern: StrKey,
        search: Search,
    ) -> Result<Value, String> {
        let task = Task::Search(text, pattern, search);
        // Bytes of the text searched (or of the pattern matched), and the
        // characters in the text before `from` (for `find`).
        let (mut from, mut chars, mut scan) = match self.work.take(|t| *t == task) {
            Some(Progress::Searching { from, chars, scan }) => (from, chars, scan),
            _ => (0, 0, LongScan::default()),
        };
        let debt = self.concat.work_debt;
        loop {
            let (t, p) = (self.str(text), self.str(pattern));
            let (found, read) = match search {
                Search::StartsWith | Search::EndsWith => {
                    if p.len() > t.len() {
                        return Ok(Value::Bool(false));
                    }
                    let at = match search {
                        Search::StartsWith => 0,
                        _ => t.len() - p.len(),
                    };
                    let end = p.len().min(from + SLICE_BYTES);
                    let equal = t.as_bytes()[at + from..at + end] == p.as_bytes()[from..end];
                    let read = end - from;
                    from = end;
                    match (equal, end == p.len()) {
                        (false, _) => (Some(Value::Bool(false)), read),
                        (true, true) => (Some(Value::Bool(true)), read),
                        (true, false) => (None, read),
                    }
                }
                Search::Contains | Search::Find => {
                    let counted = |heap: &Heap, a: usize, b: usize| match search {
                        Search::Find if !heap.strings.get(text).is_some_and(|s| s.is_ascii()) => {
                            heap.str(text)[a..b].chars().count()
                        }
                        _ => b - a,
                    };
                    let (found, work) = find_within(t, p, from, SLICE_BYTES, &mut scan);
                    match found {
                        Ok(at) => {
                            let v = match search {
                                Search::Contains => Value::Bool(true),
                                _ => Value::Int((chars + counted(self, from, at)) as i64),
                            };
                            (Some(v), work)
                        }
                        Err(next) if next == t.len() => {
                            let v = match search {
                                Search::Contains => Value::Bool(false),
                                _ => Value::Nil,
                            };
                            (Some(v), work)
                        }
                        Err(next) => {
                            chars += counted(self, from, next);
                            from = next;
                            (None, work)
                        }
                    }
                }
            };
            self.worked_over(read);
            if let Some(v) = found {
                return Ok(v);
            }
            if self.slice_done_since(debt) && self.work.may_stop() {
                return Err(self
                    .work
                    .stop(task, Progress::Searching { from, chars, scan }));
            }
        }
    }
}
