//! Syntax colouring for the Source window: a script's lines split into
//! spans of one kind each. Forgiving where the compiler is strict: a
//! script with a syntax error still colours up to and past it. Block
//! comments nest and strings may span lines, as in the language.

/// What a span of source is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Plain,
    Keyword,
    /// Numbers, `true`, `false`, `nil`.
    Literal,
    Str,
    Comment,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    pub text: String,
    pub kind: Kind,
}

/// One line of source, coloured.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Line {
    pub spans: Vec<Span>,
}

impl Line {
    /// The line's text.
    pub fn text(&self) -> String {
        self.spans.iter().map(|s| s.text.as_str()).collect()
    }

    fn push(&mut self, text: &str, kind: Kind) {
        if text.is_empty() {
            return;
        }
        match self.spans.last_mut() {
            Some(last) if last.kind == kind => last.text.push_str(text),
            _ => self.spans.push(Span {
                text: text.to_string(),
                kind,
            }),
        }
    }
}

const KEYWORDS: &[&str] = &[
    "let", "fn", "return", "if", "else", "while", "for", "in", "break", "continue", "and", "or",
    "not", "yield", "self",
];
const LITERALS: &[&str] = &["true", "false", "nil"];

/// What carries over from one line to the next.
#[derive(Clone, Copy, Default)]
struct Carry {
    /// Block comments open.
    comment_depth: usize,
    in_string: bool,
}

/// Colours `source`, line by line (`\n`, `\r\n` and a lone `\r` end a
/// line, as for the compiler, so line numbers agree).
pub fn highlight(source: &str) -> Vec<Line> {
    let mut carry = Carry::default();
    split_lines(source)
        .map(|text| colour_line(text, &mut carry))
        .collect()
}

fn split_lines(source: &str) -> impl Iterator<Item = &str> {
    source.split('\n').flat_map(|piece| {
        let piece = piece.strip_suffix('\r').unwrap_or(piece);
        piece.split('\r')
    })
}

fn colour_line(text: &str, carry: &mut Carry) -> Line {
    let mut line = Line::default();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let rest = &text[i..];
        if carry.comment_depth > 0 {
            let end = block_comment_end(rest, &mut carry.comment_depth);
            line.push(&rest[..end], Kind::Comment);
            i += end;
        } else if carry.in_string {
            let end = string_end(rest, &mut carry.in_string);
            line.push(&rest[..end], Kind::Str);
            i += end;
        } else if rest.starts_with("//") {
            line.push(rest, Kind::Comment);
            i = bytes.len();
        } else if let Some(inside) = rest.strip_prefix("/*") {
            carry.comment_depth = 1;
            let end = 2 + block_comment_end(inside, &mut carry.comment_depth);
            line.push(&rest[..end], Kind::Comment);
            i += end;
        } else if bytes[i] == b'"' {
            carry.in_string = true;
            let end = 1 + string_end(&rest[1..], &mut carry.in_string);
            line.push(&rest[..end], Kind::Str);
            i += end;
        } else if bytes[i].is_ascii_alphabetic() || bytes[i] == b'_' {
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            let word = &rest[..end];
            let kind = if KEYWORDS.contains(&word) {
                Kind::Keyword
            } else if LITERALS.contains(&word) {
                Kind::Literal
            } else {
                Kind::Plain
            };
            line.push(word, kind);
            i += end;
        } else if bytes[i].is_ascii_digit() {
            // Digits, letters (hex, exponents, a bad suffix), `_`, and a
            // dot followed by a digit.
            let mut end = 0;
            let rb = rest.as_bytes();
            while end < rb.len()
                && (rb[end].is_ascii_alphanumeric()
                    || rb[end] == b'_'
                    || (rb[end] == b'.' && rb.get(end + 1).is_some_and(u8::is_ascii_digit))
                    || ((rb[end] == b'+' || rb[end] == b'-')
                        && matches!(rb[end - 1], b'e' | b'E')
                        && !rest.starts_with("0x")))
            {
                end += 1;
            }
            line.push(&rest[..end], Kind::Literal);
            i += end;
        } else {
            let end = rest.chars().next().map_or(1, char::len_utf8);
            line.push(&rest[..end], Kind::Plain);
            i += end;
        }
    }
    line
}

/// How far a block comment goes in `rest` (all of it if it stays open),
/// counting nested comments in `depth`.
fn block_comment_end(rest: &str, depth: &mut usize) -> usize {
    let b = rest.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"/*") {
            *depth += 1;
            i += 2;
        } else if b[i..].starts_with(b"*/") {
            *depth -= 1;
            i += 2;
            if *depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    b.len()
}

/// How far a string goes in `rest` (all of it if it stays open), its
/// closing quote included.
fn string_end(rest: &str, open: &mut bool) -> usize {
    let b = rest.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => {
                *open = false;
                return i + 1;
            }
            _ => i += 1,
        }
    }
    b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(line: &Line) -> Vec<(&str, Kind)> {
        line.spans
            .iter()
            .map(|s| (s.text.as_str(), s.kind))
            .collect()
    }

    #[test]
    fn keywords_literals_strings_and_comments_are_told_apart() {
        let lines = highlight("let x = 1.5e-3; // speed\nif not done { return \"a\\\"b\"; }");
        assert_eq!(
            kinds(&lines[0]),
            [
                ("let", Kind::Keyword),
                (" x = ", Kind::Plain),
                ("1.5e-3", Kind::Literal),
                ("; ", Kind::Plain),
                ("// speed", Kind::Comment),
            ]
        );
        assert_eq!(
            kinds(&lines[1]),
            [
                ("if", Kind::Keyword),
                (" ", Kind::Plain),
                ("not", Kind::Keyword),
                (" done { ", Kind::Plain),
                ("return", Kind::Keyword),
                (" ", Kind::Plain),
                ("\"a\\\"b\"", Kind::Str),
                ("; }", Kind::Plain),
            ]
        );
    }

    #[test]
    fn nested_block_comments_and_strings_carry_over_lines() {
        let lines = highlight("a /* one /* two */\nstill */ b \"open\nclosed\" c\rd\r\ne");
        assert_eq!(lines.len(), 5, "\\n, \\r and \\r\\n each end a line");
        assert_eq!(kinds(&lines[1])[0], ("still */", Kind::Comment));
        assert_eq!(kinds(&lines[1])[2], ("\"open", Kind::Str));
        assert_eq!(kinds(&lines[2])[0], ("closed\"", Kind::Str));
        assert_eq!(lines[3].text(), "d");
        assert_eq!(lines[4].text(), "e");
    }

    #[test]
    fn names_that_start_with_a_keyword_are_names() {
        let lines = highlight("iffy notable format selfish nil_ok");
        assert!(lines[0].spans.iter().all(|s| s.kind == Kind::Plain));
    }
}
