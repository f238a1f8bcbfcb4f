//! Lexer: source text to tokens, each with its line and column.

use crate::ast::{Arena, Name};
use crate::error::CompileError;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Tok<'a> {
    Int(i64),
    Float(f64),
    /// The string's value: a slice of the source, or of the arena when
    /// escapes had to be resolved.
    Str(&'a str),
    Ident(Name<'a>),
    // keywords
    Let,
    Fn,
    Return,
    If,
    Else,
    While,
    For,
    In,
    Break,
    Continue,
    True,
    False,
    Nil,
    And,
    Or,
    Not,
    Yield,
    SelfKw,
    // punctuation
    LParen,
    RParen,
    LBrace,
    RBrace,
    LBracket,
    RBracket,
    Comma,
    Dot,
    DotDot,
    DotDotEq,
    Colon,
    Semi,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Assign,
    PlusAssign,
    MinusAssign,
    StarAssign,
    SlashAssign,
    PercentAssign,
    Amp,
    Pipe,
    Caret,
    Tilde,
    Shl,
    Shr,
    AmpAssign,
    PipeAssign,
    CaretAssign,
    ShlAssign,
    ShrAssign,
    EqEq,
    NotEq,
    Lt,
    Le,
    Gt,
    Ge,
    Eof,
}

impl Tok<'_> {
    /// How the token reads in an error message.
    pub fn describe(&self) -> String {
        match self {
            Tok::Int(i) => format!("'{i}'"),
            Tok::Float(f) => format!("'{f:?}'"),
            Tok::Str(_) => "string".into(),
            Tok::Ident(name) => format!("'{name}'"),
            Tok::Eof => "end of file".into(),
            other => format!("'{}'", other.text()),
        }
    }

    fn text(&self) -> &'static str {
        match self {
            Tok::Let => "let",
            Tok::Fn => "fn",
            Tok::Return => "return",
            Tok::If => "if",
            Tok::Else => "else",
            Tok::While => "while",
            Tok::For => "for",
            Tok::In => "in",
            Tok::Break => "break",
            Tok::Continue => "continue",
            Tok::True => "true",
            Tok::False => "false",
            Tok::Nil => "nil",
            Tok::And => "and",
            Tok::Or => "or",
            Tok::Not => "not",
            Tok::Yield => "yield",
            Tok::SelfKw => "self",
            Tok::LParen => "(",
            Tok::RParen => ")",
            Tok::LBrace => "{",
            Tok::RBrace => "}",
            Tok::LBracket => "[",
            Tok::RBracket => "]",
            Tok::Comma => ",",
            Tok::Dot => ".",
            Tok::DotDot => "..",
            Tok::DotDotEq => "..=",
            Tok::Colon => ":",
            Tok::Semi => ";",
            Tok::Plus => "+",
            Tok::Minus => "-",
            Tok::Star => "*",
            Tok::Slash => "/",
            Tok::Percent => "%",
            Tok::Assign => "=",
            Tok::PlusAssign => "+=",
            Tok::MinusAssign => "-=",
            Tok::StarAssign => "*=",
            Tok::SlashAssign => "/=",
            Tok::PercentAssign => "%=",
            Tok::Amp => "&",
            Tok::Pipe => "|",
            Tok::Caret => "^",
            Tok::Tilde => "~",
            Tok::Shl => "<<",
            Tok::Shr => ">>",
            Tok::AmpAssign => "&=",
            Tok::PipeAssign => "|=",
            Tok::CaretAssign => "^=",
            Tok::ShlAssign => "<<=",
            Tok::ShrAssign => ">>=",
            Tok::EqEq => "==",
            Tok::NotEq => "!=",
            Tok::Lt => "<",
            Tok::Le => "<=",
            Tok::Gt => ">",
            Tok::Ge => ">=",
            Tok::Int(_) | Tok::Float(_) | Tok::Str(_) | Tok::Ident(_) | Tok::Eof => "",
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Token<'a> {
    pub tok: Tok<'a>,
    pub line: u32,
    pub col: u32,
}

/// The bytes that may continue an identifier: ASCII letters, digits and `_`.
const WORD: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || c == b'_';
        b += 1;
    }
    table
};

fn keyword(word: &str) -> Option<Tok<'static>> {
    Some(match word {
        "let" => Tok::Let,
        "fn" => Tok::Fn,
        "return" => Tok::Return,
        "if" => Tok::If,
        "else" => Tok::Else,
        "while" => Tok::While,
        "for" => Tok::For,
        "in" => Tok::In,
        "break" => Tok::Break,
        "continue" => Tok::Continue,
        "true" => Tok::True,
        "false" => Tok::False,
        "nil" => Tok::Nil,
        "and" => Tok::And,
        "or" => Tok::Or,
        "not" => Tok::Not,
        "yield" => Tok::Yield,
        "self" => Tok::SelfKw,
        _ => return None,
    })
}

/// Splits source into tokens one at a time, on demand: the parser pulls
/// them, so no token list is built. Cloning it saves its place (the REPL
/// parses an entry twice when it is not an expression).
#[derive(Clone)]
pub struct Lexer<'a> {
    src: &'a [u8],
    text: &'a str,
    pos: usize,
    line: u32,
    /// Byte offset where the current line starts (for columns).
    line_start: usize,
    /// Column cache: `col_at` is the column of byte offset `col_pos`, so
    /// columns are counted incrementally, not from the line start each time.
    col_pos: usize,
    col_at: u32,
    /// An all-ASCII source (most are) has one character per byte, so a
    /// column is just an offset from the line start.
    ascii: bool,
    script: &'a str,
    number_text: String,
    /// Where strings with escapes are written out.
    arena: &'a Arena,
}

/// Splits `source` into tokens, ending with `Tok::Eof`.
pub fn tokenize<'a>(
    script: &'a str,
    source: &'a str,
    arena: &'a Arena,
) -> Result<Vec<Token<'a>>, CompileError> {
    let mut lx = Lexer::new(script, source, arena);
    let mut out = Vec::new();
    loop {
        let token = lx.next_token()?;
        let end = token.tok == Tok::Eof;
        out.push(token);
        if end {
            return Ok(out);
        }
    }
}

impl<'a> Lexer<'a> {
    pub fn new(script: &'a str, source: &'a str, arena: &'a Arena) -> Lexer<'a> {
        Lexer {
            src: source.as_bytes(),
            text: source,
            pos: 0,
            line: 1,
            line_start: 0,
            col_pos: 0,
            col_at: 1,
            ascii: source.is_ascii(),
            script,
            number_text: String::new(),
            arena,
        }
    }

    /// The next token; at the end of the source, `Tok::Eof` (again on
    /// every later call).
    pub fn next_token(&mut self) -> Result<Token<'a>, CompileError> {
        self.skip_trivia()?;
        let (line, col) = (self.line, self.col());
        let tok = match self.src.get(self.pos) {
            Some(&c) => self.token(c, line, col)?,
            None => Tok::Eof,
        };
        Ok(Token { tok, line, col })
    }

    /// The column of the current position; columns count characters.
    fn col(&mut self) -> u32 {
        if self.ascii {
            return (self.pos - self.line_start) as u32 + 1;
        }
        if self.col_pos < self.line_start || self.col_pos > self.pos {
            self.col_pos = self.line_start;
            self.col_at = 1;
        }
        // Characters are the bytes that do not continue a UTF-8 sequence.
        let chars = self.src[self.col_pos..self.pos]
            .iter()
            .filter(|&&b| (b as i8) >= -0x40)
            .count();
        self.col_at += chars as u32;
        self.col_pos = self.pos;
        self.col_at
    }

    #[cold]
    fn error(&self, line: u32, col: u32, message: impl Into<String>) -> CompileError {
        CompileError::new(self.script, line, col, message)
    }

    fn peek(&self, ahead: usize) -> u8 {
        self.src.get(self.pos + ahead).copied().unwrap_or(0)
    }

    fn newline(&mut self) {
        self.line += 1;
        self.line_start = self.pos;
    }

    fn skip_trivia(&mut self) -> Result<(), CompileError> {
        loop {
            match self.peek(0) {
                b'\n' => {
                    self.pos += 1;
                    self.newline();
                }
                b' ' | b'\t' | b'\r' => self.pos += 1,
                b'/' if self.peek(1) == b'/' => {
                    while self.pos < self.src.len() && self.src[self.pos] != b'\n' {
                        self.pos += 1;
                    }
                }
                b'/' if self.peek(1) == b'*' => self.block_comment()?,
                _ => return Ok(()),
            }
        }
    }

    /// Skips a block comment; they nest (counted, not recursed).
    // Numbers, strings and comments are scanned out of line, so that the
    // common tokens (names and punctuation) take a lean path.
    #[inline(never)]
    fn block_comment(&mut self) -> Result<(), CompileError> {
        let (line, col) = (self.line, self.col());
        self.pos += 2;
        let mut depth = 1usize;
        while depth > 0 {
            match self.peek(0) {
                0 if self.pos >= self.src.len() => {
                    return Err(self.error(line, col, "unterminated block comment"));
                }
                b'\n' => {
                    self.pos += 1;
                    self.newline();
                }
                b'/' if self.peek(1) == b'*' => {
                    depth += 1;
                    self.pos += 2;
                }
                b'*' if self.peek(1) == b'/' => {
                    depth -= 1;
                    self.pos += 2;
                }
                _ => self.pos += 1,
            }
        }
        Ok(())
    }

    /// The token starting with `c`, at `line` and `col`.
    fn token(&mut self, c: u8, line: u32, col: u32) -> Result<Tok<'a>, CompileError> {
        if c.is_ascii_digit() {
            return self.number(line, col);
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            let start = self.pos;
            let mut end = start + 1;
            while let Some(&b) = self.src.get(end)
                && WORD[b as usize]
            {
                end += 1;
            }
            self.pos = end;
            let word = &self.text[start..end];
            return Ok(keyword(word).unwrap_or(Tok::Ident(word)));
        }
        if c == b'"' {
            return self.string(line, col);
        }
        let two = |lx: &mut Self, next: u8, yes: Tok<'a>, no: Tok<'a>| {
            if lx.peek(1) == next {
                lx.pos += 2;
                yes
            } else {
                lx.pos += 1;
                no
            }
        };
        let tok = match c {
            b'(' => Tok::LParen,
            b')' => Tok::RParen,
            b'{' => Tok::LBrace,
            b'}' => Tok::RBrace,
            b'[' => Tok::LBracket,
            b']' => Tok::RBracket,
            b',' => Tok::Comma,
            b':' => Tok::Colon,
            b';' => Tok::Semi,
            b'.' => {
                if self.peek(1) == b'.' {
                    if self.peek(2) == b'=' {
                        self.pos += 3;
                        return Ok(Tok::DotDotEq);
                    }
                    self.pos += 2;
                    return Ok(Tok::DotDot);
                }
                if self.peek(1).is_ascii_digit() {
                    return Err(self.error(
                        line,
                        col,
                        "expected a digit before the '.' of a float literal (write 0.5); field names cannot start with a digit",
                    ));
                }
                Tok::Dot
            }
            b'+' => return Ok(two(self, b'=', Tok::PlusAssign, Tok::Plus)),
            b'-' => return Ok(two(self, b'=', Tok::MinusAssign, Tok::Minus)),
            b'*' => return Ok(two(self, b'=', Tok::StarAssign, Tok::Star)),
            b'/' => return Ok(two(self, b'=', Tok::SlashAssign, Tok::Slash)),
            b'%' => return Ok(two(self, b'=', Tok::PercentAssign, Tok::Percent)),
            b'=' => return Ok(two(self, b'=', Tok::EqEq, Tok::Assign)),
            b'&' => return Ok(two(self, b'=', Tok::AmpAssign, Tok::Amp)),
            b'|' => return Ok(two(self, b'=', Tok::PipeAssign, Tok::Pipe)),
            b'^' => return Ok(two(self, b'=', Tok::CaretAssign, Tok::Caret)),
            b'~' => {
                self.pos += 1;
                return Ok(Tok::Tilde);
            }
            b'<' if self.peek(1) == b'<' => {
                self.pos += 1;
                return Ok(two(self, b'=', Tok::ShlAssign, Tok::Shl));
            }
            b'>' if self.peek(1) == b'>' => {
                self.pos += 1;
                return Ok(two(self, b'=', Tok::ShrAssign, Tok::Shr));
            }
            b'<' => return Ok(two(self, b'=', Tok::Le, Tok::Lt)),
            b'>' => return Ok(two(self, b'=', Tok::Ge, Tok::Gt)),
            b'!' if self.peek(1) == b'=' => {
                self.pos += 2;
                return Ok(Tok::NotEq);
            }
            _ => {
                let ch = self.text[self.pos..].chars().next().unwrap_or('?');
                return Err(self.error(line, col, format!("unexpected character '{ch}'")));
            }
        };
        self.pos += 1;
        Ok(tok)
    }

    fn digits(&mut self, radix: u32, out: &mut String) {
        loop {
            let c = self.peek(0);
            if c == b'_' {
                self.pos += 1;
            } else if (c as char).is_digit(radix) {
                out.push(c as char);
                self.pos += 1;
            } else {
                return;
            }
        }
    }

    #[inline(never)]
    fn number(&mut self, line: u32, col: u32) -> Result<Tok<'a>, CompileError> {
        let too_large = |lx: &Self| lx.error(line, col, "integer literal too large");
        if self.peek(0) == b'0' && matches!(self.peek(1), b'x' | b'X' | b'b' | b'B') {
            let radix = if matches!(self.peek(1), b'x' | b'X') {
                16
            } else {
                2
            };
            self.pos += 2;
            let mut digits = String::new();
            self.digits(radix, &mut digits);
            if digits.is_empty() {
                return Err(self.error(line, col, "expected digits after the number prefix"));
            }
            self.reject_trailing_letters(line, col)?;
            return i64::from_str_radix(&digits, radix)
                .map(Tok::Int)
                .map_err(|_| too_large(self));
        }
        // The digits are gathered (without `_` separators) in a buffer the
        // lexer keeps, so that a number costs no allocation.
        let mut text = std::mem::take(&mut self.number_text);
        text.clear();
        self.digits(10, &mut text);
        let mut is_float = false;
        if self.peek(0) == b'.' && self.peek(1) != b'.' {
            if self.peek(1).is_ascii_digit() {
                is_float = true;
                self.pos += 1;
                text.push('.');
                self.digits(10, &mut text);
            } else if !(self.peek(1).is_ascii_alphabetic() || self.peek(1) == b'_') {
                // `5.` with nothing after it; `5.abs` is a field access.
                return Err(self.error(
                    line,
                    col,
                    "expected a digit after the '.' of a float literal (write 5.0)",
                ));
            }
        }
        if matches!(self.peek(0), b'e' | b'E') {
            let sign = matches!(self.peek(1), b'+' | b'-');
            let first_digit = if sign { self.peek(2) } else { self.peek(1) };
            if first_digit.is_ascii_digit() {
                is_float = true;
                text.push('e');
                if sign {
                    text.push(self.peek(1) as char);
                    self.pos += 1;
                }
                self.pos += 1;
                self.digits(10, &mut text);
            } else {
                return Err(self.error(line, col, "expected digits in the exponent"));
            }
        }
        self.reject_trailing_letters(line, col)?;
        let tok = if is_float {
            text.parse::<f64>()
                .map(Tok::Float)
                .map_err(|_| self.error(line, col, "invalid float literal"))
        } else {
            // Only digits were gathered: folded here, they cost a few
            // instructions each, where `str::parse` costs a hundred a number.
            text.bytes()
                .try_fold(0i64, |n, digit| {
                    n.checked_mul(10)?.checked_add(i64::from(digit - b'0'))
                })
                .map(Tok::Int)
                .ok_or_else(|| too_large(self))
        };
        self.number_text = text;
        tok
    }

    fn reject_trailing_letters(&self, line: u32, col: u32) -> Result<(), CompileError> {
        let c = self.peek(0);
        if c.is_ascii_alphanumeric() || c == b'_' {
            return Err(self.error(line, col, "invalid character in number literal"));
        }
        Ok(())
    }

    #[inline(never)]
    fn string(&mut self, line: u32, col: u32) -> Result<Tok<'a>, CompileError> {
        self.pos += 1; // opening quote
        // Most strings are one line without escapes: their value is their
        // text in the source.
        let start = self.pos;
        let rest = &self.src[start..];
        if let Some(len) = rest.iter().position(|&b| matches!(b, b'"' | b'\\' | b'\n'))
            && rest[len] == b'"'
        {
            self.pos += len + 1;
            return Ok(Tok::Str(&self.text[start..start + len]));
        }
        let mut out = String::new();
        loop {
            let Some(ch) = self.text[self.pos..].chars().next() else {
                return Err(self.error(line, col, "unterminated string"));
            };
            match ch {
                '"' => {
                    self.pos += 1;
                    return Ok(Tok::Str(self.arena.alloc_str(&out)));
                }
                '\\' => {
                    let (eline, ecol) = (self.line, self.col());
                    self.pos += 1;
                    let Some(esc) = self.text[self.pos..].chars().next() else {
                        return Err(self.error(line, col, "unterminated string"));
                    };
                    self.pos += esc.len_utf8();
                    out.push(match esc {
                        'n' => '\n',
                        't' => '\t',
                        'r' => '\r',
                        '0' => '\0',
                        '\\' => '\\',
                        '"' => '"',
                        'u' => self.unicode_escape(eline, ecol)?,
                        other => {
                            return Err(self.error(
                                eline,
                                ecol,
                                format!("unknown escape sequence '\\{other}'"),
                            ));
                        }
                    });
                }
                '\n' => {
                    out.push('\n');
                    self.pos += 1;
                    self.newline();
                }
                _ => {
                    // A run of plain characters, copied at once.
                    let rest = &self.src[self.pos..];
                    let run = rest
                        .iter()
                        .position(|&b| matches!(b, b'"' | b'\\' | b'\n'))
                        .unwrap_or(rest.len());
                    out.push_str(&self.text[self.pos..self.pos + run]);
                    self.pos += run;
                }
            }
        }
    }

    fn unicode_escape(&mut self, line: u32, col: u32) -> Result<char, CompileError> {
        let bad = |lx: &Self| lx.error(line, col, "invalid unicode escape (write \\u{1F600})");
        if self.peek(0) != b'{' {
            return Err(bad(self));
        }
        self.pos += 1;
        let start = self.pos;
        while self.peek(0).is_ascii_hexdigit() && self.pos - start < 6 {
            self.pos += 1;
        }
        let hex = &self.text[start..self.pos];
        if hex.is_empty() || self.peek(0) != b'}' {
            return Err(bad(self));
        }
        self.pos += 1;
        u32::from_str_radix(hex, 16)
            .ok()
            .and_then(char::from_u32)
            .ok_or_else(|| bad(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn positions(source: &str) -> Vec<(u32, u32)> {
        tokenize("t.ark", source, &Arena::new())
            .unwrap()
            .iter()
            .map(|t| (t.line, t.col))
            .collect()
    }

    #[test]
    fn columns_count_characters_in_ascii_and_other_sources() {
        assert_eq!(
            positions("let a = 1;\n  b"),
            [(1, 1), (1, 5), (1, 7), (1, 9), (1, 10), (2, 3), (2, 4)]
        );
        // "é" is two bytes and one column.
        assert_eq!(
            positions("let s = \"é\"; x\n\"ü\" y"),
            [
                (1, 1),
                (1, 5),
                (1, 7),
                (1, 9),
                (1, 12),
                (1, 14),
                (2, 1),
                (2, 5),
                (2, 6)
            ]
        );
    }

    #[test]
    fn strings_keep_their_text_and_escapes() {
        let arena = Arena::new();
        let strings: Vec<Tok> = tokenize(
            "t.ark",
            "\"plain\" \"a\\tb\\\"c\\u{e9}\" \"two\nlines é\" \"\"",
            &arena,
        )
        .unwrap()
        .into_iter()
        .map(|t| t.tok)
        .collect();
        assert_eq!(
            strings,
            [
                Tok::Str("plain"),
                Tok::Str("a\tb\"cé"),
                Tok::Str("two\nlines é"),
                Tok::Str(""),
                Tok::Eof
            ]
        );
        let err = tokenize("t.ark", "x = \"no end", &arena).unwrap_err();
        assert_eq!(
            (err.line, err.col, err.message.as_str()),
            (1, 5, "unterminated string")
        );
    }
}
