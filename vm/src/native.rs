//! Native functions: Rust code that scripts call, and the conversions
//! between Ark values and Rust types.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use crate::heap::{ArkMap, Heap, Key};
use crate::value::{Value, Vec3};
use crate::vm::Core;

/// An error raised by a native function; it becomes a runtime error at the
/// call site, with the script's stack.
#[derive(Clone, Debug, PartialEq)]
pub struct NativeError(pub String);

impl NativeError {
    pub fn new(message: impl Into<String>) -> Self {
        NativeError(message.into())
    }
}

impl fmt::Display for NativeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<String> for NativeError {
    fn from(s: String) -> Self {
        NativeError(s)
    }
}

impl From<&str> for NativeError {
    fn from(s: &str) -> Self {
        NativeError(s.to_string())
    }
}

pub type NativeResult = Result<Value, NativeError>;

/// The signature of every native function.
pub type NativeFnPtr = dyn Fn(&mut NativeCtx<'_>, &[Value]) -> NativeResult + Send + Sync;

/// How many arguments a native takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arity {
    Exactly(u8),
    AtLeast(u8),
    Between(u8, u8),
}

impl Arity {
    pub fn accepts(self, n: usize) -> bool {
        match self {
            Arity::Exactly(k) => n == k as usize,
            Arity::AtLeast(k) => n >= k as usize,
            Arity::Between(lo, hi) => (lo as usize..=hi as usize).contains(&n),
        }
    }

    fn describe(self) -> String {
        let plural = |k: u8| if k == 1 { "argument" } else { "arguments" };
        match self {
            Arity::Exactly(k) => format!("{k} {}", plural(k)),
            Arity::AtLeast(k) => format!("at least {k} {}", plural(k)),
            Arity::Between(lo, hi) => format!("{lo} to {hi} arguments"),
        }
    }

    /// The message for a call with the wrong number of arguments.
    pub fn mismatch(self, name: &str, got: usize) -> String {
        format!("{name} expects {} but got {got}", self.describe())
    }
}

/// A registered native function.
#[derive(Clone)]
pub struct NativeFn {
    pub name: Arc<str>,
    pub arity: Arity,
    pub func: Arc<NativeFnPtr>,
    /// For a built-in that reads only its arguments (`sin`, `vec3`): the
    /// function itself, which the interpreter calls directly, without the
    /// context a native gets.
    pub(crate) pure: Option<crate::builtins::PureFn>,
}

/// What a native function can reach while it runs: the heap, the print
/// sink, the budget, and the host's own data.
pub struct NativeCtx<'a> {
    pub(crate) core: &'a mut Core,
    pub(crate) fuel: &'a mut i64,
    pub(crate) host: Option<&'a mut (dyn Any + Send)>,
}

impl<'a> NativeCtx<'a> {
    /// The heap, to read objects or allocate new ones. Replacing it ends
    /// the running call with a runtime error (see [`crate::Vm::heap_mut`]).
    pub fn heap(&mut self) -> &mut Heap {
        &mut self.core.heap
    }

    /// Charges the budget for `units` of work (one unit is about one
    /// instruction). Natives whose work grows with their input call this so
    /// that a budget bounds them too.
    pub fn charge(&mut self, units: usize) {
        *self.fuel -= units.min(i64::MAX as usize) as i64;
    }

    /// Writes a line to the VM's print sink.
    pub fn print(&mut self, text: &str) {
        (self.core.print)(text);
    }

    /// The host data passed to [`crate::Vm::resume_with`], if it is a `T`.
    pub fn host<T: Any>(&mut self) -> Option<&mut T> {
        self.host.as_deref_mut()?.downcast_mut::<T>()
    }

    /// A host object's value as plain data ([`crate::HostObject::to_data`]);
    /// any other value as it is.
    pub fn to_data(&mut self, v: Value) -> Result<Value, NativeError> {
        match v {
            Value::Host(h) => {
                crate::access::with_host(self, h, |obj, ctx| obj.to_data(ctx)).map_err(NativeError)
            }
            Value::EntityRef { path, entity } => {
                crate::access::with_entity_host(self, |host, ctx| {
                    host.ref_to_data(ctx, path, entity)
                })
                .unwrap_or_else(|| Err("cannot copy a ref out of the script".to_string()))
                .map_err(NativeError)
            }
            other => Ok(other),
        }
    }

    /// `str(v)`: how `print` shows a value; `string too long` past the
    /// longest string a script may make. Charges for the text made.
    pub fn display(&mut self, v: Value) -> Result<String, NativeError> {
        let text = crate::printer::display(&self.core.heap, &self.core.natives, v)
            .map_err(|_| NativeError::new("string too long"))?;
        self.charge(text.len() / 16);
        Ok(text)
    }

    /// Converts a Rust value into an Ark value.
    pub fn to_value<T: IntoArk>(&mut self, v: T) -> NativeResult {
        v.into_ark(&mut self.core.heap).map_err(NativeError)
    }

    /// Converts an Ark value into a Rust value.
    pub fn from_value<T: FromArk>(&self, v: Value) -> Result<T, NativeError> {
        T::from_ark(v, &self.core.heap).map_err(NativeError)
    }

    /// Allocates a string.
    pub fn string(&mut self, s: &str) -> NativeResult {
        self.to_value(s)
    }

    /// The text of a string value, or an error naming what it was instead.
    pub fn str_arg(&self, v: Value, what: &str) -> Result<String, NativeError> {
        match v {
            Value::Str(k) => Ok(self.core.heap.str(k).to_string()),
            other => Err(NativeError(format!(
                "{what} expects a string, got {}",
                other.type_name()
            ))),
        }
    }

    pub(crate) fn rng(&mut self) -> &mut u64 {
        &mut self.core.rng
    }
}

/// Conversion from an Ark value to a Rust type.
pub trait FromArk: Sized {
    fn from_ark(v: Value, heap: &Heap) -> Result<Self, String>;
}

/// Conversion from a Rust type to an Ark value.
pub trait IntoArk {
    fn into_ark(self, heap: &mut Heap) -> Result<Value, String>;
}

fn expected(what: &str, v: Value) -> String {
    format!("expected {what}, got {}", v.type_name())
}

impl FromArk for Value {
    fn from_ark(v: Value, _: &Heap) -> Result<Self, String> {
        Ok(v)
    }
}

impl FromArk for i64 {
    fn from_ark(v: Value, _: &Heap) -> Result<Self, String> {
        match v {
            Value::Int(i) => Ok(i),
            other => Err(expected("int", other)),
        }
    }
}

impl FromArk for i32 {
    fn from_ark(v: Value, heap: &Heap) -> Result<Self, String> {
        let i = i64::from_ark(v, heap)?;
        i32::try_from(i).map_err(|_| format!("{i} does not fit a 32-bit integer"))
    }
}

impl FromArk for f64 {
    fn from_ark(v: Value, _: &Heap) -> Result<Self, String> {
        v.as_f64().ok_or_else(|| expected("a number", v))
    }
}

impl FromArk for f32 {
    fn from_ark(v: Value, heap: &Heap) -> Result<Self, String> {
        match v.as_f32() {
            Some(f) => Ok(f),
            None => f64::from_ark(v, heap).map(|f| f as f32),
        }
    }
}

impl FromArk for bool {
    fn from_ark(v: Value, _: &Heap) -> Result<Self, String> {
        match v {
            Value::Bool(b) => Ok(b),
            other => Err(expected("bool", other)),
        }
    }
}

impl FromArk for String {
    fn from_ark(v: Value, heap: &Heap) -> Result<Self, String> {
        match v {
            Value::Str(k) => heap
                .strings
                .get(k)
                .map(|s| s.text.to_string())
                .ok_or_else(|| "stale string handle".to_string()),
            other => Err(expected("string", other)),
        }
    }
}

impl FromArk for Vec3 {
    fn from_ark(v: Value, _: &Heap) -> Result<Self, String> {
        match v {
            Value::Vec3(v) => Ok(v),
            other => Err(expected("vec3", other)),
        }
    }
}

impl FromArk for crate::Quat {
    fn from_ark(v: Value, _: &Heap) -> Result<Self, String> {
        v.as_quat().ok_or_else(|| expected("quat", v))
    }
}

impl<T: FromArk> FromArk for Option<T> {
    fn from_ark(v: Value, heap: &Heap) -> Result<Self, String> {
        match v {
            Value::Nil => Ok(None),
            other => T::from_ark(other, heap).map(Some),
        }
    }
}

impl<T: FromArk> FromArk for Vec<T> {
    fn from_ark(v: Value, heap: &Heap) -> Result<Self, String> {
        match v {
            Value::List(k) => heap
                .lists
                .get(k)
                .ok_or_else(|| "stale list handle".to_string())?
                .iter()
                .map(|&item| T::from_ark(item, heap))
                .collect(),
            other => Err(expected("list", other)),
        }
    }
}

impl IntoArk for Value {
    fn into_ark(self, _: &mut Heap) -> Result<Value, String> {
        Ok(self)
    }
}

impl IntoArk for () {
    fn into_ark(self, _: &mut Heap) -> Result<Value, String> {
        Ok(Value::Nil)
    }
}

impl IntoArk for bool {
    fn into_ark(self, _: &mut Heap) -> Result<Value, String> {
        Ok(Value::Bool(self))
    }
}

macro_rules! int_into_ark {
    ($($t:ty),*) => {$(
        impl IntoArk for $t {
            fn into_ark(self, _: &mut Heap) -> Result<Value, String> {
                Ok(Value::Int(self as i64))
            }
        }
    )*};
}
int_into_ark!(i64, i32, i16, i8, u32, u16, u8);

impl IntoArk for usize {
    fn into_ark(self, _: &mut Heap) -> Result<Value, String> {
        i64::try_from(self)
            .map(Value::Int)
            .map_err(|_| "integer too large".to_string())
    }
}

impl IntoArk for f64 {
    fn into_ark(self, _: &mut Heap) -> Result<Value, String> {
        Ok(Value::Float(self))
    }
}

impl IntoArk for f32 {
    fn into_ark(self, _: &mut Heap) -> Result<Value, String> {
        Ok(Value::Float(self as f64))
    }
}

impl IntoArk for Vec3 {
    fn into_ark(self, _: &mut Heap) -> Result<Value, String> {
        Ok(Value::vec3(self))
    }
}

impl IntoArk for crate::Quat {
    fn into_ark(self, _: &mut Heap) -> Result<Value, String> {
        self.to_value()
            .ok_or_else(|| "a quaternion of length 0 is no rotation".to_string())
    }
}

impl IntoArk for &str {
    fn into_ark(self, heap: &mut Heap) -> Result<Value, String> {
        if self.len() > heap.max_string_len {
            return Err("string too long".into());
        }
        heap.intern(self)
            .map(Value::Str)
            .map_err(|_| "out of memory".to_string())
    }
}

impl IntoArk for String {
    fn into_ark(self, heap: &mut Heap) -> Result<Value, String> {
        self.as_str().into_ark(heap)
    }
}

impl<T: IntoArk> IntoArk for Option<T> {
    fn into_ark(self, heap: &mut Heap) -> Result<Value, String> {
        match self {
            Some(v) => v.into_ark(heap),
            None => Ok(Value::Nil),
        }
    }
}

impl<T: IntoArk> IntoArk for Vec<T> {
    fn into_ark(self, heap: &mut Heap) -> Result<Value, String> {
        let items = self
            .into_iter()
            .map(|v| v.into_ark(heap))
            .collect::<Result<Vec<_>, _>>()?;
        heap.alloc_list(items)
            .map(Value::List)
            .map_err(|_| "out of memory".to_string())
    }
}

/// A map with string keys, in the order given.
impl<T: IntoArk> IntoArk for Vec<(String, T)> {
    fn into_ark(self, heap: &mut Heap) -> Result<Value, String> {
        let mut map = ArkMap::default();
        for (k, v) in self {
            let key = heap.intern(&k).map_err(|_| "out of memory".to_string())?;
            let v = v.into_ark(heap)?;
            map.insert(Key::Str(key), v);
        }
        heap.alloc_map(map)
            .map(Value::Map)
            .map_err(|_| "out of memory".to_string())
    }
}

/// What a typed native closure may return: a value, or a `Result` whose
/// error becomes a runtime error.
pub trait NativeReturn {
    fn into_result(self, heap: &mut Heap) -> NativeResult;
}

impl<T: IntoArk> NativeReturn for T {
    fn into_result(self, heap: &mut Heap) -> NativeResult {
        self.into_ark(heap).map_err(NativeError)
    }
}

impl<T: IntoArk, E: fmt::Display> NativeReturn for Result<T, E> {
    fn into_result(self, heap: &mut Heap) -> NativeResult {
        match self {
            Ok(v) => v.into_ark(heap).map_err(NativeError),
            Err(e) => Err(NativeError(e.to_string())),
        }
    }
}

/// A Rust closure with typed parameters that can be registered as a native
/// function with [`crate::Vm::register_fn`].
pub trait TypedNative<Args>: Send + Sync + 'static {
    const ARITY: u8;
    fn call(&self, heap: &mut Heap, name: &str, args: &[Value]) -> NativeResult;
}

macro_rules! typed_native {
    ($n:expr; $($arg:ident),*) => {
        impl<F, R, $($arg),*> TypedNative<($($arg,)*)> for F
        where
            F: Fn($($arg),*) -> R + Send + Sync + 'static,
            R: NativeReturn,
            $($arg: FromArk,)*
        {
            const ARITY: u8 = $n;
            #[allow(non_snake_case, unused_variables, unused_mut)]
            fn call(&self, heap: &mut Heap, name: &str, args: &[Value]) -> NativeResult {
                let mut it = args.iter().copied().enumerate();
                $(
                    let $arg = {
                        let (i, v) = it.next().expect("arity checked");
                        $arg::from_ark(v, heap).map_err(|e| {
                            NativeError(format!("{name}: argument {}: {e}", i + 1))
                        })?
                    };
                )*
                (self)($($arg),*).into_result(heap)
            }
        }
    };
}
typed_native!(0;);
typed_native!(1; A);
typed_native!(2; A, B);
typed_native!(3; A, B, C);
typed_native!(4; A, B, C, D);
typed_native!(5; A, B, C, D, E);
