//! `split` and `chars`: a list of a string's pieces, made a slice at a
//! time (`long_work.rs`).
//!
//! The pieces are counted first (for `chars`, the string knows), and the
//! list is made that long before any piece is, so that a string of a
//! hundred million separators is out of memory before it takes the
//! memory. The list is a root of the collector until it is done
//! (`LongWork::roots`): nothing else holds it yet.

use super::long_pattern::LongScan;
use super::long_work::{Building, ITEM_WORK, Progress, Source, Task, find_within};
use super::{Heap, SLICE_BYTES, VALUE_SIZE};
use crate::value::{ListKey, StrKey, Value};

/// A split on its way.
pub(crate) enum Splitting {
    /// Counting separators, `at` bytes in (a long separator's place in
    /// the search for it in `scan`).
    Counting {
        at: usize,
        count: usize,
        scan: LongScan,
    },
    /// Filling `list`: the next piece starts at `read`, and no separator
    /// starts before `scanned`; `piece` is a piece longer than a slice
    /// being made, and where it ends.
    Filling {
        list: ListKey,
        read: usize,
        scanned: usize,
        piece: Option<(usize, Box<Building>)>,
        scan: LongScan,
    },
}

impl Splitting {
    /// The piece being made, if any.
    pub(super) fn into_piece(self) -> Option<Box<Building>> {
        match self {
            Splitting::Filling { piece, .. } => piece.map(|(_, b)| b),
            Splitting::Counting { .. } => None,
        }
    }

    /// Bytes of buffers it holds, counted in the heap's.
    pub(super) fn charged(&self) -> usize {
        match self {
            Splitting::Filling {
                piece: Some((_, b)),
                ..
            } => b.charged,
            _ => 0,
        }
    }
}

impl Heap {
    /// `text.split(sep)` (`sep` not empty), or with no separator
    /// `text.chars()`: a new list of the pieces. In a call, work longer
    /// than a slice stops unfinished between slices.
    pub(crate) fn split_long(
        &mut self,
        text: StrKey,
        sep: Option<StrKey>,
    ) -> Result<ListKey, String> {
        let task = Task::Split(text, sep);
        let mut splitting = match self.work.take(|t| *t == task) {
            Some(Progress::Splitting(s)) => s,
            _ => match sep {
                Some(_) => Splitting::Counting {
                    at: 0,
                    count: 1,
                    scan: LongScan::default(),
                },
                None => self.list_for(self.strings.get(text).map_or(0, |s| s.char_len))?,
            },
        };
        let debt = self.concat.work_debt;
        loop {
            let done = match sep {
                Some(sep) => self.split_slice(text, sep, &mut splitting)?,
                None => self.chars_slice(text, &mut splitting)?,
            };
            if let Some(list) = done {
                return Ok(list);
            }
            if self.slice_done_since(debt) && self.work.may_stop() {
                return Err(self.work.stop(task, Progress::Splitting(splitting)));
            }
        }
    }

    /// The list for `count` pieces, empty, its room counted against the
    /// heap limit before it is taken.
    fn list_for(&mut self, count: usize) -> Result<Splitting, String> {
        let oom = |_| "out of memory".to_string();
        self.charge(count.saturating_mul(VALUE_SIZE)).map_err(oom)?;
        let list = self.alloc_list(Vec::new()).map_err(oom)?;
        self.list_reserve(list, count).map_err(oom)?;
        Ok(Splitting::Filling {
            list,
            read: 0,
            scanned: 0,
            piece: None,
            scan: LongScan::default(),
        })
    }

    /// One slice of `split`: the list once it is full.
    fn split_slice(
        &mut self,
        text_key: StrKey,
        sep_key: StrKey,
        splitting: &mut Splitting,
    ) -> Result<Option<ListKey>, String> {
        let (len, sep_len) = (self.str(text_key).len(), self.str(sep_key).len());
        match splitting {
            Splitting::Counting { at, count, scan } => {
                let (mut found, mut work) = (0, 0);
                while *at < len && work + found * ITEM_WORK < SLICE_BYTES {
                    let (text, sep) = (self.str(text_key), self.str(sep_key));
                    let (next, worked) = find_within(text, sep, *at, SLICE_BYTES, scan);
                    work += worked;
                    match next {
                        Ok(end) => {
                            found += 1;
                            *at = end + sep_len;
                        }
                        Err(scanned) => *at = scanned,
                    }
                }
                *count += found;
                self.worked_over(work + found * ITEM_WORK);
                if *at >= len {
                    *splitting = self.list_for(*count)?;
                }
                Ok(None)
            }
            Splitting::Filling {
                list,
                read,
                scanned,
                piece,
                scan,
            } => {
                let list = *list;
                // A piece longer than a slice, made a slice at a time.
                if let Some((end, b)) = piece {
                    let end = *end;
                    let part = Source::Part(text_key, *read, end);
                    let key = match self.build_slice(&part, None, b) {
                        Ok(Some(key)) => key,
                        Ok(None) => return Ok(None),
                        Err(e) => {
                            self.release_buffer(b);
                            return Err(e);
                        }
                    };
                    *piece = None;
                    self.push_piece(list, key)?;
                    if end == len {
                        return Ok(Some(list));
                    }
                    (*read, *scanned) = (end + sep_len, end + sep_len);
                }
                let (mut pieces, mut work) = (0, 0);
                while work + pieces * ITEM_WORK < SLICE_BYTES {
                    let (text, sep) = (self.str(text_key), self.str(sep_key));
                    let (next, worked) = find_within(text, sep, *scanned, SLICE_BYTES, scan);
                    work += worked;
                    let end = match next {
                        Ok(end) => end,
                        Err(next) if next < len => {
                            *scanned = next;
                            continue;
                        }
                        Err(_) => len,
                    };
                    pieces += 1;
                    if end - *read > SLICE_BYTES {
                        *scanned = end;
                        *piece = Some((end, Box::default()));
                        break;
                    }
                    let key = self.intern_part(text_key, *read, end)?;
                    self.push_piece(list, key)?;
                    if end == len {
                        self.worked_over(work + pieces * ITEM_WORK);
                        return Ok(Some(list));
                    }
                    (*read, *scanned) = (end + sep_len, end + sep_len);
                }
                self.worked_over(work + pieces * ITEM_WORK);
                Ok(None)
            }
        }
    }

    /// One slice of `chars`: the list once it is full.
    fn chars_slice(
        &mut self,
        text_key: StrKey,
        splitting: &mut Splitting,
    ) -> Result<Option<ListKey>, String> {
        let Splitting::Filling { list, read, .. } = splitting else {
            unreachable!("chars starts filling")
        };
        let list = *list;
        let end = self
            .str(text_key)
            .len()
            .min(*read + SLICE_BYTES / ITEM_WORK);
        while *read < end {
            let text = self.str(text_key);
            let c = text[*read..].chars().next().unwrap_or_default();
            let key = self
                .char_string(c)
                .map_err(|_| "out of memory".to_string())?;
            self.push_piece(list, key)?;
            *read += c.len_utf8();
        }
        self.worked_over(SLICE_BYTES);
        Ok((*read == self.str(text_key).len()).then_some(list))
    }

    /// Bytes `start..end` of string `text` (character boundaries),
    /// interned.
    fn intern_part(&mut self, text: StrKey, start: usize, end: usize) -> Result<StrKey, String> {
        self.intern_range(text, start, end)
            .map_err(|_| "out of memory".to_string())
    }

    fn push_piece(&mut self, list: ListKey, piece: StrKey) -> Result<(), String> {
        self.list_push(list, Value::Str(piece))
            .map_err(|_| "out of memory".to_string())
    }
}
