//! Components: a script reads and writes a component of the game's own
//! (`Health`, registered with `register_script_component`) and Bevy's
//! `Transform`, and spawns an entity. Headless: a few seconds of game
//! time, then the entity's state is printed.
//!
//! `cargo run --example components`

use std::time::Duration;

use bevy::prelude::*;
use bevy::time::TimeUpdateStrategy;
use bevy_ark::prelude::*;

/// A game component scripts can reach: registered, with `Reflect`.
#[derive(Component, Reflect, Default, Debug)]
#[reflect(Component, Default)]
struct Health {
    value: f32,
    regenerating: bool,
}

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
    // Scripts reach it as `self.Health`; the check that it reflects
    // `Component` happens here, not when a script first names it.
    .register_script_component::<Health>()
    .register_type::<Transform>()
    .register_type::<Name>()
    .insert_resource(TimeUpdateStrategy::ManualDuration(Duration::from_millis(
        100,
    )))
    .add_systems(Startup, |mut commands: Commands| {
        commands.spawn((
            Health {
                value: 100.0,
                regenerating: false,
            },
            Transform::from_xyz(3.0, 0.0, 0.0),
            Script::new("examples/health.ark"),
        ));
    });
    app
}

fn main() {
    let mut app = app();
    for _ in 0..80 {
        app.update();
    }
    let world = app.world_mut();
    for (health, transform) in world.query::<(&Health, &Transform)>().iter(world) {
        println!("{health:?}, scale {}", transform.scale);
    }
    let markers = world.query::<&Name>().iter(world).count();
    println!("{markers} marker(s) spawned");
}

#[test]
fn the_script_changes_the_components_and_spawns_once() {
    let mut app = app();
    // Frames until the marker is spawned (the script loads in the
    // background), then a few more: it is spawned once.
    for _ in 0..2_000 {
        app.update();
        let world = app.world_mut();
        if world.query::<&Name>().iter(world).count() > 0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    for _ in 0..20 {
        app.update();
    }
    let world = app.world_mut();
    let (health, transform) = world
        .query::<(&Health, &Transform)>()
        .single(world)
        .unwrap();
    assert!(health.value < 50.0 && health.regenerating, "{health:?}");
    assert_eq!(transform.scale, Vec3::splat(0.5));
    let markers: Vec<Vec3> = world
        .query_filtered::<&Transform, With<Name>>()
        .iter(world)
        .map(|t| t.translation)
        .collect();
    assert_eq!(markers, [Vec3::new(3.0, 0.0, 0.0)]);
}
