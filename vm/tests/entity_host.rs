//! An entity host's resolved accesses (`EntityHost::get_field_resolved`):
//! asked first, the general way taken whenever they decline, and not asked
//! again by an instruction they told `Resolved::Never`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use ark_vm::{Budget, EntityHost, NativeCtx, NativeError, Resolved, RunResult, StrKey, Value, Vm};

/// How often each way was asked for each field name.
#[derive(Default)]
struct Counts {
    resolved: Mutex<Vec<(String, usize)>>,
    general: Mutex<Vec<(String, usize)>>,
    writes_resolved: AtomicUsize,
}

fn count(list: &Mutex<Vec<(String, usize)>>, name: &str) {
    let mut list = list.lock().unwrap();
    match list.iter_mut().find(|(n, _)| n == name) {
        Some((_, c)) => *c += 1,
        None => list.push((name.to_string(), 1)),
    }
}

fn counted(list: &Mutex<Vec<(String, usize)>>, name: &str) -> usize {
    let list = list.lock().unwrap();
    list.iter().find(|(n, _)| n == name).map_or(0, |(_, c)| *c)
}

/// Entities with three fields: `fast` (resolved once the general way has
/// seen its name), `slow` (never resolved) and `later` (resolved only
/// "not now"), each reading as a number; `pos` a reference whose `x` is
/// written through either way.
struct Host {
    counts: Arc<Counts>,
    /// The names' keys, learnt the general way (the resolved way has no
    /// heap to read a name with).
    names: Vec<(StrKey, String)>,
    x: f64,
}

impl Host {
    fn learn(&mut self, ctx: &mut NativeCtx<'_>, name: StrKey) -> String {
        let text = ctx.heap().str(name).to_string();
        if !self.names.iter().any(|(k, _)| *k == name) {
            self.names.push((name, text.clone()));
        }
        text
    }

    fn name(&self, key: StrKey) -> Option<&str> {
        self.names
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, n)| n.as_str())
    }

    fn value(name: &str) -> Result<Value, NativeError> {
        match name {
            "fast" => Ok(Value::Int(1)),
            "slow" => Ok(Value::Int(2)),
            "later" => Ok(Value::Int(3)),
            "pos" => Ok(Value::EntityRef { path: 7, entity: 1 }),
            _ => Err(NativeError::new(format!("no field '{name}'"))),
        }
    }
}

impl EntityHost for Host {
    fn get_field(
        &mut self,
        ctx: &mut NativeCtx<'_>,
        _: u64,
        name: StrKey,
    ) -> Result<Value, NativeError> {
        let text = self.learn(ctx, name);
        count(&self.counts.general, &text);
        Self::value(&text)
    }

    fn ref_get_field(
        &mut self,
        ctx: &mut NativeCtx<'_>,
        _: u32,
        _: u64,
        name: StrKey,
    ) -> Result<Value, NativeError> {
        let text = self.learn(ctx, name);
        count(&self.counts.general, &text);
        Ok(Value::float(self.x))
    }

    fn ref_set_field(
        &mut self,
        ctx: &mut NativeCtx<'_>,
        _: u32,
        _: u64,
        name: StrKey,
        value: Value,
    ) -> Result<(), NativeError> {
        self.learn(ctx, name);
        self.x = value
            .as_f64()
            .ok_or_else(|| NativeError::new("x takes a number"))?;
        Ok(())
    }

    fn get_field_resolved(
        &mut self,
        _: &mut (dyn std::any::Any + Send),
        _: u64,
        name: StrKey,
    ) -> Resolved<Value> {
        let Some(text) = self.name(name).map(str::to_string) else {
            return Resolved::NotNow;
        };
        count(&self.counts.resolved, &text);
        match text.as_str() {
            "slow" => Resolved::Never,
            "later" => Resolved::NotNow,
            other => Self::value(other).map_or(Resolved::NotNow, Resolved::Done),
        }
    }

    fn ref_set_field_resolved(
        &mut self,
        _: &mut (dyn std::any::Any + Send),
        _: u32,
        _: u64,
        name: StrKey,
        value: Value,
    ) -> Resolved<()> {
        match (self.name(name), value.as_f64()) {
            (Some("x"), Some(x)) => {
                self.counts.writes_resolved.fetch_add(1, Ordering::Relaxed);
                self.x = x;
                Resolved::Done(())
            }
            _ => Resolved::NotNow,
        }
    }
}

/// A VM with a [`Host`], and the host's counts.
fn vm_with_host() -> (Vm, Arc<Counts>) {
    let counts = Arc::new(Counts::default());
    let mut vm = Vm::new();
    vm.set_entity_host(Box::new(Host {
        counts: counts.clone(),
        names: Vec::new(),
        x: 0.0,
    }));
    (vm, counts)
}

/// Runs `source`'s `f(e)` with host data (a world stands in): what it
/// returned or its error's message.
fn run(source: &str) -> (Result<Value, String>, Arc<Counts>) {
    let (mut vm, counts) = vm_with_host();
    let game = vm.load("host.ark", source).unwrap();
    let call = vm.start_call(game, "f", &[Value::Entity(1)]).unwrap();
    let result = match vm.resume_with(call, Budget::Unlimited, &mut ()) {
        RunResult::Done(v) => Ok(v),
        RunResult::Error(e) => Err(e.message),
        other => panic!("{other:?}"),
    };
    (result, counts)
}

#[test]
fn resolved_reads_are_asked_first_and_never_means_never_at_that_instruction() {
    let (result, counts) =
        run("fn f(e) { let s = 0; for i in 0..10 { s += e.fast + e.slow + e.later; } return s; }");
    assert_eq!(result, Ok(Value::Int(60)));
    // `fast`: the general way once (its name not seen yet), then resolved.
    assert_eq!(counted(&counts.general, "fast"), 1);
    assert_eq!(counted(&counts.resolved, "fast"), 9);
    // `slow`: asked once it is known, told never: the general way from
    // then on, without asking.
    assert_eq!(counted(&counts.resolved, "slow"), 1);
    assert_eq!(counted(&counts.general, "slow"), 10);
    // `later`: asked every time, the general way every time.
    assert_eq!(counted(&counts.resolved, "later"), 9);
    assert_eq!(counted(&counts.general, "later"), 10);
}

#[test]
fn a_declined_write_goes_the_general_way_with_its_errors() {
    let (result, counts) = run(
        "fn f(e) { let p = e.pos; for i in 0..4 { p.x = i * 2; } let seen = p.x; p.x = \"far\"; return seen; }",
    );
    assert_eq!(result, Err("x takes a number".to_string()));
    // The first write taught the host the name; the other three resolved.
    assert_eq!(counts.writes_resolved.load(Ordering::Relaxed), 3);
    let (result, _) = run("fn f(e) { let p = e.pos; for i in 0..4 { p.x = i * 2; } return p.x; }");
    assert_eq!(result, Ok(Value::float(6.0)));
}

#[test]
fn without_host_data_the_general_way_answers() {
    let (mut vm, counts) = vm_with_host();
    let game = vm
        .load(
            "host.ark",
            "fn f(e) { let s = 0; for i in 0..3 { s += e.fast; } return s; }",
        )
        .unwrap();
    assert_eq!(
        vm.call(game, "f", &[Value::Entity(1)]).unwrap(),
        Value::Int(3)
    );
    assert_eq!(counted(&counts.resolved, "fast"), 0);
    assert_eq!(counted(&counts.general, "fast"), 3);
}
