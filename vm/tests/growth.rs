//! A list of megabytes grows a slice at a time (`heap/grow.rs`): the push
//! that needs room runs over several resumes under a small budget, the
//! list keeps every item, and a change another call makes to it in the
//! meantime is kept. A big map grows without moving its entries
//! (`heap/big_map.rs`). Inserting into or removing from the front of a
//! long list builds its new buffer the same way (`heap/shift.rs`): it keeps them, in order, through growth and
//! removal, and gives its storage back when it is freed.

use ark_vm::{Budget, CallId, RunResult, Value, Vm};

const SCRIPT: &str = r#"
    let l = [];
    let m = {};
    fn fill_list(n) { for i in 0..n { l.push(i); } }
    fn fill_map(n) { for i in 0..n { m[i] = i; } }
    fn fill_named(n) { for i in 0..n { m["k" + str(i)] = i; } }
    fn drop_map() { m = {}; }
    fn fill_lists(n) { for i in 0..n { m[i] = [i, i]; } }
    fn lists_intact() {
        for i in 0..len(m) { if m[i][1] != i { return i; } }
        return -1;
    }
    fn remove_every(k) { for i in 0..100 { remove(m, i * k); } }
    fn remove_range(a, b) { for i in a..b { remove(m, i); } }
    fn boxed_values_intact() {
        for key, v in m { if v[1] != key { return key; } }
        return -1;
    }
    fn named_sum() { return m["k99999"] + m["k5000"]; }
    fn map_in_order() {
        let n = 0;
        for key, v in m { if m[key] != v { return ["wrong value at", key]; } n += 1; }
        return n;
    }
    fn push_one() { l.push(len(l)); }
    fn remove_first() { return l.remove(0); }
    fn insert_first() { l.insert(0, -1); }
    fn remove_at(i) { return l.remove(i); }
    fn counts_from(k) {
        for i in 0..len(l) { if l[i] != i + k { return i; } }
        return -1;
    }
    fn fill_boxes(n) { for i in 0..n { l.push([i]); } }
    fn boxes_intact(offset) {
        for i in 0..len(l) { if l[i][0] != i + offset { return i; } }
        return -1;
    }
    fn insert_one() { l.insert(0, -1); }
    fn set_first(v) { l[0] = v; }
    fn list_intact(offset) {
        for i in offset..len(l) { if l[i] != i - offset { return i; } }
        return -1;
    }
    fn map_intact() {
        let i = 0;
        for key, v in m { if key != v { return key; } if v < i { return ["out of order at", v]; } i = v; }
        return -1;
    }
"#;

/// A small budget: a slice of growth (64 KiB of copying) uses it all.
const SMALL: Budget = Budget::Instructions(100);

/// Starts `f` and resumes it once under the small budget: the call, if it
/// did not finish.
fn start(vm: &mut Vm, game: ark_vm::InstanceId, f: &str) -> Option<CallId> {
    let call = vm.start_call(game, f, &[]).unwrap();
    match vm.resume(call, SMALL) {
        RunResult::Done(_) => None,
        RunResult::Suspended => Some(call),
        other => panic!("{f}: {other:?}"),
    }
}

/// Resumes `call` to its end under the small budget: how many resumes it
/// took.
fn finish(vm: &mut Vm, call: CallId) -> usize {
    let mut resumes = 0;
    loop {
        resumes += 1;
        match vm.resume(call, SMALL) {
            RunResult::Done(_) => return resumes,
            RunResult::Suspended => {}
            other => panic!("{other:?}"),
        }
    }
}

/// Runs `f` (adding one item to the container `var`) until a run of it
/// stops part way, the item not added yet (the container must grow): that
/// call.
fn until_growth_starts(vm: &mut Vm, game: ark_vm::InstanceId, f: &str, var: &str) -> CallId {
    for _ in 0..200_000 {
        let len = len_of(vm, game, var);
        match start(vm, game, f) {
            Some(call) if len_of(vm, game, var) == len => return call,
            Some(call) => {
                finish(vm, call);
            }
            None => {}
        }
    }
    panic!("{f}: no growth split between resumes");
}

fn int(vm: &mut Vm, game: ark_vm::InstanceId, f: &str, args: &[Value]) -> i64 {
    match vm.call(game, f, args).unwrap() {
        Value::Int(i) => i,
        other => panic!("{f}: {other:?}"),
    }
}

fn len_of(vm: &Vm, game: ark_vm::InstanceId, var: &str) -> usize {
    let v = vm.get_var(game, var).unwrap();
    match v {
        Value::List(l) => vm.heap().list_items(l).unwrap().len(),
        Value::Map(m) => vm.heap().map_entries(m).unwrap().count(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_long_list_grows_over_several_resumes_and_keeps_its_items() {
    for f in ["push_one", "insert_one"] {
        let mut vm = Vm::new();
        let game = vm.load("grow.ark", SCRIPT).unwrap();
        // 131,072 items (2 MiB), its buffer full: the next item grows it.
        vm.call(game, "fill_list", &[Value::Int(131_072)]).unwrap();
        let call = until_growth_starts(&mut vm, game, f, "l");
        // Part way, nothing has been added yet.
        assert!(
            matches!(vm.resume(call, SMALL), RunResult::Suspended),
            "{f}"
        );
        assert_eq!(len_of(&vm, game, "l"), 131_072, "{f}");
        let resumes = finish(&mut vm, call) + 2;
        assert!(resumes >= 5, "{f}: grew in {resumes} resumes");
        // Every item is where it was, and the new one where it was put.
        let Some(Value::List(l)) = vm.get_var(game, "l") else {
            unreachable!()
        };
        let items = vm.heap().list_items(l).unwrap();
        assert_eq!(items.len(), 131_073, "{f}");
        let (added, kept) = match f {
            "push_one" => (items[131_072], &items[..131_072]),
            _ => (items[0], &items[1..]),
        };
        let expected_added = if f == "push_one" { 131_072 } else { -1 };
        assert_eq!(added, Value::Int(expected_added), "{f}");
        for (i, v) in kept.iter().enumerate() {
            assert_eq!(*v, Value::Int(i as i64), "{f}: item {i}");
        }
    }
}

#[test]
fn a_change_made_while_a_list_grows_is_kept() {
    let mut vm = Vm::new();
    let game = vm.load("grow.ark", SCRIPT).unwrap();
    vm.call(game, "fill_list", &[Value::Int(131_072)]).unwrap();
    let call = until_growth_starts(&mut vm, game, "push_one", "l");
    assert!(matches!(vm.resume(call, SMALL), RunResult::Suspended));
    // Another call changes an item already copied, then the growth ends.
    vm.call(game, "set_first", &[Value::Int(99)]).unwrap();
    finish(&mut vm, call);
    let Some(Value::List(l)) = vm.get_var(game, "l") else {
        unreachable!()
    };
    assert_eq!(vm.heap().list_items(l).unwrap()[0], Value::Int(99));
    vm.call(game, "set_first", &[Value::Int(0)]).unwrap();
    assert_eq!(int(&mut vm, game, "list_intact", &[Value::Int(0)]), -1);
}

#[test]
fn a_growth_abandoned_gives_its_memory_back() {
    let mut vm = Vm::new();
    let game = vm.load("grow.ark", SCRIPT).unwrap();
    vm.call(game, "fill_list", &[Value::Int(131_072)]).unwrap();
    let call = until_growth_starts(&mut vm, game, "push_one", "l");
    vm.full_collect();
    let growing = vm.heap().bytes();
    vm.cancel(call);
    vm.full_collect();
    let after = vm.heap().bytes();
    // The new buffer (twice the list's) was counted, and is no longer.
    assert!(growing - after >= 2_000_000, "{growing} then {after}");
}

#[test]
fn a_big_map_keeps_its_entries_in_order_through_growth_and_removal() {
    let mut vm = Vm::new();
    let game = vm.load("grow.ark", SCRIPT).unwrap();
    // Past 4,096 entries a map is big; 200,000 take 196 chunks.
    vm.call(game, "fill_map", &[Value::Int(200_000)]).unwrap();
    assert_eq!(len_of(&vm, game, "m"), 200_000);
    assert_eq!(int(&mut vm, game, "map_intact", &[]), -1);
    // Removing keys from every chunk keeps the rest in order, each found
    // by its key.
    vm.call(game, "remove_every", &[Value::Int(1999)]).unwrap();
    assert_eq!(len_of(&vm, game, "m"), 200_000 - 100);
    assert_eq!(int(&mut vm, game, "map_intact", &[]), -1);
    assert_eq!(int(&mut vm, game, "map_in_order", &[]), 200_000 - 100);
    let Some(Value::Map(m)) = vm.get_var(game, "m") else {
        unreachable!()
    };
    let first: Vec<Value> = vm
        .heap()
        .map_entries(m)
        .unwrap()
        .take(3)
        .map(|(_, v)| v)
        .collect();
    assert_eq!(first, [Value::Int(1), Value::Int(2), Value::Int(3)]);
}

#[test]
fn a_big_map_of_string_keys_is_found_by_name() {
    let mut vm = Vm::new();
    let game = vm.load("grow.ark", SCRIPT).unwrap();
    vm.call(game, "fill_named", &[Value::Int(100_000)]).unwrap();
    assert_eq!(int(&mut vm, game, "named_sum", &[]), 99_999 + 5_000);
}

#[test]
fn a_big_map_freed_gives_its_storage_back() {
    let mut vm = Vm::new();
    let game = vm.load("grow.ark", SCRIPT).unwrap();
    vm.full_collect();
    let before = vm.heap().bytes();
    vm.call(game, "fill_map", &[Value::Int(200_000)]).unwrap();
    let full = vm.heap().bytes();
    vm.call(game, "drop_map", &[]).unwrap();
    vm.full_collect();
    let after = vm.heap().bytes();
    assert!(full - before > 8_000_000, "{before} then {full}");
    assert!(after < before + 100_000, "{before}, {full}, then {after}");
}

#[test]
fn a_big_map_filled_while_the_collector_runs_keeps_every_value() {
    let mut vm = Vm::new();
    let game = vm.load("grow.ark", SCRIPT).unwrap();
    let call = vm
        .start_call(game, "fill_lists", &[Value::Int(60_000)])
        .unwrap();
    // Collector steps between resumes, as a game gives them: cycles start
    // and end while the map grows.
    loop {
        match vm.resume(call, Budget::Instructions(2_000)) {
            RunResult::Done(_) => break,
            RunResult::Suspended => {
                vm.gc_step(Budget::Instructions(500));
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(
        vm.gc_report().cycles >= 2,
        "{} cycles",
        vm.gc_report().cycles
    );
    vm.full_collect();
    assert_eq!(int(&mut vm, game, "lists_intact", &[]), -1);
}

/// Starts `f` on a list of 131,072 items (2 MiB of them to move) with room
/// to spare, and resumes it under the small budget until it has run a
/// few resumes past its start: the call, still running, the list as it
/// was.
fn shift_under_way(vm: &mut Vm, game: ark_vm::InstanceId, f: &str) -> CallId {
    let call = vm.start_call(game, f, &[]).unwrap();
    for _ in 0..3 {
        assert!(
            matches!(vm.resume(call, SMALL), RunResult::Suspended),
            "{f}"
        );
        assert_eq!(len_of(vm, game, "l"), 131_072, "{f}: changed part way");
    }
    call
}

fn list_with_room(vm: &mut Vm, game: ark_vm::InstanceId) {
    vm.call(game, "fill_list", &[Value::Int(131_073)]).unwrap();
    vm.call(game, "remove_at", &[Value::Int(131_072)]).unwrap();
}

#[test]
fn removing_and_inserting_at_the_front_of_a_long_list_takes_several_resumes() {
    let mut vm = Vm::new();
    let game = vm.load("grow.ark", SCRIPT).unwrap();
    list_with_room(&mut vm, game);
    let call = shift_under_way(&mut vm, game, "remove_first");
    let resumes = finish_with(&mut vm, call);
    assert_eq!(resumes.1, Value::Int(0));
    assert!(resumes.0 >= 5, "removed in {} resumes", resumes.0 + 3);
    assert_eq!(len_of(&vm, game, "l"), 131_071);
    assert_eq!(int(&mut vm, game, "counts_from", &[Value::Int(1)]), -1);

    vm.call(game, "push_one", &[]).unwrap();
    let call = shift_under_way(&mut vm, game, "insert_first");
    let resumes = finish_with(&mut vm, call);
    assert!(resumes.0 >= 5, "inserted in {} resumes", resumes.0 + 3);
    assert_eq!(len_of(&vm, game, "l"), 131_073);
    let Some(Value::List(l)) = vm.get_var(game, "l") else {
        unreachable!()
    };
    assert_eq!(vm.heap().list_items(l).unwrap()[0], Value::Int(-1));
    assert_eq!(vm.heap().list_items(l).unwrap()[1], Value::Int(1));
}

/// Resumes `call` to its end under the small budget: the resumes and the
/// result.
fn finish_with(vm: &mut Vm, call: CallId) -> (usize, Value) {
    let mut resumes = 0;
    loop {
        resumes += 1;
        match vm.resume(call, SMALL) {
            RunResult::Done(v) => return (resumes, v),
            RunResult::Suspended => {}
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn a_change_made_while_an_item_is_removed_is_seen_by_the_removal() {
    let mut vm = Vm::new();
    let game = vm.load("grow.ark", SCRIPT).unwrap();
    list_with_room(&mut vm, game);
    let call = shift_under_way(&mut vm, game, "remove_first");
    // Another call changes the first item: the removal starts over and
    // removes what the list holds when it ends.
    vm.call(game, "set_first", &[Value::Int(99)]).unwrap();
    assert_eq!(finish_with(&mut vm, call).1, Value::Int(99));
    assert_eq!(len_of(&vm, game, "l"), 131_071);
    assert_eq!(int(&mut vm, game, "counts_from", &[Value::Int(1)]), -1);
}

#[test]
fn a_removal_abandoned_leaves_the_list_whole_and_gives_its_memory_back() {
    let mut vm = Vm::new();
    let game = vm.load("grow.ark", SCRIPT).unwrap();
    list_with_room(&mut vm, game);
    vm.full_collect();
    let before = vm.heap().bytes();
    let call = shift_under_way(&mut vm, game, "remove_first");
    assert!(
        vm.heap().bytes() - before >= 2_000_000,
        "the new buffer counts"
    );
    vm.cancel(call);
    vm.full_collect();
    assert_eq!(vm.heap().bytes(), before);
    assert_eq!(len_of(&vm, game, "l"), 131_072);
    assert_eq!(int(&mut vm, game, "list_intact", &[Value::Int(0)]), -1);
}

#[test]
fn items_moved_to_the_front_while_the_collector_marks_are_kept() {
    let mut vm = Vm::new();
    let game = vm.load("grow.ark", SCRIPT).unwrap();
    // 131,072 lists of one item each: the collector traces the list in
    // chunks, and each removal moves every later box past its cursor.
    vm.call(game, "fill_boxes", &[Value::Int(131_072)]).unwrap();
    for removed in 0..4 {
        let call = vm.start_call(game, "remove_first", &[]).unwrap();
        loop {
            vm.gc_step_forced(Budget::Instructions(2_000));
            match vm.resume(call, SMALL) {
                RunResult::Done(_) => break,
                RunResult::Suspended => {}
                other => panic!("{other:?}"),
            }
        }
        vm.validate_heap().unwrap();
        assert_eq!(
            int(&mut vm, game, "boxes_intact", &[Value::Int(removed + 1)]),
            -1
        );
    }
    vm.full_collect();
    vm.validate_heap().unwrap();
    assert_eq!(int(&mut vm, game, "boxes_intact", &[Value::Int(4)]), -1);
}

#[test]
fn entries_of_a_big_map_removed_from_while_the_collector_marks_are_kept() {
    let mut vm = Vm::new();
    let game = vm.load("grow.ark", SCRIPT).unwrap();
    // 20,000 lists in a big map: the collector traces it 64 entries at a
    // time, and each removal before its place moves every later entry
    // down past it.
    vm.call(game, "fill_lists", &[Value::Int(20_000)]).unwrap();
    let cycles = vm.gc_report().cycles;
    let mut from = 0;
    for round in 0.. {
        vm.gc_step_forced(Budget::Instructions(500));
        let args = [Value::Int(from), Value::Int(from + 20)];
        vm.call(game, "remove_range", &args).unwrap();
        from = (from + 997) % 19_000;
        if round % 16 == 0 {
            vm.validate_heap().unwrap();
        }
        if vm.gc_report().cycles >= cycles + 2 {
            break;
        }
    }
    vm.full_collect();
    vm.validate_heap().unwrap();
    assert_eq!(int(&mut vm, game, "boxed_values_intact", &[]), -1);
}
