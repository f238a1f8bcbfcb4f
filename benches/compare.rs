//! Ark side by side with its peers on the same programs.
//!
//! `cargo bench --features bench --bench compare` builds the peer runners
//! (`benches/peers/*`: PUC-Rio Lua 5.4 and Luau through mlua, vendored, and
//! Rhai), runs every program in `benches/programs/` on each engine, checks
//! that the checksums agree, and prints median milliseconds, Ark's ratio to
//! each peer, and the geometric means. Compiling and loading are not timed.
//! A program without a `.rhai` file is left out for Rhai, shown as "-".
//!
//! Lua and Luau run one run at a time, in rounds with Ark's (each round
//! runs the program once on each engine), and their ratio to Ark is the
//! median of the rounds' ratios: this shared machine's speed drifts, and
//! two runs a second apart see the same speed where runs minutes apart do
//! not. Rhai, too slow for that, runs its runs in one batch.
//!
//! `ARK_BENCH_ITERATIONS` (default 5) sets the rounds per program;
//! `ARK_BENCH_RHAI_ITERATIONS` (default 3) sets Rhai's, which is slow;
//! `ARK_BENCH_PROGRAMS=fib,loop` picks programs, `ARK_BENCH_PEERS=lua5.4`
//! peers (by the names in the table's header). `ARK_BENCH_IDLE_BREAKPOINT=1`
//! sets a breakpoint in a script that never runs, to measure what the
//! debugger costs while it is in use.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use ark::vm::{Module, Vm};

/// The programs, in the table's order. The last six were written after the
/// interpreter was tuned, in the shapes of game scripts (issue #19): maps
/// as records and objects with functions in fields (`raytrace`,
/// `scheduler`), code at the top level (`mandelbrot`), recursion
/// (`queens`, `sudoku`), strings read and built a character at a time
/// (`json`). `objects`, `tokenizer`, `knucleotide` (substrings counted
/// by string key) and `report` (a text built by concatenation) came later,
/// as probes of the same shapes; then six of the Are-we-fast-yet suite's
/// small programs, ported as that suite ports them (records linked into
/// lists, recursion, lists of flags, objects whose class is a map of
/// functions): `towers`, `permute`, `sieve`, `linked_list`, `bounce`,
/// `storage`.
const PROGRAMS: [&str; 26] = [
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
    "queens",
    "mandelbrot",
    "json",
    "scheduler",
    "raytrace",
    "sudoku",
    "objects",
    "tokenizer",
    "knucleotide",
    "report",
    "towers",
    "permute",
    "sieve",
    "linked_list",
    "bounce",
    "storage",
];

struct Peer {
    name: &'static str,
    dir: &'static str,
    env: &'static [(&'static str, &'static str)],
    extension: &'static str,
    /// Whether a program without its own file runs from its `.lua`: Luau
    /// runs Lua as it is, Rhai is another language.
    lua_fallback: bool,
    /// `None`: the peer serves one run at a time, interleaved with Ark's
    /// (Lua and Luau). `Some`: it runs all of a program's runs in one batch,
    /// as many as this variable says (default given): a peer too slow to
    /// interleave (Rhai).
    batch: Option<(&'static str, usize)>,
    /// Show peer/ark, how many times faster Ark is, rather than ark/peer:
    /// the goal against a much slower peer is a speedup.
    speedup: bool,
}

impl Peer {
    /// The table's ratio for one of Ark's times and one of this peer's.
    fn ratio(&self, ark_ms: f64, peer_ms: f64) -> f64 {
        if self.speedup {
            peer_ms / ark_ms
        } else {
            ark_ms / peer_ms
        }
    }
}

const PEERS: [Peer; 3] = [
    Peer {
        name: "lua5.4",
        dir: "lua54",
        env: &[],
        extension: "lua",
        lua_fallback: true,
        batch: None,
        speedup: false,
    },
    Peer {
        name: "luau",
        dir: "luau",
        // Without this, vendored Luau keeps its internal assertions on.
        env: &[("LUAU_CXXFLAGS", "-DNDEBUG")],
        extension: "luau",
        lua_fallback: true,
        batch: None,
        speedup: false,
    },
    Peer {
        name: "rhai",
        dir: "rhai",
        env: &[],
        extension: "rhai",
        lua_fallback: false,
        // Tens of times slower than Lua: one run of every program takes
        // two minutes. Three give a median: a single run, minutes away from
        // Ark's, once put strings under 5x.
        batch: Some(("ARK_BENCH_RHAI_ITERATIONS", 3)),
        speedup: true,
    },
];

/// Median milliseconds and checksum of one engine on one program.
type Result = (f64, String);

/// One program compiled on an Ark VM, run afresh (a new instance) each time.
struct ArkProgram {
    vm: Vm,
    module: Module,
    last_line: Arc<Mutex<String>>,
}

impl ArkProgram {
    fn load(path: &Path) -> ArkProgram {
        let source = std::fs::read_to_string(path).expect("program");
        let mut vm = Vm::new();
        if std::env::var_os("ARK_BENCH_IDLE_BREAKPOINT").is_some() {
            vm.set_breakpoint("never-loaded.ark", 1, None);
        }
        let last_line = Arc::new(Mutex::new(String::new()));
        let sink = last_line.clone();
        vm.set_print(move |line| *sink.lock().unwrap() = line.to_string());
        let module = vm
            .compile(&path.display().to_string(), &source)
            .expect("compiles");
        ArkProgram {
            vm,
            module,
            last_line,
        }
    }

    /// One run after a full collection: milliseconds.
    fn run(&mut self) -> f64 {
        let instance = self.vm.instantiate(&self.module);
        self.vm.full_collect();
        let started = Instant::now();
        self.vm.run_init(instance).expect("runs");
        let ms = started.elapsed().as_secs_f64() * 1e3;
        self.vm.release_instance(instance);
        ms
    }

    fn checksum(&self) -> String {
        self.last_line.lock().unwrap().clone()
    }
}

/// The file `peer` runs for `program`, if it has one.
fn peer_file(root: &Path, peer: &Peer, program: &str) -> Option<PathBuf> {
    let own = root.join(format!("benches/programs/{program}.{}", peer.extension));
    if own.exists() {
        Some(own)
    } else if peer.lua_fallback {
        Some(root.join(format!("benches/programs/{program}.lua")))
    } else {
        None
    }
}

/// `cargo run` of a peer's runner, with `args`.
fn peer_command(root: &Path, peer: &Peer, args: &[String]) -> Command {
    let manifest = root.join("benches/peers").join(peer.dir).join("Cargo.toml");
    let mut cmd = Command::new(env!("CARGO"));
    cmd.args(["run", "--release", "--quiet", "--manifest-path"])
        .arg(&manifest)
        .arg("--")
        .args(args)
        .env_remove("CARGO_TARGET_DIR");
    for (k, v) in peer.env {
        cmd.env(k, v);
    }
    cmd
}

/// A peer runner serving one run per request (`benches/peers/mlua_runner.rs`),
/// so that its runs interleave with Ark's: a drift in the machine's speed
/// then touches both engines alike.
struct PeerServer {
    child: Child,
    requests: ChildStdin,
    answers: BufReader<ChildStdout>,
}

impl PeerServer {
    fn start(root: &Path, peer: &Peer) -> PeerServer {
        let mut child = peer_command(root, peer, &[])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("cargo runs the peer");
        let requests = child.stdin.take().expect("piped");
        let answers = BufReader::new(child.stdout.take().expect("piped"));
        PeerServer {
            child,
            requests,
            answers,
        }
    }

    /// One run of `file`: milliseconds and checksum (`None` if the runner
    /// failed; its error went to standard error).
    fn run(&mut self, file: &Path) -> Option<Result> {
        writeln!(self.requests, "{}", file.display()).ok()?;
        self.requests.flush().ok()?;
        let mut line = String::new();
        self.answers.read_line(&mut line).ok()?;
        let mut parts = line.trim_end_matches('\n').splitn(3, '\t');
        let _name = parts.next()?;
        let ms: f64 = parts.next()?.parse().ok()?;
        Some((ms, parts.next().unwrap_or("").to_string()))
    }
}

impl Drop for PeerServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// All of a program's runs on a batch peer (Rhai): median and checksum.
fn run_batch(root: &Path, peer: &Peer, program: &str, iterations: usize) -> Option<Result> {
    let file = peer_file(root, peer, program)?;
    let args = [iterations.to_string(), file.display().to_string()];
    let out = peer_command(root, peer, &args)
        .output()
        .expect("cargo runs the peer");
    if !out.status.success() {
        eprintln!(
            "{} failed:\n{}",
            peer.name,
            String::from_utf8_lossy(&out.stderr)
        );
        return None;
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut parts = stdout.lines().next()?.splitn(3, '\t');
    let _name = parts.next()?;
    let ms: f64 = parts.next()?.parse().ok()?;
    Some((ms, parts.next().unwrap_or("").to_string()))
}

fn median(mut times: Vec<f64>) -> f64 {
    times.sort_by(|a, b| a.total_cmp(b));
    times[times.len() / 2]
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
    let mut servers: Vec<Option<PeerServer>> = PEERS
        .iter()
        .map(|peer| (chosen(peer) && peer.batch.is_none()).then(|| PeerServer::start(root, peer)))
        .collect();
    for program in &programs {
        // Each round runs the program once on Ark and once on every serving
        // peer (see the top of the file).
        let mut ark = ArkProgram::load(&root.join(format!("benches/programs/{program}.ark")));
        let mut served: Vec<Vec<Result>> = vec![Vec::new(); PEERS.len()];
        let mut ark_times = Vec::new();
        for _ in 0..iterations {
            ark_times.push(ark.run());
            for (i, peer) in PEERS.iter().enumerate() {
                if let (Some(server), Some(file)) =
                    (&mut servers[i], peer_file(root, peer, program))
                    && let Some(run) = server.run(&file)
                {
                    served[i].push(run);
                }
            }
        }
        let ark_ms = median(ark_times.clone());
        let ark_sum = ark.checksum();
        print!("{program:<14} {ark_ms:>9.1}");
        for (i, peer) in PEERS.iter().enumerate() {
            // A serving peer's ratio is the median of the rounds' own
            // ratios: each compares two runs a second apart. A batch peer's
            // is the ratio of the medians.
            let result = match peer.batch {
                _ if !chosen(peer) => None,
                Some((var, default)) => run_batch(root, peer, program, env_usize(var, default))
                    .map(|(ms, sum)| (ms, sum, peer.ratio(ark_ms, ms))),
                None if served[i].len() < iterations => None,
                None => {
                    let paired = (ark_times.iter().zip(&served[i]))
                        .map(|(&ark, &(ms, _))| peer.ratio(ark, ms));
                    let sum = served[i]
                        .last()
                        .map(|(_, sum)| sum.clone())
                        .unwrap_or_default();
                    let ms = median(served[i].iter().map(|(ms, _)| *ms).collect());
                    Some((ms, sum, median(paired.collect())))
                }
            };
            match result {
                Some((ms, sum, ratio)) => {
                    if sum != ark_sum {
                        mismatches
                            .push(format!("{program}: ark {ark_sum:?}, {} {sum:?}", peer.name));
                    }
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
