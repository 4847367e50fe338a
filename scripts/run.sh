#!/usr/bin/env bash
# Builds the release version and serves Onboard on http://127.0.0.1:3000 with SQLite under data/.
# On the first run it creates the first organization and prints the Owner's one-time link.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
exec ./target/release/onboard serve
