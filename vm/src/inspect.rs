//! The debugger's side of [`Vm`]: breakpoints and steps in, the frames,
//! locals and captures of a stopped (or suspended) call out. See
//! [`crate::debug`] for how stops work.

use std::any::Any;
use std::sync::Arc;

use crate::bytecode::{LocalInfo, Proto};
use crate::compiler::Options;
use crate::debug::{Breakpoint, BreakpointId, FrameView, StepKind, StopReason};
use crate::fiber::Fiber;
use crate::heap::Closure;
use crate::value::Value;
use crate::vm::{CallId, InstanceId, Vm};

/// The most instructions one evaluation in a frame may run.
pub const EVAL_INSTRUCTIONS: u64 = 10_000_000;

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
                condition: None,
            },
            &modules,
        )
    }

    /// Like [`Vm::set_breakpoint`], stopping only where `condition` (an
    /// expression, evaluated in the stopped frame as
    /// [`Vm::eval_in_frame`] does) is truthy. A condition that fails to
    /// compile or run stops the call, so that the mistake shows.
    pub fn set_breakpoint_if(
        &mut self,
        script: &str,
        line: u32,
        instance: Option<InstanceId>,
        condition: &str,
    ) -> BreakpointId {
        let id = self.set_breakpoint(script, line, instance);
        self.core.debug.set_condition(id, condition.to_string());
        id
    }

    /// Whether a stop at breakpoint `id` stands: it has no condition, or
    /// its condition holds (or cannot be evaluated) in the stopped frame.
    pub(crate) fn breakpoint_condition_holds(&mut self, call: CallId, id: BreakpointId) -> bool {
        let Some(condition) = self.core.debug.condition(id) else {
            return true;
        };
        self.eval_in_frame(call, 0, &condition)
            .map_or(true, |v| v.is_truthy())
    }

    /// Removes a breakpoint; false if there was none.
    pub fn remove_breakpoint(&mut self, id: BreakpointId) -> bool {
        self.core.debug.remove(id)
    }

    /// Every breakpoint set (runs to a line are not breakpoints).
    pub fn breakpoints(&self) -> Vec<(BreakpointId, Breakpoint)> {
        self.core
            .debug
            .breakpoints()
            .filter(|&(id, _)| !self.core.debug.is_run_to(id))
            .map(|(id, bp)| (id, bp.clone()))
            .collect()
    }

    /// Makes a stopped call, when the host resumes it, run until it
    /// reaches `script`'s line `line` (or the first line with code after
    /// it; stopped with [`StopReason::Step`]) or stops for another reason
    /// first (a breakpoint, an error). False if the call is not stopped.
    pub fn run_to_line(&mut self, call: CallId, script: &str, line: u32) -> bool {
        if !self.core.debug.stopped.contains_key(&call) {
            return false;
        }
        let Some(instance) = self.frame_at(call, 0).map(|at| at.instance) else {
            return false;
        };
        let id = self.set_breakpoint(script, line, Some(instance));
        self.core.debug.run_to(call, id);
        true
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

    /// Whether runtime errors stop their call ([`Vm::set_break_on_error`]).
    pub fn breaks_on_error(&self) -> bool {
        self.core.debug.break_on_error
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

    /// The name of the function a call started with (`None` once it has
    /// ended): cheap, for a profiler's zone per call.
    pub fn call_function(&self, call: CallId) -> Option<&str> {
        let fiber = self.core.calls.get(call)?;
        // Before its first resume, a call is its function and arguments.
        let closure = match (fiber.frames.first(), fiber.stack.first()) {
            (Some(frame), _) => frame.closure,
            (None, Some(&Value::Closure(closure))) => closure,
            (None, Some(&Value::Native(id))) => return Some(self.core.natives.name(id)),
            (None, _) => return None,
        };
        Some(&self.core.heap.closures.get(closure)?.proto.name)
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
        let at = self.frame_at(call, frame)?;
        let mut locals: Vec<(String, Value)> = at
            .in_scope()
            .map(|l| {
                let v = at.register(l).copied().unwrap_or_default();
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
        let closure = self.frame_at(call, frame)?.closure;
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
        let Some(at) = self.frame_at(call, frame) else {
            return false;
        };
        // The innermost declaration of the name, where several are in scope.
        let Some(local) = at.in_scope().filter(|l| &*l.name == name).last() else {
            return false;
        };
        let (slot, captured) = (at.base + local.reg as usize, local.captured);
        if captured {
            if let Some(&Value::Cell(cell)) = at.register(local) {
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

    /// Evaluates `source` in frame `frame` of a stopped or suspended call:
    /// an expression gives its value; statements run (and give `nil`).
    /// It sees the frame's locals, the variables its function captured and
    /// its instance's module variables, and an assignment to any of them
    /// writes it. It runs to completion, at most `EVAL_INSTRUCTIONS`
    /// instructions.
    pub fn eval_in_frame(
        &mut self,
        call: CallId,
        frame: usize,
        source: &str,
    ) -> Result<Value, String> {
        self.eval_in_frame_hosted(call, frame, source, None)
    }

    /// Like [`Vm::eval_in_frame`], with host data for the natives the
    /// expression calls, as [`Vm::resume_with`] passes it.
    pub fn eval_in_frame_with(
        &mut self,
        call: CallId,
        frame: usize,
        source: &str,
        host: &mut (dyn Any + Send),
    ) -> Result<Value, String> {
        self.eval_in_frame_hosted(call, frame, source, Some(host))
    }

    fn eval_in_frame_hosted(
        &mut self,
        call: CallId,
        frame: usize,
        source: &str,
        host: Option<&mut (dyn Any + Send)>,
    ) -> Result<Value, String> {
        let locals = self
            .frame_locals(call, frame)
            .ok_or("no such call or frame")?;
        let captures = self.frame_captures(call, frame).unwrap_or_default();
        let instance = self
            .frame_at(call, frame)
            .ok_or("no such call or frame")?
            .instance;
        // Locals shadow captures, which shadow module variables.
        let mut names: Vec<String> = Vec::new();
        let mut values: Vec<Value> = Vec::new();
        for (name, v) in captures.iter().chain(locals.iter()) {
            match names.iter().position(|n| n == name) {
                Some(at) => values[at] = *v,
                None => {
                    names.push(name.clone());
                    values.push(*v);
                }
            }
        }
        let params = names.join(", ");
        let back: String = names.iter().map(|n| format!(", {n}")).collect();
        let result = self.run_eval(
            instance,
            &|body| format!("(fn({params}) {{ return [({body}\n){back}]; }})"),
            &|body| format!("(fn({params}) {{ {body} return [nil{back}]; }})"),
            source,
            &values,
            host,
        )?;
        let Value::List(list) = result else {
            return Err("internal error: the evaluation gave no list".into());
        };
        let after: Vec<Value> = self.heap().list_items(list).unwrap_or_default().to_vec();
        // Write back what the evaluation assigned.
        for (i, name) in names.iter().enumerate() {
            let (Some(&new), old) = (after.get(i + 1), values[i]) else {
                continue;
            };
            if crate::ops::equal(new, old) && new.type_name() == old.type_name() {
                continue;
            }
            if !self.set_frame_local(call, frame, name, new) {
                self.set_frame_capture(call, frame, name, new);
            }
        }
        Ok(after.first().copied().unwrap_or_default())
    }

    /// Evaluates `source` in an instance's module scope, as
    /// [`Vm::eval_in_frame`] does in a frame: for an instance with no call
    /// stopped (a debugger's console on a running script). It sees and
    /// assigns the instance's module variables, and runs to completion,
    /// at most `EVAL_INSTRUCTIONS` instructions.
    pub fn eval_in_instance(
        &mut self,
        instance: InstanceId,
        source: &str,
    ) -> Result<Value, String> {
        self.eval_in_instance_hosted(instance, source, None)
    }

    /// Like [`Vm::eval_in_instance`], with host data for the natives the
    /// expression calls, as [`Vm::resume_with`] passes it.
    pub fn eval_in_instance_with(
        &mut self,
        instance: InstanceId,
        source: &str,
        host: &mut (dyn Any + Send),
    ) -> Result<Value, String> {
        self.eval_in_instance_hosted(instance, source, Some(host))
    }

    fn eval_in_instance_hosted(
        &mut self,
        instance: InstanceId,
        source: &str,
        host: Option<&mut (dyn Any + Send)>,
    ) -> Result<Value, String> {
        self.run_eval(
            instance,
            &|body| format!("(fn() {{ return ({body}\n); }})"),
            &|body| format!("(fn() {{ {body} }})"),
            source,
            &[],
            host,
        )
    }

    /// Compiles what the debugger evaluates (see [`Vm::eval_function`])
    /// and runs it with `args`, to completion.
    fn run_eval(
        &mut self,
        instance: InstanceId,
        expression: &dyn Fn(&str) -> String,
        statements: &dyn Fn(&str) -> String,
        source: &str,
        args: &[Value],
        host: Option<&mut (dyn Any + Send)>,
    ) -> Result<Value, String> {
        let f = self.eval_function(instance, expression, statements, source)?;
        let _keep = self.root(f);
        let run = self.start_call_value(f, args).map_err(|e| e.message)?;
        self.finish_within(run, EVAL_INSTRUCTIONS, host)
    }

    /// Compiles what the debugger evaluates, `source`, into a function in
    /// an instance's module scope: as an expression (`expression` wraps it)
    /// if it is one, else as statements (`statements` wraps it), with or
    /// without a `;` to end the last (`x = 1` needs one, `while c {}` may
    /// not have one). The source ends its own line, so that a comment in
    /// it ends there.
    fn eval_function(
        &mut self,
        instance: InstanceId,
        expression: &dyn Fn(&str) -> String,
        statements: &dyn Fn(&str) -> String,
        source: &str,
    ) -> Result<Value, String> {
        // The error told is the expression's: what a user types is most
        // often one.
        self.function_in_module(instance, &expression(source))
            .or_else(|e| {
                self.function_in_module(instance, &statements(&format!("{source}\n;")))
                    .or_else(|_| {
                        self.function_in_module(instance, &statements(&format!("{source}\n")))
                    })
                    .map_err(|_| e)
            })
    }

    /// Compiles `source` (a function expression) in an instance's module
    /// scope and returns the function.
    fn function_in_module(&mut self, instance: InstanceId, source: &str) -> Result<Value, String> {
        let prior = self
            .instance_module(instance)
            .ok_or("stale instance")?
            .code()
            .var_names
            .clone();
        let options = Options { prior_vars: &prior };
        let module = self
            .compile_source("<debugger>", source, options, true)
            .map_err(|e| e.message)?;
        if module.code().var_names.len() != prior.len() {
            return Err("declaring module variables is not possible here".into());
        }
        let main = self.start_main(instance, &module);
        self.finish_within(main, EVAL_INSTRUCTIONS, None)
    }

    /// Runs a call to its end within `limit` instructions; stops neither
    /// at breakpoints nor at yields.
    fn finish_within(
        &mut self,
        call: CallId,
        limit: u64,
        mut host: Option<&mut (dyn Any + Send)>,
    ) -> Result<Value, String> {
        let start = self.instructions_executed();
        loop {
            let left = limit.saturating_sub(self.instructions_executed() - start);
            if left == 0 {
                self.cancel(call);
                return Err(format!("the evaluation ran past {limit} instructions"));
            }
            let budget = crate::Budget::Instructions(left);
            let result = match host.as_deref_mut() {
                Some(host) => self.resume_with(call, budget, host),
                None => self.resume(call, budget),
            };
            match result {
                crate::RunResult::Done(v) => return Ok(v),
                crate::RunResult::Error(e) => return Err(e.to_string()),
                crate::RunResult::Suspended | crate::RunResult::Stopped(_) => {}
            }
        }
    }

    /// Writes a captured variable of frame `frame`'s function (seen by
    /// every closure that shares it); false if it has none by that name.
    pub fn set_frame_capture(
        &mut self,
        call: CallId,
        frame: usize,
        name: &str,
        value: Value,
    ) -> bool {
        let Some(closure) = self.frame_at(call, frame).map(|at| at.closure) else {
            return false;
        };
        let Some(cell) = closure
            .proto
            .upval_names
            .iter()
            .position(|n| n == name)
            .and_then(|at| closure.upvals.get(at).copied())
        else {
            return false;
        };
        self.core.heap.cell_set(cell, value);
        true
    }

    /// How many children a list or map has (0 for other values).
    pub fn child_count(&self, v: Value) -> usize {
        match v {
            Value::List(l) => self.heap().list_items(l).map_or(0, <[Value]>::len),
            Value::Map(m) => self.core.heap.maps.get(m).map_or(0, |m| m.len()),
            _ => 0,
        }
    }

    /// `count` children of a list or map from `start`, labelled (an
    /// index, or a key as the REPL shows it): a debugger pages through a
    /// big container without copying it.
    pub fn children(&self, v: Value, start: usize, count: usize) -> Vec<(String, Value)> {
        match v {
            Value::List(l) => self
                .heap()
                .list_items(l)
                .unwrap_or_default()
                .iter()
                .enumerate()
                .skip(start)
                .take(count)
                .map(|(i, &item)| (i.to_string(), item))
                .collect(),
            Value::Map(m) => match self.core.heap.maps.get(m) {
                Some(map) => map
                    .iter()
                    .skip(start)
                    .take(count)
                    .map(|(k, &item)| (self.repr(k.to_value()), item))
                    .collect(),
                None => Vec::new(),
            },
            _ => Vec::new(),
        }
    }

    fn frame_proto<'a>(&'a self, fiber: &Fiber, i: usize) -> Option<&'a Arc<Proto>> {
        let closure = self.core.heap.closures.get(fiber.frames[i].closure)?;
        Some(&closure.proto)
    }

    /// Frame `frame` (0: innermost) of a suspended or stopped call.
    fn frame_at(&self, call: CallId, frame: usize) -> Option<FrameAt<'_>> {
        let fiber = self.core.calls.get(call)?;
        let i = fiber.frames.len().checked_sub(frame + 1)?;
        let closure = self.core.heap.closures.get(fiber.frames[i].closure)?;
        let on_error = matches!(self.stop_reason(call), Some(StopReason::Error(_)));
        Some(FrameAt {
            stack: &fiber.stack,
            base: fiber.frames[i].base,
            pc: self.frame_pc(fiber, i, on_error) as u32,
            instance: InstanceId(fiber.frames[i].instance),
            closure,
        })
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

/// One frame of a call, as the debugger reads it.
struct FrameAt<'a> {
    stack: &'a [Value],
    /// Stack index of register 0.
    base: usize,
    /// The instruction it is at (see `Vm::frame_pc`).
    pc: u32,
    instance: InstanceId,
    closure: &'a Closure,
}

impl<'a> FrameAt<'a> {
    /// The locals in scope at the frame's instruction, in declaration
    /// order.
    fn in_scope(&self) -> impl Iterator<Item = &'a LocalInfo> + '_ {
        let pc = self.pc;
        self.closure
            .proto
            .locals
            .iter()
            .filter(move |l| l.start_pc <= pc && pc < l.end_pc)
    }

    fn register(&self, local: &LocalInfo) -> Option<&'a Value> {
        self.stack.get(self.base + local.reg as usize)
    }
}
