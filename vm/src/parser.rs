//! Parser: tokens to the syntax tree, by recursive descent with precedence
//! levels.
//!
//! Recursion is bounded: every construct that nests (parentheses, blocks,
//! unary operators, literals, calls, function bodies) counts against
//! `MAX_NESTING`, and every node's height against `MAX_HEIGHT`, so no input
//! can overflow the Rust stack here or in the compiler. (The tree is freed
//! with its arena, not node by node, so dropping it does not recurse.)

use bumpalo::collections::Vec as ArenaVec;

use crate::ast::*;
use crate::error::CompileError;
use crate::lexer::{Lexer, Tok, Token};

/// How deeply constructs may nest in source.
pub const MAX_NESTING: u32 = 200;
/// How tall a statement's tree may grow (long operator chains count too).
pub const MAX_HEIGHT: u32 = 512;

pub struct Program<'a> {
    pub body: &'a [Stmt<'a>],
    /// One past the highest `DeclId` handed out.
    pub decl_count: u32,
}

/// Parses a whole script into a tree in `arena`.
pub fn parse<'a>(
    script: &'a str,
    source: &'a str,
    arena: &'a Arena,
) -> Result<Program<'a>, CompileError> {
    let mut p = Parser::new(script, source, arena);
    while p.peek() != &Tok::Eof {
        let s = p.top_statement()?;
        p.stmts.push(s);
    }
    p.finish()
}

/// Parses one REPL line: like a script, but a final expression without `;`
/// is allowed (returned separately so the REPL can print its value).
pub fn parse_repl<'a>(
    script: &'a str,
    source: &'a str,
    arena: &'a Arena,
) -> Result<(Program<'a>, Option<Expr<'a>>), CompileError> {
    let mut p = Parser::new(script, source, arena);
    let mut tail = None;
    while p.peek() != &Tok::Eof {
        let named_fn = p.peek() == &Tok::Fn && matches!(p.peek_at_next(), Tok::Ident(_));
        if !starts_statement(p.peek()) && !named_fn {
            // A final expression without `;` is the entry's value; anything
            // else is parsed again as a statement (for its own errors), from
            // the place the attempt started.
            let saved = p.place();
            if let Ok(expr) = p.expression()
                && p.peek() == &Tok::Eof
                && p.tokens.lex_error.is_none()
            {
                tail = Some(expr);
                break;
            }
            p.restore(saved);
        }
        let s = p.top_statement()?;
        p.stmts.push(s);
    }
    Ok((p.finish()?, tail))
}

fn starts_statement(tok: &Tok) -> bool {
    matches!(
        tok,
        Tok::Let
            | Tok::If
            | Tok::While
            | Tok::For
            | Tok::Break
            | Tok::Continue
            | Tok::Return
            | Tok::Yield
            | Tok::LBrace
    )
}

struct Parser<'a> {
    tokens: Tokens<'a>,
    depth: u32,
    next_decl: DeclId,
    script: &'a str,
    /// Where the tree is built.
    arena: &'a Arena,
    /// The expressions of the lists and the statements of the blocks being
    /// parsed, innermost last: each list is gathered here, then copied to
    /// the arena in one piece when it is complete.
    exprs: Vec<Expr<'a>>,
    stmts: Vec<Stmt<'a>>,
}

/// Where the parse stands in the source. A copy of it is a place to go
/// back to: the REPL parses an entry twice when it is not an expression
/// (`Parser::place`).
#[derive(Clone)]
struct Tokens<'a> {
    lexer: Lexer<'a>,
    /// The current token, and the one after it once peeked at.
    cur: Token<'a>,
    next: Option<Token<'a>>,
    /// Where the last consumed token started.
    prev: Pos,
    /// A lexing error met while reading ahead. The parser sees the end of
    /// input there; whichever error comes first in the source is reported.
    lex_error: Option<CompileError>,
}

type PResult<T> = Result<T, CompileError>;

/// Moves what a scratch stack (`Parser::exprs`, `Parser::stmts`) gathered
/// from `start` on into the arena, and cuts the stack back to `start`.
fn take_gathered<'a, T: Copy>(arena: &'a Arena, stack: &mut Vec<T>, start: usize) -> &'a [T] {
    let items = arena.alloc_slice_copy(&stack[start..]);
    stack.truncate(start);
    items
}

/// How tightly operators bind, loosest first (`Parser::binary`).
mod level {
    pub const OR: u8 = 1;
    pub const AND: u8 = 2;
    /// The prefix `not`.
    pub const NOT: u8 = 3;
    pub const COMPARE: u8 = 4;
    /// The bitwise operators bind as in Rust: tighter than comparisons
    /// (`flags & MASK == 0` is `(flags & MASK) == 0`), looser than `+`.
    pub const BIT_OR: u8 = 5;
    pub const BIT_XOR: u8 = 6;
    pub const BIT_AND: u8 = 7;
    pub const SHIFT: u8 = 8;
    pub const ADD: u8 = 9;
    pub const MUL: u8 = 10;
}

/// A binary operator: `or` and `and` make their own nodes.
#[derive(Clone, Copy)]
enum Infix {
    Or,
    And,
    Op(BinOp),
}

impl<'a> Parser<'a> {
    fn new(script: &'a str, source: &'a str, arena: &'a Arena) -> Parser<'a> {
        let mut p = Parser {
            tokens: Tokens {
                lexer: Lexer::new(script, source, arena),
                cur: Token {
                    tok: Tok::Eof,
                    line: 1,
                    col: 1,
                },
                next: None,
                prev: Pos::default(),
                lex_error: None,
            },
            depth: 0,
            next_decl: 0,
            script,
            arena,
            exprs: Vec::new(),
            stmts: Vec::new(),
        };
        p.tokens.cur = p.pull();
        p
    }

    fn place(&self) -> Tokens<'a> {
        self.tokens.clone()
    }

    /// Goes back to `place`, at the top level (where no list or block is
    /// being gathered).
    fn restore(&mut self, place: Tokens<'a>) {
        self.tokens = place;
        self.depth = 0;
        self.exprs.clear();
    }

    /// A statement at the top level. When it fails, the error reported is
    /// the first in the source: a lexing error met earlier wins.
    fn top_statement(&mut self) -> PResult<Stmt<'a>> {
        self.statement()
            .map_err(|parse| match self.tokens.lex_error.take() {
                Some(lex) if (lex.line, lex.col) <= (parse.line, parse.col) => lex,
                _ => parse,
            })
    }

    /// The parsed program (the top-level statements gathered in `stmts`),
    /// unless a lexing error was met after its last statement.
    fn finish(self) -> PResult<Program<'a>> {
        match self.tokens.lex_error {
            Some(e) => Err(e),
            None => Ok(Program {
                body: self.arena.alloc_slice_copy(&self.stmts),
                decl_count: self.next_decl,
            }),
        }
    }

    /// The next token from the lexer; after a lexing error, the end of
    /// input.
    fn pull(&mut self) -> Token<'a> {
        if self.tokens.lex_error.is_none() {
            match self.tokens.lexer.next_token() {
                Ok(token) => return token,
                Err(e) => self.tokens.lex_error = Some(e),
            }
        }
        let at = self
            .tokens
            .lex_error
            .as_ref()
            .map_or((1, 1), |e| (e.line, e.col));
        Token {
            tok: Tok::Eof,
            line: at.0,
            col: at.1,
        }
    }
}

impl<'a> Parser<'a> {
    // ---- token helpers ----

    fn peek(&self) -> &Tok<'a> {
        &self.tokens.cur.tok
    }

    /// The token after the current one.
    fn peek_at_next(&mut self) -> &Tok<'a> {
        if self.tokens.next.is_none() {
            let token = self.pull();
            self.tokens.next = Some(token);
        }
        &self.tokens.next.as_ref().expect("filled above").tok
    }

    fn here(&self) -> Pos {
        Pos {
            line: self.tokens.cur.line,
            col: self.tokens.cur.col,
        }
    }

    /// Consumes the current token and returns it (at the end of input,
    /// `Tok::Eof` again).
    fn advance(&mut self) -> Tok<'a> {
        let following = match self.tokens.next.take() {
            Some(token) => token,
            None => self.pull(),
        };
        let token = std::mem::replace(&mut self.tokens.cur, following);
        self.tokens.prev = Pos {
            line: token.line,
            col: token.col,
        };
        token.tok
    }

    /// Puts back the token `advance` just returned.
    fn put_back(&mut self, tok: Tok<'a>, at: Pos) {
        let following = std::mem::replace(
            &mut self.tokens.cur,
            Token {
                tok,
                line: at.line,
                col: at.col,
            },
        );
        self.tokens.next = Some(following);
    }

    fn eat(&mut self, tok: &Tok<'_>) -> bool {
        if self.peek() == tok {
            self.advance();
            true
        } else {
            false
        }
    }

    fn error_here(&self, message: impl Into<String>) -> CompileError {
        let pos = self.here();
        CompileError::new(self.script, pos.line, pos.col, message)
    }

    fn error_at(&self, pos: Pos, message: impl Into<String>) -> CompileError {
        CompileError::new(self.script, pos.line, pos.col, message)
    }

    fn expect(&mut self, tok: Tok<'_>, what: &str) -> PResult<()> {
        if self.eat(&tok) {
            Ok(())
        } else {
            Err(self.error_here(format!("expected {what}, found {}", self.peek().describe())))
        }
    }

    fn ident(&mut self, what: &str) -> PResult<Name<'a>> {
        if !matches!(self.peek(), Tok::Ident(_)) {
            let found = self.peek().describe();
            return Err(self.error_here(format!("expected {what}, found {found}")));
        }
        match self.advance() {
            Tok::Ident(name) => Ok(name),
            _ => unreachable!("checked above"),
        }
    }

    fn new_decl(&mut self) -> DeclId {
        let id = self.next_decl;
        self.next_decl += 1;
        id
    }

    /// Enters one level of nesting.
    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(self.error_here(format!(
                "nesting too deep (the limit is {MAX_NESTING} levels)"
            )));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    fn expr(&self, kind: ExprKind<'a>, pos: Pos) -> PResult<Expr<'a>> {
        let e = Expr::new(kind, pos);
        if e.height > MAX_HEIGHT {
            return Err(self.error_at(pos, "expression too complex (nesting too deep)"));
        }
        Ok(e)
    }

    fn stmt(&self, kind: StmtKind<'a>, pos: Pos) -> PResult<Stmt<'a>> {
        let s = Stmt::new(kind, pos);
        if s.height > MAX_HEIGHT {
            return Err(self.error_at(pos, "statement too complex (nesting too deep)"));
        }
        Ok(s)
    }

    // ---- statements ----

    /// `let [a, b, c] = init;`
    fn let_list(&mut self) -> PResult<StmtKind<'a>> {
        self.advance();
        self.advance();
        let mut names = ArenaVec::new_in(self.arena);
        loop {
            let pos = self.here();
            let name = self.ident("a variable name in 'let [...]'")?;
            if names.iter().any(|&(n, _)| n == name) {
                return Err(self.error_at(pos, format!("'{name}' is named twice in 'let [...]'")));
            }
            names.push((name, self.new_decl()));
            if !self.eat(&Tok::Comma) || self.peek() == &Tok::RBracket {
                break;
            }
        }
        self.expect(Tok::RBracket, "']' after the names")?;
        self.expect(Tok::Assign, "'=' after 'let [...]' (the list to unpack)")?;
        let init = self.expression_in_arena()?;
        self.expect(Tok::Semi, "';' after the declaration")?;
        Ok(StmtKind::LetList {
            names: names.into_bump_slice(),
            init,
        })
    }

    fn block(&mut self) -> PResult<&'a [Stmt<'a>]> {
        self.expect(Tok::LBrace, "'{'")?;
        self.enter()?;
        let start = self.stmts.len();
        while !matches!(self.peek(), Tok::RBrace | Tok::Eof) {
            match self.statement() {
                Ok(s) => self.stmts.push(s),
                Err(e) => {
                    self.stmts.truncate(start);
                    return Err(e);
                }
            }
        }
        let body = take_gathered(self.arena, &mut self.stmts, start);
        self.expect(Tok::RBrace, "'}'")?;
        self.leave();
        Ok(body)
    }

    fn statement(&mut self) -> PResult<Stmt<'a>> {
        let pos = self.here();
        let named_fn = self.peek() == &Tok::Fn && matches!(self.peek_at_next(), Tok::Ident(_));
        let let_list = self.peek() == &Tok::Let && self.peek_at_next() == &Tok::LBracket;
        let kind = match self.peek() {
            Tok::Let if let_list => self.let_list()?,
            Tok::Let => {
                self.advance();
                let name = self.ident("a variable name after 'let'")?;
                let decl = self.new_decl();
                let init = if self.eat(&Tok::Assign) {
                    Some(self.expression_in_arena()?)
                } else {
                    None
                };
                self.expect(Tok::Semi, "';' after the declaration")?;
                StmtKind::Let { name, decl, init }
            }
            Tok::Fn if named_fn => {
                self.advance();
                let name = self.ident("a function name")?;
                let decl = self.new_decl();
                StmtKind::Fn(self.arena.alloc(self.function(Some(name), decl, pos)?))
            }
            Tok::If => return self.if_statement(),
            Tok::While => {
                self.advance();
                let cond = self.expression_in_arena()?;
                let body = self.block()?;
                StmtKind::While { cond, body }
            }
            Tok::For => return self.for_statement(),
            Tok::Break => {
                self.advance();
                self.expect(Tok::Semi, "';' after 'break'")?;
                StmtKind::Break
            }
            Tok::Continue => {
                self.advance();
                self.expect(Tok::Semi, "';' after 'continue'")?;
                StmtKind::Continue
            }
            Tok::Return => {
                self.advance();
                let value = if self.peek() == &Tok::Semi {
                    None
                } else {
                    Some(self.expression_in_arena()?)
                };
                self.expect(Tok::Semi, "';' after the return value")?;
                StmtKind::Return(value)
            }
            Tok::Yield => {
                self.advance();
                self.expect(Tok::Semi, "';' after 'yield'")?;
                StmtKind::Yield
            }
            Tok::LBrace => StmtKind::Block(self.block()?),
            _ => return self.expression_statement(),
        };
        self.stmt(kind, pos)
    }

    fn if_statement(&mut self) -> PResult<Stmt<'a>> {
        let pos = self.here();
        self.advance(); // if
        let mut branches = ArenaVec::new_in(self.arena);
        let cond = self.expression()?;
        branches.push((cond, self.block()?));
        let mut otherwise = None;
        while self.eat(&Tok::Else) {
            if self.eat(&Tok::If) {
                let cond = self.expression()?;
                branches.push((cond, self.block()?));
            } else {
                otherwise = Some(self.block()?);
                break;
            }
        }
        self.stmt(
            StmtKind::If {
                branches: branches.into_bump_slice(),
                otherwise,
            },
            pos,
        )
    }

    fn for_statement(&mut self) -> PResult<Stmt<'a>> {
        let pos = self.here();
        self.advance(); // for
        let first = Param {
            name: self.ident("a loop variable name")?,
            decl: self.new_decl(),
        };
        let second = if self.eat(&Tok::Comma) {
            Some(Param {
                name: self.ident("a second loop variable name")?,
                decl: self.new_decl(),
            })
        } else {
            None
        };
        self.expect(Tok::In, "'in'")?;
        let iter = self.expression_in_arena()?;
        let range = match self.peek() {
            Tok::DotDot => Some(false),
            Tok::DotDotEq => Some(true),
            _ => None,
        };
        let kind = if let Some(inclusive) = range {
            if second.is_some() {
                return Err(self.error_at(pos, "a range loop has one loop variable"));
            }
            self.advance();
            let end = self.expression_in_arena()?;
            let body = self.block()?;
            StmtKind::ForRange {
                var: first,
                start: iter,
                end,
                inclusive,
                body,
            }
        } else {
            let body = self.block()?;
            StmtKind::ForIn {
                first,
                second,
                iter,
                body,
            }
        };
        self.stmt(kind, pos)
    }

    fn expression_statement(&mut self) -> PResult<Stmt<'a>> {
        let pos = self.here();
        let target = self.expression_in_arena()?;
        let op = match self.peek() {
            Tok::Assign => Some(None),
            Tok::PlusAssign => Some(Some(BinOp::Add)),
            Tok::MinusAssign => Some(Some(BinOp::Sub)),
            Tok::StarAssign => Some(Some(BinOp::Mul)),
            Tok::SlashAssign => Some(Some(BinOp::Div)),
            Tok::PercentAssign => Some(Some(BinOp::Mod)),
            Tok::AmpAssign => Some(Some(BinOp::BitAnd)),
            Tok::PipeAssign => Some(Some(BinOp::BitOr)),
            Tok::CaretAssign => Some(Some(BinOp::BitXor)),
            Tok::ShlAssign => Some(Some(BinOp::Shl)),
            Tok::ShrAssign => Some(Some(BinOp::Shr)),
            _ => None,
        };
        let kind = if let Some(op) = op {
            let op_pos = self.here();
            self.advance();
            if !matches!(
                target.kind,
                ExprKind::Var(_) | ExprKind::Index(..) | ExprKind::Field(..)
            ) {
                return Err(self.error_at(op_pos, "invalid assignment target"));
            }
            let value = self.expression_in_arena()?;
            StmtKind::Assign { target, op, value }
        } else {
            StmtKind::Expr(target)
        };
        self.expect(Tok::Semi, "';' after the statement")?;
        self.stmt(kind, pos)
    }

    /// Parameters and body of a function; the `fn` keyword and name are read.
    fn function(
        &mut self,
        name: Option<Name<'a>>,
        decl: DeclId,
        pos: Pos,
    ) -> PResult<FuncDecl<'a>> {
        self.expect(Tok::LParen, "'(' before the parameters")?;
        let mut params = ArenaVec::new_in(self.arena);
        while self.peek() != &Tok::RParen {
            let name = self.ident("a parameter name")?;
            if params.iter().any(|p: &Param| p.name == name) {
                return Err(self.error_here(format!("duplicate parameter '{name}'")));
            }
            params.push(Param {
                name,
                decl: self.new_decl(),
            });
            if !self.eat(&Tok::Comma) {
                break;
            }
        }
        self.expect(Tok::RParen, "')' after the parameters")?;
        if params.len() > 200 {
            return Err(self.error_at(pos, "too many parameters (the limit is 200)"));
        }
        let body = self.block()?;
        let end = self.tokens.prev;
        let height = block_height(body) + 1;
        Ok(FuncDecl {
            name,
            decl,
            params: params.into_bump_slice(),
            body,
            pos,
            end,
            height,
        })
    }

    // ---- expressions, lowest precedence first ----

    pub fn expression(&mut self) -> PResult<Expr<'a>> {
        self.enter()?;
        let e = self.binary(level::OR);
        self.leave();
        e
    }

    /// An expression, moved into the arena (for a statement).
    fn expression_in_arena(&mut self) -> PResult<&'a Expr<'a>> {
        Ok(self.arena.alloc(self.expression()?))
    }

    /// The operator at the next token and how tightly it binds, if it is a
    /// binary one.
    fn infix(&self) -> Option<(u8, Infix)> {
        let op = |level, op| Some((level, Infix::Op(op)));
        match self.peek() {
            Tok::Or => Some((level::OR, Infix::Or)),
            Tok::And => Some((level::AND, Infix::And)),
            Tok::EqEq => op(level::COMPARE, BinOp::Eq),
            Tok::NotEq => op(level::COMPARE, BinOp::Ne),
            Tok::Lt => op(level::COMPARE, BinOp::Lt),
            Tok::Le => op(level::COMPARE, BinOp::Le),
            Tok::Gt => op(level::COMPARE, BinOp::Gt),
            Tok::Ge => op(level::COMPARE, BinOp::Ge),
            Tok::Pipe => op(level::BIT_OR, BinOp::BitOr),
            Tok::Caret => op(level::BIT_XOR, BinOp::BitXor),
            Tok::Amp => op(level::BIT_AND, BinOp::BitAnd),
            Tok::Shl => op(level::SHIFT, BinOp::Shl),
            Tok::Shr => op(level::SHIFT, BinOp::Shr),
            Tok::Plus => op(level::ADD, BinOp::Add),
            Tok::Minus => op(level::ADD, BinOp::Sub),
            Tok::Star => op(level::MUL, BinOp::Mul),
            Tok::Slash => op(level::MUL, BinOp::Div),
            Tok::Percent => op(level::MUL, BinOp::Mod),
            _ => None,
        }
    }

    /// An expression whose operators bind at least as tightly as `min`
    /// (`level`), by precedence climbing: one call per operand rather than
    /// one per precedence level. Operators of a level associate to the
    /// left, except comparisons, which do not chain; `not` binds looser
    /// than comparisons (`not a == b` is `not (a == b)`) and only where an
    /// operand of `and` or `or` may stand.
    fn binary(&mut self, min: u8) -> PResult<Expr<'a>> {
        let mut left = if min <= level::NOT && self.peek() == &Tok::Not {
            let pos = self.here();
            self.advance();
            self.enter()?;
            let operand = self.binary(level::NOT);
            self.leave();
            self.expr(ExprKind::Unary(UnOp::Not, self.arena.alloc(operand?)), pos)?
        } else {
            self.unary()?
        };
        while let Some((level, infix)) = self.infix() {
            if level < min {
                break;
            }
            let pos = self.here();
            self.advance();
            let right = self.binary(level + 1)?;
            let pair = self.arena.alloc((left, right));
            left = match infix {
                Infix::Or => self.expr(ExprKind::Or(pair), pos)?,
                Infix::And => self.expr(ExprKind::And(pair), pos)?,
                Infix::Op(op) => self.expr(ExprKind::Binary(op, pair), pos)?,
            };
            if level == level::COMPARE && self.infix().is_some_and(|(l, _)| l == level::COMPARE) {
                return Err(self
                    .error_here("comparison operators cannot be chained (write a < b and b < c)"));
            }
        }
        Ok(left)
    }

    fn unary(&mut self) -> PResult<Expr<'a>> {
        if self.peek() == &Tok::Minus {
            let pos = self.here();
            self.advance();
            self.enter()?;
            let operand = self.unary();
            self.leave();
            let operand = operand?;
            // Fold `-literal` so that constants stay constants.
            return match operand.kind {
                ExprKind::Int(i) => self.expr(ExprKind::Int(i.wrapping_neg()), pos),
                ExprKind::Float(f) => self.expr(ExprKind::Float(-f), pos),
                _ => self.expr(ExprKind::Unary(UnOp::Neg, self.arena.alloc(operand)), pos),
            };
        }
        if self.peek() == &Tok::Tilde {
            let pos = self.here();
            self.advance();
            self.enter()?;
            let operand = self.unary();
            self.leave();
            let operand = self.arena.alloc(operand?);
            return self.expr(ExprKind::Unary(UnOp::BitNot, operand), pos);
        }
        self.postfix()
    }

    /// Comma-separated expressions up to `close` (each `expression` counts
    /// one level of nesting).
    fn arguments(&mut self, close: Tok<'a>, what: &str) -> PResult<&'a [Expr<'a>]> {
        let start = self.exprs.len();
        while self.peek() != &close {
            match self.expression() {
                Ok(e) => self.exprs.push(e),
                Err(e) => {
                    self.exprs.truncate(start);
                    return Err(e);
                }
            }
            if !self.eat(&Tok::Comma) {
                break;
            }
        }
        let args = take_gathered(self.arena, &mut self.exprs, start);
        let is_call = close == Tok::RParen;
        self.expect(close, what)?;
        if args.len() > 200 && is_call {
            return Err(self.error_here("too many arguments (the limit is 200)"));
        }
        Ok(args)
    }

    fn postfix(&mut self) -> PResult<Expr<'a>> {
        let mut e = self.primary()?;
        loop {
            let pos = self.here();
            match self.peek() {
                Tok::LParen => {
                    self.advance();
                    let args = self.arguments(Tok::RParen, "')' after the arguments")?;
                    e = self.expr(ExprKind::Call(self.arena.alloc((e, args))), pos)?;
                }
                Tok::LBracket => {
                    self.advance();
                    let index = self.expression()?;
                    self.expect(Tok::RBracket, "']' after the index")?;
                    e = self.expr(ExprKind::Index(self.arena.alloc((e, index))), pos)?;
                }
                Tok::Dot => {
                    self.advance();
                    let name = self.ident("a field or method name after '.'")?;
                    if self.peek() == &Tok::LParen {
                        self.advance();
                        let args = self.arguments(Tok::RParen, "')' after the arguments")?;
                        e = self
                            .expr(ExprKind::MethodCall(self.arena.alloc((e, name, args))), pos)?;
                    } else {
                        e = self.expr(ExprKind::Field(self.arena.alloc(e), name), pos)?;
                    }
                }
                _ => return Ok(e),
            }
        }
    }

    fn primary(&mut self) -> PResult<Expr<'a>> {
        let pos = self.here();
        let kind = match self.advance() {
            Tok::Nil => ExprKind::Nil,
            Tok::True => ExprKind::Bool(true),
            Tok::False => ExprKind::Bool(false),
            Tok::Int(i) => ExprKind::Int(i),
            Tok::Float(f) => ExprKind::Float(f),
            Tok::Str(s) => ExprKind::Str(s),
            Tok::Ident(name) => ExprKind::Var(name),
            Tok::SelfKw => ExprKind::SelfRef,
            Tok::LParen => {
                let inner = self.expression()?;
                self.expect(Tok::RParen, "')'")?;
                return Ok(inner);
            }
            Tok::LBracket => ExprKind::List(self.arguments(Tok::RBracket, "']' after the list")?),
            Tok::LBrace => ExprKind::Map(self.map_entries()?),
            Tok::Fn => ExprKind::Func(self.arena.alloc(self.function(None, 0, pos)?)),
            other => {
                let message = format!("expected an expression, found {}", other.describe());
                // The error is at this token: put it back.
                self.put_back(other, pos);
                return Err(self.error_at(pos, message));
            }
        };
        self.expr(kind, pos)
    }

    fn map_entries(&mut self) -> PResult<&'a [(Expr<'a>, Expr<'a>)]> {
        let mut entries = ArenaVec::new_in(self.arena);
        while self.peek() != &Tok::RBrace {
            let pos = self.here();
            let key = match self.advance() {
                Tok::Ident(name) => self.expr(ExprKind::Str(name), pos)?,
                Tok::Str(s) => self.expr(ExprKind::Str(s), pos)?,
                Tok::LBracket => {
                    let k = self.expression()?;
                    self.expect(Tok::RBracket, "']' after the computed key")?;
                    k
                }
                other => {
                    return Err(self.error_at(
                        pos,
                        format!(
                            "expected a map key (a name, a string or [expression]), found {}",
                            other.describe()
                        ),
                    ));
                }
            };
            self.expect(Tok::Colon, "':' after the map key")?;
            let value = self.expression()?;
            entries.push((key, value));
            if !self.eat(&Tok::Comma) {
                break;
            }
        }
        self.expect(Tok::RBrace, "'}' after the map")?;
        Ok(entries.into_bump_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lengths of the lists in `e`, outermost first.
    fn list_lengths(e: &Expr, out: &mut Vec<usize>) {
        match e.kind {
            ExprKind::List(items) => {
                out.push(items.len());
                items.iter().for_each(|x| list_lengths(x, out));
            }
            ExprKind::Index((obj, key)) => {
                list_lengths(obj, out);
                list_lengths(key, out);
            }
            ExprKind::Call((callee, args)) => {
                list_lengths(callee, out);
                args.iter().for_each(|x| list_lengths(x, out));
            }
            _ => {}
        }
    }

    #[test]
    fn nested_lists_and_blocks_keep_their_own_items() {
        let arena = Arena::new();
        let source = "let a = [1, [2, 3, f([4], [5, 6, 7])], 8];\n\
                      { let b = [9]; { let c = [10, 11]; } let d = [12, 13, 14]; }";
        let program = parse("t.ark", source, &arena).unwrap();
        assert_eq!(program.body.len(), 2);
        let StmtKind::Let { init: Some(a), .. } = program.body[0].kind else {
            panic!("a let");
        };
        let mut lengths = Vec::new();
        list_lengths(a, &mut lengths);
        assert_eq!(lengths, [3, 3, 1, 3]);
        let StmtKind::Block(outer) = program.body[1].kind else {
            panic!("a block");
        };
        assert_eq!(outer.len(), 3);
        assert!(matches!(outer[1].kind, StmtKind::Block(inner) if inner.len() == 1));
    }

    #[test]
    fn a_repl_entry_parsed_again_as_a_statement_keeps_its_lists() {
        // The entry is first tried as an expression, which stops at `=`;
        // its lists are then parsed again, as an assignment's.
        let arena = Arena::new();
        let (program, tail) =
            parse_repl("<repl>", "x[[1, 2][0]] = [3, [4, 5], 6];", &arena).unwrap();
        assert!(tail.is_none());
        let StmtKind::Assign { target, value, .. } = program.body[0].kind else {
            panic!("an assignment");
        };
        let (mut in_target, mut in_value) = (Vec::new(), Vec::new());
        list_lengths(target, &mut in_target);
        list_lengths(value, &mut in_value);
        assert_eq!((in_target, in_value), (vec![2], vec![3, 2]));
    }
}
