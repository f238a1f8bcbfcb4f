//! The plugin on a headless `App`: instances, the scheduler's order and
//! budget, errors, statistics.

use std::time::Duration;

use bevy::prelude::*;
use bevy::time::TimeUpdateStrategy;
use bevy_ark::prelude::*;

mod common;
use common::{Log, SCRIPTS, drain, lines, test_app};

/// A headless app whose scripts can `report(...)` into a log.
fn app(budget: ScriptBudget) -> (App, Log) {
    test_app(SCRIPTS, false, |app| {
        app.insert_resource(budget)
            .insert_resource(TimeUpdateStrategy::ManualDuration(Duration::from_millis(
                16,
            )));
    })
}

/// Steps frames until the scripts have loaded and something was reported.
fn run_until_loaded(app: &mut App, log: &Log) {
    for _ in 0..500 {
        app.update();
        if !log.lock().unwrap().is_empty() {
            return;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    panic!("the scripts never ran");
}

#[test]
fn on_start_runs_once_then_on_update_every_frame() {
    let (mut app, log) = app(ScriptBudget::Instructions {
        frame: 100_000,
        gc: 1_000,
    });
    app.world_mut().spawn(Script::new("counter.ark"));
    run_until_loaded(&mut app, &log);
    for _ in 0..5 {
        app.update();
    }
    assert_eq!(lines(&log, "start"), ["start 1"]);
    let updates = lines(&log, "update");
    assert_eq!(updates.len(), 6, "{updates:?}");
    assert_eq!(updates[5], "update 6 0.016");
    let stats = app.world().resource::<ScriptFrameStats>().clone();
    assert_eq!(stats.instances_run, 1);
    assert!(stats.instructions > 0);
    assert_eq!(stats.failed, 0);
    // A work budget reads no clock, in the scripts or the collector.
    assert_eq!(stats.opcode_longest_unchecked_micros, 0.0);
    assert_eq!(stats.gc_longest_unchecked_micros, 0.0);
}

#[test]
fn an_endless_loop_never_starves_the_other_scripts() {
    let (mut app, log) = app(ScriptBudget::Instructions {
        frame: 20_000,
        gc: 1_000,
    });
    app.world_mut().spawn(Script::new("endless.ark"));
    for _ in 0..3 {
        app.world_mut().spawn(Script::new("counter.ark"));
    }
    run_until_loaded(&mut app, &log);
    let before = lines(&log, "update").len();
    for _ in 0..20 {
        app.update();
    }
    // Every counter updated every frame (3 per frame), whatever the loop did.
    let after = lines(&log, "update").len();
    assert!(after - before >= 3 * 19, "{before} -> {after}");
    // The endless script progresses across frames.
    let spinning = lines(&log, "spinning");
    assert!(spinning.len() >= 10, "{spinning:?}");
    let stats = app.world().resource::<ScriptFrameStats>().clone();
    assert!(stats.suspended >= 1, "{stats:?}");
    assert!(stats.instructions >= 20_000, "{stats:?}");
    // The collector still got its steps every frame.
    let steps = app
        .world_mut()
        .resource_mut::<ScriptRuntime>()
        .vm_mut()
        .gc_report()
        .steps
        .count;
    assert!(steps >= 20, "{steps} collector steps");
}

#[test]
fn a_yielding_update_gets_no_new_update_until_it_finishes() {
    let (mut app, log) = app(ScriptBudget::Instructions {
        frame: 100_000,
        gc: 1_000,
    });
    app.world_mut().spawn(Script::new("waits.ark"));
    run_until_loaded(&mut app, &log);
    for _ in 0..8 {
        app.update();
    }
    let got: Vec<String> = lines(&log, "waits");
    assert_eq!(
        &got[..6],
        [
            "waits begin 1",
            "waits end 1",
            "waits begin 2",
            "waits end 2",
            "waits begin 3",
            "waits end 3"
        ]
    );
}

#[test]
fn errors_are_reported_and_stop_only_the_failing_script() {
    let (mut app, log) = app(ScriptBudget::Instructions {
        frame: 100_000,
        gc: 1_000,
    });
    app.world_mut().spawn(Script::new("crashes.ark"));
    app.world_mut().spawn(Script::new("broken_syntax.ark"));
    app.world_mut().spawn(Script::new("counter.ark"));
    // Messages live two frames: collect them as they come, from the start.
    // The three scripts load in their own time (asset loading is
    // asynchronous): run until all of them have shown what is asserted.
    let mut errors: Vec<ScriptError> = Vec::new();
    let reported =
        |errors: &[ScriptError], script: &str| errors.iter().any(|e| e.script.contains(script));
    for _ in 0..500 {
        app.update();
        errors.extend(drain::<ScriptError>(&mut app));
        if lines(&log, "update").len() >= 10
            && reported(&errors, "crashes.ark")
            && reported(&errors, "broken_syntax.ark")
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    assert_eq!(
        lines(&log, "crashes").len(),
        3,
        "the failed script got more calls"
    );
    assert!(
        lines(&log, "update").len() >= 10,
        "the healthy script stopped"
    );
    let runtime_error = errors
        .iter()
        .find(|e| e.script.contains("crashes.ark"))
        .expect("the runtime error was sent");
    assert_eq!(runtime_error.line, Some(8));
    assert!(
        runtime_error
            .message
            .contains("cannot read field 'field' of nil"),
        "{runtime_error:?}"
    );
    assert!(
        runtime_error.message.contains("at on_update"),
        "{runtime_error:?}"
    );
    assert!(runtime_error.entity.is_some());
    let compile_error = errors
        .iter()
        .find(|e| e.script.contains("broken_syntax.ark"))
        .expect("the compile error was sent");
    assert_eq!(compile_error.line, Some(1));
    assert!(
        compile_error
            .message
            .contains("broken_syntax.ark:1:9: error"),
        "{compile_error:?}"
    );
    assert_eq!(app.world().resource::<ScriptFrameStats>().failed, 1);
}

#[test]
fn self_is_the_entity_and_despawning_calls_on_destroy() {
    let (mut app, log) = app(ScriptBudget::Instructions {
        frame: 100_000,
        gc: 1_000,
    });
    let entity = app.world_mut().spawn(Script::new("me.ark")).id();
    run_until_loaded(&mut app, &log);
    let shown = format!("<entity {entity}>");
    assert_eq!(lines(&log, "self"), [format!("self {shown}")]);
    app.world_mut().despawn(entity);
    app.update();
    assert_eq!(lines(&log, "destroyed"), [format!("destroyed {shown}")]);
    assert_eq!(app.world().resource::<ScriptRuntime>().instance_count(), 0);
}

#[test]
fn several_scripts_on_one_entity_each_have_their_own_state() {
    let (mut app, log) = app(ScriptBudget::Instructions {
        frame: 100_000,
        gc: 1_000,
    });
    app.world_mut()
        .spawn(Script::new("counter.ark").with("waits.ark"));
    run_until_loaded(&mut app, &log);
    for _ in 0..3 {
        app.update();
    }
    assert_eq!(lines(&log, "start"), ["start 1"]);
    assert!(lines(&log, "update").len() >= 4);
    assert!(!lines(&log, "waits begin").is_empty());
    assert_eq!(app.world().resource::<ScriptRuntime>().instance_count(), 2);
}

#[test]
fn a_time_budget_bounds_the_frame() {
    let (mut app, log) = app(ScriptBudget::Micros {
        frame: 2_000,
        gc: 500,
    });
    app.world_mut().spawn(Script::new("endless.ark"));
    app.world_mut().spawn(Script::new("counter.ark"));
    run_until_loaded(&mut app, &log);
    for _ in 0..5 {
        app.update();
        let stats = app.world().resource::<ScriptFrameStats>().clone();
        // Not a timing test: the endless script was suspended, the frame
        // ended, and the collector ran, timing itself.
        assert!(stats.suspended >= 1, "{stats:?}");
        assert!(stats.gc_longest_unchecked_micros > 0.0, "{stats:?}");
        assert!(
            stats.gc_longest_unchecked_micros <= stats.gc_micros,
            "{stats:?}"
        );
        // The scripts' calls timed themselves the same way.
        assert!(stats.opcode_longest_unchecked_micros > 0.0, "{stats:?}");
        assert!(
            stats.opcode_longest_unchecked_micros <= stats.opcode_micros,
            "{stats:?}"
        );
    }
    assert!(lines(&log, "update").len() >= 3);
}

#[test]
fn with_the_continue_policy_a_failed_script_keeps_running() {
    let (mut app, log) = app(ScriptBudget::Instructions {
        frame: 100_000,
        gc: 1_000,
    });
    app.insert_resource(ScriptErrorPolicy::Continue);
    app.world_mut().spawn(Script::new("crashes.ark"));
    for _ in 0..500 {
        app.update();
        if lines(&log, "crashes").len() >= 6 {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    assert!(lines(&log, "crashes").len() >= 6);
    assert_eq!(app.world().resource::<ScriptFrameStats>().failed, 0);
}
