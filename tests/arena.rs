//! The demo game runs headless for a few hundred frames without a script
//! error, and its scripts do what they are written to do.

use bevy_ark::prelude::ScriptBudget;

#[test]
fn the_arena_runs_headless_without_errors() {
    // An instruction budget keeps the test deterministic: a time budget on a
    // loaded machine (or a debug build) lets fewer instances run per frame.
    let budget = ScriptBudget::Instructions {
        frame: 1_000_000,
        gc: 50_000,
    };
    let (rows, score) = ark::arena::run_headless(300, 30, budget);
    assert!(score.errors.is_empty(), "{:?}", score.errors);
    assert_eq!(rows.len(), 10);
    let last = rows.last().unwrap();
    // Player, 6 enemies and the spawner, plus live particles.
    assert!(last.stats.instances_run >= 8, "{last:?}");
    assert!(last.entities > 8, "no particles alive: {last:?}");
    assert_eq!(last.stats.failed, 0);
    // 300 frames of 1/60 s: the spawner burst about every half second.
    assert!((8..=10).contains(&score.bursts), "{score:?}");
}
