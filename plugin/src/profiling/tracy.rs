//! The Tracy backend (feature `tracy`): tracy-client, listening on
//! loopback only.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::{CStr, CString};

use tracy_client::internal::{SpanLocation, make_span_location};
use tracy_client::{Client, Span};

use super::{Plot, ProfileBackend};

thread_local! {
    /// Open zones. A Tracy zone ends on the thread it began on, so they
    /// live with the thread, not in the (shared) backend; the scheduler
    /// begins and ends every zone within its own system.
    static SPANS: RefCell<Vec<Span>> = const { RefCell::new(Vec::new()) };
}

/// Zone names whose source location is kept for the whole run: a zone
/// with a kept location costs no allocation. Past this many names (a
/// script naming regions by a counter), zones allocate their location.
const LOCATIONS_KEPT: usize = 4096;

/// Sends everything to a Tracy profiler, if one connects.
pub struct TracyBackend {
    client: Client,
    /// A location per zone name, leaked on purpose: Tracy reads a zone's
    /// location whenever the profiler asks, for as long as it runs.
    locations: HashMap<String, &'static SpanLocation>,
}

impl TracyBackend {
    /// Starts the client (once per process; later calls share it).
    pub fn start() -> TracyBackend {
        TracyBackend {
            client: Client::start(),
            locations: HashMap::new(),
        }
    }

    fn location(&mut self, name: &str) -> Option<&'static SpanLocation> {
        if let Some(&loc) = self.locations.get(name) {
            return Some(loc);
        }
        if self.locations.len() >= LOCATIONS_KEPT {
            return None;
        }
        // C strings for Tracy, kept with the location.
        let c_name: &'static CStr = Box::leak(
            CString::new(name.replace('\0', ""))
                .ok()?
                .into_boxed_c_str(),
        );
        let loc: &'static SpanLocation = Box::leak(Box::new(make_span_location(
            // The function name shown: `make_span_location` drops the
            // last three characters of a type name (`::f`).
            "bevy_ark::f",
            c_name.as_ptr().cast(),
            c"ark".as_ptr().cast(),
            0,
        )));
        self.locations.insert(name.to_string(), loc);
        Some(loc)
    }
}

/// Whether this process's Tracy client has been started.
pub fn tracy_client_running() -> bool {
    Client::running().is_some()
}

impl ProfileBackend for TracyBackend {
    fn zone_begin(&mut self, name: &str, text: &str) {
        let span = match self.location(name) {
            Some(loc) => self.client.clone().span(loc, 0),
            None => self
                .client
                .clone()
                .span_alloc(Some(name), name, "ark", 0, 0),
        };
        if !text.is_empty() {
            span.emit_text(text);
        }
        SPANS.with(|s| s.borrow_mut().push(span));
    }

    fn zone_text(&mut self, text: &str) {
        SPANS.with(|s| {
            if let Some(span) = s.borrow().last() {
                span.emit_text(text);
            }
        });
    }

    fn zone_end(&mut self) {
        SPANS.with(|s| drop(s.borrow_mut().pop()));
    }

    fn plot(&mut self, plot: Plot, value: f64) {
        self.client.plot(plot.tracy_name(), value);
    }

    fn message(&mut self, text: &str) {
        self.client.message(text, 0);
    }

    fn frame_mark(&mut self) {
        self.client.frame_mark();
    }

    fn detailed(&self) -> bool {
        Client::is_connected()
    }
}
