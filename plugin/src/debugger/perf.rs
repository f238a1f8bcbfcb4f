//! The Performance window's history: a rolling window of frame samples,
//! and the instances that took the most time over the last second.

use std::collections::{HashMap, VecDeque};

use ark_vm::GcPhase;

use super::model::InstanceRef;

/// Seconds of frames kept for the plots.
pub const HISTORY_SECONDS: f64 = 12.0;
/// Samples kept at most, whatever the frame rate.
const SAMPLES_KEPT: usize = 20_000;
/// The window the busiest instances are ranked over.
pub const BUSIEST_SECONDS: f64 = 1.0;
/// Call times are summed per instance in buckets this long: memory stays
/// at (instances × buckets), whatever the frame rate.
const BUCKET_SECONDS: f64 = 0.1;
/// Instances ranked.
pub const BUSIEST_KEPT: usize = 8;

/// One frame's numbers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    /// Seconds since the debugger started.
    pub time: f64,
    pub opcode_micros: f64,
    pub gc_micros: f64,
    /// The frame's whole script budget, in microseconds (0 under an
    /// instruction budget).
    pub budget_micros: f64,
    pub instructions: u64,
    pub heap_objects: usize,
    pub heap_bytes: usize,
}

/// Call time per instance, from `start` for `BUCKET_SECONDS`.
#[derive(Clone, Debug, Default, PartialEq)]
struct Bucket {
    start: f64,
    micros: HashMap<InstanceRef, f64>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct PerfHistory {
    pub samples: VecDeque<Sample>,
    pub phase: GcPhase,
    buckets: VecDeque<Bucket>,
    /// The busiest instances over the buckets closed in the last
    /// `BUSIEST_SECONDS`, most first, in microseconds: ranked again
    /// whenever a bucket closes.
    busiest: Vec<(InstanceRef, f64)>,
}

impl PerfHistory {
    /// A frame's numbers, at `sample.time`.
    pub fn push(&mut self, sample: Sample) {
        let now = sample.time;
        self.samples.push_back(sample);
        while self.samples.len() > SAMPLES_KEPT
            || self
                .samples
                .front()
                .is_some_and(|s| now - s.time > HISTORY_SECONDS)
        {
            self.samples.pop_front();
        }
    }

    /// A call of `at` took `micros` at `time`.
    pub fn add_call(&mut self, time: f64, at: InstanceRef, micros: f64) {
        if self
            .buckets
            .back()
            .is_none_or(|b| time - b.start >= BUCKET_SECONDS)
        {
            while self
                .buckets
                .front()
                .is_some_and(|b| time - b.start > BUSIEST_SECONDS)
            {
                self.buckets.pop_front();
            }
            self.rank();
            self.buckets.push_back(Bucket {
                start: time,
                micros: HashMap::new(),
            });
        }
        let bucket = self.buckets.back_mut().expect("pushed above");
        *bucket.micros.entry(at).or_insert(0.0) += micros;
    }

    fn rank(&mut self) {
        let mut totals: HashMap<InstanceRef, f64> = HashMap::new();
        for bucket in &self.buckets {
            for (&at, &micros) in &bucket.micros {
                *totals.entry(at).or_insert(0.0) += micros;
            }
        }
        let mut ranked: Vec<(InstanceRef, f64)> = totals.into_iter().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked.truncate(BUSIEST_KEPT);
        self.busiest = ranked;
    }

    /// The instances that took the most time over the last second (the
    /// buckets closed in it), most first, with their microseconds.
    pub fn busiest(&self) -> &[(InstanceRef, f64)] {
        &self.busiest
    }

    pub fn last(&self) -> Option<&Sample> {
        self.samples.back()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bevy::ecs::entity::Entity;

    fn sample(time: f64) -> Sample {
        Sample {
            time,
            opcode_micros: 1.0,
            gc_micros: 0.5,
            budget_micros: 2000.0,
            instructions: 10,
            heap_objects: 1,
            heap_bytes: 64,
        }
    }

    #[test]
    fn the_history_keeps_a_rolling_window_and_ranks_the_last_second() {
        let mut h = PerfHistory::default();
        let a = InstanceRef {
            entity: Entity::from_raw_u32(1).unwrap(),
            slot: 0,
        };
        let b = InstanceRef { slot: 1, ..a };
        for frame in 0..1200 {
            let time = frame as f64 / 60.0;
            h.add_call(time, if frame < 1100 { a } else { b }, 3.0);
            h.add_call(time, a, 0.5);
            h.push(sample(time));
        }
        let span = h.last().unwrap().time - h.samples[0].time;
        assert!(
            (HISTORY_SECONDS - 0.02..=HISTORY_SECONDS).contains(&span),
            "{span}"
        );
        // The last second is frames 1140..1200, of which the buckets
        // closed so far hold about 54 frames: b's 3.0 and a's 0.5 a frame.
        let busiest = h.busiest();
        assert_eq!(busiest.len(), 2, "{busiest:?}");
        assert_eq!(busiest[0].0, b);
        assert_eq!(busiest[1].0, a);
        let frames = busiest[0].1 / 3.0;
        assert!((48.0..=60.0).contains(&frames), "{busiest:?}");
        assert!((busiest[1].1 / 0.5 - frames).abs() < 1e-6, "{busiest:?}");
    }
}
