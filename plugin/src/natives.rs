//! The game's functions for scripts: events, time, finding, spawning and
//! despawning entities, keyboard input, and `wait`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use ark_vm::{Arity, NativeCtx, NativeError, Value, Vm};
use bevy::ecs::reflect::{AppTypeRegistry, ReflectComponent};
use bevy::input::ButtonInput;
use bevy::input::keyboard::KeyCode;
use bevy::prelude::{Entity, Name, World};
use bevy::reflect::FromReflect;
use bevy::reflect::enums::{DynamicEnum, DynamicVariant};
use bevy::time::Time;

use crate::messages::{ScriptCommand, ScriptEvent};
use crate::names::NameIndex;
use crate::profiling::ScriptProfiler;
use crate::value::ScriptValue;

/// What the scheduler and the plugin's natives share about the running
/// call: whose script it is (`send`'s sender), and the entities with
/// scripts that it despawned (the scheduler runs their `on_destroy` first,
/// then despawns them). The natives hold it, so that a turn looks up no
/// resource: setting one and reading another on every call was 4% of a
/// frame of 10,000 movers (`perf`, the `plugin` bench).
pub(crate) struct RunningScript {
    /// The entity's bits; `NO_ENTITY` when no script runs.
    entity: AtomicU64,
    despawned: AtomicBool,
    despawns: Mutex<Vec<Entity>>,
}

/// No entity's bits: an entity's row is never `u32::MAX`.
const NO_ENTITY: u64 = u64::MAX;

impl Default for RunningScript {
    fn default() -> Self {
        RunningScript {
            entity: AtomicU64::new(NO_ENTITY),
            despawned: AtomicBool::new(false),
            despawns: Mutex::new(Vec::new()),
        }
    }
}

impl RunningScript {
    pub(crate) fn set_entity(&self, entity: Entity) {
        self.entity.store(entity.to_bits(), Ordering::Relaxed);
    }

    /// No script's call runs any more: what runs next (a call Rust makes
    /// through `ScriptRuntime::vm_mut`) belongs to no entity.
    pub(crate) fn clear_entity(&self) {
        self.entity.store(NO_ENTITY, Ordering::Relaxed);
    }

    /// The entity whose call runs (`None` between frames).
    pub(crate) fn entity(&self) -> Option<Entity> {
        match self.entity.load(Ordering::Relaxed) {
            NO_ENTITY => None,
            bits => Entity::try_from_bits(bits),
        }
    }

    fn push_despawn(&self, entity: Entity) {
        self.despawns_lock().push(entity);
        self.despawned.store(true, Ordering::Relaxed);
    }

    /// Whether scripts despawned entities not taken yet.
    pub(crate) fn despawned(&self) -> bool {
        self.despawned.load(Ordering::Relaxed)
    }

    /// Whether `entity` is among them.
    pub(crate) fn despawned_entity(&self, entity: Entity) -> bool {
        self.despawned() && self.despawns_lock().contains(&entity)
    }

    /// The entities despawned since the last take.
    pub(crate) fn take_despawns(&self) -> Vec<Entity> {
        self.despawned.store(false, Ordering::Relaxed);
        std::mem::take(&mut *self.despawns_lock())
    }

    fn despawns_lock(&self) -> std::sync::MutexGuard<'_, Vec<Entity>> {
        self.despawns
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }
}

/// Entities that `spawn` made during the running call.
#[derive(bevy::prelude::Resource, Default)]
pub(crate) struct ScriptSpawns(pub Vec<Entity>);

/// Copies a value out of the script, as `send`, `broadcast` and `spawn`
/// do: a ref gives its component's fields, and the script is charged for
/// every value copied.
fn data_arg(ctx: &mut NativeCtx<'_>, v: Value) -> Result<ScriptValue, NativeError> {
    let v = ctx.to_data(v)?;
    let (data, copied) = ScriptValue::from_ark_counted(ctx.heap(), v).map_err(NativeError)?;
    ctx.charge(copied);
    Ok(data)
}

fn world<'a>(ctx: &'a mut NativeCtx<'_>) -> Result<&'a mut World, NativeError> {
    ctx.host::<World>()
        .ok_or_else(|| NativeError::new("this function works only while the game runs the script"))
}

/// The game's profiler; none outside the game (a debugger's evaluation
/// without the world), where regions have nothing to report to.
fn profiler<'a>(ctx: &'a mut NativeCtx<'_>) -> Option<bevy::prelude::Mut<'a, ScriptProfiler>> {
    ctx.host::<World>()?.get_resource_mut::<ScriptProfiler>()
}

fn entity_arg(v: Value, what: &str) -> Result<Entity, NativeError> {
    match v {
        Value::Entity(bits) => {
            Entity::try_from_bits(bits).ok_or_else(|| NativeError::new("not a valid entity"))
        }
        other => Err(NativeError::new(format!(
            "{what} expects an entity, got {}",
            other.type_name()
        ))),
    }
}

fn key_code(name: &str) -> Option<KeyCode> {
    let mut dynamic = DynamicEnum::new(name, DynamicVariant::Unit);
    dynamic.set_represented_type(None);
    KeyCode::from_reflect(&dynamic)
}

/// Written in Ark so that they suspend like any script code. `profile`'s
/// zone ends even when `f` fails: the scheduler ends a call's zones with
/// its slice.
const PRELUDE: &str = "fn wait(seconds) {
    let until = time() + seconds;
    while time() < until { yield; }
}
fn profile(name, f) {
    profile_begin(name);
    let result = f();
    profile_end();
    return result;
}";

/// Adds `spawn`'s components (`{Name: "ship", Transform: {...}}`).
fn add_components(
    world: &mut World,
    entity: Entity,
    components: ScriptValue,
) -> Result<(), NativeError> {
    let entries = match components {
        ScriptValue::Map(entries) => entries,
        ScriptValue::Nil => return Ok(()),
        other => {
            return Err(NativeError::new(format!(
                "spawn expects a map of components, got {other:?}"
            )));
        }
    };
    for (key, fields) in entries {
        let Some(name) = key.as_str() else {
            return Err(NativeError::new(format!(
                "spawn: component names must be strings, got {key:?}"
            )));
        };
        match (name, fields) {
            // `Name` reflects as an opaque value: it is given as text.
            ("Name", ScriptValue::Str(text)) => {
                world.entity_mut(entity).insert(Name::new(text));
            }
            (_, fields) => crate::reflect::insert_component(world, entity, name, &fields)?,
        }
    }
    Ok(())
}

/// Registers the game functions on the runtime's VM.
pub(crate) fn register(vm: &mut Vm, running: &Arc<RunningScript>) {
    let current = running.clone();
    vm.register_native("send", Arity::Between(1, 2), move |ctx, args| {
        let name = ctx.str_arg(args[0], "send")?;
        let data = data_arg(ctx, args.get(1).copied().unwrap_or_default())?;
        let world = world(ctx)?;
        let sender = current.entity();
        world.write_message(ScriptEvent { sender, name, data });
        Ok(Value::Nil)
    });
    vm.register_native("broadcast", Arity::Between(1, 2), |ctx, args| {
        let name = ctx.str_arg(args[0], "broadcast")?;
        let data = data_arg(ctx, args.get(1).copied().unwrap_or_default())?;
        world(ctx)?.write_message(ScriptCommand::Broadcast { name, data });
        Ok(Value::Nil)
    });
    vm.register_native("time", Arity::Exactly(0), |ctx, _| {
        let t = world(ctx)?
            .get_resource::<Time>()
            .map_or(0.0, |t| t.elapsed_secs_f64());
        Ok(Value::Float(t))
    });
    vm.register_native("delta", Arity::Exactly(0), |ctx, _| {
        let t = world(ctx)?
            .get_resource::<Time>()
            .map_or(0.0, |t| t.delta_secs_f64());
        Ok(Value::Float(t))
    });
    vm.register_native("find", Arity::Exactly(1), |ctx, args| {
        let name = ctx.str_arg(args[0], "find")?;
        let found = world(ctx)?.resource::<NameIndex>().first(&name);
        ctx.charge(name.len() / 16 + 1);
        Ok(found.map_or(Value::Nil, |e| Value::Entity(e.to_bits())))
    });
    vm.register_native("find_all", Arity::Exactly(1), |ctx, args| {
        let component = ctx.str_arg(args[0], "find_all")?;
        let entities: Vec<Value> = {
            let world = world(ctx)?;
            let registry = world.resource::<AppTypeRegistry>().clone();
            let registry = registry.read();
            let reflect = registry
                .get_with_short_type_path(&component)
                .and_then(|r| r.data::<ReflectComponent>())
                .ok_or_else(|| NativeError::new(format!("unknown component '{component}'")))?;
            let mut query = world.query::<bevy::ecs::world::EntityRef>();
            query
                .iter(world)
                .filter(|e| reflect.contains(*e))
                .map(|e| Value::Entity(e.id().to_bits()))
                .collect()
        };
        ctx.charge(entities.len());
        ctx.to_value(entities)
    });
    let despawns = running.clone();
    vm.register_native("despawn", Arity::Exactly(1), move |ctx, args| {
        let entity = entity_arg(args[0], "despawn")?;
        let world = world(ctx)?;
        if world.get_entity(entity).is_err() {
            return Ok(Value::Bool(false));
        }
        // An entity with scripts goes once their `on_destroy` have run
        // (which may read its components), later in this frame.
        if world.get::<crate::Script>(entity).is_some() {
            despawns.push_despawn(entity);
            return Ok(Value::Bool(true));
        }
        Ok(Value::Bool(world.despawn(entity)))
    });
    vm.register_native("spawn", Arity::Between(0, 2), |ctx, args| {
        let script = match args.get(1) {
            Some(&v @ Value::Str(_)) => Some(ctx.str_arg(v, "spawn")?),
            Some(Value::Nil) | None => None,
            Some(other) => {
                return Err(NativeError::new(format!(
                    "spawn expects a script path, got {}",
                    other.type_name()
                )));
            }
        };
        let components = data_arg(ctx, args.first().copied().unwrap_or_default())?;
        let world = world(ctx)?;
        let entity = world.spawn_empty().id();
        if let Err(e) = add_components(world, entity, components) {
            // A failed spawn leaves nothing behind.
            world.despawn(entity);
            return Err(e);
        }
        if let Some(path) = script {
            world.entity_mut(entity).insert(crate::Script::new(path));
        }
        if let Some(mut spawns) = world.get_resource_mut::<ScriptSpawns>() {
            spawns.0.push(entity);
        }
        Ok(Value::Entity(entity.to_bits()))
    });
    for (name, just) in [("key_pressed", false), ("key_just_pressed", true)] {
        vm.register_native(name, Arity::Exactly(1), move |ctx, args| {
            let key = ctx.str_arg(args[0], name)?;
            let code = key_code(&key).ok_or_else(|| {
                NativeError::new(format!(
                    "unknown key '{key}' (write KeyA, Space, ArrowUp...)"
                ))
            })?;
            let Some(input) = world(ctx)?.get_resource::<ButtonInput<KeyCode>>() else {
                return Ok(Value::Bool(false));
            };
            Ok(Value::Bool(if just {
                input.just_pressed(code)
            } else {
                input.pressed(code)
            }))
        });
    }
    vm.register_native("profile_begin", Arity::Exactly(1), |ctx, args| {
        let name = ctx.str_arg(args[0], "profile_begin")?;
        if let Some(mut profiler) = profiler(ctx) {
            profiler.script_zone_begin(&name);
        }
        Ok(Value::Nil)
    });
    vm.register_native("profile_end", Arity::Exactly(0), |ctx, _| {
        if let Some(mut profiler) = profiler(ctx) {
            profiler.script_zone_end();
        }
        Ok(Value::Nil)
    });
    let module = vm
        .compile("<bevy_ark>", PRELUDE)
        .expect("the prelude compiles");
    let instance = vm.instantiate(&module);
    vm.run_init(instance).expect("the prelude loads");
    for name in ["wait", "profile"] {
        let f = vm.get_var(instance, name).expect("defined above");
        vm.set_global(name, f);
    }
}
