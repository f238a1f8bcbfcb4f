//! `ScriptValue`: Ark values as plain Rust data, for messages between
//! scripts and Rust systems.
//!
//! Copying out of the heap is bounded: a list that holds the same sublist
//! twice, twenty levels deep, is a million values to copy. A copy stops
//! with an error past [`MAX_VALUES`] values or [`MAX_DEPTH`] levels, and
//! reports how many values it copied so that the native doing it charges
//! the script for them.

use ark_vm::{Heap, Key, Value, Vec3};
use bevy::prelude::Entity;

/// A value a script sent or will receive. Lists and maps are copied.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum ScriptValue {
    #[default]
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Vec3(bevy::math::Vec3),
    /// A rotation (an Ark `quat`).
    Quat(bevy::math::Quat),
    Entity(Entity),
    List(Vec<ScriptValue>),
    /// Entries in order, with their keys as they were.
    Map(Vec<(ScriptKey, ScriptValue)>),
}

/// A map key: the kinds of value Ark maps accept as keys.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ScriptKey {
    Str(String),
    Int(i64),
    Bool(bool),
    Entity(Entity),
}

impl From<&str> for ScriptKey {
    fn from(s: &str) -> ScriptKey {
        ScriptKey::Str(s.to_string())
    }
}

impl From<String> for ScriptKey {
    fn from(s: String) -> ScriptKey {
        ScriptKey::Str(s)
    }
}

impl ScriptKey {
    /// The key as text, when it is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            ScriptKey::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// The most values one copy makes (every list item, map key and value
/// counts one).
pub const MAX_VALUES: usize = 100_000;
/// How deep nested lists and maps are copied.
pub const MAX_DEPTH: usize = 32;

impl ScriptValue {
    /// Copies an Ark value out of the heap; an error past [`MAX_VALUES`]
    /// values or [`MAX_DEPTH`] levels, or for a value that cannot leave
    /// the VM (a function, a reference into a component).
    pub fn from_ark(heap: &Heap, v: Value) -> Result<ScriptValue, String> {
        Self::from_ark_counted(heap, v).map(|(value, _)| value)
    }

    /// [`ScriptValue::from_ark`], with the number of values copied.
    pub fn from_ark_counted(heap: &Heap, v: Value) -> Result<(ScriptValue, usize), String> {
        let mut copied = 0;
        let value = Self::copy(heap, v, 0, &mut copied)?;
        Ok((value, copied))
    }

    fn copy(
        heap: &Heap,
        v: Value,
        depth: usize,
        copied: &mut usize,
    ) -> Result<ScriptValue, String> {
        *copied += 1;
        if *copied > MAX_VALUES {
            return Err(format!(
                "data too large to copy out of the script (more than {MAX_VALUES} values)"
            ));
        }
        if depth > MAX_DEPTH {
            return Err(format!(
                "data nested too deep to copy out of the script (more than {MAX_DEPTH} levels)"
            ));
        }
        let stale = || "stale handle: the object was freed".to_string();
        Ok(match v {
            Value::Nil => ScriptValue::Nil,
            Value::Bool(b) => ScriptValue::Bool(b),
            Value::Int(i) => ScriptValue::Int(i),
            Value::Float(f) => ScriptValue::Float(f),
            Value::Vec3(v) => ScriptValue::Vec3(bevy::math::Vec3::new(v.x, v.y, v.z)),
            Value::Quat { .. } => {
                let q = v.as_quat().unwrap_or(ark_vm::Quat::IDENTITY);
                ScriptValue::Quat(bevy::math::Quat::from_xyzw(q.x, q.y, q.z, q.w))
            }
            Value::Entity(bits) => {
                Entity::try_from_bits(bits).map_or(ScriptValue::Nil, ScriptValue::Entity)
            }
            Value::Str(k) => ScriptValue::Str(heap.str(k).to_string()),
            Value::List(l) => ScriptValue::List(
                heap.list_items(l)
                    .ok_or_else(stale)?
                    .iter()
                    .map(|&item| Self::copy(heap, item, depth + 1, copied))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Map(m) => ScriptValue::Map(
                heap.map_entries(m)
                    .ok_or_else(stale)?
                    .map(|(k, v)| {
                        *copied += 1;
                        let key = match k {
                            Key::Str(s) => ScriptKey::Str(heap.str(s).to_string()),
                            Key::Int(i) => ScriptKey::Int(i),
                            Key::Bool(b) => ScriptKey::Bool(b),
                            Key::Entity(e) => Entity::try_from_bits(e)
                                .map(ScriptKey::Entity)
                                .ok_or("not a valid entity")?,
                        };
                        Ok((key, Self::copy(heap, v, depth + 1, copied)?))
                    })
                    .collect::<Result<_, String>>()?,
            ),
            other => {
                return Err(format!(
                    "cannot copy a {} out of the script",
                    other.type_name()
                ));
            }
        })
    }

    /// Builds the Ark value (strings, lists and maps are allocated).
    pub fn to_ark(&self, heap: &mut Heap) -> Result<Value, String> {
        let oom = |_| "out of memory".to_string();
        Ok(match self {
            ScriptValue::Nil => Value::Nil,
            ScriptValue::Bool(b) => Value::Bool(*b),
            ScriptValue::Int(i) => Value::Int(*i),
            ScriptValue::Float(f) => Value::Float(*f),
            ScriptValue::Vec3(v) => Value::Vec3(Vec3::new(v.x, v.y, v.z)),
            ScriptValue::Quat(q) => ark_vm::Quat::new(q.x, q.y, q.z, q.w)
                .to_value()
                .ok_or_else(|| format!("{q} is no rotation (length 0)"))?,
            ScriptValue::Entity(e) => Value::Entity(e.to_bits()),
            ScriptValue::Str(s) => Value::Str(heap.intern(s).map_err(oom)?),
            ScriptValue::List(items) => {
                let items = items
                    .iter()
                    .map(|i| i.to_ark(heap))
                    .collect::<Result<Vec<_>, _>>()?;
                Value::List(heap.alloc_list(items).map_err(oom)?)
            }
            ScriptValue::Map(entries) => {
                let mut map = ark_vm::ArkMap::default();
                for (k, v) in entries {
                    let key = match k {
                        ScriptKey::Str(s) => Key::Str(heap.intern(s).map_err(oom)?),
                        ScriptKey::Int(i) => Key::Int(*i),
                        ScriptKey::Bool(b) => Key::Bool(*b),
                        ScriptKey::Entity(e) => Key::Entity(e.to_bits()),
                    };
                    map.insert(key, v.to_ark(heap)?);
                }
                Value::Map(heap.alloc_map(map).map_err(oom)?)
            }
        })
    }
}
