//! Stock drivers as judges: the kernel's own, unmodified drivers (8250_pci,
//! pvpanic-pci, i6300esb; none for edu and pci-testdev) against QEMU's
//! built-in device and against the generated model served by
//! `pcidev-host`, at the same slot (00:04.0, behind the same VGA at 00:01.0)
//! with the same guest script, and what the guest saw compared.
//!
//! One boot per device and side ([`run`]) does all of:
//!
//! - the driver's kernel log lines and its `/sys` attributes
//!   (`PCIDEVC-ATTR name value` lines);
//! - the configuration space after firmware (`PCIDEVC-CFGDUMP`) and the
//!   writable masks, probed with the driver unbound and rebound afterwards
//!   (see [`crate::confspace`]);
//! - the device's own test ([`Exercise`]): bytes over the UART to and from a
//!   host socket, a guest panic seen over QMP, a watchdog that must not
//!   expire while pinged, stops on magic close and resets the machine when
//!   pinging stops.
//!
//! The harness listens on every socket QEMU uses (QMP, the UART's
//! chardev) before QEMU starts, and every wait has a deadline.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::confspace::{self, Probe};
use crate::initramfs::Builder;
use crate::qemu::{Boot, BootResult, Qemu};
use crate::qmp::{HostSocket, Qmp, read_until};
use crate::workspace::{repo_root, tempdir};

/// The slot both sides put the device in (`addr=` of `-device`).
pub const SLOT: &str = "4";

/// The watchdog's heartbeat (seconds) the guest asks for on the command
/// line: the driver's default of 30 s would make the test minutes long.
pub const HEARTBEAT_S: u64 = 2;

/// What the device's test does beyond the common checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exercise {
    /// Nothing: no stock driver binds (edu, pci-testdev).
    None,
    /// 8250_pci on pci-serial: ttyS1 is a 16550A, bytes cross both ways.
    Serial,
    /// pvpanic-pci: the guest panics; QMP sees the VM stop.
    Panic,
    /// i6300esb: pings keep the guest alive, magic close stops the timer,
    /// silence resets the machine.
    Watchdog,
}

/// A device QEMU has built in and a spec describes.
#[derive(Debug, Clone, Copy)]
pub struct StockDevice {
    /// The spec's and the model's name (`specs/<name>.pcidev`,
    /// `pcidev-host <name>`).
    pub name: &'static str,
    /// QEMU's `-device` name.
    pub qemu: &'static str,
    /// `0xVVVV`, as sysfs prints it.
    pub vendor: &'static str,
    /// `0xDDDD`.
    pub device: &'static str,
    /// The stock driver's name under /sys/bus/pci/drivers (`None`: none).
    pub driver: Option<&'static str>,
    /// Config offsets the probe must not write (write-once registers).
    pub no_write: &'static [u8],
    /// The spec's stream carrying the device's bytes (the UART's line).
    pub stream: Option<&'static str>,
    pub exercise: Exercise,
}

/// Every device of `specs/` that QEMU also has built in.
pub const DEVICES: &[StockDevice] = &[
    StockDevice {
        name: "edu",
        qemu: "edu",
        vendor: "0x1234",
        device: "0x11e8",
        driver: None,
        no_write: &[],
        stream: None,
        exercise: Exercise::None,
    },
    StockDevice {
        name: "pci_testdev",
        qemu: "pci-testdev",
        vendor: "0x1b36",
        device: "0x0005",
        driver: None,
        no_write: &[],
        stream: None,
        exercise: Exercise::None,
    },
    StockDevice {
        name: "pci_serial",
        qemu: "pci-serial",
        vendor: "0x1b36",
        device: "0x0002",
        driver: Some("serial"),
        no_write: &[],
        stream: Some("line"),
        exercise: Exercise::Serial,
    },
    StockDevice {
        name: "pvpanic_pci",
        qemu: "pvpanic-pci",
        vendor: "0x1b36",
        device: "0x0011",
        driver: Some("pvpanic-pci"),
        no_write: &[],
        stream: None,
        exercise: Exercise::Panic,
    },
    StockDevice {
        name: "i6300esb",
        qemu: "i6300esb",
        vendor: "0x8086",
        device: "0x25ab",
        driver: Some("i6300ESB timer"),
        // ESB_LOCK_REG: writing its lock bit arms the watchdog until reset.
        no_write: &[0x68],
        stream: None,
        exercise: Exercise::Watchdog,
    },
];

/// The device named `name`.
pub fn device(name: &str) -> Option<&'static StockDevice> {
    DEVICES.iter().find(|d| d.name == name)
}

/// Which device the guest drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// QEMU's built-in `-device`.
    Qemu,
    /// The generated model, served by `pcidev-host` over vfio-user.
    Model,
}

impl Side {
    pub const fn label(self) -> &'static str {
        match self {
            Side::Qemu => "QEMU's device",
            Side::Model => "generated model",
        }
    }
}

/// Helpers every device script starts with.
const COMMON: &str = r#"
pci_find() {
	for d in /sys/bus/pci/devices/*; do
		if [ "$(cat "$d/vendor")" = "$1" ] && [ "$(cat "$d/device")" = "$2" ]; then
			basename "$d"
			return 0
		fi
	done
	return 1
}
attr() {
	echo "PCIDEVC-ATTR $1 $2"
}
# probe_config BDF [NO-WRITE-OFFSET...]: dump, unbind, probe, rebind.
probe_config() {
	p=/sys/bus/pci/devices/$1
	shift
	echo "PCIDEVC-CFGDUMP $(od -An -v -tx1 "$p/config" | tr -s ' \n' '  ')"
	bound=""
	if [ -e "$p/driver" ]; then
		bound=$(basename "$(readlink "$p/driver")")
		echo "$(basename "$p")" > "$p/driver/unbind" || fail "unbind from $bound"
	fi
	/bin/cfgprobe "$p/config" "$@" || fail "cfgprobe failed"
	if [ -n "$bound" ]; then
		echo "$(basename "$p")" > "/sys/bus/pci/drivers/$bound/bind" || fail "rebind to $bound"
		[ -e "$p/driver" ] || fail "$bound did not bind again"
	fi
}
"#;

/// The host's long message to the guest: more than the 16-byte FIFO, so
/// the UART must hold the sender back (QEMU's chardev stops reading while
/// the receive FIFO is full).
pub fn host_long_message() -> Vec<u8> {
    (0..4096u32).map(|i| b'a' + (i * 7 % 26) as u8).collect()
}

/// The host's short message: below the receive FIFO's trigger level, so it
/// only reaches the driver through the character-timeout interrupt.
pub const HOST_SHORT_MESSAGE: &[u8] = b"hi\n";

/// What the guest sends over ttyS1, in order (`seq 1 1000` is 3893 bytes).
pub fn guest_stream() -> Vec<u8> {
    let mut v = b"hello\nready\n".to_vec();
    for i in 1..=1000 {
        v.extend_from_slice(format!("{i}\n").as_bytes());
    }
    v.extend_from_slice(b"bye\n");
    v
}

/// The guest script of `dev` (after [`COMMON`]).
pub fn script(dev: &StockDevice) -> String {
    let mut s = String::from(COMMON);
    s.push_str(&format!(
        "dev=$(pci_find {} {}) || fail \"no {} ({}:{}) on the bus\"\necho \"PCIDEVC-DEV $dev\"\n",
        dev.vendor, dev.device, dev.qemu, dev.vendor, dev.device
    ));
    if let Some(drv) = dev.driver {
        s.push_str(&format!(
            r#"[ -e /sys/bus/pci/devices/$dev/driver ] || fail "{drv} did not bind"
bound=$(basename "$(readlink /sys/bus/pci/devices/$dev/driver)")
[ "$bound" = "{drv}" ] || fail "bound to $bound, not {drv}"
attr driver "$bound"
dmesg | grep -F "$dev" | sed 's/^\[[ 0-9.]*\] /PCIDEVC-DMESG /'
"#
        ));
    }
    let skip: Vec<String> = dev.no_write.iter().map(|o| format!("{o:02x}")).collect();
    s.push_str(&format!("probe_config \"$dev\" {}\n", skip.join(" ")));
    s.push_str(match dev.exercise {
        Exercise::None => "",
        Exercise::Serial => SERIAL_SCRIPT,
        Exercise::Panic => PANIC_SCRIPT,
        Exercise::Watchdog => WATCHDOG_SCRIPT,
    });
    if dev.exercise == Exercise::Serial {
        s = s.replace(
            "@LONG_SHA256@",
            &crate::cache::sha256_hex(&host_long_message()),
        );
    }
    s
}

const SERIAL_SCRIPT: &str = r#"
dmesg | grep -q "$dev: ttyS1 I/O:0x[0-9a-f]* (irq = [0-9]*, base_baud = [0-9]*) is a 16550A" || fail "8250_pci did not report a 16550A on ttyS1"
for a in type port irq uartclk xmit_fifo_size io_type; do
	attr "ttyS1.$a" "$(cat /sys/class/tty/ttyS1/$a)"
done
exec 3<>/dev/ttyS1
stty -F /dev/ttyS1 raw -echo 115200
echo hello > /dev/ttyS1
read -t 20 line <&3 || fail "no short message from the host (character timeout)"
[ "$line" = hi ] || fail "short message read as '$line'"
echo ready > /dev/ttyS1
timeout 30 head -c 4096 <&3 > /tmp/rx || true
n=$(wc -c < /tmp/rx)
[ "$n" = 4096 ] || fail "long message: $n of 4096 bytes arrived"
sum=$(sha256sum < /tmp/rx | cut -d' ' -f1)
[ "$sum" = "@LONG_SHA256@" ] || fail "long message corrupted (sha256 $sum)"
seq 1 1000 > /dev/ttyS1
echo bye > /dev/ttyS1
exec 3<&-
if dmesg | grep -q 'nobody cared'; then fail "an interrupt nobody claimed"; fi
echo "pcidevc: serial exchange done"
"#;

const PANIC_SCRIPT: &str = r#"
attr capability "$(cat /sys/bus/pci/devices/$dev/capability)"
attr events "$(cat /sys/bus/pci/devices/$dev/events)"
echo "pcidevc: panicking"
echo c > /proc/sysrq-trigger
sleep 30
fail "still running 30 s after the panic"
"#;

const WATCHDOG_SCRIPT: &str = r#"
dmesg | grep -q "initialized. heartbeat=@HB@ sec" || fail "no heartbeat=@HB@ line from i6300esb"
exec 4>/dev/watchdog
i=0
while [ $i -lt @PINGS@ ]; do
	echo p >&4
	usleep 500000
	i=$((i + 1))
done
echo "pcidevc: watchdog alive after pings"
echo V >&4
exec 4>&-
sleep @QUIET@
echo "pcidevc: watchdog alive after magic close"
exec 4>/dev/watchdog
echo p >&4
echo "pcidevc: watchdog waiting for expiry"
sleep @GIVEUP@
fail "the watchdog did not reset the machine"
"#;

/// What one boot showed.
#[derive(Debug)]
pub struct StockRun {
    pub device: &'static StockDevice,
    pub side: Side,
    pub boot: BootResult,
    /// `PCIDEVC-ATTR` values.
    pub attrs: BTreeMap<String, String>,
    /// The driver's kernel log lines about the device, timestamps removed.
    pub dmesg: Vec<String>,
    pub probe: Option<Probe>,
    /// Every QMP event, in order.
    pub events: Vec<Value>,
    /// `query-status` after the panic (the panic test).
    pub status: Option<Value>,
    /// Bytes the host received from the guest's UART.
    pub serial_rx: Vec<u8>,
    /// What went wrong on the host's side of a socket.
    pub host_side_error: Option<String>,
}

/// Lines beginning with `PCIDEVC-<tag> ` (the rest of each).
fn tagged<'a>(console: &'a str, tag: &str) -> Vec<&'a str> {
    let tag = format!("PCIDEVC-{tag} ");
    console
        .lines()
        .filter_map(|l| l.split_once(tag.as_str()).map(|(_, r)| r.trim_end()))
        .collect()
}

impl StockRun {
    /// Whether the device's test passed; the error says what did not.
    pub fn verdict(&self) -> Result<()> {
        let c = &self.boot.console;
        if let Some(e) = &self.host_side_error {
            let guest = match &self.boot.outcome {
                crate::qemu::Outcome::Fail(r) => format!("; the guest said: {r}"),
                _ => String::new(),
            };
            bail!("host side: {e}{guest}");
        }
        if self.probe.is_none() {
            bail!("no configuration-space probe");
        }
        match self.device.exercise {
            Exercise::None | Exercise::Serial => {
                self.boot.ensure_passed()?;
                if self.device.exercise == Exercise::Serial && self.serial_rx != guest_stream() {
                    bail!(
                        "the host received {} bytes, not the {} the guest sent (first difference at {:?})",
                        self.serial_rx.len(),
                        guest_stream().len(),
                        self.serial_rx
                            .iter()
                            .zip(guest_stream())
                            .position(|(a, b)| *a != b)
                    );
                }
            }
            Exercise::Panic => {
                if !c.contains("pcidevc: panicking")
                    || !c.contains("Kernel panic - not syncing: sysrq triggered crash")
                {
                    self.boot.ensure_passed()?;
                    bail!("the guest did not panic");
                }
                let names: Vec<&str> = self
                    .events
                    .iter()
                    .filter_map(|e| e["event"].as_str())
                    .collect();
                if !names.contains(&"STOP") {
                    bail!("QMP saw no STOP after the panic (events {names:?})");
                }
                let want = match self.side {
                    Side::Qemu => "guest-panicked",
                    Side::Model => "paused",
                };
                let status = self.status.as_ref().map(|s| s["status"].clone());
                if status.as_ref().and_then(|s| s.as_str()) != Some(want) {
                    bail!("query-status after the panic: {status:?}, expected {want}");
                }
                if self.side == Side::Qemu && !names.contains(&"GUEST_PANICKED") {
                    bail!("QMP saw no GUEST_PANICKED (events {names:?})");
                }
            }
            Exercise::Watchdog => {
                for m in [
                    "pcidevc: watchdog alive after pings",
                    "pcidevc: watchdog alive after magic close",
                    "pcidevc: watchdog waiting for expiry",
                ] {
                    if !c.contains(m) {
                        self.boot.ensure_passed()?;
                        bail!("the guest never printed `{m}`");
                    }
                }
                let boots = crate::qemu::count_occurrences(c.as_bytes(), BOOT_MARKER.as_bytes());
                if boots < 2 {
                    self.boot.ensure_passed()?;
                    bail!("the guest booted {boots} time(s), not twice: no reset");
                }
                let names: Vec<&str> = self
                    .events
                    .iter()
                    .filter_map(|e| e["event"].as_str())
                    .collect();
                if !names.contains(&"RESET") {
                    bail!("QMP saw no RESET (events {names:?})");
                }
                if self.side == Side::Qemu && !names.contains(&"WATCHDOG") {
                    bail!("QMP saw no WATCHDOG event (events {names:?})");
                }
            }
        }
        Ok(())
    }
}

/// The line guest/init prints first on every boot.
const BOOT_MARKER: &str = "pcidevc: init running";

/// Boots `dev` on `side` and collects what the guest and QEMU showed.
pub fn run(
    kernel: &Path,
    qemu: &Qemu,
    dev: &'static StockDevice,
    side: Side,
    echo: bool,
) -> Result<StockRun> {
    let work = tempdir("pcidevc-stock")?;
    let probe = confspace::build_probe(work.path())?;
    let mut script = script(dev);
    let pings = 3 * HEARTBEAT_S * 2; // 0.5 s apart: three heartbeats
    script = script
        .replace("@HB@", &HEARTBEAT_S.to_string())
        .replace("@PINGS@", &pings.to_string())
        .replace("@QUIET@", &(3 * HEARTBEAT_S).to_string())
        .replace("@GIVEUP@", &(10 * HEARTBEAT_S).to_string());
    let initrd = work.path().join("stock.cpio.gz");
    Builder::new()
        .file("/bin/cfgprobe", std::fs::read(&probe)?, 0o755)
        .script(script)
        .write_to(&initrd)?;

    let stage = qemu.stage_dir()?;
    let qmp_sock = HostSocket::bind(&stage, "qmp.sock")?;
    let serial_sock = match dev.exercise {
        Exercise::Serial => Some(HostSocket::bind(&stage, "ttyS1.sock")?),
        _ => None,
    };
    let mut args: Vec<String> = vec!["-qmp".into(), qmp_sock.qmp_arg()];
    let mut served = None;
    match side {
        Side::Qemu => {
            let mut d = format!("{},addr={SLOT}", dev.qemu);
            if let Some(s) = &serial_sock {
                args.extend(["-chardev".into(), s.chardev_arg("uart")]);
                d.push_str(",chardev=uart");
            }
            args.extend(["-device".into(), "VGA".into(), "-device".into(), d]);
        }
        Side::Model => {
            let mut host_args: Vec<std::ffi::OsString> = Vec::new();
            // The model's stream goes where QEMU's chardev would: the
            // harness's socket.
            if let (Some(s), Some(stream)) = (&serial_sock, dev.stream) {
                host_args.push("--stream".into());
                host_args.push(format!("{stream}=unix:{}", s.host.display()).into());
            }
            // The host's own QMP connection, to carry out VMM requests.
            if matches!(dev.exercise, Exercise::Panic | Exercise::Watchdog) {
                let (host_path, inside) = stage.path("host-qmp.sock");
                args.extend([
                    "-qmp".into(),
                    format!("unix:{},server=on,wait=off", inside.display()),
                ]);
                host_args.push("--qmp".into());
                host_args.push(host_path.into());
            }
            let (_, host_bin) = crate::e2e::build_tools()?;
            let s = crate::e2e::serve_with(
                qemu,
                &host_bin,
                crate::e2e::HostModel::Registered(dev.name),
                work.path(),
                false,
                &crate::e2e::ServeOptions {
                    addr: Some(SLOT.into()),
                    host_args,
                },
            )?;
            args.extend(s.qemu_args.iter().cloned());
            served = Some(s);
        }
    }
    if dev.exercise == Exercise::Panic {
        args.extend(["-action".into(), "panic=pause".into()]);
    }

    let mut b = Boot::new(kernel, &initrd).args(&args);
    b.shared_memory = side == Side::Model;
    b.echo = echo;
    b.timeout = Duration::from_secs(180);
    // The panic test needs the kernel to stay down after panicking.
    b.append = format!("panic=0 i6300esb.heartbeat={HEARTBEAT_S}");
    if dev.exercise == Exercise::Watchdog {
        b.no_reboot = false;
        b.stop_when = Some((BOOT_MARKER.into(), 2));
    }

    let exercise = dev.exercise;
    let qmp_thread = std::thread::spawn(move || qmp_side(&qmp_sock, exercise));
    let serial_thread = serial_sock.map(|s| std::thread::spawn(move || serial_side(&s)));
    let boot = b.run(qemu)?;
    let (events, status, qmp_err) = match qmp_thread.join() {
        Ok(r) => r,
        Err(_) => (Vec::new(), None, Some("QMP thread panicked".into())),
    };
    let (serial_rx, serial_err) = match serial_thread.map(|t| t.join()) {
        None => (Vec::new(), None),
        Some(Ok(Ok(rx))) => (rx, None),
        Some(Ok(Err(e))) => (Vec::new(), Some(format!("{e:#}"))),
        Some(Err(_)) => (Vec::new(), Some("serial thread panicked".into())),
    };
    // A host its seccomp filter killed says so, whatever the guest saw.
    let host_problem = served.as_mut().and_then(|s| {
        let log = std::fs::read_to_string(&s.log).unwrap_or_default();
        crate::e2e::host_exit_problem(s.guard.try_status(), &log)
    });
    drop(served);
    let console = &boot.console;
    let attrs = tagged(console, "ATTR")
        .into_iter()
        .filter_map(|l| l.split_once(' '))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let dmesg = tagged(console, "DMESG")
        .into_iter()
        .map(str::to_owned)
        .collect();
    let probe = Probe::parse(console).ok();
    Ok(StockRun {
        device: dev,
        side,
        attrs,
        dmesg,
        probe,
        events,
        status,
        serial_rx,
        host_side_error: host_problem.or(serial_err).or(qmp_err),
        boot,
    })
}

type QmpOutcome = (Vec<Value>, Option<Value>, Option<String>);

/// The harness's QMP session: record events; for the panic test, once the
/// VM stopped, ask its status and end QEMU.
fn qmp_side(sock: &HostSocket, exercise: Exercise) -> QmpOutcome {
    let run = || -> Result<(Qmp, Option<Value>)> {
        let stream = sock.accept(Duration::from_secs(60))?;
        let mut q = Qmp::handshake(stream, Duration::from_secs(30))?;
        let deadline = Instant::now() + Duration::from_secs(180);
        let mut status = None;
        if exercise == Exercise::Panic {
            if q.wait_event(&["STOP"], deadline)?.is_some() {
                // GUEST_PANICKED follows STOP in the same breath.
                let _ = q.wait_event(&["GUEST_PANICKED"], Instant::now() + Duration::from_secs(2));
                status = Some(q.execute("query-status", None, Duration::from_secs(10))?);
                let _ = q.execute("quit", None, Duration::from_secs(10));
            }
        } else {
            q.drain(deadline)?;
        }
        Ok((q, status))
    };
    match run() {
        Ok((q, status)) => (q.events.into_iter().map(|(_, e)| e).collect(), status, None),
        Err(e) => (Vec::new(), None, Some(format!("{e:#}"))),
    }
}

/// The host's end of the UART: wait for `hello`, send the short message,
/// wait for `ready`, send the long one, then collect until `bye`.
fn serial_side(sock: &HostSocket) -> Result<Vec<u8>> {
    use std::io::Write;
    let mut s = sock.accept(Duration::from_secs(60))?;
    let mut rx = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(170);
    let has = |needle: &'static [u8]| move |b: &[u8]| b.windows(needle.len()).any(|w| w == needle);
    if !read_until(&mut s, &mut rx, deadline, has(b"hello\n"))? {
        bail!(
            "the guest never sent hello (got {:?})",
            String::from_utf8_lossy(&rx)
        );
    }
    s.write_all(HOST_SHORT_MESSAGE)?;
    if !read_until(&mut s, &mut rx, deadline, has(b"ready\n"))? {
        bail!(
            "the guest never sent ready (got {:?})",
            String::from_utf8_lossy(&rx)
        );
    }
    s.write_all(&host_long_message())?;
    if !read_until(&mut s, &mut rx, deadline, has(b"bye\n"))? {
        bail!("the guest never sent bye ({} bytes received)", rx.len());
    }
    Ok(rx)
}

/// The models `pcidev-host --list` names.
pub fn served_models() -> Result<Vec<String>> {
    let (_, host_bin) = crate::e2e::build_tools()?;
    let out = std::process::Command::new(&host_bin)
        .arg("--list")
        .output()
        .with_context(|| format!("running {} --list", host_bin.display()))?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect())
}

/// The spec of `dev`, and the configuration-space differences it states.
pub fn spec_differences(
    dev: &StockDevice,
) -> Result<Vec<(std::ops::RangeInclusive<usize>, String)>> {
    let path = repo_root().join(format!("specs/{}.pcidev", dev.name));
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    confspace::stated_differences(&text)
}

/// How a side that was not run is reported (a prefix: the reason follows).
pub const NOT_RUN: &str = "not run";

/// One device's result on both sides, and how they compare.
#[derive(Debug)]
pub struct Comparison {
    pub device: &'static StockDevice,
    /// Per side: the run, or why it could not run or did not pass.
    pub qemu: Result<StockRun, String>,
    pub model: Result<StockRun, String>,
    /// Configuration-space differences (with the spec's reasons where
    /// stated); empty when a side has no probe.
    pub config: Vec<confspace::Difference>,
    /// Attributes and driver log lines that differ: `(what, QEMU, model)`.
    pub observed: Vec<(String, String, String)>,
}

impl Comparison {
    /// `pass`, or the failure, of one side.
    pub fn side_verdict(&self, side: Side) -> Result<(), String> {
        let r = match side {
            Side::Qemu => &self.qemu,
            Side::Model => &self.model,
        };
        match r {
            Ok(run) => run.verdict().map_err(|e| format!("{e:#}")),
            Err(e) => Err(e.clone()),
        }
    }

    /// Differences the spec does not state.
    pub fn unexplained(&self) -> Vec<&confspace::Difference> {
        self.config.iter().filter(|d| d.stated.is_none()).collect()
    }

    /// Boot wall time of a side.
    pub fn boot_time(&self, side: Side) -> Option<Duration> {
        match side {
            Side::Qemu => self.qemu.as_ref().ok().map(|r| r.boot.elapsed),
            Side::Model => self.model.as_ref().ok().map(|r| r.boot.elapsed),
        }
    }
}

/// Runs `dev` on QEMU's device and, when `model` is set, on the model, and
/// compares what the guest saw.
pub fn compare(
    kernel: &Path,
    qemu: &Qemu,
    dev: &'static StockDevice,
    model: bool,
    echo: bool,
) -> Result<Comparison> {
    let q = run(kernel, qemu, dev, Side::Qemu, echo).map_err(|e| format!("{e:#}"));
    let spec = repo_root().join(format!("specs/{}.pcidev", dev.name));
    let m = if !model {
        Err(NOT_RUN.to_owned())
    } else if !spec.exists() {
        Err(format!("{NOT_RUN}: no specs/{}.pcidev yet", dev.name))
    } else if !served_models()?.iter().any(|m| m == dev.name) {
        Err(format!(
            "{NOT_RUN}: pcidev-host does not serve {} yet",
            dev.name
        ))
    } else {
        run(kernel, qemu, dev, Side::Model, echo).map_err(|e| format!("{e:#}"))
    };
    let stated = if spec.exists() {
        spec_differences(dev)?
    } else {
        Vec::new()
    };
    let mut config = Vec::new();
    let mut observed = Vec::new();
    if let (Ok(a), Ok(b)) = (&q, &m) {
        if let (Some(pa), Some(pb)) = (&a.probe, &b.probe) {
            config = confspace::compare(pa, pb, &stated);
        }
        let keys: std::collections::BTreeSet<&String> =
            a.attrs.keys().chain(b.attrs.keys()).collect();
        for k in keys {
            let (x, y) = (a.attrs.get(k), b.attrs.get(k));
            if x != y {
                observed.push((
                    format!("attribute {k}"),
                    x.cloned().unwrap_or_default(),
                    y.cloned().unwrap_or_default(),
                ));
            }
        }
        if a.dmesg != b.dmesg {
            observed.push((
                "driver log".into(),
                a.dmesg.join(" | "),
                b.dmesg.join(" | "),
            ));
        }
    }
    Ok(Comparison {
        device: dev,
        qemu: q,
        model: m,
        config,
        observed,
    })
}

/// A human-readable report of comparisons: the pass/fail table per device
/// and side, boot times, and every difference.
pub fn report(results: &[Comparison]) -> String {
    let mut s = format!(
        "{:<12} {:<14} {:<14} {:>8} {:>8}  config\n",
        "device", "QEMU's device", "model", "t QEMU", "t model"
    );
    let t = |d: Option<Duration>| d.map_or("-".to_owned(), crate::ui::fmt_duration);
    for c in results {
        let v = |side| match c.side_verdict(side) {
            Ok(()) => "pass".to_owned(),
            Err(e) if e.starts_with(NOT_RUN) => NOT_RUN.to_owned(),
            Err(_) => "FAIL".to_owned(),
        };
        let cfg = if c.model.is_ok() && c.qemu.is_ok() {
            format!(
                "{} difference(s), {} unexplained",
                c.config.len(),
                c.unexplained().len()
            )
        } else {
            "-".to_owned()
        };
        s.push_str(&format!(
            "{:<12} {:<14} {:<14} {:>8} {:>8}  {cfg}\n",
            c.device.name,
            v(Side::Qemu),
            v(Side::Model),
            t(c.boot_time(Side::Qemu)),
            t(c.boot_time(Side::Model)),
        ));
    }
    for c in results {
        for side in [Side::Qemu, Side::Model] {
            if let Err(e) = c.side_verdict(side) {
                let first: Vec<&str> = e.lines().take(12).collect();
                s.push_str(&format!(
                    "\n{} on {}: {}\n",
                    c.device.name,
                    side.label(),
                    first.join("\n  ")
                ));
            }
        }
        if !c.config.is_empty() {
            s.push_str(&format!(
                "\n{}: configuration space, QEMU vs model\n",
                c.device.name
            ));
            for d in &c.config {
                s.push_str(&format!("  {d}\n"));
            }
        }
        for (what, a, b) in &c.observed {
            s.push_str(&format!(
                "\n{}: {what} differs\n  QEMU:  {a}\n  model: {b}\n",
                c.device.name
            ));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_device_has_a_script_with_its_ids() {
        for d in DEVICES {
            let s = script(d);
            assert!(
                s.contains(&format!("pci_find {} {}", d.vendor, d.device)),
                "{}",
                d.name
            );
            assert!(s.contains("probe_config"), "{}", d.name);
            assert!(!s.contains("@LONG_SHA256@"), "{}", d.name);
        }
        assert!(script(device("i6300esb").unwrap()).contains("probe_config \"$dev\" 68"));
    }

    #[test]
    fn the_long_message_overruns_the_fifo_and_the_guest_stream_is_exact() {
        assert!(host_long_message().len() > 16 * 16);
        assert!(
            HOST_SHORT_MESSAGE.len() < 8,
            "below the 16550A's trigger level"
        );
        let g = guest_stream();
        assert!(g.starts_with(b"hello\nready\n1\n2\n"));
        assert!(g.ends_with(b"999\n1000\nbye\n"));
        assert_eq!(g.len(), 12 + 3893 + 4);
    }

    #[test]
    fn tagged_lines_are_found_among_kernel_messages() {
        let c = "[ 1.0] x\nPCIDEVC-ATTR driver serial\n[ 2.0] PCIDEVC-ATTR ttyS1.type 4\r\n";
        assert_eq!(tagged(c, "ATTR"), ["driver serial", "ttyS1.type 4"]);
    }
}
