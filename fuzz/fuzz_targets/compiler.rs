#![no_main]
//! Any text: compiling returns a module or an error, never panics, and the
//! compiler never emits code its own verifier rejects.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(src) = std::str::from_utf8(data) {
        let mut vm = ark_vm::Vm::new();
        match vm.compile("fuzz.ark", src) {
            Ok(module) => {
                let _ = vm.disassemble(&module);
            }
            Err(e) => assert!(!e.message.contains("internal compiler error"), "{e}"),
        }
    }
});
