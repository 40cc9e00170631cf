//! Backends: IR -> rust-vmm device model (quote + prettyplease) and Rust-for-Linux driver (askama).
