//! The one renderer of the IR as text people read: expressions, actions,
//! access kinds, and sentences about what a register does.
//!
//! Every backend that shows behaviour uses it: `summary.txt`, the HTML and
//! Markdown documentation, the C header's and both drivers' comments. Two
//! layers:
//! - code-like text in the spec's own notation ([`expr`], [`place`],
//!   [`stmt_line`], [`block`]): fully parenthesised, so it is unambiguous
//!   without knowing operator precedence;
//! - sentences ([`Para`]) built from that text: what a read returns, what a
//!   write does, which interrupt, DMA or hook follows, what role a register
//!   plays in the interrupt protocol. A [`Para`] is a list of [`Inline`]s
//!   (plain words, code, references to registers) so that each output
//!   format can mark code up and link registers its own way.
//!
//! Everything here is a pure function of the IR (deterministic output).

mod access;
mod code;
mod device;
mod para;
mod register;
#[cfg(test)]
mod tests;

pub use access::{AccessLabel, access_label, kind_meaning, size_text};
pub use code::{block, expr, fn_body, fn_decl, place, stmt_line, type_name};
pub use device::{dma, interrupt, time_and_streams};
pub use para::{Inline, Para};
pub use register::{Behaviour, behaviour, outcome_codes, vmm_what};
