//! What more than one benchmark needs.

use std::time::Duration;

/// The thread's CPU time: unlike wall time, it leaves out the time the
/// OS gave other threads (a shared machine takes threads away for
/// milliseconds at a time).
pub fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec for the call to fill.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}
