//! A peer engine for `benches/compare.rs`: runs benchmark programs on Lua
//! 5.4 or Luau (whichever mlua feature this crate was built with), one run
//! per line of standard input (the program's path), answering each with
//! `name<TAB>ms<TAB>checksum`. The harness picks the file (for Luau,
//! `NAME.luau` where it exists, else `NAME.lua`) and interleaves single
//! runs of every engine. Compiling and loading are not timed.

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use mlua::{Function, Lua, Variadic};

/// One program, loaded in its own Lua state: its compiled chunk and where
/// its last `print` went.
struct Program {
    name: String,
    lua: Lua,
    chunk: Function,
    output: Arc<Mutex<String>>,
}

impl Program {
    fn load(path: &str) -> mlua::Result<Program> {
        let source = std::fs::read_to_string(path).expect("program file");
        let name = std::path::Path::new(path)
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
        let chunk = lua.load(&source).set_name(&name).into_function()?;
        Ok(Program {
            name,
            lua,
            chunk,
            output,
        })
    }

    /// Runs the program once after a full collection: milliseconds.
    fn run(&self) -> mlua::Result<f64> {
        self.lua.gc_collect()?;
        let started = Instant::now();
        self.chunk.call::<()>(())?;
        Ok(started.elapsed().as_secs_f64() * 1e3)
    }

    fn checksum(&self) -> String {
        self.output.lock().unwrap().clone()
    }
}

/// One run per line of standard input (a program's path). Each program is
/// loaded on its first line and kept, as the harness keeps Ark's compiled
/// module between runs.
fn main() -> mlua::Result<()> {
    let mut loaded: HashMap<String, Program> = HashMap::new();
    let mut out = std::io::stdout();
    for line in std::io::stdin().lock().lines() {
        let path = line.expect("a line of input");
        if !loaded.contains_key(&path) {
            loaded.insert(path.clone(), Program::load(&path)?);
        }
        let program = &loaded[&path];
        let ms = program.run()?;
        writeln!(out, "{}\t{ms:.3}\t{}", program.name, program.checksum())
            .and_then(|()| out.flush())
            .expect("the harness reads the answer");
    }
    Ok(())
}
