/* SPDX-License-Identifier: MIT */
/*
 * dma_pa.c - IOVA is the physical address (vfio no-IOMMU mode, DPDK
 * iova-mode=pa). Unmap does nothing (unless the mapping was bounced).
 *
 * Physical addresses only hold still for pinned memory, so the buffers must
 * be declared first: dma_register() mlocks a region and reads the frame
 * number of each of its pages from /proc/self/pagemap. Without
 * CAP_SYS_ADMIN the kernel reports frame numbers as 0: register then fails
 * with -EPERM and says so. Mapping memory outside every registered region
 * fails with -EINVAL.
 *
 * A buffer that crosses a page boundary between frames that are not
 * physically adjacent: a device without an IOMMU would read or write the
 * wrong memory after the boundary. Without a bounce pool it is REFUSED
 * (-EINVAL, naming both frames; register hugepage memory, whose frames are
 * adjacent, to map such buffers); with one (mask_bits, min_align or
 * force_bounce set) it is bounced.
 *
 * Bouncing: the shared bounce pool is registered like any region; the
 * device address checked against the mask is the physical one. The pool's
 * slot allocator never lets a mapping span two pages whose frames are not
 * adjacent, so a mapping longer than the longest physically contiguous run
 * of free slots fails with -ENOMEM and says why (4 KiB pages: 2 slots;
 * mappings up to 2 KiB always fit).
 *
 * translate: physical -> virtual through a table of every registered page
 * sorted by frame; NULL (fault) for a frame no region holds. dma_register()
 * must not run while a device thread translates (register before starting
 * the device): the table is rebuilt there.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dma_pvt.h"

#ifdef MADV_POPULATE_WRITE
#define PA_MADV_POPULATE_WRITE MADV_POPULATE_WRITE
#else
#define PA_MADV_POPULATE_WRITE 23 /* Linux 5.14 */
#endif

#define PA_MAX_REGIONS 64
#define PAGEMAP_PRESENT (1ull << 63)
#define PAGEMAP_PFN ((1ull << 55) - 1)

struct pa_region {
	uintptr_t va;   /* page aligned */
	size_t npages;
	uint64_t *pfn;
};

struct pa_rmap {
	uint64_t pfn;
	uintptr_t va;
};

struct dma_pa {
	struct dma d;
	struct dma_direct db;
	int pagemap_fd;
	unsigned nregions;
	_Atomic unsigned last; /* region of the previous map: a hint, any
				  queue's (relaxed: it orders nothing) */
	struct pa_region reg[PA_MAX_REGIONS];
	struct pa_rmap *rmap;    /* sorted by pfn */
	size_t nrmap;
};

static int pa_rmap_cmp(const void *a, const void *b)
{
	const struct pa_rmap *x = a, *y = b;
	return x->pfn < y->pfn ? -1 : x->pfn > y->pfn;
}

static int pa_rebuild_rmap(struct dma_pa *pa)
{
	struct dma *d = &pa->d;
	size_t n = 0;
	for (unsigned r = 0; r < pa->nregions; r++)
		n += pa->reg[r].npages;
	struct pa_rmap *t = dma_zalloc(d, n * sizeof(*t));
	if (!t)
		return dma_err(d, -ENOMEM, "cannot allocate a %zu-page frame table", n);
	size_t k = 0;
	for (unsigned r = 0; r < pa->nregions; r++)
		for (size_t i = 0; i < pa->reg[r].npages; i++) {
			t[k].pfn = pa->reg[r].pfn[i];
			t[k++].va = pa->reg[r].va + i * DMA_PAGE_SIZE;
		}
	qsort(t, n, sizeof(*t), pa_rmap_cmp);
	dma_free(d, pa->rmap, pa->nrmap * sizeof(*pa->rmap));
	pa->rmap = t;
	pa->nrmap = n;
	return 0;
}

static int pa_register(struct dma *d, void *base, size_t len)
{
	struct dma_pa *pa = DMA_PRIV(struct dma_pa, d);
	uintptr_t va = (uintptr_t)base & ~DMA_PAGE_MASK;
	size_t npages = dma_span((uintptr_t)base, len, DMA_PAGE_SIZE);
	if (pa->nregions == PA_MAX_REGIONS)
		return dma_err(d, -ENOSPC, "register %p: all %d regions used",
			       base, PA_MAX_REGIONS);
	for (unsigned r = 0; r < pa->nregions; r++)
		if (va < pa->reg[r].va + pa->reg[r].npages * DMA_PAGE_SIZE &&
		    pa->reg[r].va < va + npages * DMA_PAGE_SIZE)
			return dma_err(d, -EINVAL, "register %p len %zu: "
				       "overlaps region %p", base, len,
				       (void *)pa->reg[r].va);
	if (mlock((void *)va, npages * DMA_PAGE_SIZE) < 0) {
		int e = errno;
		return dma_err(d, -e, "mlock of %zu bytes at %p failed: %s "
			       "(RLIMIT_MEMLOCK or CAP_IPC_LOCK)",
			       npages * DMA_PAGE_SIZE, (void *)va, strerror(e));
	}
	/* mlock populates the pages, but sanitizers intercept mlock as a
	 * no-op: fault them in for writing explicitly (contents unchanged). */
	if (madvise((void *)va, npages * DMA_PAGE_SIZE, PA_MADV_POPULATE_WRITE) < 0) {
		for (size_t i = 0; i < npages; i++) {
			_Atomic unsigned char *b = (_Atomic unsigned char *)(va + i * DMA_PAGE_SIZE);
			/* relaxed: a write fault is all we want, no ordering */
			atomic_fetch_add_explicit(b, 0, memory_order_relaxed);
		}
	}
	uint64_t *pfn = dma_zalloc(d, npages * sizeof(*pfn));
	int err = -ENOMEM;
	if (!pfn) {
		dma_err(d, err, "cannot allocate %zu frame numbers", npages);
		goto fail;
	}
	off_t off = (off_t)(va >> DMA_PAGE_SHIFT) * 8;
	ssize_t got = pread(pa->pagemap_fd, pfn, npages * 8, off);
	if (got != (ssize_t)(npages * 8)) {
		err = got < 0 ? -errno : -EIO;
		dma_err(d, err, "reading /proc/self/pagemap for %p: %s", base,
			got < 0 ? strerror(-err) : "short read");
		goto fail;
	}
	bool any = false;
	for (size_t i = 0; i < npages; i++) {
		if (!(pfn[i] & PAGEMAP_PRESENT)) {
			err = -EFAULT;
			dma_err(d, err, "page %p of a locked region is not "
				"present", (void *)(va + i * DMA_PAGE_SIZE));
			goto fail;
		}
		pfn[i] &= PAGEMAP_PFN;
		any |= pfn[i] != 0;
	}
	if (!any) {
		err = -EPERM;
		dma_err(d, err, "/proc/self/pagemap gives no frame numbers for "
			"%p (they read as 0): physical addresses need "
			"CAP_SYS_ADMIN (run as root)", base);
		goto fail;
	}
	pa->reg[pa->nregions++] = (struct pa_region){ va, npages, pfn };
	err = pa_rebuild_rmap(pa);
	if (err < 0) {
		pa->nregions--;
		goto fail;
	}
	return 0;
fail:
	dma_free(d, pfn, npages * sizeof(*pfn));
	munlock((void *)va, npages * DMA_PAGE_SIZE);
	return err;
}

static void pa_close(struct dma *d);

static int pa_open(struct dma *d)
{
	struct dma_pa *pa = DMA_PRIV(struct dma_pa, d);
	if (sysconf(_SC_PAGESIZE) != (long)DMA_PAGE_SIZE)
		return dma_err(d, -ENODEV, "page size %ld: only 4096 supported",
			       sysconf(_SC_PAGESIZE));
	pa->pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (pa->pagemap_fd < 0) {
		int e = errno;
		return dma_err(d, -ENODEV, "not available here because "
			       "/proc/self/pagemap cannot be opened: %s",
			       strerror(e));
	}
	int r = dma_direct_init(d, &pa->db, false);
	if (r == 0 && pa->db.on)
		r = pa_register(d, pa->db.bp.base, pa->db.bp.bytes);
	/* Slots on both sides of a frame discontinuity never share a
	 * mapping (the pool is region 0). */
	for (size_t k = 1; r == 0 && pa->db.on && k < pa->reg[0].npages; k++)
		if (pa->reg[0].pfn[k] != pa->reg[0].pfn[k - 1] + 1)
			r = dma_bpool_set_break(d, &pa->db.bp,
						k << (DMA_PAGE_SHIFT - DMA_BSLOT_SHIFT));
	if (r < 0)
		pa_close(d); /* undoes whatever was done; keeps the message */
	return r;
}

static void pa_close(struct dma *d)
{
	struct dma_pa *pa = DMA_PRIV(struct dma_pa, d);
	for (unsigned r = 0; r < pa->nregions; r++) {
		munlock((void *)pa->reg[r].va, pa->reg[r].npages * DMA_PAGE_SIZE);
		dma_free(d, pa->reg[r].pfn, pa->reg[r].npages * sizeof(uint64_t));
	}
	dma_free(d, pa->rmap, pa->nrmap * sizeof(*pa->rmap));
	dma_bpool_fini(d, &pa->db.bp);
	close(pa->pagemap_fd);
}

static const struct pa_region *pa_find(struct dma_pa *pa, uintptr_t p,
				       size_t len)
{
	unsigned last = atomic_load_explicit(&pa->last, memory_order_relaxed);
	for (unsigned k = 0; k < pa->nregions; k++) {
		unsigned r = (last + k) % pa->nregions;
		const struct pa_region *g = &pa->reg[r];
		if (p >= g->va && p - g->va + len <= g->npages * DMA_PAGE_SIZE) {
			if (r != last)
				atomic_store_explicit(&pa->last, r, memory_order_relaxed);
			return g;
		}
	}
	return NULL;
}

/* Physical address of [p, p+len) in a registered region, or -EINVAL when
 * outside every region. *gap: the first page boundary inside the buffer
 * between frames that are not adjacent, 0 when none. */
static int pa_phys(struct dma_pa *pa, uintptr_t p, size_t len, uint64_t *phys,
		   size_t *gap)
{
	const struct pa_region *g = pa_find(pa, p, len);
	if (!g)
		return dma_err(&pa->d, -EINVAL, "map of %p len %zu: outside "
			       "every registered region (dma_register it "
			       "first)", (void *)p, len);
	size_t i0 = (p - g->va) >> DMA_PAGE_SHIFT;
	size_t n = dma_span(p, len, DMA_PAGE_SIZE);
	*gap = 0;
	for (size_t i = i0 + 1; i < i0 + n && !*gap; i++)
		if (g->pfn[i] != g->pfn[i - 1] + 1)
			*gap = i;
	*phys = (g->pfn[i0] << DMA_PAGE_SHIFT) | (p & DMA_PAGE_MASK);
	return 0;
}

static int pa_refuse_gap(struct dma_pa *pa, uintptr_t p, size_t len,
			 size_t gap, const char *what)
{
	const struct pa_region *g = pa_find(pa, p, len);
	return dma_err(&pa->d, -EINVAL, "map of %s%p len %zu: crosses page "
		       "boundary %p between frames 0x%llx and 0x%llx, not "
		       "physically adjacent; refused (use hugepages, or a "
		       "bounce pool)", what, (void *)p, len,
		       (void *)(g->va + gap * DMA_PAGE_SIZE),
		       (unsigned long long)g->pfn[gap - 1],
		       (unsigned long long)g->pfn[gap]);
}

static int pa_map(struct dma *d, void *cpu, size_t len, enum dma_dir dir,
		  uint64_t *iova)
{
	struct dma_pa *pa = DMA_PRIV(struct dma_pa, d);
	uint64_t phys;
	size_t gap;
	int r = pa_phys(pa, (uintptr_t)cpu, len, &phys, &gap);
	if (r < 0)
		return r;
	/* A crossing of non-adjacent frames is bounced when a pool exists
	 * (the CPU copies through virtual addresses), else refused. */
	if (gap && !pa->db.on)
		return pa_refuse_gap(pa, (uintptr_t)cpu, len, gap, "");
	if (!gap && !dma_direct_must_bounce(&pa->db, phys, len)) {
		*iova = phys;
		return 0;
	}
	void *slot;
	r = dma_bpool_map(d, &pa->db.bp, cpu, len, dir, &slot);
	if (r < 0)
		return r;
	r = pa_phys(pa, (uintptr_t)slot, len, &phys, &gap);
	if (r == 0 && gap)
		r = pa_refuse_gap(pa, (uintptr_t)slot, len, gap, "bounce slot ");
	else if (r == 0 && phys + len - 1 > pa->db.mask)
		r = dma_err(d, -ENOMEM, "bounce slot for %p at physical 0x%llx "
			    "is above the mask 0x%llx", cpu,
			    (unsigned long long)phys,
			    (unsigned long long)pa->db.mask);
	if (r < 0) { /* undo the slot and what it counted */
		dma_bpool_unmap(d, &pa->db.bp, slot, len, dir, false);
		dma_ctr_sub(d, DMA_C_bounced, 1);
		dma_ctr_sub(d, DMA_C_bytes_copied, dma_bpool_copied_in(&pa->db.bp, len, dir));
		return r;
	}
	*iova = phys;
	return 0;
}

/* Device and driver: physical -> virtual through the sorted frame table. */
static void *pa_virt(const struct dma_pa *pa, uint64_t phys, size_t len)
{
	uint64_t pfn = phys >> DMA_PAGE_SHIFT;
	size_t lo = 0, hi = pa->nrmap;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (pa->rmap[mid].pfn < pfn)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == pa->nrmap || pa->rmap[lo].pfn != pfn)
		return NULL;
	uintptr_t va = pa->rmap[lo].va;
	uint64_t n = dma_span(phys, len, DMA_PAGE_SIZE);
	for (uint64_t i = 1; i < n; i++) /* the next frames, same buffer */
		if (lo + i >= pa->nrmap || pa->rmap[lo + i].pfn != pfn + i ||
		    pa->rmap[lo + i].va != va + i * DMA_PAGE_SIZE)
			return NULL;
	return (void *)(va + (phys & DMA_PAGE_MASK));
}

static int pa_unmap(struct dma *d, uint64_t iova, size_t len, enum dma_dir dir)
{
	struct dma_pa *pa = DMA_PRIV(struct dma_pa, d);
	if (!pa->db.on)
		return 0;
	void *p = pa_virt(pa, iova, len);
	if (!p || !dma_bpool_owns(&pa->db.bp, (uintptr_t)p))
		return 0;
	return dma_bpool_unmap(d, &pa->db.bp, p, len, dir, true);
}

static void pa_sync(struct dma *d, uint64_t iova, size_t len, enum dma_dir dir,
		    bool for_cpu)
{
	struct dma_pa *pa = DMA_PRIV(struct dma_pa, d);
	if (!pa->db.on)
		return;
	void *p = pa_virt(pa, iova, len);
	if (p && dma_bpool_owns(&pa->db.bp, (uintptr_t)p))
		dma_bpool_sync(d, &pa->db.bp, p, len, dir, for_cpu);
}

static void *pa_translate(struct dma *d, uint64_t iova, size_t len,
			  enum dma_dir access)
{
	(void)access;
	return pa_virt(DMA_PRIV(struct dma_pa, d), iova, len);
}

/* The device's state, shared by its queues: one bounce on any queue
 * answers for all of them from then on (dma_need_unmap). */
static unsigned pa_need_unmap(const struct dma *d)
{
	return dma_dev_bounced(d) ? DMA_R_BOUNCE : 0;
}

/* dma_direct_need_sync(): only an address in the bounce pool. */
static bool pa_need_sync(const struct dma *d, uint64_t iova)
{
	const struct dma_pa *pa = DMA_CPRIV(struct dma_pa, d);
	if (!dma_dev_bounced(d))
		return false;
	const void *p = pa_virt(pa, iova, 1);
	return p && dma_bpool_owns(&pa->db.bp, (uintptr_t)p);
}

const struct dma_ops dma_pa_ops = {
	.name = "pa",
	.size = sizeof(struct dma_pa),
	.cbits = DMA_CBITS_COMMON | DMA_CBITS_BOUNCE,
	.open = pa_open,
	.close = pa_close,
	.reg = pa_register,
	.map = pa_map,
	.unmap = pa_unmap,
	.sync = pa_sync,
	.translate = pa_translate,
	.need_unmap = pa_need_unmap,
	.need_sync = pa_need_sync,
};

/* nodma: virtio without VIRTIO_F_ACCESS_PLATFORM. Linux's
 * vring_use_dma_api() is false there: the ring takes each buffer's physical
 * address itself and its unmap paths return before any DMA API call. The
 * address is pa's (registered, pinned memory); dma.c counts nothing
 * (ops.no_api), and no bounce pool can exist: the DMA API, which would
 * bounce, is never asked. */
static int nodma_open(struct dma *d)
{
	const struct dma_params *p = &d->p;
	if (p->force_bounce || p->min_align > 1 ||
	    (p->mask_bits && p->mask_bits != 64))
		return dma_err(d, -EINVAL, "force_bounce %d, mask_bits %u, "
			       "min_align %u: without the DMA API nothing "
			       "bounces (allowed: off, 0 or 64, 0 or 1)",
			       (int)p->force_bounce, p->mask_bits, p->min_align);
	return pa_open(d);
}

static unsigned nodma_need_unmap(const struct dma *d)
{
	(void)d;
	return 0;
}

static bool nodma_need_sync(const struct dma *d, uint64_t iova)
{
	(void)d;
	(void)iova;
	return false;
}

const struct dma_ops dma_nodma_ops = {
	.name = "nodma",
	.size = sizeof(struct dma_pa),
	.cbits = DMA_CBITS_COMMON,
	.no_api = true,
	.open = nodma_open,
	.close = pa_close,
	.reg = pa_register,
	.map = pa_map,
	.unmap = pa_unmap,
	.translate = pa_translate,
	.need_unmap = nodma_need_unmap,
	.need_sync = nodma_need_sync,
};
