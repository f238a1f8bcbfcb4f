//! The overlay's windows: plain egui over a [`DebuggerModel`]. Each frame
//! [`show`] draws them from the model and returns what the user asked for;
//! what only the windows care about (filter text, expanded values, the
//! console's input and history) they keep in the model themselves.

mod console;
mod performance;
mod scripts;
mod source;
mod stack;

use ark_vm::debug::StepKind;
use bevy_egui::egui;
use egui::{Align2, Color32, Context, Key, Modifiers};

use super::model::{Action, DebuggerModel};

/// Colours shared by the windows.
pub(crate) mod colours {
    use bevy_egui::egui::Color32;

    pub const ERROR: Color32 = Color32::from_rgb(240, 100, 90);
    pub const STOPPED: Color32 = Color32::from_rgb(250, 200, 60);
    pub const SUSPENDED: Color32 = Color32::from_rgb(120, 170, 250);
    pub const RUNNING: Color32 = Color32::from_rgb(120, 210, 120);
    pub const MUTED: Color32 = Color32::from_rgb(150, 150, 150);
    pub const CURRENT_LINE: Color32 = Color32::from_rgba_premultiplied(90, 75, 20, 160);
    pub const BREAKPOINT: Color32 = Color32::from_rgb(225, 60, 60);
    pub const OPCODES: Color32 = Color32::from_rgb(110, 180, 250);
    pub const GC: Color32 = Color32::from_rgb(240, 160, 60);
    pub const BUDGET: Color32 = Color32::from_rgb(230, 70, 70);
}

/// Draws the overlay; returns the actions asked for this frame.
pub fn show(ctx: &Context, model: &mut DebuggerModel) -> Vec<Action> {
    let mut actions = Vec::new();
    shortcuts(ctx, model, &mut actions);
    toolbar(ctx, model, &mut actions);
    let screen = ctx.content_rect();
    let layout = Layout::for_screen(screen.width(), screen.height());
    scripts::window(ctx, model, &layout, &mut actions);
    source::window(ctx, model, &layout, &mut actions);
    stack::window(ctx, model, &layout, &mut actions);
    console::window(ctx, model, &layout, &mut actions);
    performance::window(ctx, model, &layout, &mut actions);
    actions
}

/// Where each window opens the first time: Scripts and Performance on
/// the left, Source in the middle, Stack and variables on the right, the
/// Console along the bottom. Sizes follow the screen so that the five fit
/// a 1280×720 window and leave room for the game on bigger ones.
pub(crate) struct Layout {
    pub scripts: egui::Rect,
    pub performance: egui::Rect,
    pub source: egui::Rect,
    pub stack: egui::Rect,
    pub console: egui::Rect,
}

impl Layout {
    fn for_screen(width: f32, height: f32) -> Layout {
        let (w, h) = (width.max(800.0), height.max(500.0));
        let top = 36.0;
        let gap = 8.0;
        let side = (w * 0.22).clamp(220.0, 380.0);
        let console_h = (h * 0.26).clamp(120.0, 260.0);
        let body_h = h - top - console_h - 3.0 * gap;
        let middle_w = w - 2.0 * side - 4.0 * gap;
        let rect = |x: f32, y: f32, w: f32, h: f32| {
            egui::Rect::from_min_size(egui::pos2(x, y), egui::vec2(w, h))
        };
        Layout {
            scripts: rect(gap, top, side, body_h * 0.5),
            performance: rect(gap, top + body_h * 0.5 + gap, side, body_h * 0.5 - gap),
            source: rect(side + 2.0 * gap, top, middle_w, body_h),
            stack: rect(w - side - gap, top, side, body_h),
            console: rect(side + 2.0 * gap, top + body_h + gap, middle_w, console_h),
        }
    }
}

/// A window of the overlay, opened where `rect` says the first time.
pub(crate) fn window<'a>(title: &'a str, open: &'a mut bool, rect: egui::Rect) -> egui::Window<'a> {
    egui::Window::new(title)
        .open(open)
        .default_pos(rect.min)
        .default_size(rect.size())
        .resizable(true)
}

/// F5 continue, F6 pause, F10 step over, F11 step into, Shift+F11 step out,
/// as in common IDEs.
fn shortcuts(ctx: &Context, model: &DebuggerModel, actions: &mut Vec<Action>) {
    let stopped = model.stop.is_some();
    ctx.input_mut(|input| {
        if input.consume_key(Modifiers::SHIFT, Key::F11) && stopped {
            actions.push(Action::Step(StepKind::Out));
        }
        if input.consume_key(Modifiers::NONE, Key::F11) && stopped {
            actions.push(Action::Step(StepKind::Into));
        }
        if input.consume_key(Modifiers::NONE, Key::F10) && stopped {
            actions.push(Action::Step(StepKind::Over));
        }
        if input.consume_key(Modifiers::NONE, Key::F5) && stopped {
            actions.push(Action::Continue);
        }
        if input.consume_key(Modifiers::NONE, Key::F6) && !stopped {
            actions.push(Action::Pause);
        }
    });
}

/// The bar along the top: window toggles and the settings.
fn toolbar(ctx: &Context, model: &mut DebuggerModel, actions: &mut Vec<Action>) {
    egui::Area::new(egui::Id::new("ark-debugger-toolbar"))
        .anchor(Align2::CENTER_TOP, [0.0, 4.0])
        .show(ctx, |ui| {
            egui::Frame::popup(ui.style()).show(ui, |ui| {
                ui.horizontal(|ui| {
                    ui.strong("Ark debugger");
                    ui.separator();
                    let w = &mut model.windows;
                    ui.toggle_value(&mut w.scripts, "Scripts");
                    ui.toggle_value(&mut w.source, "Source");
                    ui.toggle_value(&mut w.stack, "Stack");
                    ui.toggle_value(&mut w.console, "Console");
                    ui.toggle_value(&mut w.performance, "Performance");
                    ui.separator();
                    let mut on_error = model.break_on_error;
                    if ui
                        .checkbox(&mut on_error, "Break on error")
                        .on_hover_text("A runtime error stops its call before it unwinds")
                        .changed()
                    {
                        actions.push(Action::SetBreakOnError(on_error));
                    }
                    let mut stop_all = model.stop_all;
                    if ui
                        .checkbox(&mut stop_all, "Stop all")
                        .on_hover_text("While a call is stopped, no script runs")
                        .changed()
                    {
                        actions.push(Action::SetStopAll(stop_all));
                    }
                    let stopped = model
                        .instances
                        .iter()
                        .filter(|r| r.state == super::model::InstanceState::Stopped);
                    let count = stopped.count();
                    if count > 0 {
                        ui.colored_label(colours::STOPPED, format!("{count} stopped"));
                    }
                });
            });
        });
}

/// A label that says nothing is there yet.
pub(crate) fn muted(ui: &mut egui::Ui, text: &str) {
    ui.colored_label(colours::MUTED, text);
}

/// The colour a state is shown in.
pub(crate) fn state_colour(state: super::model::InstanceState) -> Color32 {
    use super::model::InstanceState::*;
    match state {
        Waiting => colours::MUTED,
        Running => colours::RUNNING,
        Suspended => colours::SUSPENDED,
        Stopped => colours::STOPPED,
        Failed => colours::ERROR,
    }
}
