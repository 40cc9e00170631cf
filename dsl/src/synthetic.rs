//! Synthetic specs of any size, for benchmarks and scale tests: the front
//! end's benchmark (`benches/front_end.rs`), `cargo xtask codegen-bench`
//! (pcidevc against svd2rust on the same map) and the scale tests share
//! this one generator, so their figures are about the same input.

use std::fmt::Write as _;

/// A valid spec of `n` registers, device `synthetic_<n>`, over three mem64 BARs, rotating through
/// four kinds: fields with an enumeration; a plain u64 with a reset; a
/// computed read with an action (state update, `if`/`else`, `irq`); a DMA.
/// One state per four registers; scenario steps on every 40th register.
pub fn spec(n: usize) -> String {
    let mut s = String::with_capacity(n * 160);
    let _ = writeln!(
        s,
        "device synthetic_{n} {{\n    id 0x1b36:0x2000;\n    dma_buffer 4K;"
    );
    s.push_str("    interrupt {\n        pin A;\n        status R0;\n    }\n");
    for k in 0..n.div_ceil(4) {
        let _ = writeln!(s, "    state s{k}: u32 = 0;");
    }
    let bars = [0usize, 2, 4];
    let per_bar = n.div_ceil(bars.len());
    for (b, index) in bars.iter().enumerate() {
        let first = b * per_bar;
        let last = ((b + 1) * per_bar).min(n);
        let size = (8 * (last - first)).next_power_of_two().max(16);
        let _ = writeln!(s, "    bar {index} mem64 size {size} {{");
        for i in first..last {
            let off = 8 * (i - first);
            let k = i / 4;
            let _ = match i % 4 {
                0 => writeln!(
                    s,
                    "        register R{i} @ {off:#x} : u32 {{\n            field en [0] rw;\n            field mode [3:1] rw = 2 {{ off = 0, slow = 1, fast = 2 }}\n            field lvl [15:8] ro = 0x5a;\n            field ev [16] w1c;\n        }}"
                ),
                1 => writeln!(s, "        register R{i} @ {off:#x} : u64 rw = {i};"),
                2 => writeln!(
                    s,
                    "        register R{i} @ {off:#x} : u32 {{\n            read s{k} + {i};\n            on write {{\n                s{k} += value;\n                if value & 1 == 1 {{ R{}.en = 1; }} else {{ irq pulse; }}\n            }}\n        }}",
                    i - 2
                ),
                _ => writeln!(
                    s,
                    "        register R{i} @ {off:#x} : u32 wo {{\n            on write {{ dma write addr R{} len value & 0xff from pattern(value) status s{k}; }}\n        }}",
                    i - 2
                ),
            };
        }
        s.push_str("    }\n");
    }
    s.push_str("    scenario smoke {\n");
    for i in (0..n).step_by(40) {
        let _ = writeln!(s, "        expect R{i} == 0x5a04 mask 0xffff;");
        if i + 1 < n {
            let _ = writeln!(
                s,
                "        write R{} = {};\n        expect R{} == {};",
                i + 1,
                i * 3,
                i + 1,
                i * 3
            );
        }
    }
    s.push_str("    }\n}\n");
    s
}

pub mod random;
