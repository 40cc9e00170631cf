//! The `pcidev-host` binary as a child process: a command with its output
//! piped, and waiting for the socket it serves on.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The `pcidev-host` binary, with stdin closed and stdout/stderr piped.
pub fn host() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pcidev-host"));
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Wait until `path` exists (the server is listening), at most `limit`;
/// panics if the child exits first.
pub fn wait_for(path: &Path, child: &mut Child, limit: Duration) {
    let start = Instant::now();
    while !path.exists() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("pcidev-host exited early: {status}");
        }
        assert!(
            start.elapsed() < limit,
            "{} never appeared (no socket)",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}
