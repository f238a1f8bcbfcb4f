//! A hash table that grows and shrinks without a stop: the index of the
//! interned strings (`interner.rs`) and of big maps (`big_map.rs`).
//!
//! A hash table that doubles in one go rehashes every entry it holds
//! inside one insertion, and with a few million entries that is tens of
//! milliseconds in the middle of a script's slice, where no budget sees
//! it. This one, when it must resize, starts a new table and moves the
//! old one's entries over a few slots at every insertion, paced so that
//! the old table is empty before the new one fills (Redis resizes its
//! dictionaries the same way). Until then a lookup searches both. A slot
//! keeps its entry's hash beside it, so moving an entry reads nothing
//! else.
//!
//! Open addressing with linear probing. A removal shifts the entries
//! after it in its cluster back (no tombstones), except in an old table
//! being emptied, where it leaves a tombstone (so that probes past it go
//! on) that counts as used.
//!
//! The old table is emptied from its end, and given back to the system a
//! piece at a time as it empties (freeing a table of two million slots in
//! one go took the kernel 1.4 ms). A new one comes from zeroed memory,
//! which the kernel maps as it is first touched instead of being written
//! out in one go.

/// A table is resized when more than this fraction of its slots is used
/// (entries and tombstones)...
const MAX_USED: (usize, usize) = (3, 4);
/// ...and shrunk when fewer than this fraction hold entries.
const MIN_LIVE: (usize, usize) = (1, 16);
/// A new table is sized so that this fraction of it holds the entries.
const FILL_AFTER_RESIZE: (usize, usize) = (3, 8);
pub(super) const MIN_SLOTS: usize = 64;
/// Steps of a move to a new table each removal takes in a table that
/// only loses entries (`remove_shrinking`).
const SHRINK_PACE: usize = 4;
/// The old table is given back in pieces of this many slots.
pub(super) const GIVE_BACK_SLOTS: usize = 1 << 16;

/// A slot: the low half of the entry's hash first, what the entry holds
/// after it. All zero when empty. An entry's last word is never zero: a
/// tombstone is a zero last word with a hash of one.
pub(super) type Slot<const N: usize> = [u32; N];

const fn empty<const N: usize>() -> Slot<N> {
    [0; N]
}

const fn tombstone<const N: usize>() -> Slot<N> {
    let mut slot = [0; N];
    slot[0] = 1;
    slot
}

/// Whether a slot holds an entry.
#[inline]
pub(super) fn holds<const N: usize>(slot: Slot<N>) -> bool {
    slot[N - 1] != 0
}

#[derive(Default)]
pub(super) struct Table<const N: usize> {
    /// The slots kept: all of them, except in an old table being emptied,
    /// which gives back its end as it goes.
    pub(super) slots: Vec<Slot<N>>,
    /// The slots searched: all those kept, except in an old table being
    /// emptied, whose end from here on has been moved.
    searched: usize,
    /// Slots in the table (a power of two), those given back included.
    pub(super) slot_count: usize,
    /// Entries held.
    len: usize,
    /// Entries and tombstones.
    used: usize,
}

impl<const N: usize> Table<N> {
    fn with_slots(n: usize) -> Table<N> {
        Table {
            // Zeroed: allocated as untouched pages.
            slots: vec![empty(); n],
            searched: n,
            slot_count: n,
            len: 0,
            used: 0,
        }
    }

    fn mask(&self) -> usize {
        self.slot_count - 1
    }

    /// The slot holding the entry with `hash` that `eq` accepts.
    ///
    /// A probe that reaches the end moved goes on at the start, as a probe
    /// that reaches the table's end does: everything in that end was
    /// moved, and an entry still here whose chain ran through it sits,
    /// unbroken, from slot 0 up to itself.
    #[inline(always)]
    fn find(&self, hash: u32, mut eq: impl FnMut(Slot<N>) -> bool) -> Option<usize> {
        if self.len == 0 {
            return None;
        }
        let searched = self.searched;
        let mut i = hash as usize & self.mask();
        // The slots searched need not hold an empty one: a second lap of
        // them ends the search.
        let mut laps = 0;
        if i >= searched {
            (i, laps) = (0, 1);
        }
        loop {
            let slot = self.slots[i];
            if slot == empty() {
                return None;
            }
            if slot[0] == hash && holds(slot) && eq(slot) {
                return Some(i);
            }
            i += 1;
            if i == searched {
                laps += 1;
                if laps == 2 {
                    return None;
                }
                i = 0;
            }
        }
    }

    /// Adds an entry known to be absent; the table has room (and all its
    /// slots).
    fn insert(&mut self, entry: Slot<N>) {
        let mask = self.mask();
        let mut i = entry[0] as usize & mask;
        // The first free slot takes it, a tombstone included: the entry is
        // absent, so nothing further along can be it.
        loop {
            let slot = self.slots[i];
            if !holds(slot) {
                if slot == empty() {
                    self.used += 1;
                }
                self.slots[i] = entry;
                self.len += 1;
                return;
            }
            i = (i + 1) & mask;
        }
    }

    /// Empties slot `i`. In a table with all its slots searched, the
    /// entries after it in its cluster that may sit earlier (their home
    /// slot is not between the hole and them) shift back into the hole,
    /// so that no tombstone is left: strings that come and go at a steady
    /// count (a script's temporaries, made and swept every frame) filled
    /// the table with tombstones, which made it rebuild itself every few
    /// thousand insertions. An old table being emptied, whose probes wrap
    /// where its moved end starts, leaves a tombstone.
    fn remove_at(&mut self, i: usize) {
        self.len -= 1;
        if self.searched != self.slot_count {
            self.slots[i] = tombstone();
            return;
        }
        let mask = self.mask();
        let mut hole = i;
        let mut j = i;
        loop {
            j = (j + 1) & mask;
            let slot = self.slots[j];
            if slot == empty() {
                break;
            }
            if !holds(slot) {
                // A tombstone keeps the probes past it going, as it did.
                self.slots[hole] = tombstone();
                return;
            }
            let home = slot[0] as usize & mask;
            if j.wrapping_sub(home) & mask >= j.wrapping_sub(hole) & mask {
                self.slots[hole] = slot;
                hole = j;
            }
        }
        self.slots[hole] = empty();
        self.used -= 1;
    }

    /// Stops searching the slots from `end` on (their entries have all
    /// been moved), and gives them back once there are enough of them to
    /// be worth it.
    fn moved_from(&mut self, end: usize) {
        self.searched = end;
        if self.slots.len() - end >= GIVE_BACK_SLOTS {
            self.slots.truncate(end);
            self.slots.shrink_to_fit();
        }
    }

    fn has_room_for_one(&self) -> bool {
        (self.used + 1) * MAX_USED.1 <= self.slot_count * MAX_USED.0
    }

    fn mostly_empty(&self) -> bool {
        self.slot_count > MIN_SLOTS && self.len * MIN_LIVE.1 < self.slot_count * MIN_LIVE.0
    }
}

#[derive(Default)]
pub(super) struct ResizingTable<const N: usize> {
    pub(super) current: Table<N>,
    /// The table being emptied into `current`.
    pub(super) old: Table<N>,
    /// The slots of `old` not yet moved: those below this one (it is
    /// emptied from its end).
    pub(super) cursor: usize,
    /// Slots of `old` moved at each insertion.
    pub(super) step: usize,
}

impl<const N: usize> ResizingTable<N> {
    /// Entries held.
    pub(super) fn len(&self) -> usize {
        self.current.len + self.old.len
    }

    /// Whether entries are being moved to a new table.
    pub(super) fn resizing(&self) -> bool {
        self.old.slot_count > 0
    }

    /// Bytes the table takes (both tables while it resizes).
    pub(super) fn bytes(&self) -> usize {
        (self.current.slots.len() + self.old.slots.len()) * std::mem::size_of::<Slot<N>>()
    }

    /// The entry with `hash` that `eq` accepts.
    #[inline(always)]
    pub(super) fn find(&self, hash: u32, mut eq: impl FnMut(Slot<N>) -> bool) -> Option<Slot<N>> {
        match self.current.find(hash, &mut eq) {
            Some(i) => Some(self.current.slots[i]),
            None => Some(self.old.slots[self.old.find(hash, eq)?]),
        }
    }

    /// `remove`, for a table that may only lose entries for a long time
    /// (a big map emptied by removals): the move to a new table goes on a
    /// few slots per removal too, and a table mostly empty starts moving
    /// to a smaller one, so that its slots are given back as they empty.
    pub(super) fn remove_shrinking(&mut self, hash: u32, eq: impl FnMut(Slot<N>) -> bool) {
        self.remove(hash, eq);
        // Paced for insertions, a move that only removals drive would
        // end long after the entries it moves are gone.
        for _ in 0..SHRINK_PACE {
            self.move_some();
        }
        if !self.resizing() && self.current.mostly_empty() {
            self.start_resize();
        }
    }

    /// The entry with `hash` that `eq` accepts, to change what it holds
    /// (not its hash).
    pub(super) fn find_mut(
        &mut self,
        hash: u32,
        mut eq: impl FnMut(Slot<N>) -> bool,
    ) -> Option<&mut Slot<N>> {
        match self.current.find(hash, &mut eq) {
            Some(i) => Some(&mut self.current.slots[i]),
            None => {
                let i = self.old.find(hash, eq)?;
                Some(&mut self.old.slots[i])
            }
        }
    }

    /// Adds an entry that is not in the table.
    pub(super) fn insert(&mut self, entry: Slot<N>) {
        self.move_some();
        let resizing = self.old.slot_count > 0;
        if !self.current.has_room_for_one() || (!resizing && self.current.mostly_empty()) {
            self.start_resize();
        }
        self.current.insert(entry);
    }

    /// Removes the entry with `hash` that `eq` accepts, if the table
    /// holds it.
    pub(super) fn remove(&mut self, hash: u32, mut eq: impl FnMut(Slot<N>) -> bool) {
        if let Some(i) = self.current.find(hash, &mut eq) {
            self.current.remove_at(i);
        } else if let Some(i) = self.old.find(hash, eq) {
            self.old.remove_at(i);
        }
    }

    /// Frees about `bytes` of the slots of a table no longer used (its
    /// owner is being freed), a piece at a time.
    pub(super) fn give_back(&mut self, bytes: usize) {
        let piece = (bytes / std::mem::size_of::<Slot<N>>()).max(1);
        for table in [&mut self.old, &mut self.current] {
            if !table.slots.is_empty() {
                let kept = table.slots.len().saturating_sub(piece);
                table.slots.truncate(kept);
                table.slots.shrink_to(kept);
                (table.len, table.searched) = (0, 0);
                return;
            }
        }
    }

    /// Starts moving everything into a table sized for what it holds.
    pub(super) fn start_resize(&mut self) {
        // The pacing below empties the old table first; this is for a
        // resize that a burst of removals brought forward.
        while self.old.len > 0 {
            self.move_some();
        }
        let len = self.len() + 1;
        // Shrinking goes a quarter at a time, so that the old table's
        // slots spread over enough insertions.
        let slots = (len * FILL_AFTER_RESIZE.1 / FILL_AFTER_RESIZE.0)
            .next_power_of_two()
            .max(self.current.slot_count / 4)
            .max(MIN_SLOTS);
        let fresh = Table::with_slots(slots);
        self.old = std::mem::replace(&mut self.current, fresh);
        self.cursor = self.old.slot_count;
        // The new table takes this many insertions before it needs to
        // resize again; the old one's slots are spread over them.
        let room =
            slots * MAX_USED.0 / MAX_USED.1 - slots * FILL_AFTER_RESIZE.0 / FILL_AFTER_RESIZE.1;
        self.step = self.old.slot_count.div_ceil(room.max(1)).max(1);
    }

    /// Moves the entries of the last `step` slots of the old table not yet
    /// moved.
    pub(super) fn move_some(&mut self) {
        if self.old.slot_count == 0 {
            return;
        }
        let start = self.cursor.saturating_sub(self.step);
        for i in (start..self.cursor).rev() {
            let slot = self.old.slots[i];
            if holds(slot) {
                self.current.insert(slot);
                self.old.len -= 1;
            }
        }
        self.cursor = start;
        if self.cursor == 0 {
            self.old = Table::default();
        } else {
            self.old.moved_from(start);
        }
    }
}
