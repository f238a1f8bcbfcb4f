//! The strings of one ASCII character, which code that reads text a
//! character at a time makes for every character it reads (`s[i]`,
//! `s.chars()`, `char(n)`): their keys, so that making one again is an
//! array read instead of a hash and a probe of the interner.
//!
//! It holds keys only and keeps nothing alive, as the concatenation cache
//! does (`concat_cache.rs`): a key whose string has been freed no longer
//! finds it, and the character is interned again. Since the interner keeps
//! one string per text, a key still found is what interning would return.

use super::{Heap, OutOfMemory};
use crate::value::StrKey;

pub(super) struct OneChar {
    keys: [StrKey; 128],
}

impl Default for OneChar {
    fn default() -> Self {
        OneChar {
            keys: [StrKey::default(); 128],
        }
    }
}

impl Heap {
    /// The one-character string `c`, interned.
    pub(crate) fn char_string(&mut self, c: char) -> Result<StrKey, OutOfMemory> {
        let mut utf8 = [0; 4];
        let text = c.encode_utf8(&mut utf8);
        let Some(slot) = c.is_ascii().then_some(c as usize) else {
            return self.intern(text);
        };
        let key = self.one_char.keys[slot];
        if self.strings.contains_key(key) {
            // As for a string the interner finds (`intern`).
            self.gc.revive_string(&mut self.strings, key);
            return Ok(key);
        }
        let key = self.intern(text)?;
        self.one_char.keys[slot] = key;
        Ok(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn heap() -> Heap {
        Heap::new(1 << 20, 1 << 16)
    }

    #[test]
    fn a_character_made_again_is_the_interned_string() {
        let mut heap = heap();
        let a = heap.char_string('a').unwrap();
        assert_eq!(heap.char_string('a').unwrap(), a);
        assert_eq!(heap.intern("a").unwrap(), a);
        assert_eq!(heap.str(a), "a");
        let e = heap.char_string('é').unwrap();
        assert_eq!(heap.intern("é").unwrap(), e);
        // Interned first, then made as a character: the same string.
        let z = heap.intern("z").unwrap();
        assert_eq!(heap.char_string('z').unwrap(), z);
    }

    #[test]
    fn a_freed_character_is_made_again() {
        let mut heap = heap();
        let first = heap.char_string('q').unwrap();
        heap.strings.remove(first);
        let again = heap.char_string('q').unwrap();
        assert_ne!(again, first);
        assert!(heap.strings.contains_key(again));
        assert_eq!(heap.str(again), "q");
        assert_eq!(heap.char_string('q').unwrap(), again);
    }
}
