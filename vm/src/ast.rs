//! The syntax tree that the parser builds and the compiler reads.
//!
//! Every node carries its line and column. Declarations (locals, parameters,
//! loop variables, named functions) carry a `DeclId`, unique in the file, so
//! the resolver can tell the compiler which of them closures capture.

/// Identifies one declaration in a file.
pub type DeclId = u32;

/// An identifier. The lexer shares one allocation among all occurrences of
/// a name, so the tree holds counted references instead of a string each,
/// and the compiled functions' debug names share it too.
pub type Name = std::sync::Arc<str>;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

#[derive(Debug)]
pub struct Expr {
    pub kind: ExprKind,
    pub pos: Pos,
    /// Depth of the tree below this node (1 for a leaf). The parser bounds
    /// it so that the compiler's recursion and the tree's drop stay shallow.
    pub height: u32,
}

impl Expr {
    /// Builds a node, computing its height from its children.
    pub fn new(kind: ExprKind, pos: Pos) -> Expr {
        let h = |e: &Expr| e.height;
        let hs = |es: &[Expr]| es.iter().map(|e| e.height).max().unwrap_or(0);
        let below = match &kind {
            ExprKind::List(items) => hs(items),
            ExprKind::Map(entries) => entries
                .iter()
                .map(|(k, v)| k.height.max(v.height))
                .max()
                .unwrap_or(0),
            ExprKind::Unary(_, e) | ExprKind::Field(e, _) => h(e),
            ExprKind::Binary(_, ab)
            | ExprKind::And(ab)
            | ExprKind::Or(ab)
            | ExprKind::Index(ab) => h(&ab.0).max(h(&ab.1)),
            ExprKind::Call(f, args) | ExprKind::MethodCall(f, _, args) => h(f).max(hs(args)),
            ExprKind::Func(decl) => decl.height,
            _ => 0,
        };
        Expr {
            kind,
            pos,
            height: below + 1,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    Neg,
    Not,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl BinOp {
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge
        )
    }
}

#[derive(Debug)]
pub enum ExprKind {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Var(Name),
    SelfRef,
    List(Vec<Expr>),
    Map(Vec<(Expr, Expr)>),
    Unary(UnOp, Box<Expr>),
    // Two operands share one allocation.
    Binary(BinOp, Box<(Expr, Expr)>),
    And(Box<(Expr, Expr)>),
    Or(Box<(Expr, Expr)>),
    Call(Box<Expr>, Vec<Expr>),
    MethodCall(Box<Expr>, Name, Vec<Expr>),
    Index(Box<(Expr, Expr)>),
    Field(Box<Expr>, Name),
    Func(Box<FuncDecl>),
}

impl ExprKind {
    /// Whether evaluating this evaluates no other expression where it
    /// stands: a literal, a name, `self`, or a function literal (its body
    /// runs only when called).
    pub fn is_atom(&self) -> bool {
        matches!(
            self,
            ExprKind::Nil
                | ExprKind::Bool(_)
                | ExprKind::Int(_)
                | ExprKind::Float(_)
                | ExprKind::Str(_)
                | ExprKind::Var(_)
                | ExprKind::SelfRef
                | ExprKind::Func(_)
        )
    }
}

#[derive(Debug)]
pub struct Param {
    pub name: Name,
    pub decl: DeclId,
}

#[derive(Debug)]
pub struct FuncDecl {
    /// `None` for an anonymous function.
    pub name: Option<Name>,
    /// The declaration of the name, for a named function.
    pub decl: DeclId,
    pub params: Vec<Param>,
    pub body: Vec<Stmt>,
    pub pos: Pos,
    /// Position of the closing brace (for the implicit `return nil`).
    pub end: Pos,
    /// The tallest statement of the body, plus one.
    pub height: u32,
}

/// The height of a block: its tallest statement.
pub fn block_height(stmts: &[Stmt]) -> u32 {
    stmts.iter().map(|s| s.height).max().unwrap_or(0)
}

#[derive(Debug)]
pub struct Stmt {
    pub kind: StmtKind,
    pub pos: Pos,
    /// Depth of the tree below this statement, expressions and nested
    /// blocks and functions included.
    pub height: u32,
}

impl Stmt {
    /// Builds a statement, computing its height from what it contains.
    pub fn new(kind: StmtKind, pos: Pos) -> Stmt {
        let e = |e: &Expr| e.height;
        let below = match &kind {
            StmtKind::Let { init, .. } => init.as_ref().map_or(0, e),
            StmtKind::Fn(decl) => decl.height,
            StmtKind::Assign { target, value, .. } => e(target).max(e(value)),
            StmtKind::Expr(x) => e(x),
            StmtKind::If {
                branches,
                otherwise,
            } => branches
                .iter()
                .map(|(c, b)| e(c).max(block_height(b)))
                .max()
                .unwrap_or(0)
                .max(otherwise.as_deref().map_or(0, block_height)),
            StmtKind::While { cond, body } => e(cond).max(block_height(body)),
            StmtKind::ForRange {
                start, end, body, ..
            } => e(start).max(e(end)).max(block_height(body)),
            StmtKind::ForIn { iter, body, .. } => e(iter).max(block_height(body)),
            StmtKind::Return(x) => x.as_ref().map_or(0, e),
            StmtKind::Block(body) => block_height(body),
            StmtKind::Break | StmtKind::Continue | StmtKind::Yield => 0,
        };
        Stmt {
            kind,
            pos,
            height: below + 1,
        }
    }
}

#[derive(Debug)]
pub enum StmtKind {
    Let {
        name: Name,
        decl: DeclId,
        init: Option<Expr>,
    },
    Fn(Box<FuncDecl>),
    Assign {
        target: Expr,
        op: Option<BinOp>,
        value: Expr,
    },
    Expr(Expr),
    /// `if c1 {..} else if c2 {..} else {..}`: the chain stays flat.
    If {
        branches: Vec<(Expr, Vec<Stmt>)>,
        otherwise: Option<Vec<Stmt>>,
    },
    While {
        cond: Expr,
        body: Vec<Stmt>,
    },
    ForRange {
        var: Param,
        start: Expr,
        end: Expr,
        inclusive: bool,
        body: Vec<Stmt>,
    },
    ForIn {
        first: Param,
        second: Option<Param>,
        iter: Expr,
        body: Vec<Stmt>,
    },
    Break,
    Continue,
    Return(Option<Expr>),
    Yield,
    Block(Vec<Stmt>),
}
