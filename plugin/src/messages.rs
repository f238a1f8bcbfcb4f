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

/// An event a script sent to Rust with `send(name, data)`.
#[derive(Message, Debug, Clone, PartialEq)]
pub struct ScriptEvent {
    /// The entity whose script sent it.
    pub sender: Option<Entity>,
    pub name: String,
    pub data: crate::ScriptValue,
}

/// What Rust asks of scripts; the scheduler delivers it next frame, before
/// `on_update`.
#[derive(Message, Debug, Clone, PartialEq)]
pub enum ScriptCommand {
    /// `on_event(name, data)` on every script that defines it. Scripts send
    /// these too, with `broadcast(name, data)`.
    Broadcast {
        name: String,
        data: crate::ScriptValue,
    },
    /// Calls `function(args...)` on the scripts of one entity that define it.
    Call {
        entity: Entity,
        function: String,
        args: Vec<crate::ScriptValue>,
    },
}
