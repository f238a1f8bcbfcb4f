//! The embedding API as a host (the Bevy plugin, a game) uses it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ark_vm::{
    Arity, Budget, Error, HostObject, NativeCtx, NativeError, RunResult, Value, Vm, VmConfig,
};

fn capture(vm: &mut Vm) -> Arc<Mutex<Vec<String>>> {
    let out = Arc::new(Mutex::new(Vec::new()));
    let sink = out.clone();
    vm.set_print(move |line| sink.lock().unwrap().push(line.to_string()));
    out
}

fn run_to_end(vm: &mut Vm, call: ark_vm::CallId, budget: Budget) -> (Result<Value, String>, usize) {
    let mut suspensions = 0;
    loop {
        match vm.resume(call, budget) {
            RunResult::Suspended => suspensions += 1,
            RunResult::Done(v) => return (Ok(v), suspensions),
            RunResult::Error(e) => return (Err(e.to_string()), suspensions),
            RunResult::Stopped(why) => panic!("stopped without a debugger: {why:?}"),
        }
    }
}

#[test]
fn instances_have_their_own_module_variables_on_one_heap() {
    let mut vm = Vm::new();
    let module = vm
        .compile(
            "counter.ark",
            "let count = 0; let shared = nil; fn bump() { count += 1; return count; }",
        )
        .unwrap();
    let a = vm.instantiate(&module);
    let b = vm.instantiate(&module);
    vm.run_init(a).unwrap();
    vm.run_init(b).unwrap();
    vm.call(a, "bump", &[]).unwrap();
    vm.call(a, "bump", &[]).unwrap();
    let bumped_b = vm.call(b, "bump", &[]).unwrap();
    assert_eq!(vm.get_var(a, "count"), Some(Value::Int(2)));
    assert_eq!(bumped_b, Value::Int(1));

    // One heap: a list stored in one instance is the same object in the other.
    let list = vm.to_value(vec![1i64, 2, 3]).unwrap();
    assert!(vm.set_var(a, "shared", list));
    assert!(vm.set_var(b, "shared", list));
    let push = vm.compile("push.ark", "fn add(l) { l.push(4); }").unwrap();
    let p = vm.instantiate(&push);
    vm.run_init(p).unwrap();
    vm.call(p, "add", &[vm.get_var(a, "shared").unwrap()])
        .unwrap();
    let seen_by_b: Vec<i64> = vm.from_value(vm.get_var(b, "shared").unwrap()).unwrap();
    assert_eq!(seen_by_b, [1, 2, 3, 4]);
}

#[test]
fn a_call_into_another_instance_sees_the_callees_module_variables() {
    let mut vm = Vm::new();
    // `plain` and `make` use no module variables of their own; what they
    // call or create still belongs to the right instance.
    let counter = vm
        .load(
            "counter.ark",
            "let count = 0;
             fn bump(n) { count += n; return count; }
             fn plain(f, x) { return f(x); }
             fn make() { return fn() { return count; }; }
             fn me() { return self; }",
        )
        .unwrap();
    let user = vm
        .load(
            "user.ark",
            "let total = 100;
             fn add(x) { total += x; return total; }
             fn run(bump, plain, make, me) {
                 let a = bump(5);
                 let b = plain(add, 1);
                 let c = [1, 2].map(fn(x) { return total + x; });
                 let read_count = make();
                 let d = plain(bump, 2);
                 return [a, b, total, c[0], c[1], read_count(), d, me(), self];
             }",
        )
        .unwrap();
    vm.set_self(counter, Value::Int(-1));
    vm.set_self(user, Value::Int(-2));
    let args: Vec<Value> = ["bump", "plain", "make", "me"]
        .iter()
        .map(|name| vm.get_var(counter, name).unwrap())
        .collect();
    let result = vm.call(user, "run", &args).unwrap();
    let result: Vec<i64> = vm.from_value(result).unwrap();
    assert_eq!(result, [5, 101, 101, 102, 103, 7, 7, -1, -2]);
    assert_eq!(vm.get_var(counter, "count"), Some(Value::Int(7)));
    assert_eq!(vm.get_var(user, "total"), Some(Value::Int(101)));
}

#[test]
fn calls_take_arguments_and_return_values() {
    let mut vm = Vm::new();
    let game = vm
        .load(
            "math.ark",
            "fn area(w, h) { return w * h; } fn greet(name) { return \"hi \" + name; }",
        )
        .unwrap();
    assert_eq!(
        vm.call(game, "area", &[Value::Int(6), Value::Float(1.5)]),
        Ok(Value::Float(9.0))
    );
    let name = vm.to_value("Ada").unwrap();
    let greeting = vm.call(game, "greet", &[name]).unwrap();
    assert_eq!(vm.from_value::<String>(greeting).unwrap(), "hi Ada");
    let missing = vm.call(game, "nope", &[]).unwrap_err();
    assert!(missing.message.contains("no function 'nope'"), "{missing}");
    let wrong = vm.call(game, "area", &[Value::Int(1)]).unwrap_err();
    assert!(
        wrong.message.contains("area expects 2 arguments but got 1"),
        "{wrong}"
    );
}

#[test]
fn typed_natives_convert_and_check_their_arguments() {
    let mut vm = Vm::new();
    vm.register_fn("scale", |v: ark_vm::Vec3, s: f32| {
        ark_vm::Vec3::new(v.x * s, v.y * s, v.z * s)
    });
    vm.register_fn("shout", |s: String| s.to_uppercase() + "!");
    vm.register_fn("checked_sqrt", |x: f64| {
        if x < 0.0 {
            Err(format!("cannot take the root of {x}"))
        } else {
            Ok(x.sqrt())
        }
    });
    let v = vm.eval("scale(vec3(1, 2, 3), 2)").unwrap();
    assert_eq!(vm.display(v), "vec3(2.0, 4.0, 6.0)");
    let v = vm.eval("shout(\"go\")").unwrap();
    assert_eq!(vm.display(v), "GO!");
    let err = vm.eval("checked_sqrt(-4)").unwrap_err();
    assert!(
        err.to_string().contains("cannot take the root of -4"),
        "{err}"
    );
    let err = vm.eval("shout(3)").unwrap_err();
    assert!(
        err.to_string()
            .contains("shout: argument 1: expected string, got int"),
        "{err}"
    );
    let err = vm.eval("shout()").unwrap_err();
    assert!(
        err.to_string()
            .contains("shout expects 1 argument but got 0"),
        "{err}"
    );
}

#[test]
fn native_errors_carry_the_script_location() {
    let mut vm = Vm::new();
    vm.register_native("explode", Arity::Exactly(0), |_, _| {
        Err(NativeError::new("boom"))
    });
    let instance = vm
        .load(
            "bomb.ark",
            "fn a() {\n  return explode();\n}\nfn b() { return a(); }",
        )
        .unwrap();
    let err = vm.call(instance, "b", &[]).unwrap_err();
    assert_eq!(err.message, "boom");
    assert_eq!(err.script(), Some("bomb.ark"));
    assert_eq!(err.line(), Some(2));
    let names: Vec<&str> = err.stack.iter().map(|f| f.function.as_str()).collect();
    assert_eq!(names, ["a", "b"]);
    assert_eq!(
        err.to_string(),
        "bomb.ark:2:17: runtime error: boom\n  at a (bomb.ark:2)\n  at b (bomb.ark:4)"
    );
}

#[test]
fn a_sliced_call_resumes_exactly_where_it_stopped() {
    let src = "fn work(n) { let acc = []; let total = 0;
        for i in 0..n { total += i * i; if i % 100 == 0 { acc.push(total); } }
        return [total, len(acc), acc[len(acc) - 1]]; }";
    let mut whole = Vm::new();
    let a = whole.load("w.ark", src).unwrap();
    let expected = whole.call(a, "work", &[Value::Int(5000)]).unwrap();
    let expected = whole.display(expected);

    let mut sliced = Vm::new();
    let b = sliced.load("w.ark", src).unwrap();
    let call = sliced.start_call(b, "work", &[Value::Int(5000)]).unwrap();
    let (result, suspensions) = run_to_end(&mut sliced, call, Budget::Instructions(3));
    assert_eq!(sliced.display(result.unwrap()), expected);
    // Fuel is checked where loops jump back and at calls; a budget smaller
    // than the loop's body stops it at every iteration.
    assert!(suspensions >= 5000, "only {suspensions} suspensions");
}

#[test]
fn yield_suspends_until_resumed() {
    let mut vm = Vm::new();
    let out = capture(&mut vm);
    let game = vm
        .load(
            "y.ark",
            "fn steps() { print(1); yield; print(2); yield; print(3); return 4; }",
        )
        .unwrap();
    let call = vm.start_call(game, "steps", &[]).unwrap();
    assert_eq!(vm.resume(call, Budget::Unlimited), RunResult::Suspended);
    assert_eq!(*out.lock().unwrap(), ["1"]);
    assert_eq!(vm.resume(call, Budget::Unlimited), RunResult::Suspended);
    assert_eq!(
        vm.resume(call, Budget::Unlimited),
        RunResult::Done(Value::Int(4))
    );
    assert_eq!(*out.lock().unwrap(), ["1", "2", "3"]);
    assert!(!vm.is_running(call));
    match vm.resume(call, Budget::Unlimited) {
        RunResult::Error(e) => assert!(e.message.contains("already finished")),
        other => panic!("resumed a finished call: {other:?}"),
    }
}

#[test]
fn an_endless_loop_is_suspended_by_a_time_budget() {
    let mut vm = Vm::new();
    let game = vm.load("loop.ark", "fn spin() { while true { } }").unwrap();
    let call = vm.start_call(game, "spin", &[]).unwrap();
    for _ in 0..3 {
        assert_eq!(vm.resume(call, Budget::Micros(200)), RunResult::Suspended);
    }
    vm.cancel(call);
    assert!(!vm.is_running(call));
}

#[test]
fn a_timed_resume_reports_its_longest_stretch_between_clock_reads() {
    let mut vm = Vm::new();
    vm.register_native("nap", Arity::Exactly(0), |_, _| {
        std::thread::sleep(Duration::from_millis(3));
        Ok(Value::Nil)
    });
    let game = vm
        .load(
            "timing.ark",
            "fn spin() { let x = 0; while true { x += 1; } }
             fn napper() { nap(); return 1; }",
        )
        .unwrap();

    // A script that never ends: stopped by its deadline, read in stretches.
    let call = vm.start_call(game, "spin", &[]).unwrap();
    let started = Instant::now();
    assert_eq!(vm.resume(call, Budget::Micros(2_000)), RunResult::Suspended);
    let elapsed = started.elapsed();
    let longest = vm.last_resume_longest_unchecked();
    assert!(
        longest > Duration::ZERO && longest <= elapsed,
        "{longest:?} of {elapsed:?}"
    );

    // A native that runs long is one stretch, however short the budget.
    let call = vm.start_call(game, "napper", &[]).unwrap();
    assert_eq!(
        vm.resume(call, Budget::Micros(1_000)),
        RunResult::Done(Value::Int(1))
    );
    assert!(vm.last_resume_longest_unchecked() >= Duration::from_millis(3));

    // Other budgets read no clock.
    let call = vm.start_call(game, "napper", &[]).unwrap();
    assert_eq!(
        vm.resume(call, Budget::Instructions(1_000)),
        RunResult::Done(Value::Int(1))
    );
    assert_eq!(vm.last_resume_longest_unchecked(), Duration::ZERO);
}

#[test]
fn natives_charge_the_budget_for_their_work() {
    let mut vm = Vm::new();
    let game = vm
        .load(
            "copy.ark",
            "let big = []; for i in 0..20000 { big.push(i); }
             fn copy_it() { let c = big.copy(); return len(c); }",
        )
        .unwrap();
    // A handful of instructions, but the copy costs 20,000 units: the call
    // must suspend after it instead of running on.
    let call = vm.start_call(game, "copy_it", &[]).unwrap();
    assert_eq!(
        vm.resume(call, Budget::Instructions(100)),
        RunResult::Suspended
    );
    let (result, _) = run_to_end(&mut vm, call, Budget::Instructions(100_000));
    assert_eq!(result, Ok(Value::Int(20000)));
}

#[test]
fn deep_recursion_works_and_runaway_recursion_is_an_error() {
    let mut vm = Vm::new();
    let game = vm
        .load(
            "deep.ark",
            "fn deep(n) { if n == 0 { return 0; } return 1 + deep(n - 1); }
             fn forever(n) { return forever(n + 1) + 1; }",
        )
        .unwrap();
    assert_eq!(
        vm.call(game, "deep", &[Value::Int(10_000)]),
        Ok(Value::Int(10_000))
    );
    let err = vm.call(game, "forever", &[Value::Int(0)]).unwrap_err();
    assert_eq!(err.message, "stack overflow");
    assert_eq!(err.line(), Some(2));
    assert!(err.frames_omitted > 90_000, "{}", err.frames_omitted);
    assert_eq!(
        err.stack.len(),
        ark_vm::INNERMOST_FRAMES_KEPT + ark_vm::OUTERMOST_FRAMES_KEPT
    );
    assert!(err.to_string().contains("more frames"));
    // The VM is still usable afterwards.
    assert_eq!(vm.call(game, "deep", &[Value::Int(3)]), Ok(Value::Int(3)));
}

#[test]
fn call_depth_is_configurable() {
    let mut vm = Vm::with_config(VmConfig {
        max_call_depth: 50,
        ..VmConfig::default()
    });
    let game = vm
        .load(
            "d.ark",
            "fn deep(n) { if n == 0 { return 0; } return deep(n - 1); }",
        )
        .unwrap();
    assert!(vm.call(game, "deep", &[Value::Int(40)]).is_ok());
    assert_eq!(
        vm.call(game, "deep", &[Value::Int(60)])
            .unwrap_err()
            .message,
        "stack overflow"
    );
}

/// A VM whose heap may reach 4 MiB.
fn small_heap_vm() -> Vm {
    Vm::with_config(VmConfig {
        heap_limit: 4 << 20,
        ..VmConfig::default()
    })
}

#[test]
fn allocation_past_the_heap_limit_is_out_of_memory() {
    let mut vm = small_heap_vm();
    let game = vm
        .load(
            "bomb.ark",
            "fn bomb() { let all = []; while true { all.push([1, 2, 3, 4, 5, 6, 7, 8]); } }",
        )
        .unwrap();
    let err = vm.call(game, "bomb", &[]).unwrap_err();
    assert_eq!(err.message, "out of memory");
    assert_eq!(err.line(), Some(1));
    // The limit is checked at the next safe point, after a forced full
    // collection; the heap never passes the hard ceiling of 1.5x.
    assert!(vm.heap().bytes() <= 6 << 20);
    assert!(vm.gc_report().forced_collections >= 1);
    // Once the failed call's objects are collected, the VM works again.
    vm.full_collect();
    assert!(vm.heap().bytes() < 1 << 20, "{}", vm.gc_report());
    assert!(vm.eval("[1, 2, 3]").is_ok());
}

#[test]
fn the_heap_summary_says_what_the_full_report_says() {
    let mut vm = small_heap_vm();
    let game = vm
        .load(
            "bomb.ark",
            "let kept = [];
             fn keep() { kept.push({a: [1, 2], b: \"text\"}); }
             fn bomb() { let all = []; while true { all.push([1, 2, 3, 4, 5, 6, 7, 8]); } }",
        )
        .unwrap();
    for _ in 0..100 {
        vm.call(game, "keep", &[]).unwrap();
    }
    assert!(vm.call(game, "bomb", &[]).is_err());
    vm.gc_step(ark_vm::Budget::Instructions(1_000));
    let summary = vm.heap_summary();
    let report = vm.gc_report();
    assert_eq!(summary.phase, report.phase);
    assert_eq!(summary.heap_bytes, report.heap_bytes);
    assert_eq!(
        summary.objects,
        report.objects.iter().map(|k| k.count).sum::<usize>()
    );
    assert!(summary.objects >= 300, "{report}");
    assert_eq!(summary.forced_collections, report.forced_collections);
    assert!(summary.forced_collections >= 1);
}

#[test]
fn strings_past_the_length_limit_are_errors() {
    let mut vm = Vm::with_config(VmConfig {
        max_string_len: 1000,
        ..VmConfig::default()
    });
    for src in [
        "\"ab\".repeat(600)",
        "\"x\".repeat(999) + \"yy\"",
        "[\"aaaaaaaaaa\"].join(\"\").repeat(101)",
    ] {
        let err = vm.eval(src).unwrap_err();
        assert!(err.to_string().contains("string too long"), "{src}: {err}");
    }
    assert!(vm.eval("\"ab\".repeat(500)").is_ok());
}

fn nested(open: &str, inner: &str, close: &str, depth: usize) -> String {
    format!(
        "let x = {}{}{};",
        open.repeat(depth),
        inner,
        close.repeat(depth)
    )
}

#[test]
fn hundred_thousand_deep_nesting_is_a_clean_compile_error() {
    let depth = 100_000;
    let cases = [
        nested("(", "1", ")", depth),
        nested("[", "", "]", depth),
        nested("-", "1", "", depth),
        nested("not ", "true", "", depth),
        nested("{a: ", "1", "}", depth),
        nested("f(", "1", ")", depth),
        format!("{}{}", "{".repeat(depth), "}".repeat(depth)),
        format!("let x = 1{};", " + 1".repeat(depth)),
        format!("let x = a{};", ".b".repeat(depth)),
        format!(
            "let x = {}1{};",
            "fn() { return ".repeat(depth),
            "; }".repeat(depth)
        ),
    ];
    // Run on a small stack: the limits must hold wherever the host calls from.
    std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || {
            let mut vm = Vm::new();
            for src in &cases {
                let err = vm.compile("deep.ark", src).unwrap_err();
                assert!(
                    err.message.contains("nesting too deep"),
                    "{}...: {err}",
                    &src[..40]
                );
                assert_eq!(err.line, 1);
            }
        })
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn moderately_deep_nesting_compiles_and_runs() {
    let mut vm = Vm::new();
    let src = format!(
        "fn f() {{ return {}1{}; }}",
        "(".repeat(150),
        ")".repeat(150)
    );
    let game = vm.load("ok.ark", &src).unwrap();
    assert_eq!(vm.call(game, "f", &[]), Ok(Value::Int(1)));
    let v = vm
        .eval(&format!("{}1{}", "[".repeat(150), "]".repeat(150)))
        .unwrap();
    assert_eq!(
        vm.display(v),
        format!("{}1{}", "[".repeat(150), "]".repeat(150))
    );
}

#[test]
fn a_list_nested_a_million_deep_prints_without_recursion() {
    let mut vm = Vm::new();
    let v = vm
        .eval("let l = []; for i in 0..1000000 { l = [l]; } len(str(l))")
        .unwrap();
    assert_eq!(v, Value::Int(2_000_002));
}

#[test]
fn stale_handles_are_errors_not_crashes() {
    let mut vm = Vm::new();
    // A closure whose instance has been released.
    let module = vm
        .compile("a.ark", "let n = 5; fn get() { return n; }")
        .unwrap();
    let a = vm.instantiate(&module);
    vm.run_init(a).unwrap();
    let get = vm.get_var(a, "get").unwrap();
    vm.release_instance(a);
    let call = vm.start_call_value(get, &[]).unwrap();
    match vm.resume(call, Budget::Unlimited) {
        RunResult::Error(e) => assert!(e.message.contains("stale handle"), "{e}"),
        other => panic!("a released instance was used: {other:?}"),
    }
    // Handles from another VM's heap are not this heap's objects.
    let mut other = Vm::new();
    let foreign_list = other.to_value(vec![1i64, 2, 3]).unwrap();
    let b = vm.load("b.ark", "fn second(l) { return l[1]; }").unwrap();
    let err = vm.call(b, "second", &[foreign_list]).unwrap_err();
    assert!(err.message.contains("stale handle"), "{err}");
    assert_eq!(vm.display(foreign_list), "<stale list>");
    assert!(vm.from_value::<Vec<i64>>(foreign_list).is_err());
}

/// A host value kind: a health component with a field and a method.
struct Health {
    hp: i64,
}

impl HostObject for Health {
    fn type_name(&self) -> &str {
        "Health"
    }
    fn get_field(&self, _: &mut NativeCtx<'_>, name: &str) -> Result<Value, NativeError> {
        match name {
            "hp" => Ok(Value::Int(self.hp)),
            _ => Err(NativeError::new(format!("Health has no field '{name}'"))),
        }
    }
    fn set_field(
        &mut self,
        ctx: &mut NativeCtx<'_>,
        name: &str,
        v: Value,
    ) -> Result<(), NativeError> {
        match name {
            "hp" => {
                self.hp = ctx.from_value(v)?;
                Ok(())
            }
            _ => Err(NativeError::new(format!("Health has no field '{name}'"))),
        }
    }
    fn call_method(
        &mut self,
        ctx: &mut NativeCtx<'_>,
        name: &str,
        args: &[Value],
    ) -> Result<Value, NativeError> {
        match name {
            "damage" => {
                let amount: i64 = ctx.from_value(args[0])?;
                self.hp -= amount;
                Ok(Value::Bool(self.hp <= 0))
            }
            _ => Err(NativeError::new(format!(
                "unknown method '{name}' for Health"
            ))),
        }
    }
    fn display(&self) -> String {
        format!("Health({})", self.hp)
    }
}

#[test]
fn host_objects_have_fields_methods_and_a_type() {
    let mut vm = Vm::new();
    let out = capture(&mut vm);
    let game = vm
        .load(
            "h.ark",
            "fn hit(h) {
                print(type(h), h, h.hp);
                h.hp += 5;
                let dead = h.damage(50);
                print(h.hp, dead);
                return h.armor;
            }",
        )
        .unwrap();
    let h = vm.alloc_host(Box::new(Health { hp: 40 })).unwrap();
    let err = vm.call(game, "hit", &[h]).unwrap_err();
    assert_eq!(*out.lock().unwrap(), ["Health Health(40) 40", "-5 true"]);
    assert_eq!(err.message, "Health has no field 'armor'");
    assert_eq!(err.line(), Some(6));
}

#[test]
fn natives_reach_host_data_passed_to_resume() {
    struct Score(i64);
    let mut vm = Vm::new();
    vm.register_native("add_score", Arity::Exactly(1), |ctx, args| {
        let n = ctx.from_value::<i64>(args[0])?;
        let score = ctx
            .host::<Score>()
            .ok_or_else(|| NativeError::new("no score here"))?;
        score.0 += n;
        Ok(Value::Int(score.0))
    });
    let game = vm
        .load("s.ark", "fn win() { add_score(10); return add_score(5); }")
        .unwrap();
    let mut score = Score(100);
    let call = vm.start_call(game, "win", &[]).unwrap();
    assert_eq!(
        vm.resume_with(call, Budget::Unlimited, &mut score),
        RunResult::Done(Value::Int(115))
    );
    assert_eq!(score.0, 115);
    let err = vm.call(game, "win", &[]).unwrap_err();
    assert_eq!(err.message, "no score here");
}

#[test]
fn repl_entries_share_state_and_return_their_last_expression() {
    let mut vm = Vm::new();
    let module = vm.compile("<repl>", "").unwrap();
    let repl = vm.instantiate(&module);
    let eval = |vm: &mut Vm, src: &str| -> String {
        let call = vm.compile_repl(repl, src).expect("compiles");
        let v = vm.finish(call).expect("runs");
        vm.repr(v)
    };
    assert_eq!(eval(&mut vm, "let x = 40;"), "nil");
    assert_eq!(eval(&mut vm, "fn inc(n) { return n + x; }"), "nil");
    assert_eq!(eval(&mut vm, "inc(2)"), "42");
    assert_eq!(eval(&mut vm, "x = \"s\"; [x]"), "[\"s\"]");
    assert!(matches!(
        vm.compile_repl(repl, "y + 1"),
        Err(ark_vm::RuntimeOrCompile::Compile(_))
    ));
}

#[test]
fn compile_errors_have_script_line_and_column() {
    let mut vm = Vm::new();
    let err = vm
        .compile("enemy.ark", "let a = 1;\nlet b = a +;\n")
        .unwrap_err();
    assert_eq!((err.line, err.col), (2, 12));
    assert_eq!(
        err.to_string(),
        "enemy.ark:2:12: error: expected an expression, found ';'"
    );
    match vm.load("enemy.ark", "print(nope);") {
        Err(Error::Compile(e)) => assert_eq!(e.message, "undefined variable 'nope'"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_first_error_in_the_source_is_reported_lexing_or_parsing() {
    let mut vm = Vm::new();
    let at = |vm: &mut Vm, src: &str| {
        let e = vm.compile("e.ark", src).unwrap_err();
        (e.line, e.col, e.message)
    };
    // A bad character where the parser wants an expression: the lexing
    // error, not "found end of file".
    let (line, col, message) = at(&mut vm, "let a = 1;\nlet b = a + @;\n");
    assert_eq!((line, col), (2, 13));
    assert!(message.contains('@'), "{message}");
    // A lexing error after the last statement still fails the compile.
    let (line, _, message) = at(&mut vm, "let a = 1;\nlet s = \"open");
    assert_eq!(line, 2);
    assert!(message.contains("unterminated"), "{message}");
    // A syntax error before a lexing error is the one reported.
    let (line, col, message) = at(&mut vm, "let = 5;\nlet s = \"open");
    assert_eq!((line, col), (1, 5));
    assert!(message.contains("variable name"), "{message}");
    // The REPL's expression attempt reports lexing errors too.
    let module = vm.compile("repl.ark", "").unwrap();
    let inst = vm.instantiate(&module);
    assert!(vm.compile_repl(inst, "1 + @").is_err());
    assert!(vm.compile_repl(inst, "let q = 2;").is_ok());
}

#[test]
fn module_variables_and_self_are_reachable_from_the_host() {
    let mut vm = Vm::new();
    let module = vm
        .compile(
            "me.ark",
            "let speed = 3; fn who() { return [self, speed]; }",
        )
        .unwrap();
    let inst = vm.instantiate(&module);
    vm.run_init(inst).unwrap();
    vm.set_self(inst, Value::Entity((7u64 << 32) | 42));
    assert!(vm.set_var(inst, "speed", Value::Float(4.5)));
    assert!(!vm.set_var(inst, "nope", Value::Nil));
    assert!(vm.has_function(inst, "who"));
    assert!(!vm.has_function(inst, "speed"));
    let v = vm.call(inst, "who", &[]).unwrap();
    assert_eq!(vm.display(v), "[<entity 42v7>, 4.5]");
}

#[test]
fn instructions_are_counted_the_same_sliced_or_not() {
    let src = "fn work() { let t = 0; for i in 0..1000 { t += i; } return t; }";
    let count = |slice: Option<u64>| {
        let mut vm = Vm::new();
        let game = vm.load("count.ark", src).unwrap();
        let before = vm.instructions_executed();
        let call = vm.start_call(game, "work", &[]).unwrap();
        let budget = slice.map_or(Budget::Unlimited, Budget::Instructions);
        loop {
            match vm.resume(call, budget) {
                RunResult::Suspended => continue,
                RunResult::Done(v) => assert_eq!(v, Value::Int(499_500)),
                RunResult::Error(e) => panic!("{e}"),
                RunResult::Stopped(why) => panic!("stopped without a debugger: {why:?}"),
            }
            break;
        }
        vm.instructions_executed() - before
    };
    let whole = count(None);
    // A loop of 1,000 iterations runs a few thousand instructions.
    assert!((2_000..10_000).contains(&whole), "{whole}");
    assert_eq!(count(Some(1)), whole);
    assert_eq!(count(Some(37)), whole);
}

/// The compiler inlines calls to built-ins such as `div`; a host that
/// replaces the built-in gets its own function called instead.
#[test]
fn a_host_can_replace_a_builtin_the_compiler_inlines() {
    let mut vm = Vm::new();
    vm.register_fn("div", |a: i64, b: i64| a * 100 + b);
    let v = vm.eval("div(7, 2)").unwrap();
    assert_eq!(vm.from_value::<i64>(v).unwrap(), 702);
}

/// Host code holds `&mut Heap` (`Vm::heap_mut`, `NativeCtx::heap`), so it
/// can swap one VM's heap for another's. A call must then fail cleanly
/// rather than run on objects that are gone.
#[test]
fn host_code_that_changes_the_heap_through_another_vm_cannot_break_a_call() {
    // A native moves the running heap into a second VM, uses that VM's
    // methods on it, and puts it back: same heap, same identity, but an
    // instance's variables or a caller's closure may be gone or moved.
    #[derive(Clone, Copy)]
    enum Meddle {
        Release,
        Grow,
        ReleaseAndCollect,
    }
    fn setup(meddle: Meddle) -> (Vm, ark_vm::InstanceId) {
        let target = Arc::new(Mutex::new(None::<ark_vm::InstanceId>));
        let mut vm = Vm::new();
        let seen = target.clone();
        vm.register_native("meddle", Arity::Exactly(0), move |ctx, _| {
            let instance = seen.lock().unwrap().expect("set before the call");
            let mut tool = Vm::new();
            std::mem::swap(ctx.heap(), tool.heap_mut());
            match meddle {
                Meddle::Release => tool.release_instance(instance),
                Meddle::Grow => {
                    tool.compile_repl(instance, "let z1 = 0; let z2 = 0; let z3 = 0;")
                        .unwrap();
                }
                Meddle::ReleaseAndCollect => {
                    tool.release_instance(instance);
                    tool.full_collect();
                }
            }
            std::mem::swap(ctx.heap(), tool.heap_mut());
            Ok(Value::Nil)
        });
        let game = vm
            .load(
                "game.ark",
                "let n = [1];
                 fn f() { meddle(); n = 2; return n; }
                 fn via_anonymous(g) { return (fn() { return g() + 1; })(); }",
            )
            .unwrap();
        *target.lock().unwrap() = Some(game);
        (vm, game)
    }

    // Released: the next module variable access is a stale handle.
    let (mut vm, game) = setup(Meddle::Release);
    match vm.call(game, "f", &[]) {
        Err(e) => assert!(e.message.contains("stale handle"), "{e}"),
        Ok(v) => panic!("wrote a released instance's variable: {v:?}"),
    }

    // Grown (its variables moved): the call carries on with the new ones.
    let (mut vm, game) = setup(Meddle::Grow);
    assert_eq!(vm.call(game, "f", &[]).unwrap(), Value::Int(2));
    assert_eq!(vm.get_var(game, "n"), Some(Value::Int(2)));

    // Released and collected under a call from a closure of another
    // instance: the caller's closure is gone, so returning to it is an
    // error, not a jump into freed code.
    let (mut vm, game) = setup(Meddle::ReleaseAndCollect);
    let other = vm
        .load("other.ark", "fn g() { meddle(); return 1; }")
        .unwrap();
    let g = vm.get_var(other, "g").unwrap();
    let via_anonymous = vm.get_var(game, "via_anonymous").unwrap();
    match vm
        .start_call_value(via_anonymous, &[g])
        .map(|call| vm.finish(call))
    {
        Ok(Err(e)) => assert!(e.message.contains("stale handle"), "{e}"),
        other => panic!("returned into a freed closure: {other:?}"),
    }
}

#[test]
fn a_call_never_runs_on_a_heap_swapped_in_under_it() {
    let source = "fn helper(n) { let l = [n]; return l[0]; }
                  fn deep(n) { if n == 0 { yield; return 1; } return helper(n) + deep(n - 1); }";
    // Between resumes: the suspended call's frames belong to the old heap,
    // which is dropped with the other VM.
    let mut vm = Vm::new();
    let game = vm.load("deep.ark", source).unwrap();
    let call = vm.start_call(game, "deep", &[Value::Int(5)]).unwrap();
    assert_eq!(vm.resume(call, Budget::Unlimited), RunResult::Suspended);
    {
        let mut other = Vm::new();
        other.load("other.ark", "let x = [1, 2, 3];").unwrap();
        std::mem::swap(vm.heap_mut(), other.heap_mut());
    }
    match vm.resume(call, Budget::Unlimited) {
        RunResult::Error(e) => assert!(e.message.contains("heap was replaced"), "{e}"),
        other => panic!("{other:?}"),
    }

    // During a call: a native swaps the heap out from under it.
    let spare = Arc::new(Mutex::new(Some(ark_vm::Heap::new(1 << 20, 1 << 10))));
    let mut vm = Vm::new();
    let stash = spare.clone();
    vm.register_native("swap_heap", Arity::Exactly(0), move |ctx, _| {
        if let Some(mut heap) = stash.lock().unwrap().take() {
            std::mem::swap(ctx.heap(), &mut heap);
            drop(heap);
        }
        Ok(Value::Nil)
    });
    let game = vm
        .load(
            "swap.ark",
            "fn inner() { swap_heap(); return 1; } fn outer() { return inner() + 1; }",
        )
        .unwrap();
    match vm.call(game, "outer", &[]) {
        Err(e) => assert!(e.message.contains("heap was replaced"), "{e}"),
        Ok(v) => panic!("ran on a swapped heap: {v:?}"),
    }
}

#[test]
fn a_loop_sees_module_variables_the_host_sets_while_it_is_suspended() {
    // Loops keep the module variables they read in registers; a suspended
    // call must still see what the host wrote before resuming it.
    let mut vm = Vm::new();
    let game = vm
        .load(
            "game.ark",
            "let speed = 1;
             let stop = 0;
             fn run() {
                 let seen = [];
                 for i in 0..3 { seen.push(speed * 1); yield; }
                 return seen;
             }
             fn spin() {
                 let i = 0;
                 while stop == 0 { i += 1; }
                 return i;
             }",
        )
        .unwrap();
    // At yields.
    let call = vm.start_call(game, "run", &[]).unwrap();
    for speed in [2, 3] {
        assert_eq!(vm.resume(call, Budget::Unlimited), RunResult::Suspended);
        assert!(vm.set_var(game, "speed", Value::Int(speed)));
    }
    assert_eq!(vm.resume(call, Budget::Unlimited), RunResult::Suspended);
    let RunResult::Done(seen) = vm.resume(call, Budget::Unlimited) else {
        panic!("the call did not finish")
    };
    let seen: Vec<i64> = vm.from_value(seen).unwrap();
    assert_eq!(seen, [1, 2, 3]);

    // Where the budget ran out, anywhere in the loop: the next test of the
    // condition sees the new value, within the same slice.
    let call = vm.start_call(game, "spin", &[]).unwrap();
    for _ in 0..5 {
        assert_eq!(
            vm.resume(call, Budget::Instructions(7)),
            RunResult::Suspended
        );
    }
    assert!(vm.set_var(game, "stop", Value::Int(1)));
    match vm.resume(call, Budget::Instructions(7)) {
        RunResult::Done(Value::Int(i)) => assert!(i > 0, "{i}"),
        other => panic!("the loop did not see `stop`: {other:?}"),
    }
}

#[test]
fn a_loop_sees_module_variables_that_host_code_sets_during_a_native() {
    // A native changes a module variable through another VM (the only way
    // host code can during a call): by `set_var`, or by running a script
    // function that assigns it.
    #[derive(Clone, Copy)]
    enum Poke {
        SetVar,
        Call,
    }
    for poke in [Poke::SetVar, Poke::Call] {
        let target = Arc::new(Mutex::new(None::<ark_vm::InstanceId>));
        let seen_target = target.clone();
        let mut vm = Vm::new();
        vm.register_native("poke", Arity::Exactly(0), move |ctx, _| {
            let instance = seen_target.lock().unwrap().expect("set before the call");
            let mut tool = Vm::new();
            std::mem::swap(ctx.heap(), tool.heap_mut());
            match poke {
                Poke::SetVar => {
                    let Some(Value::Int(speed)) = tool.get_var(instance, "speed") else {
                        panic!("speed is an int")
                    };
                    assert!(tool.set_var(instance, "speed", Value::Int(speed * 10)));
                }
                Poke::Call => {
                    tool.call(instance, "faster", &[]).unwrap();
                }
            }
            std::mem::swap(ctx.heap(), tool.heap_mut());
            Ok(Value::Nil)
        });
        let game = vm
            .load(
                "game.ark",
                "let speed = 1;
                 fn faster() { speed = speed * 10; }
                 fn run() {
                     let seen = [];
                     for i in 0..3 { seen.push(speed * 1); poke(); }
                     return seen;
                 }",
            )
            .unwrap();
        *target.lock().unwrap() = Some(game);
        let seen = vm.call(game, "run", &[]).unwrap();
        let seen: Vec<i64> = vm.from_value(seen).unwrap();
        assert_eq!(seen, [1, 10, 100]);
    }
}

#[test]
fn a_host_write_between_a_loops_store_and_its_next_read_is_kept() {
    // A loop that assigns a cached variable stores it, then refreshes its
    // register. Suspended before its next read (as it goes round, after
    // its test at the bottom), the host's write must win over the
    // register: the body reads 100 and leaves 101 (a stale register would
    // count on from 1 to 10).
    let mut vm = Vm::new();
    let game = vm
        .load(
            "game.ark",
            "let x = 0;
             fn run() { while x < 10 { x = x + 1; } return x; }",
        )
        .unwrap();
    let call = vm.start_call(game, "run", &[]).unwrap();
    // One loop round at a time, until the script's first store is done.
    let mut steps = 0;
    while vm.get_var(game, "x") != Some(Value::Int(1)) {
        assert_eq!(
            vm.resume(call, Budget::Instructions(1)),
            RunResult::Suspended
        );
        steps += 1;
        assert!(steps < 100, "the loop never stored x");
    }
    assert!(vm.set_var(game, "x", Value::Int(100)));
    assert_eq!(
        vm.resume(call, Budget::Unlimited),
        RunResult::Done(Value::Int(101))
    );
}

#[test]
fn a_loop_sees_what_was_written_while_a_call_it_made_was_suspended() {
    // A loop keeps `x` in a register and calls `slow`, which is suspended
    // (out of budget) before it returns. The loop reads `x` right after
    // the return, in the same slice: what `slow` wrote before it stopped,
    // and what the host wrote while it was stopped.
    let mut vm = Vm::new();
    let game = vm
        .load(
            "game.ark",
            "let x = 0;
             let inside = false;
             fn slow(v) {
                 if v != nil { x = v; }
                 inside = true;
                 let i = 0;
                 while i < 50 { i += 1; }
                 inside = false;
                 return 0;
             }
             fn run(v) {
                 let seen = [x * 1];
                 for k in 0..2 { slow(v); seen.push(x * 1); }
                 return seen;
             }",
        )
        .unwrap();
    let slices = |vm: &mut Vm, call, mut between: Box<dyn FnMut(&mut Vm)>| loop {
        match vm.resume(call, Budget::Instructions(7)) {
            RunResult::Suspended => between(vm),
            RunResult::Done(seen) => return vm.from_value::<Vec<i64>>(seen).unwrap(),
            other => panic!("the call failed: {other:?}"),
        }
    };
    // `slow` writes `x` itself, then stops.
    let call = vm.start_call(game, "run", &[Value::Int(5)]).unwrap();
    assert_eq!(slices(&mut vm, call, Box::new(|_| {})), [0, 5, 5]);

    // The host writes `x` while `slow` is stopped (the first time: 10, the
    // second: 20).
    assert!(vm.set_var(game, "x", Value::Int(0)));
    let call = vm.start_call(game, "run", &[Value::Nil]).unwrap();
    let (mut next, mut was_inside) = (10, false);
    let host = Box::new(move |vm: &mut Vm| {
        let inside = vm.get_var(game, "inside") == Some(Value::Bool(true));
        if inside && !was_inside {
            assert!(vm.set_var(game, "x", Value::Int(next)));
            next += 10;
        }
        was_inside = inside;
    });
    assert_eq!(slices(&mut vm, call, host), [0, 10, 20]);
}

#[test]
fn a_loop_sees_what_its_callee_wrote_before_host_code_ran_a_call() {
    // `step` writes `x`, which the loop in `run` keeps in a register, and
    // then calls a native whose host code runs another call on the heap
    // (through another VM). That call writes no variable; the loop must
    // still read `step`'s write when `step` returns.
    let target = Arc::new(Mutex::new(None::<ark_vm::InstanceId>));
    let seen_target = target.clone();
    let mut vm = Vm::new();
    vm.register_native("poke", Arity::Exactly(0), move |ctx, _| {
        let instance = seen_target.lock().unwrap().expect("set before the call");
        let mut tool = Vm::new();
        std::mem::swap(ctx.heap(), tool.heap_mut());
        let result = tool.call(instance, "idle", &[]);
        std::mem::swap(ctx.heap(), tool.heap_mut());
        result.unwrap();
        Ok(Value::Nil)
    });
    let game = vm
        .load(
            "game.ark",
            "let x = 0;
             fn idle() { return 0; }
             fn step() { x = x + 1; poke(); return 0; }
             fn run() {
                 let seen = [x * 1];
                 for i in 0..2 { step(); seen.push(x * 1); }
                 return seen;
             }",
        )
        .unwrap();
    *target.lock().unwrap() = Some(game);
    let seen = vm.call(game, "run", &[]).unwrap();
    let seen: Vec<i64> = vm.from_value(seen).unwrap();
    assert_eq!(seen, [0, 1, 2]);
}

#[test]
fn a_compound_field_assignment_writes_the_object_it_read() {
    // `target.hp -= 1` reads the field (host code, for a host object) and
    // then writes it: into the object it read, even if the host code
    // pointed the module variable elsewhere in between.
    struct Retarget {
        hp: i64,
        game: Arc<Mutex<Option<ark_vm::InstanceId>>>,
        written: Arc<Mutex<Option<i64>>>,
    }
    impl HostObject for Retarget {
        fn type_name(&self) -> &str {
            "Retarget"
        }
        fn get_field(&self, ctx: &mut NativeCtx<'_>, _: &str) -> Result<Value, NativeError> {
            let game = self.game.lock().unwrap().expect("set before the call");
            let mut tool = Vm::new();
            std::mem::swap(ctx.heap(), tool.heap_mut());
            let other = tool.get_var(game, "other").expect("declared");
            assert!(tool.set_var(game, "target", other));
            std::mem::swap(ctx.heap(), tool.heap_mut());
            Ok(Value::Int(self.hp))
        }
        fn set_field(
            &mut self,
            ctx: &mut NativeCtx<'_>,
            _: &str,
            v: Value,
        ) -> Result<(), NativeError> {
            self.hp = ctx.from_value(v)?;
            *self.written.lock().unwrap() = Some(self.hp);
            Ok(())
        }
    }
    let game_slot = Arc::new(Mutex::new(None));
    let written = Arc::new(Mutex::new(None));
    let mut vm = Vm::new();
    let game = vm
        .load(
            "game.ark",
            "let target = nil;
             let other = {hp: 0};
             fn run() { for i in 0..1 { target.hp -= 1; } return other.hp; }",
        )
        .unwrap();
    *game_slot.lock().unwrap() = Some(game);
    let host = vm
        .alloc_host(Box::new(Retarget {
            hp: 5,
            game: game_slot.clone(),
            written: written.clone(),
        }))
        .unwrap();
    assert!(vm.set_var(game, "target", host));
    assert_eq!(vm.call(game, "run", &[]).unwrap(), Value::Int(0));
    assert_eq!(*written.lock().unwrap(), Some(4));
}

/// Many short calls under one `Budget::Until` deadline share the clock:
/// it is read every thousand instructions or so across them, so a series
/// of calls too short to check on their own still finds the deadline, and
/// once it is found passed a call suspends before it does anything.
#[test]
fn short_calls_under_one_deadline_share_its_clock() {
    let mut vm = Vm::new();
    let game = vm
        .load(
            "tick.ark",
            "let ticks = 0; fn tick() { ticks += 1; } fn spin() { while true { } }",
        )
        .unwrap();
    let run = |vm: &mut Vm, f: &str, budget: Budget| {
        let call = vm.start_call(game, f, &[]).unwrap();
        let result = vm.resume(call, budget);
        if matches!(result, RunResult::Suspended) {
            vm.cancel(call);
        }
        result
    };

    let started = Instant::now();
    let deadline = started + Duration::from_millis(30);
    let mut calls = 0u64;
    while !vm.deadline_passed(deadline) {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{calls} calls and the deadline never found passed"
        );
        run(&mut vm, "tick", Budget::Until(deadline));
        calls += 1;
    }
    assert!(Instant::now() >= deadline);
    // Found passed: the next call under it stops at once, nothing done.
    let ticks = vm.get_var(game, "ticks");
    assert!(matches!(
        run(&mut vm, "tick", Budget::Until(deadline)),
        RunResult::Suspended
    ));
    assert_eq!(vm.get_var(game, "ticks"), ticks);

    // A new deadline starts afresh; an endless loop under one passed
    // stops at the first check and says so.
    let later = Instant::now() + Duration::from_secs(60);
    assert!(matches!(
        run(&mut vm, "tick", Budget::Until(later)),
        RunResult::Done(_)
    ));
    assert!(!vm.deadline_passed(later));
    let passed = Instant::now();
    assert!(matches!(
        run(&mut vm, "spin", Budget::Until(passed)),
        RunResult::Suspended
    ));
    assert!(vm.deadline_passed(passed));
}
