/* SPDX-License-Identifier: MIT */
/*
 * dma_iommu.c - a software IOMMU: what map and unmap cost, and what a
 * missing or late IOTLB invalidation lets a device do.
 *
 * Driver side (map/unmap):
 *   - IOVA allocator with per-size-class magazines (dma_iova.c) over
 *     [1 MiB, 4 GiB), 4 KiB IOVA pages, each mapping 2^order pages;
 *   - a 3-level radix page table (9 bits per level, 4 KiB leaves of 512
 *     PTEs). A PTE is the CPU page address | R | W, 0 when not mapped;
 *     the first PTE of a mapping also holds its IOVA block's order, so an
 *     unmap with the wrong length is refused before it corrupts the
 *     allocator.
 *     Nodes are allocated when first needed and freed at close: at most one
 *     leaf per 512 IOVA pages, so at most 2048 leaves (8 MiB) plus 4 middle
 *     nodes for the 4 GiB space: amortised, bounded, never on a path that
 *     reuses IOVA;
 *   - invalidation. strict: each unmap clears its PTEs, then invalidates its
 *     pages (iotlb_invalidations += pages, iotlb_flushes += 1), then frees
 *     the IOVA. lazy (params.lazy): unmap clears the PTEs and queues the
 *     IOVA; every flush_batch unmaps one global IOTLB flush
 *     (iotlb_flushes += 1, no per-page invalidations) frees the whole queue,
 *     and so does the queue's timer (params.fq_timeout_us after it was
 *     armed by a queued IOVA; polled at each lazy unmap, where it costs
 *     one clock read; iotlb_timer_flushes += 1 too), as 6.1's
 *     queue_iova() and fq_flush_timeout() (drivers/iommu/dma-iommu.c).
 *     iova_allocs and iova_frees count the allocator's ranges.
 *
 * Device side (translate): a 64-set x 4-way IOTLB owned by the translating
 * thread alone (plain memory). The driver never touches it; it publishes
 * invalidations through atomics the device checks:
 *   - set_gen[set]: bumped (release) for each page a strict unmap
 *     invalidates; an entry remembers the generation of its set read
 *     *before* its walk, so an invalidation racing the walk still kills it;
 *   - flush_seq: bumped (release) by a lazy flush; the device wipes its
 *     IOTLB when it sees a new value.
 * A miss walks the page table (acquire loads); an unmapped page or a
 * missing permission is refused (NULL, faults++).
 *
 * Shared by several queues (params.cpus > 1), as one IOMMU domain serves
 * all queues of a device: the IOVA allocator keeps a cache per CPU
 * (dma_iova.c); page-table nodes are installed with a compare-and-swap (a
 * queue that loses the race frees its node and uses the winner's, as the
 * kernel's page-table code does with cmpxchg); the lazy flush queue is
 * under fq_lock; the IOTLB, one per IOMMU, is used by one translating
 * thread at a time under iotlb_lock. One queue: none of these locks.
 *
 * Stale hits: on each hit the device also reloads the PTE the entry was
 * filled from (one load, no walk). If it changed, the hit is stale:
 * stale_hits++ and the access SUCCEEDS with the old translation, because a
 * real IOMMU answers from its IOTLB without looking at the page table. That
 * is the danger of lazy mode: until the next flush a device can still reach
 * memory the driver has unmapped (and perhaps reused). In strict mode a stale
 * hit only happens when the device races an unmap in progress.
 *
 * Untrusted device (params.untrusted; Linux: a PCI device behind an external
 * port): strict invalidation, and, as iommu_dma_map_page() does when
 * dev_use_swiotlb() and iova_unaligned() hold, a buffer whose start or length
 * is not a multiple of the 4 KiB granule is bounced first: copied into a
 * granule-aligned run of bounce slots covering whole granules (so the device
 * cannot reach the neighbours of the buffer in its page), and that run is
 * what the page table maps. Unmap copies a device-written buffer back and
 * frees the slots (swiotlb_tbl_unmap_single after the IOVA is unmapped);
 * sync copies through them (iommu_dma_sync_single_for_cpu/device). From the
 * first bounce on, need_unmap adds "bounce copy" and need_sync is true.
 *
 * Passthrough (params.passthrough): the device sits in an identity domain,
 * and Linux gives it dma-direct (iommu_setup_dma_ops: not a DMA domain):
 * IOVA = address, unmap does nothing, need_unmap false. The 2024 RFC's
 * iommu_dma_opt_can_skip_unmap() answered this case.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "dma_pvt.h"

#define IOMMU_BASE_PFN 0x100ull /* IOVA 1 MiB */
#define IOMMU_END_PFN (1ull << 20) /* IOVA 4 GiB */
#define PT_BITS 9
#define PT_N (1u << PT_BITS)
#define PTE_R 1ull
#define PTE_W 2ull
#define PTE_HEAD 4ull       /* first page of a mapping ... */
#define PTE_ORDER_SHIFT 3   /* ... whose IOVA block is 2^order pages */
#define PTE_ORDER(pte) (((pte) >> PTE_ORDER_SHIFT) & 0x3f)
#define IOTLB_SETS 64u
#define IOTLB_WAYS 4u

struct pt_leaf {
	_Atomic uint64_t pte[PT_N];
};
struct pt_mid {
	_Atomic(struct pt_leaf *) leaf[PT_N];
};

struct iotlb_entry {
	uint64_t tag; /* IOVA pfn + 1; 0 = empty */
	uint64_t pte;
	_Atomic uint64_t *ptep; /* where it was filled from */
	uint32_t gen;           /* set_gen when filled */
};

/* Device thread only. */
struct iommu_dev {
	struct iotlb_entry e[IOTLB_SETS][IOTLB_WAYS];
	uint8_t victim[IOTLB_SETS];
	uint64_t flush_seen;
};

struct fq_entry {
	uint64_t pfn;
	unsigned order;
};

struct dma_iommu {
	struct dma d;
	/* driver thread */
	struct dma_iova iova;
	struct fq_entry *fq;
	unsigned fq_n;
	atomic_bool fq_timer_on;    /* lazy: the queue's timer is armed ...
				       (relaxed: under fq_lock) */
	uint64_t fq_deadline;       /* ... to fire then (clock_ns) */
	pthread_mutex_t fq_lock;    /* shared: fq, fq_n, fq_timer_on, fq_deadline */
	uint64_t (*now_ns)(void *ctx); /* dma_set_clock; NULL: CLOCK_MONOTONIC */
	void *now_ctx;
	/* counters of this backend alone (iommu_counters) */
	_Atomic uint64_t iova_allocs, iova_frees, timer_flushes;
	pthread_mutex_t iotlb_lock; /* shared: dev */
	struct dma_bpool bp;         /* untrusted: the bounce pool */
	/* written by the driver, read by the device */
	_Alignas(64) _Atomic(struct pt_mid *) top[PT_N];
	_Alignas(64) _Atomic uint32_t set_gen[IOTLB_SETS];
	_Atomic uint64_t flush_seq;
	/* device thread */
	_Alignas(64) struct iommu_dev dev;
	/* the IOVA API's counters (driver threads; dma_ctr_add's rules) */
	_Alignas(64) _Atomic uint64_t iova_ctr[DMA_C_IOVA_N];
};

enum { IOVA_LINKS, IOVA_UNLINKS, IOVA_SYNCS, IOVA_RANGES };

/* This backend's own counters, with dma_ctr_add's rule: one queue, one
 * writer (a relaxed load and store); a shared device, a relaxed fetch_add. */
static void iommu_ctr_add(const struct dma *d, _Atomic uint64_t *c, uint64_t n)
{
	if (d->shared)
		atomic_fetch_add_explicit(c, n, memory_order_relaxed);
	else
		atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
				      memory_order_relaxed);
}

static void iova_ctr_add(struct dma *d, unsigned c, int64_t n)
{
	iommu_ctr_add(d, &DMA_PRIV(struct dma_iommu, d)->iova_ctr[c], (uint64_t)n);
}

static uint64_t iova_ctr_get(const struct dma *d, unsigned c)
{
	return atomic_load_explicit(&DMA_CPRIV(struct dma_iommu, d)->iova_ctr[c], memory_order_relaxed);
}

static int iommu_open(struct dma *d)
{
	struct dma_iommu *m = DMA_PRIV(struct dma_iommu, d);
	if (d->p.flush_batch > (1u << 20))
		return dma_err(d, -EINVAL, "flush_batch %u: at most %u",
			       d->p.flush_batch, 1u << 20);
	if (d->p.passthrough + d->p.untrusted + d->p.lazy > 1)
		return dma_err(d, -EINVAL, "modes lazy %d, passthrough %d, "
			       "untrusted %d: at most one (an untrusted device is "
			       "strict)", d->p.lazy, d->p.passthrough,
			       d->p.untrusted);
	/* before any early return: close destroys them */
	pthread_mutex_init(&m->fq_lock, NULL);
	pthread_mutex_init(&m->iotlb_lock, NULL);
	if (d->p.passthrough) {
		d->applies = DMA_CBITS_COMMON;
		return 0;
	}
	if (d->p.untrusted) {
		int r = dma_bpool_init(d, &m->bp, d->p.bounce_pool_bytes, NULL, false);
		if (r < 0)
			return r;
		d->applies |= DMA_CBITS_BOUNCE;
	}
	uint64_t npages = IOMMU_END_PFN - IOMMU_BASE_PFN;
	if (d->p.iova_pages && d->p.iova_pages < npages)
		npages = d->p.iova_pages; /* a small space: exhaustion tests */
	int r = dma_iova_init(d, &m->iova, IOMMU_BASE_PFN, npages);
	if (r < 0) {
		dma_bpool_fini(d, &m->bp);
		return r;
	}
	if (d->p.lazy) {
		m->fq = dma_zalloc(d, d->p.flush_batch * sizeof(*m->fq));
		if (!m->fq) {
			dma_iova_fini(d, &m->iova);
			return dma_err(d, -ENOMEM, "cannot allocate a flush "
				       "queue of %u entries", d->p.flush_batch);
		}
	}
	return 0;
}

static void iommu_close(struct dma *d)
{
	struct dma_iommu *m = DMA_PRIV(struct dma_iommu, d);
	for (unsigned t = 0; t < PT_N; t++) {
		struct pt_mid *mid = atomic_load_explicit(&m->top[t],
							  memory_order_relaxed);
		if (!mid)
			continue;
		for (unsigned k = 0; k < PT_N; k++)
			dma_free(d, atomic_load_explicit(&mid->leaf[k],
							 memory_order_relaxed),
				 sizeof(struct pt_leaf));
		dma_free(d, mid, sizeof(*mid));
	}
	if (m->fq)
		dma_free(d, m->fq, d->p.flush_batch * sizeof(*m->fq));
	dma_iova_fini(d, &m->iova);
	pthread_mutex_destroy(&m->fq_lock);
	pthread_mutex_destroy(&m->iotlb_lock);
	dma_bpool_fini(d, &m->bp);
}

/* Install a zeroed node at *slot unless another queue did first; the node
 * there afterwards, NULL when none could be allocated. R1: publishes the
 * zeroed node; pairs with A1/A2 in pt_walk and with the acquire on a lost
 * race (the winner's zeroes are visible to the loser). */
#define PT_INSTALL(m, slot, type)                                              \
	static type *pt_install_##type(struct dma_iommu *m, _Atomic(type *) *slot) \
	{                                                                      \
		type *node = dma_zalloc(&m->d, sizeof(type)), *cur = NULL;     \
		if (!node)                                                     \
			return NULL;                                           \
		if (atomic_compare_exchange_strong_explicit(                   \
			    slot, &cur, node, memory_order_release,            \
			    memory_order_acquire))                             \
			return node;                                           \
		dma_free(&m->d, node, sizeof(type)); /* another queue won */   \
		return cur;                                                    \
	}
typedef struct pt_mid pt_mid;
typedef struct pt_leaf pt_leaf;
PT_INSTALL(m, slot, pt_mid)
PT_INSTALL(m, slot, pt_leaf)
#undef PT_INSTALL

/* Driver: the PTE slot of pfn, creating nodes on the way when asked.
 * Acquire loads: on a shared device another queue may have installed the
 * node (pairs with R1 in pt_install_*). */
static _Atomic uint64_t *pt_slot(struct dma_iommu *m, uint64_t pfn, bool create)
{
	_Atomic(struct pt_mid *) *tp = &m->top[pfn >> (2 * PT_BITS)];
	struct pt_mid *mid = atomic_load_explicit(tp, memory_order_acquire);
	if (!mid && (!create ||
		     !(mid = pt_install_pt_mid(m, tp))))
		return NULL;
	_Atomic(struct pt_leaf *) *lp = &mid->leaf[(pfn >> PT_BITS) & (PT_N - 1)];
	struct pt_leaf *leaf = atomic_load_explicit(lp, memory_order_acquire);
	if (!leaf && (!create ||
		      !(leaf = pt_install_pt_leaf(m, lp))))
		return NULL;
	return &leaf->pte[pfn & (PT_N - 1)];
}

/* Device: the PTE slot of pfn, NULL when no node covers it. */
static _Atomic uint64_t *pt_walk(struct dma_iommu *m, uint64_t pfn)
{
	if (pfn >> (3 * PT_BITS))
		return NULL;
	/* A1: pairs with R1 in pt_install_*. */
	struct pt_mid *mid = atomic_load_explicit(&m->top[pfn >> (2 * PT_BITS)],
						  memory_order_acquire);
	if (!mid)
		return NULL;
	/* A2: pairs with R1 in pt_install_*. */
	struct pt_leaf *leaf = atomic_load_explicit(
		&mid->leaf[(pfn >> PT_BITS) & (PT_N - 1)], memory_order_acquire);
	return leaf ? &leaf->pte[pfn & (PT_N - 1)] : NULL;
}

/* Untrusted: undo a bounce whose IOVA mapping failed. */
static void iommu_unbounce(struct dma_iommu *m, void *slot, size_t len,
			   enum dma_dir dir)
{
	dma_bpool_unmap(&m->d, &m->bp, slot, len, dir, false);
	dma_ctr_sub(&m->d, DMA_C_bounced, 1);
	dma_ctr_sub(&m->d, DMA_C_bytes_copied, dma_bpool_copied_in(&m->bp, len, dir));
}

static int iommu_map(struct dma *d, void *cpu, size_t len, enum dma_dir dir,
		     uint64_t *iova)
{
	struct dma_iommu *m = DMA_PRIV(struct dma_iommu, d);
	if (d->p.passthrough) { /* identity domain: dma-direct */
		*iova = (uintptr_t)cpu;
		return 0;
	}
	void *orig = cpu, *slot = NULL;
	if (d->p.untrusted && (((uintptr_t)cpu | len) & DMA_PAGE_MASK)) {
		/* iova_unaligned(): bounce into whole, aligned granules */
		size_t span = (len + DMA_PAGE_MASK) & ~DMA_PAGE_MASK;
		int r = dma_bpool_map_aligned(d, &m->bp, cpu, len, span,
					      DMA_PAGE_SIZE / DMA_BSLOT_SIZE,
					      dir, &slot);
		if (r < 0)
			return r;
		/* the rest of the granules is zeroed (all of it when the
		 * device only writes): it must not see old pool contents */
		size_t keep = dir & DMA_TO_DEVICE ? len : 0;
		memset((uint8_t *)slot + keep, 0, span - keep);
		cpu = slot;
	}
	uintptr_t va = (uintptr_t)cpu & ~DMA_PAGE_MASK;
	uint64_t pages = dma_span((uintptr_t)cpu, len, DMA_PAGE_SIZE);
	unsigned order = dma_order(pages);
	int64_t pfn = dma_iova_alloc(&m->iova, order);
	if (pfn < 0 && slot)
		iommu_unbounce(m, slot, len, dir);
	if (pfn < 0) /* the resource, its size and its use at this moment */
		return dma_err(d, -ENOMEM, "IOVA space exhausted: no %llu free "
			       "aligned pages for %zu bytes at %p; space %llu "
			       "pages of 4 KiB (%llu MiB), %llu allocated, %llu "
			       "mappings live", 1ull << order, len, cpu,
			       (unsigned long long)m->iova.npages,
			       (unsigned long long)(m->iova.npages >> 8),
			       (unsigned long long)dma_iova_allocated(&m->iova),
			       (unsigned long long)dma_ctr_read(d, DMA_C_live));
	iommu_ctr_add(d, &m->iova_allocs, 1);
	uint64_t perm = (dir & DMA_TO_DEVICE ? PTE_R : 0) |
			(dir & DMA_FROM_DEVICE ? PTE_W : 0);
	for (uint64_t i = 0; i < pages; i++) {
		_Atomic uint64_t *ptep = pt_slot(m, (uint64_t)pfn + i, true);
		if (!ptep) {
			for (uint64_t k = 0; k < i; k++)
				atomic_store_explicit(pt_slot(m, (uint64_t)pfn + k, false),
						      0, memory_order_relaxed);
			dma_iova_free(&m->iova, (uint64_t)pfn, order);
			iommu_ctr_add(d, &m->iova_frees, 1);
			if (slot)
				iommu_unbounce(m, slot, len, dir);
			return dma_err(d, -ENOMEM, "cannot allocate a page-table "
				       "node mapping %p", orig);
		}
		/* R3: the device may use the PTE once it loads it; pairs
		 * with A3 in iotlb_lookup. */
		uint64_t head = i ? 0 : PTE_HEAD | (uint64_t)order << PTE_ORDER_SHIFT;
		atomic_store_explicit(ptep, (va + i * DMA_PAGE_SIZE) | perm | head,
				      memory_order_release);
	}
	*iova = ((uint64_t)pfn << DMA_PAGE_SHIFT) | ((uintptr_t)cpu & DMA_PAGE_MASK);
	return 0;
}

/* Lazy: one global IOTLB flush, then the queued IOVAs may be reused. */
static void iommu_flush(struct dma_iommu *m)
{
	/* R4: after this the device wipes its IOTLB before using it again;
	 * the PTE clears queued before are ordered before it. Pairs with A4
	 * in iommu_translate. */
	atomic_fetch_add_explicit(&m->flush_seq, 1, memory_order_release);
	dma_ctr_add(&m->d, DMA_C_iotlb_flushes, 1);
	for (unsigned i = 0; i < m->fq_n; i++)
		dma_iova_free(&m->iova, m->fq[i].pfn, m->fq[i].order);
	iommu_ctr_add(&m->d, &m->iova_frees, m->fq_n);
	m->fq_n = 0;
}

static uint64_t iommu_now_ns(const struct dma *d)
{
	const struct dma_iommu *m = DMA_CPRIV(struct dma_iommu, d);
	if (m->now_ns)
		return m->now_ns(m->now_ctx);
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Lazy, under fq_lock: the queue's timer (fq_flush_timeout) fires if its
 * deadline has passed: it disarms itself and flushes, full queue or not. */
static void iommu_fq_timer(struct dma_iommu *m)
{
	if (atomic_load_explicit(&m->fq_timer_on, memory_order_relaxed) &&
	    iommu_now_ns(&m->d) >= m->fq_deadline) {
		atomic_store_explicit(&m->fq_timer_on, false, memory_order_relaxed);
		iommu_ctr_add(&m->d, &m->timer_flushes, 1);
		iommu_flush(m);
	}
}

static int iommu_unmap(struct dma *d, uint64_t iova, size_t len,
		       enum dma_dir dir)
{
	struct dma_iommu *m = DMA_PRIV(struct dma_iommu, d);
	if (d->p.passthrough)
		return 0;
	uint64_t pfn = iova >> DMA_PAGE_SHIFT;
	uint64_t pages = dma_span(iova, len, DMA_PAGE_SIZE);
	unsigned order = dma_order(pages);
	if (pfn < IOMMU_BASE_PFN || pfn + pages > IOMMU_END_PFN ||
	    (pfn - IOMMU_BASE_PFN) & ((1ull << order) - 1))
		return dma_err(d, -EINVAL, "unmap of IOVA 0x%llx len %zu: not "
			       "an IOVA this IOMMU hands out",
			       (unsigned long long)iova, len);
	/* Relaxed: the driver reads its own writes. */
	_Atomic uint64_t *hp = pt_slot(m, pfn, false);
	uint64_t head = hp ? atomic_load_explicit(hp, memory_order_relaxed) : 0;
	if (!head)
		return dma_err(d, -EINVAL, "unmap of IOVA 0x%llx len %zu: "
			       "page 0x%llx is not mapped",
			       (unsigned long long)iova, len,
			       (unsigned long long)(pfn << DMA_PAGE_SHIFT));
	if (!(head & PTE_HEAD) || PTE_ORDER(head) != order)
		return dma_err(d, -EINVAL, "unmap of IOVA 0x%llx len %zu: "
			       "not the start of a mapping, or a wrong length "
			       "(its IOVA block is %llu pages, this length %llu)",
			       (unsigned long long)iova, len,
			       head & PTE_HEAD ? 1ull << PTE_ORDER(head) : 0ull,
			       1ull << order);
	/* untrusted: the CPU address behind the IOVA is a bounce slot */
	uint8_t *slot = (uint8_t *)(uintptr_t)(head & ~DMA_PAGE_MASK) +
			(iova & DMA_PAGE_MASK);
	bool bounced = dma_bpool_owns(&m->bp, (uintptr_t)slot);
	/* Relaxed clears: R4 (lazy) or R5 (strict) orders them before the
	 * device may drop its IOTLB entries; a walk that sees 0 faults. */
	for (uint64_t i = 0; i < pages; i++)
		atomic_store_explicit(pt_slot(m, pfn + i, false), 0,
				      memory_order_relaxed);
	if (d->p.lazy) {
		/* lock order: fq, then the IOVA allocator's (in the flush) */
		dma_lock(d->shared, &m->fq_lock);
		iommu_fq_timer(m);
		m->fq[m->fq_n].pfn = pfn;
		m->fq[m->fq_n].order = order;
		if (++m->fq_n == d->p.flush_batch)
			iommu_flush(m);
		if (!atomic_load_explicit(&m->fq_timer_on, memory_order_relaxed)) {
			/* queue_iova arms the timer */
			atomic_store_explicit(&m->fq_timer_on, true, memory_order_relaxed);
			m->fq_deadline = iommu_now_ns(d) +
					 (uint64_t)(d->p.fq_timeout_us ? d->p.fq_timeout_us : 10000) * 1000u;
		}
		dma_unlock(d->shared, &m->fq_lock);
		return 0;
	}
	for (uint64_t i = 0; i < pages; i++)
		/* R5: kills the device's entries for this set filled before
		 * now; pairs with A5 in iotlb_lookup. */
		atomic_fetch_add_explicit(&m->set_gen[(pfn + i) % IOTLB_SETS], 1,
					  memory_order_release);
	dma_ctr_add(d, DMA_C_iotlb_invalidations, pages);
	dma_ctr_add(d, DMA_C_iotlb_flushes, 1);
	dma_iova_free(&m->iova, pfn, order);
	iommu_ctr_add(d, &m->iova_frees, 1);
	/* then the bounce slot: copy back what the device wrote, free it */
	return bounced ? dma_bpool_unmap(d, &m->bp, slot, len, dir, true) : 0;
}

/* Untrusted: a sync goes through the bounce slot behind the IOVA, if any
 * (iommu_dma_sync_single_for_*: is_swiotlb_buffer() of iova_to_phys()). */
static void iommu_sync(struct dma *d, uint64_t iova, size_t len,
		       enum dma_dir dir, bool for_cpu)
{
	struct dma_iommu *m = DMA_PRIV(struct dma_iommu, d);
	if (!m->bp.base)
		return;
	_Atomic uint64_t *p = pt_slot(m, iova >> DMA_PAGE_SHIFT, false);
	uint64_t pte = p ? atomic_load_explicit(p, memory_order_relaxed) : 0;
	uint8_t *cpu = (uint8_t *)(uintptr_t)(pte & ~DMA_PAGE_MASK) +
		       (iova & DMA_PAGE_MASK);
	if (pte && dma_bpool_owns(&m->bp, (uintptr_t)cpu))
		dma_bpool_sync(d, &m->bp, cpu, len, dir, for_cpu);
}

/* Device: the PTE for pfn through the IOTLB, 0 when not mapped. */
static uint64_t iotlb_lookup(struct dma_iommu *m, uint64_t pfn)
{
	struct iommu_dev *dv = &m->dev;
	unsigned set = pfn % IOTLB_SETS;
	/* A5: pairs with R5 in iommu_unmap; read before the walk. */
	uint32_t gen = atomic_load_explicit(&m->set_gen[set],
					    memory_order_acquire);
	struct iotlb_entry *e = dv->e[set], *victim = NULL;
	for (unsigned w = 0; w < IOTLB_WAYS; w++) {
		if (e[w].tag == pfn + 1 && e[w].gen == gen) {
			/* A3': pairs with R3 in iommu_map (a remap). */
			uint64_t now = atomic_load_explicit(e[w].ptep,
							    memory_order_acquire);
			if (now != e[w].pte)
				dma_ctr_add(&m->d, DMA_C_stale_hits, 1);
			return e[w].pte;
		}
		if (!victim && (e[w].tag == 0 || e[w].gen != gen))
			victim = &e[w];
	}
	_Atomic uint64_t *ptep = pt_walk(m, pfn);
	/* A3: pairs with R3 in iommu_map. */
	uint64_t pte = ptep ? atomic_load_explicit(ptep, memory_order_acquire)
			    : 0;
	if (!pte)
		return 0;
	if (!victim) {
		victim = &e[dv->victim[set]];
		dv->victim[set] = (uint8_t)((dv->victim[set] + 1) % IOTLB_WAYS);
	}
	victim->tag = pfn + 1;
	victim->pte = pte;
	victim->ptep = ptep;
	victim->gen = gen;
	return pte;
}

static void *iommu_translate_locked(struct dma *d, uint64_t iova, size_t len,
				    enum dma_dir access)
{
	struct dma_iommu *m = DMA_PRIV(struct dma_iommu, d);
	struct iommu_dev *dv = &m->dev;
	if (d->p.passthrough) /* identity domain: every address reachable */
		return (void *)(uintptr_t)iova;
	/* A4: pairs with R4 in iommu_flush. */
	uint64_t fs = atomic_load_explicit(&m->flush_seq, memory_order_acquire);
	if (fs != dv->flush_seen) {
		memset(dv->e, 0, sizeof(dv->e));
		dv->flush_seen = fs;
	}
	uint64_t need = (access & DMA_TO_DEVICE ? PTE_R : 0) |
			(access & DMA_FROM_DEVICE ? PTE_W : 0);
	uint64_t first = iova >> DMA_PAGE_SHIFT;
	uint64_t last = (iova + len - 1) >> DMA_PAGE_SHIFT;
	uintptr_t base = 0;
	for (uint64_t pfn = first; pfn <= last; pfn++) {
		uint64_t pte = iotlb_lookup(m, pfn);
		if (!pte || (pte & need) != need)
			return NULL;
		uintptr_t va = (uintptr_t)(pte & ~DMA_PAGE_MASK);
		if (pfn == first)
			base = va;
		else if (va != base + (pfn - first) * DMA_PAGE_SIZE)
			return NULL; /* not one CPU buffer: no single pointer */
	}
	return (void *)(base + (iova & DMA_PAGE_MASK));
}

/* One IOTLB per IOMMU: the translating threads of a shared device (one
 * per queue) take turns. */
static void *iommu_translate(struct dma *d, uint64_t iova, size_t len,
			     enum dma_dir access)
{
	struct dma_iommu *m = DMA_PRIV(struct dma_iommu, d);
	dma_lock(d->shared, &m->iotlb_lock);
	void *p = iommu_translate_locked(d, iova, len, access);
	dma_unlock(d->shared, &m->iotlb_lock);
	return p;
}

/* Linux's dma_need_unmap(): true for a device not on dma-direct; the
 * bounce reason is added once a mapping was bounced. Passthrough is
 * dma-direct on a coherent device: false. */
static unsigned iommu_need_unmap(const struct dma *d)
{
	if (d->p.passthrough)
		return 0;
	return DMA_R_IOMMU | (dma_dev_bounced(d) ? DMA_R_BOUNCE : 0);
}

/* dma_need_sync(): dma_skip_sync holds for a coherent device until the
 * first bounce clears it; then __dma_need_sync() is true for any address
 * of a device not on dma-direct. */
static bool iommu_need_sync(const struct dma *d, uint64_t iova)
{
	(void)iova;
	return dma_dev_bounced(d);
}

/* Each mapping holds an IOVA (an untrusted one's bounce slot too), and
 * so does each IOVA-API range; passthrough mappings hold nothing. */
static uint64_t iommu_held(const struct dma *d)
{
	return d->p.passthrough ? 0 : dma_ctr_read(d, DMA_C_live) + iova_ctr_get(d, IOVA_RANGES);
}

/* ---- The IOVA two-step API (dma_iova_api.c; drivers/iommu/dma-iommu.c) ---- */

/* dma_iova_try_alloc: one IOVA block for the range (the model's allocator
 * hands out power-of-two blocks, so a range of 3 MiB holds 4). */
static int iommu_iova_alloc(struct dma *d, struct dma_iova_state *st, size_t size)
{
	struct dma_iommu *m = DMA_PRIV(struct dma_iommu, d);
	uint64_t pages = size >> DMA_PAGE_SHIFT;
	unsigned order = dma_order(pages);
	int64_t pfn = dma_iova_alloc(&m->iova, order);
	if (pfn < 0) /* the resource, its size and its use at this moment */
		return dma_err(d, -ENOMEM, "IOVA space exhausted: no %llu free aligned pages for an IOVA range of "
			       "%zu bytes; space %llu pages of 4 KiB (%llu MiB), %llu allocated, %llu mappings and "
			       "%llu ranges live", 1ull << order, size, (unsigned long long)m->iova.npages,
			       (unsigned long long)(m->iova.npages >> 8),
			       (unsigned long long)dma_iova_allocated(&m->iova),
			       (unsigned long long)dma_ctr_read(d, DMA_C_live),
			       (unsigned long long)iova_ctr_get(d, IOVA_RANGES));
	st->addr = (uint64_t)pfn << DMA_PAGE_SHIFT;
	st->size = size;
	iova_ctr_add(d, IOVA_RANGES, 1);
	return 0;
}

static void iommu_iova_free(struct dma *d, struct dma_iova_state *st)
{
	struct dma_iommu *m = DMA_PRIV(struct dma_iommu, d);
	dma_iova_free(&m->iova, st->addr >> DMA_PAGE_SHIFT, dma_order(st->size >> DMA_PAGE_SHIFT));
	iova_ctr_add(d, IOVA_RANGES, -1);
}

/* dma_iova_sync: iommu_sync_map; this IOMMU sees a PTE when it is written,
 * so the call is counted and does nothing else. */
static void iommu_iova_sync(struct dma *d, struct dma_iova_state *st, size_t offset, size_t len)
{
	(void)st, (void)offset, (void)len;
	iova_ctr_add(d, IOVA_SYNCS, 1);
}

/* dma_iova_link: PTEs written, no IOTLB work (iommu_map_nosync). An
 * untrusted device's unaligned buffer goes through a bounce slot first
 * (iommu_dma_iova_link_swiotlb; see dma.h for how the model differs). */
static int iommu_iova_link(struct dma *d, struct dma_iova_state *st, void *cpu, size_t offset,
			   size_t len, enum dma_dir dir, uint64_t *dev_addr)
{
	struct dma_iommu *m = DMA_PRIV(struct dma_iommu, d);
	void *src = cpu, *slot = NULL;
	if (d->p.untrusted && (((uintptr_t)cpu | len) & DMA_PAGE_MASK)) {
		size_t span = (len + DMA_PAGE_MASK) & ~DMA_PAGE_MASK;
		int r = dma_bpool_map_aligned(d, &m->bp, cpu, len, span, DMA_PAGE_SIZE / DMA_BSLOT_SIZE, dir, &slot);
		if (r < 0)
			return r;
		/* the slot holds the buffer (copied in whatever the direction);
		 * the padding is zeroed: no old pool contents for the device */
		memset((uint8_t *)slot + len, 0, span - len);
		src = slot;
	}
	uint64_t pages = dma_span((uintptr_t)src, len, DMA_PAGE_SIZE);
	uint64_t pfn = (st->addr + offset) >> DMA_PAGE_SHIFT;
	const char *why = offset + pages * DMA_PAGE_SIZE > st->size ? "runs past the range" : NULL;
	uint64_t perm = (dir & DMA_TO_DEVICE ? PTE_R : 0) | (dir & DMA_FROM_DEVICE ? PTE_W : 0);
	uintptr_t va = (uintptr_t)src & ~DMA_PAGE_MASK;
	uint64_t i = 0;
	for (; !why && i < pages; i++) {
		_Atomic uint64_t *ptep = pt_slot(m, pfn + i, true);
		/* Relaxed: the driver reads its own writes. */
		if (!ptep || atomic_load_explicit(ptep, memory_order_relaxed)) {
			why = ptep ? "a granule there is linked already" : "no memory for a page-table node";
			break;
		}
		/* R3: pairs with A3 in iotlb_lookup. */
		atomic_store_explicit(ptep, (va + i * DMA_PAGE_SIZE) | perm, memory_order_release);
	}
	if (why) {
		for (uint64_t k = 0; k < i; k++)
			atomic_store_explicit(pt_slot(m, pfn + k, false), 0, memory_order_relaxed);
		if (slot)
			iommu_unbounce(m, slot, len, dir);
		return dma_err(d, why[0] == 'n' ? -ENOMEM : -EINVAL, "dma_iova_link of %zu bytes at %p at offset "
			       "%zu of range 0x%llx (%llu bytes): %s", len, cpu, offset,
			       (unsigned long long)st->addr, (unsigned long long)st->size, why);
	}
	*dev_addr = st->addr + offset + ((uintptr_t)src & DMA_PAGE_MASK);
	iova_ctr_add(d, IOVA_LINKS, 1);
	return (int)pages;
}

/* dma_iova_unlink / dma_iova_destroy: bounced granules copied back and
 * freed (iommu_dma_iova_unlink_range_slow), PTEs cleared, then the IOTLB
 * invalidated at once (iommu_iotlb_sync), lazy domain or not; only destroy
 * on a lazy domain queues the range and its invalidation instead. */
static void iommu_iova_unlink(struct dma *d, struct dma_iova_state *st, size_t offset, size_t len,
			      enum dma_dir dir, bool destroy)
{
	struct dma_iommu *m = DMA_PRIV(struct dma_iommu, d);
	uint64_t pfn = (st->addr + offset) >> DMA_PAGE_SHIFT, pages = len >> DMA_PAGE_SHIFT;
	iova_ctr_add(d, IOVA_UNLINKS, 1);
	if (destroy)
		iova_ctr_add(d, IOVA_RANGES, -1);
	for (uint64_t i = 0; i < pages; i++) {
		_Atomic uint64_t *ptep = pt_slot(m, pfn + i, false);
		uint64_t pte = ptep ? atomic_load_explicit(ptep, memory_order_relaxed) : 0;
		uint8_t *cpu = (uint8_t *)(uintptr_t)(pte & ~DMA_PAGE_MASK);
		if (pte && dma_bpool_owns(&m->bp, (uintptr_t)cpu))
			dma_bpool_unmap_head(d, &m->bp, cpu, (dir & DMA_FROM_DEVICE) != 0);
		/* Relaxed clears: R4 or R5 orders them before the device may
		 * drop its IOTLB entries; a walk that sees 0 faults. */
		if (ptep)
			atomic_store_explicit(ptep, 0, memory_order_relaxed);
	}
	unsigned order = dma_order(st->size >> DMA_PAGE_SHIFT);
	if (destroy && d->p.lazy) {
		dma_lock(d->shared, &m->fq_lock);
		m->fq[m->fq_n].pfn = st->addr >> DMA_PAGE_SHIFT;
		m->fq[m->fq_n].order = order;
		if (++m->fq_n == d->p.flush_batch)
			iommu_flush(m);
		dma_unlock(d->shared, &m->fq_lock);
		return;
	}
	for (uint64_t i = 0; i < pages; i++)
		/* R5: pairs with A5 in iotlb_lookup. */
		atomic_fetch_add_explicit(&m->set_gen[(pfn + i) % IOTLB_SETS], 1, memory_order_release);
	dma_ctr_add(d, DMA_C_iotlb_invalidations, pages);
	dma_ctr_add(d, DMA_C_iotlb_flushes, 1);
	if (destroy)
		dma_iova_free(&m->iova, st->addr >> DMA_PAGE_SHIFT, order);
}

int dma_set_clock(struct dma *d, uint64_t (*now_ns)(void *ctx), void *ctx)
{
	if (!now_ns)
		return dma_err(d, -EINVAL, "set_clock: no clock function given");
	if (d->ops != &dma_iommu_ops)
		return dma_err(d, -ENOTSUP, "set_clock: backend '%s' has no timer "
			       "(the iommu backend's lazy flush queue has one)",
			       d->ops->name);
	struct dma_iommu *m = DMA_PRIV(struct dma_iommu, d);
	m->now_ns = now_ns;
	m->now_ctx = ctx;
	return 0;
}

static void iommu_counters(const struct dma *d, struct dma_counters *c)
{
	const struct dma_iommu *m = DMA_CPRIV(struct dma_iommu, d);
	c->iova_allocs = atomic_load_explicit(&m->iova_allocs, memory_order_relaxed);
	c->iova_frees = atomic_load_explicit(&m->iova_frees, memory_order_relaxed);
	c->iotlb_timer_flushes = atomic_load_explicit(&m->timer_flushes, memory_order_relaxed);
	c->iova_links = iova_ctr_get(d, IOVA_LINKS);
	c->iova_unlinks = iova_ctr_get(d, IOVA_UNLINKS);
	c->iova_syncs = iova_ctr_get(d, IOVA_SYNCS);
	c->iova_ranges = iova_ctr_get(d, IOVA_RANGES);
}

const struct dma_ops dma_iommu_ops = {
	.name = "iommu",
	.size = sizeof(struct dma_iommu),
	.cbits = DMA_CBITS_COMMON | DMA_CBIT(iotlb_invalidations) |
		    DMA_CBIT(iotlb_flushes) | DMA_CBIT(stale_hits) | DMA_CBITS_IOVA |
		    DMA_CBIT(iova_allocs) | DMA_CBIT(iova_frees) |
		    DMA_CBIT(iotlb_timer_flushes),
	.open = iommu_open,
	.close = iommu_close,
	.map = iommu_map,
	.unmap = iommu_unmap,
	.sync = iommu_sync,
	.translate = iommu_translate,
	.need_unmap = iommu_need_unmap,
	.need_sync = iommu_need_sync,
	.held = iommu_held,
	.counters = iommu_counters,
	.iova_alloc = iommu_iova_alloc,
	.iova_sync = iommu_iova_sync,
	.iova_free = iommu_iova_free,
	.iova_link = iommu_iova_link,
	.iova_unlink = iommu_iova_unlink,
};
