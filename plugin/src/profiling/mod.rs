//! Profiling: where the scripts' time goes, as zones, plots, messages and
//! frame marks. Everything goes through [`ScriptProfiler`], whose backend
//! is Tracy with the `tracy` feature, a [`RecordingBackend`] in tests, or
//! none (each instrumented point is then one branch).
//!
//! Zones, outermost first (names exactly as the profiler shows them):
//!
//! - `ark scripts`: the scheduler's system, each frame;
//! - `ark call <function>`, text `<script> <entity>`: one slice of a call
//!   (a call suspended and resumed in later frames is one zone per slice);
//! - `<name>`: a region a script marked with `profile(name, f)`, inside
//!   its call's zone, ended when the slice ends and begun again when the
//!   call resumes;
//! - `ark gc <phase>`: the collector's step, after the calls;
//! - `ark compile`, text `<script>`: compiling a script (and a hot reload).

mod recording;
#[cfg(feature = "tracy")]
mod tracy;

use std::collections::HashMap;

use ark_vm::CallId;
use bevy::ecs::resource::Resource;

pub use recording::{ProfileEvent, RecordingBackend};
#[cfg(feature = "tracy")]
pub use tracy::{TracyBackend, tracy_client_running};

/// A value plotted every frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Plot {
    OpcodeMicros,
    GcMicros,
    BudgetMicros,
    Instructions,
    HeapObjects,
    HeapBytes,
    Suspended,
    Failed,
}

/// Each plot's name in the profiler, written once for both the name
/// and Tracy's 'static C string.
macro_rules! plot_names {
    ($($plot:ident => $name:literal,)*) => {
        impl Plot {
            pub const ALL: &[Plot] = &[$(Plot::$plot),*];

            /// The plot's name in the profiler.
            pub fn name(self) -> &'static str {
                match self {
                    $(Plot::$plot => $name,)*
                }
            }

            #[cfg(feature = "tracy")]
            fn tracy_name(self) -> tracy_client::PlotName {
                match self {
                    $(Plot::$plot => tracy_client::plot_name!($name),)*
                }
            }
        }
    };
}

plot_names! {
    OpcodeMicros => "ark opcode us",
    GcMicros => "ark gc us",
    BudgetMicros => "ark budget us",
    Instructions => "ark instructions",
    HeapObjects => "ark heap objects",
    HeapBytes => "ark heap bytes",
    Suspended => "ark instances suspended",
    Failed => "ark instances failed",
}

/// Where profiling data goes. Zones nest: every `zone_begin` is matched by
/// a `zone_end` on the same thread, innermost first.
pub trait ProfileBackend: Send + Sync + 'static {
    fn zone_begin(&mut self, name: &str, text: &str);
    /// Text for the innermost open zone, added before it ends.
    fn zone_text(&mut self, text: &str);
    fn zone_end(&mut self);
    fn plot(&mut self, plot: Plot, value: f64);
    fn message(&mut self, text: &str);
    fn frame_mark(&mut self);
    /// Whether zones per call and per script region are wanted this frame
    /// (Tracy: only while a profiler is connected; see
    /// [`ScriptProfiler::begin_frame`]).
    fn detailed(&self) -> bool {
        true
    }
}

/// The profiler the plugin reports to, and the zones scripts opened.
#[derive(Resource, Default)]
pub struct ScriptProfiler {
    backend: Option<Box<dyn ProfileBackend>>,
    /// Whether the plugin marks the end of each frame (off when Bevy
    /// marks frames itself).
    pub frame_marks: bool,
    /// Zones the running call's script opened, outermost first.
    open: Vec<String>,
    /// Zones of suspended calls, to open again when they resume.
    suspended: HashMap<CallId, Vec<String>>,
    /// Forced collections already reported.
    pub(crate) forced_seen: u64,
    /// Whether this frame has zones per call and per script region.
    detailed: bool,
    /// A call zone's name and text, written here rather than allocated
    /// for every call.
    name_buf: String,
    text_buf: String,
}

impl ScriptProfiler {
    /// Reports to `backend` from now on (frame marks on).
    pub fn set_backend(&mut self, backend: impl ProfileBackend) {
        self.backend = Some(Box::new(backend));
        self.frame_marks = true;
    }

    /// Reports nothing from now on.
    pub fn remove_backend(&mut self) {
        self.backend = None;
    }

    /// Whether anything is reported.
    #[inline]
    pub fn enabled(&self) -> bool {
        self.backend.is_some()
    }

    pub(crate) fn zone_begin(&mut self, name: &str, text: &str) {
        if let Some(b) = &mut self.backend {
            b.zone_begin(name, text);
        }
    }

    pub(crate) fn zone_text(&mut self, text: &str) {
        if let Some(b) = &mut self.backend {
            b.zone_text(text);
        }
    }

    pub(crate) fn zone_end(&mut self) {
        if let Some(b) = &mut self.backend {
            b.zone_end();
        }
    }

    pub(crate) fn plot(&mut self, plot: Plot, value: f64) {
        if let Some(b) = &mut self.backend {
            b.plot(plot, value);
        }
    }

    pub(crate) fn message(&mut self, text: &str) {
        if let Some(b) = &mut self.backend {
            b.message(text);
        }
    }

    pub(crate) fn frame_mark(&mut self) {
        if self.frame_marks
            && let Some(b) = &mut self.backend
        {
            b.frame_mark();
        }
    }

    /// The frame's scheduler begins: the `ark scripts` zone, and whether
    /// the frame's calls get zones. Per-call zones are the costly part
    /// (thousands a frame); Tracy gets them only while a profiler listens,
    /// so that a game that nobody profiles pays one check per call.
    pub(crate) fn begin_frame(&mut self) {
        if let Some(b) = &mut self.backend {
            self.detailed = b.detailed();
            if !self.detailed {
                // Nothing is emitted per call or region this frame: the
                // scheduler does not report calls, and regions of calls
                // suspended while the profiler listened are forgotten
                // (their `profile_end` finds none open and does nothing).
                self.open.clear();
                self.suspended.clear();
            }
            b.zone_begin("ark scripts", "");
        }
    }

    /// Whether this frame's calls get zones (the scheduler reports them
    /// only then).
    pub(crate) fn detailed(&self) -> bool {
        self.backend.is_some() && self.detailed
    }

    /// A call's slice begins (in a detailed frame): its zone
    /// (`ark call <function>`, text `<script> <entity>`), then the zones
    /// its script had open when it was suspended.
    pub(crate) fn call_begin(
        &mut self,
        call: CallId,
        function: &str,
        script: &str,
        entity: bevy::ecs::entity::Entity,
    ) {
        use std::fmt::Write;
        self.open.clear();
        let Some(b) = self.backend.as_mut().filter(|_| self.detailed) else {
            return;
        };
        if !self.suspended.is_empty()
            && let Some(zones) = self.suspended.remove(&call)
        {
            self.open = zones;
        }
        self.name_buf.clear();
        self.name_buf.push_str("ark call ");
        self.name_buf.push_str(function);
        self.text_buf.clear();
        let _ = write!(self.text_buf, "{script} {entity}");
        b.zone_begin(&self.name_buf, &self.text_buf);
        for zone in &self.open {
            b.zone_begin(zone, "");
        }
    }

    /// A call's slice ends: the zones its script left open end (kept to
    /// open again if the call was only suspended), then its own.
    pub(crate) fn call_end(&mut self, call: CallId, suspended: bool) {
        let Some(b) = self.backend.as_mut().filter(|_| self.detailed) else {
            return;
        };
        for _ in &self.open {
            b.zone_end();
        }
        b.zone_end();
        let open = std::mem::take(&mut self.open);
        if suspended && !open.is_empty() {
            self.suspended.insert(call, open);
        }
    }

    /// A script's `profile_begin(name)`.
    pub(crate) fn script_zone_begin(&mut self, name: &str) {
        if let Some(b) = self.backend.as_mut().filter(|_| self.detailed) {
            b.zone_begin(name, "");
            self.open.push(name.to_string());
        }
    }

    /// A script's `profile_end()`: ends its innermost open region, if any.
    pub(crate) fn script_zone_end(&mut self) {
        if let Some(b) = self.backend.as_mut().filter(|_| self.detailed)
            && self.open.pop().is_some()
        {
            b.zone_end();
        }
    }

    /// Forgets the zones of calls that are gone (cancelled while
    /// suspended).
    pub(crate) fn retain_calls(&mut self, alive: impl Fn(CallId) -> bool) {
        if !self.suspended.is_empty() {
            self.suspended.retain(|&c, _| alive(c));
        }
    }
}
