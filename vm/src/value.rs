//! `Value`: the 16-byte, `Copy` representation of every Ark value.
//!
//! Immediates (nil, bool, int, float, vec3, quat, entity) live inside the
//! value;
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
#[repr(C)]
pub struct Vec3 {
    pub x: f32,
    pub y: f32,
    pub z: f32,
}

impl Vec3 {
    pub const fn new(x: f32, y: f32, z: f32) -> Self {
        Vec3 { x, y, z }
    }

    /// `self + w`, component by component.
    #[inline]
    pub fn plus(self, w: Vec3) -> Vec3 {
        Vec3::new(self.x + w.x, self.y + w.y, self.z + w.z)
    }

    /// `self - w`, component by component.
    #[inline]
    pub fn minus(self, w: Vec3) -> Vec3 {
        Vec3::new(self.x - w.x, self.y - w.y, self.z - w.z)
    }

    /// `self * s`.
    #[inline]
    pub fn scaled(self, s: f32) -> Vec3 {
        Vec3::new(self.x * s, self.y * s, self.z * s)
    }
}

/// An Ark value. 16 bytes, `Copy`.
///
/// Rust's `==` on values compares variant and payload exactly (so
/// `Int(1) != Float(1.0)`); the language's `==` is `ops::equal`.
///
/// Aligned to its size, so that a value never straddles two cache lines and
/// copies are single aligned 16-byte moves. The layout is fixed (`repr(u8)`:
/// a tag byte, then the payload at its own alignment) so that
/// [`Value::vec3`] can build a vec3 whole.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[repr(u8, align(16))]
pub enum Value {
    #[default]
    Nil,
    Bool(bool),
    Int(i64) = INT_TAG,
    Float(f64) = FLOAT_TAG,
    Vec3(Vec3) = VEC3_TAG,
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
    /// A place inside an entity (one of its components, or a field inside
    /// one), numbered by the entity host ([`crate::EntityHost`]): a
    /// reference that takes no heap. `path` first, so that it shares the
    /// tag's 8 bytes.
    EntityRef {
        path: u32,
        entity: u64,
    } = ENTITY_REF_TAG,
    /// A rotation: the three smaller components of a unit quaternion and
    /// what gives back the largest, in the 15 bytes after the tag (see
    /// `crate::quat`; made by `Quat::to_value`).
    Quat {
        largest: u8,
        low: u16,
        rest: [f32; 3],
    },
}

const _: () = assert!(std::mem::size_of::<Value>() == 16);

/// Tag bytes of the variants built whole (`Value::vec3`, `copy_parts`,
/// `Value::entity_ref`).
const NIL_TAG: u8 = 0;
const INT_TAG: u8 = 2;
const FLOAT_TAG: u8 = 3;
const VEC3_TAG: u8 = 4;
const ENTITY_REF_TAG: u8 = 13;

impl Value {
    /// `Value::Vec3(v)`, built in one 16-byte register and stored with one
    /// write. Built field by field, a vec3 is a tag byte, an 8-byte and a
    /// 4-byte store; the 16-byte load that copies it next (into a register
    /// slot or a list) cannot be forwarded from those stores and waits for
    /// them to reach the cache, which was a fifth of `particles` (perf).
    #[inline(always)]
    pub fn vec3(v: Vec3) -> Value {
        let tag = f32::from_bits(u32::from_ne_bytes([VEC3_TAG, 0, 0, 0]));
        // A vector register, so that LLVM stores it whole rather than
        // splitting it back into fields.
        #[cfg(target_arch = "x86_64")]
        // SAFETY: SSE is part of the x86_64 baseline, so the intrinsic is
        // always available.
        let whole = unsafe { std::arch::x86_64::_mm_setr_ps(tag, v.x, v.y, v.z) };
        #[cfg(not(target_arch = "x86_64"))]
        let whole = [tag, v.x, v.y, v.z];
        // SAFETY: `Value` is `repr(u8)`, so `Value::Vec3` is laid out as a
        // `repr(C)` struct of the tag byte `VEC3_TAG` and a `repr(C)` `Vec3`
        // at offset 4 (the alignment of `f32`): byte 0 of `whole` is the
        // tag, bytes 1..4 are padding, and bytes 4..16 are `x`, `y`, `z`.
        // Both types are 16 bytes (asserted above), and every bit pattern
        // is a valid `f32`.
        unsafe { std::mem::transmute(whole) }
    }

    /// A copy made from the number's tag and payload rather than 16 bytes
    /// at once. Arithmetic writes a result as a tag byte and an 8-byte
    /// payload, and a 16-byte load right after those stores cannot be
    /// forwarded from them: it waits for them to reach the cache. Copies
    /// that often follow arithmetic (moves, returns) read this way, and
    /// build the copy whole, so that LLVM cannot fold it back into a plain
    /// 16-byte copy.
    #[inline(always)]
    pub(crate) fn copy_parts(&self) -> Value {
        match self {
            Value::Int(i) => Value::tag_and_word(INT_TAG, *i as u64),
            Value::Float(f) => Value::float(*f),
            other => *other,
        }
    }

    /// [`Value::copy_parts`], for the variants that host code gives too:
    /// a result passed back through a `Result` (or a call's result passed
    /// on) is moved 8 bytes at a time, and a 16-byte load cannot be
    /// forwarded from two stores either.
    #[inline(always)]
    pub(crate) fn copy_fields(&self) -> Value {
        match self {
            Value::EntityRef { path, entity } => Value::entity_ref(*path, *entity),
            Value::Vec3(v) => Value::vec3(*v),
            Value::Nil => Value::nil(),
            other => other.copy_parts(),
        }
    }

    /// `Value::Float(f)`, built in one vector register (see
    /// [`Value::vec3`]): for values made where the next read copies them
    /// whole, as a host's results and a call's arguments are.
    #[inline(always)]
    pub fn float(f: f64) -> Value {
        Value::tag_and_word(FLOAT_TAG, f.to_bits())
    }

    /// `Value::Nil`, built in one vector register (see [`Value::vec3`]).
    #[inline(always)]
    pub fn nil() -> Value {
        Value::tag_and_word(NIL_TAG, 0)
    }

    /// `Value::EntityRef { path, entity }`, built in one vector register
    /// (see [`Value::vec3`]): what an entity host's field reads give.
    #[inline(always)]
    pub fn entity_ref(path: u32, entity: u64) -> Value {
        let [a, b, c, d] = path.to_ne_bytes();
        let low = u64::from_ne_bytes([ENTITY_REF_TAG, 0, 0, 0, a, b, c, d]);
        // SAFETY: `Value` is `repr(u8)`, so `Value::EntityRef` is laid out
        // as a `repr(C)` struct of the tag byte, `path` (a `u32`, at offset
        // 4) and `entity` (a `u64`, at offset 8): `low` holds the tag and
        // `path` at those places, `entity` is the second word.
        unsafe { Value::from_words(low, entity) }
    }

    /// A value of a variant whose payload is one 8-byte word at offset 8
    /// (or none), built in one vector register.
    #[inline(always)]
    fn tag_and_word(tag: u8, word: u64) -> Value {
        // The only tags whose payload is one word at offset 8, or nothing.
        assert!(tag == NIL_TAG || tag == INT_TAG || tag == FLOAT_TAG);
        let low = u64::from_ne_bytes([tag, 0, 0, 0, 0, 0, 0, 0]);
        // SAFETY: `Value` is `repr(u8)`, so `Value::Int` and `Value::Float`
        // are laid out as `repr(C)` structs of the tag byte and an 8-byte
        // payload at offset 8, and `Value::Nil` is the tag byte alone:
        // byte 0 of `low` is the tag (`NIL_TAG`, `INT_TAG` or `FLOAT_TAG`,
        // asserted), bytes 1..8 are padding, and `word` fills bytes 8..16,
        // a valid `i64` and `f64` alike (padding for `Nil`).
        unsafe { Value::from_words(low, word) }
    }

    /// The value whose 16 bytes are `low` and then `high` (each in native
    /// byte order), from one vector register, so that LLVM stores it whole.
    ///
    /// # Safety
    ///
    /// The 16 bytes must be a valid `Value`: a tag byte and that variant's
    /// payload at its offsets.
    #[inline(always)]
    unsafe fn from_words(low: u64, high: u64) -> Value {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: SSE2 is part of the x86_64 baseline.
        let whole = unsafe { std::arch::x86_64::_mm_set_epi64x(high as i64, low as i64) };
        #[cfg(not(target_arch = "x86_64"))]
        let whole = [low, high];
        // SAFETY: both types are 16 bytes (asserted above), and the caller
        // promises that the bytes are a valid `Value`.
        unsafe { std::mem::transmute(whole) }
    }

    /// Whether the value is a key into one of the heap's arenas (what the
    /// collector marks, in `Heap::shade`): a number, a vector or an entity
    /// is not. Every kind is named, so that a new one must say which it is.
    #[inline]
    pub(crate) fn is_heap_object(&self) -> bool {
        match self {
            Value::Str(_)
            | Value::List(_)
            | Value::Map(_)
            | Value::Closure(_)
            | Value::Cell(_)
            | Value::Host(_) => true,
            Value::Nil
            | Value::Bool(_)
            | Value::Int(_)
            | Value::Float(_)
            | Value::Vec3(_)
            | Value::Quat { .. }
            | Value::Entity(_)
            | Value::EntityRef { .. }
            | Value::Native(_) => false,
        }
    }

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
            Value::Quat { .. } => "quat",
            Value::Entity(_) => "entity",
            Value::Str(_) => "string",
            Value::List(_) => "list",
            Value::Map(_) => "map",
            Value::Closure(_) | Value::Native(_) => "function",
            Value::Host(_) | Value::EntityRef { .. } => "ref",
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

    /// A number as a vec3 component: an int is rounded to `f32` once (not
    /// through `f64`, which rounds twice and can land on another `f32`
    /// above 2^53).
    #[inline]
    pub fn as_f32(self) -> Option<f32> {
        match self {
            Value::Int(i) => Some(i as f32),
            Value::Float(f) => Some(f as f32),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vec3_built_whole_is_the_same_value() {
        for v in [
            Vec3::new(1.5, -2.25, 3.0),
            Vec3::new(0.0, -0.0, f32::MAX),
            Vec3::new(f32::INFINITY, f32::MIN_POSITIVE, -7.0),
        ] {
            let whole = Value::vec3(v);
            assert_eq!(whole, Value::Vec3(v));
            assert!(matches!(whole, Value::Vec3(w) if w == v));
            assert_eq!(whole.type_name(), "vec3");
        }
        let nan = Value::vec3(Vec3::new(f32::NAN, 0.0, 0.0));
        assert!(matches!(nan, Value::Vec3(w) if w.x.is_nan() && w.y == 0.0));
    }

    #[test]
    fn copies_by_parts_are_the_same_values() {
        for i in [0, 1, -1, i64::MIN, i64::MAX, 0x0123_4567_89ab_cdef] {
            assert_eq!(Value::Int(i).copy_parts(), Value::Int(i));
        }
        for f in [0.0, -0.0, 1.5, f64::MAX, f64::MIN_POSITIVE, f64::INFINITY] {
            let copy = Value::Float(f).copy_parts();
            assert!(matches!(copy, Value::Float(g) if g.to_bits() == f.to_bits()));
        }
        assert!(matches!(Value::Float(f64::NAN).copy_parts(), Value::Float(g) if g.is_nan()));
        let v = Value::vec3(Vec3::new(1.0, 2.0, 3.0));
        for other in [
            Value::nil(),
            Value::Nil,
            Value::Bool(true),
            v,
            Value::Entity(7),
        ] {
            assert_eq!(other.copy_parts(), other);
            assert_eq!(other.copy_fields(), other);
        }
        let r = Value::EntityRef {
            path: 3,
            entity: u64::MAX,
        };
        assert_eq!(r.copy_fields(), r);
        assert_eq!(Value::Float(0.5).copy_fields(), Value::Float(0.5));
    }

    #[test]
    fn values_built_whole_are_the_same_values() {
        assert_eq!(Value::nil(), Value::Nil);
        assert_eq!(Value::nil().type_name(), "nil");
        for f in [0.0, -0.0, 2.5, f64::MAX, f64::NEG_INFINITY] {
            let whole = Value::float(f);
            assert!(matches!(whole, Value::Float(g) if g.to_bits() == f.to_bits()));
        }
        for (path, entity) in [
            (0, 0),
            (7, 42),
            (u32::MAX - 1, u64::MAX),
            (1 << 31, 1 << 32),
        ] {
            let whole = Value::entity_ref(path, entity);
            assert_eq!(whole, Value::EntityRef { path, entity });
            assert!(
                matches!(whole, Value::EntityRef { path: p, entity: e } if p == path && e == entity)
            );
            assert_eq!(whole.type_name(), "ref");
        }
    }
}
