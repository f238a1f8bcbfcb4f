//! Instances follow the `Script` components.
//!
//! An entity's `Script` lists its scripts in order; slot `i` holds the
//! instance of entry `i`, so the same path twice is two instances and the
//! order is the order given, whichever script compiles first. When the
//! list changes, a slot whose script changed is destroyed and made anew;
//! when the `Script` is removed, or removed and inserted again, or the
//! entity is despawned, every instance is destroyed (`on_destroy` runs),
//! and a re-inserted `Script` starts over.

use bevy::asset::AssetId;
use bevy::ecs::prelude::*;

use super::complaint;
use crate::ScriptAsset;
use crate::components::Script;
use crate::messages::ScriptError;
use crate::runtime::{Destroy, EntityScripts, Phase, ScriptInstance, ScriptRuntime, Slot};

pub(super) fn sync_instances(
    world: &mut World,
    runtime: &mut ScriptRuntime,
    errors: &mut Vec<ScriptError>,
) {
    // Only the `Script`s changed since the last frame are looked at; the
    // count of all of them says whether any known entity lost its own (no
    // walk of every scripted entity each frame).
    let mut changed = Vec::new();
    let mut new = 0;
    let mut query = world.query_filtered::<(Entity, Ref<Script>), Changed<Script>>();
    for (entity, script) in query.iter(world) {
        if runtime.dying.contains(&entity) {
            continue;
        }
        let known = runtime.entities.contains_key(&entity);
        new += usize::from(!known);
        // Added again while we still hold its instances: it was removed
        // and inserted since the last frame.
        let restart = known && script.is_added();
        changed.push((entity, restart, wanted_scripts(&script)));
    }
    let scripted = world.query::<&Script>().iter(world).len();
    let gone: Vec<Entity> = if scripted == runtime.entities.len() + new {
        Vec::new()
    } else {
        runtime
            .entities
            .keys()
            .copied()
            .filter(|&e| runtime.dying.contains(&e) || world.get::<Script>(e).is_none())
            .collect()
    };
    for entity in gone {
        if let Some(record) = runtime.forget_entity(entity) {
            for slot in record.slots {
                retire(runtime, entity, slot);
            }
        }
    }
    for (entity, restart, wanted) in changed {
        rebuild(runtime, entity, restart, wanted);
    }
    instantiate_compiled(runtime, errors);
}

/// The scripts a `Script` lists, once all of its paths have handles.
fn wanted_scripts(script: &Script) -> Option<Vec<(AssetId<ScriptAsset>, String)>> {
    script
        .loaded()
        .map(|handle| {
            let h = handle?;
            Some((
                h.id(),
                h.path()
                    .map_or_else(|| format!("{:?}", h.id()), |p| p.to_string()),
            ))
        })
        .collect()
}

/// Makes an entity's slots match its `Script` again.
fn rebuild(
    runtime: &mut ScriptRuntime,
    entity: Entity,
    restart: bool,
    wanted: Option<Vec<(AssetId<ScriptAsset>, String)>>,
) {
    let mut record = runtime.forget_entity(entity).unwrap_or_default();
    let mut old: Vec<Option<Slot>> = record.slots.drain(..).map(Some).collect();
    if restart {
        for slot in old.iter_mut().filter_map(Option::take) {
            retire(runtime, entity, slot);
        }
    }
    // Until every path has a handle the entity has no slots: commands wait.
    let wanted = wanted.unwrap_or_default();
    for (i, (asset, path)) in wanted.into_iter().enumerate() {
        let kept = old
            .get_mut(i)
            .and_then(|slot| slot.take_if(|s| s.asset == asset));
        record.slots.push(kept.unwrap_or(Slot {
            asset,
            path,
            instance: None,
            load_failure_reported: false,
        }));
    }
    for slot in old.into_iter().flatten() {
        retire(runtime, entity, slot);
    }
    if record.slots.iter().any(|s| s.instance.is_none()) {
        runtime.unready.insert(entity);
    }
    runtime.entities.insert(entity, record);
}

/// Queues a slot's instance for destruction: its calls stop now, its
/// `on_destroy` runs within a frame's budget, then it is released.
pub(super) fn retire(runtime: &mut ScriptRuntime, entity: Entity, slot: Slot) {
    let Some(inst) = slot.instance else {
        return;
    };
    let vm = runtime.vm_mut();
    if let Some(call) = inst.pending {
        vm.cancel(call);
    }
    if let Some(reload) = inst.reload {
        vm.cancel(reload.call);
        vm.release_instance(reload.id);
    }
    runtime.destroying.push_back(Destroy {
        entity,
        path: inst.path,
        id: inst.id,
        call: None,
        spent: 0,
        run: inst.phase != Phase::Failed,
    });
}

/// Retires every instance of an entity and forgets it.
pub(super) fn retire_entity(runtime: &mut ScriptRuntime, entity: Entity) {
    if let Some(record) = runtime.forget_entity(entity) {
        for slot in record.slots {
            retire(runtime, entity, slot);
        }
    }
}

/// Gives every slot whose script has compiled an instance, and reports
/// scripts that failed to load.
fn instantiate_compiled(runtime: &mut ScriptRuntime, errors: &mut Vec<ScriptError>) {
    let ScriptRuntime {
        entities,
        compiled,
        load_failures,
        unready,
        ..
    } = runtime;
    let mut new = Vec::new();
    unready.retain(|entity| {
        entities
            .get(entity)
            .is_some_and(|r| r.slots.iter().any(|s| s.instance.is_none()))
    });
    for &entity in unready.iter() {
        let Some(record) = entities.get_mut(&entity) else {
            continue;
        };
        // A script starts only after the ones listed before it, so that
        // their top levels and `on_start` run in the order given.
        let mut earlier_ready = true;
        for (i, slot) in record.slots.iter_mut().enumerate() {
            if slot.instance.is_some() {
                continue;
            }
            let failed = load_failures.contains_key(&slot.asset);
            if compiled.contains_key(&slot.asset) && earlier_ready {
                new.push((entity, i));
            } else if !failed {
                earlier_ready = false;
            }
            if let Some(why) = load_failures.get(&slot.asset)
                && !slot.load_failure_reported
            {
                slot.load_failure_reported = true;
                errors.push(complaint(Some(entity), &slot.path, why.clone()));
            }
        }
    }
    if !new.is_empty() {
        runtime.instances_changed();
    }
    for (entity, i) in new {
        let asset = runtime.entities[&entity].slots[i].asset;
        let module = runtime.compiled[&asset].module.clone();
        let vm = runtime.vm_mut();
        let id = vm.instantiate(&module);
        vm.set_self(id, ark_vm::Value::Entity(entity.to_bits()));
        let slot = &mut runtime
            .entities
            .get_mut(&entity)
            .expect("listed above")
            .slots[i];
        slot.instance = Some(ScriptInstance {
            path: slot.path.clone(),
            id,
            phase: Phase::Init,
            started: false,
            pending: None,
            inbox: Default::default(),
            reload: None,
            error: None,
            update_slot: None,
            event_slot: None,
        });
    }
}

/// Whether every slot of the entity has an instance (or cannot get one).
pub(super) fn ready(runtime: &ScriptRuntime, record: &EntityScripts) -> bool {
    !record.slots.is_empty()
        && record
            .slots
            .iter()
            .all(|s| s.instance.is_some() || runtime.load_failures.contains_key(&s.asset))
}
