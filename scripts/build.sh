#!/usr/bin/env bash
# Builds the release server and the optimized WASM site (cargo leptos build), unless the last
# successful build had exactly the same inputs. Both `make run` and `make test` build through
# here, so neither rebuilds what the other has just built.
#
# Cargo itself rebuilds nothing that is fresh, but cargo-leptos runs wasm-bindgen, wasm-opt and
# the compression of the site again in every new process (over a minute and a half on two
# cores). The stamp names every input of the build: the sources, the lock file, the tools.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH"

stamp=target/site/.build-inputs
inputs() {
  find src hydrate style public migrations build.rs Cargo.toml Cargo.lock .cargo .env "$HOME/.cargo/config.toml" \
    -type f -print0 2>/dev/null | LC_ALL=C sort -z | xargs -0 sha256sum || true
  cargo leptos --version
  rustc --version
  wasm-bindgen --version
  wasm-opt --version
  # What the compilers read from the environment: Leptos's and server_fn's build settings,
  # Rust's flags and wrappers, and the C flags of the bundled SQLite.
  env | grep -E '^(LEPTOS_|SERVER_FN_|DISABLE_SERVER_FN_HASH|RUST|CARGO_|LIBSQLITE3_|CC=|CFLAGS=)' | LC_ALL=C sort || true
}
# The outputs as this script left them: any other build that rewrote the server (by hand, or
# with other settings) makes the stamp stale.
outputs() {
  stat -c '%s %Y %n' target/release/onboard target/site/pkg 2>/dev/null || echo missing
}
wanted=$(inputs | sha256sum | cut -d' ' -f1)

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted $(outputs | sha256sum | cut -d' ' -f1)" ]; then
  echo "The release build is up to date with the sources: nothing to build."
  exit 0
fi
rm -f "$stamp"
cargo leptos build --release --split --precompress
echo "$wanted $(outputs | sha256sum | cut -d' ' -f1)" > "$stamp"
