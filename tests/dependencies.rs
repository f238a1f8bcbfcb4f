//! What a game's build pulls in: an embedder of `ark_vm` or `bevy_ark`
//! builds neither the `ark` command's argument parser and line editor nor
//! (without the `file_watcher` feature) a file watcher.

use std::process::Command;

/// The normal dependencies of `package`, as `cargo tree` lists them.
fn tree(package: &str, features: &[&str]) -> String {
    let mut cargo = Command::new(env!("CARGO"));
    cargo
        .args([
            "tree",
            "--offline",
            "-e",
            "normal",
            "--prefix",
            "none",
            "-p",
            package,
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    if !features.is_empty() {
        cargo.args(["--features", &features.join(",")]);
    }
    let out = cargo.output().expect("cargo runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn crates(tree: &str) -> Vec<&str> {
    tree.lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect()
}

#[test]
fn an_embedder_of_the_vm_or_the_plugin_builds_no_cli_and_no_watcher() {
    for package in ["ark_vm", "bevy_ark"] {
        let tree = tree(package, &[]);
        let crates = crates(&tree);
        for unwanted in ["clap", "rustyline", "notify"] {
            assert!(!crates.contains(&unwanted), "{package} pulls in {unwanted}");
        }
    }
}

#[test]
fn the_cli_and_the_watcher_come_with_their_crate_and_feature() {
    let cli = tree("ark_cli", &[]);
    assert!(crates(&cli).contains(&"clap") && crates(&cli).contains(&"rustyline"));
    let watched = tree("bevy_ark", &["file_watcher"]);
    assert!(crates(&watched).contains(&"notify"));
}
