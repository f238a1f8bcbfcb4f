//! The script runtime: one VM (one heap) per `World`, the compiled scripts,
//! and every entity's script instances.

use std::collections::HashMap;
use std::sync::Mutex;

use ark_vm::{CallId, InstanceId, Module, Vm};
use bevy::asset::{AssetEvent, AssetId, Assets};
use bevy::ecs::entity::EntityHashMap;
use bevy::ecs::prelude::*;
use bevy::log::error;

use crate::assets::ScriptAsset;
use crate::messages::ScriptError;

/// How much of each frame scripts may use.
#[derive(Resource, Debug, Clone, Copy, PartialEq)]
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
#[derive(Resource, Debug, Clone, Copy, PartialEq, Eq, Default)]
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
    pub path: String,
}

/// Where an instance is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Its top-level code has not finished.
    Init,
    /// `on_start` has not run yet.
    Start,
    /// Receiving `on_update`.
    Running,
    /// It raised an error: no more calls until the script is reloaded.
    Failed,
}

/// One script's instance on one entity.
pub(crate) struct ScriptInstance {
    pub asset: AssetId<ScriptAsset>,
    pub path: String,
    pub id: InstanceId,
    pub phase: Phase,
    /// A call that was suspended (by the budget or `yield`).
    pub pending: Option<CallId>,
    /// Calls asked for by `ScriptCommand`s (`on_event` and named calls),
    /// delivered before `on_update`.
    pub inbox: std::collections::VecDeque<(String, Vec<crate::ScriptValue>)>,
}

/// The VM and every script instance. One per `World`.
#[derive(Resource)]
pub struct ScriptRuntime {
    vm: Mutex<Vm>,
    pub(crate) compiled: HashMap<AssetId<ScriptAsset>, Compiled>,
    /// Keyed by a cheap hash of the entity's bits: the scheduler looks
    /// every scripted entity up each frame.
    pub(crate) instances: EntityHashMap<Vec<ScriptInstance>>,
    /// Round-robin position: the frame after an overrun starts here.
    pub(crate) cursor: usize,
    /// Scripts recompiled since the last frame: their instances move to
    /// the new code.
    pub(crate) reloaded: Vec<AssetId<ScriptAsset>>,
}

impl Default for ScriptRuntime {
    fn default() -> Self {
        let mut vm = Vm::new();
        vm.set_print(|line| bevy::log::info!(target: "ark", "{line}"));
        vm.set_entity_host(std::sync::Arc::new(crate::reflect::EntityBindings));
        crate::natives::register(&mut vm);
        vm.set_entity_display(|bits| match Entity::try_from_bits(bits) {
            Some(entity) => entity.to_string(),
            None => format!("invalid {bits:#x}"),
        });
        ScriptRuntime {
            vm: Mutex::new(vm),
            compiled: HashMap::new(),
            instances: EntityHashMap::default(),
            cursor: 0,
            reloaded: Vec::new(),
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

    /// The instances and the VM, borrowed together.
    pub(crate) fn instances_and_vm(
        &mut self,
    ) -> (&mut EntityHashMap<Vec<ScriptInstance>>, &mut Vm) {
        let vm = self
            .vm
            .get_mut()
            .unwrap_or_else(|poison| poison.into_inner());
        (&mut self.instances, vm)
    }

    /// The number of live script instances.
    pub fn instance_count(&self) -> usize {
        self.instances.values().map(Vec::len).sum()
    }
}

/// Compiles scripts as they load and when they change (hot reload); a
/// compile error is logged and sent as a [`ScriptError`], and a script that
/// was running keeps running its last good version.
pub(crate) fn compile_scripts(
    mut events: MessageReader<AssetEvent<ScriptAsset>>,
    assets: Res<Assets<ScriptAsset>>,
    mut runtime: ResMut<ScriptRuntime>,
    mut errors: MessageWriter<ScriptError>,
) {
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
        match runtime.vm_mut().compile(&asset.path, &asset.source) {
            Ok(module) => {
                if matches!(event, AssetEvent::Modified { .. }) {
                    runtime.reloaded.push(id);
                }
                runtime.compiled.insert(
                    id,
                    Compiled {
                        module,
                        path: asset.path.clone(),
                    },
                );
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
