//! Stack and variables: the stopped call's frames, the selected frame's
//! locals and captures, the instance's module variables. Lists and maps
//! open as trees, a page at a time; numbers, bools, strings and vec3 are
//! edited in place.

use bevy_egui::egui;
use egui::{Context, RichText};

use super::{Layout, colours, muted};
use crate::debugger::model::{Action, DebuggerModel, PAGE, Shown, VarNode, Variables};

pub(super) fn window(
    ctx: &Context,
    model: &mut DebuggerModel,
    layout: &Layout,
    actions: &mut Vec<Action>,
) {
    let mut open = model.windows.stack;
    super::window("Stack and variables", &mut open, layout.stack).show(ctx, |ui| {
        egui::ScrollArea::vertical()
            .auto_shrink(false)
            .show(ui, |ui| contents(ui, model, actions));
    });
    model.windows.stack = open;
}

fn contents(ui: &mut egui::Ui, model: &mut DebuggerModel, actions: &mut Vec<Action>) {
    if model.selected.is_none() {
        muted(ui, "Select a script instance.");
        return;
    }
    match &model.stop {
        Some(stop) => {
            ui.strong("Call stack");
            for (i, frame) in stop.frames.iter().enumerate() {
                let text = format!(
                    "{}  {}:{}:{}",
                    frame.function, frame.script, frame.line, frame.col
                );
                if ui.selectable_label(model.frame == i, text).clicked() {
                    actions.push(Action::SelectFrame(i));
                }
            }
            ui.separator();
        }
        None => muted(ui, "Running: locals show when a call stops."),
    }
    let Variables {
        locals,
        captures,
        module,
        expanded,
    } = &mut model.variables;
    if model.stop.is_some() {
        section(ui, "Locals", locals, expanded, actions);
        if !captures.is_empty() {
            section(ui, "Captured", captures, expanded, actions);
        }
    }
    section(ui, "Module variables", module, expanded, actions);
}

fn section(
    ui: &mut egui::Ui,
    title: &str,
    nodes: &[VarNode],
    expanded: &mut std::collections::HashMap<crate::debugger::model::VarPath, usize>,
    actions: &mut Vec<Action>,
) {
    egui::CollapsingHeader::new(RichText::new(title).strong())
        .default_open(true)
        .show(ui, |ui| {
            if nodes.is_empty() {
                muted(ui, "none");
            }
            for node in nodes {
                variable(ui, node, expanded, actions);
            }
        });
}

/// One variable: a scalar with its editor, or a container that opens.
fn variable(
    ui: &mut egui::Ui,
    node: &VarNode,
    expanded: &mut std::collections::HashMap<crate::debugger::model::VarPath, usize>,
    actions: &mut Vec<Action>,
) {
    let count = node.child_count();
    if matches!(node.value, Shown::List(_) | Shown::Map(_)) {
        let is_open = expanded.contains_key(&node.path);
        let kind = if matches!(node.value, Shown::List(_)) {
            "list"
        } else {
            "map"
        };
        let arrow = if is_open { "⏷" } else { "⏵" };
        let label = format!("{arrow} {}: {kind} ({count})", node.name);
        if ui
            .add(egui::Button::new(label).frame(false))
            .on_hover_text("Open or close")
            .clicked()
        {
            if is_open {
                expanded.remove(&node.path);
            } else {
                expanded.insert(node.path.clone(), PAGE);
            }
        }
        if is_open {
            ui.indent(("ark-var", &node.path), |ui| {
                for child in &node.children {
                    variable(ui, child, expanded, actions);
                }
                if node.children.len() < count {
                    let more = (count - node.children.len()).min(PAGE);
                    if ui.button(format!("{more} more of {count}")).clicked() {
                        *expanded.entry(node.path.clone()).or_insert(PAGE) += PAGE;
                    }
                }
            });
        }
        return;
    }
    ui.horizontal(|ui| {
        ui.label(format!("{}:", node.name));
        if let Some(value) = edit(ui, &node.value) {
            actions.push(Action::Set {
                path: node.path.clone(),
                value,
            });
        }
    });
}

/// Shows a scalar in an editor; the new value when the user changed it.
fn edit(ui: &mut egui::Ui, value: &Shown) -> Option<Shown> {
    match value {
        Shown::Nil => {
            muted(ui, "nil");
            None
        }
        Shown::Bool(b) => {
            let mut b = *b;
            ui.checkbox(&mut b, "").changed().then_some(Shown::Bool(b))
        }
        Shown::Int(i) => {
            let mut i = *i;
            ui.add(egui::DragValue::new(&mut i))
                .changed()
                .then_some(Shown::Int(i))
        }
        Shown::Float(f) => {
            let mut f = *f;
            ui.add(egui::DragValue::new(&mut f).speed(0.1))
                .changed()
                .then_some(Shown::Float(f))
        }
        Shown::Vec3(v) => {
            let mut v = *v;
            let mut changed = false;
            for (axis, c) in ["x", "y", "z"].into_iter().zip(v.iter_mut()) {
                changed |= ui
                    .add(
                        egui::DragValue::new(c)
                            .speed(0.1)
                            .prefix(format!("{axis} ")),
                    )
                    .changed();
            }
            changed.then_some(Shown::Vec3(v))
        }
        Shown::Str { text, cut: false } => {
            let mut text = text.clone();
            ui.add(egui::TextEdit::singleline(&mut text).desired_width(160.0))
                .changed()
                .then_some(Shown::Str { text, cut: false })
        }
        Shown::Str { text, cut: true } => {
            ui.label(format!("{text:?}…"))
                .on_hover_text("A long string: shown cut, not editable here");
            None
        }
        Shown::Other(text) => {
            ui.label(RichText::new(text).color(colours::MUTED));
            None
        }
        Shown::List(_) | Shown::Map(_) => None,
    }
}
