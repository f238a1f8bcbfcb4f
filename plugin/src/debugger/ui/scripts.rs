//! Scripts: every instance with its entity, name, script and state,
//! filterable; selecting one drives the other windows.

use bevy_egui::egui;
use egui::{Context, RichText};

use super::{Layout, colours, muted, state_colour};
use crate::debugger::model::{Action, DebuggerModel, InstanceState};

pub(super) fn window(
    ctx: &Context,
    model: &mut DebuggerModel,
    layout: &Layout,
    actions: &mut Vec<Action>,
) {
    let mut open = model.windows.scripts;
    super::window("Scripts", &mut open, layout.scripts).show(ctx, |ui| {
        ui.horizontal(|ui| {
            let label = ui.label("Filter");
            ui.add(
                egui::TextEdit::singleline(&mut model.filter)
                    .hint_text("entity, name or script")
                    .desired_width(f32::INFINITY),
            )
            .labelled_by(label.id);
        });
        let needle = model.filter.to_lowercase();
        let rows: Vec<usize> = (0..model.instances.len())
            .filter(|&i| {
                needle.is_empty() || model.instances[i].title().to_lowercase().contains(&needle)
            })
            .collect();
        ui.label(format!(
            "{} of {} instances",
            rows.len(),
            model.instances.len()
        ));
        ui.separator();
        if model.instances.is_empty() {
            muted(ui, "No script instances yet.");
            return;
        }
        let row_height = ui.text_style_height(&egui::TextStyle::Body) + 6.0;
        egui::ScrollArea::vertical().auto_shrink(false).show_rows(
            ui,
            row_height,
            rows.len(),
            |ui, range| {
                for &i in &rows[range] {
                    let row = &model.instances[i];
                    let selected = model.selected == Some(row.at);
                    ui.horizontal(|ui| {
                        // Monospace: the proportional font has no dot.
                        ui.label(
                            RichText::new("●")
                                .monospace()
                                .color(state_colour(row.state)),
                        )
                        .on_hover_text(row.state.label());
                        let clicked = ui.selectable_label(selected, row.title()).clicked();
                        if row.state == InstanceState::Failed {
                            let error = row.error.as_deref().unwrap_or("failed");
                            ui.label(RichText::new(error).color(colours::ERROR).small())
                                .on_hover_text(error);
                        } else {
                            muted(ui, row.state.label());
                        }
                        if clicked {
                            actions.push(Action::Select(row.at));
                        }
                    });
                }
            },
        );
    });
    model.windows.scripts = open;
}
