//! A first script on an entity: `assets/examples/spin.ark` moves its
//! entity along a circle and prints where it is. Headless: it runs 120
//! frames and exits.
//!
//! `cargo run --example first_script`

use std::time::Duration;

use bevy::prelude::*;
use bevy::time::TimeUpdateStrategy;
use bevy_ark::prelude::*;

fn app() -> App {
    let mut app = App::new();
    app.add_plugins((
        MinimalPlugins,
        AssetPlugin {
            file_path: concat!(env!("CARGO_MANIFEST_DIR"), "/assets").into(),
            ..default()
        },
        ArkPlugin::default(),
    ))
    // Scripts reach the components registered for reflection.
    .register_type::<Transform>()
    .insert_resource(TimeUpdateStrategy::ManualDuration(Duration::from_secs_f64(
        1.0 / 60.0,
    )))
    .add_systems(Startup, |mut commands: Commands| {
        commands.spawn((Transform::default(), Script::new("examples/spin.ark")));
    });
    // What scripts print is kept for the game to show (here: stdout).
    app.world_mut()
        .resource_mut::<ScriptRuntime>()
        .capture_output(true);
    app
}

fn main() {
    let mut app = app();
    for _ in 0..120 {
        app.update();
        for line in app
            .world_mut()
            .resource_mut::<ScriptRuntime>()
            .take_output()
        {
            println!("{}: {}", line.script, line.text);
        }
    }
}

#[test]
fn the_script_moves_its_entity() {
    let mut app = app();
    // Frames until it has moved (the script loads in the background).
    let mut t = Transform::default();
    for _ in 0..2_000 {
        app.update();
        let world = app.world_mut();
        t = *world.query::<&Transform>().single(world).unwrap();
        if t.translation != Vec3::ZERO {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    assert!((t.translation.length() - 2.0).abs() < 1e-3, "{t:?}");
}
