//! Searching for a pattern longer than a slice, a slice of work at a time.
//!
//! A pattern of up to [`SLICE_BYTES`] is searched for with the standard
//! library's search, a window of text at a time (`find_within`), and a
//! window reads the pattern's length past its end so that a match across
//! two windows is found. With a pattern of megabytes that read alone is
//! megabytes: a 32 MiB pattern in a 128 MiB string took 124 ms a slice
//! (`cargo bench --features bench --bench hostile`, `long_pattern`), and
//! a search that stops mid-comparison and starts over never ends.
//!
//! So a long pattern is found by Rabin-Karp: a rolling hash of the text
//! under the pattern, compared with the pattern's, moved one byte at a
//! time, and a byte-wise comparison only where the hashes agree. All of
//! it (hashing the pattern, the first window, sliding, comparing) goes a
//! byte at a time and stops after a slice's worth of bytes, its place kept
//! in a [`LongScan`]: linear in the text and the pattern, split like any
//! other long work. The hash is modulo the Mersenne prime 2^61 - 1 with a
//! base drawn at random per process, so that a script cannot choose text
//! whose windows collide with its pattern (as map keys are hashed).

use std::hash::{BuildHasher, RandomState};
use std::sync::OnceLock;

use super::SLICE_BYTES;

/// The hash's modulus: 2^61 - 1.
const MODULUS: u64 = (1 << 61) - 1;
/// The work a byte hashed counts as, in bytes copied: a multiplication
/// modulo the prime or two, about 3 ns, where copying a byte takes a
/// fraction of one. Counted as one, a slice of hashing ran 0.7 ms between
/// two reads of the clock (the hostile bench's `long_pattern`).
const HASHED_BYTE_WORK: usize = 8;

/// The base of the rolling hash, the same for the whole process.
fn base() -> u64 {
    static BASE: OnceLock<u64> = OnceLock::new();
    *BASE.get_or_init(|| 256 + RandomState::new().hash_one(0u64) % (MODULUS - 512))
}

fn mul(a: u64, b: u64) -> u64 {
    let product = a as u128 * b as u128;
    reduce((product as u64 & MODULUS) + (product >> 61) as u64)
}

fn reduce(x: u64) -> u64 {
    let x = (x & MODULUS) + (x >> 61);
    if x >= MODULUS { x - MODULUS } else { x }
}

fn pow(mut b: u64, mut e: usize) -> u64 {
    let mut result = 1;
    while e > 0 {
        if e & 1 == 1 {
            result = mul(result, b);
        }
        b = mul(b, b);
        e >>= 1;
    }
    result
}

/// Whether a pattern is searched for a slice of work at a time here.
pub(super) fn is_long(pattern: &str) -> bool {
    pattern.len() > SLICE_BYTES
}

/// Where a search for a long pattern is: kept by the work that searches,
/// between its slices.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(crate) struct LongScan {
    /// Whether it has started, and the position it last told its caller
    /// to go on from (a call from anywhere else starts over).
    started: bool,
    reported: usize,
    /// Bytes of the pattern hashed, and their hash.
    pattern_hashed: usize,
    pattern_hash: u64,
    /// Where the text under the pattern starts, bytes of it hashed, and
    /// their hash.
    pos: usize,
    window_hashed: usize,
    window_hash: u64,
    /// Bytes compared at `pos` after the hashes agreed, if comparing.
    compared: Option<usize>,
}

/// Where the next `pattern` (longer than a slice) in `text` from byte
/// `from` starts, looked for with about `budget` bytes of work; if it is
/// not found within that, `Err` of where the next look goes on (no match
/// starts before it; the text's end once there is none), as
/// `find_within`. Also the bytes of work done.
pub(super) fn find_long(
    text: &str,
    pattern: &str,
    from: usize,
    budget: usize,
    scan: &mut LongScan,
) -> (Result<usize, usize>, usize) {
    let (t, p) = (text.as_bytes(), pattern.as_bytes());
    let m = p.len();
    if !scan.started || scan.reported != from {
        *scan = LongScan {
            started: true,
            reported: from,
            pos: from,
            ..LongScan::default()
        };
    }
    let mut work = 0;
    let found = loop {
        if scan.pos + m > t.len() {
            break Err(t.len());
        }
        if work >= budget {
            break Err(char_boundary_before(text, scan.pos).max(from));
        }
        let room = budget - work;
        let hashable = (room / HASHED_BYTE_WORK).max(1);
        if scan.pattern_hashed < m {
            let end = m.min(scan.pattern_hashed + hashable);
            scan.pattern_hash = hash_more(scan.pattern_hash, &p[scan.pattern_hashed..end]);
            work += (end - scan.pattern_hashed) * HASHED_BYTE_WORK;
            scan.pattern_hashed = end;
        } else if scan.window_hashed < m {
            let start = scan.pos + scan.window_hashed;
            let end = scan.pos + m.min(scan.window_hashed + hashable);
            scan.window_hash = hash_more(scan.window_hash, &t[start..end]);
            work += (end - start) * HASHED_BYTE_WORK;
            scan.window_hashed = end - scan.pos;
        } else if let Some(done) = scan.compared {
            let end = m.min(done + room);
            work += end - done;
            if t[scan.pos + done..scan.pos + end] != p[done..end] {
                scan.compared = None;
                work += slide(t, m, scan, budget.saturating_sub(work));
            } else if end == m {
                break Ok(scan.pos);
            } else {
                scan.compared = Some(end);
            }
        } else if scan.window_hash == scan.pattern_hash {
            scan.compared = Some(0);
        } else {
            work += slide(t, m, scan, room);
        }
    };
    match found {
        Ok(_) => *scan = LongScan::default(),
        Err(next) => scan.reported = next,
    }
    (found, work.max(1))
}

fn hash_more(mut hash: u64, bytes: &[u8]) -> u64 {
    let b = base();
    for &byte in bytes {
        hash = reduce(mul(hash, b) + byte as u64);
    }
    hash
}

/// Moves the window along the text, a byte at a time, until its hash is
/// the pattern's, the text ends, or about `room` bytes of work are done:
/// the work done.
fn slide(t: &[u8], m: usize, scan: &mut LongScan, room: usize) -> usize {
    let b = base();
    // What the byte leaving the window added to its hash.
    let top = pow(b, m - 1);
    let steps = (room / HASHED_BYTE_WORK).max(1);
    let mut done = 0;
    let mut hash = scan.window_hash;
    let mut pos = scan.pos;
    while done < steps && pos + m < t.len() {
        let leaving = mul(t[pos] as u64, top);
        hash = reduce(mul(reduce(hash + MODULUS - leaving), b) + t[pos + m] as u64);
        pos += 1;
        done += 1;
        if hash == scan.pattern_hash {
            break;
        }
    }
    if pos + m >= t.len() && hash != scan.pattern_hash && done < steps {
        // The last window, and it does not match: nothing is left.
        pos = t.len();
    }
    (scan.pos, scan.window_hash) = (pos, hash);
    done.max(1) * HASHED_BYTE_WORK
}

/// The last character boundary of `text` at or before `at`.
fn char_boundary_before(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs a search to its end a budget at a time, as a caller going on
    /// from where it is told: the match, and the looks it took.
    fn search(text: &str, pattern: &str, from: usize, budget: usize) -> (Option<usize>, usize) {
        let mut scan = LongScan::default();
        let (mut from, mut looks) = (from, 0);
        loop {
            looks += 1;
            let (found, work) = find_long(text, pattern, from, budget, &mut scan);
            let most = budget + 2 * HASHED_BYTE_WORK;
            assert!(work <= most, "{work} bytes of work in a look of {budget}");
            match found {
                Ok(at) => return (Some(at), looks),
                Err(next) if next == text.len() => return (None, looks),
                Err(next) => {
                    assert!(next >= from);
                    from = next;
                }
            }
        }
    }

    #[test]
    fn finds_what_the_standard_search_finds() {
        let text = "ab".repeat(3_000) + "abc" + &"ab".repeat(3_000) + "abc";
        for pattern in ["ab".repeat(500) + "abc", "b".repeat(10), "x".repeat(600)] {
            for from in [0, 1, 5_000, 6_003] {
                let expected = text[from..].find(&pattern).map(|i| from + i);
                for budget in [7, 100, 4_096, 1 << 20] {
                    assert_eq!(
                        search(&text, &pattern, from, budget).0,
                        expected,
                        "{budget}"
                    );
                }
            }
        }
    }

    /// Texts and patterns of a few letters, at random, where matches and
    /// near misses are common.
    #[test]
    fn agrees_with_the_standard_search_on_random_texts() {
        let mut random = super::super::test_random(0x9e37_79b9_7f4a_7c15_u64);
        let letters = ["a", "b", "é"];
        let mut word = |longest: usize| -> String {
            let len = 1 + random(longest);
            (0..len).map(|_| letters[random(3)]).collect()
        };
        for _ in 0..2_000 {
            let text = word(300);
            let pattern = word(6);
            let expected = text.find(&pattern);
            for budget in [1, 9, 40, 10_000] {
                assert_eq!(
                    search(&text, &pattern, 0, budget).0,
                    expected,
                    "{text} {pattern}"
                );
            }
        }
    }

    #[test]
    fn a_periodic_text_is_searched_in_linear_time() {
        let text = "a".repeat(200_000);
        let pattern = "a".repeat(50_000) + "b";
        let (found, looks) = search(&text, &pattern, 0, 8_000);
        assert_eq!(found, None);
        // Hashing the pattern and the first window, then sliding: a byte
        // hashed for each byte of each.
        assert!(
            looks <= (pattern.len() * 2 + text.len()) / 1_000 + 3,
            "{looks} looks"
        );
    }

    #[test]
    fn it_goes_on_from_character_boundaries() {
        let text = "é".repeat(40_000) + "x" + &"é".repeat(40_000);
        let pattern = "é".repeat(39_000) + "x";
        let (mut from, mut scan) = (0, LongScan::default());
        loop {
            match find_long(&text, &pattern, from, 999, &mut scan).0 {
                Ok(at) => return assert_eq!(at, 2_000),
                Err(next) => {
                    assert!(text.is_char_boundary(next) && next < text.len());
                    from = next;
                }
            }
        }
    }
}
