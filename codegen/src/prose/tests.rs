//! Unit tests of the prose renderer.

use pcidevc_dsl::ir::{Device, RegId};

use super::*;

fn dev(text: &str) -> Device {
    let c = pcidevc_dsl::compile_str("t.pcidev", text);
    let errors: Vec<String> = c.errors().map(|d| d.message.clone()).collect();
    c.device.unwrap_or_else(|| panic!("{errors:?}"))
}

const SPEC: &str = "device t { id 0x1234:0x5678; state f: bool = false;
    interrupt { pin A; level f; status IRQ; ack IRQ = 0; }
    bar 0 mem32 size 64 {
        register IRQ @ 0x0 : u32 { read f; on write { f = value != 0; } }
        register CTRL @ 0x4 : u32 { field go [0] wo; field busy [1] ro; field en [2] rw; field err [3] w1c; }
        register ID @ 0x8 : u32 ro = 7 { access 4; }
        register EV @ 0xc : u32 rclr;
        register KICK @ 0x10 : u32 { on write { dma write addr 0x1000 len 4 from pattern(1) status ID; } }
    } }";

fn reg(d: &Device, name: &str) -> RegId {
    RegId(d.registers.iter().position(|r| r.name == name).unwrap())
}

#[test]
fn access_labels_say_what_the_fields_are() {
    let d = dev(SPEC);
    let label = |n: &str| access_label(d.register(reg(&d, n))).text();
    assert_eq!(label("IRQ"), "rw (no storage)");
    assert_eq!(label("CTRL"), "wo/ro/rw/w1c");
    assert_eq!(label("ID"), "ro");
    assert_eq!(label("KICK"), "wo (no storage)");
}

#[test]
fn sentences_describe_reads_writes_and_effects() {
    let d = dev(SPEC);
    let b = |n: &str| behaviour(&d, reg(&d, n));
    let irq = b("IRQ");
    assert_eq!(irq.read.plain(&d), "A read returns f.");
    assert_eq!(irq.write.plain(&d), "A write runs the write actions below.");
    assert!(irq.effects[0].plain(&d).contains("interrupt level f"));
    assert!(irq.notes[0].plain(&d).starts_with("Interrupt status"));
    assert!(irq.notes[1].plain(&d).contains("writes 0 here"));
    let ctrl = b("CTRL");
    assert_eq!(
        ctrl.read.plain(&d),
        "A read returns the stored value, with go (write-only) as 0."
    );
    assert_eq!(
        ctrl.write.plain(&d),
        "A write stores go and en, and clears the bits written as 1 in err."
    );
    assert_eq!(
        b("EV").read.plain(&d),
        "A read returns the stored value, then clears the register."
    );
    assert_eq!(b("ID").write.plain(&d), "A write has no effect.");
    assert_eq!(b("ID").notes[0].plain(&d), "Accepts only 4-byte accesses.");
    let kick = b("KICK");
    assert_eq!(kick.read.plain(&d), "A read returns 0.");
    assert!(
        kick.effects[0]
            .plain(&d)
            .starts_with("DMA to guest memory: writes 4 bytes to address 0x1000 from pattern(1); the outcome code goes to ID (1 done"),
        "{:?}",
        kick.effects
    );
    assert!(dma(&d)[0].plain(&d).contains("KICK"));
    assert!(interrupt(&d).iter().any(|p| p.plain(&d).contains("IRQ")));
}

#[test]
fn blocks_indent_branches() {
    let d = dev("device t { id 0x1234:0x5678; state s: u32 = 0;
        bar 0 mem32 size 16 { register R @ 0 : u32 { on write { if value == 1 { s = 1; } else { s += 2; } } } } }");
    assert_eq!(
        block(&d, &d.registers[0].on_write, 2),
        ["  if (value == 1):", "    s = 1", "  else:", "    s += 2"]
    );
}

#[test]
fn durations_read_as_counts() {
    let d = dev("device t { id 0x1234:0x5678; state n: u8 = 0;
        timer tick { n = 1; start tick after 100 us; }
        bar 0 io size 16 { register R @ 0x0 : u8 { read n; on write { start tick every 2000 ns; } } } }");
    assert_eq!(
        stmt_line(&d, &d.timers[0].on_fire[1]),
        "start tick after 100 us"
    );
    let effects = behaviour(&d, reg(&d, "R")).effects;
    let text: Vec<String> = effects.iter().map(|p| p.plain(&d)).collect();
    assert!(
        text.iter().any(|t| t.contains("firing every 2000 ns")),
        "{text:?}"
    );
    // A value that is not a duration keeps its bit-pattern reading.
    assert_eq!(expr(&d, &pcidevc_dsl::ir::Expr::Const(100)), "0x64");
}
