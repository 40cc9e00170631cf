//! vfio-user client shorthands: 32-bit region accesses, the COMMAND
//! register, and the eventfds interrupts are signalled on.

use std::fs::File;
use std::io::Read;

use rustix::event::{EventfdFlags, eventfd};
use vfio_user::Client;

/// The vfio-user region index of configuration space.
pub const CONFIG: u32 = 7;

/// A 4-byte little-endian read of `region` at `offset`.
pub fn read32(client: &mut Client, region: u32, offset: u64) -> u32 {
    let mut data = [0; 4];
    client.region_read(region, offset, &mut data).unwrap();
    u32::from_le_bytes(data)
}

/// A 4-byte little-endian write of `value` to `region` at `offset`.
pub fn write32(client: &mut Client, region: u32, offset: u64, value: u32) {
    client
        .region_write(region, offset, &value.to_le_bytes())
        .unwrap();
}

/// Write the PCI COMMAND register (configuration space offset 4).
pub fn enable(client: &mut Client, command: u16) {
    client
        .region_write(CONFIG, 4, &command.to_le_bytes())
        .unwrap();
}

/// A non-blocking eventfd.
pub fn new_eventfd() -> File {
    File::from(eventfd(0, EventfdFlags::NONBLOCK).unwrap())
}

/// Signals since the last call (0 when none).
pub fn signals(mut efd: &File) -> u64 {
    let mut buf = [0; 8];
    match efd.read(&mut buf) {
        Ok(8) => u64::from_ne_bytes(buf),
        _ => 0,
    }
}
