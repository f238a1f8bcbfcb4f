//! The heap: one paged arena per object kind (`arena.rs`), addressed by
//! `slotmap` keys, and the table of interned strings (`interner.rs`).
//!
//! Every handle is a generational key, so a stale handle is detected on access
//! (and reported as a runtime error by the interpreter), never undefined
//! behaviour. Strings are interned: two equal strings are the same key, which
//! makes string equality and map hashing O(1).
//!
//! Every change to what an object holds goes through `write.rs`, the one
//! place where the incremental collector's write barrier lives and where
//! objects are recounted as they grow and shrink; the object types
//! (`objects.rs`; lists and maps, which keep a few items in their slot, in
//! `list.rs` and `map.rs`) let no other code change their storage.

mod big_map;
mod char_offsets;
mod grow;
mod interner;
mod list;
mod list_work;
mod long_pattern;
mod long_work;
mod map;
mod objects;
mod one_char;
mod pool;
mod release;
mod search;
mod shift;
mod sort;
mod split;
mod table;
mod write;

use crate::arena::{Arena, HeapSize};
use crate::concat_cache::ConcatCache;
use crate::gc::GcState;
use crate::host::HostObject;
use crate::value::{CellKey, ClosureKey, HostKey, InstanceKey, ListKey, MapKey, StrKey, Value};
use char_offsets::CharOffsets;
use interner::Interner;
use pool::BufferPool;
pub(crate) use release::PIECE_WORK as RELEASE_PIECE_WORK;
use release::Releasing;

pub use list::ListObj;
pub(crate) use long_work::{LongWork, SLICE_BYTES, Shown, Source, char_boundary_after};
pub use map::MapObj;
pub(crate) use objects::VALUE_SIZE;
pub use objects::{ArkMap, CellObj, Closure, Instance, SeededHasher, StrObj};
pub(crate) use search::Search;

/// A map key: the value kinds that may index a map.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Key {
    Int(i64),
    Bool(bool),
    Str(StrKey),
    Entity(u64),
}

impl Key {
    /// The key for a value, or the error message for a value that cannot be one.
    /// The message is made out of line (`not_a_key`), so that map accesses
    /// inline the rest.
    #[inline]
    pub fn from_value(v: Value) -> Result<Key, String> {
        match v {
            Value::Int(i) => Ok(Key::Int(i)),
            Value::Bool(b) => Ok(Key::Bool(b)),
            Value::Str(s) => Ok(Key::Str(s)),
            Value::Entity(e) => Ok(Key::Entity(e)),
            other => Err(not_a_key(other)),
        }
    }

    pub fn to_value(self) -> Value {
        match self {
            Key::Int(i) => Value::Int(i),
            Key::Bool(b) => Value::Bool(b),
            Key::Str(s) => Value::Str(s),
            Key::Entity(e) => Value::Entity(e),
        }
    }
}

#[cold]
fn not_a_key(v: Value) -> String {
    format!("map key cannot be {}", v.type_name())
}

/// Bytes of string work charged as one instruction (copying, hashing,
/// comparing).
pub(crate) const BYTES_PER_UNIT: usize = 16;

/// The heap ran past its configured limit.
#[derive(Debug)]
pub struct OutOfMemory;

pub struct Heap {
    pub(crate) strings: Arena<StrKey, StrObj>,
    pub(crate) interner: Interner,
    /// Hashes strings for the interner (seeded: see `SeededHasher`).
    string_hasher: SeededHasher,
    pub(crate) lists: Arena<ListKey, ListObj>,
    pub(crate) maps: Arena<MapKey, MapObj>,
    pub(crate) closures: Arena<ClosureKey, Closure>,
    pub(crate) cells: Arena<CellKey, CellObj>,
    pub(crate) hosts: Arena<HostKey, Box<dyn HostObject>>,
    pub(crate) instances: Arena<InstanceKey, Instance>,
    /// Bytes the heap may hold; allocation past it asks for a forced
    /// collection at the next safe point, and out of memory if that does
    /// not bring the heap back under.
    pub(crate) limit: usize,
    pub(crate) max_string_len: usize,
    /// The incremental collector's state.
    pub(crate) gc: GcState,
    /// How an entity prints (after `<entity `): the host knows its bits.
    pub(crate) entity_display: fn(u64) -> String,
    /// What entity values' fields and methods do (`Vm::set_entity_host`);
    /// here, where `print` and `str` find it to show references.
    pub(crate) entity_host: Option<Box<dyn crate::host::EntityHost>>,
    /// What one concatenation leaves for the next. Boxed: the interpreter's
    /// code is sensitive to this struct's layout (adding the cache inline
    /// cost particles 1.7% more instructions and grew the interpreter's
    /// loop by 778 bytes; boxed, its code stayed as it was).
    concat: Box<ConcatScratch>,
    /// Buffers of freed lists and maps, for new ones (boxed, as `concat`).
    pub(crate) pool: Box<BufferPool>,
    /// The one-character ASCII strings made last (boxed, as `concat`).
    one_char: Box<one_char::OneChar>,
    /// Where the characters of long non-ASCII strings start, for indexing
    /// them (boxed, as `concat`).
    pub(crate) char_offsets: Box<CharOffsets>,
    /// The long string work of the calls running on this heap (boxed, as
    /// `concat`).
    pub(crate) work: Box<LongWork>,
    /// Big strings swept, given back a piece at a time (boxed, as
    /// `concat`).
    pub(crate) releasing: Box<Releasing>,
    /// This heap's identity. Host code holding `&mut Heap` could swap one
    /// VM's heap for another's; calls check that they run on the heap they
    /// started on (`Fiber::heap`).
    id: u64,
    /// Counts the changes that can free or move what a running call holds
    /// pointers to: an instance's variables (released, or grown by a REPL
    /// entry) and closures (freed by a sweep). The interpreter takes those
    /// pointers when a frame loads; host code could make such a change
    /// through another `Vm` (by swapping this heap into it and back), so
    /// after host code the interpreter reloads the frame if this moved.
    layout_epoch: u64,
    /// Counts writes to module variables that host code may make while a
    /// call runs: through `instance_var_set`, and by running a call (see
    /// `interp::execute`). A running frame whose loops keep module
    /// variables in registers loads them again after host code only if
    /// this moved.
    module_writes: u64,
    /// The module variable slots (each as bit `slot % 64`, of any
    /// instance) that code other than a script's top level has written
    /// since the running call started; all of them in a resumed call, and
    /// once host code has written one or run a call (`module_written`):
    /// a call run by host code during a native starts its own record,
    /// and ends with every slot in it for the frames it returns to. A
    /// frame whose loops keep variables in registers reloads them when a
    /// call returns into it only if one of their bits is here
    /// (`Proto::cached_slots`): a top-level loop calling a function that
    /// writes no variable it caches (a random number generator's seed,
    /// say) reloads nothing.
    module_slots_written: u64,
    /// Where the last `map[key]` read found its key (`access::get_index`):
    /// a `map[key] = v` of the same map right after it (`m[k] = m[k] + 1`,
    /// a count or a total kept per key) writes at that position without
    /// looking the key up again. A hint only: the write checks that the
    /// entry there has the key, so a map changed in between is looked up.
    pub(crate) last_found: Option<(MapKey, usize)>,
}

/// What concatenations reuse from one to the next, and the work of long
/// ones not yet charged.
#[derive(Default)]
struct ConcatScratch {
    /// Work done by long concatenations that the running call has not
    /// been charged for yet (`Heap::take_work_debt`).
    work_debt: u64,
    /// Where concatenations are built before interning, so that making a
    /// string that already exists allocates nothing.
    buffer: String,
    /// The results of recent two-part concatenations.
    cache: ConcatCache,
}

/// The identity of the next heap made.
static NEXT_HEAP_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// A concatenation buffer grown past this is not kept for the next one.
const CONCAT_BUFFER_KEPT: usize = 64 * 1024;
/// The longest text a string keeps in its slot (`CompactString`'s inline
/// capacity); a longer one has an allocation of its own.
const INLINE_TEXT: usize = std::mem::size_of::<String>();

/// The default entity text: index (low 32 bits) `v` generation (high 32).
fn default_entity_display(bits: u64) -> String {
    format!("{}v{}", bits as u32, (bits >> 32) as u32)
}

/// Whether two texts are equal. Most interned strings are short: up to 16
/// bytes they are compared in at most two overlapping words each, inline,
/// where slice equality calls `bcmp` (and the interner's probe loop spills
/// its registers around the call).
#[inline]
fn same_text(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word = |s: &[u8], at: usize| u64::from_le_bytes(s[at..at + 8].try_into().expect("8"));
    let half = |s: &[u8], at: usize| u32::from_le_bytes(s[at..at + 4].try_into().expect("4"));
    match n {
        0 => true,
        1..=3 => a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1],
        4..=7 => half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4),
        8..=16 => word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8),
        _ => a == b,
    }
}

/// The string among `strings` that `interner` holds with `text`.
#[inline]
fn interned(
    interner: &Interner,
    strings: &Arena<StrKey, StrObj>,
    text: &str,
    hash: u64,
) -> Option<StrKey> {
    interner.find(hash, |k| {
        strings
            .get(k)
            .is_some_and(|s| same_text(s.text.as_bytes(), text.as_bytes()))
    })
}

impl Heap {
    pub fn new(limit: usize, max_string_len: usize) -> Heap {
        Heap {
            strings: Arena::default(),
            interner: Interner::default(),
            string_hasher: SeededHasher::default(),
            lists: Arena::default(),
            maps: Arena::default(),
            closures: Arena::default(),
            cells: Arena::default(),
            hosts: Arena::default(),
            instances: Arena::default(),
            limit,
            max_string_len,
            gc: GcState::new(),
            entity_display: default_entity_display,
            entity_host: None,
            concat: Box::default(),
            pool: Box::default(),
            one_char: Box::default(),
            char_offsets: Box::default(),
            work: Box::default(),
            releasing: Box::default(),
            id: NEXT_HEAP_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            layout_epoch: 0,
            module_writes: 0,
            module_slots_written: 0,
            last_found: None,
        }
    }

    /// This heap's identity, unique in the process.
    #[inline]
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// See the field.
    #[inline]
    pub(crate) fn layout_epoch(&self) -> u64 {
        self.layout_epoch
    }

    /// See the field.
    #[inline]
    pub(crate) fn module_writes(&self) -> u64 {
        self.module_writes
    }

    /// Records a write to a module variable by host code, or a call run:
    /// which variables it wrote is not known.
    #[inline]
    pub(crate) fn module_written(&mut self) {
        self.module_writes = self.module_writes.wrapping_add(1);
        self.module_slots_written = u64::MAX;
    }

    /// Starts `module_slots_written` for a call that runs: empty for a
    /// new call; for a resumed one, its record when it stopped (`stopped`:
    /// that and `module_writes` then) if no host code has written a
    /// variable or run a call since, else every slot.
    #[inline]
    pub(crate) fn start_module_slots_written(
        &mut self,
        new_call: bool,
        stopped: Option<(u64, u64)>,
    ) {
        self.module_slots_written = match stopped {
            _ if new_call => 0,
            Some((written, writes)) if writes == self.module_writes => written,
            _ => u64::MAX,
        };
    }

    /// Records that the running call stops (it returned, stopped or
    /// failed): what host code finds, as after a call it ran. Returns what
    /// the call resumes with (see `start_module_slots_written`).
    #[inline]
    pub(crate) fn call_stopped(&mut self) -> (u64, u64) {
        let written = self.module_slots_written;
        self.module_written();
        (written, self.module_writes)
    }

    /// Records a script's write to module variable `slot`, made by a
    /// function whose `Proto::tracks_module_writes` is `tracked`.
    #[inline]
    pub(crate) fn module_slot_written(&mut self, slot: u16, tracked: u64) {
        self.module_slots_written |= tracked << (slot % 64);
    }

    /// Whether a module variable among `slots` (bits, as in
    /// `Proto::cached_slots`) may have been written by other code.
    #[inline]
    pub(crate) fn any_module_slot_written(&self, slots: u64) -> bool {
        self.module_slots_written & slots != 0
    }

    /// Records a change that may free or move instance variables or
    /// closures.
    pub(crate) fn layout_changed(&mut self) {
        self.layout_epoch += 1;
    }

    /// Interns the text that `build` writes into a buffer the heap keeps:
    /// making a string that already exists allocates nothing.
    pub fn intern_built(
        &mut self,
        build: impl FnOnce(&Heap, &mut String),
    ) -> Result<StrKey, OutOfMemory> {
        self.intern_in_buffer(build)
    }

    /// Interns `parts` joined, reading each part once: `string too long`
    /// past the heap's string limit. A result longer than a slice is made
    /// a slice at a time (`long_work.rs`).
    pub(crate) fn intern_concat(&mut self, parts: &[StrKey]) -> Result<StrKey, String> {
        let &[left, right] = parts else {
            return self.intern_parts(parts);
        };
        // The cache counts only while the parts and the result are all
        // live: a stale part reads as "" (see `str`), but its remembered
        // result was made from its old text.
        if let Some(key) = self.concat.cache.get(left, right)
            && self.strings.contains_key(key)
            && self.strings.contains_key(left)
            && self.strings.contains_key(right)
        {
            // As for a string the interner finds (`intern`).
            self.gc.revive_string(&mut self.strings, key);
            return Ok(key);
        }
        let key = self.intern_parts(parts)?;
        self.concat.cache.remember(left, right, key);
        Ok(key)
    }

    /// Records the work of copying or walking `bytes` bytes, to be charged
    /// to the running call (a concatenation or a string index is one
    /// instruction, but a long one goes over megabytes). It asks for a safe
    /// point, which ends in a frame load, where the interpreter charges the
    /// debt. Short work is covered by the instruction itself.
    pub(crate) fn worked_over(&mut self, bytes: usize) {
        /// Bytes an instruction's own charge covers.
        const FREE: usize = 1024;
        if bytes > FREE {
            self.concat.work_debt += (bytes / BYTES_PER_UNIT) as u64;
            self.gc.pressure = true;
        }
    }

    /// The work charged by [`Heap::worked_over`] since the last call, in
    /// instructions.
    pub(crate) fn take_work_debt(&mut self) -> u64 {
        std::mem::take(&mut self.concat.work_debt)
    }

    /// Interns the parts' texts, one after the other.
    fn intern_parts(&mut self, parts: &[StrKey]) -> Result<StrKey, String> {
        let total = parts.iter().map(|&p| self.str(p).len()).sum::<usize>();
        if total > SLICE_BYTES {
            return self.intern_long(Source::Concat(parts.into()), None);
        }
        if total > self.max_string_len {
            return Err("string too long".into());
        }
        let key = if total > INLINE_TEXT {
            self.intern_joined(parts, total)
        } else {
            self.intern_in_buffer(|heap, buffer| {
                for &part in parts {
                    buffer.push_str(heap.str(part));
                }
            })
        };
        self.worked_over(total);
        key.map_err(|_| "out of memory".to_string())
    }

    /// Interns `parts` joined, `total` bytes, too long to live in a
    /// string's slot: they are joined in an allocation of their own, which
    /// a new string keeps as its text, so that the text is copied once
    /// (through the heap's buffer, it was copied twice: a string grown by
    /// `s = s + piece` copied all of itself twice per piece).
    fn intern_joined(&mut self, parts: &[StrKey], total: usize) -> Result<StrKey, OutOfMemory> {
        let mut text = String::with_capacity(total);
        let mut char_len = 0;
        for &part in parts {
            if let Some(part) = self.strings.get(part) {
                text.push_str(&part.text);
                char_len += part.char_len;
            }
        }
        let hash = self.hash_text(&text);
        if let Some(key) = interned(&self.interner, &self.strings, &text, hash) {
            // As for a string `intern` finds.
            self.gc.revive_string(&mut self.strings, key);
            return Ok(key);
        }
        self.add_counted_string(compact_str::CompactString::from(text), hash, char_len)
    }

    /// Interns what `build` writes into the buffer the heap keeps.
    fn intern_in_buffer(
        &mut self,
        build: impl FnOnce(&Heap, &mut String),
    ) -> Result<StrKey, OutOfMemory> {
        let mut buffer = std::mem::take(&mut self.concat.buffer);
        buffer.clear();
        build(self, &mut buffer);
        let key = self.intern(&buffer);
        if buffer.capacity() <= CONCAT_BUFFER_KEPT {
            self.concat.buffer = buffer;
        }
        key
    }

    /// Bytes held by heap objects (the sum of every object's
    /// [`HeapSize`](crate::arena::HeapSize), counted by the arenas), by
    /// the table of interned strings and by strings being built.
    pub fn bytes(&self) -> usize {
        self.interner.bytes()
            + self.work.bytes
            + self.releasing.bytes
            + self.strings.bytes()
            + self.lists.bytes()
            + self.maps.bytes()
            + self.closures.bytes()
            + self.cells.bytes()
            + self.hosts.bytes()
            + self.instances.bytes()
    }

    /// Number of live objects of every collectable kind.
    pub fn object_count(&self) -> usize {
        self.strings.len()
            + self.lists.len()
            + self.maps.len()
            + self.closures.len()
            + self.cells.len()
            + self.hosts.len()
    }

    /// Asks for `n` more bytes, before they are allocated. Past the limit
    /// the next safe point forces a collection; past the hard ceiling (half
    /// as much again) the allocation fails at once.
    #[inline]
    pub(crate) fn charge(&mut self, n: usize) -> Result<(), OutOfMemory> {
        let next = self.bytes().saturating_add(n);
        if next > self.limit.saturating_add(self.limit / 2) {
            return Err(OutOfMemory);
        }
        self.gc.allocated(n, next, self.limit);
        Ok(())
    }

    /// Releases an instance now (the host's decision, not the collector's).
    pub(crate) fn release_instance(&mut self, key: InstanceKey) {
        self.layout_changed();
        self.instances.remove(key);
    }

    // ---- allocation ----
    //
    // A new object gets the colour the collector's phase calls for
    // (`GcState::new_object_mark`).

    /// Interns `text`: equal strings share one key.
    pub fn intern(&mut self, text: &str) -> Result<StrKey, OutOfMemory> {
        let hash = self.hash_text(text);
        if let Some(key) = interned(&self.interner, &self.strings, text, hash) {
            // A string found while sweeping may be garbage not freed yet:
            // using it again revives it.
            self.gc.revive_string(&mut self.strings, key);
            return Ok(key);
        }
        self.add_string(compact_str::CompactString::new(text), hash)
    }

    /// Bytes `start..end` (character boundaries) of string `s`, interned:
    /// read where they are, and copied only into a string not interned
    /// before. The whole string is `s`; one ASCII character comes from the
    /// table of them (`one_char.rs`).
    pub(crate) fn intern_range(
        &mut self,
        s: StrKey,
        start: usize,
        end: usize,
    ) -> Result<StrKey, OutOfMemory> {
        let text = self.str(s);
        if start == 0 && end == text.len() && self.strings.contains_key(s) {
            self.gc.revive_string(&mut self.strings, s);
            return Ok(s);
        }
        let part = &text[start..end];
        if let &[byte] = part.as_bytes()
            && byte.is_ascii()
        {
            return self.char_string(char::from(byte));
        }
        let hash = self.hash_text(part);
        if let Some(key) = interned(&self.interner, &self.strings, part, hash) {
            // As for a string `intern` finds.
            self.gc.revive_string(&mut self.strings, key);
            return Ok(key);
        }
        let text = compact_str::CompactString::new(part);
        self.add_string(text, hash)
    }

    /// Adds `text`, which is not interned yet and hashes to `hash`.
    fn add_string(
        &mut self,
        text: compact_str::CompactString,
        hash: u64,
    ) -> Result<StrKey, OutOfMemory> {
        let char_len = if text.is_ascii() {
            text.len()
        } else {
            text.chars().count()
        };
        self.add_counted_string(text, hash, char_len)
    }

    /// [`Heap::add_string`] for a text of `char_len` characters.
    fn add_counted_string(
        &mut self,
        text: compact_str::CompactString,
        hash: u64,
        char_len: usize,
    ) -> Result<StrKey, OutOfMemory> {
        let obj = StrObj {
            text,
            hash,
            char_len,
        };
        self.charge(obj.heap_size())?;
        let mark = self.gc.new_object_mark();
        let key = self.strings.insert(obj, mark);
        self.interner.insert(hash, key);
        Ok(key)
    }

    pub fn alloc_list(&mut self, items: Vec<Value>) -> Result<ListKey, OutOfMemory> {
        self.insert_list(ListObj::new(items))
    }

    /// A list of copies of `items` (a list literal's registers): a small
    /// one is built in its slot, with no buffer allocated on the way.
    pub fn alloc_list_from(&mut self, items: &[Value]) -> Result<ListKey, OutOfMemory> {
        let list = ListObj::from_slice(items, &mut self.pool);
        self.insert_list(list)
    }

    fn insert_list(&mut self, list: ListObj) -> Result<ListKey, OutOfMemory> {
        self.charge(list.heap_size())?;
        Ok(self.lists.insert(list, self.gc.new_object_mark()))
    }

    /// A new empty map (`{}`, and the start of every map literal), made
    /// in its slot: built elsewhere and moved in, a map's slot is copied
    /// by a `memcpy` call each time.
    #[inline]
    pub fn alloc_empty_map(&mut self) -> Result<MapKey, OutOfMemory> {
        self.insert_map(MapObj::empty())
    }

    pub fn alloc_map(&mut self, map: ArkMap) -> Result<MapKey, OutOfMemory> {
        self.insert_map(MapObj::new(map))
    }

    /// Charges for `map` and gives it a slot.
    #[inline]
    fn insert_map(&mut self, map: MapObj) -> Result<MapKey, OutOfMemory> {
        self.charge(map.heap_size())?;
        Ok(self.maps.insert(map, self.gc.new_object_mark()))
    }

    pub fn alloc_cell(&mut self, v: Value) -> Result<CellKey, OutOfMemory> {
        let cell = CellObj(v);
        self.charge(cell.heap_size())?;
        Ok(self.cells.insert(cell, self.gc.new_object_mark()))
    }

    /// Creates a closure. The cells it captures are reached through it when
    /// it is marked.
    pub fn alloc_closure(&mut self, closure: Closure) -> Result<ClosureKey, OutOfMemory> {
        self.charge(closure.heap_size())?;
        Ok(self.closures.insert(closure, self.gc.new_object_mark()))
    }

    pub fn alloc_host(&mut self, obj: Box<dyn HostObject>) -> Result<HostKey, OutOfMemory> {
        self.charge(obj.heap_size())?;
        Ok(self.hosts.insert(obj, self.gc.new_object_mark()))
    }

    /// Adds an instance (a root until it is released).
    pub(crate) fn alloc_instance(&mut self, instance: Instance) -> InstanceKey {
        // Instances are the host's to create and release: never refused,
        // but counted, so that pacing sees them.
        self.gc
            .allocated(instance.heap_size(), self.bytes(), self.limit);
        let key = self.instances.insert(instance, self.gc.new_object_mark());
        self.gc.queue_new_instance(key);
        key
    }

    // ---- reads ----

    /// The items of a list (`None` for a stale handle).
    pub fn list_items(&self, list: ListKey) -> Option<&[Value]> {
        self.lists.get(list).map(|l| &**l)
    }

    /// The entries of a map, in insertion order (`None` for a stale handle).
    pub fn map_entries(&self, map: MapKey) -> Option<impl Iterator<Item = (Key, Value)> + '_> {
        self.maps.get(map).map(|m| m.iter().map(|(k, v)| (*k, *v)))
    }

    /// Whether `v` is an immediate, or a handle to an object that is still
    /// alive (false for a freed object or a handle from another heap).
    pub fn is_live(&self, v: Value) -> bool {
        match v {
            Value::Str(k) => self.strings.contains_key(k),
            Value::List(k) => self.lists.contains_key(k),
            Value::Map(k) => self.maps.contains_key(k),
            Value::Closure(k) => self.closures.contains_key(k),
            Value::Cell(k) => self.cells.contains_key(k),
            Value::Host(k) => self.hosts.contains_key(k),
            _ => true,
        }
    }

    /// The text of a string; `""` for a stale key (callers that must detect
    /// staleness use `strings.get`).
    #[inline]
    pub fn str(&self, key: StrKey) -> &str {
        self.strings.get(key).map(|s| &*s.text).unwrap_or("")
    }
}

/// Numbers below `n`, reproducible from `seed` (xorshift64), for the
/// tests that drive a structure with random operations.
#[cfg(test)]
pub(crate) fn test_random(mut seed: u64) -> impl FnMut(usize) -> usize {
    move |n| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::{Heap, StrKey, same_text};

    fn heap() -> Heap {
        Heap::new(1 << 20, 1 << 16)
    }

    fn concat(heap: &mut Heap, left: StrKey, right: StrKey) -> StrKey {
        heap.intern_concat(&[left, right])
            .expect("short enough, and memory")
    }

    #[test]
    fn concatenating_the_same_parts_again_gives_the_interned_string() {
        let mut heap = heap();
        let (ab, cd) = (heap.intern("ab").unwrap(), heap.intern("cd").unwrap());
        let first = concat(&mut heap, ab, cd);
        let again = concat(&mut heap, ab, cd);
        assert_eq!(first, again);
        assert_eq!(heap.str(again), "abcd");
        assert_eq!(heap.intern("abcd").unwrap(), again);
        let swapped = concat(&mut heap, cd, ab);
        assert_eq!(heap.str(swapped), "cdab");
    }

    #[test]
    fn a_range_of_a_string_is_the_interned_string_with_its_text() {
        let mut heap = heap();
        let text = heap.intern("héllo world").unwrap();
        let world = heap.intern("world").unwrap();
        // `é` takes two bytes: "world" is bytes 7..12.
        assert_eq!(heap.intern_range(text, 7, 12).unwrap(), world);
        assert_eq!(heap.intern_range(text, 0, 12).unwrap(), text);
        let h = heap.intern_range(text, 0, 1).unwrap();
        assert_eq!(heap.intern("h").unwrap(), h);
        let e = heap.intern_range(text, 1, 3).unwrap();
        assert_eq!(heap.str(e), "é");
        assert_eq!(heap.intern("é").unwrap(), e);
        // A text not interned before is added, counted in characters, and
        // is what interning it finds.
        let part = heap.intern_range(text, 1, 6).unwrap();
        assert_eq!(heap.str(part), "éllo");
        assert_eq!(heap.strings.get(part).unwrap().char_len, 4);
        assert_eq!(heap.intern("éllo").unwrap(), part);
        let empty = heap.intern_range(text, 6, 6).unwrap();
        assert_eq!(heap.intern("").unwrap(), empty);
        let all = [text, world, h, e, part, empty];
        let hashes = all.map(|k| (k, heap.strings.get(k).unwrap().hash));
        heap.interner.check(hashes.into_iter()).unwrap();
    }

    #[test]
    fn a_join_too_long_for_a_slot_is_the_interned_string_with_its_text() {
        let mut heap = heap();
        let parts = ["a line of text, ", "héllo wörld", ", and more after it"]
            .map(|p| heap.intern(p).unwrap());
        let text = "a line of text, héllo wörld, and more after it";
        assert!(text.len() > super::INLINE_TEXT);
        let joined = heap.intern_concat(&parts).unwrap();
        assert_eq!(heap.str(joined), text);
        // Counted in characters, found by `intern`, and found again when
        // joined again.
        assert_eq!(
            heap.strings.get(joined).unwrap().char_len,
            text.chars().count()
        );
        assert_eq!(heap.intern(text).unwrap(), joined);
        assert_eq!(heap.intern_concat(&parts).unwrap(), joined);
        // Its allocation is counted as the heap's.
        heap.strings.check_sizes().unwrap();
        assert!(heap.bytes() >= text.len());
        let mut all = parts.to_vec();
        all.push(joined);
        let hashes = all.iter().map(|&k| (k, heap.strings.get(k).unwrap().hash));
        heap.interner.check(hashes).unwrap();
    }

    #[test]
    fn a_freed_concatenation_is_made_again() {
        let mut heap = heap();
        let (ab, cd) = (heap.intern("ab").unwrap(), heap.intern("cd").unwrap());
        let first = concat(&mut heap, ab, cd);
        heap.strings.remove(first);
        let again = concat(&mut heap, ab, cd);
        assert_ne!(again, first);
        assert!(heap.strings.contains_key(again));
        assert_eq!(heap.str(again), "abcd");
    }

    #[test]
    fn a_freed_part_reads_as_empty_after_its_pair_was_concatenated() {
        let mut heap = heap();
        let (ab, cd) = (heap.intern("ab").unwrap(), heap.intern("cd").unwrap());
        concat(&mut heap, ab, cd);
        heap.strings.remove(ab);
        let again = concat(&mut heap, ab, cd);
        assert_eq!(heap.str(again), "cd");
    }

    #[test]
    fn same_text_sees_every_byte_at_every_length() {
        for n in 0..=40 {
            let a: Vec<u8> = (0..n as u8).map(|i| b'a' + i % 26).collect();
            assert!(same_text(&a, &a.clone()), "length {n}");
            for at in 0..n {
                let mut b = a.clone();
                b[at] ^= 0x20;
                assert!(!same_text(&a, &b), "length {n}, byte {at}");
            }
            if n > 0 {
                assert!(!same_text(&a, &a[..n - 1]), "length {n}, one shorter");
            }
        }
    }
}
