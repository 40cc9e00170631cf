//! The jail `pcidev-host` serves from: an unprivileged user and a seccomp
//! filter.
//!
//! Start-up (as whoever started the host, root in the e2e harness) opens
//! everything the server needs: the model (a spec file), the trace file,
//! stream backends, the listening socket (mode 0600, see
//! [`DeviceServer::bind`](crate::DeviceServer::bind)); it then accepts the
//! one client, removes the socket file and connects QMP. Before the first
//! byte from the client is read:
//!
//! 1. [`drop_privileges`] switches to `--user` (no supplementary groups,
//!    the user's group, the user's uid — real, effective and saved, so
//!    there is no way back);
//! 2. [`install_seccomp`] installs a seccomp-bpf filter, built with
//!    rust-vmm's `seccompiler` as Firecracker builds its own, on every
//!    thread of the process (`SECCOMP_FILTER_FLAG_TSYNC`; threads started
//!    later inherit it). It allows the system calls of [`ALLOWED`] and
//!    kills the whole process with `SIGSYS` on any other (no partial
//!    state: a process that has made a forbidden call is not trusted to
//!    go on). One filter serves all the host's threads (the guard, the
//!    `vfio_user` server, the event thread, the signal thread); Firecracker
//!    installs one per thread kind, which would narrow each thread's set
//!    further.
//!
//! The allowlist was found by tracing the host (`strace -f`) through its
//! tests: the in-process vfio-user client tests and the CLI tests (every
//! command, DMA maps of memfds, mmap-able windows, interrupts over
//! eventfds, timers, stream backends, QMP, SIGTERM) and the e2e boots.
//! `pcidev-host --no-seccomp` serves without the filter, for debugging.

use std::collections::BTreeMap;
use std::ffi::CString;

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};

/// The system calls the serving host makes, by what needs them.
pub const ALLOWED: &[(&str, &[i64])] = &[
    (
        "reading and writing sockets, eventfds, timerfds, stream backends, the trace and the log",
        &[
            libc::SYS_read,
            libc::SYS_readv,
            libc::SYS_write,
            libc::SYS_writev,
            libc::SYS_recvfrom,
            libc::SYS_recvmsg,
            libc::SYS_sendto,
            libc::SYS_sendmsg,
            libc::SYS_shutdown,
            libc::SYS_pread64,
            libc::SYS_pwrite64,
            libc::SYS_close,
            libc::SYS_fcntl,
            libc::SYS_lseek,
            // Only FIONBIO (set_nonblocking), FIOCLEX and TCGETS: see RULES.
            libc::SYS_ioctl,
        ],
    ),
    (
        "waiting: the event thread's poll, locks, sleeping",
        &[
            libc::SYS_poll,
            libc::SYS_ppoll,
            libc::SYS_futex,
            libc::SYS_nanosleep,
            libc::SYS_clock_nanosleep,
            libc::SYS_clock_gettime,
            libc::SYS_sched_yield,
        ],
    ),
    (
        "the internal socket pair between the framing guard and the vfio_user server, \
         reconnecting to QMP",
        &[
            // Only AF_UNIX: see RULES.
            libc::SYS_socket,
            libc::SYS_bind,
            libc::SYS_listen,
            libc::SYS_connect,
            libc::SYS_accept4,
            libc::SYS_getsockopt,
            libc::SYS_setsockopt,
            libc::SYS_getsockname,
        ],
    ),
    (
        "the model's timers and wake-ups, mmap-able windows",
        &[
            libc::SYS_eventfd2,
            libc::SYS_timerfd_create,
            libc::SYS_timerfd_settime,
            libc::SYS_memfd_create,
            libc::SYS_ftruncate,
        ],
    ),
    (
        "memory: the allocator, guest RAM mapped from DMA_MAP file descriptors",
        &[
            libc::SYS_mmap,
            libc::SYS_munmap,
            libc::SYS_mremap,
            libc::SYS_mprotect,
            libc::SYS_madvise,
            libc::SYS_brk,
        ],
    ),
    (
        "threads (a fixed number per connection) and their exit",
        &[
            libc::SYS_clone,
            libc::SYS_clone3,
            libc::SYS_set_robust_list,
            libc::SYS_rseq,
            libc::SYS_sigaltstack,
            libc::SYS_rt_sigprocmask,
            libc::SYS_rt_sigaction,
            libc::SYS_rt_sigreturn,
            // The kernel's way back into a call a signal interrupted.
            libc::SYS_restart_syscall,
            libc::SYS_sched_getaffinity,
            libc::SYS_gettid,
            libc::SYS_getpid,
            // Only PR_SET_NAME (naming a thread): see RULES.
            libc::SYS_prctl,
            libc::SYS_getrandom,
            libc::SYS_exit,
            libc::SYS_exit_group,
        ],
    ),
    (
        "the socket file's removal on SIGINT/SIGTERM (checked to be the server's own)",
        &[
            libc::SYS_newfstatat,
            libc::SYS_statx,
            libc::SYS_fstat,
            // Also a `pty:LINK` stream's link, at exit.
            libc::SYS_unlink,
        ],
    ),
];

/// Added to [`ALLOWED`] when the host saves snapshots (`--snapshot`): the
/// file is written beside its path and renamed over it. `openat` only
/// with the flags `File::create` passes (create and truncate, write-only),
/// so the host still cannot read any file; it can write only where its
/// user may.
pub const SNAPSHOT_FILE: (&str, &[i64]) = (
    "--snapshot: writing the snapshot file and renaming it into place",
    &[
        libc::SYS_openat,
        libc::SYS_fsync,
        libc::SYS_rename,
        libc::SYS_renameat,
        libc::SYS_renameat2,
    ],
);

/// `openat`'s flags under [`SNAPSHOT_FILE`] (argument 2).
const SNAPSHOT_OPEN_FLAGS: u64 =
    (libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC | libc::O_CLOEXEC) as u64;

/// Allowed system calls whose arguments are checked too (any of the
/// values given for the argument): `(call, argument index, values)`.
pub const RULES: &[(i64, u8, &[u64])] = &[
    (libc::SYS_socket, 0, &[libc::AF_UNIX as u64]),
    (
        libc::SYS_ioctl,
        1,
        &[libc::FIONBIO, libc::FIOCLEX, libc::TCGETS],
    ),
    (libc::SYS_prctl, 0, &[libc::PR_SET_NAME as u64]),
];

/// Whom the host serves as: a user name or a numeric uid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The user id switched to.
    pub uid: libc::uid_t,
    /// The group id switched to (the user's primary group; for a numeric
    /// uid without a password entry, the same number).
    pub gid: libc::gid_t,
}

impl std::str::FromStr for User {
    type Err = String;

    /// `NAME` (looked up in the password database) or `UID`.
    fn from_str(s: &str) -> Result<User, String> {
        if let Ok(uid) = s.parse::<libc::uid_t>() {
            return Ok(lookup_uid(uid).unwrap_or(User { uid, gid: uid }));
        }
        lookup_name(s).ok_or_else(|| format!("no such user {s:?}"))
    }
}

/// A password entry's uid and gid.
fn lookup_name(name: &str) -> Option<User> {
    let name = CString::new(name).ok()?;
    with_passwd(|pwd, buf, result| {
        // SAFETY: every pointer is valid for the call; `buf` outlives the
        // returned entry, which is only read in `with_passwd`.
        unsafe { libc::getpwnam_r(name.as_ptr(), pwd, buf.as_mut_ptr(), buf.len(), result) }
    })
}

fn lookup_uid(uid: libc::uid_t) -> Option<User> {
    with_passwd(|pwd, buf, result| {
        // SAFETY: as in `lookup_name`.
        unsafe { libc::getpwuid_r(uid, pwd, buf.as_mut_ptr(), buf.len(), result) }
    })
}

fn with_passwd(
    get: impl Fn(*mut libc::passwd, &mut [libc::c_char], *mut *mut libc::passwd) -> libc::c_int,
) -> Option<User> {
    let mut buf = vec![0 as libc::c_char; 16 << 10];
    // SAFETY: `passwd` is plain data; all-zero is a valid value.
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    if get(&mut pwd, &mut buf, &mut result) != 0 || result.is_null() {
        return None;
    }
    Some(User {
        uid: pwd.pw_uid,
        gid: pwd.pw_gid,
    })
}

/// Become `user` for good: no supplementary groups, its group, its uid
/// (real, effective and saved). Checks that root cannot be regained.
pub fn drop_privileges(user: &User) -> Result<(), String> {
    let os = |what: &str| format!("{what}: {}", std::io::Error::last_os_error());
    // SAFETY: plain system calls on integers and a null list of length 0.
    // glibc applies set*id to every thread of the process.
    unsafe {
        if libc::setgroups(0, std::ptr::null()) != 0 {
            return Err(os("setgroups"));
        }
        if libc::setresgid(user.gid, user.gid, user.gid) != 0 {
            return Err(os("setresgid"));
        }
        if libc::setresuid(user.uid, user.uid, user.uid) != 0 {
            return Err(os("setresuid"));
        }
        if user.uid != 0 && libc::setuid(0) == 0 {
            return Err("root could be regained after dropping privileges".into());
        }
    }
    Ok(())
}

/// The system calls allowed, by what needs them: [`ALLOWED`], and
/// [`SNAPSHOT_FILE`] when `snapshots`.
pub fn allowed(snapshots: bool) -> Vec<(&'static str, &'static [i64])> {
    let mut all = ALLOWED.to_vec();
    if snapshots {
        all.push(SNAPSHOT_FILE);
    }
    all
}

/// The filter: [`allowed`] allowed, anything else kills the process.
pub fn filter(snapshots: bool) -> Result<BpfProgram, String> {
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = allowed(snapshots)
        .iter()
        .flat_map(|(_, calls)| calls.iter().map(|&nr| (nr, Vec::new())))
        .collect();
    let snapshot_rules: &[(i64, u8, &[u64])] = &[(libc::SYS_openat, 2, &[SNAPSHOT_OPEN_FLAGS])];
    let extra = if snapshots { snapshot_rules } else { &[] };
    for &(nr, arg, values) in RULES.iter().chain(extra) {
        let one_of = values
            .iter()
            .map(|&v| {
                let c = SeccompCondition::new(arg, SeccompCmpArgLen::Dword, SeccompCmpOp::Eq, v)?;
                SeccompRule::new(vec![c])
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("seccomp rule: {e}"))?;
        rules.insert(nr, one_of);
    }
    let arch = TargetArch::try_from(std::env::consts::ARCH).map_err(|e| e.to_string())?;
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::KillProcess,
        SeccompAction::Allow,
        arch,
    )
    .map_err(|e| format!("seccomp filter: {e}"))?;
    BpfProgram::try_from(filter).map_err(|e| format!("seccomp filter: {e}"))
}

/// Install [`filter`] on every thread of the process (it also sets
/// `no_new_privs`). Irreversible. `snapshots`: see [`SNAPSHOT_FILE`].
pub fn install_seccomp(snapshots: bool) -> Result<usize, String> {
    let program = filter(snapshots)?;
    seccompiler::apply_filter_all_threads(&program)
        .map_err(|e| format!("installing the seccomp filter: {e}"))?;
    Ok(allowed(snapshots).iter().map(|(_, c)| c.len()).sum())
}

/// Make a system call the filter forbids (`ptrace(PTRACE_TRACEME)`, harmless
/// without it), for the test that shows a forbidden call kills the host.
/// Returns only when no filter stopped it.
pub fn forbidden_syscall() {
    // SAFETY: PTRACE_TRACEME only marks this process as traced by its
    // parent; with the filter installed the call never runs.
    unsafe {
        libc::ptrace(libc::PTRACE_TRACEME, 0, 0, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filter_compiles_and_forbids_the_test_call() {
        let program = filter(false).unwrap();
        filter(true).unwrap();
        assert!(!program.is_empty());
        let allowed: Vec<i64> = ALLOWED
            .iter()
            .flat_map(|(_, c)| c.iter().copied())
            .collect();
        assert!(!allowed.contains(&libc::SYS_ptrace));
        for (nr, _, _) in RULES {
            assert!(allowed.contains(nr), "rule for {nr}, which is not allowed");
        }
        for dangerous in [
            libc::SYS_execve,
            libc::SYS_open,
            libc::SYS_openat,
            libc::SYS_mount,
            libc::SYS_setuid,
            libc::SYS_kill,
        ] {
            assert!(!allowed.contains(&dangerous), "{dangerous} allowed");
        }
    }

    #[test]
    fn users_are_looked_up_by_name_and_number() {
        assert_eq!("root".parse::<User>(), Ok(User { uid: 0, gid: 0 }));
        assert_eq!("0".parse::<User>(), Ok(User { uid: 0, gid: 0 }));
        // A uid with no entry keeps its number as the group.
        assert_eq!(
            "4000000000".parse::<User>().map(|u| u.gid),
            Ok(4_000_000_000)
        );
        assert!("no-such-user-pcidev".parse::<User>().is_err());
    }
}
