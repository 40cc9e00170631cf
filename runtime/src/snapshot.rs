//! Snapshot and restore: a model's whole state as one versioned JSON
//! document, shared by generated models and the interpreter.
//!
//! A snapshot holds everything that decides what the device does next:
//! - the runtime's part ([`DeviceCtx`](crate::DeviceCtx)): configuration
//!   space (COMMAND, BAR addresses, interrupt line, cache line size, MSI
//!   registers, MSI-X enable/function mask, table and pending bits, the
//!   plain-memory bytes of the device-specific area), the interrupt level,
//!   latched level and INTx line, the clock and every timer (its time
//!   *remaining* relative to the clock and its period), each stream's
//!   queued output, the queued VMM requests, and whether the VMM masks
//!   MSI-X;
//! - the device's part, declared by the [`Registers`](crate::Registers)
//!   impl as a [`StateLayout`]: every `state` item (scalars, buffers,
//!   FIFOs with their elements oldest first) and every register with
//!   storage, in declaration order.
//!
//! Not in a snapshot: the interrupt sink, guest memory, the trace sink
//! (the host's), and user hooks (Rust behind `hook` items, which keep
//! whatever state they have).
//!
//! The snapshot names the device and carries its *layout*: one line per
//! thing the state depends on (ids, BARs, registers, MSI/MSI-X, states
//! with their types, stored registers, timers, streams, windows) and an
//! FNV-1a 64 fingerprint of those lines. [`Model::restore_snapshot`](crate::Model::restore_snapshot) refuses a snapshot
//! whose format version, device or layout differs, naming the lines that
//! differ; there is no migration.
//!
//! Decoding is total and bounded: the input may be at most
//! [`max_encoded_len`] bytes for the model's layout (checked before
//! parsing, so parsing allocates at most a small multiple of that), and
//! every value is checked against the layout (scalar widths, buffer
//! lengths, FIFO depths, stream queue bound, timer limits, MSI-X table
//! size) before anything is applied, so a refused snapshot leaves the
//! model untouched.

use serde::{Deserialize, Serialize};

use crate::ctx::CtxState;
use crate::info::DeviceInfo;
use crate::window::WindowInfo;

/// The `format` field of every snapshot.
pub const SNAPSHOT_FORMAT: &str = "pcidev-snapshot";
/// The format version this build writes and reads.
pub const SNAPSHOT_VERSION: u32 = 1;

/// The type of one piece of device state, as the spec declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StateKind {
    /// `bool`: saved as 0 or 1.
    Bool,
    /// An unsigned integer of this many bits (8, 16, 32, 64).
    Uint(u32),
    /// A byte buffer of exactly this length.
    Buffer(u64),
    /// A FIFO of `elem_bits`-bit elements holding at most `capacity`.
    Fifo {
        /// Bits of one element.
        elem_bits: u32,
        /// The most elements it holds.
        capacity: u32,
    },
}

impl std::fmt::Display for StateKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StateKind::Bool => f.write_str("bool"),
            StateKind::Uint(b) => write!(f, "u{b}"),
            StateKind::Buffer(n) => write!(f, "buf[{n:#x}]"),
            StateKind::Fifo {
                elem_bits,
                capacity,
            } => write!(f, "fifo[u{elem_bits}; {capacity}]"),
        }
    }
}

/// One named piece of device state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StateDecl {
    /// The spec's name (a state's name, or a register's name for storage).
    pub name: &'static str,
    /// Its type.
    pub kind: StateKind,
}

impl StateDecl {
    /// A declaration.
    pub const fn new(name: &'static str, kind: StateKind) -> Self {
        StateDecl { name, kind }
    }
}

/// What a [`Registers`](crate::Registers) impl saves: its states and its
/// stored registers, in declaration order. [`Registers::save_state`] and
/// [`Registers::restore_state`](crate::Registers::restore_state) use the
/// same order.
///
/// [`Registers::save_state`]: crate::Registers::save_state
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateLayout {
    /// The spec's `state` items.
    pub states: &'static [StateDecl],
    /// The registers that hold a value (those with an access kind); their
    /// kind is always [`StateKind::Uint`].
    pub storage: &'static [StateDecl],
}

/// The saved value of one [`StateDecl`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StateValue {
    /// A scalar (bools as 0/1).
    Uint(u64),
    /// A buffer's bytes.
    Bytes(Hex),
    /// A FIFO's elements, oldest first.
    Fifo(Vec<u64>),
}

impl StateValue {
    /// A buffer's value.
    pub fn bytes(b: &[u8]) -> Self {
        StateValue::Bytes(Hex(b.to_vec()))
    }
}

/// Value `i` of a checked list as an integer (0 if it is not one).
pub fn uint(values: &[StateValue], i: usize) -> u64 {
    match values.get(i) {
        Some(StateValue::Uint(v)) => *v,
        _ => 0,
    }
}

/// Copy buffer value `i` of a checked list into `to` (as many bytes as
/// both have; a checked list has exactly `to.len()`).
pub fn copy_bytes(values: &[StateValue], i: usize, to: &mut [u8]) {
    if let Some(StateValue::Bytes(Hex(b))) = values.get(i) {
        let n = b.len().min(to.len());
        to[..n].copy_from_slice(&b[..n]);
    }
}

/// FIFO value `i` of a checked list (empty if it is not one).
pub fn fifo(values: &[StateValue], i: usize) -> &[u64] {
    match values.get(i) {
        Some(StateValue::Fifo(v)) => v,
        _ => &[],
    }
}

/// Bytes, serialized as a lower-case hex string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hex(pub Vec<u8>);

impl Serialize for Hex {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = String::with_capacity(self.0.len() * 2);
        for b in &self.0 {
            out.push(char::from(DIGITS[usize::from(b >> 4)]));
            out.push(char::from(DIGITS[usize::from(b & 15)]));
        }
        s.serialize_str(&out)
    }
}

impl<'de> Deserialize<'de> for Hex {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        let digit = |c: u8| match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        };
        if !s.len().is_multiple_of(2) {
            return Err(serde::de::Error::custom("hex string of odd length"));
        }
        s.as_bytes()
            .chunks_exact(2)
            .map(|p| Some(digit(p[0])? << 4 | digit(p[1])?))
            .collect::<Option<Vec<u8>>>()
            .map(Hex)
            .ok_or_else(|| serde::de::Error::custom("not a hex string"))
    }
}

/// Why a snapshot could not be taken or restored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnapshotError {
    /// The model does not declare its state (a hand-written `Registers`
    /// without [`Registers::snapshot_layout`](crate::Registers::snapshot_layout)).
    Unsupported {
        /// The device.
        device: &'static str,
    },
    /// The input is longer than any snapshot of this model can be.
    TooLarge {
        /// Its length.
        len: usize,
        /// The most this model's snapshots take.
        limit: usize,
    },
    /// Not a well-formed snapshot document.
    Malformed(String),
    /// A well-formed document of another format version.
    Version {
        /// The version it has.
        found: u32,
    },
    /// A snapshot of another device.
    Device {
        /// The device the snapshot names.
        snapshot: String,
        /// This model's device.
        model: &'static str,
    },
    /// A snapshot of this device with another layout (another version of
    /// the spec).
    Layout {
        /// This model's device.
        device: &'static str,
        /// Layout lines only the snapshot has.
        only_snapshot: Vec<String>,
        /// Layout lines only this model has.
        only_model: Vec<String>,
    },
    /// A value outside what the layout allows.
    Invalid(String),
}

impl std::fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SnapshotError::Unsupported { device } => {
                write!(f, "model `{device}` does not support snapshots")
            }
            SnapshotError::TooLarge { len, limit } => write!(
                f,
                "snapshot of {len} bytes is larger than this model's limit of {limit} bytes"
            ),
            SnapshotError::Malformed(e) => write!(f, "malformed snapshot: {e}"),
            SnapshotError::Version { found } => write!(
                f,
                "snapshot format version {found} is not supported (this build reads version {SNAPSHOT_VERSION})"
            ),
            SnapshotError::Device { snapshot, model } => write!(
                f,
                "snapshot is of device `{snapshot}`, this model is `{model}`"
            ),
            SnapshotError::Layout {
                device,
                only_snapshot,
                only_model,
            } => {
                write!(
                    f,
                    "snapshot of `{device}` has another layout than this model (another version of the spec?)"
                )?;
                let list = |f: &mut std::fmt::Formatter<'_>, what: &str, v: &[String]| {
                    if v.is_empty() {
                        return Ok(());
                    }
                    let shown: Vec<String> = v.iter().take(4).map(|l| format!("`{l}`")).collect();
                    let more = if v.len() > 4 {
                        format!(" and {} more", v.len() - 4)
                    } else {
                        String::new()
                    };
                    write!(f, "; {what}: {}{more}", shown.join(", "))
                };
                list(f, "only in the snapshot", only_snapshot)?;
                list(f, "only in this model", only_model)
            }
            SnapshotError::Invalid(what) => write!(f, "invalid snapshot: {what}"),
        }
    }
}

impl std::error::Error for SnapshotError {}

/// The layout lines of a device: what its state depends on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LayoutDesc {
    /// FNV-1a 64 of the lines joined by `\n`, as 16 hex digits.
    pub fingerprint: String,
    pub lines: Vec<String>,
}

impl LayoutDesc {
    pub(crate) fn new(
        info: &DeviceInfo,
        layout: &StateLayout,
        timers: &[&str],
        streams: &[&str],
        windows: &[WindowInfo],
    ) -> Self {
        let mut lines = vec![format!(
            "id {:#06x}:{:#06x}",
            info.vendor_id, info.device_id
        )];
        for bar in info.bars {
            lines.push(format!(
                "bar {} {:?} size {:#x}",
                bar.index, bar.kind, bar.size
            ));
            for r in bar.registers {
                lines.push(format!(
                    "register {} bar {} @ {:#x} width {}",
                    r.name, bar.index, r.offset, r.width
                ));
            }
        }
        for r in info.config_registers {
            lines.push(format!(
                "config register {} @ {:#x} width {}",
                r.name, r.offset, r.width
            ));
        }
        if let Some(msi) = info.msi {
            lines.push(format!("msi vectors {}", msi.vectors));
        }
        if let Some(msix) = info.msix {
            lines.push(format!("msix vectors {}", msix.vector_count()));
        }
        for s in layout.states {
            lines.push(format!("state {}: {}", s.name, s.kind));
        }
        for s in layout.storage {
            lines.push(format!("storage {}: {}", s.name, s.kind));
        }
        lines.extend(timers.iter().map(|t| format!("timer {t}")));
        lines.extend(streams.iter().map(|s| format!("stream {s}")));
        for w in windows {
            lines.push(format!(
                "window {} bar {} @ {:#x} len {:#x}",
                w.name, w.bar, w.offset, w.len
            ));
        }
        let fingerprint = format!(
            "{:016x}",
            pcidev_core::data::fnv1a64(lines.join("\n").as_bytes())
        );
        LayoutDesc { fingerprint, lines }
    }

    /// The lines only `self` has, and those only `other` has.
    fn diff(&self, other: &LayoutDesc) -> (Vec<String>, Vec<String>) {
        let only = |a: &LayoutDesc, b: &LayoutDesc| -> Vec<String> {
            a.lines
                .iter()
                .filter(|l| !b.lines.contains(l))
                .cloned()
                .collect()
        };
        (only(self, other), only(other, self))
    }
}

/// The document: see the README's "Snapshots" section for every field.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Document {
    pub format: String,
    pub version: u32,
    pub device: String,
    pub layout: LayoutDesc,
    pub runtime: CtxState,
    pub states: Vec<StateValue>,
    pub storage: Vec<StateValue>,
}

/// Just enough of a document to tell its format and version.
#[derive(Deserialize)]
struct Header {
    format: String,
    version: u32,
}

/// The most bytes a snapshot of a model with this layout takes, with
/// generous room for whitespace: the input bound [`Model::restore_snapshot`](crate::Model::restore_snapshot) checks
/// before parsing.
pub fn max_encoded_len(
    info: &DeviceInfo,
    layout: &StateLayout,
    timers: usize,
    streams: usize,
) -> usize {
    // Everything but buffers, FIFOs and queues: names, layout lines,
    // config space, timers; 64 KiB covers any spec's many times over.
    let mut n: usize = 64 << 10;
    let lines = info
        .bars
        .iter()
        .map(|b| b.registers.len() + 1)
        .sum::<usize>()
        + info.config_registers.len()
        + layout.states.len()
        + layout.storage.len()
        + timers
        + streams;
    n = n.saturating_add(lines.saturating_mul(512));
    for s in layout.states.iter().chain(layout.storage) {
        let v = match s.kind {
            StateKind::Bool | StateKind::Uint(_) => 64,
            StateKind::Buffer(len) => usize::try_from(len)
                .unwrap_or(usize::MAX)
                .saturating_mul(2)
                .saturating_add(64),
            // 20 digits and a comma per element.
            StateKind::Fifo { capacity, .. } => (capacity as usize).saturating_mul(21) + 64,
        };
        n = n.saturating_add(v);
    }
    n = n.saturating_add(streams.saturating_mul(crate::QUEUE_BYTES * 2 + 64));
    n = n.saturating_add(timers.saturating_mul(128));
    if let Some(m) = info.msix {
        let v = usize::from(m.vector_count());
        // Four 10-digit dwords per entry, one 20-digit word per 64 vectors.
        n = n.saturating_add(v * 64 + v.div_ceil(64) * 32);
    }
    n = n.saturating_add(crate::MAX_VMM_PENDING * 32);
    n.saturating_mul(2)
}

/// Check `values` against `decls` (`what`: "state" or "storage").
fn check_values(
    decls: &[StateDecl],
    values: &[StateValue],
    what: &str,
) -> Result<(), SnapshotError> {
    if decls.len() != values.len() {
        return Err(SnapshotError::Invalid(format!(
            "{} {what} values, the layout has {}",
            values.len(),
            decls.len()
        )));
    }
    let fits = |v: u64, bits: u32| bits >= 64 || v >> bits == 0;
    for (d, v) in decls.iter().zip(values) {
        let ok = match (d.kind, v) {
            (StateKind::Bool, StateValue::Uint(x)) => *x <= 1,
            (StateKind::Uint(bits), StateValue::Uint(x)) => fits(*x, bits),
            (StateKind::Buffer(len), StateValue::Bytes(b)) => b.0.len() as u64 == len,
            (
                StateKind::Fifo {
                    elem_bits,
                    capacity,
                },
                StateValue::Fifo(items),
            ) => items.len() <= capacity as usize && items.iter().all(|&x| fits(x, elem_bits)),
            _ => false,
        };
        if !ok {
            return Err(SnapshotError::Invalid(format!(
                "{what} `{}` ({}): value out of range or of another type",
                d.name, d.kind
            )));
        }
    }
    Ok(())
}

/// Everything [`restore`] needs to know about the model.
pub(crate) struct Target<'a> {
    pub info: &'static DeviceInfo,
    pub layout: &'static StateLayout,
    pub timers: &'a [&'static str],
    pub streams: &'a [&'static str],
    pub windows: &'a [WindowInfo],
}

impl Target<'_> {
    fn layout_desc(&self) -> LayoutDesc {
        LayoutDesc::new(
            self.info,
            self.layout,
            self.timers,
            self.streams,
            self.windows,
        )
    }
}

/// Serialize a document (compact JSON).
pub(crate) fn encode(
    target: &Target<'_>,
    runtime: CtxState,
    states: Vec<StateValue>,
    storage: Vec<StateValue>,
) -> Vec<u8> {
    let doc = Document {
        format: SNAPSHOT_FORMAT.to_owned(),
        version: SNAPSHOT_VERSION,
        device: target.info.name.to_owned(),
        layout: target.layout_desc(),
        runtime,
        states,
        storage,
    };
    // Serializing plain data to a Vec cannot fail; an empty result would
    // be refused on restore rather than panic here.
    serde_json::to_vec(&doc).unwrap_or_default()
}

/// Decode `bytes` for `target` and check every value; nothing is applied.
pub(crate) fn decode(target: &Target<'_>, bytes: &[u8]) -> Result<Document, SnapshotError> {
    let limit = max_encoded_len(
        target.info,
        target.layout,
        target.timers.len(),
        target.streams.len(),
    );
    if bytes.len() > limit {
        return Err(SnapshotError::TooLarge {
            len: bytes.len(),
            limit,
        });
    }
    let header: Header =
        serde_json::from_slice(bytes).map_err(|e| SnapshotError::Malformed(e.to_string()))?;
    if header.format != SNAPSHOT_FORMAT {
        return Err(SnapshotError::Malformed(format!(
            "format is `{}`, not `{SNAPSHOT_FORMAT}`",
            header.format.chars().take(64).collect::<String>()
        )));
    }
    if header.version != SNAPSHOT_VERSION {
        return Err(SnapshotError::Version {
            found: header.version,
        });
    }
    let doc: Document =
        serde_json::from_slice(bytes).map_err(|e| SnapshotError::Malformed(e.to_string()))?;
    if doc.device != target.info.name {
        return Err(SnapshotError::Device {
            snapshot: doc.device.chars().take(64).collect(),
            model: target.info.name,
        });
    }
    let mine = target.layout_desc();
    if doc.layout.lines != mine.lines {
        let (only_snapshot, only_model) = doc.layout.diff(&mine);
        return Err(SnapshotError::Layout {
            device: target.info.name,
            only_snapshot,
            only_model,
        });
    }
    if doc.layout.fingerprint != mine.fingerprint {
        return Err(SnapshotError::Invalid(format!(
            "layout fingerprint {} does not match its lines ({})",
            doc.layout.fingerprint.chars().take(32).collect::<String>(),
            mine.fingerprint
        )));
    }
    check_values(target.layout.states, &doc.states, "state")?;
    check_values(target.layout.storage, &doc.storage, "storage")?;
    doc.runtime
        .check(target.info, target.timers.len(), target.streams.len())?;
    Ok(doc)
}

// ------------------------------------------------------------------
// Robustness checks, shared by the `snapshot` fuzz target and its bounded
// test in `cargo test`.

/// `valid` with `edits` applied: each 3-byte edit `[pos lo, pos hi, op]`
/// overwrites (op < 0xf0: with `op`), deletes (0xf0..0xf8) or duplicates
/// (0xf8..) the byte at `pos % len`; a trailing partial edit appends its
/// bytes. Mutations that keep most of a document intact reach the checks
/// behind JSON parsing.
pub fn edit_bytes(valid: &[u8], edits: &[u8]) -> Vec<u8> {
    let mut out = valid.to_vec();
    let mut chunks = edits.chunks_exact(3);
    for e in chunks.by_ref() {
        if out.is_empty() {
            break;
        }
        let pos = usize::from(u16::from_le_bytes([e[0], e[1]])) % out.len();
        match e[2] {
            0xf0..=0xf7 => {
                out.remove(pos);
            }
            0xf8..=0xff => out.insert(pos, out[pos]),
            b => out[pos] = b,
        }
    }
    out.extend_from_slice(chunks.remainder());
    out
}

/// Restore `bytes` into `model` and check what must hold for any input:
/// no panic (the caller's harness sees one); a refused snapshot leaves the
/// model as it was; an accepted one saves again to a snapshot that
/// restores to the same state, and the model then serves accesses, time
/// and input. `Ok(accepted)`, or what broke.
pub fn check_restore(model: &mut dyn crate::PciModel, bytes: &[u8]) -> Result<bool, String> {
    let before = model.save_snapshot().map_err(|e| e.to_string())?;
    match model.restore_snapshot(bytes) {
        Err(_) => {
            let after = model.save_snapshot().map_err(|e| e.to_string())?;
            if after != before {
                return Err("a refused snapshot changed the model".into());
            }
            Ok(false)
        }
        Ok(()) => {
            let again = model.save_snapshot().map_err(|e| e.to_string())?;
            model
                .restore_snapshot(&again)
                .map_err(|e| format!("its own snapshot refused after an accepted one: {e}"))?;
            if model.save_snapshot().map_err(|e| e.to_string())? != again {
                return Err("save, restore, save is not stable".into());
            }
            // Serve a little: every BAR's first bytes, config space, time
            // and one byte per stream.
            let mut buf = [0u8; 4];
            for bar in 0..6 {
                let _ = model.bar_read(bar, 0, &mut buf);
                let _ = model.bar_write(bar, 0, &buf);
            }
            let mut config = [0u8; 256];
            model.config_read(0, &mut config);
            model.config_write(4, &config[4..6]);
            let next = model.next_deadline().unwrap_or(0);
            model.fire_due(next);
            for s in 0..model.streams().len() {
                let _ = model.stream_input(s, 0x55);
                let _ = model.take_output(s);
            }
            let _ = model.take_vmm_requests();
            Ok(true)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_refuses_junk() {
        let h = Hex(vec![0, 1, 0xab, 0xff]);
        let s = serde_json::to_string(&h).unwrap();
        assert_eq!(s, "\"0001abff\"");
        assert_eq!(serde_json::from_str::<Hex>(&s).unwrap(), h);
        assert!(serde_json::from_str::<Hex>("\"abc\"").is_err());
        assert!(serde_json::from_str::<Hex>("\"zz\"").is_err());
        assert!(serde_json::from_str::<Hex>("\"é1\"").is_err());
    }

    #[test]
    fn values_are_checked_against_their_declarations() {
        let decls = [
            StateDecl::new("b", StateKind::Bool),
            StateDecl::new("n", StateKind::Uint(8)),
            StateDecl::new("buf", StateKind::Buffer(2)),
            StateDecl::new(
                "q",
                StateKind::Fifo {
                    elem_bits: 8,
                    capacity: 2,
                },
            ),
        ];
        let good = vec![
            StateValue::Uint(1),
            StateValue::Uint(255),
            StateValue::bytes(&[1, 2]),
            StateValue::Fifo(vec![3, 4]),
        ];
        assert_eq!(check_values(&decls, &good, "state"), Ok(()));
        let mut bad = good.clone();
        bad[1] = StateValue::Uint(256);
        assert!(check_values(&decls, &bad, "state").is_err());
        let mut bad = good.clone();
        bad[2] = StateValue::bytes(&[1, 2, 3]);
        assert!(check_values(&decls, &bad, "state").is_err());
        let mut bad = good.clone();
        bad[3] = StateValue::Fifo(vec![1, 2, 3]);
        let e = check_values(&decls, &bad, "state").unwrap_err();
        assert!(e.to_string().contains("`q` (fifo[u8; 2])"), "{e}");
        let mut bad = good.clone();
        bad[0] = StateValue::Uint(2);
        assert!(check_values(&decls, &bad, "state").is_err());
        assert!(check_values(&decls, &good[..3], "state").is_err());
    }
}
