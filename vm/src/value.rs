//! `Value`: the 16-byte, `Copy` representation of every Ark value.
//!
//! Immediates (nil, bool, int, float, vec3, entity) live inside the value;
//! everything else is a generational key into one of the heap's arenas, so
//! copying any value is O(1) and a stale key is caught on access.

use slotmap::new_key_type;

new_key_type! {
    /// An interned string on the heap.
    pub struct StrKey;
    /// A list on the heap.
    pub struct ListKey;
    /// A map on the heap.
    pub struct MapKey;
    /// A script closure on the heap.
    pub struct ClosureKey;
    /// A captured variable's shared cell (never visible to scripts as a value).
    pub struct CellKey;
    /// A host object (added by the embedder through [`crate::HostObject`]).
    pub struct HostKey;
    /// A module instance: one script's module variables.
    pub struct InstanceKey;
}

/// A native function's index in the VM's native table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NativeId(pub(crate) u32);

/// Three `f32` components: Ark's `vec3`, an immutable value.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Vec3 {
    pub x: f32,
    pub y: f32,
    pub z: f32,
}

impl Vec3 {
    pub const fn new(x: f32, y: f32, z: f32) -> Self {
        Vec3 { x, y, z }
    }
}

/// An Ark value. 16 bytes, `Copy`.
///
/// Rust's `==` on values compares variant and payload exactly (so
/// `Int(1) != Float(1.0)`); the language's `==` is `ops::equal`.
///
/// Aligned to its size, so that a value never straddles two cache lines and
/// copies are single aligned 16-byte moves.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[repr(align(16))]
pub enum Value {
    #[default]
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Vec3(Vec3),
    /// An ECS entity, as the bits of Bevy's `Entity::to_bits` (index in the
    /// low 32 bits, generation in the high 32 bits).
    Entity(u64),
    Str(StrKey),
    List(ListKey),
    Map(MapKey),
    Closure(ClosureKey),
    Native(NativeId),
    Host(HostKey),
    /// Internal: the cell of a captured local. Lives only in registers.
    Cell(CellKey),
}

const _: () = assert!(std::mem::size_of::<Value>() == 16);

impl Value {
    /// `nil` and `false` are falsy; everything else is truthy.
    #[inline]
    pub fn is_truthy(&self) -> bool {
        !matches!(self, Value::Nil | Value::Bool(false))
    }

    /// The name that `type(x)` returns.
    pub fn type_name(self) -> &'static str {
        match self {
            Value::Nil => "nil",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Vec3(_) => "vec3",
            Value::Entity(_) => "entity",
            Value::Str(_) => "string",
            Value::List(_) => "list",
            Value::Map(_) => "map",
            Value::Closure(_) | Value::Native(_) => "function",
            Value::Host(_) => "ref",
            Value::Cell(_) => "cell",
        }
    }

    /// The number as an `f64`, for ints and floats.
    #[inline]
    pub fn as_f64(self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(i as f64),
            Value::Float(f) => Some(f),
            _ => None,
        }
    }
}
