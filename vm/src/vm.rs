//! The embedding API: a `Vm` owns one heap shared by every module instance,
//! the native functions, and the suspended calls.
//!
//! ```
//! use ark_vm::{Budget, RunResult, Value, Vm};
//!
//! let mut vm = Vm::new();
//! vm.register_fn("double", |x: i64| x * 2);
//! let module = vm.compile("demo.ark", "fn twice(x) { return double(x); }").unwrap();
//! let game = vm.instantiate(&module);
//! vm.run_init(game).unwrap();
//!
//! // Run a call under a budget of 2 instructions at a time.
//! let call = vm.start_call(game, "twice", &[Value::Int(21)]).unwrap();
//! let result = loop {
//!     match vm.resume(call, Budget::Instructions(2)) {
//!         RunResult::Suspended => continue,
//!         RunResult::Done(v) => break v,
//!         RunResult::Error(e) => panic!("{e}"),
//!         // Only a VM with breakpoints or steps stops calls.
//!         RunResult::Stopped(why) => unreachable!("{why:?}"),
//!     }
//! };
//! assert_eq!(vm.from_value::<i64>(result).unwrap(), 42);
//! ```

use std::any::Any;
use std::sync::{Arc, Weak};
use std::time::Instant;

use rustc_hash::FxHashMap;
use slotmap::{SlotMap, new_key_type};

use crate::builtins::Builtin;
use crate::bytecode::ModuleCode;
use crate::compiler::{self, Env, Options};
use crate::error::{CompileError, RuntimeError};
use crate::fiber::{Fiber, MemoryWait};
use crate::heap::{Heap, Instance};
use crate::interp;
use crate::methods::MethodNames;
use crate::native::{Arity, FromArk, IntoArk, NativeCtx, NativeFn, NativeResult, TypedNative};
use crate::rooted::RootRegistry;
use crate::value::{InstanceKey, NativeId, Value};

/// Limits and settings of a VM.
#[derive(Clone, Debug)]
pub struct VmConfig {
    /// Bytes the heap may hold before allocation fails with `out of memory`.
    pub heap_limit: usize,
    /// Script call frames one call may nest (`stack overflow` past it).
    pub max_call_depth: usize,
    /// Bytes of registers one call's frames may take together (`stack
    /// overflow` past it). The register stack is outside the heap and its
    /// limit: deep recursion through functions with many locals would
    /// otherwise hold far more than the heap limit.
    pub max_stack_bytes: usize,
    /// Longest string, in bytes (`string too long` past it).
    pub max_string_len: usize,
    /// Seed of `random()` and `random_int()`.
    pub seed: u64,
    /// How far the heap may grow past what was live after the last
    /// collection before the next cycle starts (2.0: it settles at about
    /// twice the live data).
    pub gc_pause: f64,
    /// Stress mode: a full collection every this many allocations (1: every
    /// allocation). For finding a missing barrier or root; very slow.
    pub gc_stress: Option<u32>,
    /// Sliced stress mode: at every allocation, a collector step of this
    /// many work units (a new cycle starting whenever one ends), then the
    /// heap is validated ([`Vm::validate_heap`]); a failed validation is a
    /// runtime error. Finds a missing barrier that whole collections hide;
    /// very slow.
    pub gc_stress_sliced: Option<u32>,
}

impl Default for VmConfig {
    fn default() -> Self {
        VmConfig {
            heap_limit: 1 << 30,
            max_call_depth: 100_000,
            max_stack_bytes: 32 << 20,
            max_string_len: 256 << 20,
            seed: 0x9e37_79b9_7f4a_7c15,
            gc_pause: 2.0,
            gc_stress: None,
            gc_stress_sliced: None,
        }
    }
}

/// How long a call may run before it is suspended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Budget {
    /// This many instructions (natives charge for their work in the same
    /// units): deterministic, for tests and replays. Instructions are
    /// charged ahead: a call its function's length as it starts, a loop its
    /// body's length each time it goes round. So the count is an upper
    /// bound of the instructions run, and the budget is checked (and the
    /// call suspended) only there and after native calls.
    Instructions(u64),
    /// This many microseconds of wall-clock time. The clock is read at the
    /// first check after every [`CLOCK_CHECK_INTERVAL`] instructions
    /// charged, so a slice overshoots by at most that many instructions,
    /// plus the code charged at that check (one function or loop body), plus
    /// the one native call running then.
    Micros(u64),
    /// Until this instant, with the clock shared by the resumes before it
    /// that ran until the same instant: it is read after every
    /// [`CLOCK_CHECK_INTERVAL`] instructions charged across all of them,
    /// not at every resume. A host that runs thousands of short calls a
    /// frame (one per entity) under one deadline reads the clock every
    /// thousand instructions or so, where [`Budget::Micros`] reads it at
    /// every start and end. The bound is the same: the instructions past
    /// the deadline are at most an interval's, plus the code charged at
    /// that check, plus the one native running. [`Vm::deadline_passed`]
    /// says when a check found the deadline passed: then stop resuming.
    Until(Instant),
    /// Run to completion (or to `yield`).
    Unlimited,
}

/// Instructions charged between two reads of the clock under
/// [`Budget::Micros`].
pub const CLOCK_CHECK_INTERVAL: i64 = 1024;

/// What one slice of a call ended with.
#[derive(Clone, Debug, PartialEq)]
pub enum RunResult {
    /// The call returned this value; its handle is now invalid.
    Done(Value),
    /// The budget ran out, or the script yielded: resume it later.
    Suspended,
    /// The call failed; its handle is now invalid.
    Error(RuntimeError),
    /// The debugger stopped the call (a breakpoint, a step, a pause, or an
    /// error it breaks on): it is suspended where it stopped until the
    /// host resumes it. Only a VM with the debugger in use stops calls.
    Stopped(crate::debug::StopReason),
}

/// A compiled script, ready to be instantiated (cheap to clone).
#[derive(Clone, Debug)]
pub struct Module(pub(crate) Arc<ModuleCode>);

impl Module {
    /// The script name given to [`Vm::compile`].
    pub fn script(&self) -> &str {
        &self.0.script
    }

    /// The compiled code, for disassembly and debuggers.
    pub fn code(&self) -> &ModuleCode {
        &self.0
    }
}

/// One instance of a module: its own module variables, on the VM's heap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct InstanceId(pub(crate) InstanceKey);

new_key_type! {
    /// A call in progress (possibly suspended).
    pub struct CallId;
}

/// Native functions by id. Shared (`Arc`) so that the interpreter can hold
/// the table while natives borrow the rest of the VM.
#[derive(Clone, Default)]
pub struct Natives(Arc<Vec<NativeFn>>);

impl Natives {
    pub fn name(&self, id: NativeId) -> &str {
        self.0.get(id.0 as usize).map_or("?", |n| &n.name)
    }

    pub(crate) fn get(&self, id: NativeId) -> Option<&NativeFn> {
        self.0.get(id.0 as usize)
    }
}

/// The prelude's script-written list methods.
#[derive(Clone, Copy, Default)]
pub(crate) struct PreludeFns {
    pub map: Value,
    pub filter: Value,
    pub sort_by: Value,
}

/// Everything the interpreter and natives share; the suspended calls live
/// beside it in [`Vm`].
pub struct Core {
    pub(crate) heap: Heap,
    pub(crate) natives: Natives,
    pub(crate) globals: Vec<Value>,
    pub(crate) global_names: FxHashMap<String, u16>,
    pub(crate) methods: MethodNames,
    pub(crate) print: Box<dyn FnMut(&str) + Send>,
    pub(crate) rng: u64,
    pub(crate) start: Instant,
    pub(crate) config: VmConfig,
    pub(crate) prelude: PreludeFns,
    /// Calls in progress. A running call is taken out while it runs.
    pub(crate) calls: SlotMap<CallId, Fiber>,
    /// Values that `Rooted` handles keep alive.
    pub(crate) roots: RootRegistry,
    /// Every module compiled: while the host holds one, its code's
    /// constants are roots, whether or not an instance runs it.
    pub(crate) modules: Vec<Weak<ModuleCode>>,
    /// Instructions run (and work units natives charged) since the VM
    /// started.
    pub(crate) instructions: u64,
    /// Under a time budget, the longest stretch of the last resume between
    /// two reads of the clock (see [`Vm::last_resume_longest_unchecked`]).
    pub(crate) last_resume_longest_unchecked: std::time::Duration,
    /// The clock shared by resumes under [`Budget::Until`] the same
    /// deadline.
    pub(crate) shared_clock: Option<crate::interp::SharedClock>,
    /// Registers and frames of ended calls, for the next ones.
    pub(crate) spare_stacks: crate::fiber::SpareStacks,
    /// Breakpoints, steps and stopped calls.
    pub(crate) debug: Box<crate::debug::DebugState>,
}

/// An Ark virtual machine.
pub struct Vm {
    pub(crate) core: Core,
}

impl Default for Vm {
    fn default() -> Self {
        Vm::new()
    }
}

const PRELUDE: &str = include_str!("prelude.ark");

/// The script name of the prelude; its frames are left out of error reports.
pub(crate) const PRELUDE_NAME: &str = "<prelude>";

/// Compiling takes up to about this many bytes of memory per byte of
/// source (a script of a few characters per statement, measured).
const COMPILE_BYTES_PER_SOURCE_BYTE: usize = 128;

/// The smallest script size limit, whatever the heap limit.
const MIN_SCRIPT_LIMIT: usize = 64 << 10;

/// Stack the compiler runs on: enough for the deepest nesting the parser
/// accepts (`parser::MAX_NESTING`) even in an unoptimised build. Only the
/// pages actually touched are committed.
const COMPILE_STACK_BYTES: usize = 256 << 20;

impl Vm {
    /// A VM with the default configuration. Output of `print` goes to
    /// stdout until [`Vm::set_print`] says otherwise.
    pub fn new() -> Vm {
        Vm::with_config(VmConfig::default())
    }

    pub fn with_config(config: VmConfig) -> Vm {
        // The prelude loads whatever the limit: a limit too small for it
        // makes the first allocation a script makes `out of memory`.
        let mut heap = Heap::new(usize::MAX / 4, config.max_string_len);
        heap.gc.pacer.pause = config.gc_pause.max(1.1);
        let mut vm = Vm {
            core: Core {
                heap,
                natives: Natives::default(),
                globals: Vec::new(),
                global_names: FxHashMap::default(),
                methods: MethodNames::default(),
                print: Box::new(|line| println!("{line}")),
                rng: config.seed | 1,
                start: Instant::now(),
                prelude: PreludeFns::default(),
                calls: SlotMap::with_key(),
                roots: RootRegistry::default(),
                modules: Vec::new(),
                instructions: 0,
                last_resume_longest_unchecked: std::time::Duration::ZERO,
                shared_clock: None,
                spare_stacks: Default::default(),
                debug: Box::default(),
                config,
            },
        };
        for &(name, arity, f) in crate::builtins::FUNCTIONS {
            match f {
                Builtin::Native(f) => vm.register_native(name, arity, f),
                Builtin::Pure(f) => {
                    let id = vm.register_native(name, arity, move |_, args| f(args));
                    Arc::make_mut(&mut vm.core.natives.0)[id.0 as usize].pure = Some(f);
                    id
                }
            };
        }
        for &(name, value) in crate::builtins::CONSTANTS {
            vm.set_global(name, value);
        }
        vm.load_prelude();
        vm.core.heap.limit = vm.core.config.heap_limit;
        // Stress mode starts after the prelude, so that it tests scripts.
        vm.core.heap.gc.stress_every = vm.core.config.gc_stress;
        vm.core.heap.gc.stress_sliced = vm.core.config.gc_stress_sliced;
        vm
    }

    fn load_prelude(&mut self) {
        let module = self
            .compile(PRELUDE_NAME, PRELUDE)
            .expect("the prelude compiles");
        let inst = self.instantiate(&module);
        self.run_init(inst).expect("the prelude runs");
        let get = |vm: &Vm, name: &str| vm.get_var(inst, name).expect("prelude function");
        self.core.prelude = PreludeFns {
            map: get(self, "map"),
            filter: get(self, "filter"),
            sort_by: get(self, "sort_by"),
        };
    }

    /// Sends `print` output to `sink`, one call per line (without newline).
    pub fn set_print(&mut self, sink: impl FnMut(&str) + Send + 'static) {
        self.core.print = Box::new(sink);
    }

    pub fn config(&self) -> &VmConfig {
        &self.core.config
    }

    /// Sets the heap limit in bytes.
    pub fn set_heap_limit(&mut self, bytes: usize) {
        self.core.config.heap_limit = bytes;
        self.core.heap.limit = bytes;
    }

    // ---- natives and globals ----

    /// Registers a native function that scripts compiled from now on can
    /// call by `name`. It receives a context and its arguments.
    ///
    /// A name that a built-in already has replaces the built-in for scripts
    /// compiled from now on. (Calls to some built-ins, such as `div`, are
    /// compiled inline, so scripts compiled before keep the built-in.)
    ///
    /// ```
    /// use ark_vm::{Arity, NativeError, Value, Vm};
    /// let mut vm = Vm::new();
    /// vm.register_native("sum", Arity::AtLeast(0), |_ctx, args| {
    ///     let mut total = 0;
    ///     for a in args {
    ///         match a {
    ///             Value::Int(i) => total += i,
    ///             other => return Err(NativeError::new(format!("sum: not an int: {}", other.type_name()))),
    ///         }
    ///     }
    ///     Ok(Value::Int(total))
    /// });
    /// let v = vm.eval("sum(1, 2, 3)").unwrap();
    /// assert_eq!(vm.from_value::<i64>(v).unwrap(), 6);
    /// ```
    pub fn register_native(
        &mut self,
        name: &str,
        arity: Arity,
        f: impl Fn(&mut NativeCtx<'_>, &[Value]) -> NativeResult + Send + Sync + 'static,
    ) -> NativeId {
        let natives = Arc::make_mut(&mut self.core.natives.0);
        let id = NativeId(natives.len() as u32);
        natives.push(NativeFn {
            name: name.into(),
            arity,
            func: Arc::new(f),
            pure: None,
        });
        self.set_global(name, Value::Native(id));
        id
    }

    /// Registers a Rust closure with typed parameters and result; arguments
    /// are converted (and checked) from Ark values.
    ///
    /// ```
    /// let mut vm = ark_vm::Vm::new();
    /// vm.register_fn("hypot", |a: f64, b: f64| (a * a + b * b).sqrt());
    /// let v = vm.eval("hypot(3, 4)").unwrap();
    /// assert_eq!(vm.from_value::<f64>(v).unwrap(), 5.0);
    /// ```
    pub fn register_fn<Args, F: TypedNative<Args>>(&mut self, name: &str, f: F) -> NativeId {
        let owned: Arc<str> = name.into();
        self.register_native(name, Arity::Exactly(F::ARITY), move |ctx, args| {
            f.call(&mut ctx.core.heap, &owned, args)
        })
    }

    /// Defines (or redefines) a global that scripts compiled from now on see.
    pub fn set_global(&mut self, name: &str, value: Value) {
        match self.core.global_names.get(name) {
            Some(&i) => self.core.globals[i as usize] = value,
            None => {
                let i = self.core.globals.len() as u16;
                self.core.globals.push(value);
                self.core.global_names.insert(name.to_string(), i);
            }
        }
    }

    // ---- compiling and instances ----

    /// The longest script this VM compiles: compiling uses memory outside
    /// the heap, up to about 128 bytes per byte of source,
    /// so the limit is the heap limit divided by that (at least 64 KiB).
    /// A longer script is a `script too large` compile error.
    pub fn max_script_bytes(&self) -> usize {
        (self.core.heap.limit / COMPILE_BYTES_PER_SOURCE_BYTE).max(MIN_SCRIPT_LIMIT)
    }

    /// Compiles a script. `script` names it in errors and stack traces.
    pub fn compile(&mut self, script: &str, source: &str) -> Result<Module, CompileError> {
        self.compile_source(script, source, Options::default(), false)
    }

    /// Parses and compiles on a stack of its own, so that the nesting the
    /// parser allows fits whatever thread the host calls from.
    pub(crate) fn compile_source(
        &mut self,
        script: &str,
        source: &str,
        options: Options<'_>,
        repl: bool,
    ) -> Result<Module, CompileError> {
        let source = &*crate::source::normalized(source);
        let most = self.max_script_bytes();
        if source.len() > most {
            return Err(CompileError::new(
                script,
                1,
                1,
                format!(
                    "script too large: {} bytes, at most {most} with this heap limit",
                    source.len()
                ),
            ));
        }
        let names = &self.core.global_names;
        let lookup = |name: &str| names.get(name).copied();
        let globals = &self.core.globals;
        // Built-ins are registered first, in order: the one named `name` has
        // the id of its position.
        let is_builtin = |name: &str| {
            let position = crate::builtins::FUNCTIONS.iter().position(|f| f.0 == name);
            match (names.get(name), position) {
                (Some(&idx), Some(id)) => matches!(
                    globals[idx as usize],
                    Value::Native(NativeId(n)) if n as usize == id
                ),
                _ => false,
            }
        };
        let mut env = Env {
            heap: &mut self.core.heap,
            globals: &lookup,
            is_builtin: &is_builtin,
            methods: &mut self.core.methods,
        };
        let work = || {
            // The syntax tree's arena, freed in one piece after the compile.
            let arena = crate::ast::Arena::new();
            let (program, tail) = if repl {
                crate::parser::parse_repl(script, source, &arena)?
            } else {
                (crate::parser::parse(script, source, &arena)?, None)
            };
            compiler::compile_program(
                script,
                program.body,
                program.decl_count,
                tail.as_ref(),
                &mut env,
                options,
            )
        };
        // On a stack of its own, on this thread: a thread of its own would
        // also allocate from a malloc arena of its own, fresh on every
        // compile (15% of a large compile's time, see the commit message).
        let code = Arc::new(stacker::grow(COMPILE_STACK_BYTES, work)?);
        self.core.modules.push(Arc::downgrade(&code));
        self.core.debug.compiled(&code, source);
        Ok(Module(code))
    }

    /// Compiles a REPL entry in the context of `instance`: it sees (and may
    /// add to) the instance's module variables, may end in an expression
    /// without `;` whose value the returned call produces.
    pub fn compile_repl(
        &mut self,
        instance: InstanceId,
        source: &str,
    ) -> Result<CallId, RuntimeOrCompile> {
        let prior = self
            .core
            .heap
            .instances
            .get(instance.0)
            .map(|i| i.module().var_names.clone())
            .ok_or_else(|| RuntimeOrCompile::Runtime(RuntimeError::new("stale instance")))?;
        let options = Options { prior_vars: &prior };
        let module = self
            .compile_source("<repl>", source, options, true)
            .map_err(RuntimeOrCompile::Compile)?;
        self.core
            .heap
            .grow_instance(instance.0, module.0.var_names.len());
        self.core
            .heap
            .instance_set_module(instance.0, module.0.clone());
        Ok(self.start_main(instance, &module))
    }

    /// Creates an instance of `module`: fresh module variables (all `nil`)
    /// on the shared heap. Run its top level with [`Vm::start_init`] or
    /// [`Vm::run_init`].
    pub fn instantiate(&mut self, module: &Module) -> InstanceId {
        let key = self
            .core
            .heap
            .alloc_instance(Instance::new(module.0.clone()));
        InstanceId(key)
    }

    /// Drops an instance: its module variables stop being roots.
    pub fn release_instance(&mut self, instance: InstanceId) {
        self.core.heap.release_instance(instance.0);
    }

    /// Starts running the instance's top-level code (which also creates its
    /// functions) as a suspendable call.
    pub fn start_init(&mut self, instance: InstanceId) -> CallId {
        match self.core.heap.instances.get(instance.0) {
            Some(inst) => {
                let module = Module(inst.module().clone());
                self.start_main(instance, &module)
            }
            None => self.insert_call(Fiber::failed("stale handle: the instance was released")),
        }
    }

    pub(crate) fn start_main(&mut self, instance: InstanceId, module: &Module) -> CallId {
        let fiber = Fiber::for_main(&mut self.core.heap, instance.0, module.0.main.clone());
        self.insert_call(fiber)
    }

    /// Registers a new call. While the collector marks, its arguments are
    /// scanned before it first runs.
    fn insert_call(&mut self, fiber: Fiber) -> CallId {
        let call = self.core.calls.insert(fiber);
        self.core.heap.gc.queue_rescan(call, &self.core.calls[call]);
        call
    }

    /// Runs the instance's top-level code to completion.
    pub fn run_init(&mut self, instance: InstanceId) -> Result<(), RuntimeError> {
        let call = self.start_init(instance);
        self.finish(call).map(|_| ())
    }

    /// Compiles, instantiates and initialises a script in one step.
    pub fn load(&mut self, script: &str, source: &str) -> Result<InstanceId, crate::Error> {
        let module = self.compile(script, source)?;
        let instance = self.instantiate(&module);
        self.run_init(instance)?;
        Ok(instance)
    }

    /// Evaluates one expression (REPL-style, in a throwaway instance).
    pub fn eval(&mut self, source: &str) -> Result<Value, crate::Error> {
        let module = self.compile("<eval>", "")?;
        let instance = self.instantiate(&module);
        let result = match self.compile_repl(instance, source) {
            Ok(call) => self.finish(call).map_err(crate::Error::Runtime),
            Err(RuntimeOrCompile::Compile(e)) => Err(crate::Error::Compile(e)),
            Err(RuntimeOrCompile::Runtime(e)) => Err(crate::Error::Runtime(e)),
        };
        self.release_instance(instance);
        result
    }

    /// Gives entity values their fields and methods (`self.Transform`).
    pub fn set_entity_host(&mut self, host: Box<dyn crate::host::EntityHost>) {
        self.core.heap.entity_host = Some(host);
    }

    /// How entity values print: `f` turns an entity's bits into the text
    /// between `<entity ` and `>` (the plugin uses Bevy's `34v0` form).
    pub fn set_entity_display(&mut self, f: fn(u64) -> String) {
        self.core.heap.entity_display = f;
    }

    /// What `self` evaluates to inside the instance (the plugin binds the
    /// entity here).
    pub fn set_self(&mut self, instance: InstanceId, value: Value) {
        self.core.heap.instance_set_self(instance.0, value);
    }

    /// The module the instance runs.
    pub fn instance_module(&self, instance: InstanceId) -> Option<Module> {
        self.core
            .heap
            .instances
            .get(instance.0)
            .map(|i| Module(i.module().clone()))
    }

    /// Reads a module variable (or top-level function) by name.
    pub fn get_var(&self, instance: InstanceId, name: &str) -> Option<Value> {
        self.get_var_at(instance, self.var_slot(instance, name)?)
    }

    /// The slot of module variable `name` of `instance`, for
    /// [`Vm::get_var_at`]: a host that reads a variable every frame (a
    /// callback such as `on_update`) finds it once. An instance's slots
    /// never change.
    pub fn var_slot(&self, instance: InstanceId, name: &str) -> Option<usize> {
        let inst = self.core.heap.instances.get(instance.0)?;
        inst.module().var_slot(name)
    }

    /// The module variable at `slot` of `instance` ([`Vm::var_slot`]).
    pub fn get_var_at(&self, instance: InstanceId, slot: usize) -> Option<Value> {
        crate::batch::ModuleVars(&self.core.heap).get(instance, slot)
    }

    /// Writes a module variable by name; false if there is none.
    pub fn set_var(&mut self, instance: InstanceId, name: &str, value: Value) -> bool {
        let Some(slot) = self
            .core
            .heap
            .instances
            .get(instance.0)
            .and_then(|i| i.module().var_slot(name))
        else {
            return false;
        };
        self.core.heap.instance_var_set(instance.0, slot, value);
        true
    }

    /// Whether the instance defines a function called `name`.
    pub fn has_function(&self, instance: InstanceId, name: &str) -> bool {
        matches!(
            self.get_var(instance, name),
            Some(Value::Closure(_) | Value::Native(_))
        )
    }

    // ---- calls ----

    /// Starts a call of the instance's function `name` with `args`. Nothing
    /// runs until [`Vm::resume`].
    pub fn start_call(
        &mut self,
        instance: InstanceId,
        name: &str,
        args: &[Value],
    ) -> Result<CallId, RuntimeError> {
        let f = self
            .get_var(instance, name)
            .filter(|v| matches!(v, Value::Closure(_) | Value::Native(_)))
            .ok_or_else(|| RuntimeError::new(format!("no function '{name}' in the script")))?;
        self.start_call_value(f, args)
    }

    /// Starts a call of any function value.
    pub fn start_call_value(&mut self, f: Value, args: &[Value]) -> Result<CallId, RuntimeError> {
        if !matches!(f, Value::Closure(_) | Value::Native(_)) {
            return Err(RuntimeError::new(format!("cannot call {}", f.type_name())));
        }
        let fiber = Fiber::for_call(f, args, &mut self.core.spare_stacks);
        Ok(self.insert_call(fiber))
    }

    /// Runs a call for at most `budget`.
    pub fn resume(&mut self, call: CallId, budget: Budget) -> RunResult {
        self.resume_checking_conditions(call, budget, None)
    }

    /// Like [`Vm::resume`], with host data that natives reach through
    /// [`NativeCtx::host`] (the plugin passes its `World` access here).
    pub fn resume_with(
        &mut self,
        call: CallId,
        budget: Budget,
        host: &mut (dyn Any + Send),
    ) -> RunResult {
        self.resume_checking_conditions(call, budget, Some(host))
    }

    /// Resumes; a stop at a breakpoint whose condition does not hold goes
    /// on running, within what is left of the budget.
    fn resume_checking_conditions(
        &mut self,
        call: CallId,
        budget: Budget,
        mut host: Option<&mut (dyn Any + Send)>,
    ) -> RunResult {
        // Without breakpoints there is nothing to check (and no clock to
        // read on every resume).
        if !self.core.debug.has_breakpoints() {
            return self.resume_inner(call, budget, host);
        }
        let (started, instructions) = (Instant::now(), self.core.instructions);
        loop {
            let left = match budget {
                Budget::Instructions(n) => {
                    Budget::Instructions(n.saturating_sub(self.core.instructions - instructions))
                }
                Budget::Micros(us) => {
                    Budget::Micros(us.saturating_sub(started.elapsed().as_micros() as u64))
                }
                until @ (Budget::Until(_) | Budget::Unlimited) => until,
            };
            let result = self.resume_inner(call, left, host.as_deref_mut());
            if let RunResult::Stopped(crate::debug::StopReason::Breakpoint(id)) = &result
                && !self.breakpoint_condition_holds(call, *id)
            {
                self.core.debug.resuming(call);
                continue;
            }
            return result;
        }
    }

    fn resume_inner(
        &mut self,
        call: CallId,
        budget: Budget,
        host: Option<&mut (dyn Any + Send)>,
    ) -> RunResult {
        let Some(fiber) = self.core.calls.get_mut(call) else {
            return RunResult::Error(RuntimeError::new("this call has already finished"));
        };
        let mut fiber = std::mem::take(fiber);
        // A call waiting for memory gives its resume to the collector, and
        // runs again in the next one (at once without a budget).
        let waited = matches!(fiber.memory.get(), MemoryWait::UntilCycles(_));
        let result = if waited
            && (!crate::gc::wait_for_memory(&mut self.core, call, &fiber, budget)
                || budget != Budget::Unlimited)
        {
            RunResult::Suspended
        } else {
            interp::run(&mut self.core, call, &mut fiber, budget, host)
        };
        match result {
            RunResult::Suspended | RunResult::Stopped(_) => self.park_call(call, fiber),
            _ => self.end_call(call, fiber),
        }
        result
    }

    /// Puts a call that ran and did not finish back among the calls in
    /// progress.
    pub(crate) fn park_call(&mut self, call: CallId, fiber: Fiber) {
        if let Some(slot) = self.core.calls.get_mut(call) {
            *slot = fiber;
            // It ran: its registers must be scanned again this cycle.
            self.core.heap.gc.queue_rescan(call, slot);
        }
    }

    /// Ends a call: its registers and frames go back to the spares.
    pub(crate) fn end_call(&mut self, call: CallId, mut fiber: Fiber) {
        self.core.calls.remove(call);
        let stack = self.core.spare_stacks.keep(
            std::mem::take(&mut fiber.stack),
            std::mem::take(&mut fiber.frames),
        );
        self.core.heap.call_ended(call, stack);
        self.core.debug.finished(call);
    }

    /// Runs a call to completion, through any `yield`s.
    pub fn finish(&mut self, call: CallId) -> Result<Value, RuntimeError> {
        loop {
            match self.resume(call, Budget::Unlimited) {
                RunResult::Suspended | RunResult::Stopped(_) => continue,
                RunResult::Done(v) => return Ok(v),
                RunResult::Error(e) => return Err(e),
            }
        }
    }

    /// Calls the instance's function `name` and runs it to completion.
    pub fn call(
        &mut self,
        instance: InstanceId,
        name: &str,
        args: &[Value],
    ) -> Result<Value, RuntimeError> {
        let call = self.start_call(instance, name, args)?;
        self.finish(call)
    }

    /// Instructions charged since the VM started, natives' charges for their
    /// work included (the unit of [`Budget::Instructions`], which says how
    /// they are charged).
    pub fn instructions_executed(&self) -> u64 {
        self.core.instructions
    }

    /// Whether a resume under [`Budget::Until`] `deadline` found it passed
    /// (the clock is read only at checks: until one runs, this says no).
    pub fn deadline_passed(&self, deadline: Instant) -> bool {
        self.core
            .shared_clock
            .is_some_and(|c| c.found_passed(deadline))
    }

    /// Under a [`Budget::Micros`], the longest stretch of the last resume
    /// between two reads of the clock: its start, the budget checks (every
    /// [`CLOCK_CHECK_INTERVAL`] instructions, natives' charges included)
    /// and its end. Zero under other budgets. A run ends at most one
    /// stretch past its deadline, so when a resume overshoots and this is
    /// most of the overshoot, a single native ran long or the OS took the
    /// thread away; a few microseconds is the normal.
    pub fn last_resume_longest_unchecked(&self) -> std::time::Duration {
        self.core.last_resume_longest_unchecked
    }

    /// Abandons a suspended call.
    pub fn cancel(&mut self, call: CallId) {
        if let Some(fiber) = self.core.calls.remove(call) {
            self.core.heap.call_ended(call, fiber.stack);
        }
    }

    /// Whether a call is still in progress.
    pub fn is_running(&self, call: CallId) -> bool {
        self.core.calls.contains_key(call)
    }

    // ---- values ----

    /// The heap, to inspect objects.
    pub fn heap(&self) -> &Heap {
        &self.core.heap
    }

    /// The heap, to allocate objects. Replace it (`mem::swap` with another
    /// VM's) and every call in progress fails with a runtime error when it
    /// next runs: a call runs only on the heap it started on.
    pub fn heap_mut(&mut self) -> &mut Heap {
        &mut self.core.heap
    }

    /// `str(v)`. Text longer than the longest string a script may make
    /// shows as `<text too long to show>`.
    pub fn display(&self, v: Value) -> String {
        crate::printer::cut_to_limit(crate::printer::display(
            &self.core.heap,
            &self.core.natives,
            v,
        ))
    }

    /// How `v` shows inside a list (strings quoted): what the REPL prints.
    /// Bounded as [`Vm::display`] is.
    pub fn repr(&self, v: Value) -> String {
        crate::printer::cut_to_limit(crate::printer::repr(&self.core.heap, &self.core.natives, v))
    }

    /// Converts a Rust value into an Ark value (strings and lists allocate).
    pub fn to_value<T: IntoArk>(&mut self, v: T) -> Result<Value, String> {
        v.into_ark(&mut self.core.heap)
    }

    /// Converts an Ark value into a Rust value.
    pub fn from_value<T: FromArk>(&self, v: Value) -> Result<T, String> {
        T::from_ark(v, &self.core.heap)
    }

    /// Adds a host object to the heap and returns its value.
    pub fn alloc_host(&mut self, obj: Box<dyn crate::HostObject>) -> Result<Value, RuntimeError> {
        self.core
            .heap
            .alloc_host(obj)
            .map(Value::Host)
            .map_err(|_| RuntimeError::new("out of memory"))
    }

    // ---- the collector ----

    /// Does incremental collection work within `budget` (microseconds, or
    /// work units with `Budget::Instructions`; `Budget::Unlimited` finishes
    /// the current cycle). A cycle starts only once the heap has grown past
    /// its threshold. Between steps, scripts may run: values that Rust code
    /// holds across steps must be [`Rooted`](crate::Rooted).
    pub fn gc_step(&mut self, budget: Budget) -> crate::GcProgress {
        crate::gc::step(&mut self.core, None, budget, false)
    }

    /// Like [`Vm::gc_step`], but starts a cycle even below the threshold.
    pub fn gc_step_forced(&mut self, budget: Budget) -> crate::GcProgress {
        crate::gc::step(&mut self.core, None, budget, true)
    }

    /// Finishes any cycle in progress and runs a whole new one: everything
    /// unreachable now is freed.
    pub fn full_collect(&mut self) {
        crate::gc::full_collect(&mut self.core, None);
    }

    /// Checks the heap's invariants, as Luau's `luaC_validate` does: while
    /// the collector marks, no traced object points at an unmarked one
    /// (the tri-colour invariant); while it sweeps, everything reachable is
    /// marked; at any time every handle reachable from the roots is live,
    /// and the heap's byte count is the sum of its objects' sizes. Walks
    /// the whole heap: for tests and debugging.
    pub fn validate_heap(&self) -> Result<(), String> {
        crate::gc::validate::validate(&self.core, None)
    }

    /// Turns stress mode on (a full collection every `every` allocations)
    /// or off.
    pub fn set_gc_stress(&mut self, every: Option<u32>) {
        self.core.config.gc_stress = every;
        self.core.heap.gc.stress_every = every;
    }

    /// Keeps `value` alive until the returned handle is dropped.
    pub fn root(&mut self, value: Value) -> crate::Rooted {
        crate::Rooted::new(&self.core.roots, value)
    }

    /// Heap and collector statistics. The step times' percentile sorts
    /// the last 16,384 steps' durations: for a report now and then; a
    /// host that reads the heap every frame reads [`Vm::heap_summary`].
    pub fn gc_report(&self) -> crate::GcReport {
        let heap = &self.core.heap;
        let kind = |kind, count, bytes| crate::KindStats { kind, count, bytes };
        crate::GcReport {
            phase: heap.gc.phase,
            heap_bytes: heap.bytes(),
            threshold: heap.gc.threshold(),
            live_after_last_cycle: heap.gc.stats.live_after_last_cycle,
            pooled_bytes: heap.pool.bytes(),
            cycles: heap.gc.stats.cycles,
            forced_collections: heap.gc.stats.forced_collections,
            assists: heap.gc.stats.assists,
            objects: vec![
                kind("string", heap.strings.len(), heap.strings.bytes()),
                kind("list", heap.lists.len(), heap.lists.bytes()),
                kind("map", heap.maps.len(), heap.maps.bytes()),
                kind("closure", heap.closures.len(), heap.closures.bytes()),
                kind("cell", heap.cells.len(), heap.cells.bytes()),
                kind("host", heap.hosts.len(), heap.hosts.bytes()),
                kind("instance", heap.instances.len(), heap.instances.bytes()),
            ],
            steps: heap.gc.stats.steps(),
        }
    }

    /// The heap's size, its objects and the collector's phase and forced
    /// collections, without [`Vm::gc_report`]'s tables and sorting.
    pub fn heap_summary(&self) -> crate::HeapSummary {
        let heap = &self.core.heap;
        crate::HeapSummary {
            phase: heap.gc.phase,
            heap_bytes: heap.bytes(),
            objects: heap.object_count() + heap.instances.len(),
            forced_collections: heap.gc.stats.forced_collections,
        }
    }

    /// The bytecode of a module as text, with lines.
    pub fn disassemble(&self, module: &Module) -> String {
        crate::disasm::disassemble(&module.0.main, &self.core)
    }
}

/// An error from [`Vm::compile_repl`].
#[derive(Debug)]
pub enum RuntimeOrCompile {
    Compile(CompileError),
    Runtime(RuntimeError),
}
