//! Marking: shading values and blackening grey objects a chunk at a time.

use slotmap::SlotMap;

use super::{Gray, Running, TRACE_CHUNK, fiber_of};
use crate::fiber::Fiber;
use crate::heap::Heap;
use crate::value::Value;
use crate::vm::CallId;

impl Heap {
    /// Marks `v` and queues it if it holds other values.
    pub(crate) fn shade(&mut self, v: Value) {
        let epoch = self.gc.epoch;
        let gray = &mut self.gc.gray;
        match v {
            Value::Str(k) => {
                self.strings.mark(k, epoch);
            }
            Value::List(k) => {
                if self.lists.mark(k, epoch) {
                    gray.push(Gray::List(k, 0));
                }
            }
            Value::Map(k) => {
                if self.maps.mark(k, epoch) {
                    gray.push(Gray::Map(k, 0));
                }
            }
            Value::Closure(k) => {
                if self.closures.mark(k, epoch) {
                    gray.push(Gray::Closure(k));
                }
            }
            Value::Cell(k) => {
                if self.cells.mark(k, epoch) {
                    gray.push(Gray::Cell(k));
                }
            }
            Value::Host(k) => {
                if self.hosts.mark(k, epoch) {
                    gray.push(Gray::Host(k));
                }
            }
            // The kinds that are not heap objects: `Value::is_heap_object`
            // names each.
            other => debug_assert!(!other.is_heap_object(), "{other:?} is not marked"),
        }
    }

    /// Shades the live slots, closure and code of a call's frame `i` (of a
    /// call not started yet, its whole stack: the callee and arguments).
    fn scan_frame(&mut self, fiber: &Fiber, i: usize) -> usize {
        if fiber.frames.is_empty() {
            for &v in fiber.stack.iter().filter(|v| v.is_heap_object()) {
                self.shade(v);
            }
            return 1 + fiber.stack.len();
        }
        let slots = fiber.live_slots(i);
        let work = 2 + slots.len();
        for &v in fiber.stack[slots].iter().filter(|v| v.is_heap_object()) {
            self.shade(v);
        }
        // The closure holds the frame's code and constants.
        self.shade(Value::Closure(fiber.frames[i].closure));
        work
    }

    /// Shades a call's frames from its low-water mark up (the frames below
    /// it have not run since they were last scanned), then records that
    /// everything below the top frame is scanned.
    pub(crate) fn rescan_fiber(&mut self, fiber: &Fiber) -> usize {
        let top = fiber.frames.len().saturating_sub(1);
        let mut work = 1;
        for i in fiber.low_water.get().min(top)..=top {
            work += self.scan_frame(fiber, i);
        }
        fiber.low_water.set(top);
        work
    }

    /// Scans a call's frame `i` and queues the next one. Anything the call
    /// changes meanwhile is caught by the rescan from its low-water mark.
    fn scan_fiber_chunk(&mut self, key: CallId, fiber: &Fiber, i: usize) -> usize {
        if i == 0 {
            fiber.low_water.set(fiber.frames.len().saturating_sub(1));
        }
        if i + 1 < fiber.frames.len() {
            self.gc.gray.push(Gray::Fiber(key, i + 1));
        }
        if i < fiber.frames.len().max(1) {
            self.scan_frame(fiber, i)
        } else {
            1
        }
    }

    /// Blackens one grey item (or a chunk of a big one); returns the work
    /// done.
    pub(super) fn trace(
        &mut self,
        item: Gray,
        calls: &SlotMap<CallId, Fiber>,
        running: Running<'_>,
    ) -> usize {
        match item {
            Gray::List(k, from) => {
                let Some(items) = self.lists.get(k) else {
                    return 1;
                };
                let to = (from + TRACE_CHUNK).min(items.len());
                if to < items.len() {
                    self.gc.gray.push(Gray::List(k, to));
                }
                let mut chunk = std::mem::take(&mut self.gc.scratch);
                chunk.clear();
                // The items that are objects: a list of numbers traces
                // without a call per item.
                chunk.extend(
                    items[from.min(to)..to]
                        .iter()
                        .filter(|v| v.is_heap_object()),
                );
                for &v in &chunk {
                    self.shade(v);
                }
                self.gc.scratch = chunk;
                1 + to.saturating_sub(from)
            }
            Gray::Map(k, queued) => {
                let Some(map) = self.maps.get_mut(k) else {
                    return 1;
                };
                let from = map.trace_from(queued);
                let to = (from + TRACE_CHUNK).min(map.len());
                map.traced_to(to);
                if to < map.len() {
                    self.gc.gray.push(Gray::Map(k, to));
                }
                let mut chunk = std::mem::take(&mut self.gc.scratch);
                chunk.clear();
                for i in from..to {
                    if let Some((k, v)) = map.get_index(i) {
                        let key = k.to_value();
                        chunk.extend([key, *v].into_iter().filter(Value::is_heap_object));
                    }
                }
                for &v in &chunk {
                    self.shade(v);
                }
                self.gc.scratch = chunk;
                1 + 2 * to.saturating_sub(from)
            }
            Gray::Closure(k) => {
                let Some(c) = self.closures.get(k) else {
                    return 1;
                };
                let proto = c.proto.clone();
                let cells = c.upvals.clone();
                self.gc.mark_proto(&proto);
                for cell in cells.iter() {
                    self.shade(Value::Cell(*cell));
                }
                1 + cells.len()
            }
            Gray::Cell(k) => {
                if let Some(cell) = self.cells.get(k) {
                    self.shade(cell.get());
                }
                1
            }
            Gray::Host(k) => {
                // A host re-queued by `put_host` was made white again, so
                // that touching it repeatedly queues it once.
                let epoch = self.gc.epoch;
                self.hosts.mark(k, epoch);
                let mut held = Vec::new();
                if let Some(h) = self.hosts.get(k) {
                    h.trace(&mut |v| held.push(v));
                }
                for &v in &held {
                    self.shade(v);
                }
                1 + held.len()
            }
            Gray::Instance(k, from) => {
                let Some(inst) = self.instances.get(k) else {
                    return 1;
                };
                let vars = inst.vars();
                let to = (from + TRACE_CHUNK).min(vars.len());
                if to < vars.len() {
                    self.gc.gray.push(Gray::Instance(k, to));
                }
                let mut chunk = std::mem::take(&mut self.gc.scratch);
                chunk.clear();
                chunk.extend_from_slice(&vars[from.min(to)..to]);
                if from == 0 {
                    let (self_value, main) = (inst.self_value(), inst.module().main.clone());
                    self.shade(self_value);
                    self.gc.mark_proto(&main);
                }
                for &v in &chunk {
                    self.shade(v);
                }
                self.gc.scratch = chunk;
                1 + to.saturating_sub(from)
            }
            Gray::Proto(p) => {
                for &c in &p.consts {
                    self.shade(c);
                }
                for child in &p.protos {
                    self.gc.mark_proto(child);
                }
                1 + p.consts.len() + p.protos.len()
            }
            Gray::Calls(from) => {
                let to = (from + 16).min(self.gc.calls_snapshot.len());
                if to < self.gc.calls_snapshot.len() {
                    self.gc.gray.push(Gray::Calls(to));
                }
                for i in from..to {
                    let key = self.gc.calls_snapshot[i];
                    self.gc.gray.push(Gray::Fiber(key, 0));
                }
                1 + to - from
            }
            Gray::Fiber(key, from) => match fiber_of(calls, running, key) {
                Some(fiber) => self.scan_fiber_chunk(key, fiber, from),
                None => 1,
            },
        }
    }
}
