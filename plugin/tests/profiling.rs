//! What the profiler is sent, as a recording backend sees it: zones per
//! frame, call and script region (closed and reopened around a
//! suspension), the collector's step, plots, messages and frame marks.

use bevy::prelude::*;
use bevy_ark::prelude::*;
use bevy_ark::profiling::{Plot, ProfileEvent, RecordingBackend, ScriptProfiler};

mod common;
use common::{Scene, WORK, scene_with};

fn profiled(scripts: &[(&str, &str)]) -> (Scene, RecordingBackend) {
    let recorder = RecordingBackend::default();
    let backend = recorder.clone();
    let s = scene_with(WORK, scripts, move |app| {
        app.world_mut()
            .resource_mut::<ScriptProfiler>()
            .set_backend(backend);
    });
    (s, recorder)
}

/// The zones of some events, as (depth, name, text), checking that every
/// zone that begins ends.
fn zones(events: &[ProfileEvent]) -> Vec<(usize, String, String)> {
    let mut depth = 0;
    let mut out = Vec::new();
    for e in events {
        match e {
            ProfileEvent::ZoneBegin { name, text } => {
                out.push((depth, name.clone(), text.clone()));
                depth += 1;
            }
            ProfileEvent::ZoneEnd => {
                assert!(depth > 0, "a zone ended that never began: {events:?}");
                depth -= 1;
            }
            _ => {}
        }
    }
    assert_eq!(depth, 0, "zones left open at the frame's end: {events:?}");
    out
}

fn z(depth: usize, name: &str, text: &str) -> (usize, String, String) {
    (depth, name.to_string(), text.to_string())
}

const SUSPENDING: &str = "\
fn on_update(dt) {
    profile(\"outer\", fn() {
        profile_begin(\"inner\");
        report(\"before yield\");
        yield;
        profile_end();
    });
}
";

#[test]
fn a_script_region_ends_with_the_slice_and_reopens_when_the_call_resumes() {
    let (mut s, rec) = profiled(&[("a.ark", SUSPENDING)]);
    let e = s.spawn(Script::new("a.ark"));
    s.until("before yield");
    let text = format!("a.ark {e}");
    let first = rec.take();
    let got = zones(&first);
    let update_at = got
        .iter()
        .position(|(_, name, _)| name == "ark call on_update")
        .unwrap_or_else(|| panic!("no call zone: {got:?}"));
    assert_eq!(
        got[update_at..update_at + 3],
        [
            z(1, "ark call on_update", &text),
            z(2, "outer", ""),
            z(3, "inner", ""),
        ]
    );
    assert_eq!(got.last().unwrap(), &z(1, "ark gc", ""));
    // The next frame resumes the call inside both regions, which end;
    // then a new on_update opens them again up to its own yield.
    s.frame();
    let second = zones(&rec.take());
    assert_eq!(
        second,
        [
            z(0, "ark scripts", ""),
            z(1, "ark call on_update", &text),
            z(2, "outer", ""),
            z(3, "inner", ""),
            z(1, "ark call on_update", &text),
            z(2, "outer", ""),
            z(3, "inner", ""),
            z(1, "ark gc", ""),
        ]
    );
}

#[test]
fn every_frame_plots_its_numbers_marks_its_end_and_names_the_gc_phase() {
    let (mut s, rec) = profiled(&[("a.ark", "fn on_update(dt) { let l = [1, 2]; }")]);
    s.spawn(Script::new("a.ark"));
    s.frames(3);
    let events = rec.take();
    let plots: Vec<Plot> = events
        .iter()
        .filter_map(|e| match e {
            ProfileEvent::Plot(p, _) => Some(*p),
            _ => None,
        })
        .collect();
    assert_eq!(plots.len(), 3 * Plot::ALL.len());
    assert_eq!(plots[..Plot::ALL.len()], *Plot::ALL);
    let marks = events
        .iter()
        .filter(|e| **e == ProfileEvent::FrameMark)
        .count();
    assert_eq!(marks, 3);
    assert_eq!(events.last(), Some(&ProfileEvent::FrameMark));
    // The collector's zone says which phase the step left it in.
    let gc_text = events
        .windows(2)
        .find_map(|w| match w {
            [
                ProfileEvent::ZoneBegin { name, .. },
                ProfileEvent::ZoneText(t),
            ] if name == "ark gc" => Some(t.clone()),
            _ => None,
        })
        .expect("a gc zone with its phase");
    assert!(
        ["idle", "mark", "sweep"].contains(&gc_text.as_str()),
        "{gc_text}"
    );
    let budget = events.iter().find_map(|e| match e {
        ProfileEvent::Plot(Plot::BudgetMicros, v) => Some(*v),
        _ => None,
    });
    assert_eq!(budget, Some(0.0), "an instruction budget has no time line");
    assert_eq!(Plot::OpcodeMicros.name(), "ark opcode us");
}

#[test]
fn errors_compiles_and_hot_reloads_are_reported() {
    let (mut s, rec) = profiled(&[("bad.ark", "fn on_update(dt) {\n  let x = nil + 1;\n}\n")]);
    s.spawn(Script::new("bad.ark"));
    for _ in 0..200 {
        s.frame();
        if !s.errors.is_empty() {
            break;
        }
    }
    let events = rec.take();
    let compile = zones(&events)
        .into_iter()
        .find(|(_, name, _)| name == "ark compile");
    assert_eq!(compile, Some(z(0, "ark compile", "bad.ark")));
    let messages: Vec<&String> = events
        .iter()
        .filter_map(|e| match e {
            ProfileEvent::Message(m) => Some(m),
            _ => None,
        })
        .collect();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(messages[0].starts_with("bad.ark:2:"), "{messages:?}");
    s.edit("bad.ark", "fn on_update(dt) { }\n");
    s.frames(3);
    let events = rec.take();
    assert!(
        events.contains(&ProfileEvent::Message("ark: hot reload of bad.ark".into())),
        "{events:?}"
    );
}

#[test]
fn without_a_backend_scripts_profile_as_a_no_op() {
    // (With the `tracy` feature, ArkPlugin reports to Tracy by default.)
    let mut s = scene_with(
        WORK,
        &[(
            "a.ark",
            "fn on_update(dt) { report(\"got\", profile(\"x\", fn() { return 7; })); }",
        )],
        |app| {
            app.world_mut()
                .resource_mut::<ScriptProfiler>()
                .remove_backend();
        },
    );
    s.spawn(Script::new("a.ark"));
    s.until("got");
    assert_eq!(s.lines("got")[0], "got 7");
    assert!(s.errors.is_empty(), "{:?}", s.errors);
}

#[test]
fn profile_end_without_a_region_does_nothing() {
    let (mut s, rec) = profiled(&[(
        "a.ark",
        "fn on_update(dt) { profile_end(); profile_begin(\"x\"); profile_end(); profile_end(); report(\"ok\"); }",
    )]);
    s.spawn(Script::new("a.ark"));
    s.until("ok");
    assert!(s.errors.is_empty(), "{:?}", s.errors);
    // Each frame's zones still balance.
    zones(&rec.take());
}
