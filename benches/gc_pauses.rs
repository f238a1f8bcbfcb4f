//! Collector pause times on a heap of a million live objects under steady
//! allocation, stepped with 50, 100 and 250 µs slices, against a full
//! stop-the-world collection of the same heap.
//!
//! `cargo bench --features bench --bench gc_pauses`
//!
//! Criterion times the steps and the full collection; after it, a table
//! reports what criterion does not: the max and p99 step, the heap size over
//! time, and the cycles completed.

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

struct Report {
    slice: u64,
    max: Duration,
    p99: Duration,
    mean: Duration,
    over_slice: usize,
    /// The same, in the thread's CPU time: what the collector itself did,
    /// without the time the OS gave to other work in the middle of a step.
    cpu_max: Duration,
    cpu_p99: Duration,
    cpu_over_slice: usize,
    heap_mb: Vec<f64>,
    cycles: u64,
    assists: u64,
}

/// This thread's CPU time.
fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the call's duration.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Max, p99 and the count over slice + 10% of step durations.
fn summarize(steps: &mut [Duration], slice: u64) -> (Duration, Duration, usize) {
    let over = steps
        .iter()
        .filter(|d| **d > Duration::from_micros(slice) * 11 / 10)
        .count();
    steps.sort_unstable();
    (*steps.last().unwrap(), steps[steps.len() * 99 / 100], over)
}

fn pause_report(slice: u64) -> Report {
    let (mut vm, game) = heap_with_live_objects();
    let mut steps = Vec::with_capacity(REPORT_FRAMES);
    let mut cpu_steps = Vec::with_capacity(REPORT_FRAMES);
    let mut heap_mb = Vec::new();
    let cycles_before = vm.gc_report().cycles;
    for frame in 0..REPORT_FRAMES {
        vm.call(game, "frame", &[Value::Int(REPLACED_PER_FRAME)])
            .expect("frame runs");
        let phase = vm.gc_report().phase;
        let cpu_started = thread_cpu_time();
        let started = Instant::now();
        let progress = black_box(vm.gc_step(Budget::Micros(slice)));
        let took = started.elapsed();
        cpu_steps.push(thread_cpu_time() - cpu_started);
        steps.push(took);
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
    let (max, p99, over_slice) = summarize(&mut steps, slice);
    let (cpu_max, cpu_p99, cpu_over_slice) = summarize(&mut cpu_steps, slice);
    Report {
        slice,
        max,
        p99,
        mean,
        over_slice,
        cpu_max,
        cpu_p99,
        cpu_over_slice,
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
        "{:>8} {:>10} {:>10} {:>10} {:>12} {:>10} {:>10} {:>8} {:>7} {:>8}  heap MB over time",
        "slice",
        "mean",
        "p99",
        "max",
        "> slice+10%",
        "cpu p99",
        "cpu max",
        "cpu >",
        "cycles",
        "assists"
    );
    for slice in SLICES_MICROS {
        let r = pause_report(slice);
        let heap: Vec<String> = r.heap_mb.iter().map(|m| format!("{m:.0}")).collect();
        println!(
            "{:>6}us {:>10.1?} {:>10.1?} {:>10.1?} {:>12} {:>10.1?} {:>10.1?} {:>8} {:>7} {:>8}  {}",
            r.slice,
            r.mean,
            r.p99,
            r.max,
            r.over_slice,
            r.cpu_p99,
            r.cpu_max,
            r.cpu_over_slice,
            r.cycles,
            r.assists,
            heap.join(" ")
        );
    }
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
