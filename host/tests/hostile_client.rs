//! No client input makes the server panic or hang: random message streams
//! (headers biased towards the real commands, sizes near the real ones,
//! random bodies) end the connection with `Ok` or an error, never a panic,
//! and the socket file is always removed.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;

use pcidev_host::guard::{HEADER_SIZE, Header};
use pcidev_host::{DeviceServer, HostError, toy};
use proptest::prelude::*;

/// One message: header fields and a body (the header's size may lie).
fn message() -> impl Strategy<Value = Vec<u8>> {
    let command = prop_oneof![1u16..=15, any::<u16>()];
    let flags = prop_oneof![Just(0u32), Just(1 << 4), Just(1), any::<u32>()];
    let body = proptest::collection::vec(any::<u8>(), 0..64);
    let size_delta = prop_oneof![Just(0i64), -20i64..20, Just(i64::from(u32::MAX))];
    (command, flags, body, size_delta).prop_map(|(command, flags, body, delta)| {
        let honest = (HEADER_SIZE + body.len()) as i64;
        let size = (honest + delta).clamp(0, i64::from(u32::MAX)) as u32;
        let mut msg = Header {
            id: 0,
            command,
            size,
            flags,
            error: 0,
        }
        .to_bytes()
        .to_vec();
        msg.extend_from_slice(&body);
        msg
    })
}

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
