//! Work on strings longer than a slice (64 KiB) is split between resumes
//! (`heap/long_work.rs`): under a small budget such an operation runs over
//! many resumes, gives exactly what it gives in one go, keeps equal
//! strings one value, and lets calls that take turns each finish theirs.

use ark_vm::{Budget, CallId, RunResult, Value, Vm};

/// A script of functions that each make or read long strings.
const SCRIPT: &str = "
    let wide = \"é日a\".repeat(300000);
    let wider = \"日é\".repeat(450000);
    fn concat() { return \"ab\".repeat(200000) + \"cd\".repeat(300000); }
    fn repeat() { return \"xyz\".repeat(400000); }
    fn repeat_long() { return \"é\".repeat(70000).repeat(9); }
    fn upper() { return (\"abc\".repeat(200000) + \"ßé\").upper(); }
    fn lower() { return \"ÀB\".repeat(150000).lower(); }
    fn replace() { return \"one two \".repeat(100000).replace(\"two\", \"three\"); }
    fn replace_long() { return \"ab\".repeat(100).replace(\"b\", \"é\".repeat(40000)); }
    fn trim() { return \"  \" + \"x\".repeat(300000) + \" \\n\"; }
    fn trimmed() { return trim().trim(); }
    fn slice() { return wide.slice(100001, 800002); }
    fn index() { return wider[899999] + wider[3]; }
    fn join() {
        let l = [];
        for i in 0..300 { l.push(str(i).repeat(1000)); }
        l.push(12);
        return l.join(\", \");
    }
    fn less() {
        let a = \"x\".repeat(1000000) + \"a\";
        let b = \"x\".repeat(1000000) + \"b\";
        return [a < b, a <= b, a > b, a >= b, b < a, a < a, a <= a];
    }
    fn same() { return \"ab\".repeat(100000) == \"a\" + \"ba\".repeat(99999) + \"b\"; }
";

/// The text of the string `call` ended with, and how many resumes under
/// `budget` it took.
fn run_to_end(vm: &mut Vm, call: CallId, budget: Budget) -> (Value, usize) {
    let mut resumes = 0;
    loop {
        resumes += 1;
        match vm.resume(call, budget) {
            RunResult::Done(v) => return (v, resumes),
            RunResult::Suspended => {}
            other => panic!("{other:?}"),
        }
    }
}

fn text(vm: &Vm, v: Value) -> String {
    match v {
        Value::Str(k) => vm.heap().str(k).to_string(),
        other => vm.display(other),
    }
}

/// What each function returns, as Rust computes it.
fn expected(f: &str) -> String {
    let wide: String = "é日a".repeat(300000);
    let chars: Vec<char> = wide.chars().collect();
    match f {
        "concat" => "ab".repeat(200000) + &"cd".repeat(300000),
        "repeat" => "xyz".repeat(400000),
        "repeat_long" => "é".repeat(70000 * 9),
        "upper" => ("abc".repeat(200000) + "ßé").to_uppercase(),
        "lower" => "ÀB".repeat(150000).to_lowercase(),
        "replace" => "one two ".repeat(100000).replace("two", "three"),
        "replace_long" => "ab".repeat(100).replace('b', &"é".repeat(40000)),
        "trimmed" => "x".repeat(300000),
        "slice" => chars[100001..800002].iter().collect(),
        "index" => {
            let wider: Vec<char> = "日é".repeat(450000).chars().collect();
            format!("{}{}", wider[899999], wider[3])
        }
        "join" => (0..300)
            .map(|i| i.to_string().repeat(1000))
            .chain(["12".to_string()])
            .collect::<Vec<_>>()
            .join(", "),
        "less" => "[true, true, false, false, false, false, true]".into(),
        "same" => "true".into(),
        _ => unreachable!("{f}"),
    }
}

const FUNCTIONS: &[&str] = &[
    "concat",
    "repeat",
    "repeat_long",
    "upper",
    "lower",
    "replace",
    "replace_long",
    "trimmed",
    "slice",
    "index",
    "join",
    "less",
    "same",
];

#[test]
fn long_string_work_is_split_between_resumes_and_gives_what_it_gives_at_once() {
    let mut vm = Vm::new();
    let game = vm.load("long.ark", SCRIPT).unwrap();
    for &f in FUNCTIONS {
        // 10,000 instructions cover 160 KB of string work: each of these
        // reads or writes megabytes, so it must stop part way many times.
        // (First: what it finds, offsets of characters, it keeps.)
        let call = vm.start_call(game, f, &[]).unwrap();
        let (sliced, resumes) = run_to_end(&mut vm, call, Budget::Instructions(10_000));
        assert_eq!(text(&vm, sliced), expected(f), "{f} in slices");
        assert!(resumes >= 5, "{f}: {resumes} resumes");
        let _kept = vm.root(sliced);
        let whole = vm.call(game, f, &[]).unwrap();
        assert_eq!(text(&vm, whole), expected(f), "{f} in one go");
        // A string is one value however it was made.
        if let (Value::Str(a), Value::Str(b)) = (whole, sliced) {
            assert_eq!(a, b, "{f}: two keys for one string");
        }
    }
}

#[test]
fn calls_taking_turns_each_finish_their_long_work() {
    let mut vm = Vm::new();
    let game = vm.load("long.ark", SCRIPT).unwrap();
    // Started in this order and resumed in turn, as a game resumes its
    // scripts once a frame each.
    let calls: Vec<(&str, CallId)> = FUNCTIONS
        .iter()
        .map(|&f| (f, vm.start_call(game, f, &[]).unwrap()))
        .collect();
    let mut results = vec![None; calls.len()];
    let mut frames = 0;
    while results.iter().any(Option::is_none) {
        frames += 1;
        assert!(frames < 100_000, "the calls never finished");
        for (i, &(f, call)) in calls.iter().enumerate() {
            if results[i].is_some() {
                continue;
            }
            match vm.resume(call, Budget::Instructions(20_000)) {
                RunResult::Done(v) => results[i] = Some(text(&vm, v)),
                RunResult::Suspended => {}
                other => panic!("{f}: {other:?}"),
            }
        }
    }
    for (i, &(f, _)) in calls.iter().enumerate() {
        assert_eq!(results[i].as_deref(), Some(&*expected(f)), "{f}");
    }
}

#[test]
fn a_string_being_built_counts_against_the_heap_until_its_call_is_abandoned() {
    let mut vm = Vm::new();
    let game = vm
        .load("big.ark", "fn big() { return \"ab\".repeat(8000000); }")
        .unwrap();
    vm.full_collect();
    let before = vm.heap().bytes();
    let call = vm.start_call(game, "big", &[]).unwrap();
    for _ in 0..10 {
        assert!(matches!(
            vm.resume(call, Budget::Instructions(10_000)),
            RunResult::Suspended
        ));
    }
    // The buffer of the whole string is counted from the first slice.
    let building = vm.heap().bytes() - before;
    assert!(building >= 16_000_000, "{building} bytes counted");
    vm.cancel(call);
    vm.full_collect();
    let after = vm.heap().bytes() - before;
    assert!(after < 1_000_000, "{after} bytes still counted");
}

#[test]
fn long_work_that_fails_reports_the_line_it_failed_on() {
    let mut vm = Vm::new();
    let game = vm
        .load(
            "fail.ark",
            "fn too_long() {
                 let s = \"ab\".repeat(1000000);
                 let t = s.repeat(200);
                 return t;
             }
             fn join_too_long() {
                 let l = [];
                 for i in 0..200 { l.push(\"x\".repeat(2000000)); }
                 return l.join(\"\");
             }",
        )
        .unwrap();
    for (f, line) in [("too_long", 3), ("join_too_long", 9)] {
        let call = vm.start_call(game, f, &[]).unwrap();
        let error = loop {
            match vm.resume(call, Budget::Instructions(10_000)) {
                RunResult::Suspended => {}
                RunResult::Error(e) => break e,
                other => panic!("{f}: {other:?}"),
            }
        };
        assert!(error.message.contains("string too long"), "{f}: {error}");
        assert_eq!(error.stack[0].line, line, "{f}: {error}");
    }
}
