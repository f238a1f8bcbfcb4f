//! The one system that runs every script instance each frame, under the
//! frame's budget, then gives the collector its share.
//!
//! Each frame, in order:
//!
//! 1. [`sync`]: instances follow the `Script` components. A new script gets
//!    an instance once it has compiled; a path changed, a `Script` removed
//!    (or removed and inserted again), an entity despawned: the old
//!    instance is destroyed. A script that fails to load is reported.
//! 2. [`reload`]: instances of recompiled scripts start moving to the new
//!    code.
//! 3. [`commands`]: `ScriptCommand`s are queued in the instances they
//!    address, or reported when nothing can take them.
//! 4. [`run`]: destroys first, then every instance in turn (round-robin:
//!    a frame that runs out of budget makes the next one start where it
//!    stopped), then destroys that the frame's scripts caused; then the
//!    collector.
//!
//! Everything that runs script code (top levels, `on_start`, `on_update`,
//! `on_event`, named calls, `on_destroy`, reloads) runs inside the frame's
//! budget and is counted in [`ScriptFrameStats`].

mod commands;
mod reload;
mod run;
mod sync;
mod updates;

use std::time::{Duration, Instant};

use ark_vm::{Budget, Vm};
use bevy::ecs::prelude::*;
use bevy::log::error;
use bevy::time::Time;

use crate::messages::ScriptError;
use crate::profiling::{Plot, ScriptProfiler};
use crate::runtime::{ScriptBudget, ScriptErrorPolicy, ScriptRuntime};
use crate::stats::ScriptFrameStats;

/// Instructions `on_destroy` may run when its entity goes away.
pub(crate) const DESTROY_INSTRUCTIONS: u64 = 100_000;
/// Instructions a reloaded script's top level may run.
pub(crate) const RELOAD_INSTRUCTIONS: u64 = 1_000_000;

/// What is left of the frame's script budget.
pub(super) struct FrameMeter {
    deadline: Option<Instant>,
    instructions_left: u64,
}

impl FrameMeter {
    fn new(budget: ScriptBudget, now: Instant) -> FrameMeter {
        match budget {
            ScriptBudget::Micros { frame, gc } => FrameMeter {
                deadline: Some(now + Duration::from_micros(frame.saturating_sub(gc))),
                instructions_left: u64::MAX,
            },
            ScriptBudget::Instructions { frame, .. } => FrameMeter {
                deadline: None,
                instructions_left: frame,
            },
        }
    }

    /// The budget of the next resume. Under a time budget every resume of
    /// the frame runs until its deadline, the clock shared between them
    /// (`Budget::Until`): thousands of short calls read it every thousand
    /// instructions or so, not at each start and end.
    pub(super) fn slice(&self) -> Budget {
        match self.deadline {
            Some(d) => Budget::Until(d),
            None => Budget::Instructions(self.instructions_left),
        }
    }

    pub(super) fn spend(&mut self, instructions: u64) {
        self.instructions_left = self.instructions_left.saturating_sub(instructions);
    }

    /// Whether the budget is spent: under a time budget, whether a resume
    /// found the deadline passed (no clock read here).
    fn exhausted(&self, vm: &Vm) -> bool {
        match self.deadline {
            Some(d) => vm.deadline_passed(d),
            None => self.instructions_left == 0,
        }
    }
}

pub(crate) fn run_scripts(world: &mut World) {
    let dt = world
        .get_resource::<Time>()
        .map_or(0.0, |t| t.delta_secs_f64());
    let budget = *world.resource::<ScriptBudget>();
    let policy = world
        .get_resource::<ScriptErrorPolicy>()
        .copied()
        .unwrap_or_default();
    let mut errors = Vec::new();
    let profiling = world
        .get_resource::<ScriptProfiler>()
        .is_some_and(ScriptProfiler::enabled);
    if profiling {
        world.resource_mut::<ScriptProfiler>().begin_frame();
    }
    let stats = world.resource_scope(|world, mut runtime: Mut<ScriptRuntime>| {
        let runtime = &mut *runtime;
        warn_of_a_budget_with_no_room(runtime, budget, &mut errors);
        sync::sync_instances(world, runtime, &mut errors);
        reload::start_reloads(runtime);
        commands::deliver_commands(world, runtime, &mut errors);
        run::run_frame(world, runtime, budget, policy, dt, &mut errors)
    });
    let mut runtime = world.resource_mut::<ScriptRuntime>();
    let logged: Vec<String> = errors
        .iter()
        .filter_map(|e| runtime.error_log.line_for(e))
        .collect();
    for line in &logged {
        error!("{line}");
    }
    if profiling {
        report_frame(
            &mut world.resource_mut::<ScriptProfiler>(),
            &stats,
            budget,
            &logged,
        );
    }
    *world.resource_mut::<ScriptFrameStats>() = stats;
    for e in errors {
        world.write_message(e);
    }
}

/// The frame's plots and messages, the end of the `ark scripts` zone,
/// and the frame mark.
fn report_frame(
    profiler: &mut ScriptProfiler,
    stats: &ScriptFrameStats,
    budget: ScriptBudget,
    errors: &[String],
) {
    for line in errors {
        profiler.message(line);
    }
    if stats.forced_collections > profiler.forced_seen {
        profiler.forced_seen = stats.forced_collections;
        profiler.message(&format!(
            "ark: forced collection at the heap limit ({} so far)",
            stats.forced_collections
        ));
    }
    let budget_micros = match budget {
        ScriptBudget::Micros { frame, .. } => frame as f64,
        ScriptBudget::Instructions { .. } => 0.0,
    };
    for (plot, value) in [
        (Plot::OpcodeMicros, stats.opcode_micros),
        (Plot::GcMicros, stats.gc_micros),
        (Plot::BudgetMicros, budget_micros),
        (Plot::Instructions, stats.instructions as f64),
        (Plot::HeapObjects, stats.heap_objects as f64),
        (Plot::HeapBytes, stats.heap_bytes as f64),
        (Plot::Suspended, stats.suspended as f64),
        (Plot::Failed, stats.failed as f64),
    ] {
        profiler.plot(plot, value);
    }
    profiler.zone_end();
    profiler.frame_mark();
}

/// Logs script errors without flooding the log when one fails every
/// frame: the first error of each entity, script and line is logged, then
/// the 2nd, 4th, 8th... time it happens, with the count. (Every error is
/// still sent as a `ScriptError` message.)
#[derive(Default)]
pub(crate) struct ErrorLog {
    seen: std::collections::HashMap<(Option<Entity>, String, Option<u32>), u64>,
}

/// Error sites remembered before the log starts counting afresh.
const ERROR_SITES_KEPT: usize = 4096;

impl ErrorLog {
    /// The line to log for `e`, if this occurrence is logged.
    pub(crate) fn line_for(&mut self, e: &ScriptError) -> Option<String> {
        if self.seen.len() >= ERROR_SITES_KEPT {
            self.seen.clear();
        }
        let n = self
            .seen
            .entry((e.entity, e.script.clone(), e.line))
            .or_insert(0);
        *n += 1;
        match *n {
            1 => Some(e.message.clone()),
            n if n.is_power_of_two() => Some(format!("{} (the same error {n} times)", e.message)),
            _ => None,
        }
    }
}

/// A time budget whose collector share is the whole frame leaves scripts
/// no time at all: said once, loudly, rather than silently running nothing.
fn warn_of_a_budget_with_no_room(
    runtime: &mut ScriptRuntime,
    budget: ScriptBudget,
    errors: &mut Vec<ScriptError>,
) {
    let ScriptBudget::Micros { frame, gc } = budget else {
        return;
    };
    if gc < frame || runtime.budget_warned {
        return;
    }
    runtime.budget_warned = true;
    let message = format!(
        "ScriptBudget gives the collector {gc} µs of a {frame} µs frame: scripts get no time \
         and do not run (give the collector less than the frame)"
    );
    errors.push(ScriptError {
        entity: None,
        script: String::new(),
        message,
        line: None,
    });
}

/// A runtime error as a message (logged by `run_scripts`).
pub(crate) fn report(entity: Option<Entity>, path: &str, e: &ark_vm::RuntimeError) -> ScriptError {
    ScriptError {
        entity,
        script: path.to_string(),
        message: e.to_string(),
        line: e.line(),
    }
}

/// An error that is not a script's runtime error (a dropped command, a
/// script that did not load), as a message (logged by `run_scripts`).
pub(crate) fn complaint(entity: Option<Entity>, path: &str, message: String) -> ScriptError {
    ScriptError {
        entity,
        script: path.to_string(),
        message,
        line: None,
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorLog;
    use crate::messages::ScriptError;

    #[test]
    fn an_error_every_frame_is_logged_at_powers_of_two() {
        let mut log = ErrorLog::default();
        let e = ScriptError {
            entity: None,
            script: "s.ark".into(),
            message: "s.ark:3:1: runtime error: boom".into(),
            line: Some(3),
        };
        let logged: Vec<String> = (0..1000).filter_map(|_| log.line_for(&e)).collect();
        assert_eq!(logged.len(), 10, "{logged:?}");
        assert_eq!(logged[0], e.message);
        assert!(
            logged[9].ends_with("(the same error 512 times)"),
            "{logged:?}"
        );
        let other = ScriptError {
            line: Some(4),
            ..e.clone()
        };
        assert!(
            log.line_for(&other).is_some(),
            "another line is another error"
        );
    }
}
