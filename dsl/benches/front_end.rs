//! The front end (parse, check, IR: `compile_str`) on the shipped
//! hello_tic and on generated specs of 1k, 10k and 100k registers.
//!
//! Run: `cargo bench -p pcidevc-dsl --bench front_end`. Each size reports
//! its throughput in registers per second: a linear front end keeps the
//! time per register flat across sizes.

use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use std::fmt::Write as _;
use std::hint::black_box;
use std::time::Duration;

/// A valid spec of `n` registers over three mem64 BARs, rotating through
/// four kinds: fields with an enumeration; a plain u64 with a reset; a
/// computed read with an action (state update, `if`/`else`, `irq`); a DMA.
/// One state per four registers; scenario steps on every 40th register.
fn synthetic(n: usize) -> String {
    let mut s = String::with_capacity(n * 160);
    s.push_str("device synthetic {\n    id 0x1b36:0x2000;\n    dma_buffer 4K;\n");
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

fn front_end(c: &mut Criterion) {
    let hello = include_str!("../../specs/hello_tic.pcidev");
    c.bench_function("front_end/hello_tic", |b| {
        b.iter(|| pcidevc_dsl::compile_str("hello_tic.pcidev", black_box(hello)))
    });

    let mut group = c.benchmark_group("front_end/registers");
    for n in [1_000usize, 10_000, 100_000] {
        let text = synthetic(n);
        // Measure the happy path: the generated spec must be clean.
        let compiled = pcidevc_dsl::compile_str("synthetic.pcidev", &text);
        let diags: Vec<String> = compiled
            .diagnostics
            .iter()
            .take(5)
            .map(|d| d.short(&compiled.sources))
            .collect();
        assert!(diags.is_empty(), "synthetic({n}):\n{}", diags.join("\n"));
        assert_eq!(compiled.device.map(|d| d.registers.len()), Some(n));

        group.throughput(Throughput::Elements(n as u64));
        if n >= 10_000 {
            // Seconds per run at 100k: ten single runs, not criterion's
            // default of ~5000 iterations spread over 100 samples.
            group
                .sampling_mode(SamplingMode::Flat)
                .sample_size(10)
                .measurement_time(Duration::from_secs(if n >= 100_000 { 60 } else { 10 }));
        }
        group.bench_with_input(BenchmarkId::from_parameter(n), &text, |b, text| {
            b.iter(|| pcidevc_dsl::compile_str("synthetic.pcidev", black_box(text)))
        });
    }
    group.finish();
}

criterion_group!(benches, front_end);
criterion_main!(benches);
