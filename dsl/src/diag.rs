//! Diagnostics: stable codes, spans, both sites of a conflict, a hint.
//!
//! Every problem the front end finds becomes a [`Diagnostic`]. Codes are
//! stable (`E0xxx` errors, `W0xxx` warnings) and documented in [`CODES`];
//! `pcidevc explain CODE` prints the explanation. How a diagnostic is shown
//! lives beside this file: [`mod@render`] in rustc's human and short layouts,
//! [`json`] in rustc's JSON diagnostic format.

pub mod json;
pub mod render;

pub use render::{render, summary};

use crate::source::Span;
use serde::Serialize;

/// How serious a diagnostic is; orders warnings before errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Reported (`W` codes), but the spec still compiles.
    Warning,
    /// The spec does not compile (`E` codes).
    Error,
}

impl Severity {
    /// The word rustc prints: `error` or `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// A secondary site: the other half of a conflict, or a related declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// The source text the label points at.
    pub span: Span,
    /// Text shown under the site.
    pub message: String,
}

/// One problem found in a spec: a stable code, a message, the primary site
/// with its label, other sites, a hint and notes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning (always agrees with the first letter of `code`).
    pub severity: Severity,
    /// The stable code, `E0xxx` or `W0xxx`, explained in [`CODES`].
    pub code: &'static str,
    /// One-line description, shown after `error[CODE]:`.
    pub message: String,
    /// Where the problem is, with a short label text.
    pub span: Span,
    /// Text under the primary span (may be empty).
    pub label: String,
    /// Other sites (e.g. the first of two overlapping registers).
    pub related: Vec<Label>,
    /// The `= help:` line, a suggested fix.
    pub hint: Option<String>,
    /// Context that is not a site in the source (`= note: ...`).
    pub notes: Vec<String>,
    /// The problem is the file itself (it could not be read): `span` only
    /// names the file, and there is no text to point at.
    pub whole_file: bool,
}

impl Diagnostic {
    /// An error with code `code` (an `E` code) at `span`; add the rest with
    /// the builder methods.
    pub fn error(code: &'static str, span: Span, message: impl Into<String>) -> Self {
        debug_assert!(code.starts_with('E'), "errors use E codes: {code}");
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            span,
            label: String::new(),
            related: Vec::new(),
            hint: None,
            notes: Vec::new(),
            whole_file: false,
        }
    }

    /// A warning with code `code` (a `W` code) at `span`.
    pub fn warning(code: &'static str, span: Span, message: impl Into<String>) -> Self {
        debug_assert!(code.starts_with('W'), "warnings use W codes: {code}");
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error("E0000", span, message)
        }
        .with_code(code)
    }

    fn with_code(mut self, code: &'static str) -> Self {
        self.code = code;
        self
    }

    /// Text shown under the primary span.
    pub fn label(mut self, text: impl Into<String>) -> Self {
        self.label = text.into();
        self
    }

    /// Another site involved in the problem.
    pub fn also(mut self, span: Span, text: impl Into<String>) -> Self {
        self.related.push(Label {
            span,
            message: text.into(),
        });
        self
    }

    /// Sets the `= help:` line: what to change.
    pub fn hint(mut self, text: impl Into<String>) -> Self {
        self.hint = Some(text.into());
        self
    }

    /// A remark that points at no source text.
    pub fn note(mut self, text: impl Into<String>) -> Self {
        self.notes.push(text.into());
        self
    }

    /// The problem is the file of `span` as a whole: shown without a
    /// location or code frame.
    pub fn whole_file(mut self) -> Self {
        self.whole_file = true;
        self
    }

    /// Is this an error (rather than a warning)?
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// A message about no source text (the summary of a spec, generated files
/// out of date): rendered like a [`Diagnostic`] without a code or a site,
/// by [`Remark::rendered`] and [`Remark::to_json`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remark {
    /// Error or warning: the word the remark starts with.
    pub severity: Severity,
    /// The headline, as a diagnostic's message.
    pub message: String,
    /// `= note:` lines.
    pub notes: Vec<String>,
    /// The `= help:` line.
    pub help: Option<String>,
}

impl Remark {
    /// A remark with a headline and no notes or help.
    pub fn new(severity: Severity, message: impl Into<String>) -> Self {
        Remark {
            severity,
            message: message.into(),
            notes: Vec::new(),
            help: None,
        }
    }

    /// Adds a `= note:` line.
    pub fn note(mut self, text: impl Into<String>) -> Self {
        self.notes.push(text.into());
        self
    }

    /// Sets the `= help:` line.
    pub fn help(mut self, text: impl Into<String>) -> Self {
        self.help = Some(text.into());
        self
    }
}

/// Every diagnostic code with a one-line title and an explanation.
#[derive(Debug)]
pub struct CodeInfo {
    /// The code, `E0xxx` or `W0xxx`.
    pub code: &'static str,
    /// One-line title, as `pcidevc explain` prints first.
    pub title: &'static str,
    /// The explanation `pcidevc explain CODE` prints: why it is a problem
    /// and how to fix it.
    pub explanation: &'static str,
}

macro_rules! codes {
    ($($name:ident = $code:literal, $title:literal, $expl:literal;)*) => {
        $(#[doc = concat!("`", $code, "`: ", $title, ".")] pub const $name: &str = $code;)*
        /// All codes, in order.
        pub const CODES: &[CodeInfo] = &[$(CodeInfo { code: $code, title: $title, explanation: $expl }),*];
    };
}

codes! {
    SYNTAX = "E0001", "syntax error",
        "The text does not follow the grammar. The message says what was expected at that point; the rest of the file is still checked, item by item.";
    BAD_NUMBER = "E0002", "invalid integer literal",
        "Integers are decimal, 0x hexadecimal or 0b binary, may contain `_`, may end in K, M or G (multiples of 1024), and must fit in 64 bits.";
    TOO_DEEP = "E0003", "nesting too deep",
        "Braces, brackets and parentheses nest at most 64 levels, and an expression has at most 64 levels of operators; each `else if` of a chain is one level. Split the expression into named parts (`let`, a `fn` per half of a long chain, intermediate `state`), hold a table in a buffer state (`state t: [u8; 128] = [...]`, read as `t[i]`), or flatten the blocks. Uses of what the too-deep item declared are not reported again.";
    INCLUDE_IO = "E0004", "cannot read file",
        "An included file (or the spec itself) could not be read. Include paths are relative to the including file.";
    INCLUDE_CYCLE = "E0005", "include cycle",
        "A file includes itself, directly or through other files.";
    NOT_UTF8 = "E0006", "file is not UTF-8",
        "Specs are UTF-8 text. The span points at the first byte that is not valid UTF-8.";
    BAD_STRING = "E0007", "invalid string",
        "Strings may contain the escapes \\\\, \\\" , \\n and \\t only.";
    LANGUAGE_VERSION = "E0010", "unsupported language version",
        "`language N;` names the version of the language a spec is written for. This pcidevc reads versions 1 to 2 (every older version is a subset of the newer: a v1 spec is a valid v2 spec); a spec for a newer version needs a newer pcidevc (`pcidevc --version` shows which one this is). Without the item, a spec is read as the newest version. Nothing else in the file is checked, since it may use constructs this compiler does not know.";
    NO_DEVICE = "E0101", "no device",
        "A spec file must contain exactly one `device NAME { ... }` block.";
    MISSING_ITEM = "E0102", "missing required item",
        "A device needs at least `id VENDOR:DEVICE;`.";
    BAD_ID = "E0103", "invalid PCI id",
        "Vendor ids 0x0000 and 0xffff are not valid (0xffff is what an empty slot reads); device ids must not be 0xffff.";
    OUT_OF_RANGE = "E0104", "value out of range",
        "The value does not fit where it is used: ids are 16 bits, revision and class bytes are 8 bits, a BAR index is 0 to 5, MSI vectors 1 to 32.";
    DUPLICATE_ITEM = "E0105", "item given twice",
        "An identity item (id, revision, class, subsystem, description, dma_buffer) or an interrupt item (except `ack`, which may be repeated with `when` conditions) may appear once.";
    BAD_NAME = "E0106", "invalid name",
        "Names become Rust and C identifiers: device names are lower snake_case, and no name may be a reserved word of the language or of Rust.";
    BAR_INDEX = "E0201", "invalid BAR index",
        "BARs are numbered 0 to 5; a mem64 BAR also takes the next index, so it cannot be BAR 5.";
    BAR_DUPLICATE = "E0202", "BAR index used twice",
        "Two BARs claim the same index (a mem64 BAR also claims index+1).";
    BAR_SIZE_POW2 = "E0203", "BAR size not a power of two",
        "PCI BAR sizes are powers of two, so that the size can be discovered by writing all-ones.";
    BAR_IO_TOO_BIG = "E0204", "I/O BAR larger than 256 bytes",
        "PCI I/O BARs may decode at most 256 bytes.";
    BAR_TOO_SMALL = "E0205", "BAR too small",
        "I/O BARs are at least 4 bytes, memory BARs at least 16 bytes.";
    BAD_ACCESS_SIZE = "E0206", "invalid access size",
        "Access sizes are 1, 2, 4 or 8 bytes; I/O BARs allow at most 4.";
    REG_OUTSIDE_BAR = "E0301", "register outside its BAR",
        "offset + width of a register must not exceed the BAR's size.";
    REG_OVERLAP = "E0302", "overlapping registers",
        "Two registers of one BAR share bytes. One offset is one register: registers that share an offset by bank (a 16550's DLL behind RBR/THR while LCR.DLAB is set) or by direction (read RBR, write THR) are ONE register whose `read` and `on write` choose by state: `register RBR_THR @ 0x0 : u8 { read if dlab { dll } else { rbr }; on write { if dlab { dll = value; } else { thr = value; } } }` with each bank a `state` (specs/pci_serial.pcidev does this). Registers that only partly overlap need their own offsets; to show one state at two offsets, declare a `state` and read it from both registers.";
    REG_WIDTH_NOT_ALLOWED = "E0303", "register width not allowed by the BAR",
        "A register's width must be one of its BAR's access sizes, or the driver could never access it whole.";
    REG_MISALIGNED = "E0304", "register not naturally aligned",
        "A register's offset must be a multiple of its width.";
    RESET_TOO_WIDE = "E0305", "reset value wider than its target",
        "The reset value of a register, field or state does not fit in its width.";
    FIELD_OVERLAP = "E0306", "overlapping fields",
        "Two fields of one register share bits.";
    FIELD_OUTSIDE = "E0307", "field outside its register",
        "A field's bits must lie inside the register's width.";
    WRITABLE_IN_RO = "E0308", "writable field in a read-only register",
        "A register declared `ro` can only have read-only fields.";
    BAD_BIT_RANGE = "E0309", "invalid bit range",
        "Bit ranges are written [high:low] with high >= low.";
    BAD_ENUM = "E0310", "invalid enumeration",
        "Enumeration values must fit in the field and be distinct.";
    RESET_TWICE = "E0311", "reset given twice",
        "A register with fields takes its reset from its fields; give the reset either on the register or on the fields.";
    NO_STORAGE = "E0312", "register has no storage",
        "Only registers with an access kind (rw, ro, wo, w1c, w1s, rclr) hold a value. Assign a `state` instead, or give the register an access kind.";
    DUPLICATE_NAME = "E0401", "duplicate name",
        "Registers, states, hooks and scenarios share one namespace per device; fields and enum variants are unique within their register.";
    UNKNOWN_NAME = "E0402", "unknown name",
        "The name is not declared. Declarations can come after their use.";
    WRONG_KIND = "E0403", "wrong kind of name",
        "The name is declared, but not as something usable here (e.g. a buffer used as a number, a hook assigned to, `value` outside `on write`, `dma.addr` outside a scenario).";
    BAD_CALL = "E0404", "invalid hook call",
        "A hook is called with as many arguments as it declares, and only hooks with a return type can be used in expressions.";
    NO_INTERRUPT_SOURCE = "E0501", "interrupt without a pin or MSI",
        "`level`, `status`, `mine` and `ack` describe an interrupt: declare `pin A..D`, `msi N` or `msix N ...`.";
    LEVEL_CONFLICT = "E0502", "explicit irq action with a derived level",
        "With `level EXPR` the line follows the expression after every access; `irq raise/lower/pulse` would fight it. Use one or the other.";
    NO_STATUS = "E0503", "INTx interrupt without `status` or `mine`",
        "An INTx line may be shared: the generated driver's handler must tell its device's interrupts from others'. Declare `status REGISTER;` (the interrupt is the device's while the register is non-zero) or `mine EXPR;` (any test over registers, e.g. `mine (IIR & 1) == 0;`), and usually `ack`. MSI-only interrupts need neither: a vector is the device's own.";
    BAD_PIN = "E0504", "invalid interrupt pin",
        "Interrupt pins are A, B, C or D.";
    NO_INTERRUPT = "E0505", "the device has no interrupt",
        "`expect irq`, `irq` actions and `msi` actions need an `interrupt { pin ..; }` or `msi N;`.";
    HANDLER_EXPR = "E0510", "the interrupt handler cannot evaluate this",
        "`mine`, `ack` values and `when` conditions are evaluated by the generated driver's interrupt handler, which sees only what it reads from the device: constants, registers and their fields (read once per interrupt, see the README's interrupt section), `value` (the `status` register), operators and `if`. Device state, hooks, `let`s, `fn`s, timers, streams and FIFOs live in the model and are not visible there; show them in a register instead.";
    HANDLER_UNREADABLE = "E0511", "the interrupt handler reads a register that always reads 0",
        "A register named in `mine`, an `ack` value or a `when` condition is read by the driver's handler; this one is write-only (no readable field, no `read`), so the test would see 0 whatever the device does. Name a readable register, or make this one readable.";
    VALUE_WITHOUT_STATUS = "E0512", "`value` in the interrupt block without `status`",
        "In `mine`, `ack` and `when`, `value` is the `status` register the handler read. Without `status REG;` it stands for nothing: declare `status`, or name the register itself (`ack IRQ = IRQ;`).";
    MSIX_BAR = "E0506", "MSI-X structure in an unusable BAR",
        "The MSI-X table and pending bit array live in a memory BAR the device declares (`bar B mem32|mem64 ...`); an I/O BAR cannot hold them.";
    MSIX_PLACEMENT = "E0507", "misplaced MSI-X structure",
        "The MSI-X table (16 bytes per vector) and pending bit array (8 bytes per 64 vectors) start at an 8-byte aligned offset below 4 GiB (the low 3 bits of the offset register hold the BAR number) and lie wholly inside their BAR.";
    MSIX_OVERLAP = "E0508", "MSI-X structure overlaps",
        "The runtime serves the MSI-X table and pending bit array itself: no register may share their bytes, and the two must not overlap each other. Move one of them (e.g. the table at 0x0 of its own BAR, the PBA after it).";
    DMA_NO_BUFFER = "E0601", "no DMA buffer declared",
        "`dma.addr` and `dma[..]` in scenarios refer to the driver's DMA buffer: declare its size with `dma_buffer SIZE;`.";
    DMA_RANGE = "E0602", "range outside the DMA buffer",
        "The range must lie inside `dma_buffer` and have start <= end.";
    DMA_TARGET = "E0603", "invalid DMA source or destination",
        "DMA reads land in a buffer (`buf[offset]`) or a scalar (`state`, register, field; at most 8 bytes).";
    BAD_STEP = "E0701", "invalid scenario step",
        "A raw location names an existing BAR and lies inside it; a step's value fits its width.";
    NOT_INVALID = "E0702", "`invalid` step on a valid access",
        "An `invalid` step asserts that the device rejects the access under its BAR's policy; this access is valid.";
    STEP_NEEDS_READ = "E0703", "expectation on an unreadable register",
        "The register is write-only and reads 0; expecting another value can never pass.";
    SCENARIO_TOO_LONG = "E0704", "scenario too long",
        "A scenario runs at most 100000 steps once its `repeat`s are unrolled (the driver's self-test runs them in the probe; the host runs them in a test). Lower the repeat counts or split the scenario.";
    HOST_ONLY_STEP = "E0705", "host-only expectation where the driver must act",
        "Device state (states, FIFOs, timers) is visible to host tests only: `expect STATE == V;` runs on the host and the driver's self-test skips it. `wait` polls from the driver, so it takes a register. Use `expect` for state, or `wait` on a register that shows it.";
    CONFIG_REG_IN_HEADER = "E0801", "configuration-space register in the standard header",
        "Configuration-space registers live in the device-specific area, 0x40..0x100 (absolute offsets). Bytes 0x00..0x40 are the standard type-0 header (ids, COMMAND, STATUS, BARs, interrupt line and pin, capabilities pointer), which the runtime owns and fills from the spec's identity, BARs and interrupt items.";
    CONFIG_REG_BEYOND = "E0802", "configuration-space register beyond 0xff",
        "A type-0 configuration space is 256 bytes: a register must end at or before 0x100. (Extended configuration space, 0x100..0x1000, is PCI Express only and not modelled.)";
    CONFIG_REG_IN_CAPABILITY = "E0803", "configuration-space register overlaps a capability",
        "The runtime places MSI at 0x40..0x4e when the device declares `msi`, and MSI-X at 0x50..0x5c when it declares `msix`; a vendor capability's first 3 bytes are its header (id 0x09, next pointer, length), which the runtime writes. Registers may not overlap any of these. A vendor capability's registers go inside its block, after its header and before its end; registers outside every capability block may not overlap a capability.";
    BAD_CAPABILITY = "E0804", "invalid capability",
        "`capability vendor @ OFFSET size N { ... }` places a vendor-specific capability (id 0x09). OFFSET is an absolute configuration-space offset, a multiple of 4 in 0x40..0x100 (capability pointers address dwords); N counts the 3-byte header and is at least 3; the capability ends at or before 0x100. `vendor` is the only kind a spec places: MSI and MSI-X are placed by the runtime from the `interrupt` block.";
    CAPABILITY_OVERLAP = "E0805", "overlapping capabilities",
        "Two capabilities share configuration-space bytes: two vendor capabilities, or a vendor capability and a capability the runtime places (MSI at 0x40..0x4e with `msi`, MSI-X at 0x50..0x5c with `msix`). Move one: the runtime chains the list in offset order, so any free dword-aligned offset works.";
    CONFIG_REG_WIDTH = "E0806", "configuration-space register wider than 4 bytes",
        "Configuration-space accesses are 1, 2 or 4 bytes (`pci_read_config_dword` is the widest), so a configuration-space register is u8, u16 or u32. Describe a 64-bit quantity as two u32 registers.";
    BAD_FIFO = "E0901", "invalid FIFO state",
        "A FIFO is declared `state NAME: fifo[T; N];` with T one of u8, u16, u32, u64 and 1 <= N <= 4096. It starts empty at reset (no initializer) and is used through `.len`, `.front`, `.full`, `.empty` and `.push(v)`, `.pop()`, `.clear()`.";
    RECURSION = "E0902", "recursive `let` or `fn`",
        "`let`s are expanded where they are used and `fn`s are evaluated without a stack of their own: neither may refer to itself, directly or through other `let`s or `fn`s. Write the recursion out (e.g. as a chain of `if`), or keep a running value in a `state`.";
    FN_SCOPE = "E0903", "`fn` body uses a name other than its parameters",
        "A `fn` is pure: its body sees its parameters, constants and other `fn`s only (no states, registers, `let`s, hooks, timers or streams). Pass what it needs as arguments, or use a `let` for expressions over device state.";
    BAD_VMM = "E0904", "unknown VMM request",
        "`vmm KIND;` and `expect vmm KIND;` take one of: reset, poweroff, stop, panic, crashloaded.";
    BAD_MEMBER = "E0905", "invalid property or method",
        "Timers have `.running` and `.remaining`; FIFO states `.len`, `.front`, `.full`, `.empty` and the statements `.push(EXPR)`, `.pop()`, `.clear()`; streams `.space`. Registers have their fields. Nothing else has properties or methods.";
    WINDOW_OUTSIDE_BAR = "E1001", "window outside its BAR",
        "`window STATE @ OFFSET;` shows the buffer's bytes at OFFSET .. OFFSET + its length: that range must lie inside the BAR. Make the BAR larger, the buffer smaller, or move the window.";
    WINDOW_OVERLAP = "E1002", "window overlaps a register or another window",
        "Each byte of a BAR belongs to at most one register or window, so that an access has one meaning. Move the window or the register (a window may start right after a register ends).";
    WINDOW_NOT_BUFFER = "E1003", "window of something that is not a buffer state",
        "A window shows a byte buffer declared `state NAME: [u8; LEN];`. Scalars, FIFOs, registers and hooks cannot be windows: give them registers instead.";
    ACCESS_OUTSIDE = "E1004", "`access.size` or `access.mask` outside a guest access",
        "`access.size` (bytes of the guest access: 1, 2, 4 or 8) and `access.mask` (the register bits it covers) describe the access that runs a register's `read`, `on read` or `on write`. Elsewhere (timers, `on input`, `level`, `ack`, `let`, `fn` bodies) no access is under way. Pass them to a `fn` as arguments if a computation needs them.";
    NON_RAM_DMA = "W0001", "DMA to an address that is not RAM",
        "The DMA targets a fixed address (or a register whose reset value is) in a window that is not RAM on common machines (legacy VGA 0xa0000-0xbffff, option ROMs, the 0xfec00000+ MMIO hole). On a real VMM the DMA will be refused.";
    UNCHECKED_INVALID = "W0002", "scenario access not allowed by the BAR",
        "The access size or alignment is not allowed by the BAR's policy, so the device will apply `invalid` to it. Write the step as `invalid write ...` / `invalid read ...` if that is what it tests.";
    UNUSED_STATE = "W0003", "unused state",
        "A state variable is never read.";
}

/// Look up a code's documentation.
pub fn explain(code: &str) -> Option<&'static CodeInfo> {
    CODES.iter().find(|c| c.code.eq_ignore_ascii_case(code))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_and_well_formed() {
        let mut seen = HashSet::new();
        for c in CODES {
            assert!(seen.insert(c.code), "duplicate code {}", c.code);
            assert!(c.code.len() == 5 && (c.code.starts_with('E') || c.code.starts_with('W')));
            assert!(!c.title.is_empty() && !c.explanation.is_empty());
        }
    }
}
