//! Checked scenarios: host tests of the model and the driver's probe
//! self-test.

use crate::source::Span;

/// A scenario step as the runtime and the drivers run it (`pcidev_core`'s
/// [`Step`](pcidev_core::scenario::Step)), with stream bytes owned.
pub type StepKind = pcidev_core::scenario::Step<Vec<u8>>;

/// `scenario NAME ["DESCRIPTION"] { ... }`: a host test of the model and a
/// part of the driver's probe self-test.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// lower_snake_case: the test's name.
    pub name: String,
    /// The description (empty when none is given), logged by the self-test.
    pub description: String,
    /// The steps, in order (`repeat` kept as a step; see [`StepKind`]).
    pub steps: Vec<Step>,
    /// The declaration, for diagnostics.
    pub span: Span,
}

/// One checked scenario step with where it was written.
#[derive(Debug, Clone)]
pub struct Step {
    /// What the step does.
    pub kind: StepKind,
    /// The step's text, whitespace-normalised (for logs).
    pub text: String,
    /// 1-based line in its file.
    pub line: usize,
    /// The step, for diagnostics.
    pub span: Span,
}
