#![no_main]
//! Well-formed programs (`program_gen.rs`) run under small limits, in
//! 1 ms slices with collector steps between: none may panic, and no slice
//! may run far past its budget (the documented bound is 1,024
//! instructions past the deadline plus the one native running then, which
//! these limits keep far under the 50 ms allowed here). A slice is timed
//! by the thread's CPU time: by the clock on the wall, a fuzzer sharing
//! its cores with a build saw an empty `while true {}` slice take 58 ms
//! to 1.1 s (preempted, not running). A slow slice counts only if the
//! program's second run is slow at the same resume (see below).
use std::time::Duration;

use ark_vm::{Budget, RunResult, Vm, VmConfig};
use libfuzzer_sys::fuzz_target;

#[path = "../program_gen.rs"]
mod program_gen;

const SLICE: Budget = Budget::Micros(1_000);
const SLICE_LIMIT: Duration = Duration::from_millis(50);

fuzz_target!(|data: &[u8]| {
    let source = program_gen::program(&mut program_gen::Choices::new(data));
    // A slow slice is run again from the start on a fresh VM: under the
    // address sanitizer, a fuzzer's process hundreds of megabytes in
    // sometimes spends tens of milliseconds of CPU in one allocation or
    // free (quarantine), which a second run of the same program does not.
    // Only a slice slow both times is a finding.
    if let Some((resume, took)) = run(&source)
        && let Some((again, took_again)) = run(&source)
        && again == resume
    {
        panic!(
            "a 1 ms slice ran {took:?} and {took_again:?} of CPU time (resume {resume}):\n{source}"
        );
    }
});

/// Runs the program in slices; the first slice over the limit, if any
/// (which resume, how long), after which the run goes on to its end.
fn run(source: &str) -> Option<(usize, Duration)> {
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
    let Ok(module) = vm.compile("gen.ark", source) else {
        return None;
    };
    let instance = vm.instantiate(&module);
    let call = vm.start_init(instance);
    let mut slow = None;
    for resume in 0..30 {
        let started = thread_cpu();
        let result = vm.resume(call, SLICE);
        let took = thread_cpu() - started;
        if took > SLICE_LIMIT && slow.is_none() {
            slow = Some((resume, took));
        }
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
    slow
}

/// The CPU time this thread has run.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec for the call to fill.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}
