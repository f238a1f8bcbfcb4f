//! A deterministic stand-in for the fuzz targets in `fuzz/` that runs with
//! every `cargo test`: thousands of mutated conformance scripts go through
//! the lexer, parser, compiler and a budgeted run. None may panic, hang or
//! overflow the stack; each must end in a value, an error or a suspension.

use std::path::Path;

use ark_vm::{Budget, RunResult, Vm, VmConfig};

#[path = "../../fuzz/program_gen.rs"]
mod program_gen;

/// xorshift64: reproducible mutations without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const FRAGMENTS: &[&str] = &[
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    ";",
    ",",
    ".",
    "..",
    "..=",
    "=",
    "+=",
    "==",
    "<",
    "fn",
    "let",
    "while true {",
    "for i in 0..3 {",
    "return",
    "yield;",
    "x",
    "0",
    "1.5",
    "\"s\"",
    "nil",
    "and",
    "or",
    "not",
    "-",
    "*",
    "/",
    "%",
    "f(",
    ".push(",
    "[1, 2]",
    "{a: 1}",
    "\\u{",
    "/*",
    "*/",
    "//",
    "\n",
    "9223372036854775807",
    "1e308",
    "self",
];

fn mutate(rng: &mut Rng, base: &str) -> String {
    let mut s: Vec<char> = base.chars().collect();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(s.len() + 1);
        match rng.below(4) {
            0 => {
                let end = (at + rng.below(20)).min(s.len());
                s.drain(at..end);
            }
            1 => {
                let frag = FRAGMENTS[rng.below(FRAGMENTS.len())];
                s.splice(at..at, frag.chars());
            }
            2 => {
                // Duplicate a slice of the program somewhere else.
                let from = rng.below(s.len() + 1);
                let end = (from + rng.below(60)).min(s.len());
                let copy: Vec<char> = s[from..end].to_vec();
                s.splice(at..at, copy);
            }
            _ => s.truncate(at),
        }
    }
    s.into_iter().collect()
}

fn exercise(src: &str) {
    let mut vm = Vm::with_config(VmConfig {
        heap_limit: 16 << 20,
        max_call_depth: 1_000,
        max_string_len: 1 << 16,
        ..VmConfig::default()
    });
    vm.set_print(|_| {});
    let module = match vm.compile("mutant.ark", src) {
        Ok(module) => module,
        // The compiler never emits code its verifier rejects.
        Err(e) => {
            assert!(!e.message.contains("internal compiler error"), "{e}");
            return;
        }
    };
    let _ = vm.disassemble(&module);
    let instance = vm.instantiate(&module);
    let call = vm.start_init(instance);
    for _ in 0..200 {
        match vm.resume(call, Budget::Instructions(251)) {
            RunResult::Suspended => continue,
            RunResult::Stopped(why) => panic!("stopped without a debugger: {why:?}"),
            RunResult::Done(v) => {
                let _ = vm.display(v);
                return;
            }
            RunResult::Error(e) => {
                assert!(!e.message.is_empty());
                let _ = e.to_string();
                return;
            }
        }
    }
}

#[test]
fn mutated_scripts_never_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance");
    let mut corpus: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ark"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    corpus.sort();
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    for _ in 0..3_000 {
        let base = &corpus[rng.below(corpus.len())];
        let src = mutate(&mut rng, base);
        exercise(&src);
    }
}

#[test]
fn random_token_soup_never_panics() {
    let mut rng = Rng(0xdead_beef_cafe_f00d);
    for _ in 0..3_000 {
        let mut src = String::new();
        for _ in 0..rng.below(80) {
            src.push_str(FRAGMENTS[rng.below(FRAGMENTS.len())]);
            src.push(' ');
        }
        exercise(&src);
    }
}

/// The structure-aware fuzz target's programs (`fuzz/program_gen.rs`),
/// from seeded choices: most compile (the generator makes well-formed
/// programs), and none makes the VM panic; the heap is valid after each.
#[test]
fn generated_programs_compile_and_never_panic() {
    let mut rng = Rng(0x0bad_5eed_0ff0_0d15);
    let mut compiled = 0;
    const PROGRAMS: usize = 600;
    for _ in 0..PROGRAMS {
        let bytes: Vec<u8> = (0..rng.below(400)).map(|_| rng.next() as u8).collect();
        let src = program_gen::program(&mut program_gen::Choices::new(&bytes));
        let mut vm = Vm::with_config(VmConfig {
            heap_limit: 16 << 20,
            max_call_depth: 500,
            max_stack_bytes: 1 << 20,
            max_string_len: 1 << 16,
            ..VmConfig::default()
        });
        vm.set_print(|_| {});
        let Ok(module) = vm.compile("gen.ark", &src) else {
            continue;
        };
        compiled += 1;
        let instance = vm.instantiate(&module);
        let call = vm.start_init(instance);
        for _ in 0..100 {
            match vm.resume(call, Budget::Instructions(997)) {
                RunResult::Suspended => {
                    vm.gc_step(Budget::Instructions(300));
                }
                RunResult::Stopped(why) => panic!("stopped without a debugger: {why:?}"),
                RunResult::Done(_) | RunResult::Error(_) => break,
            }
        }
        vm.full_collect();
        vm.validate_heap().unwrap_or_else(|e| panic!("{e}\n{src}"));
    }
    assert!(
        compiled * 10 >= PROGRAMS * 9,
        "only {compiled} of {PROGRAMS} generated programs compiled"
    );
}
