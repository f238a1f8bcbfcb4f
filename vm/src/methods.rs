//! Built-in methods of lists, strings and vec3s, dispatched by method id.
//!
//! Method names are turned into ids when a script compiles; the ids of the
//! built-in methods are fixed (`m::PUSH`...), so dispatch is an integer
//! match, never a string lookup. `map`, `filter` and `sort_by` call back
//! into scripts, so they are written in Ark (`prelude.ark`) and run as
//! ordinary suspendable script calls.

use rustc_hash::FxHashMap;

use crate::heap::{Heap, SLICE_BYTES, Search, Source};
use crate::native::{NativeCtx, NativeError};
use crate::quat::Quat;
use crate::value::{StrKey, Value, Vec3};

/// Ids of the built-in methods: positions in `KNOWN`.
pub mod m {
    pub const PUSH: u16 = 0;
    pub const POP: u16 = 1;
    pub const INSERT: u16 = 2;
    pub const REMOVE: u16 = 3;
    pub const CONTAINS: u16 = 4;
    pub const INDEX_OF: u16 = 5;
    pub const REVERSE: u16 = 6;
    pub const SORT: u16 = 7;
    pub const SORT_BY: u16 = 8;
    pub const JOIN: u16 = 9;
    pub const SLICE: u16 = 10;
    pub const MAP: u16 = 11;
    pub const FILTER: u16 = 12;
    pub const COPY: u16 = 13;
    pub const LEN: u16 = 14;
    pub const UPPER: u16 = 15;
    pub const LOWER: u16 = 16;
    pub const TRIM: u16 = 17;
    pub const STARTS_WITH: u16 = 18;
    pub const ENDS_WITH: u16 = 19;
    pub const FIND: u16 = 20;
    pub const REPLACE: u16 = 21;
    pub const SPLIT: u16 = 22;
    pub const CHARS: u16 = 23;
    pub const REPEAT: u16 = 24;
    pub const LENGTH: u16 = 25;
    pub const LENGTH_SQUARED: u16 = 26;
    pub const NORMALIZE: u16 = 27;
    pub const DOT: u16 = 28;
    pub const CROSS: u16 = 29;
    pub const DISTANCE: u16 = 30;
    pub const LERP: u16 = 31;
    pub const WITH_X: u16 = 32;
    pub const WITH_Y: u16 = 33;
    pub const WITH_Z: u16 = 34;
    pub const CODE: u16 = 35;
    pub const INVERSE: u16 = 36;
    pub const SLERP: u16 = 37;
}

const KNOWN: [&str; 38] = [
    "push",
    "pop",
    "insert",
    "remove",
    "contains",
    "index_of",
    "reverse",
    "sort",
    "sort_by",
    "join",
    "slice",
    "map",
    "filter",
    "copy",
    "len",
    "upper",
    "lower",
    "trim",
    "starts_with",
    "ends_with",
    "find",
    "replace",
    "split",
    "chars",
    "repeat",
    "length",
    "length_squared",
    "normalize",
    "dot",
    "cross",
    "distance",
    "lerp",
    "with_x",
    "with_y",
    "with_z",
    "code",
    "inverse",
    "slerp",
];

/// Method names by id. Each name also has an interned string, so that
/// `map.name(...)` can look the field up without hashing the name.
pub struct MethodNames {
    names: Vec<(String, Option<StrKey>)>,
    ids: FxHashMap<String, u16>,
}

impl Default for MethodNames {
    fn default() -> Self {
        let mut names = MethodNames {
            names: Vec::new(),
            ids: FxHashMap::default(),
        };
        for name in KNOWN {
            names.intern(name);
        }
        names
    }
}

impl MethodNames {
    pub fn intern(&mut self, name: &str) -> u16 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.names.len() as u16;
        self.names.push((name.to_string(), None));
        self.ids.insert(name.to_string(), id);
        id
    }

    pub fn name(&self, id: u16) -> &str {
        self.names.get(id as usize).map_or("?", |(n, _)| n)
    }

    /// Every interned method-name string (roots for the collector).
    pub fn keys(&self) -> impl Iterator<Item = StrKey> + '_ {
        self.names.iter().filter_map(|(_, k)| *k)
    }

    /// The method name as a heap string (interned on first use).
    #[inline]
    pub fn key(&mut self, id: u16, heap: &mut Heap) -> Result<StrKey, NativeError> {
        let (name, key) = &mut self.names[id as usize];
        if let Some(k) = key.filter(|k| heap.strings.contains_key(*k)) {
            return Ok(k);
        }
        let k = heap
            .intern(name)
            .map_err(|_| NativeError::new("out of memory"))?;
        *key = Some(k);
        Ok(k)
    }
}

/// What calling a built-in method produced.
pub enum Outcome {
    Value(Value),
    /// Call this prelude function with the receiver and the arguments.
    Prelude(Prelude),
}

#[derive(Clone, Copy)]
pub enum Prelude {
    Map,
    Filter,
    SortBy,
}

/// The name of a built-in method (static: no allocation on the hot path).
fn known_name(id: u16) -> &'static str {
    KNOWN.get(id as usize).copied().unwrap_or("?")
}

fn arity(name: &str, args: &[Value], n: usize) -> Result<(), NativeError> {
    if args.len() != n {
        let plural = if n == 1 { "argument" } else { "arguments" };
        return Err(NativeError(format!(
            "{name} expects {n} {plural} but got {}",
            args.len()
        )));
    }
    Ok(())
}

fn unknown(ctx: &NativeCtx<'_>, recv: Value, id: u16) -> NativeError {
    NativeError(format!(
        "unknown method '{}' for {}",
        ctx.core.methods.name(id),
        recv.type_name()
    ))
}

#[inline]
fn int_arg(v: Value, what: &str) -> Result<i64, NativeError> {
    match v {
        Value::Int(i) => Ok(i),
        other => Err(not_an_int(what, other)),
    }
}

#[cold]
fn not_an_int(what: &str, v: Value) -> NativeError {
    NativeError(format!("{what} must be an int, got {}", v.type_name()))
}

fn num_arg(v: Value, what: &str) -> Result<f32, NativeError> {
    v.as_f32()
        .ok_or_else(|| NativeError(format!("{what} expects a number, got {}", v.type_name())))
}

/// A string argument, as its key.
fn str_key_arg(v: Value, what: &str) -> Result<StrKey, NativeError> {
    match v {
        Value::Str(k) => Ok(k),
        other => Err(NativeError(format!(
            "{what} expects a string, got {}",
            other.type_name()
        ))),
    }
}

fn vec_arg(v: Value, what: &str) -> Result<Vec3, NativeError> {
    match v {
        Value::Vec3(v) => Ok(v),
        other => Err(NativeError(format!(
            "{what} expects a vec3, got {}",
            other.type_name()
        ))),
    }
}

/// Checks `start..end` against `len` for `slice`.
#[inline]
fn range(start: i64, end: i64, len: usize) -> Result<(usize, usize), NativeError> {
    if start < 0 || end < start || end as u64 > len as u64 {
        return Err(out_of_range(start, end, len));
    }
    Ok((start as usize, end as usize))
}

#[cold]
fn out_of_range(start: i64, end: i64, len: usize) -> NativeError {
    NativeError(format!(
        "slice {start}..{end} out of range for length {len}"
    ))
}

fn oom(_: crate::heap::OutOfMemory) -> NativeError {
    NativeError::new("out of memory")
}

/// Calls built-in method `id` on `recv`.
pub fn call(
    ctx: &mut NativeCtx<'_>,
    recv: Value,
    id: u16,
    args: &[Value],
) -> Result<Outcome, NativeError> {
    let v = match recv {
        Value::List(l) => return list_method(ctx, l, recv, id, args),
        Value::Str(s) => string_method(ctx, s, recv, id, args)?,
        Value::Vec3(v) => vec3_method(ctx, v, recv, id, args)?,
        Value::Quat { .. } => quat_method(ctx, recv, id, args)?,
        Value::Entity(e) => {
            let name = ctx.core.methods.name(id).to_string();
            match crate::access::with_entity_host(ctx, |host, ctx| {
                host.call_method(ctx, e, &name, args)
            }) {
                Some(result) => result.map_err(NativeError)?,
                None => return Err(unknown(ctx, recv, id)),
            }
        }
        other => return Err(unknown(ctx, other, id)),
    };
    Ok(Outcome::Value(v))
}

fn stale() -> NativeError {
    NativeError(crate::error::stale())
}

fn list_method(
    ctx: &mut NativeCtx<'_>,
    l: crate::value::ListKey,
    recv: Value,
    id: u16,
    args: &[Value],
) -> Result<Outcome, NativeError> {
    let name = known_name(id);
    let len = ctx.core.heap.lists.get(l).ok_or_else(stale)?.len();
    let value = match id {
        m::PUSH => {
            arity(name, args, 1)?;
            ctx.core.heap.list_make_room(l, 1).map_err(NativeError)?;
            ctx.core.heap.list_push(l, args[0]).map_err(oom)?;
            Value::Nil
        }
        m::POP => {
            arity(name, args, 0)?;
            ctx.core
                .heap
                .list_pop(l)
                .ok_or_else(|| NativeError::new("pop from empty list"))?
        }
        m::INSERT => {
            arity(name, args, 2)?;
            let i = int_arg(args[0], "insert index")?;
            if i < 0 || i as u64 > len as u64 {
                return Err(NativeError(format!(
                    "insert index {i} out of range for list of length {len}"
                )));
            }
            ctx.core
                .heap
                .list_insert_split(l, i as usize, args[1])
                .map_err(NativeError)?;
            Value::Nil
        }
        m::REMOVE => {
            arity(name, args, 1)?;
            let i = int_arg(args[0], "remove index")?;
            if i < 0 || i as u64 >= len as u64 {
                return Err(NativeError(format!(
                    "index {i} out of range for list of length {len}"
                )));
            }
            ctx.core
                .heap
                .list_remove_split(l, i as usize)
                .map_err(NativeError)?
        }
        m::CONTAINS | m::INDEX_OF => {
            arity(name, args, 1)?;
            let found = ctx.core.heap.list_position(l, args[0])?;
            if id == m::CONTAINS {
                Value::Bool(found.is_some())
            } else {
                found.map_or(Value::Nil, |i| Value::Int(i as i64))
            }
        }
        m::REVERSE => {
            arity(name, args, 0)?;
            ctx.core.heap.list_reverse(l)?;
            Value::Nil
        }
        m::SORT => {
            arity(name, args, 0)?;
            ctx.core.heap.sort_list(l)?;
            Value::Nil
        }
        m::JOIN => {
            arity(name, args, 1)?;
            let sep = str_key_arg(args[0], name)?;
            ctx.charge(len);
            let core = &mut *ctx.core;
            let joined = core
                .heap
                .intern_long(Source::Join { list: l, sep }, Some(&core.natives))?;
            Value::Str(joined)
        }
        m::SLICE => {
            arity(name, args, 2)?;
            let (a, b) = range(
                int_arg(args[0], "slice start")?,
                int_arg(args[1], "slice end")?,
                len,
            )?;
            Value::List(ctx.core.heap.list_copy(l, a, b)?)
        }
        m::COPY => {
            arity(name, args, 0)?;
            Value::List(ctx.core.heap.list_copy(l, 0, len)?)
        }
        m::LEN => {
            arity(name, args, 0)?;
            Value::Int(len as i64)
        }
        m::MAP | m::FILTER | m::SORT_BY => {
            arity(name, args, 1)?;
            if !matches!(args[0], Value::Closure(_) | Value::Native(_)) {
                return Err(NativeError(format!(
                    "{name} expects a function, got {}",
                    args[0].type_name()
                )));
            }
            return Ok(Outcome::Prelude(match id {
                m::MAP => Prelude::Map,
                m::FILTER => Prelude::Filter,
                _ => Prelude::SortBy,
            }));
        }
        _ => return Err(unknown(ctx, recv, id)),
    };
    Ok(Outcome::Value(value))
}

/// `s.slice(start, end)` of an ASCII string, as the interpreter runs it
/// without a method call (a tokenizer cutting tokens, a counter cutting
/// substrings): the part and its length in bytes, for the fuel charge.
/// `None` where the method itself decides: a string that is not ASCII
/// (characters are not bytes) or not live, a range out of bounds (its
/// error), a part long enough to be built in pieces.
#[inline(never)]
pub(crate) fn ascii_slice(
    heap: &mut Heap,
    s: StrKey,
    start: i64,
    end: i64,
) -> Option<Result<(StrKey, usize), crate::heap::OutOfMemory>> {
    let obj = heap.strings.get(s)?;
    let (start, end) = range(start, end, obj.char_len).ok()?;
    if !obj.is_ascii() || end - start > SLICE_BYTES {
        return None;
    }
    Some(
        heap.intern_range(s, start, end)
            .map(|part| (part, end - start)),
    )
}

/// The byte offset of character `char_index` of string `s`.
fn byte_offset(
    heap: &mut Heap,
    s: StrKey,
    ascii: bool,
    char_index: usize,
) -> Result<usize, NativeError> {
    if ascii {
        return Ok(char_index);
    }
    Ok(heap.char_offset(s, char_index)?)
}

fn string_method(
    ctx: &mut NativeCtx<'_>,
    s: StrKey,
    recv: Value,
    id: u16,
    args: &[Value],
) -> Result<Value, NativeError> {
    let name = known_name(id);
    let heap = &ctx.core.heap;
    let obj = heap.strings.get(s).ok_or_else(stale)?;
    let (ascii, char_len) = (obj.is_ascii(), obj.char_len);
    // Methods that allocate nothing but their result read the string in
    // place.
    match id {
        m::LEN => {
            arity(name, args, 0)?;
            return Ok(Value::Int(char_len as i64));
        }
        m::CONTAINS | m::STARTS_WITH | m::ENDS_WITH | m::FIND => {
            arity(name, args, 1)?;
            let t = str_key_arg(args[0], name)?;
            let search = match id {
                m::CONTAINS => Search::Contains,
                m::STARTS_WITH => Search::StartsWith,
                m::ENDS_WITH => Search::EndsWith,
                _ => Search::Find,
            };
            return Ok(ctx.core.heap.search(s, t, search)?);
        }
        m::CODE => {
            arity(name, args, 1)?;
            let i = int_arg(args[0], "code index")?;
            if i < 0 || i as u64 >= char_len as u64 {
                return Err(NativeError(format!(
                    "code index {i} out of range for string of length {char_len}"
                )));
            }
            let at = byte_offset(&mut ctx.core.heap, s, ascii, i as usize)?;
            let c = ctx.core.heap.str(s)[at..].chars().next().unwrap_or('\0');
            return Ok(Value::Int(i64::from(u32::from(c))));
        }
        m::SLICE => {
            arity(name, args, 2)?;
            let (a, b) = range(
                int_arg(args[0], "slice start")?,
                int_arg(args[1], "slice end")?,
                char_len,
            )?;
            if (a, b) == (0, char_len) {
                return Ok(recv);
            }
            let start = byte_offset(&mut ctx.core.heap, s, ascii, a)?;
            let end = byte_offset(&mut ctx.core.heap, s, ascii, b)?;
            let bytes = start..end;
            if bytes.len() > SLICE_BYTES {
                let part = Source::Part(s, start, end);
                return Ok(Value::Str(ctx.core.heap.intern_long(part, None)?));
            }
            ctx.charge(bytes.len() / crate::heap::BYTES_PER_UNIT);
            let part = ctx.core.heap.intern_range(s, start, end).map_err(oom)?;
            return Ok(Value::Str(part));
        }
        m::UPPER | m::LOWER | m::TRIM | m::REPLACE | m::REPEAT => {
            return rebuilt(ctx, s, id, args);
        }
        _ => {}
    }
    let v = match id {
        m::SPLIT => {
            arity(name, args, 1)?;
            let sep = str_key_arg(args[0], name)?;
            if ctx.core.heap.str(sep).is_empty() {
                return Err(NativeError::new("split: empty separator"));
            }
            Value::List(ctx.core.heap.split_long(s, Some(sep))?)
        }
        m::CHARS => {
            arity(name, args, 0)?;
            Value::List(ctx.core.heap.split_long(s, None)?)
        }
        _ => return Err(unknown(ctx, recv, id)),
    };
    Ok(v)
}

/// What `rebuilt` writes.
enum Rebuild {
    Upper,
    Lower,
    Trim,
    Replace { from: String, to: String },
    Repeat(usize),
}

/// Where `rebuilt` makes its string a slice at a time (`long_work.rs`):
/// when it reads or writes more than a slice. `None` for short work, and
/// for `replace` with a pattern longer than a slice (which a search
/// would read whole at every slice).
fn long_rebuild(ctx: &NativeCtx<'_>, s: StrKey, id: u16, args: &[Value]) -> Option<Source> {
    let text = ctx.core.heap.str(s);
    match (id, args) {
        (m::UPPER, []) if text.len() > SLICE_BYTES => Some(Source::Upper(s)),
        (m::LOWER, []) if text.len() > SLICE_BYTES => Some(Source::Lower(s)),
        (m::TRIM, []) => {
            let trimmed = text.trim();
            let start = trimmed.as_ptr() as usize - text.as_ptr() as usize;
            (trimmed.len() > SLICE_BYTES).then(|| Source::Part(s, start, start + trimmed.len()))
        }
        (m::REPLACE, &[Value::Str(from), Value::Str(to)]) => {
            let heap = &ctx.core.heap;
            let (from_text, to_len) = (heap.str(from), heap.str(to).len());
            if from_text.is_empty() || from_text.len() > SLICE_BYTES {
                return None;
            }
            // A short text may still make a long string, or one too long
            // (which `rebuilt` reports before building it).
            let long = text.len() > SLICE_BYTES || {
                let count = text.matches(from_text).count();
                let out_len = text.len() - count * from_text.len() + count.saturating_mul(to_len);
                out_len > SLICE_BYTES && out_len <= heap.max_string_len
            };
            long.then_some(Source::Replace { text: s, from, to })
        }
        (m::REPEAT, &[Value::Int(n)]) if n >= 0 => {
            let total = text.len().saturating_mul(n as usize);
            (total > SLICE_BYTES).then_some(Source::Repeat(s, n as usize))
        }
        _ => None,
    }
}

/// A new string made from `s`'s text (`upper`, `lower`, `trim`,
/// `replace`, `repeat`): its length is known (or bounded) first, checked
/// against the string and heap limits and charged, and it is written
/// straight into the heap's buffer, with no copy of the text on the way.
fn rebuilt(
    ctx: &mut NativeCtx<'_>,
    s: StrKey,
    id: u16,
    args: &[Value],
) -> Result<Value, NativeError> {
    let name = known_name(id);
    if let Some(source) = long_rebuild(ctx, s, id, args) {
        return Ok(Value::Str(ctx.core.heap.intern_long(source, None)?));
    }
    let heap = &ctx.core.heap;
    let text = heap.str(s);
    let (out_len, plan) = match id {
        m::UPPER | m::LOWER | m::TRIM => {
            arity(name, args, 0)?;
            let plan = match id {
                m::UPPER => Rebuild::Upper,
                m::LOWER => Rebuild::Lower,
                _ => Rebuild::Trim,
            };
            // Case changes can lengthen non-ASCII text (`ß` to `SS`): at
            // most three bytes for each one.
            let most = if text.is_ascii() || id == m::TRIM {
                text.len()
            } else {
                text.len().saturating_mul(3)
            };
            (most, plan)
        }
        m::REPLACE => {
            arity(name, args, 2)?;
            let (from, to) = (ctx.str_arg(args[0], name)?, ctx.str_arg(args[1], name)?);
            if from.is_empty() {
                return Err(NativeError::new("replace: empty pattern"));
            }
            let count = text.matches(&*from).count();
            let len = text.len() - count * from.len() + count.saturating_mul(to.len());
            (len, Rebuild::Replace { from, to })
        }
        _ => {
            arity(name, args, 1)?;
            let n = int_arg(args[0], "repeat count")?;
            if n < 0 {
                return Err(NativeError::new("repeat count must not be negative"));
            }
            let total = (text.len() as u64).saturating_mul(n as u64);
            let total = usize::try_from(total).unwrap_or(usize::MAX);
            // Copies of nothing are nothing: `"".repeat(n)` made `n` empty
            // copies in one go, however large `n` (found by fuzzing).
            let copies = if text.is_empty() { 0 } else { n as usize };
            (total, Rebuild::Repeat(copies))
        }
    };
    // A case change's bound may exceed the limit where the result does
    // not: that result is checked once it is built.
    let bounded = matches!(plan, Rebuild::Upper | Rebuild::Lower);
    if out_len > heap.max_string_len && !bounded {
        return Err(NativeError::new("string too long"));
    }
    ctx.charge((text.len() + out_len) / crate::heap::BYTES_PER_UNIT);
    // The buffer counts against the heap limit while it is built.
    ctx.core.heap.charge(out_len).map_err(oom)?;
    let key = ctx
        .core
        .heap
        .intern_built(|heap, buffer| {
            let text = heap.str(s);
            buffer.reserve(out_len.min(heap.max_string_len));
            match &plan {
                Rebuild::Upper if text.is_ascii() => {
                    buffer.push_str(text);
                    buffer.make_ascii_uppercase();
                }
                Rebuild::Lower if text.is_ascii() => {
                    buffer.push_str(text);
                    buffer.make_ascii_lowercase();
                }
                Rebuild::Upper => buffer.extend(text.chars().flat_map(char::to_uppercase)),
                Rebuild::Lower => buffer.extend(text.chars().flat_map(char::to_lowercase)),
                Rebuild::Trim => buffer.push_str(text.trim()),
                Rebuild::Replace { from, to } => {
                    let mut last = 0;
                    for (at, _) in text.match_indices(from.as_str()) {
                        buffer.push_str(&text[last..at]);
                        buffer.push_str(to);
                        last = at + from.len();
                    }
                    buffer.push_str(&text[last..]);
                }
                Rebuild::Repeat(n) => {
                    for _ in 0..*n {
                        buffer.push_str(text);
                    }
                }
            }
        })
        .map_err(oom)?;
    if bounded && ctx.core.heap.str(key).len() > ctx.core.heap.max_string_len {
        return Err(NativeError::new("string too long"));
    }
    Ok(Value::Str(key))
}

fn vec3_method(
    ctx: &mut NativeCtx<'_>,
    v: Vec3,
    recv: Value,
    id: u16,
    args: &[Value],
) -> Result<Value, NativeError> {
    let name = known_name(id);
    let dot = |a: Vec3, b: Vec3| a.x * b.x + a.y * b.y + a.z * b.z;
    let length = |a: Vec3| dot(a, a).sqrt();
    Ok(match id {
        m::LENGTH => {
            arity(name, args, 0)?;
            Value::Float(length(v) as f64)
        }
        m::LENGTH_SQUARED => {
            arity(name, args, 0)?;
            Value::Float(dot(v, v) as f64)
        }
        m::NORMALIZE => {
            arity(name, args, 0)?;
            let len = length(v);
            Value::vec3(if len == 0.0 {
                Vec3::default()
            } else {
                Vec3::new(v.x / len, v.y / len, v.z / len)
            })
        }
        m::DOT => {
            arity(name, args, 1)?;
            Value::Float(dot(v, vec_arg(args[0], name)?) as f64)
        }
        m::CROSS => {
            arity(name, args, 1)?;
            let w = vec_arg(args[0], name)?;
            Value::vec3(Vec3::new(
                v.y * w.z - v.z * w.y,
                v.z * w.x - v.x * w.z,
                v.x * w.y - v.y * w.x,
            ))
        }
        m::DISTANCE => {
            arity(name, args, 1)?;
            let w = vec_arg(args[0], name)?;
            Value::Float(length(v.minus(w)) as f64)
        }
        m::LERP => {
            arity(name, args, 2)?;
            let w = vec_arg(args[0], name)?;
            let t = num_arg(args[1], name)?;
            Value::vec3(Vec3::new(
                v.x + (w.x - v.x) * t,
                v.y + (w.y - v.y) * t,
                v.z + (w.z - v.z) * t,
            ))
        }
        m::WITH_X | m::WITH_Y | m::WITH_Z => {
            arity(name, args, 1)?;
            let f = num_arg(args[0], name)?;
            Value::vec3(match id {
                m::WITH_X => Vec3::new(f, v.y, v.z),
                m::WITH_Y => Vec3::new(v.x, f, v.z),
                _ => Vec3::new(v.x, v.y, f),
            })
        }
        _ => return Err(unknown(ctx, recv, id)),
    })
}

fn quat_method(
    ctx: &mut NativeCtx<'_>,
    recv: Value,
    id: u16,
    args: &[Value],
) -> Result<Value, NativeError> {
    let name = known_name(id);
    let q = recv.as_quat().unwrap_or(Quat::IDENTITY);
    let rotation = |q: Option<Quat>| {
        q.and_then(Quat::to_value)
            .ok_or_else(|| NativeError(format!("{name}: the result is not a rotation")))
    };
    match id {
        m::INVERSE => {
            arity(name, args, 0)?;
            rotation(Some(q.inverse()))
        }
        m::SLERP => {
            arity(name, args, 2)?;
            let r = args[0].as_quat().ok_or_else(|| {
                NativeError(format!(
                    "{name} expects a quat, got {}",
                    args[0].type_name()
                ))
            })?;
            let t = args[1].as_f64().ok_or_else(|| {
                NativeError(format!(
                    "{name} expects a number, got {}",
                    args[1].type_name()
                ))
            })?;
            rotation(q.slerp(r, t))
        }
        _ => Err(unknown(ctx, recv, id)),
    }
}

/// Values the `quat` field names read.
pub fn quat_field(q: Value, name: &str) -> Option<Value> {
    let q = q.as_quat()?;
    Some(Value::Float(match name {
        "x" => q.x,
        "y" => q.y,
        "z" => q.z,
        "w" => q.w,
        _ => return None,
    } as f64))
}

/// Values the `vec3` field names read.
pub fn vec3_field(v: Vec3, name: &str) -> Option<Value> {
    Some(Value::Float(match name {
        "x" => v.x,
        "y" => v.y,
        "z" => v.z,
        _ => return None,
    } as f64))
}
