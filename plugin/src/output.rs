//! What scripts print, kept for a game's console or the debugger.
//!
//! `print` always goes to the log (target `ark`). With capture on
//! ([`ScriptRuntime::capture_output`](crate::ScriptRuntime::capture_output)),
//! each line is also kept, with the entity and script that printed it,
//! until [`ScriptRuntime::take_output`](crate::ScriptRuntime::take_output)
//! takes it: at most [`OUTPUT_KEPT`] lines, the oldest dropped first.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use bevy::ecs::entity::Entity;

/// Lines kept while nobody takes them.
pub const OUTPUT_KEPT: usize = 10_000;

/// One line a script printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptPrint {
    /// The entity whose script printed it (`None` outside any entity's
    /// call, for example from code Rust runs through
    /// [`ScriptRuntime::vm_mut`](crate::ScriptRuntime::vm_mut) between
    /// frames).
    pub entity: Option<Entity>,
    /// The script's asset path (empty outside any entity's call).
    pub script: String,
    pub text: String,
}

/// Shared by the VM's print sink and the scheduler, which says whose
/// script runs (the entity comes from `RunningScript`).
#[derive(Default)]
pub(crate) struct ScriptOutput {
    capture: AtomicBool,
    log: Mutex<OutputLog>,
}

#[derive(Default)]
struct OutputLog {
    /// The script whose call runs: told only when it changes (thousands
    /// of entities running one script in a row tell it once).
    script: String,
    lines: VecDeque<ScriptPrint>,
}

impl ScriptOutput {
    fn log(&self) -> std::sync::MutexGuard<'_, OutputLog> {
        self.log.lock().unwrap_or_else(|poison| poison.into_inner())
    }

    pub(crate) fn set_capture(&self, on: bool) {
        self.capture.store(on, Ordering::Relaxed);
        if !on {
            let mut log = self.log();
            log.lines.clear();
            log.script.clear();
        }
    }

    /// Whether lines are kept: the scheduler says whose call runs only
    /// then.
    #[inline]
    pub(crate) fn capturing(&self) -> bool {
        self.capture.load(Ordering::Relaxed)
    }

    /// The script whose call runs from now on.
    pub(crate) fn set_script(&self, script: &str) {
        let mut log = self.log();
        log.script.clear();
        log.script.push_str(script);
    }

    /// The VM's print sink, given the entity whose call runs.
    pub(crate) fn print(&self, entity: Option<Entity>, text: &str) {
        bevy::log::info!(target: "ark", "{text}");
        if !self.capturing() {
            return;
        }
        let mut log = self.log();
        let script = log.script.clone();
        if log.lines.len() == OUTPUT_KEPT {
            log.lines.pop_front();
        }
        log.lines.push_back(ScriptPrint {
            entity,
            script,
            text: text.to_string(),
        });
    }

    pub(crate) fn take(&self) -> Vec<ScriptPrint> {
        self.log().lines.drain(..).collect()
    }
}
