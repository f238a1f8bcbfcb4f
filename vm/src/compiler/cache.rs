//! Module variables that a loop keeps in registers.
//!
//! A loop that reads module variables (a top-level loop over module
//! state, or a function's loop over a module list) would otherwise load
//! each of them from the instance on every use. Instead, the compiler
//! loads each one into a register of its own before the loop, and inside
//! the loop reads use that register. The register stays exact:
//!
//! - The loop's own assignments write the variable and the register in
//!   one instruction (`SetModule` with the register as its `cache`), from
//!   a temporary: so no suspension falls between the two, and a reload of
//!   the frame while the value is computed (a safe point) cannot put the
//!   old value back over it.
//! - Everything else that may change a module variable runs outside this
//!   frame's instructions: a call (another function, a native, host code
//!   behind a field), a suspension (the host may write variables before it
//!   resumes the call) or a yield. The interpreter loads the registers
//!   again at those points (`CachedModuleVar`), so the next instruction
//!   sees what a fresh load would.
//! - An operand is read when its instruction runs, not when the compiler
//!   evaluates it. So a cached register is used in place only when
//!   nothing that may run other code is evaluated between the two (see
//!   `is_quiet`), nor runs in between (the field read of `a.f += v`);
//!   otherwise it is copied first, as a load would have.

use super::{Compiler, Place};
use crate::ast::{Expr, ExprKind, Stmt, StmtKind, UnOp};
use crate::bytecode::{CachedModuleVar, Op};
use crate::error::CompileError;

/// At most this many variables are cached per loop, and only while the
/// frame has registers to spare.
const MAX_CACHED_PER_LOOP: usize = 16;
const REGISTER_HEADROOM: u16 = 200;

/// A cached variable in scope in the function being compiled.
pub(super) struct CachedVar {
    pub slot: u16,
    pub reg: u8,
    /// Index of its entry in `FuncState::cached_module_vars`.
    entry: usize,
}

impl Compiler<'_, '_> {
    /// Caches the module variables that `heads` (a `while` condition) and
    /// `body` read in place (see `operand_reads`), except those already
    /// cached, in registers declared in the current scope. Returns how many
    /// it cached, for `end_cached_module_vars`.
    pub(super) fn cache_module_vars(
        &mut self,
        heads: &[&Expr],
        body: &[Stmt],
    ) -> Result<usize, CompileError> {
        if self.module_vars.is_empty() {
            return Ok(0);
        }
        let mut slots = std::mem::take(&mut self.cache_scratch);
        slots.clear();
        let mut read = |name: &str| {
            if let Some(slot) = self.uncached_module_slot(name) {
                slots.push(slot);
            }
        };
        for e in heads {
            condition_reads(e, &mut read);
        }
        stmts_reads(body, &mut read);
        slots.sort_unstable();
        slots.dedup();
        slots.truncate(MAX_CACHED_PER_LOOP);
        let count = slots.len();
        if self.fr().free_reg + count as u16 > REGISTER_HEADROOM {
            self.cache_scratch = slots;
            return Ok(0);
        }
        for &slot in &slots {
            let reg = self.alloc_reg()?;
            self.declare_hidden(reg);
            self.emit(Op::GetModule { dst: reg, slot });
            let from_pc = self.pc() as u32;
            let f = self.f();
            f.cached_module_vars.push(CachedModuleVar {
                from_pc,
                to_pc: u32::MAX,
                reg,
                slot,
            });
            let entry = f.cached_module_vars.len() - 1;
            f.cached_vars.push(CachedVar { slot, reg, entry });
        }
        self.cache_scratch = slots;
        Ok(count)
    }

    /// Ends the last `count` cached variables here, after their loop.
    pub(super) fn end_cached_module_vars(&mut self, count: usize) {
        let end = self.pc() as u32;
        let f = self.f();
        for _ in 0..count {
            let cached = f.cached_vars.pop().expect("cached in this loop");
            f.cached_module_vars[cached.entry].to_pc = end;
        }
    }

    /// The register caching module variable `slot` in the function being
    /// compiled, if a loop around here caches it.
    pub(super) fn cached_reg(&self, slot: u16) -> Option<u8> {
        let f = self.fr();
        f.cached_vars
            .iter()
            .rev()
            .find(|c| c.slot == slot)
            .map(|c| c.reg)
    }

    /// The slot of the module variable that `name` means here, unless a
    /// local shadows it or it is cached already. Has no effects (unlike
    /// `resolve`, which captures enclosing locals).
    fn uncached_module_slot(&self, name: &str) -> Option<u16> {
        if self.funcs.iter().any(|f| f.find_local(name).is_some()) {
            return None;
        }
        let slot = *self.module_index.get(name)?;
        let visible = !self.in_main() || self.module_visible[slot as usize];
        (visible && self.cached_reg(slot).is_none()).then_some(slot)
    }

    /// Whether nothing may run other code between an operand and its use:
    /// none of `later`, nor anything else (`runs_code_before_use`).
    pub(super) fn quiet_until_use(&mut self, later: &[&Expr], runs_code_before_use: bool) -> bool {
        !runs_code_before_use && later.iter().all(|e| self.is_quiet(e))
    }

    /// Whether evaluating `e` can run no code but its own instructions: no
    /// call (script, native or method) and no field access (a host
    /// object's field is host code). Arithmetic, comparison, indexing and
    /// the built-ins compiled inline (`div`, `len`, `vec3`, `sin`...) never
    /// call out.
    pub(super) fn is_quiet(&mut self, e: &Expr) -> bool {
        if e.kind.is_atom() {
            return true;
        }
        match &e.kind {
            ExprKind::Call((callee, args)) => {
                let inline = match args.len() {
                    1 => {
                        self.calls_builtin(callee, "len").unwrap_or(false)
                            || self.calls_math(callee).is_ok_and(|f| f.is_some())
                    }
                    2 => self.calls_builtin(callee, "div").unwrap_or(false),
                    3 => self.calls_builtin(callee, "vec3").unwrap_or(false),
                    _ => false,
                };
                inline && args.iter().all(|a| self.is_quiet(a))
            }
            ExprKind::List(items) => items.iter().all(|x| self.is_quiet(x)),
            ExprKind::Map(entries) => entries
                .iter()
                .all(|(k, v)| self.is_quiet(k) && self.is_quiet(v)),
            ExprKind::Unary(_, x) => self.is_quiet(x),
            ExprKind::Binary(_, ab)
            | ExprKind::And(ab)
            | ExprKind::Or(ab)
            | ExprKind::Index(ab) => self.is_quiet(&ab.0) && self.is_quiet(&ab.1),
            // Method calls, field reads, and whatever a new kind may run.
            _ => false,
        }
    }

    /// Compiles `e` into a register that holds its value when the
    /// instruction that uses it runs, after `later` (the operands compiled
    /// after it) and, if `runs_code_before_use`, other code: a cached
    /// module variable's own register only if nothing in between may run
    /// other code (see `is_quiet`).
    pub(super) fn operand(
        &mut self,
        e: &Expr,
        later: &[&Expr],
        runs_code_before_use: bool,
    ) -> Result<u8, CompileError> {
        if let ExprKind::Var(name) = &e.kind {
            match self.resolve(name, e.pos)? {
                Place::Local { reg, cell: false } => return Ok(reg),
                Place::Cached { reg, .. } => {
                    if self.quiet_until_use(later, runs_code_before_use) {
                        return Ok(reg);
                    }
                    let r = self.alloc_reg()?;
                    self.expr_to(e, r)?;
                    return Ok(r);
                }
                _ => {}
            }
        }
        self.expr_any(e)
    }
}

// Which variables a loop caches. Only reads that an instruction takes in
// place from the register gain: where the value is copied anyway (a
// callee, an argument, a `let`'s value) a copy from the cache costs what a
// load did, and every return into the frame reloads the cache. So these
// walks collect the names read as operands (`operand_reads`), and look
// into other positions (`value_reads`) only for operands nested there.
// Nested functions are skipped: they load module variables themselves.

/// `e` is an instruction's operand: a name here is read in place.
fn operand_reads(e: &Expr, out: &mut impl FnMut(&str)) {
    match &e.kind {
        ExprKind::Var(name) => out(name),
        _ => value_reads(e, out),
    }
}

/// `e` is computed into a register: a name here is copied.
fn value_reads(e: &Expr, out: &mut impl FnMut(&str)) {
    match &e.kind {
        ExprKind::List(items) => items.iter().for_each(|x| value_reads(x, out)),
        ExprKind::Map(entries) => {
            for (k, v) in entries.iter() {
                value_reads(k, out);
                operand_reads(v, out);
            }
        }
        ExprKind::Unary(_, x) | ExprKind::Field(x, _) => operand_reads(x, out),
        ExprKind::Binary(_, ab) | ExprKind::Index(ab) => {
            operand_reads(&ab.0, out);
            operand_reads(&ab.1, out);
        }
        ExprKind::And(ab) | ExprKind::Or(ab) => {
            value_reads(&ab.0, out);
            value_reads(&ab.1, out);
        }
        ExprKind::Call((callee, args)) | ExprKind::MethodCall((callee, _, args)) => {
            value_reads(callee, out);
            args.iter().for_each(|x| value_reads(x, out));
        }
        // Atoms evaluate nothing inside them here (a nested function's
        // body loads its module variables itself).
        _ => {}
    }
}

/// `e` is a condition (comparisons read both sides in place).
fn condition_reads(e: &Expr, out: &mut impl FnMut(&str)) {
    match &e.kind {
        ExprKind::Unary(UnOp::Not, x) => condition_reads(x, out),
        ExprKind::And(ab) | ExprKind::Or(ab) => {
            condition_reads(&ab.0, out);
            condition_reads(&ab.1, out);
        }
        _ => operand_reads(e, out),
    }
}

fn stmts_reads(stmts: &[Stmt], out: &mut impl FnMut(&str)) {
    for s in stmts {
        match &s.kind {
            StmtKind::Let { init, .. } => init.iter().for_each(|e| value_reads(e, out)),
            StmtKind::LetList { init, .. } => value_reads(init, out),
            StmtKind::Fn(_) | StmtKind::Break | StmtKind::Continue | StmtKind::Yield => {}
            StmtKind::Assign { target, op, value } => {
                match &target.kind {
                    // `x += v` reads `x`; `x = v` only writes it.
                    ExprKind::Var(_) if op.is_some() => operand_reads(target, out),
                    ExprKind::Var(_) => {}
                    ExprKind::Index(ab) => {
                        operand_reads(&ab.0, out);
                        operand_reads(&ab.1, out);
                    }
                    _ => value_reads(target, out),
                }
                if op.is_some() {
                    operand_reads(value, out);
                } else {
                    value_reads(value, out);
                }
            }
            StmtKind::Expr(e) => value_reads(e, out),
            StmtKind::Return(e) => e.iter().for_each(|e| operand_reads(e, out)),
            StmtKind::If {
                branches,
                otherwise,
            } => {
                for (cond, body) in branches.iter() {
                    condition_reads(cond, out);
                    stmts_reads(body, out);
                }
                otherwise.iter().for_each(|b| stmts_reads(b, out));
            }
            StmtKind::While { cond, body } => {
                condition_reads(cond, out);
                stmts_reads(body, out);
            }
            StmtKind::ForRange {
                start, end, body, ..
            } => {
                value_reads(start, out);
                value_reads(end, out);
                stmts_reads(body, out);
            }
            StmtKind::ForIn { iter, body, .. } => {
                value_reads(iter, out);
                stmts_reads(body, out);
            }
            StmtKind::Block(body) => stmts_reads(body, out),
        }
    }
}
