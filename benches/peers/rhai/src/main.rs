//! A peer engine for `benches/compare.rs`: runs benchmark programs on Rhai
//! and prints one line per program: `name<TAB>median_ms<TAB>checksum`.
//!
//! Usage: `peer ITERATIONS FILE...` (the `.rhai` files). Compiling is not
//! timed; the checksum is the last line the program printed.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Instant;

use rhai::Engine;

/// Rhai's release default of 64 nested calls is tighter than the other
/// engines allow; this leaves the recursive programs headroom while staying
/// well inside the native stack (Rhai recurses on the Rust stack).
const MAX_CALL_LEVELS: usize = 256;

fn main() {
    let mut args = std::env::args().skip(1);
    let iterations: usize = args
        .next()
        .and_then(|s| s.parse().ok())
        .expect("usage: peer ITERATIONS FILE...");
    for path in args {
        let source = std::fs::read_to_string(&path).expect("program file");
        let name = std::path::Path::new(&path)
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .to_string();
        let mut engine = Engine::new();
        engine.set_max_call_levels(MAX_CALL_LEVELS);
        let output = Rc::new(RefCell::new(String::new()));
        let sink = output.clone();
        engine.on_print(move |line| *sink.borrow_mut() = line.to_string());
        let ast = engine.compile(&source).unwrap_or_else(|e| fail(&path, e));
        let mut times = Vec::with_capacity(iterations);
        for _ in 0..iterations {
            let started = Instant::now();
            engine.run_ast(&ast).unwrap_or_else(|e| fail(&path, e));
            times.push(started.elapsed().as_secs_f64() * 1e3);
        }
        times.sort_by(|a, b| a.total_cmp(b));
        let checksum = output.borrow().clone();
        println!("{name}\t{:.3}\t{checksum}", times[times.len() / 2]);
    }
}

fn fail(path: &str, error: impl std::fmt::Display) -> ! {
    eprintln!("{path}: {error}");
    std::process::exit(1)
}
