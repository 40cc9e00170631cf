//! The front end (parse, check, IR: `compile_str`) on the shipped
//! hello_tic and on generated specs of 1k, 10k and 100k registers.
//!
//! Run: `cargo bench -p pcidevc-dsl --bench front_end`. Each size reports
//! its throughput in registers per second: a linear front end keeps the
//! time per register flat across sizes.

use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use std::hint::black_box;
use std::time::Duration;

fn front_end(c: &mut Criterion) {
    let hello = include_str!("../../specs/hello_tic.pcidev");
    c.bench_function("front_end/hello_tic", |b| {
        b.iter(|| pcidevc_dsl::compile_str("hello_tic.pcidev", black_box(hello)))
    });

    let mut group = c.benchmark_group("front_end/registers");
    for n in [1_000usize, 10_000, 100_000] {
        let text = pcidevc_dsl::synthetic::spec(n);
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
