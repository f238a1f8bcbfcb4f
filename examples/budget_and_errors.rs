//! Budgets and errors: `assets/examples/busy.ark` wants far more than a
//! frame's budget and is suspended and resumed across frames, while
//! `assets/examples/broken.ark` fails with a runtime error that is
//! reported (script, line, stack) without stopping the game. Headless.
//!
//! `cargo run --example budget_and_errors`

use bevy::prelude::*;
use bevy_ark::prelude::*;

/// The errors scripts reported.
#[derive(Resource, Default)]
struct Reported(Vec<ScriptError>);

fn app() -> App {
    let mut app = App::new();
    app.add_plugins((
        MinimalPlugins,
        AssetPlugin {
            file_path: concat!(env!("CARGO_MANIFEST_DIR"), "/assets").into(),
            ..default()
        },
        ArkPlugin::default(),
    ))
    // 200,000 instructions a frame (deterministic; a game would give
    // microseconds: `ScriptBudget::Micros`).
    .insert_resource(ScriptBudget::Instructions {
        frame: 200_000,
        gc: 10_000,
    })
    .init_resource::<Reported>()
    .add_systems(Startup, |mut commands: Commands| {
        commands.spawn(Script::new("examples/busy.ark"));
        commands.spawn(Script::new("examples/broken.ark"));
    })
    .add_systems(Update, report_errors.after(ArkSystems::Run));
    app.world_mut()
        .resource_mut::<ScriptRuntime>()
        .capture_output(true);
    app
}

fn report_errors(mut errors: MessageReader<ScriptError>, mut reported: ResMut<Reported>) {
    for error in errors.read() {
        eprintln!("{}", error.message);
        reported.0.push(error.clone());
    }
}

fn main() {
    let mut app = app();
    for frame in 0..60 {
        app.update();
        for line in app
            .world_mut()
            .resource_mut::<ScriptRuntime>()
            .take_output()
        {
            println!("{}: {}", line.script, line.text);
        }
        let stats = app.world().resource::<ScriptFrameStats>();
        if frame % 10 == 0 {
            println!(
                "frame {frame}: {} instructions, {} calls waiting",
                stats.instructions, stats.suspended
            );
        }
    }
}

#[test]
fn the_busy_script_spans_frames_and_the_broken_one_is_reported() {
    let mut app = app();
    // Frames until both scripts have run (they load in the background)
    // and the busy one has spanned a few frames.
    let mut suspended_frames = 0;
    for _ in 0..2_000 {
        app.update();
        suspended_frames += usize::from(app.world().resource::<ScriptFrameStats>().suspended > 0);
        if suspended_frames >= 5 && !app.world().resource::<Reported>().0.is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    assert!(suspended_frames >= 5, "{suspended_frames}");
    let reported = &app.world().resource::<Reported>().0;
    assert_eq!(reported.len(), 1, "{reported:?}");
    assert!(
        reported[0].message.contains("broken.ark:9"),
        "{}",
        reported[0].message
    );
}
