//! The debugger's side of [`Vm`]: breakpoints and steps in, the frames,
//! locals and captures of a stopped (or suspended) call out. See
//! [`crate::debug`] for how stops work.

use std::sync::Arc;

use crate::bytecode::Proto;
use crate::debug::{Breakpoint, BreakpointId, FrameView, StepKind, StopReason};
use crate::fiber::Fiber;
use crate::value::Value;
use crate::vm::{CallId, InstanceId, Vm};

impl Vm {
    /// Stops every call that runs `script`'s line `line` (or the first
    /// line with code after it), or only calls running in `instance`.
    pub fn set_breakpoint(
        &mut self,
        script: &str,
        line: u32,
        instance: Option<InstanceId>,
    ) -> BreakpointId {
        let modules: Vec<_> = self
            .core
            .modules
            .iter()
            .filter_map(|m| m.upgrade())
            .collect();
        self.core.debug.add(
            Breakpoint {
                script: script.to_string(),
                requested_line: line,
                line,
                instance,
            },
            &modules,
        )
    }

    /// Removes a breakpoint; false if there was none.
    pub fn remove_breakpoint(&mut self, id: BreakpointId) -> bool {
        self.core.debug.remove(id)
    }

    /// Every breakpoint set.
    pub fn breakpoints(&self) -> Vec<(BreakpointId, Breakpoint)> {
        self.core
            .debug
            .breakpoints()
            .map(|(id, bp)| (id, bp.clone()))
            .collect()
    }

    /// Stops the next call that runs, at its next line.
    pub fn pause(&mut self) {
        self.core.debug.pause();
    }

    /// Whether a runtime error stops its call before unwinding, so that
    /// its stack can be inspected ([`StopReason::Error`]).
    pub fn set_break_on_error(&mut self, on: bool) {
        self.core.debug.break_on_error = on;
    }

    /// Makes a stopped call stop again after a step, when the host
    /// resumes it; false if the call is not stopped.
    pub fn step(&mut self, call: CallId, kind: StepKind) -> bool {
        self.core.debug.stopped.contains_key(&call) && self.core.debug.step(call, kind)
    }

    /// Why a call is stopped (`None` while it runs, is merely suspended,
    /// or has ended).
    pub fn stop_reason(&self, call: CallId) -> Option<&StopReason> {
        self.core.debug.stopped.get(&call)
    }

    /// A suspended or stopped call's frames, innermost first.
    pub fn call_stack(&self, call: CallId) -> Option<Vec<FrameView>> {
        let fiber = self.core.calls.get(call)?;
        let on_error = matches!(self.stop_reason(call), Some(StopReason::Error(_)));
        let frames = (0..fiber.frames.len())
            .rev()
            .filter_map(|i| {
                let proto = self.frame_proto(fiber, i)?;
                let (line, col) = proto.position(self.frame_pc(fiber, i, on_error));
                Some(FrameView {
                    function: proto.name.clone(),
                    script: proto.script.to_string(),
                    line,
                    col,
                    instance: InstanceId(fiber.frames[i].instance),
                })
            })
            .collect();
        Some(frames)
    }

    /// The local variables in scope in frame `frame` (0: innermost) of a
    /// suspended or stopped call, by name, in the order they were declared.
    pub fn frame_locals(&self, call: CallId, frame: usize) -> Option<Vec<(String, Value)>> {
        let fiber = self.core.calls.get(call)?;
        let i = fiber.frames.len().checked_sub(frame + 1)?;
        let proto = self.frame_proto(fiber, i)?;
        let on_error = matches!(self.stop_reason(call), Some(StopReason::Error(_)));
        let pc = self.frame_pc(fiber, i, on_error) as u32;
        let base = fiber.frames[i].base;
        let mut locals: Vec<(String, Value)> = proto
            .locals
            .iter()
            .filter(|l| l.start_pc <= pc && pc < l.end_pc)
            .map(|l| {
                let v = fiber
                    .stack
                    .get(base + l.reg as usize)
                    .copied()
                    .unwrap_or_default();
                (l.name.to_string(), self.through_cell(v, l.captured))
            })
            .collect();
        // A name declared again in an inner block shadows the outer one.
        let mut seen = std::collections::HashSet::new();
        locals.reverse();
        locals.retain(|(name, _)| seen.insert(name.clone()));
        locals.reverse();
        Some(locals)
    }

    /// The variables frame `frame`'s function captured, by name.
    pub fn frame_captures(&self, call: CallId, frame: usize) -> Option<Vec<(String, Value)>> {
        let fiber = self.core.calls.get(call)?;
        let i = fiber.frames.len().checked_sub(frame + 1)?;
        let closure = self.core.heap.closures.get(fiber.frames[i].closure)?;
        let captures = closure
            .proto
            .upval_names
            .iter()
            .zip(closure.upvals.iter())
            .map(|(name, &cell)| {
                let v = self
                    .core
                    .heap
                    .cells
                    .get(cell)
                    .map_or(Value::Nil, |c| c.get());
                (name.clone(), v)
            })
            .collect();
        Some(captures)
    }

    /// Writes a local variable in scope in a frame of a suspended or
    /// stopped call; false if there is none by that name.
    pub fn set_frame_local(
        &mut self,
        call: CallId,
        frame: usize,
        name: &str,
        value: Value,
    ) -> bool {
        let Some(fiber) = self.core.calls.get(call) else {
            return false;
        };
        let Some(i) = fiber.frames.len().checked_sub(frame + 1) else {
            return false;
        };
        let Some(proto) = self.frame_proto(fiber, i) else {
            return false;
        };
        let on_error = matches!(self.stop_reason(call), Some(StopReason::Error(_)));
        let pc = self.frame_pc(fiber, i, on_error) as u32;
        let Some(local) = proto
            .locals
            .iter()
            .rev()
            .find(|l| &*l.name == name && l.start_pc <= pc && pc < l.end_pc)
        else {
            return false;
        };
        let (slot, captured) = (fiber.frames[i].base + local.reg as usize, local.captured);
        if captured {
            if let Some(Value::Cell(cell)) = fiber.stack.get(slot).copied() {
                self.core.heap.cell_set(cell, value);
                return true;
            }
            return false;
        }
        match self
            .core
            .calls
            .get_mut(call)
            .and_then(|f| f.stack.get_mut(slot))
        {
            Some(register) => {
                *register = value;
                true
            }
            None => false,
        }
    }

    /// The module variables of an instance, by name.
    pub fn module_vars(&self, instance: InstanceId) -> Vec<(String, Value)> {
        let Some(inst) = self.core.heap.instances.get(instance.0) else {
            return Vec::new();
        };
        inst.module()
            .var_names
            .iter()
            .zip(inst.vars())
            .map(|(name, &v)| (name.clone(), v))
            .collect()
    }

    fn frame_proto<'a>(&'a self, fiber: &Fiber, i: usize) -> Option<&'a Arc<Proto>> {
        let closure = self.core.heap.closures.get(fiber.frames[i].closure)?;
        Some(&closure.proto)
    }

    /// The instruction frame `i` is at: the innermost frame's next
    /// instruction (the faulting one, after an error), a caller's call.
    fn frame_pc(&self, fiber: &Fiber, i: usize, on_error: bool) -> usize {
        let pc = fiber.frames[i].pc;
        if i + 1 == fiber.frames.len() && !on_error {
            pc
        } else {
            pc.saturating_sub(1)
        }
    }

    /// A captured local's register holds its cell: the value is inside.
    fn through_cell(&self, v: Value, captured: bool) -> Value {
        match v {
            Value::Cell(cell) if captured => self
                .core
                .heap
                .cells
                .get(cell)
                .map_or(Value::Nil, |c| c.get()),
            other => other,
        }
    }
}
