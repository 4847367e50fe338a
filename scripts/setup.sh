#!/usr/bin/env bash
# Installs what building and testing Onboard needs, skipping whatever is already there.
# Everything comes from the package registries (Rust crates, npm, Debian); nothing is downloaded
# from anywhere else. Usage: scripts/setup.sh [--browser]
set -euo pipefail
cd "$(dirname "$0")/.."

want_browser=0
[ "${1:-}" = "--browser" ] && want_browser=1

step() { printf '\n==> %s\n' "$*"; }
export PATH="$HOME/.cargo/bin:$PATH"

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  step "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# cargo-leptos 0.3.11 needs a newer rustc than this toolchain; no_downloads makes it use the
# tools on PATH instead of fetching binaries. A lighter release profile halves its build time.
if [ "$(cargo leptos --version 2>/dev/null || true)" != "cargo-leptos 0.3.10" ]; then
  step "installing cargo-leptos 0.3.10 (about 10 minutes, once)"
  CARGO_PROFILE_RELEASE_LTO=off CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install cargo-leptos --version 0.3.10 --locked --features no_downloads
fi

# wasm-bindgen-cli must match the wasm-bindgen in Cargo.lock exactly.
bindgen_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen $bindgen_version" ]; then
  step "installing wasm-bindgen-cli $bindgen_version (about 3 minutes, once)"
  cargo install wasm-bindgen-cli --version "$bindgen_version"
fi

# npm packages: Playwright and axe-core for the browser tests, and binaryen for wasm-opt
# (Debian's binaryen is too old: its wasm-opt breaks wasm-bindgen's externref table).
if [ ! -x end2end/node_modules/.bin/wasm-opt ] || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
  step "installing npm packages"
  (cd end2end && npm ci --no-audit --no-fund)
fi

if [ "$want_browser" = 1 ] && [ ! -x /usr/bin/chromium ]; then
  step "installing Chromium from Debian"
  sudo_cmd=""
  [ "$(id -u)" != 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium >/dev/null
fi
