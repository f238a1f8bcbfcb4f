//! The `ark` command line: exit codes, slicing, disassembly, the REPL.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn ark(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ark"))
        .args(args)
        .output()
        .expect("ark runs")
}

/// Runs the REPL on `input` as its standard input.
fn repl(input: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ark"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ark runs");
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(input)
        .expect("written");
    child.wait_with_output().expect("ark ends")
}

fn script(name: &str, source: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ark-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, source).unwrap();
    path
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn runs_a_script_and_prints_to_stdout() {
    let path = script(
        "hello.ark",
        "let who = \"world\";\nprint(\"hello\", who);\n",
    );
    let out = ark(&[path.to_str().unwrap()]);
    assert!(out.status.success());
    assert_eq!(text(&out.stdout), "hello world\n");
    assert!(out.stderr.is_empty());
}

#[test]
fn a_runtime_error_goes_to_stderr_with_exit_status_1() {
    let path = script(
        "crash.ark",
        "print(\"before\");\nfn f(x) {\n  return x / nil;\n}\nf(1);\n",
    );
    let out = ark(&[path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "before\n");
    let err = text(&out.stderr);
    let name = path.display().to_string();
    assert!(
        err.starts_with(&format!(
            "{name}:3:12: runtime error: cannot divide int and nil"
        )),
        "{err}"
    );
    assert!(err.contains(&format!("  at f ({name}:3)")), "{err}");
    assert!(err.contains(&format!("  at <main> ({name}:5)")), "{err}");
}

#[test]
fn a_compile_error_has_exit_status_1() {
    let path = script("syntax.ark", "let x = 1\nprint(x);\n");
    let out = ark(&[path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains(":2:1: error: expected ';'"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn a_missing_file_or_bad_flag_has_exit_status_2() {
    let out = ark(&["/definitely/not/here.ark"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cannot read"));
    assert_eq!(ark(&["--no-such-flag"]).status.code(), Some(2));
    assert_eq!(ark(&["--slice", "0", "x.ark"]).status.code(), Some(2));
    let help = ark(&["--help"]);
    assert!(help.status.success());
    for flag in ["--slice", "--disasm", "--max-heap-mb"] {
        assert!(text(&help.stdout).contains(flag), "--help lacks {flag}");
    }
}

#[test]
fn sliced_runs_print_exactly_what_unsliced_runs_print() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../vm/tests/conformance");
    let mut compared = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "ark") {
            continue;
        }
        let p = path.to_str().unwrap();
        let whole = ark(&[p]);
        for slice in ["1", "13"] {
            let sliced = ark(&["--slice", slice, p]);
            assert_eq!(whole.stdout, sliced.stdout, "{p} --slice {slice}");
            assert_eq!(whole.stderr, sliced.stderr, "{p} --slice {slice}");
            assert_eq!(whole.status.code(), sliced.status.code(), "{p}");
        }
        compared += 1;
    }
    assert!(compared > 50);
}

#[test]
fn disasm_lists_instructions_with_lines() {
    let path = script(
        "dis.ark",
        "fn add(a, b) {\n  return a + b;\n}\nprint(add(1, 2));\n",
    );
    let out = ark(&["--disasm", path.to_str().unwrap()]);
    assert!(out.status.success());
    let listing = text(&out.stdout);
    assert!(listing.contains("fn <main>"), "{listing}");
    assert!(listing.contains("fn add"), "{listing}");
    assert!(listing.contains("Add { dst: 2, a: 0, b: 1 }"), "{listing}");
    assert!(
        listing
            .lines()
            .any(|l| l.trim_start().starts_with('2') && l.contains("Add")),
        "the Add instruction should be listed on line 2:\n{listing}"
    );
    assert!(listing.contains("a r0"), "locals are listed:\n{listing}");
}

#[test]
fn the_heap_limit_flag_stops_an_allocation_bomb() {
    let path = script(
        "bomb.ark",
        "let all = [];\nwhile true { all.push([1, 2, 3]); }\n",
    );
    let out = ark(&["--max-heap-mb", "4", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    // Whichever allocation fails (the new list or the push), it is on line 2.
    assert!(err.contains("bomb.ark:2:"), "{err}");
    assert!(err.contains("runtime error: out of memory"), "{err}");
}

#[test]
fn the_repl_prints_values_and_survives_errors() {
    let out = repl(b"1 + 2\nlet x = 5;\nnope\nx * 2\nfn f(a) {\n  return [a, \"s\"];\n}\nf(x)\n1 / 0 + nil\nprint(\"still here\")\n");
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    let values: Vec<&str> = stdout.lines().skip(1).collect();
    assert_eq!(values, ["3", "10", "[5, \"s\"]", "still here"]);
    let stderr = text(&out.stderr);
    assert!(stderr.contains("undefined variable 'nope'"), "{stderr}");
    assert!(stderr.contains("cannot add float and nil"), "{stderr}");
}

#[test]
fn gc_stress_runs_print_exactly_what_plain_runs_print() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../vm/tests/conformance");
    for name in [
        "closures_upvalues.ark",
        "program_word_count.ark",
        "list_sort.ark",
        "map_utilities.ark",
        "err_in_function_line.ark",
    ] {
        let p = dir.join(name);
        let p = p.to_str().unwrap();
        let plain = ark(&[p]);
        let stressed = ark(&["--gc-stress", p]);
        assert_eq!(plain.stdout, stressed.stdout, "{name}");
        assert_eq!(plain.stderr, stressed.stderr, "{name}");
        assert_eq!(plain.status.code(), stressed.status.code(), "{name}");
    }
}

#[test]
fn stats_are_printed_to_stderr_at_exit() {
    let path = script(
        "garbage.ark",
        "let n = 0;\nfor i in 0..20000 { let g = [i, {k: i}]; n += 1; }\nprint(n);\n",
    );
    let out = ark(&["--stats", "--gc-stress", path.to_str().unwrap()]);
    assert!(out.status.success());
    assert_eq!(text(&out.stdout), "20000\n");
    let err = text(&out.stderr);
    for part in [
        "heap:",
        "cycles",
        "forced collections",
        "gc steps:",
        "p99",
        "live objects:",
    ] {
        assert!(err.contains(part), "--stats lacks {part:?}:\n{err}");
    }
}

#[test]
fn a_zero_heap_limit_is_an_out_of_memory_error_not_a_crash() {
    let path = script("zero.ark", "print([1, 2, 3]);\n");
    let out = ark(&["--max-heap-mb", "0", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("out of memory"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_byte_order_mark_is_read_past() {
    let path = script("bom.ark", "\u{feff}print(\"ok\");\n");
    let out = ark(&[path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "ok\n");
}

#[test]
fn old_mac_line_endings_give_the_right_line_numbers() {
    let path = script("cr.ark", "let a = 1;\rlet b = 2;\rlet c = nil + 1;\r");
    let out = ark(&[path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("cr.ark:3:"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn invalid_utf8_is_a_compile_error_with_its_position() {
    let dir = std::env::temp_dir().join(format!("ark-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("latin1.ark");
    std::fs::write(&path, b"let a = 1;\nlet s = \"caf\xe9\";\n").unwrap();
    let out = ark(&[path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("latin1.ark:2:13: error: invalid UTF-8 (byte 0xe9)"),
        "{err}"
    );
}

#[test]
fn control_characters_in_an_error_message_are_escaped() {
    let path = script("esc.ark", "error(\"red\\u{1b}[31m\\nforged line\");\n");
    let out = ark(&[path.to_str().unwrap()]);
    let err = text(&out.stderr);
    assert!(err.contains("red\\u{1b}[31m\\nforged line"), "{err}");
    assert!(!err.contains('\u{1b}'), "{err:?}");
    assert_eq!(err.lines().count(), 2, "{err:?}");
}

#[test]
fn the_repl_refuses_a_top_level_return_as_a_script_does() {
    let out = repl(b"return 5;\n2 + 3\n");
    let all = text(&out.stdout) + &text(&out.stderr);
    assert!(all.contains("'return' outside of a function"), "{all}");
    let fives = text(&out.stdout)
        .lines()
        .filter(|l| l.ends_with('5'))
        .count();
    assert_eq!(fives, 1, "only `2 + 3` gives a value: {all}");
}
