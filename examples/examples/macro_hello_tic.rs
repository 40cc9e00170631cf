//! `#[pci_device]` in a user crate: two device models generated at compile
//! time from their specs, with no generated file checked in.
//!
//! - `hello_tic` from the reference spec (`../specs/hello_tic.pcidev`,
//!   relative to this crate's Cargo.toml). The spec declares no hooks, so
//!   the macro implements `hello_tic::Hooks` for `TicHooks` itself.
//! - `hello_hook` (`specs/hello_hook.pcidev`): hello_tic plus
//!   `hook scramble(x: u32) -> u32;`, which `Scrambler` implements. A guest
//!   write to BAR1+8 goes through it.
//!
//! Both are put on a `vm_device` `IoManager` and driven through the bus,
//! and each spec's scenarios run against the model, hooks included
//! (`scenarios::run_all`). Editing either spec rebuilds this example.
//!
//! Run: `cargo run -p pcidevc-examples --example macro_hello_tic`.
//! `cargo test -p pcidevc-examples --example macro_hello_tic` also runs the
//! `#[test]`s the macro generates for hello_tic's scenarios.

use pcidev_runtime::{Model, TraceBuffer, TraceEvent};
use pcidevc_examples::{Result, Vm};
use pcidevc_macros::pci_device;
use std::io::Write;

/// The hooks type of hello_tic: the spec has none, so the macro writes
/// `impl hello_tic::Hooks for TicHooks {}`.
#[pci_device(spec = "../specs/hello_tic.pcidev")]
#[derive(Debug, Default, Clone, Copy)]
pub struct TicHooks;

/// The Rust side of hello_hook: what `scramble` does, and how often it ran.
#[pci_device(spec = "specs/hello_hook.pcidev")]
#[derive(Debug, Default)]
pub struct Scrambler {
    /// Number of calls, to show the hook runs in this very value.
    pub calls: u32,
}

impl hello_hook::Hooks for Scrambler {
    fn scramble(&mut self, x: u32) -> u32 {
        self.calls += 1;
        x.swap_bytes()
    }
}

/// What the run observed (checked by the tests below).
#[derive(Debug, PartialEq, Eq)]
pub struct Outcome {
    pub tic_id: u32,
    pub tic_irq_edges: Vec<bool>,
    pub scrambled: u32,
    pub hook_calls: u32,
    pub hook_traced: usize,
}

/// Drive both models through a bus; narrate to `out`.
pub fn run(out: &mut dyn Write) -> Result<Outcome> {
    // hello_tic from the macro, with the user's (empty) hooks type.
    let tic = Vm::new(Model::new(hello_tic::Device::new(TicHooks)))?;
    tic.write32(1, 0x4, 0x4567)?;
    let tic_id = tic.read32(1, 0x4)?;
    tic.write32(0, 0x0, 1)?;
    tic.write32(0, 0x0, 0)?;
    let tic_irq_edges = tic.irq.take_edges();
    writeln!(
        out,
        "hello_tic (macro): {:04x}:{:04x}, ID after writel(0x4567) = {tic_id:#x}, \
         INTx edges {tic_irq_edges:?}",
        hello_tic::INFO.vendor_id,
        hello_tic::INFO.device_id
    )?;

    // hello_hook: BAR1+8 calls the user's hook on every write.
    let hook = Vm::new(hello_hook::model(Scrambler::default()))?;
    let trace = TraceBuffer::new();
    hook.dev
        .lock()
        .map_err(|_| "device lock poisoned")?
        .set_trace(trace.sink());
    hook.write32(1, 0x8, 0x1234_5678)?;
    let scrambled = hook.read32(1, 0x8)?;
    let hook_calls = hook
        .dev
        .lock()
        .map_err(|_| "device lock poisoned")?
        .regs
        .hooks
        .calls;
    let hook_traced = trace
        .events()
        .iter()
        .filter(|e| matches!(e, TraceEvent::Hook { name } if name == "scramble"))
        .count();
    writeln!(
        out,
        "hello_hook (macro): writel(0x12345678, bar1 + 8); readl = {scrambled:#x} \
         (scramble ran {hook_calls} time(s), traced {hook_traced})"
    )?;

    // Each spec's scenarios, against fresh models with the user's hooks.
    hello_tic::scenarios::run_all(|| TicHooks)?;
    writeln!(
        out,
        "hello_tic scenarios: {} passed",
        hello_tic::scenarios::ALL.len()
    )?;
    hello_hook::scenarios::run_all(Scrambler::default)?;
    writeln!(
        out,
        "hello_hook scenarios: {} passed (with Scrambler as the hook)",
        hello_hook::scenarios::ALL.len()
    )?;
    Ok(Outcome {
        tic_id,
        tic_irq_edges,
        scrambled,
        hook_calls,
        hook_traced,
    })
}

fn main() -> Result<()> {
    run(&mut std::io::stdout())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_runs_as_documented() {
        let outcome = run(&mut std::io::sink()).unwrap();
        assert_eq!(
            outcome,
            Outcome {
                tic_id: 0x4567,
                tic_irq_edges: vec![true, false],
                scrambled: 0x7856_3412,
                hook_calls: 1,
                hook_traced: 1,
            }
        );
    }

    /// A hook that breaks the spec's contract fails the spec's scenario.
    #[test]
    fn scenarios_check_the_hook() {
        #[derive(Debug)]
        struct Wrong;
        impl hello_hook::Hooks for Wrong {
            fn scramble(&mut self, x: u32) -> u32 {
                x
            }
        }
        let err = hello_hook::scenarios::run_all(|| Wrong).unwrap_err();
        assert!(err.to_string().contains("SCRAMBLE"), "{err}");
    }
}
