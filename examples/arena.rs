//! The demo: `cargo run --release --features window --example arena`.
//!
//! With the `window` feature and a display, it opens a window (arrow keys
//! or WASD move the player). Otherwise it runs headless for 600 frames and
//! prints what the scripts did, frame by frame.

fn main() {
    #[cfg(feature = "window")]
    if has_display() {
        windowed::run();
        return;
    }
    headless();
}

#[cfg(feature = "window")]
fn has_display() -> bool {
    std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some()
}

fn headless() {
    println!("No window: running the arena headless for 600 frames (1/60 s each).");
    let (rows, score) = ark::arena::run_headless(600, 60, bevy_ark::ScriptBudget::default());
    println!(
        "{:>6} {:>10} {:>8} {:>12} {:>5} {:>9} {:>7} {:>9} {:>8}",
        "frame",
        "script us",
        "gc us",
        "instructions",
        "ran",
        "suspended",
        "failed",
        "heap KB",
        "entities"
    );
    for r in &rows {
        let s = &r.stats;
        println!(
            "{:>6} {:>10.0} {:>8.0} {:>12} {:>5} {:>9} {:>7} {:>9} {:>8}",
            r.frame,
            s.opcode_micros,
            s.gc_micros,
            s.instructions,
            s.instances_run,
            s.suspended,
            s.failed,
            s.heap_bytes / 1024,
            r.entities
        );
    }
    println!(
        "player caught {} times, {} particle bursts, {} script errors",
        score.player_hits,
        score.bursts,
        score.errors.len()
    );
    for e in &score.errors {
        eprintln!("{e}");
    }
    if !score.errors.is_empty() {
        std::process::exit(1);
    }
}

#[cfg(feature = "window")]
mod windowed {
    use bevy::prelude::*;
    use bevy::render::view::screenshot::{Screenshot, save_to_disk};
    use bevy_ark::debugger::{Action, ArkDebuggerPlugin, DebuggerState};

    pub fn run() {
        // `--screenshot PATH`: open the debugger, stop an enemy at a
        // breakpoint, save the window to PATH and quit.
        let screenshot = std::env::args().skip_while(|a| a != "--screenshot").nth(1);
        let mut app = App::new();
        app.add_plugins(DefaultPlugins.set(bevy::asset::AssetPlugin {
            file_path: concat!(env!("CARGO_MANIFEST_DIR"), "/assets").into(),
            ..default()
        }));
        ark::arena::setup(&mut app);
        app.add_plugins(ArkDebuggerPlugin {
            open: screenshot.is_some(),
            ..default()
        })
        .add_systems(Startup, |mut commands: Commands| {
            commands.spawn(Camera2d);
        })
        .add_systems(Update, give_sprites);
        if let Some(path) = screenshot {
            app.insert_resource(ScreenshotTo(path))
                .add_systems(Update, stop_an_enemy_and_take_a_screenshot);
        }
        app.run();
    }

    /// Colours what the scripts move about.
    fn give_sprites(mut commands: Commands, named: Query<(Entity, &Name), Without<Sprite>>) {
        for (entity, name) in &named {
            let (color, size) = match name.as_str() {
                "Player" => (Color::srgb(0.3, 0.7, 1.0), 28.0),
                "Enemy" => (Color::srgb(1.0, 0.3, 0.3), 24.0),
                "Particle" => (Color::srgb(1.0, 0.9, 0.4), 6.0),
                _ => continue,
            };
            commands
                .entity(entity)
                .insert(Sprite::from_color(color, Vec2::splat(size)));
        }
    }

    #[derive(Resource)]
    struct ScreenshotTo(String);

    /// Sets a breakpoint in the enemy script once the game runs, waits for
    /// an enemy to stop there, saves the window, and quits.
    fn stop_an_enemy_and_take_a_screenshot(
        mut frame: Local<u32>,
        mut taken_at: Local<Option<u32>>,
        to: Res<ScreenshotTo>,
        mut state: ResMut<DebuggerState>,
        mut commands: Commands,
        mut exit: MessageWriter<AppExit>,
    ) {
        *frame += 1;
        if *frame == 60 {
            state.actions.push(Action::ToggleBreakpoint {
                script: "scripts/enemy.ark".into(),
                line: 14,
            });
        }
        if taken_at.is_none() && state.model.stop.is_some() && *frame > 90 {
            commands
                .spawn(Screenshot::primary_window())
                .observe(save_to_disk(to.0.clone()));
            *taken_at = Some(*frame);
        }
        if taken_at.is_some_and(|at| *frame > at + 30) || *frame > 1200 {
            exit.write(AppExit::Success);
        }
    }
}
