//! Debian packages: host packages the build needs, and downloads from other
//! suites through a private apt configuration.
//!
//! No archive host name is written anywhere in this project: the mirror is
//! always read from the machine's own apt sources — the deb822 file
//! `/etc/apt/sources.list.d/debian.sources` (the stanza whose `Suites`
//! include the base suite from `/etc/os-release`), or the one-line
//! `/etc/apt/sources.list` format as a fallback.
//!
//! [`PrivateApt`] runs `apt-get` with its own sources list, lists, cache and
//! an empty dpkg status, so it can fetch packages of another suite (trixie,
//! trixie-backports) without touching the machine's apt configuration.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::exec::{capture, run_logged};
use crate::ui::Step;

/// Debian packages the guest build needs on the host.
pub const BUILD_PACKAGES: &[&str] = &[
    "build-essential",
    "libclang-19-dev",
    "flex",
    "bison",
    "bc",
    "libelf-dev",
    "libssl-dev",
    "cpio",
    "xz-utils",
    "rsync",
    "busybox-static",
    "debian-archive-keyring",
    "qemu-system-x86",
];

/// Debian packages needed to provision the trixie QEMU root.
pub const QEMU_ROOT_PACKAGES: &[&str] = &["debootstrap", "debian-archive-keyring"];

/// Keyring used to verify the Debian archive.
pub const ARCHIVE_KEYRING: &str = "/usr/share/keyrings/debian-archive-keyring.gpg";

/// Packages of `pkgs` that dpkg does not report as installed.
pub fn missing_packages(pkgs: &[&str]) -> Result<Vec<String>> {
    // dpkg-query exits 1 when some package is unknown but still prints the
    // known ones, so read stdout whatever the status.
    let out = Command::new("dpkg-query")
        .arg("-W")
        .arg("-f=${Package} ${db:Status-Status}\n")
        .args(pkgs)
        .output()
        .context("could not run dpkg-query (is this a Debian system?)")?;
    let text = String::from_utf8_lossy(&out.stdout);
    let installed: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_once(' '))
        .filter(|(_, status)| *status == "installed")
        .map(|(p, _)| p)
        .collect();
    Ok(pkgs
        .iter()
        .filter(|p| !installed.contains(p))
        .map(|p| p.to_string())
        .collect())
}

/// True when the process runs as root.
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Installs the packages of `pkgs` that are missing (apt-get, as root,
/// non-interactively). Reports a cache hit when nothing is missing.
pub fn ensure_packages(step: &Step, pkgs: &[&str], install: bool, log: &Path) -> Result<()> {
    let missing = missing_packages(pkgs)?;
    if missing.is_empty() {
        step.cached(format!("{} packages installed", pkgs.len()));
        return Ok(());
    }
    let list = missing.join(" ");
    if !install {
        bail!("missing Debian packages: {list}\n  install them with: apt-get install {list}");
    }
    if !is_root() {
        bail!("missing Debian packages: {list}\n  run as root, or: sudo apt-get install {list}");
    }
    step.println(format!("installing: {list}"));
    let apt = |args: &[&str]| {
        let mut c = Command::new("apt-get");
        // Another apt (unattended upgrades, a second provisioning run) may
        // hold dpkg's lock for a while: wait for it rather than fail.
        c.env("DEBIAN_FRONTEND", "noninteractive")
            .args(["-o", "DPkg::Lock::Timeout=600"])
            .args(args);
        c
    };
    run_logged(step, &mut apt(&["-q", "update"]), log)?;
    let mut install = apt(&["-q", "-y", "--no-install-recommends", "install"]);
    install.args(&missing);
    run_logged(step, &mut install, log)?;
    let still = missing_packages(pkgs)?;
    if !still.is_empty() {
        bail!(
            "apt-get install finished but these are still missing: {}; log: {}",
            still.join(" "),
            log.display()
        );
    }
    Ok(())
}

/// The machine's Debian mirror, as configured in its apt sources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mirror {
    /// Archive URI (e.g. `http://<host>/debian`).
    pub uri: String,
    /// The machine's own suite (`bookworm`).
    pub base_suite: String,
}

/// Reads the mirror from `/etc/os-release` and the machine's apt sources.
pub fn host_mirror() -> Result<Mirror> {
    let os_release =
        std::fs::read_to_string("/etc/os-release").context("reading /etc/os-release")?;
    let suite = os_release_codename(&os_release)
        .context("/etc/os-release has no VERSION_CODENAME: cannot tell the base Debian suite")?;
    let deb822 = Path::new("/etc/apt/sources.list.d/debian.sources");
    let legacy = Path::new("/etc/apt/sources.list");
    let mut tried = Vec::new();
    if let Ok(text) = std::fs::read_to_string(deb822) {
        if let Some(uri) = mirror_from_deb822(&text, &suite) {
            return Ok(Mirror {
                uri,
                base_suite: suite,
            });
        }
        tried.push(deb822.display().to_string());
    }
    if let Ok(text) = std::fs::read_to_string(legacy) {
        if let Some(uri) = mirror_from_one_line(&text, &suite) {
            return Ok(Mirror {
                uri,
                base_suite: suite,
            });
        }
        tried.push(legacy.display().to_string());
    }
    bail!(
        "no apt source for suite `{suite}` found (looked in: {}); cannot derive a Debian mirror",
        if tried.is_empty() {
            "no readable sources file".to_owned()
        } else {
            tried.join(", ")
        }
    )
}

fn os_release_codename(text: &str) -> Option<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("VERSION_CODENAME="))
        .map(|v| v.trim().trim_matches('"').to_owned())
        .find(|v| !v.is_empty())
}

/// One deb822 stanza: field name (lower-case) to value (continuations
/// joined with spaces).
pub type Stanza = Vec<(String, String)>;

/// Parses deb822 text into stanzas (comments and blank-line separators
/// handled; field names lower-cased).
pub fn parse_deb822(text: &str) -> Vec<Stanza> {
    let mut stanzas = Vec::new();
    let mut cur: Stanza = Vec::new();
    for line in text.lines() {
        if line.starts_with('#') {
            continue;
        }
        if line.trim().is_empty() {
            if !cur.is_empty() {
                stanzas.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = cur.last_mut() {
                let more = line.trim();
                if more != "." {
                    v.push(' ');
                    v.push_str(more);
                }
            }
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            cur.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    if !cur.is_empty() {
        stanzas.push(cur);
    }
    stanzas
}

fn field<'a>(stanza: &'a Stanza, name: &str) -> Option<&'a str> {
    stanza
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// First URI of the enabled `deb` stanza whose Suites include `suite`.
pub fn mirror_from_deb822(text: &str, suite: &str) -> Option<String> {
    parse_deb822(text).iter().find_map(|s| {
        let enabled = field(s, "enabled").is_none_or(|v| !v.eq_ignore_ascii_case("no"));
        let deb = field(s, "types").is_some_and(|t| t.split_whitespace().any(|t| t == "deb"));
        let has_suite =
            field(s, "suites").is_some_and(|v| v.split_whitespace().any(|x| x == suite));
        if enabled && deb && has_suite {
            field(s, "uris")?
                .split_whitespace()
                .next()
                .map(|u| u.trim_end_matches('/').to_owned())
        } else {
            None
        }
    })
}

/// URI of the first `deb URI suite ...` line for `suite` (options in
/// brackets skipped).
pub fn mirror_from_one_line(text: &str, suite: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let line = line.split('#').next()?.trim();
        let rest = line.strip_prefix("deb ")?.trim_start();
        let rest = if rest.starts_with('[') {
            rest.split_once(']')?.1.trim_start()
        } else {
            rest
        };
        let mut words = rest.split_whitespace();
        let uri = words.next()?;
        (words.next()? == suite).then(|| uri.trim_end_matches('/').to_owned())
    })
}

/// apt-get with a private sources list, lists and cache under one
/// directory, so another Debian suite can be queried and downloaded from.
#[derive(Debug, Clone)]
pub struct PrivateApt {
    dir: PathBuf,
}

impl PrivateApt {
    /// Sets up `dir` with a sources list for `suites` (component `main`) on
    /// `mirror`, signed by the Debian archive keyring.
    pub fn new(dir: &Path, mirror: &Mirror, suites: &[&str]) -> Result<PrivateApt> {
        for sub in ["lists/partial", "cache/archives/partial", "state"] {
            let d = dir.join(sub);
            std::fs::create_dir_all(&d).with_context(|| format!("creating {}", d.display()))?;
        }
        let sources: String = suites
            .iter()
            .map(|s| {
                format!(
                    "deb [signed-by={ARCHIVE_KEYRING}] {} {s} main\n",
                    mirror.uri
                )
            })
            .collect();
        let list = dir.join("sources.list");
        std::fs::write(&list, sources).with_context(|| format!("writing {}", list.display()))?;
        Ok(PrivateApt {
            dir: dir.to_owned(),
        })
    }

    /// The `-o` options that point apt at the private state.
    fn options(&self) -> Vec<String> {
        let d = |sub: &str| self.dir.join(sub).display().to_string();
        let mut opts = vec![
            format!("Dir::Etc::SourceList={}", d("sources.list")),
            "Dir::Etc::SourceParts=/dev/null".to_owned(),
            "Dir::Etc::Preferences=/dev/null".to_owned(),
            "Dir::Etc::PreferencesParts=/dev/null".to_owned(),
            format!("Dir::State={}", d("state")),
            format!("Dir::State::Lists={}", d("lists")),
            "Dir::State::status=/dev/null".to_owned(),
            format!("Dir::Cache={}", d("cache")),
        ];
        if is_root() {
            // The private directories live under root's home, which the
            // `_apt` sandbox user cannot enter.
            opts.push("APT::Sandbox::User=root".to_owned());
        }
        opts
    }

    /// `program` (`apt-get`, `apt-cache`) pointed at the private state.
    pub fn command_for(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.env("DEBIAN_FRONTEND", "noninteractive").arg("-q");
        for o in self.options() {
            c.arg("-o").arg(o);
        }
        c
    }

    /// `apt-get` pointed at the private state.
    pub fn command(&self) -> Command {
        self.command_for("apt-get")
    }

    /// `apt-get update` of the private lists.
    pub fn update(&self, step: &Step, log: &Path) -> Result<()> {
        run_logged(step, self.command().arg("update"), log)
    }

    /// The candidate version of `pkg` (after [`update`](Self::update)).
    pub fn candidate(&self, pkg: &str) -> Result<String> {
        let out = capture(self.command_for("apt-cache").args(["policy", pkg]))?;
        out.lines()
            .find_map(|l| l.trim().strip_prefix("Candidate:"))
            .map(|v| v.trim().to_owned())
            .filter(|v| v != "(none)")
            .with_context(|| format!("package {pkg} not found in the private apt sources"))
    }

    /// Downloads `pkg` (candidate version) into `dest`; returns the .deb.
    pub fn download(&self, step: &Step, pkg: &str, dest: &Path, log: &Path) -> Result<PathBuf> {
        std::fs::create_dir_all(dest).with_context(|| format!("creating {}", dest.display()))?;
        let before = debs_of(dest, pkg);
        run_logged(
            step,
            self.command().current_dir(dest).args(["download", pkg]),
            log,
        )?;
        let after = debs_of(dest, pkg);
        after
            .iter()
            .find(|p| !before.contains(p))
            .or_else(|| after.last())
            .cloned()
            .with_context(|| {
                format!(
                    "apt-get download {pkg} produced no .deb in {}",
                    dest.display()
                )
            })
    }
}

fn debs_of(dir: &Path, pkg: &str) -> Vec<PathBuf> {
    let prefix = format!("{pkg}_");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".deb"))
        })
        .collect();
    v.sort();
    v
}

/// The Debian version in a `name_version_arch.deb` file name, with apt's
/// `%xx` escapes (e.g. `%3a` for the epoch colon) decoded.
pub fn deb_version(file: &Path) -> Option<String> {
    let name = file.file_name()?.to_str()?.strip_suffix(".deb")?;
    let mut parts = name.split('_');
    let (_pkg, ver) = (parts.next()?, parts.next()?);
    let bytes = ver.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(h) = ver.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(h, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCES: &str = "\
Types: deb
# a comment
URIs: http://mirror.example.invalid/debian/
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.example.invalid/debian-security
Suites: bookworm-security
Components: main
";

    #[test]
    fn deb822_picks_the_base_suite_stanza() {
        assert_eq!(
            mirror_from_deb822(SOURCES, "bookworm").as_deref(),
            Some("http://mirror.example.invalid/debian")
        );
        assert_eq!(
            mirror_from_deb822(SOURCES, "bookworm-security").as_deref(),
            Some("http://mirror.example.invalid/debian-security")
        );
        assert_eq!(mirror_from_deb822(SOURCES, "trixie"), None);
    }

    #[test]
    fn deb822_skips_disabled_and_source_stanzas() {
        let text = "Types: deb-src\nURIs: http://a.invalid/d\nSuites: bookworm\n\n\
                    Enabled: no\nTypes: deb\nURIs: http://b.invalid/d\nSuites: bookworm\n\n\
                    Types: deb\nURIs: http://c.invalid/d\n  http://d.invalid/d\nSuites: bookworm\n";
        assert_eq!(
            mirror_from_deb822(text, "bookworm").as_deref(),
            Some("http://c.invalid/d")
        );
    }

    #[test]
    fn one_line_format_is_understood() {
        let text = "# comment\ndeb-src http://a.invalid/d bookworm main\n\
                    deb [arch=amd64 signed-by=/k.gpg] http://b.invalid/debian/ bookworm main\n";
        assert_eq!(
            mirror_from_one_line(text, "bookworm").as_deref(),
            Some("http://b.invalid/debian")
        );
        assert_eq!(mirror_from_one_line(text, "trixie"), None);
    }

    #[test]
    fn codename_is_read_from_os_release() {
        let text = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nVERSION_CODENAME=bookworm\n";
        assert_eq!(os_release_codename(text).as_deref(), Some("bookworm"));
    }

    #[test]
    fn deb_versions_are_decoded() {
        assert_eq!(
            deb_version(Path::new("/x/linux-source-7.3_7.3.4-1~bpo13+1_all.deb")).as_deref(),
            Some("7.3.4-1~bpo13+1")
        );
        assert_eq!(
            deb_version(Path::new("qemu_1%3a11.1.3+ds-1_amd64.deb")).as_deref(),
            Some("1:11.1.3+ds-1")
        );
    }
}
