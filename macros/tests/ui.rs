//! trybuild UI tests of `#[pci_device]`: specs that compile (and whose
//! models run), and broken specs whose `compile_error!`s are snapshotted in
//! `ui/fail/*.stderr` (file:line:col, code, message, hint, and the span on
//! the attribute).
//!
//! trybuild compiles each file inside a crate it generates under
//! `target/tests/trybuild/`, so `CARGO_MANIFEST_DIR` there is not this
//! crate's: the macro's `PCIDEVC_MANIFEST_DIR_OVERRIDE` points relative
//! spec paths back here. Refresh snapshots with `TRYBUILD=overwrite`.

#[test]
fn ui() {
    // SAFETY: this is the only test in this binary, and nothing else runs
    // yet: no other thread reads the environment concurrently.
    unsafe {
        std::env::set_var("PCIDEVC_MANIFEST_DIR_OVERRIDE", env!("CARGO_MANIFEST_DIR"));
    }
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
