#!/usr/bin/env bash
# Hostile input: runs the property tests that feed arbitrary input to the shared email-list
# parser and to every webhook decoder, again and again with fresh random seeds, for the given
# minutes each (default 10). Any panic stops the run and proptest prints the smallest input.
# Usage: scripts/fuzz.sh [minutes]
set -euo pipefail
cd "$(dirname "$0")/.."
minutes="${1:-10}"
export PATH="$HOME/.cargo/bin:$PATH" LEPTOS_OUTPUT_NAME=onboard PROPTEST_CASES="${PROPTEST_CASES:-20000}"
cargo test --release --features ssr --lib --no-run
for target in domain::email_list domain::email:: server::integrations::fuzz_tests; do
  end=$(( $(date +%s) + minutes * 60 ))
  rounds=0
  while [ "$(date +%s)" -lt "$end" ]; do
    cargo test --release --features ssr --lib -q "$target" -- --test-threads=2 >/dev/null
    rounds=$((rounds + 1))
  done
  echo "$target: $rounds rounds of $PROPTEST_CASES cases each in $minutes min, no failure"
done
