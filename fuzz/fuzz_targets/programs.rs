#![no_main]
//! Well-formed programs (`program_gen.rs`) run under small limits, in
//! 1 ms slices with collector steps between: none may panic, and no slice
//! may run far past its budget (the documented bound is 1,024
//! instructions past the deadline plus the one native running then, which
//! these limits keep far under the 50 ms allowed here).
use std::time::{Duration, Instant};

use ark_vm::{Budget, RunResult, Vm, VmConfig};
use libfuzzer_sys::fuzz_target;

#[path = "../program_gen.rs"]
mod program_gen;

const SLICE: Budget = Budget::Micros(1_000);
const SLICE_LIMIT: Duration = Duration::from_millis(50);

fuzz_target!(|data: &[u8]| {
    let source = program_gen::program(&mut program_gen::Choices::new(data));
    let mut vm = Vm::with_config(VmConfig {
        heap_limit: 8 << 20,
        max_call_depth: 500,
        max_stack_bytes: 1 << 20,
        // Past a slice of long work (64 KiB), so that splitting it between
        // resumes is fuzzed too.
        max_string_len: 256 << 10,
        ..VmConfig::default()
    });
    vm.set_print(|_| {});
    let Ok(module) = vm.compile("gen.ark", &source) else {
        return;
    };
    let instance = vm.instantiate(&module);
    let call = vm.start_init(instance);
    for _ in 0..30 {
        let started = Instant::now();
        let result = vm.resume(call, SLICE);
        let took = started.elapsed();
        assert!(
            took <= SLICE_LIMIT,
            "a 1 ms slice ran {took:?}:\n{source}"
        );
        match result {
            RunResult::Suspended | RunResult::Stopped(_) => {
                vm.gc_step(Budget::Micros(200));
            }
            RunResult::Done(v) => {
                let _ = vm.display(v);
                break;
            }
            RunResult::Error(e) => {
                let _ = e.to_string();
                break;
            }
        }
    }
    vm.full_collect();
    if let Err(e) = vm.validate_heap() {
        panic!("heap invalid after the run: {e}\n{source}");
    }
});
