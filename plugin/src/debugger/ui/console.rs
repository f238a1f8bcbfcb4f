//! Console: what scripts printed and their errors (each error's location
//! opens the source there), and a line that evaluates in the selected
//! instance and frame, with history (Up and Down).

use bevy_egui::egui;
use egui::{Context, Key, RichText};

use super::{Layout, colours, muted};
use crate::debugger::model::{Action, ConsoleKind, ConsoleLine, DebuggerModel};

pub(super) fn window(
    ctx: &Context,
    model: &mut DebuggerModel,
    layout: &Layout,
    actions: &mut Vec<Action>,
) {
    let mut open = model.windows.console;
    super::window("Console", &mut open, layout.console).show(ctx, |ui| {
        ui.horizontal(|ui| {
            ui.checkbox(&mut model.console.all_instances, "All instances");
            if ui.button("Clear").clicked() {
                model.console.lines.clear();
            }
        });
        input(ui, model, actions);
        ui.separator();
        let selected = model.selected.map(|at| at.entity);
        let all = model.console.all_instances;
        let shown: Vec<&ConsoleLine> = model
            .console
            .lines
            .iter()
            .filter(|l| all || l.entity.is_none() || l.entity == selected)
            .collect();
        if shown.is_empty() {
            muted(ui, "Nothing printed yet.");
        }
        egui::ScrollArea::vertical()
            .auto_shrink(false)
            .stick_to_bottom(true)
            .show(ui, |ui| {
                for line in shown {
                    show_line(ui, line, actions);
                }
            });
    });
    model.windows.console = open;
}

fn show_line(ui: &mut egui::Ui, line: &ConsoleLine, actions: &mut Vec<Action>) {
    ui.horizontal_wrapped(|ui| {
        if let Some(entity) = line.entity
            && line.kind != ConsoleKind::Input
            && line.kind != ConsoleKind::Result
        {
            muted(ui, &format!("[{entity} {}]", line.script));
        }
        let text = RichText::new(&line.text).monospace();
        match line.kind {
            ConsoleKind::Print => ui.label(text),
            ConsoleKind::Error => ui.label(text.color(colours::ERROR)),
            ConsoleKind::Input => ui.label(
                RichText::new(format!("> {}", line.text))
                    .monospace()
                    .strong(),
            ),
            ConsoleKind::Result => ui.label(text.color(colours::SUSPENDED)),
        };
        if let Some((script, at)) = &line.location
            && ui
                .link(format!("{script}:{at}"))
                .on_hover_text("Open in Source")
                .clicked()
        {
            actions.push(Action::ShowSource {
                script: script.clone(),
                line: *at,
            });
        }
    });
}

/// The REPL line: Enter evaluates, Up and Down walk the history.
fn input(ui: &mut egui::Ui, model: &mut DebuggerModel, actions: &mut Vec<Action>) {
    let console = &mut model.console;
    let hint = match (&model.selected, &model.stop) {
        (None, _) => "select an instance to evaluate in it",
        (Some(_), Some(_)) => "evaluate in the selected frame",
        (Some(_), None) => "evaluate in the selected instance",
    };
    let response = ui
        .horizontal(|ui| {
            let label = ui.label("Evaluate");
            ui.add_enabled(
                model.selected.is_some(),
                egui::TextEdit::singleline(&mut console.input)
                    .id_salt("ark-console-input")
                    // Up and Down walk the history rather than move the
                    // focus to another widget.
                    .event_filter(egui::EventFilter {
                        horizontal_arrows: true,
                        vertical_arrows: true,
                        ..Default::default()
                    })
                    .hint_text(hint)
                    .font(egui::TextStyle::Monospace)
                    .desired_width(f32::INFINITY),
            )
            .labelled_by(label.id)
        })
        .inner;
    if response.has_focus() {
        let (up, down) = ui.input(|i| (i.key_pressed(Key::ArrowUp), i.key_pressed(Key::ArrowDown)));
        let last = console.history.len();
        let at = match (up, down, console.history_at) {
            (true, _, None) if last > 0 => Some(last - 1),
            (true, _, Some(at)) => Some(at.saturating_sub(1)),
            (_, true, Some(at)) if at + 1 < last => Some(at + 1),
            (_, true, Some(_)) => {
                console.input.clear();
                None
            }
            (_, _, at) => at,
        };
        if at != console.history_at {
            console.history_at = at;
            if let Some(at) = at {
                console.input = console.history[at].clone();
            }
            response.request_focus();
        }
    }
    if response.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter)) {
        let source = console.input.trim().to_string();
        if !source.is_empty() {
            if console.history.last() != Some(&source) {
                console.history.push(source.clone());
            }
            actions.push(Action::Eval(source));
        }
        console.input.clear();
        console.history_at = None;
        response.request_focus();
    }
}
