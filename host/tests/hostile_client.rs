//! No client input makes the server panic or hang: random message streams
//! (headers biased towards the real commands, sizes near the real ones,
//! random bodies) end the connection with `Ok` or an error, never a panic,
//! and the socket file is always removed; every registered model survives
//! arbitrary client bytes (the bounded version of the `vfio_user` fuzz
//! target).

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;

use pcidev_host::{DeviceServer, HostError, toy};
use proptest::prelude::*;

mod common;
use common::hostile::message;

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn random_streams_never_panic(messages in proptest::collection::vec(message(), 1..12)) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hostile.sock");
        let server = DeviceServer::bind(&path).unwrap();
        let serving = std::thread::spawn(move || {
            let mut model = toy::model();
            server.serve(&mut model)
        });
        let mut stream = UnixStream::connect(&path).unwrap();
        // Drain replies so the server never blocks on a full socket.
        let mut reader = stream.try_clone().unwrap();
        let drain = std::thread::spawn(move || {
            let mut sink = Vec::new();
            let _ = reader.read_to_end(&mut sink);
        });
        for msg in &messages {
            if stream.write_all(msg).is_err() {
                break;
            }
        }
        let _ = stream.shutdown(std::net::Shutdown::Write);
        let result = serving.join().expect("server thread panicked");
        drain.join().unwrap();
        prop_assert!(!matches!(result, Err(HostError::ServerPanicked)), "{result:?}");
        prop_assert!(!path.exists());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// What `fuzz/fuzz_targets/vfio_user.rs` runs, bounded: every model
    /// the host serves, with its event thread, against a byte stream of
    /// biased messages followed by raw bytes.
    #[test]
    fn every_model_survives_arbitrary_client_bytes(
        pick in 0usize..64,
        messages in proptest::collection::vec(message(), 0..10),
        tail in proptest::collection::vec(any::<u8>(), 0..48),
    ) {
        let entry = &pcidev_host::registry::MODELS[pick % pcidev_host::registry::MODELS.len()];
        let mut model = (entry.build)();
        let mut input: Vec<u8> = messages.concat();
        input.extend_from_slice(&tail);
        let replayed = pcidev_host::replay::serve_bytes(model.as_mut(), &input, true);
        prop_assert!(
            !matches!(replayed.result, Err(HostError::ServerPanicked)),
            "{}: {:?}", entry.name, replayed.result
        );
    }
}
