//! The documentation pages in a real browser: headless Chromium driven
//! through the DevTools protocol.
//!
//! [`provision`] installs Debian's `chromium` through the same apt path as
//! the build packages. [`check_page`] starts Chromium with a fresh profile,
//! every background connection of its own disabled and the DevTools
//! protocol on a pipe (`--remote-debugging-pipe`: requests on fd 3,
//! responses and events on fd 4, NUL-separated JSON; no port, no
//! WebSocket, so no new crate), opens the page from a `file://` URL and
//! checks what a screenshot alone cannot:
//! - no console error or warning, no uncaught exception, no error in the
//!   browser log (`Runtime`, `Log` domains);
//! - no network request besides the page itself (`Network` domain: the
//!   page is self-contained);
//! - one bit-field diagram (`svg.bf`) and one section per register, with
//!   the register names of the IR, in order;
//! - the search filter works: typing a register's name leaves exactly the
//!   registers whose key contains it;
//! - a PNG screenshot of the viewport at the first register space (its
//!   map and first diagrams), decoded and size-checked.
//!
//! It also measures the page's load time (navigation start to the end of
//! the load event, from the Navigation Timing API) for the size report.
//! Chromium is killed and its profile removed on every path.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use crate::ui::Ui;
use crate::workspace::{TempDir, tempdir};

/// Debian package of the browser.
pub const PACKAGES: &[&str] = &["chromium"];

/// Chromium's flags: headless, no sandbox (root in CI), and none of its own
/// connections (update checks, sync, safe browsing lists, first-run pages).
pub const FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-breakpad",
    "--disable-domain-reliability",
    "--metrics-recording-only",
    "--hide-scrollbars",
    "--remote-debugging-pipe",
];

/// Installs Chromium when missing (apt-get, root) and returns its path.
pub fn provision(ui: &Ui, cache: &crate::cache::Cache, install: bool) -> Result<PathBuf> {
    ui.step("Debian package chromium", |step| {
        let log = cache.fresh_log("apt-install-chromium")?;
        crate::apt::ensure_packages(step, PACKAGES, install, &log)
    })?;
    let p = PathBuf::from("/usr/bin/chromium");
    if !p.is_file() {
        bail!("{} is missing after installing chromium", p.display());
    }
    Ok(p)
}

/// A running Chromium and its DevTools pipe.
struct Browser {
    child: Child,
    to: File,
    from: Receiver<Value>,
    next_id: u64,
    /// Events read while waiting for a response.
    events: VecDeque<Value>,
    _profile: TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Browser {
    fn launch(chromium: &Path) -> Result<Browser> {
        let profile = tempdir("pcidevc-chromium")?;
        let (cmd_read, cmd_write) = std::io::pipe().context("pipe")?;
        let (resp_read, resp_write) = std::io::pipe().context("pipe")?;
        let (cr, rw) = (cmd_read.as_raw_fd(), resp_write.as_raw_fd());
        let mut cmd = Command::new(chromium);
        cmd.args(FLAGS)
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // SAFETY: runs in the forked child before exec, where only
        // async-signal-safe calls are allowed: fcntl, dup2 and close are.
        // The pipe ends are first moved above fd 9 so that placing them at
        // 3 and 4 cannot overwrite one another; dup2 clears close-on-exec
        // on the copies, which is what hands them to Chromium.
        unsafe {
            cmd.pre_exec(move || {
                let a = libc::fcntl(cr, libc::F_DUPFD, 10);
                let b = libc::fcntl(rw, libc::F_DUPFD, 10);
                if a < 0
                    || b < 0
                    || libc::dup2(a, 3) < 0
                    || libc::dup2(b, 4) < 0
                    || libc::close(a) < 0
                    || libc::close(b) < 0
                {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd
            .spawn()
            .with_context(|| format!("starting {}", chromium.display()))?;
        // The child has its copies; ours must close for EOF to work.
        drop(cmd_read);
        drop(resp_write);
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut reader = resp_read;
            let mut buf = Vec::new();
            let mut chunk = [0u8; 65536];
            loop {
                match reader.read(&mut chunk) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
                while let Some(end) = buf.iter().position(|b| *b == 0) {
                    let msg: Vec<u8> = buf.drain(..=end).collect();
                    if let Ok(v) = serde_json::from_slice::<Value>(&msg[..msg.len() - 1])
                        && tx.send(v).is_err()
                    {
                        return;
                    }
                }
            }
        });
        Ok(Browser {
            child,
            to: File::from(std::os::fd::OwnedFd::from(cmd_write)),
            from: rx,
            next_id: 1,
            events: VecDeque::new(),
            _profile: profile,
        })
    }

    fn recv(&mut self, deadline: Instant) -> Result<Value> {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.from.recv_timeout(left) {
            Ok(v) => Ok(v),
            Err(RecvTimeoutError::Timeout) => bail!("Chromium did not answer in time"),
            Err(RecvTimeoutError::Disconnected) => {
                bail!(
                    "Chromium closed its DevTools pipe (exited: {:?})",
                    self.child.try_wait()
                )
            }
        }
    }

    /// Sends a command (to a page session, or to the browser) and returns
    /// its result; events that arrive meanwhile are kept.
    fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Result<Value> {
        let id = self.next_id;
        self.next_id += 1;
        let mut msg = json!({ "id": id, "method": method, "params": params });
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        let mut bytes = serde_json::to_vec(&msg)?;
        bytes.push(0);
        self.to
            .write_all(&bytes)
            .with_context(|| format!("sending {method}"))?;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let v = self.recv(deadline)?;
            if v.get("id").and_then(Value::as_u64) == Some(id) {
                if let Some(e) = v.get("error") {
                    bail!("{method}: {e}");
                }
                return Ok(v.get("result").cloned().unwrap_or(Value::Null));
            }
            self.events.push_back(v);
        }
    }

    /// Waits for event `method` (kept events first).
    fn wait_event(&mut self, method: &str, within: Duration) -> Result<Value> {
        if let Some(i) = self.events.iter().position(|e| e["method"] == method) {
            return Ok(self.events.remove(i).unwrap_or(Value::Null));
        }
        let deadline = Instant::now() + within;
        loop {
            let v = self.recv(deadline)?;
            if v["method"] == method {
                return Ok(v);
            }
            self.events.push_back(v);
        }
    }

    /// Collects events for `d` (nothing more is expected to answer).
    fn drain(&mut self, d: Duration) {
        let deadline = Instant::now() + d;
        while let Ok(v) = self.recv(deadline) {
            self.events.push_back(v);
        }
    }

    fn eval(&mut self, session: &str, expr: &str) -> Result<Value> {
        let r = self.call(
            Some(session),
            "Runtime.evaluate",
            json!({ "expression": expr, "returnByValue": true, "awaitPromise": true }),
        )?;
        if let Some(e) = r.get("exceptionDetails") {
            bail!("evaluating `{expr}`: {e}");
        }
        Ok(r["result"]["value"].clone())
    }
}

/// What the browser showed for one page.
#[derive(Debug)]
pub struct PageReport {
    pub url: String,
    pub bytes: u64,
    /// Navigation start to the end of the load event.
    pub load_ms: f64,
    pub diagrams: usize,
    pub screenshot_bytes: usize,
    pub screenshot_size: (u32, u32),
}

/// Opens `page` and checks it (module docs); `regs` are the IR's registers
/// (name, offset) in document order. The screenshot goes to `screenshot`.
pub fn check_page(
    chromium: &Path,
    page: &Path,
    regs: &[(String, u64)],
    screenshot: &Path,
) -> Result<PageReport> {
    let registers: Vec<String> = regs.iter().map(|(n, _)| n.clone()).collect();
    let page = std::fs::canonicalize(page)
        .with_context(|| format!("page {} not found", page.display()))?;
    let url = format!("file://{}", page.display());
    let mut b = Browser::launch(chromium)?;
    let target = b.call(None, "Target.createTarget", json!({ "url": "about:blank" }))?;
    let target_id = target["targetId"].as_str().context("targetId")?.to_owned();
    let attached = b.call(
        None,
        "Target.attachToTarget",
        json!({ "targetId": target_id, "flatten": true }),
    )?;
    let s = attached["sessionId"]
        .as_str()
        .context("sessionId")?
        .to_owned();
    let s = s.as_str();
    for domain in ["Page", "Runtime", "Log", "Network"] {
        b.call(Some(s), &format!("{domain}.enable"), json!({}))?;
    }
    b.call(
        Some(s),
        "Emulation.setDeviceMetricsOverride",
        json!({ "width": 1100, "height": 760, "deviceScaleFactor": 1, "mobile": false }),
    )?;
    b.events.clear();
    b.call(Some(s), "Page.navigate", json!({ "url": url }))?;
    b.wait_event("Page.loadEventFired", Duration::from_secs(120))?;
    let load_ms = b
        .eval(
            s,
            "(() => { const n = performance.getEntriesByType('navigation')[0]; return n.loadEventEnd - n.startTime; })()",
        )?
        .as_f64()
        .context("navigation timing")?;
    let names = b.eval(
        s,
        "Array.from(document.querySelectorAll('section.reg')).map(e => e.querySelector('h3 a').textContent)",
    )?;
    let names: Vec<String> = names
        .as_array()
        .context("register names")?
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    if names != registers {
        bail!(
            "the page shows {} registers, the IR has {} (first difference at {:?})",
            names.len(),
            registers.len(),
            names.iter().zip(&registers).position(|(a, b)| a != b)
        );
    }
    let diagrams = b
        .eval(
            s,
            "document.querySelectorAll('section.reg > svg.bf').length",
        )?
        .as_u64()
        .context("diagram count")? as usize;
    if diagrams != registers.len() {
        bail!(
            "{diagrams} bit-field diagrams for {} registers",
            registers.len()
        );
    }
    // The filter: type a register's name, count what stays visible.
    if let Some(probe) = registers.first() {
        // The page's key: lower-case name and hex offset (RegisterDoc::search_key).
        let q = probe.to_ascii_lowercase();
        let want = regs
            .iter()
            .filter(|(n, o)| format!("{} {o:#x}", n.to_ascii_lowercase()).contains(&q))
            .count();
        let shown = b.eval(
            s,
            &format!(
                "new Promise(done => {{ const q = document.getElementById('q'); q.value = {q:?}; \
                 q.dispatchEvent(new Event('input')); setTimeout(() => done(Array.from(document.querySelectorAll('section.reg')).filter(e => !e.hidden).length), 300); }})"
            ),
        )?;
        if shown.as_u64() != Some(want as u64) {
            bail!("filtering by {q:?} shows {shown} registers, expected {want}");
        }
        let all = b.eval(
            s,
            "new Promise(done => { const q = document.getElementById('q'); q.value = ''; \
             q.dispatchEvent(new Event('input')); setTimeout(() => done(Array.from(document.querySelectorAll('section.reg')).filter(e => !e.hidden).length), 300); })",
        )?;
        if all.as_u64() != Some(registers.len() as u64) {
            bail!(
                "clearing the filter shows {all} registers, expected {}",
                registers.len()
            );
        }
    }
    // The picture: the first register space, its map and first diagrams.
    b.eval(
        s,
        "(() => { const h = document.querySelector('h2.space'); if (h) { h.scrollIntoView(); } return 0; })()",
    )?;
    let shot = b.call(
        Some(s),
        "Page.captureScreenshot",
        json!({ "format": "png", "optimizeForSpeed": false }),
    )?;
    let png = base64_decode(shot["data"].as_str().context("screenshot data")?)
        .context("screenshot is not base64")?;
    let screenshot_size = png_size(&png).context("screenshot is not a PNG")?;
    if screenshot_size != (1100, 760) || png.len() < 10_000 || png.len() > 2_000_000 {
        bail!(
            "unexpected screenshot: {:?} pixels, {} bytes",
            screenshot_size,
            png.len()
        );
    }
    std::fs::write(screenshot, &png)
        .with_context(|| format!("writing {}", screenshot.display()))?;
    b.drain(Duration::from_millis(300));
    let mut problems = Vec::new();
    for e in &b.events {
        let p = &e["params"];
        match e["method"].as_str().unwrap_or_default() {
            "Runtime.consoleAPICalled"
                if matches!(p["type"].as_str(), Some("error" | "warning" | "assert")) =>
            {
                problems.push(format!("console.{}: {}", p["type"], p["args"]));
            }
            "Runtime.exceptionThrown" => {
                problems.push(format!("exception: {}", p["exceptionDetails"]))
            }
            "Log.entryAdded"
                if matches!(p["entry"]["level"].as_str(), Some("error" | "warning")) =>
            {
                problems.push(format!("log: {}", p["entry"]["text"]));
            }
            "Network.requestWillBeSent" if p["request"]["url"].as_str() != Some(url.as_str()) => {
                problems.push(format!("network request: {}", p["request"]["url"]));
            }
            "Network.loadingFailed" => problems.push(format!("loading failed: {p}")),
            _ => {}
        }
    }
    if !problems.is_empty() {
        bail!("{}:\n{}", page.display(), problems.join("\n"));
    }
    Ok(PageReport {
        url,
        bytes: std::fs::metadata(&page)?.len(),
        load_ms,
        diagrams,
        screenshot_bytes: png.len(),
        screenshot_size,
    })
}

/// Standard base64 (with padding), as DevTools sends binary data. Small
/// enough that a crate is not worth it.
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    fn val(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let bytes: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    for chunk in bytes.chunks(4) {
        let pad = chunk.iter().rev().take_while(|c| **c == b'=').count();
        if pad > 2 {
            return None;
        }
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            n <<= 6;
            if i < 4 - pad {
                n |= val(*c)?;
            }
        }
        out.push((n >> 16) as u8);
        if pad < 2 {
            out.push((n >> 8) as u8);
        }
        if pad < 1 {
            out.push(n as u8);
        }
    }
    Some(out)
}

/// Width and height of a PNG, from its signature and IHDR chunk.
pub fn png_size(png: &[u8]) -> Option<(u32, u32)> {
    if png.get(..8)? != b"\x89PNG\r\n\x1a\n" || png.get(12..16)? != b"IHDR" {
        return None;
    }
    let w = u32::from_be_bytes(png.get(16..20)?.try_into().ok()?);
    let h = u32::from_be_bytes(png.get(20..24)?.try_into().ok()?);
    Some((w, h))
}

/// The registers (name, offset) of a spec, in document order (BARs by
/// index, each BAR's registers by offset, then configuration space's), as
/// the page names them: an array once, as `NAME[0..N]`.
pub fn registers(spec: &Path) -> Result<Vec<(String, u64)>> {
    let c = pcidevc_dsl::compile_file(spec);
    let dev = c
        .device
        .with_context(|| format!("{} does not compile", spec.display()))?;
    Ok(dev
        .bars
        .iter()
        .flat_map(|b| b.registers.iter())
        .chain(dev.config_registers.iter())
        .map(|r| dev.register(*r))
        .filter(|r| !r.is_array_tail())
        .map(|r| match &r.array {
            Some(a) => (format!("{}[0..{}]", a.array, a.count), r.offset),
            None => (r.name.clone(), r.offset),
        })
        .collect())
}

/// Every spec's page (and synthetic specs of `synthetic` registers each)
/// compiled afresh and checked in Chromium; screenshots go to `shots`.
pub fn check_all(
    ui: &Ui,
    chromium: &Path,
    synthetic: &[usize],
    shots: &Path,
) -> Result<Vec<(String, PageReport)>> {
    let (pcidevc, _) = crate::e2e::build_tools()?;
    let work = tempdir("pcidevc-browser")?;
    std::fs::create_dir_all(shots).with_context(|| format!("creating {}", shots.display()))?;
    let mut specs = crate::workspace::specs()?;
    for n in synthetic {
        let p = work.path().join(format!("syn{n}.pcidev"));
        std::fs::write(&p, pcidevc_dsl::synthetic::spec(*n))?;
        specs.push(p);
    }
    let mut out = Vec::new();
    for spec in specs {
        let dir = crate::e2e::compile(&pcidevc, &spec, work.path())?;
        let name = dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        let registers = registers(&spec)?;
        let report = ui.step(&format!("{name}: documentation page in Chromium"), |_| {
            check_page(
                chromium,
                &dir.join("doc/index.html"),
                &registers,
                &shots.join(format!("{name}.png")),
            )
        })?;
        ui.info(format!(
            "  {name}: {} registers, page {} bytes, loaded in {:.0} ms, screenshot {}x{} ({} bytes)",
            report.diagrams,
            report.bytes,
            report.load_ms,
            report.screenshot_size.0,
            report.screenshot_size.1,
            report.screenshot_bytes
        ));
        out.push((name, report));
        std::fs::remove_dir_all(&dir)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_and_png_headers() {
        assert_eq!(base64_decode("aGVsbG8=").as_deref(), Some(&b"hello"[..]));
        assert_eq!(base64_decode("aGk=").as_deref(), Some(&b"hi"[..]));
        assert_eq!(base64_decode("YWJj").as_deref(), Some(&b"abc"[..]));
        assert_eq!(base64_decode("a"), None);
        assert_eq!(base64_decode("a$==").as_deref(), None);
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend_from_slice(&1100u32.to_be_bytes());
        png.extend_from_slice(&760u32.to_be_bytes());
        assert_eq!(png_size(&png), Some((1100, 760)));
        assert_eq!(png_size(b"GIF89a"), None);
    }
}
