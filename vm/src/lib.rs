//! # ark_vm: the Ark scripting language
//!
//! Source goes through a pipeline of small modules: [`lexer`] → [`parser`]
//! (syntax tree in [`ast`]) → `resolve` (which locals closures capture) →
//! `compiler` (register bytecode, [`bytecode`]) → the interpreter loop
//! (`interp`), which works on [`Value`]s and the [`Heap`]. The standard
//! library (`builtins`, `methods`, `prelude.ark`) sits beside it.
//!
//! The embedding API is [`Vm`]: compile a [`Module`], instantiate it (each
//! instance has its own module variables on the shared heap), call its
//! functions under a [`Budget`], resume suspended calls, register natives.
//!
//! ```
//! use ark_vm::Vm;
//! let mut vm = Vm::new();
//! let out = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
//! let sink = out.clone();
//! vm.set_print(move |line| sink.lock().unwrap().push(line.to_string()));
//! let game = vm.load("hello.ark", r#"
//!     let greeting = "hello";
//!     fn greet(name) { print(greeting + ", " + name); }
//! "#).unwrap();
//! let name = vm.to_value("Ark").unwrap();
//! vm.call(game, "greet", &[name]).unwrap();
//! assert_eq!(out.lock().unwrap().as_slice(), ["hello, Ark"]);
//! ```

mod access;
mod arena;
pub mod ast;
pub mod batch;
mod builtins;
pub mod bytecode;
mod clock;
mod compiler;
mod concat_cache;
pub mod debug;
mod disasm;
mod error;
mod fiber;
mod gc;
mod gc_stats;
mod heap;
mod host;
mod inspect;
mod interp;
pub mod lexer;
mod line_map;
mod methods;
mod native;
mod ops;
pub mod parser;
mod printer;
mod quat;
mod resolve;
mod rooted;
mod source;
mod value;
mod verify;
mod vm;

pub use error::{
    CompileError, Error, INNERMOST_FRAMES_KEPT, OUTERMOST_FRAMES_KEPT, RuntimeError, StackFrame,
};
pub use gc::{GcPhase, GcProgress};
pub use gc_stats::{GcReport, HeapSummary, KindStats, StepTimes};
pub use heap::{ArkMap, Heap, Key, StrObj};
pub use host::{EntityHost, HostObject, Resolved};
pub use inspect::EVAL_INSTRUCTIONS;
pub use native::{
    Arity, FromArk, IntoArk, NativeCtx, NativeError, NativeFn, NativeResult, NativeReturn,
    TypedNative,
};
pub use quat::Quat;
pub use rooted::Rooted;
pub use source::source_from_bytes;
pub use value::{
    CellKey, ClosureKey, HostKey, InstanceKey, ListKey, MapKey, NativeId, StrKey, Value, Vec3,
};
pub use vm::{
    Budget, CLOCK_CHECK_INTERVAL, CallId, InstanceId, Module, Natives, RunResult, RuntimeOrCompile,
    Vm, VmConfig,
};
