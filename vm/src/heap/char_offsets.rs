//! Where the characters of long non-ASCII strings start.
//!
//! A string is indexed by character (`s[i]`, `s.slice(a, b)`), and in
//! UTF-8 text that is not all ASCII, finding character `i` means walking
//! from the start: reading text character by character, as a tokenizer
//! does, is quadratic, and on a 16 MiB string each index took 4 ms. So
//! for the few long strings indexed most recently, this keeps the byte
//! offset of every `STRIDE`th character, found in one walk when the
//! string is first indexed: an index then walks at most `STRIDE`
//! characters. Strings never change, and a key names one string for good
//! (a freed slot's next string gets a new version), so an entry never
//! goes stale; it is only evicted.

use std::cell::RefCell;

use crate::value::StrKey;

/// Characters between two kept offsets.
const STRIDE: usize = 256;
/// Strings shorter than this are walked from the start (a few
/// microseconds at most).
const MIN_BYTES: usize = 4096;
/// Strings whose offsets are kept at once.
const KEPT: usize = 4;

#[derive(Default)]
pub(crate) struct CharOffsets {
    /// Most recently used last. Each holds the byte offset of characters
    /// 0, STRIDE, 2 * STRIDE, and so on.
    kept: RefCell<Vec<(StrKey, Box<[u32]>)>>,
}

impl CharOffsets {
    /// The byte offset in `text` (the string `key`, not all ASCII) of
    /// character `index` (at most its length in characters; the length
    /// gives `text.len()`), and the bytes read to find it.
    pub(crate) fn byte_offset(&self, key: StrKey, text: &str, index: usize) -> (usize, usize) {
        if text.len() < MIN_BYTES || text.len() > u32::MAX as usize {
            let at = walk(text, 0, index);
            return (at, at);
        }
        let mut kept = self.kept.borrow_mut();
        let mut read = 0;
        let position = match kept.iter().position(|(k, _)| *k == key) {
            Some(position) => position,
            None => {
                if kept.len() == KEPT {
                    kept.remove(0);
                }
                kept.push((key, offsets_of(text)));
                read = text.len();
                kept.len() - 1
            }
        };
        let entry = kept.remove(position);
        let from = entry
            .1
            .get(index / STRIDE)
            .map_or(text.len(), |&at| at as usize);
        kept.push(entry);
        let at = walk(text, from, index % STRIDE);
        (at, read + (at - from))
    }
}

/// The byte offset of the `n`th character of `text` from byte `from` (the
/// text's end if it has fewer).
fn walk(text: &str, from: usize, n: usize) -> usize {
    text[from..]
        .char_indices()
        .nth(n)
        .map_or(text.len(), |(at, _)| from + at)
}

/// The byte offsets of characters 0, STRIDE, 2 * STRIDE...
fn offsets_of(text: &str) -> Box<[u32]> {
    text.char_indices()
        .step_by(STRIDE)
        .map(|(at, _)| at as u32)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arena::make_key;

    #[test]
    fn offsets_found_through_the_kept_ones_match_a_walk_from_the_start() {
        let text: String = (0..5000)
            .map(|i| if i % 3 == 0 { 'é' } else { 'a' })
            .chain("日本".chars())
            .collect();
        let key: StrKey = make_key(7, 1);
        let offsets = CharOffsets::default();
        let chars = text.chars().count();
        for index in [0, 1, 255, 256, 257, 511, 512, 4999, 5000, 5001, chars] {
            let (at, _) = offsets.byte_offset(key, &text, index);
            assert_eq!(at, walk(&text, 0, index), "character {index}");
        }
        // The first index read the whole text; the next ones a stride at
        // most.
        let (_, read) = offsets.byte_offset(key, &text, chars - 1);
        assert!(read <= STRIDE * 3, "read {read} bytes");
    }

    #[test]
    fn only_the_most_recent_strings_are_kept() {
        let text = "é".repeat(4096);
        let offsets = CharOffsets::default();
        for i in 0..=KEPT as u32 {
            offsets.byte_offset(make_key(i as usize, 1), &text, 10);
        }
        // The first string was evicted: indexing it walks the text again.
        let (_, read) = offsets.byte_offset(make_key(0, 1), &text, 10);
        assert_eq!(read, text.len() + 20);
        let (_, read) = offsets.byte_offset(make_key(KEPT, 1), &text, 10);
        assert_eq!(read, 20);
    }
}
