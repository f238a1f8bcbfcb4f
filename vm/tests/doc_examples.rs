//! Every example marked `ark` in `docs/language.md` is a complete script
//! that prints what its `// → text` comments say, in order, and ends with
//! the error a `// error: message` comment names (the reference's own
//! convention, checked here so that the reference and the interpreter
//! cannot drift apart). Fragments that need the game around them are
//! marked `ark fragment` and left out.

use std::sync::{Arc, Mutex};

use ark_vm::{Error, Vm};

/// One ```ark block: the line it starts on, its source, the lines it
/// should print and the error it should end with.
struct Example {
    line: usize,
    source: String,
    prints: Vec<String>,
    error: Option<String>,
}

fn examples(doc: &str) -> Vec<Example> {
    let mut found = Vec::new();
    let mut current: Option<Example> = None;
    for (i, line) in doc.lines().enumerate() {
        match &mut current {
            None if line.trim_end() == "```ark" => {
                current = Some(Example {
                    line: i + 1,
                    source: String::new(),
                    prints: Vec::new(),
                    error: None,
                });
            }
            None => {}
            Some(_) if line.trim_end() == "```" => found.extend(current.take()),
            Some(example) => {
                example.source.push_str(line);
                example.source.push('\n');
                if let Some((_, printed)) = line.split_once("// → ") {
                    example.prints.push(printed.trim_end().to_string());
                } else if let Some((_, error)) = line.split_once("// error: ") {
                    example.error = Some(error.trim_end().to_string());
                }
            }
        }
    }
    found
}

/// Runs a script: what it printed, and the error it ended with.
fn run(source: &str) -> (Vec<String>, Option<String>) {
    let printed = Arc::new(Mutex::new(Vec::new()));
    let mut vm = Vm::new();
    let sink = printed.clone();
    vm.set_print(move |line| sink.lock().unwrap().push(line.to_string()));
    let error = match vm.load("example.ark", source) {
        Ok(_) => None,
        Err(Error::Compile(e)) => Some(e.message.clone()),
        Err(Error::Runtime(e)) => Some(e.message.clone()),
    };
    // A printed value may span lines (a string holding `\n`).
    let printed = printed
        .lock()
        .unwrap()
        .iter()
        .flat_map(|text: &String| text.lines().map(str::to_string).collect::<Vec<_>>())
        .collect();
    (printed, error)
}

#[test]
fn every_example_in_the_reference_prints_what_it_says() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/language.md");
    let doc = std::fs::read_to_string(path).expect("docs/language.md");
    let examples = examples(&doc);
    assert!(
        examples.len() >= 40,
        "only {} examples found",
        examples.len()
    );
    let mut failures = Vec::new();
    for example in &examples {
        let (printed, error) = run(&example.source);
        let error_ok = match (&example.error, &error) {
            (None, None) => true,
            (Some(wanted), Some(got)) => got.contains(wanted.as_str()),
            _ => false,
        };
        if printed != example.prints || !error_ok {
            failures.push(format!(
                "docs/language.md:{}: printed {printed:?}, wanted {:?}; error {error:?}, wanted {:?}",
                example.line, example.prints, example.error
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
