//! Events both ways, and a native function the game registers: Rust sends
//! `hit` to a script (`assets/examples/talk.ark`), which asks the game's
//! `armor` function how much of it is absorbed and sends `hurt` back.
//! Headless: a few frames, the replies printed.
//!
//! `cargo run --example events`

use bevy::prelude::*;
use bevy_ark::prelude::*;

/// What Rust heard back.
#[derive(Resource, Default)]
struct Replies(Vec<String>);

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
    // A native: arguments and result converted from and to script values.
    .add_script_fn("armor", |damage: f64| (damage * 0.25).min(5.0))
    .init_resource::<Replies>()
    .add_systems(Startup, |mut commands: Commands| {
        commands.spawn(Script::new("examples/talk.ark"));
    })
    .add_systems(Update, (hit_every_tenth_frame, hear_replies));
    app
}

fn hit_every_tenth_frame(mut frame: Local<u32>, mut commands: MessageWriter<ScriptCommand>) {
    *frame += 1;
    if frame.is_multiple_of(10) {
        commands.write(ScriptCommand::Broadcast {
            name: "hit".into(),
            data: ScriptValue::Float(12.0),
        });
    }
}

fn hear_replies(mut events: MessageReader<ScriptEvent>, mut replies: ResMut<Replies>) {
    for event in events.read() {
        let line = format!("{}: {:?}", event.name, event.data);
        println!("{line}");
        replies.0.push(line);
    }
}

fn main() {
    let mut app = app();
    for _ in 0..45 {
        app.update();
    }
}

#[test]
fn the_script_answers_each_hit() {
    let mut app = app();
    // Frames until three replies came (the script loads in the
    // background: hits sent before it runs go unheard).
    for _ in 0..2_000 {
        app.update();
        if app.world().resource::<Replies>().0.len() >= 3 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let replies = &app.world().resource::<Replies>().0;
    assert!(replies.len() >= 3, "{replies:?}");
    assert!(replies[0].starts_with("hurt"), "{replies:?}");
    assert!(replies[0].contains("9.0"), "{replies:?}");
}
