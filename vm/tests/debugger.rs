//! The debugger's VM side: breakpoints, stepping, pausing, breaking on
//! errors, and what a stopped call shows.

use ark_vm::debug::{StepKind, StopReason};
use ark_vm::{Budget, CallId, InstanceId, RunResult, Value, Vm, VmConfig};

const SCRIPT: &str = "\
let total = 0;
fn add(a, b) {
    let sum = a + b;
    return sum;
}

fn run(n) {
    for i in 0..n {
        let doubled = add(i, i);
        total += doubled;
    }
    return total;
}
fn pausing() {
    let before = 1;
    yield;
    let after = 2;
    return before + after;
}
fn fails(x) {
    let y = x * 2;
    return y + nil;
}
fn make() {
    let seen = 10;
    return fn(d) {
        let got = seen + d;
        return got;
    };
}
";

fn load(vm: &mut Vm) -> InstanceId {
    vm.load("dbg.ark", SCRIPT).unwrap()
}

/// Resumes until the call stops, and says why; panics if it ends first.
fn until_stop(vm: &mut Vm, call: CallId) -> StopReason {
    for _ in 0..10_000 {
        match vm.resume(call, Budget::Instructions(50)) {
            RunResult::Stopped(why) => return why,
            RunResult::Suspended => {}
            other => panic!("ran to {other:?} without stopping"),
        }
    }
    panic!("never stopped");
}

/// Resumes to the end.
fn finish(vm: &mut Vm, call: CallId) -> Result<Value, String> {
    loop {
        match vm.resume(call, Budget::Unlimited) {
            RunResult::Done(v) => return Ok(v),
            RunResult::Error(e) => return Err(e.to_string()),
            RunResult::Suspended | RunResult::Stopped(_) => {}
        }
    }
}

/// A call of `add(1, 2)` stopped once at line 4 (`return sum;`), its
/// breakpoint removed again.
fn add_stopped_at_its_return(vm: &mut Vm, game: InstanceId) -> CallId {
    let bp = vm.set_breakpoint("dbg.ark", 4, None);
    let call = vm
        .start_call(game, "add", &[Value::Int(1), Value::Int(2)])
        .unwrap();
    until_stop(vm, call);
    vm.remove_breakpoint(bp);
    call
}

fn line(vm: &Vm, call: CallId) -> u32 {
    vm.call_stack(call).unwrap()[0].line
}

fn local(vm: &Vm, call: CallId, name: &str) -> Option<Value> {
    vm.frame_locals(call, 0)
        .unwrap()
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
}

#[test]
fn a_breakpoint_stops_at_its_line_with_the_locals_in_scope() {
    let mut vm = Vm::new();
    let game = load(&mut vm);
    let bp = vm.set_breakpoint("dbg.ark", 10, None);
    let call = vm.start_call(game, "run", &[Value::Int(3)]).unwrap();
    assert_eq!(until_stop(&mut vm, call), StopReason::Breakpoint(bp));
    assert_eq!(line(&vm, call), 10);
    let stack = vm.call_stack(call).unwrap();
    assert_eq!(stack[0].function, "run");
    let names: Vec<String> = vm
        .frame_locals(call, 0)
        .unwrap()
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(names, ["n", "i", "doubled"], "only what is in scope");
    assert_eq!(local(&vm, call, "doubled"), Some(Value::Int(0)));
    // Every time round the loop.
    assert_eq!(until_stop(&mut vm, call), StopReason::Breakpoint(bp));
    assert_eq!(local(&vm, call, "i"), Some(Value::Int(1)));
    assert_eq!(local(&vm, call, "doubled"), Some(Value::Int(2)));
    vm.remove_breakpoint(bp);
    assert_eq!(finish(&mut vm, call), Ok(Value::Int(6)));
}

#[test]
fn a_breakpoint_on_a_line_without_code_binds_to_the_next_line_with_code() {
    let mut vm = Vm::new();
    let game = load(&mut vm);
    // Line 6 is blank; line 7 declares `run`, whose first code is line 8.
    let bp = vm.set_breakpoint("dbg.ark", 6, None);
    assert_eq!(vm.breakpoints()[0].1.line, 7);
    let call = vm
        .start_call(game, "add", &[Value::Int(1), Value::Int(2)])
        .unwrap();
    assert_eq!(
        finish(&mut vm, call),
        Ok(Value::Int(3)),
        "add never reaches line 7"
    );
    vm.remove_breakpoint(bp);
    // A line past the script's last code binds nowhere and never stops.
    vm.set_breakpoint("dbg.ark", 500, None);
    assert_eq!(vm.breakpoints()[0].1.line, 500);
    let call = vm
        .start_call(game, "add", &[Value::Int(1), Value::Int(2)])
        .unwrap();
    assert_eq!(finish(&mut vm, call), Ok(Value::Int(3)));
}

#[test]
fn a_breakpoint_for_one_instance_stops_only_there() {
    let mut vm = Vm::new();
    let (one, two) = (load(&mut vm), load(&mut vm));
    vm.set_breakpoint("dbg.ark", 3, Some(two));
    let call = vm
        .start_call(one, "add", &[Value::Int(1), Value::Int(1)])
        .unwrap();
    assert_eq!(finish(&mut vm, call), Ok(Value::Int(2)));
    let call = vm
        .start_call(two, "add", &[Value::Int(1), Value::Int(1)])
        .unwrap();
    assert!(matches!(
        until_stop(&mut vm, call),
        StopReason::Breakpoint(_)
    ));
    assert_eq!(vm.call_stack(call).unwrap()[0].instance, two);
}

#[test]
fn step_over_into_and_out_land_on_the_expected_lines() {
    let mut vm = Vm::new();
    let game = load(&mut vm);
    let bp = vm.set_breakpoint("dbg.ark", 9, None);
    let call = vm.start_call(game, "run", &[Value::Int(2)]).unwrap();
    until_stop(&mut vm, call);
    vm.remove_breakpoint(bp);
    // Over the call to `add`: the next line of `run`.
    assert!(vm.step(call, StepKind::Over));
    assert_eq!(until_stop(&mut vm, call), StopReason::Step);
    assert_eq!(line(&vm, call), 10);
    // Over the end of the body: back to the loop's head, then the body.
    vm.step(call, StepKind::Over);
    until_stop(&mut vm, call);
    assert_eq!(line(&vm, call), 8);
    vm.step(call, StepKind::Over);
    until_stop(&mut vm, call);
    assert_eq!(line(&vm, call), 9);
    // Into `add`.
    vm.step(call, StepKind::Into);
    until_stop(&mut vm, call);
    let stack = vm.call_stack(call).unwrap();
    assert_eq!((stack[0].function.as_str(), stack[0].line), ("add", 3));
    assert_eq!(stack[1].function, "run");
    assert_eq!(local(&vm, call, "a"), Some(Value::Int(1)));
    // Out of it: back in `run`, at its next line (the call's result went
    // straight into `doubled`).
    vm.step(call, StepKind::Out);
    until_stop(&mut vm, call);
    let stack = vm.call_stack(call).unwrap();
    assert_eq!((stack[0].function.as_str(), stack[0].line), ("run", 10));
    assert_eq!(stack.len(), 1);
    assert_eq!(local(&vm, call, "doubled"), Some(Value::Int(2)));
    assert_eq!(finish(&mut vm, call), Ok(Value::Int(2)));
}

#[test]
fn stepping_goes_on_across_a_yield() {
    let mut vm = Vm::new();
    let game = load(&mut vm);
    let bp = vm.set_breakpoint("dbg.ark", 15, None);
    let call = vm.start_call(game, "pausing", &[]).unwrap();
    until_stop(&mut vm, call);
    vm.remove_breakpoint(bp);
    vm.step(call, StepKind::Over);
    assert_eq!(until_stop(&mut vm, call), StopReason::Step);
    assert_eq!(line(&vm, call), 16);
    vm.step(call, StepKind::Over);
    // The yield suspends; the step carries on in the next resume.
    assert_eq!(until_stop(&mut vm, call), StopReason::Step);
    assert_eq!(line(&vm, call), 17);
    assert_eq!(local(&vm, call, "before"), Some(Value::Int(1)));
}

#[test]
fn stepping_into_a_closure_shows_its_captures() {
    let mut vm = Vm::new();
    let game = load(&mut vm);
    let f = vm.call(game, "make", &[]).unwrap();
    let _keep = vm.root(f);
    vm.set_breakpoint("dbg.ark", 27, None);
    let call = vm.start_call_value(f, &[Value::Int(5)]).unwrap();
    until_stop(&mut vm, call);
    assert_eq!(
        vm.frame_captures(call, 0).unwrap(),
        [("seen".to_string(), Value::Int(10))]
    );
    assert_eq!(local(&vm, call, "d"), Some(Value::Int(5)));
}

#[test]
fn pause_stops_the_next_call_that_runs() {
    let mut vm = Vm::new();
    let game = load(&mut vm);
    let call = vm.start_call(game, "run", &[Value::Int(1000)]).unwrap();
    assert_eq!(
        vm.resume(call, Budget::Instructions(100)),
        RunResult::Suspended
    );
    vm.pause();
    assert_eq!(until_stop(&mut vm, call), StopReason::Pause);
    assert_eq!(vm.stop_reason(call), Some(&StopReason::Pause));
    assert_eq!(finish(&mut vm, call), Ok(Value::Int(999_000)));
}

#[test]
fn pause_stops_a_loop_that_stays_on_one_line() {
    let mut vm = Vm::new();
    let game = vm.load("spin.ark", "fn spin() { while true { } }").unwrap();
    let call = vm.start_call(game, "spin", &[]).unwrap();
    assert_eq!(
        vm.resume(call, Budget::Instructions(100)),
        RunResult::Suspended
    );
    vm.pause();
    assert_eq!(until_stop(&mut vm, call), StopReason::Pause);
}

/// Runs `count(n)` (below), `line_by_line` (a pause, then steps into)
/// or straight through, calling `at_stop` at each stop; returns its
/// instance, its result and the number of stops.
fn count(
    n: i64,
    line_by_line: bool,
    mut at_stop: impl FnMut(&mut Vm, InstanceId),
) -> (Vm, InstanceId, Value, usize) {
    let mut vm = Vm::new();
    let game = vm
        .load(
            "count.ark",
            "let total = 0;
             let log = [];
             fn count(n) {
                 for i in 0..n {
                     total = total + 1;
                     log.push(total);
                 }
                 return total;
             }",
        )
        .unwrap();
    let call = vm.start_call(game, "count", &[Value::Int(n)]).unwrap();
    if !line_by_line {
        let result = finish(&mut vm, call).unwrap();
        return (vm, game, result, 0);
    }
    vm.pause();
    let mut stops = 0;
    let result = loop {
        match vm.resume(call, Budget::Unlimited) {
            RunResult::Stopped(_) => {
                stops += 1;
                at_stop(&mut vm, game);
                assert!(vm.step(call, StepKind::Into));
            }
            RunResult::Done(v) => break v,
            other => panic!("{other:?}"),
        }
    };
    assert!(stops > 2 * n as usize, "stopped {stops} times");
    (vm, game, result, stops)
}

#[test]
fn a_loops_module_variable_stays_exact_across_stops_between_its_lines() {
    // The loop keeps `total` in a register; each stop reloads the frame,
    // which loads that register from the variable again. The stop before
    // `log.push(total)` falls right after the assignment: the assignment
    // must not be undone, and what the host writes there must be read.
    for line_by_line in [false, true] {
        let (vm, game, result, _) = count(20, line_by_line, |_, _| {});
        assert_eq!(result, Value::Int(20));
        let log = vm.get_var(game, "log").unwrap();
        let log: Vec<i64> = vm.from_value(log).unwrap();
        assert_eq!(log, (1..=20).collect::<Vec<_>>());
    }

    // The host adds 100 at every stop: no stop falls inside an assignment,
    // so every addition, the host's and the script's, counts.
    let (vm, game, result, stops) = count(20, true, |vm, game| {
        let Some(Value::Int(total)) = vm.get_var(game, "total") else {
            panic!("total is not an int")
        };
        assert!(vm.set_var(game, "total", Value::Int(total + 100)));
    });
    assert_eq!(result, Value::Int(20 + 100 * stops as i64));
    let log = vm.get_var(game, "log").unwrap();
    let log: Vec<i64> = vm.from_value(log).unwrap();
    for pair in log.windows(2) {
        assert!(pair[1] > pair[0] + 100, "{log:?}");
    }
}

#[test]
fn break_on_error_stops_at_the_faulting_frame_before_it_unwinds() {
    let mut vm = Vm::new();
    let game = load(&mut vm);
    vm.set_break_on_error(true);
    let call = vm.start_call(game, "fails", &[Value::Int(4)]).unwrap();
    let StopReason::Error(message) = until_stop(&mut vm, call) else {
        panic!("not an error stop")
    };
    assert!(message.contains("cannot add int and nil"), "{message}");
    assert_eq!(line(&vm, call), 22);
    assert_eq!(local(&vm, call, "y"), Some(Value::Int(8)));
    let error = finish(&mut vm, call).unwrap_err();
    assert!(error.contains("dbg.ark:22"), "{error}");
}

#[test]
fn locals_can_be_written_while_stopped() {
    let mut vm = Vm::new();
    let game = load(&mut vm);
    let call = add_stopped_at_its_return(&mut vm, game);
    assert!(vm.set_frame_local(call, 0, "sum", Value::Int(40)));
    assert!(!vm.set_frame_local(call, 0, "nope", Value::Int(0)));
    assert_eq!(finish(&mut vm, call), Ok(Value::Int(40)));
}

#[test]
fn a_stopped_call_survives_collections() {
    let mut vm = Vm::with_config(VmConfig {
        gc_stress: Some(1),
        ..VmConfig::default()
    });
    let game = vm
        .load(
            "keep.ark",
            "fn hold() {\n let l = [\"only\" + \"here\", [1, 2]];\n return l[0] + str(len(l[1]));\n}",
        )
        .unwrap();
    let bp = vm.set_breakpoint("keep.ark", 3, None);
    let call = vm.start_call(game, "hold", &[]).unwrap();
    until_stop(&mut vm, call);
    vm.remove_breakpoint(bp);
    for _ in 0..3 {
        vm.full_collect();
    }
    vm.validate_heap().unwrap();
    let v = finish(&mut vm, call).unwrap();
    assert_eq!(vm.from_value::<String>(v).unwrap(), "onlyhere2");
}

#[test]
fn module_variables_of_the_frame_instance_are_visible() {
    let mut vm = Vm::new();
    let game = load(&mut vm);
    vm.set_breakpoint("dbg.ark", 10, None);
    let call = vm.start_call(game, "run", &[Value::Int(3)]).unwrap();
    until_stop(&mut vm, call);
    until_stop(&mut vm, call);
    let instance = vm.call_stack(call).unwrap()[0].instance;
    let vars = vm.module_vars(instance);
    assert!(
        vars.contains(&("total".to_string(), Value::Int(0))),
        "{vars:?}"
    );
}

#[test]
fn a_hot_reload_moves_breakpoints_with_their_lines_and_drops_deleted_ones() {
    let mut vm = Vm::new();
    let v1 = "fn f() {\n  let a = 1;\n  let b = 2;\n  return a + b;\n}";
    vm.load("edit.ark", v1).unwrap();
    vm.set_breakpoint("edit.ark", 3, None);
    vm.set_breakpoint("edit.ark", 2, None);
    // Two lines added above, `let a` deleted.
    let v2 = "// one\n// two\nfn f() {\n  let b = 2;\n  return b;\n}";
    let game = vm.load("edit.ark", v2).unwrap();
    let bps = vm.breakpoints();
    assert_eq!(bps.len(), 1, "{bps:?}");
    assert_eq!((bps[0].1.requested_line, bps[0].1.line), (4, 4));
    let call = vm.start_call(game, "f", &[]).unwrap();
    until_stop(&mut vm, call);
    assert_eq!(line(&vm, call), 4);
}

#[test]
fn a_breakpoint_moves_to_the_line_the_recompiled_script_has_code_on() {
    let mut vm = Vm::new();
    vm.load("moving.ark", "fn f() {\n\n  return 1;\n}").unwrap();
    vm.set_breakpoint("moving.ark", 2, None);
    assert_eq!(vm.breakpoints()[0].1.line, 3);
    // The edit put code on line 2.
    vm.load("moving.ark", "fn f() {\n  let x = 2;\n  return x;\n}")
        .unwrap();
    assert_eq!(vm.breakpoints()[0].1.line, 2);
}

#[test]
fn an_expression_evaluates_in_the_selected_frame() {
    let mut vm = Vm::new();
    let game = load(&mut vm);
    vm.set_breakpoint("dbg.ark", 3, None);
    let call = vm.start_call(game, "run", &[Value::Int(3)]).unwrap();
    assert_eq!(
        until_stop(&mut vm, call),
        StopReason::Breakpoint(vm.breakpoints()[0].0)
    );
    // Frame 0 is `add(0, 0)`; frame 1 is `run`.
    assert_eq!(
        vm.eval_in_frame(call, 0, "a + b + 100"),
        Ok(Value::Int(100))
    );
    assert_eq!(vm.eval_in_frame(call, 1, "n * 10 + i"), Ok(Value::Int(30)));
    assert_eq!(vm.eval_in_frame(call, 1, "total"), Ok(Value::Int(0)));
    let e = vm.eval_in_frame(call, 0, "n").unwrap_err();
    assert!(e.contains("undefined variable 'n'"), "{e}");
}

#[test]
fn an_assignment_in_a_frame_writes_its_local_or_module_variable() {
    let mut vm = Vm::new();
    let game = load(&mut vm);
    let call = add_stopped_at_its_return(&mut vm, game);
    assert_eq!(vm.eval_in_frame(call, 0, "sum = sum * 10"), Ok(Value::Nil));
    assert_eq!(vm.eval_in_frame(call, 0, "total = 7"), Ok(Value::Nil));
    assert_eq!(finish(&mut vm, call), Ok(Value::Int(30)));
    assert_eq!(vm.get_var(game, "total"), Some(Value::Int(7)));
}

#[test]
fn a_conditional_breakpoint_stops_only_where_its_condition_holds() {
    let mut vm = Vm::new();
    let game = load(&mut vm);
    vm.set_breakpoint_if("dbg.ark", 10, None, "i == 3");
    let call = vm.start_call(game, "run", &[Value::Int(6)]).unwrap();
    assert!(matches!(
        until_stop(&mut vm, call),
        StopReason::Breakpoint(_)
    ));
    assert_eq!(local(&vm, call, "i"), Some(Value::Int(3)));
    assert_eq!(finish(&mut vm, call), Ok(Value::Int(30)));
}

#[test]
fn a_big_list_pages_its_children_without_copying_them_all() {
    let mut vm = Vm::new();
    let list = vm
        .eval("(fn() { let l = []; for i in 0..100000 { l.push(i * 2); } return l; })()")
        .unwrap();
    assert_eq!(vm.child_count(list), 100_000);
    let page = vm.children(list, 500, 3);
    assert_eq!(
        page,
        [
            ("500".to_string(), Value::Int(1000)),
            ("501".to_string(), Value::Int(1002)),
            ("502".to_string(), Value::Int(1004))
        ]
    );
    let map = vm.eval("({name: \"x\", [3]: true})").unwrap();
    assert_eq!(
        vm.children(map, 0, 10)
            .into_iter()
            .map(|(k, _)| k)
            .collect::<Vec<_>>(),
        ["\"name\"", "3"]
    );
}

#[test]
fn run_to_line_stops_there_once_and_leaves_no_breakpoint() {
    let mut vm = Vm::new();
    let game = load(&mut vm);
    let bp = vm.set_breakpoint("dbg.ark", 8, None);
    let call = vm.start_call(game, "run", &[Value::Int(3)]).unwrap();
    assert_eq!(until_stop(&mut vm, call), StopReason::Breakpoint(bp));
    assert_eq!(line(&vm, call), 8);
    vm.remove_breakpoint(bp);
    // Line 4 is inside `add`, called from the loop: the run stops there
    // in the first round, as a step done, and not again.
    assert!(vm.run_to_line(call, "dbg.ark", 4));
    assert!(
        vm.breakpoints().is_empty(),
        "a run to a line is no breakpoint"
    );
    assert_eq!(until_stop(&mut vm, call), StopReason::Step);
    assert_eq!(line(&vm, call), 4);
    assert_eq!(local(&vm, call, "a"), Some(Value::Int(0)));
    assert_eq!(finish(&mut vm, call), Ok(Value::Int(6)));
}

#[test]
fn run_to_line_ends_at_a_breakpoint_met_first() {
    let mut vm = Vm::new();
    let game = load(&mut vm);
    let call = add_stopped_at_its_return(&mut vm, game);
    assert!(vm.run_to_line(call, "dbg.ark", 17));
    // `add` returns to nobody: the call ends before line 17, and the run
    // to it is forgotten with the call.
    assert_eq!(finish(&mut vm, call), Ok(Value::Int(3)));
    let again = vm.start_call(game, "run", &[Value::Int(2)]).unwrap();
    assert_eq!(finish(&mut vm, again), Ok(Value::Int(2)));
    assert!(!vm.run_to_line(again, "dbg.ark", 17), "not stopped");
}

#[test]
fn an_expression_evaluates_in_a_running_instance() {
    let mut vm = Vm::new();
    let game = load(&mut vm);
    assert_eq!(vm.eval_in_instance(game, "total + 1"), Ok(Value::Int(1)));
    assert_eq!(vm.eval_in_instance(game, "total = 41"), Ok(Value::Nil));
    assert_eq!(vm.get_var(game, "total"), Some(Value::Int(41)));
    assert_eq!(
        vm.eval_in_instance(game, "add(total, 1)"),
        Ok(Value::Int(42))
    );
    let e = vm.eval_in_instance(game, "nope").unwrap_err();
    assert!(e.contains("undefined variable 'nope'"), "{e}");
    let e = vm.eval_in_instance(game, "while true {}").unwrap_err();
    assert!(e.contains("ran past"), "{e}");
}
