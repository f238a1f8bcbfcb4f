//! The demo: `cargo run --release --features window --example arena`.
//!
//! With the `window` feature and a display, it opens a window: a player
//! (arrow keys or WASD), enemies, gems and particles, every one of them
//! driven by its own script, and a HUD with what the scripts cost. Without
//! either, it runs headless for 600 frames and prints what the scripts did,
//! frame by frame.
//!
//! `-- --screenshot PATH` saves the window after a few seconds and quits;
//! `-- --debugger-screenshot PATH` does the same with the debugger open and
//! an enemy stopped at a breakpoint (`scripts/screenshot.sh` runs both).

#[cfg(feature = "window")]
mod hud;
#[cfg(feature = "window")]
mod screenshot;
#[cfg(feature = "window")]
mod window;

fn main() {
    #[cfg(feature = "window")]
    if has_display() {
        window::run();
        return;
    }
    headless();
}

#[cfg(feature = "window")]
fn has_display() -> bool {
    ark::arena::names_a_display(|name| std::env::var_os(name))
}

fn headless() {
    println!("No window: running the arena headless for 600 frames (1/60 s each).");
    let (rows, score) = ark::arena::run_headless(600, 60, bevy_ark::ScriptBudget::default());
    println!(
        "{:>6} {:>10} {:>8} {:>12} {:>5} {:>9} {:>7} {:>7} {:>9} {:>8}",
        "frame",
        "script us",
        "gc us",
        "instructions",
        "ran",
        "suspended",
        "waiting",
        "failed",
        "heap KB",
        "entities"
    );
    for r in &rows {
        let s = &r.stats;
        println!(
            "{:>6} {:>10.0} {:>8.0} {:>12} {:>5} {:>9} {:>7} {:>7} {:>9} {:>8}",
            r.frame,
            s.opcode_micros,
            s.gc_micros,
            s.instructions,
            s.instances_run,
            s.suspended,
            s.waiting,
            s.failed,
            s.heap_bytes / 1024,
            r.entities
        );
    }
    println!(
        "player caught {} times, {} gems picked up, {} particle bursts, {} script errors",
        score.player_hits,
        score.gems,
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
