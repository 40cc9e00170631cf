//! The guest side of a boot: the test scripts the initramfs runs
//! ([`guest_script`] for a generated driver, [`own_driver_script`] for a
//! user's), and the parsing of the self-test verdicts they make the driver
//! print ([`verdicts`]).

use std::time::Duration;

/// The guest test script: check no module of the driver's name is in the
/// kernel yet, claim the device `vendor:device` for the driver (see
/// [`claim_device`]), load the driver (a module file in
/// `/lib/modules/`, not loaded by init), wait for its verdict, reload it
/// `reloads` times, and fail on any oops or warning. A module of the same
/// name already in the kernel (a built-in driver named like the device,
/// such as `i6300esb` or `pvpanic_pci`) fails the run with that reason,
/// before the device is taken from its driver, where `insmod` would
/// refuse the module.
///
/// `module` is the module's name, which is also the name the generated
/// drivers register their `pci_driver` under (`KBUILD_MODNAME` in C, the
/// module's `NAME` in Rust): the name `driver_override` takes.
pub fn guest_script(module: &str, vendor: u16, device: u16, reloads: usize) -> String {
    format!(
        r#"
m={module}
if [ -e /sys/module/$m ]; then
	fail "the guest kernel already has a module named $m (built in): the generated $m.ko cannot load under that name"
fi
{claim}
echo "pcidevc: insmod $m.ko"
insmod /lib/modules/$m.ko || fail "insmod $m"
wait_dmesg "selftest: " 20
wait_dmesg " passed" 20
for i in $(seq 1 {reloads}); do
	rmmod $m || fail "rmmod $m (reload $i)"
	insmod /lib/modules/$m.ko || fail "insmod $m (reload $i)"
	n=$((i + 1))
	t=200
	while [ "$(dmesg | grep -c 'selftest: .* passed')" -lt "$n" ]; do
		t=$((t - 1)); [ "$t" -gt 0 ] || fail "no verdict after reload $i"
		usleep 100000
	done
done
rmmod $m || fail "final rmmod $m"
bad=$(dmesg | grep -o 'selftest: [0-9]*/[0-9]* passed' | awk '{{ split($2, a, "/"); if (a[1] != a[2]) n++ }} END {{ print n + 0 }}')
[ "$bad" = 0 ] || fail "$bad self-test run(s) did not pass every step"
if dmesg | grep -E -q 'Oops|BUG:|WARNING:|Call Trace|leak'; then
	dmesg | grep -E 'Oops|BUG:|WARNING:|Call Trace|leak'
	fail "the kernel logged an oops, bug or warning"
fi
"#,
        claim = claim_device(vendor, device)
    )
}

/// Shell lines that take the PCI device `vendor:device` away from another
/// driver before `$m` (the driver's name) is loaded: the guest kernel's own
/// drivers (8250_pci for pci-serial, i6300esb, pvpanic-pci, ...) bind such a
/// device at boot, and a driver loaded later never gets it. For each
/// device with that id bound to a driver other than `$m`, it writes `$m` to
/// the device's `driver_override` (from then on the PCI core binds only `$m`
/// to it, so unloads and reloads of `$m` do not give it back) and unbinds the
/// device from that driver, printing which one. An unbound device, or one
/// bound to `$m` already, is left alone; no device with the id prints a
/// line and changes nothing (the verdict wait then fails).
pub fn claim_device(vendor: u16, device: u16) -> String {
    format!(
        r#"id={vendor:04x}:{device:04x}
found=""
for d in {PCI_DEVICES}/*; do
	[ "$(cat "$d/vendor")" = "0x{vendor:04x}" ] && [ "$(cat "$d/device")" = "0x{device:04x}" ] || continue
	found="$found ${{d##*/}}"
	[ -e "$d/driver" ] || continue
	drv=$(readlink "$d/driver")
	drv=${{drv##*/}}
	[ "$drv" != "$m" ] || continue
	echo "$m" > "$d/driver_override" || fail "writing $d/driver_override"
	echo "${{d##*/}}" > "$d/driver/unbind" || fail "unbinding ${{d##*/}} from $drv"
	echo "pcidevc: unbound ${{d##*/}} ($id) from driver $drv; driver_override=$m"
done
[ -n "$found" ] || echo "pcidevc: no PCI device $id in {PCI_DEVICES}""#
    )
}

/// Where the guest's PCI devices are listed.
const PCI_DEVICES: &str = "/sys/bus/pci/devices";

/// Parse every `selftest: P/N passed` line of a console log (the drivers
/// add `, S skipped` when they skipped steps only a host can run; skipped
/// steps are counted in neither P nor N).
pub fn verdicts(console: &str) -> Vec<(u32, u32)> {
    console
        .lines()
        .filter_map(|l| verdict(l).map(|(p, n, _)| (p, n)))
        .collect()
}

/// `(passed, run, skipped)` of one verdict line.
fn verdict(line: &str) -> Option<(u32, u32, u32)> {
    let rest = &line[line.find("selftest: ")? + "selftest: ".len()..];
    let (rest, skipped) = match rest.trim_end().strip_suffix(" skipped") {
        Some(r) => {
            let (r, s) = r.rsplit_once(", ")?;
            (r, s.trim().parse().ok()?)
        }
        None => (rest, 0),
    };
    let rest = rest.trim_end().strip_suffix(" passed")?.trim();
    let (p, n) = rest
        .rsplit_once(' ')
        .map_or(rest, |(_, t)| t)
        .split_once('/')?;
    Some((p.trim().parse().ok()?, n.trim().parse().ok()?, skipped))
}

/// The guest test script for a user's own driver: the module must bind
/// to a PCI device within 10 s; after `settle` seconds any self-test
/// verdict it printed must pass; it must unload; the kernel must log no
/// oops or warning.
pub fn own_driver_script(module: &str, settle: u32) -> String {
    format!(
        r#"
m={module}
t=100
bound=""
while :; do
	for d in /sys/bus/pci/devices/*; do
		mod=$(readlink "$d/driver/module" 2>/dev/null || true)
		if [ "${{mod##*/}}" = "$m" ]; then bound="${{d##*/}}"; fi
	done
	[ -n "$bound" ] && break
	t=$((t - 1))
	[ "$t" -gt 0 ] || fail "module $m bound to no PCI device within 10 s (does its id table match the spec's id?)"
	usleep 100000
done
echo "pcidevc: module $m bound to $bound"
sleep {settle}
if dmesg | grep -q 'selftest: '; then wait_dmesg " passed" 20; fi
rmmod $m || fail "rmmod $m"
bad=$(dmesg | grep -o 'selftest: [0-9]*/[0-9]* passed' | awk '{{ split($2, a, "/"); if (a[1] != a[2]) n++ }} END {{ print n + 0 }}')
[ "$bad" = 0 ] || fail "$bad self-test run(s) did not pass every step"
if dmesg | grep -E -q 'Oops|BUG:|WARNING:|Call Trace|leak'; then
	dmesg | grep -E 'Oops|BUG:|WARNING:|Call Trace|leak'
	fail "the kernel logged an oops, bug or warning"
fi
echo "pcidevc: module $m unloaded cleanly"
"#
    )
}

/// Seconds a user's driver runs before the harness unloads it.
pub const OWN_DRIVER_SETTLE_SECS: u32 = 2;

/// Guest time of the first verdict (the kernel's `[ seconds]` stamp), capped
/// by the wall time of the whole boot.
pub(super) fn first_verdict_time(console: &str, wall: Duration) -> Option<Duration> {
    let line = console.lines().find(|l| verdict(l).is_some())?;
    let stamp = line
        .trim_start()
        .strip_prefix('[')?
        .split(']')
        .next()?
        .trim()
        .parse::<f64>()
        .ok()?;
    Some(Duration::from_secs_f64(stamp).min(wall))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdict_lines_are_parsed() {
        let console = "[    1.234567] hello_tic 0000:00:03.0: hello_tic: selftest: 15/15 passed\n\
                       noise selftest: nothing\n\
                       [    2.000000] x: selftest: 3/4 passed\n\
                       [    3.000000] v2: selftest: 7/7 passed, 5 skipped\n\
                       v2: selftest: a: step 1 (line 3): input line \"x\": skipped: host only\n";
        assert_eq!(verdicts(console), vec![(15, 15), (3, 4), (7, 7)]);
        assert_eq!(
            verdict("v2: selftest: 7/7 passed, 5 skipped"),
            Some((7, 7, 5))
        );
        assert_eq!(
            first_verdict_time(console, Duration::from_secs(9)),
            Some(Duration::from_secs_f64(1.234567))
        );
    }

    /// The generated driver's script claims the device before it loads the
    /// module.
    #[test]
    fn guest_script_claims_before_loading() {
        let s = guest_script("pci_serial", 0x1b36, 0x0002, 1);
        let claim = s.find("driver_override").unwrap();
        let insmod = s.find("insmod /lib/modules/$m.ko").unwrap();
        let verdict = s.find("wait_dmesg \"selftest: \"").unwrap();
        let clash = s.find("[ -e /sys/module/$m ]").unwrap();
        assert!(clash < claim && claim < insmod && insmod < verdict, "{s}");
        assert!(s.contains("= \"0x1b36\" ] && [ \"$(cat \"$d/device\")\" = \"0x0002\""));
    }

    /// Runs the claim snippet with busybox's (else the host's) `sh` on a fake
    /// sysfs tree:
    /// a device of the id bound to another driver is unbound from it and
    /// overridden; one bound to the driver already, an unbound one and one
    /// of another id are left alone.
    #[test]
    fn claim_unbinds_only_a_device_another_driver_holds() {
        use std::fs;
        use std::os::unix::fs::symlink;
        let root = std::env::temp_dir().join(format!("xtask-claim-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        let devices = root.join("devices");
        let drivers = root.join("drivers");
        for drv in ["serial", "pci_serial", "edu"] {
            fs::create_dir_all(drivers.join(drv)).unwrap();
            fs::write(drivers.join(drv).join("unbind"), "").unwrap();
        }
        let dev = |bdf: &str, vendor: &str, device: &str, driver: Option<&str>| {
            let d = devices.join(bdf);
            fs::create_dir_all(&d).unwrap();
            fs::write(d.join("vendor"), format!("{vendor}\n")).unwrap();
            fs::write(d.join("device"), format!("{device}\n")).unwrap();
            fs::write(d.join("driver_override"), "(null)\n").unwrap();
            if let Some(drv) = driver {
                symlink(drivers.join(drv), d.join("driver")).unwrap();
            }
        };
        dev("0000:00:03.0", "0x1b36", "0x0002", Some("serial"));
        dev("0000:00:04.0", "0x1b36", "0x0002", Some("pci_serial"));
        dev("0000:00:05.0", "0x1b36", "0x0002", None);
        dev("0000:00:06.0", "0x1234", "0x11e8", Some("edu"));
        let run = |vendor, device| {
            let script = format!(
                "fail() {{ echo \"fail: $*\"; exit 1; }}\nm=pci_serial\n{}\n",
                claim_device(vendor, device).replace(PCI_DEVICES, devices.to_str().unwrap())
            );
            // The guest's shell (busybox) when the host has it.
            let mut sh = if std::path::Path::new(crate::initramfs::DEFAULT_BUSYBOX).exists() {
                let mut c = std::process::Command::new(crate::initramfs::DEFAULT_BUSYBOX);
                c.arg("sh");
                c
            } else {
                std::process::Command::new("sh")
            };
            let out = sh.args(["-e", "-c", &script]).output().unwrap();
            assert!(out.status.success(), "{out:?}");
            String::from_utf8(out.stdout).unwrap()
        };
        let out = run(0x1b36, 0x0002);
        assert_eq!(
            out,
            "pcidevc: unbound 0000:00:03.0 (1b36:0002) from driver serial; \
             driver_override=pci_serial\n"
        );
        let read = |p: &str| fs::read_to_string(root.join(p)).unwrap();
        assert_eq!(read("drivers/serial/unbind"), "0000:00:03.0\n");
        assert_eq!(read("devices/0000:00:03.0/driver_override"), "pci_serial\n");
        for bdf in ["0000:00:04.0", "0000:00:05.0", "0000:00:06.0"] {
            assert_eq!(read(&format!("devices/{bdf}/driver_override")), "(null)\n");
        }
        for drv in ["pci_serial", "edu"] {
            assert_eq!(read(&format!("drivers/{drv}/unbind")), "");
        }
        assert_eq!(
            run(0x1af4, 0x1000),
            format!(
                "pcidevc: no PCI device 1af4:1000 in {}\n",
                devices.display()
            )
        );
        fs::remove_dir_all(&root).unwrap();
    }
}
