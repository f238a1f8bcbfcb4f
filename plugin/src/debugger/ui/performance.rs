//! Performance: per-frame plots of opcode and collector time against the
//! budget, the heap, the collector's phase, and the instances that took
//! the most time over the last second.

use bevy_egui::egui;
use egui::{Color32, Context, Pos2, Stroke};

use super::{Layout, colours, muted};
use crate::debugger::model::{Action, DebuggerModel};
use crate::debugger::perf::{HISTORY_SECONDS, PerfHistory, Sample};

pub(super) fn window(
    ctx: &Context,
    model: &mut DebuggerModel,
    layout: &Layout,
    actions: &mut Vec<Action>,
) {
    let mut open = model.windows.performance;
    super::window("Performance", &mut open, layout.performance).show(ctx, |ui| {
        let perf = &model.perf;
        let Some(last) = perf.last() else {
            muted(ui, "No frames yet.");
            return;
        };
        ui.horizontal_wrapped(|ui| {
            ui.colored_label(
                colours::OPCODES,
                format!("scripts {:.0} µs", last.opcode_micros),
            );
            ui.colored_label(colours::GC, format!("gc {:.0} µs", last.gc_micros));
            if last.budget_micros > 0.0 {
                ui.colored_label(
                    colours::BUDGET,
                    format!("budget {:.0} µs", last.budget_micros),
                );
            }
        });
        ui.label(format!(
            "{} instructions · {} objects · {} · collector {:?}",
            last.instructions,
            last.heap_objects,
            bytes(last.heap_bytes),
            perf.phase
        ));
        ui.small(format!("µs per frame, last {HISTORY_SECONDS:.0} s"));
        time_plot(ui, perf);
        ui.small("heap bytes");
        heap_plot(ui, perf);
        ui.separator();
        ui.strong("Busiest over the last second");
        let busiest = perf.busiest();
        if busiest.is_empty() {
            muted(ui, "No calls timed yet.");
        }
        for &(at, micros) in busiest {
            let script = model
                .instances
                .binary_search_by_key(&at, |r| r.at)
                .map_or("(gone)", |i| model.instances[i].script.as_str());
            let text = format!("{micros:>8.0} µs  {} · {script}", at.entity);
            if ui
                .selectable_label(model.selected == Some(at), text)
                .clicked()
            {
                actions.push(Action::Select(at));
            }
        }
    });
    model.windows.performance = open;
}

fn bytes(n: usize) -> String {
    match n {
        n if n >= 1 << 20 => format!("{:.1} MB", n as f64 / (1 << 20) as f64),
        n if n >= 1 << 10 => format!("{:.1} KB", n as f64 / 1024.0),
        n => format!("{n} B"),
    }
}

/// Opcode and collector microseconds per frame, and the budget line.
fn time_plot(ui: &mut egui::Ui, perf: &PerfHistory) {
    let top = perf
        .samples
        .iter()
        .map(|s| (s.opcode_micros + s.gc_micros).max(s.budget_micros))
        .fold(1.0, f64::max)
        * 1.1;
    plot(
        ui,
        perf,
        top,
        &[
            (colours::OPCODES, &|s: &Sample| s.opcode_micros),
            (colours::GC, &|s: &Sample| s.gc_micros),
            (colours::BUDGET, &|s: &Sample| s.budget_micros),
        ],
    );
}

/// Heap bytes per frame.
fn heap_plot(ui: &mut egui::Ui, perf: &PerfHistory) {
    let top = perf
        .samples
        .iter()
        .map(|s| s.heap_bytes as f64)
        .fold(1.0, f64::max)
        * 1.1;
    plot(
        ui,
        perf,
        top,
        &[(Color32::from_rgb(170, 140, 230), &|s: &Sample| {
            s.heap_bytes as f64
        })],
    );
}

type Series<'a> = (Color32, &'a dyn Fn(&Sample) -> f64);

/// Lines over the last `HISTORY_SECONDS`, from 0 to `top`.
fn plot(ui: &mut egui::Ui, perf: &PerfHistory, top: f64, series: &[Series<'_>]) {
    let size = egui::vec2(ui.available_width().max(120.0), 70.0);
    let (rect, _) = ui.allocate_exact_size(size, egui::Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 2.0, Color32::from_black_alpha(90));
    let Some(last) = perf.last() else {
        return;
    };
    let point = |s: &Sample, v: f64| {
        let x = rect.right() - ((last.time - s.time) / HISTORY_SECONDS) as f32 * rect.width();
        let y = rect.bottom() - (v / top).clamp(0.0, 1.0) as f32 * rect.height();
        Pos2::new(x, y)
    };
    for (colour, value) in series {
        let points: Vec<Pos2> = perf.samples.iter().map(|s| point(s, value(s))).collect();
        painter.add(egui::Shape::line(points, Stroke::new(1.5, *colour)));
    }
}
