//! Events both ways, finding, spawning and despawning, time, input, wait.

use std::time::Duration;

use bevy::input::ButtonInput;
use bevy::input::keyboard::KeyCode;
use bevy::prelude::*;
use bevy::time::TimeUpdateStrategy;
use bevy_ark::prelude::*;

mod common;
use common::{Log, SCRIPTS, drain, test_app};

fn app() -> (App, Log) {
    test_app(SCRIPTS, false, |app| {
        app.register_type::<Transform>()
            .register_type::<Name>()
            .insert_resource(ScriptBudget::Instructions {
                frame: 100_000,
                gc: 1_000,
            })
            .insert_resource(TimeUpdateStrategy::ManualDuration(Duration::from_millis(
                20,
            )));
    })
}

fn step_until(
    app: &mut App,
    log: &Log,
    done: impl Fn(&[String]) -> bool,
) -> (Vec<ScriptEvent>, Vec<ScriptError>) {
    let (mut events, mut errors) = (Vec::new(), Vec::new());
    for _ in 0..500 {
        app.update();
        events.extend(drain::<ScriptEvent>(app));
        errors.extend(drain::<ScriptError>(app));
        if done(&log.lock().unwrap()) {
            return (events, errors);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    panic!("never done: {:?} {errors:?}", log.lock().unwrap());
}

#[test]
fn events_flow_both_ways() {
    let (mut app, log) = app();
    let a = app.world_mut().spawn(Script::new("events.ark")).id();
    app.world_mut().spawn(Script::new("events.ark"));
    // Wait for both instances to start and send "ready".
    let mut ready = Vec::new();
    for _ in 0..500 {
        app.update();
        ready.extend(
            drain::<ScriptEvent>(&mut app)
                .into_iter()
                .filter(|e| e.name == "ready"),
        );
        if ready.len() >= 2 {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    assert_eq!(ready.len(), 2, "{ready:?}");
    assert!(ready.iter().any(|e| e.sender == Some(a)));
    assert_eq!(
        ready[0].data,
        ScriptValue::Map(vec![
            ("hp".into(), ScriptValue::Int(10)),
            ("pos".into(), ScriptValue::Vec3(Vec3::new(1.0, 2.0, 3.0))),
            (
                "tags".into(),
                ScriptValue::List(vec![
                    ScriptValue::Str("a".into()),
                    ScriptValue::Str("b".into())
                ])
            ),
        ])
    );
    app.world_mut().write_message(ScriptCommand::Broadcast {
        name: "ping".into(),
        data: ScriptValue::Int(1),
    });
    app.world_mut().write_message(ScriptCommand::Call {
        entity: a,
        function: "heal".into(),
        args: vec![ScriptValue::Float(2.5)],
    });
    let (events, errors) = step_until(&mut app, &log, |l| {
        l.iter().filter(|x| x.starts_with("event pong")).count() >= 4
    });
    assert!(errors.is_empty(), "{errors:?}");
    let lines = log.lock().unwrap().clone();
    // Both scripts got the ping, answered with a broadcast that both got.
    assert_eq!(lines.iter().filter(|l| *l == "event ping 1").count(), 2);
    assert_eq!(lines.iter().filter(|l| *l == "event pong 2").count(), 4);
    assert_eq!(lines.iter().filter(|l| *l == "heal 2.5").count(), 1);
    assert!(
        events
            .iter()
            .any(|e| e.name == "healed" && e.sender == Some(a))
    );
}

#[test]
fn scripts_find_spawn_and_despawn_entities() {
    let (mut app, log) = app();
    let boss = app
        .world_mut()
        .spawn((Name::new("Boss"), Transform::default()))
        .id();
    app.world_mut().init_resource::<ButtonInput<KeyCode>>();
    app.world_mut()
        .resource_mut::<ButtonInput<KeyCode>>()
        .press(KeyCode::Space);
    app.world_mut().spawn(Script::new("world.ark"));
    let (_, errors) = step_until(&mut app, &log, |l| l.iter().any(|x| x.starts_with("time")));
    assert!(errors.is_empty(), "{errors:?}");
    let lines = log.lock().unwrap().clone();
    assert!(lines.contains(&"found true nil".to_string()), "{lines:?}");
    assert!(
        lines.contains(&"spawned vec3(5.0, 6.0, 7.0) entity".to_string()),
        "{lines:?}"
    );
    assert!(lines.contains(&"named true 2".to_string()), "{lines:?}");
    assert!(lines.contains(&"despawned true".to_string()), "{lines:?}");
    assert!(lines.contains(&"keys true false".to_string()), "{lines:?}");
    assert!(lines.contains(&"time float true".to_string()), "{lines:?}");
    assert!(app.world().get_entity(boss).is_err());
    // The spawned entity runs its own script.
    step_until(&mut app, &log, |l| {
        l.iter().any(|x| x.starts_with("update"))
    });
}

#[test]
fn wait_suspends_for_game_time() {
    let (mut app, log) = app();
    app.world_mut().spawn(Script::new("waiter.ark"));
    step_until(&mut app, &log, |l| l.iter().any(|x| x.starts_with("after")));
    let lines = log.lock().unwrap().clone();
    let ms = |prefix: &str| -> i64 {
        lines
            .iter()
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.split(' ').nth(1)?.parse().ok())
            .unwrap()
    };
    let waited = ms("after") - ms("before");
    // 0.1 s of game time at 20 ms a frame: 100 to 120 ms.
    assert!((100..=120).contains(&waited), "{lines:?}");
}
