//! The WebAssembly module the browser loads: it only exports Onboard's entry point.

/// Called by the page's hydration script once the module is instantiated.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    onboard::hydrate();
}
