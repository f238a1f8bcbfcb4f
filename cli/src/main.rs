//! `ark`: runs an Ark script, or starts a REPL.

use std::io::{BufWriter, Stdout, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use ark_vm::{Budget, RunResult, RuntimeOrCompile, Vm, VmConfig};
use clap::Parser;

/// Run an Ark script, or start a REPL when no file is given.
#[derive(Parser)]
#[command(name = "ark", version, about)]
struct Args {
    /// The script to run.
    file: Option<PathBuf>,

    /// Run in slices of N instructions (charged ahead: see the language
    /// reference), suspending and resuming between them (output is
    /// identical to an unsliced run).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    slice: Option<u64>,

    /// Print the bytecode with line numbers instead of running.
    #[arg(long)]
    disasm: bool,

    /// Heap limit in MiB; allocating past it is an `out of memory` error.
    #[arg(long, value_name = "N", default_value_t = 1024)]
    max_heap_mb: usize,

    /// Run a full garbage collection at every allocation (very slow; for
    /// finding collector bugs).
    #[arg(long)]
    gc_stress: bool,

    /// Sliced stress: a collector step of N work units at every
    /// allocation, with the heap validated after each (very slow).
    #[arg(long, value_name = "N")]
    gc_stress_sliced: Option<u32>,

    /// Print heap and collector statistics to stderr at exit.
    #[arg(long)]
    stats: bool,
}

type Out = Arc<Mutex<BufWriter<Stdout>>>;

/// A plain run interleaves script and collector slices the way a game
/// frame would: this long for the script...
const FRAME_SCRIPT_MICROS: u64 = 4_000;
/// ...and this long for the collector.
const FRAME_GC_MICROS: u64 = 1_000;

fn flush(out: &Out) {
    if let Ok(mut w) = out.lock() {
        let _ = w.flush();
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let config = VmConfig {
        heap_limit: args.max_heap_mb.saturating_mul(1 << 20),
        gc_stress: args.gc_stress.then_some(1),
        gc_stress_sliced: args.gc_stress_sliced,
        ..VmConfig::default()
    };
    let mut vm = Vm::with_config(config);
    let out: Out = Arc::new(Mutex::new(BufWriter::new(std::io::stdout())));
    let sink = out.clone();
    vm.set_print(move |line| {
        if let Ok(mut w) = sink.lock() {
            let _ = writeln!(w, "{line}");
        }
    });
    let code = match &args.file {
        Some(path) => run_file(&mut vm, &args, path, &out),
        None => repl(&mut vm, &out),
    };
    flush(&out);
    if args.stats {
        eprintln!("{}", vm.gc_report());
    }
    code
}

fn run_file(vm: &mut Vm, args: &Args, path: &PathBuf, out: &Out) -> ExitCode {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("ark: cannot read {}: {e}", path.display());
            return ExitCode::from(2);
        }
    };
    let name = path.display().to_string();
    let source = match ark_vm::source_from_bytes(&name, bytes) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    let module = match vm.compile(&name, &source) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    if args.disasm {
        print!("{}", vm.disassemble(&module));
        return ExitCode::SUCCESS;
    }
    let instance = vm.instantiate(&module);
    let call = vm.start_init(instance);
    // Like a game frame: a slice of script, then a slice of collection.
    let budget = args
        .slice
        .map_or(Budget::Micros(FRAME_SCRIPT_MICROS), Budget::Instructions);
    loop {
        match vm.resume(call, budget) {
            // The command sets no breakpoints: nothing stops.
            RunResult::Suspended | RunResult::Stopped(_) => {
                vm.gc_step(Budget::Micros(FRAME_GC_MICROS));
            }
            RunResult::Done(_) => return ExitCode::SUCCESS,
            RunResult::Error(e) => {
                flush(out);
                eprintln!("{e}");
                return ExitCode::from(1);
            }
        }
    }
}

fn repl(vm: &mut Vm, out: &Out) -> ExitCode {
    let mut editor = match rustyline::DefaultEditor::new() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("ark: cannot start the line editor: {e}");
            return ExitCode::from(2);
        }
    };
    let history = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".ark_history"));
    if let Some(h) = &history {
        let _ = editor.load_history(h);
    }
    println!(
        "Ark {} REPL. Expressions print their value; Ctrl-D exits.",
        env!("CARGO_PKG_VERSION")
    );
    let module = vm.compile("<repl>", "").expect("an empty script compiles");
    let instance = vm.instantiate(&module);
    let mut pending = String::new();
    loop {
        let prompt = if pending.is_empty() { "ark> " } else { "...> " };
        let line = match editor.readline(prompt) {
            Ok(line) => line,
            Err(rustyline::error::ReadlineError::Interrupted) => {
                pending.clear();
                continue;
            }
            Err(_) => break,
        };
        pending.push_str(&line);
        pending.push('\n');
        let call = match vm.compile_repl(instance, &pending) {
            Ok(call) => call,
            Err(RuntimeOrCompile::Compile(e)) if e.message.contains("end of file") => continue,
            Err(RuntimeOrCompile::Compile(e)) => {
                eprintln!("{e}");
                let _ = editor.add_history_entry(pending.trim_end());
                pending.clear();
                continue;
            }
            Err(RuntimeOrCompile::Runtime(e)) => {
                eprintln!("{e}");
                pending.clear();
                continue;
            }
        };
        let _ = editor.add_history_entry(pending.trim_end());
        pending.clear();
        let result = vm.finish(call);
        flush(out);
        match result {
            Ok(ark_vm::Value::Nil) => {}
            Ok(v) => println!("{}", vm.repr(v)),
            Err(e) => eprintln!("{e}"),
        }
    }
    if let Some(h) = &history {
        let _ = editor.save_history(h);
    }
    ExitCode::SUCCESS
}
