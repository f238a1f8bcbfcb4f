//! The standard library's free functions and constants.

use arrayvec::ArrayString;

use crate::bytecode::MathFn;
use crate::heap::{Heap, Key, SLICE_BYTES, Shown, Source};
use crate::native::{Arity, NativeCtx, NativeError, NativeResult};
use crate::ops;
use crate::printer::{Walk, write_number};
use crate::quat::Quat;
use crate::value::{StrKey, Value, Vec3};
use Builtin::{Native, Pure};

/// A built-in's implementation.
#[derive(Clone, Copy)]
pub(crate) enum Builtin {
    /// Reaches the VM (the heap, the budget, the print sink).
    Native(fn(&mut NativeCtx<'_>, &[Value]) -> NativeResult),
    /// Reads only its arguments (`sin`, `vec3`): the interpreter calls it
    /// in place (`NativeFn::pure`).
    Pure(PureFn),
}

/// A function of its arguments alone.
pub(crate) type PureFn = fn(&[Value]) -> NativeResult;

/// Every built-in function: name, arity, implementation.
pub(crate) const FUNCTIONS: &[(&str, Arity, Builtin)] = &[
    ("print", Arity::AtLeast(0), Native(print)),
    ("str", Arity::Exactly(1), Native(str_)),
    ("type", Arity::Exactly(1), Native(type_)),
    ("len", Arity::Exactly(1), Native(len)),
    ("int", Arity::Exactly(1), Native(int)),
    ("float", Arity::Exactly(1), Native(float)),
    ("div", Arity::Exactly(2), Native(div)),
    ("keys", Arity::Exactly(1), Native(keys)),
    ("values", Arity::Exactly(1), Native(values)),
    ("has", Arity::Exactly(2), Native(has)),
    ("remove", Arity::Exactly(2), Native(remove)),
    (UNPACK, Arity::Exactly(2), Native(unpack_list)),
    ("error", Arity::Exactly(1), Native(error)),
    ("assert", Arity::Between(1, 2), Native(assert)),
    ("abs", Arity::Exactly(1), Pure(abs)),
    ("min", Arity::AtLeast(1), Pure(min)),
    ("max", Arity::AtLeast(1), Pure(max)),
    ("floor", Arity::Exactly(1), Pure(floor)),
    ("ceil", Arity::Exactly(1), Pure(ceil)),
    ("round", Arity::Exactly(1), Pure(round)),
    ("sqrt", Arity::Exactly(1), Pure(sqrt)),
    ("sin", Arity::Exactly(1), Pure(sin)),
    ("cos", Arity::Exactly(1), Pure(cos)),
    ("tan", Arity::Exactly(1), Pure(tan)),
    ("atan2", Arity::Exactly(2), Pure(atan2)),
    ("pow", Arity::Exactly(2), Pure(pow)),
    ("clamp", Arity::Exactly(3), Pure(clamp)),
    ("lerp", Arity::Exactly(3), Pure(lerp)),
    ("random", Arity::Exactly(0), Native(random)),
    ("random_int", Arity::Exactly(2), Native(random_int)),
    ("clock", Arity::Exactly(0), Native(clock)),
    ("vec3", Arity::Exactly(3), Pure(vec3)),
    ("quat", Arity::Exactly(4), Pure(quat)),
    ("quat_axis_angle", Arity::Exactly(2), Pure(quat_axis_angle)),
    ("char", Arity::Exactly(1), Native(char_)),
];

/// Built-in constants.
pub(crate) const CONSTANTS: &[(&str, Value)] = &[
    ("PI", Value::Float(std::f64::consts::PI)),
    ("TAU", Value::Float(std::f64::consts::TAU)),
    ("ZERO", Value::Vec3(Vec3::new(0.0, 0.0, 0.0))),
    ("ONE", Value::Vec3(Vec3::new(1.0, 1.0, 1.0))),
    ("UP", Value::Vec3(Vec3::new(0.0, 1.0, 0.0))),
    ("RIGHT", Value::Vec3(Vec3::new(1.0, 0.0, 0.0))),
    ("FORWARD", Value::Vec3(Vec3::new(0.0, 0.0, -1.0))),
    (
        "IDENTITY",
        Value::Quat {
            largest: 3,
            low: 0,
            rest: [0.0, 0.0, 0.0],
        },
    ),
];

fn number(name: &str, v: Value) -> Result<f64, NativeError> {
    v.as_f64().ok_or_else(|| not_a_number(name, v))
}

/// A number as a vec3 component (see `Value::as_f32`).
fn number_f32(name: &str, v: Value) -> Result<f32, NativeError> {
    v.as_f32().ok_or_else(|| not_a_number(name, v))
}

/// An `Op::Math`: the built-in `f` of `v`, exactly as a call of it.
pub(crate) fn math(f: MathFn, v: Value) -> NativeResult {
    let args = [v];
    match f {
        MathFn::Abs => abs(&args),
        MathFn::Floor => floor(&args),
        MathFn::Ceil => ceil(&args),
        MathFn::Round => round(&args),
        MathFn::Sqrt => sqrt(&args),
        MathFn::Sin => sin(&args),
        MathFn::Cos => cos(&args),
        MathFn::Tan => tan(&args),
    }
}

/// An `Op::NewVec3`: `vec3(x, y, z)`, exactly as a call of it.
pub(crate) fn new_vec3(x: Value, y: Value, z: Value) -> NativeResult {
    vec3(&[x, y, z])
}

fn not_a_number(name: &str, v: Value) -> NativeError {
    NativeError(format!("{name} expects a number, got {}", v.type_name()))
}

/// `values` shown as `print` shows them, a space between, if that takes
/// at most a slice of work; `None` if it takes more (then
/// `show_long` makes it, from the start).
fn show_short(ctx: &mut NativeCtx<'_>, values: &[Value]) -> Result<Option<String>, NativeError> {
    let (heap, natives) = (&ctx.core.heap, &ctx.core.natives);
    let mut line = String::new();
    let mut budget = SLICE_BYTES;
    for (i, &v) in values.iter().enumerate() {
        if i > 0 {
            line.push(' ');
        }
        let shown = Walk::display(v)
            .write_some(heap, natives, &mut line, &mut budget)
            .map_err(|_| NativeError::new("string too long"))?;
        if !shown {
            return Ok(None);
        }
    }
    ctx.charge((SLICE_BYTES - budget) / crate::heap::BYTES_PER_UNIT);
    Ok(Some(line))
}

/// `values` shown as `print` shows them, a space between, made a slice
/// at a time (`heap/long_work.rs`).
fn show_long(ctx: &mut NativeCtx<'_>, values: &[Value]) -> Result<StrKey, NativeError> {
    let core = &mut *ctx.core;
    let shown = Source::Show(Shown(values.into()));
    Ok(core.heap.intern_long(shown, Some(&core.natives))?)
}

fn print(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    if let Some(line) = show_short(ctx, args)? {
        ctx.print(&line);
        return Ok(Value::Nil);
    }
    let line = show_long(ctx, args)?;
    let core = &mut *ctx.core;
    (core.print)(core.heap.str(line));
    Ok(Value::Nil)
}

fn str_(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    if let Value::Str(_) = args[0] {
        return Ok(args[0]);
    }
    // A number (`"hp " + str(hp)`, the common case) is written on the
    // stack, without the printer's walk and a buffer of its own. Every
    // `i64` and every `f64` as `{:?}` writes it fits.
    let mut number = ArrayString::<32>::new();
    if let Some(Ok(())) = write_number(args[0], &mut number) {
        ctx.charge(number.len() / crate::heap::BYTES_PER_UNIT);
        return ctx.string(&number);
    }
    if let Some(text) = show_short(ctx, args)? {
        return ctx.string(&text);
    }
    Ok(Value::Str(show_long(ctx, args)?))
}

/// `char(n)`: the one-character string of code point `n` (`s.code(i)`
/// reads one back).
fn char_(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let n = match args[0] {
        Value::Int(n) => n,
        other => {
            return Err(NativeError(format!(
                "char expects an int, got {}",
                other.type_name()
            )));
        }
    };
    let c = u32::try_from(n)
        .ok()
        .and_then(char::from_u32)
        .ok_or_else(|| {
            NativeError(format!(
                "char expects a code point (0 to 1114111, not 55296 to 57343), got {n}"
            ))
        })?;
    let heap = &mut ctx.core.heap;
    if c.len_utf8() > heap.max_string_len {
        return Err(NativeError::new("string too long"));
    }
    let key = heap
        .char_string(c)
        .map_err(|_| NativeError::new("out of memory"))?;
    Ok(Value::Str(key))
}

fn type_(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let name = match args[0] {
        Value::Host(k) => match ctx.core.heap.hosts.get(k) {
            Some(h) => h.type_name().to_string(),
            None => "ref".to_string(),
        },
        other => other.type_name().to_string(),
    };
    ctx.string(&name)
}

fn stale() -> NativeError {
    NativeError(crate::error::stale())
}

fn len(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    length(&ctx.core.heap, args[0]).map(Value::Int)
}

/// `len(v)`: also the interpreter's `Len`, which runs it inline.
pub(crate) fn length(heap: &Heap, v: Value) -> Result<i64, NativeError> {
    let n = match v {
        Value::Str(k) => heap.strings.get(k).ok_or_else(stale)?.char_len,
        Value::List(k) => heap.lists.get(k).ok_or_else(stale)?.len(),
        Value::Map(k) => heap.maps.get(k).ok_or_else(stale)?.len(),
        other => {
            return Err(NativeError(format!(
                "len expects a string, list or map, got {}",
                other.type_name()
            )));
        }
    };
    Ok(n as i64)
}

fn float_to_int(f: f64) -> Result<i64, NativeError> {
    if f.is_nan() {
        return Err(NativeError::new("cannot convert NaN to int"));
    }
    let t = f.trunc();
    if !(-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&t) {
        return Err(NativeError(format!(
            "cannot convert {f:?} to int: out of range"
        )));
    }
    Ok(t as i64)
}

fn int(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    Ok(match args[0] {
        Value::Int(i) => Value::Int(i),
        Value::Float(f) => Value::Int(float_to_int(f)?),
        Value::Str(k) => ctx
            .core
            .heap
            .str(k)
            .trim()
            .parse::<i64>()
            .map_or(Value::Nil, Value::Int),
        other => {
            return Err(NativeError(format!(
                "int expects a number or string, got {}",
                other.type_name()
            )));
        }
    })
}

fn float(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    Ok(match args[0] {
        Value::Int(i) => Value::Float(i as f64),
        Value::Float(f) => Value::Float(f),
        Value::Str(k) => {
            let text = ctx.core.heap.str(k).trim();
            // Only Ark's own number spellings parse (not "inf" or "nan").
            let ok = !text.is_empty()
                && text
                    .chars()
                    .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'));
            match text.parse::<f64>() {
                Ok(f) if ok => Value::Float(f),
                _ => Value::Nil,
            }
        }
        other => {
            return Err(NativeError(format!(
                "float expects a number or string, got {}",
                other.type_name()
            )));
        }
    })
}

fn div(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    ops::floor_div(args[0], args[1]).map_err(NativeError)
}

fn map_arg(name: &str, v: Value) -> Result<crate::value::MapKey, NativeError> {
    match v {
        Value::Map(k) => Ok(k),
        other => Err(NativeError(format!(
            "{name} expects a map, got {}",
            other.type_name()
        ))),
    }
}

fn keys(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let m = map_arg("keys", args[0])?;
    Ok(Value::List(ctx.core.heap.map_items(m, true)?))
}

fn values(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let m = map_arg("values", args[0])?;
    Ok(Value::List(ctx.core.heap.map_items(m, false)?))
}

fn has(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let m = map_arg("has", args[0])?;
    let key = Key::from_value(args[1]).map_err(NativeError)?;
    let map = ctx.core.heap.maps.get(m).ok_or_else(stale)?;
    Ok(Value::Bool(map.contains_key(&key)))
}

fn remove(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let m = map_arg("remove", args[0])?;
    let key = Key::from_value(args[1]).map_err(NativeError)?;
    ctx.core.heap.maps.get(m).ok_or_else(stale)?;
    Ok(ctx.core.heap.map_remove(m, key).unwrap_or(Value::Nil))
}

/// The built-in that checks the value of `let [a, b] = value;`, by a name
/// no script can write.
pub(crate) const UNPACK: &str = "unpack list";

/// `value`, if it is a list of exactly `count` items (the names it is
/// unpacked into); else the error a script sees.
fn unpack_list(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let Value::Int(count) = args[1] else {
        return Err(NativeError(
            "internal error: unpacking without a count".into(),
        ));
    };
    let names = if count == 1 { "name" } else { "names" };
    match args[0] {
        Value::List(l) => {
            let len = ctx.core.heap.lists.get(l).ok_or_else(stale)?.len();
            if len as i64 == count {
                Ok(args[0])
            } else {
                let items = if len == 1 { "item" } else { "items" };
                Err(NativeError(format!(
                    "cannot unpack a list of {len} {items} into {count} {names}"
                )))
            }
        }
        other => {
            let what = other.type_name();
            let article = if what.starts_with(['a', 'e', 'i', 'o', 'u']) {
                "an"
            } else {
                "a"
            };
            Err(NativeError(format!(
                "cannot unpack {article} {what} into {count} {names}: only a list unpacks"
            )))
        }
    }
}

fn error(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    Err(NativeError(ctx.display(args[0])?))
}

fn assert(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    if args[0].is_truthy() {
        return Ok(args[0]);
    }
    Err(NativeError(match args.get(1) {
        Some(&msg) => format!("assertion failed: {}", ctx.display(msg)?),
        None => "assertion failed".to_string(),
    }))
}

fn abs(args: &[Value]) -> NativeResult {
    match args[0] {
        Value::Int(i) => Ok(Value::Int(i.wrapping_abs())),
        other => Ok(Value::Float(number("abs", other)?.abs())),
    }
}

/// `min`/`max`: the first argument that is least/greatest, as it was given
/// (int or float). Any NaN argument makes the result NaN.
fn extreme(name: &str, args: &[Value], pick_later: std::cmp::Ordering) -> NativeResult {
    let mut best = args[0];
    for &a in args {
        if number(name, a)?.is_nan() {
            return Ok(Value::Float(f64::NAN));
        }
    }
    for &a in &args[1..] {
        if crate::ops::compare_numbers(a, best) == Some(pick_later) {
            best = a;
        }
    }
    Ok(best)
}

fn min(args: &[Value]) -> NativeResult {
    extreme("min", args, std::cmp::Ordering::Less)
}

fn max(args: &[Value]) -> NativeResult {
    extreme("max", args, std::cmp::Ordering::Greater)
}

fn rounding(name: &str, v: Value, f: fn(f64) -> f64) -> NativeResult {
    match v {
        Value::Int(i) => Ok(Value::Int(i)),
        other => Ok(Value::Int(float_to_int(f(number(name, other)?))?)),
    }
}

fn floor(args: &[Value]) -> NativeResult {
    rounding("floor", args[0], f64::floor)
}

fn ceil(args: &[Value]) -> NativeResult {
    rounding("ceil", args[0], f64::ceil)
}

fn round(args: &[Value]) -> NativeResult {
    rounding("round", args[0], f64::round)
}

fn unary_float(name: &str, v: Value, f: fn(f64) -> f64) -> NativeResult {
    Ok(Value::Float(f(number(name, v)?)))
}

fn sqrt(args: &[Value]) -> NativeResult {
    unary_float("sqrt", args[0], f64::sqrt)
}

fn sin(args: &[Value]) -> NativeResult {
    unary_float("sin", args[0], f64::sin)
}

fn cos(args: &[Value]) -> NativeResult {
    unary_float("cos", args[0], f64::cos)
}

fn tan(args: &[Value]) -> NativeResult {
    unary_float("tan", args[0], f64::tan)
}

fn atan2(args: &[Value]) -> NativeResult {
    Ok(Value::Float(
        number("atan2", args[0])?.atan2(number("atan2", args[1])?),
    ))
}

fn pow(args: &[Value]) -> NativeResult {
    Ok(Value::Float(
        number("pow", args[0])?.powf(number("pow", args[1])?),
    ))
}

fn clamp(args: &[Value]) -> NativeResult {
    if let (Value::Int(x), Value::Int(lo), Value::Int(hi)) = (args[0], args[1], args[2]) {
        return Ok(Value::Int(x.max(lo).min(hi)));
    }
    let (x, lo, hi) = (
        number("clamp", args[0])?,
        number("clamp", args[1])?,
        number("clamp", args[2])?,
    );
    Ok(Value::Float(x.max(lo).min(hi)))
}

fn lerp(args: &[Value]) -> NativeResult {
    let (a, b, t) = (
        number("lerp", args[0])?,
        number("lerp", args[1])?,
        number("lerp", args[2])?,
    );
    Ok(Value::Float(a + (b - a) * t))
}

/// xorshift64*: small, fast, and good enough for gameplay randomness.
fn next_random(state: &mut u64) -> u64 {
    let mut x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    x.wrapping_mul(0x2545_f491_4f6c_dd1d)
}

fn random(ctx: &mut NativeCtx<'_>, _: &[Value]) -> NativeResult {
    let bits = next_random(ctx.rng()) >> 11;
    Ok(Value::Float(bits as f64 / (1u64 << 53) as f64))
}

fn random_int(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let (Value::Int(lo), Value::Int(hi)) = (args[0], args[1]) else {
        return Err(NativeError::new("random_int expects two ints"));
    };
    if lo > hi {
        return Err(NativeError(format!("random_int: empty range {lo}..={hi}")));
    }
    let span = (hi as i128 - lo as i128 + 1) as u128;
    let r = next_random(ctx.rng()) as u128 % span;
    Ok(Value::Int((lo as i128 + r as i128) as i64))
}

fn clock(ctx: &mut NativeCtx<'_>, _: &[Value]) -> NativeResult {
    Ok(Value::Float(ctx.core.start.elapsed().as_secs_f64()))
}

/// `quat(x, y, z, w)`: the rotation, normalized if its length is not 1.
fn quat(args: &[Value]) -> NativeResult {
    let c = |i: usize| number_f32("quat", args[i]);
    Quat::new(c(0)?, c(1)?, c(2)?, c(3)?)
        .to_value()
        .ok_or_else(|| NativeError::new("quat needs a finite, non-zero length"))
}

/// `quat_axis_angle(axis, angle)`: the rotation by `angle` radians about
/// `axis`.
fn quat_axis_angle(args: &[Value]) -> NativeResult {
    let Value::Vec3(axis) = args[0] else {
        return Err(NativeError(format!(
            "quat_axis_angle expects a vec3 axis, got {}",
            args[0].type_name()
        )));
    };
    let angle = number("quat_axis_angle", args[1])?;
    Quat::from_axis_angle(axis, angle)
        .and_then(Quat::to_value)
        .ok_or_else(|| NativeError::new("quat_axis_angle needs a non-zero axis and a finite angle"))
}

fn vec3(args: &[Value]) -> NativeResult {
    let c = |i: usize| number_f32("vec3", args[i]);
    Ok(Value::vec3(Vec3::new(c(0)?, c(1)?, c(2)?)))
}
