//! Reflected component values and Ark values: reading a field as a leaf
//! (a number, bool, string, vec3 or quaternion), writing one back, a
//! component as plain data, and a component built from a script's map.
//! The access itself, from `self.Transform.translation`, is in
//! `bindings.rs`.

use std::borrow::Cow;

use ark_vm::{NativeError, Value, Vec3};
use bevy::ecs::reflect::{AppTypeRegistry, ReflectComponent};
use bevy::prelude::{Entity, World};
use bevy::reflect::{
    Access, GetPath, ParsedPath, PartialReflect, Reflect, ReflectKind, TypeInfo, TypeRegistry,
    std_traits::ReflectDefault,
};

use crate::value::ScriptValue;

/// The reflection of a registered component, by short type name.
pub(crate) fn component_reflect<'r>(
    registry: &'r TypeRegistry,
    name: &str,
) -> Result<&'r ReflectComponent, NativeError> {
    registry
        .get_with_short_type_path(name)
        .and_then(|r| r.data::<ReflectComponent>())
        .ok_or_else(|| {
            NativeError::new(format!(
                "unknown component '{name}' (is it registered for reflection?)"
            ))
        })
}

/// `path` with its struct fields found by position where `root` (the
/// type it starts from) says where they are: a field named in a path is
/// looked up by name on every access (compared with each of the struct's
/// names), one given by index is not. A field the type does not have, and
/// everything past a type that is not a struct or a tuple struct, stay as
/// written (and fail or resolve on access as before).
pub(crate) fn indexed(mut path: ParsedPath, root: Option<&'static TypeInfo>) -> ParsedPath {
    let mut info = root;
    for step in &mut path.0 {
        let next = match (&step.access, info) {
            (Access::Field(name), Some(TypeInfo::Struct(s))) => match s.index_of(name) {
                Some(i) => {
                    let field = s.field_at(i).and_then(|f| f.type_info());
                    step.access = Access::FieldIndex(i);
                    field
                }
                None => None,
            },
            (Access::TupleIndex(i), Some(TypeInfo::TupleStruct(t))) => {
                t.field_at(*i).and_then(|f| f.type_info())
            }
            _ => None,
        };
        if next.is_none() {
            break;
        }
        info = next;
    }
    path
}

/// Runs `f` on component `name` of `entity` (reflected by `reflect`).
pub(crate) fn read_component<T>(
    world: &World,
    entity: Entity,
    reflect: &ReflectComponent,
    name: &str,
    f: impl FnOnce(&dyn Reflect) -> Result<T, NativeError>,
) -> Result<T, NativeError> {
    let entity_ref = world.get_entity(entity).map_err(|_| no_entity(entity))?;
    let component = reflect
        .reflect(entity_ref)
        .ok_or_else(|| no_component(entity, name))?;
    f(component)
}

/// Runs `f` on component `name` of `entity` (reflected by `reflect`), to
/// change it.
pub(crate) fn write_component<T>(
    world: &mut World,
    entity: Entity,
    reflect: &ReflectComponent,
    name: &str,
    f: impl FnOnce(&mut dyn Reflect) -> Result<T, NativeError>,
) -> Result<T, NativeError> {
    let entity_mut = world
        .get_entity_mut(entity)
        .map_err(|_| no_entity(entity))?;
    let mut component = reflect
        .reflect_mut(entity_mut)
        .ok_or_else(|| no_component(entity, name))?;
    f(&mut *component)
}

/// The error of a despawned entity's component reached.
pub(crate) fn no_entity(entity: Entity) -> NativeError {
    NativeError::new(format!("entity {entity} does not exist"))
}

/// The error of a component the entity does not have.
pub(crate) fn no_component(entity: Entity, name: &str) -> NativeError {
    NativeError::new(format!("entity {entity} has no {name} component"))
}

/// A value read out of a component, before it becomes an Ark value.
pub(crate) enum Leaf {
    Float(f64),
    Int(i64),
    Bool(bool),
    Text(String),
    Vec3(Vec3),
    /// A `Quat`, as an Ark `quat`.
    Quat([f32; 4]),
    /// An integer beyond Ark's int range (a `u64` above `i64::MAX`).
    OutOfRange(String),
}

pub(crate) fn leaf_of(value: &dyn PartialReflect) -> Option<Leaf> {
    macro_rules! try_int {
        ($($t:ty),*) => {$(
            if let Some(v) = value.try_downcast_ref::<$t>() {
                return Some(i64::try_from(*v).map_or_else(
                    |_| Leaf::OutOfRange(v.to_string()),
                    Leaf::Int,
                ));
            }
        )*};
    }
    let vector = || {
        if let Some(v) = value.try_downcast_ref::<bevy::math::Vec3>() {
            return Some(Leaf::Vec3(Vec3::new(v.x, v.y, v.z)));
        }
        let q = value.try_downcast_ref::<bevy::math::Quat>()?;
        Some(Leaf::Quat([q.x, q.y, q.z, q.w]))
    };
    // Vectors and rotations reflect as structs, numbers, bools and text as
    // opaque values: a struct of the game's (which stays a reference) is
    // told apart with two checks, not fifteen (25% of a reflected field's
    // read, the `plugin` bench's `access`).
    match value.reflect_kind() {
        ReflectKind::Struct => return vector(),
        ReflectKind::Opaque => {}
        _ => return None,
    }
    if let Some(v) = value.try_downcast_ref::<f32>() {
        return Some(Leaf::Float(*v as f64));
    }
    if let Some(v) = value.try_downcast_ref::<f64>() {
        return Some(Leaf::Float(*v));
    }
    try_int!(i8, i16, i32, i64, u8, u16, u32, u64, usize, isize);
    if let Some(v) = value.try_downcast_ref::<bool>() {
        return Some(Leaf::Bool(*v));
    }
    if let Some(v) = value.try_downcast_ref::<String>() {
        return Some(Leaf::Text(v.clone()));
    }
    // (Should a math type reflect as an opaque value.)
    vector()
}

/// A quaternion from a `quat`, `{x, y, z, w}` or `[x, y, z, w]`.
pub(crate) fn quat_of(heap: &ark_vm::Heap, value: Value) -> Option<bevy::math::Quat> {
    if let Some(q) = value.as_quat() {
        return Some(bevy::math::Quat::from_xyzw(q.x, q.y, q.z, q.w));
    }
    let parts: Vec<f32> = match value {
        Value::List(l) => heap
            .list_items(l)?
            .iter()
            .map(|v| v.as_f64().map(|f| f as f32))
            .collect::<Option<_>>()?,
        Value::Map(m) => {
            let entries: Vec<(ark_vm::Key, Value)> = heap.map_entries(m)?.collect();
            ["x", "y", "z", "w"]
                .iter()
                .map(|name| {
                    entries.iter().find_map(|(k, v)| match k {
                        ark_vm::Key::Str(s) if heap.str(*s) == *name => {
                            v.as_f64().map(|f| f as f32)
                        }
                        _ => None,
                    })
                })
                .collect::<Option<_>>()?
        }
        _ => return None,
    };
    match parts[..] {
        [x, y, z, w] => Some(bevy::math::Quat::from_xyzw(x, y, z, w)),
        _ => None,
    }
}

/// Writes an Ark value into a reflected field of a supported type.
fn assign(
    target: &mut dyn PartialReflect,
    value: Value,
    text: Option<String>,
    what: &str,
) -> Result<(), NativeError> {
    assign_with_quat(target, value, text, None, &|| what.to_string())
}

/// `assign`, where `quat` is the value read as a quaternion (if it is one).
/// `what` names the field for error messages (made only for one): this
/// runs for every field a script writes.
pub(crate) fn assign_with_quat(
    target: &mut dyn PartialReflect,
    value: Value,
    text: Option<String>,
    quat: Option<bevy::math::Quat>,
    what: &dyn Fn() -> String,
) -> Result<(), NativeError> {
    let field_type: Cow<'static, str> = match target.get_represented_type_info() {
        Some(info) => Cow::Borrowed(info.type_path_table().short_path()),
        None => Cow::Owned(target.reflect_short_type_path().to_string()),
    };
    // Text from a `ScriptValue` comes without an Ark string value.
    let given = if text.is_some() {
        "string"
    } else {
        value.type_name()
    };
    let mismatch = || {
        NativeError::new(format!(
            "cannot assign {given} to {} ({field_type})",
            what()
        ))
    };
    macro_rules! set_int {
        ($($t:ty),*) => {$(
            if let Some(slot) = target.try_downcast_mut::<$t>() {
                let Value::Int(i) = value else { return Err(mismatch()) };
                *slot = <$t>::try_from(i)
                    .map_err(|_| NativeError::new(format!("{i} does not fit {}", what())))?;
                return Ok(());
            }
        )*};
    }
    if let Some(slot) = target.try_downcast_mut::<f32>() {
        *slot = value.as_f64().ok_or_else(mismatch)? as f32;
        return Ok(());
    }
    if let Some(slot) = target.try_downcast_mut::<f64>() {
        *slot = value.as_f64().ok_or_else(mismatch)?;
        return Ok(());
    }
    // Vectors and rotations, which games write most, before the ten
    // integer types.
    if let Some(slot) = target.try_downcast_mut::<bevy::math::Vec3>() {
        let Value::Vec3(v) = value else {
            return Err(mismatch());
        };
        *slot = bevy::math::Vec3::new(v.x, v.y, v.z);
        return Ok(());
    }
    if let Some(slot) = target.try_downcast_mut::<bevy::math::Quat>() {
        *slot = quat.ok_or_else(mismatch)?;
        return Ok(());
    }
    set_int!(i8, i16, i32, i64, u8, u16, u32, u64, usize, isize);
    if let Some(slot) = target.try_downcast_mut::<bool>() {
        let Value::Bool(b) = value else {
            return Err(mismatch());
        };
        *slot = b;
        return Ok(());
    }
    if let Some(slot) = target.try_downcast_mut::<String>() {
        *slot = text.ok_or_else(mismatch)?;
        return Ok(());
    }
    Err(mismatch())
}

/// A reflected value as plain data: leaves as numbers, strings, vec3s and
/// quaternion maps; structs as maps of their fields; lists, arrays and
/// tuple structs as lists; unit enum variants as their names.
pub(crate) fn snapshot(
    value: &dyn PartialReflect,
    what: &str,
    depth: usize,
) -> Result<ScriptValue, NativeError> {
    use bevy::reflect::ReflectRef;
    if depth > crate::value::MAX_DEPTH {
        return Err(NativeError::new(format!(
            "{what} is nested too deep to copy"
        )));
    }
    if let Some(leaf) = leaf_of(value) {
        return Ok(match leaf {
            Leaf::Float(f) => ScriptValue::Float(f),
            Leaf::Int(i) => ScriptValue::Int(i),
            Leaf::Bool(b) => ScriptValue::Bool(b),
            Leaf::Text(s) => ScriptValue::Str(s),
            Leaf::Vec3(v) => ScriptValue::Vec3(bevy::math::Vec3::new(v.x, v.y, v.z)),
            Leaf::Quat([x, y, z, w]) => ScriptValue::Quat(bevy::math::Quat::from_xyzw(x, y, z, w)),
            Leaf::OutOfRange(text) => {
                return Err(NativeError::new(format!(
                    "{what} holds {text}, beyond the int range"
                )));
            }
        });
    }
    let list = |items: &mut dyn Iterator<Item = &dyn PartialReflect>| {
        items
            .enumerate()
            .map(|(i, item)| snapshot(item, &format!("{what}[{i}]"), depth + 1))
            .collect::<Result<Vec<_>, _>>()
            .map(ScriptValue::List)
    };
    match value.reflect_ref() {
        ReflectRef::Struct(s) => (0..s.field_len())
            .map(|i| {
                let name = s.name_at(i).unwrap_or_default();
                let field = s.field_at(i).expect("in range");
                Ok((
                    name.into(),
                    snapshot(field, &format!("{what}.{name}"), depth + 1)?,
                ))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(ScriptValue::Map),
        ReflectRef::TupleStruct(t) => list(&mut t.iter_fields()),
        ReflectRef::Tuple(t) => list(&mut t.iter_fields()),
        ReflectRef::List(l) => list(&mut l.iter()),
        ReflectRef::Array(a) => list(&mut a.iter()),
        ReflectRef::Enum(e) if e.field_len() == 0 => {
            Ok(ScriptValue::Str(e.variant_name().to_string()))
        }
        _ => Err(NativeError::new(format!(
            "{what} ({}) cannot be copied out of the game",
            value.reflect_short_type_path()
        ))),
    }
}

/// A Rust value for a reflected field, from a `ScriptValue`.
fn assign_script(
    target: &mut dyn PartialReflect,
    value: &ScriptValue,
    what: &str,
) -> Result<(), NativeError> {
    match value {
        ScriptValue::Str(s) => assign(target, Value::Nil, Some(s.clone()), what),
        ScriptValue::Float(f) => assign(target, Value::Float(*f), None, what),
        ScriptValue::Int(i) => assign(target, Value::Int(*i), None, what),
        ScriptValue::Bool(b) => assign(target, Value::Bool(*b), None, what),
        ScriptValue::Vec3(v) => assign(target, Value::Vec3(Vec3::new(v.x, v.y, v.z)), None, what),
        ScriptValue::Quat(q) => match target.try_downcast_mut::<bevy::math::Quat>() {
            Some(slot) => {
                *slot = *q;
                Ok(())
            }
            None => Err(NativeError::new(format!(
                "cannot assign quat to {what} ({})",
                target.reflect_short_type_path()
            ))),
        },
        ScriptValue::Map(fields) => {
            for (key, v) in fields {
                let Some(name) = key.as_str() else {
                    return Err(NativeError::new(format!(
                        "{what}: field names must be strings, got {key:?}"
                    )));
                };
                let inner = format!("{what}.{name}");
                let no_field = || NativeError::new(format!("{what} has no field '{name}'"));
                let field = target
                    .try_as_reflect_mut()
                    .ok_or_else(no_field)?
                    .reflect_path_mut(name)
                    .map_err(|_| no_field())?;
                assign_script(field, v, &inner)?;
            }
            Ok(())
        }
        other => Err(NativeError::new(format!(
            "cannot assign {other:?} to {what}"
        ))),
    }
}

/// Adds a component, by short type name, built from its `Default` with the
/// given fields set (`spawn({Transform: {translation: vec3(1, 2, 3)}})`).
pub(crate) fn insert_component(
    world: &mut World,
    entity: Entity,
    name: &str,
    fields: &ScriptValue,
) -> Result<(), NativeError> {
    let registry = world.resource::<AppTypeRegistry>().clone();
    let registry = registry.read();
    let registration = registry.get_with_short_type_path(name).ok_or_else(|| {
        NativeError::new(format!(
            "unknown component '{name}' (is it registered for reflection?)"
        ))
    })?;
    let reflect = component_reflect(&registry, name)?;
    let default = registration.data::<ReflectDefault>().ok_or_else(|| {
        NativeError::new(format!(
            "{name} cannot be built from a script: it has no reflected Default"
        ))
    })?;
    let mut value = default.default();
    assign_script(value.as_partial_reflect_mut(), fields, name)?;
    reflect.insert(
        &mut world.entity_mut(entity),
        value.as_partial_reflect(),
        &registry,
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use bevy::reflect::Typed;

    use super::*;

    #[derive(Reflect, Default)]
    struct Inner {
        a: f32,
        b: (i32, f32),
    }

    #[derive(Reflect, Default)]
    struct Outer {
        name: String,
        inner: Inner,
        pair: (u8, u8),
    }

    fn accesses(path: &str) -> Vec<String> {
        let parsed = indexed(ParsedPath::parse(path).unwrap(), Some(Outer::type_info()));
        parsed.0.iter().map(|a| a.access.to_string()).collect()
    }

    #[test]
    fn struct_fields_are_found_by_position_once() {
        assert_eq!(accesses("inner.a"), ["#1", "#0"]);
        assert_eq!(accesses("inner.b"), ["#1", "#1"]);
        // A tuple's items are not a struct's: left as they are.
        assert_eq!(accesses("pair.0"), ["#2", ".0"]);
        // A field the type does not have stays a name (and fails on use).
        assert_eq!(accesses("inner.c"), ["#1", ".c"]);
        assert_eq!(accesses("missing.a"), [".missing", ".a"]);
        let value = Outer {
            inner: Inner {
                a: 2.5,
                b: (3, 4.5),
            },
            ..Default::default()
        };
        for path in ["inner.a", "inner.b"] {
            let named = ParsedPath::parse(path).unwrap();
            let by_position = indexed(named.clone(), Some(Outer::type_info()));
            let by_name = format!("{:?}", value.reflect_path(&named).unwrap());
            let by_index = format!("{:?}", value.reflect_path(&by_position).unwrap());
            assert_eq!(by_name, by_index);
        }
    }
}
