//! # bevy_ark: Ark scripts on Bevy entities
//!
//! Add [`ArkPlugin`], put a [`Script`] on an entity, and every frame one
//! system runs every script instance under [`ScriptBudget`], then gives the
//! collector its share of the frame.
//!
//! ```no_run
//! use bevy::prelude::*;
//! use bevy_ark::prelude::*;
//!
//! App::new()
//!     .add_plugins((MinimalPlugins, bevy::asset::AssetPlugin::default(), ArkPlugin))
//!     .add_script_fn("greet", |name: String| format!("hello, {name}"))
//!     .add_systems(Startup, |mut commands: Commands| {
//!         commands.spawn(Script::new("scripts/player.ark"));
//!     })
//!     .run();
//! ```
//!
//! The pipeline: [`ScriptAsset`]s load and compile (`runtime`), instances
//! follow the [`Script`] components, and the scheduler runs them within the
//! budget (`scheduler`); scripts reach the game through reflected
//! components (`reflect`) and the game functions (`natives`), and talk to
//! Rust through [`ScriptEvent`] and [`ScriptCommand`].

mod assets;
mod components;
#[cfg(feature = "debugger")]
pub mod debugger;
mod messages;
mod names;
mod natives;
mod output;
pub mod profiling;
mod reflect;
mod runtime;
mod scheduler;
mod stats;
mod value;

use bevy::app::{App, Plugin, Update};
use bevy::asset::AssetApp;
use bevy::ecs::schedule::IntoScheduleConfigs;

pub use assets::{ScriptAsset, ScriptLoader};
pub use components::Script;
pub use messages::{ScriptCommand, ScriptError, ScriptEvent};
pub use output::{OUTPUT_KEPT, ScriptPrint};
pub use runtime::{ScriptBudget, ScriptErrorPolicy, ScriptRuntime};
pub use stats::ScriptFrameStats;
pub use value::{ScriptKey, ScriptValue};

/// The plugin: script assets, the runtime, and the per-frame scheduler.
pub struct ArkPlugin;

impl Plugin for ArkPlugin {
    fn build(&self, app: &mut App) {
        app.init_asset::<ScriptAsset>()
            .init_asset_loader::<ScriptLoader>()
            .init_resource::<ScriptBudget>()
            .init_resource::<ScriptErrorPolicy>()
            .init_resource::<ScriptFrameStats>()
            .init_resource::<ScriptRuntime>()
            .init_resource::<natives::ScriptDespawns>()
            .init_resource::<natives::ScriptSpawns>()
            .init_resource::<profiling::ScriptProfiler>()
            .add_message::<ScriptError>()
            .add_message::<ScriptEvent>()
            .add_message::<ScriptCommand>()
            .add_systems(
                Update,
                (
                    components::load_script_paths,
                    runtime::compile_scripts,
                    scheduler::run_scripts,
                )
                    .chain(),
            );
        names::install(app);
        #[cfg(feature = "tracy")]
        {
            let mut profiler = app.world_mut().resource_mut::<profiling::ScriptProfiler>();
            if !profiler.enabled() {
                profiler.set_backend(profiling::TracyBackend::start());
            }
        }
    }

    /// Bevy marks frames itself when it renders with its `trace_tracy`
    /// feature (turned on here through `bevy-trace-tracy`): then the
    /// plugin does not, so that Tracy sees one mark per frame.
    #[cfg(feature = "bevy-trace-tracy")]
    fn finish(&self, app: &mut App) {
        let renders = app
            .sub_apps()
            .sub_apps
            .keys()
            .any(|label| format!("{label:?}").contains("RenderApp"));
        if renders {
            app.world_mut()
                .resource_mut::<profiling::ScriptProfiler>()
                .frame_marks = false;
        }
    }
}

/// Registering native functions on the `App`.
pub trait ScriptAppExt {
    /// Makes a Rust function callable from every script by `name`, with its
    /// arguments and result converted (`|a: f64, b: f64| a + b`).
    fn add_script_fn<Args, F: ark_vm::TypedNative<Args>>(&mut self, name: &str, f: F) -> &mut Self;
}

impl ScriptAppExt for App {
    fn add_script_fn<Args, F: ark_vm::TypedNative<Args>>(&mut self, name: &str, f: F) -> &mut Self {
        self.init_resource::<ScriptRuntime>();
        self.world_mut()
            .resource_mut::<ScriptRuntime>()
            .vm_mut()
            .register_fn(name, f);
        self
    }
}

/// Everything a game needs: `use bevy_ark::prelude::*;`.
pub mod prelude {
    pub use crate::{
        ArkPlugin, Script, ScriptAppExt, ScriptBudget, ScriptCommand, ScriptError,
        ScriptErrorPolicy, ScriptEvent, ScriptFrameStats, ScriptKey, ScriptPrint, ScriptRuntime,
        ScriptValue,
    };
}
