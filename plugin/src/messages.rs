//! Messages the plugin sends to Rust systems.

use bevy::ecs::prelude::*;

/// A script failed to compile, or raised a runtime error. Also logged.
#[derive(Message, Debug, Clone, PartialEq)]
pub struct ScriptError {
    /// The entity whose instance failed (`None` for a compile error).
    pub entity: Option<Entity>,
    /// The script's asset path.
    pub script: String,
    /// The error as Ark prints it: `script.ark:LINE:COL: ...`, with the
    /// call stack for runtime errors.
    pub message: String,
    /// The line, where known.
    pub line: Option<u32>,
}
