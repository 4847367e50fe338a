#!/usr/bin/env bash
# The scale and fault suite on real processes and PostgreSQL: several instances sharing one
# database, kill -9 mid-batch, SMTP and Slack down for a minute, the database connection cut.
# With "load": the load run on a seeded organization (ONBOARD_LOAD_MEMBERS, 100,000 unless told)
# on SQLite and PostgreSQL instead. Figures are printed at the end; BENCHMARKS.md records them.
# Usage: scripts/faults.sh [load]
#   (ONBOARD_FAULT_OUTAGE_SECONDS, ONBOARD_LOAD_SECONDS and ONBOARD_LOAD_MEMBERS adjust)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH" LEPTOS_OUTPUT_NAME=onboard

pg_url="${ONBOARD_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
export ONBOARD_TEST_POSTGRES_URL="$pg_url"
if ! psql "$pg_url" -Atqc 'SELECT 1' >/dev/null 2>&1; then
  echo "PostgreSQL is NOT reachable at $pg_url: the fault suite needs it (set ONBOARD_TEST_POSTGRES_URL)." >&2
  exit 1
fi

report=target/tmp/faults-report.txt
mkdir -p target/tmp
rm -f "$report"
if [ "${1:-}" = "load" ]; then
  cargo test --release --features ssr --test faults -- --ignored --nocapture load
else
  cargo test --release --features ssr --test faults -- --nocapture
fi
printf '\n==> Figures\n'
cat "$report"
