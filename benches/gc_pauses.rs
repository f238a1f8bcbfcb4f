//! Collector pause times on a heap of a million live objects under steady
//! allocation, stepped with 50, 100 and 250 µs slices, against a full
//! stop-the-world collection of the same heap.
//!
//! `cargo bench --features bench --bench gc_pauses`
//!
//! Criterion times the steps and the full collection; after it, a table
//! reports what criterion does not: the max and p99 step, the heap size over
//! time, and the cycles completed.
//!
//! A shared machine interrupts threads for tens of microseconds to
//! milliseconds, inside a step or not, and that is no fault of the
//! collector. So the table also counts the steps that were interrupted
//! (`GcProgress::longest_unchecked`), how many clock-reading spins of the
//! same lengths were interrupted just as often, and each step's own time
//! without its interruption.

use std::hint::black_box;
use std::time::{Duration, Instant};

use ark::vm::{Budget, InstanceId, Value, Vm};
use criterion::{Criterion, criterion_group};

const LIVE_OBJECTS: i64 = 1_000_000;
/// Live objects replaced (allocated anew, old ones become garbage) per frame.
const REPLACED_PER_FRAME: i64 = 1_000;
const SLICES_MICROS: [u64; 3] = [50, 100, 250];
const REPORT_FRAMES: usize = 4_000;

const SCRIPT: &str = "
let live = [];
let cursor = 0;
fn setup(n) {
    for i in 0..n { live.push([i]); }
}
// Replaces k live objects: k new ones, k old ones become garbage, and every
// store goes through the write barrier.
fn frame(k) {
    let n = len(live);
    for i in 0..k {
        cursor = (cursor + 7919) % n;
        live[cursor] = [i];
    }
}
fn checksum() {
    let total = 0;
    for item in live { total += len(item); }
    return total;
}
";

fn heap_with_live_objects() -> (Vm, InstanceId) {
    let mut vm = Vm::new();
    let game = vm
        .load("gc_pauses.ark", SCRIPT)
        .expect("the benchmark script loads");
    vm.call(game, "setup", &[Value::Int(LIVE_OBJECTS)])
        .expect("setup runs");
    vm.full_collect();
    (vm, game)
}

/// A stretch between two clock reads at least this long means the thread
/// was interrupted: the collector reads the clock every microsecond or two.
const INTERRUPTION: Duration = Duration::from_micros(20);

struct Report {
    slice: u64,
    max: Duration,
    p99: Duration,
    mean: Duration,
    over_slice: usize,
    /// Steps with a stretch of at least `INTERRUPTION` between two reads
    /// of the clock.
    interrupted: usize,
    /// Clock-reading spins, each as long as one step and run right after
    /// it, with a gap of at least `INTERRUPTION`: how often this machine
    /// interrupts a thread that does nothing but read the clock.
    spins_interrupted: usize,
    /// The collector's own time in a step: the step less its longest
    /// unchecked stretch and less the time outside the collector (between
    /// the caller's clock reads and the step's own).
    own_max: Duration,
    own_over_slice: usize,
    heap_mb: Vec<f64>,
    cycles: u64,
    assists: u64,
}

/// Reads the clock for `length`; returns the longest gap between reads.
fn spin_longest_gap(length: Duration) -> Duration {
    let started = Instant::now();
    let mut last = started;
    let mut longest = Duration::ZERO;
    while last - started < length {
        let now = Instant::now();
        longest = longest.max(now - last);
        last = now;
    }
    longest
}

/// Max and p99 of step durations.
fn max_and_p99(steps: &mut [Duration]) -> (Duration, Duration) {
    steps.sort_unstable();
    (*steps.last().unwrap(), steps[steps.len() * 99 / 100])
}

fn pause_report(slice: u64) -> Report {
    let (mut vm, game) = heap_with_live_objects();
    let limit = Duration::from_micros(slice) * 11 / 10;
    let mut steps = Vec::with_capacity(REPORT_FRAMES);
    let mut own = Vec::with_capacity(REPORT_FRAMES);
    let mut interrupted = 0;
    let mut spins_interrupted = 0;
    let mut heap_mb = Vec::new();
    let cycles_before = vm.gc_report().cycles;
    for frame in 0..REPORT_FRAMES {
        vm.call(game, "frame", &[Value::Int(REPLACED_PER_FRAME)])
            .expect("frame runs");
        let phase = vm.gc_report().phase;
        let started = Instant::now();
        let progress = black_box(vm.gc_step(Budget::Micros(slice)));
        let took = started.elapsed();
        steps.push(took);
        own.push(progress.elapsed - progress.longest_unchecked);
        interrupted += usize::from(progress.longest_unchecked >= INTERRUPTION);
        spins_interrupted += usize::from(spin_longest_gap(took) >= INTERRUPTION);
        if took > Duration::from_millis(1) {
            println!("  long step at frame {frame}: {took:?}, {phase:?} -> {progress:?}");
        }
        if frame % (REPORT_FRAMES / 8) == 0 || frame + 1 == REPORT_FRAMES {
            heap_mb.push(vm.heap().bytes() as f64 / 1e6);
        }
    }
    let check = vm.call(game, "checksum", &[]).expect("checksum runs");
    assert_eq!(check, Value::Int(LIVE_OBJECTS), "live objects were lost");
    let report = vm.gc_report();
    let mean = steps.iter().sum::<Duration>() / steps.len() as u32;
    let over_slice = steps.iter().filter(|d| **d > limit).count();
    let own_over_slice = own.iter().filter(|d| **d > limit).count();
    let (max, p99) = max_and_p99(&mut steps);
    let (own_max, _) = max_and_p99(&mut own);
    Report {
        slice,
        max,
        p99,
        mean,
        over_slice,
        interrupted,
        spins_interrupted,
        own_max,
        own_over_slice,
        heap_mb,
        cycles: report.cycles - cycles_before,
        assists: report.assists,
    }
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("gc_1m_live");
    group.sample_size(10);
    for slice in SLICES_MICROS {
        group.bench_function(format!("step_{slice}us"), |b| {
            let (mut vm, game) = heap_with_live_objects();
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    vm.call(game, "frame", &[Value::Int(REPLACED_PER_FRAME)])
                        .expect("frame runs");
                    let started = Instant::now();
                    black_box(vm.gc_step(Budget::Micros(slice)));
                    total += started.elapsed();
                }
                total
            });
        });
    }
    group.bench_function("full_collect_stop_the_world", |b| {
        let (mut vm, _game) = heap_with_live_objects();
        b.iter(|| vm.full_collect());
    });
    group.finish();
}

criterion_group!(benches, bench);

fn main() {
    // ARK_BENCH_REPORT_ONLY=1 skips criterion and prints the pause table.
    if std::env::var_os("ARK_BENCH_REPORT_ONLY").is_none() {
        benches();
        Criterion::default().configure_from_args().final_summary();
    }

    println!();
    println!(
        "Pauses over {REPORT_FRAMES} frames, {LIVE_OBJECTS} live objects, \
         {REPLACED_PER_FRAME} replaced per frame:"
    );
    println!(
        "{:>8} {:>9} {:>9} {:>9} {:>8} {:>12} {:>12} {:>9} {:>8} {:>7} {:>8}  heap MB over time",
        "slice",
        "mean",
        "p99",
        "max",
        "over",
        "interrupted",
        "spins int.",
        "own max",
        "own over",
        "cycles",
        "assists"
    );
    for slice in SLICES_MICROS {
        let r = pause_report(slice);
        let heap: Vec<String> = r.heap_mb.iter().map(|m| format!("{m:.0}")).collect();
        println!(
            "{:>6}us {:>9.1?} {:>9.1?} {:>9.1?} {:>8} {:>12} {:>12} {:>9.1?} {:>8} {:>7} {:>8}  {}",
            r.slice,
            r.mean,
            r.p99,
            r.max,
            r.over_slice,
            r.interrupted,
            r.spins_interrupted,
            r.own_max,
            r.own_over_slice,
            r.cycles,
            r.assists,
            heap.join(" ")
        );
    }
    println!(
        "over: steps longer than slice + 10%. interrupted: steps with a stretch of \
         {INTERRUPTION:?} or more between two clock reads; spins int.: the same count for \
         a clock-reading spin as long as each step, run after it. own: a step less \
         its longest stretch and the time outside the collector."
    );
    let (mut vm, _game) = heap_with_live_objects();
    let mut full = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        vm.full_collect();
        full.push(started.elapsed());
    }
    full.sort_unstable();
    println!(
        "full stop-the-world collection of the same heap: median {:.1?}, max {:.1?}",
        full[2], full[4]
    );
}
