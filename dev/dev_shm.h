/* SPDX-License-Identifier: MIT */
/*
 * dev_shm.h - memory a vhost-user backend can see: every allocation is its
 * own memfd, mapped MAP_SHARED, zeroed, 4 KiB aligned. The vhost-user device
 * sends the regions (fd, address, length) with SET_MEM_TABLE; the address
 * doubles as the region's guest physical address, so a buffer's identity
 * IOVA (its virtual address) is what the backend expects in a descriptor.
 * One thread at a time; no allocation on any per-packet path.
 */
#ifndef DEV_SHM_H
#define DEV_SHM_H

#include <stddef.h>

/* vhost-user's memory table holds at most 8 regions without the
 * CONFIGURE_MEM_SLOTS protocol feature. */
#define DEV_SHM_MAX_REGIONS 8

struct dev_shm_region {
	int fd;     /* memfd */
	void *addr; /* mapping in this process (also the guest physical address) */
	size_t len; /* bytes, a multiple of 4096 */
};

struct dev_shm;

/** @return 0 or -ENOMEM. */
int dev_shm_create(struct dev_shm **out);
/** Unmap and close every region still allocated, then free. */
void dev_shm_destroy(struct dev_shm *s);
/** A zeroed region of at least len bytes. @return its address, or NULL
 * (errno-free; dev_shm_error() says why: no slot left, memfd refused). */
void *dev_shm_alloc(struct dev_shm *s, size_t len);
/** Release a region dev_shm_alloc() returned (NULL: nothing). */
void dev_shm_free(struct dev_shm *s, void *addr);
/** Copy up to max live regions into out. @return the number of live regions. */
unsigned dev_shm_regions(const struct dev_shm *s, struct dev_shm_region *out, unsigned max);
/** Why the last dev_shm_alloc() failed. */
const char *dev_shm_error(const struct dev_shm *s);

#endif
