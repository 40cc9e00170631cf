//! Progress reporting for provisioning steps.
//!
//! Every provisioning step runs inside [`Ui::step`]. On a terminal it shows an
//! indicatif spinner with the elapsed time and the last line the step's
//! command printed; when stderr is not a terminal (CI, pipes) or `CI` is set,
//! it prints plain lines instead: one when a step starts, a heartbeat with the
//! latest output line at most every [`HEARTBEAT`], and one when it ends.
//! Steps that found their artifact in the cache are reported as such.
//!
//! The `Ui` also records how long every step took, so a run can end with a
//! per-step timing summary ([`Ui::summary`]).

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// How often plain (non-TTY) output prints a "still running" line.
pub const HEARTBEAT: Duration = Duration::from_secs(30);

/// How progress is displayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Spinner with elapsed time (interactive terminal).
    Spinner,
    /// One line per event (CI, logs).
    Plain,
    /// Nothing is printed; timings are still recorded.
    Quiet,
}

/// Whether a step did work or found its result in the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepOutcome {
    /// The step ran.
    Ran,
    /// The step's artifact was already in the cache.
    Cached,
}

/// Timing record of one finished step.
#[derive(Debug, Clone)]
pub struct StepTiming {
    /// Step title as displayed.
    pub name: String,
    /// Wall-clock time the step took.
    pub elapsed: Duration,
    /// Ran or cached.
    pub outcome: StepOutcome,
}

/// Progress display and step timing recorder. Cheap to share by reference.
#[derive(Debug)]
pub struct Ui {
    mode: Mode,
    timings: Mutex<Vec<StepTiming>>,
}

impl Default for Ui {
    fn default() -> Self {
        Self::auto()
    }
}

impl Ui {
    /// Spinner on an interactive stderr, plain lines otherwise (or when `CI`
    /// is set to anything but `false`/`0`).
    pub fn auto() -> Self {
        let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
        let mode = if std::io::stderr().is_terminal() && !ci {
            Mode::Spinner
        } else {
            Mode::Plain
        };
        Self::with_mode(mode)
    }

    /// A `Ui` with an explicit display mode.
    pub fn with_mode(mode: Mode) -> Self {
        Ui {
            mode,
            timings: Mutex::new(Vec::new()),
        }
    }

    /// The display mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Prints a line that is not tied to a step (above any spinner).
    pub fn info(&self, msg: impl AsRef<str>) {
        if self.mode != Mode::Quiet {
            eprintln!("{}", msg.as_ref());
        }
    }

    /// Runs `f` as a step titled `name`, showing progress while it runs and
    /// recording its duration. `f` may call [`Step::cached`] to report that
    /// nothing needed doing.
    pub fn step<T>(
        &self,
        name: &str,
        f: impl FnOnce(&Step) -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        self.step_in(self.mode, name, f)
    }

    /// Like [`step`](Self::step) but without a spinner, for steps that
    /// write to the terminal themselves (e.g. a guest console).
    pub fn plain_step<T>(
        &self,
        name: &str,
        f: impl FnOnce(&Step) -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        let mode = match self.mode {
            Mode::Spinner => Mode::Plain,
            m => m,
        };
        self.step_in(mode, name, f)
    }

    fn step_in<T>(
        &self,
        mode: Mode,
        name: &str,
        f: impl FnOnce(&Step) -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        let step = Step::start(mode, name);
        let result = f(&step);
        let elapsed = step.started.elapsed();
        let outcome = if step.cached.lock().map(|c| *c).unwrap_or(false) {
            StepOutcome::Cached
        } else {
            StepOutcome::Ran
        };
        step.finish(result.is_ok(), outcome, elapsed);
        if let Ok(mut t) = self.timings.lock() {
            t.push(StepTiming {
                name: name.to_owned(),
                elapsed,
                outcome,
            });
        }
        result
    }

    /// Timings of all steps finished so far, in order.
    pub fn timings(&self) -> Vec<StepTiming> {
        self.timings.lock().map(|t| t.clone()).unwrap_or_default()
    }

    /// A table of step timings, one line per step, and the total.
    pub fn summary(&self) -> String {
        let timings = self.timings();
        let width = timings.iter().map(|t| t.name.len()).max().unwrap_or(0);
        let mut out = String::new();
        let mut total = Duration::ZERO;
        for t in &timings {
            total += t.elapsed;
            let what = match t.outcome {
                StepOutcome::Ran => "",
                StepOutcome::Cached => "  (cached)",
            };
            let _ = writeln!(
                out,
                "  {:<width$}  {:>9}{what}",
                t.name,
                fmt_duration(t.elapsed)
            );
        }
        let _ = writeln!(out, "  {:<width$}  {:>9}", "total", fmt_duration(total));
        out
    }
}

/// Handle to the running step, passed to the step's closure.
#[derive(Debug)]
pub struct Step {
    mode: Mode,
    name: String,
    started: Instant,
    bar: Option<ProgressBar>,
    last_beat: Mutex<Instant>,
    cached: Mutex<bool>,
}

impl Step {
    fn start(mode: Mode, name: &str) -> Step {
        let bar = match mode {
            Mode::Spinner => {
                let bar = ProgressBar::new_spinner();
                let style = ProgressStyle::with_template(
                    "{spinner:.cyan} [{elapsed:>4}] {prefix:.bold} {wide_msg:.dim}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_spinner());
                bar.set_style(style);
                bar.set_prefix(name.to_owned());
                bar.enable_steady_tick(Duration::from_millis(120));
                Some(bar)
            }
            Mode::Plain => {
                eprintln!("==> {name}");
                None
            }
            Mode::Quiet => None,
        };
        Step {
            mode,
            name: name.to_owned(),
            started: Instant::now(),
            bar,
            last_beat: Mutex::new(Instant::now()),
            cached: Mutex::new(false),
        }
    }

    /// Shows `msg` as the step's current activity (spinner message; in plain
    /// mode a heartbeat line at most every [`HEARTBEAT`]).
    pub fn set_message(&self, msg: &str) {
        let msg = msg.trim();
        if msg.is_empty() {
            return;
        }
        match self.mode {
            Mode::Spinner => {
                if let Some(bar) = &self.bar {
                    bar.set_message(msg.to_owned());
                }
            }
            Mode::Plain => {
                if let Ok(mut last) = self.last_beat.lock()
                    && last.elapsed() >= HEARTBEAT
                {
                    *last = Instant::now();
                    eprintln!(
                        "    [{}] {}",
                        fmt_duration(self.started.elapsed()),
                        truncate(msg, 150)
                    );
                }
            }
            Mode::Quiet => {}
        }
    }

    /// Prints a line under the step (kept on screen, unlike the message).
    pub fn println(&self, msg: impl AsRef<str>) {
        match (&self.bar, self.mode) {
            (Some(bar), _) => bar.println(format!("    {}", msg.as_ref())),
            (None, Mode::Quiet) => {}
            (None, _) => eprintln!("    {}", msg.as_ref()),
        }
    }

    /// Marks the step as satisfied from the cache; `detail` says by what.
    pub fn cached(&self, detail: impl AsRef<str>) {
        if let Ok(mut c) = self.cached.lock() {
            *c = true;
        }
        self.set_message(detail.as_ref());
        if let Some(bar) = &self.bar {
            bar.set_message(detail.as_ref().to_owned());
        }
    }

    /// Time since the step started.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    fn finish(&self, ok: bool, outcome: StepOutcome, elapsed: Duration) {
        let mark = if ok { "✔" } else { "✘" };
        let what = match (ok, outcome) {
            (false, _) => " FAILED",
            (true, StepOutcome::Cached) => " (cached)",
            (true, StepOutcome::Ran) => "",
        };
        let line = format!("{mark} {}{what} [{}]", self.name, fmt_duration(elapsed));
        match self.mode {
            Mode::Spinner => {
                if let Some(bar) = &self.bar {
                    bar.finish_and_clear();
                }
                eprintln!("{line}");
            }
            Mode::Plain => eprintln!("{line}"),
            Mode::Quiet => {}
        }
    }
}

impl Drop for Step {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar
            && !bar.is_finished()
        {
            bar.finish_and_clear();
        }
    }
}

/// `1m05s`, `12.3s`, `0.21s`.
pub fn fmt_duration(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs >= 60.0 {
        let s = d.as_secs();
        format!("{}m{:02}s", s / 60, s % 60)
    } else if secs >= 10.0 {
        format!("{secs:.1}s")
    } else {
        format!("{secs:.2}s")
    }
}

/// Human-readable byte size: `8.1 MiB`, `312 KiB`, `17 B`.
pub fn fmt_size(bytes: u64) -> String {
    const KIB: f64 = 1024.0;
    let b = bytes as f64;
    if b >= KIB * KIB * KIB {
        format!("{:.2} GiB", b / (KIB * KIB * KIB))
    } else if b >= KIB * KIB {
        format!("{:.1} MiB", b / (KIB * KIB))
    } else if b >= KIB {
        format!("{:.0} KiB", b / KIB)
    } else {
        format!("{bytes} B")
    }
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_format_compactly() {
        assert_eq!(fmt_duration(Duration::from_millis(210)), "0.21s");
        assert_eq!(fmt_duration(Duration::from_millis(12_340)), "12.3s");
        assert_eq!(fmt_duration(Duration::from_secs(65)), "1m05s");
    }

    #[test]
    fn sizes_format_in_binary_units() {
        assert_eq!(fmt_size(17), "17 B");
        assert_eq!(fmt_size(312 * 1024), "312 KiB");
        assert_eq!(fmt_size(8 * 1024 * 1024 + 100 * 1024), "8.1 MiB");
    }

    #[test]
    fn quiet_steps_record_timings_and_cache_hits() {
        let ui = Ui::with_mode(Mode::Quiet);
        ui.step("a", |_| Ok(())).unwrap();
        ui.step("b", |s| {
            s.cached("present");
            Ok(())
        })
        .unwrap();
        let err = ui.step("c", |_| -> anyhow::Result<()> { anyhow::bail!("boom") });
        assert!(err.is_err());
        let t = ui.timings();
        assert_eq!(t.len(), 3);
        assert_eq!(t[0].outcome, StepOutcome::Ran);
        assert_eq!(t[1].outcome, StepOutcome::Cached);
        assert!(ui.summary().contains("(cached)"));
    }
}
