//! The debugger: breakpoints, stepping, pausing and breaking on errors,
//! and a read (and write) view of a stopped call.
//!
//! **Zero cost when unused.** The interpreter loop is compiled twice
//! (`execute_loop::<DEBUG>`, as Luau's `SingleStep`): a resume runs the
//! plain loop unless a breakpoint is set, a pause or a step is pending, or
//! errors break; only the debug loop asks [`DebugState::check`] before each
//! instruction.
//!
//! **A stop is a suspension.** A call that stops ends its resume with
//! [`crate::RunResult::Stopped`]; it keeps its whole state, the collector
//! treats its frames as roots like any suspended call's, and the host
//! resumes it to continue (after [`crate::Vm::step`] to step). Other calls
//! run meanwhile.
//!
//! **Lines.** A call stops when it *enters* a line: the first instruction
//! it runs there after running another line, or the same line in another
//! frame. So a loop whose body is on its own line stops there every time
//! round, and a breakpoint stops once per visit of its line.

use std::sync::Arc;

use rustc_hash::FxHashMap as HashMap;
use slotmap::{SlotMap, new_key_type};

use crate::bytecode::{ModuleCode, Proto};
use crate::value::InstanceKey;
use crate::vm::{CallId, InstanceId};

new_key_type! {
    /// A breakpoint set with [`crate::Vm::set_breakpoint`].
    pub struct BreakpointId;
}

/// A breakpoint: a line of a script, perhaps for one instance only.
#[derive(Clone, Debug, PartialEq)]
pub struct Breakpoint {
    pub script: String,
    /// The line asked for.
    pub requested_line: u32,
    /// The line it stops at: the first line with code at or after the one
    /// asked for, in the script as compiled (the requested line while no
    /// code of the script is loaded).
    pub line: u32,
    /// Stop only in this instance.
    pub instance: Option<InstanceId>,
    /// Stop only where this expression is truthy.
    pub condition: Option<String>,
}

/// Why a call stopped.
#[derive(Clone, Debug, PartialEq)]
pub enum StopReason {
    Breakpoint(BreakpointId),
    /// A step ([`crate::Vm::step`]) reached its line.
    Step,
    /// [`crate::Vm::pause`] was asked for.
    Pause,
    /// A runtime error, before it unwinds: the stack and locals are those
    /// of the faulting instruction. Resuming reports the error.
    Error(String),
}

/// How [`crate::Vm::step`] moves a stopped call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepKind {
    /// To the next line, entering calls.
    Into,
    /// To the next line of this function or a caller, running calls made
    /// meanwhile.
    Over,
    /// Until the function returns: the call stops at the next line its
    /// caller enters (the rest of the calling line, if any is left).
    Out,
}

/// One frame of a stopped or suspended call, innermost first.
#[derive(Clone, Debug, PartialEq)]
pub struct FrameView {
    pub function: String,
    pub script: String,
    pub line: u32,
    pub col: u32,
    /// The instance whose module variables the frame's function sees.
    pub instance: InstanceId,
}

/// Where a call was when it was last checked: a function (by address), a
/// line and a depth. A call stops only when this changes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Spot {
    proto: usize,
    line: u32,
    depth: usize,
}

impl Spot {
    /// Where a call is: running `proto` at `pc`, `depth` frames deep.
    #[inline]
    pub(crate) fn at(proto: &Proto, pc: usize, depth: usize) -> Spot {
        Spot {
            proto: proto as *const Proto as usize,
            line: proto.position(pc).0,
            depth,
        }
    }
}

/// A step in progress, from where the call was when it was asked for.
#[derive(Clone, Copy, Debug)]
struct Step {
    kind: StepKind,
    from: Spot,
}

/// Everything the debugger knows.
#[derive(Default)]
pub(crate) struct DebugState {
    breakpoints: SlotMap<BreakpointId, Breakpoint>,
    /// Breakpoints by the line they stop at (of any script).
    by_line: HashMap<u32, Vec<BreakpointId>>,
    pause: bool,
    pub(crate) break_on_error: bool,
    steps: HashMap<CallId, Step>,
    last: HashMap<CallId, Spot>,
    /// Why each stopped call stopped.
    pub(crate) stopped: HashMap<CallId, StopReason>,
    /// The source each script with breakpoints was last compiled from, to
    /// move its breakpoints with an edit.
    sources: HashMap<Arc<str>, String>,
    /// "Run to line": a breakpoint that lasts until its call next stops.
    run_to: HashMap<CallId, BreakpointId>,
}

impl DebugState {
    /// Whether a resume must run the debug loop.
    #[inline]
    pub(crate) fn active(&self, call: CallId) -> bool {
        !self.breakpoints.is_empty()
            || self.pause
            || self.break_on_error
            || (!self.steps.is_empty() && self.steps.contains_key(&call))
    }

    /// Whether any call may stop: a breakpoint, a pause, a step, a stop
    /// on errors, or a call stopped now.
    pub(crate) fn watching(&self) -> bool {
        !self.breakpoints.is_empty()
            || self.pause
            || self.break_on_error
            || !self.steps.is_empty()
            || !self.stopped.is_empty()
            || !self.run_to.is_empty()
    }

    #[inline]
    pub(crate) fn has_breakpoints(&self) -> bool {
        !self.breakpoints.is_empty()
    }

    /// Where the call was when the debugger was last asked about it.
    pub(crate) fn last_spot(&self, call: CallId) -> Option<Spot> {
        self.last.get(&call).copied()
    }

    /// Asked by the debug loop whenever a call enters a line (`spot`):
    /// whether it stops there, and why.
    #[inline(never)]
    pub(crate) fn check(
        &mut self,
        call: CallId,
        proto: &Proto,
        spot: Spot,
        instance: InstanceKey,
    ) -> Option<StopReason> {
        let mut reason = self.stop_reason_at(call, proto, spot, instance)?;
        // Where it stopped: a step starts from here, and the resume does
        // not stop here again.
        self.last.insert(call, spot);
        // A run to a line ends at any stop of its call; reaching the line
        // is a step done.
        if !self.run_to.is_empty()
            && let Some(id) = self.run_to.remove(&call)
        {
            self.remove(id);
            if reason == StopReason::Breakpoint(id) {
                reason = StopReason::Step;
            }
        }
        Some(reason)
    }

    fn stop_reason_at(
        &mut self,
        call: CallId,
        proto: &Proto,
        Spot { line, depth, .. }: Spot,
        instance: InstanceKey,
    ) -> Option<StopReason> {
        if self.pause {
            self.pause = false;
            return Some(StopReason::Pause);
        }
        if !self.steps.is_empty()
            && let Some(step) = self.steps.get(&call).copied()
        {
            let done = match step.kind {
                StepKind::Into => true,
                StepKind::Over => depth <= step.from.depth,
                StepKind::Out => depth < step.from.depth,
            };
            if done {
                self.steps.remove(&call);
                return Some(StopReason::Step);
            }
        }
        let ids = self.by_line.get(&line)?;
        ids.iter()
            .copied()
            .find(|&id| {
                let bp = &self.breakpoints[id];
                *bp.script == *proto.script && bp.instance.is_none_or(|only| only.0 == instance)
            })
            .map(StopReason::Breakpoint)
    }

    /// Records that `call` stopped at its current spot.
    pub(crate) fn stop(&mut self, call: CallId, reason: StopReason) {
        self.stopped.insert(call, reason);
    }

    /// A call resumes: it is no longer stopped.
    pub(crate) fn resuming(&mut self, call: CallId) -> Option<StopReason> {
        self.stopped.remove(&call)
    }

    /// A call ended: forget it.
    pub(crate) fn finished(&mut self, call: CallId) {
        if self.steps.is_empty() && self.last.is_empty() && self.stopped.is_empty() {
            return;
        }
        self.steps.remove(&call);
        self.last.remove(&call);
        self.stopped.remove(&call);
        if let Some(id) = self.run_to.remove(&call) {
            self.remove(id);
        }
    }

    /// Makes `call` stop at breakpoint `id` (set for it alone) or at its
    /// next other stop, whichever comes first; then `id` goes.
    pub(crate) fn run_to(&mut self, call: CallId, id: BreakpointId) {
        if let Some(old) = self.run_to.insert(call, id) {
            self.remove(old);
        }
    }

    /// Whether `id` is a run to a line rather than a breakpoint the user set.
    pub(crate) fn is_run_to(&self, id: BreakpointId) -> bool {
        self.run_to.values().any(|&r| r == id)
    }

    pub(crate) fn set_condition(&mut self, id: BreakpointId, condition: String) {
        if let Some(bp) = self.breakpoints.get_mut(id) {
            bp.condition = Some(condition);
        }
    }

    pub(crate) fn condition(&self, id: BreakpointId) -> Option<String> {
        self.breakpoints.get(id)?.condition.clone()
    }

    pub(crate) fn pause(&mut self) {
        self.pause = true;
    }

    #[inline]
    pub(crate) fn pause_requested(&self) -> bool {
        self.pause
    }

    /// Starts a step of a stopped call from where it is.
    pub(crate) fn step(&mut self, call: CallId, kind: StepKind) -> bool {
        let Some(&from) = self.last.get(&call) else {
            return false;
        };
        self.steps.insert(call, Step { kind, from });
        true
    }

    pub(crate) fn add(&mut self, mut bp: Breakpoint, modules: &[Arc<ModuleCode>]) -> BreakpointId {
        bp.line = resolve_line(&bp.script, bp.requested_line, modules).unwrap_or(bp.requested_line);
        let line = bp.line;
        let id = self.breakpoints.insert(bp);
        self.by_line.entry(line).or_default().push(id);
        id
    }

    fn unlist(&mut self, id: BreakpointId, line: u32) {
        if let Some(ids) = self.by_line.get_mut(&line) {
            ids.retain(|&x| x != id);
            if ids.is_empty() {
                self.by_line.remove(&line);
            }
        }
    }

    pub(crate) fn remove(&mut self, id: BreakpointId) -> bool {
        let Some(bp) = self.breakpoints.remove(id) else {
            return false;
        };
        self.unlist(id, bp.line);
        true
    }

    pub(crate) fn breakpoints(&self) -> impl Iterator<Item = (BreakpointId, &Breakpoint)> {
        self.breakpoints.iter()
    }

    /// Binds the breakpoints of a script just compiled to its lines. When
    /// it was compiled before from other source (a hot reload), each
    /// breakpoint first moves with its line, as an editor's markers do,
    /// and one whose line was deleted is removed.
    pub(crate) fn compiled(&mut self, module: &Arc<ModuleCode>, source: &str) {
        let ids: Vec<BreakpointId> = self
            .breakpoints
            .iter()
            .filter(|(_, bp)| *bp.script == *module.script)
            .map(|(id, _)| id)
            .collect();
        // Kept for every script (one text per script name), so that a
        // breakpoint set after the first compile moves with the next edit.
        let old = self
            .sources
            .insert(module.script.clone(), source.to_string());
        if ids.is_empty() {
            return;
        }
        let moved = old
            .filter(|old| old != source)
            .map(|old| crate::line_map::LineMap::between(&old, source));
        for id in ids {
            let old = self.breakpoints[id].line;
            self.unlist(id, old);
            if let Some(map) = &moved {
                match map.new_line(self.breakpoints[id].requested_line) {
                    Some(line) => self.breakpoints[id].requested_line = line,
                    None => {
                        self.breakpoints.remove(id);
                        continue;
                    }
                }
            }
            let bp = &mut self.breakpoints[id];
            bp.line = resolve_line(&bp.script, bp.requested_line, std::slice::from_ref(module))
                .unwrap_or(bp.requested_line);
            let line = bp.line;
            self.by_line.entry(line).or_default().push(id);
        }
    }
}

/// The first line at or after `line` that has code in `script`.
fn resolve_line(script: &str, line: u32, modules: &[Arc<ModuleCode>]) -> Option<u32> {
    fn visit(proto: &Proto, line: u32, best: &mut Option<u32>) {
        for &(l, _) in &proto.positions {
            if l >= line && best.is_none_or(|b| l < b) {
                *best = Some(l);
            }
        }
        for child in &proto.protos {
            visit(child, line, best);
        }
    }
    let mut best = None;
    for module in modules.iter().filter(|m| &*m.script == script) {
        visit(&module.main, line, &mut best);
    }
    best
}
