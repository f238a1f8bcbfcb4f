//! What the plugin's tests share: a headless `App` whose scripts can
//! `report(...)` lines into a log.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use bevy::asset::AssetPlugin;
use bevy::prelude::*;
use bevy_ark::prelude::*;

pub type Log = Arc<Mutex<Vec<String>>>;

/// The test scripts' folder.
pub const SCRIPTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/scripts");

/// A headless app with `ArkPlugin`, assets from `root` (watched for changes
/// when `watch`), `setup` applied before the plugin's runtime is used, and
/// a `report` native that logs its arguments.
pub fn test_app(root: &str, watch: bool, setup: impl FnOnce(&mut App)) -> (App, Log) {
    let mut app = App::new();
    app.add_plugins((
        MinimalPlugins,
        AssetPlugin {
            file_path: root.to_string(),
            watch_for_changes_override: watch.then_some(true),
            ..default()
        },
        ArkPlugin,
    ));
    setup(&mut app);
    let log: Log = Arc::default();
    let sink = log.clone();
    app.world_mut()
        .resource_mut::<ScriptRuntime>()
        .vm_mut()
        .register_native("report", ark_vm::Arity::AtLeast(0), move |ctx, args| {
            let line = args
                .iter()
                .map(|&a| ctx.display(a))
                .collect::<Result<Vec<String>, _>>()?;
            sink.lock().unwrap().push(line.join(" "));
            Ok(ark_vm::Value::Nil)
        });
    app.finish();
    app.cleanup();
    (app, log)
}

/// Takes the messages of type `M` sent since the last call. Messages live
/// two frames, so tests collect them frame by frame as they come.
pub fn drain<M: Message>(app: &mut App) -> Vec<M> {
    app.world_mut()
        .resource_mut::<Messages<M>>()
        .drain()
        .collect()
}

/// The log's lines that start with `prefix`.
pub fn lines(log: &Log, prefix: &str) -> Vec<String> {
    log.lock()
        .unwrap()
        .iter()
        .filter(|l| l.starts_with(prefix))
        .cloned()
        .collect()
}
