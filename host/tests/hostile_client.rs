//! No client input makes the server panic or hang: random message streams
//! (headers biased towards the real commands, sizes near the real ones,
//! random bodies) end the connection with `Ok` or an error, never a panic,
//! and the socket file is always removed.

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
