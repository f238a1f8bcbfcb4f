//! Handles that keep heap objects alive while Rust code holds them.

use std::sync::{Arc, Mutex};

use slotmap::{SlotMap, new_key_type};

use crate::value::Value;

new_key_type! {
    pub(crate) struct RootKey;
}

/// The values that [`Rooted`] handles keep alive. The collector scans it at
/// the start and the end of every marking phase.
pub(crate) type RootRegistry = Arc<Mutex<SlotMap<RootKey, Value>>>;

/// A value that Rust code keeps on purpose: while the handle lives, the
/// collector keeps the object (and what it references) alive; dropping the
/// handle unroots it. Values that are only in Rust variables are *not*
/// roots, so hold heap values across `resume` and `gc_step` calls this way.
///
/// ```
/// let mut vm = ark_vm::Vm::new();
/// let list = vm.to_value(vec![1i64, 2, 3]).unwrap();
/// let rooted = vm.root(list);
/// vm.full_collect();
/// assert_eq!(vm.from_value::<Vec<i64>>(rooted.value()).unwrap(), [1, 2, 3]);
/// drop(rooted);
/// vm.full_collect();
/// assert!(vm.from_value::<Vec<i64>>(list).is_err()); // freed: a stale handle
/// ```
pub struct Rooted {
    key: RootKey,
    registry: RootRegistry,
}

impl Rooted {
    pub(crate) fn new(registry: &RootRegistry, value: Value) -> Rooted {
        let key = registry.lock().expect("root registry").insert(value);
        Rooted {
            key,
            registry: registry.clone(),
        }
    }

    /// The rooted value.
    pub fn value(&self) -> Value {
        self.registry
            .lock()
            .expect("root registry")
            .get(self.key)
            .copied()
            .unwrap_or_default()
    }

    /// Replaces the rooted value.
    pub fn set(&self, value: Value) {
        if let Some(slot) = self
            .registry
            .lock()
            .expect("root registry")
            .get_mut(self.key)
        {
            *slot = value;
        }
    }
}

impl Drop for Rooted {
    fn drop(&mut self) {
        if let Ok(mut roots) = self.registry.lock() {
            roots.remove(self.key);
        }
    }
}

impl std::fmt::Debug for Rooted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Rooted").field(&self.value()).finish()
    }
}
