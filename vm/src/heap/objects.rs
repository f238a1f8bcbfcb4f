//! The heap's object types, and what each counts against the heap limit.
//!
//! Lists, maps, cells and instances hold values, so a change to what they
//! hold is a store the collector must see (`write.rs`). Their storage is
//! private to the heap module: other code reads them through `Deref` or
//! accessors, and changes them only through the heap's store methods and
//! write guards, which apply the write barrier and keep the counted size
//! exact. A new operation on them cannot skip either: it does not compile.

use std::sync::Arc;

use indexmap::IndexMap;

use crate::arena::{HeapSize, slot_size};
use crate::bytecode::{ModuleCode, Proto};
use crate::host::HostObject;
use crate::value::{CellKey, InstanceKey, Value};

use super::Key;
use super::list::ListObj;
use super::map::MapObj;

pub(crate) const VALUE_SIZE: usize = std::mem::size_of::<Value>();
/// Bytes an entry of a map's hash table counts: its hash, key and value,
/// and its share of the index (a word and a control byte per bucket, with
/// at most 7 buckets in 8 used).
pub(crate) const MAP_ENTRY_SIZE: usize = 40 + 10;
/// Bytes an entry of a map's short list of entries counts: its key and
/// value.
pub(crate) const LISTED_ENTRY_SIZE: usize = std::mem::size_of::<(Key, Value)>();

/// How maps (and the interner, and the compiler's tables of what a script
/// names) hash: seeded at random for each process, so that a script cannot
/// choose keys that all land in one bucket.
pub type SeededHasher = foldhash::fast::RandomState;

/// An insertion-ordered map.
pub type ArkMap = IndexMap<Key, Value, SeededHasher>;

/// A string object. `char_len == text.len()` means the string is ASCII.
pub struct StrObj {
    /// Short strings (up to 24 bytes) live inline: no allocation of their own.
    pub(crate) text: compact_str::CompactString,
    pub(crate) hash: u64,
    pub char_len: usize,
}

impl StrObj {
    #[inline]
    pub fn is_ascii(&self) -> bool {
        self.char_len == self.text.len()
    }
}

impl HeapSize for StrObj {
    /// The slot, and the text where it is too long to live in the slot.
    fn heap_size(&self) -> usize {
        slot_size::<StrObj>() + text_bytes(&self.text)
    }
}

/// The bytes a string's text takes outside its slot.
fn text_bytes(text: &compact_str::CompactString) -> usize {
    if text.is_heap_allocated() {
        text.capacity()
    } else {
        0
    }
}

impl HeapSize for ListObj {
    /// The slot, and the buffer as allocated once the list has outgrown
    /// its slot: a list's spare capacity is memory it holds.
    fn heap_size(&self) -> usize {
        slot_size::<ListObj>() + self.buffer_capacity() * VALUE_SIZE
    }
}

impl HeapSize for MapObj {
    /// The slot, and the storage of its entries once the map has outgrown
    /// its slot (a short list of them, or a hash table's entries and
    /// index).
    fn heap_size(&self) -> usize {
        slot_size::<MapObj>() + self.table_bytes()
    }
}

/// A captured variable's cell.
pub struct CellObj(pub(super) Value);

impl CellObj {
    #[inline]
    pub fn get(&self) -> Value {
        self.0
    }
}

impl HeapSize for CellObj {
    fn heap_size(&self) -> usize {
        slot_size::<CellObj>()
    }
}

/// A script closure: a prototype, the module instance whose variables it
/// sees, and the cells of the variables it captured. Never changed after
/// it is made.
pub struct Closure {
    pub proto: Arc<Proto>,
    pub instance: InstanceKey,
    pub upvals: Box<[CellKey]>,
}

impl HeapSize for Closure {
    fn heap_size(&self) -> usize {
        slot_size::<Closure>() + self.upvals.len() * std::mem::size_of::<CellKey>()
    }
}

impl HeapSize for Box<dyn HostObject> {
    fn heap_size(&self) -> usize {
        slot_size::<Box<dyn HostObject>>() + std::mem::size_of_val(&**self)
    }
}

/// One instance of a module: its own module variables.
pub struct Instance {
    pub(super) module: Arc<ModuleCode>,
    pub(super) vars: Vec<Value>,
    /// What `self` evaluates to inside this instance (the plugin's entity).
    pub(super) self_value: Value,
}

impl Instance {
    pub(crate) fn new(module: Arc<ModuleCode>) -> Instance {
        let vars = vec![Value::Nil; module.var_names.len()];
        Instance {
            module,
            vars,
            self_value: Value::Nil,
        }
    }

    #[inline]
    pub fn module(&self) -> &Arc<ModuleCode> {
        &self.module
    }

    #[inline]
    pub fn vars(&self) -> &[Value] {
        &self.vars
    }

    #[inline]
    pub fn self_value(&self) -> Value {
        self.self_value
    }

    /// Where the variables start, and how many there are, for the
    /// interpreter's module-variable access. Every write through the
    /// pointer must be preceded by [`super::Heap::barrier`] on the value
    /// written and followed by [`super::Heap::module_written`].
    #[inline]
    pub(crate) fn vars_for_interpreter(&mut self) -> (*mut Value, usize) {
        (self.vars.as_mut_ptr(), self.vars.len())
    }
}

impl HeapSize for Instance {
    fn heap_size(&self) -> usize {
        slot_size::<Instance>() + self.vars.len() * VALUE_SIZE
    }
}
