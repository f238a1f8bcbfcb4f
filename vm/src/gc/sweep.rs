//! Sweeping: freeing what the marking did not reach, a chunk of slots at a
//! time.

use super::SWEEP_CHUNK;
use crate::heap::Heap;

/// Kinds in the order the sweep visits them.
pub(super) const SWEEP_KINDS: usize = 6;

/// Sweeps up to `SWEEP_CHUNK` slots of the current kind; true when the
/// whole heap has been swept.
pub(super) fn sweep_chunk(heap: &mut Heap) -> (bool, usize) {
    let marks = (heap.gc.epoch, heap.gc.young_mark());
    heap.pool.fit(heap.bytes());
    let from = heap.gc.sweep_slot;
    let to = from + SWEEP_CHUNK;
    let (swept, slots) = match heap.gc.sweep_kind {
        0 => {
            let (interner, releasing) = (&mut heap.interner, &mut heap.releasing);
            let swept = heap.strings.sweep(from, to, marks, |k, obj| {
                interner.remove(obj.hash, k);
                releasing.free(obj.text);
            });
            (swept, heap.strings.slot_count())
        }
        // Lists' and maps' buffers go to the pool, for new ones.
        1 => {
            let (pool, releasing) = (&mut heap.pool, &mut heap.releasing);
            let swept = heap
                .lists
                .sweep(from, to, marks, |_, list| pool.freed_list(list, releasing));
            (swept, heap.lists.slot_count())
        }
        2 => {
            let (pool, releasing) = (&mut heap.pool, &mut heap.releasing);
            let swept = heap
                .maps
                .sweep(from, to, marks, |_, map| pool.freed_map(map, releasing));
            (swept, heap.maps.slot_count())
        }
        3 => {
            let swept = heap.closures.sweep(from, to, marks, |_, _| {});
            if swept.objects > 0 {
                heap.layout_changed();
            }
            (swept, heap.closures.slot_count())
        }
        4 => (
            heap.cells.sweep(from, to, marks, |_, _| {}),
            heap.cells.slot_count(),
        ),
        _ => (
            heap.hosts.sweep(from, to, marks, |_, _| {}),
            heap.hosts.slot_count(),
        ),
    };
    heap.gc.pacer.young_freed += swept.young_bytes;
    if to >= slots {
        heap.gc.sweep_kind += 1;
        heap.gc.sweep_slot = 0;
    } else {
        heap.gc.sweep_slot = to;
    }
    (heap.gc.sweep_kind >= SWEEP_KINDS, to - from)
}
