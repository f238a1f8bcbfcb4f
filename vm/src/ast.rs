//! The syntax tree that the parser builds and the compiler reads.
//!
//! Every node carries its line and column. Declarations (locals, parameters,
//! loop variables, named functions) carry a `DeclId`, unique in the file, so
//! the resolver can tell the compiler which of them closures capture.
//!
//! The tree lives in one arena (`bumpalo::Bump`) for the length of a
//! compile: a node is a bump of a pointer, not a `malloc`, and the tree is
//! freed with the arena, not node by node. Nothing in it needs dropping:
//! children are references and slices into the arena, and names are slices
//! of the source.

/// The arena a tree is built in (`parser::parse`); strings with escapes
/// are written out there too (`lexer::Lexer`).
pub use bumpalo::Bump as Arena;

/// Identifies one declaration in a file.
pub type DeclId = u32;

/// An identifier: its text in the source (the arena's lifetime is the
/// source's).
pub type Name<'a> = &'a str;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

#[derive(Clone, Copy, Debug)]
pub struct Expr<'a> {
    pub kind: ExprKind<'a>,
    pub pos: Pos,
    /// Depth of the tree below this node (1 for a leaf). The parser bounds
    /// it so that the compiler's recursion stays shallow.
    pub height: u32,
}

impl<'a> Expr<'a> {
    /// Builds a node, computing its height from its children.
    pub fn new(kind: ExprKind<'a>, pos: Pos) -> Expr<'a> {
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
            ExprKind::Call((f, args)) | ExprKind::MethodCall((f, _, args)) => h(f).max(hs(args)),
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
    /// `~x`: the bits of an int flipped.
    BitNot,
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
    BitAnd,
    BitOr,
    BitXor,
    Shl,
    Shr,
}

impl BinOp {
    /// `&`, `|`, `^`, `<<` and `>>`: ints only, one instruction
    /// (`Op::Bitwise`).
    pub fn bitwise(self) -> Option<crate::bytecode::BitOp> {
        use crate::bytecode::BitOp;
        Some(match self {
            BinOp::BitAnd => BitOp::And,
            BinOp::BitOr => BitOp::Or,
            BinOp::BitXor => BitOp::Xor,
            BinOp::Shl => BitOp::Shl,
            BinOp::Shr => BitOp::Shr,
            _ => return None,
        })
    }

    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge
        )
    }
}

#[derive(Clone, Copy, Debug)]
pub enum ExprKind<'a> {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// The string's value, escapes resolved.
    Str(&'a str),
    Var(Name<'a>),
    SelfRef,
    List(&'a [Expr<'a>]),
    Map(&'a [(Expr<'a>, Expr<'a>)]),
    Unary(UnOp, &'a Expr<'a>),
    // Two operands share one allocation.
    Binary(BinOp, &'a (Expr<'a>, Expr<'a>)),
    And(&'a (Expr<'a>, Expr<'a>)),
    Or(&'a (Expr<'a>, Expr<'a>)),
    // Calls keep their parts in the arena, so that a node stays 48 bytes.
    /// The callee and the arguments.
    Call(&'a (Expr<'a>, &'a [Expr<'a>])),
    /// The receiver, the method's name and the arguments.
    MethodCall(&'a (Expr<'a>, Name<'a>, &'a [Expr<'a>])),
    Index(&'a (Expr<'a>, Expr<'a>)),
    Field(&'a Expr<'a>, Name<'a>),
    Func(&'a FuncDecl<'a>),
}

impl ExprKind<'_> {
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

#[derive(Clone, Copy, Debug)]
pub struct Param<'a> {
    pub name: Name<'a>,
    pub decl: DeclId,
}

#[derive(Clone, Copy, Debug)]
pub struct FuncDecl<'a> {
    /// `None` for an anonymous function.
    pub name: Option<Name<'a>>,
    /// The declaration of the name, for a named function.
    pub decl: DeclId,
    pub params: &'a [Param<'a>],
    pub body: &'a [Stmt<'a>],
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

#[derive(Clone, Copy, Debug)]
pub struct Stmt<'a> {
    pub kind: StmtKind<'a>,
    pub pos: Pos,
    /// Depth of the tree below this statement, expressions and nested
    /// blocks and functions included.
    pub height: u32,
}

impl<'a> Stmt<'a> {
    /// Builds a statement, computing its height from what it contains.
    pub fn new(kind: StmtKind<'a>, pos: Pos) -> Stmt<'a> {
        let e = |e: &Expr| e.height;
        let below = match &kind {
            StmtKind::Let { init, .. } => init.map_or(0, e),
            StmtKind::LetList { init, .. } => e(init),
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
                .max(otherwise.map_or(0, block_height)),
            StmtKind::While { cond, body } => e(cond).max(block_height(body)),
            StmtKind::ForRange {
                start, end, body, ..
            } => e(start).max(e(end)).max(block_height(body)),
            StmtKind::ForIn { iter, body, .. } => e(iter).max(block_height(body)),
            StmtKind::Return(x) => x.map_or(0, e),
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

#[derive(Clone, Copy, Debug)]
/// A statement's expressions are references into the arena (like a
/// node's children), so that a statement stays small.
pub enum StmtKind<'a> {
    Let {
        name: Name<'a>,
        decl: DeclId,
        init: Option<&'a Expr<'a>>,
    },
    /// `let [a, b] = init;`: one new variable per item of a list.
    LetList {
        names: &'a [(Name<'a>, DeclId)],
        init: &'a Expr<'a>,
    },
    Fn(&'a FuncDecl<'a>),
    Assign {
        target: &'a Expr<'a>,
        op: Option<BinOp>,
        value: &'a Expr<'a>,
    },
    Expr(&'a Expr<'a>),
    /// `if c1 {..} else if c2 {..} else {..}`: the chain stays flat.
    If {
        branches: &'a [(Expr<'a>, &'a [Stmt<'a>])],
        otherwise: Option<&'a [Stmt<'a>]>,
    },
    While {
        cond: &'a Expr<'a>,
        body: &'a [Stmt<'a>],
    },
    ForRange {
        var: Param<'a>,
        start: &'a Expr<'a>,
        end: &'a Expr<'a>,
        inclusive: bool,
        body: &'a [Stmt<'a>],
    },
    ForIn {
        first: Param<'a>,
        second: Option<Param<'a>>,
        iter: &'a Expr<'a>,
        body: &'a [Stmt<'a>],
    },
    Break,
    Continue,
    Return(Option<&'a Expr<'a>>),
    Yield,
    Block(&'a [Stmt<'a>]),
}
