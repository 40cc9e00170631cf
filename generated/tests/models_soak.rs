//! The `models` fuzz target's check (`pcidev_models::fuzz::run_records`)
//! driven by a seeded random stream instead of libFuzzer: every model in
//! `pcidev_models::NAMES` gets `PCIDEV_MODELS_ACCESSES` access records
//! (default 5 000; 10 000 000 for a soak), in executions of 256 records
//! (each on a fresh model and fresh guest memory, as libFuzzer runs an
//! input), and the figures are printed:
//!
//! `PCIDEV_MODELS_ACCESSES=10000000 cargo test --release -p pcidev-models
//! --test models_soak -- --nocapture`

use std::time::Instant;

use pcidev_models::fuzz::{RECORD, run_records};

const PER_EXEC: usize = 256;

fn accesses() -> u64 {
    std::env::var("PCIDEV_MODELS_ACCESSES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5_000)
}

/// xorshift64*: the records' bytes, reproducible from the seed.
struct Rng(u64);

impl Rng {
    fn fill(&mut self, out: &mut [u8]) {
        for chunk in out.chunks_mut(8) {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            let v = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}

/// Skew the raw records towards what models answer: offsets mostly small
/// (inside BARs and config space), sizes the usual 1/2/4/8 often.
fn shape(records: &mut [u8], rng: &mut Rng) {
    let mut pick = [0u8; 2];
    for rec in records.chunks_exact_mut(RECORD) {
        rng.fill(&mut pick);
        if pick[0] & 3 != 0 {
            let off = u32::from_le_bytes([rec[4], rec[5], rec[6], rec[7]]) & 0x1fff;
            rec[4..8].copy_from_slice(&off.to_le_bytes());
        }
        if pick[1] & 1 != 0 {
            rec[2] = [1u8, 2, 4, 8][usize::from(pick[1] >> 1) % 4];
        }
    }
}

#[test]
fn every_model_survives_random_access_records() {
    let total = accesses();
    let mut records = vec![0u8; PER_EXEC * RECORD];
    for (i, name) in pcidev_models::NAMES.iter().enumerate() {
        let mut rng = Rng(0x5eed_0000 + i as u64 * 0x9e37_79b9);
        let start = Instant::now();
        let (mut done, mut execs) = (0u64, 0u64);
        while done < total {
            let n = (total - done).min(PER_EXEC as u64) as usize;
            rng.fill(&mut records[..n * RECORD]);
            shape(&mut records[..n * RECORD], &mut rng);
            let ran = run_records(name, &records[..n * RECORD]).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(ran, n);
            done += n as u64;
            execs += 1;
        }
        let wall = start.elapsed();
        println!(
            "{name:<18} {done:>10} accesses {execs:>8} executions {:>8.2} s {:>10.0} accesses/s",
            wall.as_secs_f64(),
            done as f64 / wall.as_secs_f64()
        );
    }
}
