#!/usr/bin/env bash
# Redraws docs/debugger.png: the arena demo in a real window under Xvfb
# (Mesa's software Vulkan), with the debugger stopped at a breakpoint in an
# enemy script. Installs Xvfb and Mesa's Vulkan driver if they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ark-target}"

if ! command -v xvfb-run >/dev/null; then
    apt-get install -y --no-install-recommends xvfb xauth mesa-vulkan-drivers libvulkan1
fi
out="${1:-docs/debugger.png}"
rm -f "$out"
xvfb-run -a -s "-screen 0 1280x720x24" \
    cargo run --release --features window --example arena -- --screenshot "$PWD/$out"
test -s "$out" && echo "saved $out"
