#![no_main]
//! Any bytes: the lexer returns tokens or an error, never panics.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(src) = std::str::from_utf8(data) {
        let arena = ark_vm::ast::Arena::new();
        let _ = ark_vm::lexer::tokenize("fuzz.ark", src, &arena);
    }
});
