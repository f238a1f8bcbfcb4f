//! How values print (`print`, `str`, the REPL). One format everywhere.
//!
//! Nested lists and maps are walked with an explicit work stack, not Rust
//! recursion, so a list nested a million deep prints without overflowing
//! the stack; an object that contains itself prints as `[...]` or `{...}`.
//!
//! Text is bounded: a list holding the same sublist twice, forty levels
//! deep, would print to terabytes. Printing stops once the text passes its
//! limit (the longest string a script may make, and never more than the
//! heap limit), so what a script prints costs at most that much memory.

use std::fmt::Write;

use crate::heap::Heap;
use crate::value::{Value, Vec3};
use crate::vm::Natives;

/// The text of a value was longer than the printer's limit.
#[derive(Debug)]
pub struct TooLong;

/// The longest text the printer makes on `heap`.
pub fn limit(heap: &Heap) -> usize {
    heap.max_string_len.min(heap.limit)
}

/// `str(v)`: strings print as themselves at top level.
pub fn display(heap: &Heap, natives: &Natives, v: Value) -> Result<String, TooLong> {
    let mut out = String::new();
    match v {
        Value::Str(k) => out.push_str(heap.str(k)),
        other => write_value(heap, natives, other, &mut out, limit(heap))?,
    }
    Ok(out)
}

/// Shows a value as it appears inside a list (strings quoted).
pub fn repr(heap: &Heap, natives: &Natives, v: Value) -> Result<String, TooLong> {
    let mut out = String::new();
    write_value(heap, natives, v, &mut out, limit(heap))?;
    Ok(out)
}

/// `display` or `repr` for the host: text past the limit is cut, with a
/// mark that says so.
pub fn cut_to_limit(text: Result<String, TooLong>) -> String {
    text.unwrap_or_else(|TooLong| "<text too long to show>".to_string())
}

enum Task {
    Value(Value),
    Text(&'static str),
    /// Leaves a container: it is no longer an ancestor.
    Exit,
}

#[derive(PartialEq, Eq, Hash, Clone, Copy)]
enum Container {
    List(crate::value::ListKey),
    Map(crate::value::MapKey),
}

fn write_value(
    heap: &Heap,
    natives: &Natives,
    v: Value,
    out: &mut String,
    limit: usize,
) -> Result<(), TooLong> {
    let mut tasks = vec![Task::Value(v)];
    // The containers being printed, innermost last, and the same as a set.
    let mut ancestors: Vec<Container> = Vec::new();
    let mut open: rustc_hash::FxHashSet<Container> = Default::default();
    while let Some(task) = tasks.pop() {
        make_room(out, limit)?;
        match task {
            Task::Text(t) => out.push_str(t),
            Task::Exit => {
                if let Some(c) = ancestors.pop() {
                    open.remove(&c);
                }
            }
            Task::Value(Value::List(k)) => {
                let Some(items) = heap.lists.get(k) else {
                    out.push_str("<stale list>");
                    continue;
                };
                if open.contains(&Container::List(k)) {
                    out.push_str("[...]");
                    continue;
                }
                out.push('[');
                ancestors.push(Container::List(k));
                open.insert(Container::List(k));
                tasks.push(Task::Exit);
                tasks.push(Task::Text("]"));
                for (i, &item) in items.iter().enumerate().rev() {
                    tasks.push(Task::Value(item));
                    if i > 0 {
                        tasks.push(Task::Text(", "));
                    }
                }
            }
            Task::Value(Value::Map(k)) => {
                let Some(map) = heap.maps.get(k) else {
                    out.push_str("<stale map>");
                    continue;
                };
                if open.contains(&Container::Map(k)) {
                    out.push_str("{...}");
                    continue;
                }
                out.push('{');
                ancestors.push(Container::Map(k));
                open.insert(Container::Map(k));
                tasks.push(Task::Exit);
                tasks.push(Task::Text("}"));
                for (i, (key, &value)) in map.iter().enumerate().rev() {
                    tasks.push(Task::Value(value));
                    tasks.push(Task::Text(": "));
                    tasks.push(Task::Value(key.to_value()));
                    if i > 0 {
                        tasks.push(Task::Text(", "));
                    }
                }
            }
            Task::Value(Value::Str(k)) => quote(heap.str(k), out, limit)?,
            Task::Value(other) => write_scalar(heap, natives, other, out),
        }
    }
    if out.len() > limit {
        return Err(TooLong);
    }
    Ok(())
}

fn write_scalar(heap: &Heap, natives: &Natives, v: Value, out: &mut String) {
    match v {
        Value::Nil => out.push_str("nil"),
        Value::Bool(b) => out.push_str(if b { "true" } else { "false" }),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Float(f) => {
            let _ = write!(out, "{f:?}");
        }
        Value::Vec3(Vec3 { x, y, z }) => {
            let _ = write!(out, "vec3({x:?}, {y:?}, {z:?})");
        }
        Value::Entity(bits) => {
            let _ = write!(out, "<entity {}>", (heap.entity_display)(bits));
        }
        Value::Closure(k) => match heap.closures.get(k) {
            Some(c) if c.proto.name == "<fn>" => out.push_str("<fn>"),
            Some(c) => {
                let _ = write!(out, "<fn {}>", c.proto.name);
            }
            None => out.push_str("<stale fn>"),
        },
        Value::Native(id) => {
            let _ = write!(out, "<fn {}>", natives.name(id));
        }
        Value::Host(k) => match heap.hosts.get(k) {
            Some(h) => out.push_str(&h.display()),
            None => out.push_str("<stale ref>"),
        },
        Value::Cell(_) => out.push_str("<cell>"),
        Value::Str(k) => out.push_str(heap.str(k)),
        Value::List(_) | Value::Map(_) => unreachable!("containers are walked by the caller"),
    }
}

/// Room in `out` for the next piece (a scalar, some punctuation): the
/// buffer grows by doubling, but never past the limit by more than a
/// piece, so that a text that stops at the limit has not taken twice the
/// memory first.
fn make_room(out: &mut String, limit: usize) -> Result<(), TooLong> {
    if out.len() > limit {
        return Err(TooLong);
    }
    reserve_bounded(out, PIECE, limit);
    Ok(())
}

/// Longer than any scalar's text (a vec3 of three floats is about 80).
const PIECE: usize = 256;

/// Makes room for `extra` more bytes, doubling the buffer but not past the
/// limit (plus a piece).
fn reserve_bounded(out: &mut String, extra: usize, limit: usize) {
    let needed = out.len() + extra;
    if out.capacity() < needed {
        let capacity = (out.capacity() * 2).min(limit + PIECE).max(needed);
        out.reserve_exact(capacity - out.len());
    }
}

/// A string as a literal: quoted, with escapes; too long if it would take
/// the text past the limit.
fn quote(s: &str, out: &mut String, limit: usize) -> Result<(), TooLong> {
    let escapes = s
        .chars()
        .filter(|&c| matches!(c, '"' | '\\') || c.is_control())
        .count();
    // An escape takes at most 10 bytes (`\u{10ffff}` style) for a char of one.
    let longest = s.len() + 2 + escapes * 9;
    if out.len() + longest > limit + PIECE {
        return Err(TooLong);
    }
    reserve_bounded(out, longest, limit);
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    Ok(())
}
