/* SPDX-License-Identifier: MIT */
/*
 * vq_track_setup.c - a tracking queue's set-up and teardown: the policy's
 * records and indirect tables allocated (counted by dma_mem), premapped's
 * arena mapped once, and everything unmapped and freed at destroy. The
 * per-packet path is in vq_track.c; the counters and accessors are here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dma_mem.h"
#include "vq_pvt.h"
#include "vq_track_pvt.h"

static void track_free(struct vq_track *t)
{
	size_t n = t->size;
	dma_mem_free(DMA_MEM_TRACKING, t->buf_iova, t->nbufs * sizeof(uint64_t));
	dma_mem_free(DMA_MEM_TRACKING, t->full, TRK_FULL(t));
	dma_mem_free(DMA_MEM_TRACKING, t->compact, n * sizeof(*t->compact));
	if (t->table_free) {
		t->table_free(t->ind_tables, t->table_ctx);
		dma_mem_charge(DMA_MEM_INDIRECT, -(int64_t)TRK_IND_TABLES(t));
	} else {
		dma_mem_free(DMA_MEM_INDIRECT, t->ind_tables, TRK_IND_TABLES(t));
	}
	dma_mem_free(DMA_MEM_INDIRECT, t->ind_free, n * sizeof(uint16_t));
	dma_mem_free(DMA_MEM_INDIRECT, t->ind_of_head, n * sizeof(uint16_t));
	dma_mem_free(DMA_MEM_TRACKING, t->ind_iova, n * sizeof(uint64_t));
	vq_track_ind_free(t);
	dma_mem_free(DMA_MEM_TRACKING, t->pairs, (n + 1) * VQ_MAX_CHAIN * sizeof(*t->pairs));
	dma_mem_free(DMA_MEM_TRACKING, t->tracked, n);
	dma_mem_free(DMA_MEM_DRIVER, t, sizeof(*t));
}

/* premapped: map every arena buffer and every indirect table once, then
 * ask each buffer's mapping whether it needs syncs (dma_need_sync() per
 * address, after mapping, as XDP's xp_dma_map() asks per page); the answer
 * is kept in bit 0 of its IOVA (PREMAP_SYNC: arena buffers are at least
 * 64-byte aligned, so a real IOVA has bit 0 clear; an odd one is refused). */
static int premap(struct vq_track *t)
{
	for (size_t i = 0; i < t->nbufs; i++) {
		char *cpu = t->arena + (i << t->buf_shift);
		int rc = dma_map(t->dma, cpu, (size_t)1 << t->buf_shift, DMA_BIDIRECTIONAL, &t->buf_iova[i]);
		if (rc < 0) /* -ENOMEM: IOVA space or bounce pool exhausted (-ENOSPC to the caller) */
			return vq_track_fail(rc == -ENOMEM ? -ENOSPC : rc,
				    "premapped: mapping arena buffer %zu of %zu (%p) failed on dma backend '%s': %s",
				    i, t->nbufs, (void *)cpu, dma_name(t->dma), dma_last_error());
		t->st.maps++;
		if (t->buf_iova[i] & PREMAP_SYNC)
			return vq_track_fail(-EINVAL, "premapped: arena buffer %zu (%p) got odd device address 0x%llx "
				    "from dma backend '%s'; buffers are at least 64-byte aligned",
				    i, (void *)cpu, (unsigned long long)t->buf_iova[i], dma_name(t->dma));
		if (dma_need_sync(t->dma, t->buf_iova[i])) {
			t->buf_iova[i] |= PREMAP_SYNC;
			t->st.sync_bufs++;
		}
	}
	for (uint32_t i = 0; t->ind_tables && i < t->size; i++) {
		int rc = dma_map(t->dma, t->ind_tables + (size_t)i * IND_TABLE_BYTES,
				 IND_TABLE_BYTES, DMA_TO_DEVICE, &t->ind_iova[i]);
		if (rc < 0)
			return vq_track_fail(rc == -ENOMEM ? -ENOSPC : rc,
				    "premapped: mapping indirect table %u failed on dma backend '%s': %s",
				    i, dma_name(t->dma), dma_last_error());
		t->st.maps++;
	}
	return 0;
}

static void unpremap(struct vq_track *t)
{
	for (size_t i = 0; t->buf_iova && i < t->nbufs; i++) {
		if (!t->buf_iova[i])
			continue;
		vq_track_unmap_one(t, t->buf_iova[i] & ~PREMAP_SYNC, (uint32_t)1 << t->buf_shift, DMA_BIDIRECTIONAL);
	}
	for (uint32_t i = 0; t->ind_tables && t->ind_iova && i < t->size; i++) {
		if (!t->ind_iova[i])
			continue;
		vq_track_unmap_one(t, t->ind_iova[i], IND_TABLE_BYTES, DMA_TO_DEVICE);
	}
}

/* vq_track_create's records: what the policy keeps per slot and chain.
 * @return false when an allocation failed (track_free frees the rest). */
static bool track_alloc_records(struct vq_track *t, const struct vq_track_params *p)
{
	size_t n = t->size;
	bool ok = true;
	if (t->rec == REC_FULL && !t->lazy)
		ok &= (t->full = dma_mem_zalloc(DMA_MEM_TRACKING, TRK_FULL(t), 0)) != NULL;
	if (t->rec == REC_COMPACT)
		ok &= (t->compact = dma_mem_zalloc(DMA_MEM_TRACKING, n * sizeof(*t->compact), 0)) != NULL;
	if (t->rec == REC_ARRAY)
		ok &= (t->pairs = dma_mem_zalloc(DMA_MEM_TRACKING, (n + 1) * VQ_MAX_CHAIN * sizeof(*t->pairs),
						 0)) != NULL;
	if (t->lazy)
		ok &= (t->tracked = dma_mem_zalloc(DMA_MEM_TRACKING, n, 0)) != NULL;
	if (p->policy == VQ_POLICY_PREMAPPED)
		ok &= (t->buf_iova = dma_mem_zalloc(DMA_MEM_TRACKING, t->nbufs * sizeof(uint64_t), 0)) != NULL;
	return ok;
}

/* vq_track_create's indirect tables (the caller's allocator or ours),
 * their free stack and the records of their entries. */
static bool track_alloc_indirect(struct vq_track *t, const struct vq_track_params *p)
{
	size_t n = t->size;
	bool ok = true;
	/* page-aligned: with the 512-byte stride no table crosses a page */
	size_t tbytes = TRK_IND_TABLES(t);
	if (p->table_alloc) {
		t->ind_tables = p->table_alloc(tbytes, p->table_ctx);
		if (t->ind_tables) { /* counted here: the caller's memory */
			t->table_free = p->table_free;
			t->table_ctx = p->table_ctx;
			dma_mem_charge(DMA_MEM_INDIRECT, (int64_t)tbytes);
		}
	} else {
		t->ind_tables = dma_mem_zalloc(DMA_MEM_INDIRECT, tbytes, 4096);
	}
	ok &= t->ind_tables != NULL;
	ok &= (t->ind_free = dma_mem_zalloc(DMA_MEM_INDIRECT, n * sizeof(uint16_t), 0)) != NULL;
	ok &= (t->ind_of_head = dma_mem_zalloc(DMA_MEM_INDIRECT, n * sizeof(uint16_t), 0)) != NULL;
	if (t->def->table_iova_state || p->policy == VQ_POLICY_PREMAPPED)
		ok &= (t->ind_iova = dma_mem_zalloc(DMA_MEM_TRACKING, n * sizeof(uint64_t), 0)) != NULL;
	if (!t->lazy) /* the entries' records, per --indirect-extra */
		ok &= vq_track_ind_alloc(t);
	if (ok) {
		memset(t->ind_tables, 0, n * IND_TABLE_BYTES);
		for (uint32_t i = 0; i < n; i++)
			t->ind_free[i] = (uint16_t)(n - 1 - i);
		t->ind_nfree = (uint32_t)n;
	}
	return ok;
}

/* vq_track_create's parameters and the policy's answers, copied. */
static void track_init(struct vq_track *t, struct vq *vq, struct dma *d, const struct vq_track_params *p)
{
	const struct vq_config *cfg = vq_get_config(vq);

	t->vq = vq;
	t->dma = d;
	t->policy = p->policy;
	t->def = &vq_policy_defs[p->policy];
	t->map_per_packet = t->def->map_per_packet;
	t->lazy = t->def->lazy;
	t->retrieve = t->def->retrieve;
	t->rec = (uint8_t)t->def->rec;
	t->unsafe = p->unsafe_skip && p->policy == VQ_POLICY_SKIP;
	t->rule = p->skip_rule;
	t->size = cfg->size;
	t->indirect_ok = vq_track_has_indirect(cfg);
	t->ind_extra = (uint8_t)p->ind_extra;
	t->arena = p->arena;
	t->arena_len = p->arena_len;
	t->buf_shift = (uint32_t)__builtin_ctz(p->buf_size);
	t->nbufs = p->arena_len >> t->buf_shift;
}

int vq_track_create(struct vq *vq, struct dma *d, const struct vq_track_params *p,
		    struct vq_track **out)
{
	int rc = vq_track_check(vq_get_config(vq), p, d);

	if (rc < 0)
		return rc;
	struct vq_track *t = dma_mem_zalloc(DMA_MEM_DRIVER, sizeof(*t), 0);
	if (!t)
		return vq_track_fail(-ENOMEM, "tracking state: out of memory");
	track_init(t, vq, d, p);
	size_t n = t->size;
	bool ok = track_alloc_records(t, p);
	if (ok && t->indirect_ok)
		ok = track_alloc_indirect(t, p);
	if (!ok) {
		track_free(t);
		return vq_track_fail(-ENOMEM, "tracking state for policy '%s', queue size %zu: out of memory",
			    t->def->name, n);
	}
	rc = dma_register(d, p->arena, p->arena_len);
	if (rc == 0 && t->ind_tables)
		rc = dma_register(d, t->ind_tables, n * IND_TABLE_BYTES);
	if (rc < 0) {
		track_free(t);
		return vq_track_fail(rc, "dma backend '%s' refused the buffer arena: %s", dma_name(d),
			    dma_last_error());
	}
	if (p->policy == VQ_POLICY_PREMAPPED && (rc = premap(t)) < 0) {
		unpremap(t);
		track_free(t);
		return rc;
	}
	if (p->policy == VQ_POLICY_IOVA && (rc = vq_track_iova_create(t, p)) < 0) {
		vq_track_iova_destroy(t);
		track_free(t);
		return rc;
	}
	/* One load per check on the packet path; fallback is final here. */
	t->iova_owns = p->policy == VQ_POLICY_IOVA && !t->iova->fallback;
	*out = t;
	return 0;
}

void vq_track_destroy(struct vq_track *t)
{
	void *token;

	if (!t)
		return;
	while (vq_track_detach(t, &token) == 1)
		;
	if (t->policy == VQ_POLICY_PREMAPPED)
		unpremap(t);
	if (t->policy == VQ_POLICY_IOVA)
		vq_track_iova_destroy(t);
	track_free(t);
}

void vq_track_get_stats(const struct vq_track *t, struct vq_track_stats *st)
{
	const struct vq_track_counts *c = &t->st;
	*st = (struct vq_track_stats){
		.maps = c->maps, .unmaps = c->unmaps, .syncs = c->syncs, .skipped_unmaps = c->skipped_unmaps,
		.readback_errors = c->readback_errors, .tracked_chains = c->tracked_chains,
		.first_tracked_chain = c->first_tracked_chain, .sync_bufs = c->sync_bufs,
		.ind_readbacks = vq_track_ind_readbacks(t),
	};
	if (t->policy == VQ_POLICY_IOVA && t->iova) {
		st->links = t->iova->links;
		st->unlinks = t->iova->unlinks;
		st->iova_syncs = t->iova->iova_syncs;
		st->ranges = t->iova->ranges;
	}
}

struct vq *vq_track_vq(const struct vq_track *t) { return t->vq; }
enum vq_policy vq_track_policy(const struct vq_track *t) { return t->policy; }
