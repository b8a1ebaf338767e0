/* SPDX-License-Identifier: MIT */
/*
 * dev_shm.h - memory a vhost-user backend can see: every allocation is its
 * own memfd, mapped MAP_SHARED, zeroed, page aligned: 4 KiB pages by
 * default, 2 MiB hugetlbfs pages after dev_shm_set_page_size() (falling
 * back to 4 KiB, per region, when no hugepage is free). The vhost-user device
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
	size_t len; /* bytes, a multiple of page */
	size_t page; /* bytes per page backing it: 4096 or 2 MiB */
};

#define DEV_SHM_PAGE_4K ((size_t)4096)
#define DEV_SHM_PAGE_2M ((size_t)2 << 20)

struct dev_shm;

/** @return 0 or -ENOMEM. */
int dev_shm_create(struct dev_shm **out);
/** Unmap and close every region still allocated, then free. */
void dev_shm_destroy(struct dev_shm *s);
/** Page size of the regions allocated from now on: DEV_SHM_PAGE_4K or
 * DEV_SHM_PAGE_2M (MFD_HUGETLB; a region falls back to 4 KiB pages when the
 * hugepage pool is short, see dev_shm_page_of()). @return 0 or -EINVAL. */
int dev_shm_set_page_size(struct dev_shm *s, size_t page);
/** Bytes per page backing the region that holds addr, 0 if none does. */
size_t dev_shm_page_of(const struct dev_shm *s, const void *addr);
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
