//! Running external commands: logged (for long provisioning steps) or
//! captured (for quick queries).
//!
//! [`run_logged`] appends the command line and all of its output to a log
//! file, feeds each output line to the step's progress display, and on
//! failure returns an error naming the command, its exit status, the log
//! file and the log's last lines. No command is run through a shell.

use std::ffi::OsStr;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, bail};

use crate::ui::Step;

/// Number of log lines quoted in an error when a command fails.
pub const TAIL_LINES: usize = 30;

/// A command line rendered for humans (arguments quoted when needed).
pub fn display(cmd: &Command) -> String {
    let mut out = String::new();
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            out.push_str(&format!("{}={} ", k.to_string_lossy(), quote(v)));
        }
    }
    out.push_str(&quote(cmd.get_program()));
    for a in cmd.get_args() {
        out.push(' ');
        out.push_str(&quote(a));
    }
    out
}

fn quote(s: &OsStr) -> String {
    let s = s.to_string_lossy();
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        s.into_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Runs `cmd` to completion with stdin closed, appending its command line and
/// output to `log` and showing each output line as `step`'s message.
pub fn run_logged(step: &Step, cmd: &mut Command, log: &Path) -> Result<()> {
    let shown = display(cmd);
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating log directory {}", dir.display()))?;
    }
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .with_context(|| format!("opening log file {}", log.display()))?;
    writeln!(file, "$ {shown}")?;
    let file = Arc::new(Mutex::new(file));

    // SAFETY: prctl(PR_SET_PDEATHSIG) is async-signal-safe and touches no
    // memory of the parent. If xtask dies (signal, kill), the step's command
    // gets SIGTERM instead of running on unobserved; its stamp is never
    // written, so the next run redoes or resumes the step.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("could not start `{shown}` (is it installed?)"))?;

    let streams = [
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    ];
    std::thread::scope(|scope| {
        for stream in streams.into_iter().flatten() {
            let file = Arc::clone(&file);
            scope.spawn(move || {
                let mut reader = BufReader::new(stream);
                let mut buf = Vec::new();
                while reader.read_until(b'\n', &mut buf).unwrap_or(0) > 0 {
                    if let Ok(mut f) = file.lock() {
                        let _ = f.write_all(&buf);
                        if !buf.ends_with(b"\n") {
                            let _ = f.write_all(b"\n");
                        }
                    }
                    step.set_message(String::from_utf8_lossy(&buf).trim_end());
                    buf.clear();
                }
            });
        }
    });
    let status = child
        .wait()
        .with_context(|| format!("waiting for `{shown}`"))?;
    if let Ok(mut f) = file.lock() {
        let _ = writeln!(f, "[exit: {status}]");
    }
    if !status.success() {
        bail!(
            "`{shown}` failed ({status}); full log: {}\n--- last {TAIL_LINES} lines ---\n{}",
            log.display(),
            tail(log, TAIL_LINES)
        );
    }
    Ok(())
}

/// Runs `cmd` with stdin closed and returns its stdout; fails with stderr
/// when it exits unsuccessfully.
pub fn capture(cmd: &mut Command) -> Result<String> {
    let shown = display(cmd);
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("could not start `{shown}` (is it installed?)"))?;
    if !out.status.success() {
        bail!(
            "`{shown}` failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim_end()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The last `n` lines of a text file (empty if unreadable).
pub fn tail(path: &Path, n: usize) -> String {
    let mut text = String::new();
    if let Ok(mut f) = File::open(path) {
        let mut bytes = Vec::new();
        let _ = f.read_to_end(&mut bytes);
        text = String::from_utf8_lossy(&bytes).into_owned();
    }
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::{Mode, Ui};

    #[test]
    fn display_quotes_only_what_needs_it() {
        let mut c = Command::new("make");
        c.args(["-j2", "O=/tmp/b", "a b", "it's"]);
        assert_eq!(display(&c), r"make -j2 O=/tmp/b 'a b' 'it'\''s'");
    }

    #[test]
    fn failing_command_error_names_log_and_tail() {
        let dir = std::env::temp_dir().join(format!("xtask-exec-test-{}", std::process::id()));
        let log = dir.join("x.log");
        let ui = Ui::with_mode(Mode::Quiet);
        let err = ui
            .step("t", |s| {
                run_logged(
                    s,
                    Command::new("sh").args(["-c", "echo hello; echo oops >&2; exit 3"]),
                    &log,
                )
            })
            .unwrap_err();
        let msg = format!("{err:#}");
        assert!(msg.contains("x.log"), "{msg}");
        assert!(msg.contains("oops"), "{msg}");
        assert!(msg.contains("hello"), "{msg}");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn capture_returns_stdout() {
        let out = capture(Command::new("sh").args(["-c", "echo hi"])).unwrap();
        assert_eq!(out, "hi\n");
    }
}
