//! Checks the compiler's output before anything runs it.
//!
//! The interpreter reads registers and fetches instructions without bounds
//! checks; these are the facts that make that sound, checked once per
//! function when it is compiled rather than at every instruction:
//!
//! - every register an instruction touches is below the function's
//!   register count (the interpreter keeps that many stack slots above the
//!   frame's base while the frame runs);
//! - every jump lands inside the function's code;
//! - the last instruction never falls through (it returns or jumps), so
//!   the program counter never runs past the end;
//! - every register that caches a module variable is below the register
//!   count too (the interpreter reloads it without bounds checks);
//! - every constant an instruction reads exists (read without bounds
//!   checks);
//! - every register is written before it is read (a call does not clear
//!   its frame's registers: `written.rs`).
//!
//! Bytecode comes only from the compiler (a `Proto` cannot be built or
//! changed outside this crate), so a failure here is a compiler bug; it is
//! reported as an internal compile error instead of running the code.

mod written;

pub(crate) use written::written_before;

use std::sync::Arc;

use crate::bytecode::{Op, Proto};

/// The highest register `op` reads or writes, if any (a `Closure` reads
/// the registers holding the cells it captures: `closures` are the
/// function's nested prototypes).
fn highest_register(op: &Op, closures: &[Arc<Proto>]) -> Option<usize> {
    let mut top = None;
    written::reads(op, closures, |r| top = top.max(Some(r)));
    written::writes(op, |r| top = top.max(Some(r)));
    top
}

/// Where `op` at `pc` may jump to.
fn jump_target(op: &Op, pc: usize) -> Option<i64> {
    // Offsets count from the next instruction.
    op.jump_offset().map(|off| pc as i64 + 1 + off as i64)
}

/// Checks one function (not the functions nested in it).
pub(crate) fn verify(proto: &Proto) -> Result<(), String> {
    let regs = proto.num_regs as usize;
    let len = proto.code.len();
    let fail = |pc: usize, what: &str| {
        Err(format!(
            "internal compiler error in {}: instruction {pc} {what}",
            proto.name
        ))
    };
    for (pc, op) in proto.code.iter().enumerate() {
        if highest_register(op, &proto.protos).is_some_and(|r| r >= regs) {
            return fail(pc, "uses a register past the frame");
        }
        let target = jump_target(op, pc);
        if target.is_some_and(|t| t < 0 || t >= len as i64) {
            return fail(pc, "jumps outside the function");
        }
        if op.constant().is_some_and(|k| k >= proto.consts.len()) {
            return fail(pc, "reads a constant that does not exist");
        }
        // The interpreter charges fuel for loops where they jump back, by
        // the distance (see `Proto::fuel_cost`): only `Jmp`, `ForLoop` and
        // the conditional jumps may, and `ForLoop` always does.
        let back = target.is_some_and(|t| t <= pc as i64);
        match op {
            Op::Jmp { .. } => {}
            _ if op.is_conditional_jump() => {}
            Op::ForLoop { .. } | Op::IterLoop { .. } if !back => {
                return fail(pc, "ends a loop without jumping back");
            }
            Op::ForLoop { .. } | Op::IterLoop { .. } => {}
            _ if back => return fail(pc, "jumps back without charging for it"),
            _ => {}
        }
    }
    for cached in &proto.cached_module_vars {
        if cached.reg as usize >= regs || cached.from_pc > cached.to_pc {
            return fail(
                cached.from_pc as usize,
                "caches a module variable out of range",
            );
        }
    }
    match proto.code.last() {
        Some(Op::Return { .. } | Op::ReturnNil | Op::Jmp { .. }) => {}
        _ => return fail(len, "is missing: the code may run off its end"),
    }
    written::check(proto)
        .or_else(|(pc, reg)| fail(pc, &format!("reads register {reg} before writing it")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;

    fn proto(num_regs: u16, code: Vec<Op>) -> Proto {
        Proto {
            name: "f".into(),
            script: "test.ark".into(),
            arity: 0,
            num_regs,
            field_cache: (0..code.len()).map(|_| Default::default()).collect(),
            uses_module_vars: false,
            cached_module_vars: Box::default(),
            cached_span: 0..0,
            cached_slots: 0,
            tracks_module_writes: 1,
            positions: vec![(1, 1); code.len()],
            code,
            consts: Vec::new(),
            protos: Vec::new(),
            captures: Vec::new(),
            locals: Vec::new(),
            upval_names: Vec::new(),
            line: 1,
            gc_epoch: Default::default(),
        }
    }

    #[test]
    fn sound_code_passes() {
        let code = vec![
            Op::LoadInt { dst: 0, value: 1 },
            Op::LoadInt { dst: 1, value: 2 },
            Op::LoadInt { dst: 2, value: 3 },
            Op::JmpIfFalse { src: 0, off: 1 },
            Op::Call { base: 0, nargs: 2 },
            Op::Return { src: 2 },
        ];
        assert_eq!(verify(&proto(3, code)), Ok(()));
    }

    #[test]
    fn a_register_read_before_it_is_written_is_refused() {
        let unwritten = |arity, code| {
            let mut p = proto(4, code);
            p.arity = arity;
            verify(&p).err()
        };
        let code = vec![Op::Move { dst: 0, src: 1 }, Op::ReturnNil];
        assert!(
            unwritten(0, code)
                .unwrap()
                .contains("reads register 1 before")
        );
        // Arguments are written by the caller.
        let code = vec![Op::Add { dst: 2, a: 0, b: 1 }, Op::Return { src: 2 }];
        assert_eq!(unwritten(2, code), None);
        // Written on one path only.
        let code = vec![
            Op::LoadBool {
                dst: 0,
                value: true,
            },
            Op::JmpIfFalse { src: 0, off: 1 },
            Op::LoadInt { dst: 1, value: 1 },
            Op::Return { src: 1 },
        ];
        assert!(unwritten(0, code).unwrap().contains("instruction 3"));
        // A loop variable read after a loop that may not run.
        let code = vec![
            Op::LoadInt { dst: 0, value: 0 },
            Op::LoadInt { dst: 1, value: 3 },
            Op::ForPrep {
                base: 0,
                inclusive: false,
                off: 1,
            },
            Op::ForLoop {
                base: 0,
                inclusive: false,
                off: -1,
            },
            Op::Return { src: 2 },
        ];
        assert!(unwritten(0, code).unwrap().contains("instruction 4"));
        // An iterator's loop variable after its `IterLoop` falls through:
        // no item was fetched there.
        let code = vec![
            Op::LoadNil { dst: 0 },
            Op::IterPrep { base: 0 },
            Op::LoadNil { dst: 3 },
            Op::IterLoop {
                base: 0,
                two: false,
                off: -2,
            },
            Op::Return { src: 2 },
        ];
        assert!(unwritten(0, code).unwrap().contains("instruction 4"));
    }

    #[test]
    fn a_register_past_the_frame_is_refused() {
        let code = vec![Op::Move { dst: 3, src: 0 }, Op::ReturnNil];
        assert!(verify(&proto(3, code)).unwrap_err().contains("register"));
        // A call's arguments are registers too.
        let code = vec![Op::Call { base: 1, nargs: 2 }, Op::ReturnNil];
        assert!(verify(&proto(3, code)).is_err());
        // So are a loop's counter, limit and variable.
        let code = vec![
            Op::ForPrep {
                base: 1,
                inclusive: false,
                off: 0,
            },
            Op::ReturnNil,
        ];
        assert!(verify(&proto(3, code)).is_err());
    }

    #[test]
    fn a_captured_register_past_the_frame_is_refused() {
        use crate::bytecode::Capture;
        let closure = |captured| {
            let mut child = proto(1, vec![Op::ReturnNil]);
            child.captures = vec![Capture::Local(captured)];
            let code = vec![
                Op::LoadNil { dst: 0 },
                Op::NewCell { reg: 0 },
                Op::Closure { dst: 1, proto: 0 },
                Op::Return { src: 1 },
            ];
            let mut p = proto(2, code);
            p.protos = vec![Arc::new(child)];
            verify(&p)
        };
        assert_eq!(closure(0), Ok(()));
        assert!(closure(2).unwrap_err().contains("register past the frame"));
    }

    #[test]
    fn a_cached_module_variable_past_the_frame_is_refused() {
        use crate::bytecode::CachedModuleVar;
        let mut p = proto(2, vec![Op::ReturnNil]);
        let cached = |reg| CachedModuleVar {
            from_pc: 0,
            to_pc: 1,
            reg,
            slot: 0,
        };
        p.cached_module_vars = Box::new([cached(1)]);
        assert_eq!(verify(&p), Ok(()));
        p.cached_module_vars = Box::new([cached(2)]);
        assert!(verify(&p).unwrap_err().contains("module variable"));
    }

    #[test]
    fn a_jump_outside_the_code_is_refused() {
        for off in [1, -3] {
            let code = vec![Op::Jmp { off }, Op::ReturnNil];
            assert!(verify(&proto(1, code)).unwrap_err().contains("jumps"));
        }
    }

    #[test]
    fn a_constant_past_the_table_is_refused() {
        let loads = Op::LoadK { dst: 0, k: 0 };
        let stores = Op::SetIndexK {
            obj: 0,
            key: 1,
            k: 0,
        };
        for op in [loads, stores] {
            let code = vec![Op::LoadNil { dst: 0 }, Op::LoadNil { dst: 1 }, op];
            let mut p = proto(2, [code, vec![Op::ReturnNil]].concat());
            assert!(verify(&p).unwrap_err().contains("constant"), "{op:?}");
            p.consts = vec![Value::Nil];
            assert_eq!(verify(&p), Ok(()), "{op:?}");
        }
    }

    #[test]
    fn only_jmp_for_loop_and_conditional_jumps_jump_back() {
        let back = |op| {
            let code = vec![
                Op::LoadNil { dst: 0 },
                Op::LoadNil { dst: 1 },
                op,
                Op::ReturnNil,
            ];
            verify(&proto(3, code))
        };
        assert_eq!(back(Op::Jmp { off: -2 }), Ok(()));
        let for_loop = Op::ForLoop {
            base: 0,
            inclusive: false,
            off: -2,
        };
        assert_eq!(back(for_loop), Ok(()));
        // A loop that tests at its bottom jumps back on its condition.
        let branch = Op::JmpIfFalse { src: 0, off: -2 };
        assert_eq!(back(branch), Ok(()));
        let next = Op::IterNext {
            base: 0,
            two: false,
            off: -2,
        };
        assert!(back(next).unwrap_err().contains("jumps back"));
        let iter_loop = |off| Op::IterLoop {
            base: 0,
            two: false,
            off,
        };
        assert_eq!(back(iter_loop(-2)), Ok(()));
        assert!(
            back(iter_loop(0))
                .unwrap_err()
                .contains("without jumping back")
        );
        let forward_loop = Op::ForLoop {
            base: 0,
            inclusive: false,
            off: 0,
        };
        assert!(
            back(forward_loop)
                .unwrap_err()
                .contains("without jumping back")
        );
    }

    #[test]
    fn code_that_can_run_off_its_end_is_refused() {
        assert!(verify(&proto(1, vec![Op::LoadNil { dst: 0 }])).is_err());
        assert!(verify(&proto(1, Vec::new())).is_err());
    }
}
