//! Scripts reading and writing reflected components.

use std::time::Duration;

use bevy::prelude::*;
use bevy_ark::prelude::*;

mod common;
use common::{Log, SCRIPTS, drain, test_app};

fn app() -> (App, Log) {
    test_app(SCRIPTS, false, |app| {
        app.register_type::<Transform>()
            .insert_resource(ScriptBudget::Instructions {
                frame: 100_000,
                gc: 1_000,
            });
    })
}

/// Steps frames, collecting script errors, until `done` says so.
fn run(app: &mut App, log: &Log, done: impl Fn(&[String]) -> bool) -> Vec<ScriptError> {
    let mut errors = Vec::new();
    for _ in 0..500 {
        app.update();
        errors.extend(drain::<ScriptError>(app));
        if done(&log.lock().unwrap()) || !errors.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    errors
}

#[test]
fn scripts_read_and_write_their_transform() {
    let (mut app, log) = app();
    let entity = app
        .world_mut()
        .spawn((
            Transform::from_xyz(1.0, 2.0, 3.0).with_scale(Vec3::splat(1.5)),
            Script::new("mover.ark"),
        ))
        .id();
    let errors = run(&mut app, &log, |l| {
        l.iter().filter(|x| x.starts_with("pos")).count() >= 3
    });
    assert!(errors.is_empty(), "{errors:?}");
    let lines = log.lock().unwrap().clone();
    assert_eq!(lines[0], "start vec3(1.0, 2.0, 3.0) 1.5");
    assert_eq!(lines[1], "pos vec3(2.0, 2.5, 3.0) 3.0 ref");
    assert_eq!(lines[3], "pos vec3(4.0, 3.5, 3.0) 12.0 ref");
    let transform = app.world().get::<Transform>(entity).unwrap();
    assert_eq!(transform.translation, Vec3::new(4.0, 3.5, 3.0));
    assert_eq!(transform.scale.z, 12.0);
}

fn first_error(script: &str) -> ScriptError {
    let (mut app, log) = app();
    app.world_mut()
        .spawn((Transform::default(), Script::new(script)));
    let errors = run(&mut app, &log, |_| false);
    errors.into_iter().next().expect("the script failed")
}

#[test]
fn a_missing_component_is_an_error_that_names_it() {
    let e = first_error("bad_component.ark");
    assert!(e.message.contains("unknown component 'Health'"), "{e:?}");
    assert_eq!(e.line, Some(3));
}

#[test]
fn a_missing_field_is_an_error_that_names_it() {
    let e = first_error("bad_field.ark");
    assert!(
        e.message.contains("Transform has no field 'translaton'"),
        "{e:?}"
    );
    assert_eq!(e.line, Some(2));
}

#[test]
fn a_value_of_the_wrong_type_is_an_error() {
    let e = first_error("bad_type.ark");
    assert!(
        e.message
            .contains("cannot assign int to Transform.translation (Vec3)"),
        "{e:?}"
    );
}

#[test]
fn a_quat_reads_as_a_quat_and_writes_from_a_quat_a_map_or_a_list() {
    let (mut app, log) = app();
    let entity = app
        .world_mut()
        .spawn((Transform::default(), Script::new("rotator.ark")))
        .id();
    let errors = run(&mut app, &log, |l| l.len() >= 3);
    assert!(errors.is_empty(), "{errors:?}");
    let lines = log.lock().unwrap().clone();
    assert_eq!(lines[0], "rotation 0.0 0.0 0.0 1.0 quat");
    assert_eq!(lines[1], "now quat true true");
    assert_eq!(lines[2], "turned true");
    app.update();
    let rotation = app.world().get::<Transform>(entity).unwrap().rotation;
    assert_eq!(rotation, Quat::from_xyzw(1.0, 0.0, 0.0, 0.0));
}

#[test]
fn spawning_with_a_field_of_the_wrong_type_names_both_types() {
    let e = first_error("bad_spawn.ark");
    assert!(
        e.message
            .contains("cannot assign string to Transform.translation (Vec3)"),
        "{e:?}"
    );
}
