#!/usr/bin/env node
// The size budget of the pages an invitee opens on a phone. Builds nothing: it reads the release
// build's artefacts (`cargo leptos build --release --split --precompress`) and sums the brotli
// bytes each page loads on a first visit: the JS glue, the main WASM module, the stylesheet, the
// split loader, the page's own WASM chunks when it is a lazy route (from the split manifest),
// and an allowance for the page's HTML and every response's headers. Sizes are deterministic,
// so this is a test, not a timing.
//
// Usage: node scripts/size-budget.js [site root, default target/site] [hash file, default target/release/hash.txt]
'use strict';
const fs = require('fs');
const path = require('path');

// Issue 12: at most 350 KB transferred on a first visit, HTML included.
const BUDGET_BYTES = 350_000;
// The page's HTML (2.3 KB for an invitation, compressed; an agreement's text adds to it) and
// about 360 bytes of headers per response, with room to spare. The Playwright suite measures
// the real transfer.
const HTML_ALLOWANCE_BYTES = 15_000;
const HEADER_BYTES_PER_RESPONSE = 400;
// Each page by the name `#[lazy_route]` gives its split point, should it become a lazy route.
const PHONE_PAGES = {
  '/register/<token>': 'register',
  '/sign-in': 'sign_in',
  '/set-password/<token>': 'set_password',
};

const siteRoot = process.argv[2] || 'target/site';
const hashFile = process.argv[3] || 'target/release/hash.txt';
const pkg = path.join(siteRoot, 'pkg');

function fail(message) {
  console.error(`size budget: ${message}`);
  process.exit(1);
}

if (!fs.existsSync(hashFile) || !fs.existsSync(pkg)) {
  fail(`no release build found (${hashFile}, ${pkg}); run \`cargo leptos build --release --split --precompress\` first`);
}
// `js: <hash>` lines: the hash in each build file's name.
const hashes = Object.fromEntries(
  fs.readFileSync(hashFile, 'utf8').split('\n').filter((l) => l.includes(':')).map((l) => l.split(':').map((s) => s.trim())),
);
for (const kind of ['js', 'wasm', 'css', 'split', 'manifest']) {
  if (!hashes[kind]) fail(`${hashFile} names no ${kind} file: was the build made with --split?`);
}

function brotliBytes(file) {
  const compressed = path.join(pkg, `${file}.br`);
  if (!fs.existsSync(compressed)) fail(`${compressed} is missing: was the build made with --precompress?`);
  return fs.statSync(compressed).size;
}

const manifest = JSON.parse(fs.readFileSync(path.join(pkg, `__wasm_split_manifest.${hashes.manifest}.json`), 'utf8'));
const shared = [
  `onboard.${hashes.js}.js`,
  `onboard.${hashes.wasm}.wasm`,
  `onboard.${hashes.css}.css`,
  `__wasm_split.${hashes.split}.js`,
];
const sharedBytes = shared.reduce((sum, f) => sum + brotliBytes(f), 0);

let over = false;
for (const [page, route] of Object.entries(PHONE_PAGES)) {
  // A page that is not a lazy route is in the main module and loads no chunk.
  const key = Object.keys(manifest).find((k) => k.startsWith(`__${route}_view_`));
  const chunks = key ? [...new Set(manifest[key])].map((c) => `${c}.wasm`) : [];
  const chunkBytes = chunks.reduce((sum, f) => sum + brotliBytes(f), 0);
  const headerBytes = (shared.length + chunks.length) * HEADER_BYTES_PER_RESPONSE;
  const total = sharedBytes + chunkBytes + headerBytes + HTML_ALLOWANCE_BYTES;
  const verdict = total <= BUDGET_BYTES ? 'ok' : 'OVER BUDGET';
  const n = (x) => x.toLocaleString('en');
  console.log(
    `${page}: ${n(total)} bytes (main ${n(sharedBytes)} + ${chunks.length} chunks ${n(chunkBytes)} + headers ` +
      `${n(headerBytes)} + HTML allowance ${n(HTML_ALLOWANCE_BYTES)}) of ${n(BUDGET_BYTES)}: ${verdict}`,
  );
  over ||= total > BUDGET_BYTES;
}
if (over) fail(`a phone page loads more than ${BUDGET_BYTES.toLocaleString('en')} compressed bytes (see above)`);
