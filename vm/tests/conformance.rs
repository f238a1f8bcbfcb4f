//! The conformance suite: every `.ark` file in `tests/conformance/` carries
//! its expected output and errors in comments:
//!
//! - `// expect: TEXT` — the next line of output;
//! - `// expect runtime error: MESSAGE` — a runtime error whose message
//!   contains MESSAGE, raised on this line;
//! - `// expect compile error: MESSAGE` — a compile error whose message
//!   contains MESSAGE, on this line.
//!
//! Each file runs unsliced, again with every check of the budget a
//! suspension point (`Budget::Instructions(1)`: every call, loop round and
//! native call; with a collector step between slices), and
//! under collector stress (a full collection at every allocation); every
//! run must match the file, within `INSTRUCTION_LIMIT` instructions.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ark_vm::{Budget, Error, RunResult, Vm, VmConfig};

#[derive(Debug, PartialEq)]
enum Outcome {
    Ok,
    Runtime {
        line: u32,
        message: String,
    },
    Compile {
        line: u32,
        message: String,
    },
    /// Still running after `INSTRUCTION_LIMIT` instructions: a script that
    /// should end but loops forever fails instead of hanging the suite.
    Unfinished,
}

/// Far more than any script in the suite runs.
const INSTRUCTION_LIMIT: u64 = 50_000_000;

struct Expectation {
    output: Vec<String>,
    error: Option<(bool, u32, String)>, // (is_compile, line, message)
}

fn parse_expectations(source: &str) -> Expectation {
    let mut output = Vec::new();
    let mut error = None;
    for (i, line) in source.lines().enumerate() {
        let line_no = i as u32 + 1;
        if let Some(idx) = line.find("// expect: ") {
            output.push(line[idx + "// expect: ".len()..].trim_end().to_string());
        } else if let Some(idx) = line.find("// expect runtime error: ") {
            let msg = line[idx + "// expect runtime error: ".len()..].trim_end();
            error = Some((false, line_no, msg.to_string()));
        } else if let Some(idx) = line.find("// expect compile error: ") {
            let msg = line[idx + "// expect compile error: ".len()..].trim_end();
            error = Some((true, line_no, msg.to_string()));
        }
    }
    Expectation { output, error }
}

/// How a script is run.
#[derive(Clone, Copy, Debug)]
enum Mode {
    /// To completion in one go.
    Whole,
    /// In slices of this many instructions.
    Sliced(u64),
    /// In slices of this many instructions, with a small collector step
    /// between slices that starts a new cycle whenever the last one ended,
    /// so marking and sweeping interleave with the script everywhere.
    SlicedWithGc(u64),
    /// With a full collection at every allocation.
    Stress,
    /// With a collector step of this many work units at every allocation,
    /// the heap validated after each.
    SlicedStress(u32),
}

/// Runs a script in `mode`.
fn run(name: &str, source: &str, mode: Mode) -> (Vec<String>, Outcome) {
    let mut vm = Vm::with_config(VmConfig {
        gc_stress: matches!(mode, Mode::Stress).then_some(1),
        gc_stress_sliced: match mode {
            Mode::SlicedStress(work) => Some(work),
            _ => None,
        },
        ..VmConfig::default()
    });
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    // A printed string with newlines is several lines of output.
    vm.set_print(move |l| {
        let mut lines = sink.lock().unwrap();
        lines.extend(l.split('\n').map(str::to_string));
    });
    let outcome = match vm.compile(name, source) {
        Err(e) => Outcome::Compile {
            line: e.line,
            message: e.message,
        },
        Ok(module) => {
            let instance = vm.instantiate(&module);
            let call = vm.start_init(instance);
            let slice = match mode {
                Mode::Sliced(n) | Mode::SlicedWithGc(n) => n,
                _ => INSTRUCTION_LIMIT,
            };
            loop {
                match vm.resume(call, Budget::Instructions(slice)) {
                    RunResult::Suspended => {
                        if vm.instructions_executed() >= INSTRUCTION_LIMIT {
                            break Outcome::Unfinished;
                        }
                        if let Mode::SlicedWithGc(_) = mode {
                            vm.gc_step_forced(Budget::Instructions(40));
                        }
                    }
                    RunResult::Done(_) => break Outcome::Ok,
                    RunResult::Stopped(why) => panic!("stopped without a debugger: {why:?}"),
                    RunResult::Error(e) => {
                        break Outcome::Runtime {
                            line: e.line().unwrap_or(0),
                            message: e.message,
                        };
                    }
                }
            }
        }
    };
    let out = lines.lock().unwrap().clone();
    (out, outcome)
}

fn check(path: &Path, mode: Mode) -> Result<(), String> {
    let source = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    let exp = parse_expectations(&source);
    let (out, outcome) = run(&name, &source, mode);
    if out != exp.output {
        return Err(format!(
            "{name} ({mode:?}): output differs\n  expected: {:?}\n  actual:   {:?}\n  outcome: {outcome:?}",
            exp.output, out
        ));
    }
    match (&exp.error, &outcome) {
        (None, Outcome::Ok) => Ok(()),
        (Some((false, line, msg)), Outcome::Runtime { line: l, message })
            if line == l && message.contains(msg.as_str()) =>
        {
            Ok(())
        }
        (Some((true, line, msg)), Outcome::Compile { line: l, message })
            if line == l && message.contains(msg.as_str()) =>
        {
            Ok(())
        }
        (expected, actual) => Err(format!(
            "{name} ({mode:?}): expected {expected:?}, got {actual:?}"
        )),
    }
}

fn suite() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/conformance exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ark"))
        .collect();
    files.sort();
    assert!(files.len() > 50, "the conformance suite is missing files");
    files
}

fn run_suite(mode: Mode) {
    let failures: Vec<String> = suite()
        .iter()
        .filter_map(|p| check(p, mode).err())
        .collect();
    if !failures.is_empty() {
        panic!(
            "{} conformance failures:\n\n{}",
            failures.len(),
            failures.join("\n\n")
        );
    }
}

#[test]
fn conformance_unsliced() {
    run_suite(Mode::Whole);
}

#[test]
fn conformance_every_instruction_a_suspension_point() {
    run_suite(Mode::Sliced(1));
}

#[test]
fn conformance_odd_slices_interleaved_with_collection() {
    run_suite(Mode::SlicedWithGc(7));
}

#[test]
fn conformance_under_gc_stress() {
    run_suite(Mode::Stress);
}

/// Step sizes of the sliced stress runs: small enough that marking spans
/// many allocations, varied so that steps end at every point of a trace.
const SLICED_STRESS_STEPS: [u32; 3] = [3, 17, 101];

#[test]
fn conformance_under_sliced_gc_stress_with_validation() {
    for work in SLICED_STRESS_STEPS {
        run_suite(Mode::SlicedStress(work));
    }
}

/// Errors from `Vm::load` carry the same information as the suite checks.
#[test]
fn load_reports_compile_errors_with_location() {
    let mut vm = Vm::new();
    match vm.load("bad.ark", "let x = ;") {
        Err(Error::Compile(e)) => {
            assert_eq!((e.script.as_str(), e.line, e.col), ("bad.ark", 1, 9));
        }
        other => panic!("expected a compile error, got {other:?}"),
    }
}
