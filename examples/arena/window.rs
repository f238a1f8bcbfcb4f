//! The arena in a window: shapes for what the scripts move, the keys, the
//! HUD and the debugger.

use bevy::prelude::*;
use bevy_ark::debugger::ArkDebuggerPlugin;

use ark::arena::{ARENA_HALF, spawn_gems};

/// Gems a press of Space adds.
const SWARM: usize = 1000;

pub fn run() {
    let shot = crate::screenshot::requested();
    let mut app = App::new();
    app.add_plugins(
        DefaultPlugins
            .set(bevy::asset::AssetPlugin {
                file_path: concat!(env!("CARGO_MANIFEST_DIR"), "/assets").into(),
                ..default()
            })
            .set(WindowPlugin {
                primary_window: Some(Window {
                    title: "Ark arena: every shape is a script".into(),
                    resolution: (1280u32, 720u32).into(),
                    ..default()
                }),
                ..default()
            }),
    );
    ark::arena::setup(&mut app);
    app.add_plugins(ArkDebuggerPlugin {
        open: shot.as_ref().is_some_and(|s| s.debugger),
        ..default()
    })
    .insert_resource(ClearColor(Color::srgb(0.05, 0.06, 0.09)))
    .add_systems(Startup, (spawn_camera_and_floor, load_shapes))
    .add_systems(Update, (give_shapes, spawn_swarm_on_space));
    crate::hud::add(&mut app);
    if let Some(shot) = shot {
        crate::screenshot::add(&mut app, shot);
    }
    app.run();
}

/// Room at the top of the window for the HUD, in pixels.
const HUD_HEIGHT: f32 = 180.0;

fn spawn_camera_and_floor(mut commands: Commands) {
    // The arena's top edge just under the HUD (the window is 720 high).
    let floor_half = ARENA_HALF + 15.0;
    commands.spawn((
        Camera2d,
        Transform::from_xyz(0.0, floor_half.y + HUD_HEIGHT - 360.0, 0.0),
    ));
    commands.spawn((
        Sprite::from_color(Color::srgb(0.10, 0.12, 0.17), floor_half * 2.0),
        Transform::from_xyz(0.0, 0.0, -1.0),
    ));
}

/// One mesh and colour per kind of scripted entity, by its `Name`.
#[derive(Resource)]
struct Shapes(Vec<(&'static str, Handle<Mesh>, Handle<ColorMaterial>)>);

fn load_shapes(
    mut commands: Commands,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<ColorMaterial>>,
) {
    let mut shape = |name, mesh: Mesh, color: Color| (name, meshes.add(mesh), materials.add(color));
    commands.insert_resource(Shapes(vec![
        shape(
            "Player",
            Circle::new(15.0).into(),
            Color::srgb(0.35, 0.75, 1.0),
        ),
        shape(
            "Enemy",
            RegularPolygon::new(13.0, 3).into(),
            Color::srgb(1.0, 0.3, 0.3),
        ),
        shape(
            "Gem",
            Rhombus::new(10.0, 14.0).into(),
            Color::srgb(0.3, 0.95, 0.55),
        ),
        shape(
            "Particle",
            Circle::new(3.0).into(),
            Color::srgb(1.0, 0.85, 0.3),
        ),
    ]));
}

/// Draws what the scripts move about, as each appears.
fn give_shapes(
    mut commands: Commands,
    shapes: Res<Shapes>,
    named: Query<(Entity, &Name), Without<Mesh2d>>,
) {
    for (entity, name) in &named {
        if let Some((_, mesh, material)) = shapes.0.iter().find(|(n, ..)| *n == name.as_str()) {
            commands
                .entity(entity)
                .insert((Mesh2d(mesh.clone()), MeshMaterial2d(material.clone())));
        }
    }
}

/// Space: a thousand more scripted gems, to watch the budget hold.
fn spawn_swarm_on_space(
    keys: Res<ButtonInput<KeyCode>>,
    mut commands: Commands,
    mut swarms: Local<u64>,
) {
    if keys.just_pressed(KeyCode::Space) {
        *swarms += 1;
        spawn_gems(&mut commands, SWARM, 1 + *swarms);
    }
}
