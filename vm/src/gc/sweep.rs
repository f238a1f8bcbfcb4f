//! Sweeping: freeing what the marking did not reach, a chunk of slots at a
//! time.

use super::SWEEP_CHUNK;
use crate::heap::Heap;

/// Kinds in the order the sweep visits them.
pub(super) const SWEEP_KINDS: usize = 6;

/// Sweeps up to `SWEEP_CHUNK` slots of the current kind; true when the
/// whole heap has been swept.
pub(super) fn sweep_chunk(heap: &mut Heap) -> (bool, usize) {
    let epoch = heap.gc.epoch;
    let from = heap.gc.sweep_slot;
    let to = from + SWEEP_CHUNK;
    let slots = match heap.gc.sweep_kind {
        0 => {
            let interner = &mut heap.interner;
            heap.strings
                .sweep(from, to, epoch, |k, obj| interner.remove(obj.hash, k));
            heap.strings.slot_count()
        }
        1 => {
            heap.lists.sweep(from, to, epoch, |_, _| {});
            heap.lists.slot_count()
        }
        2 => {
            heap.maps.sweep(from, to, epoch, |_, _| {});
            heap.maps.slot_count()
        }
        3 => {
            if heap.closures.sweep(from, to, epoch, |_, _| {}) > 0 {
                heap.layout_changed();
            }
            heap.closures.slot_count()
        }
        4 => {
            heap.cells.sweep(from, to, epoch, |_, _| {});
            heap.cells.slot_count()
        }
        _ => {
            heap.hosts.sweep(from, to, epoch, |_, _| {});
            heap.hosts.slot_count()
        }
    };
    if to >= slots {
        heap.gc.sweep_kind += 1;
        heap.gc.sweep_slot = 0;
    } else {
        heap.gc.sweep_slot = to;
    }
    (heap.gc.sweep_kind >= SWEEP_KINDS, to - from)
}
