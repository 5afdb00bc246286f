//! `locolab`: the native CLI. Thin: parses arguments and calls the library (src/cli/).
//! On wasm32 there is no CLI: the program is empty there, so that `cargo test --target
//! wasm32-unknown-unknown` (what a plain `wasm-pack test` runs) builds every target.

#[cfg(not(target_arch = "wasm32"))]
mod cli;

// Counts every allocation so `locolab bench` can report real peak memory.
#[cfg(not(target_arch = "wasm32"))]
#[global_allocator]
static ALLOC: locolab::memory::Counting = locolab::memory::Counting;

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    cli::commands::main()
}

#[cfg(target_arch = "wasm32")]
fn main() {}
