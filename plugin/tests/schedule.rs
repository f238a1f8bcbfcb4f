//! Where the scripts run in a frame: the `ArkSystems` sets a game orders
//! its own systems against, and the schedule the plugin runs them in.

mod common;

use bevy::prelude::*;
use bevy::time::TimeUpdateStrategy;
use bevy_ark::prelude::*;
use common::{WORK, scene_in, scene_with};

/// The frame number, as a game system before the scripts sets it.
#[derive(Resource, Default)]
struct FrameNumber(f32);

/// What a game system after the scripts saw, a frame at a time.
#[derive(Resource, Default)]
struct Seen(Vec<(f32, f32)>);

#[derive(Component)]
struct Probe;

fn write_input(mut n: ResMut<FrameNumber>, mut probes: Query<&mut Transform, With<Probe>>) {
    n.0 += 1.0;
    for mut t in &mut probes {
        t.translation.x = n.0;
    }
}

fn read_output(
    n: Res<FrameNumber>,
    mut seen: ResMut<Seen>,
    probes: Query<&Transform, With<Probe>>,
) {
    for t in &probes {
        seen.0.push((n.0, t.translation.y));
    }
}

#[test]
fn game_systems_ordered_before_and_after_the_scripts_see_the_same_frame() {
    let mut scene = scene_with(
        WORK,
        &[(
            "double.ark",
            "fn on_update(dt) { let t = self.Transform; t.translation = t.translation.with_y(t.translation.x * 2.0); }",
        )],
        |app| {
            app.register_type::<Transform>();
        },
    );
    scene
        .app
        .init_resource::<FrameNumber>()
        .init_resource::<Seen>()
        .add_systems(Update, write_input.before(ArkSystems::Run))
        .add_systems(Update, read_output.after(ArkSystems::Run));
    scene.spawn((Probe, Transform::default(), Script::new("double.ark")));
    scene.frames(30);
    assert!(scene.errors.is_empty(), "{:?}", scene.errors);
    let seen = &scene.app.world().resource::<Seen>().0;
    // Once the script has loaded, each frame's output is its own input
    // doubled: the input was written before the script ran, the output
    // read after.
    let running: Vec<&(f32, f32)> = seen.iter().filter(|(_, y)| *y != 0.0).collect();
    assert!(running.len() >= 10, "{seen:?}");
    for (frame, y) in running {
        assert_eq!(*y, frame * 2.0, "{seen:?}");
    }
}

#[test]
fn in_fixed_update_the_scripts_run_once_a_fixed_step_with_its_dt() {
    let mut scene = scene_in(
        ArkPlugin::in_schedule(FixedUpdate),
        WORK,
        &[("tick.ark", "fn on_update(dt) { report(\"tick\", dt); }")],
        |app| {
            // Frames of 100 ms over fixed steps of 20 ms: five steps a frame.
            app.insert_resource(Time::<Fixed>::from_seconds(0.02))
                .insert_resource(TimeUpdateStrategy::ManualDuration(
                    std::time::Duration::from_millis(100),
                ));
        },
    );
    scene.spawn(Script::new("tick.ark"));
    scene.until("tick");
    let before = scene.lines("tick").len();
    scene.frames(4);
    let ticks = scene.lines("tick");
    assert_eq!(ticks.len() - before, 20, "{ticks:?}");
    assert!(ticks.iter().all(|t| t == "tick 0.02"), "{ticks:?}");
}
