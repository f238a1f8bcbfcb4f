//! Bytecode listings (`ark --disasm`).

use std::fmt::Write;

use crate::bytecode::{Op, Proto};
use crate::vm::Core;

/// Lists `proto` and every function nested in it.
pub(crate) fn disassemble(proto: &Proto, core: &Core) -> String {
    let mut out = String::new();
    let mut todo = vec![proto];
    while let Some(p) = todo.pop() {
        write_proto(p, core, &mut out);
        todo.extend(p.protos.iter().rev().map(|c| &**c));
    }
    out
}

fn write_proto(p: &Proto, core: &Core, out: &mut String) {
    let _ = writeln!(
        out,
        "fn {} ({}:{}) arity {} registers {} constants {}",
        p.name,
        p.script,
        p.line,
        p.arity,
        p.num_regs,
        p.consts.len()
    );
    let mut last_line = 0;
    for (pc, op) in p.code.iter().enumerate() {
        let (line, _) = p.position(pc);
        let line_text = if line != last_line {
            last_line = line;
            format!("{line:>5}")
        } else {
            "    |".to_string()
        };
        let _ = write!(out, "{line_text} {pc:>5}  {op:?}");
        if let Some(v) = op.constant().and_then(|k| p.consts.get(k)) {
            let _ = write!(
                out,
                "    ; {}",
                crate::printer::cut_to_limit(crate::printer::repr(&core.heap, &core.natives, *v))
            );
        }
        if let Op::CallMethod { method, .. } = op {
            let _ = write!(out, "    ; .{}", core.methods.name(*method));
        }
        let target = op.jump_offset().map(|off| pc as i64 + 1 + off as i64);
        if let Some(t) = target {
            let _ = write!(out, "    ; to {t}");
        }
        out.push('\n');
    }
    if !p.locals.is_empty() {
        let _ = writeln!(out, "  locals:");
        for l in &p.locals {
            let _ = writeln!(
                out,
                "    {} r{} pc {}..{}{}",
                l.name,
                l.reg,
                l.start_pc,
                l.end_pc,
                if l.captured { " (captured)" } else { "" }
            );
        }
    }
    out.push('\n');
}
