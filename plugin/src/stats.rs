//! What the scripts did last frame.

use ark_vm::GcPhase;
use bevy::ecs::prelude::*;

/// Updated every frame by the scheduler.
#[derive(Resource, Debug, Clone, PartialEq)]
pub struct ScriptFrameStats {
    /// Microseconds spent running scripts.
    pub opcode_micros: f64,
    /// Under a time budget, the longest stretch of any script call this
    /// frame between two of the VM's clock reads, in microseconds (zero
    /// under an instruction budget; see
    /// [`ark_vm::Vm::last_resume_longest_unchecked`]). A call stops at most
    /// one stretch past its deadline, so when the frame runs over and this
    /// is most of the overshoot, one native (a component access, a game
    /// function) ran long or the OS took the thread away.
    pub opcode_longest_unchecked_micros: f64,
    /// Microseconds spent in the collector.
    pub gc_micros: f64,
    /// Under a time budget, the longest stretch of the collector's step
    /// between two of its clock reads, in microseconds (zero under an
    /// instruction budget). The collector reads the clock a microsecond or
    /// two apart, so when `gc_micros` is over its share and this is most
    /// of it, the OS or a hypervisor took the thread away in the middle:
    /// the spike is not the collector's.
    pub gc_longest_unchecked_micros: f64,
    /// Instructions run (natives' charges included).
    pub instructions: u64,
    /// Calls run this frame.
    pub instances_run: usize,
    /// Instances with a call suspended at the end of the frame.
    pub suspended: usize,
    /// Instances that could not run this frame because the budget ran out.
    pub waiting: usize,
    /// Instances stopped by an error.
    pub failed: usize,
    pub heap_objects: usize,
    pub heap_bytes: usize,
    pub gc_phase: GcPhase,
    /// Times the heap reached its limit, each forcing a whole collection
    /// (which a call under a budget waits for), since the start.
    pub forced_collections: u64,
}

impl Default for ScriptFrameStats {
    fn default() -> Self {
        ScriptFrameStats {
            opcode_micros: 0.0,
            opcode_longest_unchecked_micros: 0.0,
            gc_micros: 0.0,
            gc_longest_unchecked_micros: 0.0,
            instructions: 0,
            instances_run: 0,
            suspended: 0,
            waiting: 0,
            failed: 0,
            heap_objects: 0,
            heap_bytes: 0,
            gc_phase: GcPhase::Idle,
            forced_collections: 0,
        }
    }
}
