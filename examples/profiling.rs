//! Profiling: where the scripts' time goes, as zones, plots and frame
//! marks. `assets/examples/profiled.ark` marks two regions of its update
//! (`profile(name, f)`, `profile_begin`/`profile_end`).
//!
//! `cargo run --example profiling` records what the plugin reports with a
//! `RecordingBackend` and prints one frame of it as a tree: the zones
//! Tracy would show. `cargo run --release --features tracy --example
//! profiling` reports to Tracy instead (connect the Tracy 0.14.0 profiler
//! on this machine, loopback only; the README's Profiling section) and runs
//! for a minute so that there is time to look.

use std::time::Duration;

use bevy::prelude::*;
use bevy::time::TimeUpdateStrategy;
use bevy_ark::prelude::*;
#[cfg(not(feature = "tracy"))]
use bevy_ark::profiling::{ProfileEvent, RecordingBackend, ScriptProfiler};

fn app() -> App {
    let mut app = App::new();
    app.add_plugins((
        MinimalPlugins,
        AssetPlugin {
            file_path: concat!(env!("CARGO_MANIFEST_DIR"), "/assets").into(),
            ..default()
        },
        // With the `tracy` feature, the plugin reports to Tracy by itself.
        ArkPlugin::default(),
    ))
    .register_type::<Transform>()
    .insert_resource(TimeUpdateStrategy::ManualDuration(Duration::from_secs_f64(
        1.0 / 60.0,
    )))
    .add_systems(Startup, |mut commands: Commands| {
        for _ in 0..3 {
            commands.spawn((Transform::default(), Script::new("examples/profiled.ark")));
        }
    });
    app
}

/// Records what the plugin reports, in place of Tracy.
#[cfg(not(feature = "tracy"))]
fn record(app: &mut App) -> RecordingBackend {
    let recording = RecordingBackend::default();
    app.world_mut()
        .resource_mut::<ScriptProfiler>()
        .set_backend(recording.clone());
    recording
}

/// The zones of the last whole frame recorded that ran scripts, indented
/// by depth, with their texts; then its plots.
#[cfg(not(feature = "tracy"))]
fn last_frame(events: &[ProfileEvent]) -> Vec<String> {
    let frames: Vec<&[ProfileEvent]> = events
        .split(|e| *e == ProfileEvent::FrameMark)
        .filter(|f| f.iter().any(|e| matches!(e, ProfileEvent::ZoneBegin { name, .. } if name.starts_with("ark call"))))
        .collect();
    let Some(frame) = frames.last() else {
        return Vec::new();
    };
    let mut lines = Vec::new();
    let mut depth = 0;
    for event in *frame {
        match event {
            ProfileEvent::ZoneBegin { name, text } => {
                lines.push(
                    format!("{}{name} {text}", "  ".repeat(depth))
                        .trim_end()
                        .to_string(),
                );
                depth += 1;
            }
            ProfileEvent::ZoneText(text) => {
                if let Some(last) = lines.last_mut() {
                    last.push_str(&format!(" ({text})"));
                }
            }
            ProfileEvent::ZoneEnd => depth = depth.saturating_sub(1),
            ProfileEvent::Plot(plot, value) => {
                lines.push(format!("plot {}: {value:.1}", plot.name()))
            }
            ProfileEvent::Message(text) => lines.push(format!("message: {text}")),
            ProfileEvent::FrameMark => {}
        }
    }
    lines
}

/// Runs frames, recording what the plugin reports, until the last whole
/// frame recorded has a zone per instance's `plan path` region (the three
/// scripts load in the background): that frame, as `last_frame` shows it.
#[cfg(not(feature = "tracy"))]
fn a_frame_of_all_three(app: &mut App) -> Vec<String> {
    let recording = record(app);
    let mut events = Vec::new();
    for _ in 0..2_000 {
        app.update();
        events.extend(recording.take());
        let frame = last_frame(&events);
        if frame.iter().filter(|l| l.trim() == "plan path").count() == 3 {
            return frame;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    panic!("never a frame of all three scripts");
}

#[cfg(not(feature = "tracy"))]
fn main() {
    for line in a_frame_of_all_three(&mut app()) {
        println!("{line}");
    }
}

#[cfg(feature = "tracy")]
fn main() {
    let mut app = app();
    println!("reporting to Tracy for 60 s: connect the profiler to 127.0.0.1");
    let started = std::time::Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        app.update();
        std::thread::sleep(Duration::from_millis(16));
    }
}

#[cfg(not(feature = "tracy"))]
#[test]
fn a_frame_has_a_zone_per_call_and_per_region() {
    let frame = a_frame_of_all_three(&mut app());
    let calls: Vec<_> = frame
        .iter()
        .filter(|l| l.trim_start().starts_with("ark call on_update"))
        .collect();
    assert_eq!(calls.len(), 3, "{frame:#?}");
    // Each call's zone holds its two regions, one level in.
    let depth = |l: &str| l.len() - l.trim_start().len();
    let call_at = frame
        .iter()
        .position(|l| l.trim_start().starts_with("ark call on_update"))
        .unwrap();
    assert_eq!(frame[call_at + 1].trim(), "plan path");
    assert_eq!(frame[call_at + 2].trim(), "move");
    assert_eq!(depth(&frame[call_at + 1]), depth(&frame[call_at]) + 2);
    assert!(
        frame.iter().any(|l| l.starts_with("ark scripts")),
        "{frame:#?}"
    );
    assert!(
        frame.iter().any(|l| l.trim_start().starts_with("ark gc")),
        "{frame:#?}"
    );
    assert!(
        frame.iter().any(|l| l.starts_with("plot ark opcode us:")),
        "{frame:#?}"
    );
}
