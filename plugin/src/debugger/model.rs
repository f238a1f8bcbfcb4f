//! The debugger's model: what the windows show (filled from the world and
//! the VM by `bridge`), what they remember between frames (selection,
//! filter, expanded values, console input), and the [`Action`]s they ask
//! for. Plain data: the windows are tested over it without Bevy or a GPU.

use std::collections::{HashMap, HashSet, VecDeque};

use ark_vm::debug::StepKind;
use bevy::ecs::entity::Entity;

use super::highlight::Line;
use super::perf::PerfHistory;

/// One script instance: the `slot`-th script of `entity`'s `Script`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InstanceRef {
    pub entity: Entity,
    pub slot: usize,
}

/// Where an instance is in its life, as the Scripts window shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InstanceState {
    /// Its script has not loaded or compiled yet.
    Waiting,
    /// It runs every frame.
    Running,
    /// A call of it is suspended (out of budget, `yield`, `wait`) and
    /// goes on next frame.
    Suspended,
    /// The debugger stopped one of its calls.
    Stopped,
    /// An error stopped it until its script is reloaded.
    Failed,
}

impl InstanceState {
    pub fn label(self) -> &'static str {
        match self {
            InstanceState::Waiting => "waiting",
            InstanceState::Running => "running",
            InstanceState::Suspended => "suspended",
            InstanceState::Stopped => "stopped",
            InstanceState::Failed => "failed",
        }
    }
}

/// A row of the Scripts window.
#[derive(Clone, Debug, PartialEq)]
pub struct InstanceRow {
    pub at: InstanceRef,
    /// The entity's `Name`, if it has one.
    pub name: Option<String>,
    pub script: String,
    pub state: InstanceState,
    /// Why it failed.
    pub error: Option<String>,
}

impl InstanceRow {
    /// What the filter matches and the list shows: entity, name, script.
    pub fn title(&self) -> String {
        match &self.name {
            Some(name) => format!("{} {name} · {}", self.at.entity, self.script),
            None => format!("{} · {}", self.at.entity, self.script),
        }
    }
}

/// The script the Source window shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SourceView {
    pub script: String,
    /// Its lines, coloured.
    pub lines: Vec<Line>,
    /// The line the selected frame is at, when the selected instance is
    /// stopped in this script.
    pub current_line: Option<u32>,
    /// Lines with a breakpoint (as set: the line asked for).
    pub breakpoints: HashSet<u32>,
    /// A line to scroll to once (an error's location was clicked).
    pub scroll_to: Option<u32>,
}

/// The selected instance's stopped call.
#[derive(Clone, Debug, PartialEq)]
pub struct StopView {
    /// Why it stopped, in words.
    pub reason: String,
    /// Innermost first.
    pub frames: Vec<FrameRow>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FrameRow {
    pub function: String,
    pub script: String,
    pub line: u32,
    pub col: u32,
}

/// Where a variable shown in the Stack and variables window lives.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum VarRoot {
    /// A local of the selected frame.
    Local(String),
    /// A captured variable of the selected frame's function.
    Capture(String),
    /// A module variable of the selected instance.
    Module(String),
}

/// A variable, or an item inside one: the root, then the position of each
/// child (in the order the tree lists them) on the way down.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct VarPath {
    pub root: VarRoot,
    pub children: Vec<usize>,
}

impl VarPath {
    pub fn root(root: VarRoot) -> VarPath {
        VarPath {
            root,
            children: Vec::new(),
        }
    }

    pub fn child(&self, index: usize) -> VarPath {
        let mut children = self.children.clone();
        children.push(index);
        VarPath {
            root: self.root.clone(),
            children,
        }
    }
}

/// A value as shown: scalars whole (editable where the kind allows),
/// containers as a count with their children below.
#[derive(Clone, Debug, PartialEq)]
pub enum Shown {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// A string, cut to [`STRING_SHOWN`] characters (`cut` says whether
    /// it was).
    Str {
        text: String,
        cut: bool,
    },
    Vec3([f32; 3]),
    List(usize),
    Map(usize),
    /// Anything else, as the REPL prints it (a function, an entity).
    Other(String),
}

/// Characters of a string value shown.
pub const STRING_SHOWN: usize = 200;

/// Children of a container shown at first, and added by each "more".
pub const PAGE: usize = 100;

/// A variable or an item of a container.
#[derive(Clone, Debug, PartialEq)]
pub struct VarNode {
    pub path: VarPath,
    pub name: String,
    pub value: Shown,
    /// The children read so far (only for an expanded container).
    pub children: Vec<VarNode>,
}

impl VarNode {
    /// How many children the value has (0 for a scalar).
    pub fn child_count(&self) -> usize {
        match self.value {
            Shown::List(n) | Shown::Map(n) => n,
            _ => 0,
        }
    }
}

/// The Stack and variables window's trees.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Variables {
    pub locals: Vec<VarNode>,
    pub captures: Vec<VarNode>,
    pub module: Vec<VarNode>,
    /// Containers opened, with how many of their children to show.
    pub expanded: HashMap<VarPath, usize>,
}

/// What a console line is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConsoleKind {
    Print,
    Error,
    /// What the user typed.
    Input,
    /// What it evaluated to.
    Result,
}

/// A console line.
#[derive(Clone, Debug, PartialEq)]
pub struct ConsoleLine {
    pub kind: ConsoleKind,
    pub entity: Option<Entity>,
    pub script: String,
    pub text: String,
    /// Where an error happened (a script and line), to open.
    pub location: Option<(String, u32)>,
}

/// Console lines kept.
pub const CONSOLE_KEPT: usize = 2_000;

/// The Console window.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Console {
    pub lines: VecDeque<ConsoleLine>,
    /// Show every instance's lines, not only the selected one's.
    pub all_instances: bool,
    /// The REPL line being typed.
    pub input: String,
    /// What was evaluated, oldest first.
    pub history: Vec<String>,
    /// The history entry shown by Up/Down, while browsing.
    pub history_at: Option<usize>,
}

impl Console {
    pub fn push(&mut self, line: ConsoleLine) {
        if self.lines.len() == CONSOLE_KEPT {
            self.lines.pop_front();
        }
        self.lines.push_back(line);
    }
}

/// Which windows are open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenWindows {
    pub scripts: bool,
    pub source: bool,
    pub stack: bool,
    pub console: bool,
    pub performance: bool,
}

impl Default for OpenWindows {
    fn default() -> Self {
        OpenWindows {
            scripts: true,
            source: true,
            stack: true,
            console: true,
            performance: true,
        }
    }
}

/// Everything the overlay shows and remembers.
#[derive(Default)]
pub struct DebuggerModel {
    pub windows: OpenWindows,
    pub instances: Vec<InstanceRow>,
    /// The Scripts window's filter text.
    pub filter: String,
    pub selected: Option<InstanceRef>,
    pub source: Option<SourceView>,
    /// The selected instance's stopped call, if it has one.
    pub stop: Option<StopView>,
    /// The frame of `stop` selected (0: innermost).
    pub frame: usize,
    pub variables: Variables,
    pub console: Console,
    pub perf: PerfHistory,
    /// Whether runtime errors stop their call (and show it here).
    pub break_on_error: bool,
    /// Whether a stopped call halts every script.
    pub stop_all: bool,
}

/// What the windows ask of the game and the VM.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    Select(InstanceRef),
    Continue,
    Pause,
    Step(StepKind),
    /// Run the selected stopped call to a line of the Source window's
    /// script.
    RunToLine(u32),
    ToggleBreakpoint {
        script: String,
        line: u32,
    },
    SelectFrame(usize),
    /// Evaluate in the selected instance (in its selected frame when it is
    /// stopped).
    Eval(String),
    /// Write a value edited in place.
    Set {
        path: VarPath,
        value: Shown,
    },
    /// Show a script in the Source window, at a line.
    ShowSource {
        script: String,
        line: u32,
    },
    SetBreakOnError(bool),
    SetStopAll(bool),
}

impl From<StepKind> for Action {
    fn from(kind: StepKind) -> Action {
        Action::Step(kind)
    }
}
