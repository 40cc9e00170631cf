//! Interrupts over vfio-user: the model's INTx line and MSI vectors, carried
//! by the eventfds the client installs with `VFIO_USER_DEVICE_SET_IRQS`.
//!
//! # INTx (irq index 0): a level over an edge-only channel
//!
//! An eventfd can only say "something happened". VFIO makes a level out of it
//! with **automasking**, and QEMU's `vfio-user-pci` relies on exactly that
//! (QEMU 11.1, `hw/vfio/pci.c`, the same code as for kernel vfio-pci without
//! KVM irqfds):
//!
//! 1. When the device's line is high and INTx is not masked, the server
//!    signals the trigger eventfd **and masks INTx** (automask).
//! 2. QEMU's handler (`vfio_intx_interrupt`) asserts the guest's INTx pin and
//!    marks it pending.
//! 3. On the next access to any BAR (`vfio_region_read/write` call
//!    `vfio_pci_intx_eoi` after the access), QEMU deasserts the guest pin and
//!    sends `SET_IRQS(index 0, ACTION_UNMASK | DATA_NONE)`.
//! 4. On that unmask, **if the line is still high, the server signals again
//!    and re-masks** (Linux's vfio-pci does the same in
//!    `vfio_pci_intx_unmask_handler`); QEMU re-asserts the pin. If the line
//!    went low, nothing is sent and the guest pin stays low.
//!
//! So the server never "deasserts" anything on the wire: a line that drops
//! is simply not re-signalled at the next unmask. This is what makes a
//! shared, level-triggered line correct: a handler that reads the status
//! register (a BAR access, hence an EOI + unmask) while the device still
//! asserts gets the interrupt again, and a device that was serviced stays
//! quiet. The price is one extra interrupt per service when the guest's
//! first BAR access does not yet clear the cause (e.g. hello_tic's handler
//! reads the flag before writing 0); the guest sees it with the status
//! already clear and returns "not mine", which Linux tolerates.
//!
//! `ACTION_MASK` masks without signalling; `ACTION_TRIGGER | DATA_NONE` with
//! count 1 signals unconditionally (VFIO's loopback test); `ACTION_TRIGGER |
//! DATA_EVENTFD` installs (or, without an fd, removes) the trigger, after
//! which a high line is signalled at once; `ACTION_TRIGGER | DATA_NONE` with
//! count 0 tears INTx down. `ACTION_UNMASK | DATA_EVENTFD` (an unmask
//! eventfd, used by QEMU only with KVM's resampling irqfds) is refused.
//!
//! # MSI (irq index 1)
//!
//! QEMU emulates the MSI capability itself (it also forwards the config
//! writes, so the model's capability holds the same address and data) and
//! installs one eventfd per enabled vector. The model delivers an
//! [`MsiMessage`]; its vector is the low bits of the data (the guest's base
//! data has those bits clear), masked to the number of enabled vectors, and
//! the server signals that vector's eventfd.
//!
//! # MSI-X (irq index 2)
//!
//! QEMU's `vfio-user-pci` emulates the MSI-X table itself (`msix_init`
//! overlays the table in the BAR; table writes never reach the server) and
//! masks there: a vector signalled while masked becomes pending on QEMU's
//! side and is delivered on unmask (`vfio_msi_interrupt` → `msix_notify`).
//! Config writes do reach the server, so the model knows when MSI-X is
//! enabled; the backend therefore puts the model in "masking by the VMM"
//! mode and each vector the model sends while MSI-X is enabled signals that
//! vector's eventfd. (QEMU forwards PBA reads to the server, whose PBA then
//! reads 0: Linux never reads it.) The index reports `NORESIZE` as Linux's
//! vfio-pci does, and the client installs or removes eventfds per vector
//! range exactly as for MSI.
//!
//! Signalling never blocks: received eventfds are switched to non-blocking
//! (a client could otherwise hand over a full eventfd or a pipe and stall the
//! server), and a failed write is only counted.

use std::fs::File;
use std::io::{self, Write};
use std::sync::{Arc, Mutex, MutexGuard};

use pcidev_runtime::{InterruptSink, MsiMessage};
use rustix::fs::{OFlags, fcntl_getfl, fcntl_setfl};
use vfio_bindings::bindings::vfio::{
    VFIO_IRQ_SET_ACTION_MASK, VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_IRQ_SET_ACTION_UNMASK,
    VFIO_IRQ_SET_DATA_BOOL, VFIO_IRQ_SET_DATA_EVENTFD, VFIO_IRQ_SET_DATA_NONE,
};

use crate::layout::{INTX_IRQ, MSI_IRQ, MSIX_IRQ};

/// Counters of what reached the client, for tests and diagnostics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IrqCounters {
    /// INTx trigger eventfd signals sent.
    pub intx_signals: u64,
    /// MSI eventfd signals sent.
    pub msi_signals: u64,
    /// MSI-X eventfd signals sent.
    pub msix_signals: u64,
    /// MSI-X vectors dropped (no eventfd installed for the vector).
    pub msix_dropped: u64,
    /// MSI messages dropped (MSI not set up by the client, or no eventfd
    /// for the vector).
    pub msi_dropped: u64,
    /// Eventfd writes that failed.
    pub signal_errors: u64,
}

/// The interrupt state of one connection, shared between the backend (which
/// handles `SET_IRQS`) and the model's [`InterruptSink`].
#[derive(Debug, Default)]
pub struct IrqState {
    /// The model's INTx line.
    line: bool,
    /// VFIO's INTx mask (set automatically when a signal is sent).
    masked: bool,
    intx_trigger: Option<File>,
    intx_available: bool,
    msi: Vec<Option<File>>,
    msix: Vec<Option<File>>,
    counters: IrqCounters,
}

impl IrqState {
    /// State for a device with INTx (or not) and `msi_vectors` MSI vectors.
    pub fn new(intx: bool, msi_vectors: u32) -> Self {
        IrqState {
            intx_available: intx,
            msi: (0..msi_vectors).map(|_| None).collect(),
            ..IrqState::default()
        }
    }

    /// Give the state `vectors` MSI-X vectors (none installed).
    pub fn set_msix_vectors(&mut self, vectors: u32) {
        self.msix = (0..vectors).map(|_| None).collect();
    }

    /// Deliver MSI-X `vector` from the model: signal its eventfd.
    pub fn msix(&mut self, vector: u16, _message: MsiMessage) {
        match self.msix.get(usize::from(vector)).and_then(Option::as_ref) {
            Some(fd) => match signal(fd) {
                Ok(()) => self.counters.msix_signals += 1,
                Err(_) => self.counters.signal_errors += 1,
            },
            None => self.counters.msix_dropped += 1,
        }
    }

    /// The counters so far.
    pub fn counters(&self) -> IrqCounters {
        self.counters
    }

    /// Whether INTx is masked (VFIO's mask, not COMMAND.INTx-disable).
    pub fn intx_masked(&self) -> bool {
        self.masked
    }

    /// The model's INTx line changed (or is confirmed) to `level`.
    pub fn set_line(&mut self, level: bool) {
        self.line = level;
        self.deliver_intx();
    }

    /// Signal the INTx trigger if the line is high and INTx unmasked, then
    /// automask.
    fn deliver_intx(&mut self) {
        if self.line && !self.masked && self.intx_trigger.is_some() {
            self.masked = true;
            self.signal_intx();
        }
    }

    fn signal_intx(&mut self) {
        let result = self.intx_trigger.as_ref().map(signal);
        self.count_signal(result, false);
    }

    fn count_signal(&mut self, result: Option<io::Result<()>>, msi: bool) {
        match result {
            Some(Ok(())) if msi => self.counters.msi_signals += 1,
            Some(Ok(())) => self.counters.intx_signals += 1,
            Some(Err(_)) => self.counters.signal_errors += 1,
            None => {}
        }
    }

    /// Deliver MSI `vector` from the model (the client installed one eventfd
    /// per enabled vector; the message itself is the guest's business).
    pub fn msi(&mut self, vector: u8, _message: MsiMessage) {
        let result = self
            .msi
            .get(usize::from(vector))
            .and_then(|fd| fd.as_ref().map(signal));
        if result.is_none() {
            self.counters.msi_dropped += 1;
        }
        self.count_signal(result, true);
    }

    /// The device was reset: VFIO's INTx mask clears, installed eventfds
    /// stay (the client tears them down itself if it wants to).
    pub fn reset(&mut self) {
        self.masked = false;
        self.deliver_intx();
    }

    /// Drop every eventfd (the connection ended).
    pub fn clear(&mut self) {
        self.intx_trigger = None;
        self.masked = false;
        self.msi.iter_mut().for_each(|fd| *fd = None);
        self.msix.iter_mut().for_each(|fd| *fd = None);
    }

    /// Handle `VFIO_USER_DEVICE_SET_IRQS`. `fds` are the eventfds that came
    /// with the message, for vectors `start..start + fds.len()`; vectors of
    /// `start..start + count` without one are disabled (QEMU sends no fd for
    /// a vector it disables).
    pub fn set_irqs(
        &mut self,
        index: u32,
        flags: u32,
        start: u32,
        count: u32,
        fds: Vec<File>,
    ) -> io::Result<()> {
        let data =
            flags & (VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_DATA_EVENTFD);
        let action = flags
            & (VFIO_IRQ_SET_ACTION_MASK | VFIO_IRQ_SET_ACTION_UNMASK | VFIO_IRQ_SET_ACTION_TRIGGER);
        if !data.is_power_of_two() || !action.is_power_of_two() {
            return Err(invalid("exactly one data type and one action"));
        }
        if data != VFIO_IRQ_SET_DATA_EVENTFD && !fds.is_empty() {
            return Err(invalid("file descriptors without DATA_EVENTFD"));
        }
        if fds.len() > count as usize {
            return Err(invalid("more file descriptors than vectors"));
        }
        for fd in &fds {
            make_nonblocking(fd)?;
        }
        match index {
            INTX_IRQ if self.intx_available => self.set_intx(action, data, start, count, fds),
            MSI_IRQ if !self.msi.is_empty() => self.set_msi(action, data, start, count, fds),
            MSIX_IRQ if !self.msix.is_empty() => self.set_msix(action, data, start, count, fds),
            _ => Err(invalid("no such interrupt")),
        }
    }

    fn set_intx(
        &mut self,
        action: u32,
        data: u32,
        start: u32,
        count: u32,
        fds: Vec<File>,
    ) -> io::Result<()> {
        if count == 0 {
            // Only "disable" has no vector.
            return if action == VFIO_IRQ_SET_ACTION_TRIGGER && data == VFIO_IRQ_SET_DATA_NONE {
                self.intx_trigger = None;
                self.masked = false;
                Ok(())
            } else {
                Err(invalid("INTx: count 0 is only for disabling"))
            };
        }
        if start != 0 || count != 1 {
            return Err(invalid("INTx has one vector"));
        }
        match (action, data) {
            (VFIO_IRQ_SET_ACTION_MASK, VFIO_IRQ_SET_DATA_NONE) => {
                self.masked = true;
                Ok(())
            }
            (VFIO_IRQ_SET_ACTION_UNMASK, VFIO_IRQ_SET_DATA_NONE) => {
                self.masked = false;
                self.deliver_intx();
                Ok(())
            }
            (VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_IRQ_SET_DATA_NONE) => {
                self.signal_intx();
                Ok(())
            }
            (VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_IRQ_SET_DATA_EVENTFD) => {
                self.intx_trigger = fds.into_iter().next();
                if self.intx_trigger.is_none() {
                    self.masked = false;
                }
                self.deliver_intx();
                Ok(())
            }
            _ => Err(invalid("INTx: unsupported action or data type")),
        }
    }

    fn set_msi(
        &mut self,
        action: u32,
        data: u32,
        start: u32,
        count: u32,
        fds: Vec<File>,
    ) -> io::Result<()> {
        let (result, sent, failed) =
            set_vectors("MSI", &mut self.msi, action, data, start, count, fds);
        self.counters.msi_signals += sent;
        self.counters.signal_errors += failed;
        result
    }

    fn set_msix(
        &mut self,
        action: u32,
        data: u32,
        start: u32,
        count: u32,
        fds: Vec<File>,
    ) -> io::Result<()> {
        let (result, sent, failed) =
            set_vectors("MSI-X", &mut self.msix, action, data, start, count, fds);
        self.counters.msix_signals += sent;
        self.counters.signal_errors += failed;
        result
    }
}

/// `SET_IRQS` on the MSI or MSI-X eventfds (`what` names them in errors):
/// trigger only (no masking: the client masks), install or remove eventfds
/// per vector range, signal a range (loopback), or tear all down with count
/// 0. Returns the result and how many signals were sent and failed.
fn set_vectors(
    what: &str,
    vectors: &mut [Option<File>],
    action: u32,
    data: u32,
    start: u32,
    count: u32,
    fds: Vec<File>,
) -> (io::Result<()>, u64, u64) {
    let (mut sent, mut failed) = (0, 0);
    if action != VFIO_IRQ_SET_ACTION_TRIGGER {
        return (Err(invalid_owned(format!("{what} cannot be masked"))), 0, 0);
    }
    if count == 0 {
        let result = if data == VFIO_IRQ_SET_DATA_NONE {
            vectors.iter_mut().for_each(|fd| *fd = None);
            Ok(())
        } else {
            Err(invalid_owned(format!(
                "{what}: count 0 is only for disabling"
            )))
        };
        return (result, 0, 0);
    }
    let range = start as usize..start as usize + count as usize;
    if range.end > vectors.len() {
        return (
            Err(invalid_owned(format!("{what} vector out of range"))),
            0,
            0,
        );
    }
    let result = match data {
        VFIO_IRQ_SET_DATA_NONE => {
            for fd in vectors[range].iter().flatten() {
                match signal(fd) {
                    Ok(()) => sent += 1,
                    Err(_) => failed += 1,
                }
            }
            Ok(())
        }
        VFIO_IRQ_SET_DATA_EVENTFD => {
            let mut fds = fds.into_iter();
            for slot in &mut vectors[range] {
                *slot = fds.next();
            }
            Ok(())
        }
        _ => Err(invalid_owned(format!("{what}: unsupported data type"))),
    };
    (result, sent, failed)
}

/// The interrupt state shared by a backend and its sink.
pub type SharedIrqState = Arc<Mutex<IrqState>>;

/// Lock the shared state. A poisoned lock (a panic elsewhere while holding
/// it) still yields the state: it stays consistent field by field.
pub fn lock(state: &SharedIrqState) -> MutexGuard<'_, IrqState> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The [`InterruptSink`] installed in the model: it forwards to the shared
/// [`IrqState`].
#[derive(Debug, Clone)]
pub struct EventfdSink {
    state: SharedIrqState,
}

impl EventfdSink {
    /// A sink feeding `state`.
    pub fn new(state: SharedIrqState) -> Self {
        EventfdSink { state }
    }
}

impl InterruptSink for EventfdSink {
    fn set_intx(&mut self, asserted: bool) {
        lock(&self.state).set_line(asserted);
    }

    fn msi(&mut self, vector: u8, message: MsiMessage) {
        lock(&self.state).msi(vector, message);
    }

    fn msix(&mut self, vector: u16, message: MsiMessage) {
        lock(&self.state).msix(vector, message);
    }
}

/// Add 1 to an eventfd's counter.
fn signal(fd: &File) -> io::Result<()> {
    let mut fd = fd;
    fd.write_all(&1u64.to_ne_bytes())
}

fn make_nonblocking(fd: &File) -> io::Result<()> {
    let flags = fcntl_getfl(fd)?;
    if !flags.contains(OFlags::NONBLOCK) {
        fcntl_setfl(fd, flags | OFlags::NONBLOCK)?;
    }
    Ok(())
}

fn invalid(what: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, what)
}

fn invalid_owned(what: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, what)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustix::event::{EventfdFlags, eventfd as new_eventfd};
    use std::io::Read;

    const TRIGGER_EVENTFD: u32 = VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_EVENTFD;
    const TRIGGER_NONE: u32 = VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_NONE;
    const UNMASK: u32 = VFIO_IRQ_SET_ACTION_UNMASK | VFIO_IRQ_SET_DATA_NONE;
    const MASK: u32 = VFIO_IRQ_SET_ACTION_MASK | VFIO_IRQ_SET_DATA_NONE;

    /// A non-blocking eventfd: the test's end and the server's copy.
    fn eventfd() -> (File, File) {
        let fd = File::from(new_eventfd(0, EventfdFlags::NONBLOCK).unwrap());
        let copy = fd.try_clone().unwrap();
        (fd, copy)
    }

    /// Number of signals since the last call (0 when none).
    fn taken(mut efd: &File) -> u64 {
        let mut buf = [0; 8];
        match efd.read(&mut buf) {
            Ok(8) => u64::from_ne_bytes(buf),
            _ => 0,
        }
    }

    #[test]
    fn msix_vectors_have_their_own_eventfds() {
        let msg = MsiMessage {
            address: 0,
            data: 0,
        };
        let mut irq = IrqState::new(false, 1);
        assert!(
            irq.set_irqs(MSIX_IRQ, TRIGGER_NONE, 0, 1, vec![]).is_err(),
            "no MSI-X yet"
        );
        irq.set_msix_vectors(3);
        let (e0, f0) = eventfd();
        let (e2, f2) = eventfd();
        irq.set_irqs(MSIX_IRQ, TRIGGER_EVENTFD, 0, 1, vec![f0])
            .unwrap();
        irq.set_irqs(MSIX_IRQ, TRIGGER_EVENTFD, 2, 1, vec![f2])
            .unwrap();
        assert!(irq.set_irqs(MSIX_IRQ, MASK, 0, 1, vec![]).is_err());
        assert!(
            irq.set_irqs(MSIX_IRQ, TRIGGER_EVENTFD, 2, 2, vec![])
                .is_err()
        );
        irq.msix(2, msg);
        irq.msix(2, msg);
        irq.msix(1, msg);
        irq.msix(0, msg);
        irq.msix(900, msg);
        assert_eq!((taken(&e0), taken(&e2)), (1, 2));
        irq.msi(0, msg);
        assert_eq!(taken(&e0), 0, "MSI vector 0 is another eventfd");
        let c = irq.counters();
        assert_eq!((c.msix_signals, c.msix_dropped, c.msi_signals), (3, 2, 0));
        irq.set_irqs(MSIX_IRQ, TRIGGER_NONE, 0, 0, vec![]).unwrap();
        irq.msix(0, msg);
        assert_eq!(taken(&e0), 0, "torn down");
    }

    #[test]
    fn intx_is_level_through_automask_and_unmask() {
        let mut irq = IrqState::new(true, 0);
        let (efd, file) = eventfd();
        irq.set_irqs(INTX_IRQ, TRIGGER_EVENTFD, 0, 1, vec![file])
            .unwrap();
        assert_eq!(taken(&efd), 0);

        irq.set_line(true);
        assert_eq!(taken(&efd), 1);
        assert!(irq.intx_masked());
        // Still high while masked: nothing more.
        irq.set_line(true);
        assert_eq!(taken(&efd), 0);
        // EOI while still asserted: signalled again.
        irq.set_irqs(INTX_IRQ, UNMASK, 0, 1, vec![]).unwrap();
        assert_eq!(taken(&efd), 1);
        // Serviced: the line drops; the next EOI sends nothing.
        irq.set_line(false);
        irq.set_irqs(INTX_IRQ, UNMASK, 0, 1, vec![]).unwrap();
        assert_eq!(taken(&efd), 0);
        assert!(!irq.intx_masked());
        // Masked by the client: a new edge waits for the unmask.
        irq.set_irqs(INTX_IRQ, MASK, 0, 1, vec![]).unwrap();
        irq.set_line(true);
        assert_eq!(taken(&efd), 0);
        irq.set_irqs(INTX_IRQ, UNMASK, 0, 1, vec![]).unwrap();
        assert_eq!(taken(&efd), 1);
        assert_eq!(irq.counters().intx_signals, 3);
    }

    #[test]
    fn intx_trigger_installed_while_high_fires_at_once() {
        let mut irq = IrqState::new(true, 0);
        irq.set_line(true);
        let (efd, file) = eventfd();
        irq.set_irqs(INTX_IRQ, TRIGGER_EVENTFD, 0, 1, vec![file])
            .unwrap();
        assert_eq!(taken(&efd), 1);
        // Disable, then loopback on nothing: no signal, no error.
        irq.set_irqs(INTX_IRQ, TRIGGER_NONE, 0, 0, vec![]).unwrap();
        irq.set_irqs(INTX_IRQ, TRIGGER_NONE, 0, 1, vec![]).unwrap();
        assert_eq!(taken(&efd), 0);
    }

    #[test]
    fn bad_set_irqs_are_refused() {
        let mut irq = IrqState::new(true, 1);
        let both = VFIO_IRQ_SET_ACTION_MASK | VFIO_IRQ_SET_ACTION_UNMASK | VFIO_IRQ_SET_DATA_NONE;
        assert!(irq.set_irqs(INTX_IRQ, both, 0, 1, vec![]).is_err());
        assert!(irq.set_irqs(INTX_IRQ, UNMASK, 1, 1, vec![]).is_err());
        assert!(irq.set_irqs(INTX_IRQ, UNMASK, 0, u32::MAX, vec![]).is_err());
        assert!(irq.set_irqs(MSI_IRQ, UNMASK, 0, 1, vec![]).is_err());
        assert!(
            irq.set_irqs(MSI_IRQ, TRIGGER_EVENTFD, u32::MAX, u32::MAX, vec![])
                .is_err()
        );
        assert!(irq.set_irqs(2, TRIGGER_NONE, 0, 0, vec![]).is_err());
        let unmask_fd = VFIO_IRQ_SET_ACTION_UNMASK | VFIO_IRQ_SET_DATA_EVENTFD;
        let (_efd, file) = eventfd();
        assert!(irq.set_irqs(INTX_IRQ, unmask_fd, 0, 1, vec![file]).is_err());
        assert!(
            IrqState::new(false, 0)
                .set_irqs(INTX_IRQ, UNMASK, 0, 1, vec![])
                .is_err()
        );
    }

    #[test]
    fn msi_signals_the_vectors_eventfd() {
        let msg = MsiMessage {
            address: 0xfee0_0000,
            data: 0x40,
        };
        let mut irq = IrqState::new(false, 4);
        irq.msi(0, msg);
        assert_eq!(irq.counters().msi_dropped, 1, "no eventfd installed yet");
        let (efd0, f0) = eventfd();
        let (efd1, f1) = eventfd();
        irq.set_irqs(MSI_IRQ, TRIGGER_EVENTFD, 0, 1, vec![f0])
            .unwrap();
        irq.set_irqs(MSI_IRQ, TRIGGER_EVENTFD, 1, 1, vec![f1])
            .unwrap();
        irq.msi(1, msg);
        assert_eq!((taken(&efd0), taken(&efd1)), (0, 1));
        irq.msi(0, msg);
        assert_eq!((taken(&efd0), taken(&efd1)), (1, 0));
        irq.msi(7, msg);
        assert_eq!(irq.counters().msi_dropped, 2, "a vector without an eventfd");
        // Disable vector 1 (no fd), then everything.
        irq.set_irqs(MSI_IRQ, TRIGGER_EVENTFD, 1, 1, vec![])
            .unwrap();
        irq.set_irqs(MSI_IRQ, TRIGGER_NONE, 0, 0, vec![]).unwrap();
        irq.msi(0, msg);
        assert_eq!(taken(&efd0), 0);
        assert_eq!(irq.counters().msi_signals, 2);
        assert_eq!(irq.counters().msi_dropped, 3);
    }

    #[test]
    fn signalling_never_blocks() {
        // A blocking eventfd whose counter is full: the write would block
        // forever unless the server made the fd non-blocking.
        let mut efd = File::from(new_eventfd(0, EventfdFlags::empty()).unwrap());
        efd.write_all(&(u64::MAX - 1).to_ne_bytes()).unwrap();
        let mut irq = IrqState::new(true, 0);
        irq.set_irqs(
            INTX_IRQ,
            TRIGGER_EVENTFD,
            0,
            1,
            vec![efd.try_clone().unwrap()],
        )
        .unwrap();
        irq.set_line(true);
        assert_eq!(irq.counters().signal_errors, 1);
    }
}
