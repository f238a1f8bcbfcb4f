//! Compile and runtime errors: values carrying script, line, column,
//! message and (for runtime errors) the call stack.
//!
//! `Display` prints them in the style of compiler diagnostics:
//! `script.ark:LINE:COL: error: message`, then one `  at` line per frame.

use std::fmt;

/// A syntax or name-resolution error found while compiling.
#[derive(Clone, Debug, PartialEq)]
pub struct CompileError {
    pub script: String,
    pub line: u32,
    pub col: u32,
    pub message: String,
}

impl CompileError {
    pub fn new(script: &str, line: u32, col: u32, message: impl Into<String>) -> Self {
        CompileError {
            script: script.to_string(),
            line,
            col,
            message: message.into(),
        }
    }
}

/// Text a script chose, as an error shows it: control characters (line
/// breaks, terminal escape sequences) escaped, so that a message cannot
/// forge log lines or drive the terminal it is printed on.
struct Shown<'a>(&'a str);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            match c {
                '\n' => f.write_str("\\n")?,
                '\r' => f.write_str("\\r")?,
                '\t' => f.write_str("\\t")?,
                c if c.is_control() => write!(f, "\\u{{{:x}}}", c as u32)?,
                c => write!(f, "{c}")?,
            }
        }
        Ok(())
    }
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: error: {}",
            Shown(&self.script),
            self.line,
            self.col,
            Shown(&self.message)
        )
    }
}

impl std::error::Error for CompileError {}

/// The error of an operation on an object that was freed (a handle kept
/// past its object's life).
pub(crate) fn stale() -> String {
    "stale handle: the object was freed".to_string()
}

/// One frame of a runtime error's call stack.
#[derive(Clone, Debug, PartialEq)]
pub struct StackFrame {
    /// The function's name; `<main>` for a script's top level, `<fn>` for
    /// an anonymous function, the native's name for a native.
    pub function: String,
    pub script: String,
    pub line: u32,
    pub col: u32,
}

/// How many innermost frames a runtime error keeps of a deep stack.
pub const INNERMOST_FRAMES_KEPT: usize = 32;
/// How many outermost frames a runtime error keeps of a deep stack.
pub const OUTERMOST_FRAMES_KEPT: usize = 8;

/// An error raised while running a script.
#[derive(Clone, Debug, PartialEq)]
pub struct RuntimeError {
    pub message: String,
    /// The call stack, innermost first. The first frame is where the error
    /// was raised; empty for errors raised outside any script frame. Very
    /// deep stacks keep their innermost and outermost frames only.
    pub stack: Vec<StackFrame>,
    /// Frames left out of `stack` between its innermost and outermost
    /// parts (after a stack overflow, say).
    pub frames_omitted: usize,
}

impl RuntimeError {
    /// An error with no location (for example from a host call with a bad
    /// function name).
    pub fn new(message: impl Into<String>) -> Self {
        RuntimeError {
            message: message.into(),
            stack: Vec::new(),
            frames_omitted: 0,
        }
    }

    /// The script where the error was raised.
    pub fn script(&self) -> Option<&str> {
        self.stack.first().map(|f| f.script.as_str())
    }

    /// The line where the error was raised.
    pub fn line(&self) -> Option<u32> {
        self.stack.first().map(|f| f.line)
    }

    /// The column where the error was raised (0 when unknown).
    pub fn col(&self) -> Option<u32> {
        self.stack.first().map(|f| f.col)
    }
}

impl fmt::Display for RuntimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.stack.first() {
            Some(top) => write!(
                f,
                "{}:{}:{}: runtime error: {}",
                Shown(&top.script),
                top.line,
                top.col,
                Shown(&self.message)
            )?,
            None => write!(f, "runtime error: {}", Shown(&self.message))?,
        }
        for (i, frame) in self.stack.iter().enumerate() {
            if i == INNERMOST_FRAMES_KEPT && self.frames_omitted > 0 {
                write!(f, "\n  ... {} more frames ...", self.frames_omitted)?;
            }
            write!(
                f,
                "\n  at {} ({}:{})",
                Shown(&frame.function),
                Shown(&frame.script),
                frame.line
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for RuntimeError {}

/// Either kind of error, for APIs that compile and run.
#[derive(Clone, Debug, PartialEq)]
pub enum Error {
    Compile(CompileError),
    Runtime(RuntimeError),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Compile(e) => e.fmt(f),
            Error::Runtime(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for Error {}

impl From<CompileError> for Error {
    fn from(e: CompileError) -> Self {
        Error::Compile(e)
    }
}

impl From<RuntimeError> for Error {
    fn from(e: RuntimeError) -> Self {
        Error::Runtime(e)
    }
}
