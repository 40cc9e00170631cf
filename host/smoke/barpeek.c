/* barpeek FILE OFFSET [VALUE]: 32-bit read (or write) of a PCI memory BAR
 * through its sysfs resource file (mmap), for a guest without /dev/mem. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s FILE OFFSET [VALUE]\n", argv[0]);
		return 2;
	}
	unsigned long off = strtoul(argv[2], NULL, 0);
	int fd = open(argv[1], argc > 3 ? O_RDWR : O_RDONLY);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	long page = sysconf(_SC_PAGESIZE);
	unsigned long base = off & ~(page - 1);
	volatile uint8_t *map = mmap(NULL, page, PROT_READ | (argc > 3 ? PROT_WRITE : 0),
				     MAP_SHARED, fd, base);
	if (map == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	volatile uint32_t *reg = (volatile uint32_t *)(map + (off - base));
	if (argc > 3)
		*reg = (uint32_t)strtoul(argv[3], NULL, 0);
	else
		printf("0x%08x\n", *reg);
	return 0;
}
