//! Capture analysis: which local declarations are captured by a closure.
//!
//! A captured local lives in a heap cell from its declaration on, so a
//! closure and its defining scope share it (also after the scope ends, and
//! across suspended calls) without Lua's open-upvalue bookkeeping. Uncaptured
//! locals stay plain registers. This pass mirrors the compiler's scoping
//! rules exactly; the compiler asks it `captured[decl]`.

use crate::ast::*;

/// Walks `program` and returns, by `DeclId`, whether each declaration is
/// captured by a nested function.
pub fn captured_decls(body: &[Stmt], decl_count: u32) -> Vec<bool> {
    let mut r = Resolver {
        names: Vec::new(),
        scope_starts: Vec::new(),
        fn_depth: 0,
        captured: vec![false; decl_count as usize],
    };
    // The top level's own declarations are module variables: not tracked.
    r.statements(body, true);
    r.captured
}

/// A declared local: its name (borrowed from the tree), its declaration
/// and the depth of the function declaring it.
struct Local<'a> {
    name: &'a str,
    decl: DeclId,
    fn_depth: u32,
}

struct Resolver<'a> {
    /// Locals in scope, innermost last; `scope_starts` marks where each
    /// open block's begin.
    names: Vec<Local<'a>>,
    scope_starts: Vec<usize>,
    fn_depth: u32,
    captured: Vec<bool>,
}

impl<'a> Resolver<'a> {
    fn push(&mut self) {
        self.scope_starts.push(self.names.len());
    }

    fn pop(&mut self) {
        let start = self.scope_starts.pop().unwrap_or(0);
        self.names.truncate(start);
    }

    fn declare(&mut self, name: &'a str, decl: DeclId) {
        // At module level (no block open) declarations are module variables.
        if !self.scope_starts.is_empty() {
            self.names.push(Local {
                name,
                decl,
                fn_depth: self.fn_depth,
            });
        }
    }

    fn use_name(&mut self, name: &str) {
        if let Some(local) = self.names.iter().rev().find(|l| l.name == name)
            && local.fn_depth < self.fn_depth
        {
            self.captured[local.decl as usize] = true;
        }
    }

    /// A block's statements. Named functions are visible throughout their
    /// block, so they are declared first.
    fn statements(&mut self, stmts: &'a [Stmt], module_level: bool) {
        if !module_level {
            for s in stmts {
                if let StmtKind::Fn(f) = &s.kind {
                    self.declare(f.name.unwrap_or(""), f.decl);
                }
            }
        }
        for s in stmts {
            self.statement(s, module_level);
        }
    }

    fn block(&mut self, stmts: &'a [Stmt]) {
        self.push();
        self.statements(stmts, false);
        self.pop();
    }

    fn statement(&mut self, s: &'a Stmt, module_level: bool) {
        match &s.kind {
            StmtKind::Let { name, decl, init } => {
                if let Some(e) = init {
                    self.expr(e);
                }
                if !module_level {
                    self.declare(name, *decl);
                }
            }
            StmtKind::LetList { names, init } => {
                self.expr(init);
                if !module_level {
                    for (name, decl) in names.iter() {
                        self.declare(name, *decl);
                    }
                }
            }
            StmtKind::Fn(f) => self.function(f),
            StmtKind::Assign { target, value, .. } => {
                self.expr(target);
                self.expr(value);
            }
            StmtKind::Expr(e) => self.expr(e),
            StmtKind::If {
                branches,
                otherwise,
            } => {
                for (cond, body) in branches.iter() {
                    self.expr(cond);
                    self.block(body);
                }
                if let Some(body) = otherwise {
                    self.block(body);
                }
            }
            StmtKind::While { cond, body } => {
                self.expr(cond);
                self.block(body);
            }
            StmtKind::ForRange {
                var,
                start,
                end,
                body,
                ..
            } => {
                self.expr(start);
                self.expr(end);
                self.push();
                self.declare(var.name, var.decl);
                self.block(body);
                self.pop();
            }
            StmtKind::ForIn {
                first,
                second,
                iter,
                body,
            } => {
                self.expr(iter);
                self.push();
                self.declare(first.name, first.decl);
                if let Some(second) = second {
                    self.declare(second.name, second.decl);
                }
                self.block(body);
                self.pop();
            }
            StmtKind::Return(Some(e)) => self.expr(e),
            StmtKind::Block(body) => self.block(body),
            StmtKind::Return(None) | StmtKind::Break | StmtKind::Continue | StmtKind::Yield => {}
        }
    }

    fn function(&mut self, f: &'a FuncDecl) {
        self.fn_depth += 1;
        self.push();
        for p in f.params {
            self.declare(p.name, p.decl);
        }
        self.statements(f.body, false);
        self.pop();
        self.fn_depth -= 1;
    }

    fn exprs(&mut self, es: &'a [Expr]) {
        for e in es {
            self.expr(e);
        }
    }

    fn expr(&mut self, e: &'a Expr) {
        match &e.kind {
            ExprKind::Var(name) => self.use_name(name),
            ExprKind::List(items) => self.exprs(items),
            ExprKind::Map(entries) => {
                for (k, v) in entries.iter() {
                    self.expr(k);
                    self.expr(v);
                }
            }
            ExprKind::Unary(_, x) | ExprKind::Field(x, _) => self.expr(x),
            ExprKind::Binary(_, ab)
            | ExprKind::And(ab)
            | ExprKind::Or(ab)
            | ExprKind::Index(ab) => {
                self.expr(&ab.0);
                self.expr(&ab.1);
            }
            ExprKind::Call((f, args)) | ExprKind::MethodCall((f, _, args)) => {
                self.expr(f);
                self.exprs(args);
            }
            ExprKind::Func(f) => self.function(f),
            ExprKind::Nil
            | ExprKind::Bool(_)
            | ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Str(_)
            | ExprKind::SelfRef => {}
        }
    }
}
