//! Long work on strings and lists, a slice at a time.
//!
//! Copying, hashing or comparing a string of 256 MiB takes tens to
//! hundreds of milliseconds, sorting a long list as long: done inside one
//! instruction, no budget could stop it. So an instruction whose work is
//! longer than a slice
//! (`SLICE_BYTES`) does one slice, keeps where it got to, and stops
//! unfinished; the interpreter checks the budget (which may suspend the
//! call) and runs the instruction again. Its operands are still in its
//! registers, so, run again, it finds its progress by them (`Task`) and
//! goes on from there. Strings never change and a key names one string
//! for good, so progress on them never goes stale. (`split` and `chars`
//! are in `split.rs`, `sort` in `sort.rs`, searches of strings in
//! `search.rs`, walks and copies of lists and maps in `list_work.rs`, a
//! long list's growth in `grow.rs`, and printing's walk in `printer.rs`.)
//!
//! Progress belongs to a call: game scripts take turns on one heap, and
//! each call's long work must get done in its own resumes. Outside a call
//! (a host reading a value) the work runs to its end at once.
//!
//! A string is built in a buffer counted against the heap limit, then
//! measured (hashed and its characters counted, in the chunks the
//! interner hashes every string in: `Heap::hash_text`), looked up (an
//! equal string found is compared a slice at a time, so that equal
//! strings stay one key) and moved into the heap without a copy.

use std::cmp::Ordering;
use std::hash::{BuildHasher, Hasher};

use super::grow::Growing;
use super::long_pattern::{LongScan, find_long, is_long};
use super::search::Search;
use super::sort::Sorting;
use super::split::Splitting;
use super::{Heap, SeededHasher, StrObj};
use crate::arena::HeapSize;
use crate::printer::{self, Walk};
use crate::value::{ListKey, MapKey, StrKey, Value};
use crate::vm::{CallId, Natives};

/// The bytes of work in one slice: copied, hashed, compared or read. At
/// the slowest (a case change of non-ASCII text) well under a millisecond.
pub(crate) const SLICE_BYTES: usize = 64 * 1024;

/// Bytes of work an item counts as: a list item checked, copied or
/// moved, a piece of a split made, a list item's length added up.
pub(super) const ITEM_WORK: usize = 16;

/// Room a string being built keeps for the next slice's writing (a case
/// change may write three bytes for each one read).
const ROOM: usize = 4 * SLICE_BYTES;

/// The long work of the calls running on a heap.
#[derive(Default)]
pub(crate) struct LongWork {
    /// The call running now, whose work may stop unfinished; `None` while
    /// no call runs (work then runs to its end).
    running: Option<CallId>,
    /// Set when an instruction's work stopped unfinished: the interpreter
    /// runs the instruction again (`LongWork::take_unfinished`).
    unfinished: bool,
    /// Each call's work in progress (a call has at most one).
    tasks: Vec<(CallId, Task, Progress)>,
    /// Bytes held by the buffers of work in progress, counted in the heap's.
    pub(crate) bytes: usize,
}

/// What is being worked on: the operation and its operands.
#[derive(Clone, PartialEq, Debug)]
pub(crate) enum Task {
    /// Ordering two strings.
    Order(StrKey, StrKey),
    /// Making a string.
    Build(Source),
    /// Splitting a string on a separator (`None`: into its characters).
    Split(StrKey, Option<StrKey>),
    /// Sorting a list.
    Sort(ListKey),
    /// Looking for an item equal to a value in a list (`list_work.rs`).
    FindItem(ListKey, SameBits),
    /// Copying a list's items from one index to another into a new list.
    CopyItems(ListKey, usize, usize),
    /// Reversing a list.
    Reverse(ListKey),
    /// Making the list of a map's keys (true) or values.
    MapItems(MapKey, bool),
    /// Searching a string for another (`search.rs`).
    Search(StrKey, StrKey, Search),
    /// Growing a list's buffer (`grow.rs`).
    GrowList(ListKey),
    /// Inserting an item before an index of a list (`shift.rs`).
    InsertItem(ListKey, usize),
    /// Removing the item at an index of a list (`shift.rs`).
    RemoveItem(ListKey, usize),
}

impl Task {
    /// Whether it makes a new buffer for `list` (`Progress::Growing`).
    pub(super) fn rebuilds(&self, list: ListKey) -> bool {
        match *self {
            Task::GrowList(l) | Task::InsertItem(l, _) | Task::RemoveItem(l, _) => l == list,
            _ => false,
        }
    }
}

/// Where a string being built comes from.
#[derive(Clone, PartialEq, Debug)]
pub(crate) enum Source {
    /// The parts one after the other (`a + b`, `a + b + c`).
    Concat(Box<[StrKey]>),
    /// A string so many times.
    Repeat(StrKey, usize),
    Upper(StrKey),
    Lower(StrKey),
    /// A byte range of a string, its ends on character boundaries.
    Part(StrKey, usize, usize),
    /// A string with every `from` (not empty) replaced by `to`.
    Replace {
        text: StrKey,
        from: StrKey,
        to: StrKey,
    },
    /// A list's items, shown as `str` shows them, with `sep` between.
    Join {
        list: ListKey,
        sep: StrKey,
    },
    /// Values as `print` shows them, a space between.
    Show(Shown),
}

/// The values a `print` or `str` shows, the same when every value is the
/// same bit for bit (a NaN is the same NaN: its call finds its progress).
#[derive(Clone, Debug)]
pub(crate) struct Shown(pub Box<[Value]>);

impl PartialEq for Shown {
    fn eq(&self, other: &Shown) -> bool {
        self.0.len() == other.0.len()
            && self
                .0
                .iter()
                .zip(&other.0[..])
                .all(|(&a, &b)| SameBits(a) == SameBits(b))
    }
}

/// A value of a task, the same as another only bit for bit (a NaN is the
/// same NaN).
#[derive(Clone, Copy, Debug)]
pub(crate) struct SameBits(pub Value);

impl PartialEq for SameBits {
    fn eq(&self, other: &SameBits) -> bool {
        let bits = |v: Value| match v {
            Value::Float(f) => Some(f.to_bits() as u128),
            Value::Vec3(v) => Some(
                (v.x.to_bits() as u128)
                    | (v.y.to_bits() as u128) << 32
                    | (v.z.to_bits() as u128) << 64,
            ),
            _ => None,
        };
        match (bits(self.0), bits(other.0)) {
            (Some(x), Some(y)) => x == y,
            _ => self.0 == other.0,
        }
    }
}

pub(super) enum Progress {
    /// The bytes of both strings found equal so far.
    Ordering {
        equal: usize,
    },
    Building(Building),
    Splitting(Splitting),
    Sorting(Sorting),
    Growing(Growing),
    /// Items of a list looked at.
    Walking {
        at: usize,
    },
    /// The new list, and the index of the next item copied into it.
    Copying {
        into: ListKey,
        at: usize,
    },
    /// Pairs of items swapped, of a list of `len`.
    Reversing {
        done: usize,
        len: usize,
    },
    /// Bytes searched (or matched), the characters before them, and a
    /// long pattern's place.
    Searching {
        from: usize,
        chars: usize,
        scan: LongScan,
    },
}

impl Progress {
    /// Bytes of buffers it holds, counted in the heap's.
    fn charged(&self) -> usize {
        match self {
            Progress::Ordering { .. }
            | Progress::Sorting(_)
            | Progress::Searching { .. }
            | Progress::Walking { .. }
            | Progress::Copying { .. }
            | Progress::Reversing { .. } => 0,
            Progress::Building(b) => b.charged,
            Progress::Splitting(s) => s.charged(),
            Progress::Growing(g) => g.charged,
        }
    }
}

/// A string on its way: written, then measured, then looked up.
#[derive(Default)]
pub(super) struct Building {
    text: String,
    /// Where the source is read next: which of its pieces (a part, a list
    /// item, or between a separator and an item), and how far into it.
    piece: usize,
    read: usize,
    /// A second place in the source (where a replacement's text goes on).
    mark: usize,
    /// A long pattern's place in the search for it (`replace`).
    scan: LongScan,
    /// The value being shown (`Source::Show`), where its printing got to,
    /// and the work of its steps not charged yet.
    walk: Option<Box<Walk>>,
    steps_work: usize,
    stage: Stage,
    /// Bytes of the buffer counted against the heap limit.
    pub(super) charged: usize,
}

#[derive(Default)]
enum Stage {
    /// Adding up the lengths of a list's strings (`join`), `item` of them
    /// done: a result too long is an error before any of it is written.
    Sizing { item: usize, total: usize },
    #[default]
    Writing,
    /// Hashing and counting characters, `at` bytes done.
    Measuring {
        at: usize,
        hasher: <SeededHasher as BuildHasher>::Hasher,
        chars: usize,
    },
    /// Looking for an equal string: those `verified` differ; `checking`
    /// is being compared, `at` bytes found equal so far.
    Finding {
        hash: u64,
        chars: usize,
        verified: Vec<StrKey>,
        checking: Option<(StrKey, usize)>,
    },
}

impl LongWork {
    /// Marks `call` as the one running (`None`: none), returning the one
    /// marked before, to put back when it ends.
    pub(crate) fn set_running(&mut self, call: Option<CallId>) -> Option<CallId> {
        self.unfinished = false;
        std::mem::replace(&mut self.running, call)
    }

    /// Whether the last instruction stopped unfinished; clears it.
    #[cold]
    pub(crate) fn take_unfinished(&mut self) -> bool {
        std::mem::take(&mut self.unfinished)
    }

    /// Whether any call has work in progress.
    #[inline]
    pub(super) fn has_tasks(&self) -> bool {
        !self.tasks.is_empty()
    }

    /// Takes out every call's work on the tasks `is_it` picks (several
    /// calls may each be making a new buffer for one list); the progress
    /// of one of them, with the others' buffers uncounted and dropped.
    pub(super) fn drop_task(&mut self, is_it: impl Fn(&Task) -> bool) -> Option<Progress> {
        let mut found = None;
        while let Some(i) = self.tasks.iter().position(|(_, t, _)| is_it(t)) {
            let (_, _, progress) = self.tasks.swap_remove(i);
            if let Some(earlier) = found.replace(progress) {
                self.bytes -= earlier.charged();
            }
        }
        found
    }

    /// Takes out the work of a call that ended or was abandoned.
    fn forget(&mut self, call: CallId) -> Option<Progress> {
        let i = self.tasks.iter().position(|(c, _, _)| *c == call)?;
        Some(self.tasks.swap_remove(i).2)
    }

    /// The values that work in progress holds and nothing else does yet
    /// (a list being filled): roots of the collector.
    pub(crate) fn roots(&self) -> impl Iterator<Item = Value> + '_ {
        self.tasks
            .iter()
            .flat_map(|(_, _, progress)| match progress {
                Progress::Splitting(Splitting::Filling { list, .. })
                | Progress::Copying { into: list, .. } => vec![Value::List(*list)],
                Progress::Sorting(sorting) => sorting.roots().to_vec(),
                _ => Vec::new(),
            })
    }

    /// The running call's progress on the task `is_it` picks, taken out;
    /// `None` if it has none (it may have had progress on another task,
    /// which is dropped: that instruction is over, by an error).
    pub(super) fn take(&mut self, is_it: impl Fn(&Task) -> bool) -> Option<Progress> {
        let call = self.running?;
        let i = self.tasks.iter().position(|(c, _, _)| *c == call)?;
        let (_, task, progress) = self.tasks.swap_remove(i);
        if is_it(&task) {
            return Some(progress);
        }
        self.bytes -= progress.charged();
        None
    }

    /// Whether work may stop unfinished: only in a call.
    pub(super) fn may_stop(&self) -> bool {
        self.running.is_some()
    }

    /// Keeps `progress` on `task` for the running call, and marks the
    /// instruction unfinished: the error it returns (which the interpreter
    /// sees is not one: `take_unfinished`).
    pub(super) fn stop(&mut self, task: Task, progress: Progress) -> String {
        if let Some(call) = self.running {
            self.tasks.push((call, task, progress));
        }
        self.stop_here()
    }

    /// Marks the instruction unfinished, its progress kept elsewhere (the
    /// offsets of a string's characters): the error it returns.
    fn stop_here(&mut self) -> String {
        self.unfinished = true;
        String::from("unfinished")
    }
}

impl Heap {
    /// The hash of a string's text: fed to the hasher a slice at a time, as
    /// a long string being built is measured.
    pub(crate) fn hash_text(&self, text: &str) -> u64 {
        let mut hasher = self.string_hasher.build_hasher();
        for chunk in text.as_bytes().chunks(SLICE_BYTES) {
            hasher.write(chunk);
        }
        hasher.finish()
    }

    /// A call ended or was abandoned: its long work is dropped, and its
    /// buffers and register stack are given back a piece at a time.
    pub(crate) fn call_ended(&mut self, call: CallId, stack: Vec<Value>) {
        let _freed_now = self.releasing.free_values(stack);
        self.forget_work(call);
    }

    /// Drops the long work of a call that ended or was abandoned, its
    /// buffers given back a piece at a time.
    #[inline]
    pub(crate) fn forget_work(&mut self, call: CallId) {
        // Most calls leave none (a host's batch ends thousands a frame).
        if !self.work.tasks.is_empty() {
            self.drop_work(call);
        }
    }

    #[cold]
    fn drop_work(&mut self, call: CallId) {
        match self.work.forget(call) {
            Some(Progress::Building(mut b)) => self.release_buffer(&mut b),
            Some(Progress::Splitting(s)) => {
                if let Some(mut b) = s.into_piece() {
                    self.release_buffer(&mut b);
                }
            }
            Some(Progress::Growing(g)) => self.release_growth(g),
            _ => {}
        }
    }

    /// Gives back the buffer of a string built and not kept.
    pub(super) fn release_buffer(&mut self, b: &mut Building) {
        self.work.bytes -= b.charged;
        b.charged = 0;
        self.releasing.free_buffer(std::mem::take(&mut b.text));
    }

    /// Whether a slice of work was charged since the work debt was
    /// `debt`: short work goes on to its end in one go.
    pub(super) fn slice_done_since(&self, debt: u64) -> bool {
        self.concat.work_debt.saturating_sub(debt) as usize * super::BYTES_PER_UNIT >= SLICE_BYTES
    }

    /// The byte offset of character `index` of string `s` (not all
    /// ASCII), found through the offsets kept for long strings
    /// (`char_offsets.rs`). Charges the bytes read. In a call, a walk
    /// longer than a slice stops unfinished between slices.
    pub(crate) fn char_offset(&mut self, s: StrKey, index: usize) -> Result<usize, String> {
        let budget = if self.work.may_stop() {
            SLICE_BYTES
        } else {
            usize::MAX
        };
        match self.char_offsets.byte_offset(s, self.str(s), index, budget) {
            Ok((at, read)) => {
                self.worked_over(read);
                Ok(at)
            }
            Err(read) => {
                self.worked_over(read);
                Err(self.work.stop_here())
            }
        }
    }

    /// Orders two strings by bytes, and the bytes read this time. Strings
    /// longer than a slice are compared a slice at a time in a call (an
    /// unfinished error between slices).
    pub(crate) fn order_strings(
        &mut self,
        x: StrKey,
        y: StrKey,
    ) -> Result<(Ordering, usize), String> {
        // Short strings (a tokenizer's characters), whose reading costs
        // nothing (`BYTES_PER_UNIT`), at once.
        let (a, b) = (self.str(x).as_bytes(), self.str(y).as_bytes());
        if a.len().min(b.len()) < super::BYTES_PER_UNIT {
            return Ok((a.cmp(b), 0));
        }
        let mut equal = match self.work.take(|t| *t == Task::Order(x, y)) {
            Some(Progress::Ordering { equal }) => equal,
            _ => 0,
        };
        let start = equal;
        loop {
            let (a, b) = (self.str(x).as_bytes(), self.str(y).as_bytes());
            let shorter = a.len().min(b.len());
            let end = shorter.min(equal + SLICE_BYTES);
            let order = a[equal..end].cmp(&b[equal..end]);
            equal = end;
            if order != Ordering::Equal || end == shorter {
                let order = order.then(a.len().cmp(&b.len()));
                return Ok((order, equal - start));
            }
            if self.work.may_stop() {
                self.worked_over(equal - start);
                return Err(self
                    .work
                    .stop(Task::Order(x, y), Progress::Ordering { equal }));
            }
        }
    }

    /// The string `source` makes, interned: `string too long` past the
    /// string limit, `out of memory` past the heap's. In a call, work longer
    /// than a slice stops unfinished between slices.
    pub(crate) fn intern_long(
        &mut self,
        source: Source,
        natives: Option<&Natives>,
    ) -> Result<StrKey, String> {
        let mut b = match self
            .work
            .take(|t| matches!(t, Task::Build(s) if *s == source))
        {
            Some(Progress::Building(b)) => b,
            _ => {
                if self
                    .exact_len(&source)
                    .is_some_and(|n| n > self.max_string_len)
                {
                    return Err("string too long".into());
                }
                Building {
                    stage: match source {
                        Source::Join { .. } => Stage::Sizing { item: 0, total: 0 },
                        _ => Stage::Writing,
                    },
                    ..Building::default()
                }
            }
        };
        let debt = self.concat.work_debt;
        loop {
            match self.build_slice(&source, natives, &mut b) {
                Ok(Some(key)) => return Ok(key),
                Ok(None) => {}
                Err(e) => {
                    self.release_buffer(&mut b);
                    return Err(e);
                }
            }
            // The buffer stays counted, with the progress that holds it.
            if self.slice_done_since(debt) && self.work.may_stop() {
                return Err(self.work.stop(Task::Build(source), Progress::Building(b)));
            }
        }
    }

    /// The length of what `source` makes, where it is known before it is
    /// built.
    fn exact_len(&self, source: &Source) -> Option<usize> {
        match source {
            Source::Concat(parts) => Some(parts.iter().map(|&p| self.str(p).len()).sum()),
            Source::Repeat(s, n) => self.str(*s).len().checked_mul(*n).or(Some(usize::MAX)),
            Source::Part(_, a, b) => Some(b - a),
            _ => None,
        }
    }

    /// The longest string `source` may make (its buffer `charged` bytes).
    fn string_limit(&self, source: &Source, charged: usize) -> usize {
        self.printed_limit(source, charged)
            .unwrap_or(self.max_string_len)
    }

    /// For a printed text (`str`, `print`, `join`), its limit: the
    /// printer's, and where the heap has no more room, which a text too
    /// long to print would fill (so it is too long, not out of memory).
    fn printed_limit(&self, source: &Source, charged: usize) -> Option<usize> {
        match source {
            Source::Join { .. } | Source::Show(_) => {
                let others = self.bytes() - charged;
                Some(printer::limit(self).min(self.limit.saturating_sub(others)))
            }
            _ => None,
        }
    }

    /// The length to make room for first: the exact length, or for a
    /// case change or a replacement the text's own.
    fn size_hint(&self, source: &Source) -> Option<usize> {
        match source {
            Source::Upper(s) | Source::Lower(s) | Source::Replace { text: s, .. } => {
                Some(self.str(*s).len())
            }
            _ => self.exact_len(source),
        }
    }

    /// One slice of a string's making; its key once it is made.
    pub(super) fn build_slice(
        &mut self,
        source: &Source,
        natives: Option<&Natives>,
        b: &mut Building,
    ) -> Result<Option<StrKey>, String> {
        match &mut b.stage {
            Stage::Sizing { item, total } => {
                let Source::Join { list, sep } = source else {
                    unreachable!("only a join is sized")
                };
                let items = self.lists.get(*list).map_or(&[][..], |l| &l[..]);
                let (len, end) = (
                    items.len(),
                    items.len().min(*item + SLICE_BYTES / ITEM_WORK),
                );
                let sep = self.str(*sep).len();
                for &v in &items[*item..end] {
                    // Other values are shown as they are written.
                    if let Value::Str(s) = v {
                        *total = total.saturating_add(self.str(s).len());
                    }
                }
                *total = total.saturating_add(sep.saturating_mul(end - *item));
                self.worked_over((end - *item) * ITEM_WORK);
                *item = end;
                if *total > self.string_limit(source, 0).saturating_add(sep) {
                    return Err("string too long".into());
                }
                if end == len {
                    let total = *total;
                    b.stage = Stage::Writing;
                    self.charge_buffer(b, total)?;
                }
                Ok(None)
            }
            Stage::Writing => {
                self.reserve_for_slice(source, b)?;
                let before = b.text.len();
                let written = self.write_slice(source, natives, b)?;
                if b.text.len() > self.string_limit(source, b.charged) {
                    return Err("string too long".into());
                }
                // A write past the room made (a list item shown whole).
                let most = self.printed_limit(source, b.charged);
                self.count_buffer(b, most.unwrap_or(usize::MAX))?;
                self.worked_over(b.text.len() - before + std::mem::take(&mut b.steps_work));
                if written {
                    b.stage = Stage::Measuring {
                        at: 0,
                        hasher: self.string_hasher.build_hasher(),
                        chars: 0,
                    };
                }
                Ok(None)
            }
            Stage::Measuring { at, hasher, chars } => {
                let bytes = b.text.as_bytes();
                let end = bytes.len().min(*at + SLICE_BYTES);
                let chunk = &bytes[*at..end];
                if !chunk.is_empty() {
                    hasher.write(chunk);
                }
                // Every byte but a continuation byte starts a character.
                *chars += chunk.iter().filter(|&&byte| (byte as i8) >= -0x40).count();
                *at = end;
                self.worked_over(chunk.len());
                if end == bytes.len() {
                    b.stage = Stage::Finding {
                        hash: hasher.finish(),
                        chars: *chars,
                        verified: Vec::new(),
                        checking: None,
                    };
                }
                Ok(None)
            }
            Stage::Finding {
                hash,
                chars,
                verified,
                checking,
            } => {
                let (hash, chars) = (*hash, *chars);
                if let Some((candidate, at)) = checking {
                    let text = b.text.as_bytes();
                    let Some(found) = self.strings.get(*candidate) else {
                        *checking = None;
                        return Ok(None);
                    };
                    let end = text.len().min(*at + SLICE_BYTES);
                    let same = found.text.as_bytes()[*at..end] == text[*at..end];
                    self.worked_over(end - *at);
                    *at = end;
                    if !same {
                        verified.push(*candidate);
                        *checking = None;
                    } else if end == text.len() {
                        let key = *candidate;
                        self.gc.revive_string(&mut self.strings, key);
                        self.release_buffer(b);
                        return Ok(Some(key));
                    }
                    return Ok(None);
                }
                let len = b.text.len();
                let strings = &self.strings;
                let candidate = self.interner.find(hash, |k| {
                    !verified.contains(&k)
                        && strings
                            .get(k)
                            .is_some_and(|s| s.hash == hash && s.text.len() == len)
                });
                if let Some(candidate) = candidate {
                    *checking = Some((candidate, 0));
                    return Ok(None);
                }
                // None equal: it joins the heap, its buffer moved in.
                self.work.bytes -= b.charged;
                b.charged = 0;
                let mut text = std::mem::take(&mut b.text);
                if text.capacity() - text.len() > text.len() / 8 {
                    text.shrink_to_fit();
                }
                let obj = StrObj {
                    text: compact_str::CompactString::from(text),
                    hash,
                    char_len: chars,
                };
                self.charge(obj.heap_size())
                    .map_err(|_| "out of memory".to_string())?;
                let mark = self.gc.new_object_mark();
                let key = self.strings.insert(obj, mark);
                self.interner.insert(hash, key);
                Ok(Some(key))
            }
        }
    }

    /// Makes room in `b`'s buffer for the next slice. A string of known
    /// (or guessed) length gets it all at once, counted against the heap
    /// limit before it is allocated; past a guess, it grows as it is
    /// written (doubling). A printed
    /// text's length is not known until it is written: past a megabyte its
    /// buffer is reserved as long as it may grow (as the heap has room for),
    /// so that it never moves again (moving copies what it holds: 3 ms at
    /// 16 MiB). Reserved pages take no memory until they are written, so
    /// what counts is what the text holds and the room for a slice
    /// (`count_buffer`).
    fn reserve_for_slice(&mut self, source: &Source, b: &mut Building) -> Result<(), String> {
        /// Past this, a printed text's buffer is reserved whole.
        const BIG: usize = 1 << 20;
        let (len, capacity) = (b.text.len(), b.text.capacity());
        if capacity == 0
            && let Some(n) = self.size_hint(source)
        {
            return self.charge_buffer(b, n);
        }
        // Written exactly into the room made for it.
        if self.exact_len(source).is_some() {
            return Ok(());
        }
        let printed = self.printed_limit(source, b.charged);
        if let Some(most) = printed
            && capacity - len < ROOM
            && len + ROOM > BIG
        {
            b.text.reserve_exact(most.max(len + ROOM) - len);
        }
        self.count_buffer(b, printed.unwrap_or(usize::MAX))
    }

    /// Makes room for `n` more bytes in `b`'s buffer, counted against the
    /// heap limit before it is allocated.
    fn charge_buffer(&mut self, b: &mut Building, n: usize) -> Result<(), String> {
        let wanted = b.text.len() + n;
        if wanted > b.charged {
            self.charge(wanted - b.charged)
                .map_err(|_| "out of memory".to_string())?;
            self.work.bytes += wanted - b.charged;
            b.charged = wanted;
        }
        b.text.reserve_exact(n);
        Ok(())
    }

    /// Counts `b`'s buffer against the heap limit, as far as it is used:
    /// what the text holds and the room for the next slice's writing, but
    /// not past `most`.
    fn count_buffer(&mut self, b: &mut Building, most: usize) -> Result<(), String> {
        let used = b.text.capacity().min(b.text.len() + ROOM).min(most);
        if used > b.charged {
            self.charge(used - b.charged)
                .map_err(|_| "out of memory".to_string())?;
            self.work.bytes += used - b.charged;
            b.charged = used;
        }
        Ok(())
    }

    /// Writes about a slice more of `source`'s text; true once all of it
    /// is written.
    fn write_slice(
        &self,
        source: &Source,
        natives: Option<&Natives>,
        b: &mut Building,
    ) -> Result<bool, String> {
        let mut budget = SLICE_BYTES;
        let out = &mut b.text;
        Ok(match source {
            Source::Concat(parts) => {
                while let Some(&part) = parts.get(b.piece) {
                    b.read = copy_some(out, self.str(part), b.read, &mut budget);
                    if b.read < self.str(part).len() {
                        return Ok(false);
                    }
                    (b.piece, b.read) = (b.piece + 1, 0);
                }
                true
            }
            Source::Repeat(s, n) => {
                let s = self.str(*s);
                let total = s.len() * n;
                while out.len() < total && budget > 0 {
                    let at = out.len();
                    let into = at % s.len();
                    // Whole copies already written are copied again, as
                    // many as fit, so a short string is not copied byte by
                    // byte.
                    if into == 0 && at > 0 && s.len() <= budget {
                        let copies = (budget / s.len()).min(at / s.len());
                        let n = (copies * s.len()).min(total - at);
                        out.extend_from_within(0..n);
                        budget -= n;
                    } else {
                        copy_some(out, s, into, &mut budget);
                    }
                }
                out.len() == total
            }
            Source::Upper(s) | Source::Lower(s) => {
                let s = self.str(*s);
                let end = char_boundary_after(s, b.read + budget);
                let piece = &s[b.read..end];
                let at = out.len();
                let upper = matches!(source, Source::Upper(_));
                if piece.is_ascii() {
                    out.push_str(piece);
                    if upper {
                        out[at..].make_ascii_uppercase();
                    } else {
                        out[at..].make_ascii_lowercase();
                    }
                } else if upper {
                    out.extend(piece.chars().flat_map(char::to_uppercase));
                } else {
                    out.extend(piece.chars().flat_map(char::to_lowercase));
                }
                b.read = end;
                end == s.len()
            }
            Source::Part(s, start, end) => {
                let part = &self.str(*s)[*start..*end];
                b.read = copy_some(out, part, b.read, &mut budget);
                b.read == part.len()
            }
            Source::Replace { text, from, to } => {
                let (text, from, to) = (self.str(*text), self.str(*from), self.str(*to));
                loop {
                    // Piece 1: a replacement being written, the text to go
                    // on from at `mark`.
                    if b.piece == 1 {
                        b.read = copy_some(out, to, b.read, &mut budget);
                        if b.read < to.len() {
                            return Ok(false);
                        }
                        (b.piece, b.read) = (0, b.mark);
                    }
                    if b.read == text.len() {
                        return Ok(true);
                    }
                    if budget == 0 {
                        return Ok(false);
                    }
                    let (found, work) = find_within(text, from, b.read, budget, &mut b.scan);
                    let copied = found.unwrap_or_else(|next| next) - b.read;
                    // The search's work beyond the text it copies (a long
                    // pattern's hashing and comparing).
                    b.steps_work += work.saturating_sub(copied);
                    match found {
                        Ok(at) => {
                            out.push_str(&text[b.read..at]);
                            budget = budget.saturating_sub(work);
                            (b.piece, b.read, b.mark) = (1, 0, at + from.len());
                        }
                        Err(next) => {
                            out.push_str(&text[b.read..next]);
                            b.read = next;
                            return Ok(next == text.len());
                        }
                    }
                }
            }
            Source::Show(Shown(values)) => {
                let Some(natives) = natives else {
                    return Err("internal error: showing values needs the natives".into());
                };
                // Piece i is value i, a space before each but the first.
                let Some(&v) = values.get(b.piece) else {
                    return Ok(true);
                };
                if b.walk.is_none() && b.piece > 0 {
                    out.push(' ');
                }
                let walk = b.walk.get_or_insert_with(|| Box::new(Walk::display(v)));
                let (before, mut left) = (out.len(), budget);
                let shown = walk
                    .write_some(self, natives, out, &mut left)
                    .map_err(|_| "string too long".to_string())?;
                // Its steps' work, beyond the bytes they wrote.
                b.steps_work += (budget - left).saturating_sub(out.len() - before);
                if !shown {
                    return Ok(false);
                }
                b.walk = None;
                b.piece += 1;
                b.piece == values.len()
            }
            Source::Join { list, sep } => {
                let sep = self.str(*sep);
                // Piece 2k is item k; piece 2k + 1 the separator after it.
                loop {
                    let len = self.lists.get(*list).map_or(0, |l| l.len());
                    let item = b.piece / 2;
                    if b.piece % 2 == 1 {
                        if item + 1 >= len {
                            return Ok(true);
                        }
                        b.read = copy_some(out, sep, b.read, &mut budget);
                        if b.read < sep.len() {
                            return Ok(false);
                        }
                    } else {
                        let Some(&v) = self.lists.get(*list).and_then(|l| l.get(item)) else {
                            return Ok(true);
                        };
                        if let Value::Str(s) = v {
                            let s = self.str(s);
                            b.read = copy_some(out, s, b.read, &mut budget);
                            if b.read < s.len() {
                                return Ok(false);
                            }
                        } else {
                            let shown = match natives {
                                Some(natives) => printer::display(self, natives, v)
                                    .map_err(|_| "string too long".to_string())?,
                                None => v.type_name().to_string(),
                            };
                            out.push_str(&shown);
                            budget = budget.saturating_sub(shown.len());
                        }
                    }
                    (b.piece, b.read) = (b.piece + 1, 0);
                    if budget == 0 || out.len() > self.max_string_len {
                        return Ok(false);
                    }
                }
            }
        })
    }
}

/// Copies `src` from byte `from` into `out`, at most about `budget`
/// bytes of it (to the next character boundary), and spends them; the
/// offset it got to.
fn copy_some(out: &mut String, src: &str, from: usize, budget: &mut usize) -> usize {
    let end = char_boundary_after(src, from + *budget);
    out.push_str(&src[from..end]);
    *budget -= (end - from).min(*budget);
    end
}

/// Where the next `pattern` (not empty) in `text` from byte `from`
/// starts, looked for in about `window` bytes; if it is not there, `Err`
/// of where the next look goes on: the text's end, or a character
/// boundary before the window's last `pattern.len() - 1` bytes (a match
/// may begin there and end past the window). Also the bytes of work it
/// counts as. A pattern longer than a slice is searched for in about
/// `window` bytes of work instead, its place kept in `scan`
/// (`long_pattern.rs`).
pub(super) fn find_within(
    text: &str,
    pattern: &str,
    from: usize,
    window: usize,
    scan: &mut LongScan,
) -> (Result<usize, usize>, usize) {
    if is_long(pattern) {
        return find_long(text, pattern, from, window, scan);
    }
    let window_end = char_boundary_after(text, from + window + pattern.len());
    match text[from..window_end].find(pattern) {
        Some(i) => (Ok(from + i), i + pattern.len()),
        None if window_end == text.len() => (Err(text.len()), text.len() - from),
        None => {
            let next = char_boundary_before(text, window_end + 1 - pattern.len()).max(from);
            (Err(next), next - from)
        }
    }
}

/// The first character boundary of `text` at or after `at` (its end if
/// `at` is past it).
pub(crate) fn char_boundary_after(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at += 1;
    }
    at
}

/// The last character boundary of `text` at or before `at`.
fn char_boundary_before(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}
