//! Compiler: syntax tree to register bytecode.
//!
//! Names are resolved here, once: locals become registers (or cells in
//! registers when a closure captures them), captured variables of enclosing
//! functions become upvalues, top-level names become module slots, and
//! built-ins become global indexes. Nothing is looked up by string at run
//! time.
//!
//! - `mod.rs`: the per-function state, registers, scopes and names;
//! - `expr.rs`: expressions and conditions;
//! - `stmt.rs`: statements, functions and the module's top level.

mod cache;
mod expr;
mod stmt;

use std::collections::HashMap;
use std::sync::Arc;

use rustc_hash::FxHashSet;

use crate::heap::SeededHasher;

use crate::ast::{DeclId, Pos, Stmt};
use crate::bytecode::{CachedModuleVar, Capture, LocalInfo, ModuleCode, Op, Proto, Reg};
use crate::error::CompileError;
use crate::heap::Heap;
use crate::value::{StrKey, Value};

/// Registers a frame may use (the rest of `u8` is headroom for call bases).
const MAX_REGS: u16 = 250;

/// What the compiler needs from the VM: string interning, the names of
/// globals (built-ins and host natives) and method-name ids.
pub(crate) struct Env<'a> {
    pub heap: &'a mut Heap,
    pub globals: &'a (dyn Fn(&str) -> Option<u16> + Sync),
    /// Whether the global of this name still holds the built-in function
    /// of that name (a host may replace it), so calls to it may be
    /// compiled inline.
    pub is_builtin: &'a (dyn Fn(&str) -> bool + Sync),
    pub methods: &'a mut crate::methods::MethodNames,
}

/// Options for one compilation.
#[derive(Default)]
pub(crate) struct Options<'a> {
    /// Module variables that already exist (the REPL's earlier lines).
    pub prior_vars: &'a [String],
}

#[derive(Clone, Copy, Hash, PartialEq, Eq)]
enum ConstKey {
    Nil,
    Bool(bool),
    Int(i64),
    Float(u64),
    Str(StrKey),
}

impl ConstKey {
    /// The constant this key stands for.
    fn value(self) -> Value {
        match self {
            ConstKey::Nil => Value::Nil,
            ConstKey::Bool(b) => Value::Bool(b),
            ConstKey::Int(i) => Value::Int(i),
            ConstKey::Float(bits) => Value::Float(f64::from_bits(bits)),
            ConstKey::Str(key) => Value::Str(key),
        }
    }
}

/// A local in scope. Its name is its debug entry's (`FuncState::name_of`).
struct Local {
    /// The declaration (`None` for hidden loop state).
    decl: Option<DeclId>,
    reg: Reg,
    captured: bool,
    depth: u32,
    /// Index into the proto's debug locals, to close the live range.
    debug: usize,
}

struct LoopCtx {
    breaks: Vec<usize>,
    continues: Vec<usize>,
}

/// Everything being built for one function.
struct FuncState {
    name: String,
    arity: u8,
    code: Vec<Op>,
    positions: Vec<(u32, u32)>,
    /// The constants, as keys (`ConstKey::value` gives each one's value).
    const_keys: Vec<ConstKey>,
    /// Their indexes by key, once there are too many to scan.
    const_index: HashMap<ConstKey, u32, SeededHasher>,
    protos: Vec<Arc<Proto>>,
    captures: Vec<Capture>,
    upval_decls: Vec<DeclId>,
    upval_names: Vec<String>,
    debug_locals: Vec<LocalInfo>,
    locals: Vec<Local>,
    depth: u32,
    free_reg: u16,
    max_reg: u16,
    loops: Vec<LoopCtx>,
    line: u32,
    /// Module variables cached in registers by the loops around the code
    /// being compiled (`cache.rs`), innermost last.
    cached_vars: Vec<cache::CachedVar>,
    /// Every cached variable's live range, for the prototype.
    cached_module_vars: Vec<CachedModuleVar>,
}

impl FuncState {
    fn new(name: String, line: u32) -> FuncState {
        // Room for a small function from the start: growing these one
        // doubling at a time was a third of the compiler's allocations.
        FuncState {
            name,
            arity: 0,
            code: Vec::with_capacity(16),
            positions: Vec::with_capacity(16),
            const_keys: Vec::with_capacity(4),
            const_index: HashMap::default(),
            protos: Vec::new(),
            captures: Vec::new(),
            upval_decls: Vec::new(),
            upval_names: Vec::new(),
            debug_locals: Vec::with_capacity(4),
            locals: Vec::with_capacity(4),
            depth: 0,
            free_reg: 0,
            max_reg: 0,
            loops: Vec::new(),
            line,
            cached_vars: Vec::new(),
            cached_module_vars: Vec::new(),
        }
    }

    /// Starts another function in these buffers: emptied, their capacity
    /// kept, so that compiling many functions does not grow new ones each
    /// time (`Compiler::spare_funcs`).
    fn reuse(mut self, name: String, line: u32) -> FuncState {
        let FuncState {
            name: old_name,
            arity,
            code,
            positions,
            const_keys,
            const_index,
            protos,
            captures,
            upval_decls,
            upval_names,
            debug_locals,
            locals,
            depth,
            free_reg,
            max_reg,
            loops,
            line: old_line,
            cached_vars,
            cached_module_vars,
        } = &mut self;
        (*old_name, *old_line) = (name, line);
        (*arity, *depth, *free_reg, *max_reg) = (0, 0, 0, 0);
        code.clear();
        positions.clear();
        const_keys.clear();
        const_index.clear();
        protos.clear();
        captures.clear();
        upval_decls.clear();
        upval_names.clear();
        debug_locals.clear();
        locals.clear();
        loops.clear();
        cached_vars.clear();
        cached_module_vars.clear();
        self
    }
}

impl FuncState {
    /// The innermost local in scope named `name`.
    fn find_local(&self, name: &str) -> Option<&Local> {
        self.locals
            .iter()
            .rev()
            .find(|l| *self.debug_locals[l.debug].name == *name)
    }
}

/// Where a name lives.
#[derive(Clone, Copy)]
enum Place {
    Local {
        reg: Reg,
        cell: bool,
    },
    Upval(u8),
    Module(u16),
    /// A module variable that a loop around here keeps in `reg`.
    Cached {
        slot: u16,
        reg: Reg,
    },
    Global(u16),
}

pub(crate) struct Compiler<'a, 'e> {
    script: Arc<str>,
    env: &'a mut Env<'e>,
    captured: Vec<bool>,
    funcs: Vec<FuncState>,
    module_vars: Vec<String>,
    /// Module variable slots by name.
    module_index: HashMap<String, u16, SeededHasher>,
    /// Whether top-level code may see each module variable yet.
    module_visible: Vec<bool>,
    /// Locals' names for the debug information: one allocation per
    /// distinct name, which every function's locals of that name share.
    /// Hidden locals (loop state) are named "".
    debug_names: FxHashSet<Arc<str>>,
    pos: Pos,
    /// Reused by `cache_module_vars`, which runs for every loop.
    cache_scratch: Vec<u16>,
    /// Finished functions' buffers, for the next ones (`FuncState::reuse`).
    spare_funcs: Vec<FuncState>,
}

/// Compiles a parsed script into a module.
pub(crate) fn compile_program(
    script: &str,
    body: &[Stmt],
    decl_count: u32,
    tail: Option<&crate::ast::Expr>,
    env: &mut Env<'_>,
    options: Options<'_>,
) -> Result<ModuleCode, CompileError> {
    let script: Arc<str> = script.into();
    let mut c = Compiler {
        script: script.clone(),
        env,
        captured: crate::resolve::captured_decls(body, decl_count),
        funcs: vec![FuncState::new("<main>".into(), 1)],
        module_vars: options.prior_vars.to_vec(),
        module_index: options
            .prior_vars
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i as u16))
            .collect(),
        module_visible: vec![true; options.prior_vars.len()],
        debug_names: FxHashSet::default(),
        pos: Pos { line: 1, col: 1 },
        cache_scratch: Vec::new(),
        spare_funcs: Vec::new(),
    };
    c.module(body, tail)?;
    let main = c.finish_function()?;
    Ok(ModuleCode {
        script,
        main: Arc::new(main),
        var_index: c
            .module_vars
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i))
            .collect(),
        var_names: c.module_vars,
    })
}

impl Compiler<'_, '_> {
    fn f(&mut self) -> &mut FuncState {
        self.funcs.last_mut().expect("a function is being compiled")
    }

    fn fr(&self) -> &FuncState {
        self.funcs.last().expect("a function is being compiled")
    }

    fn error(&self, pos: Pos, message: impl Into<String>) -> CompileError {
        CompileError::new(&self.script, pos.line, pos.col, message)
    }

    fn in_main(&self) -> bool {
        self.funcs.len() == 1
    }

    // ---- emitting ----

    fn emit(&mut self, op: Op) -> usize {
        let pos = (self.pos.line, self.pos.col);
        let f = self.f();
        f.code.push(op);
        f.positions.push(pos);
        f.code.len() - 1
    }

    fn pc(&self) -> usize {
        self.fr().code.len()
    }

    /// Writes module variable `slot` from register `src` (which no loop
    /// keeps it in: see `Place::Cached`).
    fn emit_set_module(&mut self, slot: u16, src: Reg) {
        self.emit(Op::SetModule {
            slot,
            src,
            cache: src,
        });
    }

    /// Emits a jump to be patched later.
    fn emit_jump(&mut self, op: Op) -> usize {
        self.emit(op)
    }

    /// Points the jump at `at` to `target`.
    fn patch_to(&mut self, at: usize, target: usize) {
        let off = target as i32 - (at as i32 + 1);
        let op = &mut self.f().code[at];
        match op.jump_offset_mut() {
            Some(o) => *o = off,
            None => unreachable!("patching a non-jump {op:?}"),
        }
    }

    fn patch_here(&mut self, jumps: Vec<usize>) {
        let here = self.pc();
        for j in jumps {
            self.patch_to(j, here);
        }
    }

    // ---- constants ----

    fn constant(&mut self, key: ConstKey) -> u32 {
        // Most functions have a handful of constants: scanning them beats
        // hashing. Past that, they are indexed.
        const SCANNED: usize = 16;
        let f = self.f();
        let found = if f.const_keys.len() <= SCANNED {
            f.const_keys
                .iter()
                .position(|&k| k == key)
                .map(|k| k as u32)
        } else {
            if f.const_index.is_empty() {
                f.const_index
                    .extend(f.const_keys.iter().enumerate().map(|(i, &k)| (k, i as u32)));
            }
            f.const_index.get(&key).copied()
        };
        if let Some(k) = found {
            return k;
        }
        let k = f.const_keys.len() as u32;
        f.const_keys.push(key);
        if !f.const_index.is_empty() {
            f.const_index.insert(key, k);
        }
        k
    }

    fn nil_const(&mut self) -> u32 {
        self.constant(ConstKey::Nil)
    }

    fn bool_const(&mut self, b: bool) -> u32 {
        self.constant(ConstKey::Bool(b))
    }

    fn int_const(&mut self, i: i64) -> u32 {
        self.constant(ConstKey::Int(i))
    }

    fn float_const(&mut self, x: f64) -> u32 {
        self.constant(ConstKey::Float(x.to_bits()))
    }

    fn str_const(&mut self, s: &str) -> Result<u32, CompileError> {
        let key = self
            .env
            .heap
            .intern(s)
            .map_err(|_| self.error(self.pos, "out of memory while compiling"))?;
        Ok(self.constant(ConstKey::Str(key)))
    }

    // ---- registers and scopes ----

    fn alloc_reg(&mut self) -> Result<Reg, CompileError> {
        let pos = self.pos;
        let f = self.f();
        if f.free_reg >= MAX_REGS {
            return Err(self.error(
                pos,
                "function needs too many registers (too many locals or too complex an expression)",
            ));
        }
        let r = f.free_reg as Reg;
        f.free_reg += 1;
        f.max_reg = f.max_reg.max(f.free_reg);
        Ok(r)
    }

    /// First register above the declared locals: registers from here up are
    /// temporaries that nothing else reads.
    fn locals_top(&self) -> u16 {
        self.fr().locals.last().map_or(0, |l| l.reg as u16 + 1)
    }

    fn is_temp(&self, reg: Reg) -> bool {
        reg as u16 >= self.locals_top()
    }

    fn declare_local(&mut self, name: &str, decl: Option<DeclId>, reg: Reg, captured: bool) {
        let start = self.pc() as u32;
        let name = self.debug_name(name);
        let f = self.f();
        f.debug_locals.push(LocalInfo {
            name,
            reg,
            start_pc: start,
            end_pc: u32::MAX,
            captured,
        });
        let debug = f.debug_locals.len() - 1;
        let depth = f.depth;
        f.locals.push(Local {
            decl,
            reg,
            captured,
            depth,
            debug,
        });
    }

    /// A hidden register (loop state) that must stay reserved in its scope.
    fn declare_hidden(&mut self, reg: Reg) {
        self.declare_local("", None, reg, false);
    }

    /// The shared debug name `name`.
    fn debug_name(&mut self, name: &str) -> Arc<str> {
        if let Some(shared) = self.debug_names.get(name) {
            return shared.clone();
        }
        let shared: Arc<str> = name.into();
        self.debug_names.insert(shared.clone());
        shared
    }

    /// The register of a declared local (a block's function names).
    fn local_reg(&self, decl: DeclId) -> Option<(Reg, bool)> {
        self.fr()
            .locals
            .iter()
            .rev()
            .find(|l| l.decl == Some(decl))
            .map(|l| (l.reg, l.captured))
    }

    fn is_captured(&self, decl: DeclId) -> bool {
        self.captured.get(decl as usize).copied().unwrap_or(false)
    }

    fn begin_scope(&mut self) {
        self.f().depth += 1;
    }

    fn end_scope(&mut self) {
        let end = self.pc() as u32;
        let f = self.f();
        f.depth -= 1;
        while let Some(l) = f.locals.last() {
            if l.depth <= f.depth {
                break;
            }
            let debug = l.debug;
            f.debug_locals[debug].end_pc = end;
            f.locals.pop();
        }
        f.free_reg = f.locals.last().map_or(0, |l| l.reg as u16 + 1);
    }

    // ---- names ----

    fn resolve(&mut self, name: &str, pos: Pos) -> Result<Place, CompileError> {
        let last = self.funcs.len() - 1;
        if let Some(l) = self.funcs[last].find_local(name) {
            return Ok(Place::Local {
                reg: l.reg,
                cell: l.captured,
            });
        }
        // An enclosing function's local: capture it through every function
        // in between.
        for level in (0..last).rev() {
            let found = self.funcs[level]
                .find_local(name)
                .map(|l| (l.reg, l.captured));
            if let Some((reg, captured)) = found {
                debug_assert!(captured, "the resolver marks every captured local");
                let decl_key = self.decl_key(level, reg);
                let mut capture = Capture::Local(reg);
                for inner in level + 1..=last {
                    let idx = self.add_upval(inner, decl_key, name, capture, pos)?;
                    capture = Capture::Upval(idx);
                }
                let Capture::Upval(idx) = capture else {
                    unreachable!()
                };
                return Ok(Place::Upval(idx));
            }
        }
        if let Some(slot) = self.module_index.get(name).map(|&s| s as usize)
            && (!self.in_main() || self.module_visible[slot])
        {
            let slot = slot as u16;
            return Ok(match self.cached_reg(slot) {
                Some(reg) => Place::Cached { slot, reg },
                None => Place::Module(slot),
            });
        }
        if let Some(idx) = (self.env.globals)(name) {
            return Ok(Place::Global(idx));
        }
        Err(self.error(pos, format!("undefined variable '{name}'")))
    }

    /// A key that identifies a local of function `level` for upvalue dedup.
    fn decl_key(&self, level: usize, reg: Reg) -> DeclId {
        // Register numbers are unique among the live locals of a function
        // that encloses the one being compiled, so (level, reg) names the
        // variable.
        ((level as u32) << 8) | reg as u32
    }

    fn add_upval(
        &mut self,
        func: usize,
        key: DeclId,
        name: &str,
        capture: Capture,
        pos: Pos,
    ) -> Result<u8, CompileError> {
        let f = &mut self.funcs[func];
        if let Some(i) = f.upval_decls.iter().position(|&d| d == key) {
            return Ok(i as u8);
        }
        if f.captures.len() >= 255 {
            return Err(self.error(pos, "function captures too many variables"));
        }
        f.upval_decls.push(key);
        f.captures.push(capture);
        f.upval_names.push(name.to_string());
        Ok((f.captures.len() - 1) as u8)
    }

    /// Starts compiling a function, in a finished one's buffers if any.
    fn begin_function(&mut self, name: String, line: u32) {
        let f = match self.spare_funcs.pop() {
            Some(spare) => spare.reuse(name, line),
            None => FuncState::new(name, line),
        };
        self.funcs.push(f);
    }

    /// Pops the current function and returns its prototype, verified (see
    /// `verify/`: the interpreter relies on it). Its parts are copied out
    /// at their exact sizes; its buffers are kept for the next function.
    fn finish_function(&mut self) -> Result<Proto, CompileError> {
        let mut f = self.funcs.pop().expect("a function is being compiled");
        let end = f.code.len() as u32;
        // Hidden locals (loop state) are left out of the debug information.
        let named = |l: &LocalInfo| !l.name.is_empty();
        let mut locals = Vec::with_capacity(f.debug_locals.iter().filter(|l| named(l)).count());
        for l in f.debug_locals.drain(..).filter(|l| named(l)) {
            let end_pc = if l.end_pc == u32::MAX { end } else { l.end_pc };
            locals.push(LocalInfo { end_pc, ..l });
        }
        let uses_module_vars = f
            .code
            .iter()
            .any(|op| matches!(op, Op::GetModule { .. } | Op::SetModule { .. }));
        let proto = Proto {
            name: std::mem::take(&mut f.name),
            script: self.script.clone(),
            arity: f.arity,
            num_regs: f.max_reg + 1,
            code: f.code.clone(),
            positions: f.positions.clone(),
            consts: f.const_keys.iter().map(|k| k.value()).collect(),
            protos: std::mem::take(&mut f.protos),
            captures: std::mem::take(&mut f.captures),
            locals,
            upval_names: std::mem::take(&mut f.upval_names),
            line: f.line,
            gc_epoch: Default::default(),
            field_cache: (0..end).map(|_| Default::default()).collect(),
            uses_module_vars,
            cached_span: cached_span(&f.cached_module_vars),
            cached_slots: f
                .cached_module_vars
                .iter()
                .fold(0, |bits, c| bits | 1 << (c.slot % 64)),
            // Popped above: the top level was the last function left.
            tracks_module_writes: u64::from(!self.funcs.is_empty()),
            cached_module_vars: f.cached_module_vars.as_slice().into(),
        };
        self.spare_funcs.push(f);
        crate::verify::verify(&proto).map_err(|message| self.error(self.pos, message))?;
        Ok(proto)
    }
}

/// The instructions where any of `cached` is live.
fn cached_span(cached: &[CachedModuleVar]) -> std::ops::Range<u32> {
    let start = cached.iter().map(|c| c.from_pc).min().unwrap_or(0);
    let end = cached.iter().map(|c| c.to_pc).max().unwrap_or(0);
    start..end
}
