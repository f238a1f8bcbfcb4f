//! Running the frame: destroys, every instance's turn, the collector.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ark_vm::{Budget, CallId, InstanceId, RunResult, Value, Vm};
use bevy::ecs::prelude::*;

use super::{
    DESTROY_INSTRUCTIONS, FrameMeter, RELOAD_INSTRUCTIONS, complaint, reload, report, sync, updates,
};
use crate::messages::ScriptError;
use crate::natives::{RunningScript, ScriptSpawns};
use crate::output::ScriptOutput;
use crate::profiling::ScriptProfiler;
use crate::runtime::{
    CallTime, Phase, ScriptBudget, ScriptErrorPolicy, ScriptInstance, ScriptRuntime, Turn,
    cached_slot, instance_of, instance_of_mut,
};
use crate::stats::ScriptFrameStats;

/// One frame's work: what is left of the budget, what was done, what
/// went wrong.
pub(super) struct Frame<'a> {
    pub(super) meter: FrameMeter,
    pub(super) stats: ScriptFrameStats,
    pub(super) errors: &'a mut Vec<ScriptError>,
    pub(super) dt: f64,
    pub(super) policy: ScriptErrorPolicy,
    /// Each call's time, when the debugger asks for it.
    call_times: Option<Vec<CallTime>>,
    /// What scripts print, when it is kept: told whose script runs.
    output: Option<Arc<ScriptOutput>>,
    /// The script `output` was last told of.
    output_script: String,
    /// Told whose call runs; says what it despawned.
    pub(super) running: Arc<RunningScript>,
    /// Whether a profiler gets a zone per call this frame.
    profiling: bool,
}

impl Frame<'_> {
    /// Tells the kept output, when it is kept, whose script runs: only
    /// when it changes (the entity comes from `running`).
    #[inline]
    pub(super) fn tell_output(&mut self, script: &str) {
        if let Some(output) = &self.output
            && self.output_script != script
        {
            output.set_script(script);
            self.output_script.clear();
            self.output_script.push_str(script);
        }
    }
}

/// The frame's turns: every instance, in entity order and then in its
/// `Script`'s order, starting from the one the last frame did not get to.
pub(super) struct TurnOrder {
    order: Vec<Turn>,
    start: usize,
}

impl TurnOrder {
    pub(super) fn len(&self) -> usize {
        self.order.len()
    }

    /// The `turn`th turn this frame.
    pub(super) fn nth(&self, turn: usize) -> Turn {
        self.order[self.position(turn)]
    }

    /// Where the `turn`th turn is in the order.
    fn position(&self, turn: usize) -> usize {
        let i = self.start + turn;
        let len = self.order.len();
        if i >= len { i - len } else { i }
    }
}

/// The instance a call runs for.
#[derive(Clone, Copy)]
struct Who<'a> {
    entity: Entity,
    instance: InstanceId,
    script: &'a str,
}

pub(super) fn run_frame(
    world: &mut World,
    runtime: &mut ScriptRuntime,
    budget: ScriptBudget,
    policy: ScriptErrorPolicy,
    dt: f64,
    errors: &mut Vec<ScriptError>,
) -> ScriptFrameStats {
    let frame_start = Instant::now();
    let mut frame = Frame {
        meter: FrameMeter::new(budget, frame_start),
        stats: ScriptFrameStats::default(),
        errors,
        dt,
        policy,
        call_times: runtime.time_calls.then(Vec::new),
        output: runtime.output.capturing().then(|| runtime.output.clone()),
        output_script: String::new(),
        running: runtime.running.clone(),
        profiling: world
            .get_resource::<ScriptProfiler>()
            .is_some_and(ScriptProfiler::detailed),
    };
    let instructions_before = runtime.vm_mut().instructions_executed();
    // The debugger may hold every script while one call is stopped.
    let halted = runtime.stop_all && !runtime.stopped_calls().is_empty();
    let order = if halted {
        TurnOrder {
            order: Vec::new(),
            start: 0,
        }
    } else {
        run_destroys(world, runtime, &mut frame);
        turn_order(runtime)
    };
    let turns = order.len();
    // Calls one by one where a profiler or the debugger's timing wants
    // each call apart.
    let mut batching = !frame.profiling && frame.call_times.is_none();
    let mut stopped_at = None;
    let mut turn = 0;
    while turn < turns {
        if frame.meter.exhausted(runtime.vm_mut()) {
            stopped_at = Some(turn);
            break;
        }
        if batching {
            let first = turn;
            batching = updates::run_updates(world, runtime, &order, &mut turn, &mut frame);
            take_despawns(world, runtime);
            // Past the turns taken, or the budget spent (the loop ends).
            if turn > first || frame.meter.exhausted(runtime.vm_mut()) {
                continue;
            }
        }
        // An instance that needs more than `on_update`.
        let Turn { entity, slot, .. } = order.nth(turn);
        turn += 1;
        if runtime.dying.contains(&entity) {
            continue;
        }
        if world.get_entity(entity).is_err() {
            // Despawned by Rust code during the frame.
            sync::retire_entity(runtime, entity);
            continue;
        }
        take_turn(world, runtime, entity, slot, &mut frame);
        take_despawns(world, runtime);
    }
    // Out of budget after every instance's turn: the next frame starts
    // after the last one (where this one started), so that the instance
    // that spent the budget does not take the next frame's first turn too.
    let next = stopped_at
        .or_else(|| (turns > 0 && frame.meter.exhausted(runtime.vm_mut())).then_some(turns));
    runtime.cursor = next.map(|turn| (order.nth(turn).instance(), order.position(turn)));
    frame.stats.waiting = stopped_at.map_or(0, |turn| turns - turn);
    // What the frame's scripts despawned goes this frame, budget allowing.
    if !halted {
        run_destroys(world, runtime, &mut frame);
    }
    // The frame's calls are over: what Rust runs in the VM from here on
    // prints and sends as no entity's script.
    frame.running.clear_entity();
    frame.tell_output("");

    runtime.call_times = frame.call_times.take().unwrap_or_default();
    let mut stats = frame.stats;
    // Forget releases of calls that are not stopped any more (ended,
    // cancelled by a reload or a destroy).
    let mut released = std::mem::take(&mut runtime.released);
    released.retain(|&c| runtime.vm_mut().stop_reason(c).is_some());
    runtime.released = released;
    let vm = runtime.vm_mut();
    stats.instructions = vm.instructions_executed() - instructions_before;
    stats.opcode_micros = frame_start.elapsed().as_secs_f64() * 1e6;
    let mut profiler = world
        .get_resource_mut::<ScriptProfiler>()
        .filter(|p| p.enabled());
    if let Some(profiler) = &mut profiler {
        profiler.retain_calls(|c| vm.is_running(c));
        profiler.zone_begin("ark gc", "");
    }
    let gc_start = Instant::now();
    let progress = match budget {
        ScriptBudget::Micros { frame, .. } => {
            let left = Duration::from_micros(frame).saturating_sub(frame_start.elapsed());
            vm.gc_step(Budget::Micros(left.as_micros() as u64))
        }
        ScriptBudget::Instructions { gc, .. } => vm.gc_step(Budget::Instructions(gc)),
    };
    stats.gc_micros = gc_start.elapsed().as_secs_f64() * 1e6;
    if let Some(profiler) = &mut profiler {
        profiler.zone_text(&format!("{:?}", progress.phase).to_lowercase());
        profiler.zone_end();
    }
    stats.gc_longest_unchecked_micros = progress.longest_unchecked.as_secs_f64() * 1e6;
    let heap = vm.heap_summary();
    stats.heap_bytes = heap.heap_bytes;
    stats.heap_objects = heap.objects;
    stats.gc_phase = heap.phase;
    stats.forced_collections = heap.forced_collections;
    // The instances that took a turn were counted as it ended; those it
    // did not reach are counted here (a walk of every instance at the end
    // of each frame was 3% of a frame of 10,000 movers, the `plugin` bench).
    if halted {
        for inst in runtime
            .entities
            .values()
            .flat_map(|r| &r.slots)
            .filter_map(|s| s.instance.as_ref())
        {
            count_state(inst, &mut stats);
        }
    } else if let Some(taken) = stopped_at {
        for turn in taken..turns {
            let Turn { entity, slot, .. } = order.nth(turn);
            if let Some(inst) = instance_of(&runtime.entities, entity, slot) {
                count_state(inst, &mut stats);
            }
        }
    }
    if !halted {
        runtime.turns = order.order;
    }
    stats.suspended += runtime
        .destroying
        .iter()
        .filter(|d| d.call.is_some())
        .count();
    stats
}

/// Every instance, in the order of the entities' records (the order they
/// came in, `ScriptRuntime::entities`) and then in its `Script`'s order,
/// and the position of the one the last frame did not get to, where this
/// frame's turns start. The order is kept between frames (taken here and
/// given back at the frame's end): collected from the map of entities and
/// sorted each frame, it was 3% of a frame of 10,000 movers (`perf`, the
/// `plugin` bench).
fn turn_order(runtime: &mut ScriptRuntime) -> TurnOrder {
    let mut order = std::mem::take(&mut runtime.turns);
    if runtime.turns_stale {
        order.clear();
        order.extend(
            runtime
                .entities
                .iter()
                .enumerate()
                .flat_map(|(at, (&entity, record))| {
                    record
                        .slots
                        .iter()
                        .enumerate()
                        .filter(|(_, s)| s.instance.is_some())
                        .map(move |(slot, _)| Turn {
                            entity,
                            slot,
                            record: at,
                        })
                }),
        );
        runtime.turns_stale = false;
    }
    // Where the cursor's instance is now; where it was, if it is gone (the
    // instances after it moved down into its place).
    let start = runtime
        .cursor
        .map_or(0, |(instance, at)| match order.get(at) {
            Some(turn) if turn.instance() == instance => at,
            _ => order
                .iter()
                .position(|turn| turn.instance() == instance)
                .unwrap_or(at),
        });
    // Past the last instance: round to the first.
    let start = if start >= order.len() { 0 } else { start };
    TurnOrder { order, start }
}

/// Runs one call of an instance for what is left of the budget.
fn resume(
    world: &mut World,
    vm: &mut Vm,
    who: Who<'_>,
    call: CallId,
    frame: &mut Frame<'_>,
) -> (RunResult, u64) {
    frame.running.set_entity(who.entity);
    frame.tell_output(who.script);
    if frame.profiling {
        let function = vm.call_function(call).unwrap_or("?");
        world
            .resource_mut::<ScriptProfiler>()
            .call_begin(call, function, who.script, who.entity);
    }
    let started = frame.call_times.is_some().then(Instant::now);
    let before = vm.instructions_executed();
    let result = vm.resume_with(call, frame.meter.slice(), world);
    let spent = vm.instructions_executed() - before;
    if frame.profiling {
        let suspended = matches!(result, RunResult::Suspended | RunResult::Stopped(_));
        world
            .resource_mut::<ScriptProfiler>()
            .call_end(call, suspended);
    }
    if let (Some(times), Some(started)) = (&mut frame.call_times, started) {
        times.push(CallTime {
            entity: who.entity,
            instance: who.instance,
            micros: started.elapsed().as_secs_f64() * 1e6,
        });
    }
    frame.meter.spend(spent);
    let stretch = vm.last_resume_longest_unchecked().as_secs_f64() * 1e6;
    let stats = &mut frame.stats;
    stats.opcode_longest_unchecked_micros = stats.opcode_longest_unchecked_micros.max(stretch);
    stats.instances_run += 1;
    (result, spent)
}

/// Whether a script despawned `entity` during its last call.
fn despawned_by_a_script(frame: &Frame<'_>, entity: Entity) -> bool {
    frame.running.despawned_entity(entity)
}

/// Gives one instance its turn: a reload, its suspended call, top level,
/// `on_start`, queued calls, then `on_update`, as far as the budget goes.
fn take_turn(
    world: &mut World,
    runtime: &mut ScriptRuntime,
    entity: Entity,
    slot: usize,
    frame: &mut Frame<'_>,
) {
    // A call the debugger stopped waits until the game lets it go on.
    let pending = instance_of(&runtime.entities, entity, slot).and_then(|i| i.pending);
    if let Some(call) = pending
        && runtime.vm_mut().stop_reason(call).is_some()
        && !runtime.released.remove(&call)
    {
        frame.stats.suspended += 1;
        return;
    }
    let (entities, vm) = runtime.entities_and_vm();
    let Some(inst) = instance_of_mut(entities, entity, slot) else {
        return;
    };
    run_turn(world, vm, inst, entity, frame);
    count_state(inst, &mut frame.stats);
}

/// Counts an instance as failed or suspended, as it stands.
pub(super) fn count_state(inst: &ScriptInstance, stats: &mut ScriptFrameStats) {
    match inst.phase {
        Phase::Failed => stats.failed += 1,
        _ if inst.pending.is_some() || inst.reload.is_some() => stats.suspended += 1,
        _ => {}
    }
}

/// An instance's turn: calls until it has updated, is suspended, fails, or
/// the budget runs out.
fn run_turn(
    world: &mut World,
    vm: &mut Vm,
    inst: &mut ScriptInstance,
    entity: Entity,
    frame: &mut Frame<'_>,
) {
    let mut updated = false;
    // A script's despawns are taken after each turn (`take_despawns`), so
    // only a call of this turn can have despawned the entity.
    let mut ran = false;
    loop {
        if frame.meter.exhausted(vm) || (ran && despawned_by_a_script(frame, entity)) {
            return;
        }
        if inst.reload.is_some() {
            if !step_reload(world, vm, inst, entity, frame) {
                return;
            }
            continue;
        }
        let call: CallId = match (inst.pending, inst.phase) {
            (Some(call), _) => call,
            (None, Phase::Failed) => return,
            (None, Phase::Init) => vm.start_init(inst.id),
            (None, Phase::Start) => match start_if_defined(vm, inst.id, "on_start", &[]) {
                Some(call) => call,
                None => {
                    inst.phase = Phase::Running;
                    inst.started = true;
                    continue;
                }
            },
            (None, Phase::Running) if !inst.inbox.is_empty() => {
                let (function, args) = inst.inbox.pop_front().expect("not empty");
                match start_queued(vm, inst, &function, &args) {
                    Ok(call) => call,
                    Err(message) => {
                        frame
                            .errors
                            .push(complaint(Some(entity), &inst.path, message));
                        continue;
                    }
                }
            }
            (None, Phase::Running) if updated => return,
            (None, Phase::Running) => {
                updated = true;
                match start_update(vm, inst, frame.dt) {
                    Some(call) => call,
                    None => return,
                }
            }
        };
        let who = Who {
            entity,
            instance: inst.id,
            script: &inst.path,
        };
        let (result, _) = resume(world, vm, who, call, frame);
        ran = true;
        match result {
            RunResult::Done(_) => {
                inst.pending = None;
                inst.phase = match inst.phase {
                    Phase::Init => Phase::Start,
                    Phase::Start | Phase::Running => {
                        inst.started = true;
                        Phase::Running
                    }
                    Phase::Failed => Phase::Failed,
                };
            }
            // Out of budget or `yield`: next frame. Stopped by the
            // debugger: when the game lets it go on.
            RunResult::Suspended | RunResult::Stopped(_) => {
                inst.pending = Some(call);
                return;
            }
            RunResult::Error(e) => {
                inst.pending = None;
                frame.errors.push(report(Some(entity), &inst.path, &e));
                match frame.policy {
                    ScriptErrorPolicy::Stop => {
                        inst.phase = Phase::Failed;
                        inst.error = Some(e.to_string());
                    }
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

/// Runs a reload's top level; true when the instance may go on with its
/// turn.
fn step_reload(
    world: &mut World,
    vm: &mut Vm,
    inst: &mut ScriptInstance,
    entity: Entity,
    frame: &mut Frame<'_>,
) -> bool {
    let mut reload = inst.reload.take().expect("checked by the caller");
    world.resource_mut::<ScriptSpawns>().0.clear();
    let who = Who {
        entity,
        instance: inst.id,
        script: &inst.path,
    };
    let (result, spent) = resume(world, vm, who, reload.call, frame);
    reload.spent += spent;
    reload
        .spawned
        .append(&mut world.resource_mut::<ScriptSpawns>().0);
    match result {
        RunResult::Done(_) => {
            reload::finish(world, vm, inst, reload);
            true
        }
        RunResult::Suspended | RunResult::Stopped(_) if reload.spent <= RELOAD_INSTRUCTIONS => {
            inst.reload = Some(reload);
            false
        }
        RunResult::Suspended | RunResult::Stopped(_) => {
            vm.cancel(reload.call);
            vm.release_instance(reload.id);
            frame.errors.push(complaint(
                Some(entity),
                &inst.path,
                format!(
                    "{}: the reloaded script's top level ran past {RELOAD_INSTRUCTIONS} \
                     instructions; the old version keeps running",
                    inst.path
                ),
            ));
            true
        }
        RunResult::Error(e) => {
            vm.release_instance(reload.id);
            frame.errors.push(report(Some(entity), &inst.path, &e));
            true
        }
    }
}

/// Starts the instance's function `name`, if it defines one.
fn start_if_defined(
    vm: &mut Vm,
    instance: InstanceId,
    name: &str,
    args: &[Value],
) -> Option<CallId> {
    // One lookup of the name, where `has_function` and then `start_call`
    // would make two.
    start_function(vm, vm.get_var(instance, name)?, args)
}

/// Starts a call of `f` if it is a function (a module variable of that
/// name may hold anything).
fn start_function(vm: &mut Vm, f: Value, args: &[Value]) -> Option<CallId> {
    match f {
        Value::Closure(_) | Value::Native(_) => vm.start_call_value(f, args).ok(),
        _ => None,
    }
}

/// Starts `on_update`, if the script defines it; its slot found once.
fn start_update(vm: &mut Vm, inst: &mut ScriptInstance, dt: f64) -> Option<CallId> {
    let slot = cached_slot(vm, inst.id, &mut inst.update_slot, "on_update");
    start_function(vm, vm.get_var_at(inst.id, slot?)?, &[Value::Float(dt)])
}

/// Starts a call a command queued; the reason when it cannot.
fn start_queued(
    vm: &mut Vm,
    inst: &mut ScriptInstance,
    function: &str,
    args: &[crate::ScriptValue],
) -> Result<CallId, String> {
    // On the stack for an event's two arguments and a call's few.
    let mut values = smallvec::SmallVec::<[ark_vm::Value; 4]>::new();
    for a in args {
        values.push(a.to_ark(vm.heap_mut())?);
    }
    // `on_event` by its kept slot; anything else (and its errors) by name.
    let event = match function {
        "on_event" => cached_slot(vm, inst.id, &mut inst.event_slot, function)
            .and_then(|slot| vm.get_var_at(inst.id, slot))
            .filter(|f| matches!(f, Value::Closure(_) | Value::Native(_))),
        _ => None,
    };
    match event {
        Some(f) => vm.start_call_value(f, &values),
        None => vm.start_call(inst.id, function, &values),
    }
    .map_err(|e| format!("{function}: {}", e.message))
}

/// Entities that scripts despawned: each stops getting calls now, its
/// instances' `on_destroy` run, and then it leaves the world.
fn take_despawns(world: &mut World, runtime: &mut ScriptRuntime) {
    if !runtime.running.despawned() {
        return;
    }
    let despawned = runtime.running.take_despawns();
    for entity in despawned {
        if !runtime.dying.insert(entity) {
            continue;
        }
        sync::retire_entity(runtime, entity);
        leave_if_destroyed(world, runtime, entity);
    }
}

/// Despawns a dying entity once none of its instances is still being
/// destroyed.
fn leave_if_destroyed(world: &mut World, runtime: &mut ScriptRuntime, entity: Entity) {
    if runtime.dying.contains(&entity) && !runtime.destroying.iter().any(|d| d.entity == entity) {
        runtime.dying.remove(&entity);
        world.despawn(entity);
    }
}

/// Runs queued `on_destroy` calls, oldest first, and releases their
/// instances.
fn run_destroys(world: &mut World, runtime: &mut ScriptRuntime, frame: &mut Frame<'_>) {
    while !runtime.destroying.is_empty() {
        if frame.meter.exhausted(runtime.vm_mut()) {
            return;
        }
        let mut d = runtime.destroying.pop_front().expect("not empty");
        let vm = runtime.vm_mut();
        if d.call.is_none() && d.run {
            d.call = start_if_defined(vm, d.id, "on_destroy", &[]);
        }
        if let Some(call) = d.call {
            let who = Who {
                entity: d.entity,
                instance: d.id,
                script: &d.path,
            };
            let (result, spent) = resume(world, vm, who, call, frame);
            d.spent += spent;
            match result {
                RunResult::Suspended | RunResult::Stopped(_) if d.spent <= DESTROY_INSTRUCTIONS => {
                    runtime.destroying.push_front(d);
                    return;
                }
                RunResult::Suspended | RunResult::Stopped(_) => {
                    vm.cancel(call);
                    frame.errors.push(complaint(
                        Some(d.entity),
                        &d.path,
                        format!(
                            "{}: on_destroy ran past {DESTROY_INSTRUCTIONS} instructions and was stopped",
                            d.path
                        ),
                    ));
                }
                RunResult::Error(e) => frame.errors.push(report(Some(d.entity), &d.path, &e)),
                RunResult::Done(_) => {}
            }
        }
        runtime.vm_mut().release_instance(d.id);
        take_despawns(world, runtime);
        leave_if_destroyed(world, runtime, d.entity);
    }
}
