//! The vfio-user framing guard, the `vfio_user` crate's server and the
//! model backend together, over arbitrary client byte streams: every
//! model `pcidev-host` serves (`pcidev_host::registry::MODELS`), with its
//! event thread running, gets the bytes over a socket exactly as from a
//! client (`pcidev_host::replay::serve_bytes`). The connection must end
//! (`Ok` or an error), never panic (the server thread's panic would show
//! as `HostError::ServerPanicked`, any other as a crash) and never hang.
//! `host/tests/hostile_client.rs` runs a bounded version in `cargo test`.
//!
//! Input layout: byte 0 picks the model; the rest is the client's stream.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pcidev_host::HostError;
use pcidev_host::registry::MODELS;

fuzz_target!(|data: &[u8]| {
    // libFuzzer's main does not ignore SIGPIPE as Rust's does; the host's
    // reply pump may write to a client that already hung up.
    static IGNORE_SIGPIPE: std::sync::Once = std::sync::Once::new();
    // SAFETY: setting a signal's disposition to SIG_IGN.
    IGNORE_SIGPIPE.call_once(|| unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    });
    let Some((&pick, stream)) = data.split_first() else { return };
    let entry = &MODELS[usize::from(pick) % MODELS.len()];
    let mut model = (entry.build)();
    let replayed = pcidev_host::replay::serve_bytes(model.as_mut(), stream, true);
    assert!(
        !matches!(replayed.result, Err(HostError::ServerPanicked)),
        "{}: the vfio_user server panicked",
        entry.name
    );
});
