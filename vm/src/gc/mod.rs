//! The incremental ("ticking") tri-colour mark-and-sweep collector.
//!
//! - **Colours.** Each arena slot keeps the epoch in which its object
//!   was last marked. A cycle starts by bumping the epoch, which makes every
//!   object white at once; marked objects are grey while queued in `gray`
//!   and black after their children are shaded.
//! - **The invariant.** While marking, no black object (traced) points at
//!   a white one (not marked); a big container traced up to a position is
//!   black below it. `validate.rs` checks this, with liveness and sizes,
//!   after any step ([`crate::Vm::validate_heap`], and the sliced stress
//!   mode at every allocation).
//! - **Roots.** Module instances, every suspended call's stack and frames
//!   (and the running one's), globals, the prelude, method-name strings, the
//!   code (and so the constants) of every module the host still holds, and
//!   [`Rooted`](crate::Rooted) handles.
//! - **Barrier.** While marking, every value stored into a heap object is
//!   shaded, and every value moved inside a marked container too
//!   (`heap/write.rs`, the only code that can change what an object holds).
//!   Registers are not barriered: each call that ran during the cycle is
//!   queued once for a rescan, from the lowest frame that ran, and the
//!   queue is worked off in slices when the grey queue runs dry; then the
//!   atomic step rescans the running call and the other roots. New
//!   objects are white while marking (garbage made during a cycle is freed
//!   by it) and marked while sweeping.
//! - **Slicing.** Every unit of work (a value shaded, a slot swept) counts
//!   against the step's budget; big lists and maps are traced 64 values at
//!   a time, and the sweep walks the arenas 128 slots at a time.
//! - **Pacing** (`pacing.rs`). A cycle starts halfway between what was live
//!   after the last cycle and `pause` times that, and owes work in
//!   proportion to what is allocated while it runs, so that it ends near
//!   `pause` times the live size. The host gives the collector time every
//!   frame; what its steps leave owed, allocation pays (an assist), and at
//!   the heap limit a forced full collection runs before `out of memory`
//!   is reported.

mod pacing;
mod sweep;
mod trace;
pub(crate) mod validate;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use slotmap::SlotMap;

use crate::arena::Arena;
use crate::bytecode::Proto;
use crate::clock::ClockReads;
use crate::fiber::{Fiber, MemoryWait};
use crate::gc_stats::GcStats;
use crate::heap::Heap;
use crate::value::{ClosureKey, HostKey, InstanceKey, ListKey, MapKey, StrKey, Value};
use crate::vm::{Budget, CallId, Core};
use pacing::Pacer;

/// The call running while the collector works (at a safe point), if any:
/// it is out of `Core::calls` while it runs.
pub(crate) type Running<'a> = Option<(CallId, &'a Fiber)>;

/// Values traced from one big list or map before the step checks its budget.
const TRACE_CHUNK: usize = 64;
/// Slots swept at a time.
const SWEEP_CHUNK: usize = 128;
/// Work units between two reads of the clock.
const CLOCK_EVERY: usize = 32;
/// The longest an assist runs, whatever the work it owes: the rest is
/// paid by the next allocations' assists.
const ASSIST_MAX_TIME: Duration = Duration::from_micros(200);
/// Calls rescanned at a time when marking runs dry.
const RESCAN_CHUNK: usize = 16;
/// How many times the atomic step may find new grey objects before it
/// finishes marking regardless of the budget. Each retry means the
/// mutator ran between steps and hid values in registers again; the
/// final one traces only what it hid since the last.
const MAX_ATOMIC_RETRIES: u32 = 8;

/// Where the collector is in its cycle.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum GcPhase {
    /// No cycle running; one starts when the heap passes its threshold.
    #[default]
    Idle,
    /// Marking what is reachable.
    Mark,
    /// Freeing what was not reached.
    Sweep,
}

/// What one [`crate::Vm::gc_step`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GcProgress {
    /// The phase after the step.
    pub phase: GcPhase,
    /// Work units done (values shaded, slots swept).
    pub work: usize,
    /// Whether a cycle finished during the step.
    pub cycle_completed: bool,
    /// How long the step took.
    pub elapsed: Duration,
    /// Under a time budget, the longest stretch of the step between two
    /// reads of the clock (zero under other budgets). The collector reads
    /// the clock every few dozen units of work, about a microsecond apart,
    /// so a stretch of tens of microseconds means the thread was
    /// interrupted inside the step (preempted by the OS or a hypervisor):
    /// a step that ran long for that reason is not the collector's doing.
    pub longest_unchecked: Duration,
}

/// Grey objects, and root sets still to scan.
enum Gray {
    List(ListKey, usize),
    Map(MapKey, usize),
    Closure(ClosureKey),
    Cell(crate::value::CellKey),
    Host(HostKey),
    Instance(InstanceKey, usize),
    Proto(Arc<Proto>),
    /// The calls in progress when the cycle started, from this position of
    /// `calls_snapshot` on.
    Calls(usize),
    /// One call's frames, from this frame on.
    Fiber(CallId, usize),
}

pub(crate) struct GcState {
    pub(crate) phase: GcPhase,
    epoch: u32,
    gray: Vec<Gray>,
    /// Arena (by `SWEEP_ORDER` position) and slot the sweep is at.
    sweep_kind: usize,
    sweep_slot: usize,
    pub(crate) pacer: Pacer,
    /// Set by allocation: the interpreter should visit a safe point.
    pub(crate) pressure: bool,
    /// Full collection every this many allocations (stress testing).
    pub(crate) stress_every: Option<u32>,
    stress_count: u32,
    /// Stress testing in slices: at every allocation, a step of this many
    /// work units, and the heap validated after it.
    pub(crate) stress_sliced: Option<u32>,
    calls_snapshot: Vec<CallId>,
    /// Calls resumed since they were last scanned in this cycle, each once
    /// (`Fiber::rescan_queued`).
    dirty_calls: Vec<CallId>,
    atomic_retries: u32,
    /// Reused buffer for the values of the chunk being traced.
    pub(crate) scratch: Vec<Value>,
    pub(crate) stats: GcStats,
}

impl GcState {
    pub fn new() -> GcState {
        GcState {
            phase: GcPhase::Idle,
            epoch: 1,
            gray: Vec::new(),
            sweep_kind: 0,
            sweep_slot: 0,
            pacer: Pacer::new(),
            pressure: false,
            stress_every: None,
            stress_count: 0,
            stress_sliced: None,
            calls_snapshot: Vec::new(),
            dirty_calls: Vec::new(),
            atomic_retries: 0,
            scratch: Vec::new(),
            stats: GcStats::default(),
        }
    }

    /// The heap size at which the next cycle starts.
    pub fn threshold(&self) -> usize {
        self.pacer.trigger()
    }

    #[inline]
    pub fn is_marking(&self) -> bool {
        self.phase == GcPhase::Mark
    }

    /// Whether marking has objects queued (false once it reaches its
    /// atomic step).
    #[cfg(test)]
    pub(crate) fn has_grey(&self) -> bool {
        !self.gray.is_empty()
    }

    /// The current cycle's mark: an object marked with it is grey or black.
    #[inline]
    pub fn epoch(&self) -> u32 {
        self.epoch
    }

    /// Queues a call that ran (or was made) while marking for a rescan of
    /// its registers, unless it is queued already.
    pub(crate) fn queue_rescan(&mut self, call: CallId, fiber: &Fiber) {
        if self.phase == GcPhase::Mark && fiber.rescan_queued.get() != self.epoch {
            fiber.rescan_queued.set(self.epoch);
            self.dirty_calls.push(call);
        }
    }

    /// The mark a new object gets. While marking, new objects are white:
    /// one that is only in registers is found when the atomic step rescans
    /// the calls that ran, one stored into an object is shaded by the
    /// barrier, and one dropped before the atomic step is freed by this very
    /// cycle instead of floating until the next. While sweeping, they are
    /// marked, so the sweep does not free them.
    #[inline]
    pub fn new_object_mark(&self) -> u32 {
        if self.phase == GcPhase::Mark {
            self.young_mark()
        } else {
            self.epoch
        }
    }

    /// The white of objects made during this cycle's marking. Every object
    /// older than the cycle carries the last cycle's epoch (or 0), never
    /// this one, so the sweep can tell the young garbage from the old,
    /// which the pacer's estimate of the live size needs.
    #[inline]
    pub(crate) fn young_mark(&self) -> u32 {
        self.epoch.wrapping_sub(2)
    }

    /// Called on every allocation of `n` bytes with the heap's new size.
    #[inline]
    pub fn allocated(&mut self, n: usize, bytes: usize, limit: usize) {
        let due = match self.phase {
            GcPhase::Idle => bytes > self.pacer.trigger(),
            phase => self.pacer.allocated_in_cycle(n, phase == GcPhase::Sweep),
        };
        if due || bytes > limit {
            self.pressure = true;
        }
        if self.stress_sliced.is_some() {
            self.pressure = true;
        }
        if let Some(every) = self.stress_every {
            self.stress_count += 1;
            if self.stress_count >= every {
                self.stress_count = 0;
                self.pressure = true;
            }
        }
    }

    /// An instance is a root: one created while marking is marked and
    /// traced at once.
    pub fn queue_new_instance(&mut self, k: InstanceKey) {
        if self.phase == GcPhase::Mark {
            self.gray.push(Gray::Instance(k, 0));
        }
    }

    /// An interned string handed out again is alive, even if the current
    /// cycle had not reached it.
    #[inline]
    pub fn revive_string(&mut self, strings: &mut Arena<StrKey, crate::heap::StrObj>, k: StrKey) {
        if self.phase != GcPhase::Idle {
            strings.mark(k, self.epoch);
        }
    }

    /// Ends marking: from here on, what it did not mark is freed.
    fn begin_sweep(&mut self) {
        self.phase = GcPhase::Sweep;
        self.sweep_kind = 0;
        self.sweep_slot = 0;
        self.pacer.sweep_started();
    }

    /// Starts a cycle that marks nothing and goes straight to its sweep;
    /// returns its epoch, in which the test marks what is to live.
    #[cfg(test)]
    fn begin_empty_cycle_sweep(&mut self) -> u32 {
        self.epoch = self.epoch.wrapping_add(1).max(1);
        self.begin_sweep();
        self.epoch
    }

    /// Traces a host object again if it was already marked this cycle. It
    /// turns white until it is traced, so that touching it again before
    /// then does not queue it twice.
    pub fn retrace_host(
        &mut self,
        hosts: &mut Arena<HostKey, Box<dyn crate::HostObject>>,
        h: HostKey,
    ) {
        if self.phase == GcPhase::Mark && hosts.contains_key(h) && hosts.is_marked(h, self.epoch) {
            hosts.unmark(h);
            self.gray.push(Gray::Host(h));
        }
    }

    /// Traces a list marked this cycle again from its start: its items
    /// moved towards the front, past where its tracing may have got to.
    pub(crate) fn retrace_list(&mut self, l: ListKey) {
        self.gray.push(Gray::List(l, 0));
    }

    pub(crate) fn mark_proto(&mut self, proto: &Arc<Proto>) {
        if proto.gc_epoch.swap(self.epoch, Ordering::Relaxed) != self.epoch {
            self.gray.push(Gray::Proto(proto.clone()));
        }
    }
}

/// A step's allowance of work: units, time, or both unbounded.
struct Allowance {
    started: Instant,
    units: Option<usize>,
    deadline: Option<Instant>,
    done: usize,
    since_clock: usize,
    clock: ClockReads,
}

impl Allowance {
    fn new(budget: Budget) -> Allowance {
        let started = Instant::now();
        let (units, deadline) = match budget {
            Budget::Instructions(n) => (Some(n as usize), None),
            // Aim a little short of the slice: the clock is read between
            // chunks of work, so a step ends a few microseconds after the
            // check that stops it.
            Budget::Micros(us) => (None, Some(started + Duration::from_micros(us) * 9 / 10)),
            Budget::Until(deadline) => (None, Some(deadline)),
            Budget::Unlimited => (None, None),
        };
        Allowance {
            started,
            units,
            deadline,
            done: 0,
            since_clock: 0,
            clock: ClockReads::starting_at(started),
        }
    }

    /// An assist's allowance: `units` of work, and never more than
    /// `ASSIST_MAX_TIME` (a unit's cost varies: freeing an object whose
    /// memory is cold costs far more than sweeping past an empty slot).
    fn assist(units: usize) -> Allowance {
        let mut allowance = Allowance::new(Budget::Instructions(units as u64));
        allowance.deadline = Some(allowance.started + ASSIST_MAX_TIME);
        allowance
    }

    /// Records work; false when the allowance is spent.
    fn spend(&mut self, n: usize) -> bool {
        self.done += n;
        self.since_clock += n;
        if let Some(units) = self.units
            && self.done >= units
        {
            return false;
        }
        if let Some(deadline) = self.deadline
            && self.since_clock >= CLOCK_EVERY
        {
            self.since_clock = 0;
            return self.clock.read() < deadline;
        }
        true
    }
}

/// Shades the roots that change without a barrier: globals, the prelude,
/// method names, host handles and the code of the modules the host holds,
/// and (in the atomic step) the running call from its low-water mark up.
fn scan_mutable_roots(core: &mut Core, running: Running<'_>, fibers: bool) -> usize {
    let heap = &mut core.heap;
    let mut work = 1;
    if fibers && let Some((_, f)) = running {
        work += heap.rescan_fiber(f);
    }
    for module in &core.modules {
        if let Some(module) = module.upgrade() {
            heap.gc.mark_proto(&module.main);
            work += 1;
        }
    }
    for &v in &core.globals {
        heap.shade(v);
    }
    let p = core.prelude;
    for v in [p.map, p.filter, p.sort_by] {
        heap.shade(v);
    }
    for k in core.methods.keys() {
        heap.shade(Value::Str(k));
    }
    for &v in core.roots.lock().expect("root registry").values() {
        heap.shade(v);
    }
    // What long work holds and no call's registers do yet.
    let held: Vec<Value> = heap.work.roots().collect();
    for v in held {
        heap.shade(v);
    }
    work + core.globals.len()
}

fn start_cycle(core: &mut Core, running: Running<'_>) {
    let bytes = core.heap.bytes();
    let gc = &mut core.heap.gc;
    gc.pacer
        .cycle_started(bytes, gc.stats.live_after_last_cycle);
    gc.epoch = gc.epoch.wrapping_add(1).max(1);
    gc.phase = GcPhase::Mark;
    gc.atomic_retries = 0;
    gc.gray.clear();
    gc.dirty_calls.clear();
    core.modules.retain(|m| m.strong_count() > 0);
    let gc = &mut core.heap.gc;
    // Every call in progress (the running one's slot included) is scanned
    // in chunks.
    gc.calls_snapshot = core.calls.keys().collect();
    gc.gray.push(Gray::Calls(0));
    let instances: Vec<InstanceKey> = core.heap.instances.iter().map(|(k, _)| k).collect();
    for k in instances {
        let epoch = core.heap.gc.epoch;
        core.heap.instances.mark(k, epoch);
        core.heap.gc.gray.push(Gray::Instance(k, 0));
    }
    scan_mutable_roots(core, running, false);
}

fn finish_cycle(heap: &mut Heap) {
    let live = heap.gc.pacer.live_estimate(heap.bytes());
    let gc = &mut heap.gc;
    gc.phase = GcPhase::Idle;
    gc.calls_snapshot = Vec::new();
    gc.pacer.cycle_finished(live);
    gc.stats.cycles += 1;
    gc.stats.live_after_last_cycle = live;
    heap.pool.cycle_finished();
}

/// Rescans up to `n` of the calls that ran since they were last scanned;
/// returns the work done.
fn rescan_dirty_calls(core: &mut Core, running: Running<'_>, n: usize) -> usize {
    let heap = &mut core.heap;
    let mut work = 1;
    for _ in 0..n {
        let Some(key) = heap.gc.dirty_calls.pop() else {
            break;
        };
        // Its flag is cleared on the fiber itself (not on the placeholder
        // left in `calls` while it runs), so that it is queued again when
        // it suspends, for what it does from here on.
        if let Some(fiber) = fiber_of(&core.calls, running, key) {
            fiber.rescan_queued.set(0);
            work += heap.rescan_fiber(fiber);
        }
    }
    work
}

/// The fiber of `call`: the running call's is out of `calls` while it runs.
pub(super) fn fiber_of<'a>(
    calls: &'a SlotMap<CallId, Fiber>,
    running: Running<'a>,
    call: CallId,
) -> Option<&'a Fiber> {
    match running {
        Some((k, fiber)) if k == call => Some(fiber),
        _ => calls.get(call),
    }
}

/// Finishes marking in one go, regardless of any budget.
fn finish_marking(core: &mut Core, running: Running<'_>) {
    loop {
        while let Some(item) = core.heap.gc.gray.pop() {
            core.heap.trace(item, &core.calls, running);
        }
        if !core.heap.gc.dirty_calls.is_empty() {
            rescan_dirty_calls(core, running, usize::MAX);
            continue;
        }
        scan_mutable_roots(core, running, true);
        if core.heap.gc.gray.is_empty() {
            break;
        }
    }
    core.heap.gc.begin_sweep();
}

/// Does collector work within `budget`. With `force`, a cycle starts even
/// below the threshold. Returns what was done.
pub(crate) fn step(
    core: &mut Core,
    running: Running<'_>,
    budget: Budget,
    force: bool,
) -> GcProgress {
    step_within(core, running, Allowance::new(budget), force)
}

fn step_within(
    core: &mut Core,
    running: Running<'_>,
    mut allowance: Allowance,
    force: bool,
) -> GcProgress {
    let started = allowance.started;
    let mut cycle_completed = false;
    loop {
        // Big strings swept are given back first, a piece at a time.
        if core.heap.releasing.give_back_piece() {
            if !allowance.spend(crate::heap::RELEASE_PIECE_WORK) {
                break;
            }
            continue;
        }
        match core.heap.gc.phase {
            GcPhase::Idle => {
                if cycle_completed || (!force && core.heap.bytes() < core.heap.gc.threshold()) {
                    break;
                }
                start_cycle(core, running);
                if !allowance.spend(1) {
                    break;
                }
            }
            GcPhase::Mark => {
                if let Some(item) = core.heap.gc.gray.pop() {
                    let work = core.heap.trace(item, &core.calls, running);
                    core.heap.gc.pacer.worked(work);
                    if !allowance.spend(work) {
                        break;
                    }
                    continue;
                }
                if !core.heap.gc.dirty_calls.is_empty() {
                    let work = rescan_dirty_calls(core, running, RESCAN_CHUNK);
                    core.heap.gc.pacer.worked(work);
                    if !allowance.spend(work) {
                        break;
                    }
                    continue;
                }
                // Atomic step: rescan what changed without a barrier.
                let work = scan_mutable_roots(core, running, true);
                let gc = &mut core.heap.gc;
                if gc.gray.is_empty() {
                    gc.begin_sweep();
                } else {
                    gc.atomic_retries += 1;
                    if gc.atomic_retries > MAX_ATOMIC_RETRIES {
                        // The mutator keeps hiding values in registers:
                        // finish marking now.
                        finish_marking(core, running);
                    }
                }
                if !allowance.spend(work) {
                    break;
                }
            }
            GcPhase::Sweep => {
                let (done, work) = sweep::sweep_chunk(&mut core.heap);
                core.heap.gc.pacer.worked(work);
                if done {
                    finish_cycle(&mut core.heap);
                    cycle_completed = true;
                }
                if !allowance.spend(work) {
                    break;
                }
            }
        }
    }
    let elapsed = allowance.clock.read() - started;
    core.heap.gc.stats.record_step(elapsed);
    GcProgress {
        phase: core.heap.gc.phase,
        work: allowance.done,
        cycle_completed,
        elapsed,
        longest_unchecked: if allowance.deadline.is_some() {
            allowance.clock.longest()
        } else {
            Duration::ZERO
        },
    }
}

/// Finishes any cycle in progress, then runs a whole new one.
pub(crate) fn full_collect(core: &mut Core, running: Running<'_>) {
    if core.heap.gc.phase != GcPhase::Idle {
        step(core, running, Budget::Unlimited, true);
    }
    step(core, running, Budget::Unlimited, true);
}

/// What the running call does after a safe point.
pub(crate) enum AfterSafePoint {
    Go,
    /// Suspend: it waits for memory (`Fiber::memory`).
    Wait,
}

/// Runs where the interpreter may collect: between instructions, with the
/// running call's registers as a root. Called when allocation set
/// `pressure`. `unlimited`: the call runs without a budget.
pub(crate) fn safe_point(
    core: &mut Core,
    call: CallId,
    fiber: &Fiber,
    unlimited: bool,
) -> Result<AfterSafePoint, String> {
    let running = Some((call, fiber));
    core.heap.gc.pressure = false;
    if core.heap.gc.stress_every.is_some() {
        full_collect(core, running);
    }
    if let Some(work) = core.heap.gc.stress_sliced {
        step(core, running, Budget::Instructions(work.into()), true);
        validate::validate(core, running).map_err(|e| format!("heap validation failed: {e}"))?;
    }
    if core.heap.bytes() > core.heap.limit {
        return over_the_limit(core, call, fiber, unlimited);
    }
    if fiber.memory.get() == MemoryWait::Waited {
        fiber.memory.set(MemoryWait::No);
    }
    if core.heap.gc.phase == GcPhase::Idle {
        if core.heap.bytes() <= core.heap.gc.threshold() {
            return Ok(AfterSafePoint::Go);
        }
        // The heap passed the trigger before the host's next step.
        step(core, running, Budget::Instructions(1), false);
    } else if !core.heap.gc.pacer.assist_due() {
        return Ok(AfterSafePoint::Go);
    }
    // What the host's steps have not paid of the work this cycle owes for
    // its allocation, the allocation pays.
    if let Some(owed) = core.heap.gc.pacer.assist_owed() {
        core.heap.gc.stats.assists += 1;
        step_within(core, running, Allowance::assist(owed), false);
    }
    Ok(AfterSafePoint::Go)
}

/// The heap passed its limit. Whatever is garbage must be freed before
/// the call may go on, and on a heap of a gigabyte a whole collection
/// takes hundreds of milliseconds: so a call under a budget suspends and
/// waits while the collector runs in its resumes (`wait_for_memory`). A
/// call without a budget (nothing to keep short) collects in one go. Out
/// of memory when a whole collection left the heap over the limit.
fn over_the_limit(
    core: &mut Core,
    call: CallId,
    fiber: &Fiber,
    unlimited: bool,
) -> Result<AfterSafePoint, String> {
    if fiber.memory.get() == MemoryWait::Waited {
        return Err("out of memory".into());
    }
    core.heap.gc.stats.forced_collections += 1;
    if !unlimited {
        // The cycle in progress may have marked what is garbage now:
        // only a cycle that starts after this frees all of it.
        let cycles = core.heap.gc.stats.cycles;
        let wait = if core.heap.gc.phase == GcPhase::Idle {
            1
        } else {
            2
        };
        fiber.memory.set(MemoryWait::UntilCycles(cycles + wait));
        return Ok(AfterSafePoint::Wait);
    }
    full_collect(core, Some((call, fiber)));
    if core.heap.bytes() > core.heap.limit {
        return Err("out of memory".into());
    }
    Ok(AfterSafePoint::Go)
}

/// A resume of a call that waits for memory: collector work within its
/// `budget` instead of the call's. True when the wait is over (the call
/// may run), having left the heap under the limit or not.
pub(crate) fn wait_for_memory(
    core: &mut Core,
    call: CallId,
    fiber: &Fiber,
    budget: Budget,
) -> bool {
    let MemoryWait::UntilCycles(cycles) = fiber.memory.get() else {
        return true;
    };
    loop {
        let progress = step(core, Some((call, fiber)), budget, true);
        // The resume was this step (`Vm::last_resume_longest_unchecked`).
        core.last_resume_longest_unchecked = progress.longest_unchecked;
        if core.heap.gc.stats.cycles >= cycles {
            break;
        }
        if budget != Budget::Unlimited {
            return false;
        }
    }
    let over = core.heap.bytes() > core.heap.limit;
    fiber.memory.set(if over {
        MemoryWait::Waited
    } else {
        MemoryWait::No
    });
    true
}

#[cfg(test)]
mod tests {
    use super::sweep::sweep_chunk;
    use crate::heap::Heap;

    /// A string that the interner, or the cache of concatenations, hands
    /// out again between a cycle's marking and its sweep was unreachable
    /// when marked: it must survive the sweep, or its new holder keeps a
    /// freed key.
    #[test]
    fn strings_found_again_while_sweeping_survive_the_sweep() {
        let mut heap = Heap::new(1 << 20, 1 << 16);
        let (ab, cd) = (heap.intern("ab").unwrap(), heap.intern("cd").unwrap());
        let joined = heap.intern_concat(&[ab, cd]).unwrap();
        let plain = heap.intern("plain").unwrap();
        // A cycle whose marking found only the parts.
        let epoch = heap.gc.begin_empty_cycle_sweep();
        heap.strings.mark(ab, epoch);
        heap.strings.mark(cd, epoch);
        assert_eq!(heap.intern_concat(&[ab, cd]).unwrap(), joined);
        assert_eq!(heap.intern("plain").unwrap(), plain);
        while !sweep_chunk(&mut heap).0 {}
        assert_eq!(heap.strings.get(joined).map(|s| &*s.text), Some("abcd"));
        assert_eq!(heap.strings.get(plain).map(|s| &*s.text), Some("plain"));
    }
}
