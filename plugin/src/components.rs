//! The `Script` component.

use bevy::asset::{AssetServer, Handle};
use bevy::ecs::prelude::*;

use crate::assets::ScriptAsset;

/// Scripts attached to an entity. Each one gets its own instance (its own
/// module variables, `self` bound to the entity); several scripts on one
/// entity run in the order given, each with its own state.
#[derive(Component, Debug, Clone)]
pub struct Script {
    pub(crate) sources: Vec<ScriptSource>,
}

#[derive(Debug, Clone)]
pub(crate) enum ScriptSource {
    Path(String),
    Handle(Handle<ScriptAsset>),
}

impl Script {
    /// A script by asset path (`"scripts/player.ark"`).
    pub fn new(path: impl Into<String>) -> Script {
        Script {
            sources: vec![ScriptSource::Path(path.into())],
        }
    }

    /// A script from an asset handle.
    pub fn from_handle(handle: Handle<ScriptAsset>) -> Script {
        Script {
            sources: vec![ScriptSource::Handle(handle)],
        }
    }

    /// Adds another script to the same entity.
    pub fn with(mut self, path: impl Into<String>) -> Script {
        self.sources.push(ScriptSource::Path(path.into()));
        self
    }

    /// The scripts' handles, once their paths have been loaded.
    pub fn handles(&self) -> impl Iterator<Item = &Handle<ScriptAsset>> {
        self.sources.iter().filter_map(|s| match s {
            ScriptSource::Handle(h) => Some(h),
            ScriptSource::Path(_) => None,
        })
    }
}

/// Starts loading the scripts named by path.
pub(crate) fn load_script_paths(
    mut scripts: Query<&mut Script, Changed<Script>>,
    server: Res<AssetServer>,
) {
    for mut script in &mut scripts {
        if !script
            .sources
            .iter()
            .any(|s| matches!(s, ScriptSource::Path(_)))
        {
            continue;
        }
        for source in &mut script.sources {
            if let ScriptSource::Path(path) = source {
                *source = ScriptSource::Handle(server.load(path.clone()));
            }
        }
    }
}
