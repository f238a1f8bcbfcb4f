//! A game's heap growing from nothing and churning, run the way a game runs
//! its scripts: `vm.resume(call, Budget::Micros(R))` with
//! `vm.gc_step(Budget::Micros(G))` between resumes. Reports, per scene and
//! split: the longest resume and collector step against their limits
//! (budget + 1 ms; slice + 10%), the peak heap against what is live, peak
//! RSS, and the same program's peak RSS under Lua 5.4 (through mlua, as
//! `compare` runs it).
//!
//! `cargo bench --features bench --bench heap_churn`
//!
//! The programs are `benches/programs/heap_churn{,_wide}.{ark,lua}`. Each run is a
//! process of its own (this binary, re-run with `ARK_CHURN_RUN`), so that
//! its peak RSS is its own. `ARK_CHURN_SCENES=churn` picks scenes;
//! `ARK_CHURN_VERBOSE=1` prints each resume and step over its limit and
//! the end of each collector cycle (its peak, the live size it estimated,
//! where the next starts).
//!
//! Times are the thread's CPU time as well as wall time: this shared
//! machine takes threads away for milliseconds at a time, which shows in
//! the wall time of a resume but is no work of the VM's. A resume's CPU time
//! counts what the VM does, the kernel's clearing of fresh pages included.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ark::vm::{Budget, RunResult, Value, Vm};
use support::thread_cpu;

#[path = "support/mod.rs"]
mod support;

struct Scene {
    name: &'static str,
    /// `benches/programs/<program>.{ark,lua}`.
    program: &'static str,
    records: i64,
    rounds: i64,
}

const SCENES: [Scene; 3] = [
    // 1,333,334 records of three objects: the heap grows from nothing to
    // four million objects, then churns.
    Scene {
        name: "grow_4m",
        program: "heap_churn",
        records: 1_333_334,
        rounds: 1_000,
    },
    // 250,000 records, then two million replaced.
    Scene {
        name: "churn",
        program: "heap_churn",
        records: 250_000,
        rounds: 2_000,
    },
    // 150,000 wider records (a hash-table map and a six-item list each),
    // then 1.5 million replaced.
    Scene {
        name: "churn_wide",
        program: "heap_churn_wide",
        records: 150_000,
        rounds: 1_500,
    },
];

/// Script and collector microseconds per frame.
struct Split {
    name: &'static str,
    resume: u64,
    step: u64,
}

const SPLITS: [Split; 3] = [
    Split {
        name: "1000/250",
        resume: 1_000,
        step: 250,
    },
    // The `ark` command's interleaving.
    Split {
        name: "cli",
        resume: 4_000,
        step: 1_000,
    },
    // The plugin's default budget: 2 ms a frame, 0.5 ms of it collector.
    Split {
        name: "plugin",
        resume: 1_500,
        step: 500,
    },
];

/// CLOCK_MONOTONIC in nanoseconds: the clock `perf record -k
/// CLOCK_MONOTONIC` stamps its samples with, so that the samples taken
/// during a long resume can be picked out.
fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec for the call to fill.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Page faults the thread has taken that needed no I/O (first touches of
/// fresh memory, mostly).
fn minor_faults() -> i64 {
    // SAFETY: an all-zero rusage is a valid value for the call to fill.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid rusage for the call to fill.
    unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut usage) };
    usage.ru_minflt
}

/// A process's peak resident set (VmHWM), in MB.
fn peak_rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM");
    kb / 1e3
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One kind of pause (resumes, or collector steps) by two measures: the
/// longest of each, and how many of each ran over the limit.
#[derive(Default)]
struct Pauses {
    count: usize,
    max: [Duration; 2],
    over: [usize; 2],
}

impl Pauses {
    /// Records one pause; true when either measure is over `limit`.
    fn record(&mut self, times: [Duration; 2], limit: Duration) -> bool {
        self.count += 1;
        for ((max, over), time) in self.max.iter_mut().zip(&mut self.over).zip(times) {
            *max = (*max).max(time);
            *over += usize::from(time > limit);
        }
        times.iter().any(|t| *t > limit)
    }

    fn to_fields(&self) -> String {
        format!(
            "{} {} {} {} {}",
            self.count,
            self.max[0].as_nanos(),
            self.max[1].as_nanos(),
            self.over[0],
            self.over[1]
        )
    }

    fn from_fields(f: &[&str]) -> Pauses {
        let n = |i: usize| f[i].parse::<u64>().expect("a number");
        Pauses {
            count: n(0) as usize,
            max: [Duration::from_nanos(n(1)), Duration::from_nanos(n(2))],
            over: [n(3) as usize, n(4) as usize],
        }
    }
}

/// What one run measured (one line of the child's output).
#[derive(Default)]
struct Measured {
    /// Wall time, then the thread's CPU time.
    resumes: Pauses,
    /// The step's own time (less its longest unchecked stretch), then CPU
    /// time.
    steps: Pauses,
    peak_heap_mb: f64,
    live_mb: f64,
    peak_rss_mb: f64,
    cycles: u64,
    seconds: f64,
    checksum: String,
}

/// Runs one scene under one split in this process; prints one line.
fn run_child(scene: &Scene, split: &Split) {
    let source =
        std::fs::read_to_string(root().join(format!("benches/programs/{}.ark", scene.program)))
            .expect("the program");
    let mut vm = Vm::new();
    let printed = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let sink = printed.clone();
    vm.set_print(move |line| *sink.lock().unwrap() = line.to_string());
    vm.set_global("RECORDS", Value::Int(scene.records));
    vm.set_global("ROUNDS", Value::Int(scene.rounds));
    let module = vm.compile("heap_churn.ark", &source).expect("compiles");
    let instance = vm.instantiate(&module);
    let call = vm.start_init(instance);
    let resume_limit = Duration::from_micros(split.resume + 1_000);
    let step_limit = Duration::from_micros(split.step) * 11 / 10;
    let started = Instant::now();
    let verbose = std::env::var_os("ARK_CHURN_VERBOSE").is_some();
    let mut m = Measured::default();
    let mut cycle_peak = 0;
    loop {
        let (wall, cpu) = (Instant::now(), thread_cpu());
        let started_ns = monotonic_ns();
        let faults0 = minor_faults();
        let result = vm.resume(call, Budget::Micros(split.resume));
        let times = [wall.elapsed(), thread_cpu() - cpu];
        if m.resumes.record(times, resume_limit) && verbose {
            eprintln!(
                "resume {} ({started_ns}-{} ns monotonic): {times:?} (wall, cpu), unchecked {:?}, {} page faults, heap {} MB, {:?}",
                m.resumes.count,
                monotonic_ns(),
                vm.last_resume_longest_unchecked(),
                minor_faults() - faults0,
                vm.heap().bytes() >> 20,
                vm.gc_report().phase
            );
        }
        m.peak_heap_mb = m.peak_heap_mb.max(vm.heap().bytes() as f64 / 1e6);
        cycle_peak = cycle_peak.max(vm.heap().bytes());
        if verbose && vm.gc_report().cycles != m.cycles {
            let report = vm.gc_report();
            m.cycles = report.cycles;
            eprintln!(
                "cycle {} ended: peak {} MB, live (estimated) {} MB, next at {} MB, {} assists so far",
                report.cycles,
                cycle_peak >> 20,
                report.live_after_last_cycle >> 20,
                report.threshold >> 20,
                report.assists
            );
            cycle_peak = 0;
        }
        match result {
            RunResult::Done(_) => break,
            RunResult::Error(e) => panic!("the program failed: {e}"),
            RunResult::Suspended | RunResult::Stopped(_) => {}
        }
        let cpu = thread_cpu();
        let progress = vm.gc_step(Budget::Micros(split.step));
        let times = [
            progress.elapsed - progress.longest_unchecked,
            thread_cpu() - cpu,
        ];
        if m.steps.record(times, step_limit) && verbose {
            eprintln!(
                "step {}: {times:?} (own, cpu), heap {} MB, {:?}",
                m.steps.count,
                vm.heap().bytes() >> 20,
                progress.phase
            );
        }
    }
    m.seconds = started.elapsed().as_secs_f64();
    let report = vm.gc_report();
    m.cycles = report.cycles;
    m.peak_rss_mb = peak_rss_mb(std::process::id());
    // What is live: the heap right after a full collection.
    vm.full_collect();
    m.live_mb = vm.heap().bytes() as f64 / 1e6;
    m.checksum = printed.lock().unwrap().clone();
    println!(
        "{} {} {} {} {} {} {} {}",
        m.resumes.to_fields(),
        m.steps.to_fields(),
        m.peak_heap_mb,
        m.live_mb,
        m.peak_rss_mb,
        m.cycles,
        m.seconds,
        m.checksum
    );
}

fn parse_measured(line: &str) -> Measured {
    let f: Vec<&str> = line.split_whitespace().collect();
    let x = |i: usize| f[i].parse::<f64>().expect("a number");
    Measured {
        resumes: Pauses::from_fields(&f[0..5]),
        steps: Pauses::from_fields(&f[5..10]),
        peak_heap_mb: x(10),
        live_mb: x(11),
        peak_rss_mb: x(12),
        cycles: x(13) as u64,
        seconds: x(14),
        checksum: f.get(15).unwrap_or(&"").to_string(),
    }
}

/// Runs one scene under one split in a child process.
fn run_ark(scene: &Scene, split: &Split) -> Measured {
    let out = Command::new(std::env::current_exe().expect("this binary"))
        .env("ARK_CHURN_RUN", format!("{} {}", scene.name, split.name))
        .stderr(Stdio::inherit())
        .output()
        .expect("the run starts");
    assert!(out.status.success(), "the run failed");
    let text = String::from_utf8_lossy(&out.stdout);
    parse_measured(text.lines().last().expect("a result line"))
}

/// Builds the Lua 5.4 runner of `compare` (mlua, vendored).
fn build_lua() -> PathBuf {
    let dir = root().join("benches/peers/lua54");
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "--quiet", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        .env_remove("CARGO_TARGET_DIR")
        .status()
        .expect("cargo runs");
    assert!(status.success(), "the Lua runner builds");
    dir.join("target/release/peer")
}

/// Runs the scene's program once on Lua 5.4: peak RSS in MB, seconds and
/// checksum.
fn run_lua(runner: &Path, scene: &Scene) -> (f64, f64, String) {
    let program =
        std::fs::read_to_string(root().join(format!("benches/programs/{}.lua", scene.program)))
            .expect("the Lua program");
    let file = std::env::temp_dir().join(format!("ark_heap_churn_{}.lua", scene.name));
    std::fs::write(
        &file,
        format!(
            "local RECORDS, ROUNDS = {}, {}\n{program}",
            scene.records, scene.rounds
        ),
    )
    .expect("the temporary program is written");
    let mut child = Command::new(runner)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the Lua runner starts");
    let mut stdin = child.stdin.take().expect("piped");
    writeln!(stdin, "{}", file.display()).expect("the request is sent");
    let mut answer = String::new();
    BufReader::new(child.stdout.take().expect("piped"))
        .read_line(&mut answer)
        .expect("the runner answers");
    let rss = peak_rss_mb(child.id());
    drop(stdin);
    let _ = child.wait();
    let mut parts = answer.trim_end().split('\t');
    let _name = parts.next();
    let ms: f64 = parts.next().and_then(|m| m.parse().ok()).expect("a time");
    (rss, ms / 1e3, parts.next().unwrap_or("").to_string())
}

fn main() {
    if let Ok(run) = std::env::var("ARK_CHURN_RUN") {
        let (scene, split) = run.split_once(' ').expect("scene and split");
        let scene = SCENES.iter().find(|s| s.name == scene).expect("a scene");
        let split = SPLITS.iter().find(|s| s.name == split).expect("a split");
        run_child(scene, split);
        return;
    }
    // `cargo bench` passes `--bench`; anything else is ignored too.
    let picked = std::env::var("ARK_CHURN_SCENES").ok();
    let lua = build_lua();
    println!(
        "{:<8} {:<9} {:>9} {:>9} {:>5} {:>9} {:>9} {:>5} {:>9} {:>8} {:>6} {:>8} {:>8} {:>6} {:>7} {:>6}",
        "scene",
        "split",
        "resume",
        "cpu",
        "over",
        "step own",
        "cpu",
        "over",
        "peak heap",
        "live",
        "ratio",
        "RSS",
        "Lua RSS",
        "x Lua",
        "cycles",
        "s"
    );
    for scene in &SCENES {
        if picked
            .as_ref()
            .is_some_and(|p| !p.split(',').any(|s| s == scene.name))
        {
            continue;
        }
        let (lua_rss, lua_s, lua_sum) = run_lua(&lua, scene);
        for split in &SPLITS {
            let m = run_ark(scene, split);
            assert_eq!(m.checksum, lua_sum, "Ark and Lua agree on the checksum");
            println!(
                "{:<8} {:<9} {:>9.1?} {:>9.1?} {:>5} {:>9.1?} {:>9.1?} {:>5} {:>8.0}M {:>7.0}M {:>6.2} {:>7.0}M {:>7.0}M {:>6.2} {:>7} {:>6.1}",
                scene.name,
                split.name,
                m.resumes.max[0],
                m.resumes.max[1],
                format!("{}/{}", m.resumes.over[1], m.resumes.over[0]),
                m.steps.max[0],
                m.steps.max[1],
                format!("{}/{}", m.steps.over[1], m.steps.over[0]),
                m.peak_heap_mb,
                m.live_mb,
                m.peak_heap_mb / m.live_mb,
                m.peak_rss_mb,
                lua_rss,
                m.peak_rss_mb / lua_rss,
                m.cycles,
                m.seconds
            );
        }
        println!("{:<8} lua5.4 ran in {lua_s:.1} s", scene.name);
    }
    println!(
        "resume: longest wall and CPU time; over: resumes over budget + 1 ms by CPU/wall time. \
         step own: longest step less its longest unchecked stretch; over: steps over slice + 10% \
         by CPU/own time. ratio: peak heap / live (after a full collection at the end)."
    );
}
