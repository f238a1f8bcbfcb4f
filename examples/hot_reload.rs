//! Hot reload (`bevy_ark`'s `file_watcher` feature, on here): the game
//! runs a script from a folder of its own, the script file is edited on
//! disk, and the running instance picks up the new code while keeping its
//! module variables. Headless: it makes the edit itself.
//!
//! `cargo run --example hot_reload`

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bevy::prelude::*;
use bevy_ark::prelude::*;

const FIRST: &str = "let count = 0;\nfn on_update(dt) { count += 1; if count % 20 == 0 { print(\"old code, count\", count); } }\n";
const EDITED: &str = "let count = 0;\nfn on_update(dt) { count += 1; if count % 20 == 0 { print(\"new code, count\", count); } }\n";

fn app(root: &Path) -> App {
    std::fs::create_dir_all(root).unwrap();
    std::fs::write(root.join("live.ark"), FIRST).unwrap();
    let mut app = App::new();
    app.add_plugins((
        MinimalPlugins,
        AssetPlugin {
            file_path: root.display().to_string(),
            watch_for_changes_override: Some(true),
            ..default()
        },
        ArkPlugin::default(),
    ))
    .add_systems(Startup, |mut commands: Commands| {
        commands.spawn(Script::new("live.ark"));
    });
    app.world_mut()
        .resource_mut::<ScriptRuntime>()
        .capture_output(true);
    app
}

/// Runs frames (real time passing, for the watcher) until a printed line
/// contains `text`: the lines printed, or `None` after ten seconds.
fn until(app: &mut App, text: &str) -> Option<Vec<String>> {
    let (start, mut lines) = (Instant::now(), Vec::new());
    while start.elapsed() < Duration::from_secs(10) {
        app.update();
        for line in app
            .world_mut()
            .resource_mut::<ScriptRuntime>()
            .take_output()
        {
            println!("{}", line.text);
            lines.push(line.text);
        }
        if lines.iter().any(|l| l.contains(text)) {
            return Some(lines);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    None
}

fn folder() -> PathBuf {
    std::env::temp_dir().join(format!("ark-hot-reload-example-{}", std::process::id()))
}

fn main() {
    let root = folder();
    let mut app = app(&root);
    until(&mut app, "old code").expect("the script runs");
    println!("editing live.ark");
    std::fs::write(root.join("live.ark"), EDITED).unwrap();
    until(&mut app, "new code").expect("the edit is picked up");
    let _ = std::fs::remove_dir_all(root);
}

#[test]
fn an_edit_on_disk_runs_with_the_old_state() {
    let root = folder().join("test");
    let mut app = app(&root);
    until(&mut app, "old code").expect("the script runs");
    std::fs::write(root.join("live.ark"), EDITED).unwrap();
    let lines = until(&mut app, "new code").expect("the edit is picked up");
    // The count went on from where the old code left it.
    let first_new = lines.iter().find(|l| l.contains("new code")).unwrap();
    let count: u32 = first_new.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(count > 20, "{first_new}");
    let _ = std::fs::remove_dir_all(root);
}
