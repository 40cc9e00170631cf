//! The host's side of a boot checked from its trace: hello_tic's interrupt,
//! rejected write and DMAs, once per driver load
//! ([`check_hello_tic_trace`]).

use anyhow::{Result, bail};

/// hello_tic, checked from the host's side: every load of the driver must
/// show in the model's trace as the seed's interrupt raised and lowered,
/// the 8-bit `outb` rejected, the seed's DMA to 0xa0000 refused, and the
/// DMA into the driver's buffer done with exactly `random(0x5eed)`'s bytes.
pub fn check_hello_tic_trace(trace: &[serde_json::Value], loads: usize) -> Result<()> {
    let count =
        |pred: &dyn Fn(&serde_json::Value) -> bool| trace.iter().filter(|e| pred(e)).count();
    let intx = |asserted: bool| move |e: &serde_json::Value| e["Intx"]["asserted"] == asserted;
    let (up, down) = (count(&intx(true)), count(&intx(false)));
    if up < loads || down < up {
        bail!(
            "expected INTx asserted and deasserted at least {loads} times, trace has {up} up / {down} down"
        );
    }
    let rejected_outb = count(&|e| {
        let w = &e["BarWrite"];
        w["bar"] == 0 && w["offset"] == 0 && w["size"] == 1 && w["outcome"].get("Invalid").is_some()
    });
    if rejected_outb != loads {
        bail!("expected {loads} rejected 1-byte writes to BAR0+0, trace has {rejected_outb}");
    }
    let dma = |e: &serde_json::Value| e.get("Dma").cloned();
    let dmas: Vec<serde_json::Value> = trace.iter().filter_map(dma).collect();
    let refused = dmas
        .iter()
        .filter(|d| d["address"] == 0xa0000 && d["len"] == 0x1ffff && d["outcome"] == "OutOfRange")
        .count();
    let want = pcidev_runtime::fnv1a64(&pcidev_runtime::random_bytes(0x5eed, 0x1ffff));
    let done = dmas
        .iter()
        .filter(|d| {
            d["address"] != 0xa0000
                && d["len"] == 0x1ffff
                && d["outcome"] == "Done"
                && d["fnv1a"] == want
        })
        .count();
    if refused != loads || done != loads || dmas.len() != 2 * loads {
        bail!(
            "expected per load one refused DMA to 0xa0000 and one done with random(0x5eed)'s bytes; trace DMAs: {dmas:?}"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hello_tic_trace_check_accepts_a_good_trace_and_rejects_a_bad_one() {
        let hash = pcidev_runtime::fnv1a64(&pcidev_runtime::random_bytes(0x5eed, 0x1ffff));
        let good: Vec<serde_json::Value> = [
            r#"{"BarWrite":{"bar":0,"offset":0,"size":1,"value":1,"outcome":{"Invalid":{"reason":"Size","action":"Ignore"}}}}"#,
            r#"{"Intx":{"asserted":true}}"#,
            r#"{"Intx":{"asserted":false}}"#,
            r#"{"Dma":{"direction":"ToGuest","address":655360,"len":131071,"outcome":"OutOfRange","fnv1a":null}}"#,
        ]
        .iter()
        .map(|s| serde_json::from_str(s).unwrap())
        .chain(std::iter::once(serde_json::json!({"Dma": {"direction": "ToGuest", "address": 0x8a0000, "len": 0x1ffff, "outcome": "Done", "fnv1a": hash}})))
        .collect();
        check_hello_tic_trace(&good, 1).unwrap();
        let mut bad = good.clone();
        bad[4]["Dma"]["fnv1a"] = serde_json::json!(hash ^ 1);
        assert!(check_hello_tic_trace(&bad, 1).is_err(), "wrong bytes");
        assert!(check_hello_tic_trace(&good[..4], 1).is_err(), "missing DMA");
        assert!(check_hello_tic_trace(&good, 2).is_err(), "one load short");
    }
}
