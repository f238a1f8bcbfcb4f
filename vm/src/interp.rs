//! The interpreter loop.
//!
//! A call runs on a `Fiber`: a value stack and a list of frames. Script
//! calls push a frame and never recurse on the Rust stack, so a suspended
//! call is just its fiber, kept until it is resumed at the exact next
//! instruction. The budget is fuel: one unit per instruction, natives
//! charge for their work, and when the fuel runs out the loop either
//! suspends (instruction budgets) or reads the clock (time budgets).

use std::any::Any;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use arrayvec::ArrayVec;

use crate::access;
use crate::batch::{CallBatch, ModuleVars};
use crate::builtins;
use crate::bytecode::{Capture, MAX_JOINED, Op, Proto};
use crate::clock::ClockReads;
use crate::debug::StopReason;
use crate::error::{INNERMOST_FRAMES_KEPT, OUTERMOST_FRAMES_KEPT, RuntimeError, StackFrame};
use crate::fiber::{Fiber, Frame, ProtoRef};
use crate::gc;
use crate::heap::{CellObj, Closure, Heap, Key};
use crate::methods::{self, Outcome, Prelude};
use crate::native::NativeCtx;
use crate::ops::{self, Arith};
use crate::value::{ClosureKey, MapKey, StrKey, Value, Vec3};
use crate::vm::{Budget, CLOCK_CHECK_INTERVAL, CallId, Core, Natives, RunResult, VmConfig};

/// Fuel and when to stop.
struct Meter {
    fuel: i64,
    deadline: Option<Instant>,
    unlimited: bool,
    /// The fuel at the last fill, and the fuel spent before it: together
    /// they say how much work the run did.
    filled: i64,
    spent: u64,
    /// Under a time budget, its clock reads (for
    /// `Vm::last_resume_longest_unchecked`).
    clock: Option<ClockReads>,
    /// Whether a check found the deadline passed.
    passed: bool,
}

/// The clock of the resumes under `Budget::Until` one deadline: the fuel
/// left before the next read, the reads, and whether one found the
/// deadline passed.
#[derive(Clone, Copy)]
pub(crate) struct SharedClock {
    deadline: Instant,
    fuel: i64,
    clock: ClockReads,
    passed: bool,
}

impl SharedClock {
    /// Whether a resume under `deadline` found it passed.
    pub(crate) fn found_passed(&self, deadline: Instant) -> bool {
        self.deadline == deadline && self.passed
    }
}

impl Meter {
    fn new(budget: Budget, shared: Option<&SharedClock>) -> Meter {
        let timed = |fuel: i64, deadline: Instant, clock: ClockReads, passed: bool| Meter {
            fuel,
            deadline: Some(deadline),
            unlimited: false,
            filled: fuel,
            spent: 0,
            clock: Some(clock),
            passed,
        };
        match budget {
            Budget::Instructions(n) => Meter {
                fuel: n.min(i64::MAX as u64) as i64,
                deadline: None,
                unlimited: false,
                filled: n.min(i64::MAX as u64) as i64,
                spent: 0,
                clock: None,
                passed: false,
            },
            Budget::Micros(us) => {
                let now = Instant::now();
                let deadline = now + Duration::from_micros(us);
                timed(
                    CLOCK_CHECK_INTERVAL,
                    deadline,
                    ClockReads::starting_at(now),
                    false,
                )
            }
            Budget::Until(deadline) => match shared {
                Some(s) if s.deadline == deadline => {
                    timed(s.fuel.max(0), deadline, s.clock, s.passed)
                }
                _ => timed(
                    CLOCK_CHECK_INTERVAL,
                    deadline,
                    ClockReads::starting_at(Instant::now()),
                    false,
                ),
            },
            Budget::Unlimited => Meter {
                fuel: i64::MAX / 2,
                deadline: None,
                unlimited: true,
                filled: i64::MAX / 2,
                spent: 0,
                clock: None,
                passed: false,
            },
        }
    }

    /// Called when `fuel` is spent: true means suspend now; otherwise the
    /// fuel is refilled.
    #[cold]
    fn exhausted(&mut self, fuel: &mut i64) -> bool {
        let refill = if self.unlimited {
            i64::MAX / 2
        } else {
            // A time budget: `deadline` and `clock` are set together.
            let now = self.clock.as_mut().map(ClockReads::read);
            match (self.deadline, now) {
                (Some(deadline), Some(now)) if now < deadline => CLOCK_CHECK_INTERVAL,
                _ => {
                    self.passed = true;
                    return true;
                }
            }
        };
        self.spent += (self.filled - *fuel).max(0) as u64;
        *fuel = refill;
        self.filled = refill;
        false
    }

    /// Work done so far, given the fuel left now.
    fn total_spent(&self, fuel: i64) -> u64 {
        self.spent + (self.filled - fuel).max(0) as u64
    }
}

enum Exit {
    Done(Value),
    Suspended,
    /// The debugger stopped the call (only the debug loop stops).
    Stopped(StopReason),
}

/// Runs `fiber` under `budget`.
pub(crate) fn run(
    core: &mut Core,
    call: CallId,
    fiber: &mut Fiber,
    budget: Budget,
    host: Option<&mut (dyn Any + Send)>,
) -> RunResult {
    let mut meter = Meter::new(budget, core.shared_clock.as_ref());
    // The call's long work is its own (`heap/long_work.rs`); a call run
    // inside a native's host code hands the heap back to the outer one.
    let outer = core.heap.work.set_running(Some(call));
    // One handle on the native table for the whole run (natives cannot be
    // registered while a script runs): a clone for the call's start and
    // another for its loop were a tenth of a short call's cost (`perf`,
    // the `plugin` bench's movers: the reference count's atomic updates).
    let natives = core.natives.clone();
    let result = run_metered(core, natives, call, fiber, &mut meter, host, None);
    core.heap.work.set_running(outer);
    settle(core, budget, meter);
    result
}

/// Runs the calls `batch` gives on `fiber`, one after another, under one
/// budget (`Vm::run_batch`): `None` when the batch ended, the last call's
/// result when it was suspended or stopped. A script function's return
/// starts the next call inside the interpreter loop (`next_batch_call`);
/// a call that fails, or whose function is a native, comes back here.
pub(crate) fn run_batch(
    core: &mut Core,
    call: CallId,
    fiber: &mut Fiber,
    budget: Budget,
    mut host: Option<&mut (dyn Any + Send)>,
    calls: &mut dyn CallBatch,
) -> Option<RunResult> {
    let mut meter = Meter::new(budget, core.shared_clock.as_ref());
    let outer = core.heap.work.set_running(Some(call));
    let mut batch = BatchRun {
        calls,
        over: false,
        started: false,
        report_return: false,
    };
    let last = loop {
        if !std::mem::take(&mut batch.started) {
            let mut fuel = meter.fuel;
            let next = batch.set_up_next(core, fiber, &mut meter, &mut fuel, host.as_deref_mut());
            meter.fuel = fuel;
            if next.is_none() {
                break None;
            }
        }
        let natives = core.natives.clone();
        let result = run_metered(
            core,
            natives,
            call,
            fiber,
            &mut meter,
            host.as_deref_mut(),
            Some(&mut batch),
        );
        if batch.over {
            break None;
        }
        if batch.started {
            continue;
        }
        if matches!(result, RunResult::Suspended | RunResult::Stopped(_)) {
            break Some(result);
        }
        // The call's long work goes before the next one starts.
        core.heap.forget_work(call);
        let ended = match &result {
            RunResult::Error(e) => Err(e),
            RunResult::Done(_) if !batch.report_return => continue,
            RunResult::Done(v) => Ok(*v),
            RunResult::Suspended | RunResult::Stopped(_) => unreachable!("handled above"),
        };
        batch.calls.ended(ended, host.as_deref_mut());
    };
    core.heap.work.set_running(outer);
    settle(core, budget, meter);
    last
}

/// A batch running in the interpreter loop.
pub(crate) struct BatchRun<'b> {
    calls: &'b mut dyn CallBatch,
    /// The batch has no more calls, or the budget ran out between two.
    over: bool,
    /// The last call's result was reported and the next call set up on the
    /// fiber, for `run_batch` to start.
    started: bool,
    /// The running call's `BatchCall::report_return`.
    report_return: bool,
}

impl BatchRun<'_> {
    /// Sets up the batch's next call on `fiber`, the budget allowing, and
    /// gives its function; `None` (the batch over) when the budget is
    /// spent or the batch has no more calls.
    fn set_up_next(
        &mut self,
        core: &Core,
        fiber: &mut Fiber,
        meter: &mut Meter,
        fuel: &mut i64,
        host: Option<&mut (dyn Any + Send)>,
    ) -> Option<Value> {
        let next = if *fuel <= 0 && meter.exhausted(fuel) {
            None
        } else {
            self.calls.next(ModuleVars(&core.heap), host)
        };
        let Some(next) = next else {
            self.over = true;
            return None;
        };
        self.report_return = next.report_return;
        fiber.begin(next.function, next.args);
        Some(next.function)
    }
}

/// A call of `batch` returned `v`: reports it and starts the next calls
/// until one pushes its frame (true: the loop runs it). False when the
/// batch is over, or the next function is not a script function (then it
/// is set up for `run_batch` to start: `BatchRun::started`).
#[inline(never)]
#[allow(clippy::too_many_arguments)]
fn next_batch_call(
    core: &mut Core,
    natives: &Natives,
    call: CallId,
    fiber: &mut Fiber,
    batch: &mut BatchRun<'_>,
    meter: &mut Meter,
    fuel: &mut i64,
    mut host: Option<&mut (dyn Any + Send)>,
    v: Value,
) -> bool {
    // By its fields: the caller moved it 8 bytes at a time, which a
    // 16-byte load would wait for (`Value::copy_fields`).
    let mut result = Ok(v.copy_fields());
    loop {
        // As `execute` does after each call.
        core.heap.module_written();
        core.heap.forget_work(call);
        if result.is_err() || batch.report_return {
            batch
                .calls
                .ended(result.as_ref().copied(), host.as_deref_mut());
        }
        let Some(function) = batch.set_up_next(core, fiber, meter, fuel, host.as_deref_mut())
        else {
            return false;
        };
        let Value::Closure(k) = function else {
            batch.started = true;
            return false;
        };
        let nargs = fiber.pending.take().unwrap_or_default();
        // A script function with the right arity enters here, as `Op::Call`
        // enters one; the rest (its errors) in `call_value`.
        if let Some(callee) = core.heap.closures.get(k)
            && callee.proto.arity as usize == nargs
            && frame_fits(fiber, 1 + callee.proto.num_regs as usize, &core.config)
        {
            *fuel -= callee.proto.fuel_cost();
            let top = 1 + callee.proto.num_regs as usize;
            enter_frame(fiber, k, callee, 0, top, &core.config);
            return true;
        }
        result = match call_value(core, natives, fiber, 0, nargs, fuel, host.as_deref_mut()) {
            Ok(true) => return true,
            Ok(false) => Ok(fiber.stack[0]),
            Err(message) => Err(error_with_stack(&core.heap, fiber, message)),
        };
    }
}

/// Counts a run's work and keeps its clock reads.
fn settle(core: &mut Core, budget: Budget, mut meter: Meter) {
    core.instructions += meter.total_spent(meter.fuel);
    core.last_resume_longest_unchecked = match (budget, meter.clock.as_mut()) {
        // The next resume under the deadline goes on from here: no read
        // at the end (the stretch goes on into it).
        (Budget::Until(deadline), Some(clock)) => {
            core.shared_clock = Some(SharedClock {
                deadline,
                fuel: meter.fuel,
                clock: *clock,
                passed: meter.passed,
            });
            clock.longest()
        }
        (_, Some(clock)) => {
            clock.read();
            clock.longest()
        }
        (_, None) => Duration::ZERO,
    };
}

/// `run`'s work, under `meter`.
fn run_metered(
    core: &mut Core,
    natives: Natives,
    call: CallId,
    fiber: &mut Fiber,
    meter: &mut Meter,
    mut host: Option<&mut (dyn Any + Send)>,
    batch: Option<&mut BatchRun<'_>>,
) -> RunResult {
    if let Some(message) = fiber.failed.take() {
        return RunResult::Error(RuntimeError::new(message));
    }
    // A call stopped by an error before it unwound reports it now.
    if !core.debug.stopped.is_empty()
        && let Some(StopReason::Error(message)) = core.debug.resuming(call)
    {
        return RunResult::Error(error_with_stack(&core.heap, fiber, message));
    }
    // A new call has no frame under it that caches module variables; a
    // resumed one has, whose callees may have written them before it
    // stopped, as may have any code run since.
    let stopped = fiber.slots_written_at_stop.take();
    core.heap
        .start_module_slots_written(fiber.pending.is_some(), stopped);
    if let Some(nargs) = fiber.pending.take() {
        loop {
            match call_value(
                core,
                &natives,
                fiber,
                0,
                nargs,
                &mut meter.fuel,
                host.as_deref_mut(),
            ) {
                Ok(true) => break,
                Ok(false) => return RunResult::Done(fiber.stack[0]),
                // A native called directly whose long work stopped
                // between slices runs again, budget permitting.
                Err(_) if core.heap.work.take_unfinished() => {
                    let mut fuel = meter.fuel - core.heap.take_work_debt() as i64;
                    let stop = fuel <= 0 && meter.exhausted(&mut fuel);
                    meter.fuel = fuel;
                    if stop {
                        fiber.pending = Some(nargs);
                        return RunResult::Suspended;
                    }
                }
                Err(message) => {
                    return RunResult::Error(error_with_stack(&core.heap, fiber, message));
                }
            }
        }
    }
    match execute(core, natives, call, fiber, meter, host, batch) {
        Ok(Exit::Done(v)) => RunResult::Done(v),
        Ok(Exit::Suspended) => RunResult::Suspended,
        Ok(Exit::Stopped(reason)) => {
            core.debug.stop(call, reason.clone());
            RunResult::Stopped(reason)
        }
        Err(message) => RunResult::Error(error_with_stack(&core.heap, fiber, message)),
    }
}

/// Builds a runtime error from the fiber's frames, innermost first. Of a
/// very deep stack only both ends are kept.
fn error_with_stack(heap: &Heap, fiber: &Fiber, message: String) -> RuntimeError {
    let describe = |(f, proto): (&Frame, &Proto)| {
        let (line, col) = proto.position(f.pc.saturating_sub(1));
        StackFrame {
            function: proto.name.clone(),
            script: proto.script.to_string(),
            line,
            col,
        }
    };
    // The prelude's frames (`map`, `filter`, `sort_by`) are the standard
    // library's insides: the report starts at the script's own call. Of a
    // deep stack (100,000 frames after a runaway recursion) only the ends
    // are described, and nothing is collected on the way.
    let script_frames = || {
        fiber
            .frames
            .iter()
            .filter_map(|f| Some((f, &*heap.closures.get(f.closure)?.proto)))
            .filter(|(_, proto)| &*proto.script != crate::vm::PRELUDE_NAME)
    };
    let n = script_frames().count();
    let keep = INNERMOST_FRAMES_KEPT + OUTERMOST_FRAMES_KEPT;
    let frames_omitted = n.saturating_sub(keep);
    let stack = if frames_omitted == 0 {
        script_frames().rev().map(describe).collect()
    } else {
        let inner = script_frames().rev().take(INNERMOST_FRAMES_KEPT);
        let outer: Vec<_> = script_frames().take(OUTERMOST_FRAMES_KEPT).collect();
        inner.chain(outer.into_iter().rev()).map(describe).collect()
    };
    RuntimeError {
        message,
        stack,
        frames_omitted,
    }
}

/// The stale-handle error (`crate::error::stale`), here so that it is
/// inlined into the interpreter loop's error paths: called in another
/// module, it made the loop keep its instruction pointer on the stack
/// (`ark` on `loop.ark`: 0.37 s against 0.33 s).
fn stale() -> String {
    "stale handle: the object was freed".to_string()
}

/// The function `m.f(...)` calls: field `method` of map `m`, found where
/// the instruction at `pc` last found it (as `get_field!` remembers a
/// field's place) or by hashing. Out of the interpreter loop: inlined
/// there, it moved the loop's hot code and slowed programs that make no
/// such call (docs/benchmarks.md).
#[inline(never)]
fn map_function(
    core: &mut Core,
    proto: &Proto,
    pc: usize,
    m: MapKey,
    method: u16,
) -> Result<Value, String> {
    let key = core.methods.key(method, &mut core.heap).map_err(|e| e.0)?;
    let map = core.heap.maps.get(m).ok_or_else(stale)?;
    let cache = &proto.field_cache[pc];
    let f = match map.cached_entry(cache.load(Ordering::Relaxed) as usize) {
        Some((&Key::Str(k), &f)) if k == key => Some(f),
        _ => map.find_full(&Key::Str(key)).map(|(i, _, &f)| {
            cache.store(i as u32, Ordering::Relaxed);
            f
        }),
    };
    f.ok_or_else(|| {
        format!(
            "cannot call nil (the map has no field '{}')",
            core.methods.name(method)
        )
    })
}

/// Calls the function at `stack[slot]` with the `nargs` values above it.
/// A script function gets a new frame (returns `true`: the loop must load
/// it); a native runs now and leaves its result in `stack[slot]`.
fn call_value(
    core: &mut Core,
    natives: &Natives,
    fiber: &mut Fiber,
    slot: usize,
    nargs: usize,
    fuel: &mut i64,
    host: Option<&mut (dyn Any + Send)>,
) -> Result<bool, String> {
    match fiber.stack[slot] {
        Value::Closure(k) => {
            let closure = core.heap.closures.get(k).ok_or_else(stale)?;
            let proto = &closure.proto;
            if proto.arity as usize != nargs {
                let plural = if proto.arity == 1 {
                    "argument"
                } else {
                    "arguments"
                };
                return Err(format!(
                    "{} expects {} {plural} but got {nargs}",
                    proto.name, proto.arity
                ));
            }
            let top = slot + 1 + proto.num_regs as usize;
            if !frame_fits(fiber, top, &core.config) {
                return Err("stack overflow".into());
            }
            *fuel -= proto.fuel_cost();
            enter_frame(fiber, k, closure, slot, top, &core.config);
            Ok(true)
        }
        Value::Native(id) => {
            let native = natives.get(id).ok_or_else(stale)?;
            if !native.arity.accepts(nargs) {
                return Err(native.arity.mismatch(&native.name, nargs));
            }
            let args = &fiber.stack[slot + 1..slot + 1 + nargs];
            if let Some(pure) = native.pure {
                fiber.stack[slot] = pure(args).map_err(|e| e.0)?;
                return Ok(false);
            }
            let mut ctx = NativeCtx { core, fuel, host };
            let v = (native.func)(&mut ctx, args).map_err(|e| e.0)?;
            fiber.stack[slot] = v;
            Ok(false)
        }
        other => Err(format!("cannot call {}", other.type_name())),
    }
}

/// Pushes the frame of a script call whose callee is at `stack[slot]`,
/// its arguments above it. The stack vector only grows: what lies above
/// the top frame's registers is dead (returned calls' registers), is no
/// root for the collector (`Fiber::live_slots`), and is overwritten before
/// it is read. The new frame's registers past its arguments are not
/// cleared (a store per register per call: 11% of fib.ark's instructions):
/// the verifier proved that the code writes each before reading it
/// (`verify/written.rs`). Until then the collector sees the dead values
/// there, which keeps what they point to a little longer, as in Lua.
#[inline(always)]
fn enter_frame(
    fiber: &mut Fiber,
    key: ClosureKey,
    callee: &Closure,
    slot: usize,
    top: usize,
    config: &VmConfig,
) {
    let base = slot + 1;
    if fiber.stack.len() < top {
        grow_stack(fiber, top, config);
    }
    fiber.frames.push(Frame {
        closure: key,
        proto: ProtoRef(Arc::as_ptr(&callee.proto)),
        instance: callee.instance,
        pc: 0,
        base,
        top,
    });
}

/// Whether a frame whose registers end at `top` may be pushed: within the
/// call-depth limit and the register stack's.
#[inline(always)]
fn frame_fits(fiber: &Fiber, top: usize, config: &VmConfig) -> bool {
    fiber.frames.len() < config.max_call_depth && top <= max_stack_slots(config)
}

fn max_stack_slots(config: &VmConfig) -> usize {
    config.max_stack_bytes / std::mem::size_of::<Value>()
}

/// Grows the stack to at least `top`, never past its limit: doubling, but
/// by at most `STACK_GROWTH` slots at a time. The new slots are written
/// (with nil), which makes the kernel give them pages: with the length
/// doubling, the hostile bench's `recursion` had resumes of 5.8-6.9 ms,
/// whose profile was mostly the page faults of that write. Its buffer's
/// capacity grows as [`grown_capacity`] says.
#[cold]
fn grow_stack(fiber: &mut Fiber, top: usize, config: &VmConfig) {
    /// One megabyte of registers.
    const STACK_GROWTH: usize = (1 << 20) / std::mem::size_of::<Value>();
    let len = fiber.stack.len();
    let grown = (len + len.clamp(1, STACK_GROWTH)).min(max_stack_slots(config));
    let new_len = top.max(grown);
    if new_len > fiber.stack.capacity() {
        let capacity = grown_capacity(&fiber.stack, new_len, max_stack_slots(config));
        fiber.stack.reserve_exact(capacity - len);
        // The frames grow with the registers (a frame has one at least):
        // room for as many, within the call-depth limit, the same way.
        let frames = fiber.frames.len();
        let room = grown_capacity(&fiber.frames, frames + 1, config.max_call_depth);
        fiber
            .frames
            .reserve_exact(room.min(capacity).max(frames + 1) - frames);
    }
    fiber.stack.resize(new_len, Value::Nil);
}

/// The capacity a stack of registers or frames grows to, to hold `needed`
/// items: double, within `limit` (unless `needed` is past it). Past a
/// megabyte it goes straight to 32 MiB (or the limit): glibc's `malloc`
/// keeps blocks below that in its own heap once big ones have been freed,
/// and a block there that cannot grow in place is copied (with the page
/// faults of its new place: the hostile bench's `recursion` had resumes of
/// 5.2-6.0 ms, a 4.3 ms stretch of them in one such copy). A block of
/// 32 MiB it always maps from the system, and moves by remapping its
/// pages. The room is address space until used: the kernel gives it pages
/// as they are first written.
fn grown_capacity<T>(stack: &Vec<T>, needed: usize, limit: usize) -> usize {
    /// Bytes from which a stack goes straight to `ALWAYS_MAPPED`.
    const BIG: usize = 1 << 20;
    /// glibc's largest threshold for mapping a block from the system.
    const ALWAYS_MAPPED: usize = 32 << 20;
    let item = std::mem::size_of::<T>().max(1);
    let mut capacity = (stack.capacity() * 2).max(needed);
    if capacity * item >= BIG {
        capacity = capacity.max(ALWAYS_MAPPED / item);
    }
    capacity.min(limit.max(needed))
}

/// vec3 arithmetic, the next most common case after ints and floats,
/// without the general path. Operands by reference, as in `arith!`. It
/// returns the vector, not a `Value`: an `Option<Value>` keeps its `None` in
/// the value's tag, which the interpreter then tested and spilled on every
/// vec3 operation (particles.ark, callgrind).
#[inline(always)]
fn vec3_arith(op: Arith, a: &Value, b: &Value) -> Option<Vec3> {
    let v = match (op, a, b) {
        (Arith::Add, Value::Vec3(v), Value::Vec3(w)) => v.plus(*w),
        (Arith::Sub, Value::Vec3(v), Value::Vec3(w)) => v.minus(*w),
        (Arith::Mul, Value::Vec3(v), Value::Float(f))
        | (Arith::Mul, Value::Float(f), Value::Vec3(v)) => {
            let f = *f as f32;
            v.scaled(f)
        }
        _ => return None,
    };
    Some(v)
}

/// What `compare!` makes of operands other than two ints or two floats.
enum Compared {
    /// Two strings' order, and the bytes read to find it.
    Strings(std::cmp::Ordering, usize),
    /// The comparison's answer by the general rules.
    Answer(bool),
}

/// `compare!`'s operands other than two ints or two floats: two strings
/// in byte order, anything else by `general`. Out of line, so that the
/// twenty comparison instructions share one copy of this code rather
/// than each carrying its own, which kept the interpreter's hot paths
/// spread over more of the instruction cache.
#[inline(never)]
fn compare_other(
    heap: &mut Heap,
    a: Value,
    b: Value,
    general: fn(&Heap, Value, Value) -> Result<bool, String>,
) -> Result<Compared, String> {
    if let (Value::Str(x), Value::Str(y)) = (a, b) {
        let (order, read) = heap.order_strings(x, y)?;
        return Ok(Compared::Strings(order, read));
    }
    general(heap, a, b).map(Compared::Answer)
}

/// Loads the registers that cache module variables at `pc`
/// (`CachedModuleVar`) from the variables; an error if the instance is gone
/// (`vars_len` is then 0), as a load there would be.
///
/// # Safety
///
/// `regs` must point to `proto.num_regs` registers, and `vars` to
/// `vars_len` values.
#[inline(never)]
unsafe fn reload_cached_module_vars(
    proto: &Proto,
    pc: usize,
    regs: *mut Value,
    vars: *const Value,
    vars_len: usize,
) -> Result<(), String> {
    for cached in &proto.cached_module_vars {
        if (cached.from_pc as usize..cached.to_pc as usize).contains(&pc) {
            let slot = cached.slot as usize;
            if slot >= vars_len {
                return Err(stale());
            }
            // SAFETY: the verifier proved `reg` below `num_regs`, and `slot`
            // is below `vars_len` (checked above).
            unsafe { *regs.add(cached.reg as usize) = *vars.add(slot) };
        }
    }
    Ok(())
}

fn arith_slow(core: &mut Core, op: Arith, a: Value, b: Value) -> Result<Value, String> {
    match vec3_arith(op, &a, &b) {
        Some(v) => Ok(Value::vec3(v)),
        None => ops::arith(&mut core.heap, op, a, b),
    }
}

/// `a + b` by the general rules.
fn add(core: &mut Core, a: Value, b: Value) -> Result<Value, String> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Ok(Value::Int(x.wrapping_add(y))),
        (Value::Float(x), Value::Float(y)) => Ok(Value::Float(x + y)),
        _ => arith_slow(core, Arith::Add, a, b),
    }
}

/// `AddN`'s sum of `values`: strings joined at once, without the strings
/// between; other operands added in order, after `check_add_chain` has
/// raised what the first failing addition would (so that no string is
/// joined on the way to an error).
#[inline(never)]
fn add_chain(core: &mut Core, values: &[Value]) -> Result<Value, String> {
    let mut parts = ArrayVec::<StrKey, MAX_JOINED>::new();
    for value in values {
        match value {
            Value::Str(key) if !parts.is_full() => parts.push(*key),
            _ => break,
        }
    }
    if parts.len() == values.len() {
        return ops::concat(&mut core.heap, &parts).map(Value::Str);
    }
    ops::check_add_chain(values)?;
    let (&first, rest) = values
        .split_first()
        .ok_or("internal error: a sum of nothing")?;
    rest.iter()
        .try_fold(first, |sum, &value| add(core, sum, value))
}

#[inline]
fn modulo(core: &mut Core, a: Value, b: Value) -> Result<Value, String> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => ops::int_mod(x, y).map(Value::Int),
        (Value::Float(x), Value::Float(y)) => Ok(Value::Float(ops::float_mod(x, y))),
        _ => arith_slow(core, Arith::Mod, a, b),
    }
}

/// The main loop. Returns when the outermost frame returns, the budget is
/// spent, the script yields, or an error is raised.
fn execute(
    core: &mut Core,
    natives: Natives,
    call: CallId,
    fiber: &mut Fiber,
    meter: &mut Meter,
    host: Option<&mut (dyn Any + Send)>,
    batch: Option<&mut BatchRun<'_>>,
) -> Result<Exit, String> {
    let mut fuel = meter.fuel;
    // The debug loop only while the debugger needs it: the plain one has
    // no check per instruction.
    let result = if core.debug.active(call) {
        execute_loop::<true>(core, natives, call, fiber, meter, &mut fuel, host, batch)
    } else {
        execute_loop::<false>(core, natives, call, fiber, meter, &mut fuel, host, batch)
    };
    meter.fuel = fuel;
    // The call may have written module variables. Host code can run a
    // whole call on this heap during a native (by swapping the heap into
    // another `Vm`); counting every call that returns here as a write lets
    // the frame waiting on that native see it (`after_host!` reloads the
    // frame's cached variables when the count moved).
    fiber.slots_written_at_stop = Some(core.heap.call_stopped());
    result
}

#[allow(clippy::too_many_arguments)]
fn execute_loop<const DEBUG: bool>(
    core: &mut Core,
    natives: Natives,
    call: CallId,
    fiber: &mut Fiber,
    meter: &mut Meter,
    fuel_slot: &mut i64,
    mut host: Option<&mut (dyn Any + Send)>,
    mut batch: Option<&mut BatchRun<'_>>,
) -> Result<Exit, String> {
    // The debug loop asks the debugger only when the call enters a line
    // (`debug::DebugState::check`): where it was last asked.
    let mut debug_spot = if DEBUG {
        core.debug.last_spot(call)
    } else {
        None
    };
    'frame: loop {
        // The call's frames point into the closures of the heap it started
        // on (`ProtoRef`): it never runs on another.
        if fiber.heap == 0 {
            fiber.heap = core.heap.id();
        } else if fiber.heap != core.heap.id() {
            return Err(HEAP_REPLACED.into());
        }
        // Closures may have been freed since this call last ran (see
        // `Heap::layout_epoch`): every frame's closure must still be there,
        // since a return trusts the caller's `ProtoRef`. This call's own
        // collector steps keep them (its frames are roots), so they do not
        // count (`safe_point!`).
        if fiber.layout_epoch != core.heap.layout_epoch() {
            if fiber
                .frames
                .iter()
                .any(|f| !core.heap.closures.contains_key(f.closure))
            {
                return Err(stale());
            }
            fiber.layout_epoch = core.heap.layout_epoch();
        }
        let frame = fiber.frames.last().expect("a running fiber has a frame");
        let Some(running) = core.heap.closures.get(frame.closure) else {
            return Err(stale());
        };
        // The instance whose variables `vars` points at (below): the
        // running closure's, or an earlier frame's while the running
        // function uses no module variables.
        let vars_instance = running.instance;
        let proto_ptr: *const Proto = Arc::as_ptr(&running.proto);
        // SAFETY: the running closure owns an `Arc` to this prototype, and
        // the pointer is used only until the next reload (`continue 'frame`)
        // or return (which switches to the caller's `ProtoRef`). Until then
        // the closure stays in the heap: closures are removed only by the
        // collector's sweep, which runs during a call only from
        // `safe_point!`, and every safe point that ran the collector ends
        // in a reload, which looks the closure up again (checked: a missing
        // one is an error, never a dangling pointer); and the heap itself
        // stays (checked above and by `after_host!` after host code); a
        // sweep that host code runs through another `Vm` (swapping this
        // heap into it and back) moves the heap's layout epoch, after which
        // `after_host!` reloads before the pointer is used. Closures are never
        // changed after creation, and the prototype does not move when the
        // heap's arena grows. Neither scripts nor handles can reach this
        // pointer. Borrowing it saves an `Arc` clone and drop, two atomic
        // operations, per call (fib.ark: see the commit message).
        let mut proto: &Proto = unsafe { &*proto_ptr };
        let mut consts = &proto.consts[..];
        let mut base = frame.base;
        if fiber.stack.len() < base + proto.num_regs as usize || frame.pc >= proto.code.len() {
            return Err("internal error: the frame does not fit its function".into());
        }
        // The instruction pointer: the next instruction to run. It starts
        // inside the code (checked above) and from there only steps to the
        // next instruction, which the verifier proved exists unless this is
        // the last one (which returns or jumps), or jumps to a target the
        // verifier proved inside the code. Stepping a pointer rather than
        // indexing with a counter saves the index arithmetic per fetch.
        // SAFETY: `frame.pc` is inside the code (checked above).
        let mut ip: *const Op = unsafe { proto.code.as_ptr().add(frame.pc) };
        // The running function's closure: the top frame's (read when
        // needed, not kept in a local: the loop's locals compete for
        // registers with `ip`).
        macro_rules! running_closure {
            () => {
                fiber
                    .frames
                    .last()
                    .expect("a running fiber has a frame")
                    .closure
            };
        }
        // The index of the next instruction.
        macro_rules! pc {
            () => {
                // SAFETY: `ip` points into the code (see above).
                unsafe { ip.offset_from(proto.code.as_ptr()) as usize }
            };
        }
        // The fuel lives in a local, which stays in a register, while this
        // frame runs; `fuel_slot` holds it across calls, natives (which
        // charge it) and exits.
        // Long string work since the last frame load (`Heap::worked_over`,
        // which asks for a safe point, and every safe point ends in a
        // frame load) is charged here, and checked below.
        *fuel_slot -= core.heap.take_work_debt() as i64;
        let mut fuel: i64 = *fuel_slot;

        // Registers are read and written through `regs`, a pointer to the
        // running frame's register 0, without bounds checks: the verifier
        // proved every register operand below `proto.num_regs`, and the
        // stack holds that many slots above `base` (checked when the frame
        // loads, above; a call grows the stack to fit its callee). The
        // pointer comes from `Vec::as_mut_ptr`, which creates no reference
        // that other accesses to the stack could invalidate, and it is taken
        // again (`point_regs!`) whenever `base` changes: on calls, returns
        // and reloads. The stack vector reallocates only when a call grows
        // it (`enter_frame`), which is followed by one of those. Reads never
        // hand out `&mut`, so two operands naming one register never alias
        // mutably. Keeping the pointer in a local saves reloading the
        // vector's buffer pointer from memory on every register access.
        // SAFETY: `base` is within the stack (checked above).
        let mut regs: *mut Value = unsafe { fiber.stack.as_mut_ptr().add(base) };
        macro_rules! point_regs {
            () => {
                // SAFETY: `base` is within the stack: the frame just
                // entered or restored has its registers above it.
                regs = unsafe { fiber.stack.as_mut_ptr().add(base) };
            };
        }
        macro_rules! reg {
            ($r:expr) => {
                // SAFETY: see above.
                (*unsafe { &*regs.add(($r) as usize) })
            };
        }
        // Constants are read without bounds checks: the verifier proved
        // every constant operand inside the table (`Op::constant`), and
        // `consts` is always the running function's (it is set with
        // `proto` on every load, call and return).
        macro_rules! konst {
            ($k:expr) => {
                // SAFETY: see above.
                *unsafe { consts.get_unchecked($k as usize) }
            };
        }
        macro_rules! set_reg {
            ($r:expr, $v:expr) => {{
                let value: Value = $v;
                // SAFETY: see above.
                unsafe { *regs.add(($r) as usize) = value };
            }};
        }
        // Module variables are read and written through `vars`, a pointer
        // to the running instance's variables, `vars_len` of them; each
        // access checks its slot against `vars_len` (a stale instance has
        // none). Both are set here, when a frame loads. A call into, or a
        // return to, a function of another instance that uses module
        // variables reloads the frame; one that uses none (the prelude's
        // `map` calling back into a script) keeps them. The variables'
        // buffer moves or goes away only when the instance grows (a REPL
        // entry) or is released, or with the heap itself. The first two
        // are `Vm` methods: host code could run them during a call only by
        // swapping this heap into another `Vm` and back, which moves the
        // heap's layout epoch, and `after_host!` then reloads the frame;
        // a heap swapped for another it reports as an error. The
        // collector never frees instances (they are roots). This saves a
        // slotmap lookup per access (particles.ark: 7 of the 18
        // instructions in its loop), and keeping `vars` fixed between
        // reloads keeps the interpreter's registers as they were (assigning
        // it on calls and returns cost up to 20% everywhere).
        let (vars, vars_len) = match core.heap.instances.get_mut(vars_instance) {
            Some(inst) => inst.vars_for_interpreter(),
            None => (std::ptr::null_mut(), 0),
        };
        // The running function's instance (not always `vars_instance`).
        macro_rules! running_instance {
            () => {
                fiber.frames.last().map_or(vars_instance, |f| f.instance)
            };
        }
        // Records where we are, for suspension, calls and error reports.
        macro_rules! save_pc {
            () => {
                *fuel_slot = fuel;
                record_pc!();
            };
        }
        // Records where we are, the fuel aside (a script call's fast path
        // keeps the fuel in its local).
        macro_rules! record_pc {
            () => {
                if let Some(f) = fiber.frames.last_mut() {
                    f.pc = pc!();
                }
            };
        }
        // Runs `$e`, which may charge fuel through `fuel_slot`.
        macro_rules! charging {
            ($e:expr) => {{
                *fuel_slot = fuel;
                let result = $e;
                fuel = *fuel_slot;
                result
            }};
        }
        // The instructions run in this block until one fails: it ends
        // with the error's message.
        let message: String = 'run: {
            // Ends the instruction with an error: every one goes to the one
            // handler after the loop (`'run`), which keeps that code out of
            // the instructions' own paths.
            macro_rules! throw {
                ($msg:expr) => {{
                    let message: String = $msg;
                    break 'run message;
                }};
            }
            macro_rules! tri {
                ($e:expr) => {
                    match $e {
                        Ok(v) => v,
                        Err(e) => throw!(e),
                    }
                };
            }
            // After native or host code, at the end of its instruction. It had
            // `&mut Heap`: it must not have swapped the heap under the running
            // call (an error), and if it changed what the frame's pointers rely
            // on (see `Heap::layout_epoch`), the frame loads again, looking
            // everything up afresh. If it wrote module variables, the ones the
            // frame's loops keep in registers load again. Then the collector
            // may run, and the fuel is checked: natives charge for their work,
            // which may be far more than the fuel left.
            macro_rules! after_host {
                () => {
                    if core.heap.id() != fiber.heap {
                        throw!(HEAP_REPLACED.into())
                    }
                    if core.heap.layout_epoch() != fiber.layout_epoch {
                        save_pc!();
                        continue 'frame;
                    }
                    if core.heap.module_writes() != fiber.module_writes_seen {
                        reload_cached_vars!();
                    }
                    safe_point!();
                    check_fuel!();
                };
            }
            // Other code may have written module variables that this frame's
            // loops keep in registers: load those live here again (see
            // `CachedModuleVar`). Whenever the frame loads (a resume), on a
            // return into it where the callee may have written them
            // (`Heap::module_slots_written`), and after host code that wrote
            // some (`Heap::module_writes`; the count is this call's, not this
            // frame's, so returns do not rely on it).
            macro_rules! reload_cached_vars {
                () => {
                    if proto.cached_span.end > 0 {
                        let pc = pc!();
                        if proto.cached_span.contains(&(pc as u32)) {
                            // SAFETY: `regs` points to the frame's registers and
                            // `vars` to `vars_len` variables (see their
                            // definitions).
                            tri!(unsafe {
                                reload_cached_module_vars(proto, pc, regs, vars, vars_len)
                            });
                        }
                        fiber.module_writes_seen = core.heap.module_writes();
                    }
                };
            }
            macro_rules! ctx {
                () => {
                    NativeCtx {
                        core: &mut *core,
                        fuel: &mut *fuel_slot,
                        host: host.as_deref_mut(),
                    }
                };
            }
            // Where the collector may run: after an instruction that allocated,
            // once its result is in a register.
            macro_rules! safe_point {
                () => {
                    if core.heap.gc.pressure {
                        save_pc!();
                        if let gc::AfterSafePoint::Wait =
                            tri!(gc::safe_point(core, call, fiber, meter.unlimited))
                        {
                            return Ok(Exit::Suspended);
                        }
                        // It kept this call's closures (see the frame load).
                        fiber.layout_epoch = core.heap.layout_epoch();
                        // The collector may have freed objects: look the running
                        // closure up again (see the SAFETY note above).
                        continue 'frame;
                    }
                };
            }
            // Operands are matched by reference: reading a value's tag and
            // payload separately lets the CPU forward them from the stores that
            // wrote them, where copying the 16-byte value whole would stall.
            macro_rules! arith {
                ($dst:expr, $a:expr, $b:expr, $op:expr, $int:expr, $float:expr) => {{
                    match (&$a, &$b) {
                        (Value::Int(x), Value::Int(y)) => {
                            let (x, y) = (*x, *y);
                            set_reg!($dst, $int(x, y));
                        }
                        (Value::Float(x), Value::Float(y)) => {
                            let (x, y) = (*x, *y);
                            set_reg!($dst, Value::Float($float(x, y)));
                        }
                        // Mixed, as in `1.0 / n`: the int converts to float.
                        (Value::Int(x), Value::Float(y)) => {
                            let (x, y) = (*x as f64, *y);
                            set_reg!($dst, Value::Float($float(x, y)));
                        }
                        (Value::Float(x), Value::Int(y)) => {
                            let (x, y) = (*x, *y as f64);
                            set_reg!($dst, Value::Float($float(x, y)));
                        }
                        (a, b) => {
                            if let Some(v) = vec3_arith($op, a, b) {
                                set_reg!($dst, Value::vec3(v));
                                continue;
                            }
                            let (a, b) = (*a, *b);
                            set_reg!($dst, tri!(ops::arith(&mut core.heap, $op, a, b)));
                            safe_point!();
                        }
                    }
                }};
            }
            // `dst = a <op> b` for the four operators whose instructions come
            // in three forms (registers, a constant on the right, on the left).
            macro_rules! binary {
                (Add, $dst:expr, $a:expr, $b:expr) => {
                    arith!(
                        $dst,
                        $a,
                        $b,
                        Arith::Add,
                        |x: i64, y: i64| Value::Int(x.wrapping_add(y)),
                        |x: f64, y: f64| x + y
                    )
                };
                (Sub, $dst:expr, $a:expr, $b:expr) => {
                    arith!(
                        $dst,
                        $a,
                        $b,
                        Arith::Sub,
                        |x: i64, y: i64| Value::Int(x.wrapping_sub(y)),
                        |x: f64, y: f64| x - y
                    )
                };
                (Mul, $dst:expr, $a:expr, $b:expr) => {
                    arith!(
                        $dst,
                        $a,
                        $b,
                        Arith::Mul,
                        |x: i64, y: i64| Value::Int(x.wrapping_mul(y)),
                        |x: f64, y: f64| x * y
                    )
                };
                (Div, $dst:expr, $a:expr, $b:expr) => {
                    arith!(
                        $dst,
                        $a,
                        $b,
                        Arith::Div,
                        |x: i64, y: i64| Value::Float(x as f64 / y as f64),
                        |x: f64, y: f64| x / y
                    )
                };
            }
            // `dst = div(a, b)` (`FloorDiv`, `FloorDivK`): an int by a
            // positive int inline, the rest and every error by `ops::floor_div`.
            macro_rules! floor_div {
                ($dst:expr, $a:expr, $b:expr) => {{
                    if let (Value::Int(x), Value::Int(y)) = (&$a, &$b)
                        && *y > 0
                    {
                        let (x, y) = (*x, *y);
                        set_reg!($dst, Value::Int(x.div_euclid(y)));
                        continue;
                    }
                    let (a, b) = ($a, $b);
                    set_reg!($dst, tri!(ops::floor_div(a, b)));
                }};
            }
            // `dst = a % b` (`Mod`, `ModK`): ints inline, the rest and every
            // error by `modulo`.
            macro_rules! remainder {
                ($dst:expr, $a:expr, $b:expr) => {{
                    if let (Value::Int(x), Value::Int(y)) = (&$a, &$b)
                        && *y != 0
                    {
                        let (x, y) = (*x, *y);
                        set_reg!($dst, Value::Int(ops::floored_rem(x, y)));
                        continue;
                    }
                    let (a, b) = ($a, $b);
                    set_reg!($dst, tri!(modulo(core, a, b)));
                }};
            }
            // `dst = a <op> b * c` (`AddMul`, `SubMul`): the product, then the
            // sum or difference, with `arith!`'s fast paths for floats, ints
            // and vec3s (a vec3 times a float, either way round).
            macro_rules! mul_then {
                ($dst:expr, $a:expr, $b:expr, $c:expr, $op:expr, $int:expr, $float:expr, $vec3:expr) => {{
                    match (&reg!($a), &reg!($b), &reg!($c)) {
                        (Value::Float(x), Value::Float(y), Value::Float(z)) => {
                            let (x, y, z) = (*x, *y, *z);
                            set_reg!($dst, Value::Float($float(x, y * z)));
                        }
                        (Value::Int(x), Value::Int(y), Value::Int(z)) => {
                            let (x, y, z) = (*x, *y, *z);
                            set_reg!($dst, Value::Int($int(x, y.wrapping_mul(z))));
                        }
                        (Value::Vec3(v), Value::Vec3(w), Value::Float(f))
                        | (Value::Vec3(v), Value::Float(f), Value::Vec3(w)) => {
                            let (v, w, f) = (*v, *w, *f as f32);
                            set_reg!($dst, Value::vec3($vec3(v, w.scaled(f))));
                        }
                        (a, b, c) => {
                            let (a, b, c) = (*a, *b, *c);
                            let product = tri!(arith_slow(core, Arith::Mul, b, c));
                            set_reg!($dst, tri!(arith_slow(core, $op, a, product)));
                            safe_point!();
                        }
                    }
                }};
            }
            // `a == b`, with the int fast path inline.
            macro_rules! equal {
                ($a:expr, $b:expr) => {{
                    match (&$a, &$b) {
                        (Value::Int(x), Value::Int(y)) => *x == *y,
                        (a, b) => ops::equal_ref(a, b),
                    }
                }};
            }
            // `a < b` and friends, with the int fast path inline.
            macro_rules! compare {
                ($a:expr, $b:expr, $int:expr, $slow:path) => {{
                    match (&$a, &$b) {
                        (Value::Int(x), Value::Int(y)) => $int(*x, *y),
                        (Value::Float(x), Value::Float(y)) => $int(*x, *y),
                        // Two strings compare byte by byte, long ones a slice
                        // at a time; the rest by the general rules.
                        (a, b) => match tri!(compare_other(&mut core.heap, *a, *b, $slow)) {
                            Compared::Strings(order, read) => {
                                fuel -= (read / crate::heap::BYTES_PER_UNIT) as i64;
                                $int(order, std::cmp::Ordering::Equal)
                            }
                            Compared::Answer(answer) => answer,
                        },
                    }
                }};
            }
            // Pops the running frame and carries on in the caller, restored
            // from its frame; or ends the call when there is no caller.
            macro_rules! return_to_caller {
                () => {{
                    if let Some(exit) = pop_frame(fiber) {
                        *fuel_slot = fuel;
                        // A batch's next call runs in this loop.
                        if let (Some(batch), Exit::Done(v)) = (batch.as_deref_mut(), &exit)
                            && next_batch_call(
                                core,
                                &natives,
                                call,
                                fiber,
                                batch,
                                meter,
                                fuel_slot,
                                host.as_deref_mut(),
                                *v,
                            )
                        {
                            continue 'frame;
                        }
                        return Ok(exit);
                    }
                    let caller = fiber.frames.last().expect("pop_frame left a caller");
                    // SAFETY: the caller's closure owns its prototype and stays
                    // alive while the caller's frame exists (`ProtoRef`). The
                    // caller's registers are still on the stack (it only
                    // grows), and its `pc` was saved past the call, which is
                    // never a function's last instruction (verified).
                    proto = unsafe { &*caller.proto.0 };
                    if proto.uses_module_vars && caller.instance != vars_instance {
                        *fuel_slot = fuel;
                        continue 'frame;
                    }
                    consts = &proto.consts[..];
                    base = caller.base;
                    // SAFETY: the saved `pc` is inside the caller's code.
                    ip = unsafe { proto.code.as_ptr().add(caller.pc) };
                    point_regs!();
                    // (`cached_slots` is empty in a frame that caches none.)
                    if core.heap.any_module_slot_written(proto.cached_slots) {
                        reload_cached_vars!();
                    }
                    continue;
                }};
            }
            // Enters the script function `$f` (the value at `stack[$slot]`) with
            // the `$nargs` arguments above it and runs it in this loop, without
            // reloading the frame: it was just looked up, its registers are on
            // the stack, and its code is not empty (verified). Falls through
            // when `$f` is anything else, or has another arity, or does not
            // fit: `call_value` handles those (natives, errors).
            macro_rules! enter_script_call {
                ($f:expr, $slot:expr, $nargs:expr) => {
                    if let Value::Closure(k) = $f
                        && let Some(callee) = core.heap.closures.get(k)
                        && callee.proto.arity as usize == $nargs as usize
                        && frame_fits(
                            fiber,
                            $slot + 1 + callee.proto.num_regs as usize,
                            &core.config,
                        )
                    {
                        let top = $slot + 1 + callee.proto.num_regs as usize;
                        enter_frame(fiber, k, callee, $slot, top, &core.config);
                        fuel -= callee.proto.fuel_cost();
                        if callee.proto.uses_module_vars && callee.instance != vars_instance {
                            // The frame load checks the fuel.
                            *fuel_slot = fuel;
                            continue 'frame;
                        }
                        // SAFETY: as for `proto` above: the callee closure is
                        // in its frame's slot until it returns, and nothing
                        // frees closures before the next reload.
                        proto = unsafe { &*Arc::as_ptr(&callee.proto) };
                        consts = &proto.consts[..];
                        base = $slot + 1;
                        ip = proto.code.as_ptr();
                        point_regs!();
                        check_fuel!();
                        continue;
                    }
                };
            }
            // Fetches a `for ... in` loop's next item into its registers:
            // whether there was one. A list's item goes straight to the
            // registers (see `GetField`); maps take the general path.
            macro_rules! next_item {
                ($b:expr, $two:expr) => {{
                    let Value::Int(i) = reg!($b + 1) else {
                        throw!("internal error: corrupt iterator".into())
                    };
                    if let Value::List(l) = reg!($b) {
                        let items = tri!(core.heap.lists.get(l).ok_or_else(stale));
                        match items.get(i as usize) {
                            Some(&item) => {
                                set_reg!($b + 1, Value::Int(i + 1));
                                if $two {
                                    set_reg!($b + 2, Value::Int(i));
                                    set_reg!($b + 3, item);
                                } else {
                                    set_reg!($b + 2, item);
                                }
                                true
                            }
                            None => false,
                        }
                    } else {
                        match tri!(map_entry(&core.heap, reg!($b), i as usize)) {
                            Some((k, v)) => {
                                set_reg!($b + 1, Value::Int(i + 1));
                                set_reg!($b + 2, k);
                                if $two {
                                    set_reg!($b + 3, v);
                                }
                                true
                            }
                            None => false,
                        }
                    }
                }};
            }
            // `obj[key] = value`: a list's item in place, the rest (maps,
            // errors) by `access::set_index`.
            macro_rules! set_index {
                ($obj:expr, $key:expr, $value:expr) => {{
                    if let (Value::List(l), Value::Int(i)) = (&reg!($obj), &reg!($key)) {
                        let (l, i) = (*l, *i);
                        let v = $value.copy_parts();
                        if core.heap.list_set_checked(l, i, v) {
                            continue;
                        }
                    }
                    let (o, k, v) = (reg!($obj), reg!($key), $value);
                    tri!(access::set_index(core, o, k, v));
                    safe_point!();
                }};
            }
            // `dst = obj.k` for a field name in constant `k`.
            macro_rules! get_field {
                ($dst:expr, $obj:expr, $k:expr) => {{
                    let Value::Str(key) = konst!($k) else {
                        throw!("internal error: field name is not a string".into())
                    };
                    // Maps built the same way keep their keys at the same
                    // positions: each instruction remembers where it last found
                    // its key, and checks there before hashing.
                    if let Value::Map(m) = reg!($obj)
                        && let Some(map) = core.heap.maps.get(m)
                    {
                        let cache = &proto.field_cache[pc!() - 1];
                        let guess = cache.load(Ordering::Relaxed) as usize;
                        // Each arm writes the register itself: passing the value
                        // on as an `Option<Value>` made LLVM copy it in
                        // overlapping pieces that the next load could not be
                        // forwarded from (38% of nbody, perf).
                        match map.cached_entry(guess) {
                            Some((&Key::Str(k), v)) if k == key => set_reg!($dst, *v),
                            _ => match map.find_full(&Key::Str(key)) {
                                Some((i, _, v)) => {
                                    cache.store(i as u32, Ordering::Relaxed);
                                    set_reg!($dst, *v);
                                }
                                None => set_reg!($dst, Value::Nil),
                            },
                        }
                        continue;
                    }
                    let o = reg!($obj);
                    if let Some(v) = access::entity_field_resolved(
                        &mut core.heap,
                        host.as_deref_mut(),
                        o,
                        key,
                        &proto.field_cache[pc!() - 1],
                    ) {
                        set_reg!($dst, v.copy_fields());
                        continue;
                    }
                    let v = tri!(charging!(access::get_field(&mut ctx!(), o, key)));
                    // Copied by its fields: a host's result comes back through
                    // `Result`s moved 8 bytes at a time, which a 16-byte load
                    // would wait for (`Value::copy_fields`).
                    set_reg!($dst, v.copy_fields());
                    after_host!();
                }};
            }
            // `dst = obj.x` (or `y`, `z`): a vec3's component, else `get_field!`.
            macro_rules! get_axis {
                ($dst:expr, $obj:expr, $k:expr, $axis:ident) => {{
                    if let Value::Vec3(v) = reg!($obj) {
                        set_reg!($dst, Value::Float(v.$axis as f64));
                        continue;
                    }
                    get_field!($dst, $obj, $k)
                }};
            }
            macro_rules! jump_if {
                ($cond:expr, $off:expr) => {{
                    if $cond {
                        // SAFETY: the verifier proved the target inside the code.
                        ip = unsafe { ip.offset($off as isize) };
                    }
                }};
            }
            // Fuel is charged ahead for the code about to run (a call's whole
            // function, a loop's body: `Proto::fuel_cost`) and checked only
            // there: once it is spent, the meter says whether to suspend here
            // or go on with more.
            macro_rules! check_fuel {
                () => {
                    if fuel <= 0 && charging!(meter.exhausted(fuel_slot)) {
                        save_pc!();
                        return Ok(Exit::Suspended);
                    }
                };
            }
            // A loop jumps back by `$off` (negative): its body runs again.
            macro_rules! jump_back {
                ($off:expr) => {{
                    jump_if!(true, $off);
                    fuel += $off as i64;
                    check_fuel!();
                }};
            }
            // A conditional jump: forward, or back into the body of a loop that
            // tests its condition at the bottom (`while`), charged as any loop
            // that jumps back.
            macro_rules! branch {
                ($cond:expr, $off:expr) => {{
                    if $cond {
                        if $off < 0 {
                            jump_back!($off);
                        } else {
                            jump_if!(true, $off);
                        }
                    }
                }};
            }

            check_fuel!();
            reload_cached_vars!();
            loop {
                if DEBUG {
                    let spot = crate::debug::Spot::at(proto, pc!(), fiber.frames.len());
                    // A pause stops at the next instruction, even one on the
                    // line the call is on.
                    if debug_spot != Some(spot) || core.debug.pause_requested() {
                        debug_spot = Some(spot);
                        if let Some(reason) =
                            core.debug.check(call, proto, spot, running_instance!())
                        {
                            save_pc!();
                            return Ok(Exit::Stopped(reason));
                        }
                    }
                }
                // SAFETY: `ip` points to an instruction (see its definition).
                let op: &Op = unsafe { &*ip };
                // SAFETY: one past an instruction is inside the code or its end.
                ip = unsafe { ip.add(1) };
                match *op {
                    Op::Move { dst, src } => set_reg!(dst, reg!(src).copy_parts()),
                    Op::LoadNil { dst } => set_reg!(dst, Value::Nil),
                    Op::LoadBool { dst, value } => set_reg!(dst, Value::Bool(value)),
                    Op::LoadInt { dst, value } => set_reg!(dst, Value::Int(value as i64)),
                    Op::LoadK { dst, k } => set_reg!(dst, konst!(k)),
                    Op::LoadSelf { dst } => {
                        let me = core
                            .heap
                            .instances
                            .get(running_instance!())
                            .map_or(Value::Nil, |i| i.self_value());
                        set_reg!(dst, me);
                    }

                    Op::NewCell { reg } => {
                        let cell = tri!(
                            core.heap
                                .alloc_cell(reg!(reg))
                                .map_err(|_| "out of memory".to_string())
                        );
                        set_reg!(reg, Value::Cell(cell));
                        safe_point!();
                    }
                    Op::GetCell { dst, cell } => {
                        let Value::Cell(c) = reg!(cell) else {
                            throw!("internal error: not a cell".into())
                        };
                        set_reg!(
                            dst,
                            tri!(core.heap.cells.get(c).map(CellObj::get).ok_or_else(stale))
                        );
                    }
                    Op::SetCell { cell, src } => {
                        let Value::Cell(c) = reg!(cell) else {
                            throw!("internal error: not a cell".into())
                        };
                        core.heap.cell_set(c, reg!(src).copy_parts());
                    }
                    Op::GetUpval { dst, idx } => {
                        let c = tri!(upval(&core.heap, running_closure!(), idx));
                        set_reg!(
                            dst,
                            tri!(core.heap.cells.get(c).map(CellObj::get).ok_or_else(stale))
                        );
                    }
                    Op::SetUpval { idx, src } => {
                        let c = tri!(upval(&core.heap, running_closure!(), idx));
                        core.heap.cell_set(c, reg!(src).copy_parts());
                    }
                    Op::GetModule { dst, slot } => {
                        if slot as usize >= vars_len {
                            throw!(stale());
                        }
                        // SAFETY: `slot` is below `vars_len` (see `vars`).
                        set_reg!(dst, unsafe { *vars.add(slot as usize) });
                    }
                    Op::SetModule { slot, src, cache } => {
                        if slot as usize >= vars_len {
                            throw!(stale());
                        }
                        let v = reg!(src).copy_parts();
                        core.heap.barrier(v);
                        // SAFETY: `slot` is below `vars_len` (see `vars`).
                        unsafe { *vars.add(slot as usize) = v };
                        core.heap
                            .module_slot_written(slot, proto.tracks_module_writes);
                        set_reg!(cache, v);
                    }
                    Op::GetGlobal { dst, idx } => set_reg!(dst, core.globals[idx as usize]),

                    Op::Add { dst, a, b } => binary!(Add, dst, reg!(a), reg!(b)),
                    Op::Sub { dst, a, b } => binary!(Sub, dst, reg!(a), reg!(b)),
                    Op::Mul { dst, a, b } => binary!(Mul, dst, reg!(a), reg!(b)),
                    Op::Div { dst, a, b } => binary!(Div, dst, reg!(a), reg!(b)),
                    Op::Add3 { dst, a, b, c } => {
                        // Operands by reference, as in `arith!`.
                        let sum = match (&reg!(a), &reg!(b), &reg!(c)) {
                            (Value::Int(x), Value::Int(y), Value::Int(z)) => {
                                Value::Int(x.wrapping_add(*y).wrapping_add(*z))
                            }
                            (Value::Float(x), Value::Float(y), Value::Float(z)) => {
                                Value::float(x + y + z)
                            }
                            (Value::Vec3(x), Value::Vec3(y), Value::Vec3(z)) => {
                                Value::vec3(x.plus(*y).plus(*z))
                            }
                            (Value::Str(x), Value::Str(y), Value::Str(z)) => {
                                let (x, y, z) = (*x, *y, *z);
                                Value::Str(tri!(ops::concat(&mut core.heap, &[x, y, z])))
                            }
                            (a, b, c) => {
                                let (a, b, c) = (*a, *b, *c);
                                let ab = tri!(add(core, a, b));
                                tri!(add(core, ab, c))
                            }
                        };
                        set_reg!(dst, sum);
                        safe_point!();
                    }
                    Op::AddMul { dst, a, b, c } => mul_then!(
                        dst,
                        a,
                        b,
                        c,
                        Arith::Add,
                        i64::wrapping_add,
                        |x: f64, y: f64| x + y,
                        Vec3::plus
                    ),
                    Op::SubMul { dst, a, b, c } => mul_then!(
                        dst,
                        a,
                        b,
                        c,
                        Arith::Sub,
                        i64::wrapping_sub,
                        |x: f64, y: f64| x - y,
                        Vec3::minus
                    ),
                    Op::FloorDiv { dst, a, b } => floor_div!(dst, reg!(a), reg!(b)),
                    Op::FloorDivK { dst, a, k } => floor_div!(dst, reg!(a), konst!(k)),
                    Op::Mod { dst, a, b } => remainder!(dst, reg!(a), reg!(b)),
                    Op::AddK { dst, a, k } => binary!(Add, dst, reg!(a), konst!(k)),
                    Op::SubK { dst, a, k } => binary!(Sub, dst, reg!(a), konst!(k)),
                    Op::MulK { dst, a, k } => binary!(Mul, dst, reg!(a), konst!(k)),
                    Op::DivK { dst, a, k } => binary!(Div, dst, reg!(a), konst!(k)),
                    Op::KAdd { dst, k, b } => binary!(Add, dst, konst!(k), reg!(b)),
                    Op::KSub { dst, k, b } => binary!(Sub, dst, konst!(k), reg!(b)),
                    Op::KMul { dst, k, b } => binary!(Mul, dst, konst!(k), reg!(b)),
                    Op::KDiv { dst, k, b } => binary!(Div, dst, konst!(k), reg!(b)),
                    Op::ModK { dst, a, k } => remainder!(dst, reg!(a), konst!(k)),
                    // Numbers inline, each arm writing the register itself (see
                    // `arith!`): a result passed back through `negate`'s `Result`
                    // was written as two pieces and copied on as 16 bytes, which
                    // the CPU cannot forward.
                    Op::Neg { dst, src } => match &reg!(src) {
                        Value::Float(x) => {
                            let x = *x;
                            set_reg!(dst, Value::Float(-x));
                        }
                        Value::Int(x) => {
                            let x = *x;
                            set_reg!(dst, Value::Int(x.wrapping_neg()));
                        }
                        other => {
                            let v = *other;
                            set_reg!(dst, tri!(ops::negate(v)));
                        }
                    },
                    Op::Len { dst, src } => {
                        let n = tri!(builtins::length(&core.heap, reg!(src)).map_err(|e| e.0));
                        set_reg!(dst, Value::Int(n));
                    }
                    // Floats in place; the rest as the built-in's call. The
                    // call's result, a `Value` returned through memory, is read
                    // back before its stores reach the cache (a stalled load).
                    Op::Math { dst, src, f } => match (reg!(src), f.of_float()) {
                        (Value::Float(x), Some(of)) => set_reg!(dst, Value::Float(of(x))),
                        (v, _) => set_reg!(dst, tri!(builtins::math(f, v).map_err(|e| e.0))),
                    },
                    Op::NewVec3 { dst, x, y, z } => match (reg!(x), reg!(y), reg!(z)) {
                        (Value::Float(x), Value::Float(y), Value::Float(z)) => {
                            set_reg!(dst, Value::vec3(Vec3::new(x as f32, y as f32, z as f32)))
                        }
                        (x, y, z) => {
                            let v = builtins::new_vec3(x, y, z);
                            set_reg!(dst, tri!(v.map_err(|e| e.0)));
                        }
                    },
                    Op::Not { dst, src } => set_reg!(dst, Value::Bool(!reg!(src).is_truthy())),
                    Op::Bitwise { dst, a, b, op } => {
                        let (a, b) = (reg!(a), reg!(b));
                        set_reg!(dst, tri!(ops::bitwise(op, a, b)));
                    }
                    Op::Eq { dst, a, b } => set_reg!(dst, Value::Bool(equal!(reg!(a), reg!(b)))),
                    Op::Ne { dst, a, b } => set_reg!(dst, Value::Bool(!equal!(reg!(a), reg!(b)))),
                    Op::Lt { dst, a, b } => {
                        set_reg!(
                            dst,
                            Value::Bool(compare!(reg!(a), reg!(b), |x, y| x < y, ops::less))
                        );
                    }
                    Op::Le { dst, a, b } => {
                        set_reg!(
                            dst,
                            Value::Bool(compare!(reg!(a), reg!(b), |x, y| x <= y, ops::less_equal))
                        );
                    }
                    Op::Gt { dst, a, b } => {
                        set_reg!(
                            dst,
                            Value::Bool(compare!(reg!(a), reg!(b), |x, y| x > y, ops::greater))
                        );
                    }
                    Op::Ge { dst, a, b } => {
                        set_reg!(
                            dst,
                            Value::Bool(compare!(
                                reg!(a),
                                reg!(b),
                                |x, y| x >= y,
                                ops::greater_equal
                            ))
                        );
                    }

                    Op::Jmp { off } => {
                        if off < 0 {
                            jump_back!(off);
                        } else {
                            jump_if!(true, off);
                        }
                    }
                    Op::JmpIfFalse { src, off } => branch!(!reg!(src).is_truthy(), off),
                    Op::JmpIfTrue { src, off } => branch!(reg!(src).is_truthy(), off),
                    Op::JmpIfLt { a, b, off } => {
                        branch!(compare!(reg!(a), reg!(b), |x, y| x < y, ops::less), off)
                    }
                    Op::JmpIfNotLt { a, b, off } => {
                        branch!(!compare!(reg!(a), reg!(b), |x, y| x < y, ops::less), off)
                    }
                    Op::JmpIfLe { a, b, off } => {
                        branch!(
                            compare!(reg!(a), reg!(b), |x, y| x <= y, ops::less_equal),
                            off
                        )
                    }
                    Op::JmpIfNotLe { a, b, off } => {
                        branch!(
                            !compare!(reg!(a), reg!(b), |x, y| x <= y, ops::less_equal),
                            off
                        )
                    }
                    Op::JmpIfGt { a, b, off } => {
                        branch!(compare!(reg!(a), reg!(b), |x, y| x > y, ops::greater), off)
                    }
                    Op::JmpIfNotGt { a, b, off } => {
                        branch!(!compare!(reg!(a), reg!(b), |x, y| x > y, ops::greater), off)
                    }
                    Op::JmpIfGe { a, b, off } => {
                        branch!(
                            compare!(reg!(a), reg!(b), |x, y| x >= y, ops::greater_equal),
                            off
                        )
                    }
                    Op::JmpIfNotGe { a, b, off } => {
                        branch!(
                            !compare!(reg!(a), reg!(b), |x, y| x >= y, ops::greater_equal),
                            off
                        )
                    }
                    Op::JmpIfEq { a, b, off } => branch!(equal!(reg!(a), reg!(b)), off),
                    Op::JmpIfNotEq { a, b, off } => branch!(!equal!(reg!(a), reg!(b)), off),
                    Op::JmpIfLtK { a, k, off } => {
                        branch!(compare!(reg!(a), konst!(k), |x, y| x < y, ops::less), off)
                    }
                    Op::JmpIfNotLtK { a, k, off } => {
                        branch!(!compare!(reg!(a), konst!(k), |x, y| x < y, ops::less), off)
                    }
                    Op::JmpIfLeK { a, k, off } => {
                        branch!(
                            compare!(reg!(a), konst!(k), |x, y| x <= y, ops::less_equal),
                            off
                        )
                    }
                    Op::JmpIfNotLeK { a, k, off } => {
                        branch!(
                            !compare!(reg!(a), konst!(k), |x, y| x <= y, ops::less_equal),
                            off
                        )
                    }
                    Op::JmpIfGtK { a, k, off } => {
                        branch!(
                            compare!(reg!(a), konst!(k), |x, y| x > y, ops::greater),
                            off
                        )
                    }
                    Op::JmpIfNotGtK { a, k, off } => {
                        branch!(
                            !compare!(reg!(a), konst!(k), |x, y| x > y, ops::greater),
                            off
                        )
                    }
                    Op::JmpIfGeK { a, k, off } => {
                        branch!(
                            compare!(reg!(a), konst!(k), |x, y| x >= y, ops::greater_equal),
                            off
                        )
                    }
                    Op::JmpIfNotGeK { a, k, off } => {
                        branch!(
                            !compare!(reg!(a), konst!(k), |x, y| x >= y, ops::greater_equal),
                            off
                        )
                    }
                    Op::JmpIfEqK { a, k, off } => branch!(equal!(reg!(a), konst!(k)), off),
                    Op::JmpIfNotEqK { a, k, off } => {
                        branch!(!equal!(reg!(a), konst!(k)), off)
                    }

                    Op::NewList { dst, start, count } => {
                        let from = base + start as usize;
                        let items = &fiber.stack[from..from + count as usize];
                        let l = tri!(
                            core.heap
                                .alloc_list_from(items)
                                .map_err(|_| "out of memory".to_string())
                        );
                        set_reg!(dst, Value::List(l));
                        safe_point!();
                    }
                    Op::ListAppend { list, start, count } => {
                        let Value::List(l) = reg!(list) else {
                            throw!("internal error: not a list".into())
                        };
                        // Room first: growth may stop unfinished, and the
                        // instruction then runs again from its first item.
                        tri!(
                            core.heap
                                .list_reserve_in_call(l, count as usize)
                                .map_err(|_| "out of memory".to_string())
                        );
                        for i in 0..count as usize {
                            let v = fiber.stack[base + start as usize + i];
                            tri!(
                                core.heap
                                    .list_push(l, v)
                                    .map_err(|_| "out of memory".to_string())
                            );
                        }
                        safe_point!();
                    }
                    Op::NewMap { dst } => {
                        let m = tri!(
                            core.heap
                                .alloc_empty_map()
                                .map_err(|_| "out of memory".to_string())
                        );
                        set_reg!(dst, Value::Map(m));
                        safe_point!();
                    }
                    Op::GetIndex { dst, obj, key } => {
                        // Operands by reference, as in `arith!`.
                        if let (Value::List(l), Value::Int(i)) = (&reg!(obj), &reg!(key)) {
                            let (l, i) = (*l, *i);
                            let item = core.heap.lists.get(l).and_then(|items| {
                                usize::try_from(i).ok().and_then(|i| items.get(i))
                            });
                            if let Some(&v) = item {
                                set_reg!(dst, v);
                                continue;
                            }
                        }
                        // Everything else, errors included (indexing a string
                        // allocates).
                        let (o, k) = (reg!(obj), reg!(key));
                        set_reg!(dst, tri!(access::get_index(core, o, k)));
                        safe_point!();
                    }
                    Op::SetIndex { obj, key, src } => set_index!(obj, key, reg!(src)),
                    Op::SetIndexK { obj, key, k } => set_index!(obj, key, konst!(k)),
                    Op::GetField { dst, obj, k } => get_field!(dst, obj, k),
                    Op::GetX { dst, obj, k } => get_axis!(dst, obj, k, x),
                    Op::GetY { dst, obj, k } => get_axis!(dst, obj, k, y),
                    Op::GetZ { dst, obj, k } => get_axis!(dst, obj, k, z),
                    Op::GetFieldPlace { dst, obj, k } => {
                        let Value::Str(key) = konst!(k) else {
                            throw!("internal error: field name is not a string".into())
                        };
                        let o = reg!(obj);
                        let v = tri!(charging!(access::get_field_place(&mut ctx!(), o, key)));
                        set_reg!(dst, v.copy_fields());
                        after_host!();
                    }
                    Op::SetField { obj, k, src } => {
                        let Value::Str(key) = konst!(k) else {
                            throw!("internal error: field name is not a string".into())
                        };
                        if let Value::Map(m) = reg!(obj) {
                            let cache = &proto.field_cache[pc!() - 1];
                            let guess = cache.load(Ordering::Relaxed) as usize;
                            let v = reg!(src).copy_parts();
                            if core.heap.map_set_at(m, guess, Key::Str(key), v) {
                                continue;
                            }
                            if let Some(i) = core
                                .heap
                                .maps
                                .get(m)
                                .and_then(|map| map.find_full(&Key::Str(key)))
                                .map(|(i, _, _)| i)
                            {
                                cache.store(i as u32, Ordering::Relaxed);
                            }
                        }
                        let (o, v) = (reg!(obj), reg!(src));
                        if access::set_entity_field_resolved(
                            &mut core.heap,
                            host.as_deref_mut(),
                            o,
                            key,
                            v,
                            &proto.field_cache[pc!() - 1],
                        ) {
                            continue;
                        }
                        tri!(charging!(access::set_field(&mut ctx!(), o, key, v)));
                        after_host!();
                    }

                    Op::Call { base: b, nargs } => {
                        record_pc!();
                        let slot = base + b as usize;
                        // A script function with the right arity, inline; the
                        // rest (natives, errors) in `call_value`.
                        enter_script_call!(reg!(b), slot, nargs);
                        *fuel_slot = fuel;
                        let pushed = tri!(call_value(
                            core,
                            &natives,
                            fiber,
                            slot,
                            nargs as usize,
                            &mut *fuel_slot,
                            host.as_deref_mut()
                        ));
                        if pushed {
                            continue 'frame;
                        }
                        fuel = *fuel_slot;
                        after_host!();
                    }
                    Op::CallMethod {
                        base: b,
                        nargs,
                        method,
                    } => {
                        // `list.push(x)`, the most common method call, inline.
                        if method == methods::m::PUSH
                            && nargs == 1
                            && let Value::List(l) = reg!(b + 1)
                            && core.heap.lists.contains_key(l)
                        {
                            let item = reg!(b + 2);
                            tri!(
                                core.heap
                                    .list_push_in_call(l, item)
                                    .map_err(|_| "out of memory".to_string())
                            );
                            set_reg!(b, Value::Nil);
                            safe_point!();
                            continue;
                        }
                        // `s.slice(i, j)` of an ASCII string, inline too.
                        if method == methods::m::SLICE
                            && nargs == 2
                            && let (Value::Str(s), Value::Int(i), Value::Int(j)) =
                                (reg!(b + 1), reg!(b + 2), reg!(b + 3))
                            && let Some(part) = methods::ascii_slice(&mut core.heap, s, i, j)
                        {
                            let (part, bytes) = tri!(part.map_err(|_| "out of memory".to_string()));
                            fuel -= (bytes / crate::heap::BYTES_PER_UNIT) as i64;
                            set_reg!(b, Value::Str(part));
                            safe_point!();
                            continue;
                        }
                        save_pc!();
                        let slot = base + b as usize;
                        let nargs = nargs as usize;
                        let recv = fiber.stack[slot + 1];
                        let call_args = match recv {
                            Value::Map(m) => {
                                let f = tri!(map_function(core, proto, pc!() - 1, m, method));
                                fiber.stack[slot] = f;
                                fiber
                                    .stack
                                    .copy_within(slot + 2..slot + 2 + nargs, slot + 1);
                                enter_script_call!(f, slot, nargs);
                                Some(nargs)
                            }
                            Value::Host(h) => {
                                let name = core.methods.name(method).to_string();
                                let args = fiber.stack[slot + 2..slot + 2 + nargs].to_vec();
                                let v = tri!(charging!(access::with_host(
                                    &mut ctx!(),
                                    h,
                                    |obj, ctx| obj.call_method(ctx, &name, &args)
                                )));
                                fiber.stack[slot] = v;
                                None
                            }
                            _ => {
                                let args = &fiber.stack[slot + 2..slot + 2 + nargs];
                                let mut c = NativeCtx {
                                    core: &mut *core,
                                    fuel: &mut *fuel_slot,
                                    host: host.as_deref_mut(),
                                };
                                match methods::call(&mut c, recv, method, args) {
                                    Ok(Outcome::Value(v)) => {
                                        fiber.stack[slot] = v;
                                        None
                                    }
                                    Ok(Outcome::Prelude(p)) => {
                                        let prelude = core.prelude;
                                        fiber.stack[slot] = match p {
                                            Prelude::Map => prelude.map,
                                            Prelude::Filter => prelude.filter,
                                            Prelude::SortBy => prelude.sort_by,
                                        };
                                        Some(nargs + 1)
                                    }
                                    Err(e) => throw!(e.0),
                                }
                            }
                        };
                        if let Some(n) = call_args {
                            let pushed = tri!(call_value(
                                core,
                                &natives,
                                fiber,
                                slot,
                                n,
                                &mut *fuel_slot,
                                host.as_deref_mut()
                            ));
                            if pushed {
                                continue 'frame;
                            }
                        }
                        fuel = *fuel_slot;
                        after_host!();
                    }
                    Op::Closure { dst, proto: p } => {
                        let child = proto.protos[p as usize].clone();
                        let mut upvals = Vec::with_capacity(child.captures.len());
                        for capture in &child.captures {
                            let cell = match *capture {
                                Capture::Local(r) => match reg!(r) {
                                    Value::Cell(c) => c,
                                    _ => throw!(
                                        "internal error: captured local is not a cell".into()
                                    ),
                                },
                                Capture::Upval(i) => tri!(upval(&core.heap, running_closure!(), i)),
                            };
                            upvals.push(cell);
                        }
                        let k = tri!(
                            core.heap
                                .alloc_closure(Closure {
                                    proto: child,
                                    instance: running_instance!(),
                                    upvals: upvals.into_boxed_slice(),
                                })
                                .map_err(|_| "out of memory".to_string())
                        );
                        set_reg!(dst, Value::Closure(k));
                        safe_point!();
                    }
                    Op::Return { src } => {
                        // The result goes straight to the callee's slot, where
                        // the caller reads it (register 0 is at `base`, the
                        // callee at `base - 1`).
                        let v = reg!(src).copy_parts();
                        fiber.stack[base - 1] = v;
                        return_to_caller!();
                    }
                    Op::ReturnNil => {
                        fiber.stack[base - 1] = Value::nil();
                        return_to_caller!();
                    }

                    Op::ForPrep {
                        base: b,
                        inclusive,
                        off,
                    } => {
                        let (&Value::Int(start), &Value::Int(limit)) = (&reg!(b), &reg!(b + 1))
                        else {
                            let bad = if matches!(reg!(b), Value::Int(_)) {
                                reg!(b + 1)
                            } else {
                                reg!(b)
                            };
                            throw!(format!("range bounds must be int, got {}", bad.type_name()))
                        };
                        let enter = if inclusive {
                            start <= limit
                        } else {
                            start < limit
                        };
                        if enter {
                            set_reg!(b + 2, Value::Int(start));
                        } else {
                            jump_if!(true, off);
                        }
                    }
                    Op::ForLoop {
                        base: b,
                        inclusive,
                        off,
                    } => {
                        let (Value::Int(i), Value::Int(limit)) = (&reg!(b), &reg!(b + 1)) else {
                            throw!("internal error: corrupt loop counter".into())
                        };
                        let (i, limit) = (*i, *limit);
                        let more = if inclusive { i < limit } else { i + 1 < limit };
                        if more {
                            set_reg!(b, Value::Int(i + 1));
                            set_reg!(b + 2, Value::Int(i + 1));
                            jump_back!(off);
                        }
                    }
                    Op::IterPrep { base: b } => {
                        match reg!(b) {
                            Value::List(_) | Value::Map(_) => {}
                            other => throw!(format!("cannot iterate over {}", other.type_name())),
                        }
                        set_reg!(b + 1, Value::Int(0));
                    }
                    Op::IterNext { base: b, two, off } => {
                        if !next_item!(b, two) {
                            jump_if!(true, off);
                        }
                    }
                    Op::IterLoop { base: b, two, off } => {
                        if next_item!(b, two) {
                            jump_back!(off);
                        }
                    }
                    Op::Yield { live } => {
                        let top = fiber.frames.last().map_or(0, |f| f.top);
                        if let Some(dead) = fiber.stack.get_mut(base + live as usize..top) {
                            dead.fill(Value::Nil);
                        }
                        save_pc!();
                        return Ok(Exit::Suspended);
                    }
                    Op::CheckAdd { a, b } => tri!(ops::check_add(&reg!(a), &reg!(b))),
                    Op::AddN { dst, start, count } => {
                        let from = base + start as usize;
                        let values = &fiber.stack[from..from + count as usize];
                        let sum = tri!(add_chain(core, values));
                        set_reg!(dst, sum);
                        safe_point!();
                    }
                    Op::CheckAddN { start, count } => {
                        let from = base + start as usize;
                        let values = &fiber.stack[from..from + count as usize];
                        tri!(ops::check_add_chain(values));
                    }
                }
            }
        };
        if core.heap.work.take_unfinished() {
            // Not an error: the instruction's work stopped between two
            // slices (`heap/long_work.rs`), after its safe point (which may
            // suspend the call: waiting for memory). It runs again, and goes
            // on from where it stopped, after the frame load's budget check.
            save_pc!();
            let wait = core.heap.gc.pressure
                && matches!(
                    gc::safe_point(core, call, fiber, meter.unlimited)?,
                    gc::AfterSafePoint::Wait
                );
            fiber.layout_epoch = core.heap.layout_epoch();
            // SAFETY: `ip` is one past the instruction that ran.
            ip = unsafe { ip.sub(1) };
            save_pc!();
            if wait {
                return Ok(Exit::Suspended);
            }
            continue 'frame;
        }
        save_pc!();
        if DEBUG && core.debug.break_on_error {
            return Ok(Exit::Stopped(StopReason::Error(message)));
        }
        return Err(message);
    }
}

/// Pops the current frame, whose result is in the callee's slot. `Some`
/// when the outermost frame returned.
#[inline(always)]
fn pop_frame(fiber: &mut Fiber) -> Option<Exit> {
    let frame = fiber.frames.pop().expect("returning from a frame");

    // The caller's registers change from here on.
    let depth = fiber.frames.len().saturating_sub(1);
    if depth < fiber.low_water.get() {
        fiber.low_water.set(depth);
    }
    match fiber.frames.last() {
        // The registers stay, dead, for a batch's next call
        // (`Fiber::begin`); an ended call's go back to the spares.
        None => Some(Exit::Done(fiber.stack[frame.base - 1])),
        // The caller's registers are all still there: the stack only grows.
        Some(_) => None,
    }
}

/// The `i`th entry of the map `m` being iterated, as key and value.
#[inline(never)]
fn map_entry(heap: &Heap, m: Value, i: usize) -> Result<Option<(Value, Value)>, String> {
    let Value::Map(m) = m else {
        return Ok(None);
    };
    let map = heap.maps.get(m).ok_or_else(stale)?;
    Ok(map.get_index(i).map(|(k, &v)| (k.to_value(), v)))
}

const HEAP_REPLACED: &str = "the VM's heap was replaced while this call was in progress (a call runs only on the heap it started on)";

fn upval(heap: &Heap, closure: ClosureKey, idx: u8) -> Result<crate::value::CellKey, String> {
    heap.closures
        .get(closure)
        .and_then(|c| c.upvals.get(idx as usize).copied())
        .ok_or_else(stale)
}
