//! The `Script` component.

use bevy::asset::{AssetServer, Handle};
use bevy::ecs::prelude::*;
use bevy::ecs::reflect::ReflectComponent;
use bevy::reflect::{Reflect, std_traits::ReflectDefault};

use crate::assets::ScriptAsset;

/// Scripts attached to an entity. Each one gets its own instance (its own
/// module variables, `self` bound to the entity); several scripts on one
/// entity run in the order given, each with its own state.
///
/// Reflected and serialized by its paths: a scene file names its scripts
/// (`bevy_ark::components::Script(paths: ["scripts/enemy.ark"])`), and
/// they load when the scene is spawned.
#[derive(Component, Reflect, Debug, Clone, Default)]
#[reflect(Component, Default, Debug, Clone)]
pub struct Script {
    /// The scripts' asset paths, in the order they run (empty for one
    /// given by a handle with no path).
    paths: Vec<String>,
    /// Their handles, beside their paths, once loaded.
    #[reflect(ignore)]
    handles: Vec<Option<Handle<ScriptAsset>>>,
}

impl Script {
    /// A script by asset path (`"scripts/player.ark"`).
    pub fn new(path: impl Into<String>) -> Script {
        Script::default().with(path)
    }

    /// A script from an asset handle.
    pub fn from_handle(handle: Handle<ScriptAsset>) -> Script {
        Script {
            paths: vec![handle.path().map(|p| p.to_string()).unwrap_or_default()],
            handles: vec![Some(handle)],
        }
    }

    /// Adds another script to the same entity.
    pub fn with(mut self, path: impl Into<String>) -> Script {
        self.paths.push(path.into());
        self.handles.push(None);
        self
    }

    /// The scripts' asset paths, in order.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.paths.iter().map(String::as_str)
    }

    /// The scripts' handles, once their paths have been loaded.
    pub fn handles(&self) -> impl Iterator<Item = &Handle<ScriptAsset>> {
        self.handles.iter().flatten()
    }

    /// Each script's handle, if it has one yet, in order.
    pub(crate) fn loaded(&self) -> impl Iterator<Item = Option<&Handle<ScriptAsset>>> {
        (0..self.paths.len()).map(|i| self.handles.get(i).and_then(Option::as_ref))
    }

    /// Whether every script has a handle (or none can get one: no path).
    fn all_loaded(&self) -> bool {
        self.paths
            .iter()
            .enumerate()
            .all(|(i, p)| p.is_empty() || matches!(self.handles.get(i), Some(Some(_))))
    }
}

/// Starts loading the scripts named by path (a `Script` made in code, or
/// one spawned from a scene, which has paths only).
pub(crate) fn load_script_paths(
    mut scripts: Query<&mut Script, Changed<Script>>,
    server: Res<AssetServer>,
) {
    for mut script in &mut scripts {
        // Read first: a write would mark the component changed again.
        if script.all_loaded() {
            continue;
        }
        let script = &mut *script;
        script.handles.resize(script.paths.len(), None);
        for (path, handle) in script.paths.iter().zip(&mut script.handles) {
            if handle.is_none() && !path.is_empty() {
                *handle = Some(server.load(path.clone()));
            }
        }
    }
}
