//! How values print (`print`, `str`, the REPL). One format everywhere.
//!
//! Nested lists and maps are walked with an explicit work stack, not Rust
//! recursion, so a list nested a million deep prints without overflowing
//! the stack; an object that contains itself prints as `[...]` or `{...}`.

use std::fmt::Write;

use crate::heap::Heap;
use crate::value::{Value, Vec3};
use crate::vm::Natives;

/// `str(v)`: strings print as themselves at top level.
pub fn display(heap: &Heap, natives: &Natives, v: Value) -> String {
    let mut out = String::new();
    match v {
        Value::Str(k) => out.push_str(heap.str(k)),
        other => write_value(heap, natives, other, &mut out),
    }
    out
}

/// Shows a value as it appears inside a list (strings quoted).
pub fn repr(heap: &Heap, natives: &Natives, v: Value) -> String {
    let mut out = String::new();
    write_value(heap, natives, v, &mut out);
    out
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

fn write_value(heap: &Heap, natives: &Natives, v: Value, out: &mut String) {
    let mut tasks = vec![Task::Value(v)];
    // The containers being printed, innermost last, and the same as a set.
    let mut ancestors: Vec<Container> = Vec::new();
    let mut open: rustc_hash::FxHashSet<Container> = Default::default();
    while let Some(task) = tasks.pop() {
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
            Task::Value(Value::Str(k)) => quote(heap.str(k), out),
            Task::Value(other) => write_scalar(heap, natives, other, out),
        }
    }
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

/// A string as a literal: quoted, with escapes.
fn quote(s: &str, out: &mut String) {
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
}
