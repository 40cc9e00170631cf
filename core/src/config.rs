//! The layout of a type-0 configuration space that the compiler checks and
//! the runtime builds: where the device-specific area begins, where the
//! runtime places the capabilities it owns (MSI, MSI-X), and what a
//! vendor-specific capability looks like.
//!
//! Placement contract (the runtime builds exactly this; the compiler
//! rejects device registers and vendor capabilities that collide with it):
//!
//! | capability | offset | bytes | placed when |
//! |---|---|---|---|
//! | MSI (id 0x05, 64-bit, no per-vector masking) | 0x40 | 0x0e | the device declares `msi` |
//! | MSI-X (id 0x11) | 0x50 | 0x0c | the device declares `msix` |
//! | vendor-specific (id 0x09) | as the spec says | as the spec says (>= 3) | the spec declares `capability vendor` |
//!
//! The list is chained in offset order from the capabilities pointer
//! (0x34); the last entry's next pointer is 0.

use core::ops::Range;

/// Size of the type-0 configuration space.
pub const CONFIG_SPACE_SIZE: u64 = 0x100;
/// Where the device-specific area begins (the standard header ends).
pub const DEVICE_SPECIFIC: u64 = 0x40;
/// The widest configuration-space access (and config register), in bytes.
pub const MAX_CONFIG_ACCESS: u8 = 4;
/// Offset of the capabilities pointer in the header.
pub const CAPABILITIES_POINTER: u64 = 0x34;

/// MSI capability id.
pub const MSI_CAP_ID: u8 = 0x05;
/// Where the runtime places the MSI capability.
pub const MSI_CAP_OFFSET: u8 = 0x40;
/// Bytes of the MSI capability (64-bit address, no per-vector masking).
pub const MSI_CAP_LEN: u8 = 0x0e;

/// MSI-X capability id.
pub const MSIX_CAP_ID: u8 = 0x11;
/// Where the runtime places the MSI-X capability.
pub const MSIX_CAP_OFFSET: u8 = 0x50;
/// Bytes of the MSI-X capability.
pub const MSIX_CAP_LEN: u8 = 0x0c;

/// Vendor-specific capability id.
pub const VENDOR_CAP_ID: u8 = 0x09;
/// Bytes of a vendor-specific capability's header: id, next pointer,
/// length (the length byte counts the header).
pub const VENDOR_CAP_HEADER: u8 = 3;

/// The configuration-space bytes of the MSI capability.
pub const fn msi_range() -> Range<u64> {
    MSI_CAP_OFFSET as u64..(MSI_CAP_OFFSET + MSI_CAP_LEN) as u64
}

/// The configuration-space bytes of the MSI-X capability.
pub const fn msix_range() -> Range<u64> {
    MSIX_CAP_OFFSET as u64..(MSIX_CAP_OFFSET + MSIX_CAP_LEN) as u64
}
