// SPDX-License-Identifier: MIT
/*
 * cfgprobe: what a PCI function's 256-byte configuration space holds and
 * which of its bits software can change, as the guest sees them.
 *
 *   cfgprobe /sys/bus/pci/devices/0000:00:04.0/config [SKIP...]
 *
 * Prints, for the conformance harness (xtask/src/confspace.rs):
 *
 *   PCIDEVC-CFG <off> <initial> <after writing 0xff> <after writing 0x00>
 *
 * one line per byte offset 0..255, values in hex. Every byte is read, then
 * written 0xff and read back, written 0x00 and read back, then written its
 * initial value again before the next byte is touched, so a BAR or COMMAND
 * byte is only ever off its value for two writes and three reads. Bytes
 * that read back differently after being restored are reported with
 * `PCIDEVC-CFG-NOT-RESTORED <off>` (a write-1-to-clear bit that was set,
 * for example). The initial 256 bytes are read in one go before any write.
 *
 * SKIP are offsets (hex) not to write at all, printed as
 * `PCIDEVC-CFG <off> <initial> - -`: registers whose writes cannot be
 * undone, such as the i6300esb's write-once lock register (0x68), which
 * would arm the watchdog for good.
 *
 * Exit status: 0 on success, 1 when the file cannot be opened, read or
 * written (with a message on stderr).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define CONFIG_SIZE 256

static int rd(int fd, int off, unsigned char *b)
{
	return pread(fd, b, 1, off) == 1 ? 0 : -1;
}

static int wr(int fd, int off, unsigned char b)
{
	return pwrite(fd, &b, 1, off) == 1 ? 0 : -1;
}

int main(int argc, char **argv)
{
	unsigned char init[CONFIG_SIZE];
	unsigned char skip[CONFIG_SIZE] = { 0 };
	int fd, off, i;

	if (argc < 2) {
		fprintf(stderr, "usage: cfgprobe /sys/bus/pci/devices/<bdf>/config [SKIP...]\n");
		return 1;
	}
	for (i = 2; i < argc; i++) {
		char *end;
		long s = strtol(argv[i], &end, 16);

		if (*end || s < 0 || s >= CONFIG_SIZE) {
			fprintf(stderr, "bad offset %s\n", argv[i]);
			return 1;
		}
		skip[s] = 1;
	}
	fd = open(argv[1], O_RDWR);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	if (pread(fd, init, CONFIG_SIZE, 0) != CONFIG_SIZE) {
		fprintf(stderr, "%s: short read (not root?)\n", argv[1]);
		return 1;
	}
	for (off = 0; off < CONFIG_SIZE; off++) {
		unsigned char ones, zeros, back;

		if (skip[off]) {
			printf("PCIDEVC-CFG %02x %02x - -\n", off, init[off]);
			continue;
		}
		if (wr(fd, off, 0xff) || rd(fd, off, &ones) ||
		    wr(fd, off, 0x00) || rd(fd, off, &zeros) ||
		    wr(fd, off, init[off]) || rd(fd, off, &back)) {
			perror("config access");
			return 1;
		}
		printf("PCIDEVC-CFG %02x %02x %02x %02x\n", off, init[off],
		       ones, zeros);
		if (back != init[off])
			printf("PCIDEVC-CFG-NOT-RESTORED %02x %02x\n", off, back);
	}
	fflush(stdout);
	return 0;
}
