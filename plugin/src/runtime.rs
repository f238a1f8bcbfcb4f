//! The script runtime: one VM (one heap) per `World`, the compiled scripts,
//! and every entity's script instances.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use ark_vm::{CallId, InstanceId, Module, Vm};
use bevy::asset::{AssetEvent, AssetId, AssetLoadFailedEvent, Assets};
use bevy::ecs::entity::{EntityHashSet, EntityIndexMap};
use bevy::ecs::prelude::*;
use bevy::ecs::reflect::ReflectResource;
use bevy::log::error;
use bevy::reflect::{Reflect, std_traits::ReflectDefault};
use smallvec::SmallVec;

use crate::assets::ScriptAsset;
use crate::messages::ScriptError;
use crate::output::{ScriptOutput, ScriptPrint};

/// How much of each frame scripts may use.
#[derive(Resource, Reflect, Debug, Clone, Copy, PartialEq)]
#[reflect(Resource, Default, Debug, Clone, PartialEq)]
pub enum ScriptBudget {
    /// Wall-clock microseconds per frame for all scripts together, of which
    /// `gc_micros` go to the collector (plus whatever the scripts leave).
    Micros { frame: u64, gc: u64 },
    /// A deterministic budget for tests and replays: instructions per frame
    /// for scripts (counted as `ark_vm::Budget::Instructions` counts them:
    /// charged ahead, per call and per loop round), and collector work
    /// units.
    Instructions { frame: u64, gc: u64 },
}

impl Default for ScriptBudget {
    fn default() -> Self {
        ScriptBudget::Micros {
            frame: 2_000,
            gc: 500,
        }
    }
}

/// What happens to a script instance after a runtime error.
#[derive(Resource, Reflect, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[reflect(Resource, Default, Debug, Clone, PartialEq)]
pub enum ScriptErrorPolicy {
    /// It gets no more calls until its script is reloaded (the default).
    #[default]
    Stop,
    /// It keeps getting calls (the failed call is dropped).
    Continue,
}

/// A compiled script.
pub(crate) struct Compiled {
    pub module: Module,
}

/// Where an instance is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Its top-level code has not finished.
    Init,
    /// `on_start` has not run yet.
    Start,
    /// Receiving `on_update` and commands.
    Running,
    /// It raised an error: no more calls until the script is reloaded.
    Failed,
}

/// A call asked for by a `ScriptCommand` (`on_event` or a named call):
/// the function's name and the arguments, shared by every instance that
/// a broadcast reaches (one allocation a broadcast, not three an
/// instance).
pub(crate) type Queued = (Arc<str>, Arc<[crate::ScriptValue]>);

/// Calls an instance may have queued; past it, commands are dropped and
/// reported.
pub(crate) const INBOX_LIMIT: usize = 1024;

/// One script's instance on one entity.
pub(crate) struct ScriptInstance {
    pub path: String,
    pub id: InstanceId,
    pub phase: Phase,
    /// Whether its top level and `on_start` have finished (a reload then
    /// does not run `on_start` again).
    pub started: bool,
    /// A call that was suspended (by the budget or `yield`).
    pub pending: Option<CallId>,
    /// Calls asked for by `ScriptCommand`s, delivered before `on_update`.
    pub inbox: VecDeque<Queued>,
    /// A hot reload in progress: the new code's top level runs in an
    /// instance of its own, then takes over.
    pub reload: Option<Reload>,
    /// The error that stopped it (`Phase::Failed`), as logged.
    pub error: Option<String>,
    /// The slot of `on_update` in the module of the instance it was found
    /// in (a reload brings another instance), found once: it is called
    /// every frame.
    pub update_slot: Option<(InstanceId, Option<usize>)>,
    /// The slot of `on_event`, kept the same way: asked for each event
    /// delivered and each one started.
    pub event_slot: Option<(InstanceId, Option<usize>)>,
}

/// The slot of module variable `name` of instance `id`, kept in `cache`
/// for the instance it was found in (a reload brings another).
pub(crate) fn cached_slot(
    vm: &Vm,
    id: InstanceId,
    cache: &mut Option<(InstanceId, Option<usize>)>,
    name: &str,
) -> Option<usize> {
    match *cache {
        Some((found_in, slot)) if found_in == id => slot,
        _ => {
            let slot = vm.var_slot(id, name);
            *cache = Some((id, slot));
            slot
        }
    }
}

/// A hot reload of one instance.
pub(crate) struct Reload {
    /// The instance of the new code.
    pub id: InstanceId,
    /// Its top level, running.
    pub call: CallId,
    /// Instructions it has run (capped at `RELOAD_INSTRUCTIONS`).
    pub spent: u64,
    /// Entities its top level spawned.
    pub spawned: Vec<Entity>,
}

/// One entry of an entity's `Script`: the asset, and its instance once
/// the script has compiled.
pub(crate) struct Slot {
    pub asset: AssetId<ScriptAsset>,
    pub path: String,
    pub instance: Option<ScriptInstance>,
    /// Whether a failure to load this script was reported.
    pub load_failure_reported: bool,
}

/// Every script of one entity, in the order its `Script` lists them.
#[derive(Default)]
pub(crate) struct EntityScripts {
    pub slots: SmallVec<[Slot; 1]>,
    /// `ScriptCommand::Call`s that arrived before every slot had an
    /// instance.
    pub waiting: VecDeque<(String, Vec<crate::ScriptValue>)>,
}

/// The instance of script `slot` of `entity`, if it has one.
pub(crate) fn instance_of(
    entities: &EntityIndexMap<EntityScripts>,
    entity: Entity,
    slot: usize,
) -> Option<&ScriptInstance> {
    entities.get(&entity)?.slots.get(slot)?.instance.as_ref()
}

/// One instance's turn: its entity, its slot in the entity's `Script`,
/// and where the entity's record was in `ScriptRuntime::entities` when the
/// turns were listed.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Turn {
    pub entity: Entity,
    pub slot: usize,
    pub record: usize,
}

impl Turn {
    /// The instance whose turn it is, as `(entity, slot)`.
    pub(crate) fn instance(self) -> (Entity, usize) {
        (self.entity, self.slot)
    }
}

/// [`instance_of_mut`] for a turn: its record is looked for where it was
/// first, then by its entity (hashing the entity every turn showed in
/// `perf` on the `plugin` bench's movers; the records are in turn order,
/// so those at their places are read in sequence).
#[inline]
pub(crate) fn instance_at_mut(
    entities: &mut EntityIndexMap<EntityScripts>,
    turn: Turn,
) -> Option<&mut ScriptInstance> {
    let at_place = entities
        .get_index(turn.record)
        .is_some_and(|(&entity, _)| entity == turn.entity);
    let record = if at_place {
        entities
            .get_index_mut(turn.record)
            .map(|(_, record)| record)
    } else {
        entities.get_mut(&turn.entity)
    };
    record?.slots.get_mut(turn.slot)?.instance.as_mut()
}

/// [`instance_of`], to change.
pub(crate) fn instance_of_mut(
    entities: &mut EntityIndexMap<EntityScripts>,
    entity: Entity,
    slot: usize,
) -> Option<&mut ScriptInstance> {
    entities
        .get_mut(&entity)?
        .slots
        .get_mut(slot)?
        .instance
        .as_mut()
}

/// An instance going away: its `on_destroy` runs (within the frame's
/// budget), then it is released.
pub(crate) struct Destroy {
    pub entity: Entity,
    pub path: String,
    pub id: InstanceId,
    /// `on_destroy`, once started.
    pub call: Option<CallId>,
    /// Instructions it has run (capped at `DESTROY_INSTRUCTIONS`).
    pub spent: u64,
    /// Whether `on_destroy` runs at all (not for an instance that failed).
    pub run: bool,
}

/// The VM and every script instance. One per `World`.
#[derive(Resource)]
pub struct ScriptRuntime {
    vm: Mutex<Vm>,
    pub(crate) compiled: HashMap<AssetId<ScriptAsset>, Compiled>,
    /// Scripts that failed to load, with the reason.
    pub(crate) load_failures: HashMap<AssetId<ScriptAsset>, String>,
    /// Keyed by a cheap hash of the entity's bits, and kept in the order
    /// the entities came, which is the order of the frame's turns: a turn
    /// reads the record after the last one's, where records in the order of
    /// a hash were a cache miss a turn (a fifth of a frame of 10,000
    /// movers, `perf`).
    pub(crate) entities: EntityIndexMap<EntityScripts>,
    /// Entities with a slot that has no instance yet (its script not
    /// compiled yet, or failed to load): the only ones looked at for
    /// instances to make (a walk of every slot each frame was 5% of a frame
    /// of 10,000 movers, the `plugin` bench).
    pub(crate) unready: EntityHashSet,
    /// Entities with calls waiting for their scripts to load (a walk of
    /// every entity for them was 1% of a frame of 10,000 movers).
    pub(crate) holding_calls: EntityHashSet,
    /// Instances going away, oldest first.
    pub(crate) destroying: VecDeque<Destroy>,
    /// Entities a script despawned: they leave the world once their
    /// instances' `on_destroy` have run.
    pub(crate) dying: EntityHashSet,
    /// The instance the next frame starts with (round-robin): the first
    /// one that did not get to run when the budget ran out, and its
    /// position in `turns`.
    pub(crate) cursor: Option<((Entity, usize), usize)>,
    /// Every instance, in the order of `entities`: the order of the
    /// frame's turns, kept between frames and built again after instances
    /// come or go (`instances_changed`).
    pub(crate) turns: Vec<Turn>,
    pub(crate) turns_stale: bool,
    /// Scripts recompiled since the last frame: their instances move to
    /// the new code.
    pub(crate) reloaded: Vec<AssetId<ScriptAsset>>,
    /// Whether the budget's collector share leaving no time for scripts
    /// was reported.
    pub(crate) budget_warned: bool,
    /// Calls the debugger stopped that the game let go on
    /// ([`ScriptRuntime::continue_call`]).
    pub(crate) released: std::collections::HashSet<CallId>,
    /// Whether a call stopped by the debugger halts every script.
    pub(crate) stop_all: bool,
    /// What of the scripts' errors is logged.
    pub(crate) error_log: crate::scheduler::ErrorLog,
    /// What scripts print.
    pub(crate) output: Arc<ScriptOutput>,
    /// Whose script runs, and what it despawned (shared with the natives).
    pub(crate) running: Arc<crate::natives::RunningScript>,
    /// Whether the scheduler times every call (for the debugger's
    /// performance window).
    pub(crate) time_calls: bool,
    /// With `time_calls`, each call run last frame.
    pub(crate) call_times: Vec<CallTime>,
}

/// One call's run in one frame, timed for the debugger.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(not(feature = "debugger"), allow(dead_code))]
pub(crate) struct CallTime {
    pub entity: Entity,
    pub instance: InstanceId,
    pub micros: f64,
}

impl ScriptRuntime {
    /// Records that instances came or went: the order of turns is built
    /// again before the next frame's.
    pub(crate) fn instances_changed(&mut self) {
        self.turns_stale = true;
    }

    /// Forgets an entity's scripts (its instances go with them).
    pub(crate) fn forget_entity(&mut self, entity: Entity) -> Option<EntityScripts> {
        self.instances_changed();
        self.entities.swap_remove(&entity)
    }
}

impl Default for ScriptRuntime {
    fn default() -> Self {
        let mut vm = Vm::new();
        let output = Arc::new(ScriptOutput::default());
        let running = Arc::new(crate::natives::RunningScript::default());
        let (sink, whose) = (output.clone(), running.clone());
        vm.set_print(move |line| sink.print(whose.entity(), line));
        vm.set_entity_host(Box::new(crate::bindings::EntityBindings::default()));
        crate::natives::register(&mut vm, &running);
        vm.set_entity_display(|bits| match Entity::try_from_bits(bits) {
            Some(entity) => entity.to_string(),
            None => format!("invalid {bits:#x}"),
        });
        ScriptRuntime {
            vm: Mutex::new(vm),
            compiled: HashMap::new(),
            load_failures: HashMap::new(),
            entities: EntityIndexMap::default(),
            unready: EntityHashSet::default(),
            holding_calls: EntityHashSet::default(),
            destroying: VecDeque::new(),
            dying: EntityHashSet::default(),
            cursor: None,
            turns: Vec::new(),
            turns_stale: true,
            reloaded: Vec::new(),
            budget_warned: false,
            released: Default::default(),
            stop_all: false,
            error_log: Default::default(),
            output,
            running,
            time_calls: false,
            call_times: Vec::new(),
        }
    }
}

impl ScriptRuntime {
    /// The VM, to register natives, inspect values or tune the collector.
    pub fn vm_mut(&mut self) -> &mut Vm {
        self.vm
            .get_mut()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// The entities' scripts and the VM, borrowed together.
    pub(crate) fn entities_and_vm(&mut self) -> (&mut EntityIndexMap<EntityScripts>, &mut Vm) {
        let vm = self
            .vm
            .get_mut()
            .unwrap_or_else(|poison| poison.into_inner());
        (&mut self.entities, vm)
    }

    /// The entities' scripts, those dying, and the VM, borrowed together
    /// for a run of turns.
    pub(crate) fn turn_parts(
        &mut self,
    ) -> (&mut EntityIndexMap<EntityScripts>, &EntityHashSet, &mut Vm) {
        let vm = self
            .vm
            .get_mut()
            .unwrap_or_else(|poison| poison.into_inner());
        (&mut self.entities, &self.dying, vm)
    }

    /// The calls the debugger stopped (a breakpoint, a step, a pause, an
    /// error it breaks on), with their entity and script. A stopped call
    /// stays stopped, frame after frame, until
    /// [`ScriptRuntime::continue_call`]; its instance gets no other calls
    /// meanwhile, and the other instances run on (unless
    /// [`ScriptRuntime::set_stop_all`]).
    pub fn stopped_calls(&self) -> Vec<(Entity, String, CallId)> {
        let vm = self.vm.lock().unwrap_or_else(|poison| poison.into_inner());
        self.entities
            .iter()
            .flat_map(|(&e, record)| record.slots.iter().map(move |s| (e, s)))
            .filter_map(|(e, slot)| {
                let inst = slot.instance.as_ref()?;
                let call = inst.pending?;
                vm.stop_reason(call)?;
                Some((e, inst.path.clone(), call))
            })
            .collect()
    }

    /// Lets a stopped call go on at the next frame (after
    /// [`Vm::step`](ark_vm::Vm::step), to step).
    pub fn continue_call(&mut self, call: CallId) {
        self.released.insert(call);
    }

    /// Whether a call stopped by the debugger halts every script (none
    /// runs until it is let go), or only its own instance (the default).
    pub fn set_stop_all(&mut self, on: bool) {
        self.stop_all = on;
    }

    /// Whether what scripts print is kept for [`ScriptRuntime::take_output`]
    /// (off by default; it always goes to the log).
    pub fn capture_output(&mut self, on: bool) {
        self.output.set_capture(on);
    }

    /// The lines scripts printed since the last call, oldest first, with
    /// capture on ([`ScriptRuntime::capture_output`]).
    pub fn take_output(&mut self) -> Vec<ScriptPrint> {
        self.output.take()
    }

    /// The number of live script instances.
    pub fn instance_count(&self) -> usize {
        self.entities
            .values()
            .flat_map(|e| &e.slots)
            .filter(|s| s.instance.is_some())
            .count()
    }
}

/// Compiles scripts as they load and when they change (hot reload); a
/// compile error is logged and sent as a [`ScriptError`], and a script that
/// was running keeps running its last good version.
pub(crate) fn compile_scripts(
    mut events: MessageReader<AssetEvent<ScriptAsset>>,
    mut failed: MessageReader<AssetLoadFailedEvent<ScriptAsset>>,
    assets: Res<Assets<ScriptAsset>>,
    mut runtime: ResMut<ScriptRuntime>,
    mut errors: MessageWriter<ScriptError>,
    mut profiler: Option<ResMut<crate::profiling::ScriptProfiler>>,
) {
    // Reported per entity by the scheduler, which knows who wanted them.
    for failure in failed.read() {
        runtime.load_failures.insert(
            failure.id,
            format!("cannot load {}: {}", failure.path, failure.error),
        );
    }
    for event in events.read() {
        let id = match event {
            AssetEvent::Added { id } | AssetEvent::Modified { id } => *id,
            AssetEvent::Removed { id } | AssetEvent::Unused { id } => {
                runtime.compiled.remove(id);
                continue;
            }
            _ => continue,
        };
        let Some(asset) = assets.get(id) else {
            continue;
        };
        let reload = matches!(event, AssetEvent::Modified { .. });
        if let Some(p) = &mut profiler {
            p.zone_begin("ark compile", &asset.path);
        }
        let compiled = runtime.vm_mut().compile(&asset.path, &asset.source);
        if let Some(p) = &mut profiler {
            p.zone_end();
            match &compiled {
                Ok(_) if reload => p.message(&format!("ark: hot reload of {}", asset.path)),
                Ok(_) => {}
                Err(e) => p.message(&e.to_string()),
            }
        }
        match compiled {
            Ok(module) => {
                runtime.load_failures.remove(&id);
                if reload {
                    runtime.reloaded.push(id);
                }
                runtime.compiled.insert(id, Compiled { module });
            }
            Err(e) => {
                error!("{e}");
                errors.write(ScriptError {
                    entity: None,
                    script: asset.path.clone(),
                    message: e.to_string(),
                    line: Some(e.line),
                });
            }
        }
    }
}
