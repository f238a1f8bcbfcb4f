//! `ScriptValue`: Ark values as plain Rust data, for messages between
//! scripts and Rust systems.

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
    Entity(Entity),
    List(Vec<ScriptValue>),
    /// Entries in order; keys shown as text.
    Map(Vec<(String, ScriptValue)>),
}

/// How deep nested lists and maps are copied (deeper ones become nil).
const MAX_DEPTH: usize = 32;

impl ScriptValue {
    /// Copies an Ark value out of the heap.
    pub fn from_ark(heap: &Heap, v: Value) -> ScriptValue {
        Self::copy(heap, v, 0)
    }

    fn copy(heap: &Heap, v: Value, depth: usize) -> ScriptValue {
        if depth > MAX_DEPTH {
            return ScriptValue::Nil;
        }
        match v {
            Value::Nil => ScriptValue::Nil,
            Value::Bool(b) => ScriptValue::Bool(b),
            Value::Int(i) => ScriptValue::Int(i),
            Value::Float(f) => ScriptValue::Float(f),
            Value::Vec3(v) => ScriptValue::Vec3(bevy::math::Vec3::new(v.x, v.y, v.z)),
            Value::Entity(bits) => {
                Entity::try_from_bits(bits).map_or(ScriptValue::Nil, ScriptValue::Entity)
            }
            Value::Str(k) => ScriptValue::Str(heap.str(k).to_string()),
            Value::List(l) => ScriptValue::List(
                heap.list_items(l)
                    .unwrap_or_default()
                    .iter()
                    .map(|&item| Self::copy(heap, item, depth + 1))
                    .collect(),
            ),
            Value::Map(m) => ScriptValue::Map(
                heap.map_entries(m)
                    .map(|entries| {
                        entries
                            .map(|(k, v)| {
                                let key = match k {
                                    Key::Str(s) => heap.str(s).to_string(),
                                    Key::Int(i) => i.to_string(),
                                    Key::Bool(b) => b.to_string(),
                                    Key::Entity(e) => e.to_string(),
                                };
                                (key, Self::copy(heap, v, depth + 1))
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            ),
            _ => ScriptValue::Nil,
        }
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
                    let key = heap.intern(k).map_err(oom)?;
                    map.insert(Key::Str(key), v.to_ark(heap)?);
                }
                Value::Map(heap.alloc_map(map).map_err(oom)?)
            }
        })
    }
}
