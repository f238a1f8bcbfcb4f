#![no_main]
//! Any text: compiling returns a module or an error, never panics.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(src) = std::str::from_utf8(data) {
        let mut vm = ark_vm::Vm::new();
        if let Ok(module) = vm.compile("fuzz.ark", src) {
            let _ = vm.disassemble(&module);
        }
    }
});
