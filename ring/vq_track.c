/* SPDX-License-Identifier: MIT */
/*
 * vq_track.c - the tracking data path: map a chain's buffers, hand the ring
 * their IOVAs, remember what the policy remembers (vq_track_policy.c says
 * what), and unmap from it on completion or detach.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dma_mem.h"
#include "vq_track_pvt.h"
#include "vq_inject.h" /* empty unless a test defines VQ_INJECT_WORK */
static enum dma_dir buf_dir(uint32_t write)
{
	return write ? DMA_FROM_DEVICE : DMA_TO_DEVICE;
}

static void unmap_one(struct vq_track *t, uint64_t iova, uint32_t len, enum dma_dir dir)
{
	dma_unmap(t->dma, iova, len, dir);
	t->st.unmaps++;
}

/* Byte sizes of the tracking state, the same in create and free. */
#define TRK_FULL(t) ((size_t)(t)->size * sizeof(*(t)->full))
#define TRK_IND_FULL(t) ((size_t)(t)->size * VQ_MAX_CHAIN * sizeof(*(t)->ind_full))
#define TRK_IND_TABLES(t) (((size_t)(t)->size * IND_TABLE_BYTES + 4095) & ~(size_t)4095)

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
	dma_mem_free(DMA_MEM_TRACKING, t->ind_full, TRK_IND_FULL(t));
	dma_mem_free(DMA_MEM_TRACKING, t->ind_compact, n * VQ_MAX_CHAIN * sizeof(*t->ind_compact));
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
		if (rc < 0)
			return vq_track_fail(rc, "premapped: mapping arena buffer %zu of %zu (%p) failed on dma backend '%s': %s",
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
			return vq_track_fail(rc, "premapped: mapping indirect table %u failed on dma backend '%s': %s",
				    i, dma_name(t->dma), dma_last_error());
		t->st.maps++;
	}
	return 0;
}

static void unpremap(struct vq_track *t)
{
	for (size_t i = 0; t->buf_iova && i < t->nbufs; i++)
		if (t->buf_iova[i])
			unmap_one(t, t->buf_iova[i] & ~PREMAP_SYNC, (uint32_t)1 << t->buf_shift, DMA_BIDIRECTIONAL);
	for (uint32_t i = 0; t->ind_tables && t->ind_iova && i < t->size; i++)
		if (t->ind_iova[i])
			unmap_one(t, t->ind_iova[i], IND_TABLE_BYTES, DMA_TO_DEVICE);
}

int vq_track_create(struct vq *vq, struct dma *d, const struct vq_track_params *p,
		    struct vq_track **out)
{
	const struct vq_config *cfg = vq_get_config(vq);
	int rc = vq_track_check(cfg, p, d);

	if (rc < 0)
		return rc;
	struct vq_track *t = dma_mem_zalloc(DMA_MEM_DRIVER, sizeof(*t), 0);
	if (!t)
		return vq_track_fail(-ENOMEM, "tracking state: out of memory");
	t->vq = vq;
	t->dma = d;
	t->policy = p->policy;
	t->def = &vq_policy_defs[p->policy];
	t->unsafe = p->unsafe_skip && p->policy == VQ_POLICY_SKIP;
	t->rule = p->skip_rule;
	t->size = cfg->size;
	t->indirect_ok = vq_track_has_indirect(cfg);
	t->arena = p->arena;
	t->arena_len = p->arena_len;
	t->buf_shift = (uint32_t)__builtin_ctz(p->buf_size);
	t->nbufs = p->arena_len >> t->buf_shift;

	size_t n = t->size;
	bool ok = true;
	if (t->def->rec == REC_FULL && !t->def->lazy)
		ok &= (t->full = dma_mem_zalloc(DMA_MEM_TRACKING, TRK_FULL(t), 0)) != NULL;
	if (t->def->rec == REC_COMPACT)
		ok &= (t->compact = dma_mem_zalloc(DMA_MEM_TRACKING, n * sizeof(*t->compact), 0)) != NULL;
	if (t->def->rec == REC_ARRAY)
		ok &= (t->pairs = dma_mem_zalloc(DMA_MEM_TRACKING, (n + 1) * VQ_MAX_CHAIN * sizeof(*t->pairs),
						 0)) != NULL;
	if (t->def->lazy)
		ok &= (t->tracked = dma_mem_zalloc(DMA_MEM_TRACKING, n, 0)) != NULL;
	if (p->policy == VQ_POLICY_PREMAPPED)
		ok &= (t->buf_iova = dma_mem_zalloc(DMA_MEM_TRACKING, t->nbufs * sizeof(uint64_t), 0)) != NULL;
	if (t->indirect_ok) {
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
		if (t->def->rec == REC_FULL && !t->def->lazy)
			ok &= (t->ind_full = dma_mem_zalloc(DMA_MEM_TRACKING, TRK_IND_FULL(t), 0)) != NULL;
		if (t->def->rec == REC_COMPACT)
			ok &= (t->ind_compact = dma_mem_zalloc(DMA_MEM_TRACKING,
							       n * VQ_MAX_CHAIN * sizeof(*t->ind_compact), 0)) != NULL;
		if (ok) {
			memset(t->ind_tables, 0, n * IND_TABLE_BYTES);
			for (uint32_t i = 0; i < n; i++)
				t->ind_free[i] = (uint16_t)(n - 1 - i);
			t->ind_nfree = (uint32_t)n;
		}
	}
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
	track_free(t);
}

static bool compact_fits(uint64_t iova, uint32_t len)
{
	return len >= 1 && len <= COMPACT_LEN_MAX && (iova >> COMPACT_IOVA_BITS) == 0;
}

static vq_rec_compact compact_enc(uint64_t iova, uint32_t len, uint32_t write)
{
	return (iova << 17) | (write ? COMPACT_WRITE : 0) | (uint64_t)(len - 1);
}

static void compact_unmap(struct vq_track *t, vq_rec_compact r)
{
	unmap_one(t, r >> 17, (uint32_t)(r & 0xffff) + 1,
		  (r & COMPACT_WRITE) ? DMA_FROM_DEVICE : DMA_TO_DEVICE);
}

/* IOVA of a buffer inside the premapped arena (PREMAP_SYNC set when its
 * mapping needs syncs), or 0 if outside it. */
static uint64_t premapped_iova(const struct vq_track *t, const struct vq_buf *b)
{
	size_t off = (size_t)((char *)b->cpu - t->arena);
	if ((char *)b->cpu < t->arena || off >= t->arena_len)
		return 0;
	size_t idx = off >> t->buf_shift;
	size_t in = off & (((size_t)1 << t->buf_shift) - 1);
	if (in + b->len > ((size_t)1 << t->buf_shift))
		return 0;
	return t->buf_iova[idx] + in;
}

/* premapped: the device owns the buffers from here on: sync each one whose
 * mapping needs it (page_pool_dma_sync_for_device() before a refill). */
static void premapped_sync_for_device(struct vq_track *t, struct vq_sg *sg, unsigned n)
{
	for (unsigned k = 0; k < n; k++) {
		if (!(sg[k].addr & PREMAP_SYNC))
			continue;
		sg[k].addr &= ~PREMAP_SYNC;
		dma_sync_for_device(t->dma, sg[k].addr, sg[k].len, DMA_BIDIRECTIONAL);
		t->st.syncs++;
	}
}

int vq_track_sync_for_cpu(struct vq_track *t, const struct vq_buf *bufs, unsigned n)
{
	int synced = 0;
	if (t->policy != VQ_POLICY_PREMAPPED || !t->st.sync_bufs)
		return 0;
	for (unsigned k = 0; k < n; k++) {
		uint64_t iova = bufs[k].write ? premapped_iova(t, &bufs[k]) : 0;
		if (!(iova & PREMAP_SYNC))
			continue;
		dma_sync_for_cpu(t->dma, iova & ~PREMAP_SYNC, bufs[k].len, DMA_BIDIRECTIONAL);
		t->st.syncs++;
		synced++;
	}
	return synced;
}

/* Undo the first `k` buffer mappings of a chain being added (and the
 * indirect table's, if mapped). */
static void rollback(struct vq_track *t, const struct vq_sg *sg, unsigned k,
		     unsigned n, int tidx, uint64_t table_iova)
{
	if (!t->def->map_per_packet)
		return;
	for (unsigned i = 0; i < k; i++)
		unmap_one(t, sg[i].addr, sg[i].len, buf_dir(sg[i].write));
	if (tidx >= 0 && table_iova)
		unmap_one(t, table_iova, IND_LEN(n), DMA_TO_DEVICE);
}

/* skip may run only while the backend's unmap does nothing: asked after the
 * mappings it covers, as upstream's dma_need_unmap() is. */
static int skip_still_safe(struct vq_track *t, unsigned k, const void *cpu, uint32_t len,
			   uint64_t iova)
{
	struct vq_stats vs;

	if (t->policy != VQ_POLICY_SKIP || t->unsafe || t->rule != VQ_SKIP_UPSTREAM ||
	    !dma_need_unmap(t->dma))
		return 0;
	vq_get_stats(t->vq, &vs);
	return vq_track_fail(-EPERM,
		    "policy 'skip' stopped at chain %llu, mapping %u (%u bytes at %p, device address 0x%llx): "
		    "dma backend '%s' now needs unmap (%s); continuing would lose data or leak mappings",
		    (unsigned long long)vs.added, k, len, cpu, (unsigned long long)iova, dma_name(t->dma),
		    dma_reason_str(dma_need_unmap_reason(t->dma)));
}

/* adaptive: the records, allocated when the first chain needs them. */
static int adaptive_alloc(struct vq_track *t)
{
	if (t->full)
		return 0;
	/* once per queue, on the first chain that needs records (counted) */
	t->full = dma_mem_zalloc(DMA_MEM_TRACKING, TRK_FULL(t), 0);
	if (t->full && t->indirect_ok)
		t->ind_full = dma_mem_zalloc(DMA_MEM_TRACKING, TRK_IND_FULL(t), 0);
	if (!t->full || (t->indirect_ok && !t->ind_full)) {
		dma_mem_free(DMA_MEM_TRACKING, t->full, TRK_FULL(t));
		t->full = NULL;
		return vq_track_fail(-ENOMEM, "policy 'adaptive': no memory for the records a chain now needs");
	}
	return 0;
}

int vq_track_add(struct vq_track *t, const struct vq_buf *bufs, unsigned n,
		 void *token, bool indirect)
{
	struct vq_sg sg[VQ_MAX_CHAIN];
	uint16_t slots[VQ_MAX_CHAIN];
	uint64_t table_iova = 0;
	int tidx = -1, rc;
	unsigned k;

	if (n < 1 || n > VQ_MAX_CHAIN)
		return vq_track_fail(-EINVAL, "chain of %u buffers: allowed 1..%d", n, VQ_MAX_CHAIN);
	if (indirect && !t->indirect_ok)
		return vq_track_fail(-EINVAL, "indirect chain on a queue without VIRTIO_RING_F_INDIRECT_DESC");
	/* 1. map (or look up) every buffer */
	for (k = 0; k < n; k++) {
		const struct vq_buf *b = &bufs[k];
		sg[k].len = b->len;
		sg[k].write = b->write;
		if (t->def->map_per_packet) {
			rc = dma_map(t->dma, b->cpu, b->len, buf_dir(b->write), &sg[k].addr);
			if (rc < 0) {
				rc = vq_track_fail(rc, "policy '%s': mapping buffer %u (%u bytes) failed on dma backend '%s': %s",
					  t->def->name, k, b->len, dma_name(t->dma), dma_last_error());
				goto undo;
			}
			t->st.maps++;
			if ((rc = skip_still_safe(t, k, b->cpu, b->len, sg[k].addr)) < 0) {
				k++;
				goto undo;
			}
			if (t->policy == VQ_POLICY_COMPACT && !compact_fits(sg[k].addr, b->len)) {
				rc = vq_track_fail(-ERANGE,
					  "policy 'compact': mapping of %u bytes at IOVA 0x%llx does not fit an 8-byte "
					  "record (IOVA below 2^%d, length 1..%u)",
					  b->len, (unsigned long long)sg[k].addr, COMPACT_IOVA_BITS, COMPACT_LEN_MAX);
				k++;
				goto undo;
			}
		} else {
			sg[k].addr = premapped_iova(t, b);
			if (!sg[k].addr) {
				rc = vq_track_fail(-EINVAL, "policy 'premapped': buffer %u (%p, %u bytes) is not inside one arena buffer",
					  k, b->cpu, b->len);
				goto undo;
			}
		}
	}
	/* 2. the indirect table: mapped before the ring fills it, synced after */
	struct vq_indirect ind, *indp = NULL;
	if (indirect) {
		if (!t->ind_nfree) {
			rc = vq_track_fail(-ENOSPC, "no free indirect table");
			goto undo;
		}
		tidx = t->ind_free[--t->ind_nfree];
		ind.table = t->ind_tables + (size_t)tidx * IND_TABLE_BYTES;
		if (t->def->map_per_packet) {
			rc = dma_map(t->dma, ind.table, IND_LEN(n), DMA_TO_DEVICE, &table_iova);
			if (rc < 0) {
				rc = vq_track_fail(rc, "policy '%s': mapping an indirect table failed on dma backend '%s': %s",
					  t->def->name, dma_name(t->dma), dma_last_error());
				table_iova = 0;
				goto undo;
			}
			t->st.maps++;
			if ((rc = skip_still_safe(t, n, ind.table, IND_LEN(n), table_iova)) < 0)
				goto undo;
			if (t->policy == VQ_POLICY_COMPACT && !compact_fits(table_iova, IND_LEN(n))) {
				rc = vq_track_fail(-ERANGE, "policy 'compact': indirect table IOVA 0x%llx does not fit",
					  (unsigned long long)table_iova);
				goto undo;
			}
		} else {
			table_iova = t->ind_iova[tidx];
		}
		ind.iova = table_iova;
		indp = &ind;
	}
	if (!t->def->map_per_packet && t->st.sync_bufs)
		premapped_sync_for_device(t, sg, n);
	/* adaptive: does this chain need its records? asked after mapping it */
	bool keep = t->def->rec != REC_NONE;
	if (t->def->lazy) {
		keep = dma_need_unmap(t->dma);
		if (keep && (rc = adaptive_alloc(t)) < 0)
			goto undo;
	}
	/* 3. into the ring */
	rc = vq_add(t->vq, sg, n, token, indp, slots);
	if (rc < 0) {
		if (rc != -ENOSPC)
			vq_track_fail(rc, "vq_add of a %u-buffer chain failed (%s)", n,
			     vq_broken_reason(t->vq) ? vq_broken_reason(t->vq) : "invalid chain");
		else
			vq_track_fail(rc, "ring full");
		goto undo;
	}
	uint16_t head = (uint16_t)rc;
	if (indirect) {
		t->ind_of_head[head] = (uint16_t)tidx;
		if (dma_need_sync(t->dma, table_iova)) {
			dma_sync_for_device(t->dma, table_iova, IND_LEN(n), DMA_TO_DEVICE);
			t->st.syncs++;
		}
		if (t->ind_iova && t->def->table_iova_state)
			t->ind_iova[tidx] = table_iova;
	}
	vq_inject_work(t->policy, n); /* empty unless a test defines VQ_INJECT_WORK */
	/* 4. remember what the policy remembers */
	if (t->def->lazy) {
		t->tracked[head] = keep;
		if (keep && !t->st.tracked_chains++) {
			struct vq_stats vs;
			vq_get_stats(t->vq, &vs);
			t->st.first_tracked_chain = vs.added;
		}
	}
	if (!keep)
		return head;
	if (t->def->rec == REC_FULL) {
		struct vq_rec_full *rec = indirect ? &t->ind_full[(size_t)tidx * VQ_MAX_CHAIN] : NULL;
		for (unsigned i = 0; i < n; i++) {
			struct vq_rec_full r = {
				.addr = sg[i].addr,
				.len = sg[i].len,
				.flags = (uint16_t)((sg[i].write ? VQ_DESC_F_WRITE : 0) |
						    (i + 1 < n ? VQ_DESC_F_NEXT : 0)),
				.next = (uint16_t)(indirect ? i + 1 : (i + 1 < n ? slots[i + 1] : 0)),
			};
			if (indirect)
				rec[i] = r;
			else
				t->full[slots[i]] = r;
		}
		if (indirect)
			t->full[head] = (struct vq_rec_full){table_iova, IND_LEN(n),
							     VQ_DESC_F_INDIRECT, 0};
	} else if (t->def->rec == REC_ARRAY) {
		struct vq_pair *pr = &t->pairs[(size_t)head * VQ_MAX_CHAIN];
		for (unsigned i = 0; i < n; i++)
			pr[i] = (struct vq_pair){sg[i].addr, sg[i].len, buf_dir(sg[i].write)};
		if (indirect)
			t->ind_iova[tidx] = table_iova;
	} else if (t->def->rec == REC_COMPACT) {
		vq_rec_compact *rec = indirect ? &t->ind_compact[(size_t)tidx * VQ_MAX_CHAIN] : NULL;
		for (unsigned i = 0; i < n; i++) {
			vq_rec_compact r = compact_enc(sg[i].addr, sg[i].len, sg[i].write);
			if (indirect)
				rec[i] = r;
			else
				t->compact[slots[i]] = r;
		}
		if (indirect)
			t->compact[head] = compact_enc(table_iova, IND_LEN(n), 0);
	}
	return head;

undo:
	rollback(t, sg, k, n, tidx, t->def->map_per_packet ? table_iova : 0);
	if (tidx >= 0)
		t->ind_free[t->ind_nfree++] = (uint16_t)tidx;
	return rc;
}

int vq_track_kick_prepare(struct vq_track *t)
{
	return vq_kick_prepare(t->vq);
}

/* Unmap a completed (or detached) chain according to the policy. */
static enum dma_dir rec_dir(uint16_t flags)
{
	return (flags & VQ_DESC_F_WRITE) ? DMA_FROM_DEVICE : DMA_TO_DEVICE;
}

/* retrieve: the one call that hands the driver a completed chain's
 * address+length pairs (the indirect table's last). @return the count. */
static unsigned retrieve_pairs(const struct vq_track *t, const struct vq_used *u, int tidx,
			       struct vq_pair *out)
{
	unsigned k = 0;
	if (u->indirect) {
		const struct vq_rec_full *rec = &t->ind_full[(size_t)tidx * VQ_MAX_CHAIN];
		for (unsigned i = 0; i < u->ndesc; i++)
			out[k++] = (struct vq_pair){rec[i].addr, rec[i].len, rec_dir(rec[i].flags)};
		out[k++] = (struct vq_pair){t->full[u->head].addr, t->full[u->head].len, DMA_TO_DEVICE};
		return k;
	}
	uint16_t slot = u->head;
	for (unsigned i = 0; i < u->ndesc; i++) {
		const struct vq_rec_full *r = &t->full[slot];
		out[k++] = (struct vq_pair){r->addr, r->len, rec_dir(r->flags)};
		slot = r->next;
	}
	return k;
}

static inline __attribute__((always_inline)) void complete_chain(struct vq_track *t, const struct vq_used *u)
{
	int tidx = u->indirect ? t->ind_of_head[u->head] : -1;

	if (t->def->lazy && !t->tracked[u->head])
		goto done; /* mapped while unmap was not needed */
	if (t->def->retrieve) {
		struct vq_pair pairs[VQ_MAX_CHAIN + 1];
		unsigned n = retrieve_pairs(t, u, tidx, pairs);
		for (unsigned i = 0; i < n; i++)
			unmap_one(t, pairs[i].addr, pairs[i].len, (enum dma_dir)pairs[i].dir);
		goto done;
	}
	switch (t->policy) {
	case VQ_POLICY_FULL:
	case VQ_POLICY_ADAPTIVE: {
		if (u->indirect) {
			const struct vq_rec_full *rec = &t->ind_full[(size_t)tidx * VQ_MAX_CHAIN];
			for (unsigned i = 0; i < u->ndesc; i++)
				unmap_one(t, rec[i].addr, rec[i].len,
					  (rec[i].flags & VQ_DESC_F_WRITE) ? DMA_FROM_DEVICE : DMA_TO_DEVICE);
			unmap_one(t, t->full[u->head].addr, t->full[u->head].len, DMA_TO_DEVICE);
			break;
		}
		/* walk the private records by their next links, as Linux walks desc_extra */
		uint16_t slot = u->head;
		for (unsigned i = 0; i < u->ndesc; i++) {
			const struct vq_rec_full *r = &t->full[slot];
			unmap_one(t, r->addr, r->len,
				  (r->flags & VQ_DESC_F_WRITE) ? DMA_FROM_DEVICE : DMA_TO_DEVICE);
			slot = r->next;
		}
		break;
	}
	case VQ_POLICY_COMPACT:
		if (u->indirect) {
			const vq_rec_compact *rec = &t->ind_compact[(size_t)tidx * VQ_MAX_CHAIN];
			for (unsigned i = 0; i < u->ndesc; i++)
				compact_unmap(t, rec[i]);
			compact_unmap(t, t->compact[u->head]);
		} else {
			for (unsigned i = 0; i < u->ndesc; i++)
				compact_unmap(t, t->compact[u->slots[i]]);
		}
		break;
	case VQ_POLICY_READBACK: {
		struct vq_sg sg[VQ_MAX_CHAIN];
		const void *table = u->indirect ? t->ind_tables + (size_t)tidx * IND_TABLE_BYTES : NULL;
		int n = vq_readback_split(t->vq, u->head, table, sg, VQ_MAX_CHAIN);
		if (n < 0 || (unsigned)n != u->ndesc) {
			/* the device corrupted the table: what was mapped stays mapped */
			t->st.readback_errors++;
			if (n < 0)
				n = 0;
		}
		for (int i = 0; i < n; i++)
			unmap_one(t, sg[i].addr, sg[i].len, buf_dir(sg[i].write));
		if (u->indirect)
			unmap_one(t, t->ind_iova[tidx], IND_LEN(u->ndesc), DMA_TO_DEVICE);
		break;
	}
	case VQ_POLICY_DRIVER_ARRAY: {
		const struct vq_pair *pr = &t->pairs[(size_t)u->head * VQ_MAX_CHAIN];
		for (unsigned i = 0; i < u->ndesc; i++)
			unmap_one(t, pr[i].addr, pr[i].len, (enum dma_dir)pr[i].dir);
		if (u->indirect)
			unmap_one(t, t->ind_iova[tidx], IND_LEN(u->ndesc), DMA_TO_DEVICE);
		break;
	}
	case VQ_POLICY_SKIP:
		t->st.skipped_unmaps += u->ndesc + (u->indirect ? 1u : 0u);
		break;
	case VQ_POLICY_PREMAPPED:
	case VQ_POLICY_RETRIEVE: /* handled above */
	case VQ_POLICY_COUNT:
		break;
	}
done:
	if (tidx >= 0)
		t->ind_free[t->ind_nfree++] = (uint16_t)tidx;
}

int vq_track_get_used(struct vq_track *t, void **token, uint32_t *len)
{
	struct vq_used u;
	int rc = vq_get_used(t->vq, &u);

	if (rc <= 0)
		return rc;
	complete_chain(t, &u);
	*token = u.token;
	*len = u.len;
	return 1;
}

int vq_track_detach(struct vq_track *t, void **token)
{
	struct vq_used u;
	int rc = vq_detach_unused(t->vq, &u);

	if (rc <= 0)
		return rc;
	complete_chain(t, &u);
	*token = u.token;
	return 1;
}

void vq_track_get_stats(const struct vq_track *t, struct vq_track_stats *st)
{
	*st = t->st;
}

struct vq *vq_track_vq(const struct vq_track *t) { return t->vq; }
enum vq_policy vq_track_policy(const struct vq_track *t) { return t->policy; }
