//! Scripts written to crash the host: each ends in a clean error, and none
//! makes the process allocate far past the heap limit. This binary counts
//! every allocation (its own global allocator), so the memory checks
//! measure what the VM really takes, outside the heap's accounting too.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use ark_vm::{Budget, Error, RunResult, Value, Vm, VmConfig};

/// The system allocator, counting the bytes allocated now and at the peak.
struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is passed on to the system allocator unchanged; the
// counters are only statistics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(now, Ordering::Relaxed);
        // SAFETY: the caller's contract is passed on as it is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            let grown = new_size - layout.size();
            let now = CURRENT.fetch_add(grown, Ordering::Relaxed) + grown;
            PEAK.fetch_max(now, Ordering::Relaxed);
        } else {
            CURRENT.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
        }
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The memory checks run one at a time: the counters are process-wide.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

const MIB: usize = 1 << 20;

/// Runs `f` and returns its result with the most memory it held at once
/// beyond what was allocated before it started.
fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let before = CURRENT.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let result = f();
    (result, PEAK.load(Ordering::Relaxed).saturating_sub(before))
}

fn vm_with_limit(heap_limit: usize) -> Vm {
    Vm::with_config(VmConfig {
        heap_limit,
        ..VmConfig::default()
    })
}

/// Loads `source` on a VM with `heap_limit` and returns the error it ends
/// in, checking that it never held more than the limit plus 64 MiB plus
/// the source's size.
fn fails_within_memory(heap_limit: usize, source: &str) -> String {
    let (result, peak) = peak_during(|| {
        let mut vm = vm_with_limit(heap_limit);
        vm.set_print(|_| {});
        vm.load("hostile.ark", source).map(|_| ())
    });
    let bound = heap_limit + 64 * MIB + source.len();
    assert!(
        peak <= bound,
        "held {} MiB at the peak, bound {} MiB",
        peak / MIB,
        bound / MIB
    );
    match result {
        Ok(()) => panic!("the script ran to its end"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn sorting_a_nan_is_an_error_not_a_panic() {
    let mut vm = Vm::new();
    let e = vm
        .load("s.ark", "[1.0, 0.0 / 0.0, 2.0].sort();")
        .unwrap_err();
    assert!(e.to_string().contains("cannot sort NaN"), "{e}");
}

#[test]
fn sorting_mixed_kinds_is_an_error_not_a_panic() {
    let mut vm = Vm::new();
    let e = vm.load("s.ark", "[1, \"a\", 2].sort();").unwrap_err();
    assert!(
        e.to_string().contains("cannot compare int and string"),
        "{e}"
    );
    let e = vm.load("s.ark", "[\"a\", 1].sort();").unwrap_err();
    assert!(
        e.to_string().contains("cannot compare string and int"),
        "{e}"
    );
    let e = vm.load("s.ark", "[\"a\", 1.5].sort();").unwrap_err();
    assert!(
        e.to_string().contains("cannot compare string and float"),
        "{e}"
    );
}

/// Ints and floats near 2^53, where rounding the int to a float loses it:
/// compared exactly, every order is total and `sort` agrees with `<`.
#[test]
fn ints_and_floats_beyond_two_to_the_53_compare_exactly() {
    let mut vm = Vm::new();
    let script = "
        let big = 9007199254740992;
        print(big + 1 == 9007199254740992.0);
        print(big + 1 > 9007199254740992.0);
        print(9007199254740992.0 < big + 1);
        print(big == 9007199254740992.0);
        print(min(big + 1, 9007199254740992.0) == big);
        print(max(9007199254740992.0, big + 1));
        print(9223372036854775807 < 9223372036854775808.0);
        print(-9223372036854775807 - 1 == -9223372036854775808.0);
        let l = [];
        for i in 0..200 {
            l.push(big + (i * 7919) % 13 - 6);
            l.push(9007199254740992.0 + ((i * 31) % 9 - 4) * 2.0);
        }
        l.sort();
        let ordered = true;
        for i in 1..len(l) { if l[i] < l[i - 1] { ordered = false; } }
        print(ordered);";
    let lines = std::sync::Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    vm.set_print(move |l| sink.lock().unwrap().push(l.to_string()));
    vm.load("exact.ark", script).unwrap();
    assert_eq!(
        *lines.lock().unwrap(),
        [
            "false",
            "true",
            "true",
            "true",
            "true",
            "9007199254740993",
            "true",
            "true",
            "true"
        ]
    );
}

#[test]
fn printing_a_list_that_doubles_forty_times_stops_at_the_limit() {
    let e = fails_within_memory(
        64 * MIB,
        "let a = [1]; for i in 0..40 { a = [a, a]; } print(a);",
    );
    assert!(e.contains("string too long"), "{e}");
}

#[test]
fn str_and_join_of_many_references_to_one_big_string_stop_at_the_limit() {
    let e = fails_within_memory(
        32 * MIB,
        "let s = \"ab\".repeat(2000000); let l = [];
         for i in 0..50 { l.push(s); }
         let t = str(l);",
    );
    assert!(e.contains("string too long"), "{e}");
    let e = fails_within_memory(
        32 * MIB,
        "let s = \"ab\".repeat(2000000); let l = [];
         for i in 0..50 { l.push(s); }
         let t = l.join(\",\");",
    );
    assert!(e.contains("string too long"), "{e}");
}

#[test]
fn splitting_a_big_string_into_too_many_parts_fails_before_allocating_them() {
    let e = fails_within_memory(
        64 * MIB,
        "let s = \",\".repeat(16000000); let parts = s.split(\",\");",
    );
    assert!(e.contains("out of memory"), "{e}");
    let e = fails_within_memory(
        64 * MIB,
        "let s = \"x\".repeat(16000000); let parts = s.chars();",
    );
    assert!(e.contains("out of memory"), "{e}");
}

#[test]
fn a_script_too_large_for_the_heap_limit_is_a_compile_error() {
    let vm = vm_with_limit(64 * MIB);
    let most = vm.max_script_bytes();
    let statement = "x = x + 1;\n";
    let source = format!(
        "let x = 0;\n{}",
        statement.repeat(most / statement.len() + 1)
    );
    let e = fails_within_memory(64 * MIB, &source);
    assert!(e.contains("script too large"), "{e}");
    // Just under the limit, it compiles and runs.
    let source = format!(
        "let x = 0;\n{}",
        statement.repeat((most - 20) / statement.len())
    );
    let (result, peak) =
        peak_during(|| vm_with_limit(64 * MIB).load("ok.ark", &source).map(|_| ()));
    assert!(result.is_ok(), "{result:?}");
    assert!(
        peak <= 64 * MIB + 64 * MIB + source.len(),
        "held {peak} bytes"
    );
}

#[test]
fn a_heap_limit_too_small_for_anything_is_out_of_memory_not_a_panic() {
    // Below what the prelude alone holds.
    for limit in [0, 1, 100] {
        let mut vm = vm_with_limit(limit);
        match vm.load("tiny.ark", "let l = [1, 2, 3]; print(l);") {
            Err(Error::Compile(e)) => assert!(e.message.contains("out of memory"), "{e}"),
            Err(Error::Runtime(e)) => assert!(e.message.contains("out of memory"), "{e}"),
            Ok(_) => panic!("ran under a heap limit of {limit} bytes"),
        }
    }
}

/// A concatenation is one instruction, but a long one copies megabytes:
/// it is charged for the bytes it copies, so a loop of them is suspended
/// by an instruction budget (and a time budget) as its work warrants.
#[test]
fn long_concatenations_are_charged_for_the_bytes_they_copy() {
    let mut vm = Vm::new();
    let game = vm
        .load(
            "c.ark",
            "let s = \"x\".repeat(160000);
             fn two(n) { let t = \"\"; for i in 0..n { t = s + str(i); } return len(t); }
             fn three(n) { let t = \"\"; for i in 0..n { t = s + str(i) + s; } return len(t); }
             fn short(n) { let t = \"\"; for i in 0..n { t = \"ab\" + str(i); } return len(t); }",
        )
        .unwrap();
    let mut spent = |f: &str| {
        let before = vm.instructions_executed();
        vm.call(game, f, &[Value::Int(100)]).unwrap();
        vm.instructions_executed() - before
    };
    let (two, three, short) = (spent("two"), spent("three"), spent("short"));
    assert!(two >= 100 * 160_000 / 16, "two-part: {two} instructions");
    assert!(
        three >= 100 * 320_000 / 16,
        "three-part: {three} instructions"
    );
    assert!(
        short < 10_000,
        "short strings cost their instructions only: {short}"
    );
}

#[test]
fn deep_recursion_through_many_locals_stops_at_the_register_stack_limit() {
    // 200 locals a frame: 100,000 frames would hold 320 MB of registers,
    // outside the heap.
    let locals: String = (0..200).map(|i| format!("let a{i} = n + {i}; ")).collect();
    let source = format!("fn deep(n) {{ {locals} return deep(n + 1) + a7; }}\ndeep(0);");
    let error = fails_within_memory(16 * MIB, &source);
    assert!(error.contains("stack overflow"), "{error}");
}

#[test]
fn comparing_long_strings_and_walking_non_ascii_text_are_charged_for_their_bytes() {
    let mut vm = Vm::new();
    let game = vm
        .load(
            "walk.ark",
            "let a = \"x\".repeat(1048576) + \"a\";
             let b = \"x\".repeat(1048576) + \"b\";
             let wide = \"é\".repeat(500000);
             fn less(n) { let c = 0; for i in 0..n { if a < b { c += 1; } } return c; }
             fn index(n) { let c = \"\"; for i in 0..n { c = wide[499999]; } return c; }
             fn slice(n) { let c = \"\"; for i in 0..n { c = wide.slice(499990, 499999); } return c; }
             fn build(n) {
                 let l = [];
                 for i in 0..n { l.push(\"x\".repeat(100000) + str(1000 + i * 37 % n)); }
                 return l;
             }
             fn unsorted(n) { return build(n)[0]; }
             fn sort(n) { let l = build(n); l.sort(); return l[0]; }
             fn short(n) { let c = 0; for i in 0..n { if \"ab\" < \"ac\" { c += 1; } c = c + len(\"é\"[0]); } return c; }",
        )
        .unwrap();
    let mut spent = |f: &str| {
        let before = vm.instructions_executed();
        vm.call(game, f, &[Value::Int(64)]).unwrap();
        vm.instructions_executed() - before
    };
    let mib_units = (1 << 20) / 16;
    let less = spent("less");
    assert!(less >= 64 * mib_units, "a < b: {less} instructions");
    // Non-ASCII text is walked once to find where its characters start
    // (`heap/char_offsets.rs`), and that walk is charged; the indexes after
    // it walk a few hundred bytes each.
    let index = spent("index");
    assert!(index >= 999_998 / 16, "wide[i]: {index} instructions");
    assert!(index < 2 * 999_998 / 16, "wide[i]: {index} instructions");
    let slice = spent("slice");
    assert!(slice >= 64 * 9 * 2 / 16, "wide.slice: {slice} instructions");
    // 64 strings in no order take well over 150 comparisons of 100,000
    // bytes to sort (log2(64!) is about 296).
    let sort = spent("sort") - spent("unsorted");
    assert!(sort >= 150 * 100_000 / 16, "sort: {sort} instructions");
    let short = spent("short");
    assert!(
        short < 10_000,
        "short strings cost their instructions only: {short}"
    );
}

/// A tokenizer's loop, `s[i]` for every character of non-ASCII text, is
/// linear in the text's length: each index walks from a kept offset near
/// the character, not from the start.
#[test]
fn reading_long_non_ascii_text_character_by_character_is_linear() {
    let mut vm = Vm::new();
    let game = vm
        .load(
            "tokens.ark",
            "fn scan(n) {
                 let text = \"é日a\".repeat(n);
                 let accents = 0;
                 for i in 0..len(text) { if text[i] == \"é\" { accents += 1; } }
                 for i in 0..len(text) - 1 { if text.slice(i, i + 2) == \"日a\" { accents += 1; } }
                 return accents;
             }",
        )
        .unwrap();
    let mut spent = |n: i64| {
        let before = vm.instructions_executed();
        let found = vm.call(game, "scan", &[Value::Int(n)]).unwrap();
        assert_eq!(found, Value::Int(2 * n));
        vm.instructions_executed() - before
    };
    let (small, big) = (spent(20_000), spent(80_000));
    // Four times the text, four times the work (a walk from the start
    // made it sixteen).
    assert!(big < small * 6, "{small} then {big} instructions");
}

#[test]
fn changing_the_case_of_a_big_string_takes_no_copies_beyond_the_limit() {
    // The result cannot fit beside the text under the limit: an error,
    // without first copying the text twice outside the heap.
    for method in ["upper()", "lower()", "repeat(2)", "replace(\"x\", \"yy\")"] {
        let source = format!("let s = \"x\".repeat(60000000); let t = s.{method};");
        let error = fails_within_memory(64 * MIB, &source);
        assert!(error.contains("out of memory"), "{method}: {error}");
    }
}

/// Resumes `call` under `budget` until it ends; returns how it ended and
/// how many resumes ran after the heap first reached its limit.
fn resume_to_the_end(vm: &mut Vm, call: ark_vm::CallId, budget: Budget) -> (RunResult, usize) {
    let mut after_limit = 0;
    loop {
        let result = vm.resume(call, budget);
        if vm.gc_report().forced_collections > 0 {
            after_limit += 1;
        }
        if let RunResult::Done(_) | RunResult::Error(_) = result {
            return (result, after_limit);
        }
    }
}

/// An allocation bomb under a budget reaches the heap limit and waits,
/// suspended, while whole collections run in its resumes' budgets (a
/// collection of a 1 GiB heap in one go stopped the game for 320 ms, the
/// hostile bench); the one that frees nothing ends it in out of memory, at
/// its line.
#[test]
fn an_allocation_bomb_under_a_budget_waits_for_the_collector_then_fails() {
    let mut vm = vm_with_limit(8 * MIB);
    let module = vm
        .compile(
            "bomb.ark",
            "let l = [];\nwhile true { l.push([1, 2, 3, 4, 5, 6]); }",
        )
        .unwrap();
    let instance = vm.instantiate(&module);
    let call = vm.start_init(instance);
    let (result, after_limit) = resume_to_the_end(&mut vm, call, Budget::Instructions(2_000));
    let RunResult::Error(e) = result else {
        panic!("the bomb ended without an error");
    };
    assert!(e.message.contains("out of memory"), "{e}");
    assert!(e.to_string().contains("bomb.ark:2"), "{e}");
    // Marking and sweeping tens of thousands of lists took many budgets.
    assert!(after_limit >= 10, "{after_limit} resumes after the limit");
    // Once its instance is released, nothing holds the bomb's list.
    vm.release_instance(instance);
    vm.full_collect();
    assert!(vm.heap().bytes() < MIB, "{} bytes", vm.heap().bytes());
}

/// A call whose garbage takes the heap past its limit waits for the
/// collector, then goes on: the limit is on what is live.
#[test]
fn a_call_over_the_limit_with_garbage_goes_on_after_waiting() {
    let mut vm = vm_with_limit(8 * MIB);
    vm.set_print(|_| {});
    let module = vm
        .compile(
            "garbage.ark",
            "let keep = [];
             for i in 0..20000 { keep.push([i, i, i, i, i, i]); }
             let sum = 0;
             for i in 0..300000 { let g = [i, i, i, i, i, i]; sum += g[5]; }
             print(sum);",
        )
        .unwrap();
    let instance = vm.instantiate(&module);
    let call = vm.start_init(instance);
    let (result, after_limit) = resume_to_the_end(&mut vm, call, Budget::Instructions(5_000));
    assert!(matches!(result, RunResult::Done(_)), "{result:?}");
    assert!(vm.gc_report().forced_collections > 0, "{}", vm.gc_report());
    assert!(after_limit > 0);
}

/// Found by the `programs` fuzz target: `"".repeat(n)` made `n` empty
/// copies in one native call, charged nothing, and with `n` near 2^63 one
/// resume ran for as long as the fuzzer let it (16 minutes). Run on a
/// thread so that a return of the hang fails the test instead of hanging
/// the suite.
#[test]
fn repeating_an_empty_string_any_number_of_times_ends_at_once() {
    let (done, result) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut vm = Vm::new();
        let game = vm
            .load(
                "repeat.ark",
                "fn f() { return [len(\"\".repeat(9223372036854775807)), \"\".repeat(0), \"ab\".repeat(0), len(\"\".repeat(70000))]; }",
            )
            .unwrap();
        let call = vm.start_call(game, "f", &[]).unwrap();
        let shown = match vm.resume(call, Budget::Instructions(1_000)) {
            RunResult::Done(v) => vm.display(v),
            other => format!("{other:?}"),
        };
        let _ = done.send(shown);
    });
    let shown = result
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("the call never returned");
    assert_eq!(shown, "[0, \"\", \"\", 0]");
}
