//! Which scenario steps a driver runs, and how: top-level `repeat`s as
//! loops ([`blocks`]) and the judging steps skipped after a host-only
//! `input` ([`after_input`]). Shared by the Rust and the C driver, so both
//! run the same steps.

use pcidevc_dsl::ir::{self, StepKind};

/// A scenario's top-level steps grouped: runs of plain steps (`None`) and
/// top-level `repeat`s (`Some(count)`, with the body unrolled, nested
/// repeats included). A repeat of 0 is dropped and one of 1 is its body, so
/// every loop runs at least twice. Both drivers emit loops from this.
pub(crate) fn blocks(steps: &[ir::Step]) -> Vec<(Option<u32>, Vec<&ir::Step>)> {
    let mut out: Vec<(Option<u32>, Vec<&ir::Step>)> = Vec::new();
    let mut i = 0;
    while let Some(st) = steps.get(i) {
        let (repeat, body) = if let StepKind::Repeat { count, len } = st.kind {
            let end = (i + 1 + len as usize).min(steps.len());
            let body = crate::unrolled_steps(&steps[i + 1..end]);
            i = end;
            match count {
                0 => continue,
                1 => (None, body),
                n => (Some(n), body),
            }
        } else {
            i += 1;
            (None, vec![st])
        };
        match (repeat, out.last_mut()) {
            _ if body.is_empty() => {}
            (None, Some((None, run))) => run.extend(body),
            _ => out.push((repeat, body)),
        }
    }
    out
}

/// A step a guest cannot perform that changes the device's state from
/// outside (`input`). The other host-only steps only observe.
pub(crate) fn changes_state_from_outside(kind: &StepKind) -> bool {
    kind.host_only() && matches!(kind, StepKind::Input { .. })
}

/// A step that judges the device (compares what it reads or sees with
/// what the scenario says), as opposed to one that only acts (`read`,
/// `write`, `invalid write`, `fill dma`, `advance`).
pub(crate) fn judges(kind: &StepKind) -> bool {
    match kind {
        StepKind::Expect { .. }
        | StepKind::Wait { .. }
        | StepKind::InvalidRead { .. }
        | StepKind::ExpectIrq(_)
        | StepKind::ExpectMsi(_)
        | StepKind::ExpectDma { .. }
        | StepKind::ExpectState { .. }
        | StepKind::ExpectOutput { .. }
        | StepKind::ExpectVmm(_) => true,
        StepKind::Read(_)
        | StepKind::Write(..)
        | StepKind::InvalidWrite(..)
        | StepKind::Fill { .. }
        | StepKind::Advance(_)
        | StepKind::Repeat { .. }
        | StepKind::Input { .. } => false,
    }
}

/// Why a judging step after a skipped `input` is skipped (both drivers).
pub(crate) const AFTER_INPUT: &str = "after host-only input";

/// For each step of `blocks`, in order: is it a judging step the drivers
/// skip because an earlier step of the scenario changed the device's state
/// from outside and was skipped? A loop's body is written once and runs
/// again after its own steps, so such a step anywhere in a loop's body
/// taints every judging step of the body as well as all that follow.
pub(crate) fn after_input(blocks: &[(Option<u32>, Vec<&ir::Step>)]) -> Vec<Vec<bool>> {
    let mut tainted = false;
    blocks
        .iter()
        .map(|(repeat, steps)| {
            if repeat.is_some() {
                tainted |= steps.iter().any(|st| changes_state_from_outside(&st.kind));
            }
            steps
                .iter()
                .map(|st| {
                    // A host-only step keeps its own reason.
                    let skip = tainted && judges(&st.kind) && !st.kind.host_only();
                    tainted |= changes_state_from_outside(&st.kind);
                    skip
                })
                .collect()
        })
        .collect()
}
