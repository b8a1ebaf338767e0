/* SPDX-License-Identifier: MIT */
/*
 * dma_noncoherent.c - a device that does not snoop CPU caches: the driver
 * maintains them per 64-byte line. IOVA = VA.
 *
 * What is done when (the rule of arm64's non-coherent DMA ops):
 *   map, sync_for_device: write back every line of the buffer, whatever the
 *     direction: a dirty line must not be evicted over data the device
 *     writes later (FROM_DEVICE) nor be missed by a device read (TO_DEVICE);
 *   unmap, sync_for_cpu: invalidate every line when the device may have
 *     written (FROM_DEVICE, BIDIRECTIONAL), so the CPU reads memory, not
 *     stale cache; nothing for TO_DEVICE.
 * lines_flushed counts each line written back or invalidated, exactly:
 * a buffer [p, p+len) touches (p+len-1)/64 - p/64 + 1 lines.
 *
 * Instructions, chosen by CPUID at open: write back with CLWB, else
 * CLFLUSHOPT, else CLFLUSH; invalidate with CLFLUSHOPT, else CLFLUSH (x86
 * has no invalidate-only instruction for userspace); SFENCE after a batch of
 * weakly ordered ones. Elsewhere a portable fallback reads each line through
 * a volatile pointer and fences, so the per-line cost is still paid.
 *
 * params.nc_model: x86 is coherent, so a skipped invalidate changes nothing
 * the CPU can observe. With nc_model the device's view of memory is kept
 * apart (a shadow in the shared bounce pool): write-back copies the CPU's
 * lines into it, invalidate copies the device's lines back. A driver that
 * skips the invalidate then reads stale data, as on a real non-coherent
 * device. The copies are the model's cost (bytes_copied), the lines are the
 * real cost (lines_flushed).
 *
 * Small buffers the device writes bounce, as dma_direct_map_page() does
 * when dma_kmalloc_needs_bounce() holds (arm64 with
 * CONFIG_DMA_BOUNCE_UNALIGNED_KMALLOC): kmalloc may hand out objects smaller
 * than a cache line, and invalidating a line shared with a neighbour would
 * destroy the neighbour's data. The rule looks at the size and direction
 * only, never at the pointer: not TO_DEVICE, shorter than 2 x
 * ARCH_DMA_MINALIGN (128 on arm64), and kmalloc_size_roundup(size) (kmalloc
 * classes 8, 16, 32, 64, 96, 128, 192, then powers of two) not a multiple
 * of the 64-byte cache line. Such a mapping is copied into a slot of its
 * own bounce pool (params.bounce_pool_bytes; counted in bounced,
 * bytes_copied, bounce_live), the slot is what the device uses and what
 * the cache maintenance covers, and unmap copies it back and frees it.
 * From the first such mapping on need_unmap adds "bounce copy".
 */
#include "dma_pvt.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define DMA_NC_X86 1
#endif

enum nc_insn { NC_TOUCH, NC_CLFLUSH, NC_CLFLUSHOPT, NC_CLWB };

struct dma_noncoherent {
	struct dma d;
	enum nc_insn wb, inval; /* chosen at open */
	struct dma_bpool shadow; /* nc_model: the device's view of memory */
	struct dma_bpool swiotlb; /* dma_kmalloc_needs_bounce() mappings */
	/* Statistics every queue of a shared device updates: relaxed atomics
	 * (no order needed: read at teardown, after the queue threads were
	 * joined, or as a monotonic "bounced once" flag). */
	_Atomic uint64_t kmalloc_bounced; /* mappings bounced so far */
	_Atomic uint64_t kmalloc_live;    /* of them, live now */
	_Atomic uint64_t shadow_full;     /* nc_model: mappings made without a shadow (it was full) */
	_Atomic uint64_t owed;            /* lines of live device-writable mappings whose
					     invalidate at unmap is still owed */
};

static void nc_add(_Atomic uint64_t *v, uint64_t n)
{
	atomic_fetch_add_explicit(v, n, memory_order_relaxed);
}

/* v -= n, stopping at 0 */
static void nc_sub_sat(_Atomic uint64_t *v, uint64_t n)
{
	uint64_t o = atomic_load_explicit(v, memory_order_relaxed);
	while (!atomic_compare_exchange_weak_explicit(v, &o, o - (n < o ? n : o),
						      memory_order_relaxed,
						      memory_order_relaxed))
		;
}

static uint64_t nc_get(const _Atomic uint64_t *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

#define NC_DMA_MINALIGN 128u /* arm64's ARCH_DMA_MINALIGN */

/* kmalloc_size_roundup(): the kmalloc class an object of n bytes gets. */
static size_t nc_kmalloc_roundup(size_t n)
{
	static const size_t cls[] = { 8, 16, 32, 64, 96, 128, 192 };
	for (size_t i = 0; i < sizeof(cls) / sizeof(cls[0]); i++)
		if (n <= cls[i])
			return cls[i];
	size_t p = 256;
	while (p < n)
		p <<= 1;
	return p;
}

/* dma_kmalloc_needs_bounce() on a non-coherent device. */
static bool nc_kmalloc_needs_bounce(size_t len, enum dma_dir dir)
{
	if (dir == DMA_TO_DEVICE || len >= 2 * NC_DMA_MINALIGN)
		return false;
	return nc_kmalloc_roundup(len) % DMA_LINE != 0;
}

static const char *const nc_insn_name[] = {
	[NC_TOUCH] = "touch", [NC_CLFLUSH] = "clflush",
	[NC_CLFLUSHOPT] = "clflushopt", [NC_CLWB] = "clwb",
};

static void nc_lines(enum nc_insn insn, uintptr_t first, uintptr_t last)
{
	for (uintptr_t a = first; a <= last; a += DMA_LINE) {
		const volatile char *p = (const volatile char *)a;
		switch (insn) {
#ifdef DMA_NC_X86
		case NC_CLWB:
			__asm__ volatile("clwb (%0)" ::"r"(p) : "memory");
			break;
		case NC_CLFLUSHOPT:
			__asm__ volatile("clflushopt (%0)" ::"r"(p) : "memory");
			break;
		case NC_CLFLUSH:
			__asm__ volatile("clflush (%0)" ::"r"(p) : "memory");
			break;
#else
		case NC_CLWB:
		case NC_CLFLUSHOPT:
		case NC_CLFLUSH:
#endif
		case NC_TOUCH:
			(void)*p;
			break;
		}
	}
#ifdef DMA_NC_X86
	if (insn != NC_TOUCH)
		__asm__ volatile("sfence" ::: "memory");
	else
#endif
		__sync_synchronize(); /* a full barrier, as after real maintenance */
}

/* Maintain [cpu, cpu+len); count the lines. */
static void nc_maintain(struct dma *d, enum nc_insn insn, uintptr_t cpu,
			size_t len)
{
	uintptr_t first = cpu & ~(DMA_LINE - 1);
	uintptr_t last = (cpu + len - 1) & ~(DMA_LINE - 1);
	nc_lines(insn, first, last);
	dma_ctr_add(d, DMA_C_lines_flushed, (last - first) / DMA_LINE + 1);
}

static int nc_open(struct dma *d)
{
	struct dma_noncoherent *nc = DMA_PRIV(struct dma_noncoherent, d);
	nc->wb = nc->inval = NC_TOUCH;
#ifdef DMA_NC_X86
	unsigned a, b, c, e;
	if (__get_cpuid(1, &a, &b, &c, &e) && (e & (1u << 19)))
		nc->wb = nc->inval = NC_CLFLUSH;
	if (__get_cpuid_count(7, 0, &a, &b, &c, &e)) {
		if (b & (1u << 23)) /* CLFLUSHOPT */
			nc->wb = nc->inval = NC_CLFLUSHOPT;
		if (b & (1u << 24)) /* CLWB */
			nc->wb = NC_CLWB;
	}
#endif
	d->applies |= DMA_CBITS_BOUNCE; /* kmalloc bounces, the model's copies */
	int r = dma_bpool_init(d, &nc->swiotlb, d->p.bounce_pool_bytes, NULL, false);
	if (r < 0 || !d->p.nc_model)
		return r;
	r = dma_bpool_init(d, &nc->shadow, d->p.bounce_pool_bytes, NULL, false);
	nc->shadow.view = true; /* the device's view, not a swiotlb */
	if (r < 0)
		dma_bpool_fini(d, &nc->swiotlb);
	return r;
}

static void nc_close(struct dma *d)
{
	dma_bpool_fini(d, &DMA_PRIV(struct dma_noncoherent, d)->shadow);
	dma_bpool_fini(d, &DMA_PRIV(struct dma_noncoherent, d)->swiotlb);
}

static int nc_map(struct dma *d, void *cpu, size_t len, enum dma_dir dir,
		  uint64_t *iova)
{
	struct dma_noncoherent *nc = DMA_PRIV(struct dma_noncoherent, d);
	if (nc_kmalloc_needs_bounce(len, dir)) {
		/* swiotlb_map(): copy into a slot, then maintain the slot */
		void *slot;
		int r = dma_bpool_map(d, &nc->swiotlb, cpu, len, dir, &slot);
		if (r < 0)
			return r;
		nc_add(&nc->kmalloc_bounced, 1);
		nc_add(&nc->kmalloc_live, 1);
		nc_add(&nc->owed, dma_span((uintptr_t)slot, len, DMA_LINE));
		nc_maintain(d, nc->wb, (uintptr_t)slot, len);
		*iova = (uintptr_t)slot;
		return 0;
	}
	nc_maintain(d, nc->wb, (uintptr_t)cpu, len);
	*iova = (uintptr_t)cpu;
	if (d->p.nc_model) {
		/* the shadow is the model's, not a resource a real mapping
		 * holds: when it is full (mappings never unmapped), the
		 * mapping goes on without one (no stale data for it) */
		void *view;
		if (dma_bpool_map(d, &nc->shadow, cpu, len, dir, &view) == 0)
			*iova = (uintptr_t)view;
		else
			nc_add(&nc->shadow_full, 1);
	}
	/* counted on the address unmap will be given, so they cancel */
	if (dir & DMA_FROM_DEVICE)
		nc_add(&nc->owed, dma_span(*iova, len, DMA_LINE));
	return 0;
}

static int nc_unmap(struct dma *d, uint64_t iova, size_t len, enum dma_dir dir)
{
	struct dma_noncoherent *nc = DMA_PRIV(struct dma_noncoherent, d);
	bool kb = dma_bpool_owns(&nc->swiotlb, (uintptr_t)iova);
	if (dir & DMA_FROM_DEVICE) {
		nc_maintain(d, nc->inval, (uintptr_t)iova, len);
		uint64_t n = dma_span(iova, len, DMA_LINE);
		nc_sub_sat(&nc->owed, n);
	}
	if (kb) {
		int r = dma_bpool_unmap(d, &nc->swiotlb, (void *)(uintptr_t)iova, len, dir, true);
		if (r == 0)
			nc_sub_sat(&nc->kmalloc_live, 1);
		return r;
	}
	if (dma_bpool_owns(&nc->shadow, (uintptr_t)iova))
		return dma_bpool_unmap(d, &nc->shadow, (void *)(uintptr_t)iova, len, dir, true);
	return 0;
}

static void nc_sync(struct dma *d, uint64_t iova, size_t len, enum dma_dir dir,
		    bool for_cpu)
{
	struct dma_noncoherent *nc = DMA_PRIV(struct dma_noncoherent, d);
	if (!for_cpu)
		nc_maintain(d, nc->wb, (uintptr_t)iova, len);
	else if (dir & DMA_FROM_DEVICE)
		nc_maintain(d, nc->inval, (uintptr_t)iova, len);
	if (dma_bpool_owns(&nc->swiotlb, (uintptr_t)iova))
		dma_bpool_sync(d, &nc->swiotlb, (void *)(uintptr_t)iova, len, dir, for_cpu);
	else if (dma_bpool_owns(&nc->shadow, (uintptr_t)iova))
		dma_bpool_sync(d, &nc->shadow, (void *)(uintptr_t)iova, len, dir, for_cpu);
}

static void *nc_translate(struct dma *d, uint64_t iova, size_t len,
			  enum dma_dir access)
{
	(void)d, (void)len, (void)access;
	return (void *)(uintptr_t)iova;
}

static unsigned nc_need_unmap(const struct dma *d)
{
	const struct dma_noncoherent *nc = DMA_CPRIV(struct dma_noncoherent, d);
	return DMA_R_NONCOHERENT | (nc_get(&nc->kmalloc_bounced) ? DMA_R_BOUNCE : 0);
}

/* dma_direct_need_sync(): !dev_is_dma_coherent() is enough. */
static bool nc_need_sync(const struct dma *d, uint64_t iova)
{
	(void)d, (void)iova;
	return true;
}

/* A non-coherent direct mapping holds nothing but a kmalloc bounce slot
 * (the nc_model shadow is the model's device view, not a resource). */
static uint64_t nc_held(const struct dma *d)
{
	return nc_get(&DMA_CPRIV(struct dma_noncoherent, d)->kmalloc_live);
}

static uint64_t nc_owed_lines(const struct dma *d)
{
	return nc_get(&DMA_CPRIV(struct dma_noncoherent, d)->owed);
}

const char *dma_noncoherent_insns(const struct dma *d, bool writeback)
{
	const struct dma_noncoherent *nc =
		DMA_CPRIV(struct dma_noncoherent, d);
	return nc_insn_name[writeback ? nc->wb : nc->inval];
}

const struct dma_ops dma_noncoherent_ops = {
	.name = "noncoherent",
	.size = sizeof(struct dma_noncoherent),
	.cbits = DMA_CBITS_COMMON | DMA_CBIT(lines_flushed),
	.open = nc_open,
	.close = nc_close,
	.map = nc_map,
	.unmap = nc_unmap,
	.sync = nc_sync,
	.translate = nc_translate,
	.need_unmap = nc_need_unmap,
	.need_sync = nc_need_sync,
	.held = nc_held,
	.owed_lines = nc_owed_lines,
};
