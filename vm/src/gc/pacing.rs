//! When a cycle starts, and how much of its work the mutator pays for.
//!
//! The heap should peak near `pause` times what the last cycle found live
//! (the goal). A cycle that starts at the goal overshoots it by everything
//! allocated while it runs, and a game allocates all the while: on a heap
//! of a few hundred megabytes, a cycle lasts hundreds of frames. So a cycle
//! starts halfway between the live size and the goal, and is paced to end
//! by the goal: it owes collector work in proportion to what is allocated
//! during it (as Lua's and Luau's collectors do), at the rate that finishes
//! the work the last cycle did before the headroom is allocated. The host's
//! own steps (`Vm::gc_step`, every frame) pay that debt first; whatever
//! they leave, allocation pays as it goes (an assist), a small bounded
//! piece at a time, so that no resume runs much past its budget.

use crate::heap::VALUE_SIZE;

/// The heap never waits for less than this before a cycle starts. Small
/// enough that a script churning through short-lived objects keeps its
/// heap within the CPU's second-level cache: at 1 MiB the strings
/// benchmark's interner table and string arena outgrew it and ran about a
/// tenth slower (README, benchmarks). Small heaps mark quickly, so the
/// extra cycles cost little.
const MIN_THRESHOLD: usize = 256 << 10;
/// Where between the live size and the goal a cycle starts.
const TRIGGER_FRACTION: f64 = 0.5;
/// Bytes the mutator may allocate between two assists. With
/// `ASSIST_MAX_WORK`, this caps the rate at which assists can catch up
/// (a unit of work per 4 bytes): at 64 KiB, a churning 250,000-record heap
/// outran its cycles, which ran back to back with the heap at 2.4x live.
/// Counted in bytes allocated, not in the heap's size: a sweep shrinks the
/// heap while the mutator allocates, and assists keyed to the size stopped
/// until it had allocated back what the sweep freed (a cycle planned for
/// 40 MB of allocation ran through 165-252 MB).
const ASSIST_SPACING: usize = 16 << 10;
/// The most work one assist does (a few hundred microseconds at most), so
/// that an assist never makes a frame late by much; the next allocations
/// assist again.
const ASSIST_MAX_WORK: usize = 4 << 10;
/// A cycle's work is estimated at the last one's, with this margin.
const WORK_MARGIN: f64 = 1.25;

pub(crate) struct Pacer {
    /// Heap growth factor the cycle aims to stay under (2.0: the heap
    /// peaks near twice the live data).
    pub(crate) pause: f64,
    /// A cycle starts when the heap passes this many bytes.
    trigger: usize,
    /// Work units the last complete cycle did, and the heap's size when it
    /// started.
    last_cycle_work: usize,
    last_cycle_start_bytes: usize,
    /// Work units owed per byte allocated during the current cycle.
    work_per_byte: f64,
    /// Bytes allocated since the current cycle started.
    cycle_allocated: usize,
    /// Work done since the current cycle started.
    cycle_work: usize,
    /// Bytes allocated since the sweep began: they survive it, but are not
    /// part of what the last marking found live.
    allocated_while_sweeping: usize,
    /// Bytes of objects made during the marking that the sweep freed.
    pub(super) young_freed: usize,
    /// The next assist is due once `cycle_allocated` reaches this.
    next_assist: usize,
}

impl Pacer {
    pub(super) fn new() -> Pacer {
        Pacer {
            pause: 2.0,
            trigger: MIN_THRESHOLD,
            last_cycle_work: 0,
            last_cycle_start_bytes: 0,
            work_per_byte: 0.0,
            cycle_allocated: 0,
            cycle_work: 0,
            allocated_while_sweeping: 0,
            young_freed: 0,
            next_assist: ASSIST_SPACING,
        }
    }

    /// The heap size a cycle aims to end under, `live` having been found
    /// live by the last.
    fn goal(&self, live: usize) -> usize {
        (live as f64 * self.pause) as usize
    }

    /// The heap size at which the next cycle starts.
    pub(super) fn trigger(&self) -> usize {
        self.trigger
    }

    /// Records an allocation of `n` bytes during a cycle; true when an
    /// assist is due.
    #[inline]
    pub(super) fn allocated_in_cycle(&mut self, n: usize, sweeping: bool) -> bool {
        self.cycle_allocated += n;
        if sweeping {
            self.allocated_while_sweeping += n;
        }
        self.assist_due()
    }

    /// Whether the cycle's allocation since the last assist calls for
    /// another.
    #[inline]
    pub(super) fn assist_due(&self) -> bool {
        self.cycle_allocated >= self.next_assist
    }

    /// A cycle starts on a heap of `bytes`: its work is paced to end
    /// before the heap grows past the goal.
    pub(super) fn cycle_started(&mut self, bytes: usize, live: usize) {
        let goal = self.goal(live).max(MIN_THRESHOLD * 2);
        // The last cycle's work, scaled to the heap's size: marking
        // touches every live value, sweeping every slot. Before any cycle,
        // a value's worth of work for every value the heap could hold.
        let estimate = if self.last_cycle_start_bytes == 0 {
            (bytes / VALUE_SIZE) as f64
        } else {
            self.last_cycle_work as f64 * bytes as f64 / self.last_cycle_start_bytes as f64
        };
        let work = estimate * WORK_MARGIN;
        // A heap already near (or past) its goal still gets headroom of
        // a quarter of the live size to finish in.
        let headroom = goal.saturating_sub(bytes).max(live / 4).max(MIN_THRESHOLD);
        self.work_per_byte = work / headroom as f64;
        self.cycle_allocated = 0;
        self.cycle_work = 0;
        self.young_freed = 0;
        self.next_assist = ASSIST_SPACING;
        self.last_cycle_start_bytes = bytes.max(1);
    }

    /// Marking ended: what is allocated from here on survives the sweep.
    pub(super) fn sweep_started(&mut self) {
        self.allocated_while_sweeping = 0;
    }

    /// Records collector work, by a host step or an assist.
    pub(super) fn worked(&mut self, units: usize) {
        self.cycle_work += units;
    }

    /// What the cycle that ends on a heap of `bytes` found live: what
    /// survived of the heap it started on. Objects made during the
    /// marking survive it as well (those still reachable), and so does
    /// what the marking reached before the mutator dropped it (floating
    /// garbage). A game that replaces its objects as it goes makes about
    /// as much of each, so leaving out the young survivors cancels the
    /// floating garbage, which would otherwise raise every goal by what one
    /// marking lasts. Growth of old objects' buffers counts as young, which
    /// could only lower the estimate; it never goes below half the
    /// survivors.
    pub(super) fn live_estimate(&self, bytes: usize) -> usize {
        let survivors = bytes.saturating_sub(self.allocated_while_sweeping);
        let made_while_marking = self
            .cycle_allocated
            .saturating_sub(self.allocated_while_sweeping);
        let young_survivors = made_while_marking.saturating_sub(self.young_freed);
        survivors.saturating_sub(young_survivors).max(survivors / 2)
    }

    /// A cycle ended, having found `live` bytes live.
    pub(super) fn cycle_finished(&mut self, live: usize) {
        self.last_cycle_work = self.cycle_work;
        self.work_per_byte = 0.0;
        let headroom = self.goal(live).saturating_sub(live);
        self.trigger =
            ((live as f64 + headroom as f64 * TRIGGER_FRACTION) as usize).max(MIN_THRESHOLD);
    }

    /// The work the mutator owes now, if any, at most one assist's worth;
    /// the next assist is due `ASSIST_SPACING` bytes later.
    pub(super) fn assist_owed(&mut self) -> Option<usize> {
        self.next_assist = self.cycle_allocated + ASSIST_SPACING;
        let owed = (self.cycle_allocated as f64 * self.work_per_byte) as usize;
        let owed = owed.saturating_sub(self.cycle_work);
        (owed > 0).then_some(owed.min(ASSIST_MAX_WORK))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MB: usize = 1 << 20;

    #[test]
    fn a_cycle_starts_halfway_to_the_goal() {
        let mut pacer = Pacer::new();
        pacer.cycle_started(MB, 0);
        pacer.cycle_finished(100 * MB);
        assert_eq!(pacer.trigger(), 150 * MB);
    }

    #[test]
    fn the_live_estimate_leaves_out_what_the_marking_made() {
        let mut pacer = Pacer::new();
        pacer.cycle_started(150 * MB, 100 * MB);
        // Marking: 30 MB made, of which the sweep frees 10 MB.
        pacer.allocated_in_cycle(30 * MB, false);
        pacer.sweep_started();
        pacer.allocated_in_cycle(5 * MB, true);
        pacer.young_freed = 10 * MB;
        // 140 MB after the sweep: 135 survived it, 20 of them young.
        assert_eq!(pacer.live_estimate(140 * MB), 115 * MB);
        // Never below half of what survived.
        pacer.young_freed = 0;
        pacer.allocated_in_cycle(200 * MB, false);
        assert_eq!(pacer.live_estimate(140 * MB), 135 * MB / 2);
    }

    #[test]
    fn allocation_owes_work_in_proportion_and_one_assist_is_bounded() {
        let mut pacer = Pacer::new();
        pacer.cycle_started(100 * MB, 0);
        pacer.worked(1_000_000);
        pacer.cycle_finished(100 * MB);
        // The next cycle starts at 150 MB with 50 MB of headroom to the
        // goal, for about the last cycle's work (scaled to the heap).
        pacer.cycle_started(150 * MB, 100 * MB);
        let per_byte = 1_000_000.0 * 1.5 * WORK_MARGIN / (50 * MB) as f64;
        assert!(pacer.allocated_in_cycle(MB, false));
        let owed = pacer.assist_owed().expect("work is owed");
        assert_eq!(owed, ((MB as f64 * per_byte) as usize).min(ASSIST_MAX_WORK));
        assert!(owed <= ASSIST_MAX_WORK);
        // Host steps that did the work leave nothing owed.
        pacer.worked(10_000_000);
        assert!(pacer.allocated_in_cycle(MB, false));
        assert_eq!(pacer.assist_owed(), None);
        // The next assist is due after a little more allocation, counted
        // in bytes allocated, whatever the heap's size does meanwhile.
        assert!(!pacer.allocated_in_cycle(ASSIST_SPACING - 1, true));
        assert!(pacer.allocated_in_cycle(1, true));
    }
}
