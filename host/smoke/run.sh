#!/bin/sh
# Manual end-to-end smoke check of pcidev-host's toy model under QEMU's
# vfio-user-pci (see README.md). Usage:
#   run.sh ROOT KBUILD HOST_BIN
# ROOT: a Debian trixie root with qemu-system-x86 11.1 (run via chroot);
# KBUILD: a built Linux tree (bzImage, modules enabled);
# HOST_BIN: the pcidev-host binary.
set -eu
ROOT=$1 KBUILD=$2 HOST_BIN=$3
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$ROOT/tmp/pcidev-smoke
rm -rf "$WORK" && mkdir -p "$WORK/initramfs/bin" "$WORK/module"
cp "$HERE/toy_smoke.c" "$HERE/Kbuild" "$WORK/module/"
make -s -C "$KBUILD" M="$WORK/module" modules
gcc -static -O2 -o "$WORK/initramfs/barpeek" "$HERE/barpeek.c"
cp /bin/busybox "$WORK/initramfs/bin/busybox"
cp "$HERE/init" "$WORK/initramfs/init"
cp "$WORK/module/toy_smoke.ko" "$WORK/initramfs/"
mkdir -p "$WORK/initramfs/proc" "$WORK/initramfs/sys" "$WORK/initramfs/dev"
(cd "$WORK/initramfs" && find . | cpio -o -H newc --quiet | gzip -9) > "$WORK/initrd.gz"
cp "$KBUILD/arch/x86/boot/bzImage" "$WORK/bzImage"

"$HOST_BIN" --socket "$WORK/toy.sock" --trace "$WORK/trace.jsonl" toy 2> "$WORK/host.log" &
HOST_PID=$!
while [ ! -S "$WORK/toy.sock" ]; do sleep 0.1; done
timeout 300 chroot "$ROOT" qemu-system-x86_64 \
    -machine q35,memory-backend=mem \
    -object memory-backend-memfd,id=mem,size=256M,share=on \
    -device '{"driver":"vfio-user-pci","socket":{"path":"/tmp/pcidev-smoke/toy.sock","type":"unix"}}' \
    -accel tcg -nographic -no-reboot \
    -kernel /tmp/pcidev-smoke/bzImage -initrd /tmp/pcidev-smoke/initrd.gz \
    -append "console=ttyS0 panic=-1 quiet" > "$WORK/console.log" 2>&1 || true
wait $HOST_PID || echo "pcidev-host exited with $?"
grep SMOKE "$WORK/console.log" || true
echo "--- pcidev-host log:"; cat "$WORK/host.log"
echo "--- trace: $(wc -l < "$WORK/trace.jsonl") events in $WORK/trace.jsonl"
