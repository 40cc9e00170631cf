//! The guest side of a boot: the test scripts the initramfs runs
//! ([`guest_script`] for a generated driver, [`own_driver_script`] for a
//! user's), and the parsing of the self-test verdicts they make the driver
//! print ([`verdicts`]).

use std::time::Duration;

/// The guest test script: the driver was loaded by init; wait for its
/// verdict, reload it `reloads` times, and fail on any oops or warning.
pub fn guest_script(module: &str, reloads: usize) -> String {
    format!(
        r#"
m={module}
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
"#
    )
}

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
}
