//! Source: the selected script with line numbers and colours, the line
//! the selected frame is at, breakpoints in the gutter, and the controls.

use ark_vm::debug::StepKind;
use bevy_egui::egui;
use egui::text::LayoutJob;
use egui::{Color32, Context, FontId, RichText, TextFormat, WidgetInfo, WidgetType};

use super::{Layout, colours, muted};
use crate::debugger::highlight::{Kind, Line};
use crate::debugger::model::{Action, DebuggerModel, SourceView};

pub(super) fn window(
    ctx: &Context,
    model: &mut DebuggerModel,
    layout: &Layout,
    actions: &mut Vec<Action>,
) {
    let mut open = model.windows.source;
    let title = match &model.source {
        Some(view) => format!("Source: {}", view.script),
        None => "Source".to_string(),
    };
    // One window whatever its title says.
    super::window(&title, &mut open, layout.source)
        .id(egui::Id::new("ark-source"))
        .show(ctx, |ui| {
            controls(ui, model, actions);
            ui.separator();
            match &mut model.source {
                Some(view) => lines(ui, view, model.stop.is_some(), actions),
                None => muted(ui, "Select a script instance to see its source."),
            }
        });
    model.windows.source = open;
}

/// Continue, pause and the steps, and why the call stopped.
fn controls(ui: &mut egui::Ui, model: &DebuggerModel, actions: &mut Vec<Action>) {
    let stopped = model.stop.is_some();
    ui.horizontal(|ui| {
        let button = |ui: &mut egui::Ui, enabled: bool, label: &str, key: &str| {
            ui.add_enabled(enabled, egui::Button::new(label))
                .on_hover_text(key)
                .clicked()
        };
        if button(ui, stopped, "Continue", "F5") {
            actions.push(Action::Continue);
        }
        if button(ui, !stopped, "Pause", "F6: stop the next script that runs") {
            actions.push(Action::Pause);
        }
        if button(ui, stopped, "Step over", "F10") {
            actions.push(Action::Step(StepKind::Over));
        }
        if button(ui, stopped, "Step into", "F11") {
            actions.push(Action::Step(StepKind::Into));
        }
        if button(ui, stopped, "Step out", "Shift+F11") {
            actions.push(Action::Step(StepKind::Out));
        }
        match &model.stop {
            Some(stop) => {
                ui.colored_label(colours::STOPPED, &stop.reason);
            }
            None if model.selected.is_some() => muted(ui, "running"),
            None => {}
        }
    });
}

/// The script's lines: a gutter (click: toggle a breakpoint) and the code
/// (right-click: run to the line while stopped).
fn lines(ui: &mut egui::Ui, view: &mut SourceView, stopped: bool, actions: &mut Vec<Action>) {
    let font = FontId::monospace(13.0);
    let row_height = ui.fonts_mut(|f| f.row_height(&font)) + 2.0;
    let mut area = egui::ScrollArea::both()
        .auto_shrink(false)
        .id_salt(("ark-source", &view.script));
    if let Some(line) = view.scroll_to.take() {
        // A few lines of context above.
        let offset = (line.saturating_sub(4) as f32) * (row_height + ui.spacing().item_spacing.y);
        area = area.vertical_scroll_offset(offset);
    }
    let digits = view.lines.len().max(1).to_string().len();
    area.show_rows(ui, row_height, view.lines.len(), |ui, range| {
        for index in range {
            let n = index as u32 + 1;
            let current = view.current_line == Some(n);
            let has_breakpoint = view.breakpoints.contains(&n);
            // The current line's background, painted under the row.
            let background = ui.painter().add(egui::Shape::Noop);
            let row = ui.horizontal(|ui| {
                let marker = if has_breakpoint { "●" } else { " " };
                let gutter = ui
                    .add(
                        egui::Button::new(
                            RichText::new(format!("{marker}{n:>digits$}"))
                                .font(font.clone())
                                .color(if has_breakpoint {
                                    colours::BREAKPOINT
                                } else {
                                    colours::MUTED
                                }),
                        )
                        .frame(false),
                    )
                    .on_hover_text("Toggle a breakpoint");
                gutter.widget_info(|| {
                    WidgetInfo::labeled(WidgetType::Button, true, format!("breakpoint line {n}"))
                });
                if gutter.clicked() {
                    actions.push(Action::ToggleBreakpoint {
                        script: view.script.clone(),
                        line: n,
                    });
                }
                let code = ui.add(
                    egui::Label::new(layout_line(&view.lines[index], &font))
                        .sense(egui::Sense::click())
                        .extend(),
                );
                code.context_menu(|ui| {
                    if ui
                        .add_enabled(stopped, egui::Button::new("Run to this line"))
                        .clicked()
                    {
                        actions.push(Action::RunToLine(n));
                        ui.close();
                    }
                });
            });
            if current {
                let mut rect = row.response.rect;
                rect.set_right(rect.right().max(ui.clip_rect().right()));
                ui.painter().set(
                    background,
                    egui::Shape::rect_filled(rect, 0.0, colours::CURRENT_LINE),
                );
            }
        }
    });
}

fn layout_line(line: &Line, font: &FontId) -> LayoutJob {
    let mut job = LayoutJob::default();
    for span in &line.spans {
        let colour = match span.kind {
            Kind::Plain => Color32::from_rgb(220, 220, 220),
            Kind::Keyword => Color32::from_rgb(200, 140, 240),
            Kind::Literal => Color32::from_rgb(240, 180, 100),
            Kind::Str => Color32::from_rgb(150, 210, 120),
            Kind::Comment => Color32::from_rgb(120, 130, 140),
        };
        job.append(&span.text, 0.0, TextFormat::simple(font.clone(), colour));
    }
    job
}
