//! The one system that runs every script instance each frame, under the
//! frame's budget, then gives the collector its share.
//!
//! Each frame, for every instance in turn: its top-level code and
//! `on_start` when it is new, its suspended call if it has one, then
//! `on_update(dt)` (unless an earlier `on_update` is still suspended). When
//! the budget runs out the running call is suspended, and the next frame
//! starts with the entity where this one stopped (round-robin), so no
//! instance starves.

use std::time::{Duration, Instant};

use ark_vm::{Budget, CallId, RunResult, Value, Vm};
use bevy::ecs::prelude::*;
use bevy::log::error;
use bevy::time::Time;

use crate::components::Script;
use crate::messages::{ScriptCommand, ScriptError};
use crate::natives::CurrentScript;
use crate::runtime::{Phase, ScriptBudget, ScriptErrorPolicy, ScriptInstance, ScriptRuntime};
use crate::stats::ScriptFrameStats;
use crate::value::ScriptValue;
use bevy::ecs::message::Messages;

/// Instructions `on_destroy` may run when its entity goes away.
const DESTROY_INSTRUCTIONS: u64 = 100_000;
/// Instructions a reloaded script's top level may run.
const RELOAD_INSTRUCTIONS: u64 = 1_000_000;

/// What is left of the frame's script budget.
struct FrameMeter {
    deadline: Option<Instant>,
    instructions_left: u64,
}

impl FrameMeter {
    fn new(budget: ScriptBudget, now: Instant) -> FrameMeter {
        match budget {
            ScriptBudget::Micros { frame, gc } => FrameMeter {
                deadline: Some(now + Duration::from_micros(frame.saturating_sub(gc))),
                instructions_left: u64::MAX,
            },
            ScriptBudget::Instructions { frame, .. } => FrameMeter {
                deadline: None,
                instructions_left: frame,
            },
        }
    }

    fn slice(&self) -> Budget {
        match self.deadline {
            Some(d) => {
                Budget::Micros(d.saturating_duration_since(Instant::now()).as_micros() as u64)
            }
            None => Budget::Instructions(self.instructions_left),
        }
    }

    fn spend(&mut self, instructions: u64) {
        self.instructions_left = self.instructions_left.saturating_sub(instructions);
    }

    fn exhausted(&self) -> bool {
        match self.deadline {
            Some(d) => Instant::now() >= d,
            None => self.instructions_left == 0,
        }
    }
}

pub(crate) fn run_scripts(world: &mut World) {
    let dt = world
        .get_resource::<Time>()
        .map_or(0.0, |t| t.delta_secs_f64());
    let budget = *world.resource::<ScriptBudget>();
    let policy = world
        .get_resource::<ScriptErrorPolicy>()
        .copied()
        .unwrap_or_default();
    let mut errors = Vec::new();
    let stats = world.resource_scope(|world, mut runtime: Mut<ScriptRuntime>| {
        reload_instances(world, &mut runtime, &mut errors);
        sync_instances(world, &mut runtime, &mut errors);
        deliver_commands(world, &mut runtime);
        run_frame(world, &mut runtime, budget, policy, dt, &mut errors)
    });
    *world.resource_mut::<ScriptFrameStats>() = stats;
    for e in errors {
        world.write_message(e);
    }
}

/// Creates instances for new scripts and releases those of entities (or
/// scripts) that are gone, calling their `on_destroy`.
fn sync_instances(world: &mut World, runtime: &mut ScriptRuntime, errors: &mut Vec<ScriptError>) {
    let mut query = world.query::<(Entity, &Script)>();
    let wanted: Vec<(Entity, Vec<bevy::asset::AssetId<crate::ScriptAsset>>)> = query
        .iter(world)
        .map(|(e, s)| (e, s.handles().map(|h| h.id()).collect()))
        .collect();
    let alive: std::collections::HashSet<Entity> = wanted.iter().map(|(e, _)| *e).collect();
    let gone: Vec<Entity> = runtime
        .instances
        .keys()
        .copied()
        .filter(|e| !alive.contains(e))
        .collect();
    for entity in gone {
        let instances = runtime.instances.remove(&entity).unwrap_or_default();
        let vm = runtime.vm_mut();
        for inst in instances {
            if let Some(call) = inst.pending {
                vm.cancel(call);
            }
            if inst.phase != Phase::Failed
                && vm.has_function(inst.id, "on_destroy")
                && let Ok(call) = vm.start_call(inst.id, "on_destroy", &[])
            {
                match vm.resume_with(call, Budget::Instructions(DESTROY_INSTRUCTIONS), world) {
                    RunResult::Error(e) => errors.push(report(Some(entity), &inst.path, &e)),
                    RunResult::Suspended => vm.cancel(call),
                    RunResult::Done(_) => {}
                }
            }
            vm.release_instance(inst.id);
        }
    }
    for (entity, assets) in wanted {
        for asset in assets {
            let has = runtime
                .instances
                .get(&entity)
                .is_some_and(|list| list.iter().any(|i| i.asset == asset));
            let Some(compiled) = runtime.compiled.get(&asset) else {
                continue;
            };
            if has {
                continue;
            }
            let (module, path) = (compiled.module.clone(), compiled.path.clone());
            let vm = runtime.vm_mut();
            let id = vm.instantiate(&module);
            vm.set_self(id, Value::Entity(entity.to_bits()));
            runtime
                .instances
                .entry(entity)
                .or_default()
                .push(ScriptInstance {
                    asset,
                    path,
                    id,
                    phase: Phase::Init,
                    pending: None,
                    inbox: Default::default(),
                });
        }
    }
}

/// Moves the instances of recompiled scripts to their new code. The new
/// top level runs (defining the new functions), then every module variable
/// whose name still exists gets its old value back, except functions
/// (closures belong to the old code). Suspended calls of the old code are
/// dropped, a failed instance runs again, and `on_start` does not run a
/// second time.
fn reload_instances(world: &mut World, runtime: &mut ScriptRuntime, errors: &mut Vec<ScriptError>) {
    for asset in std::mem::take(&mut runtime.reloaded) {
        let Some(compiled) = runtime.compiled.get(&asset) else {
            continue;
        };
        let module = compiled.module.clone();
        let entities: Vec<Entity> = runtime.instances.keys().copied().collect();
        for entity in entities {
            let Some(mut instances) = runtime.instances.remove(&entity) else {
                continue;
            };
            for inst in instances.iter_mut().filter(|i| i.asset == asset) {
                let vm = runtime.vm_mut();
                if let Some(call) = inst.pending.take() {
                    vm.cancel(call);
                }
                let old = inst.id;
                let new = vm.instantiate(&module);
                vm.set_self(new, Value::Entity(entity.to_bits()));
                let init = vm.start_init(new);
                match vm.resume_with(init, Budget::Instructions(RELOAD_INSTRUCTIONS), world) {
                    RunResult::Done(_) => {}
                    RunResult::Suspended => vm.cancel(init),
                    RunResult::Error(e) => errors.push(report(Some(entity), &inst.path, &e)),
                }
                for name in module.code().var_names.iter() {
                    let Some(value) = vm.get_var(old, name) else {
                        continue;
                    };
                    let now_a_function = vm.has_function(new, name);
                    if !now_a_function && !matches!(value, Value::Closure(_)) {
                        vm.set_var(new, name, value);
                    }
                }
                vm.release_instance(old);
                inst.id = new;
                inst.phase = Phase::Running;
            }
            runtime.instances.insert(entity, instances);
        }
    }
}

/// Queues `ScriptCommand`s in the instances they address.
fn deliver_commands(world: &mut World, runtime: &mut ScriptRuntime) {
    let commands: Vec<ScriptCommand> = world
        .resource_mut::<Messages<ScriptCommand>>()
        .drain()
        .collect();
    for command in commands {
        match command {
            ScriptCommand::Broadcast { name, data } => {
                let (instances, vm) = runtime.instances_and_vm();
                for inst in instances.values_mut().flatten() {
                    if vm.has_function(inst.id, "on_event") {
                        let args = vec![ScriptValue::Str(name.clone()), data.clone()];
                        inst.inbox.push_back(("on_event".to_string(), args));
                    }
                }
            }
            ScriptCommand::Call {
                entity,
                function,
                args,
            } => {
                let (instances, vm) = runtime.instances_and_vm();
                for inst in instances.get_mut(&entity).into_iter().flatten() {
                    if vm.has_function(inst.id, &function) {
                        inst.inbox.push_back((function.clone(), args.clone()));
                    }
                }
            }
        }
    }
}

fn report(entity: Option<Entity>, path: &str, e: &ark_vm::RuntimeError) -> ScriptError {
    error!("{e}");
    ScriptError {
        entity,
        script: path.to_string(),
        message: e.to_string(),
        line: e.line(),
    }
}

/// Runs every instance once, round-robin, under the budget; then the
/// collector.
fn run_frame(
    world: &mut World,
    runtime: &mut ScriptRuntime,
    budget: ScriptBudget,
    policy: ScriptErrorPolicy,
    dt: f64,
    errors: &mut Vec<ScriptError>,
) -> ScriptFrameStats {
    let frame_start = Instant::now();
    let mut meter = FrameMeter::new(budget, frame_start);
    let mut entities: Vec<Entity> = runtime.instances.keys().copied().collect();
    entities.sort_unstable();
    let n = entities.len();
    if n > 0 {
        entities.rotate_left(runtime.cursor % n);
    }
    let instructions_before = runtime.vm_mut().instructions_executed();
    let mut stats = ScriptFrameStats::default();
    let mut stopped_at = None;
    for (pos, entity) in entities.iter().enumerate() {
        if meter.exhausted() {
            stopped_at = Some(pos);
            break;
        }
        let (instances, vm) = runtime.instances_and_vm();
        let Some(instances) = instances.get_mut(entity) else {
            continue;
        };
        for inst in instances {
            run_instance(
                world,
                vm,
                inst,
                *entity,
                (dt, policy),
                &mut meter,
                &mut stats,
                errors,
            );
        }
    }
    // The next frame starts with the first entity that did not get to run.
    runtime.cursor = match stopped_at {
        Some(pos) => (runtime.cursor + pos) % n.max(1),
        None => runtime.cursor,
    };
    stats.waiting = stopped_at.map_or(0, |pos| n - pos);
    let vm = runtime.vm_mut();
    stats.instructions = vm.instructions_executed() - instructions_before;
    stats.opcode_micros = frame_start.elapsed().as_secs_f64() * 1e6;
    let gc_start = Instant::now();
    let progress = match budget {
        ScriptBudget::Micros { frame, .. } => {
            let left = Duration::from_micros(frame).saturating_sub(frame_start.elapsed());
            vm.gc_step(Budget::Micros(left.as_micros() as u64))
        }
        ScriptBudget::Instructions { gc, .. } => vm.gc_step(Budget::Instructions(gc)),
    };
    stats.gc_micros = gc_start.elapsed().as_secs_f64() * 1e6;
    stats.gc_longest_unchecked_micros = progress.longest_unchecked.as_secs_f64() * 1e6;
    let report = vm.gc_report();
    stats.heap_bytes = report.heap_bytes;
    stats.heap_objects = report.objects.iter().map(|k| k.count).sum();
    stats.gc_phase = report.phase;
    for inst in runtime.instances.values().flatten() {
        match inst.phase {
            Phase::Failed => stats.failed += 1,
            _ if inst.pending.is_some() => stats.suspended += 1,
            _ => {}
        }
    }
    stats
}

/// Gives one instance its turn: pending call, top level, `on_start`, then
/// `on_update`, as far as the budget goes.
#[allow(clippy::too_many_arguments)]
fn run_instance(
    world: &mut World,
    vm: &mut Vm,
    inst: &mut ScriptInstance,
    entity: Entity,
    (dt, policy): (f64, ScriptErrorPolicy),
    meter: &mut FrameMeter,
    stats: &mut ScriptFrameStats,
    errors: &mut Vec<ScriptError>,
) {
    let mut updated = false;
    loop {
        if meter.exhausted() {
            return;
        }
        let call: CallId = match (inst.pending, inst.phase) {
            (Some(call), _) => call,
            (None, Phase::Failed) => return,
            (None, Phase::Init) => vm.start_init(inst.id),
            (None, Phase::Start) => match start_if_defined(vm, inst, "on_start", &[]) {
                Some(call) => call,
                None => {
                    inst.phase = Phase::Running;
                    continue;
                }
            },
            (None, Phase::Running) if !inst.inbox.is_empty() => {
                let (function, args) = inst.inbox.pop_front().expect("not empty");
                let mut values = Vec::with_capacity(args.len());
                for a in &args {
                    match a.to_ark(vm.heap_mut()) {
                        Ok(v) => values.push(v),
                        Err(e) => {
                            errors.push(ScriptError {
                                entity: Some(entity),
                                script: inst.path.clone(),
                                message: e,
                                line: None,
                            });
                            return;
                        }
                    }
                }
                match vm.start_call(inst.id, &function, &values) {
                    Ok(call) => call,
                    Err(_) => continue,
                }
            }
            (None, Phase::Running) if updated => return,
            (None, Phase::Running) => {
                updated = true;
                match start_if_defined(vm, inst, "on_update", &[Value::Float(dt)]) {
                    Some(call) => call,
                    None => return,
                }
            }
        };
        world.insert_resource(CurrentScript(entity));
        let before = vm.instructions_executed();
        let result = vm.resume_with(call, meter.slice(), world);
        meter.spend(vm.instructions_executed() - before);
        let stretch = vm.last_resume_longest_unchecked().as_secs_f64() * 1e6;
        stats.opcode_longest_unchecked_micros = stats.opcode_longest_unchecked_micros.max(stretch);
        stats.instances_run += 1;
        match result {
            RunResult::Done(_) => {
                inst.pending = None;
                inst.phase = match inst.phase {
                    Phase::Init => Phase::Start,
                    Phase::Start | Phase::Running => Phase::Running,
                    Phase::Failed => Phase::Failed,
                };
            }
            RunResult::Suspended => {
                // Out of budget, or `yield`: either way, next frame.
                inst.pending = Some(call);
                return;
            }
            RunResult::Error(e) => {
                inst.pending = None;
                errors.push(report(Some(entity), &inst.path, &e));
                match policy {
                    ScriptErrorPolicy::Stop => inst.phase = Phase::Failed,
                    // The failed step counts as done: a failed top level or
                    // on_start moves on to on_update.
                    ScriptErrorPolicy::Continue => {
                        inst.phase = match inst.phase {
                            Phase::Init => Phase::Start,
                            _ => Phase::Running,
                        }
                    }
                }
                return;
            }
        }
    }
}

fn start_if_defined(
    vm: &mut Vm,
    inst: &ScriptInstance,
    name: &str,
    args: &[Value],
) -> Option<CallId> {
    // One lookup of the name, where `has_function` and then `start_call`
    // would make two: this runs for every instance every frame.
    match vm.get_var(inst.id, name)? {
        f @ (Value::Closure(_) | Value::Native(_)) => vm.start_call_value(f, args).ok(),
        _ => None,
    }
}
