//! Serves a generated device model to QEMU over vfio-user.
