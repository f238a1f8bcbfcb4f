//! Expressions and conditions.

use arrayvec::ArrayVec;

use super::{Compiler, Place};
use crate::ast::{BinOp, Expr, ExprKind, Pos, UnOp};
use crate::bytecode::{MAX_JOINED, MathFn, Op, Reg};
use crate::error::CompileError;

type CResult<T> = Result<T, CompileError>;

/// List literal items are built in batches of this many registers.
const LIST_BATCH: usize = 50;

impl Compiler<'_, '_> {
    /// Compiles `e` into a register that holds its value: a plain local's own
    /// register, a cached module variable's (see `operand` for when that
    /// may be used), or a new temporary. The caller releases temporaries
    /// by restoring `free_reg`.
    pub(super) fn expr_any(&mut self, e: &Expr) -> CResult<Reg> {
        if let ExprKind::Var(name) = &e.kind
            && let Place::Local { reg, cell: false } | Place::Cached { reg, .. } =
                self.resolve(name, e.pos)?
        {
            return Ok(reg);
        }
        let r = self.alloc_reg()?;
        self.expr_to(e, r)?;
        Ok(r)
    }

    /// Whether `e` names a local that lives in a register of its own, or a
    /// cached module variable that may be used in place (see `operand`).
    fn is_register_operand(&mut self, e: &Expr, later: &Expr) -> bool {
        match &e.kind {
            ExprKind::Var(name) => match self.resolve(name, e.pos) {
                Ok(Place::Local { cell: false, .. }) => true,
                Ok(Place::Cached { .. }) => self.is_quiet(later),
                _ => false,
            },
            _ => false,
        }
    }

    /// Compiles `e` so that its value ends up in `dst`.
    pub(super) fn expr_to(&mut self, e: &Expr, dst: Reg) -> CResult<()> {
        let top = self.f().free_reg;
        let saved = self.pos;
        self.pos = e.pos;
        self.expr_inner(e, dst)?;
        self.pos = saved;
        self.f().free_reg = top;
        Ok(())
    }

    fn expr_inner(&mut self, e: &Expr, dst: Reg) -> CResult<()> {
        match &e.kind {
            ExprKind::Nil => {
                self.emit(Op::LoadNil { dst });
            }
            ExprKind::Bool(value) => {
                self.emit(Op::LoadBool { dst, value: *value });
            }
            ExprKind::Int(i) => match i32::try_from(*i) {
                Ok(value) => {
                    self.emit(Op::LoadInt { dst, value });
                }
                Err(_) => {
                    let k = self.int_const(*i);
                    self.emit(Op::LoadK { dst, k });
                }
            },
            ExprKind::Float(x) => {
                let k = self.float_const(*x);
                self.emit(Op::LoadK { dst, k });
            }
            ExprKind::Str(s) => {
                let k = self.str_const(s)?;
                self.emit(Op::LoadK { dst, k });
            }
            ExprKind::Var(name) => {
                let place = self.resolve(name, e.pos)?;
                self.load_place(place, dst);
            }
            ExprKind::SelfRef => {
                self.emit(Op::LoadSelf { dst });
            }
            ExprKind::List(items) => self.list_literal(items, dst)?,
            ExprKind::Map(entries) => {
                let t = if self.is_temp(dst) {
                    dst
                } else {
                    self.alloc_reg()?
                };
                self.emit(Op::NewMap { dst: t });
                for (key, value) in entries.iter() {
                    let top = self.f().free_reg;
                    self.pos = key.pos;
                    self.store_index(t, key, value)?;
                    self.f().free_reg = top;
                }
                self.pos = e.pos;
                self.move_to(dst, t);
            }
            ExprKind::Unary(op, x) => {
                let src = self.expr_any(x)?;
                self.pos = e.pos;
                self.emit(match op {
                    UnOp::Neg => Op::Neg { dst, src },
                    UnOp::Not => Op::Not { dst, src },
                    UnOp::BitNot => Op::Bitwise {
                        dst,
                        a: src,
                        b: src,
                        op: crate::bytecode::BitOp::Not,
                    },
                });
            }
            ExprKind::Binary(op, ab) => self.binary(*op, &ab.0, &ab.1, dst)?,
            ExprKind::And(ab) | ExprKind::Or(ab) => {
                let (a, b) = &**ab;
                let is_and = matches!(e.kind, ExprKind::And(..));
                let t = if self.is_temp(dst) {
                    dst
                } else {
                    self.alloc_reg()?
                };
                self.expr_to(a, t)?;
                let skip = self.emit_jump(if is_and {
                    Op::JmpIfFalse { src: t, off: 0 }
                } else {
                    Op::JmpIfTrue { src: t, off: 0 }
                });
                self.expr_to(b, t)?;
                self.patch_here(vec![skip]);
                self.move_to(dst, t);
            }
            ExprKind::Call((callee, args))
                if args.len() == 2 && self.calls_builtin(callee, "div")? =>
            {
                let a = self.operand(&args[0], &[&args[1]], false)?;
                if let Some(k) = self.numeric_const(&args[1]) {
                    self.pos = e.pos;
                    self.emit(Op::FloorDivK { dst, a, k });
                    return Ok(());
                }
                let b = self.expr_any(&args[1])?;
                self.pos = e.pos;
                self.emit(Op::FloorDiv { dst, a, b });
            }
            ExprKind::Call((callee, args))
                if args.len() == 1 && self.calls_builtin(callee, "len")? =>
            {
                let src = self.expr_any(&args[0])?;
                self.pos = e.pos;
                self.emit(Op::Len { dst, src });
            }
            ExprKind::Call((callee, args))
                if args.len() == 1 && self.calls_math(callee)?.is_some() =>
            {
                let f = self.calls_math(callee)?.expect("checked above");
                let src = self.expr_any(&args[0])?;
                self.pos = e.pos;
                self.emit(Op::Math { dst, src, f });
            }
            ExprKind::Call((callee, args))
                if args.len() == 3 && self.calls_builtin(callee, "vec3")? =>
            {
                let x = self.operand(&args[0], &[&args[1], &args[2]], false)?;
                let y = self.operand(&args[1], &[&args[2]], false)?;
                let z = self.expr_any(&args[2])?;
                self.pos = e.pos;
                self.emit(Op::NewVec3 { dst, x, y, z });
            }
            ExprKind::Call((callee, args)) => {
                let base = self.call_base(dst)?;
                self.expr_to(callee, base)?;
                self.arguments(args)?;
                self.pos = e.pos;
                self.emit(Op::Call {
                    base,
                    nargs: args.len() as u8,
                });
                self.move_to(dst, base);
            }
            ExprKind::MethodCall((receiver, name, args)) => {
                let base = self.call_base(dst)?;
                let recv = self.alloc_reg()?;
                self.expr_to(receiver, recv)?;
                self.arguments(args)?;
                self.pos = e.pos;
                let method = self.env.methods.intern(name);
                self.emit(Op::CallMethod {
                    base,
                    nargs: args.len() as u8,
                    method,
                });
                self.move_to(dst, base);
            }
            ExprKind::Index(ab) => {
                let (obj, key) = &**ab;
                let obj = self.operand(obj, &[key], false)?;
                let key = self.expr_any(key)?;
                self.pos = e.pos;
                self.emit(Op::GetIndex { dst, obj, key });
            }
            ExprKind::Field(obj, name) => {
                let obj = self.expr_any(obj)?;
                self.pos = e.pos;
                self.get_field(dst, obj, name)?;
            }
            ExprKind::Func(decl) => {
                let proto = self.function(decl)?;
                self.pos = e.pos;
                self.emit(Op::Closure { dst, proto });
            }
        }
        Ok(())
    }

    /// A call needs its callee and arguments in consecutive registers at
    /// the top; when `dst` is the topmost temporary, the call can use it
    /// directly and no move is needed.
    fn call_base(&mut self, dst: Reg) -> CResult<Reg> {
        if self.is_temp(dst) && dst as u16 + 1 == self.f().free_reg {
            Ok(dst)
        } else {
            self.alloc_reg()
        }
    }

    fn move_to(&mut self, dst: Reg, src: Reg) {
        if dst != src {
            self.emit(Op::Move { dst, src });
        }
    }

    /// Arguments into consecutive registers after a call's base.
    fn arguments(&mut self, args: &[Expr]) -> CResult<()> {
        for arg in args {
            let r = self.alloc_reg()?;
            self.expr_to(arg, r)?;
        }
        Ok(())
    }

    pub(super) fn load_place(&mut self, place: Place, dst: Reg) {
        match place {
            Place::Local { reg, cell: false } => self.move_to(dst, reg),
            Place::Local { reg, cell: true } => {
                self.emit(Op::GetCell { dst, cell: reg });
            }
            Place::Upval(idx) => {
                self.emit(Op::GetUpval { dst, idx });
            }
            Place::Module(slot) => {
                self.emit(Op::GetModule { dst, slot });
            }
            Place::Cached { reg, .. } => self.move_to(dst, reg),
            Place::Global(idx) => {
                self.emit(Op::GetGlobal { dst, idx });
            }
        }
    }

    fn list_literal(&mut self, items: &[Expr], dst: Reg) -> CResult<()> {
        if items.len() <= LIST_BATCH {
            let start = self.f().free_reg as Reg;
            for item in items {
                let r = self.alloc_reg()?;
                self.expr_to(item, r)?;
            }
            self.emit(Op::NewList {
                dst,
                start,
                count: items.len() as u8,
            });
            return Ok(());
        }
        // Long literals: a list register, then batches appended to it.
        let list = self.alloc_reg()?;
        self.emit(Op::NewList {
            dst: list,
            start: list,
            count: 0,
        });
        for batch in items.chunks(LIST_BATCH) {
            let top = self.f().free_reg;
            let start = top as Reg;
            for item in batch {
                let r = self.alloc_reg()?;
                self.expr_to(item, r)?;
            }
            self.emit(Op::ListAppend {
                list,
                start,
                count: batch.len() as u8,
            });
            self.f().free_reg = top;
        }
        self.move_to(dst, list);
        Ok(())
    }

    /// `obj[key] = value`, with a constant-key fast path for string keys.
    pub(super) fn store_index(&mut self, obj: Reg, key: &Expr, value: &Expr) -> CResult<()> {
        if let ExprKind::Str(name) = &key.kind {
            let src = self.expr_any(value)?;
            return self.set_field(obj, name, src);
        }
        let key = self.operand(key, &[value], false)?;
        if let Some(k) = self.literal_const(value)? {
            self.emit(Op::SetIndexK { obj, key, k });
            return Ok(());
        }
        let src = self.expr_any(value)?;
        self.emit(Op::SetIndex { obj, key, src });
        Ok(())
    }

    pub(super) fn get_field(&mut self, dst: Reg, obj: Reg, name: &str) -> CResult<()> {
        let k = self.str_const(name)?;
        match u16::try_from(k) {
            Ok(k) => {
                self.emit(match name {
                    "x" => Op::GetX { dst, obj, k },
                    "y" => Op::GetY { dst, obj, k },
                    "z" => Op::GetZ { dst, obj, k },
                    _ => Op::GetField { dst, obj, k },
                });
            }
            Err(_) => {
                let key = self.alloc_reg()?;
                self.emit(Op::LoadK { dst: key, k });
                self.emit(Op::GetIndex { dst, obj, key });
            }
        }
        Ok(())
    }

    pub(super) fn set_field(&mut self, obj: Reg, name: &str, src: Reg) -> CResult<()> {
        let k = self.str_const(name)?;
        match u16::try_from(k) {
            Ok(k) => {
                self.emit(Op::SetField { obj, k, src });
            }
            Err(_) => {
                let key = self.alloc_reg()?;
                self.emit(Op::LoadK { dst: key, k });
                self.emit(Op::SetIndex { obj, key, src });
            }
        }
        Ok(())
    }

    /// A numeric literal as a constant index that fits a `K` instruction.
    fn numeric_const(&mut self, e: &Expr) -> Option<u16> {
        let k = match e.kind {
            ExprKind::Int(i) => self.int_const(i),
            ExprKind::Float(x) => self.float_const(x),
            _ => return None,
        };
        u16::try_from(k).ok()
    }

    /// A literal as a constant index that fits a `K` instruction, of any
    /// kind: a number, nil, a bool or a string. `==` and `!=` compare
    /// against it (`x == nil`, `kind != "enemy"`), `SetIndexK` stores it
    /// (`flags[i] = false`).
    fn literal_const(&mut self, e: &Expr) -> CResult<Option<u16>> {
        let k = match &e.kind {
            ExprKind::Nil => self.nil_const(),
            ExprKind::Bool(b) => self.bool_const(*b),
            ExprKind::Str(s) => self.str_const(s)?,
            _ => return Ok(self.numeric_const(e)),
        };
        Ok(u16::try_from(k).ok())
    }

    /// Whether `callee` names the built-in function `name`: no local, upvalue
    /// or module variable shadows it, and the host has not replaced it.
    pub(super) fn calls_builtin(&mut self, callee: &Expr, name: &str) -> CResult<bool> {
        Ok(match &callee.kind {
            ExprKind::Var(var) if **var == *name => {
                matches!(self.resolve(var, callee.pos)?, Place::Global(_))
                    && (self.env.is_builtin)(name)
            }
            _ => false,
        })
    }

    /// The built-in of one number that `callee` names, if it names one
    /// (`sin`: see `calls_builtin`).
    pub(super) fn calls_math(&mut self, callee: &Expr) -> CResult<Option<MathFn>> {
        let ExprKind::Var(name) = &callee.kind else {
            return Ok(None);
        };
        match MathFn::named(name) {
            Some(f) if self.calls_builtin(callee, name)? => Ok(Some(f)),
            _ => Ok(None),
        }
    }

    fn binary(&mut self, op: BinOp, a: &Expr, b: &Expr, dst: Reg) -> CResult<()> {
        let pos = self.pos;
        if op == BinOp::Add && self.join_chain(a, b, dst, pos)? {
            return Ok(());
        }
        if op == BinOp::Add
            && let ExprKind::Binary(BinOp::Add, xy) = &a.kind
            && (self.is_known_string(&xy.0)?
                || self.is_known_string(&xy.1)?
                || self.is_known_string(b)?
                || [&xy.0, &xy.1, b].iter().all(|e| is_plain_operand(e)))
        {
            self.add_three((&xy.0, &xy.1, a.pos), b, dst, pos)?;
            return Ok(());
        }
        // A number on the left (`2.0 * x`, `1.0 - t`) is read from the
        // constants, as one on the right is (`MulK`), without a register.
        if matches!(op, BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div)
            && !is_number(b)
            && let Some(k) = self.numeric_const(a)
        {
            let rb = self.expr_any(b)?;
            self.pos = pos;
            self.emit(match op {
                BinOp::Add => Op::KAdd { dst, k, b: rb },
                BinOp::Sub => Op::KSub { dst, k, b: rb },
                BinOp::Mul => Op::KMul { dst, k, b: rb },
                _ => Op::KDiv { dst, k, b: rb },
            });
            return Ok(());
        }
        // A temporary destination can hold the left operand while the right
        // one is computed: long chains like `a + b + c + ...` then need one
        // register per level of nesting on the right, not one per operand.
        let ra = if self.is_temp(dst) && !self.is_register_operand(a, b) {
            self.expr_to(a, dst)?;
            dst
        } else {
            self.operand(a, &[b], false)?
        };
        if self.fused_product(op, dst, ra, b, pos)? {
            return Ok(());
        }
        if matches!(
            op,
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod
        ) && let Some(k) = self.numeric_const(b)
        {
            self.pos = pos;
            self.emit(match op {
                BinOp::Add => Op::AddK { dst, a: ra, k },
                BinOp::Sub => Op::SubK { dst, a: ra, k },
                BinOp::Mul => Op::MulK { dst, a: ra, k },
                BinOp::Div => Op::DivK { dst, a: ra, k },
                _ => Op::ModK { dst, a: ra, k },
            });
            return Ok(());
        }
        let rb = self.expr_any(b)?;
        self.pos = pos;
        self.emit(arith_op(op, dst, ra, rb));
        Ok(())
    }

    /// `dst = x + y + z` as one instruction, `Add3`, which joins three
    /// strings in one copy: a string grown by `s = s + str(i) + ","` is
    /// copied once per piece, not twice. Used where the operands are
    /// plain (numbers and vec3s too), and for chains with a string in
    /// them (`is_known_string`), which are joins of strings (elsewhere
    /// `a + b + x * y` is better served by `AddMul`). `x + y` is taken
    /// after `z` is computed, which changes nothing when `z` is a plain
    /// operand (it can neither fail nor have effects); before code that
    /// computes `z`, `CheckAdd` raises any error `x + y` would, as two
    /// additions would report it. `x + y` is at `inner`, the `+` between
    /// `z` and it at `pos`.
    fn add_three(
        &mut self,
        (x, y, inner): (&Expr, &Expr, Pos),
        z: &Expr,
        dst: Reg,
        pos: Pos,
    ) -> CResult<()> {
        // As in `binary`: a temporary destination holds the left operand,
        // so that a long chain takes registers by its nesting on the right.
        let ra = if self.is_temp(dst) && !self.is_register_operand(x, y) {
            self.expr_to(x, dst)?;
            dst
        } else {
            self.operand(x, &[y, z], false)?
        };
        let rb = self.operand(y, &[z], false)?;
        if !is_plain_operand(z) {
            self.pos = inner;
            self.emit(Op::CheckAdd { a: ra, b: rb });
        }
        let rc = self.expr_any(z)?;
        self.pos = pos;
        self.emit(Op::Add3 {
            dst,
            a: ra,
            b: rb,
            c: rc,
        });
        Ok(())
    }

    /// `dst = a + b` as one `AddN` where `a + b` is a chain of four or
    /// more operands on one line with a string among them (a literal, a
    /// `str(x)`: a line of text, `name + ": " + str(v) + "; "`), which
    /// succeeds only as a join of strings: the operands are computed into
    /// consecutive registers and joined at once. Before code that computes
    /// an operand after the second, `CheckAddN` raises any error the
    /// additions before it would, so that errors and effects come in the
    /// order separate additions give them (no check where those operands
    /// are all strings). A chain longer than `MAX_JOINED` starts with the
    /// sum of its first operands, itself a chain. False (nothing emitted)
    /// for other sums.
    fn join_chain(&mut self, a: &Expr, b: &Expr, dst: Reg, pos: Pos) -> CResult<bool> {
        // From the right: each operand, the `+` that adds it, and whether
        // it is known to be a string.
        let mut operands = ArrayVec::<(&Expr, Pos, bool), MAX_JOINED>::new();
        operands.push((b, pos, self.is_known_string(b)?));
        let mut left = a;
        while operands.len() < MAX_JOINED - 1
            && left.pos.line == pos.line
            && let ExprKind::Binary(BinOp::Add, xy) = &left.kind
        {
            operands.push((&xy.1, left.pos, self.is_known_string(&xy.1)?));
            left = &xy.0;
        }
        operands.push((left, left.pos, self.is_known_string(left)?));
        if operands.len() < 4 || !operands.iter().any(|&(_, _, string)| string) {
            return Ok(false);
        }
        operands.reverse();
        // Additions of strings cannot fail: no check after the leading
        // operands known to be strings.
        let strings = operands
            .iter()
            .take_while(|&&(_, _, string)| string)
            .count();
        let start = self.f().free_reg as Reg;
        for (count, &(operand, _, _)) in operands.iter().enumerate() {
            if count >= 2 && count > strings && !is_plain_operand(operand) {
                // At the `+` that adds the last operand before it.
                self.pos = operands[count - 1].1;
                self.emit(Op::CheckAddN {
                    start,
                    count: count as u8,
                });
            }
            let r = self.alloc_reg()?;
            self.expr_to(operand, r)?;
        }
        self.pos = pos;
        self.emit(Op::AddN {
            dst,
            start,
            count: operands.len() as u8,
        });
        Ok(true)
    }

    /// Whether `e` gives a string whenever it gives a value: a string
    /// literal, a call of the built-in `str`, or a sum with one of those
    /// on either side (a string added to anything else fails).
    fn is_known_string(&mut self, e: &Expr) -> CResult<bool> {
        Ok(match &e.kind {
            ExprKind::Str(_) => true,
            ExprKind::Call((callee, args)) => {
                args.len() == 1 && self.calls_builtin(callee, "str")?
            }
            ExprKind::Binary(BinOp::Add, xy) => {
                self.is_known_string(&xy.0)? || self.is_known_string(&xy.1)?
            }
            _ => false,
        })
    }

    /// `dst = a + x * y` or `dst = a - x * y` as one instruction (`AddMul`,
    /// `SubMul`), where `value` is `x * y` and `a` is already in `ra`: the
    /// product's operands are evaluated as for `Mul`, and the product is
    /// taken before the sum, as two instructions would. Emits nothing and
    /// returns false for other operators and operands, for a product by a
    /// constant (`MulK` serves it), and for a product on another line than
    /// the sum (an error in it is reported at the sum's position).
    pub(super) fn fused_product(
        &mut self,
        op: BinOp,
        dst: Reg,
        ra: Reg,
        value: &Expr,
        pos: Pos,
    ) -> CResult<bool> {
        let ExprKind::Binary(BinOp::Mul, xy) = &value.kind else {
            return Ok(false);
        };
        let (x, y) = &**xy;
        if !matches!(op, BinOp::Add | BinOp::Sub)
            || value.pos.line != pos.line
            || self.numeric_const(y).is_some()
        {
            return Ok(false);
        }
        let rx = self.operand(x, &[y], false)?;
        let ry = self.expr_any(y)?;
        self.pos = pos;
        self.emit(if op == BinOp::Add {
            Op::AddMul {
                dst,
                a: ra,
                b: rx,
                c: ry,
            }
        } else {
            Op::SubMul {
                dst,
                a: ra,
                b: rx,
                c: ry,
            }
        });
        Ok(true)
    }

    /// Emits jumps taken when `e`'s truthiness equals `when`; returns them
    /// for patching. Falls through otherwise.
    pub(super) fn cond_jump(&mut self, e: &Expr, when: bool) -> CResult<Vec<usize>> {
        let top = self.f().free_reg;
        let saved = self.pos;
        self.pos = e.pos;
        let jumps = self.cond_inner(e, when)?;
        self.pos = saved;
        self.f().free_reg = top;
        Ok(jumps)
    }

    fn cond_inner(&mut self, e: &Expr, when: bool) -> CResult<Vec<usize>> {
        match &e.kind {
            ExprKind::Bool(b) => Ok(if *b == when {
                vec![self.emit_jump(Op::Jmp { off: 0 })]
            } else {
                vec![]
            }),
            ExprKind::Unary(UnOp::Not, x) => self.cond_jump(x, !when),
            ExprKind::And(ab) | ExprKind::Or(ab) => {
                let (a, b) = &**ab;
                let is_and = matches!(e.kind, ExprKind::And(..));
                if is_and != when {
                    // `a and b` jumps when false if either is false;
                    // `a or b` jumps when true if either is true.
                    let mut jumps = self.cond_jump(a, when)?;
                    jumps.extend(self.cond_jump(b, when)?);
                    Ok(jumps)
                } else {
                    let skip = self.cond_jump(a, !when)?;
                    let jumps = self.cond_jump(b, when)?;
                    self.patch_here(skip);
                    Ok(jumps)
                }
            }
            ExprKind::Binary(op, ab) if op.is_comparison() => {
                let (a, b) = &**ab;
                let pos = self.pos;
                let ra = self.operand(a, &[b], false)?;
                let k = if matches!(op, BinOp::Eq | BinOp::Ne) {
                    self.literal_const(b)?
                } else {
                    self.numeric_const(b)
                };
                if let Some(k) = k {
                    self.pos = pos;
                    let off = 0;
                    let jump = match (op, when) {
                        (BinOp::Lt, true) => Op::JmpIfLtK { a: ra, k, off },
                        (BinOp::Lt, false) => Op::JmpIfNotLtK { a: ra, k, off },
                        (BinOp::Le, true) => Op::JmpIfLeK { a: ra, k, off },
                        (BinOp::Le, false) => Op::JmpIfNotLeK { a: ra, k, off },
                        (BinOp::Gt, true) => Op::JmpIfGtK { a: ra, k, off },
                        (BinOp::Gt, false) => Op::JmpIfNotGtK { a: ra, k, off },
                        (BinOp::Ge, true) => Op::JmpIfGeK { a: ra, k, off },
                        (BinOp::Ge, false) => Op::JmpIfNotGeK { a: ra, k, off },
                        (BinOp::Eq, true) | (BinOp::Ne, false) => Op::JmpIfEqK { a: ra, k, off },
                        _ => Op::JmpIfNotEqK { a: ra, k, off },
                    };
                    return Ok(vec![self.emit_jump(jump)]);
                }
                let rb = self.expr_any(b)?;
                self.pos = pos;
                let off = 0;
                let jump = match (op, when) {
                    (BinOp::Lt, true) => Op::JmpIfLt { a: ra, b: rb, off },
                    (BinOp::Lt, false) => Op::JmpIfNotLt { a: ra, b: rb, off },
                    (BinOp::Le, true) => Op::JmpIfLe { a: ra, b: rb, off },
                    (BinOp::Le, false) => Op::JmpIfNotLe { a: ra, b: rb, off },
                    (BinOp::Gt, true) => Op::JmpIfGt { a: ra, b: rb, off },
                    (BinOp::Gt, false) => Op::JmpIfNotGt { a: ra, b: rb, off },
                    (BinOp::Ge, true) => Op::JmpIfGe { a: ra, b: rb, off },
                    (BinOp::Ge, false) => Op::JmpIfNotGe { a: ra, b: rb, off },
                    (BinOp::Eq, true) | (BinOp::Ne, false) => Op::JmpIfEq { a: ra, b: rb, off },
                    _ => Op::JmpIfNotEq { a: ra, b: rb, off },
                };
                Ok(vec![self.emit_jump(jump)])
            }
            _ => {
                let src = self.expr_any(e)?;
                Ok(vec![self.emit_jump(if when {
                    Op::JmpIfTrue { src, off: 0 }
                } else {
                    Op::JmpIfFalse { src, off: 0 }
                })])
            }
        }
    }
}

/// The register-register instruction for a binary operator.
pub(super) fn arith_op(op: BinOp, dst: Reg, a: Reg, b: Reg) -> Op {
    match op {
        BinOp::Add => Op::Add { dst, a, b },
        BinOp::Sub => Op::Sub { dst, a, b },
        BinOp::Mul => Op::Mul { dst, a, b },
        BinOp::Div => Op::Div { dst, a, b },
        BinOp::Mod => Op::Mod { dst, a, b },
        BinOp::Eq => Op::Eq { dst, a, b },
        BinOp::Ne => Op::Ne { dst, a, b },
        BinOp::Lt => Op::Lt { dst, a, b },
        BinOp::Le => Op::Le { dst, a, b },
        BinOp::Gt => Op::Gt { dst, a, b },
        BinOp::Ge => Op::Ge { dst, a, b },
        BinOp::BitAnd | BinOp::BitOr | BinOp::BitXor | BinOp::Shl | BinOp::Shr => Op::Bitwise {
            dst,
            a,
            b,
            op: op.bitwise().expect("a bitwise operator"),
        },
    }
}

/// A number literal.
fn is_number(e: &Expr) -> bool {
    matches!(e.kind, ExprKind::Int(_) | ExprKind::Float(_))
}

/// An operand whose evaluation can neither fail nor have effects: a
/// variable, `self` or a literal.
fn is_plain_operand(e: &Expr) -> bool {
    matches!(
        e.kind,
        ExprKind::Var(_)
            | ExprKind::SelfRef
            | ExprKind::Nil
            | ExprKind::Bool(_)
            | ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Str(_)
    )
}
