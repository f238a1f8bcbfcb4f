//! The HUD: the controls, the score, and what the scripts cost this frame
//! against the budget, from `ScriptFrameStats`; the last script error; and
//! what to try.

use bevy::prelude::*;
use bevy_ark::prelude::*;

use ark::arena::Score;

pub fn add(app: &mut App) {
    app.add_systems(Startup, spawn_hud)
        .add_systems(Update, update_hud);
}

/// The text that changes every frame.
#[derive(Component)]
struct Readout;

/// The last script error, if any.
#[derive(Component)]
struct LastError;

const TRY: &str = "Try: edit assets/scripts/enemy.ark (its `steer`) and save: hot reload, \
speeds kept.\n     Break it and save: the error shows below, the old code keeps running.";

fn spawn_hud(mut commands: Commands) {
    let font = |size: f32| TextFont::from_font_size(size);
    commands
        .spawn((
            Node {
                position_type: PositionType::Absolute,
                top: px(8),
                left: px(8),
                padding: UiRect::all(px(8)),
                flex_direction: FlexDirection::Column,
                row_gap: px(4),
                ..default()
            },
            BackgroundColor(Color::srgb(0.02, 0.03, 0.05)),
        ))
        .with_children(|hud| {
            hud.spawn((
                Text::new(
                    "ARK ARENA: every shape is an entity with its own script\n\
                     Arrows/WASD: move (blue)   Space: +1000 scripted gems   F12: debugger",
                ),
                font(15.0),
                TextColor(Color::WHITE),
            ));
            hud.spawn((
                Text::new(""),
                font(15.0),
                TextColor(Color::srgb(0.8, 0.9, 1.0)),
                Readout,
            ));
            hud.spawn((
                Text::new(TRY),
                font(13.0),
                TextColor(Color::srgb(0.7, 0.7, 0.75)),
            ));
            hud.spawn((
                Text::new(""),
                font(13.0),
                TextColor(Color::srgb(1.0, 0.45, 0.4)),
                LastError,
            ));
        });
}

/// Frame times averaged over about half a second, so that they can be read.
#[derive(Default)]
struct Smoothed {
    script_ms: f64,
    gc_ms: f64,
}

impl Smoothed {
    fn add(&mut self, stats: &ScriptFrameStats) {
        const KEEP: f64 = 0.95;
        self.script_ms = self.script_ms * KEEP + stats.opcode_micros / 1000.0 * (1.0 - KEEP);
        self.gc_ms = self.gc_ms * KEEP + stats.gc_micros / 1000.0 * (1.0 - KEEP);
    }
}

#[allow(clippy::too_many_arguments)]
fn update_hud(
    stats: Res<ScriptFrameStats>,
    budget: Res<ScriptBudget>,
    runtime: Res<ScriptRuntime>,
    score: Res<Score>,
    time: Res<Time>,
    mut smoothed: Local<Smoothed>,
    mut readout: Single<&mut Text, (With<Readout>, Without<LastError>)>,
    mut last_error: Single<&mut Text, (With<LastError>, Without<Readout>)>,
) {
    smoothed.add(&stats);
    let budget = match *budget {
        ScriptBudget::Micros { frame, gc } => format!(
            "of a {:.2} ms budget ({:.2} ms for GC)",
            frame as f64 / 1000.0,
            gc as f64 / 1000.0
        ),
        ScriptBudget::Instructions { frame, .. } => format!("(budget: {frame} instructions)"),
    };
    readout.0 = format!(
        "Gems {}   Caught {}   Particle bursts {}\n\
         Scripts: {} instances, {} ran this frame, {} waiting for budget, {} failed\n\
         Script {:.2} ms + GC {:.2} ms {}   ({:.0} fps)\n\
         Heap {:.1} MB, {} objects (GC {:?})   Script errors so far: {}",
        score.gems,
        score.player_hits,
        score.bursts,
        runtime.instance_count(),
        stats.instances_run,
        stats.waiting,
        stats.failed,
        smoothed.script_ms,
        smoothed.gc_ms,
        budget,
        1.0 / time.delta_secs_f64().max(1e-6),
        stats.heap_bytes as f64 / 1e6,
        stats.heap_objects,
        stats.gc_phase,
        score.errors.len(),
    );
    if let Some(e) = score.errors.last() {
        last_error.0 = format!("Last error: {}", first_lines(e, 3));
    }
}

/// The first `n` lines of an error report (script, line, message, stack).
fn first_lines(text: &str, n: usize) -> String {
    text.lines().take(n).collect::<Vec<_>>().join("\n")
}
