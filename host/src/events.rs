//! The model's time and outside world while it is served: a real clock
//! with one `timerfd` for all its timers, its streams connected to
//! [`streams`](crate::streams) backends, and its VMM requests carried out
//! over QMP ([`vmm`](crate::vmm)).
//!
//! Two sides share a [`Hub`]:
//!
//! - **The access path** (every guest region access, on the guard's or the
//!   `vfio_user` server's thread, with the model locked) sets the model's
//!   clock before the access ([`Hub::now`]) and afterwards calls
//!   [`Hub::after_access`]: bytes waiting for a stream are delivered while
//!   the stream is `ready`, the model's output and VMM requests are moved
//!   into the hub's queues, and the event thread is woken (one eventfd
//!   write) only when there is something for it to do: output, requests, a
//!   changed next deadline, or input buffer room. The access path never
//!   does I/O on a backend, so a backend that blocks or vanishes never
//!   stalls guest MMIO.
//! - **The event thread** ([`run`]) waits in `poll(2)` on the wake eventfd,
//!   the timerfd (armed for the model's [`next_deadline`]), each backend's
//!   input (while its input buffer has room: that is the back-pressure a
//!   full FIFO exerts) and output (while output waits), and QMP. It fires
//!   due timers (locking the model), writes output, reads input into the
//!   hub and sends QMP commands. No busy polling, no thread per timer.
//!
//! Lock order: the model (the backend mutex) before the hub's queues.
//!
//! Bounds: each stream's input buffer holds at most
//! [`MAX_INPUT_CHUNK`](pcidev_runtime::MAX_INPUT_CHUNK) bytes, each stream's
//! unsent output at most [`QUEUE_BYTES`](pcidev_runtime::QUEUE_BYTES) (more
//! is dropped and counted), so a guest that transmits faster than a backend
//! drains cannot make the host use unbounded memory.
//!
//! [`next_deadline`]: pcidev_runtime::PciModel::next_deadline

use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use pcidev_runtime::{MAX_INPUT_CHUNK, PciModel, QUEUE_BYTES, VmmRequest};
use rustix::event::{PollFd, PollFlags, poll};
use rustix::time::{
    Itimerspec, TimerfdClockId, TimerfdFlags, TimerfdTimerFlags, Timespec, timerfd_create,
    timerfd_settime,
};

use crate::lateness::Lateness;
use crate::streams::{Backend, BackendSpec, ReadOutcome, StreamArg};
use crate::vmm::QmpClient;

/// The outside world of one served model: a backend per stream (`null`
/// where none was given) and, optionally, QEMU's QMP socket.
#[derive(Debug)]
pub struct Outside {
    backends: Vec<Backend>,
    qmp: Option<QmpClient>,
}

impl Outside {
    /// Opens a backend for each `--stream` argument, checking each names one
    /// of `streams` (the model's, by id) and none is given twice.
    pub fn open(
        streams: &[&str],
        args: &[StreamArg],
        qmp: Option<std::path::PathBuf>,
    ) -> Result<Outside, String> {
        let mut specs = vec![BackendSpec::Null; streams.len()];
        let mut given = vec![false; streams.len()];
        for a in args {
            let Some(id) = streams.iter().position(|s| *s == a.name) else {
                return Err(if streams.is_empty() {
                    format!("--stream {}: this model has no streams", a.name)
                } else {
                    format!(
                        "--stream {}: no such stream (this model has: {})",
                        a.name,
                        streams.join(", ")
                    )
                });
            };
            if std::mem::replace(&mut given[id], true) {
                return Err(format!("--stream {}: given twice", a.name));
            }
            specs[id] = a.backend.clone();
        }
        let backends = specs
            .iter()
            .zip(streams)
            .map(|(spec, name)| {
                let b = Backend::open(spec).map_err(|e| format!("stream {name}: {e}"))?;
                if let Some(pts) = b.pty_path() {
                    // What QEMU prints for `-chardev pty`: where to attach.
                    log::info!("stream {name} redirected to {}", pts.display());
                }
                Ok(b)
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Outside {
            backends,
            qmp: qmp.map(QmpClient::new),
        })
    }

    /// Nothing outside: every stream `null`, no QMP.
    pub fn none(streams: usize) -> Outside {
        Outside {
            backends: (0..streams)
                .map(|_| Backend::open(&BackendSpec::Null).expect("the null backend always opens"))
                .collect(),
            qmp: None,
        }
    }
}

/// What the access path hands the event thread, and back.
#[derive(Debug, Default)]
struct Queues {
    /// Per stream: bytes from the backend the model has not taken yet.
    input: Vec<VecDeque<u8>>,
    /// Per stream: the model's output not yet written to the backend.
    output: Vec<VecDeque<u8>>,
    vmm: Vec<VmmRequest>,
    /// The model's next deadline as last seen (model clock, ns).
    deadline: Option<u64>,
    /// Output dropped because a stream's queue was full.
    dropped: u64,
    stop: bool,
}

/// Counters of what the event thread did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventStats {
    /// Timer fire calls that fired at least one timer.
    pub timer_wakeups: u64,
    /// Timers fired.
    pub timers_fired: u64,
    /// Bytes delivered to the model from backends.
    pub bytes_in: u64,
    /// Bytes written to backends.
    pub bytes_out: u64,
    /// Output bytes dropped (queue full, backend closed).
    pub bytes_dropped: u64,
    /// VMM requests handled.
    pub vmm_requests: u64,
    /// How late timer wakeups were (fire time minus the deadline).
    pub lateness: Lateness,
}

/// State shared by the access path and the event thread.
#[derive(Debug)]
pub struct Hub {
    start: Instant,
    /// An eventfd: written by the access path, read by the event thread.
    wake: OwnedFd,
    queues: Mutex<Queues>,
}

impl Hub {
    /// A hub for a model with `streams` streams; its clock starts at 0 now.
    pub fn new(streams: usize) -> io::Result<Hub> {
        Ok(Hub {
            start: Instant::now(),
            wake: rustix::event::eventfd(
                0,
                rustix::event::EventfdFlags::NONBLOCK | rustix::event::EventfdFlags::CLOEXEC,
            )?,
            queues: Mutex::new(Queues {
                input: vec![VecDeque::new(); streams],
                output: vec![VecDeque::new(); streams],
                ..Queues::default()
            }),
        })
    }

    /// The model's clock: ns since the hub was made.
    pub fn now(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    fn queues(&self) -> MutexGuard<'_, Queues> {
        self.queues.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn wake(&self) {
        // A full eventfd counter already means "woken".
        let _ = rustix::io::write(&self.wake, &1u64.to_ne_bytes());
    }

    /// Tell the event thread to finish.
    pub fn stop(&self) {
        self.queues().stop = true;
        self.wake();
    }

    /// After an access (the model locked): deliver waiting input while the
    /// model is ready, collect its output and VMM requests, note its next
    /// deadline, and wake the event thread if it has work.
    pub fn after_access(&self, model: &mut dyn PciModel) {
        let mut q = self.queues();
        let mut wake = false;
        for (s, input) in q.input.iter_mut().enumerate() {
            let had = input.len();
            while let Some(&b) = input.front() {
                if !model.stream_input(s, b) {
                    break;
                }
                input.pop_front();
            }
            // Room again: the event thread may read more.
            wake |= had == MAX_INPUT_CHUNK && input.len() < had;
        }
        let mut dropped = 0;
        for (s, output) in q.output.iter_mut().enumerate() {
            let out = model.take_output(s);
            if out.is_empty() {
                continue;
            }
            let room = QUEUE_BYTES.saturating_sub(output.len());
            dropped += out.len().saturating_sub(room) as u64;
            output.extend(out.into_iter().take(room));
            wake = true;
        }
        q.dropped += dropped;
        let reqs = model.take_vmm_requests();
        if !reqs.is_empty() {
            q.vmm.extend(reqs);
            wake = true;
        }
        let deadline = model.next_deadline();
        if deadline != q.deadline {
            q.deadline = deadline;
            wake = true;
        }
        drop(q);
        if wake {
            self.wake();
        }
    }
}

/// What the event thread needs of the served model: run a closure with it
/// locked (the backend mutex).
pub trait LockedModel: Sync {
    /// Runs `f` with the model locked; afterwards the caller's access-path
    /// bookkeeping (interrupt line, [`Hub::after_access`]) must have run.
    fn with_model(&self, f: &mut dyn FnMut(&mut dyn PciModel));
}

/// The event thread: runs until [`Hub::stop`]. Never panics on a backend's
/// behaviour; returns what it did.
pub fn run(hub: &Hub, model: &dyn LockedModel, mut outside: Outside) -> EventStats {
    let mut stats = EventStats::default();
    let timer = match timerfd_create(
        TimerfdClockId::Monotonic,
        TimerfdFlags::NONBLOCK | TimerfdFlags::CLOEXEC,
    ) {
        Ok(t) => t,
        Err(e) => {
            log::error!("timerfd: {e}; the model's timers will not fire");
            return stats;
        }
    };
    if let Some(q) = &mut outside.qmp
        && let Err(e) = q.connect()
    {
        log::info!("QMP not connected yet ({e}); retrying on the first VMM request");
    }
    let streams = outside.backends.len();
    let mut unsent: Vec<VecDeque<u8>> = vec![VecDeque::new(); streams];
    let mut armed: Option<u64> = None;
    let mut buf = vec![0u8; MAX_INPUT_CHUNK];
    loop {
        // 1. What to wait for.
        let (input_room, stop) = {
            let q = hub.queues();
            let room: Vec<usize> = q
                .input
                .iter()
                .map(|i| MAX_INPUT_CHUNK.saturating_sub(i.len()))
                .collect();
            (room, q.stop)
        };
        if stop {
            break;
        }
        let mut fds: Vec<PollFd<'_>> = Vec::new();
        let mut roles: Vec<Role> = Vec::new();
        fds.push(PollFd::new(&hub.wake, PollFlags::IN));
        roles.push(Role::Wake);
        fds.push(PollFd::new(&timer, PollFlags::IN));
        roles.push(Role::Timer);
        for (s, b) in outside.backends.iter().enumerate() {
            let wants_out = !unsent[s].is_empty();
            let in_fd = b.input_fd().filter(|_| input_room[s] > 0);
            let out_fd = b.output_fd().filter(|_| wants_out);
            match (in_fd, out_fd) {
                (Some(i), Some(o)) if same_fd(i, o) => {
                    fds.push(PollFd::from_borrowed_fd(i, PollFlags::IN | PollFlags::OUT));
                    roles.push(Role::Stream(s));
                }
                (i, o) => {
                    if let Some(i) = i {
                        fds.push(PollFd::from_borrowed_fd(i, PollFlags::IN));
                        roles.push(Role::Stream(s));
                    }
                    if let Some(o) = o {
                        fds.push(PollFd::from_borrowed_fd(o, PollFlags::OUT));
                        roles.push(Role::Stream(s));
                    }
                }
            }
        }
        if let Some(fd) = outside.qmp.as_ref().and_then(|q| q.fd()) {
            fds.push(PollFd::from_borrowed_fd(fd, PollFlags::IN));
            roles.push(Role::Qmp);
        }
        if let Err(e) = poll(&mut fds, None)
            && e != rustix::io::Errno::INTR
        {
            log::error!("poll: {e}; the event thread stops");
            break;
        }
        let ready: Vec<(Role, PollFlags)> = fds
            .iter()
            .zip(&roles)
            .filter(|(f, _)| !f.revents().is_empty())
            .map(|(f, r)| (*r, f.revents()))
            .collect();
        drop(fds);

        // 2. Handle it.
        let mut pump = false;
        for (role, ev) in ready {
            match role {
                Role::Wake => {
                    let mut count = [0u8; 8];
                    let _ = rustix::io::read(&hub.wake, &mut count);
                }
                Role::Timer => {
                    let mut tick = [0u8; 8];
                    let _ = rustix::io::read(&timer, &mut tick);
                    let now = hub.now();
                    if let Some(due) = armed {
                        stats.lateness.record(now.saturating_sub(due));
                    }
                    armed = None;
                    let mut fired = 0;
                    model.with_model(&mut |m| fired = m.fire_due(now));
                    if fired > 0 {
                        stats.timer_wakeups += 1;
                        stats.timers_fired += fired as u64;
                    }
                }
                Role::Stream(s) => {
                    let nval = ev.contains(PollFlags::NVAL);
                    if nval {
                        outside.backends[s].disable_input();
                    }
                    if ev.intersects(PollFlags::IN | PollFlags::HUP | PollFlags::ERR)
                        && input_room[s] > 0
                    {
                        match outside.backends[s].read(&mut buf[..input_room[s]]) {
                            ReadOutcome::Data(n) => {
                                hub.queues().input[s].extend(&buf[..n]);
                                stats.bytes_in += n as u64;
                                pump = true;
                            }
                            ReadOutcome::Nothing => {}
                            ReadOutcome::Closed => {
                                log::info!("stream {s}: backend closed");
                            }
                        }
                    }
                }
                Role::Qmp => {
                    if let Some(q) = &mut outside.qmp {
                        q.discard_input();
                    }
                }
            }
        }
        if pump {
            // Deliver the new input now (the access path also retries it
            // after every access, when the guest makes room).
            model.with_model(&mut |_| {});
        }

        // 3. Move the hub's output and requests out, then do the I/O
        // without any lock held.
        let (deadline, reqs) = {
            let mut q = hub.queues();
            for (s, out) in q.output.iter_mut().enumerate() {
                let room = QUEUE_BYTES.saturating_sub(unsent[s].len());
                stats.bytes_dropped += out.len().saturating_sub(room) as u64;
                unsent[s].extend(out.drain(..).take(room));
            }
            stats.bytes_dropped += std::mem::take(&mut q.dropped);
            (q.deadline, std::mem::take(&mut q.vmm))
        };
        for (s, pending) in unsent.iter_mut().enumerate() {
            while !pending.is_empty() {
                let (a, _) = pending.as_slices();
                let before = outside.backends[s].dropped;
                let n = outside.backends[s].write(a);
                stats.bytes_dropped += outside.backends[s].dropped - before;
                stats.bytes_out += (n as u64).saturating_sub(outside.backends[s].dropped - before);
                pending.drain(..n);
                if n == 0 {
                    break;
                }
            }
        }
        for r in reqs {
            stats.vmm_requests += 1;
            match &mut outside.qmp {
                Some(q) => q.perform(r),
                None => log::info!("vmm request {r:?} (no --qmp: not carried out)"),
            }
        }
        if deadline != armed {
            arm(&timer, deadline.map(|d| d.saturating_sub(hub.now())));
            armed = deadline;
        }
    }
    stats
}

#[derive(Debug, Clone, Copy)]
enum Role {
    Wake,
    Timer,
    Stream(usize),
    Qmp,
}

fn same_fd(a: BorrowedFd<'_>, b: BorrowedFd<'_>) -> bool {
    use std::os::fd::AsRawFd;
    a.as_raw_fd() == b.as_raw_fd()
}

/// Arms the timerfd `in_ns` from now (at least 1 ns: 0 would disarm it), or
/// disarms it.
fn arm(timer: &OwnedFd, in_ns: Option<u64>) {
    let value = match in_ns {
        Some(ns) => {
            let ns = ns.max(1);
            Timespec {
                tv_sec: (ns / 1_000_000_000) as i64,
                tv_nsec: (ns % 1_000_000_000) as i64,
            }
        }
        None => Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        },
    };
    let spec = Itimerspec {
        it_interval: Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        },
        it_value: value,
    };
    if let Err(e) = timerfd_settime(timer.as_fd(), TimerfdTimerFlags::empty(), &spec) {
        log::error!("timerfd_settime: {e}");
    }
}
