//! The in-game debugger overlay (feature `debugger`): scripts, source
//! with breakpoints and stepping, the stack and variables, a console with
//! a REPL, and performance plots, drawn with egui over the running game.
//!
//! ```no_run
//! # use bevy::prelude::*;
//! # use bevy_ark::prelude::*;
//! use bevy_ark::debugger::ArkDebuggerPlugin;
//! App::new()
//!     .add_plugins((DefaultPlugins, ArkPlugin::default(), ArkDebuggerPlugin::default()))
//!     .run();
//! ```
//!
//! F12 shows and hides it. The pipeline: the windows (`ui`) are plain egui
//! over a [`DebuggerModel`] (state in, [`Action`]s out); `bridge` fills
//! the model from the runtime after the scripts ran and does the actions
//! before they run next. A stopped call is a suspended call: the game and
//! every other script go on.

mod bridge;
mod highlight;
mod model;
mod perf;
pub mod ui;

use bevy::app::{App, Plugin, Update};
use bevy::ecs::prelude::*;
use bevy::input::ButtonInput;
use bevy::input::keyboard::KeyCode;
use bevy_egui::{EguiContexts, EguiPlugin, EguiPrimaryContextPass};

pub use bridge::DebuggerState;
pub use highlight::{Kind as TokenKind, Line, Span, highlight};
pub use model::*;
pub use perf::{PerfHistory, Sample};

use crate::runtime::ScriptRuntime;

/// The debugger overlay. Adds bevy_egui's `EguiPlugin` unless the game
/// already has it.
#[derive(Clone, Debug)]
pub struct ArkDebuggerPlugin {
    /// The key that shows and hides the overlay.
    pub toggle_key: KeyCode,
    /// Whether the overlay is shown from the first frame.
    pub open: bool,
}

impl Default for ArkDebuggerPlugin {
    fn default() -> Self {
        ArkDebuggerPlugin {
            toggle_key: KeyCode::F12,
            open: false,
        }
    }
}

/// The key that toggles the overlay.
#[derive(Resource, Clone, Copy, Debug)]
pub struct DebuggerToggleKey(pub KeyCode);

impl Plugin for ArkDebuggerPlugin {
    fn build(&self, app: &mut App) {
        if !app.is_plugin_added::<EguiPlugin>() {
            app.add_plugins(EguiPlugin::default());
        }
        app.add_plugins(DebuggerModelPlugin { open: self.open })
            .insert_resource(DebuggerToggleKey(self.toggle_key))
            .add_systems(Update, toggle_overlay.before(bridge::apply_actions))
            .add_systems(EguiPrimaryContextPass, draw_overlay);
    }
}

/// The debugger without its drawing: the model kept up to date and its
/// actions done. [`ArkDebuggerPlugin`] adds it; a game or a test that
/// draws the windows itself (or not at all) can add it alone.
pub struct DebuggerModelPlugin {
    pub open: bool,
}

impl Plugin for DebuggerModelPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<ScriptRuntime>()
            .insert_resource(DebuggerState::new(self.open))
            .add_systems(
                Update,
                (
                    bridge::apply_actions.before(crate::ArkSystems::Run),
                    bridge::refresh_model.after(crate::ArkSystems::Run),
                ),
            );
        // The console shows what scripts printed before it was opened.
        app.world_mut()
            .resource_mut::<ScriptRuntime>()
            .capture_output(true);
    }
}

fn toggle_overlay(
    keys: Option<Res<ButtonInput<KeyCode>>>,
    key: Res<DebuggerToggleKey>,
    mut state: ResMut<DebuggerState>,
) {
    if keys.is_some_and(|k| k.just_pressed(key.0)) {
        state.open = !state.open;
    }
}

fn draw_overlay(mut contexts: EguiContexts, mut state: ResMut<DebuggerState>) {
    if !state.open {
        return;
    }
    let Ok(ctx) = contexts.ctx_mut() else {
        return;
    };
    let state = &mut *state;
    let actions = ui::show(ctx, &mut state.model);
    state.actions.extend(actions);
}
