//! Hot reload: instances of a recompiled script move to the new code,
//! keeping their state.
//!
//! The new code's top level runs in an instance of its own, as the
//! instance's next call, within the frame's budget (and may span frames).
//! When it finishes, if the instance had got through `on_start`, every
//! module variable whose name still exists gets its old value back, except
//! functions (closures belong to the old code);
//! entities that the new top level spawned and that no variable then holds
//! are despawned, so a reload does not leave a second copy of what the top
//! level spawns. Then the new instance takes over: one whose top level or
//! `on_start` never finished (it failed, or had not got there) starts over
//! with the new code, `on_start` included; a failed one runs again. If the new top
//! level fails, the old instance carries on and the error is reported.

use ark_vm::{Value, Vm};
use bevy::ecs::entity::EntityHashSet;
use bevy::ecs::prelude::*;

use crate::runtime::{Phase, Reload, ScriptInstance, ScriptRuntime};

/// How deep module variables are searched for the entities they hold.
const HELD_DEPTH: usize = 8;

pub(super) fn start_reloads(runtime: &mut ScriptRuntime) {
    for asset in std::mem::take(&mut runtime.reloaded) {
        let Some(module) = runtime.compiled.get(&asset).map(|c| c.module.clone()) else {
            continue;
        };
        let (entities, vm) = runtime.entities_and_vm();
        for (&entity, record) in entities.iter_mut() {
            for slot in record.slots.iter_mut().filter(|s| s.asset == asset) {
                let Some(inst) = slot.instance.as_mut() else {
                    continue;
                };
                if let Some(call) = inst.pending.take() {
                    vm.cancel(call);
                }
                if let Some(old) = inst.reload.take() {
                    vm.cancel(old.call);
                    vm.release_instance(old.id);
                }
                let id = vm.instantiate(&module);
                vm.set_self(id, Value::Entity(entity.to_bits()));
                let call = vm.start_init(id);
                inst.reload = Some(Reload {
                    id,
                    call,
                    spent: 0,
                    spawned: Vec::new(),
                });
            }
        }
    }
}

/// The new code's top level finished: it takes over the instance.
pub(super) fn finish(world: &mut World, vm: &mut Vm, inst: &mut ScriptInstance, reload: Reload) {
    let (old, new) = (inst.id, reload.id);
    let names = vm
        .instance_module(new)
        .map(|m| m.code().var_names.clone())
        .unwrap_or_default();
    // An instance that never got through `on_start` has no state worth
    // keeping: it starts over with the new code.
    let keep_state = inst.started;
    for name in names.iter().filter(|_| keep_state) {
        let Some(value) = vm.get_var(old, name) else {
            continue;
        };
        if !vm.has_function(new, name) && !matches!(value, Value::Closure(_)) {
            vm.set_var(new, name, value);
        }
    }
    let mut held = EntityHashSet::default();
    for name in names.iter() {
        if let Some(v) = vm.get_var(new, name) {
            entities_in(vm, v, HELD_DEPTH, &mut held);
        }
    }
    for entity in reload.spawned {
        if !held.contains(&entity) {
            world.despawn(entity);
        }
    }
    vm.release_instance(old);
    inst.id = new;
    inst.error = None;
    inst.phase = if inst.started {
        Phase::Running
    } else {
        Phase::Start
    };
}

/// The entities a value holds, in lists and maps down to `depth`.
fn entities_in(vm: &Vm, v: Value, depth: usize, out: &mut EntityHashSet) {
    match v {
        Value::Entity(bits) => {
            if let Some(e) = Entity::try_from_bits(bits) {
                out.insert(e);
            }
        }
        Value::List(l) if depth > 0 => {
            for &item in vm.heap().list_items(l).unwrap_or_default() {
                entities_in(vm, item, depth - 1, out);
            }
        }
        Value::Map(m) if depth > 0 => {
            let entries: Vec<Value> = vm
                .heap()
                .map_entries(m)
                .map(|e| e.map(|(_, v)| v).collect())
                .unwrap_or_default();
            for item in entries {
                entities_in(vm, item, depth - 1, out);
            }
        }
        _ => {}
    }
}
