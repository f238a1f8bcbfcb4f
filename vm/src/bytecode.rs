//! Register bytecode: instructions, function prototypes and debug info.
//!
//! In the manner of Lua 5.4, operands are register slots of the current
//! frame (`u8`), constant indexes, or jump offsets. Hot cases have their own
//! instructions: arithmetic with a constant (`AddK`..., and `KSub`... for
//! one on the left), compare-and-jump
//! (`JmpIfNotLt`...), numeric `for` (`ForPrep`/`ForLoop`), field access with
//! a constant key (`GetField`/`SetField`).

use std::sync::Arc;
use std::sync::atomic::AtomicU32;

use crate::value::Value;

/// A register of the current frame.
pub type Reg = u8;

/// The most operands one `AddN` adds; a longer chain is an `AddN` whose
/// first operand is the sum of those before.
pub const MAX_JOINED: usize = 16;

/// One instruction. 8 bytes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Op {
    Move {
        dst: Reg,
        src: Reg,
    },
    LoadNil {
        dst: Reg,
    },
    LoadBool {
        dst: Reg,
        value: bool,
    },
    LoadInt {
        dst: Reg,
        value: i32,
    },
    LoadK {
        dst: Reg,
        k: u32,
    },
    /// `dst = self` of the running instance.
    LoadSelf {
        dst: Reg,
    },

    /// Wraps the value in `reg` into a new cell (a captured local).
    NewCell {
        reg: Reg,
    },
    GetCell {
        dst: Reg,
        cell: Reg,
    },
    SetCell {
        cell: Reg,
        src: Reg,
    },
    GetUpval {
        dst: Reg,
        idx: u8,
    },
    SetUpval {
        idx: u8,
        src: Reg,
    },
    GetModule {
        dst: Reg,
        slot: u16,
    },
    /// Writes module variable `slot` from `src`, and register `cache`
    /// too: the register a loop keeps the variable in
    /// (`CachedModuleVar`), else `src` itself. One instruction, so no
    /// suspension falls between the two writes.
    SetModule {
        slot: u16,
        src: Reg,
        cache: Reg,
    },
    GetGlobal {
        dst: Reg,
        idx: u16,
    },

    Add {
        dst: Reg,
        a: Reg,
        b: Reg,
    },
    Sub {
        dst: Reg,
        a: Reg,
        b: Reg,
    },
    Mul {
        dst: Reg,
        a: Reg,
        b: Reg,
    },
    Div {
        dst: Reg,
        a: Reg,
        b: Reg,
    },
    Mod {
        dst: Reg,
        a: Reg,
        b: Reg,
    },
    /// `a + b + c`, where computing `c` before `a + b` changes nothing:
    /// three strings are joined at once, without an intermediate string.
    Add3 {
        dst: Reg,
        a: Reg,
        b: Reg,
        c: Reg,
    },
    /// Raises the error that `a + b` would raise on its operands' types,
    /// and does nothing else. It comes before the code computing an
    /// `Add3`'s third operand (`s + "," + str(x)`), so that a failing
    /// `a + b` is reported before that code runs, as with two additions.
    CheckAdd {
        a: Reg,
        b: Reg,
    },
    /// `R[start] + R[start + 1] + .. + R[start + count - 1]`: a chain of
    /// four to [`MAX_JOINED`] operands with a string among them, whose
    /// strings are joined at once, without intermediate strings (a line
    /// built as `page + name + ": " + str(v) + "; "` is copied once, not
    /// three times).
    AddN {
        dst: Reg,
        start: Reg,
        count: u8,
    },
    /// Raises the error that the first `count` operands of an `AddN` from
    /// `start`, added in order, would raise on their types, and does
    /// nothing else: it comes before the code computing the next operand.
    CheckAddN {
        start: Reg,
        count: u8,
    },
    /// `a + b * c` (`pos + vel * dt`) in one instruction: the product,
    /// then the sum, as `Mul` and `Add` would.
    AddMul {
        dst: Reg,
        a: Reg,
        b: Reg,
        c: Reg,
    },
    /// `a - b * c`, as `AddMul`.
    SubMul {
        dst: Reg,
        a: Reg,
        b: Reg,
        c: Reg,
    },
    /// The built-in `div(a, b)` (floored division), compiled inline when
    /// the name still means the built-in.
    FloorDiv {
        dst: Reg,
        a: Reg,
        b: Reg,
    },
    /// `div(a, k)` with a numeric constant divisor (`div(i, 9)`): the
    /// same results and errors as `FloorDiv` with the constant loaded.
    FloorDivK {
        dst: Reg,
        a: Reg,
        k: u16,
    },
    /// The built-in `len(src)`, compiled inline when the name still means
    /// the built-in (a string's characters, a list's items, a map's
    /// entries).
    Len {
        dst: Reg,
        src: Reg,
    },
    /// A built-in of one number (`sin(x)`, `sqrt(x)`), compiled inline
    /// when the name still means the built-in.
    Math {
        dst: Reg,
        src: Reg,
        f: MathFn,
    },
    /// The built-in `vec3(x, y, z)`, compiled inline when the name still
    /// means the built-in.
    NewVec3 {
        dst: Reg,
        x: Reg,
        y: Reg,
        z: Reg,
    },
    /// Arithmetic with a numeric constant on the right.
    AddK {
        dst: Reg,
        a: Reg,
        k: u16,
    },
    SubK {
        dst: Reg,
        a: Reg,
        k: u16,
    },
    MulK {
        dst: Reg,
        a: Reg,
        k: u16,
    },
    DivK {
        dst: Reg,
        a: Reg,
        k: u16,
    },
    ModK {
        dst: Reg,
        a: Reg,
        k: u16,
    },
    /// Arithmetic with a numeric constant on the left (`2.0 * x`,
    /// `1.0 - t`), the operands in the order written: the same results
    /// and errors as the constant loaded into a register.
    KAdd {
        dst: Reg,
        k: u16,
        b: Reg,
    },
    KSub {
        dst: Reg,
        k: u16,
        b: Reg,
    },
    KMul {
        dst: Reg,
        k: u16,
        b: Reg,
    },
    KDiv {
        dst: Reg,
        k: u16,
        b: Reg,
    },
    Neg {
        dst: Reg,
        src: Reg,
    },
    Not {
        dst: Reg,
        src: Reg,
    },
    /// `a & b`, `a | b`, `a ^ b`, `a << b`, `a >> b`, or `~a` (`b` unread):
    /// ints only (`ops::bitwise`).
    Bitwise {
        dst: Reg,
        a: Reg,
        b: Reg,
        op: BitOp,
    },
    Eq {
        dst: Reg,
        a: Reg,
        b: Reg,
    },
    Ne {
        dst: Reg,
        a: Reg,
        b: Reg,
    },
    Lt {
        dst: Reg,
        a: Reg,
        b: Reg,
    },
    Le {
        dst: Reg,
        a: Reg,
        b: Reg,
    },
    Gt {
        dst: Reg,
        a: Reg,
        b: Reg,
    },
    Ge {
        dst: Reg,
        a: Reg,
        b: Reg,
    },

    /// Jumps are relative to the next instruction.
    Jmp {
        off: i32,
    },
    JmpIfFalse {
        src: Reg,
        off: i32,
    },
    JmpIfTrue {
        src: Reg,
        off: i32,
    },
    JmpIfLt {
        a: Reg,
        b: Reg,
        off: i32,
    },
    JmpIfNotLt {
        a: Reg,
        b: Reg,
        off: i32,
    },
    JmpIfLe {
        a: Reg,
        b: Reg,
        off: i32,
    },
    JmpIfNotLe {
        a: Reg,
        b: Reg,
        off: i32,
    },
    JmpIfGt {
        a: Reg,
        b: Reg,
        off: i32,
    },
    JmpIfNotGt {
        a: Reg,
        b: Reg,
        off: i32,
    },
    JmpIfGe {
        a: Reg,
        b: Reg,
        off: i32,
    },
    JmpIfNotGe {
        a: Reg,
        b: Reg,
        off: i32,
    },
    JmpIfEq {
        a: Reg,
        b: Reg,
        off: i32,
    },
    JmpIfNotEq {
        a: Reg,
        b: Reg,
        off: i32,
    },
    /// Compare-and-jump with a numeric constant on the right.
    JmpIfLtK {
        a: Reg,
        k: u16,
        off: i32,
    },
    JmpIfNotLtK {
        a: Reg,
        k: u16,
        off: i32,
    },
    JmpIfLeK {
        a: Reg,
        k: u16,
        off: i32,
    },
    JmpIfNotLeK {
        a: Reg,
        k: u16,
        off: i32,
    },
    JmpIfGtK {
        a: Reg,
        k: u16,
        off: i32,
    },
    JmpIfNotGtK {
        a: Reg,
        k: u16,
        off: i32,
    },
    JmpIfGeK {
        a: Reg,
        k: u16,
        off: i32,
    },
    JmpIfNotGeK {
        a: Reg,
        k: u16,
        off: i32,
    },
    JmpIfEqK {
        a: Reg,
        k: u16,
        off: i32,
    },
    JmpIfNotEqK {
        a: Reg,
        k: u16,
        off: i32,
    },

    /// `dst = [R[start], .., R[start + count - 1]]`.
    NewList {
        dst: Reg,
        start: Reg,
        count: u8,
    },
    /// Appends `R[start..start + count]` to the list in `list`.
    ListAppend {
        list: Reg,
        start: Reg,
        count: u8,
    },
    NewMap {
        dst: Reg,
    },
    GetIndex {
        dst: Reg,
        obj: Reg,
        key: Reg,
    },
    SetIndex {
        obj: Reg,
        key: Reg,
        src: Reg,
    },
    /// `SetIndex` of a constant (`flags[i] = false`): no register loaded
    /// for the value, a dispatch fewer in the loops that fill a list.
    SetIndexK {
        obj: Reg,
        key: Reg,
        k: u16,
    },
    /// Field access with a constant string key.
    GetField {
        dst: Reg,
        obj: Reg,
        k: u16,
    },
    /// `GetField` for a field named `x`, `y` or `z`: a vec3's component
    /// without reading the name; any other object as `GetField`. (One
    /// instruction per axis: an axis operand changed the operand layout
    /// that every instruction's decoding shares, which cost 2-5% overall.)
    GetX {
        dst: Reg,
        obj: Reg,
        k: u16,
    },
    GetY {
        dst: Reg,
        obj: Reg,
        k: u16,
    },
    GetZ {
        dst: Reg,
        obj: Reg,
        k: u16,
    },
    SetField {
        obj: Reg,
        k: u16,
        src: Reg,
    },
    /// Like `GetField`, for the object of an assignment (`a.b` in
    /// `a.b.c = v`): a host reference gives a reference to the field, not
    /// its value, so the assignment writes through.
    GetFieldPlace {
        dst: Reg,
        obj: Reg,
        k: u16,
    },

    /// Calls `R[base]` with `R[base + 1 ..= base + nargs]`; the result lands
    /// in `R[base]`.
    Call {
        base: Reg,
        nargs: u8,
    },
    /// Calls method `method` (an index into the VM's method names) on the
    /// receiver in `R[base + 1]` with arguments `R[base + 2 ..]`; the result
    /// lands in `R[base]`.
    CallMethod {
        base: Reg,
        nargs: u8,
        method: u16,
    },
    Closure {
        dst: Reg,
        proto: u16,
    },
    Return {
        src: Reg,
    },
    ReturnNil,

    /// Numeric `for`: `R[base]` counter, `R[base+1]` limit, `R[base+2]` the
    /// loop variable. `ForPrep` checks the bounds and skips the loop when it
    /// is empty; `ForLoop` steps and jumps back while in range.
    ForPrep {
        base: Reg,
        inclusive: bool,
        off: i32,
    },
    ForLoop {
        base: Reg,
        inclusive: bool,
        off: i32,
    },
    /// Collection `for`: `R[base]` the collection, `R[base+1]` the position,
    /// `R[base+2]` and `R[base+3]` the loop variables. `IterNext` enters the
    /// loop: the first item, or a jump out past it when there is none. The
    /// loop ends in `IterLoop`, which fetches the next item and jumps back
    /// into the body, one instruction an item, as `ForLoop` does.
    IterPrep {
        base: Reg,
    },
    IterNext {
        base: Reg,
        two: bool,
        off: i32,
    },
    IterLoop {
        base: Reg,
        two: bool,
        off: i32,
    },

    /// Suspends the call until the host resumes it. Registers from `live`
    /// up hold no local (a statement boundary): they are cleared, so that
    /// a call that waits in a loop keeps no dead value alive.
    Yield {
        live: u8,
    },
}

const _: () = assert!(std::mem::size_of::<Op>() == 8);

/// Where a closure's captured variable comes from when it is created.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Capture {
    /// A cell in the creating frame's register.
    Local(Reg),
    /// One of the creating closure's own upvalues.
    Upval(u8),
}

/// A local variable's name and where it lives, for debuggers.
#[derive(Clone, Debug, PartialEq)]
pub struct LocalInfo {
    pub name: std::sync::Arc<str>,
    pub reg: Reg,
    /// First instruction where the variable is live.
    pub start_pc: u32,
    /// One past the last instruction where it is live.
    pub end_pc: u32,
    /// Whether the register holds a cell (the variable is captured).
    pub captured: bool,
}

/// A compiled function.
#[derive(Debug)]
pub struct Proto {
    /// The function's name; `<main>` for a script's top level, `<fn>` for an
    /// anonymous function.
    pub name: String,
    pub script: Arc<str>,
    pub arity: u8,
    /// Registers the frame needs.
    pub(crate) num_regs: u16,
    /// Verified (`verify/`) when compiled, and never changed after.
    pub(crate) code: Vec<Op>,
    /// Line and column of every instruction.
    pub positions: Vec<(u32, u32)>,
    pub consts: Vec<Value>,
    pub protos: Vec<Arc<Proto>>,
    pub captures: Vec<Capture>,
    pub locals: Vec<LocalInfo>,
    /// Names of the upvalues, for debuggers.
    pub upval_names: Vec<String>,
    /// Line where the function is declared.
    pub line: u32,
    /// The collector epoch in which this function's constants were last
    /// marked (so each cycle marks them once).
    pub(crate) gc_epoch: AtomicU32,
    /// Per instruction: where a `GetField`/`SetField` last found its key in
    /// a map (an inline cache; a wrong guess only costs a hash lookup), or
    /// the reference path for which the entity host never resolves it
    /// (`access::entity_field_resolved`).
    pub(crate) field_cache: Box<[AtomicU32]>,
    /// Whether the code reads or writes module variables: a call into a
    /// function of another instance that does not keeps the interpreter's
    /// pointer to the caller's variables.
    pub(crate) uses_module_vars: bool,
    /// Module variables that a loop reads from a register (see
    /// `CachedModuleVar`).
    pub(crate) cached_module_vars: Box<[CachedModuleVar]>,
    /// The instructions where some cached variable is live (empty if
    /// none): a return into the frame elsewhere reloads nothing.
    pub(crate) cached_span: std::ops::Range<u32>,
    /// The slots of `cached_module_vars`, each as bit `slot % 64`: a
    /// return into the frame reloads them only if one of these bits is
    /// among `Heap::module_slots_written`.
    pub(crate) cached_slots: u64,
    /// 1 if this function's writes to module variables go into
    /// `Heap::module_slots_written`, 0 for a script's top level: it runs
    /// at the bottom of its call stack, so no frame that caches a variable
    /// waits under it, and its own loops write through to their registers.
    pub(crate) tracks_module_writes: u64,
}

/// A module variable that a loop keeps in a register: loaded once before
/// the loop, written through by the loop's own assignments, and loaded
/// again wherever other code may have changed it: when the frame resumes
/// (after a suspension, a yield, or a call's return where the call may
/// have written it: `Proto::cached_slots`) and after native or host code,
/// at any instruction from `from_pc` up to `to_pc`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct CachedModuleVar {
    /// The first instruction after the load.
    pub from_pc: u32,
    /// One past the loop's last instruction.
    pub to_pc: u32,
    pub reg: Reg,
    pub slot: u16,
}

impl Op {
    /// The index of the constant an instruction reads, if any.
    pub fn constant(&self) -> Option<usize> {
        match *self {
            Op::LoadK { k, .. } => Some(k as usize),
            Op::AddK { k, .. }
            | Op::SubK { k, .. }
            | Op::MulK { k, .. }
            | Op::DivK { k, .. }
            | Op::ModK { k, .. }
            | Op::FloorDivK { k, .. }
            | Op::KAdd { k, .. }
            | Op::KSub { k, .. }
            | Op::KMul { k, .. }
            | Op::KDiv { k, .. }
            | Op::GetField { k, .. }
            | Op::GetX { k, .. }
            | Op::GetY { k, .. }
            | Op::GetZ { k, .. }
            | Op::GetFieldPlace { k, .. }
            | Op::SetField { k, .. }
            | Op::SetIndexK { k, .. }
            | Op::JmpIfLtK { k, .. }
            | Op::JmpIfNotLtK { k, .. }
            | Op::JmpIfLeK { k, .. }
            | Op::JmpIfNotLeK { k, .. }
            | Op::JmpIfGtK { k, .. }
            | Op::JmpIfNotGtK { k, .. }
            | Op::JmpIfGeK { k, .. }
            | Op::JmpIfNotGeK { k, .. }
            | Op::JmpIfEqK { k, .. }
            | Op::JmpIfNotEqK { k, .. } => Some(k as usize),
            _ => None,
        }
    }

    /// Whether the instruction jumps on a condition (`JmpIfLt`...): such a
    /// jump may go back, to the body of a loop that tests at its bottom,
    /// and the interpreter charges it for that (`branch!`). Listed, not
    /// derived, so that a new jumping instruction is not let jump back
    /// uncharged by default.
    pub fn is_conditional_jump(&self) -> bool {
        matches!(
            self,
            Op::JmpIfFalse { .. }
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
        )
    }

    /// A jump's offset, counted from the next instruction.
    pub fn jump_offset(&self) -> Option<i32> {
        let mut op = *self;
        op.jump_offset_mut().map(|off| *off)
    }

    pub(crate) fn jump_offset_mut(&mut self) -> Option<&mut i32> {
        match self {
            Op::Jmp { off }
            | Op::JmpIfFalse { off, .. }
            | Op::JmpIfTrue { off, .. }
            | Op::JmpIfLt { off, .. }
            | Op::JmpIfNotLt { off, .. }
            | Op::JmpIfLe { off, .. }
            | Op::JmpIfNotLe { off, .. }
            | Op::JmpIfGt { off, .. }
            | Op::JmpIfNotGt { off, .. }
            | Op::JmpIfGe { off, .. }
            | Op::JmpIfNotGe { off, .. }
            | Op::JmpIfEq { off, .. }
            | Op::JmpIfNotEq { off, .. }
            | Op::JmpIfLtK { off, .. }
            | Op::JmpIfNotLtK { off, .. }
            | Op::JmpIfLeK { off, .. }
            | Op::JmpIfNotLeK { off, .. }
            | Op::JmpIfGtK { off, .. }
            | Op::JmpIfNotGtK { off, .. }
            | Op::JmpIfGeK { off, .. }
            | Op::JmpIfNotGeK { off, .. }
            | Op::JmpIfEqK { off, .. }
            | Op::JmpIfNotEqK { off, .. }
            | Op::ForPrep { off, .. }
            | Op::ForLoop { off, .. }
            | Op::IterNext { off, .. }
            | Op::IterLoop { off, .. } => Some(off),
            _ => None,
        }
    }
}

impl Proto {
    /// The instructions.
    pub fn code(&self) -> &[Op] {
        &self.code
    }

    /// Registers the frame needs.
    pub fn num_regs(&self) -> u16 {
        self.num_regs
    }

    /// The fuel a call of this function is charged as it starts: one unit
    /// an instruction, which bounds what one pass through the code runs.
    /// A loop is charged its body's length again each time it jumps back
    /// (only `Jmp`, `ForLoop`, `IterLoop` and the conditional jumps may:
    /// verified). So the fuel charged bounds the instructions run, and the
    /// interpreter checks it only at calls and back-edges, not at every
    /// instruction (7-8% fewer instructions run on the benchmark programs).
    #[inline]
    pub(crate) fn fuel_cost(&self) -> i64 {
        self.code.len() as i64
    }

    /// Line and column of the instruction at `pc`.
    pub fn position(&self, pc: usize) -> (u32, u32) {
        self.positions.get(pc).copied().unwrap_or((self.line, 0))
    }
}

/// The built-in function of an `Op::Math`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MathFn {
    Abs,
    Floor,
    Ceil,
    Round,
    Sqrt,
    Sin,
    Cos,
    Tan,
}

impl MathFn {
    /// The built-ins compiled to `Op::Math`, by name.
    pub const ALL: [(&'static str, MathFn); 8] = [
        ("abs", MathFn::Abs),
        ("floor", MathFn::Floor),
        ("ceil", MathFn::Ceil),
        ("round", MathFn::Round),
        ("sqrt", MathFn::Sqrt),
        ("sin", MathFn::Sin),
        ("cos", MathFn::Cos),
        ("tan", MathFn::Tan),
    ];

    pub fn named(name: &str) -> Option<MathFn> {
        Self::ALL.iter().find(|(n, _)| *n == name).map(|&(_, f)| f)
    }

    /// What the built-in makes of a float, where that is a float (`floor`,
    /// `ceil` and `round` make ints, and may fail).
    #[inline]
    pub fn of_float(self) -> Option<fn(f64) -> f64> {
        match self {
            MathFn::Abs => Some(f64::abs),
            MathFn::Sqrt => Some(f64::sqrt),
            MathFn::Sin => Some(f64::sin),
            MathFn::Cos => Some(f64::cos),
            MathFn::Tan => Some(f64::tan),
            MathFn::Floor | MathFn::Ceil | MathFn::Round => None,
        }
    }
}

/// The operation of an `Op::Bitwise`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BitOp {
    And,
    Or,
    Xor,
    Shl,
    Shr,
    Not,
}

impl BitOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BitOp::And => "&",
            BitOp::Or => "|",
            BitOp::Xor => "^",
            BitOp::Shl => "<<",
            BitOp::Shr => ">>",
            BitOp::Not => "~",
        }
    }
}

/// A compiled script: the top-level function and the module's layout.
#[derive(Debug)]
pub struct ModuleCode {
    pub script: Arc<str>,
    pub main: Arc<Proto>,
    /// Module variable names, by slot.
    pub var_names: Vec<String>,
    /// Module variable slots by name (hosts look functions up by name
    /// every frame, so with a fast hash).
    pub(crate) var_index: std::collections::HashMap<String, usize, foldhash::fast::RandomState>,
}

impl ModuleCode {
    /// The slot of a module variable.
    pub fn var_slot(&self, name: &str) -> Option<usize> {
        self.var_index.get(name).copied()
    }
}
