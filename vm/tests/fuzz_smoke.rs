//! A deterministic stand-in for the fuzz targets in `fuzz/` that runs with
//! every `cargo test`: thousands of mutated conformance scripts go through
//! the lexer, parser, compiler and a budgeted run. None may panic, hang or
//! overflow the stack; each must end in a value, an error or a suspension.

use std::path::Path;

use ark_vm::{Budget, RunResult, Vm, VmConfig};

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
