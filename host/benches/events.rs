//! Time and streams in `pcidev-host`, measured (issue: "timer lateness and
//! the added cost per guest MMIO of having timers and streams armed").
//!
//! Run: `cargo bench -p pcidev-host --bench events` (about 30 s;
//! `PCIDEV_LATENESS_SECS=N` sets each lateness phase's length, default 10).
//!
//! 1. **Timer lateness.** A spec's 1 ms periodic timer, fired by the real
//!    event thread (`pcidev_host::events::run`: one timerfd, `poll(2)`),
//!    each firing sending a byte to a Unix-socket peer that reads it. The
//!    fire time minus the due time, as a histogram: median, p99 and max,
//!    for a quiet guest and for a guest hammering MMIO from another thread
//!    (every access takes the model's lock, as the server's access path
//!    does, and yields between accesses as a socket round trip would).
//! 2. **The added cost per guest MMIO.** One 4-byte BAR read through the
//!    access path as the server runs it (model locked, clock set,
//!    `Hub::after_access` when the model has a clock), with nothing armed
//!    and no event thread against the same device with its 1 ms timer
//!    armed, its stream connected and the event thread running. Blocks of
//!    the two alternate; medians of the blocks' per-read means.
//! 3. **The same through the socket.** The read through `pcidev-host`'s
//!    vfio-user server from a client in this process (`DeviceServer::serve`
//!    against `serve_with` a connected outside and the timer armed),
//!    alternating blocks; medians.

use std::io::Read;
use std::os::unix::net::UnixListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pcidev_host::DeviceServer;
use pcidev_host::events::{self, EventStats, Hub, LockedModel, Outside};
use pcidev_host::streams::StreamArg;
use pcidev_interp::{DefaultHooks, Interp, Spec};
use pcidev_runtime::{COMMAND_MEMORY_SPACE, Model, PciModel};

/// A device with a periodic timer and a stream: `TICK` = N starts the timer
/// every N µs (0 stops it); each firing counts and sends one byte.
const SPEC: &str = r#"
device ticker {
    id 0x1b36:0x00fe;
    state ticks: u32 = 0;
    state scratch: u32 = 0;
    timer tick {
        ticks += 1;
        send line 0x2e;
    }
    stream line;
    bar 0 mem32 size 16 {
        register TICK @ 0x0 : u32 {
            on write {
                if value == 0 { stop tick; } else { start tick every value us; }
            }
        }
        register TICKS @ 0x4 : u32 ro { read ticks; }
        register SCRATCH @ 0x8 : u32 rw = 0;
    }
}
"#;

const TICK: u64 = 0x0;
const SCRATCH: u64 = 0x8;

fn spec() -> &'static Spec {
    Spec::load_str("ticker.pcidev", SPEC).expect("the bench spec compiles")
}

fn model() -> Model<Interp> {
    let mut m = spec().model(Box::new(DefaultHooks::quiet()));
    m.config_write(0x04, &COMMAND_MEMORY_SPACE.to_le_bytes());
    m
}

/// The model as the server holds it, with the access path's bookkeeping.
struct Served {
    hub: Option<Arc<Hub>>,
    model: Mutex<Model<Interp>>,
}

impl LockedModel for Served {
    fn with_model(&self, f: &mut dyn FnMut(&mut dyn PciModel)) {
        let mut m = self.model.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(h) = &self.hub {
            m.set_now(h.now());
        }
        f(&mut *m);
        if let Some(h) = &self.hub {
            h.after_access(&mut *m);
        }
    }
}

impl Served {
    fn new(clocked: bool) -> Served {
        Served {
            hub: clocked.then(|| Arc::new(Hub::new(1).expect("eventfd"))),
            model: Mutex::new(model()),
        }
    }

    fn write(&self, offset: u64, v: u32) {
        self.with_model(&mut |m| {
            let _ = m.bar_write(0, offset, &v.to_le_bytes());
        });
    }

    fn read(&self, offset: u64) -> u32 {
        let mut b = [0u8; 4];
        self.with_model(&mut |m| {
            let _ = m.bar_read(0, offset, &mut b);
        });
        u32::from_le_bytes(b)
    }
}

/// The stream's peer: a Unix socket a thread reads until it closes.
fn connected_outside(dir: &std::path::Path, name: &str) -> (Outside, std::thread::JoinHandle<u64>) {
    let path = dir.join(name);
    let listener = UnixListener::bind(&path).expect("bind the stream peer");
    let arg: StreamArg = format!("line=unix:{}", path.display())
        .parse()
        .expect("stream argument");
    let outside = Outside::open(&["line"], &[arg], None).expect("open the backend");
    let (mut peer, _) = listener.accept().expect("accept");
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        let mut total = 0u64;
        while let Ok(n) = peer.read(&mut buf) {
            if n == 0 {
                break;
            }
            total += n as u64;
        }
        total
    });
    (outside, reader)
}

/// Runs the event thread for `served` over `outside` while `body` runs.
fn with_events(served: &Served, outside: Outside, body: impl FnOnce()) -> EventStats {
    let hub = served.hub.as_ref().expect("a clocked model");
    std::thread::scope(|scope| {
        let t = scope.spawn(|| events::run(hub, served, outside));
        body();
        hub.stop();
        t.join().expect("the event thread")
    })
}

fn lateness(secs: u64, storm: bool, dir: &std::path::Path) {
    let served = Served::new(true);
    let (outside, reader) = connected_outside(dir, if storm { "storm.sock" } else { "quiet.sock" });
    let mut accesses = 0u64;
    let stats = with_events(&served, outside, || {
        served.write(TICK, 1000); // every 1 ms
        let stop = AtomicBool::new(false);
        std::thread::scope(|scope| {
            if storm {
                scope.spawn(|| {
                    while !stop.load(Ordering::Relaxed) {
                        served.write(SCRATCH, 1);
                        let _ = served.read(SCRATCH);
                        accesses += 2;
                        // Served, each access is a socket round trip that
                        // leaves the lock free in between; a bare loop
                        // would only measure the mutex's unfairness.
                        std::thread::yield_now();
                    }
                });
            }
            std::thread::sleep(Duration::from_secs(secs));
            stop.store(true, Ordering::Relaxed);
        });
        served.write(TICK, 0);
    });
    let ticks = served.read(0x4);
    drop(served);
    let sent = reader.join().unwrap_or(0);
    let l = &stats.lateness;
    println!(
        "timer lateness, 1 ms periodic for {secs} s, {}: {} wakeups ({ticks} firings, {sent} bytes to the peer{}); median {} us, p99 {} us, max {} us",
        if storm {
            "guest MMIO storm"
        } else {
            "quiet guest"
        },
        l.count(),
        if storm {
            format!(", {accesses} guest accesses meanwhile")
        } else {
            String::new()
        },
        l.quantile_us(0.5).unwrap_or(0),
        l.quantile_us(0.99).unwrap_or(0),
        l.max_ns() / 1000,
    );
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// ns per call of `f`, as the median of `blocks` means of `per_block` calls,
/// blocks of `a` and `b` alternating.
fn alternate(
    blocks: usize,
    per_block: u32,
    mut a: impl FnMut(),
    mut b: impl FnMut(),
) -> (f64, f64) {
    let (mut ta, mut tb) = (Vec::new(), Vec::new());
    for _ in 0..blocks {
        let t = Instant::now();
        for _ in 0..per_block {
            a();
        }
        ta.push(t.elapsed().as_nanos() as f64 / f64::from(per_block));
        let t = Instant::now();
        for _ in 0..per_block {
            b();
        }
        tb.push(t.elapsed().as_nanos() as f64 / f64::from(per_block));
    }
    (median(ta), median(tb))
}

fn access_path_cost(dir: &std::path::Path) {
    let idle = Served::new(false);
    let armed = Served::new(true);
    let (outside, reader) = connected_outside(dir, "armed.sock");
    with_events(&armed, outside, || {
        armed.write(TICK, 1000);
        let (none, with) = alternate(
            41,
            20_000,
            || {
                std::hint::black_box(idle.read(SCRATCH));
            },
            || {
                std::hint::black_box(armed.read(SCRATCH));
            },
        );
        println!(
            "access path, 4-byte BAR read: {none:.0} ns with nothing armed, {with:.0} ns with a 1 ms timer armed and a stream connected (+{:.0} ns, {:.2}x)",
            with - none,
            with / none
        );
        armed.write(TICK, 0);
    });
    drop(armed);
    let _ = reader.join();
}

fn socket_cost(dir: &std::path::Path) {
    let serve = |name: &str, outside: Option<Outside>| {
        let path = dir.join(name);
        let server = DeviceServer::bind(&path).expect("bind");
        let t = std::thread::spawn(move || {
            let mut m: Box<dyn PciModel> = Box::new(model());
            let _ = server.serve_with(&mut *m, outside);
        });
        let client = vfio_user::Client::new(&path).expect("connect");
        (client, t)
    };
    let (mut idle, t1) = serve("idle.sock", None);
    let (outside, reader) = connected_outside(dir, "socket-armed.sock");
    let (mut armed, t2) = serve("armed-server.sock", Some(outside));
    for c in [&mut idle, &mut armed] {
        c.region_write(7, 0x04, &COMMAND_MEMORY_SPACE.to_le_bytes())
            .expect("enable");
    }
    armed
        .region_write(0, TICK, &1000u32.to_le_bytes())
        .expect("arm");
    let read = |c: &mut vfio_user::Client| {
        let mut d = [0u8; 4];
        c.region_read(0, SCRATCH, &mut d).expect("read");
        std::hint::black_box(d);
    };
    let (none, with) = alternate(21, 500, || read(&mut idle), || read(&mut armed));
    println!(
        "through the socket, 4-byte BAR read: {:.1} us with nothing armed, {:.1} us with a 1 ms timer armed and a stream connected ({:.2}x)",
        none / 1000.0,
        with / 1000.0,
        with / none
    );
    armed
        .region_write(0, TICK, &0u32.to_le_bytes())
        .expect("disarm");
    drop(idle);
    drop(armed);
    let _ = t1.join();
    let _ = t2.join();
    let _ = reader.join();
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: then
    // run a short smoke version.
    let full = std::env::args().any(|a| a == "--bench");
    let secs = std::env::var("PCIDEV_LATENESS_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if full { 10 } else { 1 });
    let dir = tempfile::tempdir().expect("temp dir");
    lateness(secs, false, dir.path());
    lateness(secs, true, dir.path());
    access_path_cost(dir.path());
    socket_cost(dir.path());
}
