//! Hostile scripts in a running game: each ends in a reported error (or is
//! held by the budget), the frame stays within its budget, the other
//! scripts keep running, and the heap comes back to its size.

use bevy::prelude::*;
use bevy_ark::prelude::*;

mod common;
use common::{Scene, scene};

/// Instructions a frame may run: the budget plus one call's overshoot
/// (its function's length and one loop round).
const FRAME: u64 = 20_000;
const BUDGET: ScriptBudget = ScriptBudget::Instructions {
    frame: FRAME,
    gc: 2_000,
};
const OVERSHOOT: u64 = 2_000;

const TICKER: &str = "let n = 0;\nfn on_update(dt) { n += 1; report(\"tick\", n); }";

/// Steps `n` frames, checking each stays within the budget; returns how
/// many ticks the ticker made meanwhile.
fn frames_within_budget(s: &mut Scene, n: usize) -> usize {
    let before = s.lines("tick").len();
    for _ in 0..n {
        s.frame();
        let stats = s.app.world().resource::<ScriptFrameStats>().clone();
        assert!(stats.instructions <= FRAME + OVERSHOOT, "{stats:?}");
    }
    s.lines("tick").len() - before
}

fn heap_bytes(s: &mut Scene) -> usize {
    let mut runtime = s.app.world_mut().resource_mut::<ScriptRuntime>();
    let vm = runtime.vm_mut();
    vm.full_collect();
    vm.heap().bytes()
}

#[test]
fn endless_loops_in_on_start_on_update_and_on_event_are_held_by_the_budget() {
    let mut s = scene(
        BUDGET,
        &[
            ("t.ark", TICKER),
            ("start.ark", "fn on_start() { while true { } }"),
            ("update.ark", "fn on_update(dt) { while true { } }"),
            ("event.ark", "fn on_event(n, d) { while true { } }"),
        ],
    );
    s.spawn(Script::new("t.ark"));
    for path in ["start.ark", "update.ark", "event.ark"] {
        s.spawn(Script::new(path));
    }
    s.until("tick");
    s.send(ScriptCommand::Broadcast {
        name: "go".into(),
        data: ScriptValue::Nil,
    });
    let ticks = frames_within_budget(&mut s, 60);
    assert!(ticks >= 15, "the ticker ran {ticks} times in 60 frames");
    assert!(s.errors.is_empty(), "{:?}", s.errors);
}

#[test]
fn an_allocation_bomb_is_out_of_memory_and_its_garbage_goes() {
    let bomb = "let hoard = [];\nfn on_update(dt) { while true { hoard.push([1, 2, 3, 4, 5, 6, 7, 8]); } }";
    let mut s = scene(BUDGET, &[("t.ark", TICKER), ("bomb.ark", bomb)]);
    s.app
        .world_mut()
        .resource_mut::<ScriptRuntime>()
        .vm_mut()
        .set_heap_limit(8 << 20);
    s.spawn(Script::new("t.ark"));
    s.until("tick");
    let before = heap_bytes(&mut s);
    let bomber = s.spawn(Script::new("bomb.ark"));
    let error = s.until_error();
    assert!(error.message.contains("out of memory"), "{error:?}");
    assert_eq!(error.entity, Some(bomber));
    assert!(frames_within_budget(&mut s, 10) >= 5);
    // The hoard is the bomber's: despawned, its heap goes with it.
    s.app.world_mut().despawn(bomber);
    s.frames(3);
    let after = heap_bytes(&mut s);
    assert!(
        after < before + (256 << 10),
        "{before} bytes before, {after} after"
    );
}

#[test]
fn runaway_recursion_is_a_stack_overflow_error() {
    let deep = "fn down(n) { return down(n + 1) + 1; }\nfn on_start() { down(0); }";
    let mut s = scene(BUDGET, &[("t.ark", TICKER), ("deep.ark", deep)]);
    s.spawn(Script::new("t.ark"));
    s.spawn(Script::new("deep.ark"));
    let error = s.until_error();
    assert!(error.message.contains("stack overflow"), "{error:?}");
    assert!(frames_within_budget(&mut s, 10) >= 5);
}

#[test]
fn a_script_that_fails_every_frame_keeps_failing_alone() {
    let failing = "fn on_update(dt) { let x = nil + 1; }";
    let mut s = scene(BUDGET, &[("t.ark", TICKER), ("f.ark", failing)]);
    s.app.insert_resource(ScriptErrorPolicy::Continue);
    s.spawn(Script::new("t.ark"));
    s.spawn(Script::new("f.ark"));
    s.until("tick");
    s.errors.clear();
    assert!(frames_within_budget(&mut s, 50) >= 45);
    assert!(s.errors.len() >= 45, "every failure is still a message");
}

#[test]
fn an_entity_a_script_holds_may_be_despawned_under_it() {
    let holder = "let target = nil;
fn on_start() { target = find(\"Target\"); }
fn on_update(dt) { report(\"x\", target.Transform.translation.x); }";
    let mut s = common::scene_with(BUDGET, &[("t.ark", TICKER), ("h.ark", holder)], |app| {
        app.register_type::<Transform>();
    });
    let target = s.spawn((Name::new("Target"), Transform::from_xyz(3.0, 0.0, 0.0)));
    s.spawn(Script::new("t.ark"));
    s.spawn(Script::new("h.ark"));
    s.until("x");
    s.app.world_mut().despawn(target);
    let error = s.until_error();
    assert!(error.message.contains("does not exist"), "{error:?}");
    assert!(frames_within_budget(&mut s, 10) >= 5);
}

#[test]
fn an_entity_whose_call_is_suspended_can_be_despawned() {
    let spinning = "fn on_update(dt) { while true { } }\nfn on_destroy() { report(\"gone\"); }";
    let mut s = scene(BUDGET, &[("t.ark", TICKER), ("spin.ark", spinning)]);
    s.spawn(Script::new("t.ark"));
    let spinner = s.spawn(Script::new("spin.ark"));
    s.until("tick");
    s.frames(3);
    s.app.world_mut().despawn(spinner);
    s.until("gone");
    assert!(frames_within_budget(&mut s, 10) >= 5);
    assert_eq!(
        s.app.world().resource::<ScriptRuntime>().instance_count(),
        1
    );
}

#[test]
fn reloading_to_broken_empty_or_junk_source_reports_and_keeps_the_game_running() {
    let mut s = scene(BUDGET, &[("t.ark", TICKER), ("v.ark", TICKER)]);
    s.spawn(Script::new("t.ark"));
    s.spawn(Script::new("v.ark"));
    s.until("tick");
    s.edit("v.ark", "fn on_update(dt) { let = ; }");
    let error = s.until_error();
    assert!(error.message.contains("v.ark:1:"), "{error:?}");
    // A broken edit keeps the old version: both tickers tick.
    let ticks = frames_within_budget(&mut s, 10);
    assert!(ticks >= 18, "{ticks}");
    s.errors.clear();
    s.edit("v.ark", "\u{0}\u{1}\u{7f}\u{fffd}\u{202e}");
    s.until_error();
    s.edit("v.ark", "");
    s.frames(3);
    // Empty source compiles: that instance now does nothing.
    let ticks = frames_within_budget(&mut s, 10);
    assert!((10..=11).contains(&ticks), "{ticks}");
}

#[test]
fn a_script_file_that_is_not_utf8_is_an_error_with_its_position() {
    let mut s = scene(BUDGET, &[("t.ark", TICKER)]);
    std::fs::write(s.root.join("junk.ark"), b"let a = 1;\n\xff\xfe\x00junk").unwrap();
    let e = s.spawn(Script::new("junk.ark"));
    let error = s.until_error();
    assert_eq!(error.entity, Some(e));
    assert!(
        error.message.contains("junk.ark:2:1") && error.message.contains("UTF-8"),
        "{error:?}"
    );
}

#[test]
fn a_thousand_scripts_failing_at_once_fail_alone_within_the_budget() {
    let failing = "fn on_start() { error(\"no\"); }";
    let mut s = scene(BUDGET, &[("t.ark", TICKER), ("f.ark", failing)]);
    s.spawn(Script::new("t.ark"));
    s.until("tick");
    for _ in 0..1000 {
        s.spawn(Script::new("f.ark"));
    }
    for _ in 0..200 {
        frames_within_budget(&mut s, 1);
        if s.errors.len() >= 1000 {
            break;
        }
    }
    assert_eq!(s.errors.len(), 1000);
    assert!(frames_within_budget(&mut s, 10) >= 5);
    assert_eq!(s.app.world().resource::<ScriptFrameStats>().failed, 1000);
}
