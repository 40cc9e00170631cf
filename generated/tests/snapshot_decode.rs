//! Snapshot decoding under hostile bytes, every generated model: the
//! bounded version of the `snapshot` fuzz target (`fuzz/`), with the same
//! check (`pcidev_runtime::snapshot::check_restore`: no panic, a refused
//! snapshot changes nothing, an accepted one round-trips and the model
//! keeps serving). Also: every prefix of a valid snapshot, deep nesting,
//! oversized input (refused before parsing) and values beyond the layout.

use pcidev_runtime::snapshot::{check_restore, edit_bytes};
use pcidev_runtime::{PciModel, SnapshotError};
use proptest::prelude::*;

/// A model with something besides its reset state.
fn busy(name: &str) -> Box<dyn PciModel> {
    let mut m = pcidev_models::by_name(name).expect("registered");
    m.config_write(4, &7u16.to_le_bytes());
    let _ = m.bar_write(0, 0, &[1, 0, 0, 0]);
    m.fire_due(1_000_000);
    m
}

fn check(name: &str, bytes: &[u8]) -> bool {
    let mut m = busy(name);
    check_restore(m.as_mut(), bytes).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn every_prefix_of_a_valid_snapshot_is_refused_cleanly() {
    for name in pcidev_models::NAMES {
        let valid = busy(name).save_snapshot().unwrap();
        assert!(check(name, &valid), "{name}: its own snapshot refused");
        // A truncated object never parses: the restore fails, which
        // `check_restore` shows changes nothing (below and in the
        // proptests); here, many lengths cheaply: 500 per model, spread
        // over the document (ivshmem_plain's is 2 MB).
        let mut m = busy(name);
        let step = (valid.len() / 500).max(1);
        for len in (0..valid.len()).step_by(step) {
            assert!(
                m.restore_snapshot(&valid[..len]).is_err(),
                "{name}: prefix {len} accepted"
            );
        }
        assert!(!check(name, &valid[..valid.len() / 2]));
    }
}

#[test]
fn oversized_and_deeply_nested_inputs_are_refused() {
    let mut m = busy("edu");
    let huge = vec![b' '; 64 << 20];
    assert!(matches!(
        m.restore_snapshot(&huge),
        Err(SnapshotError::TooLarge { .. })
    ));
    // Deeper than serde_json's recursion limit, within edu's size limit.
    let deep = format!("{}{}", "[".repeat(20_000), "]".repeat(20_000));
    assert!(matches!(
        m.restore_snapshot(deep.as_bytes()),
        Err(SnapshotError::Malformed(_))
    ));
    assert!(!check("edu", deep.as_bytes()));
}

/// Values the layout does not allow, each refused with what is wrong.
#[test]
fn values_beyond_the_layout_are_refused() {
    let valid = String::from_utf8(busy("pci_serial").save_snapshot().unwrap()).unwrap();
    let cases = [
        // One state value too many.
        ("\"states\":[", "\"states\":[{\"uint\":256},", "state"),
        ("\"clock_ns\":", "\"clock_ns\":-", "malformed"),
        ("\"stream_output\":[\"", "\"stream_output\":[\"0", "hex"),
        ("\"command\":7", "\"command\":65535", "COMMAND"),
        ("\"timers\":[", "\"timers\":[null,", "timers"),
    ];
    for (from, to, why) in cases {
        assert!(valid.contains(from), "{from} not in the snapshot");
        let bad = valid.replacen(from, to, 1);
        let mut m = busy("pci_serial");
        let e = m.restore_snapshot(bad.as_bytes()).unwrap_err().to_string();
        assert!(e.to_lowercase().contains(&why.to_lowercase()), "{to}: {e}");
    }
    // A timer with a zero period would divide by zero when it fires.
    let fresh = || pcidev_models::by_name("i6300esb").expect("registered");
    let wdt = String::from_utf8(fresh().save_snapshot().unwrap()).unwrap();
    let armed = wdt.replacen(
        "\"timers\":[null]",
        "\"timers\":[{\"remaining_ns\":5,\"period_ns\":0}]",
        1,
    );
    assert_ne!(
        armed, wdt,
        "the watchdog's timer is stopped in the snapshot"
    );
    let e = fresh().restore_snapshot(armed.as_bytes()).unwrap_err();
    assert!(e.to_string().contains("timer limits"), "{e}");
    let fine = armed.replacen("\"period_ns\":0", "\"period_ns\":100000", 1);
    let mut m = fresh();
    assert_eq!(check_restore(m.as_mut(), fine.as_bytes()), Ok(true));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn arbitrary_bytes_never_panic(pick in 0usize..64, bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let name = pcidev_models::NAMES[pick % pcidev_models::NAMES.len()];
        check(name, &bytes);
    }

    #[test]
    fn edited_snapshots_never_panic(pick in 0usize..64, edits in proptest::collection::vec(any::<u8>(), 0..48)) {
        let name = pcidev_models::NAMES[pick % pcidev_models::NAMES.len()];
        let valid = busy(name).save_snapshot().unwrap();
        check(name, &edit_bytes(&valid, &edits));
    }
}
