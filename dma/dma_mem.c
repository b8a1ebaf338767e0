/* SPDX-License-Identifier: MIT */
/*
 * dma_mem.c - the counting allocator (dma_mem.h).
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dma_mem.h"

/* Relaxed: a counter orders nothing; it is exact once the threads that
 * allocate (setups, teardowns) are quiescent. */
static _Atomic uint64_t dma_mem_bytes[DMA_MEM_NCAT];

static const char *const dma_mem_names[DMA_MEM_NCAT] = {
	[DMA_MEM_RING] = "ring", [DMA_MEM_DRIVER] = "driver", [DMA_MEM_TRACKING] = "tracking",
	[DMA_MEM_INDIRECT] = "indirect", [DMA_MEM_DMA] = "dma", [DMA_MEM_POOL] = "pool",
	[DMA_MEM_DEVICE] = "device",
};

void dma_mem_charge(enum dma_mem_cat cat, int64_t n)
{
	if ((unsigned)cat < DMA_MEM_NCAT)
		atomic_fetch_add_explicit(&dma_mem_bytes[cat], (uint64_t)n, memory_order_relaxed);
}

void *dma_mem_zalloc(enum dma_mem_cat cat, size_t n, size_t align)
{
	if (!align)
		align = 16;
	if (align & (align - 1))
		return NULL;
	size_t len = n ? (n + align - 1) & ~(align - 1) : align;
	void *p = aligned_alloc(align, len);
	if (!p)
		return NULL;
	memset(p, 0, len);
	dma_mem_charge(cat, (int64_t)n);
	return p;
}

void dma_mem_free(enum dma_mem_cat cat, void *p, size_t n)
{
	if (!p)
		return;
	free(p);
	dma_mem_charge(cat, -(int64_t)n);
}

void dma_mem_get(uint64_t out[DMA_MEM_NCAT])
{
	for (unsigned c = 0; c < DMA_MEM_NCAT; c++)
		out[c] = atomic_load_explicit(&dma_mem_bytes[c], memory_order_relaxed);
}

uint64_t dma_mem_footprint(const uint64_t now[DMA_MEM_NCAT], const uint64_t then[DMA_MEM_NCAT])
{
	uint64_t sum = 0;
	for (unsigned c = 0; c < DMA_MEM_FOOTPRINT_CATS; c++)
		sum += now[c] - then[c];
	return sum;
}

const char *dma_mem_cat_name(enum dma_mem_cat cat)
{
	return (unsigned)cat < DMA_MEM_NCAT ? dma_mem_names[cat] : "?";
}

/* MAP_POPULATE fills the kernel's page tables at mmap time (those faults
 * are counted in the process's minflt, at setup). It does not fill what a
 * shadow-paging hypervisor (PVM, as on the machine in FACTS.md) keeps for
 * each user page: that is built on the first user-mode access, a cost no
 * guest counter sees, several microseconds per page. A pool touched for
 * the first time inside a timed loop pays it per packet, until every page
 * was reached once. One store per page here pays it at setup. The store
 * writes the zero the page already holds (fresh anonymous memory) and the
 * compiler keeps it: the memory escapes through p. */
void dma_mem_prefault(void *p, size_t n)
{
	long pg = sysconf(_SC_PAGESIZE);
	size_t step = pg > 0 ? (size_t)pg : 4096;
	for (size_t off = 0; off < n; off += step)
		((unsigned char *)p)[off] = 0;
}
