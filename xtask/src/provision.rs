//! Guest kernel provisioning: Debian's `linux-source-7.3`, configured from
//! `tinyconfig` plus the checked-in fragment `guest/kernel.config`, built
//! with Rust support into a cached `O=` build tree that out-of-tree modules
//! are later built against.
//!
//! [`guest`] is idempotent: every step checks the cache first, and the whole
//! warm path only runs a few quick queries (dpkg-query, `rustc -vV`,
//! `bindgen --version`). The kernel build directory is named by a key over
//! the source package version, the fragment's hash, `rustc -vV`, bindgen's
//! and gcc's versions and [`RECIPE`]; its stamp is written only after the
//! build succeeded and its outputs exist. An interrupted build is resumed in
//! place (Kbuild only trusts an object whose `.cmd` file was written after
//! it compiled), never used as is. A new build whose key differs from a
//! complete one only in the fragment starts from a copy of that build's
//! tree (see `seed_sibling`): a fragment change then costs the objects it
//! touches, not a whole kernel.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::apt::{self, PrivateApt};
use crate::cache::{self, Cache, CacheLock, Key};
use crate::exec::run_logged;
use crate::toolchain::{self, Toolchain};
use crate::ui::{Step, Ui};

/// The kernel config fragment merged over `tinyconfig`.
pub const KERNEL_FRAGMENT: &str = include_str!("../../guest/kernel.config");

/// Debian source package of the guest kernel (trixie-backports).
pub const SOURCE_PACKAGE: &str = "linux-source-7.3";

/// Suites the source package is fetched from (private apt sources).
pub const SOURCE_SUITES: &[&str] = &["trixie", "trixie-backports"];

/// Bumped whenever the build recipe below changes in a way that must
/// invalidate cached kernels.
pub const RECIPE: &str = "kernel-recipe-1";

/// Kernel build targets.
pub const MAKE_TARGETS: &[&str] = &["bzImage", "modules"];

/// Options for [`guest`].
#[derive(Debug, Clone)]
pub struct GuestOptions {
    /// The cache to provision into.
    pub cache: Cache,
    /// Parallel make jobs (default: available cores).
    pub jobs: usize,
    /// Install missing Debian packages with apt-get (needs root).
    pub install_packages: bool,
    /// Ask the archive for a newer `linux-source-7.3` even when one is
    /// cached.
    pub refresh_source: bool,
}

impl GuestOptions {
    /// Defaults: cache from the environment, one job per core, install
    /// missing packages, keep the cached source.
    pub fn from_env() -> Result<GuestOptions> {
        Ok(GuestOptions {
            cache: Cache::from_env()?,
            jobs: default_jobs(),
            install_packages: true,
            refresh_source: false,
        })
    }
}

/// Number of available cores (at least 1).
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// A provisioned guest kernel and the tree to build modules against.
#[derive(Debug, Clone)]
pub struct Guest {
    /// Kernel release from the tree's Makefile, e.g. `7.3.4`.
    pub kernel_version: String,
    /// Debian version of the source package, e.g. `7.3.4-1~bpo13+1`.
    pub source_version: String,
    /// Extracted kernel source.
    pub source_tree: PathBuf,
    /// The `O=` build tree: pass it to `make -C` for `M=` module builds.
    pub build_tree: PathBuf,
    /// `arch/x86/boot/bzImage` in the build tree.
    pub kernel_image: PathBuf,
    /// Tools the tree was built with (same ones must build modules).
    pub toolchain: Toolchain,
    /// The cache key text the build was stamped with.
    pub key: String,
    /// Parallel jobs for module builds.
    pub jobs: usize,
}

/// Result of an out-of-tree module build.
#[derive(Debug, Clone)]
pub struct ModuleBuild {
    /// The `.ko` files built, sorted.
    pub modules: Vec<PathBuf>,
    /// Everything make printed (stdout and stderr interleaved by line).
    pub output: String,
}

impl ModuleBuild {
    /// Lines of the build output that are compiler warnings.
    pub fn warnings(&self) -> Vec<&str> {
        self.output
            .lines()
            .filter(|l| l.contains("warning:") || l.contains("warning["))
            .collect()
    }
}

impl Guest {
    /// `make -C <build_tree> -j<jobs>` with the toolchain's environment;
    /// add targets and variables.
    pub fn make_command(&self) -> Command {
        let mut c = Command::new("make");
        // `cargo xtask` runs under cargo, which exports CARGO_PKG_* and
        // friends; clippy-driver would read our crate's rust-version from
        // them and warn that it differs from the kernel's clippy.toml.
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("CARGO_") {
                c.env_remove(&k);
            }
        }
        c.current_dir(&self.toolchain.workdir)
            .envs(self.toolchain.env())
            .env_remove("MAKEFLAGS")
            .env_remove("MFLAGS")
            .arg("-C")
            .arg(&self.build_tree)
            .arg(format!("-j{}", self.jobs));
        c
    }

    /// Builds the out-of-tree module(s) in `dir` (which holds a `Kbuild` or
    /// `Makefile`) with `make -C <build_tree> M=<dir> modules`; returns the
    /// `.ko` files. The error carries make's output.
    pub fn build_module(&self, dir: &Path) -> Result<ModuleBuild> {
        self.build_module_with(dir, &[])
    }

    /// [`build_module`](Self::build_module) with extra make variables, e.g.
    /// `CLIPPY=1`. Runs `make M=<dir> clean` first so every file is
    /// compiled again under the new settings.
    pub fn build_module_with(&self, dir: &Path, vars: &[&str]) -> Result<ModuleBuild> {
        let dir = std::fs::canonicalize(dir)
            .with_context(|| format!("module directory {} not found", dir.display()))?;
        let mut clean = self.make_command();
        clean.arg(format!("M={}", dir.display())).arg("clean");
        let _ = clean.stdin(std::process::Stdio::null()).output();
        let mut cmd = self.make_command();
        cmd.args(vars)
            .arg(format!("M={}", dir.display()))
            .arg("modules");
        let shown = crate::exec::display(&cmd);
        let out = cmd
            .stdin(std::process::Stdio::null())
            .output()
            .with_context(|| format!("could not start `{shown}`"))?;
        let mut output = String::from_utf8_lossy(&out.stdout).into_owned();
        output.push_str(&String::from_utf8_lossy(&out.stderr));
        if !out.status.success() {
            bail!(
                "module build failed ({}): `{shown}`\n{}",
                out.status,
                output.trim_end()
            );
        }
        let mut modules = Vec::new();
        collect_ko(&dir, &mut modules);
        modules.sort();
        if modules.is_empty() {
            bail!(
                "`{shown}` succeeded but produced no .ko in {}",
                dir.display()
            );
        }
        Ok(ModuleBuild { modules, output })
    }

    /// A module built with the kernel, by path relative to the build tree,
    /// e.g. `samples/rust/rust_driver_pci.ko`.
    pub fn tree_module(&self, rel: &str) -> Result<PathBuf> {
        let p = self.build_tree.join(rel);
        if !p.is_file() {
            bail!("{} was not built (check guest/kernel.config)", p.display());
        }
        Ok(p)
    }
}

fn collect_ko(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            collect_ko(&p, out);
        } else if p.extension().is_some_and(|x| x == "ko") {
            out.push(p);
        }
    }
}

/// Provisions everything the guest kernel needs and returns it; see the
/// module docs. Holds the cache lock while it runs.
pub fn guest(ui: &Ui, opts: &GuestOptions) -> Result<Guest> {
    let cache = &opts.cache;
    let lock = cache.lock(ui)?;
    ui.step("Debian build packages", |step| {
        let log = cache.fresh_log("apt-install")?;
        apt::ensure_packages(step, apt::BUILD_PACKAGES, opts.install_packages, &log)
    })?;
    let tc = toolchain::ensure(ui, cache, &lock)?;
    let (source_tree, source_version) = ui.step(&format!("{SOURCE_PACKAGE} source"), |step| {
        ensure_source(step, cache, &lock, opts.refresh_source)
    })?;
    let kernel_version = makefile_version(&source_tree)?;
    let key = kernel_key(&source_version, &tc);
    let dir = cache.path(format!("kernel/{kernel_version}-{}", key.short_hash()));
    let build_tree = dir.join("build");
    let kernel_image = build_tree.join("arch/x86/boot/bzImage");
    let guest = Guest {
        kernel_version: kernel_version.clone(),
        source_version,
        source_tree,
        build_tree,
        kernel_image,
        toolchain: tc,
        key: key.text().to_owned(),
        jobs: opts.jobs,
    };
    if cache::is_complete(&dir, &key) && guest.kernel_image.is_file() {
        ui.step(&format!("kernel {kernel_version}"), |step| {
            step.cached(dir.display().to_string());
            Ok(())
        })?;
        return Ok(guest);
    }
    cache::clear_stamp(&dir)?;
    if !guest.build_tree.exists()
        && let Some(sibling) = seed_sibling(&dir, &key)
    {
        ui.step(
            "seed the build tree from a build under another fragment",
            |step| {
                step.println(format!(
                    "copying {} (Kbuild then rebuilds only what the changed symbols touch)",
                    sibling.display()
                ));
                seed_copy(&sibling.join("build"), &guest.build_tree)
            },
        )?;
    }
    std::fs::create_dir_all(&guest.build_tree)
        .with_context(|| format!("creating {}", guest.build_tree.display()))?;
    let log = cache.fresh_log("kernel-config")?;
    ui.step("kernel config (tinyconfig + guest/kernel.config)", |step| {
        configure(step, &guest, &log)
    })?;
    let log = cache.fresh_log("kernel-build")?;
    ui.step(
        &format!("kernel build (make -j{} bzImage modules)", opts.jobs),
        |step| {
            step.println(format!("log: {}", log.display()));
            let mut make = guest.make_command();
            make.args(MAKE_TARGETS);
            run_logged(step, &mut make, &log).context("building the guest kernel")?;
            if !guest.kernel_image.is_file() {
                bail!(
                    "make succeeded but {} is missing; log: {}",
                    guest.kernel_image.display(),
                    log.display()
                );
            }
            Ok(())
        },
    )?;
    cache::write_stamp(&dir, &key)?;
    drop(lock);
    Ok(guest)
}

/// The key line that names the fragment.
const FRAGMENT_LINE: &str = "fragment-sha256=";

/// A complete kernel build beside `dir` whose key equals `key` in every
/// line but the fragment's hash: the same source, tools, targets and
/// recipe. Its tree is a correct starting point for a build under the new
/// fragment, because Kbuild tracks dependencies per `CONFIG_` symbol
/// (fixdep): after the new configuration is written, `make` recompiles only
/// what the changed symbols reach, instead of the whole kernel.
fn seed_sibling(dir: &Path, key: &Key) -> Option<PathBuf> {
    let without_fragment = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| !l.starts_with(FRAGMENT_LINE))
            .map(str::to_owned)
            .collect()
    };
    let want = without_fragment(key.text());
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir.parent()?)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p != dir && p.join("build/arch/x86/boot/bzImage").is_file())
        .filter(|p| {
            std::fs::read_to_string(p.join(cache::STAMP))
                .is_ok_and(|s| without_fragment(&s) == want)
        })
        .collect();
    found.sort();
    found.pop()
}

/// Copies a build tree (`cp -a`: a copy, never links, since make rewrites
/// objects in place) into `to`, through a temporary sibling.
fn seed_copy(from: &Path, to: &Path) -> Result<()> {
    let tmp = cache::tmp_sibling(to);
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    cache::remove_tree(&tmp)?;
    let status = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(&tmp)
        .status()
        .context("running cp")?;
    if !status.success() {
        let _ = cache::remove_tree(&tmp);
        bail!("copying {} failed ({status})", from.display());
    }
    std::fs::rename(&tmp, to)
        .with_context(|| format!("moving {} to {}", tmp.display(), to.display()))
}

/// The key a kernel build is cached under.
fn kernel_key(source_version: &str, tc: &Toolchain) -> Key {
    Key::new()
        .with("recipe", RECIPE)
        .with("source", format!("{SOURCE_PACKAGE} {source_version}"))
        .with(
            "fragment-sha256",
            cache::sha256_hex(KERNEL_FRAGMENT.as_bytes()),
        )
        .with("rustc", &tc.rustc_version)
        .with("bindgen", &tc.bindgen_version)
        .with("cc", &tc.cc_version)
        .with("targets", MAKE_TARGETS.join(" "))
}

/// Makes sure the source tree is extracted; returns it and its Debian
/// version. Uses the cached tree unless `refresh` asks the archive.
fn ensure_source(
    step: &Step,
    cache: &Cache,
    _lock: &CacheLock,
    refresh: bool,
) -> Result<(PathBuf, String)> {
    let selected = cache.path(format!("src/{SOURCE_PACKAGE}.selected"));
    let tree_of = |version: &str| cache.path(format!("src/{SOURCE_PACKAGE}_{version}"));
    let source_key =
        |version: &str| Key::new().with("source", format!("{SOURCE_PACKAGE} {version}"));
    if !refresh && let Ok(version) = std::fs::read_to_string(&selected) {
        let version = version.trim();
        let tree = tree_of(version);
        if cache::is_complete(&tree, &source_key(version)) {
            step.cached(format!("{SOURCE_PACKAGE} {version}"));
            return Ok((tree, version.to_owned()));
        }
    }

    let mirror = apt::host_mirror()?;
    let apt_dir = cache.path("apt");
    let apt = PrivateApt::new(&apt_dir, &mirror, SOURCE_SUITES)?;
    let log = cache.fresh_log("linux-source")?;
    step.println(format!(
        "apt sources: {} {} (derived from the machine's {} sources)",
        mirror.uri,
        SOURCE_SUITES.join(" "),
        mirror.base_suite
    ));
    apt.update(step, &log)
        .context("updating the private apt lists for trixie/trixie-backports")?;
    let version = apt.candidate(SOURCE_PACKAGE)?;
    let tree = tree_of(&version);
    if !cache::is_complete(&tree, &source_key(&version)) {
        let downloads = cache.path("downloads");
        let deb = match existing_deb(&downloads, &version) {
            Some(deb) => deb,
            None => apt.download(step, SOURCE_PACKAGE, &downloads, &log)?,
        };
        let got = apt::deb_version(&deb).unwrap_or_default();
        if got != version {
            bail!(
                "downloaded {} but expected version {version}",
                deb.display()
            );
        }
        extract_source(step, &deb, &tree, &log)?;
        cache::write_stamp(&tree, &source_key(&version))?;
        // Keep only the extracted tree; the .deb is 160 MB.
        let _ = std::fs::remove_file(&deb);
    } else {
        step.println(format!("{SOURCE_PACKAGE} {version} already extracted"));
    }
    std::fs::write(&selected, &version)
        .with_context(|| format!("writing {}", selected.display()))?;
    Ok((tree, version))
}

fn existing_deb(dir: &Path, version: &str) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&format!("{SOURCE_PACKAGE}_")))
                && apt::deb_version(p).as_deref() == Some(version)
        })
}

/// Unpacks `usr/src/linux-source-7.3.tar.xz` from the .deb into `tree`
/// (through a temporary directory renamed at the end).
fn extract_source(step: &Step, deb: &Path, tree: &Path, log: &Path) -> Result<()> {
    let tmp = crate::cache::tmp_sibling(tree);
    cache::remove_tree(&tmp)?;
    cache::remove_tree(tree)?;
    let unpack = tmp.join("deb");
    std::fs::create_dir_all(&unpack).with_context(|| format!("creating {}", unpack.display()))?;
    step.set_message("dpkg-deb -x");
    run_logged(
        step,
        Command::new("dpkg-deb").arg("-x").arg(deb).arg(&unpack),
        log,
    )?;
    let tarball = unpack.join(format!("usr/src/{SOURCE_PACKAGE}.tar.xz"));
    if !tarball.is_file() {
        bail!("{} holds no {}", deb.display(), tarball.display());
    }
    step.set_message("tar -xJf (about a minute)");
    run_logged(
        step,
        Command::new("tar")
            .arg("-xJf")
            .arg(&tarball)
            .arg("-C")
            .arg(&tmp),
        log,
    )?;
    let top = tmp.join(SOURCE_PACKAGE);
    if !top.join("Makefile").is_file() {
        bail!(
            "{} did not contain {SOURCE_PACKAGE}/Makefile",
            tarball.display()
        );
    }
    std::fs::rename(&top, tree)
        .with_context(|| format!("moving {} to {}", top.display(), tree.display()))?;
    cache::remove_tree(&tmp)?;
    Ok(())
}

/// `VERSION.PATCHLEVEL.SUBLEVEL` from the top Makefile.
pub fn makefile_version(tree: &Path) -> Result<String> {
    let mk = std::fs::read_to_string(tree.join("Makefile"))
        .with_context(|| format!("reading {}/Makefile", tree.display()))?;
    let get = |name: &str| {
        mk.lines()
            .find_map(|l| l.strip_prefix(name)?.trim_start().strip_prefix('='))
            .map(|v| v.trim().to_owned())
    };
    match (get("VERSION"), get("PATCHLEVEL"), get("SUBLEVEL")) {
        (Some(v), Some(p), Some(s)) => Ok(format!("{v}.{p}.{s}")),
        _ => bail!(
            "no VERSION/PATCHLEVEL/SUBLEVEL in {}/Makefile",
            tree.display()
        ),
    }
}

/// `make rustavailable`, `tinyconfig`, merge the fragment, `olddefconfig`,
/// then check every fragment symbol.
fn configure(step: &Step, guest: &Guest, log: &Path) -> Result<()> {
    let make = |args: &[&str]| {
        let mut c = Command::new("make");
        c.current_dir(&guest.source_tree)
            .envs(guest.toolchain.env())
            .env_remove("MAKEFLAGS")
            .env_remove("MFLAGS")
            .arg(format!("O={}", guest.build_tree.display()))
            .args(args);
        c
    };
    run_logged(step, &mut make(&["rustavailable"]), log).context(
        "`make rustavailable` says the Rust toolchain cannot build this kernel \
         (check rustc, rust-src, bindgen and libclang versions in the log)",
    )?;
    run_logged(step, &mut make(&["tinyconfig"]), log)?;
    let fragment = guest.build_tree.join("pcidevc.config");
    std::fs::write(&fragment, KERNEL_FRAGMENT)
        .with_context(|| format!("writing {}", fragment.display()))?;
    let config = guest.build_tree.join(".config");
    run_logged(
        step,
        Command::new("sh")
            .current_dir(&guest.source_tree)
            .arg("scripts/kconfig/merge_config.sh")
            .arg("-m")
            .arg("-O")
            .arg(&guest.build_tree)
            .arg(&config)
            .arg(&fragment),
        log,
    )?;
    run_logged(step, &mut make(&["olddefconfig"]), log)?;
    let text = std::fs::read_to_string(&config)
        .with_context(|| format!("reading {}", config.display()))?;
    check_fragment(KERNEL_FRAGMENT, &text).with_context(|| {
        format!(
            "guest/kernel.config was not applied (dependencies missing?); resulting config: {}",
            config.display()
        )
    })
}

/// A symbol's requested or actual value: `Some("y")`, `Some("\"x\"")`, or
/// `None` for "is not set".
type Settings = BTreeMap<String, Option<String>>;

/// Parses `CONFIG_X=v` and `# CONFIG_X is not set` lines.
pub fn parse_config(text: &str) -> Settings {
    let mut map = Settings::new();
    for line in text.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("# ")
            && let Some(sym) = rest.strip_suffix(" is not set")
            && sym.starts_with("CONFIG_")
        {
            map.insert(sym.to_owned(), None);
        } else if line.starts_with("CONFIG_")
            && let Some((sym, val)) = line.split_once('=')
        {
            map.insert(sym.to_owned(), Some(val.to_owned()));
        }
    }
    map
}

/// Checks that every symbol of `fragment` has its requested value in
/// `config`; the error names each symbol that does not.
pub fn check_fragment(fragment: &str, config: &str) -> Result<()> {
    let want = parse_config(fragment);
    let have = parse_config(config);
    let mut bad = Vec::new();
    for (sym, wanted) in &want {
        let got = have.get(sym).cloned().flatten();
        let ok = match wanted {
            // "is not set" is satisfied by an explicit "not set" or by the
            // symbol being absent (invisible).
            None => got.is_none() || got.as_deref() == Some("n"),
            Some(v) => got.as_deref() == Some(v.as_str()),
        };
        if !ok {
            let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "is not set".into());
            bad.push(format!(
                "{sym}: wanted {}, got {}",
                show(wanted),
                show(&got)
            ));
        }
    }
    if bad.is_empty() {
        Ok(())
    } else {
        bail!(
            "kernel config symbols not as requested:\n  {}",
            bad.join("\n  ")
        )
    }
}

/// `size` of a file in bytes (0 when missing).
pub fn file_size(p: &Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

/// `modinfo`-free size report of the modules in `dir` (path, bytes).
pub fn module_sizes(dir: &Path) -> Vec<(PathBuf, u64)> {
    let mut v = Vec::new();
    collect_ko(dir, &mut v);
    v.sort();
    v.into_iter()
        .map(|p| {
            let s = file_size(&p);
            (p, s)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragment_is_parsed() {
        let m = parse_config(KERNEL_FRAGMENT);
        assert_eq!(m.get("CONFIG_RUST"), Some(&Some("y".to_owned())));
        assert_eq!(
            m.get("CONFIG_SAMPLE_RUST_DRIVER_PCI"),
            Some(&Some("m".to_owned()))
        );
        assert_eq!(m.get("CONFIG_MODVERSIONS"), Some(&None));
    }

    #[test]
    fn fragment_check_names_offending_symbols() {
        let frag = "CONFIG_A=y\nCONFIG_B=m\n# CONFIG_C is not set\n# CONFIG_D is not set\n";
        let good = "CONFIG_A=y\nCONFIG_B=m\n# CONFIG_C is not set\n";
        check_fragment(frag, good).unwrap();
        let bad = "CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=y\n";
        let err = format!("{:#}", check_fragment(frag, bad).unwrap_err());
        assert!(err.contains("CONFIG_B: wanted m, got is not set"), "{err}");
        assert!(err.contains("CONFIG_C: wanted is not set, got y"), "{err}");
        assert!(!err.contains("CONFIG_A"), "{err}");
        assert!(!err.contains("CONFIG_D"), "{err}");
    }

    #[test]
    fn only_a_build_differing_in_the_fragment_alone_seeds_a_new_one() {
        let root = std::env::temp_dir().join(format!("xtask-seed-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let key = |frag: &str, cc: &str| {
            Key::new()
                .with("recipe", RECIPE)
                .with("fragment-sha256", frag)
                .with("cc", cc)
        };
        let make = |name: &str, k: &Key| {
            let d = root.join(name);
            std::fs::create_dir_all(d.join("build/arch/x86/boot")).unwrap();
            std::fs::write(d.join("build/arch/x86/boot/bzImage"), b"k").unwrap();
            cache::write_stamp(&d, k).unwrap();
            d
        };
        let new = root.join("7.3.4-new");
        let want = key("new", "gcc 12");
        assert_eq!(seed_sibling(&new, &want), None, "nothing to seed from");
        make("7.3.4-othercc", &key("old", "gcc 13"));
        assert_eq!(seed_sibling(&new, &want), None, "another compiler");
        let good = make("7.3.4-old", &key("old", "gcc 12"));
        assert_eq!(seed_sibling(&new, &want), Some(good.clone()));
        std::fs::remove_file(good.join(cache::STAMP)).unwrap();
        assert_eq!(seed_sibling(&new, &want), None, "an incomplete build");
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn version_is_read_from_the_makefile() {
        let d = std::env::temp_dir().join(format!("xtask-mk-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(
            d.join("Makefile"),
            "# x\nVERSION = 7\nPATCHLEVEL = 3\nSUBLEVEL = 4\nEXTRAVERSION =\n",
        )
        .unwrap();
        assert_eq!(makefile_version(&d).unwrap(), "7.3.4");
        std::fs::remove_dir_all(d).unwrap();
    }
}
