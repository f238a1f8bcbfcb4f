//! Component access from scripts: `self.Transform.translation.y`.
//!
//! An entity's field names a registered, reflected component by its short
//! type name and gives a reference; a reference's field extends its path.
//! Numbers, bools, strings and `Vec3` convert to Ark values when read and
//! back when written, a `Quat` reads as a `quat` and is written from one
//! (or from `{x, y, z, w}` or `[x, y, z, w]`); other values (structs) stay
//! references, so their own fields can be reached. As the object of an
//! assignment a field is always a reference, so
//! `self.Transform.rotation.w = 1.0` writes through.
//!
//! A reference is a `Value::EntityRef`: the entity and the number of a
//! [`Place`], a component and a path inside it. A place is made once, when
//! a script first names it (its component's reflection looked up, its path
//! parsed, a `Transform` part recognised), and found again by its parent
//! and the name's key, so an access looks nothing up by name and allocates
//! nothing (but the text of a string read).
//! `Transform`'s parts are read and written as a `Transform`
//! (`transform.rs`), every other field through reflection (`reflect.rs`).
//! A `Transform` part named before is answered first by the resolved
//! methods (`EntityHost::get_field_resolved` and the rest), with no heap,
//! context or error to build; whatever they decline goes the general way.

use std::any::Any;

use ark_vm::{EntityHost, NativeCtx, NativeError, Resolved, StrKey, Value};
use bevy::ecs::reflect::{AppTypeRegistry, ReflectComponent};
use bevy::platform::collections::HashMap;
use bevy::prelude::{Entity, Transform, World};
use bevy::reflect::{GetPath, ParsedPath, PartialReflect, Reflect, TypeInfo};

use crate::reflect::{
    Leaf, assign_with_quat, component_reflect, indexed, leaf_of, quat_of, read_component, snapshot,
    write_component,
};
use crate::transform::{self, TransformPart, TransformQueries};

/// The parent of a component's place.
const ENTITY: u32 = u32::MAX;

/// A component, or a field inside one, that scripts have named.
struct Place {
    /// The component's short type name (`Transform`).
    component: String,
    reflect: ReflectComponent,
    /// The path inside the component (`translation.y`), empty for the
    /// component; parsed once (`None` for the component, or a name that
    /// is no path).
    path: String,
    parsed: Option<ParsedPath>,
    /// The typed path, for `Transform` and its parts.
    part: Option<TransformPart>,
    /// The component's type, which says where its fields are.
    type_info: Option<&'static TypeInfo>,
    /// Where it was reached from, and by what name (for errors).
    parent: u32,
    name: String,
    /// The first places found inside it, by name (see `Places::find`).
    children: Vec<(StrKey, u32)>,
}

impl Place {
    /// `Transform` or `Transform.translation`.
    fn describe(&self) -> String {
        if self.path.is_empty() {
            self.component.clone()
        } else {
            format!("{}.{}", self.component, self.path)
        }
    }
}

/// A place as [`Places::known_part`] finds it.
enum Known {
    /// Known, with its number and its `Transform` part.
    Typed(u32, TransformPart),
    /// Known, reached through reflection.
    Untyped,
    /// Not on its parent's short list (not named yet, or past the list).
    Not,
}

impl Known {
    /// A resolved access of a place not answered as a `Transform` part:
    /// one reached through reflection never is, one not known not yet.
    #[inline(always)]
    fn declined<T>(self) -> Resolved<T> {
        match self {
            Known::Untyped => Resolved::Never,
            Known::Typed(..) | Known::Not => Resolved::NotNow,
        }
    }
}

#[derive(Default)]
struct Places {
    places: Vec<Place>,
    /// The first components found, by name (see `Places::find`).
    components: Vec<(StrKey, u32)>,
    /// Each place's number by its parent's and the name's key.
    by_name: HashMap<(u32, StrKey), u32>,
}

/// Places looked up by their parent's short list (a parent has a few
/// fields that scripts name) before the map: hashing the name was 5% of a
/// frame of 10,000 movers (`perf`, the `plugin` bench).
const SHORT_LIST: usize = 8;

impl Places {
    /// The number of the place `name` (a key of `ctx`'s heap) of `parent`
    /// (or the component `name`, for [`ENTITY`]): made on first use.
    #[inline]
    fn find(
        &mut self,
        ctx: &mut NativeCtx<'_>,
        parent: u32,
        name: StrKey,
    ) -> Result<u32, NativeError> {
        match self.known(parent, name) {
            Some(id) => Ok(id),
            None => self.find_or_make(ctx, parent, name),
        }
    }

    /// The number of the place `name` of `parent`, if it is on the
    /// parent's short list (where every place a script names often is).
    #[inline]
    fn known(&self, parent: u32, name: StrKey) -> Option<u32> {
        let short = match parent {
            ENTITY => &self.components,
            _ => &self.places.get(parent as usize)?.children,
        };
        short
            .iter()
            .find(|(key, _)| *key == name)
            .map(|&(_, id)| id)
    }

    /// Place `name` of `parent`, if it is on the parent's short list, and
    /// its `Transform` part.
    #[inline]
    fn known_part(&self, parent: u32, name: StrKey) -> Known {
        let Some(id) = self.known(parent, name) else {
            return Known::Not;
        };
        match self.places.get(id as usize).and_then(|p| p.part) {
            Some(part) => Known::Typed(id, part),
            None => Known::Untyped,
        }
    }

    /// [`Places::find`] past the parent's short list.
    #[cold]
    fn find_or_make(
        &mut self,
        ctx: &mut NativeCtx<'_>,
        parent: u32,
        name: StrKey,
    ) -> Result<u32, NativeError> {
        if let Some(&id) = self.by_name.get(&(parent, name)) {
            return Ok(id);
        }
        let text = ctx.heap().str(name).to_string();
        let place = if parent == ENTITY {
            let world = world(ctx)?;
            let registry = world.resource::<AppTypeRegistry>().read();
            let reflect = component_reflect(&registry, &text)?.clone();
            let registration = registry.get_with_short_type_path(&text);
            let is_transform =
                registration.is_some_and(|r| r.type_id() == std::any::TypeId::of::<Transform>());
            Place {
                component: text.clone(),
                reflect,
                path: String::new(),
                parsed: None,
                part: is_transform.then_some(TransformPart::Whole),
                type_info: registration.map(|r| r.type_info()),
                parent,
                name: text,
                children: Vec::new(),
            }
        } else {
            let of = self.get(parent)?;
            let path = if of.path.is_empty() {
                text.clone()
            } else {
                format!("{}.{text}", of.path)
            };
            Place {
                component: of.component.clone(),
                reflect: of.reflect.clone(),
                parsed: ParsedPath::parse(&path)
                    .ok()
                    .map(|p| indexed(p, of.type_info)),
                path,
                part: of.part.and_then(|p| p.child(&text)),
                type_info: of.type_info,
                parent,
                name: text,
                children: Vec::new(),
            }
        };
        let id = u32::try_from(self.places.len())
            .ok()
            .filter(|&id| id != ENTITY)
            .ok_or_else(|| NativeError::new("too many component fields named by scripts"))?;
        self.places.push(place);
        self.by_name.insert((parent, name), id);
        let short = match parent {
            ENTITY => &mut self.components,
            _ => &mut self.places[parent as usize].children,
        };
        if short.len() < SHORT_LIST {
            short.push((name, id));
        }
        Ok(id)
    }

    fn get(&self, id: u32) -> Result<&Place, NativeError> {
        self.places
            .get(id as usize)
            .ok_or_else(|| NativeError::new("not a valid reference"))
    }

    /// Place `id` inside `component` (of the place's component type): the
    /// component itself for a component's place.
    fn field<'c>(
        &self,
        id: u32,
        component: &'c dyn Reflect,
    ) -> Result<&'c dyn PartialReflect, NativeError> {
        let place = self.get(id)?;
        match &place.parsed {
            Some(path) => component.reflect_path(path).map_err(|_| self.no_field(id)),
            None if place.path.is_empty() => Ok(component.as_partial_reflect()),
            None => Err(self.no_field(id)),
        }
    }

    /// [`Places::field`], to change.
    fn field_mut<'c>(
        &self,
        id: u32,
        component: &'c mut dyn Reflect,
    ) -> Result<&'c mut dyn PartialReflect, NativeError> {
        let place = self.get(id)?;
        match &place.parsed {
            Some(path) => component
                .reflect_path_mut(path)
                .map_err(|_| self.no_field(id)),
            None if place.path.is_empty() => Ok(component.as_partial_reflect_mut()),
            None => Err(self.no_field(id)),
        }
    }

    /// `parent has no field 'name'`, for place `id`.
    fn no_field(&self, id: u32) -> NativeError {
        let Ok(place) = self.get(id) else {
            return NativeError::new("not a valid reference");
        };
        let parent = self
            .get(place.parent)
            .map_or_else(|_| place.component.clone(), Place::describe);
        NativeError::new(format!("{parent} has no field '{}'", place.name))
    }
}

fn world<'a>(ctx: &'a mut NativeCtx<'_>) -> Result<&'a mut World, NativeError> {
    ctx.host::<World>().ok_or_else(|| {
        NativeError::new("components can only be reached while the game runs the script")
    })
}

fn entity_of(bits: u64) -> Result<Entity, NativeError> {
    Entity::try_from_bits(bits).ok_or_else(|| NativeError::new("not a valid entity"))
}

/// Gives entity values their component fields, and references their
/// fields.
#[derive(Default)]
pub(crate) struct EntityBindings {
    places: Places,
    transform: Option<TransformQueries>,
}

impl EntityBindings {
    /// Reads place `id` of `entity`: a leaf, or `None` for a struct (which
    /// stays a reference). Inlined with the `Transform` read below it into
    /// each access (`#[inline]` alone left them calls: callgrind, the
    /// `plugin` bench's chase scene).
    #[inline(always)]
    fn read(
        places: &Places,
        transform: &mut Option<TransformQueries>,
        world: &mut World,
        entity: Entity,
        id: u32,
    ) -> Result<Option<Leaf>, NativeError> {
        let place = places.get(id)?;
        if let Some(part) = place.part {
            let queries = TransformQueries::of(transform, world);
            return transform::read(queries, world, entity, part);
        }
        read_component(world, entity, &place.reflect, &place.component, |c| {
            places.field(id, c).map(leaf_of)
        })
    }
}

/// A leaf as the value it reads as, where that needs no heap: `None` for
/// text, an int out of range and a quaternion of length 0.
#[inline(always)]
fn plain_value(leaf: Leaf) -> Option<Value> {
    match leaf {
        Leaf::Float(f) => Some(Value::float(f)),
        Leaf::Int(i) => Some(Value::Int(i)),
        Leaf::Bool(b) => Some(Value::Bool(b)),
        Leaf::Vec3(v) => Some(Value::vec3(v)),
        Leaf::Quat([x, y, z, w]) => ark_vm::Quat::new(x, y, z, w).to_value(),
        Leaf::Text(_) | Leaf::OutOfRange(_) => None,
    }
}

/// The entity and the world of a resolved access.
#[inline(always)]
fn resolved_target(world: &mut (dyn Any + Send), bits: u64) -> Option<(&mut World, Entity)> {
    Some((world.downcast_mut::<World>()?, Entity::try_from_bits(bits)?))
}

impl EntityBindings {
    /// [`EntityHost::get_field_resolved`] of component `id`, a `Transform`.
    #[inline(always)]
    fn resolved_transform(
        &mut self,
        world: &mut (dyn Any + Send),
        id: u32,
        bits: u64,
    ) -> Resolved<Value> {
        let Some((world, entity)) = resolved_target(world, bits) else {
            return Resolved::NotNow;
        };
        let queries = TransformQueries::of(&mut self.transform, world);
        match transform::has(queries, world, entity) {
            true => Resolved::Done(Value::entity_ref(id, bits)),
            false => Resolved::NotNow,
        }
    }

    /// [`EntityHost::ref_get_field_resolved`] of place `id`, `part` of a
    /// `Transform`.
    #[inline(always)]
    fn read_resolved(
        &mut self,
        world: &mut (dyn Any + Send),
        id: u32,
        part: TransformPart,
        bits: u64,
    ) -> Resolved<Value> {
        let Some((world, entity)) = resolved_target(world, bits) else {
            return Resolved::NotNow;
        };
        let queries = TransformQueries::of(&mut self.transform, world);
        let value = match transform::read_seen(queries, world, entity, part) {
            Some(Some(leaf)) => plain_value(leaf),
            Some(None) => Some(Value::entity_ref(id, bits)),
            None => None,
        };
        value.map_or(Resolved::NotNow, Resolved::Done)
    }

    /// [`EntityHost::ref_set_field_resolved`] of `part` of a `Transform`.
    #[inline(always)]
    fn write_resolved(
        &mut self,
        world: &mut (dyn Any + Send),
        part: TransformPart,
        bits: u64,
        value: Value,
    ) -> Resolved<()> {
        let Some((world, entity)) = resolved_target(world, bits) else {
            return Resolved::NotNow;
        };
        let queries = TransformQueries::of(&mut self.transform, world);
        match transform::write_plain(queries, world, entity, part, value) {
            true => Resolved::Done(()),
            false => Resolved::NotNow,
        }
    }
}

/// The `Transform` parts that scripts have named once are answered by the
/// resolved methods, typed, before the general way below (which makes
/// places and reports every error): no heap, no context, no reflection.
/// A place without a typed part is never answered (the instruction stops
/// asking); one not named before, not yet.
impl EntityHost for EntityBindings {
    fn get_field_resolved(
        &mut self,
        world: &mut (dyn Any + Send),
        bits: u64,
        name: StrKey,
    ) -> Resolved<Value> {
        match self.places.known_part(ENTITY, name) {
            Known::Typed(id, _) => self.resolved_transform(world, id, bits),
            other => other.declined(),
        }
    }

    fn ref_get_field_resolved(
        &mut self,
        world: &mut (dyn Any + Send),
        path: u32,
        bits: u64,
        name: StrKey,
    ) -> Resolved<Value> {
        match self.places.known_part(path, name) {
            Known::Typed(id, part) => self.read_resolved(world, id, part, bits),
            other => other.declined(),
        }
    }

    fn ref_set_field_resolved(
        &mut self,
        world: &mut (dyn Any + Send),
        path: u32,
        bits: u64,
        name: StrKey,
        value: Value,
    ) -> Resolved<()> {
        match self.places.known_part(path, name) {
            Known::Typed(_, part) => self.write_resolved(world, part, bits, value),
            other => other.declined(),
        }
    }

    fn get_field(
        &mut self,
        ctx: &mut NativeCtx<'_>,
        bits: u64,
        name: StrKey,
    ) -> Result<Value, NativeError> {
        let entity = entity_of(bits)?;
        let places = &mut self.places;
        let id = places.find(ctx, ENTITY, name)?;
        let place = places.get(id)?;
        let world = world(ctx)?;
        match place.part {
            Some(_) => {
                let queries = TransformQueries::of(&mut self.transform, world);
                transform::check(queries, world, entity)?;
            }
            None => read_component(world, entity, &place.reflect, &place.component, |_| Ok(()))?,
        }
        Ok(Value::entity_ref(id, bits))
    }

    fn ref_get_field(
        &mut self,
        ctx: &mut NativeCtx<'_>,
        path: u32,
        bits: u64,
        name: StrKey,
    ) -> Result<Value, NativeError> {
        let entity = entity_of(bits)?;
        let places = &mut self.places;
        let id = places.find(ctx, path, name)?;
        let leaf = Self::read(places, &mut self.transform, world(ctx)?, entity, id)?;
        match leaf {
            None => Ok(Value::entity_ref(id, bits)),
            Some(Leaf::Text(s)) => ctx.string(&s),
            Some(Leaf::OutOfRange(text)) => Err(NativeError::new(format!(
                "{} holds {text}, beyond the int range",
                places.get(id)?.describe()
            ))),
            Some(leaf) => plain_value(leaf).ok_or_else(|| {
                NativeError::new(format!(
                    "{} holds a quaternion of length 0, which is no rotation",
                    places
                        .get(id)
                        .map_or_else(|_| "?".to_string(), Place::describe)
                ))
            }),
        }
    }

    /// As an assignment's object, a field stays a reference (so
    /// `self.Transform.translation.y = 1.0` writes into the component).
    fn ref_get_field_place(
        &mut self,
        ctx: &mut NativeCtx<'_>,
        path: u32,
        bits: u64,
        name: StrKey,
    ) -> Result<Value, NativeError> {
        let entity = entity_of(bits)?;
        let places = &mut self.places;
        let id = places.find(ctx, path, name)?;
        Self::read(places, &mut self.transform, world(ctx)?, entity, id)?;
        Ok(Value::entity_ref(id, bits))
    }

    fn ref_set_field(
        &mut self,
        ctx: &mut NativeCtx<'_>,
        path: u32,
        bits: u64,
        name: StrKey,
        value: Value,
    ) -> Result<(), NativeError> {
        let entity = entity_of(bits)?;
        let places = &mut self.places;
        let id = places.find(ctx, path, name)?;
        // What the value reads as in the heap, taken out before the world.
        let quat = match value {
            Value::Quat { .. } | Value::List(_) | Value::Map(_) => quat_of(ctx.heap(), value),
            _ => None,
        };
        let text = match value {
            Value::Str(k) => Some(ctx.heap().str(k).to_string()),
            _ => None,
        };
        let world = world(ctx)?;
        let place = places.get(id)?;
        let what = || place.describe();
        if let Some(part) = place.part {
            let queries = TransformQueries::of(&mut self.transform, world);
            return transform::write(queries, world, entity, part, value, quat, &what);
        }
        write_component(world, entity, &place.reflect, &place.component, |c| {
            let field = places.field_mut(id, c)?;
            assign_with_quat(field, value, text, quat, &what)
        })
    }

    /// The component (or the field) as plain data: `send("hit",
    /// self.Transform)` sends the transform's fields.
    fn ref_to_data(
        &mut self,
        ctx: &mut NativeCtx<'_>,
        path: u32,
        bits: u64,
    ) -> Result<Value, NativeError> {
        let entity = entity_of(bits)?;
        let places = &self.places;
        let place = places.get(path)?;
        let data = read_component(world(ctx)?, entity, &place.reflect, &place.component, |c| {
            snapshot(places.field(path, c)?, &place.describe(), 0)
        })?;
        data.to_ark(ctx.heap()).map_err(NativeError)
    }

    fn ref_display(&self, path: u32, bits: u64) -> String {
        let places = &self.places;
        let what = places
            .get(path)
            .map_or_else(|_| "?".to_string(), Place::describe);
        match Entity::try_from_bits(bits) {
            Some(entity) => format!("<ref {what} of {entity}>"),
            None => format!("<ref {what}>"),
        }
    }
}
