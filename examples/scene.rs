//! Scenes: `assets/examples/level.scn.ron` is a level as Bevy saves one,
//! its entities carrying `Script` (by path) and `Transform`; spawning it
//! runs their scripts. Headless.
//!
//! `cargo run --example scene`

use bevy::prelude::*;
use bevy::world_serialization::{DynamicWorldRoot, WorldSerializationPlugin};
use bevy_ark::prelude::*;

fn app() -> App {
    let mut app = App::new();
    app.add_plugins((
        MinimalPlugins,
        AssetPlugin {
            file_path: concat!(env!("CARGO_MANIFEST_DIR"), "/assets").into(),
            ..default()
        },
        WorldSerializationPlugin,
        ArkPlugin::default(),
    ))
    .register_type::<Transform>()
    .add_systems(
        Startup,
        |mut commands: Commands, server: Res<AssetServer>| {
            commands.spawn(DynamicWorldRoot(server.load("examples/level.scn.ron")));
        },
    );
    app.world_mut()
        .resource_mut::<ScriptRuntime>()
        .capture_output(true);
    app
}

/// Runs frames until the level's two scripts have started (loading takes
/// a few): what they printed.
fn run(app: &mut App) -> Vec<String> {
    let mut lines = Vec::new();
    for _ in 0..200 {
        app.update();
        lines.extend(
            app.world_mut()
                .resource_mut::<ScriptRuntime>()
                .take_output()
                .into_iter()
                .map(|l| l.text),
        );
        if lines.len() == 2 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    lines
}

fn main() {
    for line in run(&mut app()) {
        println!("{line}");
    }
}

#[test]
fn the_scene_s_entities_run_their_scripts() {
    let mut lines = run(&mut app());
    lines.sort();
    assert_eq!(
        lines,
        [
            "spawned by the scene at vec3(-1.0, 0.0, 0.0)",
            "spawned by the scene at vec3(1.0, 0.0, 0.0)"
        ]
    );
}
