#!/usr/bin/env bash
# Lighthouse on the release build: the pages an invitee opens on a phone (mobile preset) and every
# admin page (desktop preset), against a freshly started server with its own database and ports.
# Prints the scores, LCP, TBT and bytes; exits non-zero when a page misses issue 12's targets.
# Not part of `make test`: scores depend on the machine. Extra arguments go to the runner
# (`--only register` measures only the pages whose name contains "register").
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --browser
export PATH="$PWD/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH"

# Lighthouse has its own packages, installed only here.
if [ ! -d end2end/lighthouse/node_modules/lighthouse ] || [ end2end/lighthouse/package-lock.json -nt end2end/lighthouse/node_modules/.package-lock.json ]; then
  printf '\n==> installing Lighthouse\n'
  (cd end2end/lighthouse && npm ci --no-audit --no-fund --loglevel=error)
fi

printf '\n==> Release build (server and optimized WASM)\n'
scripts/build.sh

printf '\n==> Lighthouse\n'
node end2end/lighthouse/run.js "$@"
