/* SPDX-License-Identifier: MIT */
/*
 * dev_shm.c - memfd-backed regions for a vhost-user backend (dev_shm.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dev_shm.h"

struct dev_shm {
	struct dev_shm_region r[DEV_SHM_MAX_REGIONS]; /* fd < 0: free slot */
	char err[160];
};

int dev_shm_create(struct dev_shm **out)
{
	struct dev_shm *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	for (unsigned i = 0; i < DEV_SHM_MAX_REGIONS; i++)
		s->r[i].fd = -1;
	*out = s;
	return 0;
}

void *dev_shm_alloc(struct dev_shm *s, size_t len)
{
	unsigned i;
	for (i = 0; i < DEV_SHM_MAX_REGIONS && s->r[i].fd >= 0; i++)
		;
	if (i == DEV_SHM_MAX_REGIONS) {
		snprintf(s->err, sizeof(s->err), "shared memory: all %d vhost-user regions in use",
			 DEV_SHM_MAX_REGIONS);
		return NULL;
	}
	len = (len + 4095) & ~(size_t)4095;
	int fd = memfd_create("vqbench-vhost", MFD_CLOEXEC);
	if (fd < 0) {
		snprintf(s->err, sizeof(s->err), "shared memory: memfd_create failed: %s", strerror(errno));
		return NULL;
	}
	if (ftruncate(fd, (off_t)len) < 0) {
		snprintf(s->err, sizeof(s->err), "shared memory: ftruncate of a memfd to %zu bytes: %s", len,
			 strerror(errno));
		close(fd);
		return NULL;
	}
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		snprintf(s->err, sizeof(s->err), "shared memory: mmap of %zu bytes: %s", len, strerror(errno));
		close(fd);
		return NULL;
	}
	s->r[i] = (struct dev_shm_region){.fd = fd, .addr = p, .len = len};
	return p;
}

void dev_shm_free(struct dev_shm *s, void *addr)
{
	if (!s || !addr)
		return;
	for (unsigned i = 0; i < DEV_SHM_MAX_REGIONS; i++)
		if (s->r[i].fd >= 0 && s->r[i].addr == addr) {
			munmap(s->r[i].addr, s->r[i].len);
			close(s->r[i].fd);
			s->r[i] = (struct dev_shm_region){.fd = -1};
		}
}

unsigned dev_shm_regions(const struct dev_shm *s, struct dev_shm_region *out, unsigned max)
{
	unsigned n = 0;
	for (unsigned i = 0; i < DEV_SHM_MAX_REGIONS; i++)
		if (s->r[i].fd >= 0) {
			if (n < max)
				out[n] = s->r[i];
			n++;
		}
	return n;
}

const char *dev_shm_error(const struct dev_shm *s) { return s->err; }

void dev_shm_destroy(struct dev_shm *s)
{
	if (!s)
		return;
	for (unsigned i = 0; i < DEV_SHM_MAX_REGIONS; i++)
		if (s->r[i].fd >= 0)
			dev_shm_free(s, s->r[i].addr);
	free(s);
}
