//! `ScriptCommand`s into the instances they address. Nothing is dropped
//! silently: a command nobody can take is a `ScriptError`.
//!
//! - `Broadcast` reaches every instance whose script defines `on_event`
//!   and that has not failed (a failed instance queues nothing, so a fix
//!   does not deliver a backlog).
//! - `Call` to an entity whose scripts are still loading waits until they
//!   have instances; to a missing entity, an entity without scripts or
//!   one being despawned, or a function none of its scripts defines, it is
//!   reported.
//! - An instance queues at most `INBOX_LIMIT` calls; past that, commands
//!   to it are dropped and reported (once a frame).

use std::collections::HashSet;

use ark_vm::InstanceId;
use bevy::ecs::message::Messages;
use bevy::ecs::prelude::*;

use super::{complaint, sync};
use crate::ScriptValue;
use crate::messages::{ScriptCommand, ScriptError};
use crate::runtime::{
    INBOX_LIMIT, Phase, Queued, ScriptInstance, ScriptRuntime, cached_slot, instance_of_mut,
};

pub(super) fn deliver_commands(
    world: &mut World,
    runtime: &mut ScriptRuntime,
    errors: &mut Vec<ScriptError>,
) {
    let mut overflowed = HashSet::new();
    // Calls that waited for their entity's scripts to load come first.
    let mut commands: Vec<ScriptCommand> = Vec::new();
    for entity in std::mem::take(&mut runtime.holding_calls) {
        let Some(record) = runtime.entities.get_mut(&entity) else {
            continue;
        };
        commands.extend(
            record
                .waiting
                .drain(..)
                .map(|(function, args)| ScriptCommand::Call {
                    entity,
                    function,
                    args,
                }),
        );
    }
    commands.extend(world.resource_mut::<Messages<ScriptCommand>>().drain());
    for command in commands {
        match command {
            ScriptCommand::Broadcast { name, data } => {
                broadcast(runtime, name, data, &mut overflowed, errors);
            }
            ScriptCommand::Call {
                entity,
                function,
                args,
            } => call(
                world,
                runtime,
                entity,
                function,
                args,
                &mut overflowed,
                errors,
            ),
        }
    }
}

/// Whether the instance's script defines `name` (known before its top
/// level has run: from its code).
fn defines(runtime: &mut ScriptRuntime, id: InstanceId, name: &str) -> bool {
    runtime
        .vm_mut()
        .instance_module(id)
        .is_some_and(|m| m.code().var_slot(name).is_some())
}

fn broadcast(
    runtime: &mut ScriptRuntime,
    name: String,
    data: ScriptValue,
    overflowed: &mut HashSet<InstanceId>,
    errors: &mut Vec<ScriptError>,
) {
    let mut takers = Vec::new();
    for (&entity, record) in &runtime.entities {
        for (i, slot) in record.slots.iter().enumerate() {
            if let Some(inst) = &slot.instance
                && inst.phase != Phase::Failed
            {
                takers.push((entity, i));
            }
        }
    }
    let call: Queued = ("on_event".into(), [ScriptValue::Str(name), data].into());
    let (entities, _, vm) = runtime.turn_parts();
    for (entity, i) in takers {
        let Some(inst) = instance_of_mut(entities, entity, i) else {
            continue;
        };
        if cached_slot(vm, inst.id, &mut inst.event_slot, "on_event").is_none() {
            continue;
        }
        enqueue(inst, entity, &call, overflowed, errors);
    }
}

fn call(
    world: &World,
    runtime: &mut ScriptRuntime,
    entity: Entity,
    function: String,
    args: Vec<ScriptValue>,
    overflowed: &mut HashSet<InstanceId>,
    errors: &mut Vec<ScriptError>,
) {
    let refuse = |why: String| {
        complaint(
            Some(entity),
            "",
            format!("ScriptCommand::Call of '{function}': {why}"),
        )
    };
    if world.get_entity(entity).is_err() || runtime.dying.contains(&entity) {
        errors.push(refuse(format!("entity {entity} does not exist")));
        return;
    }
    let Some(record) = runtime.entities.get(&entity) else {
        if world.get::<crate::Script>(entity).is_some() {
            // Its `Script` arrived this frame: the call waits for it.
            runtime
                .entities
                .entry(entity)
                .or_default()
                .waiting
                .push_back((function, args));
            runtime.holding_calls.insert(entity);
        } else {
            errors.push(refuse(format!("entity {entity} has no scripts")));
        }
        return;
    };
    if !sync::ready(runtime, record) {
        let record = runtime.entities.get_mut(&entity).expect("present");
        record.waiting.push_back((function, args));
        runtime.holding_calls.insert(entity);
        return;
    }
    let candidates: Vec<(usize, InstanceId)> = record
        .slots
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.instance.as_ref().map(|inst| (i, inst.id)))
        .collect();
    let paths: Vec<String> = record.slots.iter().map(|s| s.path.clone()).collect();
    let queued: Queued = (function.as_str().into(), args.into());
    let mut delivered = false;
    for (i, id) in candidates {
        if !defines(runtime, id, &function) {
            continue;
        }
        delivered = true;
        let inst = instance(runtime, entity, i);
        if inst.phase == Phase::Failed {
            errors.push(complaint(
                Some(entity),
                &inst.path,
                format!("ScriptCommand::Call of '{function}': the script stopped after an error"),
            ));
            continue;
        }
        enqueue(inst, entity, &queued, overflowed, errors);
    }
    if !delivered {
        errors.push(refuse(format!(
            "no script on entity {entity} defines it ({})",
            paths.join(", ")
        )));
    }
}

fn instance(runtime: &mut ScriptRuntime, entity: Entity, slot: usize) -> &mut ScriptInstance {
    instance_of_mut(&mut runtime.entities, entity, slot).expect("an instance listed by the caller")
}

fn enqueue(
    inst: &mut ScriptInstance,
    entity: Entity,
    call: &Queued,
    overflowed: &mut HashSet<InstanceId>,
    errors: &mut Vec<ScriptError>,
) {
    let function = &call.0;
    if inst.inbox.len() < INBOX_LIMIT {
        inst.inbox.push_back(call.clone());
    } else if overflowed.insert(inst.id) {
        errors.push(complaint(
            Some(entity),
            &inst.path,
            format!(
                "{} calls are waiting for this script already: '{function}' and later \
                 commands this frame are dropped",
                INBOX_LIMIT
            ),
        ));
    }
}
