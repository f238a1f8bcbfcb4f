//! Component access through references: `Transform`'s typed path reads,
//! writes and fails exactly as the reflection path does for a component of
//! the same shape, and an access allocates nothing.

use ark_vm::{Budget, RunResult, Value};
use bevy::prelude::*;
use bevy_ark::prelude::*;

/// `Transform`'s fields, reached only through reflection.
#[derive(Component, Reflect, Default)]
#[reflect(Component, Default)]
struct Pose {
    translation: Vec3,
    rotation: Quat,
    scale: Vec3,
}

fn app() -> App {
    let mut app = App::new();
    app.add_plugins((
        MinimalPlugins,
        bevy::asset::AssetPlugin::default(),
        ArkPlugin::default(),
    ))
    .register_type::<Transform>()
    .register_script_component::<Pose>();
    app.finish();
    app.cleanup();
    app
}

fn spawn_posed(app: &mut App) -> Entity {
    let (translation, rotation, scale) = (
        Vec3::new(1.0, 2.0, 3.0),
        Quat::from_rotation_z(0.5),
        Vec3::splat(2.0),
    );
    app.world_mut()
        .spawn((
            Transform {
                translation,
                rotation,
                scale,
            },
            Pose {
                translation,
                rotation,
                scale,
            },
        ))
        .id()
}

/// Runs `fn f(e) { body }` on `entity`: what it returned, shown, or its
/// error's message.
fn run(app: &mut App, entity: Entity, body: &str) -> Result<String, String> {
    app.world_mut()
        .resource_scope(|world, mut runtime: Mut<ScriptRuntime>| {
            let vm = runtime.vm_mut();
            let game = vm
                .load("case.ark", &format!("fn f(e) {{ {body} }}"))
                .map_err(|e| e.to_string())?;
            let call = vm
                .start_call(game, "f", &[Value::Entity(entity.to_bits())])
                .map_err(|e| e.message)?;
            match vm.resume_with(call, Budget::Unlimited, world) {
                RunResult::Done(v) => Ok(vm.display(v)),
                RunResult::Error(e) => Err(e.message),
                other => panic!("{other:?}"),
            }
        })
}

/// Each case run on `Transform` and on `Pose` (`C` stands for the
/// component) of two entities alike: the same result or error. Each runs
/// twice, on a fresh entity each time: first where the script names its
/// fields for the first time, then where they are known (`Transform`'s
/// resolved path).
fn same_on_both(cases: &[&str]) {
    for case in cases {
        let mut app = app();
        for round in ["first", "known"] {
            let entity = spawn_posed(&mut app);
            let typed = run(&mut app, entity, &case.replace('C', "Transform"));
            let reflected = run(&mut app, entity, &case.replace('C', "Pose"));
            let reflected = reflected
                .map(|s| s.replace("Pose", "Transform"))
                .map_err(|s| s.replace("Pose", "Transform"));
            assert_eq!(typed, reflected, "{case} ({round} access)");
        }
    }
}

#[test]
fn transform_reads_and_writes_as_reflection_does() {
    same_on_both(&[
        "return e.C.translation;",
        "return [e.C.translation.x, e.C.scale.z, type(e.C.translation)];",
        "e.C.translation = vec3(4, 5, 6); return e.C.translation;",
        "e.C.translation.y += 1.5; return e.C.translation;",
        "e.C.scale.z = 4; return e.C.scale;",
        "return e.C.rotation;",
        "e.C.rotation = [0.0, 0.0, 1.0, 0.0]; return e.C.rotation.z;",
        "e.C.rotation = {x: 0.0, y: 1.0, z: 0.0, w: 0.0}; return e.C.rotation;",
        "e.C.rotation.w = 0.5; return [e.C.rotation.w, e.C.rotation.x];",
        "let t = e.C; t.translation = t.translation * 2; return [type(t), t.translation];",
        "return e.C == e.C;",
    ]);
}

#[test]
fn transform_fails_as_reflection_does() {
    same_on_both(&[
        "e.C.translation = 5;",
        "e.C.translation = \"far\";",
        "e.C.translation.x = \"a\";",
        "e.C.scale.y = nil;",
        "e.C.rotation = 3;",
        "e.C.rotation = [1, 2];",
        "e.C.rotation.w = vec3(1, 1, 1);",
        "return e.C.position;",
        "e.C.position = 1;",
        "e.C.translation.w = 1.0;",
        "return e.C.translation.w;",
        "return e.C.translation.x.y;",
        "e.C.scale.q += 1;",
    ]);
}

#[test]
fn a_missing_component_and_a_despawned_entity_fail_alike() {
    let mut app = app();
    // The fields named once first, so that both the first access and a
    // known one meet the missing entity and component.
    let known = spawn_posed(&mut app);
    for component in ["Transform", "Pose"] {
        let body = format!("e.{component}.translation.x = 1; return e.{component}.translation;");
        assert!(run(&mut app, known, &body).is_ok());
    }
    let bare = app.world_mut().spawn_empty().id();
    for component in ["Transform", "Pose"] {
        assert_eq!(
            run(
                &mut app,
                bare,
                &format!("return e.{component}.translation;")
            ),
            Err(format!("entity {bare} has no {component} component"))
        );
    }
    let entity = spawn_posed(&mut app);
    app.world_mut().despawn(entity);
    for body in [
        "return e.C;",
        "return e.C.translation;",
        "e.C.translation.x = 1;",
    ] {
        for component in ["Transform", "Pose"] {
            assert_eq!(
                run(&mut app, entity, &body.replace('C', component)),
                Err(format!("entity {entity} does not exist")),
                "{body} on {component}"
            );
        }
    }
}

#[test]
fn an_entity_moved_to_another_archetype_is_still_reached() {
    let mut app = app();
    let entity = spawn_posed(&mut app);
    let step = "e.Transform.translation = e.Transform.translation + vec3(1, 0, 0); \
                return e.Transform.translation.x;";
    assert_eq!(run(&mut app, entity, step), Ok("2.0".to_string()));
    // An archetype made after the fields were first reached.
    #[derive(Component)]
    struct Marker;
    app.world_mut().entity_mut(entity).insert(Marker);
    assert_eq!(run(&mut app, entity, step), Ok("3.0".to_string()));
    let other = app
        .world_mut()
        .spawn((Transform::from_xyz(10.0, 0.0, 0.0), Marker, Name::new("o")))
        .id();
    assert_eq!(run(&mut app, other, step), Ok("11.0".to_string()));
    app.world_mut().entity_mut(entity).remove::<Transform>();
    assert_eq!(
        run(&mut app, entity, step),
        Err(format!("entity {entity} has no Transform component"))
    );
    assert_eq!(
        run(&mut app, entity, "let t = e.Pose; return t.translation.x;"),
        Ok("1.0".to_string())
    );
}

#[test]
fn a_reference_held_past_a_despawn_reports_it() {
    let mut app = app();
    let entity = spawn_posed(&mut app);
    app.world_mut()
        .resource_scope(|world, mut runtime: Mut<ScriptRuntime>| {
            let vm = runtime.vm_mut();
            let game = vm
                .load(
                    "held.ark",
                    "let held = nil; fn hold(e) { held = e.Transform; } fn read() { return held.translation; }",
                )
                .unwrap();
            let call = vm
                .start_call(game, "hold", &[Value::Entity(entity.to_bits())])
                .unwrap();
            assert!(matches!(
                vm.resume_with(call, Budget::Unlimited, &mut *world),
                RunResult::Done(_)
            ));
            world.despawn(entity);
            let call = vm.start_call(game, "read", &[]).unwrap();
            match vm.resume_with(call, Budget::Unlimited, world) {
                RunResult::Error(e) => {
                    assert_eq!(e.message, format!("entity {entity} does not exist"))
                }
                other => panic!("{other:?}"),
            }
        });
}

#[test]
fn a_reference_held_past_its_components_removal_fails_as_reflection_does() {
    for component in ["Transform", "Pose"] {
        let mut app = app();
        let entity = spawn_posed(&mut app);
        let source = format!(
            "let held = nil; fn hold(e) {{ held = e.{component}; }} \
             fn write() {{ held.translation = vec3(1, 2, 3); }} \
             fn read() {{ return held.translation; }}"
        );
        app.world_mut()
            .resource_scope(|world, mut runtime: Mut<ScriptRuntime>| {
                let vm = runtime.vm_mut();
                let game = vm.load("held.ark", &source).unwrap();
                let call = |vm: &mut ark_vm::Vm, world: &mut World, f: &str, args: &[Value]| {
                    let call = vm.start_call(game, f, args).unwrap();
                    match vm.resume_with(call, Budget::Unlimited, world) {
                        RunResult::Done(_) => Ok(()),
                        RunResult::Error(e) => Err(e.message),
                        other => panic!("{other:?}"),
                    }
                };
                let e = Value::Entity(entity.to_bits());
                // Written and read once, so that the fields are known.
                call(vm, world, "hold", &[e]).unwrap();
                call(vm, world, "write", &[]).unwrap();
                call(vm, world, "read", &[]).unwrap();
                match component {
                    "Transform" => world.entity_mut(entity).remove::<Transform>(),
                    _ => world.entity_mut(entity).remove::<Pose>(),
                };
                let missing = Err(format!("entity {entity} has no {component} component"));
                assert_eq!(call(vm, world, "write", &[]), missing);
                assert_eq!(call(vm, world, "read", &[]), missing);
            });
    }
}

#[test]
fn a_reference_shows_its_component_and_entity() {
    let mut app = app();
    let entity = spawn_posed(&mut app);
    assert_eq!(
        run(&mut app, entity, "return [str(e.Transform), str(e.Pose)];"),
        Ok(format!(
            "[\"<ref Transform of {entity}>\", \"<ref Pose of {entity}>\"]"
        ))
    );
}

#[test]
fn reading_and_writing_a_field_allocates_nothing() {
    let mut app = app();
    let entity = spawn_posed(&mut app);
    let body = "for i in 0..1000 { e.Transform.translation.y += 1.0; e.Pose.scale.x = e.Pose.scale.x + 1; let t = e.Transform; t.translation = t.translation; t.rotation = t.rotation * e.Pose.rotation.inverse() * e.Pose.rotation; }";
    // Once to make every place (and the code), then measured.
    run(&mut app, entity, body).unwrap();
    app.world_mut()
        .resource_scope(|world, mut runtime: Mut<ScriptRuntime>| {
            let vm = runtime.vm_mut();
            let game = vm
                .load("loop.ark", &format!("fn f(e) {{ {body} }}"))
                .unwrap();
            let call = vm
                .start_call(game, "f", &[Value::Entity(entity.to_bits())])
                .unwrap();
            let before = vm.heap().bytes();
            assert!(matches!(
                vm.resume_with(call, Budget::Unlimited, world),
                RunResult::Done(_)
            ));
            assert_eq!(vm.heap().bytes(), before, "bytes allocated by 1,000 rounds");
        });
    assert_eq!(
        app.world().get::<Transform>(entity).unwrap().translation.y,
        2002.0
    );
}

/// Reflected, but not as a component.
#[derive(Component, Reflect, Default)]
struct Unreachable {
    value: f32,
}

#[test]
#[should_panic(expected = "add #[reflect(Component)]")]
fn a_script_component_must_reflect_component() {
    App::new().register_script_component::<Unreachable>();
}

#[test]
fn a_failed_write_leaves_the_component_unchanged() {
    let mut app = app();
    let entity = spawn_posed(&mut app);
    let changed = |app: &App| {
        app.world()
            .entity(entity)
            .get_ref::<Transform>()
            .unwrap()
            .last_changed()
    };
    let before = changed(&app);
    for case in [
        "e.Transform.translation = 5;",
        "e.Transform.scale.x = nil;",
        "e.Transform.rotation = 3;",
    ] {
        app.world_mut().increment_change_tick();
        assert!(run(&mut app, entity, case).is_err(), "{case}");
        assert_eq!(changed(&app), before, "{case} marked it changed");
    }
    app.world_mut().increment_change_tick();
    run(&mut app, entity, "e.Transform.translation = vec3(1, 1, 1);").unwrap();
    assert_ne!(changed(&app), before, "a write marks it changed");
}

#[test]
fn a_rotation_read_and_written_back_is_the_same_bits() {
    let mut app = app();
    let entity = spawn_posed(&mut app);
    let rotations = [
        Quat::from_rotation_z(0.5),
        Quat::from_rotation_y(-2.9),
        Quat::from_euler(EulerRot::XYZ, 0.3, -1.2, 2.0),
        Quat::from_xyzw(0.0, 0.0, 0.0, -1.0),
    ];
    for rotation in rotations {
        app.world_mut()
            .get_mut::<Transform>(entity)
            .unwrap()
            .rotation = rotation;
        app.world_mut().get_mut::<Pose>(entity).unwrap().rotation = rotation;
        run(
            &mut app,
            entity,
            "let q = e.Transform.rotation; e.Transform.rotation = q; e.Pose.rotation = e.Pose.rotation;",
        )
        .unwrap();
        let world = app.world();
        assert_eq!(world.get::<Transform>(entity).unwrap().rotation, rotation);
        assert_eq!(world.get::<Pose>(entity).unwrap().rotation, rotation);
    }
    // Turning a vector as Bevy does.
    let turned = run(
        &mut app,
        entity,
        "return (e.Transform.rotation * vec3(1, 2, 3)).x;",
    )
    .unwrap();
    let expected = rotations[3] * Vec3::new(1.0, 2.0, 3.0);
    assert!((turned.parse::<f32>().unwrap() - expected.x).abs() < 1e-6);
}
