#!/usr/bin/env bash
# Checks that crates.io would accept the three crates: packages ark_vm,
# bevy_ark and ark_cli and builds each from its package (bevy_ark and
# ark_cli against the packaged ark_vm, not the checkout).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ark-target}"
# Cargo unpacks and builds a packaged ark_vm of an unchanged version once,
# and reuses both in later runs as it would a crate from crates.io: clear
# them, so that bevy_ark and ark_cli are built against this ark_vm.
rm -rf "$CARGO_TARGET_DIR/package" "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/ark_vm-*
cargo clean -p ark_vm
cargo package -p ark_vm -p bevy_ark -p ark_cli "$@"
