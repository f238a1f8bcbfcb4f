//! `Vm::run_batch`: many short calls in one resume, as the plugin runs
//! `on_update` on every entity.

use std::any::Any;

use ark_vm::batch::{BatchCall, BatchEnd, CallBatch, ModuleVars};
use ark_vm::{Budget, InstanceId, RunResult, RuntimeError, Value, Vm, VmConfig};

/// Calls `step(x)` of each instance, with its own argument, and keeps
/// what each call ended with.
struct Steps {
    calls: Vec<(InstanceId, usize, [Value; 1])>,
    next: usize,
    ended: Vec<Result<Value, String>>,
    /// Ends the batch before this call.
    stop_before: Option<usize>,
    /// Each call's `BatchCall::report_return`.
    report_returns: bool,
}

impl Steps {
    fn new(vm: &Vm, instances: &[InstanceId]) -> Steps {
        let calls = instances
            .iter()
            .enumerate()
            .map(|(i, &id)| {
                let slot = vm.var_slot(id, "step").expect("defines step");
                (id, slot, [Value::Int(i as i64)])
            })
            .collect();
        Steps {
            calls,
            next: 0,
            ended: Vec::new(),
            stop_before: None,
            report_returns: true,
        }
    }
}

impl CallBatch for Steps {
    fn next<'a>(
        &'a mut self,
        vars: ModuleVars<'_>,
        host: Option<&mut (dyn Any + Send)>,
    ) -> Option<BatchCall<'a>> {
        assert!(host.is_some_and(|h| h.is::<u32>()), "the batch's host");
        if self.stop_before == Some(self.next) {
            return None;
        }
        let (id, slot, args) = self.calls.get(self.next)?;
        self.next += 1;
        Some(BatchCall {
            function: vars.get(*id, *slot)?,
            args,
            report_return: self.report_returns,
        })
    }

    fn ended(
        &mut self,
        result: Result<Value, &RuntimeError>,
        _host: Option<&mut (dyn Any + Send)>,
    ) {
        self.ended.push(result.map_err(|e| e.to_string()));
    }
}

fn instances(vm: &mut Vm, source: &str, n: usize) -> Vec<InstanceId> {
    let module = vm.compile("step.ark", source).unwrap();
    (0..n)
        .map(|_| {
            let id = vm.instantiate(&module);
            vm.run_init(id).unwrap();
            id
        })
        .collect()
}

#[test]
fn a_batch_runs_each_call_in_order_with_its_instance_and_arguments() {
    let mut vm = Vm::new();
    let ids = instances(
        &mut vm,
        "let total = 0; fn step(x) { total += x + 1; return [x, total]; }",
        4,
    );
    let mut steps = Steps::new(&vm, &ids);
    let end = vm.run_batch(Budget::Unlimited, &mut 0u32, &mut steps);
    assert_eq!(end, BatchEnd::Ended);
    let shown: Vec<String> = steps
        .ended
        .iter()
        .map(|r| vm.repr(*r.as_ref().unwrap()))
        .collect();
    assert_eq!(shown, ["[0, 1]", "[1, 2]", "[2, 3]", "[3, 4]"]);
    // A second batch: each instance kept its own variables.
    let mut again = Steps::new(&vm, &ids);
    vm.run_batch(Budget::Unlimited, &mut 0u32, &mut again);
    let totals: Vec<String> = ids
        .iter()
        .map(|&id| vm.repr(vm.get_var(id, "total").unwrap()))
        .collect();
    assert_eq!(totals, ["2", "4", "6", "8"]);
}

#[test]
fn an_error_ends_its_call_with_the_stack_and_the_batch_goes_on() {
    let mut vm = Vm::new();
    let ids = instances(
        &mut vm,
        "fn inner(x) { if x == 1 { return nil + 1; } return x; }\nfn step(x) { return inner(x) * 10; }",
        3,
    );
    let mut steps = Steps::new(&vm, &ids);
    assert_eq!(
        vm.run_batch(Budget::Unlimited, &mut 0u32, &mut steps),
        BatchEnd::Ended
    );
    assert_eq!(steps.ended[0], Ok(Value::Int(0)));
    let error = steps.ended[1].as_ref().unwrap_err();
    assert!(error.contains("nil"), "{error}");
    assert!(
        error.contains("inner") && error.contains("step.ark:1"),
        "{error}"
    );
    assert!(error.contains("step.ark:2"), "{error}");
    assert_eq!(steps.ended[2], Ok(Value::Int(20)));
}

#[test]
fn a_call_out_of_budget_ends_the_batch_and_resumes_as_its_own_call() {
    let mut vm = Vm::new();
    let ids = instances(
        &mut vm,
        "let done = 0; fn step(x) { let s = 0; for i in 0..1000 { s += i; } done += 1; return s + x; }",
        5,
    );
    let before = vm.instructions_executed();
    vm.call(ids[4], "step", &[Value::Int(0)]).unwrap();
    let one_call = vm.instructions_executed() - before;
    let mut steps = Steps::new(&vm, &ids);
    let end = vm.run_batch(
        Budget::Instructions(one_call * 3 / 2),
        &mut 0u32,
        &mut steps,
    );
    let BatchEnd::Suspended { call, result } = end else {
        panic!("expected a suspended call, got {end:?}");
    };
    assert_eq!(result, RunResult::Suspended);
    assert_eq!(steps.ended, [Ok(Value::Int(499_500))]);
    assert_eq!(steps.next, 2, "no call started after the suspended one");
    assert_eq!(vm.get_var(ids[1], "done"), Some(Value::Int(0)));
    assert_eq!(vm.finish(call).unwrap(), Value::Int(499_501));
    assert_eq!(vm.get_var(ids[1], "done"), Some(Value::Int(1)));
    // The rest in a new batch, from where the first one stopped.
    steps.ended.clear();
    assert_eq!(
        vm.run_batch(Budget::Unlimited, &mut 0u32, &mut steps),
        BatchEnd::Ended
    );
    assert_eq!(steps.ended.len(), 3);
}

#[test]
fn a_batch_stops_within_its_budget() {
    let mut vm = Vm::new();
    let ids = instances(&mut vm, "fn step(x) { return x; }", 10_000);
    let mut steps = Steps::new(&vm, &ids);
    let before = vm.instructions_executed();
    let end = vm.run_batch(Budget::Instructions(1_000), &mut 0u32, &mut steps);
    let spent = vm.instructions_executed() - before;
    // The last call given either ran or waits, charged, for its resume.
    let waiting = match end {
        BatchEnd::Ended => 0,
        BatchEnd::Suspended { call, .. } => {
            assert_eq!(vm.finish(call).unwrap(), Value::Int(steps.next as i64 - 1));
            1
        }
        BatchEnd::Declined => panic!("no debugger here"),
    };
    let ran = steps.ended.len();
    assert_eq!(steps.next, ran + waiting, "every call given ran or waits");
    assert!(
        (100..1_000).contains(&ran),
        "{ran} calls in 1,000 instructions"
    );
    assert!(
        (1_000..1_010).contains(&spent),
        "{spent} instructions charged"
    );
}

#[test]
fn a_yield_suspends_its_call_and_ends_the_batch() {
    let mut vm = Vm::new();
    let ids = instances(&mut vm, "fn step(x) { if x == 1 { yield; } return x; }", 3);
    let mut steps = Steps::new(&vm, &ids);
    let BatchEnd::Suspended { call, .. } = vm.run_batch(Budget::Unlimited, &mut 0u32, &mut steps)
    else {
        panic!("the yield suspends");
    };
    assert_eq!(steps.ended, [Ok(Value::Int(0))]);
    assert_eq!(vm.finish(call).unwrap(), Value::Int(1));
}

#[test]
fn the_host_may_end_a_batch_before_any_call() {
    let mut vm = Vm::new();
    let ids = instances(&mut vm, "fn step(x) { return x; }", 3);
    let mut steps = Steps::new(&vm, &ids);
    steps.stop_before = Some(0);
    assert_eq!(
        vm.run_batch(Budget::Unlimited, &mut 0u32, &mut steps),
        BatchEnd::Ended
    );
    assert!(steps.ended.is_empty());
}

#[test]
fn batches_are_declined_while_the_debugger_watches() {
    let mut vm = Vm::new();
    let ids = instances(&mut vm, "fn step(x) {\n  return x;\n}", 2);
    let bp = vm.set_breakpoint("step.ark", 2, None);
    let mut steps = Steps::new(&vm, &ids);
    assert_eq!(
        vm.run_batch(Budget::Unlimited, &mut 0u32, &mut steps),
        BatchEnd::Declined
    );
    assert!(steps.ended.is_empty() && steps.next == 0);
    vm.remove_breakpoint(bp);
    assert_eq!(
        vm.run_batch(Budget::Unlimited, &mut 0u32, &mut steps),
        BatchEnd::Ended
    );
    assert_eq!(steps.ended.len(), 2);
}

#[test]
fn calls_that_allocate_keep_the_heap_sound_under_collector_stress() {
    let mut vm = Vm::with_config(VmConfig {
        gc_stress_sliced: Some(8),
        ..VmConfig::default()
    });
    let ids = instances(
        &mut vm,
        "let kept = [];
         let last = nil;
         fn step(x) {
             let m = {a: [x], b: str(x)};
             kept.push(m);
             if len(kept) > 3 { kept.remove(0); }
             last = m.b + str(len(kept));
         }",
        50,
    );
    for round in 0..4 {
        let mut steps = Steps::new(&vm, &ids);
        assert_eq!(
            vm.run_batch(Budget::Unlimited, &mut 0u32, &mut steps),
            BatchEnd::Ended
        );
        vm.validate_heap().unwrap();
        for (i, &id) in ids.iter().enumerate() {
            let last = vm.get_var(id, "last").unwrap();
            assert_eq!(vm.display(last), format!("{i}{}", (round + 1).min(3)));
        }
    }
}

#[test]
fn calls_that_do_not_ask_for_their_returns_report_only_their_failures() {
    let mut vm = Vm::new();
    let mut ids = instances(
        &mut vm,
        "let ran = 0; fn step(x) { ran += 1; if x == 1 { return nil + 1; } return x; }",
        3,
    );
    // Natives as the batch's functions too: `keys` of an int fails, `str`
    // of one returns.
    ids.extend(instances(&mut vm, "let step = keys;", 1));
    ids.extend(instances(&mut vm, "let step = str;", 1));
    let mut steps = Steps::new(&vm, &ids);
    steps.report_returns = false;
    assert_eq!(
        vm.run_batch(Budget::Unlimited, &mut 0u32, &mut steps),
        BatchEnd::Ended
    );
    let reported: Vec<&str> = steps
        .ended
        .iter()
        .map(|r| r.as_ref().expect_err("only failures are reported").as_str())
        .collect();
    assert_eq!(reported.len(), 2, "{reported:?}");
    assert!(reported[0].contains("nil"), "{}", reported[0]);
    assert!(reported[1].contains("keys"), "{}", reported[1]);
    for &id in &ids[..3] {
        assert_eq!(vm.get_var(id, "ran"), Some(Value::Int(1)));
    }
}
