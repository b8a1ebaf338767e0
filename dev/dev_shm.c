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

#ifndef MFD_HUGE_2MB /* <linux/memfd.h>: log2 of the page size at bit 26 */
#define MFD_HUGE_2MB (21u << 26)
#endif

struct dev_shm {
	struct dev_shm_region r[DEV_SHM_MAX_REGIONS]; /* fd < 0: free slot */
	size_t page; /* preferred page size of new regions */
	char err[160];
};

int dev_shm_create(struct dev_shm **out)
{
	struct dev_shm *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	for (unsigned i = 0; i < DEV_SHM_MAX_REGIONS; i++)
		s->r[i].fd = -1;
	s->page = DEV_SHM_PAGE_4K;
	*out = s;
	return 0;
}

int dev_shm_set_page_size(struct dev_shm *s, size_t page)
{
	if (page != DEV_SHM_PAGE_4K && page != DEV_SHM_PAGE_2M)
		return -EINVAL;
	s->page = page;
	return 0;
}

size_t dev_shm_page_of(const struct dev_shm *s, const void *addr)
{
	const char *a = addr;
	for (unsigned i = 0; s && i < DEV_SHM_MAX_REGIONS; i++)
		if (s->r[i].fd >= 0 && a >= (const char *)s->r[i].addr &&
		    a < (const char *)s->r[i].addr + s->r[i].len)
			return s->r[i].page;
	return 0;
}

/* One memfd of len bytes (a multiple of page) mapped shared. @return the
 * mapping, or NULL with errno set and *fdp untouched. */
static void *map_memfd(size_t len, size_t page, int *fdp, const char **what)
{
	unsigned flags = MFD_CLOEXEC | (page == DEV_SHM_PAGE_2M ? MFD_HUGETLB | MFD_HUGE_2MB : 0);
	int fd = memfd_create("vqbench-vhost", flags);
	if (fd < 0) {
		*what = "memfd_create";
		return NULL;
	}
	if (ftruncate(fd, (off_t)len) < 0) {
		*what = "ftruncate";
		goto bad;
	}
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | (page == DEV_SHM_PAGE_2M ? MAP_POPULATE : 0),
		       fd, 0);
	if (p == MAP_FAILED) {
		*what = "mmap";
		goto bad;
	}
	/* hugetlbfs reserves at mmap; MAP_POPULATE faulted every page in, so
	 * a short pool fails here and not with SIGBUS on the data path */
	*fdp = fd;
	return p;
bad:;
	int e = errno;
	close(fd);
	errno = e;
	return NULL;
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
	size_t page = s->page;
	size_t want = (len + page - 1) & ~(page - 1);
	int fd = -1;
	const char *what = "";
	void *p = map_memfd(want, page, &fd, &what);
	if (!p && page != DEV_SHM_PAGE_4K) { /* hugepage pool short: 4 KiB pages */
		page = DEV_SHM_PAGE_4K;
		want = (len + page - 1) & ~(page - 1);
		p = map_memfd(want, page, &fd, &what);
	}
	if (!p) {
		snprintf(s->err, sizeof(s->err), "shared memory: %s of a %zu-byte memfd failed: %s", what, want,
			 strerror(errno));
		return NULL;
	}
	len = want;
	s->r[i] = (struct dev_shm_region){.fd = fd, .addr = p, .len = len, .page = page};
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
