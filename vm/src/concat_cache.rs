//! The results of recent two-part string concatenations.
//!
//! Scripts often build the same string again and again: a map key made
//! every frame (`"enemy_" + kind`), a word from the same syllables. Every
//! concatenation interns its result, so building one that exists already
//! copies both parts into a buffer, hashes it and looks it up, only to
//! find the key it found last time. This cache remembers, for a pair of
//! part keys, the key of their concatenation, and skips all of that when
//! the pair comes again.
//!
//! It holds keys only and keeps nothing alive. Keys are generational: an
//! entry whose result has been freed no longer finds it, and parts whose
//! slots were freed and reused come back with other keys, which miss.
//! Since the interner keeps one string per text, a result that is still
//! there is exactly what interning the text again would return.

use slotmap::Key;

use crate::value::StrKey;

/// Entries (24 bytes each); a power of two. Direct-mapped: a pair evicts
/// whatever shared its slot. On strings.ark, whose words come from 576
/// recurring pairs, 256 entries saved 2.7% of its instructions, 1024 saved
/// 5.4% and 4096 6.4% (callgrind, 20,000 words).
const ENTRIES: usize = 1024;

#[derive(Clone, Copy, Default)]
struct Entry {
    left: StrKey,
    right: StrKey,
    result: StrKey,
}

pub(crate) struct ConcatCache {
    entries: [Entry; ENTRIES],
}

impl Default for ConcatCache {
    fn default() -> Self {
        ConcatCache {
            entries: [Entry::default(); ENTRIES],
        }
    }
}

impl ConcatCache {
    /// The remembered result of `left + right`, which may since have been
    /// freed (the caller checks).
    #[inline]
    pub(crate) fn get(&self, left: StrKey, right: StrKey) -> Option<StrKey> {
        let entry = &self.entries[slot(left, right)];
        (entry.left == left && entry.right == right && !entry.result.is_null())
            .then_some(entry.result)
    }

    /// Remembers that `left + right` is `result`.
    #[inline]
    pub(crate) fn remember(&mut self, left: StrKey, right: StrKey, result: StrKey) {
        self.entries[slot(left, right)] = Entry {
            left,
            right,
            result,
        };
    }
}

/// The entry a pair maps to: both keys mixed by a multiply (as FxHash
/// does), the top bits taken.
#[inline]
fn slot(left: StrKey, right: StrKey) -> usize {
    let mixed = (left.data().as_ffi() ^ right.data().as_ffi().rotate_left(32))
        .wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (mixed >> (64 - ENTRIES.trailing_zeros())) as usize
}
