//! Scripts in Bevy scenes: `Script` (and the budget and error policy) are
//! reflected and serialized by their paths, so a level saved as a
//! `.scn.ron` file carries its scripts, and spawning it runs them.

mod common;

use bevy::prelude::*;
use bevy::world_serialization::{
    DynamicWorld, DynamicWorldBuilder, DynamicWorldRoot, WorldSerializationPlugin,
};
use bevy_ark::prelude::*;
use common::{WORK, scene_with};

#[derive(Component, Reflect, Default)]
#[reflect(Component, Default)]
struct Marker;

const COUNTER: &str = "let n = 0;
    fn on_start() { report(\"start\", self.Transform.translation.x); }
    fn on_update(dt) { n += 1; if n == 3 { report(\"three\"); } }";

fn serialization(app: &mut App) {
    app.add_plugins(WorldSerializationPlugin)
        .register_type::<Transform>()
        .register_type::<Marker>();
}

/// A level with two scripted entities, as a game would save it.
fn saved_level() -> String {
    let mut scene = scene_with(WORK, &[("counter.ark", COUNTER)], serialization);
    let first = scene.spawn((
        Marker,
        Transform::from_xyz(1.0, 0.0, 0.0),
        Script::new("counter.ark"),
    ));
    let second = scene.spawn((
        Marker,
        Transform::from_xyz(2.0, 0.0, 0.0),
        Script::new("counter.ark").with("counter.ark"),
    ));
    scene.frames(3);
    let world = scene.app.world();
    let registry = world.resource::<AppTypeRegistry>().read();
    let level = DynamicWorldBuilder::from_world(world, &registry)
        .deny_all()
        .allow_component::<Marker>()
        .allow_component::<Transform>()
        .allow_component::<Script>()
        .extract_entities([first, second].into_iter())
        .build();
    level.serialize(&registry).expect("the level serializes")
}

#[test]
fn a_script_serializes_as_its_paths_and_reads_back_equal() {
    let ron = saved_level();
    assert!(ron.contains("bevy_ark::components::Script"), "{ron}");
    assert!(ron.contains("paths: ["), "{ron}");
    assert!(ron.contains("\"counter.ark\""), "{ron}");
    assert!(!ron.contains("handles"), "{ron}");
    // Through reflection (as an inspector or the registry clones it), a
    // script is the same paths again.
    let script = Script::new("a.ark").with("b.ark");
    let back = <Script as FromReflect>::from_reflect(script.as_partial_reflect()).unwrap();
    assert_eq!(back.paths().collect::<Vec<_>>(), ["a.ark", "b.ark"]);
}

#[test]
fn a_level_loaded_from_a_scene_file_runs_its_scripts() {
    let ron = saved_level();
    let mut scene = scene_with(WORK, &[("counter.ark", COUNTER)], serialization);
    std::fs::write(scene.root.join("level.scn.ron"), ron).unwrap();
    let handle: Handle<DynamicWorld> = scene
        .app
        .world()
        .resource::<AssetServer>()
        .load("level.scn.ron");
    scene.spawn(DynamicWorldRoot(handle));
    scene.until_n("three", 3);
    assert!(scene.errors.is_empty(), "{:?}", scene.errors);
    // Three instances (one entity has two scripts), each with `self` the
    // entity the scene spawned, its Transform read from the file.
    let mut starts = scene.lines("start");
    starts.sort();
    assert_eq!(starts, ["start 1.0", "start 2.0", "start 2.0"]);
    let world = scene.app.world_mut();
    let spawned = world
        .query_filtered::<&Script, With<Marker>>()
        .iter(world)
        .count();
    assert_eq!(spawned, 2);
}

#[test]
fn the_budget_and_error_policy_save_and_load_with_a_world() {
    let mut source = scene_with(WORK, &[], serialization);
    source
        .app
        .insert_resource(ScriptBudget::Instructions {
            frame: 12_345,
            gc: 67,
        })
        .insert_resource(ScriptErrorPolicy::Continue);
    let world = source.app.world();
    let registry = world.resource::<AppTypeRegistry>().read();
    let saved = DynamicWorldBuilder::from_world(world, &registry)
        .deny_all()
        .allow_resource::<ScriptBudget>()
        .allow_resource::<ScriptErrorPolicy>()
        .extract_resources()
        .build();
    let ron = saved.serialize(&registry).unwrap();
    assert!(
        ron.contains("Instructions") && ron.contains("12345"),
        "{ron}"
    );
    drop(registry);
    // Written into another game's world, they replace its settings.
    let mut target = scene_with(WORK, &[], serialization);
    let world = target.app.world_mut();
    saved
        .write_to_world(world, &mut Default::default())
        .unwrap();
    assert_eq!(
        *world.resource::<ScriptBudget>(),
        ScriptBudget::Instructions {
            frame: 12_345,
            gc: 67
        }
    );
    assert_eq!(
        *world.resource::<ScriptErrorPolicy>(),
        ScriptErrorPolicy::Continue
    );
}
