//! A peer engine for `benches/compare.rs`: runs benchmark programs on Lua
//! 5.4 or Luau (whichever mlua feature this crate was built with) and
//! prints one line per program: `name<TAB>median_ms<TAB>checksum`.
//!
//! Usage: `runner ITERATIONS FILE...` (for Luau, `NAME.luau` is used when it
//! exists, else `NAME.lua`). Compiling and loading are not timed.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use mlua::{Lua, Variadic};

fn main() -> mlua::Result<()> {
    let mut args = std::env::args().skip(1);
    let iterations: usize = args
        .next()
        .and_then(|s| s.parse().ok())
        .expect("usage: runner ITERATIONS FILE...");
    for path in args {
        let source = std::fs::read_to_string(&path).expect("program file");
        let name = std::path::Path::new(&path)
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .to_string();
        let lua = Lua::new();
        let output = Arc::new(Mutex::new(String::new()));
        let sink = output.clone();
        let print = lua.create_function(move |_, values: Variadic<mlua::Value>| {
            let parts: Vec<String> = values
                .iter()
                .map(|v| v.to_string().unwrap_or_default())
                .collect();
            *sink.lock().unwrap() = parts.join(" ");
            Ok(())
        })?;
        lua.globals().set("print", print)?;
        let program = lua.load(&source).set_name(&name).into_function()?;
        let mut times = Vec::with_capacity(iterations);
        for _ in 0..iterations {
            lua.gc_collect()?;
            let started = Instant::now();
            program.call::<()>(())?;
            times.push(started.elapsed().as_secs_f64() * 1e3);
        }
        times.sort_by(|a, b| a.total_cmp(b));
        let checksum = output.lock().unwrap().clone();
        println!("{name}\t{:.3}\t{checksum}", times[times.len() / 2]);
    }
    Ok(())
}
