//! Reading and writing through `obj[key]` and `obj.name`: lists, maps,
//! strings, vec3 fields and host objects.

use std::any::Any;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::error::stale;
use crate::heap::{Heap, Key};
use crate::host::{Borrowed, Resolved};
use crate::native::NativeCtx;
use crate::value::{HostKey, StrKey, Value};
use crate::vm::Core;

fn list_index(key: Value, len: usize, what: &str) -> Result<usize, String> {
    match key {
        Value::Int(i) if i >= 0 && (i as u64) < len as u64 => Ok(i as usize),
        Value::Int(i) => Err(format!("index {i} out of range for {what} of length {len}")),
        other => Err(format!(
            "{what} index must be int, got {}",
            other.type_name()
        )),
    }
}

/// `obj[key]`.
pub fn get_index(core: &mut Core, obj: Value, key: Value) -> Result<Value, String> {
    let heap = &mut core.heap;
    match obj {
        Value::List(l) => {
            let items = heap.lists.get(l).ok_or_else(stale)?;
            let i = list_index(key, items.len(), "list")?;
            Ok(items[i])
        }
        Value::Map(m) => {
            let key = Key::from_value(key)?;
            let map = heap.maps.get(m).ok_or_else(stale)?;
            Ok(match map.get_full(&key) {
                Some((i, _, &v)) => {
                    heap.last_found = Some((m, i));
                    v
                }
                None => Value::Nil,
            })
        }
        Value::Str(s) => {
            let obj = heap.strings.get(s).ok_or_else(stale)?;
            let i = list_index(key, obj.char_len, "string")?;
            let at = if obj.is_ascii() {
                i
            } else {
                // A walk to the character, from the start or from a kept
                // offset near it.
                heap.char_offset(s, i)?
            };
            let ch = heap.str(s)[at..].chars().next().unwrap_or_default();
            heap.char_string(ch)
                .map(Value::Str)
                .map_err(|_| "out of memory".to_string())
        }
        other => Err(format!("cannot index {}", other.type_name())),
    }
}

/// `obj[key] = v`.
pub fn set_index(core: &mut Core, obj: Value, key: Value, v: Value) -> Result<(), String> {
    let heap = &mut core.heap;
    match obj {
        Value::List(l) => {
            let len = heap.lists.get(l).ok_or_else(stale)?.len();
            let i = list_index(key, len, "list")?;
            heap.list_set(l, i, v);
            Ok(())
        }
        Value::Map(m) => {
            let key = Key::from_value(key)?;
            if let Some((found_in, i)) = heap.last_found
                && found_in == m
                && heap.map_set_at(m, i, key, v)
            {
                return Ok(());
            }
            if !heap.maps.contains_key(m) {
                return Err(stale());
            }
            heap.map_insert(m, key, v)
                .map_err(|_| "out of memory".to_string())
        }
        Value::Str(_) => {
            Err("cannot assign to an index of a string (strings are immutable)".into())
        }
        other => Err(format!("cannot index {}", other.type_name())),
    }
}

/// `obj.name`, where `name` is the interned constant `key`.
pub fn get_field(
    ctx: &mut NativeCtx<'_>,
    obj: Value,
    key: crate::value::StrKey,
) -> Result<Value, String> {
    let heap = &ctx.core.heap;
    match obj {
        Value::Map(m) => {
            let map = heap.maps.get(m).ok_or_else(stale)?;
            Ok(map.get(&Key::Str(key)).copied().unwrap_or(Value::Nil))
        }
        Value::Vec3(v) => {
            let name = heap.str(key);
            crate::methods::vec3_field(v, name)
                .ok_or_else(|| format!("vec3 has no field '{name}' (it has x, y and z)"))
        }
        Value::Quat { .. } => {
            let name = heap.str(key);
            crate::methods::quat_field(obj, name)
                .ok_or_else(|| format!("quat has no field '{name}' (it has x, y, z and w)"))
        }
        Value::Host(h) => {
            let name = heap.str(key).to_string();
            with_host(ctx, h, |obj, ctx| obj.get_field(ctx, &name))
        }
        Value::Entity(e) => with_entity_host(ctx, |host, ctx| host.get_field(ctx, e, key))
            .unwrap_or_else(|| Err(cannot("read", &ctx.core.heap, key, obj))),
        Value::EntityRef { path, entity } => {
            with_entity_host(ctx, |host, ctx| host.ref_get_field(ctx, path, entity, key))
                .unwrap_or_else(|| Err(cannot("read", &ctx.core.heap, key, obj)))
        }
        other => Err(cannot("read", heap, key, other)),
    }
}

/// What an instruction's field cache holds after the entity host said
/// [`Resolved::Never`] for the object's reference `path` (or, for `None`,
/// the entity itself). The same cache guesses map positions: a mark taken
/// for a position, or a position for a mark, costs a lookup, nothing more.
fn never_mark(path: Option<u32>) -> u32 {
    path.map_or(u32::MAX, |p| p.wrapping_add(1))
}

/// `obj.name` of an entity or of a reference into one, when the entity
/// host answers it from what it has resolved
/// ([`crate::EntityHost::get_field_resolved`]): without the heap, a
/// context or taking the host out. `None` for anything else, which goes
/// to [`get_field`]. `site` is the instruction's field cache.
#[inline]
pub(crate) fn entity_field_resolved(
    heap: &mut Heap,
    world: Option<&mut (dyn Any + Send)>,
    obj: Value,
    key: StrKey,
    site: &AtomicU32,
) -> Option<Value> {
    let (path, entity) = match obj {
        Value::Entity(entity) => (None, entity),
        Value::EntityRef { path, entity } => (Some(path), entity),
        _ => return None,
    };
    if site.load(Ordering::Relaxed) == never_mark(path) {
        return None;
    }
    let (host, world) = (heap.entity_host.as_deref_mut()?, world?);
    let answer = match path {
        Some(path) => host.ref_get_field_resolved(world, path, entity, key),
        None => host.get_field_resolved(world, entity, key),
    };
    resolved(answer, site, path)
}

/// `r.name = v` of a reference into an entity, when the entity host
/// writes it from what it has resolved
/// ([`crate::EntityHost::ref_set_field_resolved`]); false for anything
/// else (nothing written), which goes to [`set_field`]. `site` is the
/// instruction's field cache.
#[inline]
pub(crate) fn set_entity_field_resolved(
    heap: &mut Heap,
    world: Option<&mut (dyn Any + Send)>,
    obj: Value,
    key: StrKey,
    v: Value,
    site: &AtomicU32,
) -> bool {
    let Value::EntityRef { path, entity } = obj else {
        return false;
    };
    if site.load(Ordering::Relaxed) == never_mark(Some(path)) {
        return false;
    }
    let (Some(host), Some(world)) = (heap.entity_host.as_deref_mut(), world) else {
        return false;
    };
    let answer = host.ref_set_field_resolved(world, path, entity, key, v);
    resolved(answer, site, Some(path)).is_some()
}

/// A resolved access's answer; a `Never` marked at the instruction.
fn resolved<T>(answer: Resolved<T>, site: &AtomicU32, path: Option<u32>) -> Option<T> {
    match answer {
        Resolved::Done(v) => Some(v),
        Resolved::NotNow => None,
        Resolved::Never => {
            site.store(never_mark(path), Ordering::Relaxed);
            None
        }
    }
}

/// `obj.name` as the object of an assignment: host objects may give a
/// reference to the field instead of its value.
pub fn get_field_place(
    ctx: &mut NativeCtx<'_>,
    obj: Value,
    key: crate::value::StrKey,
) -> Result<Value, String> {
    match obj {
        Value::Host(h) => {
            let name = ctx.core.heap.str(key).to_string();
            with_host(ctx, h, |obj, ctx| obj.get_field_place(ctx, &name))
        }
        Value::EntityRef { path, entity } => with_entity_host(ctx, |host, ctx| {
            host.ref_get_field_place(ctx, path, entity, key)
        })
        .unwrap_or_else(|| get_field(ctx, obj, key)),
        _ => get_field(ctx, obj, key),
    }
}

/// `obj.name = v`.
pub fn set_field(
    ctx: &mut NativeCtx<'_>,
    obj: Value,
    key: crate::value::StrKey,
    v: Value,
) -> Result<(), String> {
    match obj {
        Value::Map(m) => {
            let heap = &mut ctx.core.heap;
            if !heap.maps.contains_key(m) {
                return Err(stale());
            }
            heap.map_insert(m, Key::Str(key), v)
                .map_err(|_| "out of memory".to_string())
        }
        Value::Vec3(_) => {
            Err("cannot assign to a field of vec3 (use with_x, with_y or with_z)".to_string())
        }
        Value::Quat { .. } => {
            Err("cannot assign to a field of quat (make another with quat(x, y, z, w))".to_string())
        }
        Value::Host(h) => {
            let name = ctx.core.heap.str(key).to_string();
            with_host(ctx, h, |obj, ctx| obj.set_field(ctx, &name, v))
        }
        Value::Entity(e) => {
            let name = ctx.core.heap.str(key).to_string();
            with_entity_host(ctx, |host, ctx| host.set_field(ctx, e, &name, v))
                .unwrap_or_else(|| Err(cannot("set", &ctx.core.heap, key, obj)))
        }
        Value::EntityRef { path, entity } => with_entity_host(ctx, |host, ctx| {
            host.ref_set_field(ctx, path, entity, key, v)
        })
        .unwrap_or_else(|| Err(cannot("set", &ctx.core.heap, key, obj))),
        other => Err(cannot("set", &ctx.core.heap, key, other)),
    }
}

/// `cannot read field 'name' of int` (`verb`: read or set).
fn cannot(verb: &str, heap: &crate::heap::Heap, key: crate::value::StrKey, obj: Value) -> String {
    format!(
        "cannot {verb} field '{}' of {}",
        heap.str(key),
        obj.type_name()
    )
}

/// Runs `f` on the entity host, taken out of the VM for the duration (as a
/// host object is while its methods run: `with_host`), so that it can use
/// the whole context and change itself without a lock. `None` without a
/// host, or from inside one of its own methods. Its error becomes a
/// string.
pub(crate) fn with_entity_host<T>(
    ctx: &mut NativeCtx<'_>,
    f: impl FnOnce(&mut dyn crate::EntityHost, &mut NativeCtx<'_>) -> Result<T, crate::NativeError>,
) -> Option<Result<T, String>> {
    let mut host = ctx.core.heap.entity_host.take()?;
    let result = f(&mut *host, ctx).map_err(|e| e.0);
    ctx.core.heap.entity_host = Some(host);
    Some(result)
}

/// Runs `f` on a host object taken out of the heap for the duration, so
/// that it can use the whole context.
pub fn with_host<T>(
    ctx: &mut NativeCtx<'_>,
    h: HostKey,
    f: impl FnOnce(&mut dyn crate::HostObject, &mut NativeCtx<'_>) -> Result<T, crate::NativeError>,
) -> Result<T, String> {
    let mut obj = ctx
        .core
        .heap
        .take_host(h, Box::new(Borrowed))
        .ok_or_else(stale)?;
    let result = f(obj.as_mut(), ctx);
    ctx.core.heap.put_host(h, obj);
    result.map_err(|e| e.0)
}
