//! The demo game, "arena": a player moved by a script (keyboard, or an
//! autopilot when there is none), enemies whose scripts chase it, gems it
//! picks up, a spawner script that bursts particles, and Rust systems that
//! count what the scripts report and send them waves. Shared by the example
//! (window or headless) and its test; the window adds shapes, the HUD and
//! the keys (`examples/arena/`).

use std::time::Duration;

use bevy::prelude::*;
use bevy::time::TimeUpdateStrategy;
use bevy_ark::prelude::*;

/// Half the arena's width and height: scripts read it with `arena_size()`.
pub const ARENA_HALF: Vec2 = Vec2::new(600.0, 250.0);
/// Enemies and gems at the start.
pub const ENEMIES: usize = 40;
pub const GEMS: usize = 300;
/// Scripted entities at the start: the player, the enemies, the gems and
/// the spawner (particles come and go).
pub const SCRIPTED_AT_START: usize = 1 + ENEMIES + GEMS + 1;

/// Whether the environment (`var`: a variable's value by name) names a
/// display to open the demo's window on: `DISPLAY` or `WAYLAND_DISPLAY`,
/// set and not empty. Without one the demo runs headless.
pub fn names_a_display(var: impl Fn(&str) -> Option<std::ffi::OsString>) -> bool {
    ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|name| var(name).is_some_and(|value| !value.is_empty()))
}

/// What the scripts reported.
#[derive(Resource, Default, Debug, Clone)]
pub struct Score {
    pub player_hits: u32,
    pub gems: u32,
    pub bursts: u32,
    pub errors: Vec<String>,
}

/// Everything but the window: scripts, entities and the Rust systems.
pub fn setup(app: &mut App) {
    app.add_plugins(ArkPlugin::default())
        .register_type::<Transform>()
        .register_type::<Name>()
        .init_resource::<Score>()
        .add_script_fn("arena_size", || {
            ark_vm::Vec3::new(ARENA_HALF.x, ARENA_HALF.y, 0.0)
        })
        .add_systems(Startup, spawn_world)
        .add_systems(Update, (count_events, send_waves));
}

fn spawn_world(mut commands: Commands) {
    commands.spawn((
        Name::new("Player"),
        Transform::default(),
        Script::new("scripts/player.ark"),
    ));
    for i in 0..ENEMIES {
        // Round the edge of the arena.
        let angle = i as f32 / ENEMIES as f32 * std::f32::consts::TAU;
        commands.spawn((
            Name::new("Enemy"),
            Transform::from_xyz(angle.cos() * ARENA_HALF.x, angle.sin() * ARENA_HALF.y, 1.0),
            Script::new("scripts/enemy.ark"),
        ));
    }
    spawn_gems(&mut commands, GEMS, 1);
    commands.spawn((Name::new("Spawner"), Script::new("scripts/spawner.ark")));
}

/// Spawns `n` gems spread over the arena, each with its own script; `seed`
/// picks where.
pub fn spawn_gems(commands: &mut Commands, n: usize, seed: u64) {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut unit = move || {
        // xorshift64: a spread that is the same on every run.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f32 / (1u64 << 53) as f32 * 2.0 - 1.0
    };
    for _ in 0..n {
        let (x, y) = (unit() * ARENA_HALF.x, unit() * ARENA_HALF.y);
        commands.spawn((
            Name::new("Gem"),
            Transform::from_xyz(x, y, 0.0),
            Script::new("scripts/gem.ark"),
        ));
    }
}

fn count_events(
    mut events: MessageReader<ScriptEvent>,
    mut errors: MessageReader<ScriptError>,
    mut score: ResMut<Score>,
) {
    for e in events.read() {
        match e.name.as_str() {
            "player_hit" => score.player_hits += 1,
            "gem" => score.gems += 1,
            "burst" => score.bursts += 1,
            _ => {}
        }
    }
    for e in errors.read() {
        score.errors.push(e.message.clone());
    }
}

/// Every five seconds of game time, enemies get faster.
fn send_waves(time: Res<Time>, mut last: Local<f64>, mut commands: MessageWriter<ScriptCommand>) {
    if time.elapsed_secs_f64() - *last >= 5.0 {
        *last = time.elapsed_secs_f64();
        commands.write(ScriptCommand::Broadcast {
            name: "wave".into(),
            data: ScriptValue::Float(10.0),
        });
    }
}

/// One row of the headless run's table.
#[derive(Debug, Clone)]
pub struct FrameRow {
    pub frame: u32,
    pub stats: ScriptFrameStats,
    pub entities: usize,
}

/// The game without a window, stepped 1/60 s a frame under `budget`, with
/// every script loaded.
///
/// The example passes the default time budget; the tests pass an
/// instruction budget, so that what runs in each frame does not depend on
/// how fast (or how loaded) the machine is.
pub fn headless_app(budget: ScriptBudget) -> App {
    let mut app = App::new();
    app.add_plugins((
        MinimalPlugins,
        bevy::asset::AssetPlugin {
            file_path: concat!(env!("CARGO_MANIFEST_DIR"), "/assets").into(),
            ..default()
        },
    ))
    .insert_resource(TimeUpdateStrategy::ManualDuration(Duration::from_secs_f64(
        1.0 / 60.0,
    )));
    setup(&mut app);
    app.insert_resource(budget);
    app.finish();
    app.cleanup();
    // Give the asset loader a moment to read the scripts.
    for _ in 0..400 {
        app.update();
        if app.world().resource::<ScriptRuntime>().instance_count() >= SCRIPTED_AT_START {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    app
}

/// Runs the game without a window for `frames` frames; returns a row every
/// `every` frames and the score.
pub fn run_headless(frames: u32, every: u32, budget: ScriptBudget) -> (Vec<FrameRow>, Score) {
    let mut app = headless_app(budget);
    let mut rows = Vec::new();
    for frame in 1..=frames {
        app.update();
        if frame % every == 0 {
            let entities = app.world_mut().query::<&Name>().iter(app.world()).count();
            rows.push(FrameRow {
                frame,
                stats: app.world().resource::<ScriptFrameStats>().clone(),
                entities,
            });
        }
    }
    (rows, app.world().resource::<Score>().clone())
}
