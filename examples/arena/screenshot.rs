//! Saving the window for the README (`scripts/screenshot.sh`):
//! `--screenshot PATH` saves the scene after a few seconds of play;
//! `--debugger-screenshot PATH` opens the debugger, stops an enemy at a
//! breakpoint and saves that. Either quits once the file is written.

use bevy::prelude::*;
use bevy::render::view::screenshot::{Screenshot, save_to_disk};
use bevy_ark::debugger::{Action, DebuggerState};

/// Frames of play before the scene's screenshot.
const SCENE_FRAMES: u32 = 240;
/// The enemy script's line that runs every frame (`t += dt;`).
const ENEMY_LINE: u32 = 29;

#[derive(Resource, Clone)]
pub struct Shot {
    pub path: String,
    pub debugger: bool,
}

/// The screenshot asked for on the command line, if any.
pub fn requested() -> Option<Shot> {
    let args: Vec<String> = std::env::args().collect();
    let after = |flag: &str| {
        let at = args.iter().position(|a| a == flag)?;
        args.get(at + 1).cloned()
    };
    if let Some(path) = after("--debugger-screenshot") {
        return Some(Shot {
            path,
            debugger: true,
        });
    }
    after("--screenshot").map(|path| Shot {
        path,
        debugger: false,
    })
}

pub fn add(app: &mut App, shot: Shot) {
    app.insert_resource(shot)
        .add_systems(Update, take_screenshot);
}

/// For the scene, waits `SCENE_FRAMES`; for the debugger, sets a
/// breakpoint once the game runs and waits for an enemy to stop there.
/// Then saves the window, and quits a little later.
fn take_screenshot(
    mut frame: Local<u32>,
    mut taken_at: Local<Option<u32>>,
    shot: Res<Shot>,
    mut debugger: ResMut<DebuggerState>,
    mut commands: Commands,
    mut exit: MessageWriter<AppExit>,
) {
    *frame += 1;
    let ready = if shot.debugger {
        if *frame == 60 {
            debugger.actions.push(Action::ToggleBreakpoint {
                script: "scripts/enemy.ark".into(),
                line: ENEMY_LINE,
            });
        }
        debugger.model.stop.is_some() && *frame > 90
    } else {
        *frame >= SCENE_FRAMES
    };
    if taken_at.is_none() && ready {
        commands
            .spawn(Screenshot::primary_window())
            .observe(save_to_disk(shot.path.clone()));
        *taken_at = Some(*frame);
    }
    if taken_at.is_some_and(|at| *frame > at + 30) || *frame > 1200 {
        exit.write(AppExit::Success);
    }
}
