//! Collector statistics: cycles, forced collections, and how long every
//! step took.

use std::collections::VecDeque;
use std::fmt;
use std::time::Duration;

use crate::gc::GcPhase;

/// Step durations kept for percentiles.
const RECENT_STEPS: usize = 16_384;

#[derive(Default)]
pub(crate) struct GcStats {
    pub cycles: u64,
    pub forced_collections: u64,
    pub assists: u64,
    pub live_after_last_cycle: usize,
    steps: u64,
    total: Duration,
    min: Option<Duration>,
    max: Duration,
    recent: VecDeque<Duration>,
}

impl GcStats {
    pub fn record_step(&mut self, d: Duration) {
        self.steps += 1;
        self.total += d;
        self.min = Some(self.min.map_or(d, |m| m.min(d)));
        self.max = self.max.max(d);
        if self.recent.len() == RECENT_STEPS {
            self.recent.pop_front();
        }
        self.recent.push_back(d);
    }

    pub fn steps(&self) -> StepTimes {
        let mut recent: Vec<Duration> = self.recent.iter().copied().collect();
        recent.sort_unstable();
        let p99 = if recent.is_empty() {
            Duration::ZERO
        } else {
            recent[((recent.len() - 1) as f64 * 0.99).round() as usize]
        };
        StepTimes {
            count: self.steps,
            min: self.min.unwrap_or_default(),
            mean: if self.steps == 0 {
                Duration::ZERO
            } else {
                self.total / self.steps as u32
            },
            p99,
            max: self.max,
        }
    }
}

/// Durations of collector steps (each `gc_step`, assist, forced or full
/// collection). `p99` is over the most recent 16,384 steps.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StepTimes {
    pub count: u64,
    pub min: Duration,
    pub mean: Duration,
    pub p99: Duration,
    pub max: Duration,
}

/// Live objects and bytes of one kind.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KindStats {
    pub kind: &'static str,
    pub count: usize,
    pub bytes: usize,
}

/// The heap's size and the collector's state: the part of [`GcReport`]
/// that costs nothing to read, for a host that reads it every frame.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HeapSummary {
    pub phase: GcPhase,
    pub heap_bytes: usize,
    /// Live objects of every kind (`GcReport::objects`' counts summed).
    pub objects: usize,
    /// Times the heap reached its limit, each forcing a whole collection.
    pub forced_collections: u64,
}

/// A snapshot of the heap and the collector.
#[derive(Clone, Debug, PartialEq)]
pub struct GcReport {
    pub phase: GcPhase,
    pub heap_bytes: usize,
    /// The heap size at which the next cycle starts.
    pub threshold: usize,
    pub live_after_last_cycle: usize,
    /// Bytes of freed lists' and maps' buffers kept for new ones (not part
    /// of `heap_bytes`; at most a quarter of the heap's peak).
    pub pooled_bytes: usize,
    pub cycles: u64,
    /// Times the heap reached its limit, each forcing a whole collection
    /// (which a call under a budget waits for).
    pub forced_collections: u64,
    /// Times allocation made the running script do collector work.
    pub assists: u64,
    pub objects: Vec<KindStats>,
    pub steps: StepTimes,
}

impl fmt::Display for GcReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "heap: {} bytes (next cycle at {}, live after last cycle {}, {} more pooled), phase {:?}",
            self.heap_bytes,
            self.threshold,
            self.live_after_last_cycle,
            self.pooled_bytes,
            self.phase
        )?;
        writeln!(
            f,
            "gc: {} cycles, {} forced collections, {} assists",
            self.cycles, self.forced_collections, self.assists
        )?;
        let s = &self.steps;
        writeln!(
            f,
            "gc steps: {} (min {:?}, mean {:?}, p99 {:?}, max {:?})",
            s.count, s.min, s.mean, s.p99, s.max
        )?;
        write!(f, "live objects:")?;
        for k in &self.objects {
            write!(f, " {} {} ({} bytes);", k.kind, k.count, k.bytes)?;
        }
        Ok(())
    }
}
