#!/usr/bin/env bash
# Redraws the README's screenshots: the arena demo in a real window under
# Xvfb (Mesa's software Vulkan), a few seconds into play (docs/arena.png),
# and with the debugger stopped at a breakpoint in an enemy script
# (docs/debugger.png). Installs Xvfb and Mesa's Vulkan driver if they are
# missing.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ark-target}"

if ! command -v xvfb-run >/dev/null; then
    apt-get install -y --no-install-recommends xvfb xauth mesa-vulkan-drivers libvulkan1
fi
cargo build --release --features window --example arena
for shot in "--screenshot docs/arena.png" "--debugger-screenshot docs/debugger.png"; do
    set -- $shot
    rm -f "$2"
    xvfb-run -a -s "-screen 0 1280x720x24" \
        cargo run --release --features window --example arena -- "$1" "$PWD/$2"
    test -s "$2" && echo "saved $2"
done
