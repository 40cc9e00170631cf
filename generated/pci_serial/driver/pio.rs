// SPDX-License-Identifier: GPL-2.0
// Written by pcidevc 0.1.0 (language 2).
//
// Support file of pcidevc's generated drivers, copied verbatim into drivers whose device has an
// I/O BAR. Do not edit: it is rewritten whenever the driver is generated.

//! Port I/O for PCI I/O BARs, which Linux 7.3's `kernel::io` does not provide.
//!
//! A port-I/O backend for the kernel's `Io` traits, so `register!` and the ordinary accessors
//! (`read`, `write_reg`, `try_read8`, ...) work on a [`PortIo`] as on a `pci::Bar`, and
//! [`PciEnable`], which enables I/O decoding (`pci_enable_device`) for as long as it lives. This
//! module holds the only `unsafe` code of the driver besides what the kernel API itself requires.

use core::marker::PhantomData;
use kernel::{
    bindings,
    device::{
        AsBusDevice,
        Bound,
        Core,
        DeviceContext, //
    },
    error::to_result,
    io::{
        IoBackend,
        IoBase,
        IoCapable,
        MmioBackend,
        Region, //
    },
    pci,
    prelude::*,
    ptr::KnownSize,
};

/// Returns the `struct pci_dev` behind a `pci::Device`.
fn raw_pci_dev<Ctx: DeviceContext>(pdev: &pci::Device<Ctx>) -> *mut bindings::pci_dev {
    // `pci::Device` declares (through `AsBusDevice`) that its `struct device` sits at
    // `offset_of!(pci_dev, dev)` from its own address, i.e. that it starts with the
    // `pci_dev`.
    const {
        assert!(
            <pci::Device<Bound> as AsBusDevice<Bound>>::OFFSET
                == core::mem::offset_of!(bindings::pci_dev, dev)
        )
    };
    // CAST: `pci::Device` is a `#[repr(transparent)]` wrapper of `Opaque<pci_dev>`, which
    // permits mutation through shared references.
    core::ptr::from_ref(pdev)
        .cast::<bindings::pci_dev>()
        .cast_mut()
}

/// Enabled I/O and memory decoding of a PCI device, disabled again on drop.
///
/// `pci::Device::enable_device_mem` only enables memory decoding and is never undone;
/// this is `pci_enable_device()` / `pci_disable_device()`.
pub(crate) struct PciEnable<'a> {
    pdev: &'a pci::Device<Bound>,
}

impl<'a> PciEnable<'a> {
    /// Enables I/O and memory decoding (`pci_enable_device`).
    pub(crate) fn new(pdev: &'a pci::Device<Core<'_>>) -> Result<Self> {
        // SAFETY: `raw_pci_dev` returns a valid `struct pci_dev`; `Core` means we are in
        // probe with the device lock held, as `pci_enable_device` expects.
        to_result(unsafe { bindings::pci_enable_device(raw_pci_dev(pdev)) })?;
        Ok(Self { pdev })
    }
}

impl Drop for PciEnable<'_> {
    fn drop(&mut self) {
        // SAFETY: `self.pdev` is valid and bound, and `new` enabled it exactly once.
        unsafe { bindings::pci_disable_device(raw_pci_dev(self.pdev)) };
    }
}

/// A view of port-I/O space, the port-I/O counterpart of `kernel::io::Mmio`.
///
/// # Invariants
///
/// `ptr` is an `iomap` cookie range (`pci_iomap` of an I/O BAR) that stays mapped for `'a`.
pub(crate) struct Pio<'a, T: ?Sized> {
    ptr: *mut T,
    _phantom: PhantomData<&'a ()>,
}

impl<T: ?Sized> Copy for Pio<'_, T> {}
impl<T: ?Sized> Clone for Pio<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<'a, T: ?Sized + KnownSize> IoBase<'a> for Pio<'a, T> {
    type Backend = PioBackend;
    type Target = T;

    fn as_view(self) -> Pio<'a, T> {
        self
    }
}

/// I/O backend for port I/O through the generic `ioread*`/`iowrite*` accessors.
pub(crate) struct PioBackend;

impl IoBackend for PioBackend {
    type View<'a, T: ?Sized + KnownSize> = Pio<'a, T>;

    fn as_ptr<'a, T: ?Sized + KnownSize>(view: Self::View<'a, T>) -> *mut T {
        view.ptr
    }

    unsafe fn project_view<'a, T: ?Sized + KnownSize, U: ?Sized + KnownSize>(
        _view: Self::View<'a, T>,
        ptr: *mut U,
    ) -> Self::View<'a, U> {
        // INVARIANT: Per the safety requirement `ptr` is a projection of `view`, so it lies
        // within the same mapped cookie range.
        Pio {
            ptr,
            _phantom: PhantomData,
        }
    }
}

/// Implements [`IoCapable`] for [`PioBackend`] with the exported generic iomap accessors,
/// which dispatch on the cookie: port cookies use `in*`/`out*`, MMIO cookies `read*`/`write*`.
macro_rules! impl_pio_capable {
    ($ty:ty, $read:ident, $write:ident) => {
        impl IoCapable<$ty> for PioBackend {
            fn io_read(view: Pio<'_, $ty>) -> $ty {
                // SAFETY: By the invariant of `Pio`, `view.ptr` is a valid iomap cookie.
                let v = unsafe { bindings::$read(view.ptr.cast_const().cast()) };
                // CAST: `ioread8`/`ioread16` return the zero-extended `u8`/`u16` read.
                v as $ty
            }

            fn io_write(view: Pio<'_, $ty>, value: $ty) {
                // SAFETY: By the invariant of `Pio`, `view.ptr` is a valid iomap cookie.
                unsafe { bindings::$write(value, view.ptr.cast()) }
            }
        }
    };
}

impl_pio_capable!(u8, ioread8, iowrite8);
impl_pio_capable!(u16, ioread16, iowrite16);
impl_pio_capable!(u32, ioread32, iowrite32);

/// A requested and mapped PCI I/O BAR of at least `SIZE` bytes, accessed with port I/O.
///
/// The inner `pci::Bar` owns the region request and the `pci_iomap` cookie; it is never used
/// for access, since its accessors are MMIO (`readl` on a port cookie oopses).
pub(crate) struct PortIo<'a, const SIZE: usize> {
    bar: pci::Bar<'a, SIZE>,
}

impl<'a, const SIZE: usize> PortIo<'a, SIZE> {
    /// Requests and maps I/O BAR `index`; decoding must be enabled with [`PciEnable`].
    pub(crate) fn new(
        pdev: &'a pci::Device<Bound>,
        _enabled: &PciEnable<'_>,
        index: u32,
        name: &'static CStr,
    ) -> Result<Self> {
        Ok(Self {
            bar: pdev.iomap_region_sized::<SIZE>(index, name)?,
        })
    }
}

impl<'a, const SIZE: usize> IoBase<'a> for &'a PortIo<'_, SIZE> {
    type Backend = PioBackend;
    type Target = Region<SIZE>;

    fn as_view(self) -> Pio<'a, Region<SIZE>> {
        // INVARIANT: The `Bar` holds the `pci_iomap` cookie of the whole BAR (length checked
        // against `SIZE`) and unmaps it only on drop, after `'a`.
        Pio {
            ptr: MmioBackend::as_ptr((&self.bar).as_view()),
            _phantom: PhantomData,
        }
    }
}
