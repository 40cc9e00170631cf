//! Every generated model (`pcidev_models::NAMES`) under arbitrary guest
//! accesses: config space and BARs, any offset, any size 0..=9, any value,
//! any order, resets. Never a panic, and guest memory changes only inside
//! DMAs the trace reports as done (`pcidev_models::fuzz::run_records`, which
//! `generated/tests/models_soak.rs` also drives in `cargo test` and, with a
//! large count, as a stable-Rust soak).
//!
//! Input layout: byte 0 picks the model; then 16-byte records:
//! [kind, bar, size, _, offset: u32 LE, value: u64 LE].

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let name = pcidev_models::NAMES[usize::from(pick) % pcidev_models::NAMES.len()];
    if let Err(e) = pcidev_models::fuzz::run_records(name, rest) {
        panic!("{e}");
    }
});
