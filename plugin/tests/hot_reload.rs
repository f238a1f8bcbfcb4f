//! Editing a script file while the game runs.

use std::path::Path;
use std::time::{Duration, Instant};

use bevy::prelude::*;
use bevy_ark::prelude::*;

mod common;
use common::{Log, drain, test_app};

fn app(root: &Path) -> (App, Log) {
    test_app(&root.display().to_string(), true, |app| {
        app.insert_resource(ScriptBudget::Instructions {
            frame: 100_000,
            gc: 1_000,
        });
    })
}

/// Steps frames (with real time passing, for the file watcher) until
/// `done`, collecting script errors; fails after 20 seconds.
fn run_until(
    app: &mut App,
    log: &Log,
    done: impl Fn(&[String], &[ScriptError]) -> bool,
) -> Vec<ScriptError> {
    let mut errors = Vec::new();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        app.update();
        errors.extend(drain::<ScriptError>(app));
        if done(&log.lock().unwrap(), &errors) {
            return errors;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!(
        "timed out; log: {:?}, errors: {errors:?}",
        log.lock().unwrap()
    );
}

#[test]
fn an_edited_script_keeps_its_state_and_a_broken_edit_keeps_the_old_version() {
    let root = std::env::temp_dir().join(format!("ark-hot-reload-{}", std::process::id()));
    std::fs::create_dir_all(&root).unwrap();
    let file = root.join("live.ark");
    std::fs::write(
        &file,
        "let count = 0;\nfn on_update(dt) { count += 1; report(\"v1\", count); }\n",
    )
    .unwrap();
    let (mut app, log) = app(&root);
    app.world_mut().spawn(Script::new("live.ark"));
    run_until(&mut app, &log, |l, _| l.len() >= 3);

    std::fs::write(
        &file,
        "let count = 0;\nlet extra = 5;\nfn on_update(dt) { count += 1; report(\"v2\", count, extra); }\n",
    )
    .unwrap();
    run_until(&mut app, &log, |l, _| l.iter().any(|x| x.starts_with("v2")));
    let lines = log.lock().unwrap().clone();
    let last_v1: i64 = lines
        .iter()
        .rfind(|l| l.starts_with("v1"))
        .and_then(|l| l.split(' ').nth(1)?.parse().ok())
        .unwrap();
    let first_v2 = lines.iter().find(|l| l.starts_with("v2")).unwrap();
    // The count carried over; the new variable got its initial value.
    assert_eq!(*first_v2, format!("v2 {} 5", last_v1 + 1));

    std::fs::write(&file, "let count = ;\n").unwrap();
    let errors = run_until(&mut app, &log, |_, e| !e.is_empty());
    assert!(
        errors[0].message.contains("live.ark:1:13: error"),
        "{errors:?}"
    );
    let before = log.lock().unwrap().len();
    run_until(&mut app, &log, |l, _| l.len() >= before + 3);
    assert!(log.lock().unwrap().last().unwrap().starts_with("v2"));
    let _ = std::fs::remove_dir_all(&root);
}
