//! Which guest accesses can change the interrupt level.
//!
//! The runtime recomputes the device's interrupt level after every access
//! (the `level` expression, or the latched line of `irq raise/lower`). An
//! access whose behaviour writes nothing that level reads cannot change
//! it, so a model may skip the recomputation there: [`LevelInputs`] is
//! what the level reads (following `let`s and `fn`s), and
//! [`LevelInputs::changed_by`] answers, conservatively, whether a read or
//! write of a register may write any of it. Generated models and the
//! interpreter both ask it, so they skip the same recomputations.
//! Generated models go one step further when the level is
//! [`LevelInputs::tracked`]: statements that write its inputs
//! ([`LevelInputs::written_by`]) note it as they run, and an access whose
//! register store cannot change the level ([`LevelInputs::stored_by`])
//! recomputes it only when one did. Skipping a recomputation whose inputs
//! did not change changes nothing a guest or host can see.
//!
//! Nothing the level can read changes without a statement or a register
//! store of the access itself: the clock stands still during an access,
//! `access.size`/`access.mask` are 0 whenever the level is computed, and
//! hooks see only their arguments (a level that calls a hook may change
//! any time, and is treated so).

use super::{AccessKind, Device, DmaDest, Expr, Place, RegId, Register, Stmt};

/// What a device's interrupt level reads. Every `match` here names each
/// IR variant: a new construct is a compile error until it is classified.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LevelInputs {
    /// By [`StateId`](super::StateId): scalar, buffer and FIFO states.
    states: Vec<bool>,
    /// By [`RegId`](super::RegId): stored register values.
    registers: Vec<bool>,
    /// By [`TimerId`](super::TimerId): `T.running`, `T.remaining`.
    timers: Vec<bool>,
    /// By [`StreamId`](super::StreamId): `S.space`.
    streams: Vec<bool>,
    /// The latched line (`irq raise/lower/pulse`): a device with an
    /// interrupt and no `level` expression.
    latched: bool,
    /// The level calls a hook: it may change at any time.
    always: bool,
}

impl Device {
    /// What the interrupt level reads (nothing for a device without one).
    pub fn level_inputs(&self) -> LevelInputs {
        let mut inputs = LevelInputs {
            states: vec![false; self.states.len()],
            registers: vec![false; self.registers.len()],
            timers: vec![false; self.timers.len()],
            streams: vec![false; self.streams.len()],
            latched: false,
            always: false,
        };
        match &self.interrupt.level {
            Some(level) => {
                let mut seen_lets = vec![false; self.lets.len()];
                let mut seen_fns = vec![false; self.fns.len()];
                let mut pending = vec![level];
                while let Some(e) = pending.pop() {
                    e.walk(&mut |x| {
                        inputs.read(x);
                        match x {
                            Expr::Let(l) if !seen_lets[l.0] => {
                                seen_lets[l.0] = true;
                                pending.push(&self.let_(*l).value);
                            }
                            Expr::Fn(f, _) if !seen_fns[f.0] => {
                                seen_fns[f.0] = true;
                                pending.push(&self.function(*f).body);
                            }
                            _ => {}
                        }
                    });
                }
            }
            None => inputs.latched = self.interrupt.any(),
        }
        inputs
    }
}

impl LevelInputs {
    /// Note what expression node `e` reads (not its sub-expressions).
    fn read(&mut self, e: &Expr) {
        let set = |v: &mut Vec<bool>, i: usize| {
            if let Some(b) = v.get_mut(i) {
                *b = true;
            }
        };
        match e {
            Expr::State(s)
            | Expr::BufferByte(s, _)
            | Expr::FifoLen(s)
            | Expr::FifoFront(s)
            | Expr::FifoFull(s)
            | Expr::FifoEmpty(s) => set(&mut self.states, s.0),
            Expr::Register(r) | Expr::Field(r, _) => set(&mut self.registers, r.0),
            Expr::TimerRunning(t) | Expr::TimerRemaining(t) => set(&mut self.timers, t.0),
            Expr::StreamSpace(s) => set(&mut self.streams, s.0),
            Expr::Call(..) => self.always = true,
            // Constant while the level is computed, or followed by the
            // caller (`let`, `fn`) or made of sub-expressions.
            Expr::Const(_)
            | Expr::Value
            | Expr::Unary(..)
            | Expr::Binary(..)
            | Expr::Cond(..)
            | Expr::Byte
            | Expr::Let(_)
            | Expr::Fn(..)
            | Expr::Param(_)
            | Expr::AccessSize
            | Expr::AccessMask
            | Expr::Index => {}
        }
    }

    /// May a guest read (`write` false) or write of register `r` (whose id
    /// is `id`) change the level? False only when nothing the access does
    /// (its stores into the register's fields, `rclr` clears, `on read`/
    /// `on write` statements) writes anything the level reads.
    pub fn changed_by(&self, id: RegId, r: &Register, write: bool) -> bool {
        if self.always || self.stored_by(id, r, write) {
            return true;
        }
        let block = if write { &r.on_write } else { &r.on_read };
        let mut changes = false;
        Stmt::walk_all(block, &mut |s| changes |= self.written_by(s));
        changes
    }

    /// May the register store of a guest read (`rclr` clears) or write (its
    /// writable fields) of register `r` change the level, before any
    /// statement runs?
    pub fn stored_by(&self, id: RegId, r: &Register, write: bool) -> bool {
        let stores = if write {
            r.fields.iter().any(|f| f.access.writable())
        } else {
            r.fields.iter().any(|f| f.access == AccessKind::Rclr)
        };
        stores && self.registers.get(id.0).copied().unwrap_or(false)
    }

    /// Is every change of what the level reads made by a statement or a
    /// register store of a guest access, so that a model can note changes
    /// as they happen ([`Self::written_by`]) and recompute the level only
    /// after an access that made one? Not when the level reads a timer (the
    /// clock runs between accesses) or a stream's space (the host drains
    /// it), or calls a hook.
    pub fn tracked(&self) -> bool {
        !self.always && !self.timers.contains(&true) && !self.streams.contains(&true)
    }

    /// Does statement `s` itself (not its nested statements) write
    /// anything the level reads?
    pub fn written_by(&self, s: &Stmt) -> bool {
        let get = |v: &[bool], i: usize| v.get(i).copied().unwrap_or(false);
        let place = |p: &Place| match p {
            Place::State(s) | Place::BufferByte(s, _) => get(&self.states, s.0),
            Place::Register(r) | Place::Field(r, _) => get(&self.registers, r.0),
        };
        let status = |p: &Option<Place>| p.as_ref().is_some_and(place);
        match s {
            Stmt::Assign { place: p, .. } => place(p),
            Stmt::Irq(_) => self.latched,
            Stmt::FifoPush(f, _) | Stmt::FifoPop(f) | Stmt::FifoClear(f) => get(&self.states, f.0),
            Stmt::TimerStart { timer, .. } | Stmt::TimerStop(timer) => get(&self.timers, timer.0),
            Stmt::Send(stream, _) => get(&self.streams, stream.0),
            Stmt::DmaWrite { status: st, .. } => status(st),
            Stmt::DmaRead {
                into, status: st, ..
            } => {
                status(st)
                    || match into {
                        DmaDest::Buffer { state, .. } => get(&self.states, state.0),
                        DmaDest::Scalar(p) => place(p),
                    }
            }
            // Branches are visited by the caller's walk; hooks see only
            // their arguments; MSI messages and VMM requests leave the
            // level's inputs alone.
            Stmt::If { .. } | Stmt::Call { .. } | Stmt::Msi(_) | Stmt::Vmm(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ir::{Device, RegId};

    fn device(body: &str) -> Device {
        let text = format!("device t {{\n    id 0x1234:0x0001;\n{body}\n}}\n");
        let compiled = crate::compile_str("t.pcidev", &text);
        let errors: Vec<_> = compiled.errors().map(|d| d.message.clone()).collect();
        compiled
            .device
            .unwrap_or_else(|| panic!("spec does not compile: {errors:?}\n{text}"))
    }

    /// (read, write) may-change answers of register `name`.
    fn changes(d: &Device, name: &str) -> (bool, bool) {
        let i = d.registers.iter().position(|r| r.name == name).unwrap();
        let inputs = d.level_inputs();
        let r = &d.registers[i];
        (
            inputs.changed_by(RegId(i), r, false),
            inputs.changed_by(RegId(i), r, true),
        )
    }

    #[test]
    fn a_level_expression_follows_states_lets_fns_fifos_and_registers() {
        let d = device(
            "    state a: u8 = 0;\n    state b: u8 = 0;\n    state q: fifo[u8; 4];\n\
             \x20   let busy = a != 0 || q.len > 1;\n    fn odd(x: u8) -> bool = x & 1 != 0;\n\
             \x20   interrupt { pin A; level busy || odd(MASK); mine 1; }\n\
             \x20   bar 0 mem32 size 4K {\n\
             \x20       register SET_A @ 0x0 : u32 { on write { a = value; } }\n\
             \x20       register SET_B @ 0x4 : u32 { read b; on write { b = value; } }\n\
             \x20       register PUSH @ 0x8 : u32 { on write { if value != 0 { q.push(value); } } }\n\
             \x20       register MASK @ 0xc : u32 rw = 0;\n\
             \x20       register POP @ 0x10 : u32 { read q.front; on read { q.pop(); } }\n\
             \x20   }",
        );
        assert_eq!(changes(&d, "SET_A"), (false, true));
        assert_eq!(changes(&d, "SET_B"), (false, false));
        assert_eq!(changes(&d, "PUSH"), (false, true));
        assert_eq!(changes(&d, "MASK"), (false, true));
        assert_eq!(changes(&d, "POP"), (true, false));
    }

    #[test]
    fn a_latched_line_changes_only_by_irq_statements() {
        let d = device(
            "    state a: u8 = 0;\n    interrupt { pin A; mine 1; }\n\
             \x20   bar 0 mem32 size 4K {\n\
             \x20       register KICK @ 0x0 : u32 { on write { if value == 1 { irq raise; } } }\n\
             \x20       register ACK @ 0x4 : u32 { on read { irq lower; } }\n\
             \x20       register SCRATCH @ 0x8 : u32 { on write { a = value; } }\n\
             \x20   }",
        );
        assert_eq!(changes(&d, "KICK"), (false, true));
        assert_eq!(changes(&d, "ACK"), (true, false));
        assert_eq!(changes(&d, "SCRATCH"), (false, false));
    }

    #[test]
    fn rclr_fields_and_timers_count() {
        let d = device(
            "    timer t { }\n    interrupt { pin A; level EV != 0 || t.running; mine 1; }\n\
             \x20   bar 0 mem32 size 4K {\n\
             \x20       register EV @ 0x0 : u32 { field done [0] rclr; }\n\
             \x20       register GO @ 0x4 : u32 { on write { start t after 1 us; } }\n\
             \x20       register OTHER @ 0x8 : u32 rw = 0;\n\
             \x20   }",
        );
        assert_eq!(changes(&d, "EV"), (true, false));
        assert_eq!(changes(&d, "GO"), (false, true));
        assert_eq!(changes(&d, "OTHER"), (false, false));
    }

    #[test]
    fn no_interrupt_no_change() {
        let d = device(
            "    state a: u8 = 0;\n    bar 0 mem32 size 4K {\n\
             \x20       register A @ 0x0 : u32 { on write { a = value; } }\n    }",
        );
        assert_eq!(changes(&d, "A"), (false, false));
    }

    #[test]
    fn a_level_is_tracked_unless_the_clock_or_the_host_can_move_it() {
        let tracked = |level: &str| {
            device(&format!(
                "    state a: u8 = 0;\n    timer t {{ }}\n    stream s;\n\
                 \x20   interrupt {{ pin A; level {level}; mine 1; }}\n\
                 \x20   bar 0 mem32 size 4K {{ register R @ 0x0 : u32 rw = 0; }}"
            ))
            .level_inputs()
            .tracked()
        };
        assert!(tracked("a != 0 || R != 0"));
        assert!(
            !tracked("a != 0 || t.running"),
            "a timer expires between accesses"
        );
        assert!(!tracked("t.remaining > 5"), "the clock runs");
        assert!(!tracked("s.space == 0"), "the host drains a stream");
    }
}
