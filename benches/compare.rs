//! Ark side by side with its peers on the same programs.
//!
//! `cargo bench --features bench --bench compare` builds the peer runners
//! (`benches/peers/*`: PUC-Rio Lua 5.4 and Luau through mlua, vendored, and
//! Rhai), runs every program in `benches/programs/` on each engine, checks
//! that the checksums agree, and prints median milliseconds, Ark's ratio to
//! each peer, and the geometric means. Compiling and loading are not timed.
//! A program without a `.rhai` file is left out for Rhai, shown as "-".
//!
//! `ARK_BENCH_ITERATIONS` (default 5) sets the runs per program;
//! `ARK_BENCH_RHAI_ITERATIONS` (default 1) sets Rhai's, which is slow;
//! `ARK_BENCH_PROGRAMS=fib,loop` picks programs, `ARK_BENCH_PEERS=lua5.4`
//! peers (by the names in the table's header).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use ark::vm::Vm;

const PROGRAMS: [&str; 10] = [
    "fib",
    "loop",
    "binary_trees",
    "nbody",
    "spectral_norm",
    "fannkuch",
    "strings",
    "closures",
    "particles",
    "quicksort",
];

struct Peer {
    name: &'static str,
    dir: &'static str,
    env: &'static [(&'static str, &'static str)],
    extension: &'static str,
    /// Whether a program without its own file runs from its `.lua`: Luau
    /// runs Lua as it is, Rhai is another language.
    lua_fallback: bool,
    /// The variable setting this peer's runs per program, and its default,
    /// where it is not `ARK_BENCH_ITERATIONS`: a slow peer would take long.
    iterations: Option<(&'static str, usize)>,
    /// Show peer/ark, how many times faster Ark is, rather than ark/peer:
    /// the goal against a much slower peer is a speedup.
    speedup: bool,
}

const PEERS: [Peer; 3] = [
    Peer {
        name: "lua5.4",
        dir: "lua54",
        env: &[],
        extension: "lua",
        lua_fallback: true,
        iterations: None,
        speedup: false,
    },
    Peer {
        name: "luau",
        dir: "luau",
        // Without this, vendored Luau keeps its internal assertions on.
        env: &[("LUAU_CXXFLAGS", "-DNDEBUG")],
        extension: "luau",
        lua_fallback: true,
        iterations: None,
        speedup: false,
    },
    Peer {
        name: "rhai",
        dir: "rhai",
        env: &[],
        extension: "rhai",
        lua_fallback: false,
        // Tens of times slower than Lua: one run of every program already
        // takes minutes.
        iterations: Some(("ARK_BENCH_RHAI_ITERATIONS", 1)),
        speedup: true,
    },
];

/// Median milliseconds and checksum of one engine on one program.
type Result = (f64, String);

fn run_ark(path: &Path, iterations: usize) -> Result {
    let source = std::fs::read_to_string(path).expect("program");
    let mut vm = Vm::new();
    let last = Arc::new(Mutex::new(String::new()));
    let sink = last.clone();
    vm.set_print(move |line| *sink.lock().unwrap() = line.to_string());
    let module = vm
        .compile(&path.display().to_string(), &source)
        .expect("compiles");
    let mut times = Vec::new();
    for _ in 0..iterations {
        let instance = vm.instantiate(&module);
        vm.full_collect();
        let started = Instant::now();
        vm.run_init(instance).expect("runs");
        times.push(started.elapsed().as_secs_f64() * 1e3);
        vm.release_instance(instance);
    }
    times.sort_by(|a, b| a.total_cmp(b));
    let checksum = last.lock().unwrap().clone();
    (times[times.len() / 2], checksum)
}

fn run_peer(
    root: &Path,
    peer: &Peer,
    programs: &[&str],
    iterations: usize,
) -> BTreeMap<String, Result> {
    let manifest = root.join("benches/peers").join(peer.dir).join("Cargo.toml");
    let files: Vec<PathBuf> = programs
        .iter()
        .filter_map(|p| {
            let own = root.join(format!("benches/programs/{p}.{}", peer.extension));
            if own.exists() {
                Some(own)
            } else if peer.lua_fallback {
                Some(root.join(format!("benches/programs/{p}.lua")))
            } else {
                None
            }
        })
        .collect();
    if files.is_empty() {
        return BTreeMap::new();
    }
    let mut cmd = Command::new(env!("CARGO"));
    cmd.args(["run", "--release", "--quiet", "--manifest-path"])
        .arg(&manifest)
        .arg("--")
        .arg(iterations.to_string())
        .args(&files)
        .env_remove("CARGO_TARGET_DIR");
    for (k, v) in peer.env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("cargo runs the peer");
    if !out.status.success() {
        eprintln!(
            "{} failed:\n{}",
            peer.name,
            String::from_utf8_lossy(&out.stderr)
        );
        return BTreeMap::new();
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| {
            let mut parts = line.splitn(3, '\t');
            let name = parts.next()?.to_string();
            let ms: f64 = parts.next()?.parse().ok()?;
            Some((name, (ms, parts.next().unwrap_or("").to_string())))
        })
        .collect()
}

/// A large script of ordinary code: functions with locals, loops,
/// conditions, calls, lists, maps and strings.
fn generated_script(functions: usize) -> String {
    let mut src = String::new();
    for i in 0..functions {
        src.push_str(&format!(
            "fn update_{i}(entity, dt) {{
    let speed = entity.speed * {i}.5 + dt;
    let items = [1, 2, 3, \"item_{i}\"];
    for j in 0..len(items) {{
        if j % 2 == 0 and speed > 10.0 {{
            entity.score += j * {i};
        }} else {{
            entity.name = \"e\" + str(j);
        }}
    }}
    while speed > 1.0 {{ speed = speed / 2.0; }}
    return {{x: speed, y: entity.score, tag: \"done_{i}\"}};
}}
"
        ));
    }
    src
}

/// Compiler throughput: lines per second on a large generated script.
fn compile_speed() -> (usize, f64) {
    let source = generated_script(10_000);
    let lines = source.lines().count();
    let mut best = f64::MAX;
    for _ in 0..5 {
        let mut vm = Vm::new();
        let started = Instant::now();
        vm.compile("generated.ark", &source)
            .expect("the generated script compiles");
        best = best.min(started.elapsed().as_secs_f64());
    }
    (lines, lines as f64 / best)
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn geomean(values: &[f64]) -> f64 {
    (values.iter().map(|v| v.ln()).sum::<f64>() / values.len() as f64).exp()
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let iterations = env_usize("ARK_BENCH_ITERATIONS", 5);
    let selected = std::env::var("ARK_BENCH_PROGRAMS").ok();
    let programs: Vec<&str> = PROGRAMS
        .iter()
        .copied()
        .filter(|p| {
            selected
                .as_deref()
                .is_none_or(|s| s.split(',').any(|x| x == *p))
        })
        .collect();

    let chosen_peers = std::env::var("ARK_BENCH_PEERS").ok();
    let chosen = |peer: &Peer| {
        chosen_peers
            .as_deref()
            .is_none_or(|s| s.split(',').any(|x| x == peer.name))
    };

    print!("{:<14} {:>9}", "program", "ark ms");
    for peer in &PEERS {
        let ratio = if peer.speedup {
            format!("{}/ark", peer.name)
        } else {
            format!("ark/{}", peer.name)
        };
        print!(" {:>9} {ratio:>9}", format!("{} ms", peer.name));
    }
    println!();
    let mut ratios: Vec<Vec<f64>> = vec![Vec::new(); PEERS.len()];
    let mut mismatches = Vec::new();
    for program in &programs {
        // Each program runs on every engine before the next program starts,
        // so that its ratios come from the same stretch of time (a shared
        // machine's speed drifts).
        let peers: Vec<Option<Result>> = PEERS
            .iter()
            .map(|peer| {
                if !chosen(peer) {
                    return None;
                }
                let runs = peer
                    .iterations
                    .map_or(iterations, |(var, default)| env_usize(var, default));
                run_peer(root, peer, &[program], runs).remove(*program)
            })
            .collect();
        let path = root.join(format!("benches/programs/{program}.ark"));
        let (ark_ms, ark_sum) = run_ark(&path, iterations);
        print!("{program:<14} {ark_ms:>9.1}");
        for (i, peer) in PEERS.iter().enumerate() {
            match &peers[i] {
                Some((ms, sum)) => {
                    if *sum != ark_sum {
                        mismatches
                            .push(format!("{program}: ark {ark_sum:?}, {} {sum:?}", peer.name));
                    }
                    let ratio = if peer.speedup {
                        ms / ark_ms
                    } else {
                        ark_ms / ms
                    };
                    ratios[i].push(ratio);
                    print!(" {ms:>9.1} {ratio:>9.2}");
                }
                None => print!(" {:>9} {:>9}", "-", "-"),
            }
        }
        println!();
    }
    print!("{:<14} {:>9}", "geomean", "");
    for r in &ratios {
        if r.is_empty() {
            print!(" {:>9} {:>9}", "", "-");
        } else {
            print!(" {:>9} {:>9.2}", "", geomean(r));
        }
    }
    println!();
    let (lines, per_second) = compile_speed();
    println!("compiler: {lines} lines in the best of 5 runs at {per_second:.0} lines per second");
    if mismatches.is_empty() {
        println!("all checksums agree");
    } else {
        println!("CHECKSUM MISMATCH:\n  {}", mismatches.join("\n  "));
        std::process::exit(1);
    }
}
