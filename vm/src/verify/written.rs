//! Registers are written before they are read.
//!
//! A call does not clear its frame's registers (it costs a store per
//! register per call: 11% of fib.ark's instructions); past the arguments
//! they hold whatever an earlier call left on the stack. This proves that no
//! instruction reads such a value: on every path from the function's start,
//! each register an instruction reads was written first (by the caller, for
//! the arguments). A forward data-flow analysis over the code, the set of
//! registers written so far meeting by intersection where paths join.

use crate::bytecode::{Capture, Op, Proto};

/// A set of registers: a `u64` for the frames that have at most 64 (almost
/// all: it keeps the check cheap), four for the rest (a frame has at most
/// 256).
trait Registers: Copy + PartialEq {
    const NONE: Self;
    fn contains(&self, r: usize) -> bool;
    fn insert(&mut self, r: usize);
    fn intersect(&self, other: &Self) -> Self;

    /// The arguments: the registers a caller writes.
    fn arguments(arity: u8) -> Self {
        let mut set = Self::NONE;
        for r in 0..arity {
            set.insert(r as usize);
        }
        set
    }
}

impl Registers for u64 {
    const NONE: u64 = 0;
    fn contains(&self, r: usize) -> bool {
        r < 64 && self >> r & 1 == 1
    }
    fn insert(&mut self, r: usize) {
        *self |= 1 << (r % 64);
    }
    fn intersect(&self, other: &u64) -> u64 {
        self & other
    }
}

impl Registers for [u64; 4] {
    const NONE: [u64; 4] = [0; 4];
    fn contains(&self, r: usize) -> bool {
        self[r / 64] >> (r % 64) & 1 == 1
    }
    fn insert(&mut self, r: usize) {
        self[r / 64] |= 1 << (r % 64);
    }
    fn intersect(&self, other: &[u64; 4]) -> [u64; 4] {
        std::array::from_fn(|i| self[i] & other[i])
    }
}

/// Calls `f` with each register `op` reads; `closures` are the function's
/// nested prototypes (a `Closure` reads the cells it captures).
pub(super) fn reads(op: &Op, closures: &[std::sync::Arc<Proto>], mut f: impl FnMut(usize)) {
    let mut span =
        |first: u8, count: usize| (first as usize..first as usize + count).for_each(&mut f);
    match *op {
        Op::Move { src, .. }
        | Op::Neg { src, .. }
        | Op::Not { src, .. }
        | Op::Bitwise {
            op: crate::bytecode::BitOp::Not,
            a: src,
            ..
        }
        | Op::Len { src, .. }
        | Op::Math { src, .. }
        | Op::SetUpval { src, .. }
        | Op::SetModule { src, .. }
        | Op::Return { src }
        | Op::JmpIfFalse { src, .. }
        | Op::JmpIfTrue { src, .. } => span(src, 1),
        Op::NewCell { reg } => span(reg, 1),
        Op::GetCell { cell, .. } => span(cell, 1),
        Op::SetCell { cell, src } => {
            span(cell, 1);
            span(src, 1);
        }
        Op::Add { a, b, .. }
        | Op::Bitwise { a, b, .. }
        | Op::Sub { a, b, .. }
        | Op::Mul { a, b, .. }
        | Op::Div { a, b, .. }
        | Op::Mod { a, b, .. }
        | Op::FloorDiv { a, b, .. }
        | Op::Eq { a, b, .. }
        | Op::Ne { a, b, .. }
        | Op::Lt { a, b, .. }
        | Op::Le { a, b, .. }
        | Op::Gt { a, b, .. }
        | Op::Ge { a, b, .. }
        | Op::JmpIfLt { a, b, .. }
        | Op::JmpIfNotLt { a, b, .. }
        | Op::JmpIfLe { a, b, .. }
        | Op::JmpIfNotLe { a, b, .. }
        | Op::JmpIfGt { a, b, .. }
        | Op::JmpIfNotGt { a, b, .. }
        | Op::JmpIfGe { a, b, .. }
        | Op::JmpIfNotGe { a, b, .. }
        | Op::JmpIfEq { a, b, .. }
        | Op::JmpIfNotEq { a, b, .. }
        | Op::CheckAdd { a, b } => {
            span(a, 1);
            span(b, 1);
        }
        Op::Add3 { a, b, c, .. }
        | Op::AddMul { a, b, c, .. }
        | Op::SubMul { a, b, c, .. }
        | Op::NewVec3 {
            x: a, y: b, z: c, ..
        } => {
            span(a, 1);
            span(b, 1);
            span(c, 1);
        }
        Op::AddK { a, .. }
        | Op::SubK { a, .. }
        | Op::MulK { a, .. }
        | Op::DivK { a, .. }
        | Op::ModK { a, .. }
        | Op::FloorDivK { a, .. }
        | Op::KAdd { b: a, .. }
        | Op::KSub { b: a, .. }
        | Op::KMul { b: a, .. }
        | Op::KDiv { b: a, .. }
        | Op::JmpIfLtK { a, .. }
        | Op::JmpIfNotLtK { a, .. }
        | Op::JmpIfLeK { a, .. }
        | Op::JmpIfNotLeK { a, .. }
        | Op::JmpIfGtK { a, .. }
        | Op::JmpIfNotGtK { a, .. }
        | Op::JmpIfGeK { a, .. }
        | Op::JmpIfNotGeK { a, .. }
        | Op::JmpIfEqK { a, .. }
        | Op::JmpIfNotEqK { a, .. } => span(a, 1),
        Op::NewList { start, count, .. }
        | Op::AddN { start, count, .. }
        | Op::CheckAddN { start, count } => span(start, count as usize),
        Op::ListAppend { list, start, count } => {
            span(list, 1);
            span(start, count as usize);
        }
        Op::GetIndex { obj, key, .. } => {
            span(obj, 1);
            span(key, 1);
        }
        Op::SetIndex { obj, key, src } => {
            span(obj, 1);
            span(key, 1);
            span(src, 1);
        }
        Op::SetIndexK { obj, key, .. } => {
            span(obj, 1);
            span(key, 1);
        }
        Op::GetField { obj, .. }
        | Op::GetX { obj, .. }
        | Op::GetY { obj, .. }
        | Op::GetZ { obj, .. }
        | Op::GetFieldPlace { obj, .. } => span(obj, 1),
        Op::SetField { obj, src, .. } => {
            span(obj, 1);
            span(src, 1);
        }
        // The callee and its arguments; a method's receiver and arguments.
        Op::Call { base, nargs } => span(base, nargs as usize + 1),
        Op::CallMethod { base, nargs, .. } => span(base + 1, nargs as usize + 1),
        Op::ForPrep { base, .. } | Op::ForLoop { base, .. } => span(base, 2),
        Op::IterPrep { base } => span(base, 1),
        Op::IterNext { base, .. } | Op::IterLoop { base, .. } => span(base, 2),
        Op::Closure { proto, .. } => {
            for capture in closures
                .get(proto as usize)
                .map_or(&[][..], |p| &p.captures)
            {
                if let Capture::Local(reg) = *capture {
                    span(reg, 1);
                }
            }
        }
        Op::LoadNil { .. }
        | Op::LoadBool { .. }
        | Op::LoadInt { .. }
        | Op::LoadK { .. }
        | Op::LoadSelf { .. }
        | Op::NewMap { .. }
        | Op::GetGlobal { .. }
        | Op::GetModule { .. }
        | Op::GetUpval { .. }
        | Op::Jmp { .. }
        | Op::ReturnNil
        | Op::Yield { .. } => {}
    }
}

/// Calls `f` with each register `op` writes when it goes on to the next
/// instruction (a loop's set-up writes its loop variable only when it
/// enters the loop; `ForLoop` writes its counter and variable, written
/// already by the set-up on every path to it).
pub(super) fn writes(op: &Op, mut f: impl FnMut(usize)) {
    match *op {
        Op::Move { dst, .. }
        | Op::LoadNil { dst }
        | Op::LoadBool { dst, .. }
        | Op::LoadInt { dst, .. }
        | Op::LoadK { dst, .. }
        | Op::LoadSelf { dst }
        | Op::GetCell { dst, .. }
        | Op::GetUpval { dst, .. }
        | Op::GetModule { dst, .. }
        | Op::SetModule { cache: dst, .. }
        | Op::GetGlobal { dst, .. }
        | Op::Add { dst, .. }
        | Op::Sub { dst, .. }
        | Op::Mul { dst, .. }
        | Op::Div { dst, .. }
        | Op::Mod { dst, .. }
        | Op::Add3 { dst, .. }
        | Op::AddN { dst, .. }
        | Op::AddMul { dst, .. }
        | Op::SubMul { dst, .. }
        | Op::FloorDiv { dst, .. }
        | Op::Len { dst, .. }
        | Op::Math { dst, .. }
        | Op::NewVec3 { dst, .. }
        | Op::AddK { dst, .. }
        | Op::SubK { dst, .. }
        | Op::MulK { dst, .. }
        | Op::DivK { dst, .. }
        | Op::ModK { dst, .. }
        | Op::FloorDivK { dst, .. }
        | Op::KAdd { dst, .. }
        | Op::KSub { dst, .. }
        | Op::KMul { dst, .. }
        | Op::KDiv { dst, .. }
        | Op::Neg { dst, .. }
        | Op::Not { dst, .. }
        | Op::Bitwise { dst, .. }
        | Op::Eq { dst, .. }
        | Op::Ne { dst, .. }
        | Op::Lt { dst, .. }
        | Op::Le { dst, .. }
        | Op::Gt { dst, .. }
        | Op::Ge { dst, .. }
        | Op::NewList { dst, .. }
        | Op::NewMap { dst }
        | Op::GetIndex { dst, .. }
        | Op::GetField { dst, .. }
        | Op::GetX { dst, .. }
        | Op::GetY { dst, .. }
        | Op::GetZ { dst, .. }
        | Op::GetFieldPlace { dst, .. }
        | Op::Closure { dst, .. } => f(dst as usize),
        Op::NewCell { reg } => f(reg as usize),
        Op::Call { base, .. } | Op::CallMethod { base, .. } => f(base as usize),
        Op::ForPrep { base, .. } => f(base as usize + 2),
        Op::ForLoop { base, .. } => {
            f(base as usize);
            f(base as usize + 2);
        }
        Op::IterPrep { base } => f(base as usize + 1),
        Op::IterNext { base, two, .. } | Op::IterLoop { base, two, .. } => {
            let last = if two { 3 } else { 2 };
            (base as usize + 1..=base as usize + last).for_each(f);
        }
        Op::SetCell { .. }
        | Op::SetUpval { .. }
        | Op::SetIndex { .. }
        | Op::SetIndexK { .. }
        | Op::SetField { .. }
        | Op::ListAppend { .. }
        | Op::CheckAdd { .. }
        | Op::CheckAddN { .. }
        | Op::Return { .. }
        | Op::ReturnNil
        | Op::Jmp { .. }
        | Op::JmpIfFalse { .. }
        | Op::JmpIfTrue { .. }
        | Op::JmpIfLt { .. }
        | Op::JmpIfNotLt { .. }
        | Op::JmpIfLe { .. }
        | Op::JmpIfNotLe { .. }
        | Op::JmpIfGt { .. }
        | Op::JmpIfNotGt { .. }
        | Op::JmpIfGe { .. }
        | Op::JmpIfNotGe { .. }
        | Op::JmpIfEq { .. }
        | Op::JmpIfNotEq { .. }
        | Op::JmpIfLtK { .. }
        | Op::JmpIfNotLtK { .. }
        | Op::JmpIfLeK { .. }
        | Op::JmpIfNotLeK { .. }
        | Op::JmpIfGtK { .. }
        | Op::JmpIfNotGtK { .. }
        | Op::JmpIfGeK { .. }
        | Op::JmpIfNotGeK { .. }
        | Op::JmpIfEqK { .. }
        | Op::JmpIfNotEqK { .. }
        | Op::Yield { .. } => {}
    }
}

/// Whether `op` may go on to the next instruction.
fn falls_through(op: &Op) -> bool {
    !matches!(op, Op::Jmp { .. } | Op::Return { .. } | Op::ReturnNil)
}

/// Checks that `proto` writes every register before reading it; the error
/// names the first instruction that may read one unwritten, and the
/// register. The code's jumps must already be checked to land inside it.
pub(super) fn check(proto: &Proto) -> Result<(), (usize, usize)> {
    if proto.num_regs <= 64 {
        walk::<u64>(proto).map(drop)
    } else {
        walk::<[u64; 4]>(proto).map(drop)
    }
}

/// Whether each register is written on every path to instruction `pc`
/// (`None` for code the check refuses or a `pc` it never reaches). A
/// register that is not holds whatever an earlier call left there, which
/// no instruction reads before writing it: the heap validator does not
/// count it as a root.
pub(crate) fn written_before(proto: &Proto, pc: usize) -> Option<Vec<bool>> {
    fn of<R: Registers>(proto: &Proto, pc: usize) -> Option<Vec<bool>> {
        let set = (*walk::<R>(proto).ok()?.get(pc)?)?;
        Some(
            (0..proto.num_regs as usize)
                .map(|r| set.contains(r))
                .collect(),
        )
    }
    if proto.num_regs <= 64 {
        of::<u64>(proto, pc)
    } else {
        of::<[u64; 4]>(proto, pc)
    }
}

/// `check`, with registers in sets of type `R`; the registers written
/// before each instruction.
///
/// The code is walked in order, carrying the registers written along the
/// way; where jumps land, what each jump carried is met with it. A jump
/// back whose registers lack some that its target was walked with makes
/// the walk repeat (a loop that writes a register only in its body, then
/// reads it at the top, is refused that way).
fn walk<R: Registers>(proto: &Proto) -> Result<Vec<Option<R>>, (usize, usize)> {
    let code = &proto.code;
    // At each jump target: the registers written on every jump there.
    let mut jumped_to: Vec<Option<R>> = vec![None; code.len()];
    // At each instruction: the registers it was last walked with.
    let mut walked: Vec<Option<R>> = vec![None; code.len()];
    loop {
        let mut walk_again = false;
        let mut carried = Some(R::arguments(proto.arity));
        for (pc, op) in code.iter().enumerate() {
            if let Some(jumped) = &jumped_to[pc] {
                carried = Some(carried.map_or(*jumped, |c| c.intersect(jumped)));
            }
            walked[pc] = carried;
            // Not reached (yet).
            let Some(mut set) = carried else {
                continue;
            };
            let mut unwritten = None;
            reads(op, &proto.protos, |r| {
                if !set.contains(r) {
                    unwritten.get_or_insert(r);
                }
            });
            if let Some(r) = unwritten {
                return Err((pc, r));
            }
            let before = set;
            writes(op, |r| set.insert(r));
            if let Some(off) = op.jump_offset() {
                // A loop's set-up and an iterator's entry jump out without
                // writing the loop variables; the others jump with what they
                // wrote (a `ForLoop`, its counter and variable; an
                // `IterLoop`, the next item).
                let jumped = match op {
                    Op::ForPrep { .. } | Op::IterNext { .. } => before,
                    _ => set,
                };
                let target = (pc as i64 + 1 + off as i64) as usize;
                let met = jumped_to[target].map_or(jumped, |t| t.intersect(&jumped));
                jumped_to[target] = Some(met);
                if target <= pc {
                    // Walked without these registers, or not reached yet.
                    walk_again |= walked[target].is_none_or(|w| w != w.intersect(&met));
                }
            }
            // An `IterLoop` falls through, out of its loop, with no item.
            let fell = match op {
                Op::IterLoop { .. } => before,
                _ => set,
            };
            carried = falls_through(op).then_some(fell);
        }
        if !walk_again {
            return Ok(walked);
        }
    }
}
