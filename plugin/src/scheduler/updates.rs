//! The common turn, in bulk: instances that have nothing to do this frame
//! but `on_update(dt)` get their calls in one VM batch (`Vm::run_batch`)
//! instead of a start and a resume each. A turn costs a look at the
//! instance, two stores and the call itself.
//!
//! A batch stops at the first instance that needs more (a suspended call,
//! a reload, queued calls, its top level or `on_start` to run, a failed
//! instance, a despawned or dying entity): the scheduler gives that one
//! its turn the ordinary way (`run::take_turn`) and starts another batch
//! after it. It stops too when a script despawned an entity with scripts,
//! so that their `on_destroy` start before the next turn.

use std::any::Any;

use ark_vm::batch::{BatchCall, BatchEnd, CallBatch, ModuleVars};
use ark_vm::{RuntimeError, Value};
use bevy::ecs::entity::{EntityHashSet, EntityIndexMap};
use bevy::prelude::World;

use super::report;
use super::run::{Frame, TurnOrder, count_state};
use crate::runtime::{
    EntityScripts, Phase, ScriptErrorPolicy, ScriptInstance, ScriptRuntime, Turn, instance_at_mut,
};

/// The instances of a run of turns, as the batch goes through them.
struct Updates<'f, 'a> {
    order: &'f TurnOrder,
    /// The next turn to look at.
    turn: &'f mut usize,
    entities: &'f mut EntityIndexMap<EntityScripts>,
    dying: &'f EntityHashSet,
    frame: &'f mut Frame<'a>,
    /// The instance whose call runs.
    current: Option<Turn>,
    /// `on_update`'s argument, the frame's `dt`, the same for every call:
    /// written once, not per call (a 16-byte copy of a value written just
    /// before waits for the write to reach the cache: `perf`).
    args: [Value; 1],
}

/// Whether the instance's turn this frame is `on_update` and nothing
/// else.
fn only_updates(inst: &ScriptInstance) -> bool {
    inst.phase == Phase::Running
        && inst.pending.is_none()
        && inst.reload.is_none()
        && inst.inbox.is_empty()
}

/// The slot of `on_update` (`None` inside: the script has none) for an
/// instance whose turn a batch takes: `on_update` alone, its slot found
/// by an ordinary turn first. `None` for an instance the batch stops at.
fn batched_update_slot(inst: &ScriptInstance) -> Option<Option<usize>> {
    match inst.update_slot {
        Some((id, slot)) if id == inst.id && only_updates(inst) => Some(slot),
        _ => None,
    }
}

impl CallBatch for Updates<'_, '_> {
    fn next<'b>(
        &'b mut self,
        vars: ModuleVars<'_>,
        host: Option<&mut (dyn Any + Send)>,
    ) -> Option<BatchCall<'b>> {
        let world = host?.downcast_mut::<World>()?;
        loop {
            // Entities despawned by the last call: their `on_destroy`
            // first.
            if self.frame.running.despawned() {
                return None;
            }
            if *self.turn == self.order.len() {
                return None;
            }
            let turn = self.order.nth(*self.turn);
            let entity = turn.entity;
            let dying = !self.dying.is_empty() && self.dying.contains(&entity);
            let inst = match instance_at_mut(self.entities, turn) {
                Some(inst) if !dying && world.get_entity(entity).is_ok() => inst,
                _ => return None,
            };
            let slot = batched_update_slot(inst)?;
            let function = slot.and_then(|slot| vars.get(inst.id, slot));
            *self.turn += 1;
            let Some(function @ (Value::Closure(_) | Value::Native(_))) = function else {
                // No `on_update`: the turn is over.
                continue;
            };
            let frame = &mut *self.frame;
            frame.running.set_entity(entity);
            frame.tell_output(&inst.path);
            frame.stats.instances_run += 1;
            self.current = Some(turn);
            return Some(BatchCall {
                function,
                args: &self.args,
                // Its call returning changes the instance only if this is
                // its first update since its `on_start` failed (under
                // `ScriptErrorPolicy::Continue`): that marks it started.
                report_return: !inst.started,
            });
        }
    }

    fn ended(
        &mut self,
        result: Result<Value, &RuntimeError>,
        _host: Option<&mut (dyn Any + Send)>,
    ) {
        let Some(turn) = self.current.take() else {
            return;
        };
        let policy = self.frame.policy;
        let Some(inst) = instance_at_mut(self.entities, turn) else {
            return;
        };
        let error = match result {
            Err(e) => {
                let error = report(Some(turn.entity), &inst.path, e);
                if policy == ScriptErrorPolicy::Stop {
                    inst.phase = Phase::Failed;
                    inst.error = Some(e.to_string());
                }
                Some(error)
            }
            Ok(_) => {
                inst.started = true;
                None
            }
        };
        count_state(inst, &mut self.frame.stats);
        self.frame.errors.extend(error);
    }
}

/// Runs the `on_update` of the instances from turn `turn` on in one
/// batch, for as long as each needs nothing else and the budget lasts,
/// moving `turn` past the turns taken. False when the VM declines
/// batches (the debugger watches).
pub(super) fn run_updates(
    world: &mut World,
    runtime: &mut ScriptRuntime,
    order: &TurnOrder,
    turn: &mut usize,
    frame: &mut Frame<'_>,
) -> bool {
    let (entities, dying, vm) = runtime.turn_parts();
    // A batch that would stop at its first turn (an instance with events
    // waiting, say) is not set up.
    if *turn == order.len()
        || instance_at_mut(entities, order.nth(*turn))
            .is_none_or(|inst| batched_update_slot(inst).is_none())
    {
        return true;
    }
    let before = vm.instructions_executed();
    let args = [Value::float(frame.dt)];
    let mut updates = Updates {
        order,
        turn,
        entities,
        dying,
        frame,
        current: None,
        args,
    };
    let end = vm.run_batch(updates.frame.meter.slice(), world, &mut updates);
    let spent = vm.instructions_executed() - before;
    let stretch = vm.last_resume_longest_unchecked().as_secs_f64() * 1e6;
    match end {
        BatchEnd::Declined => return false,
        BatchEnd::Ended => {}
        // Out of budget or `yield`: next frame. Stopped by the debugger:
        // when the game lets it go on.
        BatchEnd::Suspended { call, .. } => {
            if let Some(turn) = updates.current.take()
                && let Some(inst) = instance_at_mut(updates.entities, turn)
            {
                inst.pending = Some(call);
                count_state(inst, &mut updates.frame.stats);
            }
        }
    }
    frame.meter.spend(spent);
    let stats = &mut frame.stats;
    stats.opcode_longest_unchecked_micros = stats.opcode_longest_unchecked_micros.max(stretch);
    true
}
