//! Project automation: guest provisioning, QEMU, end-to-end boots, CI.

fn main() {}
