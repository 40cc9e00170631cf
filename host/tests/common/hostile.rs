//! Hostile vfio-user client traffic: random message streams whose headers
//! are biased towards the real commands and sizes near the real ones.

use pcidev_host::guard::{HEADER_SIZE, Header};
use proptest::prelude::*;

/// One message: header fields and a body (the header's size may lie).
pub fn message() -> impl Strategy<Value = Vec<u8>> {
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
