//! A backend that records what it is sent, for tests (and for a game that
//! wants its own view of the frame).

use std::sync::{Arc, Mutex};

use super::{Plot, ProfileBackend};

/// One thing sent to the profiler.
#[derive(Clone, Debug, PartialEq)]
pub enum ProfileEvent {
    ZoneBegin { name: String, text: String },
    ZoneText(String),
    ZoneEnd,
    Plot(Plot, f64),
    Message(String),
    FrameMark,
}

/// Keeps every event; clones share the log.
#[derive(Clone, Default)]
pub struct RecordingBackend {
    events: Arc<Mutex<Vec<ProfileEvent>>>,
}

impl RecordingBackend {
    /// The events recorded since the last call.
    pub fn take(&self) -> Vec<ProfileEvent> {
        std::mem::take(&mut *self.events.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn push(&self, event: ProfileEvent) {
        self.events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(event);
    }
}

impl ProfileBackend for RecordingBackend {
    fn zone_begin(&mut self, name: &str, text: &str) {
        self.push(ProfileEvent::ZoneBegin {
            name: name.to_string(),
            text: text.to_string(),
        });
    }

    fn zone_text(&mut self, text: &str) {
        self.push(ProfileEvent::ZoneText(text.to_string()));
    }

    fn zone_end(&mut self) {
        self.push(ProfileEvent::ZoneEnd);
    }

    fn plot(&mut self, plot: Plot, value: f64) {
        self.push(ProfileEvent::Plot(plot, value));
    }

    fn message(&mut self, text: &str) {
        self.push(ProfileEvent::Message(text.to_string()));
    }

    fn frame_mark(&mut self) {
        self.push(ProfileEvent::FrameMark);
    }
}
