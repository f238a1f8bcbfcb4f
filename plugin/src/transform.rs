//! `Transform` without reflection: the component games' scripts touch most
//! (`self.Transform.translation`, `.rotation`, `.scale` and their `x`, `y`,
//! `z`, `w`), read and written as the type it is.
//!
//! Each part reads as the reflection path reads it (`reflect.rs`: a
//! `Vec3` as a vec3, a `Quat` as a quat, an `f32` as a float)
//! and takes the same values with the same errors when written, so a
//! script cannot tell the two apart but by speed. Any other field of a
//! `Transform` goes through reflection.

use ark_vm::{NativeError, Value, Vec3};
use bevy::ecs::component::ComponentId;
use bevy::ecs::query::{QueryEntityError, QueryState};
use bevy::ecs::world::WorldId;
use bevy::prelude::{Entity, Mut, Quat, Transform, World};

use crate::reflect::{Leaf, no_component, no_entity};

/// A `Transform`, or a part of one that has a typed path.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum TransformPart {
    Whole,
    Translation,
    Rotation,
    Scale,
    /// `x`, `y` or `z` (0, 1, 2) of the translation (true) or the scale.
    Axis {
        translation: bool,
        axis: usize,
    },
    /// `x`, `y`, `z` or `w` of the rotation.
    RotationAxis(usize),
}

impl TransformPart {
    /// The part at field `name` of this one; `None` for a field reached
    /// through reflection (or none at all).
    pub(crate) fn child(self, name: &str) -> Option<TransformPart> {
        let axis = |names: &[&str]| names.iter().position(|n| *n == name);
        Some(match self {
            TransformPart::Whole => match name {
                "translation" => TransformPart::Translation,
                "rotation" => TransformPart::Rotation,
                "scale" => TransformPart::Scale,
                _ => return None,
            },
            TransformPart::Translation | TransformPart::Scale => TransformPart::Axis {
                translation: self == TransformPart::Translation,
                axis: axis(&["x", "y", "z"])?,
            },
            TransformPart::Rotation => TransformPart::RotationAxis(axis(&["x", "y", "z", "w"])?),
            TransformPart::Axis { .. } | TransformPart::RotationAxis(_) => return None,
        })
    }

    /// The part's type, as reflection names it in errors.
    fn type_name(self) -> &'static str {
        match self {
            TransformPart::Whole => "Transform",
            TransformPart::Translation | TransformPart::Scale => "Vec3",
            TransformPart::Rotation => "Quat",
            TransformPart::Axis { .. } | TransformPart::RotationAxis(_) => "f32",
        }
    }
}

fn vec3_of(v: bevy::math::Vec3) -> Vec3 {
    Vec3::new(v.x, v.y, v.z)
}

/// Queries for `Transform`, and its component id, made once per world:
/// `get::<Transform>()` on an entity looks the component's id up by type
/// on every call, a third of an access's instructions (callgrind, the
/// `plugin` bench's movers).
pub(crate) struct TransformQueries {
    world: WorldId,
    /// `Transform`'s id in `world`.
    id: ComponentId,
    read: QueryState<&'static Transform>,
}

impl TransformQueries {
    /// The queries of `world` in `slot`, made (again) for it as needed.
    #[inline]
    pub(crate) fn of<'q>(
        slot: &'q mut Option<TransformQueries>,
        world: &mut World,
    ) -> &'q mut Self {
        if slot.as_ref().is_some_and(|q| q.world == world.id()) {
            return slot.as_mut().expect("checked");
        }
        Self::make(slot, world)
    }

    #[cold]
    fn make<'q>(slot: &'q mut Option<TransformQueries>, world: &mut World) -> &'q mut Self {
        slot.insert(TransformQueries {
            world: world.id(),
            id: world.register_component::<Transform>(),
            read: world.query(),
        })
    }
}

/// The error reflection gives for an entity whose `Transform` a query
/// did not find.
fn not_found(entity: Entity, e: QueryEntityError) -> NativeError {
    match e {
        QueryEntityError::NotSpawned(_) => no_entity(entity),
        _ => no_component(entity, "Transform"),
    }
}

/// The entity's `Transform`, or the error reflection gives.
#[inline(always)]
fn transform<'w>(
    queries: &mut TransformQueries,
    world: &'w World,
    entity: Entity,
) -> Result<&'w Transform, NativeError> {
    // Without a look at the world's archetypes first, unless the entity
    // is in one made since the last look.
    match queries.read.get_manual(world, entity) {
        Err(QueryEntityError::QueryDoesNotMatch(..)) => queries
            .read
            .get(world, entity)
            .map_err(|e| not_found(entity, e)),
        found => found.map_err(|e| not_found(entity, e)),
    }
}

/// Reads `part` of the entity's `Transform`: a leaf, or `None` for the
/// whole (a struct, which stays a reference).
#[inline(always)]
pub(crate) fn read(
    queries: &mut TransformQueries,
    world: &World,
    entity: Entity,
    part: TransformPart,
) -> Result<Option<Leaf>, NativeError> {
    transform(queries, world, entity).map(|t| part_of(t, part))
}

/// `part` of `t`: a leaf, or `None` for the whole.
#[inline(always)]
fn part_of(t: &Transform, part: TransformPart) -> Option<Leaf> {
    Some(match part {
        TransformPart::Whole => return None,
        TransformPart::Translation => Leaf::Vec3(vec3_of(t.translation)),
        TransformPart::Scale => Leaf::Vec3(vec3_of(t.scale)),
        TransformPart::Rotation => {
            let q = t.rotation;
            Leaf::Quat([q.x, q.y, q.z, q.w])
        }
        TransformPart::Axis { translation, axis } => {
            let v = if translation { t.translation } else { t.scale };
            Leaf::Float(v[axis] as f64)
        }
        TransformPart::RotationAxis(axis) => Leaf::Float(t.rotation.to_array()[axis] as f64),
    })
}

/// [`read`] for an entity in an archetype the queries have seen: `None`
/// (`Some(None)` is the whole) where the entity or its `Transform` is not
/// found that way, for [`read`] to find it or to report why.
#[inline(always)]
pub(crate) fn read_seen(
    queries: &TransformQueries,
    world: &World,
    entity: Entity,
    part: TransformPart,
) -> Option<Option<Leaf>> {
    let t = queries.read.get_manual(world, entity).ok()?;
    Some(part_of(t, part))
}

/// Whether the entity exists and has a `Transform`: a look at its
/// archetype, without finding the component in its table (which a
/// query's `contains` does).
#[inline(always)]
pub(crate) fn has(queries: &TransformQueries, world: &World, entity: Entity) -> bool {
    world.entities().get_spawned(entity).is_ok_and(|at| {
        world
            .archetypes()
            .get(at.archetype_id)
            .is_some_and(|a| a.contains(queries.id))
    })
}

/// Checks that the entity has a `Transform`, as reading it would.
pub(crate) fn check(
    queries: &mut TransformQueries,
    world: &World,
    entity: Entity,
) -> Result<(), NativeError> {
    if has(queries, world, entity) {
        return Ok(());
    }
    // For the error a read gives.
    transform(queries, world, entity).map(|_| ())
}

/// [`write`] of a value read without the heap (a number, a vec3, a
/// quat): false, with nothing written, where that fails (a list or a map
/// as a rotation among the rest), for [`write`] to take or report it.
#[inline(always)]
pub(crate) fn write_plain(
    queries: &TransformQueries,
    world: &mut World,
    entity: Entity,
    part: TransformPart,
    value: Value,
) -> bool {
    let quat = value.as_quat().map(|q| Quat::from_xyzw(q.x, q.y, q.z, q.w));
    if !accepts(part, value, quat) {
        return false;
    }
    match transform_mut(queries, world, entity) {
        Some(mut t) => {
            assign(&mut t, part, value, quat);
            true
        }
        None => false,
    }
}

/// The entity's `Transform`, to change: by its component id, with no look
/// at the world's archetypes (which `QueryState::get_mut` takes first) and
/// none at its type's id (which `World::get_mut` takes). `None` where the
/// entity or its `Transform` is missing.
#[inline(always)]
fn transform_mut<'w>(
    queries: &TransformQueries,
    world: &'w mut World,
    entity: Entity,
) -> Option<Mut<'w, Transform>> {
    let component = world.get_mut_by_id(entity, queries.id)?;
    // SAFETY: `queries.id` is `Transform`'s id in `world`: it was
    // registered for that type in the world whose id `TransformQueries::of`
    // compared with this one's, and a world's ids are never reused.
    Some(unsafe { component.with_type::<Transform>() })
}

/// Writes `value` into `part` of the entity's `Transform` (`quat`: the
/// value read as a quaternion, if it is one). `what` names the field in
/// errors (`Transform.translation`).
pub(crate) fn write(
    queries: &TransformQueries,
    world: &mut World,
    entity: Entity,
    part: TransformPart,
    value: Value,
    quat: Option<Quat>,
    what: &dyn Fn() -> String,
) -> Result<(), NativeError> {
    // Checked before the component is written: a failed write does not
    // mark it changed (`Mut` marks it when written through).
    let ok = accepts(part, value, quat);
    let Some(mut t) = transform_mut(queries, world, entity) else {
        return Err(match world.get_entity(entity) {
            Ok(_) => no_component(entity, "Transform"),
            Err(_) => no_entity(entity),
        });
    };
    if !ok {
        return Err(NativeError::new(format!(
            "cannot assign {} to {} ({})",
            value.type_name(),
            what(),
            part.type_name()
        )));
    }
    assign(&mut t, part, value, quat);
    Ok(())
}

/// Whether `part` takes `value` (`quat`: the value read as a quaternion).
#[inline(always)]
fn accepts(part: TransformPart, value: Value, quat: Option<Quat>) -> bool {
    match part {
        TransformPart::Translation | TransformPart::Scale => matches!(value, Value::Vec3(_)),
        TransformPart::Rotation => quat.is_some(),
        TransformPart::Axis { .. } | TransformPart::RotationAxis(_) => value.as_f64().is_some(),
        TransformPart::Whole => false,
    }
}

/// Writes `value`, which `part` [`accepts`], into `t`.
#[inline(always)]
fn assign(t: &mut Transform, part: TransformPart, value: Value, quat: Option<Quat>) {
    let number = value.as_f64().unwrap_or_default() as f32;
    let vector = match value {
        Value::Vec3(v) => bevy::math::Vec3::new(v.x, v.y, v.z),
        _ => bevy::math::Vec3::ZERO,
    };
    match part {
        TransformPart::Translation => t.translation = vector,
        TransformPart::Scale => t.scale = vector,
        TransformPart::Rotation => t.rotation = quat.unwrap_or_default(),
        TransformPart::Axis { translation, axis } => {
            let v = if translation {
                &mut t.translation
            } else {
                &mut t.scale
            };
            v[axis] = number;
        }
        TransformPart::RotationAxis(axis) => {
            let mut parts = t.rotation.to_array();
            parts[axis] = number;
            t.rotation = Quat::from_array(parts);
        }
        TransformPart::Whole => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_found_by_name() {
        let t = TransformPart::Whole;
        assert_eq!(t.child("translation"), Some(TransformPart::Translation));
        assert_eq!(
            t.child("scale").and_then(|s| s.child("z")),
            Some(TransformPart::Axis {
                translation: false,
                axis: 2
            })
        );
        assert_eq!(
            t.child("rotation").and_then(|r| r.child("w")),
            Some(TransformPart::RotationAxis(3))
        );
        assert_eq!(t.child("position"), None);
        assert_eq!(TransformPart::Translation.child("w"), None);
    }
}
