//! `cargo xtask array-scale`: generated size and compile time against the
//! element count of a register array.
//!
//! A synthetic spec describes one 64 KiB BAR by a register array of N
//! elements (u64 for 1K, u32 for 16K, u8 for 64K: `64K / N` bytes wide, at
//! most 8), with storage, an action that uses `index` and a scenario that
//! names an element. For each N it reports the bytes and lines of the
//! generated model, Rust driver and C driver/header, how long `pcidevc`
//! took, and how long `cargo check` of a crate holding the generated model
//! took (dependencies built beforehand, so the figure is the model's own).
//! Arrays stay arrays through the IR, so every figure should be flat in N.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::e2e::build_tools;
use crate::workspace::{repo_root, target_dir, tempdir};

/// What one element count produced.
#[derive(Debug)]
pub struct Figures {
    /// Elements in the array.
    pub count: u64,
    /// Bytes per element.
    pub width: u64,
    /// `pcidevc` wall time (parse, check, every backend).
    pub compile: Duration,
    /// `model.rs`: bytes, lines.
    pub model: (u64, usize),
    /// The Rust driver's device file: bytes, lines.
    pub driver: (u64, usize),
    /// The C driver and header together: bytes, lines.
    pub c: (u64, usize),
    /// `cargo check` of a crate holding `model.rs`.
    pub check: Duration,
}

/// The synthetic spec: BAR 0 of 64 KiB, `register DATA[count]` from 0.
pub fn spec(count: u64) -> String {
    let width = (65536 / count.max(1)).clamp(1, 8);
    let ty = format!("u{}", width * 8);
    format!(
        "device arr{count} {{\n    id 0x1b36:0x0001;\n    state last: u32 = 0;\n    \
         bar 0 mem32 size 64K {{\n        access 1 2 4 8;\n        \
         register DATA[{count}] @ 0x0 : {ty} rw {{ on write {{ last = last + index; }} }}\n    }}\n    \
         scenario last_element \"the last element\" {{\n        write DATA_{last} = 1;\n        \
         expect DATA_{last} == 1;\n    }}\n}}\n",
        last = count - 1
    )
}

fn size_of(p: &Path) -> Result<(u64, usize)> {
    let text = std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
    Ok((text.len() as u64, text.lines().count()))
}

fn cargo_check(dir: &Path, target: &Path) -> Result<Duration> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let start = Instant::now();
    let o = Command::new(cargo)
        .args(["check", "--quiet", "--offline"])
        .env("CARGO_TARGET_DIR", target)
        .current_dir(dir)
        .output()
        .context("running cargo check")?;
    let took = start.elapsed();
    if !o.status.success() {
        bail!(
            "cargo check of {} failed:\n{}",
            dir.display(),
            String::from_utf8_lossy(&o.stderr)
        );
    }
    Ok(took)
}

/// A crate at `dir` whose `src/lib.rs` is `model` (the workspace's lock
/// file pins the runtime's dependencies; `--offline` uses them).
fn model_crate(dir: &Path, model: &str) -> Result<()> {
    let runtime = repo_root().join("runtime");
    std::fs::create_dir_all(dir.join("src"))?;
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"array-scale-model\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\
             publish = false\n\n[dependencies]\npcidev-runtime = {{ path = {:?} }}\n\n[workspace]\n",
            runtime.display().to_string()
        ),
    )?;
    std::fs::copy(repo_root().join("Cargo.lock"), dir.join("Cargo.lock"))?;
    std::fs::write(dir.join("src/lib.rs"), model)?;
    Ok(())
}

/// Compile the synthetic spec at each count and measure.
pub fn run(counts: &[u64]) -> Result<Vec<Figures>> {
    let (pcidevc, _) = build_tools()?;
    let work = tempdir("pcidevc-array-scale")?;
    let target = target_dir().join("array-scale");
    let krate = work.path().join("model-crate");
    // Warm up: build the runtime and its dependencies once, so each timed
    // check is the generated model's own.
    model_crate(&krate, "")?;
    cargo_check(&krate, &target)?;
    let mut out = Vec::new();
    for &count in counts {
        if count == 0 || count > 65536 || 65536 % count != 0 {
            bail!("{count}: the array must fill part of a 64 KiB BAR (a power of two up to 65536)");
        }
        let spec_path = work.path().join(format!("arr{count}.pcidev"));
        std::fs::write(&spec_path, spec(count))?;
        let out_dir = work.path().join(format!("out{count}"));
        std::fs::create_dir_all(&out_dir)?;
        let start = Instant::now();
        let dir = crate::e2e::compile(&pcidevc, &spec_path, &out_dir)?;
        let compile = start.elapsed();
        let name = format!("arr{count}");
        let model = std::fs::read_to_string(dir.join("model.rs"))?;
        let (c_file, header) = (
            size_of(&dir.join(format!("driver_c/{name}.c")))?,
            size_of(&dir.join(format!("{name}.h")))?,
        );
        model_crate(&krate, &model)?;
        let check = cargo_check(&krate, &target)?;
        out.push(Figures {
            count,
            width: (65536 / count).clamp(1, 8),
            compile,
            model: (model.len() as u64, model.lines().count()),
            driver: size_of(&dir.join(format!("driver/{name}.rs")))?,
            c: (c_file.0 + header.0, c_file.1 + header.1),
            check,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spec_fills_the_bar() {
        assert!(spec(65536).contains("register DATA[65536] @ 0x0 : u8 rw"));
        assert!(spec(16384).contains("register DATA[16384] @ 0x0 : u32 rw"));
        assert!(spec(1024).contains("register DATA[1024] @ 0x0 : u64 rw"));
        assert!(spec(1024).contains("write DATA_1023 = 1;"));
    }
}
