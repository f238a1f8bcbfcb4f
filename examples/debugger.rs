//! The debugger, driven from code: a breakpoint in `assets/examples/spin.ark`
//! stops its `on_update`; the example prints the stack and variables the
//! overlay would show, evaluates an expression in the stopped frame, and
//! lets the call go on. Headless: it runs until then and exits.
//!
//! `cargo run --example debugger`
//!
//! In a game with a window, add `ArkDebuggerPlugin` (feature `debugger`)
//! instead of `DebuggerModelPlugin`: the same model, drawn with egui over
//! the game, F12 to show it (the arena demo has it). `DebuggerModelPlugin`
//! alone keeps the model up to date without drawing it, for tools and tests
//! that read it or draw their own.

use std::time::Duration;

use bevy::prelude::*;
use bevy::time::TimeUpdateStrategy;
use bevy_ark::debugger::{Action, ConsoleKind, DebuggerModelPlugin, DebuggerState, VarNode};
use bevy_ark::prelude::*;

const SCRIPT: &str = "examples/spin.ark";
/// `frames += 1;`, the first line of `on_update`.
const LINE: u32 = 10;

fn app() -> App {
    let mut app = App::new();
    app.add_plugins((
        MinimalPlugins,
        AssetPlugin {
            file_path: concat!(env!("CARGO_MANIFEST_DIR"), "/assets").into(),
            ..default()
        },
        ArkPlugin::default(),
        DebuggerModelPlugin { open: true },
    ))
    .register_type::<Transform>()
    .insert_resource(TimeUpdateStrategy::ManualDuration(Duration::from_secs_f64(
        1.0 / 60.0,
    )))
    .add_systems(Startup, |mut commands: Commands| {
        commands.spawn((Transform::default(), Script::new(SCRIPT)));
    });
    app
}

fn debugger(app: &mut App) -> Mut<'_, DebuggerState> {
    app.world_mut().resource_mut::<DebuggerState>()
}

/// Runs frames until `done` holds of the debugger's model.
fn until(app: &mut App, what: &str, done: impl Fn(&DebuggerState) -> bool) {
    for _ in 0..2_000 {
        app.update();
        if done(&debugger(app)) {
            return;
        }
        // The script loads in the background.
        std::thread::sleep(Duration::from_millis(1));
    }
    panic!("never: {what}");
}

fn shown(nodes: &[VarNode]) -> Vec<String> {
    nodes
        .iter()
        .map(|n| format!("{} = {:?}", n.name, n.value))
        .collect()
}

/// What the session showed, for `main` to print and the test to check.
struct Session {
    reason: String,
    frames: Vec<String>,
    module: Vec<String>,
    evaluated: Vec<String>,
    moved_after: bool,
}

fn session(app: &mut App) -> Session {
    until(app, "the script runs", |d| !d.model.instances.is_empty());
    // What clicking line 10 in the Source window does.
    debugger(app).actions.push(Action::ToggleBreakpoint {
        script: SCRIPT.into(),
        line: LINE,
    });
    until(app, "the breakpoint stops the script", |d| {
        d.model.stop.is_some()
    });
    let (stop, module) = {
        let d = debugger(app);
        let stop = d.model.stop.clone().expect("stopped");
        (stop, shown(&d.model.variables.module))
    };
    let frames = stop
        .frames
        .iter()
        .map(|f| format!("{} at {}:{}", f.function, f.script, f.line))
        .collect();
    // The game goes on while the call is stopped; the console evaluates in
    // its frame.
    debugger(app)
        .actions
        .push(Action::Eval("frames * 10".into()));
    until(app, "the console answers", |d| {
        d.model
            .console
            .lines
            .iter()
            .any(|l| l.kind == ConsoleKind::Result)
    });
    let evaluated = debugger(app)
        .model
        .console
        .lines
        .iter()
        .filter(|l| matches!(l.kind, ConsoleKind::Input | ConsoleKind::Result))
        .map(|l| l.text.clone())
        .collect();
    // Clear the breakpoint and continue: the script moves its entity again.
    let before = position(app);
    debugger(app).actions.extend([
        Action::ToggleBreakpoint {
            script: SCRIPT.into(),
            line: LINE,
        },
        Action::Continue,
    ]);
    until(app, "the call goes on", |d| d.model.stop.is_none());
    for _ in 0..3 {
        app.update();
    }
    Session {
        reason: stop.reason,
        frames,
        module,
        evaluated,
        moved_after: position(app) != before,
    }
}

fn position(app: &mut App) -> Vec3 {
    let world = app.world_mut();
    world
        .query::<&Transform>()
        .single(world)
        .expect("one entity")
        .translation
}

fn main() {
    let mut app = app();
    let s = session(&mut app);
    println!("{}", s.reason);
    for frame in &s.frames {
        println!("  in {frame}");
    }
    for var in &s.module {
        println!("  module: {var}");
    }
    for line in &s.evaluated {
        println!("  console: {line}");
    }
    println!("continued; the entity moves again: {}", s.moved_after);
}

#[test]
fn a_breakpoint_stops_the_script_and_continue_lets_it_go_on() {
    let s = session(&mut app());
    assert_eq!(s.reason, format!("stopped at a breakpoint, line {LINE}"));
    assert_eq!(s.frames, [format!("on_update at {SCRIPT}:{LINE}")]);
    assert!(
        s.module.iter().any(|v| v.starts_with("frames = Int(")),
        "{:?}",
        s.module
    );
    assert_eq!(s.evaluated[0], "frames * 10");
    assert!(
        s.evaluated[1].parse::<i64>().is_ok_and(|n| n % 10 == 0),
        "{:?}",
        s.evaluated
    );
    assert!(s.moved_after);
}
