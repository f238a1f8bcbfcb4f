//! Where the characters of long non-ASCII strings start.
//!
//! A string is indexed by character (`s[i]`, `s.slice(a, b)`), and in
//! UTF-8 text that is not all ASCII, finding character `i` means walking
//! from the start: reading text character by character, as a tokenizer
//! does, is quadratic, and on a 16 MiB string each index took 4 ms. So
//! for the few long strings indexed most recently, this keeps the byte
//! offset of every `STRIDE`th character, found as far as an index needs
//! them: an index then walks at most `STRIDE` characters past them. The
//! walk that finds them stops after a budget of bytes and goes on at the
//! next call, so that on a string of hundreds of megabytes it is split
//! between slices of the running call (`long_work.rs`). Strings never
//! change, and a key names one string for good (a freed slot's next
//! string gets a new version), so an entry never goes stale; it is only
//! evicted.

use std::cell::RefCell;

use crate::value::StrKey;

/// Characters between two kept offsets.
const STRIDE: usize = 256;
/// Strings shorter than this are walked from the start (a few
/// microseconds at most).
const MIN_BYTES: usize = 4096;
/// Strings whose offsets are kept at once. Each call indexing a long
/// string finds its offsets a slice at a time, across resumes: more calls
/// than this taking turns would evict each other's before they are done.
const KEPT: usize = 16;

#[derive(Default)]
pub(crate) struct CharOffsets {
    /// Most recently used last.
    kept: RefCell<Vec<Offsets>>,
}

/// The byte offsets of one string's characters 0, STRIDE, 2 * STRIDE...,
/// as far as they have been found.
struct Offsets {
    key: StrKey,
    offsets: Vec<u32>,
    /// Whether every one is found.
    complete: bool,
}

impl CharOffsets {
    /// The byte offset in `text` (the string `key`, not all ASCII) of
    /// character `index` (at most its length in characters; the length
    /// gives `text.len()`), and the bytes read to find it; or, when finding
    /// it takes more than `budget` bytes of walking first, the bytes read
    /// (what was found is kept, and the next call goes on from there).
    pub(crate) fn byte_offset(
        &self,
        key: StrKey,
        text: &str,
        index: usize,
        budget: usize,
    ) -> Result<(usize, usize), usize> {
        if text.len() < MIN_BYTES || text.len() > u32::MAX as usize {
            let at = walk(text, 0, index);
            return Ok((at, at));
        }
        let mut kept = self.kept.borrow_mut();
        let mut entry = match kept.iter().position(|o| o.key == key) {
            Some(position) => kept.remove(position),
            None => {
                if kept.len() == KEPT {
                    kept.remove(0);
                }
                Offsets {
                    key,
                    offsets: vec![0],
                    complete: false,
                }
            }
        };
        let read = entry.extend_to(text, index / STRIDE, budget);
        let found = entry.offsets.get(index / STRIDE).map(|&at| at as usize);
        kept.push(entry);
        let read = read?;
        let from = found.unwrap_or(text.len());
        let at = walk(text, from, index % STRIDE);
        Ok((at, read + (at - from)))
    }
}

impl Offsets {
    /// Finds offsets up to the `n`th (or all there are), walking at most
    /// about `budget` bytes: the bytes read, or (not there yet) `Err` of
    /// them.
    fn extend_to(&mut self, text: &str, n: usize, budget: usize) -> Result<usize, usize> {
        let mut read = 0;
        while self.offsets.len() <= n && !self.complete {
            if read >= budget {
                return Err(read);
            }
            let from = *self.offsets.last().expect("starts with 0") as usize;
            let next = walk(text, from, STRIDE);
            read += next - from;
            if next == text.len() {
                self.complete = true;
            } else {
                self.offsets.push(next as u32);
            }
        }
        Ok(read)
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
            let (at, _) = offsets.byte_offset(key, &text, index, usize::MAX).unwrap();
            assert_eq!(at, walk(&text, 0, index), "character {index}");
        }
        // The first index read the whole text; the next ones a stride at
        // most.
        let (_, read) = offsets
            .byte_offset(key, &text, chars - 1, usize::MAX)
            .unwrap();
        assert!(read <= STRIDE * 3, "read {read} bytes");
    }

    #[test]
    fn only_the_most_recent_strings_are_kept() {
        let text = "é".repeat(4096);
        let offsets = CharOffsets::default();
        let read = |key: usize| {
            let found = offsets.byte_offset(make_key(key, 1), &text, 4000, usize::MAX);
            found.expect("no budget").1
        };
        for i in 0..=KEPT {
            assert_eq!(read(i), 8000, "the walk to character 4000 of string {i}");
        }
        // The first string was evicted: indexing it walks the text again.
        assert_eq!(read(0), 8000);
        // The last one walks from the kept offset of character 3840.
        assert_eq!(read(KEPT), 320);
    }

    #[test]
    fn a_walk_past_its_budget_stops_and_the_next_call_goes_on_from_there() {
        let text = "é".repeat(100_000);
        let key: StrKey = make_key(3, 1);
        let offsets = CharOffsets::default();
        let mut read = 0;
        let mut calls = 0;
        let at = loop {
            calls += 1;
            match offsets.byte_offset(key, &text, 99_999, 10_000) {
                Ok((at, walked)) => {
                    read += walked;
                    break at;
                }
                Err(walked) => {
                    assert!(walked < 10_000 + STRIDE * 4, "{walked} bytes in one call");
                    read += walked;
                }
            }
        };
        assert_eq!(at, 199_998);
        assert!(calls >= 20, "{calls} calls");
        // Each byte up to the character was read once.
        assert_eq!(read, 199_998);
    }
}
