//! Calls in progress: a fiber is a value stack plus the frames of the
//! script functions running on it. A suspended call is just its fiber.

use std::cell::Cell;
use std::sync::Arc;

use crate::bytecode::Proto;
use crate::heap::{Closure, Heap};
use crate::value::{ClosureKey, InstanceKey, Value};

/// One script function's activation. A frame holds no reference count, so
/// calls and returns do no atomic operations.
pub(crate) struct Frame {
    pub closure: ClosureKey,
    /// The closure's prototype and module instance, so that a return
    /// restores its caller without looking the caller's closure up again.
    pub proto: ProtoRef,
    pub instance: InstanceKey,
    /// The next instruction to run.
    pub pc: usize,
    /// Stack index of register 0. The callee's value sits at `base - 1`
    /// and receives the result.
    pub base: usize,
    /// Stack index one past the last register.
    pub top: usize,
}

/// A frame's pointer to its closure's prototype. The closure owns an `Arc`
/// to the prototype and is itself kept alive by the frame: the collector
/// shades every frame's closure (`Heap::scan_frame`), closures leave the
/// heap only through the collector's sweep, and a closure never changes
/// after it is made. A call runs only on the heap it started on
/// (`Fiber::heap`, checked whenever a frame loads and after any native or
/// host code returns), so its closures' heap is the VM's while it runs.
/// So the pointer is valid for as long as the frame exists; the
/// interpreter dereferences it only then.
#[derive(Clone, Copy)]
pub(crate) struct ProtoRef(pub *const Proto);

// SAFETY: the pointer is only read through (never written), and `Proto` is
// `Send + Sync` (prototypes are shared between threads through `Arc`).
unsafe impl Send for ProtoRef {}
// SAFETY: as above.
unsafe impl Sync for ProtoRef {}

/// A call in progress: everything needed to resume it.
#[derive(Default)]
pub(crate) struct Fiber {
    pub stack: Vec<Value>,
    pub frames: Vec<Frame>,
    /// Arguments of the call not yet started (the callee is `stack[0]`).
    pub pending: Option<usize>,
    /// An error to report when the fiber first runs.
    pub failed: Option<String>,
    /// The lowest frame that may have changed since the collector last
    /// scanned this call: frames below it are not rescanned.
    pub low_water: Cell<usize>,
    /// The collector epoch in which this call was queued for a rescan
    /// (`GcState::queue_rescan`); 0 when it is not queued.
    pub rescan_queued: Cell<u32>,
    /// The identity of the heap the call runs on (`Heap::id`), set when it
    /// first runs (0 before). Its frames point into that heap's closures,
    /// so it may never run on another.
    pub heap: u64,
    /// The heap's `layout_epoch` when the running frame last loaded.
    pub layout_epoch: u64,
    /// The heap's `module_writes` when a frame last loaded the module
    /// variables it caches in registers (only the running frame relies on
    /// it: a return into a frame reloads them where its callee may have
    /// written them).
    pub module_writes_seen: u64,
    /// The heap's `module_slots_written` when the call last stopped, and
    /// its `module_writes` then: the call resumes with that record if no
    /// host code wrote a variable or ran a call in between.
    pub slots_written_at_stop: Option<(u64, u64)>,
    /// Whether the call waits for the collector to bring the heap back
    /// under its limit (`gc::safe_point`).
    pub memory: Cell<MemoryWait>,
}

/// The registers and frames of calls that ended, kept (empty) for the
/// next calls: a host calls a function on thousands of entities a frame,
/// and each call's stack, frames and their growth were three allocations
/// and frees (the `plugin` bench's movers).
#[derive(Default)]
pub(crate) struct SpareStacks(Vec<(Vec<Value>, Vec<Frame>)>);

impl SpareStacks {
    /// Calls' stacks kept at most.
    const KEPT: usize = 16;
    /// Registers a kept stack holds at most (4 KiB).
    const MAX_SLOTS: usize = 256;

    fn take(&mut self) -> (Vec<Value>, Vec<Frame>) {
        self.0.pop().unwrap_or_default()
    }

    /// Keeps a finished call's stack and frames if they are small and
    /// room is left; the stack if not (to be freed).
    pub(crate) fn keep(&mut self, mut stack: Vec<Value>, mut frames: Vec<Frame>) -> Vec<Value> {
        if self.0.len() >= Self::KEPT || stack.capacity() > Self::MAX_SLOTS {
            return stack;
        }
        stack.clear();
        frames.clear();
        self.0.push((stack, frames));
        Vec::new()
    }
}

/// A call that reached the heap limit waits, suspended, while whole
/// collector cycles run in its resumes' budgets, instead of stopping the
/// game for a full collection of a heap that size.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(crate) enum MemoryWait {
    #[default]
    No,
    /// Until the collector has finished this many cycles in all.
    UntilCycles(u64),
    /// It waited, and the heap was still over the limit: the next
    /// allocation over it is out of memory.
    Waited,
}

impl Fiber {
    /// The stack slots of frame `i` that may hold live values: all of the
    /// top frame's registers, but only a caller's registers up to the slot
    /// of the call it waits on (those above were the call's arguments, and
    /// are the callee's registers now). A dead value in them, or above the
    /// top frame's registers, is no root.
    pub fn live_slots(&self, i: usize) -> std::ops::Range<usize> {
        let start = self.frames[i].base - 1;
        let end = match self.frames.get(i + 1) {
            Some(callee) => callee.base,
            None => self.frames[i].top,
        };
        start..end.min(self.stack.len()).max(start)
    }

    /// A call of `f` with `args`, started on first resume, on registers
    /// and frames from `spares`.
    pub fn for_call(f: Value, args: &[Value], spares: &mut SpareStacks) -> Fiber {
        let mut fiber = Fiber::on_spares(spares);
        fiber.begin(f, args);
        fiber
    }

    /// A fiber with no call yet, on registers and frames from `spares`:
    /// a call starts on it with [`Fiber::begin`] (a batch's, one after
    /// another: `Vm::run_batch`).
    pub fn on_spares(spares: &mut SpareStacks) -> Fiber {
        let (stack, frames) = spares.take();
        Fiber {
            stack,
            frames,
            ..Fiber::default()
        }
    }

    /// Sets up a call of `f` with `args` on this fiber (new, or whose last
    /// call ended), started on the next run. The stack keeps its length:
    /// the registers above the callee and its arguments are dead, as above
    /// any top frame, and written before they are read (cleared, the stack
    /// grew again with each call of a batch).
    pub fn begin(&mut self, f: Value, args: &[Value]) {
        self.frames.clear();
        if self.stack.len() <= args.len() {
            self.stack.resize(args.len() + 1, Value::Nil);
        }
        self.stack[0] = f;
        // One by one: `copy_from_slice` of a call's few arguments is a
        // `memcpy` call, paid on every call of a batch.
        for (register, &arg) in self.stack[1..].iter_mut().zip(args) {
            *register = arg;
        }
        self.pending = Some(args.len());
        self.low_water.set(0);
        self.memory.set(MemoryWait::No);
    }

    /// A call that fails with `message` when it first runs.
    pub fn failed(message: &str) -> Fiber {
        Fiber {
            failed: Some(message.to_string()),
            ..Fiber::default()
        }
    }

    /// A run of a module's top level in `instance`.
    pub fn for_main(heap: &mut Heap, instance: InstanceKey, main: Arc<Proto>) -> Fiber {
        match heap.alloc_closure(Closure {
            proto: main,
            instance,
            upvals: Box::new([]),
        }) {
            Ok(k) => Fiber::for_call(Value::Closure(k), &[], &mut SpareStacks::default()),
            Err(_) => Fiber {
                failed: Some("out of memory".into()),
                ..Fiber::default()
            },
        }
    }
}
