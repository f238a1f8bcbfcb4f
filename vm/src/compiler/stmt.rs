//! Statements, functions and the module's top level.

use std::sync::Arc;

use super::expr::arith_op;
use super::{Compiler, LoopCtx, Place};
use crate::ast::{BinOp, DeclId, Expr, ExprKind, FuncDecl, Name, Param, Stmt, StmtKind};
use crate::builtins::UNPACK;
use crate::bytecode::{Op, Reg};
use crate::error::CompileError;

type CResult<T> = Result<T, CompileError>;

impl Compiler<'_, '_> {
    /// The top level: module slots for every top-level `let` and `fn`, the
    /// functions created before the first statement runs, then the
    /// statements in order.
    pub(super) fn module(&mut self, body: &[Stmt], tail: Option<&Expr>) -> CResult<()> {
        let declared = body.iter().flat_map(|s| -> Vec<&str> {
            match &s.kind {
                StmtKind::Let { name, .. } => vec![name],
                StmtKind::LetList { names, .. } => names.iter().map(|&(n, _)| n).collect(),
                StmtKind::Fn(f) => vec![f.name.expect("named")],
                _ => Vec::new(),
            }
        });
        for name in declared {
            if !self.module_index.contains_key(name) {
                let slot = self.module_vars.len().min(u16::MAX as usize) as u16;
                self.module_index.insert(String::from(name), slot);
                self.module_vars.push(String::from(name));
                self.module_visible.push(false);
            }
        }
        if self.module_vars.len() > u16::MAX as usize {
            return Err(self.error(self.pos, "too many module variables"));
        }
        // Functions exist before the first statement runs.
        for s in body {
            if let StmtKind::Fn(f) = &s.kind {
                let slot = self.module_slot(f.name.expect("named"));
                self.module_visible[slot as usize] = true;
            }
        }
        for s in body {
            if let StmtKind::Fn(f) = &s.kind {
                self.pos = s.pos;
                let slot = self.module_slot(f.name.expect("named"));
                let t = self.alloc_reg()?;
                let proto = self.function(f)?;
                self.emit(Op::Closure { dst: t, proto });
                self.emit_set_module(slot, t);
                self.f().free_reg = 0;
            }
        }
        for s in body {
            self.statement(s, true)?;
        }
        match tail {
            Some(e) => {
                let r = self.expr_any(e)?;
                self.emit(Op::Return { src: r });
            }
            None => {
                self.emit(Op::ReturnNil);
            }
        }
        Ok(())
    }

    fn module_slot(&self, name: &str) -> u16 {
        *self
            .module_index
            .get(name)
            .expect("module variables are collected first")
    }

    /// A block's statements. Named functions in it are visible throughout
    /// the block (so they may call each other in any order): their names
    /// are declared first, and each closure is created where its `fn`
    /// statement stands, so it captures the locals declared before it.
    fn statements(&mut self, stmts: &[Stmt]) -> CResult<()> {
        for s in stmts {
            if let StmtKind::Fn(f) = &s.kind {
                self.pos = f.pos;
                let reg = self.alloc_reg()?;
                let captured = self.is_captured(f.decl);
                self.emit(Op::LoadNil { dst: reg });
                if captured {
                    self.emit(Op::NewCell { reg });
                }
                self.declare_local(f.name.unwrap_or(""), Some(f.decl), reg, captured);
            }
        }
        for s in stmts {
            self.statement(s, false)?;
        }
        Ok(())
    }

    /// Creates a block-level named function into its declared local.
    fn local_function(&mut self, f: &FuncDecl) -> CResult<()> {
        let (reg, captured) = self
            .local_reg(f.decl)
            .expect("block functions are declared when the block starts");
        let proto = self.function(f)?;
        if captured {
            let t = self.alloc_reg()?;
            self.emit(Op::Closure { dst: t, proto });
            self.emit(Op::SetCell { cell: reg, src: t });
        } else {
            self.emit(Op::Closure { dst: reg, proto });
        }
        Ok(())
    }

    fn block(&mut self, stmts: &[Stmt]) -> CResult<()> {
        self.begin_scope();
        self.statements(stmts)?;
        self.end_scope();
        Ok(())
    }

    /// `let [a, b] = init;`: the values in one register per name, then
    /// the names bound to them. A list written out with as many items is
    /// never made: its items go straight to the registers. Any other value
    /// is checked by the built-in `unpack list` (a list of exactly that
    /// many items, else an error naming what it is) and read an item at a
    /// time.
    fn let_list(
        &mut self,
        names: &[(Name, DeclId)],
        init: &Expr,
        module_level: bool,
    ) -> CResult<()> {
        let top = self.f().free_reg;
        let regs = (0..names.len())
            .map(|_| self.alloc_reg())
            .collect::<CResult<Vec<Reg>>>()?;
        match &init.kind {
            ExprKind::List(items) if items.len() == names.len() => {
                for (item, &r) in items.iter().zip(&regs) {
                    self.expr_to(item, r)?;
                }
            }
            ExprKind::List(items) => {
                return Err(self.error(
                    init.pos,
                    format!(
                        "cannot unpack a list of {} items into {} names",
                        items.len(),
                        names.len()
                    ),
                ));
            }
            _ => {
                let Some(unpack) = (self.env.globals)(UNPACK) else {
                    return Err(self.error(init.pos, "internal error: no list unpacking"));
                };
                let base = self.alloc_reg()?;
                self.emit(Op::GetGlobal {
                    dst: base,
                    idx: unpack,
                });
                let list = self.alloc_reg()?;
                self.expr_to(init, list)?;
                // The count of names, then each item's index.
                let int = self.alloc_reg()?;
                self.emit(Op::LoadInt {
                    dst: int,
                    value: names.len() as i32,
                });
                self.pos = init.pos;
                self.emit(Op::Call { base, nargs: 2 });
                for (i, &r) in regs.iter().enumerate() {
                    self.emit(Op::LoadInt {
                        dst: int,
                        value: i as i32,
                    });
                    self.emit(Op::GetIndex {
                        dst: r,
                        obj: base,
                        key: int,
                    });
                }
            }
        }
        // The locals keep their registers; the temporaries above go.
        self.f().free_reg = top + names.len() as u16;
        for (&(name, decl), &r) in names.iter().zip(&regs) {
            self.bind_let(name, decl, r, module_level);
        }
        if module_level {
            self.f().free_reg = top;
        }
        Ok(())
    }

    /// Binds a `let`'s name to the value in register `r`: the module
    /// variable of that name at the top level, else a new local living in
    /// `r` (in a cell, if a closure captures it).
    fn bind_let(&mut self, name: &str, decl: DeclId, r: Reg, module_level: bool) {
        if module_level {
            let slot = self.module_slot(name);
            self.emit_set_module(slot, r);
            self.module_visible[slot as usize] = true;
        } else {
            let captured = self.is_captured(decl);
            if captured {
                self.emit(Op::NewCell { reg: r });
            }
            self.declare_local(name, Some(decl), r, captured);
        }
    }

    fn statement(&mut self, s: &Stmt, module_level: bool) -> CResult<()> {
        self.pos = s.pos;
        let top = self.f().free_reg;
        match &s.kind {
            StmtKind::Let { name, decl, init } => {
                let r = self.alloc_reg()?;
                self.init_value(*init, r)?;
                self.pos = s.pos;
                self.bind_let(name, *decl, r, module_level);
                if module_level {
                    self.f().free_reg = top;
                }
                return Ok(());
            }
            StmtKind::LetList { names, init } => return self.let_list(names, init, module_level),
            // Module functions are created before the first statement.
            StmtKind::Fn(_) if module_level => {}
            StmtKind::Fn(f) => self.local_function(f)?,
            StmtKind::Assign { target, op, value } => self.assign(target, *op, value)?,
            StmtKind::Expr(e) => {
                let r = self.alloc_reg()?;
                self.expr_to(e, r)?;
            }
            StmtKind::If {
                branches,
                otherwise,
            } => {
                let mut ends = Vec::new();
                for (i, (cond, body)) in branches.iter().enumerate() {
                    let skip = self.cond_jump(cond, false)?;
                    self.block(body)?;
                    let last = i + 1 == branches.len() && otherwise.is_none();
                    if !last {
                        self.pos = s.pos;
                        ends.push(self.emit_jump(Op::Jmp { off: 0 }));
                    }
                    self.patch_here(skip);
                }
                if let Some(body) = otherwise {
                    self.block(body)?;
                }
                self.patch_here(ends);
            }
            StmtKind::While { cond, body } => {
                self.begin_scope();
                let cached = self.cache_module_vars(&[cond], body)?;
                let start = self.pc();
                let exits = self.cond_jump(cond, false)?;
                let body_start = self.pc();
                self.loop_body(body, &[])?;
                // The condition again at the bottom, jumping back into the
                // body while it holds: an iteration takes one jump, not a
                // jump back to the test and the test's own.
                self.pos = s.pos;
                for again in self.cond_jump(cond, true)? {
                    self.patch_to(again, body_start);
                }
                let ctx = self.f().loops.pop().expect("loop");
                for c in ctx.continues {
                    self.patch_to(c, start);
                }
                self.patch_here(exits);
                self.patch_here(ctx.breaks);
                self.end_cached_module_vars(cached);
                self.end_scope();
            }
            StmtKind::ForRange {
                var,
                start,
                end,
                inclusive,
                body,
            } => self.for_range(var, start, end, *inclusive, body)?,
            StmtKind::ForIn {
                first,
                second,
                iter,
                body,
            } => self.for_in(first, second.as_ref(), iter, body)?,
            StmtKind::Break | StmtKind::Continue => {
                let is_break = matches!(s.kind, StmtKind::Break);
                if self.fr().loops.is_empty() {
                    let word = if is_break { "break" } else { "continue" };
                    return Err(self.error(s.pos, format!("'{word}' outside of a loop")));
                }
                let j = self.emit_jump(Op::Jmp { off: 0 });
                let ctx = self.f().loops.last_mut().expect("loop");
                if is_break {
                    ctx.breaks.push(j);
                } else {
                    ctx.continues.push(j);
                }
            }
            StmtKind::Return(value) => {
                if self.in_main() {
                    return Err(self.error(s.pos, "'return' outside of a function"));
                }
                match value {
                    Some(e) => {
                        let r = self.expr_any(e)?;
                        self.pos = s.pos;
                        self.emit(Op::Return { src: r });
                    }
                    None => {
                        self.emit(Op::ReturnNil);
                    }
                }
            }
            StmtKind::Yield => {
                let live = self.locals_top() as u8;
                self.emit(Op::Yield { live });
            }
            StmtKind::Block(body) => self.block(body)?,
        }
        self.f().free_reg = top;
        Ok(())
    }

    fn init_value(&mut self, init: Option<&Expr>, r: Reg) -> CResult<()> {
        match init {
            Some(e) => self.expr_to(e, r),
            None => {
                self.emit(Op::LoadNil { dst: r });
                Ok(())
            }
        }
    }

    /// A loop body in its own scope, with the loop variables (already in
    /// their registers) declared inside it. Captured loop variables get a
    /// fresh cell every iteration.
    fn loop_body(&mut self, body: &[Stmt], vars: &[(&Param, Reg)]) -> CResult<()> {
        self.f().loops.push(LoopCtx {
            breaks: Vec::new(),
            continues: Vec::new(),
        });
        self.begin_scope();
        for (param, reg) in vars {
            let captured = self.is_captured(param.decl);
            if captured {
                self.emit(Op::NewCell { reg: *reg });
            }
            self.declare_local(param.name, Some(param.decl), *reg, captured);
        }
        self.statements(body)?;
        self.end_scope();
        Ok(())
    }

    fn for_range(
        &mut self,
        var: &Param,
        start: &Expr,
        end: &Expr,
        inclusive: bool,
        body: &[Stmt],
    ) -> CResult<()> {
        let pos = self.pos;
        self.begin_scope();
        let cached = self.cache_module_vars(&[], body)?;
        let base = self.alloc_reg()?;
        let limit = self.alloc_reg()?;
        let v = self.alloc_reg()?;
        self.expr_to(start, base)?;
        self.expr_to(end, limit)?;
        self.declare_hidden(base);
        self.declare_hidden(limit);
        self.pos = pos;
        let prep = self.emit_jump(Op::ForPrep {
            base,
            inclusive,
            off: 0,
        });
        let top = self.pc();
        self.loop_body(body, &[(var, v)])?;
        let ctx = self.f().loops.pop().expect("loop");
        self.pos = pos;
        let step = self.pc();
        let back = self.emit_jump(Op::ForLoop {
            base,
            inclusive,
            off: 0,
        });
        self.patch_to(back, top);
        for c in ctx.continues {
            self.patch_to(c, step);
        }
        self.patch_here(vec![prep]);
        self.patch_here(ctx.breaks);
        self.end_cached_module_vars(cached);
        self.end_scope();
        Ok(())
    }

    fn for_in(
        &mut self,
        first: &Param,
        second: Option<&Param>,
        iter: &Expr,
        body: &[Stmt],
    ) -> CResult<()> {
        let pos = self.pos;
        self.begin_scope();
        let cached = self.cache_module_vars(&[], body)?;
        let base = self.alloc_reg()?;
        let index = self.alloc_reg()?;
        let v1 = self.alloc_reg()?;
        let v2 = if second.is_some() {
            Some(self.alloc_reg()?)
        } else {
            None
        };
        self.expr_to(iter, base)?;
        self.declare_hidden(base);
        self.declare_hidden(index);
        self.pos = pos;
        self.emit(Op::IterPrep { base });
        let two = second.is_some();
        let enter = self.emit_jump(Op::IterNext { base, two, off: 0 });
        let top = self.pc();
        let mut vars = vec![(first, v1)];
        if let (Some(p), Some(r)) = (second, v2) {
            vars.push((p, r));
        }
        self.loop_body(body, &vars)?;
        let ctx = self.f().loops.pop().expect("loop");
        self.pos = pos;
        let step = self.pc();
        let back = self.emit_jump(Op::IterLoop { base, two, off: 0 });
        self.patch_to(back, top);
        for c in ctx.continues {
            self.patch_to(c, step);
        }
        self.patch_here(vec![enter]);
        self.patch_here(ctx.breaks);
        self.end_cached_module_vars(cached);
        self.end_scope();
        Ok(())
    }

    fn assign(&mut self, target: &Expr, op: Option<BinOp>, value: &Expr) -> CResult<()> {
        match &target.kind {
            ExprKind::Var(name) => {
                let place = self.resolve(name, target.pos)?;
                if let Place::Global(_) = place {
                    return Err(self.error(
                        target.pos,
                        format!("cannot assign to built-in '{name}' (declare it with let first)"),
                    ));
                }
                if let Place::Local { reg, cell: false } = place {
                    match op {
                        None => self.expr_to(value, reg)?,
                        Some(op) => self.compound(op, reg, reg, value)?,
                    }
                    return Ok(());
                }
                let t = self.alloc_reg()?;
                match op {
                    None => self.expr_to(value, t)?,
                    // A cached variable is read in place when nothing can
                    // change it before the operation (see `operand`).
                    Some(op) => match place {
                        Place::Cached { reg, .. } if self.is_quiet(value) => {
                            self.compound(op, t, reg, value)?;
                        }
                        _ => {
                            self.load_place(place, t);
                            self.compound(op, t, t, value)?;
                        }
                    },
                }
                self.pos = target.pos;
                match place {
                    Place::Local { reg, .. } => {
                        self.emit(Op::SetCell { cell: reg, src: t });
                    }
                    Place::Upval(idx) => {
                        self.emit(Op::SetUpval { idx, src: t });
                    }
                    Place::Module(slot) => {
                        self.emit_set_module(slot, t);
                    }
                    // The variable and its register in one instruction: no
                    // suspension (where the host may write the variable)
                    // falls between them.
                    Place::Cached { slot, reg } => {
                        self.emit(Op::SetModule {
                            slot,
                            src: t,
                            cache: reg,
                        });
                    }
                    Place::Global(_) => unreachable!("rejected above"),
                }
            }
            ExprKind::Index(ab) => {
                let (obj, key) = &**ab;
                let obj = self.place_object(obj, &[key, value], false)?;
                let Some(op) = op else {
                    self.pos = target.pos;
                    return self.store_index(obj, key, value);
                };
                let key = self.operand(key, &[value], false)?;
                let t = self.alloc_reg()?;
                self.pos = target.pos;
                self.emit(Op::GetIndex { dst: t, obj, key });
                self.compound(op, t, t, value)?;
                self.pos = target.pos;
                self.emit(Op::SetIndex { obj, key, src: t });
            }
            ExprKind::Field(obj, name) => {
                // `a.f += v` reads the field before it writes it, and a
                // host object's field read is host code.
                let obj = self.place_object(obj, &[value], op.is_some())?;
                // A plain local (or cached variable) is stored from its own
                // register: no code runs between its read and the store.
                let src = match op {
                    None => self.expr_any(value)?,
                    Some(op) => {
                        let t = self.alloc_reg()?;
                        self.pos = target.pos;
                        self.get_field(t, obj, name)?;
                        self.compound(op, t, t, value)?;
                        t
                    }
                };
                self.pos = target.pos;
                self.set_field(obj, name, src)?;
            }
            _ => return Err(self.error(target.pos, "invalid assignment target")),
        }
        Ok(())
    }

    /// The object of an assignment target (`a.b` in `a.b.c = v`). A field
    /// access there is a place: a host reference yields a reference to the
    /// field, so `self.Transform.translation.y = 1.0` writes through.
    /// `later` and `runs_code_before_use` as for `operand`.
    fn place_object(
        &mut self,
        obj: &Expr,
        later: &[&Expr],
        runs_code_before_use: bool,
    ) -> CResult<Reg> {
        let ExprKind::Field(inner, name) = &obj.kind else {
            return self.operand(obj, later, runs_code_before_use);
        };
        let inner = self.expr_any(inner)?;
        let dst = self.alloc_reg()?;
        self.pos = obj.pos;
        let k = self.str_const(name)?;
        match u16::try_from(k) {
            Ok(k) => {
                self.emit(Op::GetFieldPlace { dst, obj: inner, k });
            }
            Err(_) => self.get_field(dst, inner, name)?,
        }
        Ok(dst)
    }

    /// `dst = current <op> value`.
    fn compound(&mut self, op: BinOp, dst: Reg, current: Reg, value: &Expr) -> CResult<()> {
        let pos = self.pos;
        let k = match value.kind {
            ExprKind::Int(i) => Some(self.int_const(i)),
            ExprKind::Float(x) => Some(self.float_const(x)),
            _ => None,
        }
        .and_then(|k| u16::try_from(k).ok())
        .filter(|_| op.bitwise().is_none());
        self.pos = pos;
        if let Some(k) = k {
            let a = current;
            self.emit(match op {
                BinOp::Add => Op::AddK { dst, a, k },
                BinOp::Sub => Op::SubK { dst, a, k },
                BinOp::Mul => Op::MulK { dst, a, k },
                BinOp::Div => Op::DivK { dst, a, k },
                _ => Op::ModK { dst, a, k },
            });
            return Ok(());
        }
        let top = self.f().free_reg;
        if !self.fused_product(op, dst, current, value, pos)? {
            let v = self.expr_any(value)?;
            self.pos = pos;
            self.emit(arith_op(op, dst, current, v));
        }
        self.f().free_reg = top;
        Ok(())
    }

    /// Compiles a function and returns its index among the current
    /// function's nested prototypes.
    pub(super) fn function(&mut self, decl: &FuncDecl) -> CResult<u16> {
        let name = decl.name.unwrap_or("<fn>").to_string();
        let saved_pos = self.pos;
        self.begin_function(name, decl.pos.line);
        self.pos = decl.pos;
        self.f().arity = decl.params.len() as u8;
        for p in decl.params {
            let reg = self.alloc_reg()?;
            let captured = self.is_captured(p.decl);
            if captured {
                self.emit(Op::NewCell { reg });
            }
            self.declare_local(p.name, Some(p.decl), reg, captured);
        }
        self.statements(decl.body)?;
        self.pos = decl.end;
        self.emit(Op::ReturnNil);
        let proto = self.finish_function()?;
        self.pos = saved_pos;
        let parent = self.f();
        if parent.protos.len() >= u16::MAX as usize {
            return Err(self.error(decl.pos, "too many functions in one function"));
        }
        parent.protos.push(Arc::new(proto));
        Ok((parent.protos.len() - 1) as u16)
    }
}
