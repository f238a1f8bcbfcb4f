//! The heap validator, after Luau's `luaC_validate`: walks the whole heap
//! and checks what the collector relies on, at any point between two
//! steps.
//!
//! - **Liveness.** Every handle reachable from the roots names a live
//!   object.
//! - **The tri-colour invariant**, while marking: no object the collector
//!   has traced (black) points at one it has not marked (white). An object
//!   still queued is grey; a big list, map or instance traced up to
//!   position `p` is black below `p` and grey from it.
//! - **While sweeping**, every reachable object is marked: the sweep frees
//!   what is not.
//! - **Sizes.** Every object is counted at its size, and the heap's bytes
//!   are their sum.
//!
//! It allocates as it walks and visits everything: for tests, the sliced
//! stress mode and debugging, never on a game's frame.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::{GcPhase, Gray, Running};
use crate::bytecode::Proto;
use crate::fiber::Fiber;
use crate::heap::Heap;
use crate::value::{CellKey, ClosureKey, HostKey, InstanceKey, ListKey, MapKey, StrKey, Value};
use crate::vm::Core;

/// One node of the heap graph.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Node {
    Str(StrKey),
    List(ListKey),
    Map(MapKey),
    Closure(ClosureKey),
    Cell(CellKey),
    Host(HostKey),
    Instance(InstanceKey),
    /// A prototype, by address (kept alive by the `Arc`s in `protos`).
    Proto(usize),
}

impl Node {
    fn of(v: Value) -> Option<Node> {
        Some(match v {
            Value::Str(k) => Node::Str(k),
            Value::List(k) => Node::List(k),
            Value::Map(k) => Node::Map(k),
            Value::Closure(k) => Node::Closure(k),
            Value::Cell(k) => Node::Cell(k),
            Value::Host(k) => Node::Host(k),
            _ => return None,
        })
    }
}

/// How far a grey object has been traced: its children below this position
/// are traced (0 for objects traced in one piece).
type Traced = usize;

struct Validator<'a> {
    heap: &'a Heap,
    protos: HashMap<usize, Arc<Proto>>,
    /// Each node reached, and the node it was first reached from.
    reached: HashMap<Node, Option<Node>>,
    todo: Vec<Node>,
}

pub(crate) fn validate(core: &Core, running: Running<'_>) -> Result<(), String> {
    let heap = &core.heap;
    check_sizes(heap)?;
    let mut v = Validator {
        heap,
        protos: HashMap::new(),
        reached: HashMap::new(),
        todo: Vec::new(),
    };
    v.reach_roots(core, running);
    v.walk()?;
    match heap.gc.phase {
        GcPhase::Mark => v.check_no_black_to_white(),
        GcPhase::Sweep => v.check_reachable_marked(),
        GcPhase::Idle => Ok(()),
    }
}

fn check_sizes(heap: &Heap) -> Result<(), String> {
    let kinds = [
        ("string", heap.strings.check_sizes()),
        ("list", heap.lists.check_sizes()),
        ("map", heap.maps.check_sizes()),
        ("closure", heap.closures.check_sizes()),
        ("cell", heap.cells.check_sizes()),
        ("host", heap.hosts.check_sizes()),
        ("instance", heap.instances.check_sizes()),
    ];
    for (kind, result) in kinds {
        result.map_err(|e| format!("{kind} sizes: {e}"))?;
    }
    heap.interner
        .check(heap.strings.iter().map(|(k, s)| (k, s.hash)))
}

impl Validator<'_> {
    fn reach(&mut self, node: Node, from: Option<Node>) {
        if let std::collections::hash_map::Entry::Vacant(e) = self.reached.entry(node) {
            e.insert(from);
            self.todo.push(node);
        }
    }

    fn reach_value(&mut self, v: Value, from: Option<Node>) {
        if let Some(node) = Node::of(v) {
            self.reach(node, from);
        }
    }

    fn reach_proto(&mut self, proto: &Arc<Proto>, from: Option<Node>) {
        let addr = Arc::as_ptr(proto) as usize;
        self.protos.entry(addr).or_insert_with(|| proto.clone());
        self.reach(Node::Proto(addr), from);
    }

    /// A call's registers. A register that its function has not written
    /// yet (on some path to where the frame is) holds whatever an earlier
    /// call left on the stack: the verifier proves it is written before it
    /// is read, so it is no root, whether what it holds was freed long ago
    /// or is garbage the sweep has not reached yet. The collector scans it
    /// all the same (cheaper than telling), which only keeps such garbage
    /// a cycle longer.
    fn reach_fiber(&mut self, fiber: &Fiber) {
        let slots: Vec<_> = match fiber.frames.len() {
            0 => std::iter::once(0..fiber.stack.len()).collect(),
            n => (0..n).map(|i| fiber.live_slots(i)).collect(),
        };
        for (i, range) in slots.into_iter().enumerate() {
            let frame = fiber.frames.get(i);
            let written = frame.and_then(|f| {
                let closure = self.heap.closures.get(f.closure)?;
                crate::verify::written_before(&closure.proto, f.pc)
            });
            for slot in range {
                let register = frame.and_then(|f| slot.checked_sub(f.base));
                let unwritten = register
                    .zip(written.as_ref())
                    .is_some_and(|(r, w)| !w.get(r).copied().unwrap_or(true));
                if unwritten {
                    continue;
                }
                if let Some(node) = Node::of(fiber.stack[slot]).filter(|&n| self.is_live(n)) {
                    self.reach(node, None);
                }
            }
        }
        for i in 0..fiber.frames.len() {
            self.reach(Node::Closure(fiber.frames[i].closure), None);
        }
    }

    fn reach_roots(&mut self, core: &Core, running: Running<'_>) {
        for (k, _) in core.heap.instances.iter() {
            self.reach(Node::Instance(k), None);
        }
        for (key, fiber) in core.calls.iter() {
            if running.is_some_and(|(r, _)| r == key) {
                continue;
            }
            self.reach_fiber(fiber);
        }
        if let Some((_, fiber)) = running {
            self.reach_fiber(fiber);
        }
        for &v in &core.globals {
            self.reach_value(v, None);
        }
        let p = core.prelude;
        for v in [p.map, p.filter, p.sort_by] {
            self.reach_value(v, None);
        }
        for k in core.methods.keys() {
            self.reach(Node::Str(k), None);
        }
        for &v in core.roots.lock().expect("root registry").values() {
            self.reach_value(v, None);
        }
        for v in core.heap.work.roots() {
            self.reach_value(v, None);
        }
        for module in &core.modules {
            if let Some(module) = module.upgrade() {
                self.reach_proto(&module.main, None);
            }
        }
    }

    /// Calls `f` on each child of `node` with its position (`None` for
    /// children traced with the object's first chunk, such as an
    /// instance's `self`).
    fn children(&self, node: Node, mut f: impl FnMut(Option<usize>, Child)) {
        let heap = self.heap;
        match node {
            Node::Str(_) => {}
            Node::List(k) => {
                for (i, &v) in heap
                    .lists
                    .get(k)
                    .into_iter()
                    .flat_map(|l| l.iter().enumerate())
                {
                    f(Some(i), Child::Value(v));
                }
            }
            Node::Map(k) => {
                for (i, (key, &v)) in heap
                    .maps
                    .get(k)
                    .into_iter()
                    .flat_map(|m| m.iter().enumerate())
                {
                    f(Some(i), Child::Value(key.to_value()));
                    f(Some(i), Child::Value(v));
                }
            }
            Node::Closure(k) => {
                if let Some(c) = heap.closures.get(k) {
                    for &cell in c.upvals.iter() {
                        f(None, Child::Value(Value::Cell(cell)));
                    }
                    f(None, Child::Proto(c.proto.clone()));
                }
            }
            Node::Cell(k) => {
                if let Some(c) = heap.cells.get(k) {
                    f(None, Child::Value(c.get()));
                }
            }
            Node::Host(k) => {
                if let Some(h) = heap.hosts.get(k) {
                    h.trace(&mut |v| f(None, Child::Value(v)));
                }
            }
            Node::Instance(k) => {
                if let Some(inst) = heap.instances.get(k) {
                    f(None, Child::Value(inst.self_value()));
                    f(None, Child::Proto(inst.module().main.clone()));
                    for (i, &v) in inst.vars().iter().enumerate() {
                        f(Some(i), Child::Value(v));
                    }
                }
            }
            Node::Proto(addr) => {
                if let Some(p) = self.protos.get(&addr) {
                    for &c in &p.consts {
                        f(None, Child::Value(c));
                    }
                    for child in &p.protos {
                        f(None, Child::Proto(child.clone()));
                    }
                }
            }
        }
    }

    fn is_live(&self, node: Node) -> bool {
        let heap = self.heap;
        match node {
            Node::Str(k) => heap.strings.contains_key(k),
            Node::List(k) => heap.lists.contains_key(k),
            Node::Map(k) => heap.maps.contains_key(k),
            Node::Closure(k) => heap.closures.contains_key(k),
            Node::Cell(k) => heap.cells.contains_key(k),
            Node::Host(k) => heap.hosts.contains_key(k),
            Node::Instance(k) => heap.instances.contains_key(k),
            Node::Proto(_) => true,
        }
    }

    fn is_marked(&self, node: Node) -> bool {
        let (heap, epoch) = (self.heap, self.heap.gc.epoch());
        match node {
            Node::Str(k) => heap.strings.is_marked(k, epoch),
            Node::List(k) => heap.lists.is_marked(k, epoch),
            Node::Map(k) => heap.maps.is_marked(k, epoch),
            Node::Closure(k) => heap.closures.is_marked(k, epoch),
            Node::Cell(k) => heap.cells.is_marked(k, epoch),
            Node::Host(k) => heap.hosts.is_marked(k, epoch),
            Node::Instance(k) => heap.instances.is_marked(k, epoch),
            Node::Proto(addr) => self
                .protos
                .get(&addr)
                .is_some_and(|p| p.gc_epoch.load(Ordering::Relaxed) == epoch),
        }
    }

    /// The path by which `node` was first reached, innermost first.
    fn path(&self, node: Node) -> String {
        let mut parts = vec![format!("{node:?}")];
        let mut at = node;
        while let Some(&Some(from)) = self.reached.get(&at) {
            if parts.len() >= 6 {
                parts.push("…".into());
                break;
            }
            parts.push(format!("{from:?}"));
            at = from;
        }
        parts.push("a root".into());
        parts.join(" ← ")
    }

    /// Follows every reachable node; a stale one is an error.
    fn walk(&mut self) -> Result<(), String> {
        while let Some(node) = self.todo.pop() {
            if !self.is_live(node) {
                return Err(format!("a reachable object was freed: {}", self.path(node)));
            }
            let mut found = Vec::new();
            self.children(node, |_, child| found.push(child));
            for child in found {
                match child {
                    Child::Value(v) => self.reach_value(v, Some(node)),
                    Child::Proto(p) => self.reach_proto(&p, Some(node)),
                }
            }
        }
        Ok(())
    }

    /// Grey objects, with how far each has been traced.
    fn grey(&self) -> HashMap<Node, Traced> {
        let mut grey = HashMap::new();
        for item in &self.heap.gc.gray {
            let (node, traced) = match item {
                Gray::List(k, from) => (Node::List(*k), *from),
                // A big map keeps its own place, which removals move.
                Gray::Map(k, from) => {
                    let traced = self.heap.maps.get(*k).map(|m| m.traced_before(*from));
                    (Node::Map(*k), traced.unwrap_or(*from))
                }
                Gray::Instance(k, from) => (Node::Instance(*k), *from),
                Gray::Closure(k) => (Node::Closure(*k), 0),
                Gray::Cell(k) => (Node::Cell(*k), 0),
                Gray::Host(k) => (Node::Host(*k), 0),
                Gray::Proto(p) => (Node::Proto(Arc::as_ptr(p) as usize), 0),
                Gray::Calls(_) | Gray::Fiber(..) => continue,
            };
            let at = grey.entry(node).or_insert(traced);
            *at = (*at).min(traced);
        }
        grey
    }

    /// While marking: no traced part of a marked object points at an
    /// unmarked object. Checked over the reachable objects (an unreachable
    /// marked one is garbage that floats to the next cycle).
    fn check_no_black_to_white(&self) -> Result<(), String> {
        let grey = self.grey();
        for &node in self.reached.keys() {
            if !self.is_marked(node) {
                continue;
            }
            // Grey objects traced in one piece have no traced part; an
            // instance's first chunk also traces its `self` and code.
            let traced = match grey.get(&node) {
                Some(&0) => continue,
                Some(&p) => Some(p),
                None => None,
            };
            let mut bad = None;
            self.children(node, |at, child| {
                let in_traced_part = match (traced, at) {
                    (None, _) | (Some(_), None) => true,
                    (Some(p), Some(i)) => i < p,
                };
                let white = match &child {
                    Child::Value(v) => Node::of(*v)
                        .filter(|&n| self.is_live(n))
                        .is_some_and(|n| !self.is_marked(n)),
                    Child::Proto(p) => p.gc_epoch.load(Ordering::Relaxed) != self.heap.gc.epoch(),
                };
                if in_traced_part && white && bad.is_none() {
                    bad = Some((at, child));
                }
            });
            if let Some((at, child)) = bad {
                let child = match child {
                    Child::Value(v) => format!("{:?}", Node::of(v)),
                    Child::Proto(p) => format!("the code of {}", p.name),
                };
                return Err(format!(
                    "black {} points at white {child} (position {at:?}): a store or move \
                     the write barrier did not see",
                    self.path(node)
                ));
            }
        }
        Ok(())
    }

    /// While sweeping: everything reachable is marked, or the sweep would
    /// free it. (Instances and code are never swept.)
    fn check_reachable_marked(&self) -> Result<(), String> {
        for &node in self.reached.keys() {
            if matches!(node, Node::Instance(_) | Node::Proto(_)) {
                continue;
            }
            if !self.is_marked(node) {
                return Err(format!(
                    "reachable but unmarked while sweeping: {}",
                    self.path(node)
                ));
            }
        }
        Ok(())
    }
}

/// A child of a node: a value, or code.
enum Child {
    Value(Value),
    Proto(Arc<Proto>),
}
