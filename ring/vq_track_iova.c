/* SPDX-License-Identifier: MIT */
/*
 * vq_track_iova.c - the `iova` policy: the IOVA two-step API (dma.h,
 * upstream's dma_iova_try_alloc / dma_iova_link / dma_iova_sync /
 * dma_iova_unlink / dma_iova_destroy) as a tracking policy.
 *
 * One IOVA range per queue, allocated at creation, cut into one window per
 * chain that can be in flight (queue size windows: a chain takes at least
 * one descriptor slot). A window holds a whole chain: granule 0 the
 * indirect table (with VIRTIO_RING_F_INDIRECT_DESC), then every buffer on
 * granules of its own, device-readable ones first. Adding a chain takes a
 * free window, links each buffer (and the table) into it, syncs the
 * window's IOTLB once, and posts; completion unlinks the readable run and
 * the writable run (one call and one IOTLB flush each, as dma_iova_unlink
 * takes one direction) and frees the window. Kept per chain: the window's
 * offset and the two runs' lengths, 8 bytes; nothing per descriptor.
 *
 * Where dma_iova_try_alloc fails the queue runs as the kernel's callers
 * do without the API: a dma_map per buffer, remembered in full's records
 * (vq_iova_fallback_def), and vq_track_iova_mode() says why.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dma_mem.h"
#include "vq_track_pvt.h"

#define GRANULE_SHIFT 12
#define GRANULE (1u << GRANULE_SHIFT)

/* The fallback: full's data path under the iova policy's name. */
const struct vq_policy_def vq_iova_fallback_def = {
	"iova", "fallback of the IOVA API: dma_map per buffer, full's records", REC_FULL,
	.map_per_packet = true, .unmaps = true};

size_t vq_track_iova_bytes(size_t size)
{
	return sizeof(struct vq_track_iova) + size * sizeof(uint64_t) + size * sizeof(uint16_t);
}

static void iova_free_state(struct vq_track *t)
{
	struct vq_track_iova *io = t->iova;
	if (!io)
		return;
	dma_mem_free(DMA_MEM_TRACKING, io->chain, (size_t)t->size * sizeof(uint64_t));
	dma_mem_free(DMA_MEM_TRACKING, io->win_free, (size_t)t->size * sizeof(uint16_t));
	dma_mem_free(DMA_MEM_TRACKING, io, sizeof(*io));
	t->iova = NULL;
}

/* Granules one buffer of at most buf_size bytes inside one arena buffer
 * can touch (bounced or not): buffers are buf_size-aligned from the arena
 * base, so a page-aligned arena gives buf_size / 4 KiB (at least 1). */
static uint32_t buf_granules(const struct vq_track *t)
{
	uint32_t b = (uint32_t)1 << t->buf_shift;
	uint32_t g = b > GRANULE ? b / GRANULE : 1;
	return ((uintptr_t)t->arena & (GRANULE - 1)) ? g + 1 : g;
}

int vq_track_iova_create(struct vq_track *t, const struct vq_track_params *p)
{
	size_t n = t->size;
	struct vq_track_iova *io = dma_mem_zalloc(DMA_MEM_TRACKING, sizeof(*io), 0);
	if (!io)
		return vq_track_fail(-ENOMEM, "policy 'iova': out of memory");
	t->iova = io;
	io->max_chain = p->max_chain && p->max_chain < VQ_MAX_CHAIN ? p->max_chain : VQ_MAX_CHAIN;
	io->win_granules = io->max_chain * buf_granules(t) + (t->indirect_ok ? 1u : 0u);
	size_t range = n * io->win_granules * (size_t)GRANULE;
	int rc = dma_iova_try_alloc(t->dma, &io->st, range);
	if (rc == 0) {
		io->chain = dma_mem_zalloc(DMA_MEM_TRACKING, n * sizeof(uint64_t), 0);
		io->win_free = dma_mem_zalloc(DMA_MEM_TRACKING, n * sizeof(uint16_t), 0);
		if (!io->chain || !io->win_free) {
			dma_iova_range_free(t->dma, &io->st);
			iova_free_state(t);
			return vq_track_fail(-ENOMEM, "policy 'iova', queue size %zu: out of memory", n);
		}
		for (uint32_t i = 0; i < n; i++)
			io->win_free[i] = (uint16_t)(n - 1 - i);
		io->nfree = (uint32_t)n;
		io->ranges = 1;
		snprintf(io->mode, sizeof(io->mode), "iova");
		return 0;
	}
	/* dma_iova_try_alloc said no: map per buffer, as its callers do */
	snprintf(io->mode, sizeof(io->mode), "fallback: %s", dma_last_error());
	io->fallback = true;
	t->def = &vq_iova_fallback_def;
	t->map_per_packet = vq_iova_fallback_def.map_per_packet; /* the fast path's copies */
	t->lazy = vq_iova_fallback_def.lazy;
	t->retrieve = vq_iova_fallback_def.retrieve;
	t->rec = (uint8_t)vq_iova_fallback_def.rec;
	t->full = dma_mem_zalloc(DMA_MEM_TRACKING, n * sizeof(*t->full), 0);
	if (!t->full || !vq_track_ind_alloc(t)) /* indirect entries per --indirect-extra */
		return vq_track_fail(-ENOMEM, "policy 'iova' (fallback to per-buffer mapping), queue size %zu: "
				     "out of memory", n);
	return 0;
}

void vq_track_iova_destroy(struct vq_track *t)
{
	if (t->iova && dma_use_iova(&t->iova->st))
		dma_iova_destroy(t->dma, &t->iova->st, 0, DMA_BIDIRECTIONAL); /* every chain unlinked */
	iova_free_state(t);
}

const char *vq_track_iova_mode(const struct vq_track *t)
{
	return t->policy == VQ_POLICY_IOVA && t->iova ? t->iova->mode : "";
}

/* Unlink a chain's runs: readable [g, g + rd), writable [g + rd, + wr). */
static void unlink_runs(struct vq_track *t, size_t g, size_t rd, size_t wr)
{
	struct vq_track_iova *io = t->iova;
	if (rd) {
		dma_iova_unlink(t->dma, &io->st, g << GRANULE_SHIFT, rd << GRANULE_SHIFT, DMA_TO_DEVICE);
		io->unlinks++;
	}
	if (wr) {
		dma_iova_unlink(t->dma, &io->st, (g + rd) << GRANULE_SHIFT, wr << GRANULE_SHIFT, DMA_FROM_DEVICE);
		io->unlinks++;
	}
}

static int link_one(struct vq_track *t, void *cpu, size_t g, uint32_t len, enum dma_dir dir, uint64_t *addr)
{
	int rc = dma_iova_link(t->dma, &t->iova->st, cpu, g << GRANULE_SHIFT, len, dir, addr);
	if (rc < 0)
		return vq_track_fail(rc, "policy 'iova': linking %u bytes at %p into the range at granule %zu failed "
				     "on dma backend '%s': %s", len, cpu, g, dma_name(t->dma), dma_last_error());
	t->iova->links++;
	return rc;
}

int vq_track_iova_link(struct vq_track *t, const struct vq_buf *bufs, unsigned n, bool indirect,
		       struct vq_sg *sg, struct vq_indirect *ind, int *tidx, uint32_t *in_bytes, uint64_t *chain)
{
	struct vq_track_iova *io = t->iova;
	uint64_t bytes = 0, wbytes = 0;
	int rc;

	if (n > io->max_chain)
		return vq_track_fail(-EINVAL, "policy 'iova': chain of %u buffers: the range was sized for 1..%u",
				     n, io->max_chain);
	for (unsigned k = 0; k < n; k++) { /* vq_add's checks, before anything is linked */
		if (bufs[k].len == 0)
			return vq_track_fail(-EINVAL, "policy 'iova': buffer %u has length 0", k);
		if (!bufs[k].write && wbytes)
			return vq_track_fail(-EINVAL, "policy 'iova': buffer %u is device-readable after a "
					     "device-writable one", k);
		bytes += bufs[k].len;
		wbytes += bufs[k].write ? bufs[k].len : 0;
	}
	if (bytes > UINT32_MAX)
		return vq_track_fail(-EINVAL, "policy 'iova': chain of %llu bytes: a chain holds less than 2^32",
				     (unsigned long long)bytes);
	if (!io->nfree || (indirect && !t->ind_nfree))
		return vq_track_fail(-ENOSPC, "policy 'iova': no free %s", io->nfree ? "indirect table" : "window");
	uint32_t win = io->win_free[--io->nfree];
	size_t base = (size_t)win * io->win_granules, g = base, rd = 0, wr = 0;
	if (indirect) { /* the table on the window's first granule */
		*tidx = t->ind_free[--t->ind_nfree];
		ind->table = t->ind_tables + (size_t)*tidx * IND_TABLE_BYTES;
		if ((rc = link_one(t, ind->table, g, IND_LEN(n), DMA_TO_DEVICE, &ind->iova)) < 0)
			goto undo;
		rd += (size_t)rc;
		g += (size_t)rc;
	}
	for (unsigned k = 0; k < n; k++) {
		const struct vq_buf *b = &bufs[k];
		rc = link_one(t, b->cpu, g, b->len, b->write ? DMA_FROM_DEVICE : DMA_TO_DEVICE, &sg[k].addr);
		if (rc < 0)
			goto undo;
		sg[k].len = b->len;
		sg[k].write = b->write;
		*(b->write ? &wr : &rd) += (size_t)rc;
		g += (size_t)rc;
		if (g > base + io->win_granules) {
			rc = vq_track_fail(-EINVAL, "policy 'iova': buffer %u (%u bytes at %p) runs past its chain's "
					   "window of %u granules: larger than an arena buffer", k, b->len, b->cpu,
					   io->win_granules);
			goto undo;
		}
	}
	/* one IOTLB sync for the whole window (iommu_sync_map) */
	if ((rc = dma_iova_sync(t->dma, &io->st, base << GRANULE_SHIFT, (g - base) << GRANULE_SHIFT)) < 0) {
		vq_track_fail(rc, "policy 'iova': dma_iova_sync failed: %s", dma_last_error());
		goto undo;
	}
	io->iova_syncs++;
	*in_bytes = (uint32_t)wbytes;
	*chain = (uint64_t)base | (uint64_t)rd << 32 | (uint64_t)wr << 48;
	return 0;
undo:
	vq_track_iova_undo(t, (uint64_t)base | (uint64_t)rd << 32 | (uint64_t)wr << 48);
	return rc; /* the caller gives back *tidx */
}

void vq_track_iova_added(struct vq_track *t, uint16_t head, uint64_t chain, uint64_t table_iova, unsigned n)
{
	/* the table was filled by vq_add after it was linked: a bounced table
	 * is copied to the device's side now (add_table_added syncs premapped's
	 * only) */
	if (table_iova && dma_need_sync(t->dma, table_iova)) {
		dma_sync_for_device(t->dma, table_iova, IND_LEN(n), DMA_TO_DEVICE);
		t->st.syncs++;
	}
	t->iova->chain[head] = chain;
}

void vq_track_iova_undo(struct vq_track *t, uint64_t chain)
{
	struct vq_track_iova *io = t->iova;
	size_t base = (uint32_t)chain;
	unlink_runs(t, base, (size_t)(chain >> 32) & 0xffff, (size_t)(chain >> 48));
	io->win_free[io->nfree++] = (uint16_t)(base / io->win_granules);
}

bool vq_track_iova_complete(struct vq_track *t, const struct vq_used *u)
{
	struct vq_track_iova *io = t->iova;
	uint64_t r = io->chain[u->head];
	size_t base = (uint32_t)r;
	unlink_runs(t, base, (size_t)(r >> 32) & 0xffff, (size_t)(r >> 48));
	io->win_free[io->nfree++] = (uint16_t)(base / io->win_granules);
	return true;
}
