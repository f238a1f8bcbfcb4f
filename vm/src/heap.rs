//! The heap: one `slotmap` arena per object kind.
//!
//! Every handle is a generational key, so a stale handle is detected on access
//! (and reported as a runtime error by the interpreter), never undefined
//! behaviour. Strings are interned: two equal strings are the same key, which
//! makes string equality and map hashing O(1).
//!
//! **Write barrier.** Every store of a value *into* a heap object goes through
//! the functions in the "stores" section below (`list_set`, `list_push`,
//! `list_insert`, `map_insert`, `cell_set`, `instance_var_set`, and closure
//! creation in `alloc_closure`). They are the single place where the
//! incremental collector's write barrier lives.

use std::hash::BuildHasher;
use std::sync::Arc;

use hashbrown::HashTable;
use indexmap::IndexMap;
use rustc_hash::FxBuildHasher;
use slotmap::SlotMap;

use crate::bytecode::{ModuleCode, Proto};
use crate::host::HostObject;
use crate::value::{CellKey, ClosureKey, HostKey, InstanceKey, ListKey, MapKey, StrKey, Value};

/// A string object. `char_len == text.len()` means the string is ASCII.
pub struct StrObj {
    pub text: Box<str>,
    hash: u64,
    pub char_len: usize,
}

impl StrObj {
    #[inline]
    pub fn is_ascii(&self) -> bool {
        self.char_len == self.text.len()
    }
}

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
    pub fn from_value(v: Value) -> Result<Key, String> {
        match v {
            Value::Int(i) => Ok(Key::Int(i)),
            Value::Bool(b) => Ok(Key::Bool(b)),
            Value::Str(s) => Ok(Key::Str(s)),
            Value::Entity(e) => Ok(Key::Entity(e)),
            other => Err(format!("map key cannot be {}", other.type_name())),
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

/// An insertion-ordered map.
pub type ArkMap = IndexMap<Key, Value, FxBuildHasher>;

/// A script closure: a prototype, the module instance whose variables it
/// sees, and the cells of the variables it captured.
pub struct Closure {
    pub proto: Arc<Proto>,
    pub instance: InstanceKey,
    pub upvals: Box<[CellKey]>,
}

/// One instance of a module: its own module variables.
pub struct Instance {
    pub module: Arc<ModuleCode>,
    pub vars: Vec<Value>,
    /// What `self` evaluates to inside this instance (the plugin's entity).
    pub self_value: Value,
}

/// Approximate sizes used for the heap limit and statistics.
const OBJECT_OVERHEAD: usize = 48;
const VALUE_SIZE: usize = std::mem::size_of::<Value>();
const MAP_ENTRY_SIZE: usize = 40;

/// The heap ran past its configured limit.
#[derive(Debug)]
pub struct OutOfMemory;

pub struct Heap {
    pub(crate) strings: SlotMap<StrKey, StrObj>,
    interner: HashTable<StrKey>,
    pub(crate) lists: SlotMap<ListKey, Vec<Value>>,
    pub(crate) maps: SlotMap<MapKey, ArkMap>,
    pub(crate) closures: SlotMap<ClosureKey, Closure>,
    pub(crate) cells: SlotMap<CellKey, Value>,
    pub(crate) hosts: SlotMap<HostKey, Box<dyn HostObject>>,
    pub(crate) instances: SlotMap<InstanceKey, Instance>,
    bytes: usize,
    pub(crate) limit: usize,
    pub(crate) max_string_len: usize,
}

fn hash_str(s: &str) -> u64 {
    FxBuildHasher.hash_one(s)
}

impl Heap {
    pub fn new(limit: usize, max_string_len: usize) -> Heap {
        Heap {
            strings: SlotMap::with_key(),
            interner: HashTable::new(),
            lists: SlotMap::with_key(),
            maps: SlotMap::with_key(),
            closures: SlotMap::with_key(),
            cells: SlotMap::with_key(),
            hosts: SlotMap::with_key(),
            instances: SlotMap::with_key(),
            bytes: 0,
            limit,
            max_string_len,
        }
    }

    /// Approximate bytes held by heap objects.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Number of live objects of every kind.
    pub fn object_count(&self) -> usize {
        self.strings.len()
            + self.lists.len()
            + self.maps.len()
            + self.closures.len()
            + self.cells.len()
            + self.hosts.len()
    }

    /// Accounts for `n` more bytes, failing past the limit.
    #[inline]
    pub(crate) fn charge(&mut self, n: usize) -> Result<(), OutOfMemory> {
        let next = self.bytes.saturating_add(n);
        if next > self.limit {
            return Err(OutOfMemory);
        }
        self.bytes = next;
        Ok(())
    }

    // ---- allocation ----

    /// Interns `text`: equal strings share one key.
    pub fn intern(&mut self, text: &str) -> Result<StrKey, OutOfMemory> {
        let hash = hash_str(text);
        let strings = &self.strings;
        if let Some(&key) = self.interner.find(hash, |&k| &*strings[k].text == text) {
            return Ok(key);
        }
        self.charge(text.len() + OBJECT_OVERHEAD)?;
        let char_len = if text.is_ascii() {
            text.len()
        } else {
            text.chars().count()
        };
        let key = self.strings.insert(StrObj {
            text: text.into(),
            hash,
            char_len,
        });
        let strings = &self.strings;
        self.interner.insert_unique(hash, key, |&k| strings[k].hash);
        Ok(key)
    }

    pub fn alloc_list(&mut self, items: Vec<Value>) -> Result<ListKey, OutOfMemory> {
        self.charge(OBJECT_OVERHEAD + items.capacity() * VALUE_SIZE)?;
        Ok(self.lists.insert(items))
    }

    pub fn alloc_map(&mut self, map: ArkMap) -> Result<MapKey, OutOfMemory> {
        self.charge(OBJECT_OVERHEAD + map.capacity() * MAP_ENTRY_SIZE)?;
        Ok(self.maps.insert(map))
    }

    pub fn alloc_cell(&mut self, v: Value) -> Result<CellKey, OutOfMemory> {
        self.charge(OBJECT_OVERHEAD)?;
        Ok(self.cells.insert(v))
    }

    /// Creates a closure. Capturing cells is a store into a new object: a
    /// write-barrier point.
    pub fn alloc_closure(&mut self, closure: Closure) -> Result<ClosureKey, OutOfMemory> {
        self.charge(OBJECT_OVERHEAD + closure.upvals.len() * 8)?;
        Ok(self.closures.insert(closure))
    }

    pub fn alloc_host(&mut self, obj: Box<dyn HostObject>) -> Result<HostKey, OutOfMemory> {
        self.charge(OBJECT_OVERHEAD)?;
        Ok(self.hosts.insert(obj))
    }

    // ---- stores: the write-barrier points ----

    /// `list[index] = v`. The caller has checked the index.
    #[inline]
    pub fn list_set(&mut self, list: ListKey, index: usize, v: Value) {
        if let Some(items) = self.lists.get_mut(list) {
            items[index] = v;
        }
    }

    pub fn list_push(&mut self, list: ListKey, v: Value) -> Result<(), OutOfMemory> {
        self.charge(VALUE_SIZE)?;
        if let Some(items) = self.lists.get_mut(list) {
            items.push(v);
        }
        Ok(())
    }

    pub fn list_insert(
        &mut self,
        list: ListKey,
        index: usize,
        v: Value,
    ) -> Result<(), OutOfMemory> {
        self.charge(VALUE_SIZE)?;
        if let Some(items) = self.lists.get_mut(list) {
            items.insert(index, v);
        }
        Ok(())
    }

    pub fn map_insert(&mut self, map: MapKey, key: Key, v: Value) -> Result<(), OutOfMemory> {
        let Some(m) = self.maps.get_mut(map) else {
            return Ok(());
        };
        if let Some(slot) = m.get_mut(&key) {
            *slot = v;
            return Ok(());
        }
        self.charge(MAP_ENTRY_SIZE)?;
        if let Some(m) = self.maps.get_mut(map) {
            m.insert(key, v);
        }
        Ok(())
    }

    #[inline]
    pub fn cell_set(&mut self, cell: CellKey, v: Value) {
        if let Some(slot) = self.cells.get_mut(cell) {
            *slot = v;
        }
    }

    #[inline]
    pub fn instance_var_set(&mut self, instance: InstanceKey, slot: usize, v: Value) {
        if let Some(inst) = self.instances.get_mut(instance) {
            inst.vars[slot] = v;
        }
    }

    // ---- reads ----

    /// The text of a string; `""` for a stale key (callers that must detect
    /// staleness use `strings.get`).
    #[inline]
    pub fn str(&self, key: StrKey) -> &str {
        self.strings.get(key).map(|s| &*s.text).unwrap_or("")
    }
}
