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
    fn join_chain() {
        let ab = \"ab\".repeat(100000);
        return ab + \"|\" + \"é\".repeat(50000) + \"|\" + ab + str(7);
    }
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
    fn show() {
        let a = [1, \"x\\\"y\", 2.5, {\"k\": [nil, true]}];
        for i in 0..15 { a = [a, a]; }
        return str(a);
    }
    fn show_long() { return str([\"é\\n\".repeat(100000), wide]); }
    fn split() { return (\"ab,\".repeat(100000) + \"é\".repeat(50000) + \",\" + \"x\".repeat(70000)).split(\",\"); }
    fn split_wide() { return (\"日é::\".repeat(50000)).split(\"é::\"); }
    fn chars() { return (\"aé日\".repeat(100000)).chars(); }
    fn sort_numbers() {
        let l = [];
        for i in 0..30000 { l.push((i * 7919) % 30011); l.push(((i * 104729) % 30011) + 0.5); }
        l.sort();
        return [len(l), l[0], l[1], l[29999], l[59999]];
    }
    fn sort_strings() {
        let l = [];
        for i in 0..40 { l.push(\"x\".repeat(100000) + str((i * 7) % 40)); }
        l.sort();
        let tail = fn(s) { return s.slice(100000, len(s)); };
        return [tail(l[0]), tail(l[1]), tail(l[2]), tail(l[39])];
    }
    fn contains() { return [wide.contains(\"aé\"), wide.contains(\"x\"), (wide + \"xyz\").contains(\"yz\"), wide.contains(\"\")]; }
    fn find() { return [(wide + \"needle\" + wide).find(\"needle\"), wide.find(\"日a\"), wide.find(\"zz\"), (\"x\".repeat(300000) + \"é\").find(\"é\")]; }
    fn affixes() {
        let big = \"ab\".repeat(100000);
        return [(big + \"x\").starts_with(big), big.starts_with(big + \"x\"), (big + \"x\").ends_with(big),
                (\"x\" + big).ends_with(big), (\"y\" + big).ends_with(\"x\" + big), (big + \"y\").starts_with(big + \"x\")];
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
        "join_chain" => {
            let ab = "ab".repeat(100000);
            format!("{ab}|{}|{ab}7", "é".repeat(50000))
        }
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
        "show" => (0..15).fold(
            r#"[1, "x\"y", 2.5, {"k": [nil, true]}]"#.to_string(),
            |a, _| format!("[{a}, {a}]"),
        ),
        "show_long" => format!("[\"{}\", \"{wide}\"]", "é\\n".repeat(100000)),
        "split" => {
            let text = "ab,".repeat(100000) + &"é".repeat(50000) + "," + &"x".repeat(70000);
            show_list(text.split(','))
        }
        "split_wide" => show_list("日é::".repeat(50000).split("é::")),
        "chars" => show_list("aé日".repeat(100000).chars().map(String::from)),
        "sort_numbers" => {
            let mut l: Vec<f64> = (0..30000u64)
                .flat_map(|i| {
                    [
                        ((i * 7919) % 30011) as f64,
                        ((i * 104729) % 30011) as f64 + 0.5,
                    ]
                })
                .collect();
            l.sort_by(f64::total_cmp);
            let show = |f: f64| {
                if f.fract() == 0.0 {
                    format!("{f}")
                } else {
                    format!("{f:?}")
                }
            };
            format!(
                "[60000, {}, {}, {}, {}]",
                show(l[0]),
                show(l[1]),
                show(l[29999]),
                show(l[59999])
            )
        }
        "sort_strings" => r#"["0", "1", "10", "9"]"#.into(),
        "contains" => format!(
            "[{}, {}, {}, {}]",
            wide.contains("aé"),
            wide.contains('x'),
            (wide.clone() + "xyz").contains("yz"),
            wide.contains("")
        ),
        "find" => {
            let twice = wide.clone() + "needle" + &wide;
            let at = |text: &str, pattern: &str| match text.find(pattern) {
                Some(b) => text[..b].chars().count().to_string(),
                None => "nil".into(),
            };
            format!(
                "[{}, {}, {}, {}]",
                at(&twice, "needle"),
                at(&wide, "日a"),
                at(&wide, "zz"),
                at(&("x".repeat(300000) + "é"), "é")
            )
        }
        "affixes" => {
            let big = "ab".repeat(100000);
            format!(
                "[{}, {}, {}, {}, {}, {}]",
                (big.clone() + "x").starts_with(&big),
                big.starts_with(&(big.clone() + "x")),
                (big.clone() + "x").ends_with(&big),
                ("x".to_string() + &big).ends_with(&big),
                ("y".to_string() + &big).ends_with(&("x".to_string() + &big)),
                (big.clone() + "y").starts_with(&(big.clone() + "x")),
            )
        }
        "same" => "true".into(),
        _ => unreachable!("{f}"),
    }
}

const FUNCTIONS: &[&str] = &[
    "concat",
    "join_chain",
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
    "show",
    "show_long",
    "split",
    "split_wide",
    "chars",
    "sort_numbers",
    "sort_strings",
    "contains",
    "find",
    "affixes",
    "same",
];

/// A list of strings as `str` shows it.
fn show_list<S: AsRef<str>>(items: impl Iterator<Item = S>) -> String {
    let quoted: Vec<String> = items.map(|s| format!("\"{}\"", s.as_ref())).collect();
    format!("[{}]", quoted.join(", "))
}

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
             }
             fn sort_nan() {
                 let l = [];
                 for i in 0..100000 { l.push(i * 1.0); }
                 l.push(0.0 / 0.0);
                 l.sort();
             }",
        )
        .unwrap();
    for (f, message, line) in [
        ("too_long", "string too long", 3),
        ("join_too_long", "string too long", 9),
        ("sort_nan", "cannot sort NaN", 15),
    ] {
        let call = vm.start_call(game, f, &[]).unwrap();
        let error = loop {
            match vm.resume(call, Budget::Instructions(10_000)) {
                RunResult::Suspended => {}
                RunResult::Error(e) => break e,
                other => panic!("{f}: {other:?}"),
            }
        };
        assert!(error.message.contains(message), "{f}: {error}");
        assert_eq!(error.stack[0].line, line, "{f}: {error}");
    }
}

#[test]
fn a_list_that_another_call_lengthens_while_it_is_sorted_is_an_error() {
    let mut vm = Vm::new();
    let game = vm
        .load(
            "shared.ark",
            "let l = [];
             for i in 0..100000 { l.push(100000 - i); }
             fn sort() { l.sort(); return l[0]; }
             fn grow() { l.push(0); }",
        )
        .unwrap();
    // Past the copy of the items (100,000 of them, 16 bytes of work each:
    // about ten resumes), into the merging.
    let call = vm.start_call(game, "sort", &[]).unwrap();
    for _ in 0..30 {
        assert!(matches!(
            vm.resume(call, Budget::Instructions(10_000)),
            RunResult::Suspended
        ));
    }
    vm.call(game, "grow", &[]).unwrap();
    let (result, _) = loop {
        match vm.resume(call, Budget::Instructions(10_000)) {
            RunResult::Suspended => {}
            other => break (other, ()),
        }
    };
    let RunResult::Error(error) = result else {
        panic!("{result:?}")
    };
    assert!(
        error
            .message
            .contains("the list changed while it was sorted"),
        "{error}"
    );
}

#[test]
fn printing_a_big_structure_in_slices_prints_what_it_prints_at_once() {
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut vm = Vm::new();
    let sink = lines.clone();
    vm.set_print(move |line| sink.lock().unwrap().push(line.to_string()));
    let game = vm
        .load(
            "print.ark",
            "fn show() { let a = [\"ab\", {\"c\": 1.5}]; for i in 0..16 { a = [a, a]; } print(1, a, \"end\"); }",
        )
        .unwrap();
    vm.call(game, "show", &[]).unwrap();
    let call = vm.start_call(game, "show", &[]).unwrap();
    let (_, resumes) = run_to_end(&mut vm, call, Budget::Instructions(10_000));
    let lines = lines.lock().unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0], lines[1]);
    assert!(lines[0].starts_with("1 [[[[") && lines[0].ends_with("]]]] end"));
    assert!(resumes >= 5, "{resumes} resumes");
}

#[test]
fn a_big_string_swept_is_given_back_a_piece_at_a_time() {
    let mut vm = Vm::new();
    let game = vm
        .load(
            "free.ark",
            "let s = \"ab\".repeat(8000000); fn forget() { s = nil; }",
        )
        .unwrap();
    vm.full_collect();
    let held = vm.heap().bytes();
    vm.call(game, "forget", &[]).unwrap();
    // Steps of 3,000 units give back at most two megabytes each (a piece
    // is 2,048 units of work): freed in one go it would be one step.
    let mut steps = 0;
    while vm.heap().bytes() + 15_000_000 > held {
        vm.gc_step_forced(Budget::Instructions(3_000));
        steps += 1;
        assert!(steps < 100_000, "never given back");
    }
    assert!(steps >= 8, "16 MB given back in {steps} steps");
}

/// The program the `programs` fuzz target stopped on once (a panic whose
/// message was not kept; it did not happen again in 600 runs of it, nor in
/// 44,479 runs of the target after printing's short path): printing a
/// list in an endless loop, resumed with collector steps between.
#[test]
fn printing_lists_in_an_endless_loop_keeps_the_heap_valid() {
    let mut vm = Vm::with_config(ark_vm::VmConfig {
        heap_limit: 8 << 20,
        max_string_len: 256 << 10,
        ..ark_vm::VmConfig::default()
    });
    let printed = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = printed.clone();
    vm.set_print(move |line| {
        assert_eq!(line, "[0, 0]");
        count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    });
    let module = vm
        .compile(
            "gen.ark",
            "yield; let v1 = 0; while true { let v4 = print([0, 0]); let v5 = 0; }",
        )
        .unwrap();
    let instance = vm.instantiate(&module);
    let call = vm.start_init(instance);
    for _ in 0..200 {
        let result = vm.resume(call, Budget::Instructions(5_000));
        assert!(matches!(result, RunResult::Suspended), "{result:?}");
        vm.gc_step(Budget::Instructions(500));
    }
    vm.full_collect();
    vm.validate_heap().unwrap();
    assert!(printed.load(std::sync::atomic::Ordering::Relaxed) > 1000);
}

#[test]
fn searching_a_long_string_is_split_between_resumes() {
    let mut vm = Vm::new();
    let game = vm
        .load(
            "search.ark",
            "let hay = \"x\".repeat(3000000) + \"é\";
             let prefix = \"x\".repeat(2000000) + \"y\";
             fn contains() { return hay.contains(\"xé\"); }
             fn find() { return hay.find(\"é\"); }
             fn starts() { return hay.starts_with(prefix); }",
        )
        .unwrap();
    for (f, expected) in [
        ("contains", "true"),
        ("find", "3000000"),
        ("starts", "false"),
    ] {
        let call = vm.start_call(game, f, &[]).unwrap();
        let (v, resumes) = run_to_end(&mut vm, call, Budget::Instructions(10_000));
        assert_eq!(text(&vm, v), expected, "{f}");
        // Only the search's work: megabytes, so many slices.
        assert!(resumes >= 10, "{f}: {resumes} resumes");
    }
}

/// A pattern longer than a slice is looked for a slice of work at a time
/// (`heap/long_pattern.rs`), in every native that searches.
#[test]
fn a_pattern_longer_than_a_slice_is_searched_for_over_several_resumes() {
    let mut vm = Vm::new();
    let game = vm
        .load(
            "long_pattern.ark",
            "let hay = \"a\".repeat(2000000) + \"b\" + \"é\".repeat(250000);
             let pat = \"a\".repeat(200000) + \"b\";
             let missing = \"a\".repeat(100000) + \"c\";
             fn contains() { return [hay.contains(pat), hay.contains(missing)]; }
             fn find() { return [hay.find(pat), hay.find(missing), (\"é\" + hay).find(pat)]; }
             fn replace() { let r = hay.replace(pat, \"X\"); return [len(r), r.find(\"X\")]; }
             fn split() { let p = hay.split(pat); return [len(p), len(p[0]), len(p[1])]; }",
        )
        .unwrap();
    for (f, expected) in [
        ("contains", "[true, false]"),
        ("find", "[1800000, nil, 1800001]"),
        ("replace", "[2050001, 1800000]"),
        ("split", "[2, 1800000, 250000]"),
    ] {
        let call = vm.start_call(game, f, &[]).unwrap();
        let (v, resumes) = run_to_end(&mut vm, call, Budget::Instructions(10_000));
        assert_eq!(text(&vm, v), expected, "{f}");
        assert!(resumes >= 10, "{f}: {resumes} resumes");
    }
}

#[test]
fn walking_a_long_list_is_split_between_resumes() {
    let mut vm = Vm::new();
    let game = vm
        .load(
            "walk.ark",
            "let l = []; for i in 0..300000 { l.push(i); }
             fn contains() { return [l.contains(299999), l.contains(-1), l.index_of(250000)]; }
             fn copy() { let c = l.copy(); return [len(c), c[0], c[299999], c == l]; }
             fn slice() { let c = l.slice(1000, 290000); return [len(c), c[0], c[288999]]; }
             fn reverse() { l.reverse(); let r = [l[0], l[299999], l[150000]]; l.reverse(); return r; }
             let m = {}; for i in 0..300000 { m[i * 2] = i; }
             fn map_keys() { let k = keys(m); return [len(k), k[0], k[299999]]; }
             fn map_values() { let v = values(m); return [len(v), v[0], v[299999]]; }",
        )
        .unwrap();
    for (f, expected) in [
        ("map_keys", "[300000, 0, 599998]"),
        ("map_values", "[300000, 0, 299999]"),
        ("contains", "[true, false, 250000]"),
        ("copy", "[300000, 0, 299999, false]"),
        ("slice", "[289000, 1000, 289999]"),
        ("reverse", "[299999, 0, 149999]"),
    ] {
        let call = vm.start_call(game, f, &[]).unwrap();
        let (v, resumes) = run_to_end(&mut vm, call, Budget::Instructions(10_000));
        assert_eq!(text(&vm, v), expected, "{f}");
        // 300,000 items walked (twice for reverse): many slices.
        assert!(resumes >= 10, "{f}: {resumes} resumes");
        // The same at once.
        let whole = vm.call(game, f, &[]).unwrap();
        assert_eq!(text(&vm, whole), expected, "{f} in one go");
    }
}

#[test]
fn a_list_that_another_call_lengthens_while_it_is_reversed_is_an_error() {
    let mut vm = Vm::new();
    let game = vm
        .load(
            "walk.ark",
            "let l = []; for i in 0..300000 { l.push(i); }
             fn reverse() { l.reverse(); }
             fn grow() { l.push(1); }",
        )
        .unwrap();
    let call = vm.start_call(game, "reverse", &[]).unwrap();
    assert!(matches!(
        vm.resume(call, Budget::Instructions(10_000)),
        RunResult::Suspended
    ));
    vm.call(game, "grow", &[]).unwrap();
    match vm.resume(call, Budget::Unlimited) {
        RunResult::Error(e) => assert!(e.message.contains("changed"), "{e}"),
        other => panic!("{other:?}"),
    }
}
