//! The game's functions for scripts: events, time, finding, spawning and
//! despawning entities, keyboard input, and `wait`.

use ark_vm::{Arity, NativeCtx, NativeError, Value, Vm};
use bevy::ecs::reflect::{AppTypeRegistry, ReflectComponent};
use bevy::input::ButtonInput;
use bevy::input::keyboard::KeyCode;
use bevy::prelude::{Entity, Name, World};
use bevy::reflect::FromReflect;
use bevy::reflect::enums::{DynamicEnum, DynamicVariant};
use bevy::time::Time;

use crate::messages::{ScriptCommand, ScriptEvent};
use crate::value::ScriptValue;

/// The entity whose script is running (for `send`'s sender).
#[derive(bevy::prelude::Resource, Clone, Copy)]
pub(crate) struct CurrentScript(pub Entity);

fn world<'a>(ctx: &'a mut NativeCtx<'_>) -> Result<&'a mut World, NativeError> {
    ctx.host::<World>()
        .ok_or_else(|| NativeError::new("this function works only while the game runs the script"))
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

/// Written in Ark so that it suspends like any script code.
const WAIT: &str = "fn wait(seconds) {
    let until = time() + seconds;
    while time() < until { yield; }
}";

/// Registers the game functions on the runtime's VM.
pub(crate) fn register(vm: &mut Vm) {
    vm.register_native("send", Arity::Between(1, 2), |ctx, args| {
        let name = ctx.str_arg(args[0], "send")?;
        let data = ScriptValue::from_ark(ctx.heap(), args.get(1).copied().unwrap_or_default());
        let world = world(ctx)?;
        let sender = world.get_resource::<CurrentScript>().map(|c| c.0);
        world.write_message(ScriptEvent { sender, name, data });
        Ok(Value::Nil)
    });
    vm.register_native("broadcast", Arity::Between(1, 2), |ctx, args| {
        let name = ctx.str_arg(args[0], "broadcast")?;
        let data = ScriptValue::from_ark(ctx.heap(), args.get(1).copied().unwrap_or_default());
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
        let world = world(ctx)?;
        let mut query = world.query::<(Entity, &Name)>();
        let found = query
            .iter(world)
            .find(|(_, n)| n.as_str() == name)
            .map(|(e, _)| e);
        ctx.charge(64);
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
    vm.register_native("despawn", Arity::Exactly(1), |ctx, args| {
        let entity = entity_arg(args[0], "despawn")?;
        Ok(Value::Bool(world(ctx)?.despawn(entity)))
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
        let components =
            ScriptValue::from_ark(ctx.heap(), args.first().copied().unwrap_or_default());
        let world = world(ctx)?;
        let entity = world.spawn_empty().id();
        if let ScriptValue::Map(entries) = components {
            for (name, fields) in entries {
                match (name.as_str(), fields) {
                    // `Name` reflects as an opaque value: it is given as text.
                    ("Name", ScriptValue::Str(text)) => {
                        world.entity_mut(entity).insert(Name::new(text));
                    }
                    (_, fields) => crate::reflect::insert_component(world, entity, &name, &fields)?,
                }
            }
        }
        if let Some(path) = script {
            world.entity_mut(entity).insert(crate::Script::new(path));
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
    let module = vm.compile("<bevy_ark>", WAIT).expect("wait compiles");
    let instance = vm.instantiate(&module);
    vm.run_init(instance).expect("wait loads");
    let wait = vm.get_var(instance, "wait").expect("wait is defined");
    vm.set_global("wait", wait);
}
