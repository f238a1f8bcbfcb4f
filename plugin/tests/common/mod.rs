//! What the plugin's tests share: a headless `App` whose scripts can
//! `report(...)` lines into a log.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bevy::asset::AssetPlugin;
use bevy::prelude::*;
use bevy::time::TimeUpdateStrategy;
use bevy_ark::ScriptAsset;
use bevy_ark::prelude::*;

pub type Log = Arc<Mutex<Vec<String>>>;

/// The test scripts' folder.
pub const SCRIPTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/scripts");

/// A headless app with `ArkPlugin`, assets from `root` (watched for changes
/// when `watch`), `setup` applied before the plugin's runtime is used, and
/// a `report` native that logs its arguments.
pub fn test_app(root: &str, watch: bool, setup: impl FnOnce(&mut App)) -> (App, Log) {
    test_app_with(ArkPlugin::default(), root, watch, setup)
}

/// `test_app` with the plugin configured as given.
pub fn test_app_with(
    plugin: ArkPlugin,
    root: &str,
    watch: bool,
    setup: impl FnOnce(&mut App),
) -> (App, Log) {
    let mut app = App::new();
    app.add_plugins((
        MinimalPlugins,
        AssetPlugin {
            file_path: root.to_string(),
            watch_for_changes_override: watch.then_some(true),
            ..default()
        },
        plugin,
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

/// A headless app over a folder of the given scripts.
pub struct Scene {
    pub app: App,
    pub log: Log,
    pub root: PathBuf,
    pub errors: Vec<ScriptError>,
    pub events: Vec<ScriptEvent>,
}

pub fn scene(budget: ScriptBudget, scripts: &[(&str, &str)]) -> Scene {
    scene_with(budget, scripts, |_| {})
}

pub fn scene_with(
    budget: ScriptBudget,
    scripts: &[(&str, &str)],
    setup: impl FnOnce(&mut App),
) -> Scene {
    scene_in(ArkPlugin::default(), budget, scripts, setup)
}

/// `scene_with`, the plugin configured as given.
pub fn scene_in(
    plugin: ArkPlugin,
    budget: ScriptBudget,
    scripts: &[(&str, &str)],
    setup: impl FnOnce(&mut App),
) -> Scene {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let root = std::env::temp_dir().join(format!("ark-lifecycle-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&root).unwrap();
    for (name, source) in scripts {
        std::fs::write(root.join(name), source).unwrap();
    }
    let (app, log) = test_app_with(plugin, &root.display().to_string(), false, |app| {
        app.insert_resource(budget)
            .insert_resource(TimeUpdateStrategy::ManualDuration(Duration::from_millis(
                16,
            )));
        setup(app);
    });
    Scene {
        app,
        log,
        root,
        errors: Vec::new(),
        events: Vec::new(),
    }
}

pub const WORK: ScriptBudget = ScriptBudget::Instructions {
    frame: 100_000,
    gc: 1_000,
};

impl Scene {
    pub fn frame(&mut self) {
        self.app.update();
        self.errors.extend(drain::<ScriptError>(&mut self.app));
        self.events.extend(drain::<ScriptEvent>(&mut self.app));
    }

    pub fn frames(&mut self, n: usize) {
        for _ in 0..n {
            self.frame();
        }
    }

    /// Steps frames until the log has a line starting with `prefix`
    /// (scripts load on another thread, so this waits for them too).
    pub fn until(&mut self, prefix: &str) {
        self.until_n(prefix, 1);
    }

    /// Steps frames until the log has `n` lines starting with `prefix`.
    pub fn until_n(&mut self, prefix: &str, n: usize) {
        for _ in 0..1000 {
            self.frame();
            if self.lines(prefix).len() >= n {
                return;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        panic!(
            "never saw {prefix:?}; log: {:?}; errors: {:?}",
            self.log.lock().unwrap(),
            self.errors
        );
    }

    /// Steps frames until a script error arrives.
    pub fn until_error(&mut self) -> ScriptError {
        for _ in 0..1000 {
            self.frame();
            if let Some(e) = self.errors.first() {
                return e.clone();
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        panic!("no script error; log: {:?}", self.log.lock().unwrap());
    }

    pub fn lines(&self, prefix: &str) -> Vec<String> {
        lines(&self.log, prefix)
    }

    pub fn spawn(&mut self, bundle: impl Bundle) -> Entity {
        self.app.world_mut().spawn(bundle).id()
    }

    pub fn send(&mut self, command: ScriptCommand) {
        self.app.world_mut().write_message(command);
    }

    /// Replaces a script's source, as a hot reload does.
    pub fn edit(&mut self, name: &str, source: &str) {
        let world = self.app.world_mut();
        let server = world.resource::<AssetServer>().clone();
        let id = server
            .get_handle::<ScriptAsset>(name.to_string())
            .expect("the script is loaded")
            .id();
        let mut assets = world.resource_mut::<Assets<ScriptAsset>>();
        assets.get_mut(id).expect("loaded").source = source.to_string();
    }

    /// Instructions the VM ran during one frame, however they were
    /// counted; checks that the frame's statistics count them all.
    pub fn frame_measured(&mut self) -> u64 {
        let before = self.instructions();
        self.frame();
        let ran = self.instructions() - before;
        let stats = self.app.world().resource::<ScriptFrameStats>().clone();
        assert_eq!(stats.instructions, ran, "work outside the statistics");
        ran
    }

    pub fn instructions(&mut self) -> u64 {
        self.app
            .world_mut()
            .resource_mut::<ScriptRuntime>()
            .vm_mut()
            .instructions_executed()
    }

    pub fn named(&mut self, name: &str) -> usize {
        let world = self.app.world_mut();
        let mut query = world.query::<&Name>();
        query.iter(world).filter(|n| n.as_str() == name).count()
    }
}

impl Drop for Scene {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}
