//! Many short calls in one resume: a host that calls `on_update` on
//! thousands of entities a frame gives them to [`Vm::run_batch`], which
//! runs them one after another on one fiber under one budget. A call
//! started and resumed on its own pays for its fiber's set-up, the table
//! of calls in progress and the meter's start and end each time: 30% of a
//! frame of 10,000 movers (`perf`, the `plugin` bench).
//!
//! A call that does not finish (out of budget, `yield`, waiting for
//! memory) ends the batch and goes on as an ordinary call. While the
//! debugger watches calls (a breakpoint, a step, a pause, stopping on
//! errors) batches are declined, and the host runs its calls one by one.

use std::any::Any;

use crate::error::RuntimeError;
use crate::fiber::Fiber;
use crate::heap::Heap;
use crate::interp;
use crate::value::Value;
use crate::vm::{Budget, CallId, InstanceId, RunResult, Vm};

/// The calls of a batch, given one at a time and told how each ended.
pub trait CallBatch {
    /// The next call, or `None` to end the batch. `vars` reads module
    /// variables (where a callback such as `on_update` is found); `host` is
    /// what the batch was run with.
    fn next<'a>(
        &'a mut self,
        vars: ModuleVars<'_>,
        host: Option<&mut (dyn Any + Send)>,
    ) -> Option<BatchCall<'a>>;

    /// The call `next` gave last failed, or returned a value and asked to
    /// hear of it ([`BatchCall::report_return`]). The collector keeps a
    /// returned value only until the next call runs (as the value of a call
    /// resumed alone until the next resume).
    fn ended(&mut self, result: Result<Value, &RuntimeError>, host: Option<&mut (dyn Any + Send)>);
}

/// A function to call and its arguments.
pub struct BatchCall<'a> {
    pub function: Value,
    pub args: &'a [Value],
    /// Whether [`CallBatch::ended`] hears of this call when it returns (it
    /// always hears of a failure). A host with nothing to do for most
    /// returns leaves it false and saves a call per call.
    pub report_return: bool,
}

/// Read access to instances' module variables during a batch.
#[derive(Clone, Copy)]
pub struct ModuleVars<'h>(pub(crate) &'h Heap);

impl ModuleVars<'_> {
    /// The module variable at `slot` of `instance` ([`Vm::var_slot`]).
    pub fn get(&self, instance: InstanceId, slot: usize) -> Option<Value> {
        let inst = self.0.instances.get(instance.0)?;
        inst.vars().get(slot).copied()
    }
}

/// How a batch ended.
#[derive(Debug, PartialEq)]
pub enum BatchEnd {
    /// `next` had no more calls, or the budget ran out between two calls.
    Ended,
    /// The last call `next` gave was suspended (`result` says why): it
    /// goes on as `call`, resumed like any other.
    Suspended { call: CallId, result: RunResult },
    /// The debugger watches calls: none ran. Run them one by one
    /// ([`Vm::start_call_value`] and [`Vm::resume_with`]).
    Declined,
}

impl Vm {
    /// Runs the calls `batch` gives, one after another, within `budget`,
    /// with `host` for natives (as [`Vm::resume_with`]). Each call runs as
    /// if started with [`Vm::start_call_value`] and resumed with what is
    /// left of the budget; the budget is checked before each call starts.
    pub fn run_batch(
        &mut self,
        budget: Budget,
        host: &mut (dyn Any + Send),
        batch: &mut dyn CallBatch,
    ) -> BatchEnd {
        if self.core.debug.watching() {
            return BatchEnd::Declined;
        }
        let call = self
            .core
            .calls
            .insert(Fiber::on_spares(&mut self.core.spare_stacks));
        let mut fiber = std::mem::take(&mut self.core.calls[call]);
        let last = interp::run_batch(&mut self.core, call, &mut fiber, budget, Some(host), batch);
        match last {
            Some(result) => {
                self.park_call(call, fiber);
                BatchEnd::Suspended { call, result }
            }
            None => {
                self.end_call(call, fiber);
                BatchEnd::Ended
            }
        }
    }
}
