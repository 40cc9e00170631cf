//! Legacy interrupt pins.

/// Legacy interrupt pin; config offset 0x3d holds 1 (A) to 4 (D).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum IntxPin {
    /// INTA#
    A,
    /// INTB#
    B,
    /// INTC#
    C,
    /// INTD#
    D,
}

impl IntxPin {
    /// The value of the interrupt pin register (0x3d): 1 for A .. 4 for D.
    pub const fn register_value(self) -> u8 {
        match self {
            IntxPin::A => 1,
            IntxPin::B => 2,
            IntxPin::C => 3,
            IntxPin::D => 4,
        }
    }

    /// The pin's letter, as a spec writes it (`pin B;`).
    pub const fn letter(self) -> char {
        match self {
            IntxPin::A => 'A',
            IntxPin::B => 'B',
            IntxPin::C => 'C',
            IntxPin::D => 'D',
        }
    }

    /// The pin a spec names with `letter`.
    pub fn parse(letter: &str) -> Option<IntxPin> {
        Some(match letter {
            "A" => IntxPin::A,
            "B" => IntxPin::B,
            "C" => IntxPin::C,
            "D" => IntxPin::D,
            _ => return None,
        })
    }
}

/// What an `irq` statement does to a latched interrupt line (specs without
/// a derived `level`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IrqOp {
    /// `irq raise;`: assert until lowered.
    Raise,
    /// `irq lower;`: deassert.
    Lower,
    /// `irq pulse;`: assert then deassert (an edge).
    Pulse,
}

impl IrqOp {
    /// How a spec writes it.
    pub const fn keyword(self) -> &'static str {
        match self {
            IrqOp::Raise => "raise",
            IrqOp::Lower => "lower",
            IrqOp::Pulse => "pulse",
        }
    }
}
