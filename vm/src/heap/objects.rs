//! The heap's object types, and what each counts against the heap limit.
//!
//! Lists, maps, cells and instances hold values, so a change to what they
//! hold is a store the collector must see (`write.rs`). Their storage is
//! private to the heap module: other code reads them through `Deref` or
//! accessors, and changes them only through the heap's store methods and
//! write guards, which apply the write barrier and keep the counted size
//! exact. A new operation on them cannot skip either: it does not compile.

use std::ops::Deref;
use std::sync::Arc;

use indexmap::IndexMap;

use crate::arena::HeapSize;
use crate::bytecode::{ModuleCode, Proto};
use crate::host::HostObject;
use crate::value::{CellKey, InstanceKey, Value};

use super::Key;

/// Bytes every object counts for its header and its arena slot.
pub(crate) const OBJECT_OVERHEAD: usize = 48;
pub(crate) const VALUE_SIZE: usize = std::mem::size_of::<Value>();
/// Bytes a map entry counts: its hash, key and value.
pub(crate) const MAP_ENTRY_SIZE: usize = 40;

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
    fn heap_size(&self) -> usize {
        OBJECT_OVERHEAD + self.text.len()
    }
}

/// A list's items: read as a slice; changed only by the heap.
pub struct ListObj {
    pub(super) items: Vec<Value>,
}

impl ListObj {
    pub(super) fn new(items: Vec<Value>) -> ListObj {
        ListObj { items }
    }
}

impl Deref for ListObj {
    type Target = [Value];
    #[inline]
    fn deref(&self) -> &[Value] {
        &self.items
    }
}

impl HeapSize for ListObj {
    /// The buffer as allocated: a list's spare capacity is memory it holds.
    fn heap_size(&self) -> usize {
        OBJECT_OVERHEAD + self.items.capacity() * VALUE_SIZE
    }
}

/// A map's entries: read as an [`ArkMap`]; changed only by the heap.
pub struct MapObj {
    pub(super) entries: ArkMap,
}

impl MapObj {
    pub(super) fn new(entries: ArkMap) -> MapObj {
        MapObj { entries }
    }
}

impl Deref for MapObj {
    type Target = ArkMap;
    #[inline]
    fn deref(&self) -> &ArkMap {
        &self.entries
    }
}

impl HeapSize for MapObj {
    fn heap_size(&self) -> usize {
        OBJECT_OVERHEAD + self.entries.capacity() * MAP_ENTRY_SIZE
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
        OBJECT_OVERHEAD
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
        OBJECT_OVERHEAD + self.upvals.len() * std::mem::size_of::<CellKey>()
    }
}

impl HeapSize for Box<dyn HostObject> {
    fn heap_size(&self) -> usize {
        OBJECT_OVERHEAD
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
        OBJECT_OVERHEAD + self.vars.len() * VALUE_SIZE
    }
}
