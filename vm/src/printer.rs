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

use crate::heap::{Heap, char_boundary_after};
use crate::value::{ListKey, MapKey, StrKey, Value, Vec3};
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
    let (mut out, mut unbounded) = (String::new(), usize::MAX);
    Walk::display(v).write_some(heap, natives, &mut out, &mut unbounded)?;
    Ok(out)
}

/// Shows a value as it appears inside a list (strings quoted).
pub fn repr(heap: &Heap, natives: &Natives, v: Value) -> Result<String, TooLong> {
    let (mut out, mut unbounded) = (String::new(), usize::MAX);
    Walk::repr(v).write_some(heap, natives, &mut out, &mut unbounded)?;
    Ok(out)
}

/// `display` or `repr` for the host: text past the limit is cut, with a
/// mark that says so.
pub fn cut_to_limit(text: Result<String, TooLong>) -> String {
    text.unwrap_or_else(|TooLong| "<text too long to show>".to_string())
}

/// A value being printed: what is left to write, next last. It writes a
/// budget of bytes at a time, so that a long text is made between slices
/// of a call (`heap/long_work.rs`); containers are read as they are
/// reached (one that another call changes in the meantime prints as it is
/// then; a freed one as stale).
pub(crate) struct Walk {
    steps: Vec<Step>,
    /// The containers being printed, innermost last, and the same as a
    /// set.
    ancestors: Vec<Container>,
    open: rustc_hash::FxHashSet<Container>,
}

enum Step {
    Value(Value),
    Text(&'static str),
    /// A list's items from this one on.
    Items(ListKey, usize),
    /// A map's entries from this one on.
    Entries(MapKey, usize),
    /// A string as a literal, from this byte on.
    Quoted(StrKey, usize),
    /// A string as itself, from this byte on.
    Plain(StrKey, usize),
    /// Leaves a container: it is no longer an ancestor.
    Exit,
}

#[derive(PartialEq, Eq, Hash, Clone, Copy)]
enum Container {
    List(ListKey),
    Map(MapKey),
}

impl Walk {
    /// `v` as `str` shows it.
    pub(crate) fn display(v: Value) -> Walk {
        Walk::starting_with(match v {
            Value::Str(k) => Step::Plain(k, 0),
            other => Step::Value(other),
        })
    }

    /// `v` as it shows inside a list.
    pub(crate) fn repr(v: Value) -> Walk {
        Walk::starting_with(Step::Value(v))
    }

    fn starting_with(step: Step) -> Walk {
        Walk {
            steps: vec![step],
            ancestors: Vec::new(),
            open: Default::default(),
        }
    }

    /// Writes the text to `out`, spending `budget` (in bytes of work: each
    /// byte written, and each step as the bytes copied in its time): true
    /// once it is all written. Too long once `out` passes the printer's
    /// limit.
    pub(crate) fn write_some(
        &mut self,
        heap: &Heap,
        natives: &Natives,
        out: &mut String,
        budget: &mut usize,
    ) -> Result<bool, TooLong> {
        /// The work of a step (about 60 ns: a container's way in and out
        /// of the set of open ones), in bytes.
        const STEP: usize = 256;
        let limit = limit(heap);
        while let Some(step) = self.steps.pop() {
            if *budget == 0 {
                self.steps.push(step);
                return Ok(false);
            }
            make_room(out, limit)?;
            let before = out.len();
            self.write_step(heap, natives, step, out, limit, *budget)?;
            *budget = budget.saturating_sub(out.len() - before + STEP);
        }
        if out.len() > limit {
            return Err(TooLong);
        }
        Ok(true)
    }

    fn write_step(
        &mut self,
        heap: &Heap,
        natives: &Natives,
        step: Step,
        out: &mut String,
        limit: usize,
        budget: usize,
    ) -> Result<(), TooLong> {
        match step {
            Step::Text(t) => out.push_str(t),
            Step::Exit => {
                if let Some(c) = self.ancestors.pop() {
                    self.open.remove(&c);
                }
            }
            Step::Value(Value::List(k)) => {
                if !heap.lists.contains_key(k) {
                    out.push_str("<stale list>");
                } else if self.open.contains(&Container::List(k)) {
                    out.push_str("[...]");
                } else {
                    out.push('[');
                    self.enter(Container::List(k), "]");
                    self.steps.push(Step::Items(k, 0));
                }
            }
            Step::Value(Value::Map(k)) => {
                if !heap.maps.contains_key(k) {
                    out.push_str("<stale map>");
                } else if self.open.contains(&Container::Map(k)) {
                    out.push_str("{...}");
                } else {
                    out.push('{');
                    self.enter(Container::Map(k), "}");
                    self.steps.push(Step::Entries(k, 0));
                }
            }
            Step::Items(k, i) => {
                if let Some(&item) = heap.lists.get(k).and_then(|items| items.get(i)) {
                    self.steps.push(Step::Items(k, i + 1));
                    self.steps.push(Step::Value(item));
                    if i > 0 {
                        self.steps.push(Step::Text(", "));
                    }
                }
            }
            Step::Entries(k, i) => {
                if let Some((key, &value)) = heap.maps.get(k).and_then(|map| map.get_index(i)) {
                    self.steps.push(Step::Entries(k, i + 1));
                    self.steps.push(Step::Value(value));
                    self.steps.push(Step::Text(": "));
                    self.steps.push(Step::Value(key.to_value()));
                    if i > 0 {
                        self.steps.push(Step::Text(", "));
                    }
                }
            }
            Step::Value(Value::Str(k)) => self.steps.push(Step::Quoted(k, 0)),
            Step::Quoted(k, at) => {
                let text = heap.str(k);
                if at == 0 {
                    // Escapes only lengthen it.
                    if out.len() + text.len() + 2 > limit + PIECE {
                        return Err(TooLong);
                    }
                    reserve_bounded(out, text.len().min(budget) + 2, limit);
                    out.push('"');
                }
                let end = quote_some(&text[at..], out, budget) + at;
                if end < text.len() {
                    self.steps.push(Step::Quoted(k, end));
                } else {
                    out.push('"');
                }
            }
            Step::Plain(k, at) => {
                let text = heap.str(k);
                let end = char_boundary_after(text, at.saturating_add(budget));
                out.push_str(&text[at..end]);
                if end < text.len() {
                    self.steps.push(Step::Plain(k, end));
                }
            }
            Step::Value(other) => write_scalar(heap, natives, other, out),
        }
        Ok(())
    }

    /// Opens a container, which `close` ends.
    fn enter(&mut self, container: Container, close: &'static str) {
        self.ancestors.push(container);
        self.open.insert(container);
        self.steps.push(Step::Exit);
        self.steps.push(Step::Text(close));
    }
}

/// Writes a number as `print` shows it (`None` for other values): ints
/// in decimal, floats as Rust's `{:?}` writes them (with a point or an
/// exponent, so that `1.0` stays apart from `1`; or `inf`, `-inf`, `NaN`).
pub(crate) fn write_number(v: Value, out: &mut impl Write) -> Option<std::fmt::Result> {
    match v {
        Value::Int(i) => Some(write!(out, "{i}")),
        Value::Float(f) => Some(write!(out, "{f:?}")),
        _ => None,
    }
}

fn write_scalar(heap: &Heap, natives: &Natives, v: Value, out: &mut String) {
    match v {
        Value::Nil => out.push_str("nil"),
        Value::Bool(b) => out.push_str(if b { "true" } else { "false" }),
        Value::Int(_) | Value::Float(_) => {
            let _ = write_number(v, out);
        }
        Value::Vec3(Vec3 { x, y, z }) => {
            let _ = write!(out, "vec3({x:?}, {y:?}, {z:?})");
        }
        Value::Quat { .. } => {
            let q = v.as_quat().unwrap_or(crate::Quat::IDENTITY);
            let _ = write!(out, "quat({:?}, {:?}, {:?}, {:?})", q.x, q.y, q.z, q.w);
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
        Value::EntityRef { path, entity } => match &heap.entity_host {
            Some(host) => out.push_str(&host.ref_display(path, entity)),
            None => out.push_str("<ref>"),
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

/// Writes `s` escaped as in a string literal (without the quotes), about
/// `budget` bytes of it: the bytes of `s` it got through.
fn quote_some(s: &str, out: &mut String, budget: usize) -> usize {
    let start = out.len();
    for (at, ch) in s.char_indices() {
        if out.len() - start >= budget {
            return at;
        }
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
    s.len()
}
