//! The demo game, "arena": a player moved by a script (keyboard, or an
//! autopilot when there is none), enemies whose scripts chase it, a
//! spawner script that bursts particles, and Rust systems that count what
//! the scripts report and send them waves. Shared by the example (window
//! or headless) and its test.

use std::time::Duration;

use bevy::prelude::*;
use bevy::time::TimeUpdateStrategy;
use bevy_ark::prelude::*;

/// What the scripts reported.
#[derive(Resource, Default, Debug, Clone)]
pub struct Score {
    pub player_hits: u32,
    pub bursts: u32,
    pub errors: Vec<String>,
}

/// Everything but the window: scripts, entities and the Rust systems.
pub fn setup(app: &mut App) {
    app.add_plugins(ArkPlugin)
        .register_type::<Transform>()
        .register_type::<Name>()
        .init_resource::<Score>()
        .add_systems(Startup, spawn_world)
        .add_systems(Update, (count_events, send_waves));
}

fn spawn_world(mut commands: Commands) {
    commands.spawn((
        Name::new("Player"),
        Transform::default(),
        Script::new("scripts/player.ark"),
    ));
    for i in 0..6 {
        let angle = i as f32 / 6.0 * std::f32::consts::TAU;
        commands.spawn((
            Name::new("Enemy"),
            Transform::from_xyz(angle.cos() * 300.0, angle.sin() * 300.0, 0.0),
            Script::new("scripts/enemy.ark"),
        ));
    }
    commands.spawn((Name::new("Spawner"), Script::new("scripts/spawner.ark")));
}

fn count_events(
    mut events: MessageReader<ScriptEvent>,
    mut errors: MessageReader<ScriptError>,
    mut score: ResMut<Score>,
) {
    for e in events.read() {
        match e.name.as_str() {
            "player_hit" => score.player_hits += 1,
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
            data: ScriptValue::Float(15.0),
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

/// Runs the game without a window for `frames` frames of 1/60 s under
/// `budget`; returns a row every `every` frames and the score.
///
/// The example passes the default time budget; the test passes an
/// instruction budget, so that what runs in each frame does not depend on
/// how fast (or how loaded) the machine is.
pub fn run_headless(frames: u32, every: u32, budget: ScriptBudget) -> (Vec<FrameRow>, Score) {
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
    for _ in 0..200 {
        app.update();
        if app.world().resource::<ScriptRuntime>().instance_count() >= 8 {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
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
