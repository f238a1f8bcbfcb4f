//! The collector tried as its adversary would: leave a cycle half done,
//! mutate, finish the cycle, read everything back, for every step size.
//! Each test here failed before the fix it names.

use ark_vm::{Budget, GcPhase, RunResult, Value, Vm, VmConfig};

/// Step sizes tried: every size up to 600 work units.
const STEP_SIZES: std::ops::Range<u64> = 1..600;

/// Loads `source`, collects, runs `build`, leaves a cycle in progress after
/// two steps of `k` units, runs `mutate`, finishes the cycle, collects again
/// and returns what `check` returns. The heap is validated at every stop.
fn half_done_cycle(source: &str, k: u64) -> Result<Value, String> {
    let mut vm = Vm::new();
    let game = vm
        .load("adversary.ark", source)
        .map_err(|e| e.to_string())?;
    vm.full_collect();
    vm.call(game, "build", &[]).map_err(|e| e.to_string())?;
    vm.gc_step_forced(Budget::Instructions(k));
    validate(&vm, k, "after the forced step")?;
    vm.gc_step(Budget::Instructions(k));
    validate(&vm, k, "after the second step")?;
    vm.call(game, "mutate", &[]).map_err(|e| e.to_string())?;
    validate(&vm, k, "after the mutation")?;
    vm.gc_step(Budget::Unlimited);
    validate(&vm, k, "after the cycle finished")?;
    vm.full_collect();
    validate(&vm, k, "after a full collection")?;
    vm.call(game, "check", &[]).map_err(|e| e.to_string())
}

fn validate(vm: &Vm, k: u64, when: &str) -> Result<(), String> {
    vm.validate_heap()
        .map_err(|e| format!("step size {k}, {when}: {e}"))
}

/// Runs `half_done_cycle` for every step size; every run must return
/// `expected`.
fn survives_every_step_size(source: &str, expected: i64) {
    let failures: Vec<String> = STEP_SIZES
        .filter_map(|k| match half_done_cycle(source, k) {
            Ok(Value::Int(n)) if n == expected => None,
            Ok(other) => Some(format!("step size {k}: got {other:?}")),
            Err(e) => Some(format!("step size {k}: {e}")),
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} step sizes lost data; first: {:?}",
        failures.len(),
        STEP_SIZES.end - STEP_SIZES.start,
        &failures[..failures.len().min(3)]
    );
}

/// Sums `r.v` over 300 records in `l`, in order of the list; a freed record
/// is a stale-handle error.
const RECORD_LIST: &str = "
    let l = [];
    fn build() { for i in 0..300 { l.push({v: i}); } }
    fn check() {
        let total = 0;
        for i in 0..len(l) { total += l[i].v * (i + 1); }
        return total;
    }";

/// Σ v·(position+1) for the given order of 0..300.
fn weighted(order: impl Iterator<Item = i64>) -> i64 {
    order.enumerate().map(|(i, v)| v * (i as i64 + 1)).sum()
}

#[test]
fn reversing_a_partly_traced_list_frees_nothing() {
    let source = format!("{RECORD_LIST} fn mutate() {{ l.reverse(); }}");
    survives_every_step_size(&source, weighted((0..300).rev()));
}

#[test]
fn removing_from_the_front_of_a_partly_traced_list_frees_nothing() {
    let source = format!("{RECORD_LIST} fn mutate() {{ l.remove(0); }}");
    survives_every_step_size(&source, weighted(1..300));
}

#[test]
fn sorting_a_partly_traced_list_of_strings_frees_nothing() {
    // Distinct strings whose sorted order is the reverse of their building
    // order; a freed string would read as "" (or fail as stale).
    let source = "
        let l = [];
        fn build() { for i in 0..300 { l.push(\"s\" + str(2000 - i)); } }
        fn mutate() { l.sort(); }
        fn check() {
            let total = 0;
            for i in 0..len(l) {
                total += int(l[i].slice(1, 5)) * (i + 1);
            }
            return total;
        }";
    survives_every_step_size(source, weighted(1701..=2000));
}

#[test]
fn removing_a_key_from_a_partly_traced_map_frees_nothing() {
    let source = "
        let m = {};
        fn build() { for i in 0..300 { m[\"k\" + str(i)] = {v: i}; } }
        fn mutate() { remove(m, \"k0\"); }
        fn check() {
            let total = 0;
            for i in 1..300 { total += m[\"k\" + str(i)].v; }
            return total;
        }";
    survives_every_step_size(source, (1..300).sum());
}

#[test]
fn a_kept_module_keeps_its_string_constants() {
    let mut vm = Vm::new();
    let module = vm
        .compile(
            "consts.ark",
            "fn greet() { return \"a constant only here\"; }",
        )
        .unwrap();
    vm.full_collect();
    let game = vm.instantiate(&module);
    vm.run_init(game).unwrap();
    let v = vm.call(game, "greet", &[]).unwrap();
    assert_eq!(vm.from_value::<String>(v).unwrap(), "a constant only here");
    vm.validate_heap().unwrap();
}

#[test]
fn a_module_instantiated_again_after_its_last_instance_was_released_keeps_its_constants() {
    let mut vm = Vm::new();
    let module = vm
        .compile("consts.ark", "fn greet() { return \"still here\"; }")
        .unwrap();
    let first = vm.instantiate(&module);
    vm.run_init(first).unwrap();
    vm.release_instance(first);
    vm.full_collect();
    let second = vm.instantiate(&module);
    vm.run_init(second).unwrap();
    let v = vm.call(second, "greet", &[]).unwrap();
    assert_eq!(vm.from_value::<String>(v).unwrap(), "still here");
}

#[test]
fn a_module_compiled_while_marking_keeps_its_constants() {
    for k in STEP_SIZES.step_by(7) {
        let mut vm = Vm::new();
        vm.gc_step_forced(Budget::Instructions(k));
        let module = vm
            .compile("consts.ark", "fn greet() { return \"made mid-cycle\"; }")
            .unwrap();
        vm.gc_step(Budget::Unlimited);
        vm.full_collect();
        let game = vm.instantiate(&module);
        vm.run_init(game).unwrap();
        let v = vm.call(game, "greet", &[]).unwrap();
        assert_eq!(
            vm.from_value::<String>(v).unwrap(),
            "made mid-cycle",
            "step size {k}"
        );
    }
}

#[test]
fn an_object_made_self_after_its_instance_was_traced_survives() {
    let failures: Vec<u64> = STEP_SIZES
        .filter(|&k| {
            let mut vm = Vm::new();
            let game = vm
                .load("self.ark", "fn name() { return self.name; }")
                .unwrap();
            vm.full_collect();
            vm.gc_step_forced(Budget::Instructions(k));
            vm.gc_step(Budget::Instructions(k));
            let me = vm.eval("({name: \"me\" + str(1)})").unwrap();
            vm.set_self(game, me);
            vm.gc_step(Budget::Unlimited);
            vm.full_collect();
            vm.validate_heap().unwrap();
            match vm.call(game, "name", &[]) {
                Ok(v) => vm.from_value::<String>(v).ok().as_deref() != Some("me1"),
                Err(_) => true,
            }
        })
        .collect();
    assert!(failures.is_empty(), "self freed at step sizes {failures:?}");
}

/// Runs `frame` 400 times under a small heap limit, with a collector step
/// between frames, as a game would; then the heap, collected, is small.
fn churns_in_a_small_heap(source: &str) {
    let mut vm = churn(source, 400);
    vm.full_collect();
    assert!(
        vm.heap().bytes() < 1 << 20,
        "heap of {} bytes",
        vm.heap().bytes()
    );
}

/// Runs `frame` `frames` times under a small heap limit, with a collector
/// step between frames, as a game would.
fn churn(source: &str, frames: usize) -> Vm {
    let mut vm = Vm::with_config(VmConfig {
        heap_limit: 4 << 20,
        ..VmConfig::default()
    });
    let game = vm.load("churn.ark", source).unwrap();
    for frame in 0..frames {
        if let Err(e) = vm.call(game, "frame", &[]) {
            panic!("frame {frame}: {e}");
        }
        vm.gc_step(Budget::Instructions(2000));
    }
    vm.validate_heap().unwrap();
    vm
}

#[test]
fn a_churning_queue_with_one_live_item_keeps_a_small_heap() {
    churns_in_a_small_heap(
        "let q = [0];
         fn frame() { for i in 0..1000 { q.push(i); q.remove(0); } }",
    );
}

#[test]
fn a_churning_set_with_one_live_key_keeps_a_small_heap() {
    churns_in_a_small_heap(
        "let s = {};
         let n = 0;
         fn frame() {
             for i in 0..1000 { s[n] = true; remove(s, n - 1); n += 1; }
         }",
    );
}

#[test]
fn popping_and_removing_give_their_bytes_back() {
    let mut vm = Vm::new();
    let game = vm
        .load(
            "sizes.ark",
            "let l = []; let m = {};
             fn grow() { for i in 0..10000 { l.push(i); m[i] = i; } }
             fn shrink() { while len(l) > 0 { l.pop(); } for i in 0..10000 { remove(m, i); } }",
        )
        .unwrap();
    vm.full_collect();
    let before = vm.heap().bytes();
    vm.call(game, "grow", &[]).unwrap();
    vm.full_collect();
    assert!(vm.heap().bytes() > before + 10000 * 16);
    vm.call(game, "shrink", &[]).unwrap();
    vm.full_collect();
    vm.validate_heap().unwrap();
    assert!(
        vm.heap().bytes() < before + 4096,
        "{} bytes after shrinking, {before} before growing",
        vm.heap().bytes()
    );
}

/// The buffers of freed six-item lists and six-field maps are kept for new
/// ones while the script keeps making them, and given back once it stops.
#[test]
fn freed_buffers_are_reused_and_given_back_once_no_longer_asked_for() {
    let mut vm = Vm::new();
    let game = vm
        .load(
            "pool.ark",
            "let keep = [];
             fn records() {
                 for i in 0..2000 {
                     keep.push({a: i, b: 1, c: 2, d: 3, e: 4, f: [i, 1, 2, 3, 4, 5]});
                     if len(keep) > 200 { keep.remove(0); }
                 }
             }
             fn strings() { for i in 0..2000 { keep = [\"s\" + str(i)]; } }",
        )
        .unwrap();
    let mut pooled_while_churning = 0;
    for _ in 0..100 {
        vm.call(game, "records", &[]).unwrap();
        vm.gc_step(Budget::Instructions(20_000));
        pooled_while_churning = pooled_while_churning.max(vm.gc_report().pooled_bytes);
    }
    vm.validate_heap().unwrap();
    assert!(
        pooled_while_churning > 0,
        "nothing was pooled while records were churned"
    );
    for _ in 0..300 {
        vm.call(game, "strings", &[]).unwrap();
        vm.gc_step(Budget::Instructions(20_000));
    }
    vm.validate_heap().unwrap();
    let report = vm.gc_report();
    assert!(report.cycles > 10, "{report}");
    assert_eq!(report.pooled_bytes, 0, "{report}");
}

/// A call resumed many times while the collector marks is rescanned once,
/// and the rescans of many calls are sliced like any other work.
#[test]
fn resumes_while_marking_do_not_make_an_unbounded_step() {
    let mut vm = Vm::new();
    let game = vm.load("spin.ark", "fn spin() { while true { } }").unwrap();
    let many: Vec<_> = (0..2000)
        .map(|_| vm.start_call(game, "spin", &[]).unwrap())
        .collect();
    let one = vm.start_call(game, "spin", &[]).unwrap();
    // A cycle in progress, its marking not done.
    vm.gc_step_forced(Budget::Instructions(1));
    assert_eq!(vm.gc_report().phase, GcPhase::Mark);
    for _ in 0..100_000 {
        assert_eq!(
            vm.resume(one, Budget::Instructions(1)),
            RunResult::Suspended
        );
    }
    for &call in &many {
        assert_eq!(
            vm.resume(call, Budget::Instructions(1)),
            RunResult::Suspended
        );
    }
    let mut steps = 0;
    while vm.gc_report().phase == GcPhase::Mark {
        let progress = vm.gc_step(Budget::Instructions(100));
        assert!(
            progress.work <= 100 + 200,
            "a step of 100 units did {} units",
            progress.work
        );
        steps += 1;
        assert!(steps < 10_000, "marking never ends");
    }
}

/// A call whose rescan the collector took up while the call itself was
/// running (an assist inside its own resume) must be rescanned again once
/// it suspends: the objects it made after that, held only in its
/// registers, are otherwise freed by a marking that a host step finishes.
/// This freed live lists in `binary_trees` about once in fifty runs.
#[test]
fn a_call_rescanned_while_it_runs_is_rescanned_after_it_suspends() {
    const CHAIN: &str = "
        fn run(n) {
            let c = nil;
            for i in 0..n { c = [c, i]; }
            let s = 0;
            while c != nil { s += c[1]; c = c[0]; }
            return s;
        }";
    let mut failures = Vec::new();
    for units in 1..40 {
        for slice in [5, 17, 40] {
            let mut vm = Vm::with_config(VmConfig {
                gc_stress_sliced: Some(units),
                ..VmConfig::default()
            });
            let game = vm.load("chain.ark", CHAIN).unwrap();
            let call = vm.start_call(game, "run", &[Value::Int(300)]).unwrap();
            let result = loop {
                match vm.resume(call, Budget::Instructions(slice)) {
                    RunResult::Suspended => {
                        // The host finishes the marking between resumes.
                        if vm.gc_report().phase == GcPhase::Mark {
                            vm.gc_step(Budget::Unlimited);
                        }
                    }
                    other => break other,
                }
            };
            if result != RunResult::Done(Value::Int(300 * 299 / 2)) {
                failures.push(format!("{units} units, slices of {slice}: {result:?}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} runs failed: {:?}",
        failures.len(),
        &failures[..failures.len().min(3)]
    );
}
