//! The debugger overlay, driven as a user drives it: egui_kittest clicks
//! and types into the real windows (no GPU), over a headless game whose
//! scripts run, stop and step.

#![cfg(feature = "debugger")]

use bevy::prelude::*;
use bevy_ark::debugger::{
    Action, ConsoleKind, DebuggerModelPlugin, DebuggerState, InstanceState, Shown, VarNode,
    VarPath, VarRoot, ui,
};
use bevy_ark::prelude::*;
use bevy_egui::egui;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

mod common;
use common::{Scene, WORK, scene_with};

const ENEMY: &str = "\
let hp = 42;
let path = [1, 2, 3];
fn on_update(dt) {
    let before = hp;
    hp = before + 1;
    report(\"tick\", hp);
}
";

const BAD: &str = "\
fn on_update(dt) {
    let x = nil + 1;
}
";

/// A game with the debugger's model and the given scripts, one entity each.
fn game(scripts: &[(&str, &str)]) -> Scene {
    let mut s = scene_with(WORK, scripts, |app| {
        app.add_plugins(DebuggerModelPlugin { open: true })
            .register_type::<Transform>();
    });
    for (name, _) in scripts {
        s.spawn((
            Script::new(*name),
            Name::new(format!("{name} holder")),
            Transform::from_xyz(1.5, 2.0, 3.0),
        ));
    }
    s
}

fn state(s: &mut Scene) -> Mut<'_, DebuggerState> {
    s.app.world_mut().resource_mut::<DebuggerState>()
}

/// The overlay drawn over the game: each harness step draws the windows
/// from the model, and what they ask for is done at the next game frame.
fn overlay(scene: Scene) -> Harness<'static, Scene> {
    Harness::builder()
        .with_size(egui::vec2(1280.0, 720.0))
        .build_ui_state(
            |ui, scene: &mut Scene| {
                let mut state = state(scene);
                let state = &mut *state;
                let actions = ui::show(ui.ctx(), &mut state.model);
                state.actions.extend(actions);
            },
            scene,
        )
}

/// A game frame, then the overlay redrawn.
fn frame(h: &mut Harness<'static, Scene>) {
    h.state_mut().frame();
    h.run();
}

/// Frames until `done` holds of the model.
fn until(h: &mut Harness<'static, Scene>, what: &str, done: impl Fn(&DebuggerState) -> bool) {
    for _ in 0..2000 {
        frame(h);
        if done(&state(h.state_mut())) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    panic!("never: {what}");
}

fn select_by_click(h: &mut Harness<'static, Scene>, script: &str) {
    until(h, "the instance is listed", |s| {
        s.model
            .instances
            .iter()
            .any(|r| r.script == script && r.state == InstanceState::Running)
    });
    h.get_by_label_contains(&format!("{script} holder")).click();
    h.run();
    frame(h);
}

fn module_node<'a>(s: &'a DebuggerState, name: &str) -> Option<&'a VarNode> {
    s.model.variables.module.iter().find(|n| n.name == name)
}

fn module_var(s: &DebuggerState, name: &str) -> Option<Shown> {
    module_node(s, name).map(|n| n.value.clone())
}

#[test]
fn selecting_an_instance_shows_its_variables() {
    let mut h = overlay(game(&[("enemy.ark", ENEMY)]));
    select_by_click(&mut h, "enemy.ark");
    let hp = module_var(&state(h.state_mut()), "hp");
    assert!(matches!(hp, Some(Shown::Int(n)) if n > 42), "{hp:?}");
    assert_eq!(
        module_var(&state(h.state_mut()), "path"),
        Some(Shown::List(3))
    );
    // The list opens as a tree.
    h.get_by_label_contains("path: list (3)").click();
    h.run();
    frame(&mut h);
    let s = state(h.state_mut());
    let path = module_node(&s, "path").unwrap();
    let items: Vec<_> = path.children.iter().map(|c| c.value.clone()).collect();
    assert_eq!(items, [Shown::Int(1), Shown::Int(2), Shown::Int(3)]);
    assert_eq!(
        s.model.source.as_ref().map(|v| v.script.as_str()),
        Some("enemy.ark"),
        "the Source window shows the selected script"
    );
}

#[test]
fn clicking_the_gutter_sets_a_breakpoint_that_stops_the_script() {
    let mut h = overlay(game(&[("enemy.ark", ENEMY)]));
    select_by_click(&mut h, "enemy.ark");
    h.get_by_label("breakpoint line 5").click();
    h.run();
    until(&mut h, "the script stops", |s| s.model.stop.is_some());
    let s = state(h.state_mut());
    let stop = s.model.stop.as_ref().unwrap();
    assert_eq!(stop.reason, "stopped at a breakpoint, line 5");
    assert_eq!(stop.frames[0].function, "on_update");
    assert_eq!(s.model.source.as_ref().unwrap().current_line, Some(5));
    let before = s.model.variables.locals.iter().find(|n| n.name == "before");
    assert!(before.is_some(), "{:?}", s.model.variables.locals);
    // The game goes on; the stopped call does not.
    let ticks = h.state().lines("tick").len();
    for _ in 0..5 {
        frame(&mut h);
    }
    assert_eq!(h.state().lines("tick").len(), ticks);
    // Clicking again removes it; Continue lets the call go on.
    h.get_by_label("breakpoint line 5").click();
    h.get_by_label("Continue").click();
    h.run();
    until(&mut h, "the script runs again", |s| s.model.stop.is_none());
    frame(&mut h);
    assert!(h.state().lines("tick").len() > ticks);
    assert!(
        h.state_mut()
            .app
            .world_mut()
            .resource_mut::<ScriptRuntime>()
            .vm_mut()
            .breakpoints()
            .is_empty()
    );
}

#[test]
fn the_step_buttons_step() {
    let mut h = overlay(game(&[("enemy.ark", ENEMY)]));
    select_by_click(&mut h, "enemy.ark");
    h.get_by_label("breakpoint line 4").click();
    h.run();
    until(&mut h, "the script stops", |s| s.model.stop.is_some());
    h.get_by_label("breakpoint line 4").click();
    let line = |h: &mut Harness<'static, Scene>| {
        state(h.state_mut())
            .model
            .source
            .as_ref()
            .unwrap()
            .current_line
    };
    assert_eq!(line(&mut h), Some(4));
    h.get_by_label("Step over").click();
    h.run();
    until(&mut h, "the step lands", |s| {
        s.model
            .stop
            .as_ref()
            .is_some_and(|st| st.frames[0].line == 5)
    });
    assert_eq!(line(&mut h), Some(5));
    // F10 steps over too.
    h.key_press(egui::Key::F10);
    h.run();
    until(&mut h, "the second step lands", |s| {
        s.model
            .stop
            .as_ref()
            .is_some_and(|st| st.frames[0].line == 6)
    });
    h.get_by_label("Step out").click();
    h.run();
    until(&mut h, "the call finishes", |s| s.model.stop.is_none());
}

#[test]
fn the_console_evaluates_in_the_selected_instance_with_history() {
    let mut h = overlay(game(&[("enemy.ark", ENEMY)]));
    select_by_click(&mut h, "enemy.ark");
    let input = h.get_by_label("Evaluate");
    input.focus();
    input.type_text("hp = 100");
    h.run();
    h.key_press(egui::Key::Enter);
    h.run();
    frame(&mut h);
    let input = h.get_by_label("Evaluate");
    input.focus();
    input.type_text("hp * 2");
    h.run();
    h.key_press(egui::Key::Enter);
    h.run();
    frame(&mut h);
    let s = state(h.state_mut());
    let shown: Vec<(ConsoleKind, String)> = s
        .model
        .console
        .lines
        .iter()
        .filter(|l| matches!(l.kind, ConsoleKind::Input | ConsoleKind::Result))
        .map(|l| (l.kind, l.text.clone()))
        .collect();
    assert_eq!(shown[0], (ConsoleKind::Input, "hp = 100".to_string()));
    assert_eq!(shown[1], (ConsoleKind::Result, "nil".to_string()));
    assert_eq!(shown[2], (ConsoleKind::Input, "hp * 2".to_string()));
    let doubled: i64 = shown[3].1.parse().unwrap();
    assert!((200..220).contains(&doubled), "{shown:?}");
    assert_eq!(s.model.console.history[..2], ["hp = 100", "hp * 2"]);
    assert!(
        h.query_by_label(&shown[3].1).is_some(),
        "the result is on screen"
    );
    // What the script could read, the console can: its entity's
    // components too.
    let input = h.get_by_label("Evaluate");
    input.focus();
    input.type_text("self.Transform.translation.x");
    h.run();
    h.key_press(egui::Key::Enter);
    h.run();
    frame(&mut h);
    let last = state(h.state_mut())
        .model
        .console
        .lines
        .back()
        .cloned()
        .unwrap();
    assert_eq!(
        (last.kind, last.text.as_str()),
        (ConsoleKind::Result, "1.5")
    );
    // Up brings back the last line (the field focused first, as a
    // click does).
    h.get_by_label("Evaluate").focus();
    h.run();
    h.key_press(egui::Key::ArrowUp);
    h.run();
    assert_eq!(
        state(h.state_mut()).model.console.input,
        "self.Transform.translation.x"
    );
    h.key_press(egui::Key::ArrowUp);
    h.run();
    assert_eq!(state(h.state_mut()).model.console.input, "hp * 2");
}

#[test]
fn an_errors_location_opens_the_source_there() {
    let mut h = overlay(game(&[("enemy.ark", ENEMY), ("bad.ark", BAD)]));
    select_by_click(&mut h, "enemy.ark");
    state(h.state_mut()).model.console.all_instances = true;
    until(&mut h, "the error is in the console", |s| {
        s.model
            .console
            .lines
            .iter()
            .any(|l| l.kind == ConsoleKind::Error)
    });
    h.run();
    h.get_by_label("bad.ark:2").click();
    h.run();
    frame(&mut h);
    let s = state(h.state_mut());
    let view = s.model.source.as_ref().unwrap();
    assert_eq!(view.script, "bad.ark");
    assert_eq!(view.lines[1].text(), "    let x = nil + 1;");
    let failed = s
        .model
        .instances
        .iter()
        .find(|r| r.script == "bad.ark")
        .unwrap();
    assert_eq!(failed.state, InstanceState::Failed);
    assert!(
        failed.error.as_deref().unwrap().contains("bad.ark:2"),
        "{failed:?}"
    );
}

#[test]
fn values_edited_in_place_are_written_to_the_script() {
    let mut s = game(&[("enemy.ark", ENEMY)]);
    s.until("tick");
    let at = state(&mut s).model.instances[0].at;
    state(&mut s).actions.push(Action::Select(at));
    s.frame();
    state(&mut s).actions.push(Action::Set {
        path: VarPath::root(VarRoot::Module("hp".into())),
        value: Shown::Int(-1000),
    });
    // Opening `path` and writing its second item.
    let path = VarPath::root(VarRoot::Module("path".into()));
    state(&mut s)
        .model
        .variables
        .expanded
        .insert(path.clone(), 100);
    state(&mut s).actions.push(Action::Set {
        path: path.child(1),
        value: Shown::Str {
            text: "two".into(),
            cut: false,
        },
    });
    s.frame();
    let hp = module_var(&state(&mut s), "hp");
    assert!(
        matches!(hp, Some(Shown::Int(n)) if (-1000..-990).contains(&n)),
        "{hp:?}"
    );
    let st = state(&mut s);
    let list = module_node(&st, "path").unwrap();
    assert_eq!(
        list.children[1].value,
        Shown::Str {
            text: "two".into(),
            cut: false
        }
    );
    let last = s.lines("tick").last().cloned().unwrap();
    assert!(last.starts_with("tick -99"), "{last}");
}

#[test]
fn the_plugin_runs_headless_and_its_key_toggles_the_overlay() {
    use bevy::input::InputPlugin;
    use bevy_ark::debugger::ArkDebuggerPlugin;
    let mut s = scene_with(WORK, &[("enemy.ark", ENEMY)], |app| {
        app.add_plugins((
            InputPlugin,
            bevy::window::WindowPlugin {
                primary_window: None,
                ..default()
            },
            ArkDebuggerPlugin {
                toggle_key: KeyCode::F2,
                open: false,
            },
        ));
    });
    s.spawn(Script::new("enemy.ark"));
    s.until("tick");
    assert!(!state(&mut s).open);
    let press = |s: &mut Scene| {
        use bevy::input::ButtonState;
        use bevy::input::keyboard::{Key, KeyboardInput};
        for state in [ButtonState::Pressed, ButtonState::Released] {
            s.app.world_mut().write_message(KeyboardInput {
                key_code: KeyCode::F2,
                logical_key: Key::F2,
                state,
                text: None,
                repeat: false,
                window: Entity::PLACEHOLDER,
            });
            s.frame();
        }
    };
    press(&mut s);
    assert!(state(&mut s).open);
    assert!(
        !state(&mut s).model.instances.is_empty(),
        "the model fills while open"
    );
    press(&mut s);
    assert!(!state(&mut s).open);
}

#[test]
fn the_performance_window_ranks_the_busiest_script_and_selects_it() {
    const BUSY: &str = "fn on_update(dt) { let n = 0; for i in 0..3000 { n += i; } }";
    const IDLE: &str = "fn on_update(dt) { }";
    let mut h = overlay(game(&[("busy.ark", BUSY), ("idle.ark", IDLE)]));
    until(&mut h, "both run", |s| {
        s.model
            .instances
            .iter()
            .filter(|r| r.state == InstanceState::Running)
            .count()
            == 2
    });
    // Ranked over wall-clock buckets of 0.1 s; plotted frame by frame (how
    // many frames a bucket holds depends on the machine's load).
    until(&mut h, "a ranking", |s| s.model.perf.busiest().len() == 2);
    until(&mut h, "frames plotted", |s| {
        s.model.perf.samples.len() > 10
    });
    let busy = state(h.state_mut()).model.perf.busiest()[0].0;
    let busy_row = state(h.state_mut())
        .model
        .instances
        .iter()
        .find(|r| r.at == busy)
        .cloned()
        .unwrap();
    assert_eq!(busy_row.script, "busy.ark");
    let samples = state(h.state_mut()).model.perf.samples.len();
    assert!(samples > 10, "{samples} frames plotted");
    h.run();
    assert!(h.query_by_label_contains("instructions").is_some());
    h.get_by_label_contains(&format!("{} · busy.ark", busy.entity))
        .click();
    h.run();
    frame(&mut h);
    assert_eq!(state(h.state_mut()).model.selected, Some(busy));
}
