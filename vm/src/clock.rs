//! Reading the clock under a time budget while keeping the longest stretch
//! between two reads. The work between reads is bounded and short, so a
//! stretch far longer than that means the thread was taken away (by the OS
//! or a hypervisor), not that the budget was ignored: the VM's calls and
//! the collector's steps both report it.

use std::time::{Duration, Instant};

/// The clock reads of one run or step, from its start.
#[derive(Clone, Copy)]
pub(crate) struct ClockReads {
    last: Instant,
    longest: Duration,
}

impl ClockReads {
    /// Reads that start at `start` (itself a read of the clock).
    pub(crate) fn starting_at(start: Instant) -> ClockReads {
        ClockReads {
            last: start,
            longest: Duration::ZERO,
        }
    }

    /// Reads the clock, noting the stretch since the last read.
    pub(crate) fn read(&mut self) -> Instant {
        let now = Instant::now();
        self.longest = self.longest.max(now - self.last);
        self.last = now;
        now
    }

    /// The longest stretch between two reads so far.
    pub(crate) fn longest(&self) -> Duration {
        self.longest
    }
}
