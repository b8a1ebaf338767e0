/* SPDX-License-Identifier: MIT */
/*
 * fuzz_memfile.h - for harnesses whose entry point reads a file by path
 * (vqb_csv_read, vqb_check_add_csv): one memfd per process, rewritten with
 * each input and named by its /proc/self/fd path.
 */
#ifndef FUZZ_MEMFILE_H
#define FUZZ_MEMFILE_H

#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_util.h"

/* @return the path of a file holding exactly data[0..size). */
static inline const char *fuzz_memfile(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	if (fd < 0) {
		fd = memfd_create("fuzz-input", 0);
		FUZZ_CHECK(fd >= 0, "memfd_create failed");
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	FUZZ_CHECK(ftruncate(fd, 0) == 0, "ftruncate failed");
	size_t done = 0;
	while (done < size) {
		ssize_t n = pwrite(fd, data + done, size - done, (off_t)done);
		FUZZ_CHECK(n > 0, "pwrite failed");
		done += (size_t)n;
	}
	return path;
}

#endif
