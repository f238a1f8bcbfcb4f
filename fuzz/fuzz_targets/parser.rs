#![no_main]
//! Any text: the parser returns a tree or an error, never panics or
//! overflows the stack.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(src) = std::str::from_utf8(data) {
        let arena = ark_vm::ast::Arena::new();
        let _ = ark_vm::parser::parse("fuzz.ark", src, &arena);
        let _ = ark_vm::parser::parse_repl("fuzz.ark", src, &arena);
    }
});
