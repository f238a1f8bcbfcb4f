//! Big strings, and the register stacks of deep calls, given back to the
//! system a piece at a time.
//!
//! Freeing a string of 128 MiB in one go took the kernel 8.9 ms (it
//! unmaps 32,768 pages, about 70 µs a megabyte), inside whichever collector
//! step, allocation's assist or instruction freed it: no budget sees that.
//! So the sweep hands a big string's buffer here, as does long string work
//! that built a string it does not keep (an equal one was there, an error,
//! an abandoned call), and collector steps give it back a megabyte at a
//! time, each piece charged to the step as work. Until it is given back, it
//! counts in the heap's bytes. A call that ends with a stack of megabytes
//! (deep recursion) leaves it here too, as does a long list that grew
//! (`grow.rs`).

use compact_str::CompactString;

use super::big_map::BigMap;
use crate::value::Value;

/// A piece given back at a time, and the strings long enough to be given
/// back in pieces.
const PIECE: usize = 1 << 20;
/// The collector work a piece counts as (a slot swept is one unit, about
/// 30 ns; a megabyte given back is about 70 µs).
pub(crate) const PIECE_WORK: usize = 2048;

#[derive(Default)]
pub(crate) struct Releasing {
    buffers: Vec<Vec<u8>>,
    stacks: Vec<Vec<Value>>,
    maps: Vec<BigMap>,
    /// Bytes the buffers hold.
    pub(crate) bytes: usize,
}

impl Releasing {
    /// Frees a swept string's text: now if it is short, else a piece at a
    /// time (`give_back_piece`).
    pub(crate) fn free(&mut self, text: CompactString) {
        if text.len() >= 2 * PIECE && text.is_heap_allocated() {
            self.free_buffer(text.into_string());
        }
    }

    /// Frees a buffer as `free` does: a string built and then not kept.
    pub(crate) fn free_buffer(&mut self, buffer: String) {
        if buffer.capacity() >= 2 * PIECE {
            let buffer = buffer.into_bytes();
            self.bytes += buffer.capacity();
            self.buffers.push(buffer);
        }
    }

    /// Frees a call's register stack, or a list's buffer, as `free` does:
    /// a short one is handed back (to be freed or pooled now).
    pub(crate) fn free_values(&mut self, values: Vec<Value>) -> Option<Vec<Value>> {
        if values.capacity() * size_of::<Value>() < 2 * PIECE {
            return Some(values);
        }
        self.bytes += values.capacity() * size_of::<Value>();
        self.stacks.push(values);
        None
    }

    /// Frees a big map's storage (a map swept), a piece at a time.
    pub(crate) fn free_map(&mut self, map: BigMap) {
        self.bytes += map.bytes();
        self.maps.push(map);
    }

    /// Gives back a piece of a buffer; false if none is left.
    pub(crate) fn give_back_piece(&mut self) -> bool {
        let given = if !self.buffers.is_empty() {
            give_back(&mut self.buffers, PIECE)
        } else if !self.stacks.is_empty() {
            give_back(&mut self.stacks, PIECE / size_of::<Value>()) * size_of::<Value>()
        } else if let Some(map) = self.maps.last_mut() {
            let given = map.give_back(PIECE);
            if map.bytes() == 0 {
                self.maps.pop();
            }
            given
        } else {
            return false;
        };
        self.bytes -= given;
        true
    }
}

/// Gives back `piece` items' room of the last of `buffers` (all of it if
/// it holds no more): the items' room given back.
fn give_back<T>(buffers: &mut Vec<Vec<T>>, piece: usize) -> usize {
    let Some(buffer) = buffers.last_mut() else {
        return 0;
    };
    let before = buffer.capacity();
    let kept = before.saturating_sub(piece);
    if kept == 0 {
        buffers.pop();
        return before;
    }
    buffer.truncate(kept);
    buffer.shrink_to(kept);
    before - buffer.capacity()
}
