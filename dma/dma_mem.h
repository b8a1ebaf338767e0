/* SPDX-License-Identifier: MIT */
/*
 * dma_mem.h - the one counting allocator of ring/ and dma/: every byte a
 * queue or a DMA backend allocates is counted by category, so a footprint
 * is read from the counters, not computed beside the code.
 *
 *   ring      the shared ring areas (descriptors, avail/used or events);
 *             allocated by the caller of vq_create, charged here
 *   driver    the driver's private queue state (struct vq, per-chain state,
 *             free lists, struct vq_track)
 *   tracking  what the tracking policy stores per descriptor and per chain
 *             (records, the premapped pool's IOVAs, table IOVAs)
 *   indirect  indirect tables (whole pages) and their free list / head map
 *   dma       the DMA backend's own memory (its struct, page tables, IOVA
 *             bitmap and caches, bounce pool and its metadata): the
 *             backend's mem_bytes counter
 *   pool      the buffer pool the driver maps buffers from; allocated by
 *             the caller, charged here
 *   device    the software device's own state (the device side of a ring):
 *             counted, but not part of the driver's footprint
 *
 * The counters are process-wide relaxed atomics (allocation happens at
 * setup and teardown, never per packet); a run's footprint is the change
 * between two snapshots (dma_mem_get). Nothing here is on the packet path.
 */
#ifndef DMA_MEM_H
#define DMA_MEM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum dma_mem_cat {
	DMA_MEM_RING,
	DMA_MEM_DRIVER,
	DMA_MEM_TRACKING,
	DMA_MEM_INDIRECT,
	DMA_MEM_DMA,
	DMA_MEM_POOL,
	DMA_MEM_DEVICE,
	DMA_MEM_NCAT
};
/* The categories a driver's footprint sums (all but DMA_MEM_DEVICE). */
#define DMA_MEM_FOOTPRINT_CATS DMA_MEM_DEVICE

/** Zeroed memory of n bytes aligned to align (a power of two; 0 = 16),
 * counted under cat. NULL when out of memory. */
void *dma_mem_zalloc(enum dma_mem_cat cat, size_t n, size_t align);
/** Free p (from dma_mem_zalloc with the same cat and n); NULL is a no-op. */
void dma_mem_free(enum dma_mem_cat cat, void *p, size_t n);
/** Count bytes allocated elsewhere (mmap, DPDK, a shared region) under cat:
 * +n when taken, -n when given back. */
void dma_mem_charge(enum dma_mem_cat cat, int64_t n);
/** Snapshot of every category's live bytes. */
void dma_mem_get(uint64_t out[DMA_MEM_NCAT]);
/** Sum of the footprint categories in a snapshot difference (now - then). */
uint64_t dma_mem_footprint(const uint64_t now[DMA_MEM_NCAT], const uint64_t then[DMA_MEM_NCAT]);
/** Touch every page of [p, p + n) once from user mode (one zero byte per
 * page), so that first-touch costs fall at setup, not in a timed loop.
 * Only for memory that is still zero (fresh from mmap); see dma_mem.c. */
void dma_mem_prefault(void *p, size_t n);
/** "ring", "driver", ... */
const char *dma_mem_cat_name(enum dma_mem_cat cat);

#ifdef __cplusplus
}
#endif
#endif /* DMA_MEM_H */
