#!/usr/bin/env bash
# Checks that crates.io would accept the three crates: packages ark_vm,
# bevy_ark and ark_cli and builds each from its package (bevy_ark and
# ark_cli against the packaged ark_vm, not the checkout).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ark-target}"
cargo package -p ark_vm -p bevy_ark -p ark_cli "$@"
