//! Snapshot decoding: arbitrary bytes restored into every generated model.
//! Never a panic; a refused snapshot leaves the model unchanged; an
//! accepted one saves and restores stably and the model keeps serving
//! (`pcidev_runtime::snapshot::check_restore`). Memory stays bounded: the
//! decoder refuses inputs beyond the model's limit before parsing.
//!
//! Input layout: byte 0 picks the model (`% NAMES.len()`) and, with bit 7
//! set, edit mode: the rest edits the model's own snapshot (after a few
//! accesses), 3 bytes per edit (`snapshot::edit_bytes`), which keeps most
//! of the document valid so that the checks behind parsing are reached.
//! Bit 7 clear: the rest is the snapshot itself.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pcidev_runtime::snapshot::{check_restore, edit_bytes};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let name = pcidev_models::NAMES[usize::from(pick & 0x7f) % pcidev_models::NAMES.len()];
    let Some(mut model) = pcidev_models::by_name(name) else { return };
    // Something besides the reset state: decoding enabled, a register
    // written, time passed.
    model.config_write(4, &7u16.to_le_bytes());
    let _ = model.bar_write(0, 0, &[1, 0, 0, 0]);
    model.fire_due(1_000_000);
    let bytes = if pick & 0x80 != 0 {
        let valid = model.save_snapshot().expect("generated models save");
        edit_bytes(&valid, rest)
    } else {
        rest.to_vec()
    };
    if let Err(e) = check_restore(model.as_mut(), &bytes) {
        panic!("{name}: {e}");
    }
});
