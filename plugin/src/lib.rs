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
//!     .add_plugins((MinimalPlugins, bevy::asset::AssetPlugin::default(), ArkPlugin::default()))
//!     .add_script_fn("greet", |name: String| format!("hello, {name}"))
//!     .add_systems(Startup, |mut commands: Commands| {
//!         commands.spawn(Script::new("scripts/player.ark"));
//!     })
//!     .run();
//! ```
//!
//! The pipeline: [`ScriptAsset`]s load and compile (`runtime`), instances
//! follow the [`Script`] components, and the scheduler runs them within the
//! budget (`scheduler`); scripts reach the game through components
//! (`bindings`: references resolved once, `Transform` typed in `transform`,
//! every other component through reflection in `reflect`) and the game
//! functions (`natives`), and talk to Rust through [`ScriptEvent`] and
//! [`ScriptCommand`].

mod assets;
mod bindings;
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
mod transform;
mod value;

use bevy::app::{App, Plugin, Update};
use bevy::asset::AssetApp;
use bevy::ecs::component::Component;
use bevy::ecs::reflect::AppTypeRegistry;
use bevy::ecs::schedule::{InternedScheduleLabel, IntoScheduleConfigs, ScheduleLabel, SystemSet};

pub use assets::{ScriptAsset, ScriptLoader};
pub use components::Script;
pub use messages::{ScriptCommand, ScriptError, ScriptEvent};
pub use output::{OUTPUT_KEPT, ScriptPrint};
pub use runtime::{ScriptBudget, ScriptErrorPolicy, ScriptRuntime};
pub use stats::ScriptFrameStats;
pub use value::{ScriptKey, ScriptValue};

/// The plugin: script assets, the runtime, and the per-frame scheduler.
///
/// `ArkPlugin::default()` runs the scripts in `Update`;
/// [`ArkPlugin::in_schedule`] in another schedule. Its systems are in the
/// sets of [`ArkSystems`], for a game to order its own against.
pub struct ArkPlugin {
    schedule: InternedScheduleLabel,
}

impl Default for ArkPlugin {
    fn default() -> Self {
        ArkPlugin::in_schedule(Update)
    }
}

impl ArkPlugin {
    /// The plugin with the scripts run in `schedule` instead of `Update`:
    /// `FixedUpdate` runs every instance once per fixed step, with `dt`
    /// (and `delta()`) the fixed step. Loading and compiling stay in
    /// `Update` (they react to asset events, which a fixed step may not
    /// see).
    pub fn in_schedule(schedule: impl ScheduleLabel) -> Self {
        ArkPlugin {
            schedule: schedule.intern(),
        }
    }
}

/// The plugin's systems, in the order they run.
///
/// ```no_run
/// # use bevy::prelude::*;
/// # use bevy_ark::prelude::*;
/// # fn read_input() {}
/// # fn apply_physics() {}
/// App::new()
///     .add_plugins(ArkPlugin::default())
///     // The scripts see this frame's input, and physics what they wrote.
///     .add_systems(Update, read_input.before(ArkSystems::Run))
///     .add_systems(Update, apply_physics.after(ArkSystems::Run));
/// ```
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArkSystems {
    /// `Script` components' paths are loaded and script assets compiled
    /// (always in `Update`).
    Load,
    /// Every instance runs under the budget (new ones start, suspended
    /// calls resume, events are delivered, `on_update` runs), then the
    /// collector takes its share of the frame; spawns and despawns that
    /// scripts asked for are applied. In the plugin's schedule.
    Run,
}

impl Plugin for ArkPlugin {
    fn build(&self, app: &mut App) {
        app.init_asset::<ScriptAsset>()
            .init_asset_loader::<ScriptLoader>()
            .register_type::<Script>()
            .register_type::<ScriptBudget>()
            .register_type::<ScriptErrorPolicy>()
            .init_resource::<ScriptBudget>()
            .init_resource::<ScriptErrorPolicy>()
            .init_resource::<ScriptFrameStats>()
            .init_resource::<ScriptRuntime>()
            .init_resource::<natives::ScriptSpawns>()
            .init_resource::<profiling::ScriptProfiler>()
            .add_message::<ScriptError>()
            .add_message::<ScriptEvent>()
            .add_message::<ScriptCommand>()
            .configure_sets(Update, ArkSystems::Load.before(ArkSystems::Run))
            .add_systems(
                Update,
                (components::load_script_paths, runtime::compile_scripts)
                    .chain()
                    .in_set(ArkSystems::Load),
            )
            .add_systems(
                self.schedule,
                scheduler::run_scripts.in_set(ArkSystems::Run),
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

/// Registering native functions and components for scripts on the `App`.
pub trait ScriptAppExt {
    /// Makes a Rust function callable from every script by `name`, with its
    /// arguments and result converted (`|a: f64, b: f64| a + b`).
    fn add_script_fn<Args, F: ark_vm::TypedNative<Args>>(&mut self, name: &str, f: F) -> &mut Self;

    /// Lets scripts reach component `T` by its short type name
    /// (`self.Velocity.linear.x`): registers it for reflection, and checks
    /// at once that it reflects `Component` (`#[reflect(Component)]`),
    /// which a script would otherwise find missing only when it first
    /// names it. Each field a script names is resolved once, on first use.
    ///
    /// # Panics
    ///
    /// If `T` does not reflect `Component`.
    fn register_script_component<T>(&mut self) -> &mut Self
    where
        T: Component + bevy::reflect::GetTypeRegistration;
}

impl ScriptAppExt for App {
    fn register_script_component<T>(&mut self) -> &mut Self
    where
        T: Component + bevy::reflect::GetTypeRegistration,
    {
        self.register_type::<T>();
        let registry = self.world().resource::<AppTypeRegistry>().read();
        let reflects_component = registry
            .get(std::any::TypeId::of::<T>())
            .is_some_and(|r| r.data::<bevy::ecs::reflect::ReflectComponent>().is_some());
        assert!(
            reflects_component,
            "{} cannot be reached by scripts: add #[reflect(Component)] to its derive",
            std::any::type_name::<T>()
        );
        drop(registry);
        self
    }

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
        ArkPlugin, ArkSystems, Script, ScriptAppExt, ScriptBudget, ScriptCommand, ScriptError,
        ScriptErrorPolicy, ScriptEvent, ScriptFrameStats, ScriptKey, ScriptPrint, ScriptRuntime,
        ScriptValue,
    };
}
