//! The semantics of Ark's operators on values: arithmetic, comparison and
//! equality. The interpreter inlines the int and float fast paths and calls
//! here for everything else.

use std::cmp::Ordering;

use crate::heap::Heap;
use crate::value::{StrKey, Value, Vec3};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arith {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

impl Arith {
    fn verb(self) -> &'static str {
        match self {
            Arith::Add => "add",
            Arith::Sub => "subtract",
            Arith::Mul => "multiply",
            Arith::Div => "divide",
            Arith::Mod => "take modulo of",
        }
    }
}

/// Floored integer modulo: the sign follows the divisor.
#[inline]
pub fn int_mod(a: i64, b: i64) -> Result<i64, String> {
    if b == 0 {
        return Err("division by zero".into());
    }
    Ok(floored_rem(a, b))
}

/// Floored remainder of ints, `b != 0` (`i64::MIN % -1` is 0).
#[inline]
pub fn floored_rem(a: i64, b: i64) -> i64 {
    let r = a.wrapping_rem(b);
    if r != 0 && (r ^ b) < 0 { r + b } else { r }
}

/// Floored float modulo (IEEE: `x % 0.0` is NaN).
#[inline]
pub fn float_mod(a: f64, b: f64) -> f64 {
    let m = a % b;
    if m != 0.0 && (m < 0.0) != (b < 0.0) {
        m + b
    } else {
        m
    }
}

/// `a & b`, `a | b`, `a ^ b`, `a << b`, `a >> b` and `~a` on ints (two's
/// complement, 64 bits). A shift count must be 0 to 63 (Rust would
/// overflow, Lua gives 0: an error says what went wrong); `>>` keeps the
/// sign (arithmetic), `<<` drops the bits shifted out. Out of line but
/// not `#[cold]`: marked cold, its call made the interpreter loop keep its
/// instruction pointer on the stack (`loop.ark` 0.42 s against 0.34 s).
#[inline(never)]
pub fn bitwise(op: crate::bytecode::BitOp, a: Value, b: Value) -> Result<Value, String> {
    use crate::bytecode::BitOp;
    let not_ints = || {
        let types = if op == BitOp::Not {
            a.type_name().to_string()
        } else {
            format!("{} and {}", a.type_name(), b.type_name())
        };
        format!(
            "cannot apply {} to {types} (bitwise operators take ints)",
            op.symbol()
        )
    };
    let Value::Int(x) = a else {
        return Err(not_ints());
    };
    if op == BitOp::Not {
        return Ok(Value::Int(!x));
    }
    let Value::Int(y) = b else {
        return Err(not_ints());
    };
    let shift = || {
        u32::try_from(y)
            .ok()
            .filter(|&n| n < 64)
            .ok_or_else(|| format!("shift count {y} out of range (0 to 63)"))
    };
    Ok(Value::Int(match op {
        BitOp::And => x & y,
        BitOp::Or => x | y,
        BitOp::Xor => x ^ y,
        BitOp::Shl => x << shift()?,
        BitOp::Shr => x >> shift()?,
        BitOp::Not => !x,
    }))
}

/// Floor division, `div(a, b)`.
pub fn floor_div(a: Value, b: Value) -> Result<Value, String> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => {
            if y == 0 {
                return Err("division by zero".into());
            }
            let q = x.wrapping_div(y);
            Ok(Value::Int(
                if (x.wrapping_rem(y) != 0) && ((x < 0) != (y < 0)) {
                    q - 1
                } else {
                    q
                },
            ))
        }
        _ => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => Ok(Value::Float((x / y).floor())),
            _ => Err(format!(
                "div expects numbers, got {} and {}",
                a.type_name(),
                b.type_name()
            )),
        },
    }
}

#[inline]
fn float_op(op: Arith, x: f64, y: f64) -> f64 {
    match op {
        Arith::Add => x + y,
        Arith::Sub => x - y,
        Arith::Mul => x * y,
        Arith::Div => x / y,
        Arith::Mod => float_mod(x, y),
    }
}

/// `a <op> b` for every operand combination.
pub fn arith(heap: &mut Heap, op: Arith, a: Value, b: Value) -> Result<Value, String> {
    use Value::*;
    Ok(match (a, b) {
        (Int(x), Int(y)) => match op {
            Arith::Add => Int(x.wrapping_add(y)),
            Arith::Sub => Int(x.wrapping_sub(y)),
            Arith::Mul => Int(x.wrapping_mul(y)),
            Arith::Div => Float(x as f64 / y as f64),
            Arith::Mod => Int(int_mod(x, y)?),
        },
        (Int(_) | Float(_), Int(_) | Float(_)) => Float(float_op(
            op,
            a.as_f64().unwrap_or(0.0),
            b.as_f64().unwrap_or(0.0),
        )),
        (Vec3(v), Vec3(w)) => match op {
            Arith::Add => Vec3(v.plus(w)),
            Arith::Sub => Vec3(v.minus(w)),
            Arith::Mul => Vec3(crate::value::Vec3::new(v.x * w.x, v.y * w.y, v.z * w.z)),
            _ => return Err(type_error(op, a, b)),
        },
        (Vec3(v), Int(_) | Float(_)) if matches!(op, Arith::Mul | Arith::Div) => {
            let s = b.as_f32().unwrap_or(0.0);
            Vec3(if op == Arith::Mul {
                v.scaled(s)
            } else {
                crate::value::Vec3::new(v.x / s, v.y / s, v.z / s)
            })
        }
        (Int(_) | Float(_), Vec3(v)) if op == Arith::Mul => {
            Vec3(v.scaled(a.as_f32().unwrap_or(0.0)))
        }
        (Str(x), Str(y)) if op == Arith::Add => Str(concat(heap, &[x, y])?),
        (Quat { .. }, Quat { .. } | Vec3(_)) if op == Arith::Mul => quat_product(a, b)?,
        _ => return Err(type_error(op, a, b)),
    })
}

/// `q * r` (the rotation `r`, then `q`) and `q * v` (`v` rotated).
fn quat_product(q: Value, b: Value) -> Result<Value, String> {
    let q = q.as_quat().unwrap_or(crate::Quat::IDENTITY);
    match b {
        Value::Vec3(v) => Ok(Value::vec3(q.rotate(v))),
        _ => b
            .as_quat()
            .and_then(|r| q.compose(r))
            .and_then(crate::Quat::to_value)
            .ok_or_else(|| "quat product is not a rotation".to_string()),
    }
}

/// The strings `parts` joined at once (`a + b`, and `a + b + c` without an
/// intermediate string).
pub fn concat(heap: &mut Heap, parts: &[StrKey]) -> Result<StrKey, String> {
    heap.intern_concat(parts)
}

/// What `a + b` raises on its operands' types alone: nothing for two
/// numbers, two vec3s or two strings (as `arith` adds them), the type
/// error otherwise. Out of line: `CheckAdd` is rare, and its code inlined
/// into the interpreter's loop moved the loop's hot arms.
#[inline(never)]
pub fn check_add(a: &Value, b: &Value) -> Result<(), String> {
    use Value::*;
    match (a, b) {
        (Int(_) | Float(_), Int(_) | Float(_)) | (Vec3(_), Vec3(_)) | (Str(_), Str(_)) => Ok(()),
        _ => Err(type_error(Arith::Add, *a, *b)),
    }
}

/// What adding `values` in order (`((a + b) + c) + ..`) raises on their
/// types alone, as [`check_add`] for each addition. The sums are followed
/// by kind, not computed: a sum that passes the check is of its left
/// operand's kind, but an int plus a float, which is a float.
#[inline(never)]
pub fn check_add_chain(values: &[Value]) -> Result<(), String> {
    let Some((&first, rest)) = values.split_first() else {
        return Ok(());
    };
    let mut sum = first;
    for b in rest {
        check_add(&sum, b)?;
        if let (Value::Int(_), Value::Float(_)) = (sum, b) {
            sum = *b;
        }
    }
    Ok(())
}

fn type_error(op: Arith, a: Value, b: Value) -> String {
    format!(
        "cannot {} {} and {}",
        op.verb(),
        a.type_name(),
        b.type_name()
    )
}

/// Unary minus.
pub fn negate(v: Value) -> Result<Value, String> {
    match v {
        Value::Int(i) => Ok(Value::Int(i.wrapping_neg())),
        Value::Float(f) => Ok(Value::Float(-f)),
        Value::Vec3(v) => Ok(Value::Vec3(Vec3::new(-v.x, -v.y, -v.z))),
        other => Err(format!("cannot negate {}", other.type_name())),
    }
}

/// Orders two numbers by their exact values, as Lua 5.4 does: an int and a
/// float compare as the numbers they are, not after rounding the int to a
/// float (`2^53 + 1 > 2^53 as float`). `None` when either is NaN; both
/// must be numbers.
#[inline]
pub fn compare_numbers(a: Value, b: Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(&y)),
        (Value::Float(x), Value::Float(y)) => x.partial_cmp(&y),
        (Value::Int(x), Value::Float(y)) => int_cmp_float(x, y),
        (Value::Float(x), Value::Int(y)) => int_cmp_float(y, x).map(Ordering::reverse),
        _ => None,
    }
}

/// An int against a float, exactly.
fn int_cmp_float(i: i64, f: f64) -> Option<Ordering> {
    // 2^63: the first float above every i64.
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if f.is_nan() {
        return None;
    }
    if f >= TWO_63 {
        return Some(Ordering::Less);
    }
    if f < -TWO_63 {
        return Some(Ordering::Greater);
    }
    // In range: the float's integer part is an exact i64.
    let whole = f.trunc();
    Some(i.cmp(&(whole as i64)).then_with(|| {
        if f > whole {
            Ordering::Less
        } else if f < whole {
            Ordering::Greater
        } else {
            Ordering::Equal
        }
    }))
}

/// `a == b`: numbers by value across int and float, strings by content
/// (interned, so by key), objects by identity.
#[inline]
pub fn equal(a: Value, b: Value) -> bool {
    equal_ref(&a, &b)
}

/// `equal` on values in place: the interpreter compares registers without
/// copying them whole (reading tag and payload separately lets the CPU
/// forward them from the stores that wrote them).
#[inline]
pub fn equal_ref(a: &Value, b: &Value) -> bool {
    use Value::*;
    match (a, b) {
        (Nil, Nil) => true,
        (Bool(x), Bool(y)) => x == y,
        (Int(x), Int(y)) => x == y,
        (Float(x), Float(y)) => x == y,
        (Int(x), Float(y)) | (Float(y), Int(x)) => int_cmp_float(*x, *y) == Some(Ordering::Equal),
        (Vec3(x), Vec3(y)) => x == y,
        (Quat { .. }, Quat { .. }) => a.as_quat() == b.as_quat(),
        (Entity(x), Entity(y)) => x == y,
        (Str(x), Str(y)) => x == y,
        (List(x), List(y)) => x == y,
        (Map(x), Map(y)) => x == y,
        (Closure(x), Closure(y)) => x == y,
        (Native(x), Native(y)) => x == y,
        (Host(x), Host(y)) => x == y,
        (EntityRef { .. }, EntityRef { .. }) => a == b,
        _ => false,
    }
}

/// Orders two values for `<` and friends: numbers, or strings by bytes.
/// `None` for NaN comparisons (every ordered comparison is then false).
pub fn compare(heap: &Heap, a: Value, b: Value) -> Result<Option<Ordering>, String> {
    use Value::*;
    match (a, b) {
        (Int(x), Int(y)) => Ok(Some(x.cmp(&y))),
        (Int(_) | Float(_), Int(_) | Float(_)) => Ok(compare_numbers(a, b)),
        (Str(x), Str(y)) => Ok(Some(heap.str(x).cmp(heap.str(y)))),
        _ => Err(format!(
            "cannot compare {} and {}",
            a.type_name(),
            b.type_name()
        )),
    }
}

/// `a < b`.
#[inline]
pub fn less(heap: &Heap, a: Value, b: Value) -> Result<bool, String> {
    if let (Value::Int(x), Value::Int(y)) = (a, b) {
        return Ok(x < y);
    }
    Ok(compare(heap, a, b)? == Some(Ordering::Less))
}

/// `a <= b`.
#[inline]
pub fn less_equal(heap: &Heap, a: Value, b: Value) -> Result<bool, String> {
    if let (Value::Int(x), Value::Int(y)) = (a, b) {
        return Ok(x <= y);
    }
    Ok(matches!(
        compare(heap, a, b)?,
        Some(Ordering::Less | Ordering::Equal)
    ))
}

/// `a > b` (errors name the operands in source order).
#[inline]
pub fn greater(heap: &Heap, a: Value, b: Value) -> Result<bool, String> {
    if let (Value::Int(x), Value::Int(y)) = (a, b) {
        return Ok(x > y);
    }
    Ok(compare(heap, a, b)? == Some(Ordering::Greater))
}

/// `a >= b`.
#[inline]
pub fn greater_equal(heap: &Heap, a: Value, b: Value) -> Result<bool, String> {
    if let (Value::Int(x), Value::Int(y)) = (a, b) {
        return Ok(x >= y);
    }
    Ok(matches!(
        compare(heap, a, b)?,
        Some(Ordering::Greater | Ordering::Equal)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Quat;
    use crate::value::Vec3;

    /// `check_add` raises exactly what `a + b` raises on its types, for
    /// every pair of kinds: an `Add3` after it then fails only where two
    /// additions would have failed anyway.
    #[test]
    fn check_add_agrees_with_addition_on_every_pair_of_kinds() {
        let mut heap = Heap::new(1 << 20, 1 << 16);
        let s = Value::Str(heap.intern("ab").unwrap());
        let list = Value::List(heap.alloc_list(vec![]).unwrap());
        let quat = Quat::IDENTITY.to_value().unwrap();
        let values = [
            Value::Nil,
            Value::Bool(true),
            Value::Int(2),
            Value::Float(0.5),
            s,
            Value::vec3(Vec3::new(1.0, 2.0, 3.0)),
            quat,
            list,
            Value::Entity(7),
        ];
        for &a in &values {
            for &b in &values {
                let added = arith(&mut heap, Arith::Add, a, b).map(|_| ());
                assert_eq!(check_add(&a, &b), added, "{a:?} + {b:?}");
            }
        }
    }

    /// `check_add_chain` raises exactly what adding its operands in order
    /// raises (the first failing addition's error), for every triple of
    /// kinds, with ints and floats mixed along the way.
    #[test]
    fn check_add_chain_agrees_with_adding_in_order() {
        let mut heap = Heap::new(1 << 20, 1 << 16);
        let s = Value::Str(heap.intern("ab").unwrap());
        let values = [
            Value::Nil,
            Value::Int(2),
            Value::Float(0.5),
            s,
            Value::vec3(Vec3::new(1.0, 2.0, 3.0)),
            Value::Bool(false),
        ];
        for &a in &values {
            for &b in &values {
                for &c in &values {
                    let added = arith(&mut heap, Arith::Add, a, b)
                        .and_then(|ab| arith(&mut heap, Arith::Add, ab, c))
                        .map(|_| ());
                    assert_eq!(check_add_chain(&[a, b, c]), added, "{a:?} + {b:?} + {c:?}");
                }
            }
        }
        assert_eq!(check_add_chain(&[]), Ok(()));
        assert_eq!(check_add_chain(&[Value::Nil]), Ok(()));
        assert_eq!(
            check_add_chain(&[Value::Int(1), Value::Int(2), s]),
            Err("cannot add int and string".to_string())
        );
        assert_eq!(
            check_add_chain(&[Value::Int(1), Value::Float(2.0), s]),
            Err("cannot add float and string".to_string())
        );
    }
}
