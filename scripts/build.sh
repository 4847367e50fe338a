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
  find src hydrate style public migrations build.rs Cargo.toml Cargo.lock -type f -print0 |
    LC_ALL=C sort -z | xargs -0 sha256sum
  cargo leptos --version
  rustc --version
  wasm-bindgen --version
  wasm-opt --version
  env | grep -E '^(LEPTOS_|RUSTFLAGS|CARGO_)' | LC_ALL=C sort || true
}
wanted=$(inputs | sha256sum | cut -d' ' -f1)

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ] && [ -x target/release/onboard ] && [ -d target/site/pkg ]; then
  echo "The release build is up to date with the sources: nothing to build."
  exit 0
fi
rm -f "$stamp"
cargo leptos build --release --split --precompress
echo "$wanted" > "$stamp"
