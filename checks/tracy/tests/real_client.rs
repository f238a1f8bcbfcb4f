//! A short game with the real Tracy client compiled in (bevy_ark's
//! `tracy`, with Bevy's own `trace_tracy` on too) and no profiler
//! connected: the scripts run as they do without it, and the process ends
//! promptly (a client with no profiler buffers and exits without waiting).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bevy::asset::AssetPlugin;
use bevy::log::LogPlugin;
use bevy::prelude::*;
use bevy::time::TimeUpdateStrategy;
use bevy_ark::prelude::*;
use bevy_ark::profiling::ScriptProfiler;

#[test]
fn a_game_runs_with_tracy_compiled_in_and_no_profiler() {
    let root = std::env::temp_dir().join(format!("ark-tracy-{}", std::process::id()));
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(
        root.join("a.ark"),
        "let n = 0;\nfn on_update(dt) {\n    n += 1;\n    profile(\"count\", fn() { report(n); });\n}\n",
    )
    .unwrap();
    let mut app = App::new();
    app.add_plugins((
        MinimalPlugins,
        // Installs Bevy's tracing-tracy layer beside the plugin's client.
        LogPlugin::default(),
        AssetPlugin {
            file_path: root.display().to_string(),
            ..default()
        },
        ArkPlugin::default(),
    ))
    .insert_resource(TimeUpdateStrategy::ManualDuration(Duration::from_millis(
        16,
    )));
    let seen: Arc<Mutex<Vec<i64>>> = Arc::default();
    let sink = seen.clone();
    app.add_script_fn("report", move |n: i64| sink.lock().unwrap().push(n));
    app.finish();
    app.cleanup();
    assert!(
        app.world().resource::<ScriptProfiler>().enabled(),
        "the tracy feature reports to Tracy by default"
    );
    assert!(
        app.world().resource::<ScriptProfiler>().frame_marks,
        "a headless game has no renderer to mark frames: the plugin does"
    );
    app.world_mut().spawn(Script::new("a.ark"));
    for _ in 0..2000 {
        app.update();
        if seen.lock().unwrap().len() >= 60 {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let seen = seen.lock().unwrap();
    assert_eq!(seen[..60], (1..=60).collect::<Vec<i64>>()[..]);
    assert!(tracy_running());
}

fn tracy_running() -> bool {
    // The client the plugin started is the process's one.
    bevy_ark::profiling::tracy_client_running()
}
