#!/usr/bin/env bash
# Runs every fuzz target for SECONDS seconds each (default 60), installing
# cargo-fuzz if it is missing. Crashes land in fuzz/artifacts/<target>/;
# keep each as a regression test. The targets need a nightly compiler's
# flags, which RUSTC_BOOTSTRAP allows on a stable toolchain.
#   scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${1:-60}"
shift || true
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
export RUSTC_BOOTSTRAP=1
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo fuzz list)
fi
for target in "${targets[@]}"; do
    echo "== $target: ${seconds}s"
    # A run of one input past a minute is a hang (libFuzzer's default waits
    # twenty): every target's inputs run in milliseconds.
    cargo fuzz run -O "$target" -- -max_total_time="$seconds" -timeout=60 -print_final_stats=1 2>&1 |
        grep -E -A 8 "^(stat::number_of_executed_units|stat::peak_rss_mb|==[0-9]+==|SUMMARY|artifact_prefix|Test unit written|thread '.*' .*panicked|ALARM)" || true
done
