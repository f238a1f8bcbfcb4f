//! Connects the model to the game: [`apply_actions`] does what the windows
//! asked (before the scripts run), [`refresh_model`] fills the model from
//! the runtime, the VM and the world (after they ran).

use std::collections::HashSet;
use std::time::Instant;

use ark_vm::debug::StopReason;
use ark_vm::{CallId, InstanceId, Value, Vm};
use bevy::asset::Assets;
use bevy::ecs::message::{MessageCursor, Messages};
use bevy::ecs::name::Name;
use bevy::ecs::prelude::*;

use super::highlight::highlight;
use super::model::*;
use super::perf::Sample;
use crate::assets::ScriptAsset;
use crate::messages::ScriptError;
use crate::runtime::{Phase, ScriptBudget, ScriptRuntime};
use crate::stats::ScriptFrameStats;

/// The overlay's state: the model the windows draw, whether it is shown,
/// and what the windows asked for last frame.
#[derive(Resource)]
pub struct DebuggerState {
    pub model: DebuggerModel,
    /// Whether the overlay is shown (its key toggles it).
    pub open: bool,
    /// Actions the windows asked for, done before the scripts' next run.
    pub actions: Vec<Action>,
    started: Instant,
    errors: MessageCursor<ScriptError>,
    /// Calls stopped at the last refresh: a new stop selects its instance.
    stopped: HashSet<CallId>,
    /// The text the Source window's lines were coloured from.
    source_text: String,
}

impl DebuggerState {
    pub fn new(open: bool) -> DebuggerState {
        DebuggerState {
            model: DebuggerModel::default(),
            open,
            actions: Vec::new(),
            started: Instant::now(),
            errors: MessageCursor::default(),
            stopped: HashSet::new(),
            source_text: String::new(),
        }
    }
}

/// The selected instance's id and its call the debugger stopped, if any.
fn selected_call(
    runtime: &mut ScriptRuntime,
    at: InstanceRef,
) -> Option<(InstanceId, Option<CallId>)> {
    let (entities, vm) = runtime.entities_and_vm();
    let inst = entities
        .get(&at.entity)?
        .slots
        .get(at.slot)?
        .instance
        .as_ref()?;
    let stopped = inst.pending.filter(|&c| vm.stop_reason(c).is_some());
    Some((inst.id, stopped))
}

/// Does what the windows asked for.
pub(crate) fn apply_actions(world: &mut World) {
    world.resource_scope(|world, mut state: Mut<DebuggerState>| {
        let actions = std::mem::take(&mut state.actions);
        world.resource_scope(|world, mut runtime: Mut<ScriptRuntime>| {
            for action in actions {
                apply(&mut state, &mut runtime, world, action);
            }
        });
    });
}

/// Selects an instance: the other windows show it, the Source window its
/// script.
fn select(model: &mut DebuggerModel, runtime: &ScriptRuntime, at: InstanceRef) {
    if model.selected == Some(at) {
        return;
    }
    model.selected = Some(at);
    model.frame = 0;
    model.variables = Variables::default();
    let script = runtime
        .entities
        .get(&at.entity)
        .and_then(|e| e.slots.get(at.slot))
        .map(|s| s.path.clone());
    if let Some(script) = script {
        show_source(model, script, None);
    }
}

fn apply(
    state: &mut DebuggerState,
    runtime: &mut ScriptRuntime,
    world: &mut World,
    action: Action,
) {
    let model = &mut state.model;
    let selected = model.selected.and_then(|at| selected_call(runtime, at));
    let stopped = selected.and_then(|(_, call)| call);
    match action {
        Action::Select(at) => select(model, runtime, at),
        Action::Continue => {
            if let Some(call) = stopped {
                runtime.continue_call(call);
            }
        }
        Action::Pause => runtime.vm_mut().pause(),
        Action::Step(kind) => {
            if let Some(call) = stopped
                && runtime.vm_mut().step(call, kind)
            {
                runtime.continue_call(call);
            }
        }
        Action::RunToLine(line) => {
            if let (Some(call), Some(view)) = (stopped, &model.source) {
                let script = view.script.clone();
                if runtime.vm_mut().run_to_line(call, &script, line) {
                    runtime.continue_call(call);
                }
            }
        }
        Action::ToggleBreakpoint { script, line } => {
            let vm = runtime.vm_mut();
            let existing = vm.breakpoints().into_iter().find(|(_, bp)| {
                bp.script == script && (bp.requested_line == line || bp.line == line)
            });
            match existing {
                Some((id, _)) => {
                    vm.remove_breakpoint(id);
                }
                None => {
                    vm.set_breakpoint(&script, line, None);
                }
            }
        }
        Action::SelectFrame(frame) => {
            model.frame = frame;
            model.variables.locals.clear();
            model.variables.captures.clear();
            if let Some(f) = model.stop.as_ref().and_then(|s| s.frames.get(frame)) {
                let (script, line) = (f.script.clone(), f.line);
                show_source(model, script, Some(line));
            }
        }
        Action::Eval(source) => {
            let entity = model.selected.map(|at| at.entity);
            model.console.push(ConsoleLine {
                kind: ConsoleKind::Input,
                entity,
                script: String::new(),
                text: source.clone(),
                location: None,
            });
            // Natives reach the world (and `self` its entity) as in a
            // script's own call.
            if let Some(entity) = entity {
                runtime.running.set_entity(entity);
            }
            let vm = runtime.vm_mut();
            let result = match selected {
                Some((_, Some(call))) => vm.eval_in_frame_with(call, model.frame, &source, world),
                Some((id, None)) => vm.eval_in_instance_with(id, &source, world),
                None => Err("no instance selected".to_string()),
            };
            let (kind, text) = match result {
                Ok(v) => (ConsoleKind::Result, vm.repr(v)),
                Err(e) => (ConsoleKind::Error, e),
            };
            runtime.running.clear_entity();
            model.console.push(ConsoleLine {
                kind,
                entity,
                script: String::new(),
                text: cut(text, 4_000),
                location: None,
            });
        }
        Action::Set { path, value } => {
            if let Some((id, call)) = selected {
                let vm = runtime.vm_mut();
                if let Some(v) = to_value(vm, &value) {
                    write(vm, id, call, model.frame, &path, v);
                }
            }
        }
        Action::ShowSource { script, line } => show_source(model, script, Some(line)),
        Action::SetBreakOnError(on) => {
            model.break_on_error = on;
            runtime.vm_mut().set_break_on_error(on);
        }
        Action::SetStopAll(on) => {
            model.stop_all = on;
            runtime.set_stop_all(on);
        }
    }
}

/// Points the Source window at `script` (its text is read at the next
/// refresh), scrolled to `line`.
fn show_source(model: &mut DebuggerModel, script: String, line: Option<u32>) {
    let view = model.source.get_or_insert_with(SourceView::default);
    if view.script != script {
        *view = SourceView {
            script,
            ..SourceView::default()
        };
    }
    if line.is_some() {
        view.scroll_to = line;
    }
}

fn cut(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}

fn to_value(vm: &mut Vm, shown: &Shown) -> Option<Value> {
    Some(match shown {
        Shown::Nil => Value::Nil,
        Shown::Bool(b) => Value::Bool(*b),
        Shown::Int(i) => Value::Int(*i),
        Shown::Float(f) => Value::Float(*f),
        Shown::Vec3([x, y, z]) => Value::Vec3(ark_vm::Vec3::new(*x, *y, *z)),
        Shown::Str { text, cut: false } => vm.to_value(text.clone()).ok()?,
        _ => return None,
    })
}

/// The value at the root of a path.
fn root_value(
    vm: &Vm,
    id: InstanceId,
    call: Option<CallId>,
    frame: usize,
    root: &VarRoot,
) -> Option<Value> {
    let find = |vars: Option<Vec<(String, Value)>>, name: &str| {
        vars?
            .into_iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    };
    match root {
        VarRoot::Local(name) => find(vm.frame_locals(call?, frame), name),
        VarRoot::Capture(name) => find(vm.frame_captures(call?, frame), name),
        VarRoot::Module(name) => vm.get_var(id, name),
    }
}

/// Writes an edited value where its path says.
fn write(
    vm: &mut Vm,
    id: InstanceId,
    call: Option<CallId>,
    frame: usize,
    path: &VarPath,
    v: Value,
) {
    let Some((&last, parents)) = path.children.split_last() else {
        match (&path.root, call) {
            (VarRoot::Local(name), Some(call)) => {
                vm.set_frame_local(call, frame, name, v);
            }
            (VarRoot::Capture(name), Some(call)) => {
                vm.set_frame_capture(call, frame, name, v);
            }
            (VarRoot::Module(name), _) => {
                vm.set_var(id, name, v);
            }
            _ => {}
        }
        return;
    };
    let mut container = root_value(vm, id, call, frame, &path.root);
    for &i in parents {
        container = container.and_then(|c| vm.children(c, i, 1).first().map(|(_, v)| *v));
    }
    match container {
        Some(Value::List(list)) => vm.heap_mut().list_set(list, last, v),
        Some(Value::Map(map)) => {
            let key = vm
                .heap()
                .map_entries(map)
                .and_then(|mut e| e.nth(last))
                .map(|(k, _)| k);
            if let Some(key) = key {
                // Replacing an entry's value does not grow the map.
                let _ = vm.heap_mut().map_insert(map, key, v);
            }
        }
        _ => {}
    }
}

/// A value as the windows show it.
fn shown(vm: &Vm, v: Value) -> Shown {
    match v {
        Value::Nil => Shown::Nil,
        Value::Bool(b) => Shown::Bool(b),
        Value::Int(i) => Shown::Int(i),
        Value::Float(f) => Shown::Float(f),
        Value::Vec3(v) => Shown::Vec3([v.x, v.y, v.z]),
        Value::Str(key) => {
            let s = vm.heap().str(key);
            let cut = s.chars().count() > STRING_SHOWN;
            Shown::Str {
                text: s.chars().take(STRING_SHOWN).collect(),
                cut,
            }
        }
        Value::List(_) => Shown::List(vm.child_count(v)),
        Value::Map(_) => Shown::Map(vm.child_count(v)),
        other => Shown::Other(vm.repr(other)),
    }
}

/// A variable's node, with the children of every expanded container
/// below it (a page at a time: nothing else of a big container is read).
fn node(vm: &Vm, name: String, v: Value, path: VarPath, variables: &Variables) -> VarNode {
    let value = shown(vm, v);
    let children = match variables.expanded.get(&path) {
        Some(&shown_count) => vm
            .children(v, 0, shown_count)
            .into_iter()
            .enumerate()
            .map(|(i, (label, child))| node(vm, label, child, path.child(i), variables))
            .collect(),
        None => Vec::new(),
    };
    VarNode {
        path,
        name,
        value,
        children,
    }
}

fn nodes(
    vm: &Vm,
    vars: Vec<(String, Value)>,
    root: fn(String) -> VarRoot,
    variables: &Variables,
) -> Vec<VarNode> {
    vars.into_iter()
        .map(|(name, v)| {
            let path = VarPath::root(root(name.clone()));
            node(vm, name, v, path, variables)
        })
        .collect()
}

fn stop_reason_text(vm: &Vm, reason: &StopReason) -> String {
    match reason {
        StopReason::Breakpoint(id) => {
            let bp = vm.breakpoints().into_iter().find(|(b, _)| b == id);
            match bp {
                Some((_, bp)) => format!("stopped at a breakpoint, line {}", bp.line),
                None => "stopped at a breakpoint".to_string(),
            }
        }
        StopReason::Step => "stopped after a step".to_string(),
        StopReason::Pause => "paused".to_string(),
        StopReason::Error(e) => format!("stopped at an error: {e}"),
    }
}

/// Fills the model from the game: console and performance every frame
/// (so that they have history when the overlay opens), the rest while
/// the overlay is shown.
pub(crate) fn refresh_model(world: &mut World) {
    world.resource_scope(|world, mut state: Mut<DebuggerState>| {
        let state = &mut *state;
        collect_console(world, state);
        collect_performance(world, state);
        if state.open {
            refresh_instances(world, state);
            refresh_stop(world, state);
            refresh_source(world, state);
        }
    });
}

fn collect_console(world: &mut World, state: &mut DebuggerState) {
    let printed = world.resource_mut::<ScriptRuntime>().take_output();
    for p in printed {
        state.model.console.push(ConsoleLine {
            kind: ConsoleKind::Print,
            entity: p.entity,
            script: p.script,
            text: p.text,
            location: None,
        });
    }
    let Some(messages) = world.get_resource::<Messages<ScriptError>>() else {
        return;
    };
    for e in state.errors.read(messages) {
        state.model.console.push(ConsoleLine {
            kind: ConsoleKind::Error,
            entity: e.entity,
            script: e.script.clone(),
            text: e.message.clone(),
            location: e
                .line
                .filter(|_| !e.script.is_empty())
                .map(|l| (e.script.clone(), l)),
        });
    }
}

fn collect_performance(world: &mut World, state: &mut DebuggerState) {
    let stats = world.resource::<ScriptFrameStats>().clone();
    let budget = match *world.resource::<ScriptBudget>() {
        ScriptBudget::Micros { frame, .. } => frame as f64,
        ScriptBudget::Instructions { .. } => 0.0,
    };
    let time = state.started.elapsed().as_secs_f64();
    let mut runtime = world.resource_mut::<ScriptRuntime>();
    runtime.time_calls = state.open;
    let calls = std::mem::take(&mut runtime.call_times);
    let perf = &mut state.model.perf;
    for c in calls {
        let slot = runtime.entities.get(&c.entity).and_then(|e| {
            e.slots
                .iter()
                .position(|s| s.instance.as_ref().is_some_and(|i| i.id == c.instance))
        });
        if let Some(slot) = slot {
            let at = InstanceRef {
                entity: c.entity,
                slot,
            };
            perf.add_call(time, at, c.micros);
        }
    }
    perf.phase = stats.gc_phase;
    perf.push(Sample {
        time,
        opcode_micros: stats.opcode_micros,
        gc_micros: stats.gc_micros,
        budget_micros: budget,
        instructions: stats.instructions,
        heap_objects: stats.heap_objects,
        heap_bytes: stats.heap_bytes,
    });
}

fn refresh_instances(world: &mut World, state: &mut DebuggerState) {
    let mut rows = Vec::new();
    let runtime = world.resource::<ScriptRuntime>();
    let stopped: HashSet<CallId> = runtime
        .stopped_calls()
        .into_iter()
        .map(|(_, _, c)| c)
        .collect();
    // A call that stopped since the last refresh selects its instance
    // (the first such instance in the list's order).
    let mut newly: Option<InstanceRef> = None;
    for (&entity, record) in &runtime.entities {
        let name = world.get::<Name>(entity).map(|n| n.as_str().to_string());
        for (slot, s) in record.slots.iter().enumerate() {
            let at = InstanceRef { entity, slot };
            let (life, error) = match &s.instance {
                None => (
                    InstanceState::Waiting,
                    runtime.load_failures.get(&s.asset).cloned(),
                ),
                Some(inst) => match (inst.phase, inst.pending) {
                    (Phase::Failed, _) => (InstanceState::Failed, inst.error.clone()),
                    (_, Some(call)) if stopped.contains(&call) => {
                        if !state.stopped.contains(&call) && newly.is_none_or(|n| at < n) {
                            newly = Some(at);
                        }
                        (InstanceState::Stopped, None)
                    }
                    (_, Some(_)) => (InstanceState::Suspended, None),
                    _ if inst.reload.is_some() => (InstanceState::Suspended, None),
                    _ => (InstanceState::Running, None),
                },
            };
            rows.push(InstanceRow {
                at,
                name: name.clone(),
                script: s.path.clone(),
                state: life,
                error,
            });
        }
    }
    rows.sort_by_key(|r| r.at);
    state.stopped = stopped;
    state.model.instances = rows;
    if let Some(at) = newly {
        select(&mut state.model, world.resource::<ScriptRuntime>(), at);
        state.model.frame = 0;
        state.model.variables.locals.clear();
    }
    if let Some(at) = state.model.selected
        && !state.model.instances.iter().any(|r| r.at == at)
    {
        state.model.selected = None;
        state.model.stop = None;
    }
}

fn refresh_stop(world: &mut World, state: &mut DebuggerState) {
    let mut runtime = world.resource_mut::<ScriptRuntime>();
    let model = &mut state.model;
    let Some((id, call)) = model
        .selected
        .and_then(|at| selected_call(&mut runtime, at))
    else {
        model.stop = None;
        model.variables.module.clear();
        return;
    };
    model.break_on_error = runtime.vm_mut().breaks_on_error();
    let vm = runtime.vm_mut();
    let was_stopped_at = model
        .stop
        .as_ref()
        .and_then(|s| s.frames.first().map(|f| (f.script.clone(), f.line)));
    model.stop = call.and_then(|call| {
        let reason = vm.stop_reason(call)?.clone();
        let frames = vm
            .call_stack(call)?
            .into_iter()
            .map(|f| FrameRow {
                function: f.function,
                script: f.script,
                line: f.line,
                col: f.col,
            })
            .collect();
        Some(StopView {
            reason: stop_reason_text(vm, &reason),
            frames,
        })
    });
    let frame_count = model.stop.as_ref().map_or(0, |s| s.frames.len());
    if model.frame >= frame_count {
        model.frame = 0;
    }
    // A new stop (or a step to another line) shows where it is.
    let now_at = model
        .stop
        .as_ref()
        .and_then(|s| s.frames.get(model.frame))
        .map(|f| (f.script.clone(), f.line));
    if now_at != was_stopped_at
        && model.frame == 0
        && let Some((script, line)) = now_at
    {
        show_source(model, script, Some(line));
    }
    let variables = &model.variables;
    let (locals, captures) = match call {
        Some(call) if model.stop.is_some() => (
            nodes(
                vm,
                vm.frame_locals(call, model.frame).unwrap_or_default(),
                VarRoot::Local,
                variables,
            ),
            nodes(
                vm,
                vm.frame_captures(call, model.frame).unwrap_or_default(),
                VarRoot::Capture,
                variables,
            ),
        ),
        _ => (Vec::new(), Vec::new()),
    };
    let module = nodes(vm, vm.module_vars(id), VarRoot::Module, variables);
    model.variables.locals = locals;
    model.variables.captures = captures;
    model.variables.module = module;
}

fn refresh_source(world: &mut World, state: &mut DebuggerState) {
    let Some(script) = state.model.source.as_ref().map(|v| v.script.clone()) else {
        return;
    };
    let view = state.model.source.as_mut().expect("checked above");
    let text = world
        .get_resource::<Assets<ScriptAsset>>()
        .and_then(|assets| {
            assets
                .iter()
                .find(|(_, a)| a.path == script)
                .map(|(_, a)| a.source.as_str())
        });
    // Coloured again only when the text changed (a hot reload).
    if let Some(text) = text
        && (text != state.source_text || view.lines.is_empty())
    {
        view.lines = highlight(text);
        state.source_text = text.to_string();
    }
    let mut runtime = world.resource_mut::<ScriptRuntime>();
    view.breakpoints = runtime
        .vm_mut()
        .breakpoints()
        .into_iter()
        .filter(|(_, bp)| bp.script == script)
        .map(|(_, bp)| bp.line)
        .collect();
    view.current_line = state
        .model
        .stop
        .as_ref()
        .and_then(|s| s.frames.get(state.model.frame))
        .filter(|f| f.script == script)
        .map(|f| f.line);
}
