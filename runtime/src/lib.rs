//! What every generated device model links: PCI config space, BAR decoding and access policy, interrupt line, DMA over vm-memory, trace.
