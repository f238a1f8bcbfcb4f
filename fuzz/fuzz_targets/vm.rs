#![no_main]
//! Any program that compiles runs under a bounded budget and heap, sliced
//! at odd points, and ends in a value, a suspension or a runtime error:
//! never a panic.
use ark_vm::{Budget, RunResult, Vm, VmConfig};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    let mut vm = Vm::with_config(VmConfig {
        heap_limit: 32 << 20,
        max_call_depth: 2_000,
        max_string_len: 1 << 20,
        // A full collection every 61 allocations, and incremental steps
        // between slices: a missing barrier or root shows up as a stale
        // handle or a wrong value, a broken collector as a panic.
        gc_stress: Some(61),
        ..VmConfig::default()
    });
    vm.set_print(|_| {});
    let Ok(module) = vm.compile("fuzz.ark", src) else {
        return;
    };
    let instance = vm.instantiate(&module);
    let call = vm.start_init(instance);
    // At most about 40,000 instructions in slices of 97 (stress mode makes
    // a growing heap quadratic).
    for _ in 0..400 {
        match vm.resume(call, Budget::Instructions(97)) {
            RunResult::Suspended | RunResult::Stopped(_) => {
                vm.gc_step_forced(Budget::Instructions(50));
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
});
