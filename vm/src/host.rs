//! Host objects: value kinds that an embedder adds to the language (the Bevy
//! plugin's component references use this).

use crate::native::{NativeCtx, NativeError};
use crate::value::{StrKey, Value};

/// A value kind provided by the host. Scripts see it as a value whose
/// `type()` is [`HostObject::type_name`], with fields and methods that the
/// host implements.
///
/// While one of these methods runs, the object is taken out of the heap, so
/// `ctx` may be used freely (allocating strings, reading other objects).
///
/// ```
/// use ark_vm::{HostObject, NativeCtx, NativeError, Value, Vm};
///
/// struct Door { open: bool }
///
/// impl HostObject for Door {
///     fn type_name(&self) -> &str { "Door" }
///     fn get_field(&self, _: &mut NativeCtx<'_>, name: &str) -> Result<Value, NativeError> {
///         match name {
///             "open" => Ok(Value::Bool(self.open)),
///             _ => Err(NativeError::new(format!("Door has no field '{name}'"))),
///         }
///     }
///     fn call_method(&mut self, _: &mut NativeCtx<'_>, name: &str, _: &[Value])
///         -> Result<Value, NativeError> {
///         match name {
///             "toggle" => { self.open = !self.open; Ok(Value::Nil) }
///             _ => Err(NativeError::new(format!("unknown method '{name}' for Door"))),
///         }
///     }
/// }
///
/// let mut vm = Vm::new();
/// let game = vm.load("door.ark", "fn use_door(d) { d.toggle(); return [type(d), d.open]; }").unwrap();
/// let door = vm.alloc_host(Box::new(Door { open: false })).unwrap();
/// let result = vm.call(game, "use_door", &[door]).unwrap();
/// assert_eq!(vm.display(result), r#"["Door", true]"#);
/// ```
pub trait HostObject: Send + 'static {
    /// The name `type(x)` returns and error messages use.
    fn type_name(&self) -> &str;

    /// `obj.name`.
    fn get_field(&self, ctx: &mut NativeCtx<'_>, name: &str) -> Result<Value, NativeError> {
        let _ = ctx;
        Err(NativeError::new(format!(
            "cannot read field '{name}' of {}",
            self.type_name()
        )))
    }

    /// `obj.name` as the object of an assignment (`obj.name.x = v`). A
    /// reference-like host object returns a reference to the field here so
    /// that the assignment writes through; the default reads the field.
    fn get_field_place(&self, ctx: &mut NativeCtx<'_>, name: &str) -> Result<Value, NativeError> {
        self.get_field(ctx, name)
    }

    /// `obj.name = value`.
    fn set_field(
        &mut self,
        ctx: &mut NativeCtx<'_>,
        name: &str,
        value: Value,
    ) -> Result<(), NativeError> {
        let _ = (ctx, value);
        Err(NativeError::new(format!(
            "cannot set field '{name}' of {}",
            self.type_name()
        )))
    }

    /// `obj.name(args...)`.
    fn call_method(
        &mut self,
        ctx: &mut NativeCtx<'_>,
        name: &str,
        args: &[Value],
    ) -> Result<Value, NativeError> {
        let _ = (ctx, args);
        Err(NativeError::new(format!(
            "unknown method '{name}' for {}",
            self.type_name()
        )))
    }

    /// The object as plain data (numbers, strings, lists, maps), for a
    /// host that copies values out of the VM: a reference into a
    /// component gives the component's fields. The default is an error.
    fn to_data(&self, ctx: &mut NativeCtx<'_>) -> Result<Value, NativeError> {
        let _ = ctx;
        Err(NativeError::new(format!(
            "cannot copy a {} out of the script",
            self.type_name()
        )))
    }

    /// How `print` and `str` show it.
    fn display(&self) -> String {
        format!("<{}>", self.type_name())
    }

    /// Reports every heap value the object holds, so the collector keeps
    /// them alive.
    fn trace(&self, visit: &mut dyn FnMut(Value)) {
        let _ = visit;
    }
}

/// Stands in for a host object while one of its methods runs.
pub(crate) struct Borrowed;

impl HostObject for Borrowed {
    fn type_name(&self) -> &str {
        "ref"
    }
}

/// What entity values (`Value::Entity`) and the references into them that
/// the host makes (`Value::EntityRef`) do when a script reads or writes
/// their fields or calls their methods. The VM knows no ECS: the host (the
/// Bevy plugin) installs one with [`crate::Vm::set_entity_host`].
///
/// Field names come as interned strings (`ctx.heap().str(name)`): a name
/// in a script's code is the same key for as long as that code is loaded,
/// and a key is never reused for another string, so a host may resolve a
/// name once and cache what it found by its key.
///
/// While one of these methods runs, the host is taken out of the VM (as a
/// host object is while its own run), so it may change itself freely;
/// entity fields reached from inside it are an error.
///
/// A reference is an entity and a `path` number the host gives out and
/// reads back: a component of the entity, or a field inside one. It takes
/// no heap (reading `self.Transform.translation` allocates nothing); the
/// host keeps what each number stands for.
pub trait EntityHost: Send + 'static {
    /// `entity.name`.
    fn get_field(
        &mut self,
        ctx: &mut NativeCtx<'_>,
        entity: u64,
        name: StrKey,
    ) -> Result<Value, NativeError>;

    /// `r.name`, where `r` is the reference `path` into `entity`.
    fn ref_get_field(
        &mut self,
        ctx: &mut NativeCtx<'_>,
        path: u32,
        entity: u64,
        name: StrKey,
    ) -> Result<Value, NativeError> {
        let _ = (path, entity);
        Err(NativeError::new(format!(
            "cannot read field '{}' of ref",
            ctx.heap().str(name)
        )))
    }

    /// `r.name` as the object of an assignment (`r.name.x = v`): a
    /// reference to the field, so that the assignment writes through. The
    /// default reads the field.
    fn ref_get_field_place(
        &mut self,
        ctx: &mut NativeCtx<'_>,
        path: u32,
        entity: u64,
        name: StrKey,
    ) -> Result<Value, NativeError> {
        self.ref_get_field(ctx, path, entity, name)
    }

    /// `r.name = value`.
    fn ref_set_field(
        &mut self,
        ctx: &mut NativeCtx<'_>,
        path: u32,
        entity: u64,
        name: StrKey,
        value: Value,
    ) -> Result<(), NativeError> {
        let _ = (path, entity, value);
        Err(NativeError::new(format!(
            "cannot set field '{}' of ref",
            ctx.heap().str(name)
        )))
    }

    /// The reference's target as plain data (numbers, strings, lists,
    /// maps), as [`HostObject::to_data`].
    fn ref_to_data(
        &mut self,
        ctx: &mut NativeCtx<'_>,
        path: u32,
        entity: u64,
    ) -> Result<Value, NativeError> {
        let _ = (ctx, path, entity);
        Err(NativeError::new("cannot copy a ref out of the script"))
    }

    /// How `print` and `str` show a reference.
    fn ref_display(&self, path: u32, entity: u64) -> String {
        let _ = (path, entity);
        "<ref>".to_string()
    }

    /// `entity.name` where the host can answer from what it has already
    /// resolved, with no heap: the interpreter asks this first, and
    /// anything but [`Resolved::Done`] (the default: `Never`) goes to the
    /// general [`EntityHost::get_field`], which also reports every error.
    /// `world` is the host value the call runs with. An answer must be the
    /// value the general way gives.
    fn get_field_resolved(
        &mut self,
        world: &mut (dyn std::any::Any + Send),
        entity: u64,
        name: StrKey,
    ) -> Resolved<Value> {
        let _ = (world, entity, name);
        Resolved::Never
    }

    /// `r.name` as [`EntityHost::get_field_resolved`] answers `entity.name`;
    /// the general way is [`EntityHost::ref_get_field`].
    fn ref_get_field_resolved(
        &mut self,
        world: &mut (dyn std::any::Any + Send),
        path: u32,
        entity: u64,
        name: StrKey,
    ) -> Resolved<Value> {
        let _ = (world, path, entity, name);
        Resolved::Never
    }

    /// `r.name = value` where the host can write it from what it has
    /// already resolved, with no heap. Anything but [`Resolved::Done`] must
    /// leave everything as it was: the general [`EntityHost::ref_set_field`]
    /// takes it, and reports every error.
    fn ref_set_field_resolved(
        &mut self,
        world: &mut (dyn std::any::Any + Send),
        path: u32,
        entity: u64,
        name: StrKey,
        value: Value,
    ) -> Resolved<()> {
        let _ = (world, path, entity, name, value);
        Resolved::Never
    }

    /// `entity.name = value`.
    fn set_field(
        &mut self,
        ctx: &mut NativeCtx<'_>,
        entity: u64,
        name: &str,
        value: Value,
    ) -> Result<(), NativeError> {
        let _ = (ctx, entity, value);
        Err(NativeError::new(format!(
            "cannot set field '{name}' of entity"
        )))
    }

    /// `entity.name(args...)`.
    fn call_method(
        &mut self,
        ctx: &mut NativeCtx<'_>,
        entity: u64,
        name: &str,
        args: &[Value],
    ) -> Result<Value, NativeError> {
        let _ = (ctx, entity, args);
        Err(NativeError::new(format!(
            "unknown method '{name}' for entity"
        )))
    }
}

/// What an [`EntityHost`]'s resolved access did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Resolved<T> {
    /// Read (the value) or written.
    Done(T),
    /// Not this time (a field not named before, an entity moved, an
    /// error): the general way takes it.
    NotNow,
    /// Never, for this reference path (or the entity itself) and name: the
    /// general way takes it, and the instruction that asked stops asking
    /// for that path.
    Never,
}
