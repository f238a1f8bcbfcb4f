//! The plugin under load.
//!
//! `cargo bench --features bench --bench plugin`
//!
//! 1. 10,000 entities, each running a small `on_update` that reads and
//!    writes its `Transform`, against the same work as a plain Rust system,
//!    in the same run: milliseconds per frame and the ratio.
//! 2. A 1 ms frame budget with scripts that want about 10 ms: how far past
//!    the budget the scheduler runs (p99 and max over 300 frames). The bound:
//!    a call is suspended at most `CLOCK_CHECK_INTERVAL` instructions (plus
//!    the one native running) after the deadline, and the collector step
//!    aims at 90% of what is left.

use std::time::{Duration, Instant};

use bevy::prelude::*;
use bevy::time::TimeUpdateStrategy;
use bevy_ark::prelude::*;

const ENTITIES: usize = 10_000;
const FRAMES: usize = 120;

fn scripts_dir() -> String {
    let dir = std::env::temp_dir().join(format!("ark-plugin-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("mover.ark"),
        "let phase = 0.0;
         fn on_update(dt) {
             phase += dt;
             let t = self.Transform;
             t.translation = t.translation + vec3(cos(phase), sin(phase), 0.0) * dt;
         }",
    )
    .unwrap();
    std::fs::write(
        dir.join("greedy.ark"),
        "fn on_update(dt) { let x = 0; for i in 0..100000 { x += i % 7; } }",
    )
    .unwrap();
    dir.display().to_string()
}

fn app(dir: &str, budget: ScriptBudget) -> App {
    let mut app = App::new();
    app.add_plugins((
        MinimalPlugins,
        bevy::asset::AssetPlugin {
            file_path: dir.to_string(),
            ..default()
        },
        ArkPlugin,
    ))
    .register_type::<Transform>()
    .insert_resource(budget)
    .insert_resource(TimeUpdateStrategy::ManualDuration(Duration::from_secs_f64(
        1.0 / 60.0,
    )));
    app.finish();
    app.cleanup();
    app
}

fn wait_for_instances(app: &mut App, n: usize) {
    for _ in 0..2_000 {
        app.update();
        if app.world().resource::<ScriptRuntime>().instance_count() >= n {
            return;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    panic!("scripts did not load");
}

#[derive(Component)]
struct Phase(f32);

fn rust_mover(time: Res<Time>, mut q: Query<(&mut Transform, &mut Phase)>) {
    let dt = time.delta_secs();
    for (mut t, mut p) in &mut q {
        p.0 += dt;
        t.translation += Vec3::new(p.0.cos(), p.0.sin(), 0.0) * dt;
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort_unstable();
    v[v.len() / 2]
}

fn scripts_vs_rust(dir: &str) {
    // Enough budget that every script runs every frame.
    let mut scripted = app(
        dir,
        ScriptBudget::Micros {
            frame: 1_000_000,
            gc: 1_000,
        },
    );
    for _ in 0..ENTITIES {
        scripted
            .world_mut()
            .spawn((Transform::default(), Script::new("mover.ark")));
    }
    wait_for_instances(&mut scripted, ENTITIES);
    let mut script_frames = Vec::new();
    for _ in 0..FRAMES {
        let t = Instant::now();
        scripted.update();
        script_frames.push(t.elapsed());
    }
    let stats = scripted.world().resource::<ScriptFrameStats>().clone();
    assert_eq!(
        stats.instances_run, ENTITIES,
        "every script runs every frame"
    );

    let mut plain = App::new();
    plain
        .add_plugins(MinimalPlugins)
        .insert_resource(TimeUpdateStrategy::ManualDuration(Duration::from_secs_f64(
            1.0 / 60.0,
        )))
        .add_systems(Update, rust_mover);
    for _ in 0..ENTITIES {
        plain.world_mut().spawn((Transform::default(), Phase(0.0)));
    }
    plain.update();
    let mut rust_frames = Vec::new();
    for _ in 0..FRAMES {
        let t = Instant::now();
        plain.update();
        rust_frames.push(t.elapsed());
    }
    let (s, r) = (median(script_frames), median(rust_frames));
    println!(
        "{ENTITIES} entities moving their Transform: scripts {:.2} ms/frame \
         (script {:.0} us, gc {:.0} us), plain Rust {:.3} ms/frame, ratio {:.0}x",
        s.as_secs_f64() * 1e3,
        stats.opcode_micros,
        stats.gc_micros,
        r.as_secs_f64() * 1e3,
        s.as_secs_f64() / r.as_secs_f64()
    );
}

fn overshoot(dir: &str) {
    let budget_us = 1_000;
    let mut app = app(
        dir,
        ScriptBudget::Micros {
            frame: budget_us,
            gc: 200,
        },
    );
    for _ in 0..10 {
        app.world_mut().spawn(Script::new("greedy.ark"));
    }
    wait_for_instances(&mut app, 10);
    // Each frame's time past the budget, with the longest stretches between
    // clock reads in the scripts' calls and in the collector's step: most
    // of the overshoot in one stretch means the thread was interrupted
    // there (or one native ran long), not that the budget was ignored.
    let mut over = Vec::new();
    for _ in 0..300 {
        app.update();
        let s = app.world().resource::<ScriptFrameStats>().clone();
        let used = s.opcode_micros + s.gc_micros;
        over.push((
            used - budget_us as f64,
            s.opcode_longest_unchecked_micros,
            s.gc_longest_unchecked_micros,
        ));
    }
    over.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (worst, scripts_unchecked, gc_unchecked) = over[over.len() - 1];
    println!(
        "1 ms budget, 10 scripts wanting about 1 ms each: time past the budget p50 {:.0} us, p99 {:.0} us, max {:.0} us (that frame's longest unchecked stretch: scripts {:.0} us, collector {:.0} us)",
        over[over.len() / 2].0,
        over[over.len() * 99 / 100].0,
        worst,
        scripts_unchecked,
        gc_unchecked
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let dir = scripts_dir();
    scripts_vs_rust(&dir);
    overshoot(&dir);
    let _ = std::fs::remove_dir_all(&dir);
}
