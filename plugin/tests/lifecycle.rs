//! A script's life on an entity, as a game developer meets it: path
//! changes, removal, despawns from scripts and from Rust, starvation,
//! commands that cannot be delivered, failures and reloads, the budget,
//! and data crossing to Rust.

use std::time::Duration;

use bevy::prelude::*;
use bevy_ark::prelude::*;

mod common;
use common::{Scene, WORK, scene, scene_with};

/// Reports its name at start, update and destroy.
fn lifecycle_script(name: &str) -> String {
    format!(
        "fn on_start() {{ report(\"{name} start\"); }}
         fn on_update(dt) {{ report(\"{name} update\"); }}
         fn on_destroy() {{ report(\"{name} destroyed\"); }}"
    )
}

// ---- 1. The Script component ----

#[test]
fn changing_the_script_path_replaces_the_old_instance() {
    let (a, b) = (lifecycle_script("a"), lifecycle_script("b"));
    let mut s = scene(WORK, &[("a.ark", &a), ("b.ark", &b)]);
    let e = s.spawn(Script::new("a.ark"));
    s.until("a update");
    s.app.world_mut().entity_mut(e).insert(Script::new("b.ark"));
    s.until("b update");
    let a_updates = s.lines("a update").len();
    s.frames(5);
    assert_eq!(s.lines("a destroyed").len(), 1);
    assert_eq!(
        s.lines("a update").len(),
        a_updates,
        "a kept running beside b"
    );
    assert_eq!(
        s.app.world().resource::<ScriptRuntime>().instance_count(),
        1
    );
}

#[test]
fn removing_and_inserting_the_script_again_restarts_it() {
    let a = lifecycle_script("a");
    let mut s = scene(WORK, &[("a.ark", &a)]);
    let e = s.spawn(Script::new("a.ark"));
    s.until("a update");
    let mut entity = s.app.world_mut().entity_mut(e);
    entity.remove::<Script>();
    entity.insert(Script::new("a.ark"));
    // The script may load again from disk: its last handle was dropped.
    s.until_n("a start", 2);
    s.frames(2);
    assert_eq!(s.lines("a destroyed").len(), 1);
    assert_eq!(s.lines("a start").len(), 2);
}

#[test]
fn the_same_script_twice_is_two_instances() {
    let counter = "let n = 0; fn on_update(dt) { n += 1; report(\"n\", n); }";
    let mut s = scene(WORK, &[("c.ark", counter)]);
    s.spawn(Script::new("c.ark").with("c.ark"));
    s.until("n");
    s.frames(1);
    assert_eq!(
        s.app.world().resource::<ScriptRuntime>().instance_count(),
        2
    );
    let first_two = &s.lines("n")[..2];
    assert_eq!(first_two, ["n 1", "n 1"], "each has its own state");
}

#[test]
fn scripts_run_in_the_order_given_even_when_a_later_one_compiled_first() {
    let one = "fn on_update(dt) { report(\"order\", \"first\", self); }";
    let two = "fn on_update(dt) { report(\"order\", \"second\", self); }";
    let mut s = scene(WORK, &[("one.ark", one), ("two.ark", two)]);
    // two.ark compiles (for another entity) long before one.ark loads.
    s.spawn(Script::new("two.ark"));
    s.until("order");
    let e = s.spawn(Script::new("one.ark").with("two.ark"));
    let mine = format!("<entity {e}>");
    for _ in 0..1000 {
        s.frame();
        if s.lines("order")
            .iter()
            .filter(|l| l.ends_with(&mine))
            .count()
            >= 4
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let order: Vec<String> = s
        .lines("order")
        .into_iter()
        .filter(|l| l.ends_with(&mine))
        .collect();
    assert!(order.len() >= 4, "{order:?}");
    for pair in order.chunks(2) {
        assert!(
            pair[0].contains("first") && pair[1].contains("second"),
            "{order:?}"
        );
    }
}

// ---- 2. Despawning ----

const VICTIM: &str = "
    fn on_update(dt) { report(\"victim update\"); }
    fn on_destroy() {
        report(\"victim destroyed\", self.Transform.translation.x);
        send(\"bye\");
    }";
const KILLER: &str = "
    let frames = 0;
    fn on_update(dt) {
        frames += 1;
        if frames == 3 { report(\"kill\", despawn(find(\"Victim\"))); }
    }";

#[test]
fn a_scripted_entity_despawned_by_a_script_gets_on_destroy_with_its_components_and_no_more_updates()
{
    let mut s = scene_with(
        WORK,
        &[("victim.ark", VICTIM), ("killer.ark", KILLER)],
        |app| {
            app.register_type::<Transform>();
        },
    );
    // The killer runs first (lower entity), the victim after it.
    s.spawn(Script::new("killer.ark"));
    let victim = s.spawn((
        Name::new("Victim"),
        Transform::from_xyz(5.0, 0.0, 0.0),
        Script::new("victim.ark"),
    ));
    s.until("kill");
    let updates = s.lines("victim update").len();
    s.frames(3);
    assert_eq!(s.lines("kill"), ["kill true"]);
    assert_eq!(s.lines("victim destroyed"), ["victim destroyed 5.0"]);
    assert_eq!(
        s.lines("victim update").len(),
        updates,
        "it updated after its despawn"
    );
    assert!(s.errors.is_empty(), "{:?}", s.errors);
    assert!(
        s.app.world().get_entity(victim).is_err(),
        "still in the world"
    );
    let bye: Vec<_> = s.events.iter().filter(|e| e.name == "bye").collect();
    assert_eq!(bye.len(), 1);
    assert_eq!(
        bye[0].sender,
        Some(victim),
        "on_destroy's send names its own entity"
    );
}

#[test]
fn despawned_by_rust_its_on_destroy_runs_in_the_next_frame_and_sends_as_itself() {
    let script = "fn on_update(dt) { report(\"up\"); } fn on_destroy() { send(\"gone\"); }";
    let mut s = scene(WORK, &[("s.ark", script)]);
    let e = s.spawn(Script::new("s.ark"));
    // Another script runs after it every frame.
    s.spawn(Script::new("s.ark"));
    s.until("up");
    s.frames(2);
    s.app.world_mut().despawn(e);
    s.frame();
    let gone: Vec<_> = s.events.iter().filter(|ev| ev.name == "gone").collect();
    assert_eq!(gone.len(), 1);
    assert_eq!(gone[0].sender, Some(e));
}

// ---- 3. Starvation ----

#[test]
fn a_heavy_script_does_not_starve_the_next_script_on_its_entity() {
    let heavy = "fn on_update(dt) { let x = 0; for i in 0..100000 { x += i; } }";
    let light = "fn on_update(dt) { report(\"light\"); }";
    let budget = ScriptBudget::Instructions {
        frame: 20_000,
        gc: 1_000,
    };
    let mut s = scene(budget, &[("heavy.ark", heavy), ("light.ark", light)]);
    s.spawn(Script::new("heavy.ark").with("light.ark"));
    s.until("light");
    let before = s.lines("light").len();
    s.frames(100);
    let ran = s.lines("light").len() - before;
    assert!(ran >= 20, "light ran {ran} times in 100 frames");
}

// ---- 4. Nothing vanishes ----

const HEALER: &str = "fn heal(amount) { report(\"heal\", amount); }";

#[test]
fn a_call_sent_before_the_script_loaded_is_delivered() {
    let mut s = scene(WORK, &[("healer.ark", HEALER)]);
    let e = s.spawn(Script::new("healer.ark"));
    s.send(ScriptCommand::Call {
        entity: e,
        function: "heal".into(),
        args: vec![ScriptValue::Int(5)],
    });
    s.until("heal");
    assert_eq!(s.lines("heal"), ["heal 5"]);
    assert!(s.errors.is_empty(), "{:?}", s.errors);
}

#[test]
fn a_call_to_a_function_no_script_defines_is_an_error() {
    let mut s = scene(WORK, &[("healer.ark", HEALER)]);
    let e = s.spawn(Script::new("healer.ark"));
    s.send(ScriptCommand::Call {
        entity: e,
        function: "fly".into(),
        args: vec![],
    });
    let error = s.until_error();
    assert_eq!(error.entity, Some(e));
    assert!(
        error.message.contains("'fly'") && error.message.contains("defines"),
        "{error:?}"
    );
}

#[test]
fn a_call_to_a_despawned_entity_or_one_without_scripts_is_an_error() {
    let mut s = scene(WORK, &[("healer.ark", HEALER)]);
    let gone = s.spawn(Name::new("x"));
    s.app.world_mut().despawn(gone);
    s.send(ScriptCommand::Call {
        entity: gone,
        function: "heal".into(),
        args: vec![],
    });
    let error = s.until_error();
    assert!(error.message.contains("does not exist"), "{error:?}");
    s.errors.clear();
    let plain = s.spawn(Name::new("plain"));
    s.send(ScriptCommand::Call {
        entity: plain,
        function: "heal".into(),
        args: vec![],
    });
    let error = s.until_error();
    assert!(error.message.contains("has no scripts"), "{error:?}");
}

#[test]
fn a_missing_script_file_is_an_error_naming_the_entity() {
    let mut s = scene(WORK, &[]);
    let e = s.spawn(Script::new("missing.ark"));
    let error = s.until_error();
    assert_eq!(error.entity, Some(e));
    assert!(error.message.contains("missing.ark"), "{error:?}");
}

// ---- 5. Failures and reloads ----

#[test]
fn a_failed_instance_queues_no_broadcasts_for_after_its_fix() {
    let broken = "fn on_start() { let x = nil + 1; } fn on_event(n, d) { report(\"got\", n); }";
    let mut s = scene(WORK, &[("b.ark", broken)]);
    s.spawn(Script::new("b.ark"));
    s.until_error();
    for _ in 0..50 {
        s.send(ScriptCommand::Broadcast {
            name: "old".into(),
            data: ScriptValue::Nil,
        });
        s.frame();
    }
    s.edit("b.ark", "fn on_event(n, d) { report(\"got\", n); }");
    s.frames(3);
    s.send(ScriptCommand::Broadcast {
        name: "new".into(),
        data: ScriptValue::Nil,
    });
    s.until("got");
    s.frames(2);
    assert_eq!(s.lines("got"), ["got new"]);
}

#[test]
fn a_reload_that_adds_or_removes_on_event_changes_who_gets_broadcasts() {
    let mut s = scene(
        WORK,
        &[(
            "e.ark",
            "fn on_start() { report(\"up\", 0); } fn on_update(dt) {}",
        )],
    );
    s.spawn(Script::new("e.ark"));
    s.until("up");
    let broadcast = |s: &mut Scene, name: &str| {
        s.send(ScriptCommand::Broadcast {
            name: name.into(),
            data: ScriptValue::Nil,
        });
        s.frames(2);
    };
    broadcast(&mut s, "before");
    s.edit("e.ark", "fn on_event(n, d) { report(\"got\", n); }");
    s.frames(3);
    broadcast(&mut s, "added");
    s.until("got");
    s.edit("e.ark", "fn on_update(dt) {}");
    s.frames(3);
    broadcast(&mut s, "removed");
    s.edit("e.ark", "fn on_event(n, d) { report(\"got\", n); }");
    s.frames(3);
    broadcast(&mut s, "again");
    s.frames(2);
    assert_eq!(s.lines("got"), ["got added", "got again"]);
    assert!(s.errors.is_empty(), "{:?}", s.errors);
}

#[test]
fn a_reload_that_fixes_a_failed_top_level_runs_the_top_level_and_on_start() {
    let broken = "let speed = nil + 1; fn on_start() { report(\"start\", speed); }";
    let mut s = scene(WORK, &[("s.ark", broken)]);
    s.spawn(Script::new("s.ark"));
    s.until_error();
    s.edit(
        "s.ark",
        "let speed = 7; fn on_start() { report(\"start\", speed); }",
    );
    s.until("start");
    assert_eq!(s.lines("start"), ["start 7"]);
}

#[test]
fn under_the_continue_policy_an_update_that_returns_after_failures_marks_the_script_started() {
    // `on_start` fails, and so does the first `on_update`; the second
    // returns (in a batch of updates). From then on the script counts as
    // started: a reload keeps its state and does not run `on_start` again.
    let script = "let n = 0;
                  fn on_start() { report(\"start\", n); let x = nil + 1; }
                  fn on_update(dt) { n += 1; if n == 1 { let x = nil + 1; } report(\"n\", n); }";
    let mut s = scene(WORK, &[("s.ark", script)]);
    s.app.insert_resource(ScriptErrorPolicy::Continue);
    s.spawn(Script::new("s.ark"));
    s.until_n("n", 3);
    s.edit("s.ark", &script.replace("\"n\", n", "\"m\", n"));
    s.until("m");
    assert_eq!(s.lines("start"), ["start 0"]);
    let kept: i64 = s.lines("m")[0]["m ".len()..].parse().unwrap();
    assert!(kept >= 4, "the reload started over: m {kept}");
    assert_eq!(s.errors.len(), 2, "{:?}", s.errors);
}

#[test]
fn a_reload_keeps_one_copy_of_what_the_top_level_spawned() {
    let script = "let minion = spawn({Name: \"Minion\"});
                  fn on_update(dt) { report(\"v\", 1); }";
    let mut s = scene(WORK, &[("s.ark", script)]);
    s.spawn(Script::new("s.ark"));
    s.until("v");
    s.edit("s.ark", &script.replace("\"v\", 1", "\"v\", 2"));
    s.until("v 2");
    s.edit("s.ark", &script.replace("\"v\", 1", "\"v\", 3"));
    s.until("v 3");
    assert_eq!(s.named("Minion"), 1);
}

// ---- 6. The budget ----

#[test]
fn on_destroy_of_many_entities_runs_within_the_budget_over_several_frames() {
    let script = "fn on_update(dt) { report(\"up\"); }
                  fn on_destroy() { let x = 0; for i in 0..2000 { x += i; } report(\"bye\"); }";
    let budget = ScriptBudget::Instructions {
        frame: 50_000,
        gc: 1_000,
    };
    let mut s = scene(budget, &[("s.ark", script)]);
    let entities: Vec<Entity> = (0..200).map(|_| s.spawn(Script::new("s.ark"))).collect();
    s.until("up");
    s.frames(2);
    for e in entities {
        s.app.world_mut().despawn(e);
    }
    let mut frames = 0;
    while s.lines("bye").len() < 200 {
        let ran = s.frame_measured();
        frames += 1;
        // One call may overshoot by its function's length and one loop round.
        assert!(ran <= 50_000 + 2_000, "{ran} instructions in one frame");
        assert!(frames < 200, "destroys never finished");
    }
    assert!(
        frames > 1,
        "200 heavy on_destroy calls fit one frame's budget"
    );
    assert_eq!(
        s.app.world().resource::<ScriptRuntime>().instance_count(),
        0
    );
}

#[test]
fn a_reloaded_top_level_runs_within_the_budget() {
    let heavy = |v: i64| {
        format!(
            "let t = 0; for i in 0..30000 {{ t += i; }}
             fn on_update(dt) {{ report(\"v\", {v}); }}"
        )
    };
    let budget = ScriptBudget::Instructions {
        frame: 20_000,
        gc: 1_000,
    };
    let mut s = scene(budget, &[("s.ark", &heavy(1))]);
    s.spawn(Script::new("s.ark"));
    s.until("v 1");
    s.edit("s.ark", &heavy(2));
    for _ in 0..200 {
        let ran = s.frame_measured();
        assert!(ran <= 20_000 + 2_000, "{ran} instructions in one frame");
        if !s.lines("v 2").is_empty() {
            return;
        }
    }
    panic!("the reload never finished");
}

#[test]
fn data_too_large_to_send_is_an_error_not_a_huge_copy() {
    let script = "fn on_start() { let l = [1]; for i in 0..21 { l = [l, l]; } send(\"big\", l); }";
    let mut s = scene(WORK, &[("s.ark", script)]);
    s.spawn(Script::new("s.ark"));
    let error = s.until_error();
    assert!(error.message.contains("too"), "{error:?}");
    assert!(s.events.iter().all(|e| e.name != "big"));
}

#[test]
fn a_budget_with_no_room_for_scripts_is_reported() {
    let budget = ScriptBudget::Micros {
        frame: 1_000,
        gc: 2_000,
    };
    let mut s = scene(budget, &[("s.ark", "fn on_update(dt) {}")]);
    s.spawn(Script::new("s.ark"));
    let error = s.until_error();
    assert!(error.message.contains("ScriptBudget"), "{error:?}");
    s.errors.clear();
    s.frames(5);
    assert!(s.errors.is_empty(), "reported once: {:?}", s.errors);
}

// ---- 7. Data crossing to Rust ----

#[test]
fn int_and_entity_map_keys_survive_a_broadcast() {
    let script = "fn on_start() { broadcast(\"m\", {[1]: \"one\", [self]: \"me\", s: 2}); }
                  fn on_event(n, d) {
                      for k in keys(d) { report(\"key\", type(k), d[k]); }
                  }";
    let mut s = scene(WORK, &[("s.ark", script)]);
    s.spawn(Script::new("s.ark"));
    s.until("key");
    s.frames(1);
    assert_eq!(
        s.lines("key"),
        ["key int one", "key entity me", "key string 2"]
    );
}

#[test]
fn sending_a_component_sends_its_fields() {
    let script =
        "fn on_start() { send(\"t\", self.Transform); send(\"p\", self.Transform.translation); }";
    let mut s = scene_with(WORK, &[("s.ark", script)], |app| {
        app.register_type::<Transform>();
    });
    s.spawn((Transform::from_xyz(1.0, 2.0, 3.0), Script::new("s.ark")));
    for _ in 0..1000 {
        s.frame();
        if s.events.len() >= 2 {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(s.errors.is_empty(), "{:?}", s.errors);
    let t = &s.events.iter().find(|e| e.name == "t").expect("sent").data;
    let ScriptValue::Map(fields) = t else {
        panic!("not a map: {t:?}")
    };
    assert_eq!(
        fields[0],
        (
            "translation".into(),
            ScriptValue::Vec3(Vec3::new(1.0, 2.0, 3.0))
        )
    );
    assert_eq!(fields.len(), 3, "{fields:?}");
    let p = &s.events.iter().find(|e| e.name == "p").expect("sent").data;
    assert_eq!(*p, ScriptValue::Vec3(Vec3::new(1.0, 2.0, 3.0)));
}

#[test]
fn a_failed_spawn_leaves_no_entity_behind() {
    let script = "fn on_start() { spawn({Name: \"Ghost\", Transform: {translation: \"up\"}}); }";
    let mut s = scene_with(WORK, &[("s.ark", script)], |app| {
        app.register_type::<Transform>();
    });
    s.spawn(Script::new("s.ark"));
    s.until_error();
    assert_eq!(s.named("Ghost"), 0);
}

#[derive(Component, Reflect, Default)]
#[reflect(Component, Default)]
struct Counter {
    big: u64,
}

#[test]
fn a_u64_beyond_the_int_range_is_an_error_not_a_ref() {
    let script = "fn on_start() { report(\"big\", self.Counter.big); }";
    let mut s = scene_with(WORK, &[("s.ark", script)], |app| {
        app.register_type::<Counter>();
    });
    s.spawn((Counter { big: u64::MAX }, Script::new("s.ark")));
    let error = s.until_error();
    assert!(error.message.contains("beyond the int range"), "{error:?}");
    assert!(s.lines("big").is_empty());
}

// ---- 8. Under the debugger ----

const TICKER: &str =
    "let n = 0;\nfn on_update(dt) {\n    n += 1;\n    report(\"tick\", n, self);\n}";

fn ticks_of(s: &Scene, e: Entity) -> usize {
    let me = format!("<entity {e}>");
    s.lines("tick").iter().filter(|l| l.ends_with(&me)).count()
}

#[test]
fn a_call_stopped_at_a_breakpoint_stays_stopped_until_the_game_lets_it_go() {
    let mut s = scene(WORK, &[("t.ark", TICKER)]);
    let (a, b) = (s.spawn(Script::new("t.ark")), s.spawn(Script::new("t.ark")));
    s.until("tick");
    let bp = {
        let mut runtime = s.app.world_mut().resource_mut::<ScriptRuntime>();
        runtime.vm_mut().set_breakpoint("t.ark", 4, None)
    };
    s.frames(2);
    let stopped = s.app.world().resource::<ScriptRuntime>().stopped_calls();
    assert_eq!(stopped.len(), 2, "{stopped:?}");
    let (a_ticks, b_ticks) = (ticks_of(&s, a), ticks_of(&s, b));
    s.frames(5);
    assert_eq!(
        (ticks_of(&s, a), ticks_of(&s, b)),
        (a_ticks, b_ticks),
        "a stopped call ran"
    );
    // Let a's call go on, with the breakpoint removed: only a ticks again.
    let mut runtime = s.app.world_mut().resource_mut::<ScriptRuntime>();
    runtime.vm_mut().remove_breakpoint(bp);
    let call_of_a = stopped.iter().find(|(e, _, _)| *e == a).unwrap().2;
    runtime.continue_call(call_of_a);
    s.frames(3);
    assert!(ticks_of(&s, a) > a_ticks);
    assert_eq!(ticks_of(&s, b), b_ticks, "b was not let go");
}

#[test]
fn with_stop_all_one_stopped_call_halts_every_script() {
    let stops = "fn on_update(dt) {\n    report(\"stopper\");\n}";
    let mut s = scene(WORK, &[("t.ark", TICKER), ("stop.ark", stops)]);
    let ticker = s.spawn(Script::new("t.ark"));
    s.spawn(Script::new("stop.ark"));
    s.until("stopper");
    s.until("tick");
    let mut runtime = s.app.world_mut().resource_mut::<ScriptRuntime>();
    runtime.set_stop_all(true);
    runtime.vm_mut().set_breakpoint("stop.ark", 2, None);
    s.frames(2);
    let before = ticks_of(&s, ticker);
    s.frames(5);
    assert_eq!(
        ticks_of(&s, ticker),
        before,
        "a script ran while another was stopped"
    );
}

/// Many instances with nothing to do but `on_update` run in one batch: each
/// call still runs as its own entity, and a failure, a yield or a despawn
/// in the middle of the batch touches only its own instance.
#[test]
fn updates_run_together_still_run_each_as_its_own_entity() {
    const MEMBER: &str = "let n = 0;
        fn on_update(dt) {
            n += 1;
            let i = int(self.Transform.translation.x);
            if i == 3 and n == 2 { let boom = nil + 1; }
            if i == 5 and n == 2 { yield; report(\"resumed 5\"); }
            if i == 7 and n == 2 { report(\"kill\", despawn(find(\"member-9\"))); }
            send(\"tick\", [i, n]);
        }
        fn on_destroy() { report(\"destroyed\", int(self.Transform.translation.x)); }";
    let mut s = scene_with(WORK, &[("member.ark", MEMBER)], |app| {
        app.register_type::<Transform>();
    });
    // Numbered in the order of their turns (the order their scripts came).
    let mut members: Vec<Entity> = (0..12).map(|_| s.spawn(())).collect();
    members.sort();
    for (i, &member) in members.iter().enumerate() {
        s.app.world_mut().entity_mut(member).insert((
            Name::new(format!("member-{i}")),
            Transform::from_xyz(i as f32, 0.0, 0.0),
            Script::new("member.ark"),
        ));
    }
    for _ in 0..1000 {
        s.frame();
        if !s.events.is_empty() || !s.errors.is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    assert!(s.errors.is_empty(), "{:?}", s.errors);
    // Frame 1 ran every member once; frame 2 is the eventful one.
    s.events.clear();
    s.frame();
    let ticks = |s: &Scene| -> Vec<(Option<Entity>, String)> {
        s.events
            .iter()
            .filter(|e| e.name == "tick")
            .map(|e| (e.sender, format!("{:?}", e.data)))
            .collect()
    };
    let frame2 = ticks(&s);
    // Each tick names its sender, whose position is its first number.
    for (sender, data) in &frame2 {
        let i = members.iter().position(|m| Some(*m) == *sender).unwrap();
        assert!(
            data.starts_with(&format!("List([Int({i}), Int(2)")),
            "{data}"
        );
    }
    let senders: Vec<usize> = frame2
        .iter()
        .map(|(e, _)| members.iter().position(|m| Some(*m) == *e).unwrap())
        .collect();
    // 3 failed, 5 waits in its yield, 9 was despawned by 7 before its turn.
    assert_eq!(senders, [0, 1, 2, 4, 6, 7, 8, 10, 11]);
    assert_eq!(s.errors.len(), 1, "{:?}", s.errors);
    assert_eq!(s.errors[0].entity, Some(members[3]));
    assert_eq!(s.lines("kill"), ["kill true"]);
    assert_eq!(s.lines("destroyed"), ["destroyed 9"]);
    // 5 goes on from its yield in the next frame (and then updates), and 3
    // has stopped.
    s.events.clear();
    s.frame();
    assert_eq!(s.lines("resumed"), ["resumed 5"]);
    // (9's record went, and the last one took its place in the order.)
    let mut frame3: Vec<usize> = ticks(&s)
        .iter()
        .map(|(e, _)| members.iter().position(|m| Some(*m) == *e).unwrap())
        .collect();
    frame3.sort();
    assert_eq!(frame3, [0, 1, 2, 4, 5, 5, 6, 7, 8, 10, 11]);
    let stats = s.app.world().resource::<ScriptFrameStats>().clone();
    assert_eq!((stats.failed, stats.suspended), (1, 0));
    assert_eq!(stats.instances_run, 11, "calls run");
}

#[test]
fn kept_output_names_the_entity_and_script_of_every_line() {
    // Entities of two scripts in turn, so that both the entity and the
    // script change between calls, and both stay the same between the
    // two entities of `a.ark` spawned in a row.
    let mut scene = scene(
        WORK,
        &[
            (
                "a.ark",
                "fn on_update(dt) { print(\"from a\"); report(\"a ran\"); }",
            ),
            (
                "b.ark",
                "fn on_update(dt) { print(\"from b\"); report(\"b ran\"); }",
            ),
        ],
    );
    scene
        .app
        .world_mut()
        .resource_mut::<ScriptRuntime>()
        .capture_output(true);
    let order = ["a.ark", "a.ark", "b.ark", "a.ark", "b.ark"];
    let entities: Vec<(Entity, &str)> = order
        .iter()
        .map(|&path| (scene.spawn(Script::new(path)), path))
        .collect();
    scene.until_n("a ran", 6);
    scene.frame();
    let lines = scene
        .app
        .world_mut()
        .resource_mut::<ScriptRuntime>()
        .take_output();
    for (entity, path) in &entities {
        let text = format!("from {}", &path[..1]);
        let own = lines.iter().filter(|l| l.entity == Some(*entity)).count();
        assert!(own >= 1, "no line from {entity:?}: {lines:?}");
        for line in lines.iter().filter(|l| l.entity == Some(*entity)) {
            assert_eq!(
                (line.script.as_str(), line.text.as_str()),
                (*path, text.as_str())
            );
        }
    }
    assert!(lines.iter().all(|l| l.entity.is_some()), "{lines:?}");
}

#[test]
fn a_line_printed_between_frames_belongs_to_no_entity() {
    let mut scene = scene(
        WORK,
        &[("a.ark", "fn on_update(dt) { report(\"a ran\"); }")],
    );
    let mut runtime = scene.app.world_mut().resource_mut::<ScriptRuntime>();
    runtime.capture_output(true);
    scene.spawn(Script::new("a.ark"));
    scene.until("a ran");
    // Rust runs code of its own after the scripts' turns.
    let mut runtime = scene.app.world_mut().resource_mut::<ScriptRuntime>();
    runtime.take_output();
    runtime
        .vm_mut()
        .eval("print(\"from rust\");")
        .expect("runs");
    let lines = runtime.take_output();
    assert_eq!(
        lines,
        vec![ScriptPrint {
            entity: None,
            script: String::new(),
            text: "from rust".to_string(),
        }]
    );
}
