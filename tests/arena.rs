//! The demo game runs headless for a few hundred frames without a script
//! error, and its scripts do what they are written to do.

use ark::arena::SCRIPTED_AT_START;
use bevy_ark::prelude::ScriptBudget;

#[test]
fn the_arena_runs_headless_without_errors() {
    // An instruction budget keeps the test deterministic: a time budget on a
    // loaded machine (or a debug build) lets fewer instances run per frame.
    // This one is enough for every instance every frame.
    let budget = ScriptBudget::Instructions {
        frame: 5_000_000,
        gc: 50_000,
    };
    let (rows, score) = ark::arena::run_headless(300, 30, budget);
    assert!(score.errors.is_empty(), "{:?}", score.errors);
    assert_eq!(rows.len(), 10);
    let last = rows.last().unwrap();
    // The player, the enemies, the gems and the spawner, plus live particles.
    assert!(last.stats.instances_run >= SCRIPTED_AT_START, "{last:?}");
    assert_eq!(last.stats.waiting, 0, "{last:?}");
    assert!(
        last.entities > SCRIPTED_AT_START,
        "no particles alive: {last:?}"
    );
    assert_eq!(last.stats.failed, 0);
    // 300 frames of 1/60 s: the spawner burst about every half second.
    assert!((8..=10).contains(&score.bursts), "{score:?}");
    // The player's stroll crosses gems, and the enemies reach it.
    assert!(score.gems > 0, "{score:?}");
    assert!(score.player_hits > 0, "{score:?}");
}

/// The demo's "things to try": an edit of `steer` in the enemy script
/// changes every enemy (they flee), and a broken edit is reported while
/// the enemies go on with the old version.
#[test]
fn the_enemy_script_reloads_and_a_broken_edit_keeps_the_old_version() {
    use bevy::prelude::*;
    use bevy_ark::ScriptAsset;
    use bevy_ark::prelude::*;

    let mut app = ark::arena::headless_app(ScriptBudget::Instructions {
        frame: 5_000_000,
        gc: 50_000,
    });
    let mean_distance = |app: &mut App| {
        let world = app.world_mut();
        let mut named = world.query::<(&Name, &Transform)>();
        let player = named
            .iter(world)
            .find(|(n, _)| n.as_str() == "Player")
            .map(|(_, t)| t.translation.truncate())
            .unwrap();
        let enemies: Vec<f32> = named
            .iter(world)
            .filter(|(n, _)| n.as_str() == "Enemy")
            .map(|(_, t)| t.translation.truncate().distance(player))
            .collect();
        enemies.iter().sum::<f32>() / enemies.len() as f32
    };
    let edit = |app: &mut App, change: &dyn Fn(&str) -> String| {
        let handle: Handle<ScriptAsset> = app
            .world()
            .resource::<AssetServer>()
            .load("scripts/enemy.ark");
        let mut assets = app.world_mut().resource_mut::<Assets<ScriptAsset>>();
        let mut asset = assets.get_mut(&handle).expect("the enemy script is loaded");
        asset.source = change(&asset.source);
    };

    // Chasing: the enemies close in.
    let start = mean_distance(&mut app);
    for _ in 0..120 {
        app.update();
    }
    let chasing = mean_distance(&mut app);
    assert!(chasing < start, "{start} -> {chasing}");

    // Fleeing, after the edit the README suggests.
    edit(&mut app, &|source| {
        let chase = "return to_player.normalize() + vec3(cos(t * 2.0), sin(t * 1.7), 0.0) * 0.8;";
        assert!(
            source.contains(chase),
            "the README's edit no longer applies"
        );
        source.replace(chase, "return -to_player;")
    });
    for _ in 0..120 {
        app.update();
    }
    let fleeing = mean_distance(&mut app);
    assert!(fleeing > chasing + 50.0, "{chasing} -> {fleeing}");
    assert!(
        app.world()
            .resource::<ark::arena::Score>()
            .errors
            .is_empty()
    );

    // Broken: reported, and the enemies keep fleeing (to the walls).
    edit(&mut app, &|source| source.replacen('}', "", 1));
    for _ in 0..60 {
        app.update();
    }
    let errors = &app.world().resource::<ark::arena::Score>().errors;
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("enemy.ark"), "{errors:?}");
    let still = mean_distance(&mut app);
    assert!(still > chasing + 50.0, "{chasing} -> {fleeing} -> {still}");
    assert_eq!(app.world().resource::<ScriptFrameStats>().failed, 0);
}

#[test]
fn the_demo_opens_a_window_only_where_a_display_is_named() {
    use std::ffi::OsString;
    let env = |vars: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| OsString::from(v))
        }
    };
    assert!(ark::arena::names_a_display(env(&[("DISPLAY", ":0")])));
    assert!(ark::arena::names_a_display(env(&[(
        "WAYLAND_DISPLAY",
        "wayland-0"
    )])));
    assert!(!ark::arena::names_a_display(env(&[])));
    // Set but empty, as `DISPLAY= cargo run ...` leaves it: headless.
    assert!(!ark::arena::names_a_display(env(&[("DISPLAY", "")])));
    assert!(!ark::arena::names_a_display(env(&[
        ("DISPLAY", ""),
        ("WAYLAND_DISPLAY", "")
    ])));
}
