//! Script text before the lexer sees it: UTF-8 checked with a position, a
//! byte-order mark dropped, and old Mac line endings (a lone `\r`) read as
//! line breaks, so that every editor's file gets the right line numbers.

use std::borrow::Cow;

use crate::error::CompileError;

const BOM: char = '\u{feff}';

/// The source a script's bytes hold, or a compile error at the first byte
/// that is not UTF-8.
pub fn source_from_bytes(script: &str, bytes: Vec<u8>) -> Result<String, CompileError> {
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        // Valid up to there: lines and columns count from that text.
        let text = std::str::from_utf8(valid).unwrap_or_default();
        let line = 1 + text.matches('\n').count() as u32;
        let col = 1 + text.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u32;
        let byte = e.as_bytes()[valid.len()];
        CompileError::new(
            script,
            line,
            col,
            format!("invalid UTF-8 (byte 0x{byte:02x})"),
        )
    })
}

/// The source as the lexer reads it.
pub(crate) fn normalized(source: &str) -> Cow<'_, str> {
    let source = source.strip_prefix(BOM).unwrap_or(source);
    let bytes = source.as_bytes();
    let lone_cr = bytes
        .iter()
        .enumerate()
        .any(|(i, &b)| b == b'\r' && bytes.get(i + 1) != Some(&b'\n'));
    if !lone_cr {
        return Cow::Borrowed(source);
    }
    let mut out = String::with_capacity(source.len());
    let mut chars = source.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' && chars.peek() != Some(&'\n') {
            out.push('\n');
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::{normalized, source_from_bytes};

    #[test]
    fn a_bom_goes_and_lone_carriage_returns_break_lines() {
        assert_eq!(normalized("\u{feff}let a = 1;"), "let a = 1;");
        assert_eq!(normalized("a\rb\r\nc"), "a\nb\r\nc");
        assert_eq!(normalized("a\r\nb"), "a\r\nb");
    }

    #[test]
    fn invalid_utf8_is_an_error_at_its_position() {
        let e =
            source_from_bytes("bad.ark", b"let a = 1;\nlet b = \"\xff\";".to_vec()).unwrap_err();
        assert_eq!((e.line, e.col), (2, 10));
        assert!(e.message.contains("0xff"), "{e}");
    }
}
